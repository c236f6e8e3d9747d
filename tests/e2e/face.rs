//! Face verification in the real app: from the one-time prompt after sign-in to "verified", with the
//! pinned test frames imported as photos (there is no camera under Xvfb: the import path is what
//! every platform has).

use std::time::Duration;

use jingtong_face::PoseAction;

use crate::driver::{scratch, App};
use crate::sign_in::{demo_server_with, sign_in_demo, DEMO_PHONE};

fn demo_identity() -> (String, String) {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../crates/server/fixtures/demo.json")).expect("demo.json");
    let r = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == DEMO_PHONE).unwrap().clone();
    (r["name"].as_str().unwrap().to_owned(), r["id_number"].as_str().unwrap().to_owned())
}

async fn import_photo(app: &mut App, name: &str) {
    let path = jingtong_face::asset_dir().join("testdata").join(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-face-assets)", path.display()));
    app.give_file(r#"[data-testid="face-import"]"#, &bytes, name, "image/png").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resident_verifies_their_face_with_imported_photos() {
    let tmp = tempfile::tempdir().unwrap();
    let server = demo_server_with(&tmp.path().join("server"), |c| {
        c.fixed_face_actions = Some(vec![PoseAction::LookDown, PoseAction::TurnLeft])
    })
    .await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    let before = app.interactions;

    app.click(r#"[data-testid="face-prompt"] .van-dialog__confirm"#).await;
    let (name, id) = demo_identity();
    app.type_into(r#"[data-testid="face-name"] input"#, &name).await;
    app.type_into(r#"[data-testid="face-id-number"] input"#, &id).await;
    app.click(r#"[data-testid="face-start"]"#).await;
    app.wait_for_text(r#"[data-testid="face-instruction"]"#, "正对镜头").await;
    app.find(r#"[data-testid="face-no-camera"]"#).await;

    // A group photo is refused on the device, with the reason, before anything is sent.
    import_photo(&mut app, "solvay_group.png").await;
    app.wait_for_text(r#"[data-testid="face-hint"]"#, "多张人脸").await;
    app.screenshot("face-hint").await;

    import_photo(&mut app, "franck_0000_frontal.png").await;
    app.wait_for_text(r#"[data-testid="face-instruction"]"#, "微微低头").await;
    import_photo(&mut app, "franck_3838_look_down.png").await;
    app.wait_for_text(r#"[data-testid="face-instruction"]"#, "向左转头").await;
    import_photo(&mut app, "franck_1088_turn_left.png").await;
    app.wait_for_text(r#"[data-testid="face-outcome"]"#, "认证通过").await;
    app.screenshot("face-verified").await;
    let effort = app.interactions - before;

    app.click(r#"[data-testid="face-done"]"#).await;
    app.click(r#".van-tabbar-item:last-child"#).await;
    app.wait_for_text(r#"[data-testid="me-verification"]"#, "已实名认证").await;
    println!("face verification took {effort} interactions from home (one refused photo included)");
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.close().await;
    server.shutdown().await;
}
