//! Append-only audit trail of sign-in, identity and payment events. Rows hold keyed hashes, never the number.

use crate::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SmsSent,
    SignIn,
    SignInFailed,
    PhoneLocked,
    Refresh,
    RefreshReuse,
    SignOut,
    FaceChallenge,
    FaceVerified,
    FaceRejected,
    /// An order needs a person: amount mismatch, or money for a closed order (refund).
    PaymentFlagged,
    /// Money of a closed order was sent back to the payer.
    PaymentRefunded,
    /// A payment notification failed its signature, time window or nonce check.
    PaymentNotifyRefused,
    /// A case lookup: a failure (unknown receipt or wrong code) or an SMS code sent.
    CaseLookup,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SmsSent => "sms_sent",
            Kind::SignIn => "sign_in",
            Kind::SignInFailed => "sign_in_failed",
            Kind::PhoneLocked => "phone_locked",
            Kind::Refresh => "refresh",
            Kind::RefreshReuse => "refresh_reuse",
            Kind::SignOut => "sign_out",
            Kind::FaceChallenge => "face_challenge",
            Kind::FaceVerified => "face_verified",
            Kind::FaceRejected => "face_rejected",
            Kind::PaymentFlagged => "payment_flagged",
            Kind::PaymentRefunded => "payment_refunded",
            Kind::PaymentNotifyRefused => "payment_notify_refused",
            Kind::CaseLookup => "case_lookup",
        }
    }
}

#[derive(Debug, Default)]
pub struct Event<'a> {
    pub user_id: Option<&'a str>,
    pub phone_hash: Option<&'a str>,
    pub client_ip: Option<String>,
    /// A short non-personal detail, e.g. the decision id and reason code.
    pub detail: Option<String>,
}

pub async fn record(db: &Db, kind: Kind, at: i64, event: Event<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (id, at, kind, user_id, phone_hash, client_ip, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(at)
    .bind(kind.as_str())
    .bind(event.user_id.map(str::to_owned))
    .bind(event.phone_hash.map(str::to_owned))
    .bind(event.client_ip)
    .bind(event.detail)
    .execute(&db.pool)
    .await?;
    Ok(())
}
