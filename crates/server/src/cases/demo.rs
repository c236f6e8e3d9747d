//! Demo case data (`--demo`): the fixture's cases get a station, an officer, the reporter's phone,
//! a query code printed in the README, and their first public event. All fictional.

use jingtong_api::auth::Role;
use jingtong_api::Phone;

use super::QUERY_CODE;
use crate::auth::staff_accounts::ensure_account;
use crate::demo::FIXTURE;
use crate::sms::PHONE;
use crate::state::AppState;

/// Staff number and password of the demo officer.
pub const DEMO_OFFICER: (&str, &str) = ("JT1001", "demo-officer-2026");
/// Every demo receipt's query code (a real receipt has its own random one).
pub const DEMO_QUERY_CODE: &str = "K7P2QX";

pub async fn load(state: &AppState) -> Result<(), sqlx::Error> {
    let demo: serde_json::Value = serde_json::from_str(FIXTURE).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    for r in demo["residents"].as_array().into_iter().flatten() {
        let Ok(phone) = Phone::parse(r["phone"].as_str().unwrap_or_default()) else { continue };
        for c in r["cases"].as_array().into_iter().flatten() {
            let (Some(id), Some(receipt)) = (c["id"].as_str(), c["receipt_number"].as_str()) else { continue };
            let set = sqlx::query(
                "UPDATE cases SET station = '演示市公安局蜀山分局 演示路派出所', officer = '民警 张某',
                   query_code_hash = $1, phone_enc = $2, status_changed_at = reported_at, updated_at = reported_at
                 WHERE id = $3 AND query_code_hash IS NULL",
            )
            .bind(state.keys.keyed_hash(QUERY_CODE, &format!("{receipt}:{DEMO_QUERY_CODE}")))
            .bind(state.keys.encrypt(PHONE, phone.as_str().as_bytes()))
            .bind(id)
            .execute(&state.db.pool)
            .await?
            .rows_affected();
            if set == 1 {
                sqlx::query(
                    "INSERT INTO case_events (id, case_id, at, status, text)
                     SELECT $1, id, reported_at, 'received', '演示路派出所 已受理您的报案' FROM cases WHERE id = $2",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(id)
                .execute(&state.db.pool)
                .await?;
            }
        }
    }
    ensure_account(&state.db, DEMO_OFFICER.0, DEMO_OFFICER.1, Role::Officer, state.now_ms()).await?;
    Ok(())
}
