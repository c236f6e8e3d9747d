//! Payment orders: at most one open order per bill (a partial unique index), closed after
//! `ORDER_TTL_SECONDS` by a durable job and lazily on read; a closed order can never be paid.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jingtong_api::payments::rules::ORDER_TTL_SECONDS;
use jingtong_api::payments::{OrderStatus, PaymentOrder};
use jingtong_api::{ErrorCode, Lang, Problem};
use tracing::instrument;

use super::provider::NewProviderOrder;
use super::settle::{self, RECONCILE_JOB};
use super::{amount_due, resident, shanghai_day, visible, visible_bill};
use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::crypto::sha256_hex;
use crate::error::ApiProblem;
use crate::idempotency;
use crate::jobs;
use crate::state::AppState;

pub const EXPIRY_JOB: &str = "order_expiry";
/// Reconciliation first looks at an order this long after it was made, then again as long after.
pub const RECONCILE_AFTER_MS: i64 = 60_000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub bill_id: String,
    pub user_id: String,
    pub amount_fen: i64,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub prepay_id: Option<String>,
    pub pay_url: String,
    pub receipt_number: Option<String>,
    pub refunded_at: Option<i64>,
}

pub const ORDER_COLUMNS: &str = "o.id, o.bill_id, o.user_id, o.amount_fen, o.status, o.created_at, o.expires_at, \
     o.prepay_id, o.pay_url, o.receipt_number, o.refunded_at";

impl OrderRow {
    pub fn to_api(&self) -> PaymentOrder {
        PaymentOrder {
            order_id: self.id.clone(),
            bill_id: self.bill_id.clone(),
            amount_fen: self.amount_fen,
            status: match self.status.as_str() {
                "paid" => OrderStatus::Paid,
                "open" => OrderStatus::Open,
                _ => OrderStatus::Closed,
            },
            expires_at: rfc3339(self.expires_at),
            pay_url: self.pay_url.clone(),
            receipt_number: self.receipt_number.clone(),
            refunded_at: self.refunded_at.map(rfc3339),
        }
    }
}

pub async fn load_order(state: &AppState, order_id: &str) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM payment_orders o WHERE o.id = $1")))
        .bind(order_id)
        .fetch_optional(&state.db.pool)
        .await
}

