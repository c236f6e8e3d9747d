//! Sending SMS. Production plugs a carrier gateway in behind [`SmsGateway`]; the local gateway
//! keeps every message in the `sms_outbox` table, which demo mode exposes to the app and tests.
//!
//! A message that must go out because something was committed (a vehicle-move notice) is queued
//! in the same transaction ([`queue`]) and sent by the job runner ([`deliver_due`]): a crash after
//! the commit delays it, never loses it. Its id goes to the gateway, so a delivery retried after a
//! crash is stored once by the local gateway (carriers take it as the client message id).

use std::sync::Arc;

use async_trait::async_trait;
use jingtong_api::auth::SmsOutboxEntry;
use jingtong_api::Phone;
use sqlx::Row;

use crate::clock::{rfc3339, Clock};
use crate::crypto::Keys;
use crate::db::Db;
use crate::jobs;
use crate::state::AppState;

/// Purpose tag for phone ciphertexts and keyed hashes.
pub const PHONE: &str = "phone";

pub struct SmsMessage {
    /// Unique per message; a gateway given the same id twice sends once.
    pub id: String,
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

impl SmsMessage {
    /// A message with a fresh id.
    pub fn new(phone: Phone, text: String, code: String) -> SmsMessage {
        SmsMessage { id: uuid::Uuid::now_v7().to_string(), phone, text, code }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("storing the message failed: {0}")]
    Storage(#[from] sqlx::Error),
    /// The carrier refused the call or did not answer; the messages are tried again later.
    #[error("the SMS carrier is unavailable: {0}")]
    Unavailable(String),
}

/// A resident is asked to try again after a carrier outage this long (carrier blips last seconds).
pub const OUTAGE_RETRY_AFTER_SECONDS: u64 = 30;

impl SmsError {
    /// What a resident waiting for a code is told: an outage passes, so try again after `retry_after`
    /// seconds (no sooner than the number's own resend limit allows).
    pub fn problem(&self, retry_after: u64) -> crate::error::ApiProblem {
        use crate::error::ApiProblem;
        match self {
            SmsError::Unavailable(detail) => {
                tracing::warn!(%detail, "sms carrier unavailable");
                ApiProblem::new(jingtong_api::ErrorCode::ServiceUnavailable).retry_after(retry_after)
            }
            SmsError::Storage(e) => ApiProblem::internal(e),
        }
    }
}

#[async_trait]
pub trait SmsGateway: Send + Sync + 'static {
    async fn send(&self, message: &SmsMessage) -> Result<(), SmsError> {
        self.send_all(std::slice::from_ref(message)).await
    }

    /// Several messages; a gateway with a batch call sends them in one.
    async fn send_all(&self, messages: &[SmsMessage]) -> Result<(), SmsError>;
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
    async fn send_all(&self, messages: &[SmsMessage]) -> Result<(), SmsError> {
        if messages.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..messages.len())
            .map(|i| {
                let n = 6 * i;
                format!("(${}, ${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6)
            })
            .collect();
        let sql = format!(
            "INSERT INTO sms_outbox (id, phone_hash, phone_enc, text, code, sent_at) VALUES {} ON CONFLICT (id) DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let now = self.clock.now_ms();
        for message in messages {
            query = query
                .bind(message.id.clone())
                .bind(self.keys.keyed_hash(PHONE, message.phone.as_str()))
                .bind(self.keys.encrypt(PHONE, message.phone.as_str().as_bytes()))
                .bind(message.text.clone())
                .bind(message.code.clone())
                .bind(now);
        }
        let _turn = self.db.write_turn().await?;
        query.execute(&self.db.pool).await?;
        tracing::info!(count = messages.len(), "sms stored in local outbox");
        Ok(())
    }
}

/// The job kind of a queued message.
pub const SEND_JOB: &str = "sms.send";
/// Purpose tag of a queued message's ciphertexts (number and text: the text may name a place).
const QUEUED: &str = "sms_queue";
/// At most this many queued messages go to the gateway in one call.
const BATCH: i64 = 100;
/// A claimed batch is not claimed again for this long: a sender that died mid-batch delays its
/// messages by this much (a gateway call takes seconds at most, not the runner's usual minutes).
const LEASE_MS: i64 = 15_000;

/// The job that sends `message` once it is committed: its number and text encrypted.
pub fn queued(keys: &Keys, message: &SmsMessage) -> serde_json::Value {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "id": message.id,
        "to": b64.encode(keys.encrypt(QUEUED, message.phone.as_str().as_bytes())),
        "text": b64.encode(keys.encrypt(QUEUED, message.text.as_bytes())),
    })
}

