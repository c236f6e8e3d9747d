//! Vehicle moving (一键挪车): a verified driver asks the owner of a blocking car to move it. The owner
//! hears of it in the app or by SMS, answers, and an unanswered request is escalated to the
//! traffic police on duty by a durable job. Neither side ever receives the other's phone number.
//!
//! Who may see a request: its requester, the owner's account, the SMS link's token holder, or
//! traffic staff, each named in the SQL of the lookup; everything else is 404.

pub mod duty;
pub mod link;
pub mod notify;
pub mod view;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jingtong_api::auth::VerificationLevel;
use jingtong_api::moves::{
    MoveAnswer, MoveEvent, MoveEventKind, MoveMessageInput, MoveParty, MoveRequest, MoveStatus, MoveView, OwnerReply,
    ValidMoveRequest,
};
use jingtong_api::page::PageQuery;
use jingtong_api::{ErrorCode, Page, Problem};
use jingtong_rules::MoveRules;
use sqlx::AnyConnection;
use tracing::instrument;

use self::view::Viewer;
use crate::auth::resident;
use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::clock::shanghai_day;
use crate::crypto::sha256_hex;
use crate::error::{ApiJson, ApiProblem};
use crate::idempotency;
use crate::images;
use crate::jobs;
use crate::paging::Paging;
use crate::state::AppState;

/// Purpose tags of the encrypted columns.
pub const ADDRESS: &str = "move_address";
pub const POSITION: &str = "move_position";
pub const NOTE: &str = "move_note";
pub const MESSAGE: &str = "move_message";
/// Keyed-hash purpose of the SMS link's token.
pub const TOKEN: &str = "move_token";

pub async fn event(
    conn: &mut AnyConnection,
    move_id: &str,
    at: i64,
    kind: MoveEventKind,
    party: MoveParty,
    actor_id: Option<&str>,
    eta_minutes: Option<u32>,
) -> Result<(), sqlx::Error> {
    events(conn, move_id, at, &[(kind, party, actor_id, eta_minutes)]).await
}

/// Several events at one time in one statement, in the order given (ids are time-ordered UUIDs).
pub async fn events(
    conn: &mut AnyConnection,
    move_id: &str,
    at: i64,
    rows: &[(MoveEventKind, MoveParty, Option<&str>, Option<u32>)],
) -> Result<(), sqlx::Error> {
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("(${}, $1, $2, ${}, ${}, ${}, ${})", 5 * i + 3, 5 * i + 4, 5 * i + 5, 5 * i + 6, 5 * i + 7))
        .collect();
    let sql = format!(
        "INSERT INTO vehicle_move_events (id, move_id, at, kind, party, actor_id, eta_minutes) VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(move_id.to_owned()).bind(at);
    for (kind, party, actor_id, eta_minutes) in rows {
        query = query
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(kind.as_str())
            .bind(party.as_str())
            .bind(actor_id.map(str::to_owned))
            .bind(eta_minutes.map(i64::from));
    }
    query.execute(conn).await?;
    Ok(())
}

/// The body is read after the ownership check, so a stranger learns nothing from its format.
fn parse_body<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiProblem> {
    serde_json::from_value(body).map_err(|_| ApiProblem::new(ErrorCode::InvalidRequest))
}

