//! The OS keychain: a real store that outlives the process, and a clear error when there is none.

use jingtong_api::{ErrorCode, Lang};
use jingtong_core::{Keychain, KeychainBackend, Sensitive};

use crate::support::{self, assert_code};

#[tokio::test]
async fn entries_round_trip_and_delete() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let secret = Sensitive::new("s3cret value ✓".to_owned());
    assert_eq!(kc.get("entry").await.unwrap(), None);
    kc.set("entry", &secret).await.unwrap();
    // A second handle on the same service sees it: it lives in the OS store, not in this object.
    assert_eq!(Keychain::new(KeychainBackend::Auto, &service).get("entry").await.unwrap(), Some(secret));
    kc.delete("entry").await.unwrap();
    kc.delete("entry").await.unwrap();
    assert_eq!(kc.get("entry").await.unwrap(), None);
}

#[tokio::test]
async fn session_survives_a_restart_of_the_app() {
    let server = support::server().await;
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let first = support::open(dir.path(), &server.url, &service).await;
    let info = support::sign_in(&first, &server.url, &support::unique_phone()).await;
    drop(first);

    let second = support::open(dir.path(), &server.url, &service).await;
    assert_eq!(second.current_session().await.unwrap(), Some(info.clone()));
    assert_eq!(second.refresh_session().await.unwrap(), info, "stored tokens work from the new instance");
    support::forget(&kc).await;
    server.stop().await;
}

const CHILD_ENV: &str = "JINGTONG_TEST_NO_KEYCHAIN_CHILD";

/// Runs the sign-in in a child process whose D-Bus session address leads nowhere, so the Secret
/// Service cannot be reached, and checks the server's tokens never reached the disk.
#[tokio::test(flavor = "multi_thread")]
async fn no_keychain_means_a_clear_error_and_no_token_on_disk() {
    let server = support::server().await;
    let tap = support::Tap::start(&server.url).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(["keychain::no_keychain_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("JINGTONG_TEST_SERVER", &server.url)
        .env("JINGTONG_TEST_PROXY", &tap.url)
        .env("JINGTONG_TEST_DATA_DIR", dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/jingtong-no-bus");
    let status = tokio::task::spawn_blocking(move || child.status()).await.unwrap().unwrap();
    assert!(status.success(), "the child's checks failed (output above)");

    // The server did issue a pair (the failure came after sign-in) …
    let received = tap.received();
    let tokens: Vec<String> =
        ["access_token", "refresh_token"].iter().flat_map(|f| support::json_strings(&received, f)).collect();
    assert_eq!(tokens.len(), 2, "one token pair went over the wire");
    // … none of it is on disk …
    assert!(support::files(dir.path()).iter().any(|f| f.ends_with(jingtong_core::DB_FILE)));
    for token in &tokens {
        assert_eq!(support::any_file_contains(dir.path(), token.as_bytes()), None, "a token was written to disk");
    }
    // … and the session it opened was revoked.
    assert_eq!(support::me_status(&server.url, &tokens[0]).await, 401);
    server.stop().await;
}

#[tokio::test]
#[ignore = "child process of no_keychain_means_a_clear_error_and_no_token_on_disk"]
async fn no_keychain_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let var = |n: &str| std::env::var(n).unwrap();
    let dir = std::path::PathBuf::from(var("JINGTONG_TEST_DATA_DIR"));
    let core = support::open(&dir, &var("JINGTONG_TEST_PROXY"), &support::unique_service()).await;
    let phone = support::unique_phone();

    // No SMS is sent for a sign-in that could not be kept.
    let e = assert_code(core.request_sms_code(&phone).await, ErrorCode::KeychainUnavailable);
    assert_eq!(e.message, ErrorCode::KeychainUnavailable.message(Lang::ZhCn));
    // If the keychain goes away between the code and the sign-in, the tokens are dropped and revoked.
    let server = var("JINGTONG_TEST_SERVER");
    let sent = support::http()
        .post(format!("{server}/api/v1/auth/sms-codes"))
        .json(&serde_json::json!({"phone": phone}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let code = support::sms_code(&server, &phone).await;
    assert_code(core.sign_in(&phone, &code).await, ErrorCode::KeychainUnavailable);

    assert_eq!(core.current_session().await.unwrap(), None);
    assert_code(core.draft_save("sign-in", &serde_json::json!({"phone": phone})).await, ErrorCode::KeychainUnavailable);
    assert_code(
        core.outbox_enqueue("POST", "/api/v1/x", Some(&serde_json::json!({}))).await,
        ErrorCode::KeychainUnavailable,
    );
    assert_code(core.sign_out().await, ErrorCode::KeychainUnavailable);
}
