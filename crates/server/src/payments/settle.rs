//! Settling an order exactly once, from a verified provider notification or from reconciliation.
//!
//! One conditional UPDATE (`status = 'open'` → `'paid'`) in a transaction that also marks the bill
//! paid, issues the receipt and appends the events: whichever of any number of concurrent
//! notifications runs it first changes the state; the others find nothing to change and answer 200.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jingtong_api::bill::BillNumber;
use jingtong_api::payments::rules::NOTIFY_WINDOW_SECONDS;
use jingtong_api::payments::{ReceiptCode, ReceiptNumber};
use jingtong_api::{ErrorCode, Problem};
use tracing::instrument;

use super::orders::load_order;
use super::wechat::{self, Notice, Refusal, Transaction};
use super::PAYER_NAME;
use crate::audit::{self, Event, Kind};
use crate::auth::ClientIp;
use crate::demo::NAME;
use crate::error::ApiProblem;
use crate::jobs::Outcome;
use crate::state::AppState;

pub const RECONCILE_JOB: &str = "reconcile_order";

/// Appends one payment event (append-only).
pub async fn event<'e, E>(
    ex: E,
    at: i64,
    order_id: Option<&str>,
    bill_id: Option<&str>,
    kind: &str,
    actor: &str,
    reason: &str,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO payment_events (id, at, order_id, bill_id, kind, actor, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(at)
    .bind(order_id.map(str::to_owned))
    .bind(bill_id.map(str::to_owned))
    .bind(kind)
    .bind(actor)
    .bind(reason)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// This call paid the order.
    Paid,
    /// Already paid: nothing changed.
    Duplicate,
    /// The order was closed before the money came: recorded and flagged for refund, not applied.
    LateAfterClose,
    /// The amount differs from the order: flagged, not paid.
    AmountMismatch,
    UnknownOrder,
}

