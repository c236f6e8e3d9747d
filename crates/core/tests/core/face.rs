//! Face verification from the core: the local frame check with the real engine and the pinned test
//! photos, the upload, and what stays on the device afterwards.

use base64::Engine as _;
use jingtong_api::auth::VerificationLevel;
use jingtong_api::identity::{FaceOutcome, NextStep};
use jingtong_api::ErrorCode;
use jingtong_core::{Core, FrameCheck};
use jingtong_face::PoseAction;

use crate::support::*;

/// Demo resident 甲 (crates/server/fixtures/demo.json): fictional, registry photo franck frame 600.
const PHONE: &str = "19900000001";

fn demo_identity() -> (String, String) {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../../server/fixtures/demo.json")).expect("demo.json");
    let r = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == PHONE).unwrap().clone();
    (r["name"].as_str().unwrap().to_owned(), r["id_number"].as_str().unwrap().to_owned())
}

fn photo(name: &str) -> Vec<u8> {
    let path = jingtong_face::asset_dir().join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-face-assets)", path.display()))
}

fn b64(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(photo(name))
}

async fn check(core: &Core, slot: u32, name: &str) -> FrameCheck {
    core.face_check_frame(slot, &b64(name)).await.expect("frame checked")
}

/// A server that asks for "look down", then "turn left" (the frames the test video has).
async fn started() -> (Server, Core, tempfile::TempDir, jingtong_core::Keychain) {
    let server = server_with(|c| c.fixed_face_actions = Some(vec![PoseAction::LookDown, PoseAction::TurnLeft])).await;
    let service = unique_service();
    let kc = require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &server.url, &service).await;
    sign_in(&core, &server.url, PHONE).await;
    (server, core, dir, kc)
}

#[tokio::test]
async fn frames_are_checked_locally_and_the_resident_is_verified() {
    let (server, core, dir, kc) = started().await;
    let (name, id) = demo_identity();
    let ch = core.face_start(&format!(" {name} "), &id.to_lowercase()).await.expect("challenge");
    assert_eq!(ch.frames_required, 3);

    // What a resident is told at once, before anything is uploaded.
    for (img, code) in [
        ("coffee.png", ErrorCode::FaceNone),
        ("solvay_group.png", ErrorCode::FaceSeveral),
        ("franck_0000_frontal.png", ErrorCode::FaceWrongPose),
    ] {
        let slot = if code == ErrorCode::FaceWrongPose { 1 } else { 0 };
        if slot == 1 {
            assert!(check(&core, 0, "franck_0000_frontal.png").await.accepted);
        }
        let c = check(&core, slot, img).await;
        assert!(!c.accepted, "{img} must be refused");
        assert_eq!(c.problem, Some(code), "{img}");
        assert!(c.checked_locally, "the models are on this machine");
        assert_eq!(c.message, code.message(core.language()));
    }
    let bad = core.face_check_frame(0, "not base64!").await;
    assert_code(bad, ErrorCode::FaceFrameInvalid);
    // Slot 2 before slot 1 is out of order.
    assert_code(core.face_check_frame(2, &b64("franck_1088_turn_left.png")).await, ErrorCode::InvalidRequest);

    let down = check(&core, 1, "franck_3838_look_down.png").await;
    assert!(down.accepted && down.frames_ready == 2, "{down:?}");
    let left = check(&core, 2, "franck_1088_turn_left.png").await;
    assert!(left.accepted && left.frames_ready == 3, "{left:?}");

    let decision = core.face_submit().await.expect("decided");
    assert_eq!(decision.outcome, FaceOutcome::Verified, "{decision:?}");
    assert_eq!(decision.next_step, NextStep::Done);
    let session = core.current_session().await.unwrap().expect("signed in");
    assert_eq!(session.verification_level, VerificationLevel::RealName);

    // The frames are gone from the core with the decision, and never reached the disk.
    assert_code(core.face_submit().await, ErrorCode::FaceChallengeExpired);
    let jpeg_start: &[u8] = &[0xff, 0xd8, 0xff];
    assert!(any_file_contains(dir.path(), jpeg_start).is_none(), "no image in the local store");
    assert!(any_file_contains(dir.path(), id.as_bytes()).is_none(), "the ID number is not stored in clear");
    forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn bad_identity_is_refused_before_the_network() {
    let (server, core, _dir, kc) = started().await;
    let (name, id) = demo_identity();
    let wrong = format!("{}{}", &id[..17], if id.ends_with('9') { '8' } else { '9' });
    assert_code(core.face_start(&name, &wrong).await, ErrorCode::IdNumberInvalid);
    assert_code(core.face_start("甲", &id).await, ErrorCode::NameInvalid);
    // A frame without a challenge has nobody to belong to.
    assert_code(core.face_check_frame(0, &b64("franck_0000_frontal.png")).await, ErrorCode::FaceChallengeExpired);
    // A name the registry does not have for this number: the server's answer.
    assert_code(core.face_start("演示用户丙", &id).await, ErrorCode::IdentityNotFound);
    forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn a_dropped_upload_is_retried_once_with_the_same_key_and_decided_once() {
    let server = server_with(|c| c.fixed_face_actions = Some(vec![PoseAction::LookDown, PoseAction::TurnLeft])).await;
    // Cuts the first connection that carries a multipart body before the server answers.
    let proxy = Cutter::start(&server.url, b"multipart/form-data").await;
    let service = unique_service();
    let kc = require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &proxy.url, &service).await;
    sign_in(&core, &proxy.url, PHONE).await;
    let (name, id) = demo_identity();
    core.face_start(&name, &id).await.unwrap();
    for (slot, img) in
        ["franck_0000_frontal.png", "franck_3838_look_down.png", "franck_1088_turn_left.png"].into_iter().enumerate()
    {
        assert!(check(&core, slot as u32, img).await.accepted, "{img}");
    }
    let decision = core.face_submit().await.expect("decided after the retry");
    assert_eq!(decision.outcome, FaceOutcome::Verified, "{decision:?}");
    assert_eq!(proxy.cuts(), 1, "the first upload was cut");
    // One challenge used, one decision: 4 attempts left, not 3.
    assert_eq!(decision.attempts_left, 4);
    forget(&kc).await;
    server.stop().await;
}
