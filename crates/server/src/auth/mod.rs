//! Sign-in with phone and SMS code, sessions with rotating refresh tokens, and the bearer extractor.

pub mod accounts;
pub mod codes;
pub mod handlers;
pub mod staff_accounts;
pub mod tokens;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jingtong_api::auth::{Role, VerificationLevel};
use jingtong_api::{ErrorCode, Phone};

use crate::error::ApiProblem;
use crate::state::AppState;

/// Everything sign-in can answer besides success.
#[derive(Debug)]
pub enum AuthError {
    PhoneInvalid,
    CodeInvalid,
    CodeExpired,
    Locked { retry_after: u64 },
    RateLimited { retry_after: u64 },
    Unauthorized,
    RefreshInvalid,
    Sms(crate::sms::SmsError),
    Internal(String),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> AuthError {
        AuthError::Internal(e.to_string())
    }
}

impl From<AuthError> for ApiProblem {
    fn from(e: AuthError) -> ApiProblem {
        match e {
            AuthError::PhoneInvalid => ApiProblem::new(ErrorCode::PhoneInvalid).field("phone", ErrorCode::PhoneInvalid),
            AuthError::CodeInvalid => {
                ApiProblem::new(ErrorCode::SmsCodeInvalid).field("code", ErrorCode::SmsCodeInvalid)
            }
            AuthError::CodeExpired => {
                ApiProblem::new(ErrorCode::SmsCodeExpired).field("code", ErrorCode::SmsCodeExpired)
            }
            AuthError::Locked { retry_after } => ApiProblem::new(ErrorCode::PhoneLocked).retry_after(retry_after),
            AuthError::RateLimited { retry_after } => ApiProblem::new(ErrorCode::RateLimited).retry_after(retry_after),
            AuthError::Unauthorized => ApiProblem::new(ErrorCode::Unauthorized),
            AuthError::RefreshInvalid => ApiProblem::new(ErrorCode::RefreshTokenInvalid),
            // One code per number per resend interval, and this send was counted.
            AuthError::Sms(e) => e.problem(u64::from(jingtong_api::auth::rules::RESEND_AFTER_SECONDS)),
            AuthError::Internal(detail) => ApiProblem::internal(&detail),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiProblem::from(self).into_response()
    }
}

/// The caller's address, for per-client limits and the audit trail.
/// Behind a reverse proxy this is the proxy; trusting `X-Forwarded-For` is a deployment decision left for later.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())))
    }
}

/// A signed-in caller, from `Authorization: Bearer <access token>`.
#[derive(Debug)]
pub struct AuthUser {
    pub user_id: String,
    pub session_id: String,
    /// `None` for staff, who sign in with a staff number.
    pub phone: Option<Phone>,
    pub role: Role,
    pub verification_level: VerificationLevel,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or(AuthError::Unauthorized)?;
        tokens::authenticate(state, token).await?.ok_or(AuthError::Unauthorized)
    }
}

/// The access token of `Authorization: Bearer <token>`, unchecked.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// The caller if signed in with `role`: 401 without a session, 403 with another role. Staff endpoints'
/// extractors use it, so the check happens before the body is read.
pub async fn with_role(parts: &mut Parts, state: &AppState, role: Role) -> Result<AuthUser, ApiProblem> {
    let user = AuthUser::from_request_parts(parts, state).await.map_err(ApiProblem::from)?;
    if user.role == role {
        Ok(user)
    } else {
        Err(ApiProblem::new(ErrorCode::Forbidden))
    }
}

/// Resident-only endpoints: staff accounts are refused.
pub fn resident(user: &AuthUser) -> Result<(), crate::error::ApiProblem> {
    if user.role == jingtong_api::auth::Role::Resident {
        Ok(())
    } else {
        Err(crate::error::ApiProblem::new(jingtong_api::ErrorCode::Forbidden))
    }
}
