//! Every error leaves as RFC 9457 `application/problem+json` in the caller's language.
//!
//! Handlers return their module's error type, which becomes an [`ApiProblem`]. The response
//! carries the problem as an extension and [`localize`] renders it with the request's
//! `Accept-Language` (errors are built without access to the request). Responses that axum or
//! tower make on their own (404, 405, 413) are turned into problems there too.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_LANGUAGE, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jingtong_api::{ErrorCode, Lang, Problem};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone)]
pub struct ApiProblem {
    pub code: ErrorCode,
    /// Overrides the code's status, for statuses the catalogue has no code for (405).
    pub status: Option<StatusCode>,
    pub fields: Vec<(&'static str, ErrorCode)>,
    pub retry_after: Option<u64>,
}

impl ApiProblem {
    pub fn new(code: ErrorCode) -> ApiProblem {
        ApiProblem { code, status: None, fields: Vec::new(), retry_after: None }
    }

    pub fn field(mut self, field: &'static str, code: ErrorCode) -> ApiProblem {
        self.fields.push((field, code));
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> ApiProblem {
        self.retry_after = Some(seconds);
        self
    }

    /// Logs the detail here, on the server; the caller sees only `internal`.
    pub fn internal(detail: &dyn std::fmt::Display) -> ApiProblem {
        tracing::error!(error = %detail, "internal error");
        ApiProblem::new(ErrorCode::Internal)
    }

    fn status_code(&self) -> StatusCode {
        self.status
            .or_else(|| StatusCode::from_u16(self.code.status()).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn to_problem(&self, lang: Lang) -> Problem {
        let mut p = Problem::new(self.code, lang);
        p.status = self.status_code().as_u16();
        for (field, code) in &self.fields {
            p = p.with_field(field, *code, lang);
        }
        p.retry_after = self.retry_after;
        p
    }

    fn render(&self, lang: Lang) -> Response {
        let mut res = (self.status_code(), Json(self.to_problem(lang))).into_response();
        let headers = res.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
        if let Some(s) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<sqlx::Error> for ApiProblem {
    fn from(e: sqlx::Error) -> ApiProblem {
        ApiProblem::internal(&e)
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        // Rendered in zh-CN now; `localize` re-renders it in the request's language.
        let mut res = self.render(Lang::ZhCn);
        res.extensions_mut().insert(self);
        res
    }
}

/// Middleware: renders problems in the request's language and turns bare error responses into problems.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    let mut res = next.run(req).await;
    if let Some(problem) = res.extensions_mut().remove::<ApiProblem>() {
        return problem.render(lang);
    }
    let status = res.status();
    let is_problem = res.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let mut problem = ApiProblem::new(match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidRequest,
    });
    if problem.code.status() != status.as_u16() {
        problem.status = Some(status);
    }
    problem.render(lang)
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiProblem {
    ApiProblem::new(ErrorCode::NotFound)
}

/// `Json<T>` whose rejection is a problem (`invalid_request` / `payload_too_large`), never plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiProblem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                // The rejection text may quote the body (personal data), so only the status is logged.
                tracing::debug!(status = %rejection.status(), "rejected request body");
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Err(ApiProblem::new(ErrorCode::PayloadTooLarge))
                } else {
                    Err(ApiProblem::new(ErrorCode::InvalidRequest))
                }
            }
        }
    }
}
