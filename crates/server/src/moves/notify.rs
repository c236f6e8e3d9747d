//! Reaching the owner and the timers: the registry lookup, the in-app or SMS notice, the one
//! reminder and the escalation job. A notice says where and why; it never carries a phone number.

use jingtong_api::moves::{MoveEventKind, MoveParty, MoveReason, MoveStatus};
use jingtong_api::{Phone, Plate};
use jingtong_rules::MoveRules;

use super::{event, ADDRESS};
use crate::changes::publish;
use crate::error::ApiProblem;
use crate::sms::{SmsMessage, PHONE};
use crate::state::AppState;

pub const ESCALATE_JOB: &str = "vehicle_move.escalate";
pub const REMINDER_OPEN_JOB: &str = "vehicle_move.reminder_open";
pub const ERASE_PHOTOS_JOB: &str = "vehicle_move.erase_photos";
/// The kind of change an open app hears about.
pub const CHANGE_KIND: &str = "vehicle_move";

/// The vehicle as the registry knows it and how its owner is reached.
pub struct Owner {
    pub vehicle_id: String,
    pub description: String,
    /// The owner's resident account, if the owner uses the app: notified in the app.
    pub user_id: Option<String>,
    /// Otherwise the phone on file, for the SMS.
    pub phone: Option<Phone>,
}

/// Vehicle id, brand, colour, the owner's phone (encrypted and keyed hash) and ID-number hash.
type VehicleRow = (String, String, String, Option<Vec<u8>>, Option<String>);

/// Looks the plate up in the vehicle registry (the local adapter reads `registry_vehicles`).
pub async fn owner_of(state: &AppState, plate: &Plate) -> Result<Option<Owner>, ApiProblem> {
    let row: Option<VehicleRow> =
        sqlx::query_as(crate::hot::PLATE_OWNER).bind(plate.as_str()).fetch_optional(&state.db.pool).await?;
    let Some((vehicle_id, brand, color, phone_enc, user_id)) = row else { return Ok(None) };
    let phone = match phone_enc {
        Some(enc) => {
            let text = state.keys.decrypt_string(PHONE, &enc).map_err(|e| ApiProblem::internal(&e))?;
            Phone::parse(&text).ok()
        }
        None => None,
    };
    Ok(Some(Owner { vehicle_id, description: format!("{color}{brand}"), user_id, phone }))
}

/// The SMS to an owner without the app: plate (masked), car, place, reason and the answer link.
pub fn sms_text(
    plate: &Plate,
    description: &str,
    address: &str,
    reason: MoveReason,
    link: &str,
    reminder: bool,
) -> String {
    let head = if reminder { "【警通】催办提醒：" } else { "【警通】" };
    format!(
        "{head}您的车辆{}（{description}）停放在{address}，{}，请尽快挪车。请点击 {link} 回复是否前来（对方看不到您的号码）。",
        plate.masked(),
        reason.text_zh()
    )
}

/// What the owner's app shows in the notification.
pub fn app_summary(plate: &Plate, reason: MoveReason, reminder: bool) -> String {
    let head = if reminder { "催办：" } else { "" };
    format!("{head}您的车辆{}{}，请尽快挪车", plate.masked(), reason.text_zh())
}

