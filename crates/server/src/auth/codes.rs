//! SMS codes: sending (with per-number and per-client limits) and checking (with the wrong-try lock).
//! Codes are stored only as keyed hashes; a 6-digit code under a plain hash would be read back in a second.

use jingtong_api::auth::rules::{CODE_LENGTH, CODE_TTL_SECONDS, LOCK_SECONDS, MAX_WRONG_TRIES, RESEND_AFTER_SECONDS};
use jingtong_api::auth::SmsCodeSent;
use jingtong_api::Phone;
use rand::Rng;

use super::AuthError;
use crate::audit::{self, Event, Kind};
use crate::crypto::constant_time_eq;
use crate::ratelimit::{self, Limit};
use crate::sms::{code_text, SmsMessage};
use crate::state::AppState;

const PER_NUMBER: Limit = Limit { max_hits: 1, window_ms: RESEND_AFTER_SECONDS as i64 * 1000 };

fn code_hash(state: &AppState, phone_hash: &str, code: &str) -> String {
    state.keys.keyed_hash("sms-code", &format!("{phone_hash}:{code}"))
}

/// Seconds left on the number's lock, if it is locked now.
async fn locked_for(state: &AppState, phone_hash: &str, now: i64) -> Result<Option<u64>, sqlx::Error> {
    let until: Option<(Option<i64>,)> = sqlx::query_as("SELECT locked_until FROM phone_guards WHERE phone_hash = $1")
        .bind(phone_hash)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(until.and_then(|(u,)| u).filter(|u| *u > now).map(|u| ((u - now) as u64).div_ceil(1000)))
}

