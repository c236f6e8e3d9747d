//! Scan to pay in the real app: a picture of a bill's QR code in, the bill with today's amount, the
//! payer confirming on the provider's page (its own window), and the e-receipt once the server says paid.

use std::io::Cursor;
use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::driver::{scratch, App};
use crate::sign_in::{demo_server_with, sign_in_demo, DEMO_PHONE};

fn demo_bill_number() -> String {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../crates/server/fixtures/demo.json")).expect("demo.json");
    let r = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == DEMO_PHONE).unwrap();
    r["bills"][0]["bill_number"].as_str().unwrap().to_owned()
}

/// The QR code as a printed notice would carry it, as a PNG.
fn qr_png(text: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let img = code.render::<image::Luma<u8>>().module_dimensions(4, 4).build();
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn resident_scans_a_fine_pays_it_and_gets_the_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let server = demo_server_with(&tmp.path().join("server"), |_| {}).await;
    let number = demo_bill_number();
    let code: serde_json::Value = reqwest::get(format!("{}/api/v1/dev/bill-codes?bill_number={number}", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = code["code"].as_str().expect("demo bill code").to_owned();

    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;
    let before = app.interactions;

    app.click(r#"[data-testid="service-scan-pay"]"#).await;
    app.give_file(r#"[data-testid="scan-import"]"#, &qr_png(&code), "fine.png", "image/png").await;
    // ¥200.00 until the demo fine's due date, more after it (the late fee): the receipt must match.
    let total = app.wait_for_text(r#"[data-testid="bill-total"]"#, "¥").await;
    app.screenshot("pay-bill").await;

    let main = app.client.window().await.unwrap();
    app.click(r#"[data-testid="bill-pay"]"#).await;
    app.find(r#"[data-testid="bill-waiting"]"#).await;
    confirm_on_provider_page(&mut app, main).await;

    app.wait_for_text(r#"[data-testid="receipt-paid"]"#, &total).await;
    app.find(r#"[data-testid="receipt-qr"] svg"#).await;
    app.screenshot("pay-receipt").await;
    println!("scan to pay took {} interactions from home", app.interactions - before);
    app.close().await;
    server.shutdown().await;
}

/// The provider's page opens in its own window: confirm there, as the payer would, and come back.
pub async fn confirm_on_provider_page(app: &mut App, main: fantoccini::wd::WindowHandle) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let provider = loop {
        let handles = app.client.windows().await.unwrap();
        if let Some(h) = handles.into_iter().find(|h| *h != main) {
            break h;
        }
        assert!(Instant::now() < deadline, "the provider's page did not open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    app.client.switch_to_window(provider).await.unwrap();
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.interactions += 1;
    app.client.switch_to_window(main).await.unwrap();
}
