//! The clerks' side: their own sign-in (staff number + password, argon2id), the queue, and the
//! transitions of the state machine in `jingtong_api::applications::transition`.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::Json;
use jingtong_api::applications::{
    transition, Actor, ApplicationStatus, StaffAction, StaffApplication, StaffSessionRequest, StaffTransition,
};
use jingtong_api::auth::{Role, TokenPair};
use jingtong_api::page::PageQuery;
use jingtong_api::{ErrorCode, IdNumber, Page, Problem};
use jingtong_rules::{Catalogue, DeliveryOption, ServiceItemId};
use serde::Deserialize;
use tracing::instrument;

use super::view::mask_name;
use super::{event, fee};
use crate::audit::{self, Event, Kind};
use crate::auth::staff_accounts::hash_password;
use crate::auth::{tokens, AuthError, AuthUser, ClientIp};
use crate::clock::rfc3339;
use crate::demo::{ID_NUMBER, NAME};
use crate::error::{ApiJson, ApiProblem};
use crate::paging::Paging;
use crate::ratelimit::{self, Backoff, Limit};
use crate::state::AppState;

/// Per staff number: a few wrong passwords in a row cost nothing, then a doubling wait between tries
/// (crates/rules/data/staff_sign_in.toml). A stranger who knows the number slows guessing but cannot
/// lock the officer out.
pub fn sign_in_backoff() -> Backoff {
    let r = &jingtong_rules::StaffSignIn::load().per_staff_number;
    Backoff {
        free: i64::from(r.free_failures),
        first_ms: i64::from(r.first_wait_seconds) * 1000,
        max_ms: i64::from(r.max_wait_seconds) * 1000,
    }
}

/// Wrong passwords per client address in the window, whatever the staff numbers.
pub fn failures_per_address() -> Limit {
    let r = &jingtong_rules::StaffSignIn::load().per_client;
    Limit { max_hits: i64::from(r.max_failures), window_ms: i64::from(r.window_seconds) * 1000 }
}

/// A signed-in clerk. Any other caller is 401 (no session) or 403 (not a clerk), before the body is read.
pub struct Clerk(pub AuthUser);

impl FromRequestParts<AppState> for Clerk {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        crate::auth::with_role(parts, state, Role::Clerk).await.map(Clerk)
    }
}

/// Verified against when the staff number is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password("no such account"));

