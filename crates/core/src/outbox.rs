//! The outbox: submissions wait here, encrypted, each with its own Idempotency-Key, until the
//! server confirms them. Resending with the same key is safe: the server answers the first result.
//! Each entry belongs to the account that queued it (`""`: queued while signed out), is sealed under
//! that account's key, and is only ever listed or sent while that account is the one signed in, with
//! that account's token (a signed-out entry goes without any token).

use jingtong_api::ErrorCode;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use sqlx::SqlitePool;
use tracing::{info, instrument, warn};

use crate::client::{Client, Request};
use crate::db::{now, storage};
use crate::vault::{Vault, NONCE_LEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OutboxState {
    /// Waiting to be sent (again).
    Pending,
    /// Refused by the server for good (a definite 4xx); kept with `last_error` so nothing typed is lost.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OutboxEntry {
    pub id: String,
    pub idempotency_key: String,
    pub method: String,
    pub path: String,
    pub created_at: String,
    #[ts(type = "number")]
    pub attempts: i64,
    /// The error code of the last try.
    pub last_error: Option<String>,
    pub state: OutboxState,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct FlushReport {
    pub sent: usize,
    pub failed: usize,
    pub pending: usize,
}

fn aad(account: &str, idempotency_key: &str) -> Vec<u8> {
    format!("outbox:{account}:{idempotency_key}").into_bytes()
}

type Row = (String, String, String, String, Option<Vec<u8>>, String, i64, Option<String>, String, Option<String>);
const COLUMNS: &str = "id, idempotency_key, method, path, body, created_at, attempts, last_error, state, draft_item";

fn entry(r: Row) -> OutboxEntry {
    let state = if r.8 == "failed" { OutboxState::Failed } else { OutboxState::Pending };
    OutboxEntry {
        id: r.0,
        idempotency_key: r.1,
        method: r.2,
        path: r.3,
        created_at: r.5,
        attempts: r.6,
        last_error: r.7,
        state,
    }
}

#[instrument(skip(db, vault, body))]
pub(crate) async fn enqueue(
    db: &SqlitePool,
    vault: &Vault,
    account: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
    draft_item: Option<&str>,
) -> Result<OutboxEntry, ErrorCode> {
    let method = method.to_ascii_uppercase();
    if !matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") || !path.starts_with("/api/v1/") {
        return Err(ErrorCode::InvalidRequest);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let key = uuid::Uuid::now_v7().to_string();
    let sealed = match body {
        Some(v) => {
            let plain = serde_json::to_vec(v).map_err(|_| ErrorCode::InvalidRequest)?;
            let (nonce, ciphertext) = vault.seal(account, &aad(account, &key), &plain).await?;
            Some([&nonce[..], &ciphertext].concat())
        }
        None => None,
    };
    let created_at = now();
    sqlx::query(
        "INSERT INTO outbox (id, account, idempotency_key, method, path, body, created_at, draft_item)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(account)
    .bind(&key)
    .bind(&method)
    .bind(path)
    .bind(sealed)
    .bind(&created_at)
    .bind(draft_item)
    .execute(db)
    .await
    .map_err(|e| storage(&e))?;
    info!(%id, "queued");
    Ok(OutboxEntry {
        id,
        idempotency_key: key,
        method,
        path: path.to_owned(),
        created_at,
        attempts: 0,
        last_error: None,
        state: OutboxState::Pending,
    })
}

pub(crate) async fn list(db: &SqlitePool, account: &str) -> Result<Vec<OutboxEntry>, ErrorCode> {
    let rows: Vec<Row> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE account = ? ORDER BY id")))
            .bind(account)
            .fetch_all(db)
            .await
            .map_err(|e| storage(&e))?;
    Ok(rows.into_iter().map(entry).collect())
}

pub(crate) async fn discard(db: &SqlitePool, account: &str, id: &str) -> Result<(), ErrorCode> {
    sqlx::query("DELETE FROM outbox WHERE account = ? AND id = ?")
        .bind(account)
        .bind(id)
        .execute(db)
        .await
        .map_err(|e| storage(&e))?;
    Ok(())
}

/// Entries of `account` the server has not confirmed: pending, and refused ones kept for the resident.
pub(crate) async fn count(db: &SqlitePool, account: &str) -> Result<u32, ErrorCode> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE account = ?")
        .bind(account)
        .fetch_one(db)
        .await
        .map_err(|e| storage(&e))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Every entry of `account`.
pub(crate) async fn remove_all(db: &SqlitePool, account: &str) -> Result<(), ErrorCode> {
    sqlx::query("DELETE FROM outbox WHERE account = ?").bind(account).execute(db).await.map_err(|e| storage(&e))?;
    Ok(())
}

/// What to do with an entry the server did not accept.
enum Verdict {
    Refused,
    Retry,
}

/// 401 (sign in again), 408 and 429 (try later) are not the server refusing the content.
fn verdict(status: StatusCode, code: ErrorCode) -> Verdict {
    match status.as_u16() {
        401 | 408 | 429 => Verdict::Retry,
        // A key still being answered by another request of ours: try again later.
        _ if code == ErrorCode::ServiceUnavailable => Verdict::Retry,
        400..=499 => Verdict::Refused,
        _ => Verdict::Retry,
    }
}

/// What one try of one entry gave.
pub(crate) enum Sent {
    /// The server confirmed it; its answer.
    Done(Vec<u8>),
    /// Refused for good; the problem the server gave.
    Refused(crate::AppError),
    /// Not now (offline, signed out, server trouble): still pending.
    Later(crate::AppError),
}

/// Sends one pending entry of `account` with its Idempotency-Key and records the outcome: a
/// confirmed entry is removed together with the draft it came from. The caller holds the flush lock,
/// which sign-in and sign-out take too, so the token in the keychain is `account`'s for the whole send.
async fn send(db: &SqlitePool, vault: &Vault, client: &Client, account: &str, row: Row) -> Result<Sent, ErrorCode> {
    let (id, key, method, path, body, .., draft_item) = row;
    let plain = match &body {
        Some(sealed) if sealed.len() > NONCE_LEN => {
            vault.open(account, &aad(account, &key), &sealed[..NONCE_LEN], &sealed[NONCE_LEN..]).await?
        }
        _ => None,
    };
    let method = Method::from_bytes(method.as_bytes()).ok();
    let outcome = match method {
        _ if body.is_some() && plain.is_none() => Sent::Refused(client.error(ErrorCode::DraftCorrupt)),
        None => Sent::Refused(client.error(ErrorCode::InvalidRequest)),
        Some(method) => {
            let body = plain.map(|b| ("application/json".to_owned(), b));
            // Signed-out entries never carry a token; an account's carry only that account's.
            let auth = !account.is_empty();
            let req = Request { method, path: &path, body, auth, idempotency_key: Some(&key) };
            match client.exchange(&req).await {
                Ok(resp) if resp.status.is_success() => Sent::Done(resp.body),
                Ok(resp) => {
                    let problem = client.problem(&resp);
                    match verdict(resp.status, problem.code) {
                        Verdict::Retry => Sent::Later(problem),
                        Verdict::Refused => Sent::Refused(problem),
                    }
                }
                Err(e) => Sent::Later(e),
            }
        }
    };
    let done = match &outcome {
        Sent::Done(_) => {
            if let Some(item) = &draft_item {
                sqlx::query("DELETE FROM drafts WHERE account = ? AND item = ?")
                    .bind(account)
                    .bind(item)
                    .execute(db)
                    .await
                    .map_err(|e| storage(&e))?;
            }
            sqlx::query("DELETE FROM outbox WHERE id = ?").bind(&id).execute(db).await
        }
        Sent::Refused(e) => {
            warn!(%id, code = %e.code, "refused by the server; kept as failed");
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ?, state = 'failed' WHERE id = ?")
                .bind(e.code.to_string())
                .bind(&id)
                .execute(db)
                .await
        }
        Sent::Later(e) => {
            info!(%id, code = %e.code, "kept for a later try");
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?")
                .bind(e.code.to_string())
                .bind(&id)
                .execute(db)
                .await
        }
    };
    done.map_err(|e| storage(&e))?;
    Ok(outcome)
}

/// Sends one entry now (a form's submit button); the caller decides what the resident sees.
pub(crate) async fn send_now(
    db: &SqlitePool,
    vault: &Vault,
    client: &Client,
    account: &str,
    id: &str,
) -> Result<Sent, ErrorCode> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbox WHERE account = ? AND id = ? AND state = 'pending'"
    )))
    .bind(account)
    .bind(id)
    .fetch_optional(db)
    .await
    .map_err(|e| storage(&e))?;
    let row = row.ok_or(ErrorCode::NotFound)?;
    send(db, vault, client, account, row).await
}

/// Sends every pending entry of `account` once, oldest first, each with its Idempotency-Key. Stops at
/// the first `offline`. Other accounts' entries wait for their own sign-in.
#[instrument(skip_all)]
pub(crate) async fn flush(
    db: &SqlitePool,
    vault: &Vault,
    client: &Client,
    account: &str,
) -> Result<FlushReport, ErrorCode> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbox WHERE account = ? AND state = 'pending' ORDER BY id"
    )))
    .bind(account)
    .fetch_all(db)
    .await
    .map_err(|e| storage(&e))?;
    let mut report = FlushReport::default();
    for row in rows {
        match send(db, vault, client, account, row).await? {
            Sent::Done(_) => report.sent += 1,
            Sent::Refused(_) => report.failed += 1,
            Sent::Later(e) if e.code == ErrorCode::Offline => break,
            Sent::Later(_) => {}
        }
    }
    let (pending,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE account = ? AND state = 'pending'")
        .bind(account)
        .fetch_one(db)
        .await
        .map_err(|e| storage(&e))?;
    report.pending = usize::try_from(pending).unwrap_or(0);
    Ok(report)
}
