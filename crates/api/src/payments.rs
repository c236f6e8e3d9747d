//! Scan to pay (扫码支付): bills, payment orders and e-receipts on the wire.
//!
//! Money is integer fen; dates are `YYYY-MM-DD` in Asia/Shanghai; times RFC 3339 UTC.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Rules of payment orders, in one place for server, app and docs.
pub mod rules {
    /// An unpaid order closes this many seconds after it was created (2 hours).
    pub const ORDER_TTL_SECONDS: u32 = 2 * 3600;
    /// Notifications older (or newer) than this many seconds are refused as replays.
    pub const NOTIFY_WINDOW_SECONDS: u32 = 300;
}

/// `POST /api/v1/bills/scan`: the text of a scanned QR code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct ScanRequest {
    pub code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BillKindView {
    /// A traffic or public-security fine (罚款), with its decision number.
    Fine,
    /// A fee (for example the ID card fee of an application).
    Fee,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BillStatus {
    Unpaid,
    Paid,
    /// Withdrawn before payment (for example the fee of a withdrawn application): cannot be paid.
    Cancelled,
}

/// One line of the amount due today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct DueLine {
    /// `fine`, `fee` or `late_fee`.
    pub kind: String,
    /// In the request's language, e.g. "加处罚款：逾期 3 天 × 每日 6.00 元".
    pub label: String,
    #[ts(type = "number")]
    pub amount_fen: i64,
}

/// What a bill costs today and how that was computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct AmountDueView {
    #[ts(type = "number")]
    pub principal_fen: i64,
    pub late_days: u32,
    #[ts(type = "number")]
    pub late_fee_fen: i64,
    /// The late fee reached its legal cap (the fine itself).
    pub capped: bool,
    #[ts(type = "number")]
    pub total_fen: i64,
    pub lines: Vec<DueLine>,
    /// The rule's legal source, shown under the breakdown.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct BillView {
    pub bill_id: String,
    /// 16 digits, check-digit protected.
    pub bill_number: String,
    pub kind: BillKindView,
    /// 决定书编号 of a fine.
    pub decision_number: Option<String>,
    /// Who receives the money, e.g. "合肥市公安局交通警察支队".
    pub payee: String,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    pub status: BillStatus,
    /// Today's amount (for a paid bill: what was paid).
    pub amount_due: AmountDueView,
    /// The open order, if one exists.
    pub open_order_id: Option<String>,
    /// Set once paid.
    pub receipt_number: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OrderStatus {
    /// Waiting for the payer to confirm with the provider.
    Open,
    Paid,
    /// Not paid within 2 hours, or superseded; cannot be paid any more.
    Closed,
}

/// `POST /api/v1/bills/{bill_id}/payment-orders` (Idempotency-Key) and `GET /api/v1/payment-orders/{order_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct PaymentOrder {
    pub order_id: String,
    pub bill_id: String,
    #[ts(type = "number")]
    pub amount_fen: i64,
    pub status: OrderStatus,
    /// RFC 3339 UTC; an open order closes then.
    pub expires_at: String,
    /// The provider's page where the payer confirms (opened from the app).
    pub pay_url: String,
    /// Set once paid.
    pub receipt_number: Option<String>,
    /// RFC 3339 UTC: money that reached this order after it closed was sent back then.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<String>,
}

/// An e-receipt (电子票据): `GET /api/v1/receipts/{receipt_number}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct Receipt {
    pub receipt_number: String,
    pub bill_number: String,
    pub payee: String,
    /// Masked, e.g. "演**甲".
    pub payer_masked: String,
    pub lines: Vec<DueLine>,
    #[ts(type = "number")]
    pub amount_fen: i64,
    /// RFC 3339 UTC.
    pub paid_at: String,
    /// The text of the receipt's QR code: signed like a bill code, verifiable offline.
    pub verify_code: String,
}

// ---------------------------------------------------------------------------------------------
// Receipt numbers and the receipt's verification code

/// A human-facing e-receipt number: `R` and 16 digits (14 random, then two ISO 7064 MOD 97-10 check
/// digits as in [`crate::bill::BillNumber`]), so receipts never run in sequence and a mistyped digit is caught.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptNumber(String);

impl ReceiptNumber {
    /// Accepts `R1234 5678 9012 3456` with spaces or hyphens, upper- or lower-case `r`.
    pub fn parse(input: &str) -> Result<ReceiptNumber, crate::ErrorCode> {
        let t = input.trim();
        let digits = t.strip_prefix('R').or_else(|| t.strip_prefix('r')).ok_or(crate::ErrorCode::NotFound)?;
        let number = crate::bill::BillNumber::parse(digits).map_err(|_| crate::ErrorCode::NotFound)?;
        Ok(ReceiptNumber(format!("R{}", number.as_str())))
    }

