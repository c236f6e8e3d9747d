//! Payment providers. [`PaymentProvider`] is what the server needs of one (create an order, query it,
//! close it); [`LocalProvider`] plays a provider in the shape of WeChat Pay API v3 with its own tables
//! (`provider_orders`), its own keys, a payer page (demo routes) and notifications it delivers as
//! durable jobs with WeChat's retry schedule.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jingtong_api::bill::yuan;
use jingtong_api::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::keys::ProviderKeys;
use super::wechat::{self, Amount, NotifyParams, Transaction};
use crate::clock::{rfc3339, Clock};
use crate::db::Db;
use crate::error::ApiProblem;
use crate::headers::escape;
use crate::jobs;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("provider refused: {0}")]
    Refused(String),
}

/// What the merchant asks the provider to collect.
#[derive(Debug, Clone)]
pub struct NewProviderOrder {
    /// Our payment order id.
    pub out_trade_no: String,
    pub description: String,
    pub payee: String,
    pub amount_fen: i64,
    pub notify_url: String,
}

/// What the merchant asks the provider to send back (WeChat Pay: `POST /v3/refund/domestic/refunds`).
#[derive(Debug, Clone)]
pub struct NewRefund {
    pub out_trade_no: String,
    /// The merchant's refund number: asking twice with the same one refunds once.
    pub out_refund_no: String,
    pub amount_fen: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundDone {
    pub refund_id: String,
}

#[derive(Debug, Clone)]
pub struct Prepay {
    pub prepay_id: String,
    /// The page where the payer confirms.
    pub pay_url: String,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Creates (or, for the same `out_trade_no`, returns) the provider's order.
    async fn create_order(&self, order: &NewProviderOrder) -> Result<Prepay, ProviderError>;
    /// The provider's view of the order; `None` if it does not know it.
    async fn query_order(&self, out_trade_no: &str) -> Result<Option<Transaction>, ProviderError>;
    /// Closes an unpaid order so the payer can no longer pay it. Closing a paid order does nothing.
    async fn close_order(&self, out_trade_no: &str) -> Result<(), ProviderError>;
    /// Sends money of a paid order back to the payer, once per `out_refund_no`. Refused when the
    /// provider holds no money for the order.
    async fn refund(&self, refund: &NewRefund) -> Result<RefundDone, ProviderError>;
}

/// Kind of the provider's notification delivery job.
pub const DELIVERY_JOB: &str = "provider_notify";

/// WeChat Pay's notification retry intervals: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h.
pub const DELIVERY_BACKOFF_SECONDS: [i64; 15] =
    [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

#[derive(sqlx::FromRow)]
struct PaidRow {
    out_trade_no: String,
    notify_url: String,
    transaction_id: Option<String>,
    amount_total: i64,
    success_time: Option<i64>,
}

pub struct LocalProvider {
    db: Db,
    clock: Arc<dyn Clock>,
    keys: Arc<ProviderKeys>,
    base_url: String,
    http: reqwest::Client,
}

impl LocalProvider {
    pub fn new(db: Db, clock: Arc<dyn Clock>, keys: Arc<ProviderKeys>, base_url: String) -> LocalProvider {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        LocalProvider { db, clock, keys, base_url, http }
    }

    /// The payer confirms: the order becomes SUCCESS once, and a notification delivery is enqueued.
    /// `Ok(false)` when the order is unknown or not payable (closed or already paid).
    pub async fn confirm(&self, prepay_id: &str) -> Result<bool, ProviderError> {
        let now = self.clock.now_ms();
        let transaction_id = format!("4200{}", uuid::Uuid::now_v7().simple());
        let mut tx = self.db.begin().await?;
        let paid = sqlx::query(
            "UPDATE provider_orders SET trade_state = 'SUCCESS', transaction_id = $1, success_time = $2
             WHERE prepay_id = $3 AND trade_state = 'NOTPAY'",
        )
        .bind(&transaction_id)
        .bind(now)
        .bind(prepay_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if paid == 1 {
            jobs::enqueue(&mut *tx, DELIVERY_JOB, &serde_json::json!({ "prepay_id": prepay_id }), now, now).await?;
        }
        tx.commit().await?;
        Ok(paid == 1)
    }

    /// One delivery attempt of the notification for `prepay_id`: `Ok` on a 2xx answer.
    pub async fn deliver(&self, prepay_id: &str) -> Result<(), String> {
        let row: Option<PaidRow> = sqlx::query_as(
            "SELECT out_trade_no, notify_url, transaction_id, amount_total, success_time
             FROM provider_orders WHERE prepay_id = $1 AND trade_state = 'SUCCESS'",
        )
        .bind(prepay_id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(|e| e.to_string())?;
        let Some(PaidRow { out_trade_no, notify_url, transaction_id, amount_total: total, success_time }) = row else {
            return Ok(()); // nothing to tell
        };
        let params = NotifyParams {
            id: uuid::Uuid::now_v7().to_string(),
            timestamp: self.clock.now_ms().div_euclid(1000),
            nonce: wechat::random_nonce(32),
            transaction: Transaction {
                out_trade_no,
                transaction_id: transaction_id.unwrap_or_default(),
                trade_state: "SUCCESS".to_owned(),
                amount: Amount { total, currency: "CNY".to_owned() },
                success_time: rfc3339(success_time.unwrap_or_default()),
            },
        };
        let n = wechat::build_notification(&self.keys, &params);
        let mut req = self.http.post(&notify_url).header("content-type", "application/json");
        for (name, value) in &n.headers {
            req = req.header(*name, value);
        }
        let res = req.body(n.body).send().await.map_err(|e| format!("delivery failed: {e}"))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("merchant answered {}", res.status()))
        }
    }

    async fn page_row(&self, prepay_id: &str) -> Result<Option<(String, String, i64, String)>, sqlx::Error> {
        sqlx::query_as("SELECT description, payee, amount_total, trade_state FROM provider_orders WHERE prepay_id = $1")
            .bind(prepay_id)
            .fetch_optional(&self.db.pool)
            .await
    }
}

#[async_trait]
impl PaymentProvider for LocalProvider {
    async fn create_order(&self, order: &NewProviderOrder) -> Result<Prepay, ProviderError> {
        let prepay_id =
            format!("wx{}", rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect::<String>());
        sqlx::query(
            "INSERT INTO provider_orders (prepay_id, out_trade_no, description, payee, amount_total, notify_url,
               trade_state, transaction_id, success_time, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'NOTPAY', NULL, NULL, $7) ON CONFLICT (out_trade_no) DO NOTHING",
        )
        .bind(&prepay_id)
        .bind(&order.out_trade_no)
        .bind(&order.description)
        .bind(&order.payee)
        .bind(order.amount_fen)
        .bind(&order.notify_url)
        .bind(self.clock.now_ms())
        .execute(&self.db.pool)
        .await?;
        let (prepay_id, amount): (String, i64) =
            sqlx::query_as("SELECT prepay_id, amount_total FROM provider_orders WHERE out_trade_no = $1")
                .bind(&order.out_trade_no)
                .fetch_one(&self.db.pool)
                .await?;
        if amount != order.amount_fen {
            return Err(ProviderError::Refused("out_trade_no reused with another amount".to_owned()));
        }
        let pay_url = format!("{}/api/v1/dev/provider/pay/{prepay_id}", self.base_url);
        Ok(Prepay { prepay_id, pay_url })
    }

    async fn query_order(&self, out_trade_no: &str) -> Result<Option<Transaction>, ProviderError> {
        let row: Option<(String, Option<String>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT trade_state, transaction_id, amount_total, success_time FROM provider_orders WHERE out_trade_no = $1",
        )
        .bind(out_trade_no)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|(trade_state, transaction_id, total, success_time)| Transaction {
            out_trade_no: out_trade_no.to_owned(),
            transaction_id: transaction_id.unwrap_or_default(),
            trade_state,
            amount: Amount { total, currency: "CNY".to_owned() },
            success_time: success_time.map(rfc3339).unwrap_or_default(),
        }))
    }

    async fn close_order(&self, out_trade_no: &str) -> Result<(), ProviderError> {
        sqlx::query(
            "UPDATE provider_orders SET trade_state = 'CLOSED' WHERE out_trade_no = $1 AND trade_state = 'NOTPAY'",
        )
        .bind(out_trade_no)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    async fn refund(&self, refund: &NewRefund) -> Result<RefundDone, ProviderError> {
        let mut tx = self.db.begin().await?;
        // The order's money becomes a refund once: SUCCESS → REFUND, in the statement that checks it.
        let paid: Option<(i64,)> = sqlx::query_as(
            "UPDATE provider_orders SET trade_state = 'REFUND'
             WHERE out_trade_no = $1 AND trade_state IN ('SUCCESS', 'REFUND') RETURNING amount_total",
        )
        .bind(&refund.out_trade_no)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((total,)) = paid else {
            return Err(ProviderError::Refused("the order holds no money to refund".to_owned()));
        };
        if refund.amount_fen <= 0 || refund.amount_fen > total {
            return Err(ProviderError::Refused("refund amount exceeds the order's".to_owned()));
        }
        let refund_id = format!("5030{}", uuid::Uuid::now_v7().simple());
        sqlx::query(
            "INSERT INTO provider_refunds (out_refund_no, refund_id, out_trade_no, amount_refund, reason, status, created_at)
             VALUES ($1, $2, $3, $4, $5, 'SUCCESS', $6) ON CONFLICT (out_refund_no) DO NOTHING",
        )
        .bind(&refund.out_refund_no)
        .bind(&refund_id)
        .bind(&refund.out_trade_no)
        .bind(refund.amount_fen)
        .bind(&refund.reason)
        .bind(self.clock.now_ms())
        .execute(&mut *tx)
        .await?;
        let (refund_id, out_trade_no): (String, String) =
            sqlx::query_as("SELECT refund_id, out_trade_no FROM provider_refunds WHERE out_refund_no = $1")
                .bind(&refund.out_refund_no)
                .fetch_one(&mut *tx)
                .await?;
        if out_trade_no != refund.out_trade_no {
            return Err(ProviderError::Refused("out_refund_no reused for another order".to_owned()));
        }
        tx.commit().await?;
        Ok(RefundDone { refund_id })
    }
}

