//! Opaque bearer tokens. Only their sha256 is stored. Access tokens live 15 minutes; a refresh token
//! works once and is replaced on every use. Presenting a replaced refresh token means it was copied,
//! so the whole session is revoked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jingtong_api::auth::rules::{ACCESS_TTL_SECONDS, REFRESH_TTL_SECONDS};
use jingtong_api::auth::{Role, TokenPair, VerificationLevel};
use jingtong_api::Phone;
use sqlx::AnyConnection;

use super::AuthUser;
use crate::crypto::sha256_hex;
use crate::sms::PHONE;
use crate::state::AppState;

pub const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

async fn insert_token(
    conn: &mut AnyConnection,
    session_id: &str,
    kind: &str,
    now: i64,
    ttl_s: u32,
) -> Result<String, sqlx::Error> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO tokens (token_hash, session_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(&token))
    .bind(session_id)
    .bind(kind)
    .bind(now)
    .bind(now + i64::from(ttl_s) * 1000)
    .execute(conn)
    .await?;
    Ok(token)
}

async fn issue_pair(conn: &mut AnyConnection, session_id: &str, now: i64) -> Result<TokenPair, sqlx::Error> {
    Ok(TokenPair {
        access_token: insert_token(conn, session_id, ACCESS, now, ACCESS_TTL_SECONDS).await?,
        refresh_token: insert_token(conn, session_id, REFRESH, now, REFRESH_TTL_SECONDS).await?,
        expires_in: ACCESS_TTL_SECONDS,
        token_type: "Bearer".to_owned(),
    })
}

/// A new session for a user who just proved the phone.
pub async fn start_session(state: &AppState, user_id: &str) -> Result<TokenPair, sqlx::Error> {
    let now = state.now_ms();
    let session_id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(&session_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let pair = issue_pair(&mut tx, &session_id, now).await?;
    tx.commit().await?;
    Ok(pair)
}

pub enum Refreshed {
    Rotated {
        pair: TokenPair,
        user_id: String,
    },
    /// Unknown, expired, or its session is gone.
    Invalid,
    /// An already-replaced token came back: the session is now revoked.
    Reused {
        user_id: String,
    },
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    session_id: String,
    user_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
}

pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<Refreshed, sqlx::Error> {
    let now = state.now_ms();
    let hash = sha256_hex(refresh_token);
    let row: Option<RefreshRow> = sqlx::query_as(
        "SELECT t.session_id, s.user_id, t.expires_at, t.used_at, s.revoked_at
         FROM tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1 AND t.kind = $2",
    )
    .bind(&hash)
    .bind(REFRESH)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(RefreshRow { session_id, user_id, expires_at, used_at, revoked_at }) = row else {
        return Ok(Refreshed::Invalid);
    };
    if revoked_at.is_some() {
        return Ok(Refreshed::Invalid);
    }
    if used_at.is_some() {
        revoke_session(state, &session_id).await?;
        return Ok(Refreshed::Reused { user_id });
    }
    if expires_at <= now {
        return Ok(Refreshed::Invalid);
    }
    let mut tx = state.db.begin().await?;
    let claimed = sqlx::query("UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(&hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        // Someone else used it between our read and this write: the same theft signal.
        tx.rollback().await?;
        revoke_session(state, &session_id).await?;
        return Ok(Refreshed::Reused { user_id });
    }
    let pair = issue_pair(&mut tx, &session_id, now).await?;
    tx.commit().await?;
    Ok(Refreshed::Rotated { pair, user_id })
}

/// Ends a session: its access and refresh tokens stop working at once, and its open event streams
/// close, in every server process.
pub async fn revoke_session(state: &AppState, session_id: &str) -> Result<(), sqlx::Error> {
    let ended = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(state.now_ms())
        .bind(session_id)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    if ended > 0 {
        crate::changes::end_streams(state, vec![session_id.to_owned()], vec![]);
    }
    Ok(())
}

/// When a live access token stops working (ms since the epoch); `None` if it is not live.
pub async fn access_expires_at(state: &AppState, access_token: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = format!("SELECT t.expires_at {LIVE_ACCESS_TOKEN}");
    let row: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(sha256_hex(access_token))
        .bind(ACCESS)
        .bind(state.now_ms())
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.map(|r| r.0))
}

/// The live session and user behind an access token: `t`, `s` and `u` for a query's SELECT list.
/// $1 the token's hash, $2 [`ACCESS`], $3 now (ms). Every bearer check goes through it.
pub const LIVE_ACCESS_TOKEN: &str =
    "FROM tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
     WHERE t.token_hash = $1 AND t.kind = $2 AND t.expires_at > $3 AND s.revoked_at IS NULL";

/// The caller behind an access token, if it is live.
pub async fn authenticate(state: &AppState, access_token: &str) -> Result<Option<AuthUser>, sqlx::Error> {
    let sql = format!("SELECT u.id, s.id, u.phone_enc, u.role, u.verification_level {LIVE_ACCESS_TOKEN}");
    let row: Option<(String, String, Vec<u8>, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(sha256_hex(access_token))
        .bind(ACCESS)
        .bind(state.now_ms())
        .fetch_optional(&state.db.pool)
        .await?;
    let Some((user_id, session_id, phone_enc, role, level)) = row else {
        return Ok(None);
    };
    let decode_err = |what: &str| sqlx::Error::Decode(format!("users.{what} of {user_id} is not readable").into());
    let role = parse_role(&role).ok_or_else(|| decode_err("role"))?;
    // Staff sign in without a phone; every resident has one.
    let phone = state.keys.decrypt_string(PHONE, &phone_enc).ok().and_then(|p| Phone::parse(&p).ok());
    if phone.is_none() && role == Role::Resident {
        return Err(decode_err("phone_enc"));
    }
    let verification_level = match level.as_str() {
        "none" => VerificationLevel::None,
        "real_name" => VerificationLevel::RealName,
        _ => return Err(decode_err("verification_level")),
    };
    Ok(Some(AuthUser { user_id, session_id, phone, role, verification_level }))
}

fn parse_role(s: &str) -> Option<Role> {
    Some(match s {
        "resident" => Role::Resident,
        "clerk" => Role::Clerk,
        "traffic" => Role::Traffic,
        "officer" => Role::Officer,
        "admin" => Role::Admin,
        _ => return None,
    })
}
