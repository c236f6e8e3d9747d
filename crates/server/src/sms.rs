//! Sending SMS. Production plugs a carrier gateway in behind [`SmsGateway`]; the local gateway
//! keeps every message in the `sms_outbox` table, which demo mode exposes to the app and tests.

use std::sync::Arc;

use async_trait::async_trait;
use jingtong_api::auth::SmsOutboxEntry;
use jingtong_api::Phone;
use sqlx::Row;

use crate::clock::{rfc3339, Clock};
use crate::crypto::Keys;
use crate::db::Db;

/// Purpose tag for phone ciphertexts and keyed hashes.
pub const PHONE: &str = "phone";

pub struct SmsMessage {
    pub phone: Phone,
    pub text: String,
    /// Kept apart from the text so the local outbox can show it; carrier gateways send the text.
    pub code: String,
}

impl std::fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsMessage(to={})", self.phone.masked())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("storing the message failed: {0}")]
    Storage(#[from] sqlx::Error),
}

#[async_trait]
pub trait SmsGateway: Send + Sync + 'static {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError>;
}

/// Writes messages to the database outbox instead of a carrier.
pub struct LocalSmsGateway {
    db: Db,
    keys: Arc<Keys>,
    clock: Arc<dyn Clock>,
}

impl LocalSmsGateway {
    pub fn new(db: Db, keys: Arc<Keys>, clock: Arc<dyn Clock>) -> LocalSmsGateway {
        LocalSmsGateway { db, keys, clock }
    }
}

#[async_trait]
impl SmsGateway for LocalSmsGateway {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        let _turn = self.db.write_turn().await?;
        sqlx::query(
            "INSERT INTO sms_outbox (id, phone_hash, phone_enc, text, code, sent_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(self.keys.keyed_hash(PHONE, message.phone.as_str()))
        .bind(self.keys.encrypt(PHONE, message.phone.as_str().as_bytes()))
        .bind(message.text.clone())
        .bind(message.code.clone())
        .bind(self.clock.now_ms())
        .execute(&self.db.pool)
        .await?;
        tracing::info!(phone = %message.phone.masked(), "sms stored in local outbox");
        Ok(())
    }
}

/// The sign-in message residents receive.
pub fn code_text(code: &str, ttl_minutes: u32) -> String {
    format!("【警通】您的验证码是{code}，{ttl_minutes}分钟内有效。请勿泄露给他人。")
}

/// Outbox messages for one number, newest first.
pub async fn outbox(db: &Db, keys: &Keys, phone: &Phone) -> Result<Vec<SmsOutboxEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT text, code, sent_at FROM sms_outbox WHERE phone_hash = $1 ORDER BY sent_at DESC, id DESC LIMIT 50",
    )
    .bind(keys.keyed_hash(PHONE, phone.as_str()))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SmsOutboxEntry {
                phone: phone.as_str().to_owned(),
                text: r.try_get("text")?,
                code: r.try_get("code")?,
                sent_at: rfc3339(r.try_get("sent_at")?),
            })
        })
        .collect()
}
