//! The router: API routes, the OpenAPI document, problem rendering, limits and request tracing.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Json, Router};
use jingtong_api::auth::Health;
use jingtong_api::{ErrorCode, Problem};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::applications::{self, staff};
use crate::auth::handlers as auth;
use crate::cases::{self, staff as case_staff};
use crate::changes;
use crate::error::{self, ApiProblem};
use crate::headers;
use crate::identity;
use crate::moves::{self, duty as move_duty, link as move_link};
use crate::openapi::ApiDoc;
use crate::payments::{self, orders, provider, settle};
use crate::state::AppState;

/// JSON bodies are small; uploads will get their own, larger limit on their own routes.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState, demo: bool) -> Router {
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::send_code))
        .routes(routes!(auth::create_session))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::delete_current_session))
        .routes(routes!(auth::me))
        .routes(routes!(health))
        .routes(routes!(identity::create_challenge))
        .routes(routes!(payments::scan_bill))
        .routes(routes!(payments::list_bills))
        .routes(routes!(payments::get_bill))
        .routes(routes!(orders::create_order))
        .routes(routes!(orders::get_order))
        .routes(routes!(payments::get_receipt))
        .routes(routes!(settle::notify))
        .routes(routes!(applications::list_stations))
        .routes(routes!(applications::list_applications))
        .routes(routes!(applications::get_application))
        .routes(routes!(applications::withdraw_application))
        .routes(routes!(staff::create_staff_session))
        .routes(routes!(staff::list_staff_applications))
        .routes(routes!(staff::transition_application))
        .routes(routes!(cases::list_cases))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::start_lookup))
        .routes(routes!(cases::verify_lookup))
        .routes(routes!(changes::stream_changes))
        .routes(routes!(case_staff::register_case))
        .routes(routes!(case_staff::append_event))
        .routes(routes!(moves::list_vehicle_moves))
        .routes(routes!(moves::get_vehicle_move))
        .routes(routes!(moves::remind_vehicle_move))
        .routes(routes!(moves::resolve_vehicle_move))
        .routes(routes!(moves::answer_vehicle_move))
        .routes(routes!(moves::message_vehicle_move))
        .routes(routes!(moves::report_vehicle_move))
        .routes(routes!(move_link::get_vehicle_move_link))
        .routes(routes!(move_link::answer_vehicle_move_link))
        .routes(routes!(move_duty::list_duty_vehicle_moves))
        .routes(routes!(move_duty::act_on_duty_vehicle_move))
        .merge(
            // Up to three compressed photos travel in the JSON body, base64.
            OpenApiRouter::new()
                .routes(routes!(moves::create_vehicle_move))
                .layer(DefaultBodyLimit::max(jingtong_api::moves::rules::BODY_LIMIT)),
        )
        .merge(
            // The ID photo travels in the JSON body, base64.
            OpenApiRouter::new()
                .routes(routes!(applications::create_application))
                .layer(DefaultBodyLimit::max(jingtong_api::applications::rules::BODY_LIMIT)),
        )
        .merge(
            // Frames are uploaded here: a larger limit on this one route.
            OpenApiRouter::new()
                .routes(routes!(identity::submit_frames))
                .layer(DefaultBodyLimit::max(jingtong_api::identity::rules::FRAMES_BODY_LIMIT)),
        );
    if demo {
        api = api
            .routes(routes!(auth::sms_outbox))
            .routes(routes!(payments::dev_bill_code))
            .routes(routes!(provider::pay_page))
            .routes(routes!(provider::confirm));
    }
    let (router, spec) = api.split_for_parts();
    let spec = spec.to_json().expect("the OpenAPI document serialises");
    router
        // The owners' SMS short link: a page, not part of the JSON API.
        .route("/m/{token}", get(move_link::link_page).post(move_link::link_page_answer))
        .route("/api/v1/openapi.json", get(move || async move { ([(CONTENT_TYPE, "application/json")], spec) }))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        // A panicking handler answers 500, which `localize` turns into an `internal` problem.
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn(error::localize))
        // Outside `localize`, so problems and panics get the headers too.
        .layer(middleware::from_fn(headers::secure))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // Path only: query strings can carry personal data (the dev outbox takes a phone).
            tracing::info_span!("http", method = %req.method(), path = %loggable_path(req.uri().path()))
        }))
        .with_state(state)
}

/// Liveness only: it is public, so it names no database, version or anything else about the server.
#[utoipa::path(
    get, path = "/api/v1/health", operation_id = "get_health", tag = "staff",
    responses(
        (status = 200, description = "Serving", body = Health),
        (status = 503, description = "`service_unavailable`: the database does not answer", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query("SELECT 1").execute(&state.db.pool).await {
        Ok(_) => Json(Health { status: "ok".to_owned() }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            ApiProblem::new(ErrorCode::ServiceUnavailable).into_response()
        }
    }
}

/// The path as logs may show it: the SMS link's token is a credential, so it never reaches a log.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/m/", "/api/v1/vehicle-move-links/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}{{token}}{tail}").into();
        }
    }
    path.into()
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn link_tokens_are_not_logged() {
        assert_eq!(loggable_path("/m/0123abcd"), "/m/{token}");
        assert_eq!(
            loggable_path("/api/v1/vehicle-move-links/0123abcd/answer"),
            "/api/v1/vehicle-move-links/{token}/answer"
        );
        assert_eq!(loggable_path("/api/v1/vehicle-moves/x"), "/api/v1/vehicle-moves/x");
    }
}
