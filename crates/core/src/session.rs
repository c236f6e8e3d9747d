//! The signed-in account as the app shows it: a non-secret copy of `GET /me`.

use jingtong_api::auth::{Me, VerificationLevel};
use jingtong_api::ErrorCode;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::db::{now, storage};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SessionInfo {
    pub user_id: String,
    /// `139****5678`; the full number is never kept outside the keychain-encrypted drafts.
    pub phone_masked: String,
    pub verification_level: VerificationLevel,
}

impl From<Me> for SessionInfo {
    fn from(me: Me) -> SessionInfo {
        SessionInfo { user_id: me.user_id, phone_masked: me.phone_masked, verification_level: me.verification_level }
    }
}

fn level_str(level: VerificationLevel) -> &'static str {
    match level {
        VerificationLevel::None => "none",
        VerificationLevel::RealName => "real_name",
    }
}

pub(crate) async fn save(db: &SqlitePool, info: &SessionInfo) -> Result<(), ErrorCode> {
    sqlx::query(
        "INSERT INTO session_info (id, user_id, phone_masked, verification_level, updated_at) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, phone_masked = excluded.phone_masked,
           verification_level = excluded.verification_level, updated_at = excluded.updated_at",
    )
    .bind(&info.user_id)
    .bind(&info.phone_masked)
    .bind(level_str(info.verification_level))
    .bind(now())
    .execute(db)
    .await
    .map_err(|e| storage(&e))?;
    Ok(())
}

pub(crate) async fn load(db: &SqlitePool) -> Result<Option<SessionInfo>, ErrorCode> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT user_id, phone_masked, verification_level FROM session_info WHERE id = 1")
            .fetch_optional(db)
            .await
            .map_err(|e| storage(&e))?;
    Ok(row.map(|(user_id, phone_masked, level)| SessionInfo {
        user_id,
        phone_masked,
        verification_level: if level == "real_name" { VerificationLevel::RealName } else { VerificationLevel::None },
    }))
}

pub(crate) async fn clear(db: &SqlitePool) -> Result<(), ErrorCode> {
    sqlx::query("DELETE FROM session_info").execute(db).await.map_err(|e| storage(&e))?;
    Ok(())
}
