//! An application as its owner sees it: masked personal data, the deadline as working days left,
//! the timeline, and the next step in the resident's language.

use jingtong_api::applications::{
    Actor, ApplicationEvent, ApplicationStatus, ApplicationView, DeliveryView, PickupStation, Rejection,
};
use jingtong_api::{IdNumber, Lang};
use jingtong_rules::{card_validity, Catalogue, DeliveryOption, ServiceItemId, Validity, ValidityRule};

use super::POST;
use crate::clock::rfc3339;
use crate::clock::{parse_date, shanghai_day};
use crate::demo::{ID_NUMBER, NAME};
use crate::state::AppState;

#[derive(sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub item: String,
    pub status: String,
    pub delivery: String,
    pub station_id: Option<String>,
    pub post_enc: Option<Vec<u8>>,
    pub photo_source: String,
    pub fee_fen: i64,
    pub bill_id: Option<String>,
    pub created_at: i64,
    pub deadline: Option<String>,
    pub tracking_number: Option<String>,
    pub reject_reason: Option<String>,
    pub reject_action: Option<String>,
    pub name_enc: Vec<u8>,
    pub id_number_enc: Vec<u8>,
    pub valid_until: Option<String>,
}

pub const COLUMNS: &str = "a.id, a.item, a.status, a.delivery, a.station_id, a.post_enc, a.photo_source, a.fee_fen,
    a.bill_id, a.created_at, a.deadline, a.tracking_number, a.reject_reason, a.reject_action, p.name_enc, p.id_number_enc,
    a.valid_until";

/// `张三` → `*三`, `欧阳娜娜` → `**娜娜`: the last one or two characters, like a bank receipt.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let keep = if chars.len() >= 4 { 2 } else { 1 };
    let hidden = chars.len().saturating_sub(keep);
    "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
}

/// The street with its middle hidden: the first 6 and last 2 characters.
fn mask_address(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 8 {
        return chars.iter().take(2).collect::<String>() + "****";
    }
    chars[..6].iter().collect::<String>() + "****" + &chars[chars.len() - 2..].iter().collect::<String>()
}

fn next_step(status: ApplicationStatus, delivery: DeliveryOption, lang: Lang) -> &'static str {
    use ApplicationStatus as S;
    match (status, delivery, lang) {
        (S::AwaitingPayment, _, Lang::ZhCn) => "请缴纳工本费，缴费后申请即提交受理。",
        (S::AwaitingPayment, _, Lang::En) => "Pay the fee; the application is submitted once it is paid.",
        (S::Submitted, _, Lang::ZhCn) => "已提交，等待户籍民警审核，无需前往窗口。",
        (S::Submitted, _, Lang::En) => "Submitted. A clerk will check it; no need to visit.",
        (S::Accepted | S::InProduction, _, Lang::ZhCn) => "证件制作中，请留意办理进度。",
        (S::Accepted | S::InProduction, _, Lang::En) => "The card is being made. Follow the progress here.",
        (S::ReadyForPickup, _, Lang::ZhCn) => "证件已可领取，请携带本人有效证件到所选派出所领取。",
        (S::ReadyForPickup, _, Lang::En) => "Ready. Collect it at the chosen station with your identification.",
        (S::Posted, _, Lang::ZhCn) => "证件已寄出，请凭快递单号查询并本人签收。",
        (S::Posted, _, Lang::En) => "Posted. Track it with the number shown and sign for it yourself.",
        (S::Completed, DeliveryOption::Post, Lang::ZhCn) => "已签收，办理完成。",
        (S::Completed, _, Lang::ZhCn) => "已领取，办理完成。",
        (S::Completed, _, Lang::En) => "Done: the card is in your hands.",
        (S::Rejected, _, Lang::ZhCn) => "申请未通过，请按提示处理后重新申请；已缴费用将原路退回。",
        (S::Rejected, _, Lang::En) => "Not approved. Follow the advice and apply again; any fee paid is refunded.",
        (S::Withdrawn, _, Lang::ZhCn) => "申请已撤回；已缴费用将原路退回。",
        (S::Withdrawn, _, Lang::En) => "Withdrawn. Any fee paid is refunded.",
    }
}

fn actor(s: &str) -> Actor {
    match s {
        "resident" => Actor::Resident,
        "clerk" => Actor::Clerk,
        "payment" => Actor::Payment,
        _ => Actor::System,
    }
}

/// The application `id` if `user_id` owns it (checked in the SQL).
pub async fn load(
    state: &AppState,
    user_id: &str,
    id: &str,
    lang: Lang,
) -> Result<Option<ApplicationView>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM applications a JOIN registry_persons p ON p.id = a.person_id
         WHERE a.id = $1 AND a.user_id = $2"
    )))
    .bind(id)
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(render(state, row, lang).await?))
}

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("application {what}").into())
}

