//! Scan to pay (扫码支付): bills, payment orders, provider notifications, receipts.
//!
//! Who may see a bill: a resident who scanned its code (`bill_holders`) or the registry person the
//! resident is verified as (`users.id_number_hash` = `registry_persons.id_number_hash`). The same rule
//! guards the bill's orders and receipt; everything else is 404, checked in the SQL.

pub mod keys;
pub mod orders;
pub mod provider;
pub mod refunds;
pub mod settle;
pub mod wechat;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use jingtong_api::bill::{self, BillCode, BillKind, BillNumber, DueItemKind};
use jingtong_api::page::PageQuery;
use jingtong_api::payments::{
    AmountDueView, BillKindView, BillStatus, BillView, DueLine, Receipt, ReceiptNumber, ScanRequest,
};
use jingtong_api::{ErrorCode, Lang, Page, Problem};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use tracing::instrument;

use crate::auth::{resident, AuthUser};
use crate::clock::rfc3339;
use crate::clock::{parse_date, shanghai_day};
use crate::error::{ApiJson, ApiProblem};
use crate::lang::lang;
use crate::paging::Paging;
use crate::state::AppState;

/// Purpose tag of the payer's name on a receipt.
pub const PAYER_NAME: &str = "payer_name";

/// The SQL condition "the bill `b` is visible to user `$uid`" (`$uid` is the placeholder passed in).
pub fn visible(uid: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM bill_holders h WHERE h.bill_id = b.id AND h.user_id = {uid})
          OR b.person_id IN (SELECT p.id FROM registry_persons p JOIN users u ON u.id_number_hash = p.id_number_hash
                             WHERE u.id = {uid}))"
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BillRow {
    pub id: String,
    pub person_id: String,
    pub bill_number: String,
    pub kind: String,
    pub decision_number: Option<String>,
    pub payee: String,
    pub description: String,
    pub amount_fen: i64,
    pub due_date: String,
    pub status: String,
    pub receipt_number: Option<String>,
}

pub const BILL_COLUMNS: &str = "b.id, b.person_id, b.bill_number, b.kind, b.decision_number, b.payee, b.description,
    b.amount_fen, b.due_date, b.status, b.receipt_number";

impl BillRow {
    pub fn is_fine(&self) -> bool {
        self.decision_number.is_some() || self.kind.ends_with("fine")
    }

    pub fn due_on(&self) -> Date {
        parse_date(&self.due_date).unwrap_or(Date::MIN)
    }
}

/// What the bill costs on `day`, with its lines in `lang`.
pub fn amount_due(bill: &BillRow, day: Date, lang: Lang) -> AmountDueView {
    if bill.is_fine() {
        let due = bill::amount_due(bill.amount_fen, bill.due_on(), day);
        AmountDueView {
            principal_fen: due.principal_fen,
            late_days: u32::try_from(due.late_days).unwrap_or(u32::MAX),
            late_fee_fen: due.late_fee_fen,
            capped: due.capped,
            total_fen: due.total_fen,
            lines: due
                .items
                .iter()
                .map(|i| DueLine {
                    kind: match i.kind {
                        DueItemKind::Fine => "fine",
                        DueItemKind::LateFee => "late_fee",
                    }
                    .to_owned(),
                    label: i.text(lang).to_owned(),
                    amount_fen: i.amount_fen,
                })
                .collect(),
            source: bill::FINE_RULES.source.to_owned(),
        }
    } else {
        let label = match lang {
            Lang::ZhCn => format!("{} {} 元", bill.description, bill::yuan(bill.amount_fen)),
            Lang::En => format!("{} ¥{}", bill.description, bill::yuan(bill.amount_fen)),
        };
        AmountDueView {
            principal_fen: bill.amount_fen,
            late_days: 0,
            late_fee_fen: 0,
            capped: false,
            total_fen: bill.amount_fen,
            lines: vec![DueLine { kind: "fee".to_owned(), label, amount_fen: bill.amount_fen }],
            source: match lang {
                Lang::ZhCn => "按缴款单所列金额缴纳".to_owned(),
                Lang::En => "The amount on the bill".to_owned(),
            },
        }
    }
}

/// The day an order's amount was computed on: the paid order's creation day, else today.
async fn priced_on(state: &AppState, bill: &BillRow) -> Result<Date, sqlx::Error> {
    if bill.status == "paid" {
        let created: Option<(i64,)> =
            sqlx::query_as("SELECT created_at FROM payment_orders WHERE bill_id = $1 AND status = 'paid'")
                .bind(&bill.id)
                .fetch_optional(&state.db.pool)
                .await?;
        if let Some((created,)) = created {
            return Ok(shanghai_day(created));
        }
    }
    Ok(shanghai_day(state.now_ms()))
}

