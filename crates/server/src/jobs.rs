//! Durable background jobs in the database (`jobs` table), safe with several server processes: a
//! job is claimed by one conditional UPDATE that sets a lease (`locked_until`); PostgreSQL skips rows
//! another process holds (`FOR UPDATE SKIP LOCKED`), SQLite serialises writers. Time is the server
//! clock, so tests move time and call [`run_due`] instead of waiting.

use serde_json::Value;

use crate::db::Backend;
use crate::moves;
use crate::payments;
use crate::state::AppState;

/// A claimed job is not claimed again for this long (a process that died mid-job is retried then).
const LEASE_MS: i64 = 5 * 60_000;
/// At most this many attempts of a job that keeps failing, except deliveries (their own schedule).
pub const MAX_ATTEMPTS: i64 = 10;
/// A failed job waits this long times its attempts before the next.
pub const RETRY_STEP_MS: i64 = 30_000;

/// Skips rows another process has claimed: PostgreSQL's row locks; SQLite has one writer anyway.
pub fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

/// What a job asks for after it ran.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Not a failure: look again at this time (e.g. reconciliation of a still unpaid order).
    Again(i64),
}

pub async fn enqueue<'e, E>(ex: E, kind: &str, payload: &Value, run_at: i64, now: i64) -> Result<String, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut ids = enqueue_all(ex, &[(kind, payload, run_at)], now).await?;
    Ok(ids.remove(0))
}

/// Several jobs in one statement (one round trip): `(kind, payload, run_at)` each.
pub async fn enqueue_all<'e, E>(ex: E, jobs: &[(&str, &Value, i64)], now: i64) -> Result<Vec<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let ids: Vec<String> = jobs.iter().map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let rows: Vec<String> = (0..jobs.len())
        .map(|i| {
            format!(
                "(${}, ${}, ${}, ${}, 0, NULL, NULL, NULL, ${})",
                5 * i + 1,
                5 * i + 2,
                5 * i + 3,
                5 * i + 4,
                5 * i + 5
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO jobs (id, kind, payload, run_at, attempts, locked_until, done_at, last_error, created_at) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, (kind, payload, run_at)) in ids.iter().zip(jobs) {
        query = query.bind(id.clone()).bind(kind.to_string()).bind(payload.to_string()).bind(*run_at).bind(now);
    }
    query.execute(ex).await?;
    Ok(ids)
}

struct Claimed {
    id: String,
    kind: String,
    payload: String,
    attempts: i64,
}

async fn claim(state: &AppState, now: i64) -> Result<Option<Claimed>, sqlx::Error> {
    let sql = crate::hot::due_job(skip_locked(state.db.backend));
    let _turn = state.db.write_turn().await?;
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now + LEASE_MS).bind(now).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|(id, kind, payload, attempts)| Claimed { id, kind, payload, attempts }))
}

/// Runs every job due now, one after another; returns how many ran.
pub async fn run_due(state: &AppState) -> usize {
    let mut ran = 0;
    // Bounded, so a job that keeps rescheduling itself for "now" cannot spin forever.
    while ran < 1000 {
        let now = state.now_ms();
        let job = match claim(state, now).await {
            Ok(Some(job)) => job,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "claiming a job failed");
                break;
            }
        };
        ran += 1;
        let result = run_one(state, &job).await;
        let now = state.now_ms();
        let update = match result {
            Ok(Outcome::Done) => {
                sqlx::query("UPDATE jobs SET done_at = $1, locked_until = NULL WHERE id = $2").bind(now).bind(&job.id)
            }
            Ok(Outcome::Again(at)) => {
                sqlx::query("UPDATE jobs SET run_at = $1, locked_until = NULL, attempts = attempts - 1 WHERE id = $2")
                    .bind(at)
                    .bind(&job.id)
            }
            Err(error) => {
                let retry_in = retry_delay_ms(&job.kind, job.attempts);
                tracing::info!(job_id = %job.id, kind = %job.kind, attempts = job.attempts, %error, "job failed");
                match retry_in {
                    Some(delay) => {
                        sqlx::query("UPDATE jobs SET run_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3")
                            .bind(now + delay)
                            .bind(error)
                            .bind(&job.id)
                    }
                    None => {
                        tracing::warn!(job_id = %job.id, kind = %job.kind, "job gave up");
                        sqlx::query("UPDATE jobs SET done_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3")
                            .bind(now)
                            .bind(format!("gave up: {error}"))
                            .bind(&job.id)
                    }
                }
            }
        };
        let recorded = match state.db.write_turn().await {
            Ok(_turn) => update.execute(&state.db.pool).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "recording a job's result failed");
        }
    }
    ran
}

/// `None` when the job has used its attempts.
fn retry_delay_ms(kind: &str, attempts: i64) -> Option<i64> {
    if kind == payments::provider::DELIVERY_JOB {
        let i = usize::try_from(attempts - 1).ok()?;
        return payments::provider::DELIVERY_BACKOFF_SECONDS.get(i).map(|s| s * 1000);
    }
    (attempts < MAX_ATTEMPTS).then(|| RETRY_STEP_MS * attempts.max(1))
}

async fn run_one(state: &AppState, job: &Claimed) -> Result<Outcome, String> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let field = |name: &str| payload[name].as_str().map(str::to_owned).ok_or_else(|| format!("payload has no {name}"));
    match job.kind.as_str() {
        payments::provider::DELIVERY_JOB => {
            let provider = state.local_provider.as_ref().ok_or("no local provider")?;
            provider.deliver(&field("prepay_id")?).await.map(|()| Outcome::Done)
        }
        payments::orders::EXPIRY_JOB => {
            payments::orders::expire(state, &field("order_id")?).await.map_err(|e| e.to_string())?;
            Ok(Outcome::Done)
        }
        payments::refunds::REFUND_JOB => payments::refunds::run(state, &field("order_id")?).await,
        payments::orders::CLOSE_AT_PROVIDER_JOB => {
            payments::orders::close_at_provider(state, &field("order_id")?).await.map(|()| Outcome::Done)
        }
        payments::settle::RECONCILE_JOB => payments::settle::reconcile(state, &field("order_id")?).await,
        moves::notify::ESCALATE_JOB => {
            moves::notify::escalate_job(state, &field("move_id")?).await.map(|()| Outcome::Done)
        }
        moves::notify::REMINDER_OPEN_JOB => {
            moves::notify::reminder_open_job(state, &field("move_id")?).await.map(|()| Outcome::Done)
        }
        moves::notify::ERASE_PHOTOS_JOB => {
            moves::notify::erase_photos_job(state, &field("move_id")?).await.map(|()| Outcome::Done)
        }
        other => Err(format!("unknown job kind {other}")),
    }
}

/// Runs what is due: queued SMS in batches ([`crate::sms::deliver_due`]), then the other jobs one by one.
pub async fn run_all_due(state: &AppState) -> usize {
    // A read first: the runner is woken after many commits, and a claim (an UPDATE) takes SQLite's
    // one write lock even when nothing matches.
    let now = state.now_ms();
    let due: Result<Option<(i64,)>, _> = sqlx::query_as(
        "SELECT 1 FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&state.db.pool)
    .await;
    if matches!(due, Ok(None)) {
        return 0;
    }
    crate::sms::deliver_due(state).await + run_due(state).await
}

/// The background runner: every half second (real time), and at once when woken
/// ([`AppState::wake_jobs`]), runs what is due by the server clock.
pub fn spawn_runner(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = state.jobs_due.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            }
            run_all_due(&state).await;
        }
    })
}
