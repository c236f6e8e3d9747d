//! Bills residents pay by scanning: the bill number, the signed QR payload printed on a penalty
//! decision (罚款决定书) or a fee bill (缴款单), and the amount due today for a fine.
//!
//! # QR payload, version 1
//!
//! ```text
//! JTB1.<payload>.<signature>
//! ```
//!
//! * `JTB` marks a Jingtong bill, `1` is the payload version. A code that does not start with `JTB`
//!   and a digit is *foreign*; another version number is *unsupported*.
//! * `<payload>` is base64url without padding (RFC 4648 §5, canonical: no stray bits) of UTF-8 text,
//!   nine fields joined by `|`:
//!
//!   | # | field | form |
//!   |---|---|---|
//!   | 0 | version | `1` (must equal the prefix's) |
//!   | 1 | issuer key id | `[a-z0-9-]{1,32}`, picks the trusted public key |
//!   | 2 | kind | `F` fine (罚款), `B` fee bill (缴费) |
//!   | 3 | bill number | 16 digits, see [`BillNumber`] |
//!   | 4 | decision number (决定书编号) | fines: 1–40 characters, no `\|`, no control characters; fee bills: empty |
//!   | 5 | amount | principal in integer fen, 1 to 10¹¹, no leading zero |
//!   | 6 | due date | `YYYY-MM-DD`, Asia/Shanghai calendar day, last day to pay without late fee |
//!   | 7 | issued at | Unix seconds (UTC), no leading zero |
//!   | 8 | expires on | `YYYY-MM-DD`, Asia/Shanghai, last day the code is accepted |
//!
//! * `<signature>` is base64url without padding of the 64-byte Ed25519 signature (RFC 8032) by the
//!   issuer's key over the ASCII bytes `JTB1.<payload>`, so the prefix and version are signed too.
//!
//! The parser checks, in order: prefix (foreign), version (unsupported), shape and encodings
//! (invalid), issuer key id (unknown issuer), signature, field grammar (invalid), expiry. Encoding is
//! canonical: [`BillCode::sign`] refuses fields the parser would refuse, so every signed code parses.
//! The same text is in `docs/bill-qr-format.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::{ErrorCode, Lang};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// `JTB` + version + `.`; only version 1 exists.
pub const PREFIX: &str = "JTB1.";
pub const VERSION: u32 = 1;
/// Longer input is not a code of ours (v1 codes are about 200 characters); bounds the parser's work.
pub const MAX_CODE_LEN: usize = 1024;
const MAX_AMOUNT_FEN: i64 = 100_000_000_000;
const MAX_DECISION_CHARS: usize = 40;

/// Today's calendar day in China (UTC+8 all year, no daylight saving), which decides due dates.
pub fn shanghai_date(now: OffsetDateTime) -> Date {
    now.to_offset(UtcOffset::from_hms(8, 0, 0).expect("valid offset")).date()
}

// ---------------------------------------------------------------------------------------------
// Bill numbers

/// A human-facing bill number: 16 digits, 14 random ones then two ISO 7064 MOD 97-10 check digits
/// (the whole number mod 97 is 1, as in IBAN). That catches every single wrong digit and every swap
/// of two neighbours. Issuers draw the 14 digits at random so numbers do not run in sequence.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BillNumber(String);

impl BillNumber {
    /// Accepts the number as printed (`1234 5678 9012 3456`), with spaces or hyphens.
    pub fn parse(input: &str) -> Result<BillNumber, ErrorCode> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).collect();
        if digits.len() != 16 || !crate::check_digits::is_valid(&digits) {
            return Err(ErrorCode::BillNumberInvalid);
        }
        Ok(BillNumber(digits))
    }

    /// Appends the check digits to 14 digits. The issuer supplies random digits.
    pub fn from_body(body14: &str) -> Result<BillNumber, ErrorCode> {
        if body14.len() != 14 || !body14.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ErrorCode::BillNumberInvalid);
        }
        BillNumber::parse(&crate::check_digits::append(body14))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Groups of four, as printed on bills and read out on the phone.
    pub fn grouped(&self) -> String {
        let b = self.0.as_bytes();
        b.chunks(4).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Debug for BillNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BillNumber({})", self.0)
    }
}