    /// `R` + the 14 random digits + check digits.
    pub fn from_body(body14: &str) -> Result<ReceiptNumber, crate::ErrorCode> {
        let number = crate::bill::BillNumber::from_body(body14).map_err(|_| crate::ErrorCode::NotFound)?;
        Ok(ReceiptNumber(format!("R{}", number.as_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ReceiptNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReceiptNumber({})", self.0)
    }
}

impl std::fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ReceiptNumber {
    type Error = crate::ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ReceiptNumber::parse(&s)
    }
}

impl From<ReceiptNumber> for String {
    fn from(v: ReceiptNumber) -> String {
        v.0
    }
}

/// Prefix of a receipt's verification code (the text of its QR code).
pub const RECEIPT_PREFIX: &str = "JTR1.";

/// What a receipt's QR code says: `JTR1.<payload>.<signature>`, signed like a bill code (see
/// `docs/bill-qr-format.md`). Payload fields joined by `|`: version `1`, issuer key id, receipt
/// number, bill number, amount in fen, paid at (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCode {
    pub issuer: String,
    pub receipt_number: ReceiptNumber,
    pub bill_number: crate::bill::BillNumber,
    pub amount_fen: i64,
    /// Unix seconds (UTC).
    pub paid_at: i64,
}

impl ReceiptCode {
    pub fn sign(&self, key: &crate::bill::SigningKey) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use ed25519_dalek::Signer;
        let payload = format!(
            "1|{}|{}|{}|{}|{}",
            self.issuer,
            self.receipt_number.as_str(),
            self.bill_number.as_str(),
            self.amount_fen,
            self.paid_at
        );
        let signed = format!("{RECEIPT_PREFIX}{}", URL_SAFE_NO_PAD.encode(payload.as_bytes()));
        let signature = key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// Verifies a receipt code against the trusted issuer keys.
    pub fn parse(code: &str, trusted: &crate::bill::TrustedIssuers) -> Result<ReceiptCode, crate::bill::BillCodeError> {
        use crate::bill::BillCodeError as E;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let code = code.trim();
        if code.len() > crate::bill::MAX_CODE_LEN {
            return Err(E::Malformed);
        }
        let rest = code.strip_prefix(RECEIPT_PREFIX).ok_or(E::Foreign)?;
        let (payload_b64, signature_b64) = rest.split_once('.').ok_or(E::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok().and_then(|p| String::from_utf8(p).ok());
        let payload = payload.ok_or(E::Malformed)?;
        let signature: [u8; 64] =
            URL_SAFE_NO_PAD.decode(signature_b64).ok().and_then(|b| b.try_into().ok()).ok_or(E::Malformed)?;
        let f: Vec<&str> = payload.split('|').collect();
        let ["1", issuer, receipt, bill, amount, paid_at] = f[..] else {
            return Err(E::Malformed);
        };
        let key = trusted.get(issuer).ok_or(E::UnknownIssuer)?;
        let signed = &code[..code.len() - signature_b64.len() - 1];
        key.verify_strict(signed.as_bytes(), &ed25519_dalek::Signature::from_bytes(&signature))
            .map_err(|_| E::BadSignature)?;
        Ok(ReceiptCode {
            issuer: issuer.to_owned(),
            receipt_number: ReceiptNumber::parse(receipt).map_err(|_| E::Malformed)?,
            bill_number: crate::bill::BillNumber::parse(bill).map_err(|_| E::Malformed)?,
            amount_fen: amount.parse().map_err(|_| E::Malformed)?,
            paid_at: paid_at.parse().map_err(|_| E::Malformed)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillNumber, SigningKey, TrustedIssuers};

    #[test]
    fn receipt_numbers_have_check_digits() {
        let n = ReceiptNumber::from_body("12345678901234").unwrap();
        assert!(n.as_str().starts_with('R') && n.as_str().len() == 17);
        assert_eq!(ReceiptNumber::parse(n.as_str()).unwrap(), n);
        let mut wrong = n.as_str().to_owned();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert!(ReceiptNumber::parse(&wrong).is_err());
    }

    #[test]
    fn receipt_codes_verify_and_refuse_changes() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let trusted = TrustedIssuers::new().with("jingtong-1", key.verifying_key());
        let code = ReceiptCode {
            issuer: "jingtong-1".into(),
            receipt_number: ReceiptNumber::from_body("00000000000001").unwrap(),
            bill_number: BillNumber::from_body("12345678901234").unwrap(),
            amount_fen: 20000,
            paid_at: 1_795_917_600,
        };
        let text = code.sign(&key);
        assert!(text.starts_with(RECEIPT_PREFIX));
        assert_eq!(ReceiptCode::parse(&text, &trusted).unwrap(), code);
        let other = TrustedIssuers::new().with("jingtong-1", SigningKey::from_bytes(&[4; 32]).verifying_key());
        assert!(ReceiptCode::parse(&text, &other).is_err());
        assert!(ReceiptCode::parse("JTB1.x.y", &trusted).is_err());
    }
}