pub async fn render(state: &AppState, row: Row, lang: Lang) -> Result<ApplicationView, sqlx::Error> {
    let item: ServiceItemId = row.item.parse().map_err(|()| corrupt("item"))?;
    let status = ApplicationStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
    let delivery = if row.delivery == "post" { DeliveryOption::Post } else { DeliveryOption::Pickup };
    let catalogue = Catalogue::load();
    let rule = catalogue.item(item);
    let name = state.keys.decrypt_string(NAME, &row.name_enc).map_err(|_| corrupt("name"))?;
    let id_number = state.keys.decrypt_string(ID_NUMBER, &row.id_number_enc).map_err(|_| corrupt("id number"))?;
    let id_number = IdNumber::parse(&id_number).map_err(|_| corrupt("id number"))?;
    let station = match &row.station_id {
        Some(sid) => sqlx::query_as::<_, (String, String, String, String, String)>(
            "SELECT id, name, address, hours, region_code FROM pickup_stations WHERE id = $1",
        )
        .bind(sid)
        .fetch_optional(&state.db.pool)
        .await?
        .map(|(id, name, address, hours, region_code)| PickupStation { id, name, address, hours, region_code }),
        None => None,
    };
    let post: Option<serde_json::Value> = match &row.post_enc {
        Some(enc) => Some(
            serde_json::from_slice(&state.keys.decrypt(POST, enc).map_err(|_| corrupt("address"))?)
                .map_err(|_| corrupt("address"))?,
        ),
        None => None,
    };
    let text = |k: &str| post.as_ref().and_then(|p| p[k].as_str()).unwrap_or_default().to_owned();
    let delivery_view = DeliveryView {
        kind: delivery,
        station,
        address_masked: post.as_ref().map(|_| format!("{} {}", text("region_code"), mask_address(&text("address")))),
        recipient_masked: post.as_ref().map(|_| mask_name(&text("recipient"))),
        phone_masked: post.as_ref().and_then(|_| jingtong_api::Phone::parse(&text("phone")).ok()).map(|p| p.masked()),
        tracking_number: row.tracking_number.clone(),
    };
    let events: Vec<(i64, String, String, Option<String>)> =
        sqlx::query_as(crate::hot::APPLICATION_EVENTS).bind(&row.id).fetch_all(&state.db.pool).await?;
    let today = shanghai_day(state.now_ms());
    let deadline = row.deadline.as_deref().and_then(parse_date).filter(|_| status.deadline_runs());
    let working_days_left = deadline.map(|d| {
        if d >= today {
            catalogue.calendar().working_days_between(today, d)
        } else {
            -catalogue.calendar().working_days_between(d, today)
        }
    });
    let created_day = shanghai_day(row.created_at);
    Ok(ApplicationView {
        id: row.id,
        item,
        item_name: match lang {
            Lang::ZhCn => rule.name_zh.clone(),
            Lang::En => rule.name_en.clone(),
        },
        status,
        created_at: rfc3339(row.created_at),
        applicant_name_masked: mask_name(&name),
        id_number_masked: id_number.masked(),
        photo: row.photo_source,
        delivery: delivery_view,
        fee_fen: row.fee_fen,
        bill_id: row.bill_id,
        deadline: deadline.map(|d| d.to_string()),
        working_days_left,
        time_limit_source: rule.time_limit_source.clone(),
        validity: match rule.validity {
            ValidityRule::ByAge => card_validity(id_number.birth_date(), created_day),
            ValidityRule::Months { months } => Validity::Months(months),
        },
        valid_until: row.valid_until.clone(),
        rejection: match (row.reject_reason, row.reject_action) {
            (Some(reason), Some(what_to_do)) if status == ApplicationStatus::Rejected => {
                Some(Rejection { reason, what_to_do })
            }
            _ => None,
        },
        can_withdraw: status.can_withdraw(),
        next_step: next_step(status, delivery, lang).to_owned(),
        events: events
            .into_iter()
            .filter_map(|(at, s, a, note)| {
                Some(ApplicationEvent {
                    at: rfc3339(at),
                    status: ApplicationStatus::parse(&s)?,
                    actor: actor(&a),
                    note,
                })
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_masked_like_a_bank_receipt() {
        assert_eq!(mask_name("测试甲"), "**甲");
        assert_eq!(mask_name("欧阳娜娜"), "**娜娜");
        assert_eq!(mask_address("演示路 1 号 2 栋 301 室"), "演示路 1 **** 室");
        assert_eq!(mask_address("短地址"), "短地****");
    }
}