impl fmt::Display for BillNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BillNumber {
    type Err = ErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BillNumber::parse(s)
    }
}

impl TryFrom<String> for BillNumber {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        BillNumber::parse(&s)
    }
}

impl From<BillNumber> for String {
    fn from(v: BillNumber) -> String {
        v.0
    }
}

// ---------------------------------------------------------------------------------------------
// QR payload

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillKind {
    /// An administrative fine; the decision number (决定书编号) is printed on the decision.
    Fine { decision_number: String },
    /// A fee bill (for example an ID card fee).
    Fee,
}

/// What a scanned bill QR code says, after the issuer's signature has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillCode {
    /// Key id of the issuer's signing key.
    pub issuer: String,
    pub kind: BillKind,
    pub number: BillNumber,
    pub amount_fen: i64,
    pub due_on: Date,
    pub issued_at: OffsetDateTime,
    /// Last day (Asia/Shanghai) the code is accepted.
    pub expires_on: Date,
}

/// Why a scanned text is not a usable bill code. Each maps to one catalogue code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BillCodeError {
    #[error("not a Jingtong bill code")]
    Foreign,
    #[error("bill code is truncated or malformed")]
    Malformed,
    #[error("bill code version is not supported")]
    UnsupportedVersion,
    #[error("bill code issuer is not trusted")]
    UnknownIssuer,
    #[error("bill code signature does not verify")]
    BadSignature,
    #[error("bill code has expired")]
    Expired,
}

impl BillCodeError {
    pub fn code(self) -> ErrorCode {
        match self {
            BillCodeError::Foreign => ErrorCode::BillCodeForeign,
            BillCodeError::Malformed => ErrorCode::BillCodeInvalid,
            BillCodeError::UnsupportedVersion => ErrorCode::BillCodeVersionUnsupported,
            BillCodeError::UnknownIssuer => ErrorCode::BillCodeIssuerUnknown,
            BillCodeError::BadSignature => ErrorCode::BillCodeSignatureInvalid,
            BillCodeError::Expired => ErrorCode::BillCodeExpired,
        }
    }
}

impl From<BillCodeError> for ErrorCode {
    fn from(e: BillCodeError) -> ErrorCode {
        e.code()
    }
}

/// The issuer public keys the app or server trusts, by key id. Rotation adds a key id; retiring one
/// removes it, and codes signed with it then fail as `UnknownIssuer`.
#[derive(Debug, Clone, Default)]
pub struct TrustedIssuers {
    keys: BTreeMap<String, VerifyingKey>,
}

impl TrustedIssuers {
    pub fn new() -> TrustedIssuers {
        TrustedIssuers::default()
    }

    pub fn with(mut self, key_id: impl Into<String>, key: VerifyingKey) -> TrustedIssuers {
        self.insert(key_id, key);
        self
    }

    pub fn insert(&mut self, key_id: impl Into<String>, key: VerifyingKey) {
        self.keys.insert(key_id.into(), key);
    }

    pub fn get(&self, key_id: &str) -> Option<&VerifyingKey> {
        self.keys.get(key_id)
    }
}

