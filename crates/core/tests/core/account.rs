//! Shared computers: drafts and outbox entries belong to the account that wrote them. After sign-out
//! the next account neither lists nor can open them, and never sends them; their owner finds them
//! again at the next sign-in, unless they chose to delete them at sign-out.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use jingtong_api::applications::{ApplicationRequest, DeliveryInput, PhotoInput};
use jingtong_core::{data_key_entry, Keychain, SubmitOutcome, Unsent, DB_FILE};
use jingtong_rules::ServiceItemId;
use serde_json::json;
use sqlx::SqlitePool;

use crate::support::{self, Server};

/// A: 演示用户乙, who files with his own ID photo (support::own_id_photo); B: 演示用户甲
/// (fixtures/demo.json, fictional).
const JIA: &str = support::PHOTO_OWNER;
const YI: &str = "19900000001";
const DRAFT: &str = "apply:id_card_replacement";
const MARKER: &str = "MARKER-shared-pc-draft";

fn request() -> ApplicationRequest {
    ApplicationRequest {
        item: ServiceItemId::IdCardReplacement,
        photo: PhotoInput::Upload { jpeg_base64: support::own_id_photo() },
        delivery: DeliveryInput::Pickup { station_id: "st-shushan".into() },
        loss_date: Some("2026-11-01".into()),
        damage_description: None,
    }
}

async fn file_db(dir: &std::path::Path) -> SqlitePool {
    SqlitePool::connect(&format!("sqlite://{}", dir.join(DB_FILE).display())).await.unwrap()
}

/// Decrypts with the key the keychain holds for `account`, as anyone reading the file would have to.
async fn opens_with(kc: &Keychain, account: &str, aad: &str, nonce: &[u8], ciphertext: &[u8]) -> bool {
    let Some(stored) = kc.get(&data_key_entry(account)).await.unwrap() else { return false };
    let key = base64::engine::general_purpose::STANDARD.decode(stored.expose()).unwrap();
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
    cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() }).is_ok()
}

async fn sign_in_again(core: &jingtong_core::Core, server: &Server, phone: &str) -> jingtong_core::SessionInfo {
    server.allow_new_codes().await;
    support::sign_in(core, &server.url, phone).await
}

#[tokio::test]
async fn the_next_account_neither_sees_nor_sends_nor_opens_what_the_previous_one_kept() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let mut server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;

    // A fills in a form and submits it while the network is down: a draft and a queued submission.
    let a = support::sign_in(&core, &server.url, JIA).await;
    server.verify(&a.user_id, JIA).await;
    let request = request();
    let draft = json!({"step": 3, "request": request, "note": MARKER});
    core.draft_save(DRAFT, &draft).await.unwrap();
    server.go_away().await;
    let outcome = core.application_submit(&request, DRAFT).await.unwrap();
    let SubmitOutcome::Queued { outbox_id } = outcome else { panic!("expected queued, got {outcome:?}") };
    server.come_back().await;
    assert_eq!(core.unsent().await.unwrap(), Unsent { outbox: 1, drafts: 1 });

    // A signs out, keeping them.
    core.sign_out().await.unwrap();
    assert_eq!(core.draft_load(DRAFT).await.unwrap(), None, "signed out: nothing of A's shows");
    assert!(core.outbox_entries().await.unwrap().is_empty());
    assert_eq!(core.unsent().await.unwrap(), Unsent::default());

    // B signs in on the same computer.
    let b = sign_in_again(&core, &server, YI).await;
    assert_ne!(a.user_id, b.user_id);
    assert_eq!(core.draft_load(DRAFT).await.unwrap(), None);
    assert!(core.outbox_entries().await.unwrap().is_empty());
    assert_eq!(core.unsent().await.unwrap(), Unsent::default());
    assert!(core.outbox_discard(&outbox_id).await.is_ok());
    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.pending, report.failed), (0, 0, 0), "B's flush leaves A's entry alone");
    assert!(core.applications(None).await.unwrap().items.is_empty(), "nothing was filed under B's account");
    // B writes a draft of the same form: it is B's own, beside A's.
    core.draft_save(DRAFT, &json!({"step": 1})).await.unwrap();

    // The file itself: A's rows are A's, sealed under A's key, which is not B's.
    let db = file_db(dir.path()).await;
    let (nonce, ciphertext): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT nonce, ciphertext FROM drafts WHERE account = ? AND item = ?")
            .bind(&a.user_id)
            .bind(DRAFT)
            .fetch_one(&db)
            .await
            .unwrap();
    let aad = format!("draft:{}:{DRAFT}", a.user_id);
    assert!(!opens_with(&kc, &b.user_id, &aad, &nonce, &ciphertext).await, "B's key cannot open A's draft");
    assert!(opens_with(&kc, &a.user_id, &aad, &nonce, &ciphertext).await, "sealed under A's own key");
    let (account, key, body): (String, String, Vec<u8>) =
        sqlx::query_as("SELECT account, idempotency_key, body FROM outbox WHERE id = ?")
            .bind(&outbox_id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(account, a.user_id, "B's discard did not touch A's entry");
    let aad = format!("outbox:{}:{key}", a.user_id);
    assert!(!opens_with(&kc, &b.user_id, &aad, &body[..12], &body[12..]).await);
    assert!(opens_with(&kc, &a.user_id, &aad, &body[..12], &body[12..]).await);
    assert_eq!(support::any_file_contains(dir.path(), MARKER.as_bytes()), None);

    // A comes back: both are there, and the submission goes once, under A's account.
    core.sign_out().await.unwrap();
    sign_in_again(&core, &server, JIA).await;
    assert_eq!(core.draft_load(DRAFT).await.unwrap(), Some(draft));
    let entries = core.outbox_entries().await.unwrap();
    assert_eq!(entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [outbox_id.as_str()]);
    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.pending, report.failed), (1, 0, 0));
    assert_eq!(core.outbox_flush().await.unwrap().sent, 0);
    assert_eq!(core.applications(None).await.unwrap().items.len(), 1, "filed once, for A");
    assert_eq!(core.draft_load(DRAFT).await.unwrap(), None, "confirmed: A's draft is gone");

    // B's own draft is still B's.
    core.sign_out().await.unwrap();
    sign_in_again(&core, &server, YI).await;
    assert_eq!(core.draft_load(DRAFT).await.unwrap(), Some(json!({"step": 1})));
    assert!(core.applications(None).await.unwrap().items.is_empty());
    core.sign_out_and_delete().await.unwrap();
    support::forget(&kc).await;
    let _ = kc.delete(&data_key_entry(&a.user_id)).await;
    server.stop().await;
}

