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
use jingtong_api::{ErrorCode, FieldError, Lang, Problem, TextError};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone)]
pub struct ApiProblem {
    pub code: ErrorCode,
    /// Overrides the code's status, for statuses the catalogue has no code for (405).
    pub status: Option<StatusCode>,
    pub fields: Vec<(&'static str, ErrorCode)>,
    pub retry_after: Option<u64>,
    /// Refused text, by field path: its message names the character and where it is.
    pub texts: Vec<(String, TextError)>,
}

impl ApiProblem {
    pub fn new(code: ErrorCode) -> ApiProblem {
        ApiProblem { code, status: None, fields: Vec::new(), retry_after: None, texts: Vec::new() }
    }

    pub fn field(mut self, field: &'static str, code: ErrorCode) -> ApiProblem {
        self.fields.push((field, code));
        self
    }

    /// `field` holds text that is refused: a 400 with the text's own code and words.
    pub fn text(field: String, e: TextError) -> ApiProblem {
        let mut p = ApiProblem::new(e.code);
        p.texts.push((field, e));
        p
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
        for (field, e) in &self.texts {
            p.errors.push(FieldError { field: field.clone(), code: e.code, message: e.message(lang) });
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
/// Before `T` sees the body, every string in it (passwords included, unchanged) is checked for
/// characters no stored text may hold (NUL, controls, bidi and other invisible characters,
/// [`jingtong_api::text::first_refused`]): such a body is a 400 naming the field and the character,
/// so hostile text never reaches a handler or the database, whatever `T`'s own field types are.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiProblem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match Json::<Value>::from_request(req, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => return Err(rejected(&rejection)),
        };
        if let Some((field, e)) = refused_text(&value, String::new()) {
            return Err(ApiProblem::text(field, e));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|_| {
            // The error text may quote the body (personal data): nothing of it is logged.
            tracing::debug!("request body does not fit its type");
            ApiProblem::new(ErrorCode::InvalidRequest)
        })
    }
}

fn rejected(rejection: &JsonRejection) -> ApiProblem {
    // The rejection text may quote the body (personal data), so only the status is logged.
    tracing::debug!(status = %rejection.status(), "rejected request body");
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiProblem::new(ErrorCode::PayloadTooLarge)
    } else {
        ApiProblem::new(ErrorCode::InvalidRequest)
    }
}

/// The first string anywhere in `value` holding a refused character, with its path (`a.b[2]`).
fn refused_text(value: &Value, path: String) -> Option<(String, TextError)> {
    match value {
        Value::String(s) => jingtong_api::text::first_refused(s, true).map(|e| (path, e)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| refused_text(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            refused_text(v, p)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_refused_string_and_its_path() {
        let v = serde_json::json!({ "a": "ok", "b": [{ "c": "x\u{202E}y" }], "d": "多行\n文字" });
        let (field, e) = refused_text(&v, String::new()).unwrap();
        assert_eq!((field.as_str(), e.position, e.ch), ("b[0].c", 2, Some('\u{202E}')));
        assert!(refused_text(&serde_json::json!({ "d": "多行\n文字", "p": "pa ss\u{00E9}" }), String::new()).is_none());
        assert_eq!(refused_text(&serde_json::json!({ "password": "a\u{0}" }), String::new()).unwrap().0, "password");
    }
}
