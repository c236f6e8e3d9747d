//! The SMS link for owners without the app (`/m/{token}`): a small page showing where and why, and
//! buttons to answer or report. The token is the credential: random, kept only as a keyed hash,
//! replaced on the reminder and void once the request is resolved.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use jingtong_api::moves::{MoveAnswer, MoveView, OwnerReply};
use jingtong_api::{ErrorCode, Problem};
use serde::Deserialize;
use tracing::instrument;

use super::view::{self, Viewer};
use super::{record_answer, record_report, TOKEN};
use crate::error::{ApiJson, ApiProblem};
use crate::headers::escape;
use crate::state::AppState;

/// The request the token opens, as its owner sees it.
async fn by_token(state: &AppState, token: &str) -> Result<(String, MoveView), ApiProblem> {
    let hash = state.keys.keyed_hash(TOKEN, token.trim());
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM vehicle_moves WHERE owner_token_hash = $1")
        .bind(&hash)
        .fetch_optional(&state.db.pool)
        .await?;
    let (id,) = row.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    let view =
        view::load(state, &Viewer::Token(&hash), &id).await?.ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))?;
    Ok((id, view))
}

/// The request behind an SMS link (for owners without the app).
#[utoipa::path(
    get, path = "/api/v1/vehicle-move-links/{token}", operation_id = "get_vehicle_move_link", tag = "vehicle-moves",
    params(("token" = String, Path, description = "From the SMS link")),
    responses(
        (status = 200, description = "The request, owner's side", body = MoveView),
        (status = 404, description = "`not_found`: unknown, replaced or closed link", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn get_vehicle_move_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<MoveView>, ApiProblem> {
    by_token(&state, &token).await.map(|(_, v)| Json(v))
}

/// The owner answers through the SMS link.
#[utoipa::path(
    post, path = "/api/v1/vehicle-move-links/{token}/answer", operation_id = "answer_vehicle_move_link",
    tag = "vehicle-moves", params(("token" = String, Path, description = "From the SMS link")), request_body = MoveAnswer,
    responses(
        (status = 200, description = "Answered", body = MoveView),
        (status = 400, description = "`field_required` (eta_minutes) or `invalid_request`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`move_state_conflict`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all)]
pub async fn answer_vehicle_move_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(answer): ApiJson<MoveAnswer>,
) -> Result<Json<MoveView>, ApiProblem> {
    let (id, _) = by_token(&state, &token).await?;
    record_answer(&state, &id, &answer, None).await?;
    by_token(&state, &token).await.map(|(_, v)| Json(v))
}

#[derive(Deserialize)]
pub struct PageForm {
    reply: String,
    eta_minutes: Option<u32>,
}

fn page(view: &MoveView, token: &str, said: Option<&str>) -> String {
    let token = escape(token);
    let said = said.map(|s| format!("<p id=\"said\">{}</p>", escape(s))).unwrap_or_default();
    let buttons = if view.can_answer {
        let eta = [5, 10, 15]
            .iter()
            .map(|m| {
                format!(
                    "<form method=\"post\" action=\"/m/{token}\"><input type=\"hidden\" name=\"reply\" value=\"coming\">\
                     <input type=\"hidden\" name=\"eta_minutes\" value=\"{m}\"><button type=\"submit\">约{m}分钟到</button></form>"
                )
            })
            .collect::<String>();
        format!(
            "{eta}<form method=\"post\" action=\"/m/{token}\"><input type=\"hidden\" name=\"reply\" value=\"cannot\">\
             <button type=\"submit\">无法前来</button></form>\
             <form method=\"post\" action=\"/m/{token}\"><input type=\"hidden\" name=\"reply\" value=\"not_mine\">\
             <button type=\"submit\">不是我的车</button></form>"
        )
    } else {
        String::new()
    };
    let report = if view.can_report {
        format!(
            "<form method=\"post\" action=\"/m/{token}\"><input type=\"hidden\" name=\"reply\" value=\"report\">\
             <button type=\"submit\">举报恶意请求</button></form>"
        )
    } else {
        String::new()
    };
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>警通 挪车提醒</title></head>\
         <body><h1>挪车提醒</h1><p>车辆 <span id=\"plate\">{plate}</span></p><p>地点：{address}</p>\
         <p>原因：{reason}</p><p>状态：<span id=\"status\">{status}</span></p>{said}{buttons}{report}\
         <p>对方看不到您的号码，您也看不到对方的号码。</p></body></html>",
        plate = escape(&view.plate),
        address = escape(&view.address),
        reason = escape(view.reason.text_zh()),
        status = view.status.as_str(),
    )
}

/// The short link's page.
#[instrument(skip_all)]
pub async fn link_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match by_token(&state, &token).await {
        Ok((_, view)) => Html(page(&view, &token, None)).into_response(),
        Err(p) => p.into_response(),
    }
}

/// The page's buttons post here.
#[instrument(skip_all)]
pub async fn link_page_answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<PageForm>,
) -> Response {
    let result = async {
        let (id, _) = by_token(&state, &token).await?;
        let said = match form.reply.as_str() {
            "report" => {
                record_report(&state, &id, None).await?;
                "已举报，交警将核实。"
            }
            reply => {
                let reply = match reply {
                    "coming" => OwnerReply::Coming,
                    "cannot" => OwnerReply::Cannot,
                    "not_mine" => OwnerReply::NotMine,
                    _ => return Err(ApiProblem::new(ErrorCode::InvalidRequest)),
                };
                record_answer(&state, &id, &MoveAnswer { reply, eta_minutes: form.eta_minutes }, None).await?;
                "已回复，谢谢。"
            }
        };
        let (_, now) = by_token(&state, &token).await?;
        Ok::<_, ApiProblem>(page(&now, &token, Some(said)))
    }
    .await;
    match result {
        Ok(html) => Html(html).into_response(),
        Err(p) => p.into_response(),
    }
}
