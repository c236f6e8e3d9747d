//! One-tap vehicle moving in the real app: the demo driver files a request for 乙's car with two
//! scene photos; 乙, who uses the app, answers through the API "about 5 minutes"; the driver's open
//! timeline shows the answer by itself (pushed change or polling).

use image::{DynamicImage, Rgb, RgbImage};
use serde_json::{json, Value};

use crate::applications::verify_demo_resident;
use crate::driver::{scratch, App};
use crate::sign_in::{demo_server_with, newest_code, sign_in_demo};

/// 演示用户乙 (fixtures/demo.json, fictional): owns 皖SD0002.
const OWNER_PHONE: &str = "19900000002";

/// A phone-sized scene photo (a grey car shape on asphalt with a plate-like box): made here, no
/// real car or plate.
fn scene_photo(shade: u8) -> Vec<u8> {
    let img = RgbImage::from_fn(1600, 1200, |x, y| {
        let car = (300..1300).contains(&x) && (400..900).contains(&y);
        let plate = (700..900).contains(&x) && (780..840).contains(&y);
        match (plate, car) {
            (true, _) => Rgb([20, 60, 200]),
            (false, true) => Rgb([shade, shade, shade + 10]),
            _ => Rgb([60 + (x % 7) as u8, 60, 62 + (y % 5) as u8]),
        }
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(img).write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    jpeg
}

/// 乙 signs in through the API (so the notice reaches the app, not an SMS); returns the token.
async fn owner_signs_in(server: &str) -> String {
    let http = reqwest::Client::new();
    let sent = http.post(format!("{server}/api/v1/auth/sms-codes")).json(&json!({ "phone": OWNER_PHONE })).send().await;
    assert_eq!(sent.unwrap().status().as_u16(), 202);
    let code = newest_code(server, OWNER_PHONE).await;
    let pair: Value = http
        .post(format!("{server}/api/v1/auth/sessions"))
        .json(&json!({ "phone": OWNER_PHONE, "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pair["access_token"].as_str().expect("owner signed in").to_owned()
}

/// 乙 answers the newest request about their car: coming in 5 minutes.
async fn owner_answers(server: &str, token: &str) {
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!("{server}/api/v1/vehicle-moves"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = &list["items"][0];
    let id = newest["id"].as_str().expect("a request about 乙's car").to_owned();
    assert_eq!(newest["role"], "owner");
    let res = http
        .post(format!("{server}/api/v1/vehicle-moves/{id}/answer"))
        .bearer_auth(token)
        .json(&json!({ "reply": "coming", "eta_minutes": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_driver_files_a_request_with_photos_and_sees_the_owners_eta() {
    let tmp = tempfile::tempdir().unwrap();
    let server_dir = tmp.path().join("server");
    let server = demo_server_with(&server_dir, |_| {}).await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;
    verify_demo_resident(&server_dir).await;
    // 乙 uses the app too (signed in after 甲 is verified: the helper binds the only resident).
    let owner = owner_signs_in(&server.url()).await;
    let before = app.interactions;

    app.click(r#"[data-testid="service-vehicle-move"]"#).await;
    app.find(r#"[data-testid="move-province"]"#).await;
    app.type_into(r#"[data-testid="move-plate-rest"] input"#, "SD0002").await;
    app.type_into(
        r#"[data-testid="move-address"] textarea, [data-testid="move-address"] input"#,
        "演示路 88 号小区东门",
    )
    .await;
    app.click(r#"[data-testid="move-region"]"#).await;
    app.click(r#".van-popup .van-picker__confirm"#).await;
    app.give_file(r#"[data-testid="move-photo-import"]"#, &scene_photo(150), "car.jpg", "image/jpeg").await;
    app.give_file(r#"[data-testid="move-photo-import"]"#, &scene_photo(170), "plate.jpg", "image/jpeg").await;
    app.wait_for_count(r#"[data-testid="move-photo-thumb"]"#, 2).await;
    app.click(r#"[data-testid="move-submit"]"#).await;
    app.wait_for_text(r#"[data-testid="move-timeline"]"#, "通知车主").await;
    let effort = app.interactions - before;
    app.screenshot("move-sent").await;

    owner_answers(&server.url(), &owner).await;
    app.wait_for_text(r#"[data-testid="move-eta"]"#, "5").await;
    app.find(r#"[data-testid="move-event-coming"]"#).await;
    app.screenshot("move-owner-coming").await;
    println!("a vehicle-moving request took {effort} interactions from home");
    app.close().await;
    server.shutdown().await;
}
