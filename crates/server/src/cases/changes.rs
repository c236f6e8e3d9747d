//! Changes pushed to open apps as server-sent events (`GET /api/v1/events`). In-process: with
//! several server processes each one only pushes its own changes, and the app's list is still
//! current at its next start or refresh (PostgreSQL LISTEN/NOTIFY would carry them across).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use jingtong_api::cases::ChangeEvent;
use jingtong_api::Problem;
use tokio::sync::broadcast;

use crate::auth::AuthUser;
use crate::error::ApiProblem;
use crate::payments::resident;
use crate::state::AppState;

/// One change and the accounts that should hear of it.
#[derive(Debug, Clone)]
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
    let _ = state.changes.send(Change { user_ids, event });
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
                Ok(change) if change.user_ids.contains(&me) => {
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
