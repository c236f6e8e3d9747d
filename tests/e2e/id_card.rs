//! ID card service pages in the real app: the rules data on the item page, and the on-device GA 461
//! photo check with a real portrait (its busy background is refused, with the crop shown).

use crate::driver::{scratch, App};
use crate::sign_in::{demo_server_with, sign_in_demo};

#[tokio::test(flavor = "multi_thread")]
async fn resident_reads_the_rules_and_checks_an_id_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let server = demo_server_with(&tmp.path().join("server"), |_| {}).await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;

    app.click(r#"[data-testid="service-id-card"]"#).await;
    app.click(r#"[data-testid="item-id_card_replacement"]"#).await;
    app.wait_for_text(r#"[data-testid="service-item-fee"]"#, "¥40.00").await;
    app.wait_for_text(r#"[data-testid="service-item-time"]"#, "60 个工作日").await;
    app.wait_for_text(r#"[data-testid="service-item-sources"]"#, "居民身份证法").await;

    app.click(r#"[data-testid="service-item-photo"]"#).await;
    let path = jingtong_face::asset_dir().join("testdata").join("obama.jpg");
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-face-assets)", path.display()));
    app.give_file(r#"[data-testid="id-photo-import"]"#, &bytes, "portrait.jpg", "image/jpeg").await;
    app.wait_for_text(r#"[data-testid="id-photo-problem"]"#, "id_photo_background").await;
    app.find(r#"[data-testid="id-photo-preview"]"#).await;
    app.screenshot("id-photo").await;
    app.close().await;
    server.shutdown().await;
}
