//! Changes pushed to open apps as server-sent events (`GET /api/v1/events`). On SQLite (one process)
//! a change goes straight to the process's broadcast; on PostgreSQL it goes out with NOTIFY and every
//! server process LISTENs, so an app hears of it whichever process it is connected to.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use jingtong_api::cases::ChangeEvent;
use jingtong_api::Problem;
use tokio::sync::broadcast;

use crate::auth::AuthUser;
use crate::db::Backend;
use crate::error::ApiProblem;
use crate::payments::resident;
use crate::state::AppState;

const CHANNEL: &str = "jingtong_changes";

/// One change and the accounts that should hear of it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub user_ids: Vec<String>,
    pub event: ChangeEvent,
}

pub fn channel() -> broadcast::Sender<Change> {
    broadcast::channel(1024).0
}

/// Tells the accounts' open apps; nobody listening is fine.
pub fn publish(state: &AppState, user_ids: Vec<String>, kind: &str, id: &str, summary: &str) {
    let event = ChangeEvent { kind: kind.to_owned(), id: id.to_owned(), summary: summary.to_owned() };
    let change = Change { user_ids, event };
    match state.db.backend {
        Backend::Sqlite => {
            let _ = state.changes.send(change);
        }
        Backend::Postgres => {
            let (pool, payload) = (state.db.pool.clone(), serde_json::to_string(&change).unwrap_or_default());
            tokio::spawn(async move {
                let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&pool).await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "a change was not announced; apps see it at their next refresh");
                }
            });
        }
    }
}

/// PostgreSQL: LISTENs (before returning, so no change after start is missed) and forwards every
/// process's changes into this one's broadcast until the server stops; reconnects if the connection drops.
pub async fn listen(
    url: &str,
    changes: broadcast::Sender<Change>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                r = listener.try_recv() => r,
                _ = stopping.wait_for(|stop| *stop) => return,
            };
            match received {
                Ok(Some(n)) => match serde_json::from_str::<Change>(n.payload()) {
                    Ok(change) => {
                        let _ = changes.send(change);
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable change notification"),
                },
                // The connection dropped (try_recv reconnects on the next call); notifications
                // in between are lost, so every open app is told to refresh everything.
                Ok(None) => {
                    let event = ChangeEvent { kind: "all".into(), id: String::new(), summary: String::new() };
                    let _ = changes.send(Change { user_ids: vec![], event });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change listener: reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}

/// The accounts that follow a case: the reporter's verified account and the viewers.
pub async fn case_followers(state: &AppState, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT user_id FROM case_viewers WHERE case_id = $1
         UNION SELECT u.id FROM users u JOIN registry_persons p ON p.id_number_hash = u.id_number_hash
               JOIN cases c ON c.person_id = p.id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A stream of this account's changes (`event: change`, data: [`ChangeEvent`] JSON), with a keep-alive.
#[utoipa::path(
    get, path = "/api/v1/events", operation_id = "stream_changes", tag = "cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "Server-sent events: `change` with a ChangeEvent as data", body = ChangeEvent,
            content_type = "text/event-stream"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream_changes(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiProblem> {
    resident(&user)?;
    let rx = state.changes.subscribe();
    let me = user.user_id;
    let stopping = state.stopping.clone();
    let events = stream::unfold((rx, me, stopping), |(mut rx, me, mut stopping)| async move {
        loop {
            let received = tokio::select! {
                r = rx.recv() => r,
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            match received {
                // No accounts named: every open app (after the listener lost notifications).
                Ok(change) if change.user_ids.is_empty() || change.user_ids.contains(&me) => {
                    let data = serde_json::to_string(&change.event).unwrap_or_default();
                    return Some((Ok(Event::default().event("change").data(data)), (rx, me, stopping)));
                }
                Ok(_) => continue,
                // Fell behind: tell the app to refresh everything.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let data = r#"{"kind":"all","id":"","summary":""}"#;
                    return Some((Ok(Event::default().event("change").data(data)), (rx, me, stopping)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
