//! Reported cases (报案) and their progress on the wire: lookup with the receipt (回执) number, its
//! query code and an SMS code to the phone registered on the case; the officers' staff API; and the
//! change events an open app receives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ErrorCode;

/// Limits of case lookup, in one place for server, app and docs.
pub mod rules {
    /// Failed lookups (unknown receipt or wrong query code) per signed-in account per hour.
    pub const LOOKUPS_PER_ACCOUNT_PER_HOUR: i64 = 5;
    /// Failed lookups per client address per hour.
    pub const LOOKUPS_PER_ADDRESS_PER_HOUR: i64 = 20;
    /// Failed lookups per receipt number per day: guessing one receipt's code stops here.
    pub const LOOKUPS_PER_RECEIPT_PER_DAY: i64 = 5;
    /// Wrong SMS codes for one lookup before it is void.
    pub const SMS_TRIES: i64 = 5;
    /// A lookup's SMS code is valid this long.
    pub const LOOKUP_TTL_SECONDS: i64 = 300;
    /// Calendar days for the notice of a decision not to open a case (不予立案通知, 3 日内).
    pub const NOT_OPENED_NOTICE_DAYS: i64 = 3;
}

/// A receipt number as printed on the 报案回执: `R` and 12 digits, 10 random ones then two ISO 7064
/// MOD 97-10 check digits ([`crate::check_digits`]). A wrong check is refused here, before any lookup
/// or attempt counting, so a typo never costs the resident one of their lookups.
pub fn parse_receipt_number(input: &str) -> Result<String, ErrorCode> {
    let s: String = input.trim().to_ascii_uppercase().chars().filter(|c| !c.is_whitespace()).collect();
    let ok = s.len() == 13 && s.starts_with('R') && crate::check_digits::is_valid(&s[1..]);
    if ok {
        Ok(s)
    } else {
        Err(ErrorCode::CaseReceiptInvalid)
    }
}

/// A new receipt number from 10 digits the issuer draws at random (so numbers do not run in sequence).
pub fn receipt_number_from_body(body10: &str) -> Result<String, ErrorCode> {
    if body10.len() != 10 || !body10.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::CaseReceiptInvalid);
    }
    parse_receipt_number(&format!("R{}", crate::check_digits::append(body10)))
}

/// A query code as printed on the receipt: 6 characters from an alphabet without look-alikes.
pub const QUERY_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

pub fn parse_query_code(input: &str) -> Result<String, ErrorCode> {
    let s: String = input.trim().to_ascii_uppercase().chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() == 6 && s.bytes().all(|b| QUERY_CODE_ALPHABET.contains(&b)) {
        Ok(s)
    } else {
        Err(ErrorCode::CaseQueryCodeInvalid)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CaseStatus {
    /// 已受理: the report is registered.
    Received,
    /// 已立案
    Opened,
    /// 不予立案, with the legal notice.
    NotOpened,
    /// 侦查中
    Investigating,
    /// 已移送 (to another authority).
    Transferred,
    /// 已结案
    Closed,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::Received,
        CaseStatus::Opened,
        CaseStatus::NotOpened,
        CaseStatus::Investigating,
        CaseStatus::Transferred,
        CaseStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::Opened => "opened",
            CaseStatus::NotOpened => "not_opened",
            CaseStatus::Investigating => "investigating",
            CaseStatus::Transferred => "transferred",
            CaseStatus::Closed => "closed",
        }
    }

    /// Older data (the demo set) says `accepted` for received.
    pub fn parse(s: &str) -> Option<CaseStatus> {
        match s {
            "accepted" => Some(CaseStatus::Received),
            _ => CaseStatus::ALL.into_iter().find(|v| v.as_str() == s),
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, CaseStatus::NotOpened | CaseStatus::Transferred | CaseStatus::Closed)
    }
}

/// `POST /api/v1/case-lookups`: what the receipt says.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct CaseLookupRequest {
    pub receipt_number: String,
    pub query_code: String,
}

/// An SMS code went to the phone registered on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct CaseLookupStarted {
    pub lookup_id: String,
    /// Where the code went, masked: `199****0001`.
    pub phone_masked: String,
    pub expires_in_seconds: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct CaseLookupVerify {
    /// Empty is read as a wrong code (the lookup is still checked for its owner first).
    #[serde(default)]
    pub code: String,
}