/// Closes the order if it is open and past its time; `true` if this call closed it. The provider is
/// told too, so the payer can no longer confirm it there.
pub async fn close_if_expired(state: &AppState, order_id: &str) -> Result<bool, sqlx::Error> {
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let closed = sqlx::query(
        "UPDATE payment_orders SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open' AND expires_at <= $1",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if closed == 1 {
        settle::event(
            &mut *tx,
            now,
            Some(order_id),
            None,
            "order_closed",
            "system",
            "expired: not paid within 2 hours",
        )
        .await?;
    }
    tx.commit().await?;
    if closed == 1 {
        tracing::info!(order_id, "payment order expired and closed");
        if let Err(e) = state.provider.close_order(order_id).await {
            tracing::warn!(order_id, error = %e, "closing the provider's order failed");
        }
    }
    Ok(closed == 1)
}

/// Kind of the job that tells the provider an order we closed is closed (retried until it answers).
pub const CLOSE_AT_PROVIDER_JOB: &str = "close_provider_order";

/// Tells the provider that `order_id` is closed: its page then refuses payment. Closing twice, or
/// closing an order the payer paid meanwhile, changes nothing there (that money is refunded when its
/// notification comes, see `refunds`).
pub async fn close_at_provider(state: &AppState, order_id: &str) -> Result<(), String> {
    state.provider.close_order(order_id).await.map_err(|e| e.to_string())
}

/// Closes an expired open order after asking the provider once more: money that arrived without a
/// notification settles the order instead of being refunded.
pub async fn expire(state: &AppState, order_id: &str) -> Result<(), sqlx::Error> {
    if let Err(e) = settle::reconcile(state, order_id).await {
        tracing::warn!(order_id, error = %e, "reconciliation before closing failed");
    }
    close_if_expired(state, order_id).await?;
    Ok(())
}

async fn close_expired_for_bill(state: &AppState, bill_id: &str) -> Result<(), sqlx::Error> {
    let expired: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM payment_orders WHERE bill_id = $1 AND status = 'open' AND expires_at <= $2")
            .bind(bill_id)
            .bind(state.now_ms())
            .fetch_all(&state.db.pool)
            .await?;
    for (id,) in expired {
        expire(state, &id).await?;
    }
    Ok(())
}

/// Creates the payment order of a bill for what is due today (Asia/Shanghai), or returns its open order.
#[utoipa::path(
    post, path = "/api/v1/bills/{bill_id}/payment-orders", operation_id = "create_payment_order", tag = "payments",
    security(("bearer" = [])),
    params(
        ("bill_id" = String, Path, description = "The bill to pay"),
        ("Idempotency-Key" = String, Header, description = "Required; a retry with the same key and body returns the first answer"),
    ),
    responses(
        (status = 201, description = "Order created; open `pay_url` to pay", body = PaymentOrder),
        (status = 200, description = "The bill's open order (one bill has at most one)", body = PaymentOrder),
        (status = 400, description = "`invalid_request`: no Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such bill of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`bill_already_paid` or `bill_cancelled`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`payment_order_pending`: another request is still opening the bill's order",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the payment provider does not answer", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, bill_id = %bill_id))]
pub async fn create_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(bill_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    resident(&user)?;
    let key = idempotency::key(&headers)?;
    // The request is the bill (no body): the same key for another bill is another request.
    let request_hash = sha256_hex(&format!("payment-order\n{bill_id}"));
    if let idempotency::Reservation::Replay { status, response } =
        idempotency::reserve(&state, &user.user_id, &key, &request_hash).await?
    {
        let order: PaymentOrder = serde_json::from_str(&response).map_err(|e| ApiProblem::internal(&e))?;
        return Ok((status, Json(order)).into_response());
    }
    match order_for_bill(&state, &user, &bill_id).await {
        Ok((status, order)) => {
            idempotency::complete(&state, &user.user_id, &key, status, &order).await?;
            Ok((status, Json(order)).into_response())
        }
        Err(problem) => {
            idempotency::release(&state, &user.user_id, &key).await?;
            Err(problem)
        }
    }
}

async fn open_order(state: &AppState, bill_id: &str) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM payment_orders o WHERE o.bill_id = $1 AND o.status = 'open'"
    )))
    .bind(bill_id)
    .fetch_optional(&state.db.pool)
    .await
}

/// How long a create waits for a racing create's order to get its `pay_url` from the provider.
const PAY_URL_WAIT_MS: u64 = 5_000;

/// The bill's open order once it is usable: an order another request has just inserted has no
/// `pay_url` until the provider answers, and an empty one must never be handed out (or stored under
/// an Idempotency-Key). `None` when there is no open order (any more); `payment_order_pending` (409)
/// if the provider is still busy after the wait.
async fn usable_open_order(state: &AppState, bill_id: &str) -> Result<Option<OrderRow>, ApiProblem> {
    for _ in 0..PAY_URL_WAIT_MS / 50 {
        match open_order(state, bill_id).await? {
            Some(o) if o.pay_url.is_empty() => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            other => return Ok(other),
        }
    }
    Err(ApiProblem::new(ErrorCode::PaymentOrderPending))
}

