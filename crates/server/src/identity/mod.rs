//! Face verification (刷脸认证): challenges, the answer with camera frames, and the decision.
//!
//! Raw frames are held in memory only: they are read from the multipart body, hashed, moved into
//! the blocking decision and dropped there, before anything is written. The database keeps the
//! decision, the scores (cosines and poses, no embeddings) and each frame's sha256.

pub mod decide;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jingtong_api::auth::Role;
use jingtong_api::identity::rules::{
    ACTIONS_PER_CHALLENGE, CHALLENGE_TTL_SECONDS, FRAMES_REQUIRED, MAX_ATTEMPTS_PER_DAY,
};
use jingtong_api::identity::{
    ChallengeAction, FaceChallenge, FaceChallengeRequest, FaceDecision, FaceOutcome, NextStep,
};
use jingtong_api::{ErrorCode, IdNumber, Lang, Problem};
use jingtong_face::{PoseAction, Thresholds};
use rand::seq::SliceRandom;
use tracing::instrument;
use utoipa::ToSchema;

use crate::audit::{self, Event, Kind};
use crate::auth::{AuthUser, ClientIp};
use crate::blobs::sha256_bytes;
use crate::clock::rfc3339;
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::demo::{ID_NUMBER, NAME};
use crate::error::{ApiJson, ApiProblem};
use crate::idempotency;
use crate::ratelimit::{self, Limit};
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// Registry lookups per account per 24 hours, successful or not: stops guessing names for a number.
pub const LOOKUPS_PER_DAY: i64 = 20;
const LOOKUP_LIMIT: Limit = Limit { max_hits: LOOKUPS_PER_DAY, window_ms: DAY_MS };
const SHANGHAI_OFFSET_MS: i64 = 8 * 3_600_000;

/// Start of the Asia/Shanghai calendar day containing `now` (China has no daylight saving time).
pub fn shanghai_day_start(now: i64) -> i64 {
    let local = now + SHANGHAI_OFFSET_MS;
    local - local.rem_euclid(DAY_MS) - SHANGHAI_OFFSET_MS
}

fn to_api(a: PoseAction) -> ChallengeAction {
    match a {
        PoseAction::TurnLeft => ChallengeAction::TurnLeft,
        PoseAction::TurnRight => ChallengeAction::TurnRight,
        PoseAction::LookUp => ChallengeAction::LookUp,
        PoseAction::LookDown => ChallengeAction::LookDown,
        PoseAction::ComeCloser => ChallengeAction::ComeCloser,
    }
}

fn resident(user: &AuthUser) -> Result<(), ApiProblem> {
    if user.role == Role::Resident {
        Ok(())
    } else {
        Err(ApiProblem::new(ErrorCode::Forbidden))
    }
}

fn engine(state: &AppState) -> Result<std::sync::Arc<dyn jingtong_face::FaceEngine>, ApiProblem> {
    // The missing models were logged once at start.
    state.face.clone().ok_or_else(|| ApiProblem::new(ErrorCode::ServiceUnavailable))
}

async fn attempts_today(state: &AppState, user_id: &str, now: i64) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) AS n FROM face_challenges WHERE user_id = $1 AND created_at >= $2 AND attempt_refunded = 0",
    )
    .bind(user_id)
    .bind(shanghai_day_start(now))
    .fetch_one(&state.db.pool)
    .await?;
    Ok(n)
}

fn attempts_left(used: i64) -> u32 {
    (i64::from(MAX_ATTEMPTS_PER_DAY) - used).max(0) as u32
}

/// Starts a face verification: checks name and ID number with the population registry and issues a
/// single-use challenge with two random pose actions, valid for 2 minutes. At most 5 per day.
#[utoipa::path(
    post, path = "/api/v1/identity/face-challenges", operation_id = "create_face_challenge", tag = "identity",
    security(("bearer" = [])),
    request_body = FaceChallengeRequest,
    responses(
        (status = 201, description = "Challenge issued", body = FaceChallenge),
        (status = 400, description = "`id_number_invalid`, `name_invalid` (with field errors) or `invalid_request`",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not a resident account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`identity_not_found`: name and number do not match the registry",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`identity_bound_elsewhere`: another account already verified this ID number",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`face_registry_photo_missing`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`face_attempts_exhausted`: 5 attempts per day (Asia/Shanghai); \
            `rate_limited`: 20 registry lookups per 24 h",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until midnight in Asia/Shanghai"))),
        (status = 503, description = "`service_unavailable`: the face engine is not available",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, id_number))]