fn field_problem(errors: Vec<(&'static str, ErrorCode)>) -> ApiProblem {
    let first = errors.first().map_or(ErrorCode::InvalidRequest, |e| e.1);
    let code = if errors.len() == 1 { first } else { ErrorCode::InvalidRequest };
    errors.into_iter().fold(ApiProblem::new(code), |p, (f, c)| p.field(f, c))
}

/// `YYYY-MM` in Asia/Shanghai, and the seconds until the next month starts there.
fn month_of(now: i64) -> (String, u64) {
    let day = shanghai_day(now);
    let (y, m) = (day.year(), day.month());
    let next = if m == time::Month::December {
        time::Date::from_calendar_date(y + 1, time::Month::January, 1)
    } else {
        time::Date::from_calendar_date(y, m.next(), 1)
    };
    let wait = next
        .map(|d| {
            let start = d.midnight().assume_offset(time::macros::offset!(+8)).unix_timestamp() * 1000;
            u64::try_from((start - now).max(1000) / 1000).unwrap_or(1)
        })
        .unwrap_or(86_400);
    (format!("{y:04}-{:02}", u8::from(m)), wait)
}

/// Files a request to move a blocking vehicle. The owner is told at once; the answer, the
/// reminder and the escalation appear on the request's timeline.
#[utoipa::path(
    post, path = "/api/v1/vehicle-moves", operation_id = "create_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required; a retry with the same key and body returns the first answer")),
    request_body = MoveRequest,
    responses(
        (status = 201, description = "Sent; the owner was notified", body = MoveView),
        (status = 400, description = "A field is wrong: `errors` lists each with its code", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`verification_required`, `move_suspended` or `forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`move_open_exists`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`plate_not_registered` (send again with `escalate_if_unregistered`) or `idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`move_monthly_limit`, or `rate_limited`: the owner's SMS budget (per phone, per vehicle, per requester; crates/rules sms_limits.toml) is used up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn create_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<MoveRequest>,
) -> Result<Response, ApiProblem> {
    resident(&user)?;
    if user.verification_level != VerificationLevel::RealName {
        return Err(ApiProblem::new(ErrorCode::VerificationRequired));
    }
    let key = idempotency::key(&headers)?;
    let body = serde_json::to_string(&req).map_err(|e| ApiProblem::internal(&e))?;
    let request_hash = sha256_hex(&format!("vehicle_move\n{body}"));
    // A retry is recognised by the key's claim inside the create's transaction (its photos, written
    // again, are removed), so a first request pays no lookup of its own.
    let earlier = match create(&state, &user, &req, (&key, &request_hash)).await? {
        Created::New(view) => return Ok((StatusCode::CREATED, Json(view)).into_response()),
        Created::Earlier(id) => id,
    };
    // A retry: the request as it is now.
    let view = view::load(&state, &Viewer::User(&user.user_id), &earlier)
        .await?
        .ok_or_else(|| ApiProblem::internal(&"the key's request"))?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

enum Created {
    New(Box<MoveView>),
    /// An earlier request with the same Idempotency-Key created this one.
    Earlier(String),
}

async fn create(
    state: &AppState,
    user: &AuthUser,
    req: &MoveRequest,
    idem: (&str, &str),
) -> Result<Created, ApiProblem> {
    let rules = MoveRules::load();
    let now = state.now_ms();
    let mut valid: ValidMoveRequest =
        req.parse(rules.limits.photos_min as usize, rules.limits.photos_max as usize).map_err(field_problem)?;
    // Every photo decoded in full and re-encoded before it is kept or shown: no noise behind a JPEG
    // header, no GPS position or camera data from the requester's phone reaches the owner or staff.
    for photo in &mut valid.photos {
        let clean = images::clean_jpeg_blocking(std::mem::take(photo), images::MOVE_PHOTO)
            .await
            .map_err(|e| ApiProblem::new(e.code()).field("photos", e.code()))?;
        *photo = clean;
    }
    let owner = notify::owner_of(state, &valid.plate).await?;
    if owner.is_none() && !req.escalate_if_unregistered {
        return Err(ApiProblem::new(ErrorCode::PlateNotRegistered).field("plate", ErrorCode::PlateNotRegistered));
    }
    let id = uuid::Uuid::now_v7().to_string();
    // Together: the photos share their folder's flush to disk.
    let keys: Vec<String> = (0..valid.photos.len()).map(|n| format!("moves/{id}/{n}.jpg")).collect();
    let items: Vec<(&str, &[u8])> =
        keys.iter().map(String::as_str).zip(valid.photos.iter().map(Vec::as_slice)).collect();
    let shas = match state.blobs.put_all(&items).await {
        Ok(shas) => shas,
        Err(e) => {
            for key in &keys {
                let _ = state.blobs.delete(key).await;
            }
            return Err(ApiProblem::internal(&e));
        }
    };
    let photos: Vec<(String, String)> = keys.into_iter().zip(shas).collect();
    let result = insert(state, user, idem, &valid, owner.as_ref(), &id, &photos, now).await;
    if !matches!(result, Ok(Inserted::New { .. })) {
        for (key, _) in &photos {
            let _ = state.blobs.delete(key).await;
        }
    }
    let (token, in_app, status, events) = match result? {
        Inserted::New { token, in_app, status, events } => (token, in_app, status, events),
        Inserted::Earlier(id) => return Ok(Created::Earlier(id)),
    };
    // The owner's SMS was queued in the transaction (a crash now delays it, never loses it); the
    // runner is woken to send it now. An owner in the app hears it in their open app.
    let notice = notify::Notice {
        move_id: &id,
        plate: &valid.plate,
        reason: valid.reason,
        address: &valid.address,
        reminder: false,
    };
    if let Some(owner) = in_app.as_deref() {
        notify::tell_in_app(state, &notice, owner);
    }
    if token.is_some() {
        state.wake_jobs();
    }
    notify::publish_to_parties(state, &id, user.user_id.clone(), in_app, "挪车请求已发送");
    tracing::info!(move_id = %id, registered = owner.is_some(), "vehicle move created");
    // The answer from what was just committed (no messages or report yet), as `view::load` would build it.
    let fields = view::Fields {
        id,
        plate: valid.plate.as_str().to_owned(),
        plate_type: valid.plate_type,
        address: valid.address.clone(),
        region_code: valid.region_code.clone(),
        reason: valid.reason,
        note: valid.note.clone(),
        status,
        photo_count: photos.len(),
        created_at: now,
        eta_at: None,
        reminded_at: None,
    };
    let events =
        events.into_iter().map(|(kind, by)| MoveEvent { kind, by, at: rfc3339(now), eta_minutes: None }).collect();
    Ok(Created::New(Box::new(view::assemble(fields, MoveParty::Requester, now, events, Vec::new(), false))))
}

enum Inserted {
    /// Committed; the SMS link's token when the owner is reached by SMS, the owner's account when
    /// reached in the app.
    New {
        token: Option<String>,
        in_app: Option<String>,
        status: MoveStatus,
        /// The first events, in order.
        events: Vec<(MoveEventKind, MoveParty)>,
    },
    Earlier(String),
}

/// Inserts the request, its first events and its timers in one transaction with the claim on
/// its Idempotency-Key.
#[allow(clippy::too_many_arguments)]
async fn insert(
    state: &AppState,
    user: &AuthUser,
    (key, request_hash): (&str, &str),
    valid: &ValidMoveRequest,
    owner: Option<&notify::Owner>,
    id: &str,
    photos: &[(String, String)],
    now: i64,
) -> Result<Inserted, ApiProblem> {
    let rules = MoveRules::load();
    let (month, wait) = month_of(now);
    let mut tx = state.db.begin().await?;
    if let idempotency::Claim::Created(earlier) =
        idempotency::claim(&mut tx, now, &user.user_id, key, request_hash, id).await?
    {
        return Ok(Inserted::Earlier(earlier));
    }
    // Writes first: a row lock on the requester in PostgreSQL serialises their creates, so the monthly
    // count cannot be raced past; in SQLite it takes the write lock at the start (waiting out
    // `busy_timeout`), instead of a read transaction failing with SQLITE_BUSY when it upgrades.
    sqlx::query("UPDATE users SET id = id WHERE id = $1").bind(&user.user_id).execute(&mut *tx).await?;
    // The month's requests, and confirmed malicious ones within the suspension period.
    let (used, confirmed): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM vehicle_moves WHERE requester_id = $1 AND month = $2),
                (SELECT COUNT(*) FROM vehicle_move_reports
                  WHERE requester_id = $1 AND status = 'confirmed' AND decided_at > $3)",
    )
    .bind(&user.user_id)
    .bind(&month)
    .bind(now - rules.suspension_ms())
    .fetch_one(&mut *tx)
    .await?;
    if confirmed >= i64::from(rules.abuse.malicious_reports_to_suspend) {
        return Err(ApiProblem::new(ErrorCode::MoveSuspended));
    }
    if used >= i64::from(rules.limits.requests_per_month) {
        return Err(ApiProblem::new(ErrorCode::MoveMonthlyLimit).retry_after(wait));
    }
    let in_app = owner.and_then(|o| o.user_id.clone()).filter(|o| *o != user.user_id);
    let by_sms = owner.is_some() && in_app.is_none() && owner.is_some_and(|o| o.phone.is_some());
    if let Some(owner) = owner.filter(|_| by_sms) {
        // The owner's phone and vehicle budgets, and the requester's: refused, nothing is committed.
        if let Some(wait) = notify::claim_sms(state, &mut tx, owner, Some(&user.user_id), now).await? {
            return Err(ApiProblem::new(ErrorCode::RateLimited).retry_after(wait));
        }
    }
    let token = by_sms.then(notify::link_token);
    // An owner with neither the app nor a phone on file cannot be told: like an unknown plate.
    let reachable = in_app.is_some() || by_sms;
    let status = if reachable { MoveStatus::Waiting } else { MoveStatus::Escalated };
    let position =
        valid.position.map(|p| state.keys.encrypt(POSITION, format!("{},{}", p.lat_e6, p.lon_e6).as_bytes()));
    let inserted = sqlx::query(
        "INSERT INTO vehicle_moves (id, requester_id, plate, plate_type, vehicle_id, owner_user_id, owner_token_hash,
           address_enc, position_enc, region_code, brigade, reason, note_enc, photos, status, escalated_at, month,
           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(&user.user_id)
    .bind(valid.plate.as_str())
    .bind(valid.plate_type.as_str())
    .bind(owner.map(|o| o.vehicle_id.clone()))
    .bind(in_app.clone())
    .bind(token.as_deref().map(|t| state.keys.keyed_hash(TOKEN, t)))
    .bind(state.keys.encrypt(ADDRESS, valid.address.as_bytes()))
    .bind(position)
    .bind(&valid.region_code)
    .bind(&valid.region_code[..4])
    .bind(valid.reason.as_str())
    .bind(valid.note.as_deref().map(|n| state.keys.encrypt(NOTE, n.as_bytes())))
    .bind(serde_json::to_string(photos).map_err(|e| ApiProblem::internal(&e))?)
    .bind(status.as_str())
    .bind((status == MoveStatus::Escalated).then_some(now))
    .bind(&month)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // The partial unique index: this plate has an open request.
        return Err(ApiProblem::new(ErrorCode::MoveOpenExists));
    }
    let mut first = vec![(MoveEventKind::Sent, MoveParty::Requester)];
    match (in_app.is_some(), by_sms) {
        (true, _) => first.push((MoveEventKind::NotifiedInApp, MoveParty::System)),
        (false, true) => first.push((MoveEventKind::NotifiedBySms, MoveParty::System)),
        (false, false) => {
            first.push((MoveEventKind::OwnerUnknown, MoveParty::System));
            first.push((MoveEventKind::Escalated, MoveParty::System));
        }
    }
    let actor = |party: MoveParty| (party == MoveParty::Requester).then_some(user.user_id.as_str());
    let rows: Vec<_> = first.iter().map(|&(kind, party)| (kind, party, actor(party), None)).collect();
    events(&mut tx, id, now, &rows).await?;
    if status == MoveStatus::Waiting {
        let payload = serde_json::json!({ "move_id": id });
        // The owner's SMS is queued with the timers: sent once this commits, and only then.
        let notice = notify::Notice {
            move_id: id,
            plate: &valid.plate,
            reason: valid.reason,
            address: &valid.address,
            reminder: false,
        };
        let sms = match (owner, token.as_deref()) {
            (Some(owner), Some(token)) => notify::owner_sms(state, &notice, owner, token),
            _ => None,
        };
        let sms = sms.map(|message| crate::sms::queued(&state.keys, &message));
        let mut due = vec![
            (notify::REMINDER_OPEN_JOB, &payload, now + rules.reminder_after_ms()),
            (notify::ESCALATE_JOB, &payload, now + rules.escalate_after_ms()),
        ];
        if let Some(sms) = &sms {
            due.push((crate::sms::SEND_JOB, sms, now));
        }
        jobs::enqueue_all(&mut *tx, &due, now).await?;
    }
    tx.commit().await?;
    Ok(Inserted::New { token, in_app, status, events: first })
}