pub async fn view(state: &AppState, bill: &BillRow, lang: Lang) -> Result<BillView, sqlx::Error> {
    let now = state.now_ms();
    let open: Option<(String,)> =
        sqlx::query_as("SELECT id FROM payment_orders WHERE bill_id = $1 AND status = 'open' AND expires_at > $2")
            .bind(&bill.id)
            .bind(now)
            .fetch_optional(&state.db.pool)
            .await?;
    let day = priced_on(state, bill).await?;
    Ok(BillView {
        bill_id: bill.id.clone(),
        bill_number: bill.bill_number.clone(),
        kind: if bill.is_fine() { BillKindView::Fine } else { BillKindView::Fee },
        decision_number: bill.decision_number.clone(),
        payee: bill.payee.clone(),
        description: bill.description.clone(),
        due_on: bill.due_date.clone(),
        status: match bill.status.as_str() {
            "paid" => BillStatus::Paid,
            "cancelled" => BillStatus::Cancelled,
            _ => BillStatus::Unpaid,
        },
        amount_due: amount_due(bill, day, lang),
        open_order_id: open.map(|(id,)| id),
        receipt_number: bill.receipt_number.clone(),
    })
}

/// The bill if `user_id` may see it.
pub async fn visible_bill(state: &AppState, bill_id: &str, user_id: &str) -> Result<Option<BillRow>, sqlx::Error> {
    let sql = format!("SELECT {BILL_COLUMNS} FROM bills b WHERE b.id = $1 AND {}", visible("$2"));
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(bill_id).bind(user_id).fetch_optional(&state.db.pool).await
}

