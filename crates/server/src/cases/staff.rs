//! Officers (role `officer`, staff sign-in): register a case from a report (the receipt number and
//! query code to print), append public events and change the status.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use jingtong_api::auth::Role;
use jingtong_api::cases::{CaseRegistered, CaseStatus, NewCase, NewCaseEvent, QUERY_CODE_ALPHABET};
use jingtong_api::{ErrorCode, IdNumber, Phone, Problem};
use rand::Rng;
use tracing::instrument;

use super::case_followers;
use super::QUERY_CODE;
use crate::auth::AuthUser;
use crate::changes::publish;
use crate::demo::ID_NUMBER;
use crate::error::{ApiJson, ApiProblem};
use crate::sms::PHONE;
use crate::state::AppState;

const TEXT_MAX_CHARS: usize = 200;

/// A signed-in officer; anyone else is 401 or 403 before the body is read.
pub struct Officer(pub AuthUser);

impl FromRequestParts<AppState> for Officer {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        crate::auth::with_role(parts, state, Role::Officer).await.map(Officer)
    }
}

fn new_query_code() -> String {
    let mut rng = rand::rng();
    (0..6).map(|_| char::from(QUERY_CODE_ALPHABET[rng.random_range(0..QUERY_CODE_ALPHABET.len())])).collect()
}

/// 10 random digits and two check digits: receipts do not run in sequence.
fn new_receipt_number() -> String {
    let body = format!("{:010}", rand::rng().random_range(0..10_000_000_000u64));
    jingtong_api::cases::receipt_number_from_body(&body).expect("10 digits make a receipt number")
}

/// One required text field, normalised as stored, or the problem naming it.
fn text(field: &'static str, s: &str) -> Result<String, ApiProblem> {
    jingtong_api::text::required(s, TEXT_MAX_CHARS).map_err(|code| ApiProblem::new(code).field(field, code))
}

/// Stores a case with its receipt number and query code (only the code's keyed hash is kept).
pub async fn insert_case(
    state: &AppState,
    person_id: &str,
    receipt_number: &str,
    query_code: &str,
    phone: &Phone,
    fields: (&str, &str, &str, &str),
    at: i64,
) -> Result<String, sqlx::Error> {
    let (kind, title, station, officer) = fields;
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO cases (id, person_id, receipt_number, kind, title, status, reported_at, station, officer,
           query_code_hash, phone_enc, status_changed_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'received', $6, $7, $8, $9, $10, $6, $6)",
    )
    .bind(&id)
    .bind(person_id)
    .bind(receipt_number)
    .bind(kind)
    .bind(title)
    .bind(at)
    .bind(station)
    .bind(officer)
    .bind(state.keys.keyed_hash(QUERY_CODE, &format!("{receipt_number}:{query_code}")))
    .bind(state.keys.encrypt(PHONE, phone.as_str().as_bytes()))
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO case_events (id, case_id, at, status, text) VALUES ($1, $2, $3, 'received', $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&id)
        .bind(at)
        .bind(format!("{station} 已受理您的报案"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Registers a case from a report and answers what the receipt prints.
#[utoipa::path(
    post, path = "/api/v1/staff/cases", operation_id = "register_case", tag = "staff", security(("bearer" = [])),
    request_body = NewCase,
    responses(
        (status = 201, description = "Registered: print the receipt number and query code", body = CaseRegistered),
        (status = 400, description = "A field is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an officer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`identity_not_found`: no such person in the registry", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn register_case(
    State(state): State<AppState>,
    Officer(_officer): Officer,
    ApiJson(req): ApiJson<NewCase>,
) -> Result<(StatusCode, Json<CaseRegistered>), ApiProblem> {
    let id_number = IdNumber::parse(&req.reporter_id_number)
        .map_err(|c| ApiProblem::new(ErrorCode::InvalidRequest).field("reporter_id_number", c))?;
    let phone = Phone::parse(&req.reporter_phone)
        .map_err(|c| ApiProblem::new(ErrorCode::InvalidRequest).field("reporter_phone", c))?;
    let (kind, title) = (text("kind", &req.kind)?, text("title", &req.title)?);
    let (station, officer) = (text("station", &req.station)?, text("officer", &req.officer)?);
    let person: Option<(String,)> = sqlx::query_as("SELECT id FROM registry_persons WHERE id_number_hash = $1")
        .bind(state.keys.keyed_hash(ID_NUMBER, id_number.as_str()))
        .fetch_optional(&state.db.pool)
        .await?;
    let (person_id,) = person.ok_or_else(|| ApiProblem::new(ErrorCode::IdentityNotFound))?;
    let receipt_number = new_receipt_number();
    let query_code = new_query_code();
    let now = state.now_ms();
    let case_id =
        insert_case(&state, &person_id, &receipt_number, &query_code, &phone, (&kind, &title, &station, &officer), now)
            .await?;
    tracing::info!(%case_id, "case registered");
    Ok((StatusCode::CREATED, Json(CaseRegistered { case_id, receipt_number, query_code })))
}

/// Appends a public event; with `status`, the case moves on. Followers' open apps hear of it at once.
#[utoipa::path(
    post, path = "/api/v1/staff/cases/{case_id}/events", operation_id = "append_case_event", tag = "staff",
    security(("bearer" = [])), params(("case_id" = String, Path)), request_body = NewCaseEvent,
    responses(
        (status = 201, description = "Appended"),
        (status = 400, description = "`field_required`: the text", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an officer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`case_state_conflict`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(case_id = %case_id))]
pub async fn append_event(
    State(state): State<AppState>,
    Officer(officer): Officer,
    Path(case_id): Path<String>,
    ApiJson(req): ApiJson<NewCaseEvent>,
) -> Result<StatusCode, ApiProblem> {
    let body = text("text", &req.text)?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let current: Option<(String,)> =
        sqlx::query_as("SELECT status FROM cases WHERE id = $1").bind(&case_id).fetch_optional(&mut *tx).await?;
    let (stored,) = current.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    let current = CaseStatus::parse(&stored).unwrap_or(CaseStatus::Received);
    let status = req.status.unwrap_or(current);
    // The status read above must still hold, and the caller must still be an officer, in the statement
    // that changes the case: a racing officer's change or a revoked role leaves nothing half done.
    let changed = sqlx::query(
        "UPDATE cases SET status = $1, status_changed_at = CASE WHEN $1 = $4 THEN status_changed_at ELSE $2 END,
           updated_at = $2
         WHERE id = $3 AND status = $4 AND EXISTS (SELECT 1 FROM users u WHERE u.id = $5 AND u.role = 'officer')",
    )
    .bind(status.as_str())
    .bind(now)
    .bind(&case_id)
    .bind(&stored)
    .bind(&officer.user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(ApiProblem::new(ErrorCode::CaseStateConflict));
    }
    sqlx::query("INSERT INTO case_events (id, case_id, at, status, text, actor_id) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&case_id)
        .bind(now)
        .bind(status.as_str())
        .bind(&body)
        .bind(&officer.user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let followers = case_followers(&state, &case_id).await?;
    publish(&state, followers, "case", &case_id, &super::redact_staff_numbers(&body));
    Ok(StatusCode::CREATED)
}
