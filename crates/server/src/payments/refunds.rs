//! Money that reached an order we had closed (withdrawn application, expired order) goes back to the
//! payer: a durable job asks the provider for the refund and records it once.
//!
//! The job is enqueued in the transaction that flags the order `refund_required`, so a crash between
//! the two cannot lose it; the provider refunds once per `out_refund_no` (the order id), so a job run
//! twice cannot refund twice.

use super::provider::{NewRefund, ProviderError};
use super::settle::event;
use crate::audit::{self, Event, Kind};
use crate::jobs::{self, Outcome};
use crate::state::AppState;

pub const REFUND_JOB: &str = "refund_order";

/// Queues the refund of `order_id` (inside the caller's transaction).
pub async fn enqueue<'e, E>(ex: E, order_id: &str, now: i64) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    jobs::enqueue(ex, REFUND_JOB, &serde_json::json!({ "order_id": order_id }), now, now).await.map(|_| ())
}

/// The refund number the provider sees: one per order, so retries are one refund.
fn out_refund_no(order_id: &str) -> String {
    format!("RF-{order_id}")
}

/// One attempt: asks the provider, then marks the order refunded and appends the event, once.
pub async fn run(state: &AppState, order_id: &str) -> Result<Outcome, String> {
    let row: Option<(i64, Option<String>, String, String)> = sqlx::query_as(
        "SELECT amount_fen, flag, bill_id, user_id FROM payment_orders WHERE id = $1 AND refunded_at IS NULL",
    )
    .bind(order_id)
    .fetch_optional(&state.db.pool)
    .await
    .map_err(|e| e.to_string())?;
    let Some((amount_fen, flag, bill_id, user_id)) = row else { return Ok(Outcome::Done) };
    if flag.as_deref() != Some("refund_required") {
        return Ok(Outcome::Done);
    }
    let asked = NewRefund {
        out_trade_no: order_id.to_owned(),
        out_refund_no: out_refund_no(order_id),
        amount_fen,
        reason: "订单已关闭，退回款项 / order closed: money returned".to_owned(),
    };
    let done = match state.provider.refund(&asked).await {
        Ok(done) => done,
        Err(ProviderError::Refused(why)) => {
            // Nothing to send back at the provider (it never took the money): a person looks at it.
            tracing::warn!(order_id, why = %why, "provider refused the refund: left for reconciliation");
            return Err(format!("provider refused: {why}"));
        }
        Err(e) => return Err(e.to_string()),
    };
    let now = state.now_ms();
    let mut tx = state.db.begin().await.map_err(|e| e.to_string())?;
    let marked = sqlx::query(
        "UPDATE payment_orders SET refunded_at = $1, flag = 'refunded'
         WHERE id = $2 AND refunded_at IS NULL AND flag = 'refund_required'",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut *tx)
    .await
    .map_err(|e| e.to_string())?
    .rows_affected();
    if marked == 1 {
        let reason = format!("refund {} of {amount_fen} fen", done.refund_id);
        event(&mut *tx, now, Some(order_id), Some(&bill_id), "refunded", "system", &reason)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    if marked == 1 {
        let e = Event { user_id: Some(&user_id), detail: Some(format!("{order_id} refunded")), ..Event::default() };
        audit::record(&state.db, Kind::PaymentRefunded, now, e).await.map_err(|e| e.to_string())?;
        tracing::info!(order_id, "money of a closed order refunded");
    }
    Ok(Outcome::Done)
}
