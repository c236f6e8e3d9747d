use std::net::SocketAddr;

use crate::driver::{scratch, App};

/// A demo resident from crates/server/fixtures/demo.json.
pub const DEMO_PHONE: &str = "19900000001";

async fn demo_server(dir: &std::path::Path) -> jingtong_server::Running {
    demo_server_with(dir, |_| {}).await
}

pub async fn demo_server_with(
    dir: &std::path::Path,
    adjust: impl FnOnce(&mut jingtong_server::Config),
) -> jingtong_server::Running {
    let mut config = jingtong_server::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.to_path_buf(),
        database_url: None,
        demo: true,
        ..Default::default()
    };
    adjust(&mut config);
    jingtong_server::start(config).await.expect("server starts")
}

/// Signs the demo resident in from the sign-in screen; returns at home with the face prompt open.
pub async fn sign_in_demo(app: &mut App, server: &str) {
    app.type_into(r#"[data-testid="phone-input"] input"#, DEMO_PHONE).await;
    app.click(r#"[data-testid="send-code"]"#).await;
    app.wait_for_text(r#"[data-testid="send-code"]"#, "秒").await;
    let code = newest_code(server, DEMO_PHONE).await;
    app.type_into(r#"[data-testid="code-input"] input"#, &code).await;
    app.click(r#"[data-testid="sign-in"]"#).await;
    app.find(r#"[data-testid="home"]"#).await;
}

pub async fn newest_code(server: &str, phone: &str) -> String {
    let list: serde_json::Value =
        reqwest::get(format!("{server}/api/v1/dev/sms-outbox?phone={phone}")).await.unwrap().json().await.unwrap();
    list[0]["code"].as_str().expect("a code in the outbox").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn resident_signs_in_with_the_sms_code_and_reaches_home() {
    let tmp = tempfile::tempdir().unwrap();
    let server = demo_server(&tmp.path().join("server")).await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;

    app.type_into(r#"[data-testid="phone-input"] input"#, DEMO_PHONE).await;
    app.click(r#"[data-testid="send-code"]"#).await;
    // The countdown proves the server accepted the request.
    app.wait_for_text(r#"[data-testid="send-code"]"#, "秒").await;
    let code = newest_code(&server.url(), DEMO_PHONE).await;
    app.type_into(r#"[data-testid="code-input"] input"#, &code).await;
    app.click(r#"[data-testid="sign-in"]"#).await;

    app.find(r#"[data-testid="home"]"#).await;
    app.find(r#"[data-testid="face-prompt"]"#).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;
    app.wait_for_text(r#"[data-testid="greeting-phone"]"#, "199****0001").await;
    let grid = app.text(r#"[data-testid="service-grid"]"#).await;
    for service in ["刷脸认证", "居民身份证", "临时身份证", "一键挪车", "扫码缴费", "我的进度"]
    {
        assert!(grid.contains(service), "home grid misses {service}: {grid}");
    }
    let shot = app.screenshot("home").await;
    println!("sign-in took {} interactions; screenshot {}", app.interactions, shot.display());

    // The session is in the keychain, not in the webview: a restarted app opens at home.
    app.close().await;
    let app = App::launch(&server.url(), &env).await;
    app.wait_for_text(r#"[data-testid="greeting-phone"]"#, "199****0001").await;
    app.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_sign_in_says_so_and_keeps_the_typed_number_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing listens here: the app must report offline, not crash.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}");
    let env = scratch(tmp.path());
    let mut app = App::launch(&url, &env).await;

    app.type_into(r#"[data-testid="phone-input"] input"#, DEMO_PHONE).await;
    app.click(r#"[data-testid="send-code"]"#).await;
    app.find(r#"[data-testid="offline-banner"]"#).await;
    let typed = app.find(r#"[data-testid="phone-input"] input"#).await.prop("value").await.unwrap();
    assert_eq!(typed.as_deref(), Some(DEMO_PHONE), "the typed number must stay after an error");
    app.screenshot("offline").await;
    // Give the draft autosave (debounced) time to land, then kill and restart the app.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    app.close().await;

    let app = App::launch(&url, &env).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = app.find(r#"[data-testid="phone-input"] input"#).await.prop("value").await.unwrap();
        if v.as_deref() == Some(DEMO_PHONE) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the half-typed number was not restored: {v:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.close().await;
}
