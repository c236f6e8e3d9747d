//! The outbox: kept while offline or on 5xx, sent with its Idempotency-Key, removed on 2xx,
//! kept as failed on a definite 4xx.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use jingtong_api::ErrorCode;
use jingtong_core::OutboxState;
use serde_json::json;

use crate::support::{self};

#[derive(Debug, Clone)]
struct Hit {
    method: String,
    path: String,
    key: Option<String>,
    body: serde_json::Value,
}

/// A stand-in for an endpoint that takes submissions, answering with the statuses it is given, in order.
#[derive(Clone)]
struct Recorder {
    hits: Arc<Mutex<Vec<Hit>>>,
    answers: Arc<Mutex<Vec<StatusCode>>>,
}

async fn record(
    State(r): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    r.hits.lock().unwrap().push(Hit {
        method: method.to_string(),
        path: uri.path().to_owned(),
        key: headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned()),
        body: serde_json::from_slice(&body).unwrap_or_default(),
    });
    let status = {
        let mut a = r.answers.lock().unwrap();
        if a.len() > 1 {
            a.remove(0)
        } else {
            a[0]
        }
    };
    let body = if status.is_success() {
        json!({"id": "0190-fake"})
    } else {
        let code = if status.is_client_error() { "invalid_request" } else { "internal" };
        json!({"type": "x", "title": "x", "status": status.as_u16(), "code": code, "detail": "x"})
    };
    (status, axum::Json(body))
}

async fn recorder_on(listener: tokio::net::TcpListener, answers: &[StatusCode]) -> Recorder {
    let r = Recorder { hits: Arc::default(), answers: Arc::new(Mutex::new(answers.to_vec())) };
    let app = axum::Router::new().fallback(record).with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    r
}

impl Recorder {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn kept_while_offline_then_sent_once_with_the_same_key() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let url = support::closed_url();
    let body = json!({"plate": "皖A12345", "note": "MARKER-outbox-plain"});
    let entry = {
        let core = support::open(dir.path(), &url, &service).await;
        let entry = core.outbox_enqueue("post", "/api/v1/vehicle-moves", Some(&body)).await.unwrap();
        let report = core.outbox_flush().await.unwrap();
        assert_eq!((report.sent, report.failed, report.pending), (0, 0, 1));
        let kept = core.outbox_entries().await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].attempts, kept[0].last_error.as_deref()), (1, Some("offline")));
        assert_eq!(kept[0].idempotency_key, entry.idempotency_key);
        entry
    };
    assert!(uuid::Uuid::parse_str(&entry.idempotency_key).unwrap().get_version_num() == 7);
    assert_eq!(support::any_file_contains(dir.path(), b"MARKER-outbox-plain"), None, "body encrypted at rest");

    // The app restarts and the server is back on the same address.
    let listener = tokio::net::TcpListener::bind(url.trim_start_matches("http://")).await.unwrap();
    let server = recorder_on(listener, &[StatusCode::CREATED]).await;
    let core = support::open(dir.path(), &url, &service).await;
    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.pending), (1, 0));
    assert!(core.outbox_flush().await.unwrap() == Default::default(), "nothing left to send");

    let hits = server.hits();
    assert_eq!(hits.len(), 1, "sent exactly once");
    assert_eq!(hits[0].method, "POST");
    assert_eq!(hits[0].path, "/api/v1/vehicle-moves");
    assert_eq!(hits[0].key.as_deref(), Some(entry.idempotency_key.as_str()));
    assert_eq!(hits[0].body, body);
    assert!(core.outbox_entries().await.unwrap().is_empty());
    support::forget(&kc).await;
}

#[tokio::test]
async fn server_errors_retry_with_the_same_key_and_refusals_are_kept_as_failed() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // First entry: 503, then 201. Second entry: 422, a definite refusal.
    let server = recorder_on(
        listener,
        &[StatusCode::SERVICE_UNAVAILABLE, StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY],
    )
    .await;
    let core = support::open(dir.path(), &url, &service).await;
    let first = core.outbox_enqueue("POST", "/api/v1/a", Some(&json!({"n": 1}))).await.unwrap();

    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.pending), (0, 1));
    assert_eq!(core.outbox_entries().await.unwrap()[0].last_error.as_deref(), Some("internal"));

    let second = core.outbox_enqueue("POST", "/api/v1/b", Some(&json!({"n": 2}))).await.unwrap();
    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.failed, report.pending), (1, 1, 0));

    let left = core.outbox_entries().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].id.as_str(), left[0].state), (second.id.as_str(), OutboxState::Failed));
    assert_eq!(left[0].last_error.as_deref(), Some(ErrorCode::InvalidRequest.as_str()));
    // A failed entry is not resent; the resident decides.
    core.outbox_flush().await.unwrap();
    let keys: Vec<_> = server.hits().into_iter().map(|h| h.key.unwrap()).collect();
    assert_eq!(keys, [first.idempotency_key.clone(), first.idempotency_key, second.idempotency_key]);
    core.outbox_discard(&second.id).await.unwrap();
    assert!(core.outbox_entries().await.unwrap().is_empty());

    assert_eq!(core.outbox_enqueue("GET", "/api/v1/a", None).await.unwrap_err().code, ErrorCode::InvalidRequest);
    support::forget(&kc).await;
}
