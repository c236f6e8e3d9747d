//! The traffic police duty queue (role `traffic`): escalated requests of the officer's city and
//! requests with an open abuse report; take over, close, confirm or dismiss a report.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::Json;
use jingtong_api::auth::Role;
use jingtong_api::moves::{DutyMoveView, MoveEventKind, MoveParty, TrafficAction, TrafficActionInput};
use jingtong_api::page::PageQuery;
use jingtong_api::{ErrorCode, Page, Problem};
use tracing::instrument;

use super::event;
use super::notify::notify_parties;
use super::view::{self, Viewer};
use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiProblem};
use crate::paging::Paging;
use crate::state::AppState;

/// A signed-in traffic officer.
pub struct Traffic(pub AuthUser);

impl FromRequestParts<AppState> for Traffic {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        crate::auth::with_role(parts, state, Role::Traffic).await.map(Traffic)
    }
}

async fn duty_region(state: &AppState, staff: &AuthUser) -> Result<Option<String>, ApiProblem> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT duty_region FROM staff_accounts WHERE user_id = $1")
        .bind(&staff.user_id)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.and_then(|r| r.0))
}

async fn duty_view(state: &AppState, move_id: &str) -> Result<Option<DutyMoveView>, ApiProblem> {
    let Some(request) = view::load(state, &Viewer::Traffic, move_id).await? else { return Ok(None) };
    let report: Option<(String,)> = sqlx::query_as("SELECT status FROM vehicle_move_reports WHERE move_id = $1")
        .bind(move_id)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(Some(DutyMoveView {
        brigade: request.region_code[..4].to_owned(),
        report_open: report.is_some_and(|r| r.0 == "open"),
        request,
    }))
}

/// Escalated requests and open abuse reports in the officer's city, oldest first.
#[utoipa::path(
    get, path = "/api/v1/staff/vehicle-moves", operation_id = "list_duty_vehicle_moves", tag = "staff",
    security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "The duty queue, oldest first", body = Page<DutyMoveView>),
        (status = 400, description = "`invalid_page`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not traffic police", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(staff_id = %staff.user_id))]
pub async fn list_duty_vehicle_moves(
    State(state): State<AppState>,
    Traffic(staff): Traffic,
    paging: Paging,
) -> Result<Json<Page<DutyMoveView>>, ApiProblem> {
    let region = duty_region(&state, &staff).await?;
    let sql = format!(
        "SELECT m.id, m.created_at FROM vehicle_moves m LEFT JOIN vehicle_move_reports r ON r.move_id = m.id
         WHERE (m.status = 'escalated' OR r.status = 'open') AND ($1 = '' OR m.brigade = $1) {}
         ORDER BY m.created_at, m.id LIMIT $2",
        paging.condition("m.created_at, m.id", ">", 3)
    );
    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(region.unwrap_or_default())
        .bind(paging.fetch());
    if let Some(a) = &paging.after {
        q = q.bind(a.int_key()?).bind(&a.id);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |r| (r.1.to_string(), r.0.clone()));
    let mut items = Vec::with_capacity(rows.len());
    for (id, _) in rows {
        if let Some(v) = duty_view(&state, &id).await? {
            items.push(v);
        }
    }
    Ok(Json(Page { items, next_cursor }))
}