/// The caller's requests and the requests about the caller's vehicles, newest first.
#[utoipa::path(
    get, path = "/api/v1/vehicle-moves", operation_id = "list_vehicle_moves", tag = "vehicle-moves",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "Newest first; `role` says which side the caller is on", body = Page<MoveView>),
        (status = 400, description = "`invalid_page`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn list_vehicle_moves(
    State(state): State<AppState>,
    user: AuthUser,
    paging: Paging,
) -> Result<Json<Page<MoveView>>, ApiProblem> {
    resident(&user)?;
    let sql = crate::hot::my_vehicle_moves(&paging.condition("created_at, id", "<", 3));
    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql)).bind(&user.user_id).bind(paging.fetch());
    if let Some(a) = &paging.after {
        q = q.bind(a.int_key()?).bind(&a.id);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |r| (r.1.to_string(), r.0.clone()));
    let mut items = Vec::with_capacity(rows.len());
    for (id, _) in rows {
        if let Some(v) = view::load(&state, &Viewer::User(&user.user_id), &id).await? {
            items.push(v);
        }
    }
    Ok(Json(Page { items, next_cursor }))
}

async fn visible(state: &AppState, user: &AuthUser, move_id: &str) -> Result<MoveView, ApiProblem> {
    view::load(state, &Viewer::User(&user.user_id), move_id).await?.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}

