//! Case lookup in the real app: the demo receipt's number and query code, the SMS code, the case's
//! timeline; then an officer posts a new event through the staff API and the open screen shows it.

use serde_json::{json, Value};

use crate::driver::{scratch, App};
use crate::sign_in::{demo_server_with, newest_code, sign_in_demo, DEMO_PHONE};

/// 演示用户甲's lost-wallet report (crates/server/fixtures/demo.json).
const RECEIPT: &str = "R850203255844";

async fn officer_posts(server: &str, case_id: &str, text: &str) {
    let http = reqwest::Client::new();
    let (number, password) = jingtong_server::cases::demo::DEMO_OFFICER;
    let pair: Value = http
        .post(format!("{server}/api/v1/staff/sessions"))
        .json(&json!({ "staff_number": number, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = http
        .post(format!("{server}/api/v1/staff/cases/{case_id}/events"))
        .bearer_auth(pair["access_token"].as_str().unwrap())
        .json(&json!({ "text": text, "status": "investigating" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn resident_looks_up_a_case_and_sees_the_officers_news_arrive() {
    let tmp = tempfile::tempdir().unwrap();
    let server = demo_server_with(&tmp.path().join("server"), |_| {}).await;
    let env = scratch(tmp.path());
    let mut app = App::launch(&server.url(), &env).await;
    sign_in_demo(&mut app, &server.url()).await;
    app.click(r#"[data-testid="face-prompt"] .van-dialog__cancel"#).await;
    let before = app.interactions;

    app.click(r#"[data-testid="service-case-lookup"]"#).await;
    app.type_into(r#"[data-testid="case-receipt"] input"#, RECEIPT).await;
    app.type_into(r#"[data-testid="case-query-code"] input"#, jingtong_server::cases::demo::DEMO_QUERY_CODE).await;
    app.click(r#"[data-testid="case-lookup-start"]"#).await;
    app.wait_for_text(r#"[data-testid="case-code-sent"]"#, "199****0001").await;
    let code = newest_code(&server.url(), DEMO_PHONE).await;
    app.type_into(r#"[data-testid="case-sms-code"] input"#, &code).await;
    app.click(r#"[data-testid="case-lookup-verify"]"#).await;
    app.wait_for_text(r#"[data-testid="case-status"]"#, "已受理").await;
    app.wait_for_text(r#"[data-testid="case-timeline"]"#, "受理").await;
    let effort = app.interactions - before;
    app.screenshot("case-found").await;

    let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    let case_id = demo["residents"][0]["cases"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(demo["residents"][0]["cases"][0]["receipt_number"], RECEIPT);
    officer_posts(&server.url(), &case_id, "已调取周边监控，正在比对").await;
    app.wait_for_text(r#"[data-testid="case-timeline"]"#, "已调取周边监控").await;
    app.wait_for_text(r#"[data-testid="case-status"]"#, "侦查中").await;
    app.screenshot("case-updated").await;
    println!("a case lookup took {effort} interactions from home");
    app.close().await;
    server.shutdown().await;
}
