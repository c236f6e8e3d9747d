//! Open event streams, counted in the database so the limits hold across server processes.
//!
//! A new stream over a limit closes the oldest one instead of being refused: a resident with the app
//! open on a PC and a phone has one stream per device (one session each), and a phone that changed
//! networks leaves a dead connection the server only notices later; the stream the resident opened
//! last is the one they are looking at, so it always works and the dead one makes way.

use std::time::Duration;

use crate::db::Backend;
use crate::state::AppState;

/// One app holds one stream per session; 3 leaves room for reconnects that overlap a dead connection.
pub const PER_SESSION: usize = 3;
/// Devices of one account (PC, phone, tablet, each reconnecting) within what one server can hold for
/// every resident: 10 streams per account.
pub const PER_ACCOUNT: usize = 10;
/// A stream renews its row this often; a row not renewed for [`LEASE_MS`] belongs to a process that
/// died and no longer counts.
pub const RENEW_EVERY: Duration = Duration::from_secs(30);
const LEASE_MS: i64 = 90_000;

/// A stream's row; removed (in the background) when dropped, which is when the stream closes.
pub struct Claim {
    pub id: String,
    state: AppState,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let (state, id) = (self.state.clone(), std::mem::take(&mut self.id));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _turn = state.db.write_turn().await;
                let gone =
                    sqlx::query("DELETE FROM event_streams WHERE id = $1").bind(&id).execute(&state.db.pool).await;
                if let Err(e) = gone {
                    tracing::warn!(error = %e, "a closed stream's row stays until its lease ends");
                }
            });
        }
    }
}

/// Claims a place for a new stream of a live session, making room by closing the account's oldest
/// streams; `None` if the session has ended. The account's row lock (PostgreSQL) or the single writer
/// (SQLite) puts parallel opens one after the other. Returns the claim and the streams to close.
pub async fn open(
    state: &AppState,
    user_id: &str,
    session_id: &str,
) -> Result<Option<(Claim, Vec<String>)>, sqlx::Error> {
    let now = state.now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.db.begin().await?;
    if state.db.backend == Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user_id).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM event_streams WHERE user_id = $1 AND lease_until <= $2")
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO event_streams (id, session_id, user_id, opened_at, lease_until)
         SELECT $1, id, user_id, $2, $3 FROM sessions WHERE id = $4 AND user_id = $5 AND revoked_at IS NULL",
    )
    .bind(&id)
    .bind(now)
    .bind(now + LEASE_MS)
    .bind(session_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    // The others, newest first: the new stream keeps its place, the oldest make way.
    let others = |by: &'static str| {
        let sql = format!("SELECT id FROM event_streams WHERE {by} = $1 AND id <> $2 ORDER BY opened_at DESC, id DESC");
        sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql))
    };
    let same_session = others("session_id").bind(session_id).bind(&id).fetch_all(&mut *tx).await?;
    let mut closing: Vec<String> = same_session.into_iter().skip(PER_SESSION - 1).map(|(id,)| id).collect();
    let account = others("user_id").bind(user_id).bind(&id).fetch_all(&mut *tx).await?;
    let staying: Vec<String> = account.into_iter().map(|(id,)| id).filter(|id| !closing.contains(id)).collect();
    closing.extend(staying.into_iter().skip(PER_ACCOUNT - 1));
    for old in &closing {
        sqlx::query("DELETE FROM event_streams WHERE id = $1").bind(old).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some((Claim { id, state: state.clone() }, closing)))
}

/// Renews the stream's lease; `false` if its row is gone (closed to make room) or its session ended,
/// which a lost notice would otherwise hide.
pub async fn renew(state: &AppState, stream_id: &str) -> Result<bool, sqlx::Error> {
    let _turn = state.db.write_turn().await?;
    let renewed = sqlx::query(
        "UPDATE event_streams SET lease_until = $1 WHERE id = $2
         AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = event_streams.session_id AND s.revoked_at IS NULL)",
    )
    .bind(state.now_ms() + LEASE_MS)
    .bind(stream_id)
    .execute(&state.db.pool)
    .await?
    .rows_affected();
    Ok(renewed > 0)
}