pub async fn create_challenge(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    ApiJson(body): ApiJson<FaceChallengeRequest>,
) -> Result<(StatusCode, Json<FaceChallenge>), ApiProblem> {
    resident(&user)?;
    engine(&state)?;
    let id_number = IdNumber::parse(&body.id_number);
    let name = jingtong_api::identity::parse_name(&body.name).ok();
    let (id_number, name) = match (id_number, name) {
        (Ok(id), Some(name)) => (id, name),
        (id, name) => {
            let mut p = ApiProblem::new(if id.is_err() { ErrorCode::IdNumberInvalid } else { ErrorCode::NameInvalid });
            if id.is_err() {
                p = p.field("id_number", ErrorCode::IdNumberInvalid);
            }
            if name.is_none() {
                p = p.field("name", ErrorCode::NameInvalid);
            }
            return Err(p);
        }
    };
    tracing::Span::current().record("id_number", id_number.masked());
    let now = state.now_ms();
    let used = attempts_today(&state, &user.user_id, now).await?;
    if used >= i64::from(MAX_ATTEMPTS_PER_DAY) {
        let wait_ms = shanghai_day_start(now) + DAY_MS - now;
        tracing::info!("face attempts exhausted for today");
        return Err(ApiProblem::new(ErrorCode::FaceAttemptsExhausted).retry_after((wait_ms as u64).div_ceil(1000)));
    }
    let bound: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE id_number_hash = $1 AND id <> $2")
        .bind(state.keys.keyed_hash(ID_NUMBER, id_number.as_str()))
        .bind(&user.user_id)
        .fetch_optional(&state.db.pool)
        .await?;
    if bound.is_some() {
        tracing::info!("ID number already verified on another account");
        return Err(ApiProblem::new(ErrorCode::IdentityBoundElsewhere));
    }
    let mut conn = state.db.pool.acquire().await?;
    let refused = ratelimit::hit(&mut conn, &format!("identity-lookup:{}", user.user_id), &LOOKUP_LIMIT, now).await?;
    drop(conn);
    if let Some(retry_after) = refused {
        tracing::info!(retry_after, "registry lookups rate limited");
        return Err(ApiProblem::new(ErrorCode::RateLimited).retry_after(retry_after));
    }
    let person = state.registry.lookup(&id_number).await.map_err(|e| ApiProblem::internal(&e))?;
    // One answer for "no such number" and "wrong name": the caller learns nothing about which.
    let Some(person) = person.filter(|p| constant_time_eq(&p.name, &name)) else {
        tracing::info!("identity not found in the registry");
        return Err(ApiProblem::new(ErrorCode::IdentityNotFound));
    };
    if person.photo.is_none() {
        tracing::info!("registry has no photo for this person");
        return Err(ApiProblem::new(ErrorCode::FaceRegistryPhotoMissing));
    }
    let actions: Vec<PoseAction> = match &state.fixed_face_actions {
        Some(fixed) => fixed.clone(),
        None => {
            let mut all = PoseAction::ALL.to_vec();
            all.shuffle(&mut rand::rng());
            all.truncate(ACTIONS_PER_CHALLENGE);
            all
        }
    };
    let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let id = uuid::Uuid::now_v7().to_string();
    let expires_at = now + i64::from(CHALLENGE_TTL_SECONDS) * 1000;
    let mut tx = state.db.begin().await?;
    // The gate: one conditional UPDATE takes an attempt, so parallel requests cannot share the last one.
    let day = shanghai_day_start(now);
    let taken = sqlx::query(
        "UPDATE users SET face_attempts = CASE WHEN face_day = $1 THEN face_attempts + 1 ELSE 1 END, face_day = $1
         WHERE id = $2 AND (face_day IS NULL OR face_day <> $1 OR face_attempts < $3)",
    )
    .bind(day)
    .bind(&user.user_id)
    .bind(i64::from(MAX_ATTEMPTS_PER_DAY))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if taken == 0 {
        let wait_ms = day + DAY_MS - now;
        tracing::info!("face attempts exhausted for today (concurrent request)");
        return Err(ApiProblem::new(ErrorCode::FaceAttemptsExhausted).retry_after((wait_ms as u64).div_ceil(1000)));
    }
    sqlx::query(
        "INSERT INTO face_challenges (id, user_id, registry_person_id, name_enc, id_number_enc, id_number_hash,
           nonce_hash, actions, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
    )
    .bind(&id)
    .bind(&user.user_id)
    .bind(&person.id)
    .bind(state.keys.encrypt(NAME, name.as_bytes()))
    .bind(state.keys.encrypt(ID_NUMBER, id_number.as_str().as_bytes()))
    .bind(state.keys.keyed_hash(ID_NUMBER, id_number.as_str()))
    .bind(sha256_hex(&nonce))
    .bind(serde_json::to_string(&actions).map_err(|e| ApiProblem::internal(&e))?)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let event = Event { user_id: Some(&user.user_id), client_ip: ip, detail: Some(id.clone()), ..Event::default() };
    audit::record(&state.db, Kind::FaceChallenge, now, event).await?;
    tracing::info!(challenge_id = %id, "face challenge issued");
    Ok((
        StatusCode::CREATED,
        Json(FaceChallenge {
            challenge_id: id,
            nonce,
            expires_at: rfc3339(expires_at),
            actions: actions.into_iter().map(to_api).collect(),
            frames_required: FRAMES_REQUIRED,
        }),
    ))
}

