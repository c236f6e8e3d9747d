//! The REST client: automatic refresh (once, serialised), problem+json, unexpected answers.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use jingtong_api::ErrorCode;
use serde_json::json;

use crate::support::{self, assert_code};

#[tokio::test]
async fn expired_access_token_is_refreshed_once_and_the_call_succeeds() {
    let server = support::server().await;
    let tap = support::Tap::start(&server.url).await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &tap.url, &service).await;
    let info = support::sign_in(&core, &server.url, &support::unique_phone()).await;
    let before = support::stored_tokens(&kc).await.unwrap();
    let mut garbage = before.clone();
    garbage["access_token"] = json!("not-a-token");
    support::overwrite_tokens(&kc, &garbage).await;

    // Three calls notice the 401 together; the rotating refresh token must be spent only once.
    let (a, b, c) = tokio::join!(core.refresh_session(), core.refresh_session(), core.refresh_session());
    for r in [a, b, c] {
        assert_eq!(r.unwrap(), info);
    }

    assert_eq!(tap.sent().matches("POST /api/v1/auth/refresh").count(), 1);
    let after = support::stored_tokens(&kc).await.unwrap();
    assert_ne!(after["refresh_token"], before["refresh_token"], "refresh token rotated");
    assert_ne!(after["access_token"], garbage["access_token"]);
    assert_eq!(support::me_status(&server.url, after["access_token"].as_str().unwrap()).await, 200);
    support::forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn rejected_refresh_ends_the_session() {
    let server = support::server().await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    support::sign_in(&core, &server.url, &support::unique_phone()).await;
    support::overwrite_tokens(&kc, &json!({"access_token": "bad", "refresh_token": "also-bad"})).await;

    assert_code(core.refresh_session().await, ErrorCode::Unauthorized);
    assert_eq!(support::stored_tokens(&kc).await, None);
    assert_eq!(core.current_session().await.unwrap(), None);
    server.stop().await;
}

#[tokio::test]
async fn server_down_after_sign_in_keeps_the_session() {
    let server = support::server().await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    let info = support::sign_in(&core, &server.url, &support::unique_phone()).await;
    server.stop().await;

    assert_code(core.refresh_session().await, ErrorCode::Offline);
    assert_eq!(core.current_session().await.unwrap(), Some(info));
    // Offline sign-out still signs out here.
    core.sign_out().await.unwrap();
    assert_eq!(support::stored_tokens(&kc).await, None);
    assert_eq!(core.current_session().await.unwrap(), None);
}

/// A stand-in server answering `POST /api/v1/auth/sessions` with a fixed status and body.
async fn fake(status: StatusCode, content_type: &'static str, body: &'static str) -> String {
    let app = axum::Router::new().fallback(move || async move {
        (status, [(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn answers_the_app_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (StatusCode::OK, "text/html", "<html>portal</html>", ErrorCode::UnexpectedResponse, None),
        (StatusCode::IM_A_TEAPOT, "text/plain", "?", ErrorCode::UnexpectedResponse, None),
        (StatusCode::BAD_GATEWAY, "text/html", "<html>502</html>", ErrorCode::ServiceUnavailable, None),
        (
            StatusCode::BAD_REQUEST,
            "application/problem+json",
            r#"{"type":"x","title":"x","status":400,"code":"code_from_a_newer_server","detail":"新版本的提示"}"#,
            ErrorCode::InvalidRequest,
            Some("新版本的提示"),
        ),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "application/problem+json",
            r#"{"type":"x","title":"x","status":429,"code":"rate_limited","detail":"请60秒后再试"}"#,
            ErrorCode::RateLimited,
            Some("请60秒后再试"),
        ),
    ];
    for (status, ct, body, code, message) in cases {
        let core = support::open(dir.path(), &fake(status, ct, body).await, "unused").await;
        let e = assert_code(core.sign_in("19900001234", "123456").await, code);
        if let Some(m) = message {
            assert_eq!(e.message, m);
        }
    }
}