/// The request, if the caller owns the vehicle; the requester gets 404 as a stranger does.
async fn visible_to_owner(state: &AppState, user: &AuthUser, move_id: &str) -> Result<MoveView, ApiProblem> {
    let view = visible(state, user, move_id).await?;
    if view.role != MoveParty::Owner {
        return Err(ApiProblem::new(ErrorCode::NotFound));
    }
    Ok(view)
}

/// One request, from whichever side the caller is on.
#[utoipa::path(
    get, path = "/api/v1/vehicle-moves/{move_id}", operation_id = "get_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])), params(("move_id" = String, Path)),
    responses(
        (status = 200, description = "The request and its timeline", body = MoveView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, move_id = %move_id))]
pub async fn get_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    Path(move_id): Path<String>,
) -> Result<Json<MoveView>, ApiProblem> {
    resident(&user)?;
    visible(&state, &user, &move_id).await.map(Json)
}

/// The one reminder (催单), once the owner has not answered for the rules' reminder window.
#[utoipa::path(
    post, path = "/api/v1/vehicle-moves/{move_id}/remind", operation_id = "remind_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])), params(("move_id" = String, Path)),
    responses(
        (status = 200, description = "Reminded", body = MoveView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`move_state_conflict`: answered, reminded already, or too early", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, move_id = %move_id))]
pub async fn remind_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    Path(move_id): Path<String>,
) -> Result<Json<MoveView>, ApiProblem> {
    resident(&user)?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let changed = sqlx::query(
        "UPDATE vehicle_moves SET reminded_at = $1, updated_at = $1
         WHERE id = $2 AND requester_id = $3 AND status = 'waiting' AND reminded_at IS NULL AND created_at <= $4",
    )
    .bind(now)
    .bind(&move_id)
    .bind(&user.user_id)
    .bind(now - MoveRules::load().reminder_after_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        drop(tx);
        let current = visible(&state, &user, &move_id).await?;
        return Err(if current.role == MoveParty::Requester {
            ApiProblem::new(ErrorCode::MoveStateConflict)
        } else {
            ApiProblem::new(ErrorCode::NotFound)
        });
    }
    event(&mut tx, &move_id, now, MoveEventKind::Reminded, MoveParty::Requester, Some(&user.user_id), None).await?;
    let in_app = notify::remind_owner(&state, &mut tx, &move_id, now).await?;
    tx.commit().await?;
    state.wake_jobs();
    let view = visible(&state, &user, &move_id).await?;
    if let Some(r) = in_app {
        let notice =
            notify::Notice { move_id: &move_id, plate: &r.plate, reason: r.reason, address: "", reminder: true };
        notify::tell_in_app(&state, &notice, &r.owner);
    }
    Ok(Json(view))
}

/// The requester's car is free: close the request. Resolving a resolved request answers it again.
#[utoipa::path(
    post, path = "/api/v1/vehicle-moves/{move_id}/resolve", operation_id = "resolve_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])), params(("move_id" = String, Path)),
    responses(
        (status = 200, description = "Resolved", body = MoveView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, move_id = %move_id))]