/// The multipart body of an answer (for the OpenAPI document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FaceFramesUpload {
    /// The challenge's nonce.
    nonce: String,
    /// Frontal frame, JPEG or PNG.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    frame0: String,
    /// Frame showing the first action.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    frame1: String,
    /// Frame showing the second action.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    frame2: String,
}

struct Upload {
    nonce: String,
    frames: Vec<Vec<u8>>,
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, ApiProblem> {
    let mut multipart = multipart.map_err(|_| ApiProblem::new(ErrorCode::InvalidRequest))?;
    let mut nonce = None;
    let mut frames: Vec<Option<Vec<u8>>> = vec![None; FRAMES_REQUIRED as usize];
    let too_large = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiProblem::new(ErrorCode::PayloadTooLarge)
        } else {
            ApiProblem::new(ErrorCode::InvalidRequest)
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "nonce" {
            nonce = Some(field.text().await.map_err(too_large)?);
        } else if let Some(slot) = name.strip_prefix("frame").and_then(|n| n.parse::<usize>().ok()) {
            if let Some(slot) = frames.get_mut(slot) {
                *slot = Some(field.bytes().await.map_err(too_large)?.to_vec());
            }
        }
    }
    let nonce =
        nonce.ok_or_else(|| ApiProblem::new(ErrorCode::InvalidRequest).field("nonce", ErrorCode::InvalidRequest))?;
    const FIELDS: [&str; 3] = ["frame0", "frame1", "frame2"];
    let mut out = Vec::new();
    for (i, f) in frames.into_iter().enumerate() {
        match f {
            Some(bytes) if !bytes.is_empty() => out.push(bytes),
            _ => {
                let field = FIELDS.get(i).copied().unwrap_or("frame");
                return Err(ApiProblem::new(ErrorCode::FaceFrameInvalid).field(field, ErrorCode::FaceFrameInvalid));
            }
        }
    }
    Ok(Upload { nonce: nonce.trim().to_owned(), frames: out })
}

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    created_at: i64,
    name_enc: Vec<u8>,
    id_number_enc: Vec<u8>,
    id_number_hash: String,
    nonce_hash: String,
    actions: String,
    expires_at: i64,
    used_at: Option<i64>,
}

/// Answers a challenge with 3 frames (`frame0` frontal, then one per action in order) and the nonce.
/// The decision is final for the challenge; the frames are deleted as soon as it is made.
#[utoipa::path(
    post, path = "/api/v1/identity/face-challenges/{challenge_id}/frames", operation_id = "submit_face_frames",
    tag = "identity",
    security(("bearer" = [])),
    params(
        ("challenge_id" = String, Path, description = "From the challenge"),
        ("Idempotency-Key" = String, Header, description = "Required; a retry with the same key and body returns the first decision"),
    ),
    request_body(content = FaceFramesUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Decision (verified or rejected with a reason)", body = FaceDecision),
        (status = 400, description = "`invalid_request`, `face_frame_invalid` or `face_nonce_invalid`",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such challenge of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`face_challenge_used`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`face_challenge_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large` (8 MiB)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id, challenge_id = %challenge_id))]
