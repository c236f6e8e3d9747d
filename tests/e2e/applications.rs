//! A replacement ID card application in the real app: from the home screen through the GA 461 photo
//! check and postal delivery, killed mid-form and restored from the draft, submitted and paid on the
//! provider's page, then moved to "posted" by a clerk through the staff API while the app watches.

use std::path::Path;

use jingtong_face::{decode_image, LocalEngine};
use serde_json::{json, Value};

use crate::driver::{scratch, App};
use crate::pay::confirm_on_provider_page;
use crate::sign_in::{demo_server_with, sign_in_demo, DEMO_PHONE};

/// A real portrait on a plain light backdrop (as a studio would take it), as a PNG file.
fn studio_portrait() -> Vec<u8> {
    let dir = jingtong_face::asset_dir();
    let engine = LocalEngine::load(dir.join("models")).expect("face models (run scripts/fetch-face-assets)");
    // obama3.jpg: a neutral expression (obama.jpg smiles with teeth, which GA 461 refuses).
    let bytes = std::fs::read(dir.join("testdata").join("obama3.jpg")).expect("face test photos");
    let img = decode_image(&bytes).unwrap();
    let studio = jingtong_face::testing::on_studio_backdrop(&engine, &img).expect("a face");
    let mut png = Vec::new();
    studio.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    png
}

/// 演示用户乙: his registry photo is obama.jpg, so the studio portrait made from another picture of him
/// (obama3.jpg) is his own photo.
const PORTRAIT_OWNER: &str = "19900000002";

/// As face verification would: the demo account is bound to 演示用户甲's identity.
pub async fn verify_demo_resident(server_dir: &Path) {
    verify_demo_resident_as(server_dir, DEMO_PHONE).await;
}

/// The signed-in demo account bound to the identity of the demo resident with this phone.
pub async fn verify_demo_resident_as(server_dir: &Path, phone: &str) {
    let db = jingtong_server::db::connect(&jingtong_server::db::sqlite_url(server_dir)).await.unwrap();
    let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    let person = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == phone).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = sqlx::query(
        "UPDATE users SET verification_level = 'real_name',
           id_number_hash = (SELECT id_number_hash FROM registry_persons WHERE id = $1)
         WHERE role = 'resident'",
    )
    .bind(person)
    .execute(&db.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(updated, 1);
    db.pool.close().await;
}

