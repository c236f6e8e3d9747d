//! Sign-in, sign-out and the errors a resident can meet, through `Core`.

use std::time::{Duration, Instant};

use jingtong_api::auth::VerificationLevel;
use jingtong_api::{ErrorCode, Lang};

use crate::support::{self, assert_code};

#[tokio::test]
async fn sign_in_with_the_code_from_the_sms_outbox() {
    let server = support::server().await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    assert_eq!(core.current_session().await.unwrap(), None);

    let phone = support::unique_phone();
    let sent = core.request_sms_code(&phone).await.unwrap();
    assert!(sent.resend_after_seconds > 0 && sent.expires_in_seconds > 0);
    let code = support::sms_code(&server.url, &phone).await;
    let info = core.sign_in(&phone, &code).await.unwrap();

    assert_eq!(info.phone_masked, format!("{}****{}", &phone[..3], &phone[7..]));
    assert_eq!(info.verification_level, VerificationLevel::None);
    assert_eq!(core.current_session().await.unwrap(), Some(info));
    // The tokens are in the keychain and nowhere under the data dir.
    let tokens = support::stored_tokens(&kc).await.expect("tokens stored");
    for t in ["access_token", "refresh_token"] {
        let token = tokens[t].as_str().unwrap();
        assert_eq!(support::any_file_contains(dir.path(), token.as_bytes()), None, "{t} on disk");
    }
    support::forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn sign_out_revokes_on_the_server() {
    let server = support::server().await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    support::sign_in(&core, &server.url, &support::unique_phone()).await;
    let old = support::stored_tokens(&kc).await.unwrap();
    let access = old["access_token"].as_str().unwrap();
    assert_eq!(support::me_status(&server.url, access).await, 200);

    core.sign_out().await.unwrap();

    assert_eq!(core.current_session().await.unwrap(), None);
    assert_eq!(support::stored_tokens(&kc).await, None);
    assert_eq!(support::me_status(&server.url, access).await, 401);
    let refresh = support::http()
        .post(format!("{}/api/v1/auth/refresh", server.url))
        .json(&serde_json::json!({"refresh_token": old["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 401);
    // Signing out twice is harmless.
    core.sign_out().await.unwrap();
    support::forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_number_is_refused_before_any_request() {
    let server = support::server().await;
    let tap = support::Tap::start(&server.url).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &tap.url, &support::unique_service()).await;

    for bad in ["", "1990000123", "12900001234", "+1 199 0000 1234"] {
        let e = assert_code(core.request_sms_code(bad).await, ErrorCode::PhoneInvalid);
        assert_eq!(e.message, ErrorCode::PhoneInvalid.message(Lang::ZhCn));
        assert_code(core.sign_in(bad, "123456").await, ErrorCode::PhoneInvalid);
    }
    core.set_language(Lang::En);
    let e = assert_code(core.request_sms_code("123").await, ErrorCode::PhoneInvalid);
    assert_eq!(e.message, ErrorCode::PhoneInvalid.message(Lang::En));
    // A code that cannot be one is refused locally too.
    assert_code(core.sign_in("19900001234", "12a456").await, ErrorCode::SmsCodeInvalid);
    assert_eq!(tap.sent(), "", "nothing reached the network");
    server.stop().await;
}

#[tokio::test]
async fn wrong_code_shows_the_servers_message_in_the_chosen_language() {
    let server = support::server().await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    let phone = support::unique_phone();
    core.request_sms_code(&phone).await.unwrap();
    let code = support::sms_code(&server.url, &phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let e = assert_code(core.sign_in(&phone, wrong).await, ErrorCode::SmsCodeInvalid);
    assert_eq!(e.message, ErrorCode::SmsCodeInvalid.message(Lang::ZhCn));
    core.set_language(Lang::En);
    let e = assert_code(core.sign_in(&phone, wrong).await, ErrorCode::SmsCodeInvalid);
    assert_eq!(e.message, ErrorCode::SmsCodeInvalid.message(Lang::En));
    // A second send inside 60 s is the server's rate limit, passed through.
    assert_code(core.request_sms_code(&phone).await, ErrorCode::RateLimited);
    assert_eq!(core.current_session().await.unwrap(), None);
    assert_eq!(support::stored_tokens(&kc).await, None);
    server.stop().await;
}

#[tokio::test]
async fn unreachable_server_says_offline_quickly_and_nothing_breaks() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &support::closed_url(), &service).await;
    let phone = support::unique_phone();

    let started = Instant::now();
    let e = assert_code(core.request_sms_code(&phone).await, ErrorCode::Offline);
    assert_eq!(e.message, ErrorCode::Offline.message(Lang::ZhCn));
    assert_code(core.sign_in(&phone, "123456").await, ErrorCode::Offline);
    assert!(started.elapsed() < Duration::from_secs(6), "offline took {:?}", started.elapsed());

    assert_eq!(core.current_session().await.unwrap(), None);
    core.sign_out().await.unwrap();
    // What the resident typed is kept.
    let draft = serde_json::json!({"phone": phone});
    core.draft_save("sign-in", &draft).await.unwrap();
    assert_eq!(core.draft_load("sign-in").await.unwrap(), Some(draft));
    support::forget(&kc).await;
}

#[tokio::test]
async fn app_info_and_bad_server_url() {
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), "http://127.0.0.1:8080/", "unused").await;
    let info = core.app_info();
    assert_eq!((info.version.as_str(), info.server_url.as_str()), (env!("CARGO_PKG_VERSION"), "http://127.0.0.1:8080"));
    let bad = jingtong_core::Core::open(support::config(dir.path(), "ftp://x", "unused")).await;
    assert_code(bad.map(|_| ()), ErrorCode::InvalidRequest);
}