pub async fn submit_frames(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    Path(challenge_id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiProblem> {
    resident(&user)?;
    let engine = engine(&state)?;
    let lang =
        headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::from_accept_language).unwrap_or_default();
    let key = idempotency::key(&headers)?;
    let upload = read_upload(multipart).await?;
    let hashes: Vec<String> = upload.frames.iter().map(|f| sha256_bytes(f)).collect();
    let request_hash = sha256_hex(&format!("{challenge_id}\n{}\n{}", upload.nonce, hashes.join("\n")));

    if let idempotency::Reservation::Replay { status, response } =
        idempotency::reserve(&state, &user.user_id, &key, &request_hash).await?
    {
        let decision: FaceDecision = serde_json::from_str(&response).map_err(|e| ApiProblem::internal(&e))?;
        return Ok((status, Json(decision)).into_response());
    }
    let attempt = Attempt { challenge_id: &challenge_id, upload, hashes, lang, ip };
    match decide_attempt(&state, &user, engine, attempt).await {
        Ok(decision) => {
            idempotency::complete(&state, &user.user_id, &key, StatusCode::OK, &decision).await?;
            Ok((StatusCode::OK, Json(decision)).into_response())
        }
        Err(problem) => {
            // Problems are not stored: the key is free again for a retry.
            idempotency::release(&state, &user.user_id, &key).await?;
            Err(problem)
        }
    }
}

struct Attempt<'a> {
    challenge_id: &'a str,
    upload: Upload,
    hashes: Vec<String>,
    lang: Lang,
    ip: Option<String>,
}

