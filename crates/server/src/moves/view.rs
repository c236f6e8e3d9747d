//! A request as one side sees it. Every query names the caller in its WHERE clause: the requester,
//! the owner's account, the holder of the SMS link's token, or traffic staff.

use jingtong_api::moves::{
    MoveEvent, MoveEventKind, MoveMessage, MoveParty, MoveReason, MoveStatus, MoveView, PlateType,
};
use jingtong_rules::MoveRules;
use sqlx::Row;

use super::{ADDRESS, MESSAGE, NOTE};
use crate::clock::rfc3339;
use crate::error::ApiProblem;
use crate::state::AppState;

/// Who asks: decides the SQL filter and the `role` of the answer.
pub enum Viewer<'a> {
    User(&'a str),
    Token(&'a str),
    Traffic,
}

const COLUMNS: &str = "id, requester_id, owner_user_id, plate, plate_type, address_enc, region_code, reason, note_enc,
    photos, status, eta_at, reminded_at, created_at";

/// The request `move_id` if the viewer may see it.
pub async fn load(state: &AppState, viewer: &Viewer<'_>, move_id: &str) -> Result<Option<MoveView>, ApiProblem> {
    let row = match viewer {
        Viewer::User(user_id) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM vehicle_moves WHERE id = $1 AND (requester_id = $2 OR owner_user_id = $2)"
            )))
            .bind(move_id)
            .bind(*user_id)
            .fetch_optional(&state.db.pool)
            .await?
        }
        Viewer::Token(hash) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM vehicle_moves WHERE id = $1 AND owner_token_hash = $2"
            )))
            .bind(move_id)
            .bind(*hash)
            .fetch_optional(&state.db.pool)
            .await?
        }
        Viewer::Traffic => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM vehicle_moves WHERE id = $1")))
                .bind(move_id)
                .fetch_optional(&state.db.pool)
                .await?
        }
    };
    let Some(row) = row else { return Ok(None) };
    let internal = |e: &dyn std::fmt::Display| ApiProblem::internal(e);
    let id: String = row.try_get("id")?;
    let requester_id: String = row.try_get("requester_id")?;
    let role = match viewer {
        Viewer::User(u) if *u == requester_id => MoveParty::Requester,
        Viewer::User(_) | Viewer::Token(_) => MoveParty::Owner,
        Viewer::Traffic => MoveParty::Traffic,
    };
    let status: String = row.try_get("status")?;
    let plate_type: String = row.try_get("plate_type")?;
    let reason: String = row.try_get("reason")?;
    let address: Vec<u8> = row.try_get("address_enc")?;
    let note: Option<Vec<u8>> = row.try_get("note_enc")?;
    let photos: String = row.try_get("photos")?;
    let photo_count = serde_json::from_str::<Vec<(String, String)>>(&photos).map_err(|e| internal(&e))?.len();

    let events: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT kind, party, at, eta_minutes FROM vehicle_move_events WHERE move_id = $1 ORDER BY at, id",
    )
    .bind(&id)
    .fetch_all(&state.db.pool)
    .await?;
    let events = events
        .into_iter()
        .filter_map(|(kind, party, at, eta)| {
            Some(MoveEvent {
                kind: MoveEventKind::parse(&kind)?,
                by: MoveParty::parse(&party)?,
                at: rfc3339(at),
                eta_minutes: eta.and_then(|m| u32::try_from(m).ok()),
            })
        })
        .collect();
    let messages: Vec<(String, i64, Vec<u8>)> =
        sqlx::query_as("SELECT party, at, text_enc FROM vehicle_move_messages WHERE move_id = $1 ORDER BY at, id")
            .bind(&id)
            .fetch_all(&state.db.pool)
            .await?;
    let messages = messages
        .into_iter()
        .filter_map(|(party, at, text)| {
            Some(MoveMessage {
                from: MoveParty::parse(&party)?,
                text: state.keys.decrypt_string(MESSAGE, &text).ok()?,
                at: rfc3339(at),
            })
        })
        .collect();
    let reported: Option<(String,)> = sqlx::query_as("SELECT status FROM vehicle_move_reports WHERE move_id = $1")
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?;
    let fields = Fields {
        id,
        plate: row.try_get("plate")?,
        plate_type: PlateType::parse(&plate_type).ok_or_else(|| internal(&"plate type"))?,
        address: state.keys.decrypt_string(ADDRESS, &address).map_err(|e| internal(&e))?,
        region_code: row.try_get("region_code")?,
        reason: MoveReason::parse(&reason).ok_or_else(|| internal(&"reason"))?,
        note: match note {
            Some(n) => Some(state.keys.decrypt_string(NOTE, &n).map_err(|e| internal(&e))?),
            None => None,
        },
        status: MoveStatus::parse(&status).ok_or_else(|| internal(&"move status"))?,
        photo_count,
        created_at: row.try_get("created_at")?,
        eta_at: row.try_get("eta_at")?,
        reminded_at: row.try_get("reminded_at")?,
    };
    Ok(Some(assemble(fields, role, state.now_ms(), events, messages, reported.is_some())))
}

/// A request's own fields, decrypted.
pub struct Fields {
    pub id: String,
    pub plate: String,
    pub plate_type: PlateType,
    pub address: String,
    pub region_code: String,
    pub reason: MoveReason,
    pub note: Option<String>,
    pub status: MoveStatus,
    pub photo_count: usize,
    pub created_at: i64,
    pub eta_at: Option<i64>,
    pub reminded_at: Option<i64>,
}

/// The view from the fields and the rows about the request: what each side may do next follows from
/// the status, the timers in the rules data and `now`. The create builds its answer with it from what
/// it has just written, without reading it back.
pub fn assemble(
    f: Fields,
    role: MoveParty,
    now: i64,
    events: Vec<MoveEvent>,
    messages: Vec<MoveMessage>,
    reported: bool,
) -> MoveView {
    let rules = MoveRules::load();
    let waiting = f.status == MoveStatus::Waiting;
    let remind_from = (waiting && f.reminded_at.is_none()).then(|| f.created_at + rules.reminder_after_ms());
    MoveView {
        id: f.id,
        role,
        plate: f.plate,
        plate_type: f.plate_type,
        address: f.address,
        region_code: f.region_code,
        reason: f.reason,
        note: f.note,
        status: f.status,
        photo_count: u32::try_from(f.photo_count).unwrap_or(0),
        created_at: rfc3339(f.created_at),
        eta_at: f.eta_at.map(rfc3339),
        remind_from: remind_from.map(rfc3339),
        escalates_at: waiting.then(|| rfc3339(f.created_at + rules.escalate_after_ms())),
        can_remind: role == MoveParty::Requester && remind_from.is_some_and(|t| now >= t),
        can_resolve: role == MoveParty::Requester && f.status.is_open(),
        can_answer: role == MoveParty::Owner && matches!(f.status, MoveStatus::Waiting | MoveStatus::Escalated),
        can_report: role == MoveParty::Owner && !reported,
        events,
        messages,
    }
}