/// One public step of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct CaseEvent {
    pub at: String,
    pub status: CaseStatus,
    /// What the public may know, e.g. "已调取周边监控".
    pub text: String,
}

/// A case as the reporter sees it: no personal data of other parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct CaseView {
    pub id: String,
    pub receipt_number: String,
    /// `theft`, `lost_property`, `fraud`…
    pub kind: String,
    pub title: String,
    pub station: String,
    /// The officer on duty as printed on the receipt (title and police number, no private data).
    pub officer: String,
    pub status: CaseStatus,
    pub reported_at: String,
    /// A legal deadline that runs now, e.g. the notice of a decision not to open the case.
    #[ts(optional)]
    pub deadline: Option<String>,
    #[ts(optional)]
    pub deadline_label: Option<String>,
    pub events: Vec<CaseEvent>,
}

/// `POST /api/v1/staff/cases`: an officer registers a case from a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewCase {
    /// The reporter's ID number (the registry person the case belongs to).
    pub reporter_id_number: String,
    /// The phone the lookup SMS goes to.
    pub reporter_phone: String,
    pub kind: String,
    pub title: String,
    pub station: String,
    pub officer: String,
}

/// What the officer prints on the receipt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseRegistered {
    pub case_id: String,
    pub receipt_number: String,
    pub query_code: String,
}

/// `POST /api/v1/staff/cases/{case_id}/events`: a public event, optionally with a new status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewCaseEvent {
    pub text: String,
    #[serde(default)]
    pub status: Option<CaseStatus>,
}

/// Something of the resident's changed: the app refreshes that item. Sent as a server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct ChangeEvent {
    /// `case` or `application`.
    pub kind: String,
    pub id: String,
    /// A short line for a system notification, in Chinese (the server does not know the app's language here).
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    #[test]
    fn receipts_and_codes_are_read_as_printed() {
        assert_eq!(parse_receipt_number(" r8502 0325 5844 "), Ok("R850203255844".to_owned()));
        assert_eq!(parse_receipt_number("R85020325584"), Err(ErrorCode::CaseReceiptInvalid));
        assert_eq!(parse_receipt_number("X850203255844"), Err(ErrorCode::CaseReceiptInvalid));
        // The demo receipt of before the check digits is one digit off: a typo now.
        assert_eq!(parse_receipt_number("R850203255854"), Err(ErrorCode::CaseReceiptInvalid));
        assert_eq!(receipt_number_from_body("8502032558"), Ok("R850203255844".to_owned()));
        assert!(receipt_number_from_body("850203255").is_err());
        assert_eq!(parse_query_code("k7p 2qx"), Ok("K7P2QX".to_owned()));
        // 0, O, 1 and I are not in the alphabet: a misread is an error, not another code.
        assert_eq!(parse_query_code("K7P2Q0"), Err(ErrorCode::CaseQueryCodeInvalid));
        assert_eq!(CaseStatus::parse("accepted"), Some(CaseStatus::Received));
        assert!(CaseStatus::NotOpened.is_final() && !CaseStatus::Investigating.is_final());
    }

    proptest! {
        #[test]
        fn receipt_catches_any_single_digit_error(body in "[0-9]{10}", pos in 1usize..13, delta in 1u8..10) {
            let n = receipt_number_from_body(&body).unwrap();
            let mut b = n.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert_eq!(parse_receipt_number(std::str::from_utf8(&b).unwrap()), Err(ErrorCode::CaseReceiptInvalid));
        }

        #[test]
        fn receipt_catches_adjacent_swaps(body in "[0-9]{10}", pos in 1usize..12) {
            let n = receipt_number_from_body(&body).unwrap();
            let mut b = n.into_bytes();
            prop_assume!(b[pos] != b[pos + 1]);
            b.swap(pos, pos + 1);
            prop_assert_eq!(parse_receipt_number(std::str::from_utf8(&b).unwrap()), Err(ErrorCode::CaseReceiptInvalid));
        }
    }
}