pub async fn send(
    state: &AppState,
    phone: &Phone,
    phone_hash: &str,
    ip: Option<String>,
) -> Result<SmsCodeSent, AuthError> {
    let now = state.now_ms();
    if let Some(retry_after) = locked_for(state, phone_hash, now).await? {
        return Err(AuthError::Locked { retry_after });
    }
    // All limits in one transaction: a refused request is counted in none. The phone's and the
    // client's budgets (crates/rules sms_limits.toml) are shared with every SMS sent on request.
    let mut limits = vec![(format!("sms:resend:{phone_hash}"), PER_NUMBER)];
    limits.extend(ratelimit::sms_budgets(phone_hash, None, ip.as_deref(), None));
    let mut tx = state.db.begin().await?;
    if let Some(retry_after) = ratelimit::hit_all(&mut tx, &limits, now).await? {
        tx.rollback().await?;
        tracing::info!(retry_after, "sms send refused by rate limit");
        return Err(AuthError::RateLimited { retry_after });
    }
    tx.commit().await?;

    let code = format!("{:0width$}", rand::rng().random_range(0..1_000_000u32), width = CODE_LENGTH);
    sqlx::query(
        "INSERT INTO sms_codes (id, phone_hash, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(phone_hash)
    .bind(code_hash(state, phone_hash, &code))
    .bind(now)
    .bind(now + i64::from(CODE_TTL_SECONDS) * 1000)
    .execute(&state.db.pool)
    .await?;
    let message = SmsMessage::new(phone.clone(), code_text(&code, CODE_TTL_SECONDS / 60), code);
    state.sms.send(&message).await.map_err(AuthError::Sms)?;
    audit::record(
        &state.db,
        Kind::SmsSent,
        now,
        Event { phone_hash: Some(phone_hash), client_ip: ip, ..Event::default() },
    )
    .await?;
    Ok(SmsCodeSent { resend_after_seconds: RESEND_AFTER_SECONDS, expires_in_seconds: CODE_TTL_SECONDS })
}

/// Checks `code` against the newest code sent to the number and uses it up on success. The try is
/// claimed first, in one statement that refuses it while the number is locked or out of tries, so
/// parallel guesses are judged no more often than the same guesses one by one.
pub async fn verify(state: &AppState, phone_hash: &str, code: &str, ip: Option<String>) -> Result<(), AuthError> {
    let now = state.now_ms();
    let Some(tries) = claim_try(state, phone_hash, now).await? else {
        failed(state, phone_hash, now, ip).await?;
        let retry_after = locked_for(state, phone_hash, now).await?.unwrap_or(u64::from(LOCK_SECONDS));
        return Err(AuthError::Locked { retry_after });
    };
    let latest: Option<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, code_hash, expires_at, used_at FROM sms_codes WHERE phone_hash = $1
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(phone_hash)
    .fetch_optional(&state.db.pool)
    .await?;
    let well_formed = code.len() == CODE_LENGTH && code.bytes().all(|b| b.is_ascii_digit());
    match latest {
        Some((_, _, expires_at, None)) if expires_at <= now => {
            // Nothing left to guess: an expired code does not use up a try.
            sqlx::query(
                "UPDATE phone_guards SET wrong_tries = wrong_tries - 1 WHERE phone_hash = $1 AND wrong_tries > 0",
            )
            .bind(phone_hash)
            .execute(&state.db.pool)
            .await?;
            failed(state, phone_hash, now, ip).await?;
            Err(AuthError::CodeExpired)
        }
        Some((id, stored, _, None))
            if well_formed && constant_time_eq(&code_hash(state, phone_hash, code), &stored) =>
        {
            // Claim the code; of two sign-ins racing with one code, only one wins.
            let claimed = sqlx::query("UPDATE sms_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&state.db.pool)
                .await?
                .rows_affected();
            if claimed == 0 {
                return Err(wrong_try(state, phone_hash, tries, now, ip).await?);
            }
            sqlx::query("UPDATE phone_guards SET wrong_tries = 0 WHERE phone_hash = $1")
                .bind(phone_hash)
                .execute(&state.db.pool)
                .await?;
            Ok(())
        }
        _ => Err(wrong_try(state, phone_hash, tries, now, ip).await?),
    }
}

/// Takes one try for the number, counted as wrong until the code matches: the try's number, or
/// `None` while the number is locked or its tries are used up.
async fn claim_try(state: &AppState, phone_hash: &str, now: i64) -> Result<Option<i64>, sqlx::Error> {
    let _turn = state.db.write_turn().await?;
    let claimed: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO phone_guards (phone_hash, wrong_tries, locked_until) VALUES ($1, 1, NULL)
         ON CONFLICT (phone_hash) DO UPDATE SET wrong_tries = phone_guards.wrong_tries + 1
         WHERE (phone_guards.locked_until IS NULL OR phone_guards.locked_until <= $2) AND phone_guards.wrong_tries < $3
         RETURNING wrong_tries",
    )
    .bind(phone_hash)
    .bind(now)
    .bind(i64::from(MAX_WRONG_TRIES))
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(claimed.map(|(t,)| t))
}

async fn failed(state: &AppState, phone_hash: &str, now: i64, ip: Option<String>) -> Result<(), sqlx::Error> {
    audit::record(
        &state.db,
        Kind::SignInFailed,
        now,
        Event { phone_hash: Some(phone_hash), client_ip: ip, ..Event::default() },
    )
    .await
}

/// A wrong code on the claimed try `tries`; the last try locks the number and voids its outstanding code.
async fn wrong_try(
    state: &AppState,
    phone_hash: &str,
    tries: i64,
    now: i64,
    ip: Option<String>,
) -> Result<AuthError, sqlx::Error> {
    failed(state, phone_hash, now, ip.clone()).await?;
    if tries < i64::from(MAX_WRONG_TRIES) {
        return Ok(AuthError::CodeInvalid);
    }
    let lock_until = now + i64::from(LOCK_SECONDS) * 1000;
    sqlx::query("UPDATE sms_codes SET used_at = $1 WHERE phone_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(phone_hash)
        .execute(&state.db.pool)
        .await?;
    // The tries start again once the lock has run out.
    sqlx::query("UPDATE phone_guards SET wrong_tries = 0, locked_until = $1 WHERE phone_hash = $2")
        .bind(lock_until)
        .bind(phone_hash)
        .execute(&state.db.pool)
        .await?;
    tracing::warn!("number locked after {MAX_WRONG_TRIES} wrong codes");
    audit::record(
        &state.db,
        Kind::PhoneLocked,
        now,
        Event { phone_hash: Some(phone_hash), client_ip: ip, ..Event::default() },
    )
    .await?;
    Ok(AuthError::Locked { retry_after: u64::from(LOCK_SECONDS) })
}