/// A clerk signs in with staff number and password.
#[utoipa::path(
    post, path = "/api/v1/staff/sessions", operation_id = "create_staff_session", tag = "staff",
    request_body = StaffSessionRequest,
    responses(
        (status = 201, description = "Signed in", body = TokenPair),
        (status = 401, description = "`staff_credentials_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn create_staff_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<StaffSessionRequest>,
) -> Result<(axum::http::StatusCode, Json<TokenPair>), ApiProblem> {
    let now = state.now_ms();
    let number = req.staff_number.trim().to_ascii_uppercase();
    // Claim the attempt first (counted as a failure), judge, and give it back on success: parallel
    // guesses cannot slip past the limits, and colleagues signing in never use them up.
    let per_ip = [(format!("staff:ip:{}", ip.as_deref().unwrap_or("-")), failures_per_address())];
    let account = format!("staff:number:{number}");
    let mut tx = state.db.begin().await?;
    let mut refused = ratelimit::hit_all(&mut tx, &per_ip, now).await?;
    if refused.is_none() {
        refused = sign_in_backoff().claim(&mut tx, &account, now).await?;
    }
    if let Some(wait) = refused {
        tx.rollback().await?;
        return Err(ApiProblem::new(ErrorCode::RateLimited).retry_after(wait));
    }
    tx.commit().await?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT s.user_id, s.password_hash FROM staff_accounts s JOIN users u ON u.id = s.user_id
         WHERE s.staff_number = $1 AND u.role <> 'resident'",
    )
    .bind(&number)
    .fetch_optional(&state.db.pool)
    .await?;
    let password = req.password.clone();
    let ok_user = tokio::task::spawn_blocking(move || {
        // Hash even for an unknown number, so timing does not tell which numbers exist.
        let stored = row.as_ref().map_or(DUMMY_HASH.as_str(), |r| r.1.as_str()).to_owned();
        let verified = PasswordHash::new(&stored)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        row.filter(|_| verified).map(|r| r.0)
    })
    .await
    .map_err(|e| ApiProblem::internal(&e))?;
    let Some(user_id) = ok_user else {
        audit::record(
            &state.db,
            Kind::SignInFailed,
            now,
            Event { client_ip: ip.clone(), detail: Some("staff".to_owned()), ..Event::default() },
        )
        .await?;
        return Err(ApiProblem::new(ErrorCode::StaffCredentialsInvalid));
    };
    let mut conn = state.db.pool.acquire().await?;
    ratelimit::refund(&mut conn, &per_ip, now).await?;
    Backoff::reset(&mut conn, &account).await?;
    drop(conn);
    let pair = tokens::start_session(&state, &user_id).await.map_err(AuthError::from)?;
    audit::record(
        &state.db,
        Kind::SignIn,
        now,
        Event { user_id: Some(&user_id), client_ip: ip.clone(), detail: Some("staff".to_owned()), ..Event::default() },
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(pair)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// Only applications in this state (default: `submitted`).
    pub status: Option<String>,
}

#[derive(sqlx::FromRow)]
struct QueueRow {
    id: String,
    item: String,
    status: String,
    delivery: String,
    created_at: i64,
    deadline: Option<String>,
    tracking_number: Option<String>,
    name_enc: Vec<u8>,
    id_number_enc: Vec<u8>,
    photo_review: i64,
    photo_match_milli: Option<i64>,
    valid_until: Option<String>,
}

fn staff_view(state: &AppState, r: QueueRow) -> Result<StaffApplication, ApiProblem> {
    let bad = |what: &str| ApiProblem::internal(&format!("application {what}"));
    let name = state.keys.decrypt_string(NAME, &r.name_enc).map_err(|_| bad("name"))?;
    let number = state.keys.decrypt_string(ID_NUMBER, &r.id_number_enc).map_err(|_| bad("id number"))?;
    Ok(StaffApplication {
        id: r.id,
        item: r.item.parse::<ServiceItemId>().map_err(|()| bad("item"))?,
        status: ApplicationStatus::parse(&r.status).ok_or_else(|| bad("status"))?,
        delivery: if r.delivery == "post" { DeliveryOption::Post } else { DeliveryOption::Pickup },
        applicant_name_masked: mask_name(&name),
        id_number_masked: IdNumber::parse(&number).map(|n| n.masked()).map_err(|_| bad("id number"))?,
        created_at: rfc3339(r.created_at),
        deadline: r.deadline,
        tracking_number: r.tracking_number,
        photo_review: r.photo_review != 0,
        photo_match: r.photo_match_milli.map(|m| m as f32 / 1000.0),
        valid_until: r.valid_until,
    })
}

/// A card with a fixed validity in months (the temporary card: 临时居民身份证管理办法, three months) gets
/// its end date when it is issued (ready for pickup or posted), once.
async fn set_valid_until(
    conn: &mut sqlx::AnyConnection,
    application_id: &str,
    item: &str,
    now: i64,
) -> Result<(), ApiProblem> {
    let item = item.parse::<ServiceItemId>().map_err(|()| ApiProblem::internal(&"application item"))?;
    let jingtong_rules::ValidityRule::Months { months } = Catalogue::load().item(item).validity else {
        return Ok(());
    };
    let until = jingtong_rules::add_months(crate::clock::shanghai_day(now), months);
    sqlx::query("UPDATE applications SET valid_until = COALESCE(valid_until, $1) WHERE id = $2")
        .bind(until.to_string())
        .bind(application_id)
        .execute(conn)
        .await?;
    Ok(())
}

const QUEUE_COLUMNS: &str = "a.id, a.item, a.status, a.delivery, a.created_at, a.deadline, a.tracking_number,
    p.name_enc, p.id_number_enc, a.photo_review, a.photo_match_milli, a.valid_until";

/// The clerks' queue, oldest first (first come, first served), one page at a time.
#[utoipa::path(
    get, path = "/api/v1/staff/applications", operation_id = "list_staff_applications", tag = "staff",
    security(("bearer" = [])), params(QueueQuery, PageQuery),
    responses(
        (status = 200, description = "Oldest first", body = Page<StaffApplication>),
        (status = 400, description = "`invalid_request` (status) or `invalid_page`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not a clerk", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn list_staff_applications(
    State(state): State<AppState>,
    Clerk(_clerk): Clerk,
    paging: Paging,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Page<StaffApplication>>, ApiProblem> {
    let status = q.status.as_deref().unwrap_or("submitted");
    let status = ApplicationStatus::parse(status)
        .ok_or_else(|| ApiProblem::new(ErrorCode::InvalidRequest).field("status", ErrorCode::InvalidRequest))?;
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM applications a JOIN registry_persons p ON p.id = a.person_id
         WHERE a.status = $1 {} ORDER BY a.created_at, a.id LIMIT $2",
        paging.condition("a.created_at, a.id", ">", 3)
    );
    let mut query = sqlx::query_as::<_, QueueRow>(sqlx::AssertSqlSafe(sql)).bind(status.as_str()).bind(paging.fetch());
    if let Some(a) = &paging.after {
        query = query.bind(a.int_key()?).bind(&a.id);
    }
    let rows = query.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |r| (r.created_at.to_string(), r.id.clone()));
    let items = rows.into_iter().map(|r| staff_view(&state, r)).collect::<Result<_, _>>()?;
    Ok(Json(Page { items, next_cursor }))
}

/// Moves an application on. Repeating the transition that brought it to its current state answers
/// the application again (a clerk's retry is safe); any other move from a wrong state is 409.
#[utoipa::path(
    post, path = "/api/v1/staff/applications/{application_id}/transitions", operation_id = "transition_application",
    tag = "staff", security(("bearer" = [])),
    params(("application_id" = String, Path)),
    request_body = StaffTransition,
    responses(
        (status = 200, description = "Moved on (or already there)", body = StaffApplication),
        (status = 400, description = "`field_required` or `text_too_long`: reason, what to do, or tracking number", body = Problem,
            content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not a clerk", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`application_state_conflict`; `photo_review_required`: accept a borderline photo \
            match only with `photo_compared: true`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(application_id = %application_id, action = ?req.action))]
pub async fn transition_application(
    State(state): State<AppState>,
    Clerk(clerk): Clerk,
    Path(application_id): Path<String>,
    ApiJson(req): ApiJson<StaffTransition>,
) -> Result<Json<StaffApplication>, ApiProblem> {
    let req = req.check().map_err(|errors| {
        let first = errors.first().map_or(ErrorCode::FieldRequired, |e| e.1);
        errors.into_iter().fold(ApiProblem::new(first), |p, (f, c)| p.field(f, c))
    })?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let row: Option<(String, String, Option<String>, String, i64)> =
        sqlx::query_as("SELECT status, delivery, bill_id, item, photo_review FROM applications WHERE id = $1")
            .bind(&application_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (status, delivery, bill_id, item, photo_review) = row.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    let from = ApplicationStatus::parse(&status).ok_or_else(|| ApiProblem::internal(&"status"))?;
    let delivery = if delivery == "post" { DeliveryOption::Post } else { DeliveryOption::Pickup };
    let compared = req.action == StaffAction::Accept && photo_review != 0;
    match transition(from, req.action, delivery) {
        // A borderline photo match is decided by a person, who says so.
        Some(_) if compared && req.photo_compared != Some(true) => {
            return Err(ApiProblem::new(ErrorCode::PhotoReviewRequired));
        }
        Some(to) => {
            let tracking =
                req.tracking_number.as_deref().map(str::trim).filter(|_| req.action == StaffAction::MarkPosted);
            let ends = !to.is_open();
            let changed = sqlx::query(
                "UPDATE applications SET status = $1, updated_at = $2,
                   tracking_number = COALESCE($3, tracking_number),
                   reject_reason = COALESCE($4, reject_reason), reject_action = COALESCE($5, reject_action),
                   photo_enc = CASE WHEN $6 = 1 THEN NULL ELSE photo_enc END
                 WHERE id = $7 AND status = $8
                   AND EXISTS (SELECT 1 FROM users u WHERE u.id = $9 AND u.role = 'clerk')",
            )
            .bind(to.as_str())
            .bind(now)
            .bind(tracking)
            .bind(req.reason.as_deref().map(str::trim).filter(|_| to == ApplicationStatus::Rejected))
            .bind(req.what_to_do.as_deref().map(str::trim).filter(|_| to == ApplicationStatus::Rejected))
            .bind(i64::from(ends))
            .bind(&application_id)
            .bind(from.as_str())
            .bind(&clerk.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(ApiProblem::new(ErrorCode::ApplicationStateConflict));
            }
            let note = match req.action {
                StaffAction::Reject => req.reason.as_deref().map(str::trim),
                StaffAction::MarkPosted => tracking,
                StaffAction::Accept if compared => Some("证件照已人工比对"),
                _ => None,
            };
            event(&mut tx, &application_id, now, to, Actor::Clerk, Some(&clerk.user_id), note).await?;
            if matches!(to, ApplicationStatus::ReadyForPickup | ApplicationStatus::Posted) {
                set_valid_until(&mut tx, &application_id, &item, now).await?;
            }
            if to == ApplicationStatus::Rejected && from.fee_paid() {
                if let Some(bill_id) = &bill_id {
                    fee::after_rejection(&mut tx, bill_id, now).await?;
                }
            }
        }
        None if already_there(from, req.action) => {}
        None => return Err(ApiProblem::new(ErrorCode::ApplicationStateConflict)),
    }
    let row: QueueRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUEUE_COLUMNS} FROM applications a JOIN registry_persons p ON p.id = a.person_id WHERE a.id = $1"
    )))
    .bind(&application_id)
    .fetch_one(&mut *tx)
    .await?;
    let (owner,): (String,) = sqlx::query_as("SELECT user_id FROM applications WHERE id = $1")
        .bind(&application_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    crate::changes::publish(&state, vec![owner], "application", &application_id, "您的证件申请有新进展");
    Ok(Json(staff_view(&state, row)?))
}

/// The state this action leads to is where the application already is: a repeated request.
fn already_there(current: ApplicationStatus, action: StaffAction) -> bool {
    use ApplicationStatus as S;
    matches!(
        (action, current),
        (StaffAction::Accept, S::Accepted)
            | (StaffAction::Reject, S::Rejected)
            | (StaffAction::StartProduction, S::InProduction)
            | (StaffAction::MarkReady, S::ReadyForPickup)
            | (StaffAction::MarkPosted, S::Posted)
            | (StaffAction::MarkCollected, S::Completed)
    )
}
