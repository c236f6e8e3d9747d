//! Applications from the device against a real server: checked here first, sent through the outbox
//! with one Idempotency-Key, created exactly once whatever the network does, and the form's draft
//! kept until the server confirmed.

use jingtong_api::applications::{ApplicationRequest, ApplicationStatus, DeliveryInput, PhotoInput};
use jingtong_api::ErrorCode;
use jingtong_core::SubmitOutcome;
use jingtong_rules::ServiceItemId;
use serde_json::json;

use crate::support::{self, Cutter};

/// The applicant: 演示用户乙, whose own ID photo the tests upload (see support::own_id_photo).
const APPLICANT: &str = support::PHOTO_OWNER;
const JIA_ID_NUMBER_PREFIX: &str = "34010420";
const DRAFT: &str = "apply:id_card_replacement";

fn ga461_jpeg() -> String {
    support::own_id_photo()
}

fn replacement() -> ApplicationRequest {
    ApplicationRequest {
        item: ServiceItemId::IdCardReplacement,
        photo: PhotoInput::Upload { jpeg_base64: ga461_jpeg() },
        delivery: DeliveryInput::Pickup { station_id: "st-shushan".into() },
        loss_date: Some("2026-11-01".into()),
        damage_description: None,
    }
}

/// The draft as the form keeps it: every field, the photo included.
fn draft(request: &ApplicationRequest) -> serde_json::Value {
    json!({ "step": 3, "request": request, "id_number_shown": format!("{JIA_ID_NUMBER_PREFIX}0000000000") })
}

async fn count_on_server(core: &jingtong_core::Core) -> usize {
    core.applications(None).await.expect("list").items.len()
}

#[tokio::test]
async fn submitted_while_the_server_is_unreachable_it_is_created_once_when_it_returns() {
    support::require_keychain(&support::unique_service()).await;
    let mut server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let service = support::unique_service();
    let core = support::open(dir.path(), &server.url, &service).await;
    let me = support::sign_in(&core, &server.url, APPLICANT).await;
    server.verify(&me.user_id, APPLICANT).await;
    let request = replacement();
    core.draft_save(DRAFT, &draft(&request)).await.unwrap();

    server.go_away().await;
    let outcome = core.application_submit(&request, DRAFT).await.expect("queued, not an error");
    let SubmitOutcome::Queued { outbox_id } = outcome else { panic!("expected queued, got {outcome:?}") };
    assert!(core.draft_load(DRAFT).await.unwrap().is_some(), "the draft stays until the server confirmed");
    assert_eq!(core.outbox_entries().await.unwrap().len(), 1);
    // A second flush while still offline sends nothing and loses nothing.
    assert_eq!(core.outbox_flush().await.unwrap().pending, 1);

    server.come_back().await;
    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.pending, report.failed), (1, 0, 0));
    assert!(core.draft_load(DRAFT).await.unwrap().is_none(), "confirmed: the draft is gone");
    assert!(core.outbox_entries().await.unwrap().iter().all(|e| e.id != outbox_id));
    let list = core.applications(None).await.unwrap().items;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, ApplicationStatus::AwaitingPayment);
    assert_eq!(core.outbox_flush().await.unwrap().sent, 0);
    assert_eq!(count_on_server(&core).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_lost_answer_is_sent_again_with_the_same_key_and_makes_one_application() {
    support::require_keychain(&support::unique_service()).await;
    let server = support::server().await;
    // The server creates the application, but its answer never reaches the app.
    let cutter = Cutter::start(&server.url, b"POST /api/v1/applications").await;
    let dir = tempfile::tempdir().unwrap();
    let service = support::unique_service();
    let core = support::open(dir.path(), &cutter.url, &service).await;
    let me = support::sign_in(&core, &server.url, APPLICANT).await;
    server.verify(&me.user_id, APPLICANT).await;
    let request = replacement();
    core.draft_save(DRAFT, &draft(&request)).await.unwrap();

    let outcome = core.application_submit(&request, DRAFT).await.unwrap();
    assert!(matches!(outcome, SubmitOutcome::Queued { .. }), "{outcome:?}");
    assert_eq!(cutter.cuts(), 1);
    let report = core.outbox_flush().await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(count_on_server(&core).await, 1, "the retry got the first application back");
    assert!(core.draft_load(DRAFT).await.unwrap().is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_refused_application_says_why_and_keeps_the_draft() {
    support::require_keychain(&support::unique_service()).await;
    let server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &support::unique_service()).await;
    support::sign_in(&core, &server.url, APPLICANT).await;
    let request = replacement();
    core.draft_save(DRAFT, &draft(&request)).await.unwrap();
    // Not verified yet: the server refuses, the resident reads why, nothing waits in the outbox.
    let e = support::assert_code(core.application_submit(&request, DRAFT).await, ErrorCode::VerificationRequired);
    assert!(e.message.contains("刷脸"), "{}", e.message);
    assert!(core.outbox_entries().await.unwrap().is_empty());
    assert!(core.draft_load(DRAFT).await.unwrap().is_some());

    // A mistake the device can see is reported before anything is sent, naming the field.
    let mut future = request.clone();
    future.loss_date = Some("2999-01-01".into());
    let e = support::assert_code(core.application_submit(&future, DRAFT).await, ErrorCode::DateInvalid);
    assert!(e.message.starts_with("丢失日期"), "{}", e.message);
    let mut posted = request;
    posted.delivery = DeliveryInput::Post {
        region_code: "340104".into(),
        address: "演示路 1 号".into(),
        recipient: "测试收件人".into(),
        phone: "1990000".into(),
    };
    support::assert_code(core.application_submit(&posted, DRAFT).await, ErrorCode::PhoneInvalid);
    assert!(core.outbox_entries().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn the_application_draft_is_encrypted_at_rest_photo_and_id_number_included() {
    support::require_keychain(&support::unique_service()).await;
    let dir = tempfile::tempdir().unwrap();
    let service = support::unique_service();
    let core = support::open(dir.path(), &support::closed_url(), &service).await;
    let request = replacement();
    core.draft_save(DRAFT, &draft(&request)).await.unwrap();
    drop(core);
    // Reopened (as after a crash): restored exactly, photo included.
    let core = support::open(dir.path(), &support::closed_url(), &service).await;
    assert_eq!(core.draft_load(DRAFT).await.unwrap(), Some(draft(&request)));
    for needle in
        [JIA_ID_NUMBER_PREFIX.as_bytes(), b"2026-11-01".as_slice(), b"st-shushan".as_slice(), b"/9j/".as_slice()]
    {
        assert_eq!(
            support::any_file_contains(dir.path(), needle),
            None,
            "{} in clear",
            String::from_utf8_lossy(needle)
        );
    }
}