impl BillCode {
    /// Encodes and signs the code. Fails with `Malformed` for fields the parser would refuse (an
    /// empty decision number, a `|` in it, a zero amount...), so every code issued can be read back.
    pub fn sign(&self, key: &SigningKey) -> Result<String, BillCodeError> {
        let payload = self.payload_text();
        if parse_fields(&payload)? != *self {
            return Err(BillCodeError::Malformed);
        }
        let signed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(payload.as_bytes()));
        let signature = key.sign(signed.as_bytes());
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
    }

    /// Parses and verifies a scanned code on `today` (Asia/Shanghai, see [`shanghai_date`]).
    pub fn parse(code: &str, trusted: &TrustedIssuers, today: Date) -> Result<BillCode, BillCodeError> {
        let code = code.trim();
        let version_and_rest = code.strip_prefix("JTB").ok_or(BillCodeError::Foreign)?;
        let digits = version_and_rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(BillCodeError::Foreign);
        }
        let rest = &version_and_rest[digits..];
        let Some(rest) = rest.strip_prefix('.') else {
            return Err(BillCodeError::Malformed);
        };
        if version_and_rest[..digits] != *VERSION.to_string() {
            return Err(BillCodeError::UnsupportedVersion);
        }
        if code.len() > MAX_CODE_LEN {
            return Err(BillCodeError::Malformed);
        }
        let (payload_b64, signature_b64) = rest.split_once('.').ok_or(BillCodeError::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| BillCodeError::Malformed)?;
        let payload = String::from_utf8(payload).map_err(|_| BillCodeError::Malformed)?;
        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(BillCodeError::Malformed)?;
        let key_id = payload.split('|').nth(1).ok_or(BillCodeError::Malformed)?;
        let key = trusted.get(key_id).ok_or(BillCodeError::UnknownIssuer)?;
        let signed = &code[..code.len() - signature_b64.len() - 1];
        key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| BillCodeError::BadSignature)?;
        let bill = parse_fields(&payload)?;
        if today > bill.expires_on {
            return Err(BillCodeError::Expired);
        }
        Ok(bill)
    }

    fn payload_text(&self) -> String {
        let (kind, decision) = match &self.kind {
            BillKind::Fine { decision_number } => ("F", decision_number.as_str()),
            BillKind::Fee => ("B", ""),
        };
        format!(
            "{VERSION}|{}|{kind}|{}|{decision}|{}|{}|{}|{}",
            self.issuer,
            self.number.as_str(),
            self.amount_fen,
            iso_date(self.due_on),
            self.issued_at.unix_timestamp(),
            iso_date(self.expires_on)
        )
    }
}

fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let month = time::Month::try_from(s[5..7].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(s[..4].parse().ok()?, month, s[8..].parse().ok()?).ok()
}

/// Canonical decimal: digits only, no sign, no leading zero.
fn parse_canonical_i64(s: &str) -> Option<i64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