/// Reads a scanned bill code, checks it against the bill on file and lets the resident see and pay it.
#[utoipa::path(
    post, path = "/api/v1/bills/scan", operation_id = "scan_bill", tag = "payments",
    security(("bearer" = [])),
    request_body = ScanRequest,
    responses(
        (status = 200, description = "The bill, with what is due today", body = BillView),
        (status = 400, description = "`bill_code_foreign`, `bill_code_invalid` (also: no such bill, or the code does not \
            match the bill on file), `bill_code_version_unsupported`, `bill_code_issuer_unknown`, \
            `bill_code_signature_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not a resident account", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`bill_code_expired`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn scan_bill(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ScanRequest>,
) -> Result<Json<BillView>, ApiProblem> {
    resident(&user)?;
    let now = state.now_ms();
    let code = BillCode::parse(&body.code, &state.issuer.trusted, shanghai_day(now)).map_err(|e| {
        tracing::info!(reason = %e, "bill code refused");
        ApiProblem::new(e.code())
    })?;
    let row: Option<BillRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {BILL_COLUMNS} FROM bills b WHERE b.bill_number = $1")))
            .bind(code.number.as_str())
            .fetch_optional(&state.db.pool)
            .await?;
    let matches = |b: &BillRow| {
        let decision_ok = match &code.kind {
            BillKind::Fine { decision_number } => b.decision_number.as_deref() == Some(decision_number.as_str()),
            BillKind::Fee => b.decision_number.is_none(),
        };
        b.amount_fen == code.amount_fen && b.due_on() == code.due_on && decision_ok
    };
    let Some(bill) = row.filter(matches) else {
        tracing::info!("signed bill code does not match a bill on file");
        return Err(ApiProblem::new(ErrorCode::BillCodeInvalid));
    };
    sqlx::query("INSERT INTO bill_holders (user_id, bill_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(&user.user_id)
        .bind(&bill.id)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    tracing::info!(bill_id = %bill.id, "bill scanned");
    Ok(Json(view(&state, &bill, lang(&headers)).await?))
}

/// The resident's bills: scanned ones and those of the person the account is verified as; newest due first.
#[utoipa::path(
    get, path = "/api/v1/bills", operation_id = "list_bills", tag = "payments",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "Newest due date first", body = Page<BillView>),
        (status = 400, description = "`invalid_page`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn list_bills(
    State(state): State<AppState>,
    user: AuthUser,
    paging: Paging,
    headers: HeaderMap,
) -> Result<Json<Page<BillView>>, ApiProblem> {
    resident(&user)?;
    let sql = format!(
        "SELECT {BILL_COLUMNS} FROM bills b WHERE {} {} ORDER BY b.due_date DESC, b.id DESC LIMIT $2",
        visible("$1"),
        paging.condition("b.due_date, b.id", "<", 3)
    );
    let mut q = sqlx::query_as::<_, BillRow>(sqlx::AssertSqlSafe(sql)).bind(&user.user_id).bind(paging.fetch());
    if let Some(a) = &paging.after {
        q = q.bind(&a.key).bind(&a.id);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |b| (b.due_date.clone(), b.id.clone()));
    let lang = lang(&headers);
    let mut items = Vec::with_capacity(rows.len());
    for b in &rows {
        items.push(view(&state, b, lang).await?);
    }
    Ok(Json(Page { items, next_cursor }))
}

/// One bill of the resident's.
#[utoipa::path(
    get, path = "/api/v1/bills/{bill_id}", operation_id = "get_bill", tag = "payments",
    security(("bearer" = [])),
    params(("bill_id" = String, Path, description = "The bill's id")),
    responses(
        (status = 200, description = "The bill", body = BillView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such bill of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn get_bill(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(bill_id): Path<String>,
) -> Result<Json<BillView>, ApiProblem> {
    resident(&user)?;
    let bill =
        visible_bill(&state, &bill_id, &user.user_id).await?.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    Ok(Json(view(&state, &bill, lang(&headers)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BillCodeQuery {
    /// 16 digits.
    pub bill_number: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DevBillCode {
    /// `JTB1.…`, to render as a QR code.
    pub code: String,
}

/// Demo only: the signed QR text of a bill, so the demo and the E2E tests can show its code.
#[utoipa::path(
    get, path = "/api/v1/dev/bill-codes", operation_id = "dev_bill_code", tag = "payments",
    params(BillCodeQuery),
    responses(
        (status = 200, description = "The code", body = DevBillCode),
        (status = 400, description = "`bill_number_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn dev_bill_code(
    State(state): State<AppState>,
    Query(q): Query<BillCodeQuery>,
) -> Result<Json<DevBillCode>, ApiProblem> {
    let number = BillNumber::parse(&q.bill_number).map_err(ApiProblem::new)?;
    let row: Option<BillRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {BILL_COLUMNS} FROM bills b WHERE b.bill_number = $1")))
            .bind(number.as_str())
            .fetch_optional(&state.db.pool)
            .await?;
    let bill = row.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    Ok(Json(DevBillCode { code: sign_bill_code(&state, &bill)? }))
}

/// Signs the bill's QR text with the server's issuer key, valid for a year from today.
pub fn sign_bill_code(state: &AppState, bill: &BillRow) -> Result<String, ApiProblem> {
    let now = state.now_ms();
    let code = BillCode {
        issuer: state.issuer.key_id.clone(),
        kind: match &bill.decision_number {
            Some(d) => BillKind::Fine { decision_number: d.clone() },
            None => BillKind::Fee,
        },
        number: BillNumber::parse(&bill.bill_number)
            .map_err(|_| ApiProblem::internal(&"bill number on file is invalid"))?,
        amount_fen: bill.amount_fen,
        due_on: bill.due_on(),
        issued_at: OffsetDateTime::from_unix_timestamp(now.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        expires_on: shanghai_day(now) + time::Duration::days(365),
    };
    code.sign(&state.issuer.key).map_err(|e| ApiProblem::internal(&e))
}

/// An e-receipt of a bill the resident may see.
#[utoipa::path(
    get, path = "/api/v1/receipts/{receipt_number}", operation_id = "get_receipt", tag = "payments",
    security(("bearer" = [])),
    params(("receipt_number" = String, Path, description = "`R` and 16 digits")),
    responses(
        (status = 200, description = "The receipt", body = Receipt),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such receipt of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn get_receipt(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(receipt_number): Path<String>,
) -> Result<Json<Receipt>, ApiProblem> {
    resident(&user)?;
    let number = ReceiptNumber::parse(&receipt_number).map_err(|_| ApiProblem::new(ErrorCode::NotFound))?;
    let sql = format!(
        "SELECT {BILL_COLUMNS}, r.payer_name_enc, r.amount_fen AS paid_fen, r.paid_at, r.verify_code, o.created_at
         FROM receipts r JOIN bills b ON b.id = r.bill_id JOIN payment_orders o ON o.id = r.order_id
         WHERE r.receipt_number = $1 AND {}",
        visible("$2")
    );
    let found: Option<ReceiptRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(number.as_str())
        .bind(&user.user_id)
        .fetch_optional(&state.db.pool)
        .await?;
    let r = found.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    let payer = state.keys.decrypt_string(PAYER_NAME, &r.payer_name_enc).unwrap_or_default();
    let bill = BillRow {
        id: r.id,
        person_id: r.person_id,
        bill_number: r.bill_number,
        kind: r.kind,
        decision_number: r.decision_number,
        payee: r.payee,
        description: r.description,
        amount_fen: r.amount_fen,
        due_date: r.due_date,
        status: r.status,
        receipt_number: r.receipt_number,
    };
    let due = amount_due(&bill, shanghai_day(r.created_at), lang(&headers));
    Ok(Json(Receipt {
        receipt_number: number.as_str().to_owned(),
        bill_number: bill.bill_number,
        payee: bill.payee,
        payer_masked: mask_name(&payer),
        lines: due.lines,
        amount_fen: r.paid_fen,
        paid_at: rfc3339(r.paid_at),
        verify_code: r.verify_code,
    }))
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    id: String,
    person_id: String,
    bill_number: String,
    kind: String,
    decision_number: Option<String>,
    payee: String,
    description: String,
    amount_fen: i64,
    due_date: String,
    status: String,
    receipt_number: Option<String>,
    payer_name_enc: Vec<u8>,
    paid_fen: i64,
    paid_at: i64,
    verify_code: String,
    created_at: i64,
}

/// `演示用户甲` → `演***甲`; two characters → `演*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_names() {
        assert_eq!(mask_name("演示用户甲"), "演***甲");
        assert_eq!(mask_name("王五"), "王*");
        assert_eq!(mask_name(""), "");
    }
}
