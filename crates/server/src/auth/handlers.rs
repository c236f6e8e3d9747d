//! HTTP handlers of the `auth` tag.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use jingtong_api::auth::{Me, RefreshRequest, SessionRequest, SmsCodeRequest, SmsCodeSent, SmsOutboxEntry, TokenPair};
use jingtong_api::{Phone, Problem};
use serde::Deserialize;
use tracing::{instrument, Span};
use utoipa::IntoParams;

use super::tokens::{self, Refreshed};
use super::{accounts, codes, AuthError, AuthUser, ClientIp};
use crate::audit::{self, Event, Kind};
use crate::error::{ApiJson, ApiProblem};
use crate::sms::{self, PHONE};
use crate::state::AppState;

fn parse_phone(input: &str) -> Result<Phone, AuthError> {
    let phone = Phone::parse(input).map_err(|_| AuthError::PhoneInvalid)?;
    Span::current().record("phone", phone.masked());
    Ok(phone)
}

/// Sends a 6-digit sign-in code by SMS.
#[utoipa::path(
    post, path = "/api/v1/auth/sms-codes", operation_id = "send_sms_code", tag = "auth",
    request_body = SmsCodeRequest,
    responses(
        (status = 202, description = "Code sent", body = SmsCodeSent),
        (status = 400, description = "`phone_invalid` or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "`phone_locked` after 5 wrong codes", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: one code per 60 s per number; the SMS budgets per phone and per client (crates/rules sms_limits.toml)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`service_unavailable`: the SMS carrier did not take the code; try again after Retry-After",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[instrument(skip_all, fields(phone))]
pub async fn send_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SmsCodeRequest>,
) -> Result<(StatusCode, Json<SmsCodeSent>), AuthError> {
    let phone = parse_phone(&body.phone)?;
    let phone_hash = state.keys.keyed_hash(PHONE, phone.as_str());
    let sent = codes::send(&state, &phone, &phone_hash, ip).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Signs in with the SMS code; a new number gets a new resident account.
#[utoipa::path(
    post, path = "/api/v1/auth/sessions", operation_id = "create_session", tag = "auth",
    request_body = SessionRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 400, description = "`phone_invalid`, `sms_code_invalid`, `sms_code_expired` or `invalid_request`",
            body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "`phone_locked`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the lock ends"))),
    )
)]
#[instrument(skip_all, fields(phone))]
pub async fn create_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<SessionRequest>,
) -> Result<Json<TokenPair>, AuthError> {
    let phone = parse_phone(&body.phone)?;
    let phone_hash = state.keys.keyed_hash(PHONE, phone.as_str());
    codes::verify(&state, &phone_hash, body.code.trim(), ip.clone()).await?;
    let user_id = accounts::find_or_create(&state, &phone, &phone_hash).await?;
    let pair = tokens::start_session(&state, &user_id).await?;
    let event = Event { user_id: Some(&user_id), phone_hash: Some(&phone_hash), client_ip: ip, detail: None };
    audit::record(&state.db, Kind::SignIn, state.now_ms(), event).await?;
    tracing::info!(user_id, "signed in");
    Ok(Json(pair))
}

/// Trades a refresh token for a new pair; the old refresh token stops working.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", operation_id = "refresh_session", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 400, description = "`invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`refresh_token_invalid`; a reused token also ends its session",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, AuthError> {
    match tokens::refresh(&state, body.refresh_token.trim()).await? {
        Refreshed::Rotated { pair, user_id } => {
            let event = Event { user_id: Some(&user_id), client_ip: ip, ..Event::default() };
            audit::record(&state.db, Kind::Refresh, state.now_ms(), event).await?;
            Ok(Json(pair))
        }
        Refreshed::Reused { user_id } => {
            tracing::warn!(user_id, "replaced refresh token presented again; session revoked");
            let event = Event { user_id: Some(&user_id), client_ip: ip, ..Event::default() };
            audit::record(&state.db, Kind::RefreshReuse, state.now_ms(), event).await?;
            Err(AuthError::RefreshInvalid)
        }
        Refreshed::Invalid => Err(AuthError::RefreshInvalid),
    }
}

/// Signs out: the session's access and refresh tokens stop working.
#[utoipa::path(
    delete, path = "/api/v1/auth/sessions/current", operation_id = "delete_current_session", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn delete_current_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
) -> Result<StatusCode, AuthError> {
    tokens::revoke_session(&state, &user.session_id).await?;
    let event = Event { user_id: Some(&user.user_id), client_ip: ip, ..Event::default() };
    audit::record(&state.db, Kind::SignOut, state.now_ms(), event).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(
    get, path = "/api/v1/me", operation_id = "get_me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = Me),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn me(user: AuthUser) -> Json<Me> {
    Json(Me {
        user_id: user.user_id,
        phone_masked: user.phone.as_ref().map(Phone::masked).unwrap_or_default(),
        role: user.role,
        verification_level: user.verification_level,
    })
}

#[derive(Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// The number the messages were sent to.
    pub phone: String,
}

/// Demo mode only: the local SMS gateway's messages to a number, newest first. Absent (404) otherwise.
#[utoipa::path(
    get, path = "/api/v1/dev/sms-outbox", operation_id = "list_sms_outbox", tag = "auth",
    params(OutboxQuery),
    responses(
        (status = 200, description = "Messages, newest first", body = [SmsOutboxEntry]),
        (status = 400, description = "`phone_invalid`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(phone))]
pub async fn sms_outbox(
    State(state): State<AppState>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<SmsOutboxEntry>>, ApiProblem> {
    let Ok(Query(query)) = query else {
        return Err(AuthError::PhoneInvalid.into());
    };
    let phone = parse_phone(&query.phone)?;
    Ok(Json(sms::outbox(&state.db, &state.keys, &phone).await?))
}
