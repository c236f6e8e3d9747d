//! Resident accounts, keyed by the phone's keyed hash; the number itself is stored encrypted.

use jingtong_api::Phone;
use sqlx::Row;

use crate::sms::PHONE;
use crate::state::AppState;

/// The account for this number, created on first sign-in (verification level `none`).
pub async fn find_or_create(state: &AppState, phone: &Phone, phone_hash: &str) -> Result<String, sqlx::Error> {
    // Insert-or-ignore, then read: two first sign-ins at once still end in one account.
    sqlx::query(
        "INSERT INTO users (id, phone_hash, phone_enc, role, verification_level, created_at)
         VALUES ($1, $2, $3, 'resident', 'none', $4) ON CONFLICT (phone_hash) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(phone_hash)
    .bind(state.keys.encrypt(PHONE, phone.as_str().as_bytes()))
    .bind(state.now_ms())
    .execute(&state.db.pool)
    .await?;
    let row =
        sqlx::query("SELECT id FROM users WHERE phone_hash = $1").bind(phone_hash).fetch_one(&state.db.pool).await?;
    row.try_get("id")
}