pub async fn resolve_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    Path(move_id): Path<String>,
) -> Result<Json<MoveView>, ApiProblem> {
    resident(&user)?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let changed = sqlx::query(
        "UPDATE vehicle_moves SET status = 'resolved', resolved_at = $1, updated_at = $1, owner_token_hash = NULL
         WHERE id = $2 AND requester_id = $3 AND status <> 'resolved'",
    )
    .bind(now)
    .bind(&move_id)
    .bind(&user.user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 1 {
        event(&mut tx, &move_id, now, MoveEventKind::Resolved, MoveParty::Requester, Some(&user.user_id), None).await?;
        notify::ended(&mut tx, &move_id, now).await?;
    }
    tx.commit().await?;
    let view = visible(&state, &user, &move_id).await?;
    if view.role != MoveParty::Requester {
        return Err(ApiProblem::new(ErrorCode::NotFound));
    }
    if changed == 1 {
        notify::notify_parties(&state, &move_id, "挪车请求已解决").await?;
    }
    Ok(Json(view))
}

/// Records the owner's answer; `cannot` and `not_mine` hand the request to the traffic police.
pub async fn record_answer(
    state: &AppState,
    move_id: &str,
    answer: &MoveAnswer,
    actor_id: Option<&str>,
) -> Result<(), ApiProblem> {
    answer.check().map_err(field_problem)?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let kind = match answer.reply {
        OwnerReply::Coming => MoveEventKind::Coming,
        OwnerReply::Cannot => MoveEventKind::Cannot,
        OwnerReply::NotMine => MoveEventKind::NotMine,
    };
    // "Coming" takes the request off the duty queue; the other answers leave the status to `escalate`.
    let changed = match answer.reply {
        OwnerReply::Coming => {
            sqlx::query(
                "UPDATE vehicle_moves SET status = 'coming', eta_at = $1, updated_at = $2
                 WHERE id = $3 AND status IN ('waiting', 'escalated')",
            )
            .bind(now + i64::from(answer.eta_minutes.unwrap_or(0)) * 60_000)
            .bind(now)
            .bind(move_id)
            .execute(&mut *tx)
            .await?
        }
        OwnerReply::Cannot | OwnerReply::NotMine => {
            sqlx::query("UPDATE vehicle_moves SET updated_at = $1 WHERE id = $2 AND status IN ('waiting', 'escalated')")
                .bind(now)
                .bind(move_id)
                .execute(&mut *tx)
                .await?
        }
    }
    .rows_affected();
    if changed == 0 {
        return Err(ApiProblem::new(ErrorCode::MoveStateConflict));
    }
    let eta = (answer.reply == OwnerReply::Coming).then_some(answer.eta_minutes).flatten();
    event(&mut tx, move_id, now, kind, MoveParty::Owner, actor_id, eta).await?;
    tx.commit().await?;
    if answer.reply == OwnerReply::Coming {
        let text = format!("车主回复：约{}分钟到", eta.unwrap_or(0));
        notify::notify_parties(state, move_id, &text).await?;
    } else if !notify::escalate(state, move_id, &[MoveStatus::Waiting], MoveParty::System).await? {
        notify::notify_parties(state, move_id, "车主无法前来").await?;
    }
    Ok(())
}

/// The owner answers in the app: coming in N minutes, cannot come, or not my car.
#[utoipa::path(
    post, path = "/api/v1/vehicle-moves/{move_id}/answer", operation_id = "answer_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])), params(("move_id" = String, Path)), request_body = MoveAnswer,
    responses(
        (status = 200, description = "Answered", body = MoveView),
        (status = 400, description = "`field_required` (eta_minutes) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such request about your vehicles", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`move_state_conflict`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, move_id = %move_id))]