/// Queues `message` in the caller's transaction (see the module comment).
pub async fn queue(
    conn: &mut sqlx::AnyConnection,
    keys: &Keys,
    message: &SmsMessage,
    now: i64,
) -> Result<(), sqlx::Error> {
    jobs::enqueue(conn, SEND_JOB, &queued(keys, message), now, now).await.map(|_| ())
}

/// The message a queued job carries.
fn unqueue(keys: &Keys, payload: &serde_json::Value) -> Result<SmsMessage, String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let open = |name: &str| -> Result<String, String> {
        let field = payload[name].as_str().ok_or_else(|| format!("payload has no {name}"))?;
        let blob = b64.decode(field).map_err(|e| e.to_string())?;
        keys.decrypt_string(QUEUED, &blob).map_err(|e| e.to_string())
    };
    let id = payload["id"].as_str().ok_or("payload has no id")?.to_owned();
    let phone = Phone::parse(&open("to")?).map_err(|_| "queued number is not a phone number".to_owned())?;
    Ok(SmsMessage { id, phone, text: open("text")?, code: String::new() })
}

/// Sends the queued messages that are due, in batches: one claim, one gateway call and one update
/// per batch, so a burst of notices costs the writer a few statements, not three per message.
/// Returns how many were sent.
pub async fn deliver_due(state: &AppState) -> usize {
    let mut sent = 0;
    loop {
        let now = state.now_ms();
        let sql = crate::hot::due_jobs_of_kind(jobs::skip_locked(state.db.backend));
        let claimed: Result<Vec<(String, String)>, _> = match state.db.write_turn().await {
            Ok(_turn) => {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(now + LEASE_MS)
                    .bind(now)
                    .bind(SEND_JOB)
                    .bind(BATCH)
                    .fetch_all(&state.db.pool)
                    .await
            }
            Err(e) => Err(e),
        };
        let claimed = match claimed {
            Ok(rows) if rows.is_empty() => break,
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "claiming queued sms failed");
                break;
            }
        };
        let count = claimed.len();
        let mut messages = Vec::with_capacity(count);
        let mut ids = Vec::with_capacity(count);
        for (id, payload) in claimed {
            let message =
                serde_json::from_str(&payload).map_err(|e| e.to_string()).and_then(|p| unqueue(&state.keys, &p));
            match message {
                Ok(message) => {
                    messages.push(message);
                    ids.push(id);
                }
                // Never readable (the keys changed): given up on, loudly, instead of claimed forever.
                // (Only this batch sender claims queued SMS; the runner's one-by-one claim skips them.)
                Err(error) => {
                    tracing::warn!(job_id = %id, %error, "queued sms unreadable; given up");
                    if let Ok(_turn) = state.db.write_turn().await {
                        let _ = sqlx::query(
                            "UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = $2, payload = '{}' WHERE id = $3",
                        )
                        .bind(now)
                        .bind(format!("gave up: {error}"))
                        .bind(id)
                        .execute(&state.db.pool)
                        .await;
                    }
                }
            }
        }
        let result = state.sms.send_all(&messages).await;
        let now = state.now_ms();
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = match &result {
            // Sent: the number and the text are not kept (no longer needed; the gateway has the message).
            Ok(()) => "UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = $2, payload = '{}' WHERE id IN"
                .to_owned(),
            // Tried again later, each time later; after the runner's usual number of attempts, given up.
            Err(_) => format!(
                "UPDATE jobs SET run_at = $1 + {step} * attempts, locked_until = NULL, last_error = $2,
                   done_at = CASE WHEN attempts >= {max} THEN $1 ELSE NULL END,
                   payload = CASE WHEN attempts >= {max} THEN '{{}}' ELSE payload END WHERE id IN",
                step = jobs::RETRY_STEP_MS,
                max = jobs::MAX_ATTEMPTS
            ),
        };
        let sql = format!("{sql} ({})", placeholders.join(", "));
        let error = result.as_ref().err().map(ToString::to_string);
        if !ids.is_empty() {
            let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(error);
            for id in &ids {
                update = update.bind(id.clone());
            }
            let recorded = match state.db.write_turn().await {
                Ok(_turn) => update.execute(&state.db.pool).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "recording sent sms failed");
            }
        }
        match result {
            Ok(()) => sent += messages.len(),
            Err(e) => {
                tracing::warn!(error = %e, count, "sending queued sms failed");
                break;
            }
        }
        if (count as i64) < BATCH {
            break;
        }
    }
    sent
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
