//! Resident ID card and temporary ID card applications: a verified resident applies, the fee is a
//! bill paid through scan-to-pay, clerks move it on through the staff API, and every change is an
//! event with time and actor.
//!
//! Who may see an application: its `user_id`, in the SQL of every lookup; everything else is 404.

pub mod demo;
pub mod fee;
pub mod staff;
pub mod view;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jingtong_api::applications::rules::{CREATES_PER_DAY, PHOTO_CHECKS_PER_DAY};
use jingtong_api::applications::{
    Actor, ApplicationRequest, ApplicationStatus, ApplicationView, PickupStation, ValidApplication, ValidDelivery,
};
use jingtong_api::auth::VerificationLevel;
use jingtong_api::page::PageQuery;
use jingtong_api::{ErrorCode, IdNumber, Page, Problem};
use jingtong_rules::{Catalogue, ServiceItemId};
use sqlx::AnyConnection;
use tracing::instrument;

use crate::auth::resident;
use crate::auth::AuthUser;
use crate::clock::shanghai_day;
use crate::crypto::sha256_hex;
use crate::demo::{ID_NUMBER, NAME};
use crate::error::{ApiJson, ApiProblem};
use crate::face_check;
use crate::idempotency;
use crate::images;
use crate::lang::lang;
use crate::paging::Paging;
use crate::ratelimit::{self, Limit};
use crate::state::AppState;

/// Purpose tags of the encrypted columns.
pub const PHOTO: &str = "application_photo";
pub const POST: &str = "application_post";
pub const DETAILS: &str = "application_details";

pub fn card_kind(item: ServiceItemId) -> &'static str {
    match item {
        ServiceItemId::TemporaryIdCard => "temporary",
        _ => "resident",
    }
}

/// The registry person a verified resident is, with name and ID number decrypted.
pub struct Applicant {
    pub person_id: String,
    pub name: String,
    pub id_number: IdNumber,
}

async fn applicant(state: &AppState, user: &AuthUser) -> Result<Applicant, ApiProblem> {
    if user.verification_level != VerificationLevel::RealName {
        return Err(ApiProblem::new(ErrorCode::VerificationRequired));
    }
    let row: Option<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT p.id, p.name_enc, p.id_number_enc FROM registry_persons p
         JOIN users u ON u.id_number_hash = p.id_number_hash WHERE u.id = $1",
    )
    .bind(&user.user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let (person_id, name, id_number) = row.ok_or_else(|| ApiProblem::new(ErrorCode::VerificationRequired))?;
    let name = state.keys.decrypt_string(NAME, &name).map_err(|e| ApiProblem::internal(&e))?;
    let id_number = state.keys.decrypt_string(ID_NUMBER, &id_number).map_err(|e| ApiProblem::internal(&e))?;
    let id_number = IdNumber::parse(&id_number).map_err(|_| ApiProblem::internal(&"registry ID number"))?;
    Ok(Applicant { person_id, name, id_number })
}

