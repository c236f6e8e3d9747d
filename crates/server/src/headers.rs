//! Security headers on every response, set in one layer so no handler can forget them: nothing the
//! server answers is cached (answers carry personal data and tokens), the server-rendered pages (the
//! owner's SMS link page, the local payment provider's page) run no script, load nothing, cannot be
//! framed and never leak their URL (the SMS link's token is a credential) as a referrer.

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Text placed into the server-rendered pages (the owner's SMS link page, the local payment page).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The pages are plain HTML with forms posting back to this server: nothing else is allowed.
pub const CSP: &str = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Genuinely public documents, the same for everyone: caches may keep them.
const PUBLIC: &[&str] = &["/api/v1/openapi.json"];

pub async fn secure(req: Request, next: Next) -> Response {
    let public = PUBLIC.contains(&req.uri().path());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if !public {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // For browsers older than CSP's frame-ancestors.
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}