/// The demo clerk moves the newest submitted application to "posted" through the staff API.
async fn clerk_posts_it(server: &str) -> String {
    let http = reqwest::Client::new();
    let (number, password) = jingtong_server::applications::demo::DEMO_CLERK;
    let pair: Value = http
        .post(format!("{server}/api/v1/staff/sessions"))
        .json(&json!({ "staff_number": number, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = pair["access_token"].as_str().expect("clerk signed in").to_owned();
    let queue: Value = http
        .get(format!("{server}/api/v1/staff/applications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queue["items"][0]["id"].as_str().expect("the application waits in the clerks' queue").to_owned();
    for body in [
        json!({ "action": "accept" }),
        json!({ "action": "start_production" }),
        json!({ "action": "mark_posted", "tracking_number": "EA000000001CN" }),
    ] {
        let res = http
            .post(format!("{server}/api/v1/staff/applications/{id}/transitions"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{body}: {}", res.text().await.unwrap());
    }
    id
}

async fn open_the_form(app: &mut App) {
    app.click(r#"[data-testid="service-id-card"]"#).await;
    app.click(r#"[data-testid="item-id_card_replacement"]"#).await;
    app.click(r#"[data-testid="service-item-apply"]"#).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replacement_from_home_to_posted_surviving_a_kill_mid_form() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = demo_server_with(&server_dir, |_| {}).await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;
    // The ID photo is checked against the applicant's registry photo: apply as the portrait's owner.
    verify_demo_resident_as(&server_dir, PORTRAIT_OWNER).await;
    let before = app.interactions;

    // Photo step: a portrait checked and cropped on the device.
    open_the_form(&mut app).await;
    app.give_file(r#"[data-testid="apply-photo-import"]"#, &studio_portrait(), "portrait.png", "image/png").await;
    app.find(r#"[data-testid="apply-photo-preview"]"#).await;
    app.click(r#"[data-testid="apply-next"]"#).await;

    // Delivery step, half filled: by post, the area chosen, the street typed.
    app.click(r#"[data-testid="apply-delivery-post"]"#).await;
    app.click(r#"[data-testid="apply-post-area"]"#).await;
    app.click(r#".van-popup .van-picker__confirm"#).await;
    app.type_into(r#"[data-testid="apply-post-address"] textarea"#, "演示路 88 号 6 栋 502 室").await;
    app.wait_for_text(r#"[data-testid="apply-saved"]"#, "保存").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let effort_before_kill = app.interactions - before;

    // The app dies mid-form; started again, the form is where it was, photo included.
    app.kill();
    let mut app = App::launch(&server.url(), &env).await;
    app.find(r#"[data-testid="home"]"#).await;
    open_the_form(&mut app).await;
    let street = app.find(r#"[data-testid="apply-post-address"] textarea"#).await;
    assert_eq!(street.prop("value").await.unwrap().as_deref(), Some("演示路 88 号 6 栋 502 室"));
    app.screenshot("apply-restored").await;
    let reopen = 3;

    app.type_into(r#"[data-testid="apply-post-recipient"] input"#, "测试收件人").await;
    app.type_into(r#"[data-testid="apply-post-phone"] input"#, "19900009999").await;
    app.click(r#"[data-testid="apply-next"]"#).await;
    app.find(r#"[data-testid="apply-photo-review"]"#).await;
    app.wait_for_text(r#"[data-testid="apply-fee"]"#, "¥40.00").await;

    // Submit and pay on the provider's page; the app follows the application.
    let main = app.client.window().await.unwrap();
    app.click(r#"[data-testid="apply-submit"]"#).await;
    confirm_on_provider_page(&mut app, main).await;
    app.wait_for_text(r#"[data-testid="application-status"]"#, "已提交").await;
    app.wait_for_text(r#"[data-testid="application-countdown"]"#, "60 个工作日").await;
    let effort = effort_before_kill + app.interactions - reopen;
    app.screenshot("application-submitted").await;

    // A clerk moves it on; the open screen shows it by itself.
    clerk_posts_it(&server.url()).await;
    app.wait_for_text(r#"[data-testid="application-status"]"#, "已寄出").await;
    app.wait_for_text(r#"[data-testid="application-tracking"]"#, "EA000000001CN").await;
    app.wait_for_text(r#"[data-testid="application-timeline"]"#, "户籍民警").await;
    app.screenshot("application-posted").await;
    println!(
        "a replacement by post took {effort} interactions from home (reopening the form after the kill not counted)"
    );
    app.close().await;
    server.shutdown().await;
}

/// The effort measure of UX.md for the common case: a replacement collected at the preselected station.
#[tokio::test(flavor = "multi_thread")]
async fn replacement_for_pickup_from_home_to_submitted_in_eight_interactions() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = demo_server_with(&server_dir, |_| {}).await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;
    // The ID photo is checked against the applicant's registry photo: apply as the portrait's owner.
    verify_demo_resident_as(&server_dir, PORTRAIT_OWNER).await;
    let before = app.interactions;

    open_the_form(&mut app).await;
    app.give_file(r#"[data-testid="apply-photo-import"]"#, &studio_portrait(), "portrait.png", "image/png").await;
    app.find(r#"[data-testid="apply-photo-preview"]"#).await;
    app.click(r#"[data-testid="apply-next"]"#).await;
    // The first station is chosen and the loss date is today: the resident only checks them.
    app.find(r#"[data-testid="apply-station-st-shushan"]"#).await;
    app.click(r#"[data-testid="apply-next"]"#).await;
    app.wait_for_text(r#"[data-testid="apply-fee"]"#, "¥40.00").await;
    let main = app.client.window().await.unwrap();
    app.click(r#"[data-testid="apply-submit"]"#).await;
    confirm_on_provider_page(&mut app, main).await;
    app.wait_for_text(r#"[data-testid="application-status"]"#, "已提交").await;
    let effort = app.interactions - before;
    println!("a replacement for pickup took {effort} interactions from home");
    assert!(effort <= 8, "{effort} interactions: UX target is at most 8");
    app.close().await;
    server.shutdown().await;
}
