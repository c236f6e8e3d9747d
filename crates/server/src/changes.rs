//! Changes pushed to open apps as server-sent events (`GET /api/v1/events`). On SQLite (one process)
//! a change goes straight to the process's broadcast; on PostgreSQL it goes out with NOTIFY and every
//! server process LISTENs, so an app hears of it whichever process it is connected to. The same way
//! goes the notice that a session ended, so its streams close in every process within a second.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use jingtong_api::cases::ChangeEvent;
use jingtong_api::Problem;
use tokio::sync::broadcast;

use crate::auth::{bearer, resident, tokens, AuthError, AuthUser};
use crate::db::Backend;
use crate::error::ApiProblem;
use crate::state::AppState;
use crate::streams::{self, Claim};

const CHANNEL: &str = "jingtong_changes";

/// One change and the accounts that should hear of it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub user_ids: Vec<String>,
    pub event: ChangeEvent,
}

/// What open streams hear, from this process or (PostgreSQL) any other.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    Change(Change),
    /// Sessions that ended (sign-out, a reused refresh token) and streams closed to make room.
    Ended {
        sessions: Vec<String>,
        streams: Vec<String>,
    },
    /// Notices may have been lost (the listener reconnected): every stream looks at its row.
    Recheck,
}

pub fn channel() -> broadcast::Sender<Notice> {
    broadcast::channel(1024).0
}

fn announce(state: &AppState, notice: Notice) {
    match state.db.backend {
        Backend::Sqlite => {
            let _ = state.changes.send(notice);
        }
        Backend::Postgres => {
            let (pool, payload) = (state.db.pool.clone(), serde_json::to_string(&notice).unwrap_or_default());
            tokio::spawn(async move {
                let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&pool).await;
                if let Err(e) = sent {
                    // A lost change shows at the app's next refresh; a lost end at the stream's next renewal.
                    tracing::warn!(error = %e, "a notice was not announced");
                }
            });
        }
    }
}

/// Tells the accounts' open apps; nobody listening is fine.
pub fn publish(state: &AppState, user_ids: Vec<String>, kind: &str, id: &str, summary: &str) {
    let event = ChangeEvent { kind: kind.to_owned(), id: id.to_owned(), summary: summary.to_owned() };
    announce(state, Notice::Change(Change { user_ids, event }));
}

/// Closes the open streams of these sessions, and these streams, in every process.
pub fn end_streams(state: &AppState, sessions: Vec<String>, streams: Vec<String>) {
    if !(sessions.is_empty() && streams.is_empty()) {
        announce(state, Notice::Ended { sessions, streams });
    }
}

/// PostgreSQL: LISTENs (before returning, so no change after start is missed) and forwards every
/// process's changes into this one's broadcast until the server stops; reconnects if the connection drops.
pub async fn listen(
    url: &str,
    changes: broadcast::Sender<Notice>,
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
                Ok(Some(n)) => match serde_json::from_str::<Notice>(n.payload()) {
                    Ok(notice) => {
                        let _ = changes.send(notice);
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable change notification"),
                },
                // The connection dropped (try_recv reconnects on the next call); notifications
                // in between are lost, so every open app is told to refresh everything, and every
                // stream looks whether its session ended meanwhile.
                Ok(None) => {
                    let event = ChangeEvent { kind: "all".into(), id: String::new(), summary: String::new() };
                    let _ = changes.send(Notice::Change(Change { user_ids: vec![], event }));
                    let _ = changes.send(Notice::Recheck);
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

/// A stream of this account's changes (`event: change`, data: [`ChangeEvent`] JSON), with a keep-alive.
/// It ends when its session ends (sign-out, a reused refresh token), when the access token it was
/// opened with expires (the app reconnects with a fresh one), or when a newer stream takes its place
/// ([`streams::PER_SESSION`] per session, [`streams::PER_ACCOUNT`] per account).
#[utoipa::path(
    get, path = "/api/v1/events", operation_id = "stream_changes", tag = "cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "Server-sent events: `change` with a ChangeEvent as data; the stream \
            ends with the session, with the access token, or when a newer stream of the session (over 3) or \
            account (over 10) takes its place", body = ChangeEvent, content_type = "text/event-stream"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream_changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: AuthUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiProblem> {
    resident(&user)?;
    // Subscribed before the claim looks at the session: an end announced after that is heard.
    let rx = state.changes.subscribe();
    let token = bearer(&headers).ok_or(AuthError::Unauthorized)?;
    let expires_at = tokens::access_expires_at(&state, token).await?.ok_or(AuthError::Unauthorized)?;
    let (claim, closing) =
        streams::open(&state, &user.user_id, &user.session_id).await?.ok_or(AuthError::Unauthorized)?;
    end_streams(&state, vec![], closing);
    let renew = tokio::time::interval_at(tokio::time::Instant::now() + streams::RENEW_EVERY, streams::RENEW_EVERY);
    let open = Open { rx, state, me: user.user_id, session: user.session_id, claim, expires_at, renew };
    let events = stream::unfold(open, |mut open| async move {
        let event = open.next().await?;
        Some((Ok(event), open))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One open stream; its claim goes when it is dropped.
struct Open {
    rx: broadcast::Receiver<Notice>,
    state: AppState,
    me: String,
    session: String,
    claim: Claim,
    expires_at: i64,
    renew: tokio::time::Interval,
}

impl Open {
    /// The next event to send, or `None` when the stream must end.
    async fn next(&mut self) -> Option<Event> {
        let mut stopping = self.state.stopping.clone();
        let all = || Event::default().event("change").data(r#"{"kind":"all","id":"","summary":""}"#);
        loop {
            let received = tokio::select! {
                r = self.rx.recv() => r,
                () = crate::clock::sleep_until(self.state.clock.as_ref(), self.expires_at) => return None,
                _ = self.renew.tick() => Ok(Notice::Recheck),
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            match received {
                // No accounts named: every open app (after the listener lost notifications).
                Ok(Notice::Change(change)) if change.user_ids.is_empty() || change.user_ids.contains(&self.me) => {
                    let data = serde_json::to_string(&change.event).unwrap_or_default();
                    return Some(Event::default().event("change").data(data));
                }
                Ok(Notice::Ended { sessions, streams })
                    if sessions.contains(&self.session) || streams.contains(&self.claim.id) =>
                {
                    return None;
                }
                Ok(Notice::Recheck) if !self.still_open().await => return None,
                Ok(_) => continue,
                // Fell behind: notices may be lost, so look at the session, and tell the app to refresh everything.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return self.still_open().await.then(all);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Renews the claim; `false` when the session ended or the stream was closed to make room. A
    /// database that does not answer keeps the stream open (its token still expires on time).
    async fn still_open(&self) -> bool {
        streams::renew(&self.state, &self.claim.id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "event stream: could not renew its claim");
            true
        })
    }
}