/// Appends one event to the timeline.
pub async fn event(
    conn: &mut AnyConnection,
    application_id: &str,
    at: i64,
    status: ApplicationStatus,
    actor: Actor,
    actor_id: Option<&str>,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    let actor = match actor {
        Actor::Resident => "resident",
        Actor::Clerk => "clerk",
        Actor::Payment => "payment",
        Actor::System => "system",
    };
    sqlx::query(
        "INSERT INTO application_events (id, application_id, at, status, actor, actor_id, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(application_id)
    .bind(at)
    .bind(status.as_str())
    .bind(actor)
    .bind(actor_id)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// The pickup stations, for the delivery step, by id.
#[utoipa::path(
    get, path = "/api/v1/pickup-stations", operation_id = "list_pickup_stations", tag = "applications",
    params(PageQuery),
    responses(
        (status = 200, description = "Stations where cards are collected, by id", body = Page<PickupStation>),
        (status = 400, description = "`invalid_page`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_stations(
    State(state): State<AppState>,
    paging: Paging,
) -> Result<Json<Page<PickupStation>>, ApiProblem> {
    // Ordered by id alone: the id is both the sort key and the tie-break.
    let after = if paging.after.is_some() { "WHERE id > $2" } else { "" };
    let sql = format!("SELECT id, name, address, hours, region_code FROM pickup_stations {after} ORDER BY id LIMIT $1");
    let mut q =
        sqlx::query_as::<_, (String, String, String, String, String)>(sqlx::AssertSqlSafe(sql)).bind(paging.fetch());
    if let Some(a) = &paging.after {
        q = q.bind(&a.id);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |r| (r.0.clone(), r.0.clone()));
    let items = rows
        .into_iter()
        .map(|(id, name, address, hours, region_code)| PickupStation { id, name, address, hours, region_code })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}

/// Applies for a card in the verified resident's own name. The fee becomes a bill (pay it with
/// `/api/v1/bills/{bill_id}/payment-orders`); the application waits in `awaiting_payment` until it is paid.
#[utoipa::path(
    post, path = "/api/v1/applications", operation_id = "create_application", tag = "applications",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required; a retry with the same key and body returns the first answer")),
    request_body = ApplicationRequest,
    responses(
        (status = 201, description = "Created", body = ApplicationView),
        (status = 400, description = "A field is wrong: `errors` lists each with its code", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`verification_required` or `forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`application_open_exists`; `temporary_card_no_pending_application`: a temporary card \
            needs an open resident ID card application", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`id_photo_invalid`, `id_photo_no_face`, `id_photo_geometry`, `id_photo_not_frontal`, \
            `id_photo_background`, `face_several`, `id_photo_other_person` (not the applicant's face) or \
            `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the face engine is not available", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn create_application(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ApplicationRequest>,
) -> Result<Response, ApiProblem> {
    resident(&user)?;
    let key = idempotency::key(&headers)?;
    let body = serde_json::to_string(&req).map_err(|e| ApiProblem::internal(&e))?;
    let request_hash = sha256_hex(&format!("application\n{body}"));
    let earlier = match idempotency::created(&state, &user.user_id, &key, &request_hash).await? {
        Some(id) => id,
        None => match create(&state, &user, &req, &headers, (&key, &request_hash)).await? {
            Ok(view) => return Ok((StatusCode::CREATED, Json(view)).into_response()),
            Err(id) => id,
        },
    };
    // A retry: the application as it is now.
    let view = view::load(&state, &user.user_id, &earlier, lang(&headers))
        .await?
        .ok_or_else(|| ApiProblem::internal(&"the key's application"))?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

fn field_problem(errors: Vec<(&'static str, ErrorCode)>) -> ApiProblem {
    let first = errors.first().map_or(ErrorCode::InvalidRequest, |e| e.1);
    let code = if first.status() == 422 { first } else { ErrorCode::InvalidRequest };
    errors.into_iter().fold(ApiProblem::new(code), |p, (f, c)| p.field(f, c))
}

/// 临时居民身份证管理办法 第二条: a temporary card is for a resident whose resident ID card is being
/// applied for, renewed or replaced, so one such application must be open.
async fn require_pending_resident_card(state: &AppState, person_id: &str) -> Result<(), ApiProblem> {
    let open: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM applications WHERE person_id = $1 AND card_kind = 'resident'
           AND status IN ('awaiting_payment', 'submitted', 'accepted', 'in_production', 'ready_for_pickup', 'posted')",
    )
    .bind(person_id)
    .fetch_optional(&state.db.pool)
    .await?;
    match open {
        Some(_) => Ok(()),
        None => Err(ApiProblem::new(ErrorCode::TemporaryCardNoPendingApplication)),
    }
}

/// The server's own look at the photo: a real JPEG of exactly the GA 461 size.
fn check_photo_pixels(bytes: &[u8]) -> Result<(), ApiProblem> {
    use jingtong_api::applications::rules::{PHOTO_HEIGHT, PHOTO_WIDTH};
    let reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    match reader.into_dimensions() {
        Ok((w, h)) if w == PHOTO_WIDTH && h == PHOTO_HEIGHT => Ok(()),
        _ => Err(ApiProblem::new(ErrorCode::IdPhotoInvalid).field("photo", ErrorCode::IdPhotoInvalid)),
    }
}

async fn create(
    state: &AppState,
    user: &AuthUser,
    req: &ApplicationRequest,
    headers: &HeaderMap,
    (key, request_hash): (&str, &str),
) -> Result<Result<Box<ApplicationView>, String>, ApiProblem> {
    let now = state.now_ms();
    let today = shanghai_day(now);
    let catalogue = Catalogue::load();
    let item = catalogue.item(req.item);
    let mut valid: ValidApplication = req.parse(today, &item.delivery).map_err(field_problem)?;
    let who = applicant(state, user).await?;
    if req.item == ServiceItemId::TemporaryIdCard {
        require_pending_resident_card(state, &who.person_id).await?;
    }
    let mut photo_match = None;
    if let Some(photo) = valid.photo.take() {
        check_photo_pixels(&photo)?;
        // Decoded in full and re-encoded: what is kept carries no metadata from the phone.
        let clean = images::clean_jpeg_blocking(photo, images::ID_PHOTO)
            .await
            .map_err(|e| ApiProblem::new(e.code()).field("photo", e.code()))?;
        // The server decides: GA 461 again, and the applicant's own face, before any fee. Each check
        // costs a face match, so it has its own daily limit.
        let limit = Limit { max_hits: PHOTO_CHECKS_PER_DAY, window_ms: 24 * 3600 * 1000 };
        let mut conn = state.db.pool.acquire().await?;
        let bucket = format!("id-photo-check:user:{}", user.user_id);
        if let Some(wait) = ratelimit::hit(&mut conn, &bucket, &limit, state.now_ms()).await? {
            return Err(ApiProblem::new(ErrorCode::RateLimited).retry_after(wait));
        }
        drop(conn);
        let person = state
            .registry
            .lookup(&who.id_number)
            .await
            .map_err(|e| ApiProblem::internal(&e))?
            .ok_or_else(|| ApiProblem::new(ErrorCode::VerificationRequired))?;
        photo_match = Some(face_check::check_id_photo(state, &person, &clean).await?);
        valid.photo = Some(clean);
    }
    let station_remote: Option<i64> = match &valid.delivery {
        ValidDelivery::Pickup { station_id } => {
            let row: Option<(i64,)> = sqlx::query_as("SELECT remote FROM pickup_stations WHERE id = $1")
                .bind(station_id)
                .fetch_optional(&state.db.pool)
                .await?;
            let (remote,) = row.ok_or_else(|| {
                ApiProblem::new(ErrorCode::InvalidRequest).field("delivery.station_id", ErrorCode::StationUnknown)
            })?;
            Some(remote)
        }
        ValidDelivery::Post { .. } => None,
    };
    let mut conn = state.db.pool.acquire().await?;
    let limit = Limit { max_hits: CREATES_PER_DAY, window_ms: 24 * 3600 * 1000 };
    if let Some(wait) = ratelimit::hit(&mut conn, &format!("application:user:{}", user.user_id), &limit, now).await? {
        return Err(ApiProblem::new(ErrorCode::RateLimited).retry_after(wait));
    }
    drop(conn);
    let province = who.id_number.as_str()[..2].parse::<u8>().unwrap_or(0);
    let fee_fen = i64::from(catalogue.fee_for(req.item, province));
    let id = uuid::Uuid::now_v7().to_string();
    let (station_id, post_enc) = match &valid.delivery {
        ValidDelivery::Pickup { station_id } => (Some(station_id.clone()), None),
        ValidDelivery::Post { region_code, address, recipient, phone } => {
            let json = serde_json::json!({
                "region_code": region_code, "address": address, "recipient": recipient, "phone": phone.as_str(),
            });
            (None, Some(state.keys.encrypt(POST, json.to_string().as_bytes())))
        }
    };
    let details = serde_json::json!({
        "loss_date": valid.loss_date.map(|d| d.to_string()),
        "damage_description": valid.damage_description,
        "remote": station_remote == Some(1),
    });
    let mut tx = state.db.begin().await?;
    // Ok(Err(id)): an earlier request with this Idempotency-Key created application `id`.
    if let idempotency::Claim::Created(earlier) =
        idempotency::claim(&mut tx, now, &user.user_id, key, request_hash, &id).await?
    {
        return Ok(Err(earlier));
    }
    let status = if fee_fen == 0 { ApplicationStatus::Submitted } else { ApplicationStatus::AwaitingPayment };
    let inserted = sqlx::query(
        "INSERT INTO applications (id, user_id, person_id, item, card_kind, status, province_code, delivery, station_id,
           post_enc, photo_source, photo_enc, details_enc, fee_fen, created_at, updated_at, photo_match_milli,
           photo_review)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17)
         ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&user.user_id)
    .bind(&who.person_id)
    .bind(req.item.as_str())
    .bind(card_kind(req.item))
    .bind(status.as_str())
    .bind(i64::from(province))
    .bind(match valid.delivery.option() {
        jingtong_rules::DeliveryOption::Pickup => "pickup",
        jingtong_rules::DeliveryOption::Post => "post",
    })
    .bind(station_id)
    .bind(post_enc)
    .bind(if valid.photo.is_some() { "upload" } else { "on_site" })
    .bind(valid.photo.as_deref().map(|p| state.keys.encrypt(PHOTO, p)))
    .bind(state.keys.encrypt(DETAILS, details.to_string().as_bytes()))
    .bind(fee_fen)
    .bind(now)
    .bind(photo_match.and_then(|m| m.milli()))
    .bind(i64::from(photo_match.is_some_and(|m| m.review)))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // The partial unique index: this person already has an open application for this card kind.
        return Err(ApiProblem::new(ErrorCode::ApplicationOpenExists));
    }
    event(&mut tx, &id, now, ApplicationStatus::AwaitingPayment, Actor::Resident, Some(&user.user_id), None).await?;
    if fee_fen > 0 {
        let bill_id = fee::create_bill(&mut tx, &who, req.item, fee_fen, &user.user_id, now).await?;
        sqlx::query("UPDATE applications SET bill_id = $1 WHERE id = $2")
            .bind(&bill_id)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    } else {
        fee::start_clock(&mut tx, &id, req.item, i64::from(province), now, Actor::System, None).await?;
    }
    tx.commit().await?;
    tracing::info!(application_id = %id, item = %req.item, "application created");
    let view = view::load(state, &user.user_id, &id, lang(headers)).await?;
    Ok(Ok(Box::new(view.ok_or_else(|| ApiProblem::internal(&"created row"))?)))
}

/// The resident's applications, newest first, one page at a time.
#[utoipa::path(
    get, path = "/api/v1/applications", operation_id = "list_applications", tag = "applications",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<ApplicationView>),
        (status = 400, description = "`invalid_page`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn list_applications(
    State(state): State<AppState>,
    user: AuthUser,
    paging: Paging,
    headers: HeaderMap,
) -> Result<Json<Page<ApplicationView>>, ApiProblem> {
    resident(&user)?;
    let sql = crate::hot::my_applications(&paging.condition("created_at, id", "<", 3));
    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql)).bind(&user.user_id).bind(paging.fetch());
    if let Some(a) = &paging.after {
        q = q.bind(a.int_key()?).bind(&a.id);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |r| (r.1.to_string(), r.0.clone()));
    let mut items = Vec::with_capacity(rows.len());
    for (id, _) in rows {
        if let Some(v) = view::load(&state, &user.user_id, &id, lang(&headers)).await? {
            items.push(v);
        }
    }
    Ok(Json(Page { items, next_cursor }))
}