/// The reminder for the owner, in the reminder's transaction: by SMS (with a fresh link token,
/// since the link's token is only kept hashed) queued in `conn` for the runner (wake it after the
/// commit), or, for an owner in the app, who to notify once committed.
pub async fn remind_owner(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    move_id: &str,
    now: i64,
) -> Result<Option<InAppReminder>, ApiProblem> {
    let row: Option<(String, Option<String>, Vec<u8>, String)> =
        sqlx::query_as("SELECT plate, owner_user_id, address_enc, reason FROM vehicle_moves WHERE id = $1")
            .bind(move_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((plate, owner_user_id, address, reason)) = row else { return Ok(None) };
    let plate = Plate::parse(&plate).map_err(|_| ApiProblem::internal(&"stored plate"))?;
    let reason = MoveReason::parse(&reason).unwrap_or(MoveReason::Other);
    if let Some(owner) = owner_user_id {
        return Ok(Some(InAppReminder { owner, plate, reason }));
    }
    let Some(owner) = owner_of(state, &plate).await? else { return Ok(None) };
    // Over the owner's SMS budget, no reminder: the escalation to traffic staff still follows.
    if let Some(wait) = claim_sms(state, conn, &owner, None, now).await? {
        tracing::info!(wait, "owner reminder SMS skipped: the owner's SMS budget is used up");
        return Ok(None);
    }
    let token = link_token();
    let changed =
        sqlx::query("UPDATE vehicle_moves SET owner_token_hash = $1 WHERE id = $2 AND owner_token_hash IS NOT NULL")
            .bind(state.keys.keyed_hash(super::TOKEN, &token))
            .bind(move_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if changed == 0 {
        return Ok(None);
    }
    let address = state.keys.decrypt_string(ADDRESS, &address).map_err(|e| ApiProblem::internal(&e))?;
    let notice = Notice { move_id, plate: &plate, reason, address: &address, reminder: true };
    if let Some(message) = owner_sms(state, &notice, &owner, &token) {
        crate::sms::queue(conn, &state.keys, &message, now).await?;
    }
    Ok(None)
}

/// Counts an SMS to the owner against the owner's phone and vehicle budgets (and the requester's
/// account, for a new request): `Some(seconds)` when refused. Call it in the request's transaction.
pub async fn claim_sms(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    owner: &Owner,
    requester: Option<&str>,
    now: i64,
) -> Result<Option<u64>, ApiProblem> {
    let Some(phone) = &owner.phone else { return Ok(None) };
    let phone_hash = state.keys.keyed_hash(PHONE, phone.as_str());
    let object = format!("vehicle:{}", owner.vehicle_id);
    let budgets = crate::ratelimit::sms_budgets(&phone_hash, Some(&object), None, requester);
    Ok(crate::ratelimit::hit_all(conn, &budgets, now).await?)
}

/// A fresh secret for the owner's SMS link (stored only as a keyed hash).
pub fn link_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A reminder for an owner in the app, told once the reminder is committed.
pub struct InAppReminder {
    pub owner: String,
    pub plate: Plate,
    pub reason: MoveReason,
}

/// What a notice is about.
pub struct Notice<'a> {
    pub move_id: &'a str,
    pub plate: &'a Plate,
    pub reason: MoveReason,
    /// Only the SMS names the place (the app shows the request itself).
    pub address: &'a str,
    pub reminder: bool,
}

/// Tells an owner who uses the app: a notification in their open app.
pub fn tell_in_app(state: &AppState, notice: &Notice<'_>, owner_user_id: &str) {
    let summary = app_summary(notice.plate, notice.reason, notice.reminder);
    publish(state, vec![owner_user_id.to_owned()], CHANGE_KIND, notice.move_id, &summary);
}

/// The SMS to the registry's phone of `owner`, with the link carrying `token`; `None` without a
/// phone on file. Queued by the caller in the transaction that makes it due.
pub fn owner_sms(state: &AppState, notice: &Notice<'_>, owner: &Owner, token: &str) -> Option<SmsMessage> {
    let phone = owner.phone.clone()?;
    let link = format!("{}/m/{token}", state.base_url);
    let text = sms_text(notice.plate, &owner.description, notice.address, notice.reason, &link, notice.reminder);
    Some(SmsMessage::new(phone, text, String::new()))
}

/// Hands a still-unanswered request (or one the owner cannot come for) to the traffic police.
/// The conditional update makes it happen once, whoever calls it and however often.
pub async fn escalate(state: &AppState, move_id: &str, from: &[MoveStatus], by: MoveParty) -> Result<bool, ApiProblem> {
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let mut changed = 0;
    for status in from {
        changed += sqlx::query(
            "UPDATE vehicle_moves SET status = 'escalated', escalated_at = $1, updated_at = $1 WHERE id = $2 AND status = $3",
        )
        .bind(now)
        .bind(move_id)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    if changed == 0 {
        return Ok(false);
    }
    event(&mut tx, move_id, now, MoveEventKind::Escalated, by, None, None).await?;
    tx.commit().await?;
    tracing::info!(move_id, "vehicle move escalated to the duty queue");
    notify_parties(state, move_id, "已转交辖区交警处理").await?;
    Ok(true)
}

/// Pushes a change to both sides' open apps.
pub async fn notify_parties(state: &AppState, move_id: &str, summary: &str) -> Result<(), ApiProblem> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT requester_id, owner_user_id FROM vehicle_moves WHERE id = $1")
            .bind(move_id)
            .fetch_optional(&state.db.pool)
            .await?;
    if let Some((requester, owner)) = row {
        publish_to_parties(state, move_id, requester, owner, summary);
    }
    Ok(())
}

/// Pushes a change to the requester's and (when in the app) the owner's open apps.
pub fn publish_to_parties(state: &AppState, move_id: &str, requester: String, owner: Option<String>, summary: &str) {
    publish(state, std::iter::once(requester).chain(owner).collect(), CHANGE_KIND, move_id, summary);
}

/// The escalation timer: still waiting at the deadline → the duty queue.
pub async fn escalate_job(state: &AppState, move_id: &str) -> Result<(), String> {
    escalate(state, move_id, &[MoveStatus::Waiting], MoveParty::System)
        .await
        .map(|_| ())
        .map_err(|e| e.code.to_string())
}

/// The reminder window opened: tell the requester's app they may remind the owner now.
pub async fn reminder_open_job(state: &AppState, move_id: &str) -> Result<(), String> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT requester_id FROM vehicle_moves WHERE id = $1 AND status = 'waiting' AND reminded_at IS NULL",
    )
    .bind(move_id)
    .fetch_optional(&state.db.pool)
    .await
    .map_err(|e| e.to_string())?;
    if let Some((requester,)) = row {
        let minutes = MoveRules::load().timers.reminder_after_minutes;
        publish(state, vec![requester], CHANGE_KIND, move_id, &format!("车主{minutes}分钟未回应，现在可以催单"));
    }
    Ok(())
}

/// A request ended: its scene photos are erased after the rules' retention period.
pub async fn ended(conn: &mut sqlx::AnyConnection, move_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let at = now + MoveRules::load().photos_kept_ms();
    crate::jobs::enqueue(conn, ERASE_PHOTOS_JOB, &serde_json::json!({ "move_id": move_id }), at, now).await.map(|_| ())
}

/// Deletes the scene photos of an ended request from the blob store; the row keeps no key after.
pub async fn erase_photos_job(state: &AppState, move_id: &str) -> Result<(), String> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT photos FROM vehicle_moves WHERE id = $1 AND status = 'resolved'")
            .bind(move_id)
            .fetch_optional(&state.db.pool)
            .await
            .map_err(|e| e.to_string())?;
    let Some((photos,)) = row else { return Ok(()) };
    let photos: Vec<(String, String)> = serde_json::from_str(&photos).map_err(|e| e.to_string())?;
    for (key, _) in &photos {
        state.blobs.delete(key).await.map_err(|e| e.to_string())?;
    }
    sqlx::query("UPDATE vehicle_moves SET photos = '[]' WHERE id = $1")
        .bind(move_id)
        .execute(&state.db.pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