/// Applies a successful transaction to our order, once.
pub async fn settle(state: &AppState, t: &Transaction, actor: &str) -> Result<Settled, sqlx::Error> {
    let Some(order) = load_order(state, &t.out_trade_no).await? else {
        return Ok(Settled::UnknownOrder);
    };
    let now = state.now_ms();
    if t.amount.total != order.amount_fen || t.amount.currency != "CNY" {
        let mut tx = state.db.begin().await?;
        let flagged = sqlx::query("UPDATE payment_orders SET flag = 'amount_mismatch' WHERE id = $1 AND flag IS NULL")
            .bind(&order.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let reason = format!(
            "amount mismatch: notified {} {}, order {} CNY",
            t.amount.total, t.amount.currency, order.amount_fen
        );
        event(&mut *tx, now, Some(&order.id), Some(&order.bill_id), "notification_refused", actor, &reason).await?;
        tx.commit().await?;
        if flagged == 1 {
            let e = Event {
                user_id: Some(&order.user_id),
                detail: Some(format!("{} amount_mismatch", order.id)),
                ..Event::default()
            };
            audit::record(&state.db, Kind::PaymentFlagged, now, e).await?;
        }
        tracing::warn!(order_id = %order.id, "notification amount does not match the order: flagged, not paid");
        return Ok(Settled::AmountMismatch);
    }
    let receipt_number = new_receipt_number();
    let paid_at = now;
    let mut tx = state.db.begin().await?;
    // The gate: only one caller can move the order from open to paid.
    let changed = sqlx::query(
        "UPDATE payment_orders SET status = 'paid', paid_at = $1, transaction_id = $2, receipt_number = $3
         WHERE id = $4 AND status = 'open'",
    )
    .bind(paid_at)
    .bind(&t.transaction_id)
    .bind(receipt_number.as_str())
    .bind(&order.id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        drop(tx);
        let current = load_order(state, &order.id).await?;
        if current.as_ref().is_some_and(|o| o.status == "paid") {
            let (paid_with,): (Option<String>,) =
                sqlx::query_as("SELECT transaction_id FROM payment_orders WHERE id = $1")
                    .bind(&order.id)
                    .fetch_one(&state.db.pool)
                    .await?;
            if paid_with.as_deref() != Some(t.transaction_id.as_str()) {
                // Another transaction for an order already paid: money came twice. Recorded for a refund.
                let reason = format!("second payment (transaction {}) for a paid order: refund", t.transaction_id);
                let (seen,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) AS n FROM payment_events WHERE order_id = $1 AND kind = 'second_payment' AND reason = $2",
                )
                .bind(&order.id)
                .bind(&reason)
                .fetch_one(&state.db.pool)
                .await?;
                if seen == 0 {
                    event(&state.db.pool, now, Some(&order.id), Some(&order.bill_id), "second_payment", actor, &reason)
                        .await?;
                    let detail = Some(format!("{} second_payment", order.id));
                    let e = Event { user_id: Some(&order.user_id), detail, ..Event::default() };
                    audit::record(&state.db, Kind::PaymentFlagged, now, e).await?;
                    tracing::warn!(order_id = %order.id, "a second payment for a paid order: flagged for refund");
                }
            }
            return Ok(Settled::Duplicate);
        }
        // Closed before the money came: never applied; recorded once and flagged for a refund.
        let mut tx = state.db.begin().await?;
        let flagged = sqlx::query(
            "UPDATE payment_orders SET flag = 'refund_required', transaction_id = $1 WHERE id = $2 AND status = 'closed'
               AND (flag IS NULL OR flag <> 'refund_required')",
        )
        .bind(&t.transaction_id)
        .bind(&order.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if flagged == 1 {
            let reason =
                format!("paid at the provider after the order closed (transaction {}): refund", t.transaction_id);
            event(&mut *tx, now, Some(&order.id), Some(&order.bill_id), "paid_after_close", actor, &reason).await?;
            super::refunds::enqueue(&mut *tx, &order.id, now).await?;
        }
        tx.commit().await?;
        if flagged == 1 {
            let e = Event {
                user_id: Some(&order.user_id),
                detail: Some(format!("{} refund_required", order.id)),
                ..Event::default()
            };
            audit::record(&state.db, Kind::PaymentFlagged, now, e).await?;
            tracing::warn!(order_id = %order.id, "money arrived for a closed order: flagged for refund");
            state.wake_jobs();
        }
        return Ok(Settled::LateAfterClose);
    }
    let bill_paid = sqlx::query(
        "UPDATE bills SET status = 'paid', paid_at = $1, receipt_number = $2 WHERE id = $3 AND status = 'unpaid'",
    )
    .bind(paid_at)
    .bind(receipt_number.as_str())
    .bind(&order.bill_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if bill_paid == 0 {
        // Cannot happen with one open order per bill and the paid check; if it does, pay nothing twice.
        drop(tx);
        tracing::error!(order_id = %order.id, "bill already paid by another order: notification not applied");
        return Ok(Settled::LateAfterClose);
    }
    let (bill_number, person_id): (String, String) =
        sqlx::query_as("SELECT bill_number, person_id FROM bills WHERE id = $1")
            .bind(&order.bill_id)
            .fetch_one(&mut *tx)
            .await?;
    let (name_enc,): (Vec<u8>,) = sqlx::query_as("SELECT name_enc FROM registry_persons WHERE id = $1")
        .bind(&person_id)
        .fetch_one(&mut *tx)
        .await?;
    let payer = state.keys.decrypt_string(NAME, &name_enc).unwrap_or_default();
    let lines: (String,) =
        sqlx::query_as("SELECT lines FROM payment_orders WHERE id = $1").bind(&order.id).fetch_one(&mut *tx).await?;
    let verify_code = ReceiptCode {
        issuer: state.issuer.key_id.clone(),
        receipt_number: receipt_number.clone(),
        bill_number: BillNumber::parse(&bill_number).map_err(|_| sqlx::Error::Protocol("bill number".into()))?,
        amount_fen: order.amount_fen,
        paid_at: paid_at.div_euclid(1000),
    }
    .sign(&state.issuer.key);
    sqlx::query(
        "INSERT INTO receipts (receipt_number, order_id, bill_id, user_id, payer_name_enc, lines, amount_fen, paid_at, verify_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(receipt_number.as_str())
    .bind(&order.id)
    .bind(&order.bill_id)
    .bind(&order.user_id)
    .bind(state.keys.encrypt(PAYER_NAME, payer.as_bytes()))
    .bind(&lines.0)
    .bind(order.amount_fen)
    .bind(paid_at)
    .bind(&verify_code)
    .execute(&mut *tx)
    .await?;
    let reason = format!("transaction {} of {} fen", t.transaction_id, order.amount_fen);
    event(&mut *tx, now, Some(&order.id), Some(&order.bill_id), "order_paid", actor, &reason).await?;
    event(
        &mut *tx,
        now,
        None,
        Some(&order.bill_id),
        "bill_paid",
        actor,
        &format!("receipt {}", receipt_number.as_str()),
    )
    .await?;
    // The same transaction moves an application whose fee this was: paid and submitted happen together.
    crate::applications::fee::on_paid(&mut tx, &order.bill_id, receipt_number.as_str(), now).await?;
    tx.commit().await?;
    tracing::info!(order_id = %order.id, "payment order settled");
    Ok(Settled::Paid)
}

fn new_receipt_number() -> ReceiptNumber {
    let body: String = (0..14).map(|_| char::from(b'0' + rand::random_range(0..10u8))).collect();
    ReceiptNumber::from_body(&body).expect("14 digits make a receipt number")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn refused(code: ErrorCode, why: &str) -> ApiProblem {
    tracing::warn!(why, "payment notification refused");
    ApiProblem::new(code)
}

fn refusal(why: Refusal) -> ApiProblem {
    let code = match why {
        Refusal::UnknownSerial | Refusal::BadSignature => ErrorCode::Unauthorized,
        _ => ErrorCode::InvalidRequest,
    };
    refused(code, why.detail())
}

/// The provider's asynchronous payment notification (WeChat Pay API v3 shape). No bearer token: the
/// platform signature, the timestamp window and a never-seen nonce authenticate it.
#[utoipa::path(
    post, path = "/api/v1/payments/notify", operation_id = "payment_notify", tag = "payments",
    params(
        ("Wechatpay-Timestamp" = String, Header, description = "Unix seconds"),
        ("Wechatpay-Nonce" = String, Header, description = "Random, used once"),
        ("Wechatpay-Serial" = String, Header, description = "Serial of the platform key that signed"),
        ("Wechatpay-Signature" = String, Header, description = "base64 RSA-SHA256 over timestamp\\nnonce\\nbody\\n"),
    ),
    request_body(content = String, content_type = "application/json",
        description = "{id, create_time, event_type, resource_type, resource: {algorithm, ciphertext, nonce, associated_data}}"),
    responses(
        (status = 200, description = "Accepted (also for a duplicate, which changes nothing)"),
        (status = 400, description = "`invalid_request`: timestamp outside the window, nonce seen before, unreadable \
            resource, unknown order or amount mismatch (flagged)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: unknown serial or bad signature", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn notify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiProblem> {
    let body = std::str::from_utf8(&body).map_err(|_| refused(ErrorCode::InvalidRequest, "body is not UTF-8"))?;
    let now = state.now_ms();
    let checked = {
        let h = |name| header(&headers, name).map(str::to_owned);
        let headers = wechat::Headers {
            timestamp: h(wechat::H_TIMESTAMP),
            nonce: h(wechat::H_NONCE),
            serial: h(wechat::H_SERIAL),
            signature: h(wechat::H_SIGNATURE),
        };
        let (merchant, body) = (state.merchant.clone(), body.to_owned());
        // RSA verification is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || {
            let platform = wechat::Platform {
                serial: &merchant.serial,
                key: &merchant.platform_public,
                window_seconds: i64::from(NOTIFY_WINDOW_SECONDS),
            };
            wechat::authenticate(&headers, &body, &platform, now.div_euclid(1000))
        })
        .await
        .map_err(|e| ApiProblem::internal(&e))?
    };
    let nonce = match checked {
        Ok(nonce) => nonce,
        Err(why) => {
            if matches!(why, Refusal::BadSignature | Refusal::OutsideWindow) {
                let e = Event { client_ip: ip, detail: Some(why.detail().to_owned()), ..Event::default() };
                audit::record(&state.db, Kind::PaymentNotifyRefused, now, e).await?;
            }
            return Err(refusal(why));
        }
    };
    let fresh = sqlx::query("INSERT INTO notify_nonces (nonce, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(&nonce)
        .bind(now)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    // Nonces older than twice the window can go: their timestamps would be refused anyway.
    sqlx::query("DELETE FROM notify_nonces WHERE seen_at < $1")
        .bind(now - 2 * i64::from(NOTIFY_WINDOW_SECONDS) * 1000)
        .execute(&state.db.pool)
        .await?;
    if fresh == 0 {
        let e = Event { client_ip: ip, detail: Some("notification nonce replayed".to_owned()), ..Event::default() };
        audit::record(&state.db, Kind::PaymentNotifyRefused, now, e).await?;
        return Err(refused(ErrorCode::InvalidRequest, "nonce seen before"));
    }
    let t = match wechat::read_body(body, &state.merchant.api_v3_key).map_err(refusal)? {
        Notice::Transaction(t) => t,
        Notice::Other(event_type) => {
            tracing::info!(event_type = %event_type, "notification of another event: acknowledged");
            return Ok(StatusCode::OK.into_response());
        }
    };
    if t.trade_state != "SUCCESS" {
        return Ok(StatusCode::OK.into_response());
    }
    match settle(&state, &t, "provider:notification").await? {
        Settled::Paid | Settled::Duplicate | Settled::LateAfterClose => Ok(StatusCode::OK.into_response()),
        Settled::AmountMismatch => Err(refused(ErrorCode::InvalidRequest, "amount mismatch")),
        Settled::UnknownOrder => Err(refused(ErrorCode::InvalidRequest, "unknown order")),
    }
}

/// Reconciliation of one order: if it is still open and no notification came, ask the provider and
/// settle as a notification would. Runs again every minute until the order is paid or closed.
pub async fn reconcile(state: &AppState, order_id: &str) -> Result<Outcome, String> {
    let order = load_order(state, order_id).await.map_err(|e| e.to_string())?;
    let Some(order) = order.filter(|o| o.status == "open") else {
        return Ok(Outcome::Done);
    };
    let t = state.provider.query_order(order_id).await.map_err(|e| e.to_string())?;
    match t {
        Some(t) if t.trade_state == "SUCCESS" => {
            let outcome = settle(state, &t, "system:reconciliation").await.map_err(|e| e.to_string())?;
            tracing::info!(order_id, ?outcome, "reconciliation settled the order");
            Ok(Outcome::Done)
        }
        _ if order.expires_at <= state.now_ms() => Ok(Outcome::Done),
        _ => Ok(Outcome::Again(state.now_ms() + super::orders::RECONCILE_AFTER_MS)),
    }
}