/// One application of the resident's, with its timeline.
#[utoipa::path(
    get, path = "/api/v1/applications/{application_id}", operation_id = "get_application", tag = "applications",
    security(("bearer" = [])),
    params(("application_id" = String, Path)),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such application of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, application_id = %application_id))]
pub async fn get_application(
    State(state): State<AppState>,
    user: AuthUser,
    Path(application_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ApplicationView>, ApiProblem> {
    resident(&user)?;
    view::load(&state, &user.user_id, &application_id, lang(&headers))
        .await?
        .map(Json)
        .ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}

/// Withdraws an application before a clerk accepted it. A fee already paid is flagged for refund.
/// Withdrawing a withdrawn application answers it again (a retry is safe).
#[utoipa::path(
    post, path = "/api/v1/applications/{application_id}/withdraw", operation_id = "withdraw_application",
    tag = "applications", security(("bearer" = [])),
    params(("application_id" = String, Path)),
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`application_state_conflict`: a clerk accepted it already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, application_id = %application_id))]
pub async fn withdraw_application(
    State(state): State<AppState>,
    user: AuthUser,
    Path(application_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ApplicationView>, ApiProblem> {
    resident(&user)?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT status, bill_id FROM applications WHERE id = $1 AND user_id = $2")
            .bind(&application_id)
            .bind(&user.user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (status, bill_id) = row.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    let status = ApplicationStatus::parse(&status).ok_or_else(|| ApiProblem::internal(&"status"))?;
    if status != ApplicationStatus::Withdrawn {
        if !status.can_withdraw() {
            return Err(ApiProblem::new(ErrorCode::ApplicationStateConflict));
        }
        let changed = sqlx::query(
            "UPDATE applications SET status = 'withdrawn', photo_enc = NULL, updated_at = $1
             WHERE id = $2 AND user_id = $3 AND status = $4",
        )
        .bind(now)
        .bind(&application_id)
        .bind(&user.user_id)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(ApiProblem::new(ErrorCode::ApplicationStateConflict));
        }
        let note = if status.fee_paid() { Some("refund_due") } else { None };
        event(&mut tx, &application_id, now, ApplicationStatus::Withdrawn, Actor::Resident, Some(&user.user_id), note)
            .await?;
        if let Some(bill_id) = bill_id {
            fee::after_withdrawal(&mut tx, &bill_id, status.fee_paid(), now).await?;
        }
    }
    tx.commit().await?;
    // Closes the fee order at the provider now rather than at the runner's next turn.
    state.wake_jobs();
    view::load(&state, &user.user_id, &application_id, lang(&headers))
        .await?
        .map(Json)
        .ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}
