//! The commands over IPC with Tauri's mock runtime: argument names, results and `{code, message}` errors
//! exactly as the webview sees them.

use std::path::Path;

use jingtong_api::{ErrorCode, Lang};
use jingtong_core::{Core, CoreConfig, Keychain, KeychainBackend, DATA_KEY_ENTRY};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

/// A port nothing listens on, so network commands answer `offline` without a server.
const CLOSED: &str = "http://127.0.0.1:9";

fn service(dir: &Path) -> String {
    format!("jingtong-test-{}-{}", std::process::id(), dir.display())
}

fn app(dir: &Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = crate::with_commands(mock_builder()).build(mock_context(noop_assets())).expect("mock app");
    let config = CoreConfig {
        data_dir: dir.to_path_buf(),
        server_url: CLOSED.into(),
        keyring_service: service(dir),
        keychain: KeychainBackend::Auto,
        face_models: dir.join("no-face-models"),
    };
    let core = tauri::async_runtime::block_on(Core::open(config)).expect("core opens");
    app.manage(core);
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("window");
    (app, window)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // App commands are refused from any other origin on Linux.
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize::<Value>().expect("json reply"))
}

fn app_error(code: ErrorCode, lang: Lang) -> Value {
    json!({"code": code.as_str(), "message": code.message(lang)})
}

#[test]
fn current_session_is_null_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    assert_eq!(invoke(&window, "current_session", json!({})), Ok(Value::Null));
}

#[test]
fn app_ready_answers_and_can_be_called_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    assert_eq!(invoke(&window, "app_ready", json!({})), Ok(Value::Null));
    assert_eq!(invoke(&window, "app_ready", json!({})), Ok(Value::Null), "a reload calls it again: no error");
}

#[test]
fn malformed_phone_answers_phone_invalid_in_chinese_then_english() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    assert_eq!(
        invoke(&window, "request_sms_code", json!({"phone": "12345"})),
        Err(app_error(ErrorCode::PhoneInvalid, Lang::ZhCn))
    );
    assert_eq!(invoke(&window, "set_language", json!({"lang": "en"})), Ok(Value::Null));
    assert_eq!(
        invoke(&window, "sign_in", json!({"phone": "1990000123", "code": "123456"})),
        Err(app_error(ErrorCode::PhoneInvalid, Lang::En))
    );
}

#[test]
fn unknown_language_is_an_app_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    assert_eq!(
        invoke(&window, "set_language", json!({"lang": "fr"})),
        Err(app_error(ErrorCode::InvalidRequest, Lang::ZhCn))
    );
}

#[test]
fn unreachable_server_answers_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    assert_eq!(
        invoke(&window, "sign_in", json!({"phone": "19900001234", "code": "123456"})),
        Err(app_error(ErrorCode::Offline, Lang::ZhCn))
    );
}

#[test]
fn app_info_names_version_and_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(info, json!({"version": env!("CARGO_PKG_VERSION"), "server_url": CLOSED}));
}

/// Needs the OS keychain (the draft key lives there): run under scripts/with-keychain.
#[test]
fn draft_round_trip_over_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let payload = json!({"phone": "199 0000 1234", "step": 2});
    let saved = invoke(&window, "draft_save", json!({"item": "sign-in", "payload": payload}));
    if saved.as_ref().is_err_and(|e| e["code"] == "keychain_unavailable") {
        panic!("no OS keychain reachable: run the tests under scripts/with-keychain");
    }
    assert_eq!(saved, Ok(Value::Null));
    assert_eq!(invoke(&window, "draft_load", json!({"item": "sign-in"})), Ok(payload));
    assert_eq!(invoke(&window, "draft_discard", json!({"item": "sign-in"})), Ok(Value::Null));
    assert_eq!(invoke(&window, "draft_load", json!({"item": "sign-in"})), Ok(Value::Null));
    let keychain = Keychain::new(KeychainBackend::Auto, &service(dir.path()));
    tauri::async_runtime::block_on(keychain.delete(DATA_KEY_ENTRY)).unwrap();
}

/// The request crosses IPC as the generated `ApplicationRequest`; a mistake the device can see is
/// answered before any network, naming the field; offline, the submission is queued, not lost.
#[test]
fn application_submit_checks_then_queues_while_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    let mut request = json!({
        "item": "id_card_replacement",
        "photo": {"kind": "on_site"},
        "delivery": {"kind": "pickup", "station_id": "st-shushan"},
        "loss_date": "2999-01-01",
    });
    let refused = invoke(&window, "application_submit", json!({"request": request, "draftItem": "apply:x"}));
    let refused = refused.expect_err("a loss date in the future");
    assert_eq!(refused["code"], "date_invalid");
    assert!(refused["message"].as_str().unwrap().starts_with("丢失日期"), "{refused}");

    request["loss_date"] = json!("2026-11-01");
    let queued = invoke(&window, "application_submit", json!({"request": request, "draftItem": "apply:x"}));
    if queued.as_ref().is_err_and(|e| e["code"] == "keychain_unavailable") {
        panic!("no OS keychain reachable: run the tests under scripts/with-keychain");
    }
    let queued = queued.unwrap();
    assert_eq!(queued["state"], "queued");
    let entries = invoke(&window, "outbox_entries", json!({})).unwrap();
    assert_eq!(entries[0]["id"], queued["outbox_id"]);
    assert_eq!(entries[0]["path"], "/api/v1/applications");
    let report = invoke(&window, "outbox_flush", json!({})).unwrap();
    assert_eq!(report, json!({"sent": 0, "failed": 0, "pending": 1}));
    let keychain = Keychain::new(KeychainBackend::Auto, &service(dir.path()));
    tauri::async_runtime::block_on(keychain.delete(DATA_KEY_ENTRY)).unwrap();
}

/// Before sign-out the UI asks what would be left behind; `sign_out` takes `deleteLocal`.
#[test]
fn unsent_items_and_sign_out_with_delete_local() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app(dir.path());
    assert_eq!(invoke(&window, "unsent_items", json!({})), Ok(json!({"outbox": 0, "drafts": 0})));
    let out = invoke(&window, "sign_out", json!({"deleteLocal": true}));
    if out.as_ref().is_err_and(|e| e["code"] == "keychain_unavailable") {
        panic!("no OS keychain reachable: run the tests under scripts/with-keychain");
    }
    assert_eq!(out, Ok(Value::Null));
    assert_eq!(invoke(&window, "sign_out", json!({})), Ok(Value::Null), "the flag is optional");
}
