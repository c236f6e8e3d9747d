//! Service item pages from the rules data (crates/rules): the same versioned data the server enforces,
//! so the page works offline and never disagrees with the server's fee or deadline.

use jingtong_api::ErrorCode;
use jingtong_rules::{Catalogue, ServiceItemId, ServiceItemView};
use serde::{Deserialize, Serialize};

/// Province whose rules are shown until the resident's own is known: Anhui (34), the seed's province.
pub const DEFAULT_PROVINCE: u8 = 34;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ServiceItemPage {
    pub item: ServiceItemView,
    /// `YYYY-MM-DD`: the latest day the card is due if the application is submitted today (Asia/Shanghai).
    pub deadline_if_submitted_today: String,
    /// Whether the holiday calendar covers that date (otherwise it counts weekends only).
    pub calendar_published: bool,
}

pub fn page(item: &str, today: time::Date) -> Result<ServiceItemPage, ErrorCode> {
    let id: ServiceItemId = item.parse().map_err(|_| ErrorCode::NotFound)?;
    let catalogue = Catalogue::load();
    let deadline = catalogue.deadline(id, DEFAULT_PROVINCE, false, today);
    Ok(ServiceItemPage {
        item: catalogue.view(id, DEFAULT_PROVINCE),
        deadline_if_submitted_today: deadline.to_string(),
        calendar_published: catalogue.calendar().is_published(deadline.year()),
    })
}

/// Today in Asia/Shanghai (UTC+8, no daylight saving time).
pub fn shanghai_today() -> time::Date {
    (time::OffsetDateTime::now_utc() + time::Duration::hours(8)).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_come_from_the_rules_data() {
        let p = page("id_card_replacement", time::macros::date!(2026 - 11 - 30)).unwrap();
        assert_eq!(p.item.fee_fen, 4000);
        assert!(p.item.sources.iter().all(|s| !s.citation.is_empty()));
        assert!(p.deadline_if_submitted_today.as_str() > "2027-01-01");
        assert_eq!(page("temporary_id_card", time::macros::date!(2026 - 11 - 30)).unwrap().item.fee_fen, 1000);
        assert_eq!(page("passport", time::macros::date!(2026 - 11 - 30)), Err(ErrorCode::NotFound));
    }
}
