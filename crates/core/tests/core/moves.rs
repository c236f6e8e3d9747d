//! Vehicle moving from the device against a real server: photos compressed here, the request sent
//! through the outbox (once, even when the network drops at submit), an unregistered plate refused
//! with the option to escalate, and the owner's answer seen on the driver's side.

use base64::Engine as _;
use jingtong_api::moves::{MoveAnswer, MoveReason, MoveRequest, MoveStatus, OwnerReply, PlateType};
use jingtong_api::ErrorCode;
use jingtong_core::MoveSubmitOutcome;

use crate::support::{self, Cutter, UploadCutter};

/// Demo residents (fixtures/demo.json, fictional): 甲 files, 乙 owns 皖SD0002.
const JIA: &str = "19900000001";
const YI: &str = "19900000002";
const DRAFT: &str = "vehicle_move";

/// A 3000×2000 phone-like JPEG of a street scene (no real car), as base64.
fn phone_photo(shade: u8) -> String {
    let img =
        image::RgbImage::from_fn(3000, 2000, |x, y| image::Rgb([shade, (x / 12 % 256) as u8, (y / 8 % 256) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

async fn request(core: &jingtong_core::Core, plate: &str) -> MoveRequest {
    let mut photos = Vec::new();
    for shade in [30, 160] {
        let p = core.move_photo_prepare(&format!("data:image/jpeg;base64,{}", phone_photo(shade))).await.unwrap();
        assert_eq!(p.width.max(p.height), 1280, "scaled on the device");
        assert!(p.bytes as usize <= jingtong_api::moves::rules::PHOTO_MAX_BYTES);
        photos.push(p.jpeg_base64);
    }
    MoveRequest {
        plate: plate.into(),
        plate_type: PlateType::SmallBlue,
        address: "演示市蜀山区演示路 88 号小区东门".into(),
        region_code: "340104".into(),
        position: None,
        reason: MoveReason::BlockingCar,
        note: None,
        photos,
        escalate_if_unregistered: false,
    }
}

#[tokio::test]
async fn a_request_sent_while_offline_goes_once_and_the_owners_answer_shows() {
    support::require_keychain(&support::unique_service()).await;
    let mut server = support::server().await;
    let owner_dir = tempfile::tempdir().unwrap();
    let owner = support::open(owner_dir.path(), &server.url, &support::unique_service()).await;
    support::sign_in(&owner, &server.url, YI).await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &support::unique_service()).await;
    let me = support::sign_in(&core, &server.url, JIA).await;
    server.verify(&me.user_id, JIA).await;
    let req = request(&core, "皖SD0002").await;
    core.draft_save(DRAFT, &serde_json::json!({ "request": &req })).await.unwrap();

    server.go_away().await;
    let outcome = core.move_submit(&req, DRAFT).await.expect("queued, not an error");
    assert!(matches!(outcome, MoveSubmitOutcome::Queued { .. }), "{outcome:?}");
    assert!(core.draft_load(DRAFT).await.unwrap().is_some(), "the draft stays until the server has it");
    server.come_back().await;
    let report = core.outbox_flush().await.unwrap();
    assert_eq!((report.sent, report.pending, report.failed), (1, 0, 0));
    assert!(core.draft_load(DRAFT).await.unwrap().is_none());
    assert_eq!(core.outbox_flush().await.unwrap().sent, 0);
    let mine = core.vehicle_moves(None).await.unwrap().items;
    assert_eq!(mine.len(), 1, "created once");
    assert_eq!(mine[0].photo_count, 2);

    let theirs = owner.vehicle_moves(None).await.unwrap().items;
    assert_eq!(theirs.len(), 1);
    assert!(theirs[0].can_answer);
    owner
        .vehicle_move_answer(&theirs[0].id, &MoveAnswer { reply: OwnerReply::Coming, eta_minutes: Some(8) })
        .await
        .unwrap();
    let seen = core.vehicle_move(&mine[0].id).await.unwrap();
    assert_eq!(seen.status, MoveStatus::Coming);
    assert_eq!(seen.events.last().and_then(|e| e.eta_minutes), Some(8));
    let progress = core.progress().await.unwrap();
    assert!(progress.iter().any(|p| p.id == seen.id), "the request is in My progress");
    let err = core.vehicle_move_message(&seen.id, "电话 19900091234").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::MessageContainsNumber, "refused on the device already");
    server.stop().await;
}

#[tokio::test]
async fn a_network_cut_mid_upload_and_a_lost_answer_still_make_one_request() {
    support::require_keychain(&support::unique_service()).await;
    let server = support::server().await;
    // App → answer lost after the server decided (once) → cut in the middle of the photo upload (once) → server.
    // The upload cut comes first: that request never reaches the server whole, so nothing answers it.
    let mid_upload = UploadCutter::start(&server.url, b"POST /api/v1/vehicle-moves", 64 * 1024).await;
    let lost_answer = Cutter::start(&mid_upload.url, b"POST /api/v1/vehicle-moves").await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &lost_answer.url, &support::unique_service()).await;
    let me = support::sign_in(&core, &server.url, JIA).await;
    server.verify(&me.user_id, JIA).await;
    let req = request(&core, "皖SD0002").await;
    core.draft_save(DRAFT, &serde_json::json!({ "request": &req })).await.unwrap();

    let outcome = core.move_submit(&req, DRAFT).await.expect("queued, not an error");
    assert!(matches!(outcome, MoveSubmitOutcome::Queued { .. }), "{outcome:?}");
    assert_eq!((mid_upload.cuts(), lost_answer.cuts()), (1, 0), "cut while the photos were on their way");
    assert!(core.draft_load(DRAFT).await.unwrap().is_some(), "nothing lost on the device");

    let first = core.outbox_flush().await.unwrap();
    assert_eq!((first.sent, first.pending), (0, 1), "the second try reached the server, its answer did not");
    assert_eq!(lost_answer.cuts(), 1);
    let second = core.outbox_flush().await.unwrap();
    assert_eq!((second.sent, second.pending, second.failed), (1, 0, 0));
    assert!(core.draft_load(DRAFT).await.unwrap().is_none());

    let mine = core.vehicle_moves(None).await.unwrap().items;
    assert_eq!(mine.len(), 1, "one request, not two");
    assert_eq!(mine[0].photo_count, 2, "both photos arrived whole");
    server.stop().await;
}

#[tokio::test]
async fn an_unregistered_plate_is_refused_and_can_go_to_the_traffic_police() {
    support::require_keychain(&support::unique_service()).await;
    let server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &support::unique_service()).await;
    let me = support::sign_in(&core, &server.url, JIA).await;
    server.verify(&me.user_id, JIA).await;
    let mut req = request(&core, "皖A54321").await;
    let err = core.move_submit(&req, DRAFT).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PlateNotRegistered);
    assert!(core.outbox_entries().await.unwrap().is_empty(), "refused: nothing left waiting");
    req.escalate_if_unregistered = true;
    let MoveSubmitOutcome::Sent { request } = core.move_submit(&req, DRAFT).await.unwrap() else { panic!("sent") };
    assert_eq!(request.status, MoveStatus::Escalated);
    // A bad plate never leaves the device.
    req.plate = "皖AI2345".into();
    assert_eq!(core.move_submit(&req, DRAFT).await.unwrap_err().code, ErrorCode::PlateInvalid);
    server.stop().await;
}