/// Checks the challenge, claims it, decides and records the decision.
async fn decide_attempt(
    state: &AppState,
    user: &AuthUser,
    engine: std::sync::Arc<dyn jingtong_face::FaceEngine>,
    attempt: Attempt<'_>,
) -> Result<FaceDecision, ApiProblem> {
    let Attempt { challenge_id, upload, hashes, lang, ip } = attempt;
    // Owner check in the query: another account's challenge is "not found".
    let row: Option<ChallengeRow> = sqlx::query_as(
        "SELECT created_at, name_enc, id_number_enc, id_number_hash, nonce_hash, actions, expires_at, used_at
         FROM face_challenges WHERE id = $1 AND user_id = $2",
    )
    .bind(challenge_id)
    .bind(&user.user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(ch) = row else {
        return Err(ApiProblem::new(ErrorCode::NotFound));
    };
    let now = state.now_ms();
    if ch.used_at.is_some() {
        return Err(ApiProblem::new(ErrorCode::FaceChallengeUsed));
    }
    if ch.expires_at <= now {
        return Err(ApiProblem::new(ErrorCode::FaceChallengeExpired));
    }
    if !constant_time_eq(&sha256_hex(&upload.nonce), &ch.nonce_hash) {
        return Err(ApiProblem::new(ErrorCode::FaceNonceInvalid).field("nonce", ErrorCode::FaceNonceInvalid));
    }
    let claimed = sqlx::query("UPDATE face_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(challenge_id)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Err(ApiProblem::new(ErrorCode::FaceChallengeUsed));
    }
    let actions: Vec<PoseAction> = serde_json::from_str(&ch.actions).map_err(|e| ApiProblem::internal(&e))?;
    let id_number = state
        .keys
        .decrypt_string(ID_NUMBER, &ch.id_number_enc)
        .ok()
        .and_then(|s| IdNumber::parse(&s).ok())
        .ok_or_else(|| ApiProblem::internal(&"face_challenges.id_number_enc is not readable"))?;
    let person = state.registry.lookup(&id_number).await.map_err(|e| ApiProblem::internal(&e))?;
    let photo = match &person {
        Some(p) => state.registry.photo(p).await.map_err(|e| ApiProblem::internal(&e))?,
        None => None,
    };

    let started = std::time::Instant::now();
    let verdict = match photo {
        None => decide::Verdict { reason: Some(ErrorCode::FaceRegistryPhotoMissing), scores: serde_json::json!({}) },
        Some(photo) => {
            let frames = upload.frames; // moved into the decision and dropped there
            let hashes = hashes.clone();
            tokio::task::spawn_blocking(move || {
                decide::decide(engine.as_ref(), frames, &hashes, &photo, &actions, &Thresholds::default())
            })
            .await
            .map_err(|e| ApiProblem::internal(&e))?
            .map_err(|e| ApiProblem::internal(&e))?
        }
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;

    let mut verdict = verdict;
    let decision_id = uuid::Uuid::now_v7().to_string();
    // Another account may have proven this identity since the challenge was issued: the unique index
    // refuses the second binding, and the decision says why instead of failing.
    let verified = loop {
        let verified = verdict.reason.is_none();
        match record_decision(state, user, challenge_id, &ch, &verdict, &hashes, &decision_id, now).await {
            Ok(()) => break verified,
            Err(sqlx::Error::Database(e)) if verified && e.is_unique_violation() => {
                tracing::info!("ID number verified on another account meanwhile");
                verdict.reason = Some(ErrorCode::IdentityBoundElsewhere);
            }
            Err(e) => return Err(e.into()),
        }
    };
    let reason = verdict.reason.map_or("none", ErrorCode::as_str);
    let event = Event {
        user_id: Some(&user.user_id),
        client_ip: ip,
        detail: Some(format!("{decision_id} {reason}")),
        ..Event::default()
    };
    let kind = if verified { Kind::FaceVerified } else { Kind::FaceRejected };
    audit::record(&state.db, kind, now, event).await?;
    tracing::info!(
        decision_id,
        outcome = if verified { "verified" } else { "rejected" },
        reason,
        elapsed_ms,
        registry_best = verdict.scores.get("registry_best").and_then(|v| v.as_f64()),
        "face decision made; frames dropped"
    );

    let left = attempts_left(attempts_today(state, &user.user_id, now).await?);
    let decision = FaceDecision {
        outcome: if verified { FaceOutcome::Verified } else { FaceOutcome::Rejected },
        reason: verdict.reason,
        message: match verdict.reason {
            None => match lang {
                Lang::ZhCn => "刷脸认证成功，您的账户已完成实名认证。".to_owned(),
                Lang::En => "Face verification succeeded: your account is now real-name verified.".to_owned(),
            },
            Some(r) => r.message(lang).to_owned(),
        },
        next_step: match verdict.reason {
            None => NextStep::Done,
            Some(ErrorCode::FaceRegistryPhotoMissing | ErrorCode::IdentityBoundElsewhere) => {
                NextStep::VisitPoliceWindow
            }
            Some(_) if left == 0 => NextStep::VisitPoliceWindow,
            Some(_) => NextStep::Retry,
        },
        attempts_left: left,
    };
    Ok(decision)
}

/// Stores the decision and, when verified, binds the identity to the account, in one transaction.
#[allow(clippy::too_many_arguments)]
async fn record_decision(
    state: &AppState,
    user: &AuthUser,
    challenge_id: &str,
    ch: &ChallengeRow,
    verdict: &decide::Verdict,
    hashes: &[String],
    decision_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let verified = verdict.reason.is_none();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO face_decisions (id, user_id, challenge_id, outcome, reason, scores, frame_hashes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(decision_id)
    .bind(&user.user_id)
    .bind(challenge_id)
    .bind(if verified { "verified" } else { "rejected" })
    .bind(verdict.reason.map(|r| r.as_str().to_owned()))
    .bind(verdict.scores.to_string())
    .bind(serde_json::to_string(&hashes).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if verdict.reason.is_some_and(decide::is_bad_file) {
        // Files that did not decode or showed no face say nothing about the person: the attempt is given
        // back, in the same transaction as the decision (once: the challenge was claimed once).
        sqlx::query("UPDATE face_challenges SET attempt_refunded = 1 WHERE id = $1 AND attempt_refunded = 0")
            .bind(challenge_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE users SET face_attempts = face_attempts - 1 WHERE id = $1 AND face_day = $2 AND face_attempts > 0",
        )
        .bind(&user.user_id)
        .bind(shanghai_day_start(ch.created_at))
        .execute(&mut *tx)
        .await?;
    }
    if verified {
        sqlx::query(
            "UPDATE users SET verification_level = 'real_name', name_enc = $1, id_number_enc = $2,
               id_number_hash = $3, verified_at = $4 WHERE id = $5",
        )
        .bind(&ch.name_enc)
        .bind(&ch.id_number_enc)
        .bind(&ch.id_number_hash)
        .bind(now)
        .bind(&user.user_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_day_starts_at_16_utc() {
        // 2026-11-29T15:59:59Z is 23:59:59 in Shanghai; its day started 2026-11-28T16:00:00Z.
        let t = 1_795_967_999_000; // 2026-11-29T15:59:59Z
        assert_eq!(rfc3339(shanghai_day_start(t)), "2026-11-28T16:00:00Z");
        assert_eq!(rfc3339(shanghai_day_start(t + 1000)), "2026-11-29T16:00:00Z");
    }
}
