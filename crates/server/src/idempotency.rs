//! `Idempotency-Key` for creating requests, one table keyed by (user, key): the first request
//! reserves the key, a retry with the same request gets the first answer, another request with the
//! same key is `idempotency_key_reused`. Problems are not stored: the key is free again.
//!
//! Creates that write one row in one transaction (applications, vehicle moves) [`claim`] the key
//! inside that transaction instead: key, row and answer commit together or not at all, so a process
//! killed at any point leaves nothing half done and a retry on any process answers at once.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use jingtong_api::ErrorCode;

use crate::error::ApiProblem;
use crate::state::AppState;

/// A reservation older than this belongs to a request that will never finish (its process died).
const STALE_RESERVATION_MS: i64 = 120_000;
/// How long a retry waits for the same request still being answered.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(30);

/// The header's key, or the field error a client needs to fix.
pub fn key(headers: &HeaderMap) -> Result<String, ApiProblem> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(str::to_owned)
        .ok_or_else(|| ApiProblem::new(ErrorCode::InvalidRequest).field("Idempotency-Key", ErrorCode::InvalidRequest))
}

pub enum Reservation {
    /// Go ahead; then call [`complete`] or [`release`].
    Reserved,
    /// Answer as the first request did.
    Replay { status: StatusCode, response: String },
}

pub async fn reserve(
    state: &AppState,
    user_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Reservation, ApiProblem> {
    let waited = Instant::now();
    loop {
        let reserved = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, response, created_at)
             VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_id, idem_key) DO NOTHING",
        )
        .bind(user_id)
        .bind(key)
        .bind(request_hash)
        .bind(state.now_ms())
        .execute(&state.db.pool)
        .await?
        .rows_affected();
        if reserved == 1 {
            return Ok(Reservation::Reserved);
        }
        let previous: Option<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(&state.db.pool)
        .await?;
        match previous {
            // The first request gave up (it answered a problem): try to reserve again.
            None => continue,
            Some((hash, ..)) if hash != request_hash => return Err(ApiProblem::new(ErrorCode::IdempotencyKeyReused)),
            Some((_, 0, _, created_at)) => {
                if state.now_ms() - created_at > STALE_RESERVATION_MS {
                    release(state, user_id, key).await?;
                } else if waited.elapsed() > WAIT_FOR_FIRST {
                    return Err(ApiProblem::new(ErrorCode::ServiceUnavailable));
                } else {
                    // The same request is being answered right now (a retry after a timeout): wait for it.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Some((_, status, response, _)) => {
                let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
                return Ok(Reservation::Replay { status, response });
            }
        }
    }
}

/// What a create's key already stands for.
pub enum Claim {
    /// The key is ours now: go on and commit.
    New,
    /// An earlier request with this key created this row: answer with it.
    Created(String),
}

#[derive(serde::Deserialize)]
struct CreatedId {
    id: String,
}

fn created_id(response: &str) -> Result<String, ApiProblem> {
    serde_json::from_str::<CreatedId>(response).map(|c| c.id).map_err(|e| ApiProblem::internal(&e))
}

/// What a committed earlier request did with this key: `None` if nothing yet (or still running),
/// the row it created, or `idempotency_key_reused` for a different request.
async fn earlier(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<String>, ApiProblem> {
    let previous: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    match previous {
        Some((hash, ..)) if hash != request_hash => Err(ApiProblem::new(ErrorCode::IdempotencyKeyReused)),
        None | Some((_, 0, _)) => Ok(None),
        Some((_, _, response)) => created_id(&response).map(Some),
    }
}

/// The row an earlier, committed request with this key created, if any (read before doing work).
pub async fn created(
    state: &AppState,
    user_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Option<String>, ApiProblem> {
    let mut conn = state.db.pool.acquire().await?;
    earlier(&mut conn, user_id, key, request_hash).await
}

/// Claims the key for `row_id` inside the create's transaction. A second request with the same key
/// waits here until the first commits (row lock in PostgreSQL, write lock in SQLite), then learns
/// the row it made; if the first rolled back, the second claims the key itself.
pub async fn claim(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    user_id: &str,
    key: &str,
    request_hash: &str,
    row_id: &str,
) -> Result<Claim, ApiProblem> {
    let response = serde_json::json!({ "id": row_id }).to_string();
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, response, created_at)
         VALUES ($1, $2, $3, 201, $4, $5) ON CONFLICT (user_id, idem_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(&response)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    match earlier(conn, user_id, key, request_hash).await? {
        Some(id) => Ok(Claim::Created(id)),
        // Held by a request of the older reserve/complete kind that is still running.
        None => Err(ApiProblem::new(ErrorCode::ServiceUnavailable)),
    }
}

/// Stores the first answer for later retries.
pub async fn complete(
    state: &AppState,
    user_id: &str,
    key: &str,
    status: StatusCode,
    response: &impl serde::Serialize,
) -> Result<(), ApiProblem> {
    sqlx::query("UPDATE idempotency_keys SET status = $1, response = $2 WHERE user_id = $3 AND idem_key = $4")
        .bind(i64::from(status.as_u16()))
        .bind(serde_json::to_string(response).map_err(|e| ApiProblem::internal(&e))?)
        .bind(user_id)
        .bind(key)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Frees a reservation whose request ended in a problem (or died).
pub async fn release(state: &AppState, user_id: &str, key: &str) -> Result<(), ApiProblem> {
    sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND status = 0")
        .bind(user_id)
        .bind(key)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}