async fn order_for_bill(
    state: &AppState,
    user: &AuthUser,
    bill_id: &str,
) -> Result<(StatusCode, PaymentOrder), ApiProblem> {
    let bill =
        visible_bill(state, bill_id, &user.user_id).await?.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    match bill.status.as_str() {
        "paid" => return Err(ApiProblem::new(ErrorCode::BillAlreadyPaid)),
        "cancelled" => return Err(ApiProblem::new(ErrorCode::BillCancelled)),
        _ => {}
    }
    close_expired_for_bill(state, bill_id).await?;
    if let Some(open) = usable_open_order(state, bill_id).await? {
        return Ok((StatusCode::OK, open.to_api()));
    }
    let now = state.now_ms();
    let due = amount_due(&bill, shanghai_day(now), Lang::ZhCn);
    let order_id = uuid::Uuid::now_v7().to_string();
    let expires_at = now + i64::from(ORDER_TTL_SECONDS) * 1000;
    let mut tx = state.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO payment_orders (id, bill_id, user_id, amount_fen, lines, status, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(&order_id)
    .bind(bill_id)
    .bind(&user.user_id)
    .bind(due.total_fen)
    .bind(serde_json::to_string(&due).map_err(|e| ApiProblem::internal(&e))?)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // Another request opened one at the same moment: that one is the bill's order.
        drop(tx);
        let open =
            usable_open_order(state, bill_id).await?.ok_or_else(|| ApiProblem::new(ErrorCode::ServiceUnavailable))?;
        return Ok((StatusCode::OK, open.to_api()));
    }
    let reason = format!("amount {} fen due {}", due.total_fen, shanghai_day(now));
    settle::event(
        &mut *tx,
        now,
        Some(&order_id),
        Some(bill_id),
        "order_created",
        &format!("user:{}", user.user_id),
        &reason,
    )
    .await?;
    jobs::enqueue(&mut *tx, EXPIRY_JOB, &serde_json::json!({ "order_id": order_id }), expires_at, now).await?;
    jobs::enqueue(&mut *tx, RECONCILE_JOB, &serde_json::json!({ "order_id": order_id }), now + RECONCILE_AFTER_MS, now)
        .await?;
    tx.commit().await?;

    let new = NewProviderOrder {
        out_trade_no: order_id.clone(),
        description: bill.description.clone(),
        payee: bill.payee.clone(),
        amount_fen: due.total_fen,
        notify_url: format!("{}/api/v1/payments/notify", state.base_url),
    };
    match state.provider.create_order(&new).await {
        Ok(prepay) => {
            sqlx::query("UPDATE payment_orders SET prepay_id = $1, pay_url = $2 WHERE id = $3")
                .bind(&prepay.prepay_id)
                .bind(&prepay.pay_url)
                .bind(&order_id)
                .execute(&state.db.pool)
                .await?;
        }
        Err(e) => {
            tracing::error!(error = %e, "provider did not create the order");
            let mut tx = state.db.begin().await?;
            sqlx::query(
                "UPDATE payment_orders SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'",
            )
            .bind(state.now_ms())
            .bind(&order_id)
            .execute(&mut *tx)
            .await?;
            settle::event(
                &mut *tx,
                state.now_ms(),
                Some(&order_id),
                None,
                "order_closed",
                "system",
                "provider refused",
            )
            .await?;
            tx.commit().await?;
            return Err(ApiProblem::new(ErrorCode::ServiceUnavailable));
        }
    }
    tracing::info!(order_id, amount_fen = due.total_fen, "payment order created");
    let order = load_order(state, &order_id).await?.ok_or_else(|| ApiProblem::internal(&"order vanished"))?;
    Ok((StatusCode::CREATED, order.to_api()))
}

/// The order as the server knows it: the app asks this for the truth after the provider page.
#[utoipa::path(
    get, path = "/api/v1/payment-orders/{order_id}", operation_id = "get_payment_order", tag = "payments",
    security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = PaymentOrder),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such order of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, order_id = %order_id))]
pub async fn get_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<PaymentOrder>, ApiProblem> {
    resident(&user)?;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM payment_orders o JOIN bills b ON b.id = o.bill_id WHERE o.id = $1 AND {}",
        visible("$2")
    );
    let found: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&order_id)
        .bind(&user.user_id)
        .fetch_optional(&state.db.pool)
        .await?;
    let order = found.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    if order.status == "open" && order.expires_at <= state.now_ms() {
        expire(&state, &order.id).await?;
        let order = load_order(&state, &order.id).await?.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
        return Ok(Json(order.to_api()));
    }
    Ok(Json(order.to_api()))
}