#[tokio::test]
async fn sign_out_with_delete_removes_the_accounts_rows_and_its_key() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    let phone = support::unique_phone();
    let me = support::sign_in(&core, &server.url, &phone).await;
    core.draft_save("face", &json!({"name": MARKER})).await.unwrap();
    core.outbox_enqueue("POST", "/api/v1/vehicle-moves", Some(&json!({"note": MARKER}))).await.unwrap();
    assert_eq!(core.unsent().await.unwrap(), Unsent { outbox: 1, drafts: 1 });
    assert!(kc.get(&data_key_entry(&me.user_id)).await.unwrap().is_some(), "the account's key is in the keychain");

    core.sign_out_and_delete().await.unwrap();
    assert_eq!(core.current_session().await.unwrap(), None);
    assert!(kc.get(&data_key_entry(&me.user_id)).await.unwrap().is_none(), "its key is gone");
    let db = file_db(dir.path()).await;
    let (drafts,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM drafts").fetch_one(&db).await.unwrap();
    let (outbox,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox").fetch_one(&db).await.unwrap();
    assert_eq!((drafts, outbox), (0, 0));

    sign_in_again(&core, &server, &phone).await;
    assert_eq!(core.draft_load("face").await.unwrap(), None);
    assert!(core.outbox_entries().await.unwrap().is_empty());
    assert_eq!(core.unsent().await.unwrap(), Unsent::default());
    core.sign_out_and_delete().await.unwrap();
    support::forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn what_was_typed_while_signed_out_is_gone_once_someone_signs_in() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &service).await;
    let phone = support::unique_phone();
    core.draft_save("sign-in", &json!({"phone": phone})).await.unwrap();
    let me = support::sign_in(&core, &server.url, &phone).await;
    core.sign_out().await.unwrap();
    assert_eq!(core.draft_load("sign-in").await.unwrap(), None, "the next person does not see the number");
    support::forget(&kc).await;
    let _ = kc.delete(&data_key_entry(&me.user_id)).await;
    server.stop().await;
}

/// Rows from before accounts were recorded have no owner we can trust: they are dropped, not shown.
#[tokio::test]
async fn rows_from_before_the_upgrade_are_shown_to_no_one() {
    let service = support::unique_service();
    let kc = support::require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    let path = dir.path().join(DB_FILE);
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let old = SqlitePool::connect_with(options).await.unwrap();
    let mut migrator =
        sqlx::migrate::Migrator::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
            .await
            .unwrap();
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version <= 2).cloned().collect::<Vec<_>>().into();
    migrator.run(&old).await.unwrap();
    sqlx::query("INSERT INTO drafts (item, nonce, ciphertext, updated_at) VALUES ('face', x'00', x'00', 'then')")
        .execute(&old)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO outbox (id, idempotency_key, method, path, created_at) VALUES ('o1', 'k1', 'POST', '/api/v1/x', 'then')",
    )
    .execute(&old)
    .await
    .unwrap();
    old.close().await;

    let core = support::open(dir.path(), &support::closed_url(), &service).await;
    assert!(core.outbox_entries().await.unwrap().is_empty());
    assert_eq!(core.draft_load("face").await.unwrap(), None);
    let db = file_db(dir.path()).await;
    let (drafts,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM drafts").fetch_one(&db).await.unwrap();
    let (outbox,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox").fetch_one(&db).await.unwrap();
    assert_eq!((drafts, outbox), (0, 0));
    support::forget(&kc).await;
}