fn valid_key_id(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_decision_number(s: &str) -> bool {
    let n = s.chars().count();
    (1..=MAX_DECISION_CHARS).contains(&n) && s.trim() == s && !s.chars().any(|c| c == '|' || c.is_control())
}

fn parse_fields(payload: &str) -> Result<BillCode, BillCodeError> {
    let bad = BillCodeError::Malformed;
    let f: Vec<&str> = payload.split('|').collect();
    let [version, issuer, kind, number, decision, amount, due, issued, expires] = f[..] else {
        return Err(bad);
    };
    if version != VERSION.to_string() || !valid_key_id(issuer) {
        return Err(bad);
    }
    let kind = match (kind, decision) {
        ("F", d) if valid_decision_number(d) => BillKind::Fine { decision_number: d.to_owned() },
        ("B", "") => BillKind::Fee,
        _ => return Err(bad),
    };
    // The number inside a code is always the bare 16 digits.
    let number = BillNumber::parse(number).ok().filter(|n| n.as_str() == number).ok_or(bad)?;
    let amount_fen = parse_canonical_i64(amount).filter(|a| (1..=MAX_AMOUNT_FEN).contains(a)).ok_or(bad)?;
    let issued_at = parse_canonical_i64(issued).and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()).ok_or(bad)?;
    Ok(BillCode {
        issuer: issuer.to_owned(),
        kind,
        number,
        amount_fen,
        due_on: parse_iso_date(due).ok_or(bad)?,
        issued_at,
        expires_on: parse_iso_date(expires).ok_or(bad)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Amount due on a fine

/// The numbers of the late-fee rule, kept as data with their legal source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FineRules {
    /// Days after the decision is served within which the fine is paid.
    pub days_to_pay: i64,
    /// Late fee per day, in percent of the fine.
    pub daily_late_fee_percent: i64,
    /// The late fee in total may not exceed this percentage of the fine.
    pub late_fee_cap_percent: i64,
    pub source: &'static str,
}

/// 《中华人民共和国行政处罚法》(2021): 第六十七条第三款 (pay within 15 days of receiving the decision),
/// 第七十二条第一款第（一）项 (3% of the fine per day once overdue, never more than the fine).
pub const FINE_RULES: FineRules = FineRules {
    days_to_pay: 15,
    daily_late_fee_percent: 3,
    late_fee_cap_percent: 100,
    source: "《中华人民共和国行政处罚法》第六十七条第三款、第七十二条第一款第（一）项",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueItemKind {
    Fine,
    LateFee,
}

/// One line of "how it was computed", in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub kind: DueItemKind,
    pub amount_fen: i64,
    pub zh: String,
    pub en: String,
}

impl DueItem {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// What is due on a fine on a given day, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountDue {
    pub principal_fen: i64,
    pub due_on: Date,
    /// Whole Asia/Shanghai days after `due_on`; 0 on and before the due date.
    pub late_days: i64,
    /// `floor(principal × 3 / 100)`: each day's late fee is rounded down to the fen.
    pub daily_late_fee_fen: i64,
    pub late_fee_fen: i64,
    /// The late fee has reached the cap (the fine itself) and grows no more.
    pub capped: bool,
    pub total_fen: i64,
    pub items: Vec<DueItem>,
}

/// `1234` fen as `12.34`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

impl FineRules {
    /// The due date of a fine whose decision was served on `served_on`; the serving day itself is
    /// not counted. Holiday extension of a last day is not modelled: the bill's own due date rules.
    pub fn due_on(&self, served_on: Date) -> Date {
        served_on + time::Duration::days(self.days_to_pay)
    }

    /// Rounding: each day's late fee is rounded down to the fen (never more than the law allows),
    /// then the total is cut to the cap.
    pub fn amount_due(&self, fine_fen: i64, due_on: Date, today: Date) -> AmountDue {
        let fine = i128::from(fine_fen.max(0));
        let late_days = (today - due_on).whole_days().max(0);
        let daily = fine * i128::from(self.daily_late_fee_percent) / 100;
        let cap = fine * i128::from(self.late_fee_cap_percent) / 100;
        let raw = daily * i128::from(late_days);
        let late_fee = raw.min(cap);
        let capped = late_days > 0 && cap > 0 && raw >= cap;
        let (fine, daily, late_fee) = (fine as i64, daily as i64, late_fee as i64);

        let mut items = vec![DueItem {
            kind: DueItemKind::Fine,
            amount_fen: fine,
            zh: format!("罚款 {} 元，缴款期限至 {}", yuan(fine), iso_date(due_on)),
            en: format!("Fine ¥{}, due by {}", yuan(fine), iso_date(due_on)),
        }];
        if late_days > 0 {
            let (cap_zh, cap_en) = if capped {
                ("，已达上限（不超过罚款数额）", ", capped at the amount of the fine")
            } else {
                ("", "")
            };
            items.push(DueItem {
                kind: DueItemKind::LateFee,
                amount_fen: late_fee,
                zh: format!(
                    "加处罚款：逾期 {late_days} 天 × 每日 {} 元（罚款的{}%）= {} 元{cap_zh}",
                    yuan(daily),
                    self.daily_late_fee_percent,
                    yuan(late_fee)
                ),
                en: format!(
                    "Late fee: {late_days} day(s) overdue × ¥{} a day ({}% of the fine) = ¥{}{cap_en}",
                    yuan(daily),
                    self.daily_late_fee_percent,
                    yuan(late_fee)
                ),
            });
        }
        AmountDue {
            principal_fen: fine,
            due_on,
            late_days,
            daily_late_fee_fen: daily,
            late_fee_fen: late_fee,
            capped,
            total_fen: fine + late_fee,
            items,
        }
    }
}

/// [`FINE_RULES`]`.amount_due`: what a fine of `fine_fen` due on `due_on` costs on `today`.
pub fn amount_due(fine_fen: i64, due_on: Date, today: Date) -> AmountDue {
    FINE_RULES.amount_due(fine_fen, due_on, today)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days counted from the day the decision was served (day 0), as a resident counts them.
    #[test]
    fn late_fee_by_days_since_the_decision_was_served() {
        let served = time::macros::date!(2026 - 11 - 02);
        let due = FINE_RULES.due_on(served);
        let on = |day: i64| FINE_RULES.amount_due(20_000, due, served + time::Duration::days(day));
        // (day, late days, late fee in fen, total in fen) for a 200-yuan fine.
        for (day, late_days, fee, total) in [
            (0, 0, 0, 20_000),
            (15, 0, 0, 20_000),
            (16, 1, 600, 20_600),
            (48, 33, 19_800, 39_800),
            (100, 85, 20_000, 40_000),
        ] {
            let a = on(day);
            assert_eq!((a.late_days, a.late_fee_fen, a.total_fen), (late_days, fee, total), "day {day}");
            assert_eq!(a.capped, day == 100, "day {day}");
        }
    }
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    const TODAY: Date = date!(2026 - 11 - 29);

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn trusted() -> TrustedIssuers {
        TrustedIssuers::new().with("test-issuer-1", key(7).verifying_key())
    }

    /// A visibly fictional fine: the decision number starts with 0000 (no such issuing office).
    fn sample() -> BillCode {
        BillCode {
            issuer: "test-issuer-1".into(),
            kind: BillKind::Fine { decision_number: "0000202611290001".into() },
            number: BillNumber::from_body("00001234567890").unwrap(),
            amount_fen: 20_000,
            due_on: date!(2026 - 12 - 14),
            issued_at: datetime!(2026-11-29 02:00 UTC),
            expires_on: date!(2027 - 11 - 29),
        }
    }

    fn sample_code() -> String {
        sample().sign(&key(7)).unwrap()
    }

    // --- bill numbers

    #[test]
    fn bill_number_check_digits() {
        let n = BillNumber::from_body("00001234567890").unwrap();
        assert!(crate::check_digits::is_valid(n.as_str()));
        assert_eq!(BillNumber::parse(&n.grouped()).unwrap(), n);
        assert_eq!(BillNumber::parse(n.as_str().replace("", "-").trim_matches('-')).unwrap(), n);
        assert_eq!(n.grouped().len(), 19);
    }

    #[test]
    fn bill_number_rejects_shape_errors() {
        for s in ["", "123", "00001234567890", "0000123456789000000", "000012345678900a", "０００"] {
            assert_eq!(BillNumber::parse(s), Err(ErrorCode::BillNumberInvalid), "{s}");
        }
        assert!(BillNumber::from_body("1234").is_err());
    }

    proptest! {
        #[test]
        fn bill_number_catches_any_single_digit_error(body in "[0-9]{14}", pos in 0usize..16, delta in 1u8..10) {
            let n = BillNumber::from_body(&body).unwrap();
            let mut b = n.as_str().as_bytes().to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(BillNumber::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }

        #[test]
        fn bill_number_catches_adjacent_swaps(body in "[0-9]{14}", pos in 0usize..15) {
            let n = BillNumber::from_body(&body).unwrap();
            let mut b = n.as_str().as_bytes().to_vec();
            prop_assume!(b[pos] != b[pos + 1]);
            b.swap(pos, pos + 1);
            prop_assert!(BillNumber::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }
    }

    // --- QR payload

    #[test]
    fn signed_code_round_trips() {
        let code = sample_code();
        assert!(code.starts_with(PREFIX));
        assert!(code.len() < 250, "{} chars", code.len());
        assert_eq!(BillCode::parse(&code, &trusted(), TODAY).unwrap(), sample());
        assert_eq!(BillCode::parse(&format!("  {code}\n"), &trusted(), TODAY).unwrap(), sample());
        let fee = BillCode { kind: BillKind::Fee, ..sample() };
        assert_eq!(BillCode::parse(&fee.sign(&key(7)).unwrap(), &trusted(), TODAY).unwrap(), fee);
    }

    #[test]
    fn payload_is_the_documented_text() {
        let code = sample_code();
        let payload = code.split('.').nth(1).unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            text,
            format!(
                "1|test-issuer-1|F|{}|0000202611290001|20000|2026-12-14|{}|2027-11-29",
                sample().number,
                datetime!(2026-11-29 02:00 UTC).unix_timestamp()
            )
        );
        assert!(include_str!("../../../docs/bill-qr-format.md").contains(&text), "the doc's example is current");
    }

    #[test]
    fn foreign_codes() {
        for s in ["", "https://example.invalid/pay?id=1", "WXP://fictional", "jtb1.abc.def", "JTB", "JTBX.a.b", "JT"] {
            assert_eq!(BillCode::parse(s, &trusted(), TODAY), Err(BillCodeError::Foreign), "{s}");
        }
    }

    #[test]
    fn unsupported_version() {
        let code = sample_code().replacen("JTB1.", "JTB2.", 1);
        assert_eq!(BillCode::parse(&code, &trusted(), TODAY), Err(BillCodeError::UnsupportedVersion));
        let code = sample_code().replacen("JTB1.", "JTB10.", 1);
        assert_eq!(BillCode::parse(&code, &trusted(), TODAY), Err(BillCodeError::UnsupportedVersion));
    }

    #[test]
    fn malformed_codes() {
        let code = sample_code();
        let (head, sig) = code.rsplit_once('.').unwrap();
        for s in [
            "JTB1".to_owned(),
            "JTB1.".to_owned(),
            "JTB1x".to_owned(),
            head.to_owned(),
            format!("{head}.{}", &sig[..sig.len() - 2]),
            format!("{head}.{sig}.extra"),
            format!("{head}.{sig}="),
            "JTB1.!!!.AAAA".to_owned(),
            format!("{head}.{}", "A".repeat(2000)),
        ] {
            assert_eq!(BillCode::parse(&s, &trusted(), TODAY), Err(BillCodeError::Malformed), "{s}");
        }
    }

    #[test]
    fn unknown_issuer_and_forged_signature() {
        let stranger = TrustedIssuers::new().with("other-issuer", key(7).verifying_key());
        assert_eq!(BillCode::parse(&sample_code(), &stranger, TODAY), Err(BillCodeError::UnknownIssuer));
        let forged = sample().sign(&key(8)).unwrap();
        assert_eq!(BillCode::parse(&forged, &trusted(), TODAY), Err(BillCodeError::BadSignature));
    }

    #[test]
    fn changed_amount_fails_the_signature() {
        let code = sample_code();
        let (head, sig) = code.rsplit_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&head[PREFIX.len()..]).unwrap()).unwrap();
        let cheaper = payload.replace("|20000|", "|200|");
        let tampered = format!("{PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(cheaper));
        assert_eq!(BillCode::parse(&tampered, &trusted(), TODAY), Err(BillCodeError::BadSignature));
    }

    #[test]
    fn expiry_is_inclusive_of_the_last_day() {
        let code = sample_code();
        assert!(BillCode::parse(&code, &trusted(), date!(2027 - 11 - 29)).is_ok());
        assert_eq!(BillCode::parse(&code, &trusted(), date!(2027 - 11 - 30)), Err(BillCodeError::Expired));
    }

    #[test]
    fn sign_refuses_what_parse_would_refuse() {
        let bad = [
            BillCode { amount_fen: 0, ..sample() },
            BillCode { amount_fen: -5, ..sample() },
            BillCode { issuer: "Upper".into(), ..sample() },
            BillCode { kind: BillKind::Fine { decision_number: String::new() }, ..sample() },
            BillCode { kind: BillKind::Fine { decision_number: "a|b".into() }, ..sample() },
            BillCode { kind: BillKind::Fine { decision_number: " 12".into() }, ..sample() },
            BillCode { issued_at: datetime!(1960-01-01 00:00 UTC), ..sample() },
        ];
        for b in bad {
            assert_eq!(b.sign(&key(7)), Err(BillCodeError::Malformed), "{b:?}");
        }
        // Chinese decision numbers are fine.
        let zh = BillCode {
            kind: BillKind::Fine { decision_number: "测公（交）决字〔2026〕第0001号".into() },
            ..sample()
        };
        assert_eq!(BillCode::parse(&zh.sign(&key(7)).unwrap(), &trusted(), TODAY).unwrap(), zh);
    }

    #[test]
    fn errors_map_to_catalogue_codes() {
        assert_eq!(ErrorCode::from(BillCodeError::BadSignature), ErrorCode::BillCodeSignatureInvalid);
        assert_eq!(BillCodeError::Expired.code().status(), 410);
    }

    #[test]
    fn shanghai_day_starts_at_utc_16() {
        assert_eq!(shanghai_date(datetime!(2026-11-29 15:59:59 UTC)), date!(2026 - 11 - 29));
        assert_eq!(shanghai_date(datetime!(2026-11-29 16:00 UTC)), date!(2026 - 11 - 30));
    }

    fn arb_bill() -> impl Strategy<Value = BillCode> {
        (
            "[a-z0-9-]{1,32}",
            prop_oneof![Just(None), "[0-9A-Za-z测决字第号（）〔〕-]{1,40}".prop_map(Some)],
            "[0-9]{14}",
            1i64..=MAX_AMOUNT_FEN,
            0i64..20_000,
            0i64..4_000_000_000,
            0i64..2000,
        )
            .prop_map(|(issuer, decision, body, amount_fen, due, issued, valid)| BillCode {
                issuer,
                kind: decision.map_or(BillKind::Fee, |d| BillKind::Fine { decision_number: d }),
                number: BillNumber::from_body(&body).unwrap(),
                amount_fen,
                due_on: date!(2000 - 01 - 01) + time::Duration::days(due),
                issued_at: OffsetDateTime::from_unix_timestamp(issued).unwrap(),
                expires_on: TODAY + time::Duration::days(valid),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn sign_then_parse_round_trips(bill in arb_bill(), seed in any::<u8>()) {
            let code = bill.sign(&key(seed)).unwrap();
            let trusted = TrustedIssuers::new().with(bill.issuer.clone(), key(seed).verifying_key());
            prop_assert!(code.len() <= MAX_CODE_LEN);
            prop_assert_eq!(BillCode::parse(&code, &trusted, TODAY).unwrap(), bill);
        }

        #[test]
        fn any_single_character_change_is_rejected(pos in any::<prop::sample::Index>(), c in any::<char>()) {
            let code = sample_code();
            let chars: Vec<char> = code.chars().collect();
            let i = pos.index(chars.len());
            prop_assume!(chars[i] != c);
            let mut changed = chars.clone();
            changed[i] = c;
            let changed: String = changed.into_iter().collect();
            prop_assume!(changed.trim() != code);
            prop_assert!(BillCode::parse(&changed, &trusted(), TODAY).is_err(), "{}", changed);
        }

        #[test]
        fn any_base64_character_change_is_rejected(pos in any::<prop::sample::Index>(), c in "[A-Za-z0-9_-]") {
            let code = sample_code();
            let i = PREFIX.len() + pos.index(code.len() - PREFIX.len());
            let c = c.chars().next().unwrap();
            prop_assume!(code.as_bytes()[i] != b'.' && code.as_bytes()[i] as char != c);
            let mut changed = code.clone();
            changed.replace_range(i..=i, &c.to_string());
            prop_assert!(BillCode::parse(&changed, &trusted(), TODAY).is_err(), "{}", changed);
        }

        #[test]
        fn truncations_are_rejected(cut in any::<prop::sample::Index>()) {
            let code = sample_code();
            let n = cut.index(code.len());
            prop_assert!(BillCode::parse(&code[..n], &trusted(), TODAY).is_err());
            prop_assert!(BillCode::parse(&code[n + 1..], &trusted(), TODAY).is_err());
        }

        #[test]
        fn random_strings_never_panic(s in "\\PC{0,300}") {
            let _ = BillCode::parse(&s, &trusted(), TODAY);
            let _ = BillCode::parse(&format!("JTB1.{s}"), &trusted(), TODAY);
            let _ = BillNumber::parse(&s);
        }

        #[test]
        fn random_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
            let s = String::from_utf8_lossy(&b);
            let _ = BillCode::parse(&s, &trusted(), TODAY);
            let payload = format!("JTB1.{}.{}", URL_SAFE_NO_PAD.encode(&b), URL_SAFE_NO_PAD.encode([0u8; 64]));
            prop_assert!(BillCode::parse(&payload, &trusted(), TODAY).is_err());
        }

        #[test]
        fn well_formed_but_unsigned_payloads_are_rejected(bill in arb_bill()) {
            // A valid payload with someone else's signature: never accepted.
            let code = bill.sign(&key(1)).unwrap();
            let trusted = TrustedIssuers::new().with(bill.issuer.clone(), key(2).verifying_key());
            prop_assert_eq!(BillCode::parse(&code, &trusted, TODAY), Err(BillCodeError::BadSignature));
        }
    }

    // --- amount due

    const DUE: Date = date!(2026 - 12 - 14);

    fn days(n: i64) -> Date {
        DUE + time::Duration::days(n)
    }

    #[test]
    fn rules_are_the_law() {
        assert_eq!(
            (FINE_RULES.days_to_pay, FINE_RULES.daily_late_fee_percent, FINE_RULES.late_fee_cap_percent),
            (15, 3, 100)
        );
        assert!(FINE_RULES.source.contains("行政处罚法"));
        assert_eq!(FINE_RULES.due_on(date!(2026 - 11 - 29)), DUE);
    }

    #[test]
    fn nothing_extra_on_or_before_the_due_date() {
        for today in [days(-15), days(-1), days(0)] {
            let a = amount_due(20_000, DUE, today);
            assert_eq!((a.late_days, a.late_fee_fen, a.total_fen, a.capped), (0, 0, 20_000, false), "{today}");
            assert_eq!(a.items.len(), 1);
            assert_eq!(a.items[0].text(Lang::ZhCn), "罚款 200.00 元，缴款期限至 2026-12-14");
        }
    }

    #[test]
    fn day_one_adds_three_percent() {
        let a = amount_due(20_000, DUE, days(1));
        assert_eq!((a.late_days, a.daily_late_fee_fen, a.late_fee_fen, a.total_fen), (1, 600, 600, 20_600));
        assert_eq!(a.items[1].kind, DueItemKind::LateFee);
        assert_eq!(a.items[1].text(Lang::ZhCn), "加处罚款：逾期 1 天 × 每日 6.00 元（罚款的3%）= 6.00 元");
        assert_eq!(a.items[1].text(Lang::En), "Late fee: 1 day(s) overdue × ¥6.00 a day (3% of the fine) = ¥6.00");
    }

    #[test]
    fn cap_is_the_fine_itself() {
        let a = amount_due(20_000, DUE, days(33));
        assert_eq!((a.late_fee_fen, a.capped), (19_800, false));
        let a = amount_due(20_000, DUE, days(34));
        assert_eq!((a.late_fee_fen, a.total_fen, a.capped), (20_000, 40_000, true));
        assert!(a.items[1].zh.ends_with("已达上限（不超过罚款数额）"));
        let a = amount_due(20_000, DUE, days(10_000));
        assert_eq!((a.late_days, a.late_fee_fen, a.total_fen), (10_000, 20_000, 40_000));
    }

    #[test]
    fn each_day_is_rounded_down_to_the_fen() {
        // 3% of 33.33 yuan is 99.99 fen: 99 fen a day.
        let a = amount_due(3_333, DUE, days(2));
        assert_eq!((a.daily_late_fee_fen, a.late_fee_fen), (99, 198));
        let a = amount_due(3_333, DUE, days(34));
        assert_eq!((a.late_fee_fen, a.capped), (3_333, true));
        let a = amount_due(101, DUE, days(1));
        assert_eq!(a.daily_late_fee_fen, 3);
        // Below 34 fen, 3% rounds down to nothing.
        let a = amount_due(33, DUE, days(5));
        assert_eq!((a.late_fee_fen, a.total_fen), (0, 33));
    }

    #[test]
    fn counts_calendar_days_across_year_end() {
        let a = amount_due(10_000, date!(2026 - 12 - 31), date!(2027 - 01 - 02));
        assert_eq!((a.late_days, a.late_fee_fen), (2, 600));
    }

    #[test]
    fn yuan_formats_fen() {
        assert_eq!([yuan(0), yuan(5), yuan(123_456), yuan(-250)], ["0.00", "0.05", "1234.56", "-2.50"]);
    }

    proptest! {
        #[test]
        fn late_fee_never_exceeds_the_fine_and_never_shrinks(fine in 0i64..=MAX_AMOUNT_FEN, d in -100i64..3000) {
            let a = amount_due(fine, DUE, days(d));
            let b = amount_due(fine, DUE, days(d + 1));
            prop_assert!(a.late_fee_fen <= fine && a.late_fee_fen >= 0);
            prop_assert!(b.late_fee_fen >= a.late_fee_fen);
            prop_assert_eq!(a.total_fen, fine + a.late_fee_fen);
            prop_assert_eq!(a.items.iter().map(|i| i.amount_fen).sum::<i64>(), a.total_fen);
        }
    }
}