/// Take over, close, or decide an abuse report.
#[utoipa::path(
    post, path = "/api/v1/staff/vehicle-moves/{move_id}/actions", operation_id = "act_on_duty_vehicle_move",
    tag = "staff", security(("bearer" = [])), params(("move_id" = String, Path)), request_body = TrafficActionInput,
    responses(
        (status = 200, description = "Done", body = DutyMoveView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not traffic police", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`move_state_conflict`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(staff_id = %staff.user_id, move_id = %move_id))]
pub async fn act_on_duty_vehicle_move(
    State(state): State<AppState>,
    Traffic(staff): Traffic,
    Path(move_id): Path<String>,
    ApiJson(input): ApiJson<TrafficActionInput>,
) -> Result<Json<DutyMoveView>, ApiProblem> {
    let region = duty_region(&state, &staff).await?.unwrap_or_default();
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let found: Option<(String,)> =
        sqlx::query_as("SELECT status FROM vehicle_moves WHERE id = $1 AND ($2 = '' OR brigade = $2)")
            .bind(&move_id)
            .bind(&region)
            .fetch_optional(&mut *tx)
            .await?;
    found.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    let (sql, kind) = match input.action {
        TrafficAction::TakeOver => (
            "UPDATE vehicle_moves SET updated_at = $1 WHERE id = $2 AND status = 'escalated'
               AND ($3 = '' OR brigade = $3) AND EXISTS (SELECT 1 FROM users u WHERE u.id = $4 AND u.role = 'traffic')",
            MoveEventKind::TakenOver,
        ),
        TrafficAction::Close => (
            // Only what is in the duty queue: escalated, or with an open abuse report.
            "UPDATE vehicle_moves SET status = 'resolved', resolved_at = $1, updated_at = $1, owner_token_hash = NULL
             WHERE id = $2 AND ($3 = '' OR brigade = $3)
               AND (status = 'escalated' OR (status <> 'resolved' AND EXISTS (
                 SELECT 1 FROM vehicle_move_reports r WHERE r.move_id = vehicle_moves.id AND r.status = 'open')))
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = $4 AND u.role = 'traffic')",
            MoveEventKind::Resolved,
        ),
        TrafficAction::ConfirmMalicious => (
            "UPDATE vehicle_move_reports SET status = 'confirmed', decided_at = $1 WHERE move_id = $2 AND status = 'open'
               AND EXISTS (SELECT 1 FROM vehicle_moves m WHERE m.id = $2 AND ($3 = '' OR m.brigade = $3))
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = $4 AND u.role = 'traffic')",
            MoveEventKind::MaliciousConfirmed,
        ),
        TrafficAction::DismissReport => (
            "UPDATE vehicle_move_reports SET status = 'dismissed', decided_at = $1 WHERE move_id = $2 AND status = 'open'
               AND EXISTS (SELECT 1 FROM vehicle_moves m WHERE m.id = $2 AND ($3 = '' OR m.brigade = $3))
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = $4 AND u.role = 'traffic')",
            MoveEventKind::ReportDismissed,
        ),
    };
    // State, region and role are checked by the statement that changes the row.
    let changed = sqlx::query(sql)
        .bind(now)
        .bind(&move_id)
        .bind(&region)
        .bind(&staff.user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(ApiProblem::new(ErrorCode::MoveStateConflict));
    }
    if matches!(input.action, TrafficAction::ConfirmMalicious | TrafficAction::DismissReport) {
        sqlx::query("UPDATE vehicle_move_reports SET decided_by = $1 WHERE move_id = $2")
            .bind(&staff.user_id)
            .bind(&move_id)
            .execute(&mut *tx)
            .await?;
    }
    event(&mut tx, &move_id, now, kind, MoveParty::Traffic, Some(&staff.user_id), None).await?;
    if input.action == TrafficAction::Close {
        super::notify::ended(&mut tx, &move_id, now).await?;
    }
    if input.action == TrafficAction::ConfirmMalicious {
        // A malicious request is over, too.
        let closed = sqlx::query(
            "UPDATE vehicle_moves SET status = 'resolved', resolved_at = $1, updated_at = $1, owner_token_hash = NULL
             WHERE id = $2 AND status <> 'resolved'",
        )
        .bind(now)
        .bind(&move_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed == 1 {
            event(&mut tx, &move_id, now, MoveEventKind::Resolved, MoveParty::Traffic, Some(&staff.user_id), None)
                .await?;
            super::notify::ended(&mut tx, &move_id, now).await?;
        }
    }
    tx.commit().await?;
    let summary = match input.action {
        TrafficAction::TakeOver => "交警已接手处理",
        TrafficAction::Close => "交警已处理完毕",
        TrafficAction::ConfirmMalicious | TrafficAction::DismissReport => "举报已处理",
    };
    notify_parties(&state, &move_id, summary).await?;
    duty_view(&state, &move_id).await?.map(Json).ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}
