//! Sign-in with phone + SMS code.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Rules of sign-in, in one place for server, app and docs.
pub mod rules {
    /// Digits in an SMS code.
    pub const CODE_LENGTH: usize = 6;
    /// A code is valid this long.
    pub const CODE_TTL_SECONDS: u32 = 300;
    /// At most one send per number in this window.
    pub const RESEND_AFTER_SECONDS: u32 = 60;
    /// Wrong tries in a row before the number locks.
    pub const MAX_WRONG_TRIES: u32 = 5;
    /// How long the lock lasts.
    pub const LOCK_SECONDS: u32 = 900;
    /// Access tokens are short-lived; the refresh token rotates on every use.
    pub const ACCESS_TTL_SECONDS: u32 = 900;
    pub const REFRESH_TTL_SECONDS: u32 = 30 * 24 * 3600;
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SmsCodeRequest {
    /// Mainland mobile number, e.g. `19900001234`.
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct SmsCodeSent {
    pub resend_after_seconds: u32,
    pub expires_in_seconds: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionRequest {
    pub phone: String,
    pub code: String,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u32,
    pub token_type: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenPair(expires_in={})", self.expires_in)
    }
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VerificationLevel {
    None,
    RealName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    Clerk,
    Traffic,
    Officer,
    Admin,
}

/// The signed-in account, as the server knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub phone_masked: String,
    pub role: Role,
    pub verification_level: VerificationLevel,
}

/// The public health check: only that the server is up (`"ok"`), nothing an attacker could use.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// One message in the local SMS gateway's outbox (demo mode only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SmsOutboxEntry {
    pub phone: String,
    pub text: String,
    pub code: String,
    pub sent_at: String,
}