/// The answer of the demo confirm route.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProviderConfirmation {
    /// `SUCCESS` when this confirmation paid the order.
    pub trade_state: String,
}

fn local(state: &AppState) -> Result<&LocalProvider, ApiProblem> {
    state.local_provider.as_deref().ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}

/// Demo only: the local provider's payer page (payee, amount, a confirm button).
#[utoipa::path(
    get, path = "/api/v1/dev/provider/pay/{prepay_id}", operation_id = "dev_provider_pay_page", tag = "payments",
    params(("prepay_id" = String, Path, description = "From the order's pay_url")),
    responses(
        (status = 200, description = "HTML page", body = String, content_type = "text/html"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn pay_page(State(state): State<AppState>, Path(prepay_id): Path<String>) -> Result<Response, ApiProblem> {
    let provider = local(&state)?;
    let Some((description, payee, amount, trade_state)) = provider.page_row(&prepay_id).await? else {
        return Err(ApiProblem::new(ErrorCode::NotFound));
    };
    let status = match trade_state.as_str() {
        "NOTPAY" => String::new(),
        "SUCCESS" => "<p id=\"state\">已支付 Paid</p>".to_owned(),
        "REFUND" => "<p id=\"state\">已退款 Refunded</p>".to_owned(),
        _ => "<p id=\"state\">订单已关闭 Closed</p>".to_owned(),
    };
    let button = if trade_state == "NOTPAY" {
        format!(
            "<form method=\"post\" action=\"/api/v1/dev/provider/pay/{id}/confirm\">\
             <button id=\"confirm\" type=\"submit\">确认支付 Confirm</button></form>",
            id = escape(&prepay_id)
        )
    } else {
        String::new()
    };
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>本地支付 Local pay</title></head>\
         <body><h1>本地支付（演示）</h1><p>收款方 Payee: <span id=\"payee\">{payee}</span></p>\
         <p>{description}</p><p>金额 Amount: ¥<span id=\"amount\">{amount}</span></p>{status}{button}</body></html>",
        payee = escape(&payee),
        description = escape(&description),
        amount = yuan(amount),
    );
    Ok(Html(html).into_response())
}

/// Demo only: the payer confirms; the provider marks the order paid and enqueues its notification.
#[utoipa::path(
    post, path = "/api/v1/dev/provider/pay/{prepay_id}/confirm", operation_id = "dev_provider_confirm", tag = "payments",
    params(("prepay_id" = String, Path, description = "From the order's pay_url")),
    responses(
        (status = 200, description = "Paid at the provider; the notification follows (an HTML page when the \
            request accepts text/html, as the pay page's form does)", body = ProviderConfirmation),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_request`: the order is closed or already paid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn confirm(
    State(state): State<AppState>,
    Path(prepay_id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiProblem> {
    let provider = local(&state)?;
    if provider.page_row(&prepay_id).await?.is_none() {
        return Err(ApiProblem::new(ErrorCode::NotFound));
    }
    // The page's form posts from a browser: it gets a page back; API clients get JSON.
    let browser =
        headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    match provider.confirm(&prepay_id).await {
        Ok(true) if browser => {
            tracing::info!("local provider: payer confirmed");
            Ok(Html(
                "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>支付成功 Paid</title></head>\
                 <body><h1 id=\"state\">支付成功 Paid</h1><p>请返回警通查看缴费结果。Return to Jingtong for the result.</p>\
                 </body></html>",
            )
            .into_response())
        }
        Ok(true) => {
            tracing::info!("local provider: payer confirmed");
            Ok((StatusCode::OK, axum::Json(ProviderConfirmation { trade_state: "SUCCESS".to_owned() })).into_response())
        }
        Ok(false) => {
            let mut p = ApiProblem::new(ErrorCode::InvalidRequest);
            p.status = Some(StatusCode::CONFLICT);
            Err(p)
        }
        Err(e) => Err(ApiProblem::internal(&e)),
    }
}
