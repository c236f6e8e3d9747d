//! Drafts: encrypted on disk, kept across restarts, removed when damaged.

use jingtong_api::ErrorCode;
use jingtong_core::{Sensitive, DATA_KEY_ENTRY, DB_FILE};
use serde_json::json;

use crate::support::{self, assert_code};

const MARKER: &str = "MARKER-3401-plain-text";

#[tokio::test]
async fn draft_survives_a_restart_and_is_not_plain_text_on_disk() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let url = support::closed_url();
    let draft = json!({"name": MARKER, "address": {"city": "合肥"}, "step": 3});
    {
        let core = support::open(dir.path(), &url, &service).await;
        assert_eq!(core.draft_load("id-card").await.unwrap(), None);
        core.draft_save("id-card", &json!({"step": 1})).await.unwrap();
        core.draft_save("id-card", &draft).await.unwrap();
        // Dropped without any shutdown, as in a crash.
    }
    let core = support::open(dir.path(), &url, &service).await;
    assert_eq!(core.draft_load("id-card").await.unwrap(), Some(draft));
    assert_eq!(support::any_file_contains(dir.path(), MARKER.as_bytes()), None);

    core.draft_discard("id-card").await.unwrap();
    core.draft_discard("id-card").await.unwrap();
    assert_eq!(core.draft_load("id-card").await.unwrap(), None);
    support::forget(&kc).await;
}

#[tokio::test]
async fn tampered_draft_is_draft_corrupt_and_removed() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &support::closed_url(), &service).await;
    core.draft_save("vehicle-move", &json!({"plate": "皖A12345"})).await.unwrap();
    core.draft_save("other", &json!({"kept": true})).await.unwrap();

    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join(DB_FILE).display())).await.unwrap();
    sqlx::query("UPDATE drafts SET ciphertext = CAST(zeroblob(40) AS BLOB) WHERE item = 'vehicle-move'")
        .execute(&db)
        .await
        .unwrap();

    assert_code(core.draft_load("vehicle-move").await, ErrorCode::DraftCorrupt);
    assert_eq!(core.draft_load("vehicle-move").await.unwrap(), None, "removed after the report");
    assert_eq!(core.draft_load("other").await.unwrap(), Some(json!({"kept": true})));
    support::forget(&kc).await;
}

#[tokio::test]
async fn a_replaced_key_makes_old_drafts_corrupt() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let url = support::closed_url();
    support::open(dir.path(), &url, &service)
        .await
        .draft_save("sign-in", &json!({"phone": "19900001234"}))
        .await
        .unwrap();
    kc.set(DATA_KEY_ENTRY, &Sensitive::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into())).await.unwrap();

    let core = support::open(dir.path(), &url, &service).await;
    assert_code(core.draft_load("sign-in").await, ErrorCode::DraftCorrupt);
    support::forget(&kc).await;
}

#[tokio::test]
async fn bad_item_names_and_huge_payloads_are_refused() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &support::closed_url(), &service).await;
    for item in ["", "../etc", "有中文", &"x".repeat(65)] {
        assert_code(core.draft_save(item, &json!({})).await, ErrorCode::InvalidRequest);
    }
    let huge = json!({"text": "x".repeat(300 * 1024)});
    assert_code(core.draft_save("big", &huge).await, ErrorCode::PayloadTooLarge);
    support::forget(&kc).await;
}
