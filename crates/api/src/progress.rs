//! "My progress" (办理进度): applications, bills, cases (and later vehicle-moving requests) in one
//! list, ordered by what needs the resident first. The order is a rule, so it lives here, tested.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Attention {
    /// The resident must do something (pay, collect, answer).
    ActNow,
    /// Someone else is working on it against a deadline.
    Deadline,
    /// In progress, nothing to do.
    Waiting,
    /// Finished.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ProgressKind {
    Application,
    Bill,
    Case,
    VehicleMove,
}

/// One line of the list; `status` is the item's own status value (the UI names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ProgressItem {
    pub kind: ProgressKind,
    pub id: String,
    pub title: String,
    pub status: String,
    pub attention: Attention,
    /// What happens next or what to do, in the resident's language.
    pub next_step: String,
    /// `YYYY-MM-DD` or RFC 3339: the next deadline, if one runs.
    #[ts(optional)]
    pub deadline: Option<String>,
    /// RFC 3339: when the item last changed or was made (newest first among equals).
    pub updated_at: String,
}

/// Needs-the-resident first; then the nearest deadline; then the newest.
pub fn order(items: &mut [ProgressItem]) {
    items.sort_by(|a, b| {
        a.attention
            .cmp(&b.attention)
            .then_with(|| match (&a.deadline, &b.deadline) {
                (Some(x), Some(y)) => x[..10.min(x.len())].cmp(&y[..10.min(y.len())]),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.updated_at.cmp(&a.updated_at))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, attention: Attention, deadline: Option<&str>, updated: &str) -> ProgressItem {
        ProgressItem {
            kind: ProgressKind::Application,
            id: id.into(),
            title: String::new(),
            status: String::new(),
            attention,
            next_step: String::new(),
            deadline: deadline.map(Into::into),
            updated_at: updated.into(),
        }
    }

    #[test]
    fn what_needs_the_resident_comes_first_then_the_nearest_deadline_then_the_newest() {
        let mut items = vec![
            item("done", Attention::Done, None, "2026-11-29T10:00:00Z"),
            item("waiting-old", Attention::Waiting, None, "2026-01-01T00:00:00Z"),
            item("deadline-far", Attention::Deadline, Some("2027-03-01"), "2026-11-01T00:00:00Z"),
            item("pay-later", Attention::ActNow, Some("2026-12-31"), "2026-11-29T09:00:00Z"),
            item("pay-soon", Attention::ActNow, Some("2026-12-02T00:00:00Z"), "2026-11-20T00:00:00Z"),
            item("deadline-near", Attention::Deadline, Some("2026-12-03"), "2026-10-01T00:00:00Z"),
            item("waiting-new", Attention::Waiting, None, "2026-11-28T00:00:00Z"),
            item("collect", Attention::ActNow, None, "2026-11-29T11:00:00Z"),
        ];
        order(&mut items);
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            ["pay-soon", "pay-later", "collect", "deadline-near", "deadline-far", "waiting-new", "waiting-old", "done"]
        );
    }
}