pub async fn answer_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    Path(move_id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<MoveView>, ApiProblem> {
    resident(&user)?;
    visible_to_owner(&state, &user, &move_id).await?;
    let answer: MoveAnswer = parse_body(body)?;
    record_answer(&state, &move_id, &answer, Some(&user.user_id)).await?;
    visible(&state, &user, &move_id).await.map(Json)
}

/// Adds a relay message from one side to the other (no numbers allowed in it).
pub async fn add_message(state: &AppState, move_id: &str, party: MoveParty, text: &str) -> Result<(), ApiProblem> {
    sqlx::query("INSERT INTO vehicle_move_messages (id, move_id, at, party, text_enc) VALUES ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(move_id)
        .bind(state.now_ms())
        .bind(party.as_str())
        .bind(state.keys.encrypt(MESSAGE, text.as_bytes()))
        .execute(&state.db.pool)
        .await?;
    let from = if party == MoveParty::Owner { "车主" } else { "请求人" };
    notify::notify_parties(state, move_id, &format!("{from}发来留言")).await
}

/// A message to the other side through the relay.
#[utoipa::path(
    post, path = "/api/v1/vehicle-moves/{move_id}/messages", operation_id = "message_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])), params(("move_id" = String, Path)), request_body = MoveMessageInput,
    responses(
        (status = 200, description = "Sent", body = MoveView),
        (status = 400, description = "`message_contains_number`, `text_contains_link`, `text_contains_contact`, `text_char_not_allowed` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`move_state_conflict`: resolved", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, move_id = %move_id))]
pub async fn message_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    Path(move_id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<MoveView>, ApiProblem> {
    resident(&user)?;
    let current = visible(&state, &user, &move_id).await?;
    let input: MoveMessageInput = parse_body(body)?;
    let text = input.parse().map_err(|code| ApiProblem::new(code).field("text", code))?;
    if !current.status.is_open() {
        return Err(ApiProblem::new(ErrorCode::MoveStateConflict));
    }
    add_message(&state, &move_id, current.role, &text).await?;
    visible(&state, &user, &move_id).await.map(Json)
}

/// The owner reports the request as malicious; traffic police confirm or dismiss it.
#[utoipa::path(
    post, path = "/api/v1/vehicle-moves/{move_id}/report", operation_id = "report_vehicle_move", tag = "vehicle-moves",
    security(("bearer" = [])), params(("move_id" = String, Path)),
    responses(
        (status = 200, description = "Reported (reporting twice changes nothing)", body = MoveView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such request about your vehicles", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, move_id = %move_id))]
pub async fn report_vehicle_move(
    State(state): State<AppState>,
    user: AuthUser,
    Path(move_id): Path<String>,
) -> Result<Json<MoveView>, ApiProblem> {
    resident(&user)?;
    visible_to_owner(&state, &user, &move_id).await?;
    record_report(&state, &move_id, Some(&user.user_id)).await?;
    visible(&state, &user, &move_id).await.map(Json)
}

pub async fn record_report(state: &AppState, move_id: &str, actor_id: Option<&str>) -> Result<(), ApiProblem> {
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO vehicle_move_reports (move_id, requester_id, reported_at, status)
         SELECT id, requester_id, $1, 'open' FROM vehicle_moves WHERE id = $2
         ON CONFLICT DO NOTHING",
    )
    .bind(now)
    .bind(move_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        event(&mut tx, move_id, now, MoveEventKind::ReportedMalicious, MoveParty::Owner, actor_id, None).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Demo data (`--demo`): a traffic officer whose duty queue covers every city.
pub mod demo {
    use jingtong_api::auth::Role;

    use crate::auth::staff_accounts::ensure_account;
    use crate::db::Db;

    /// Staff number and password of the demo traffic officer.
    pub const DEMO_TRAFFIC: (&str, &str) = ("JT2001", "demo-traffic-2026");

    pub async fn load(db: &Db, now: i64) -> Result<(), sqlx::Error> {
        ensure_account(db, DEMO_TRAFFIC.0, DEMO_TRAFFIC.1, Role::Traffic, now).await.map(|_| ())
    }
}
