//! Security headers (issue 22, item 8): nothing personal is cached, server-rendered pages carry a
//! strict CSP, and the public health check says only that the server is up.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::applications::verified;
use crate::helpers::{spawn_app, TestApp};

const JIA: &str = "19900000001"; // 甲, a verified driver
const BING: &str = "19900000003"; // 丙, owns 皖SD0004, no app account: gets an SMS link

/// Files a request for 丙's car; returns the owner's SMS text and its link token, once sent.
pub async fn owner_link(app: &TestApp) -> (String, String) {
    let driver = verified(app, JIA).await;
    let res = app
        .client
        .post(format!("{}/api/v1/vehicle-moves", app.url))
        .bearer_auth(&driver)
        .header("Idempotency-Key", "headers-1")
        .json(&crate::moves::request("皖SD0004"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let outbox = app.outbox_of_at_least(BING, 1).await;
    let text = outbox[0]["text"].as_str().unwrap().to_owned();
    let token = text.split("/m/").nth(1).unwrap().chars().take_while(char::is_ascii_hexdigit).collect();
    (text, token)
}

/// 丙 scans 甲's demo fine and opens a payment order; returns the order.
pub async fn open_order(app: &TestApp) -> Value {
    let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    let jia = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == JIA).unwrap();
    let (bill_id, number) = (jia["bills"][0]["id"].as_str().unwrap(), jia["bills"][0]["bill_number"].as_str().unwrap());
    let code: Value = app.get(&format!("/api/v1/dev/bill-codes?bill_number={number}")).await.json().await.unwrap();
    let t = app.sign_in(BING).await["access_token"].as_str().unwrap().to_owned();
    let scan = app
        .client
        .post(format!("{}/api/v1/bills/scan", app.url))
        .bearer_auth(&t)
        .json(&json!({ "code": code["code"] }));
    assert_eq!(scan.send().await.unwrap().status(), StatusCode::OK);
    let res = app
        .client
        .post(format!("{}/api/v1/bills/{bill_id}/payment-orders", app.url))
        .bearer_auth(&t)
        .header("Idempotency-Key", "headers-order-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

fn assert_private(what: &str, res: &Response) {
    assert_eq!(header(res, "cache-control"), Some("no-store"), "{what}: Cache-Control");
    assert_eq!(header(res, "x-content-type-options"), Some("nosniff"), "{what}: nosniff");
    assert_eq!(header(res, "referrer-policy"), Some("no-referrer"), "{what}: Referrer-Policy");
    let csp = header(res, "content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    for directive in ["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
        assert!(csp.split(';').any(|d| d.trim() == directive), "{what}: CSP {csp:?} lacks {directive}");
    }
    assert!(!csp.contains("unsafe") && !csp.contains('*'), "{what}: CSP {csp:?}");
}

api_test!(
    async fn every_personal_answer_and_page_is_uncached_and_pages_carry_a_strict_csp(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.send_code("19900000002").await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code("19900000002").await;
        let tokens = app.sign_in_with("19900000002", &code).await;
        let access = app.sign_in("19900000004").await["access_token"].as_str().unwrap().to_owned();
        let (_, link) = owner_link(&app).await;
        let order = open_order(&app).await;
        let me = app.me(&access).await;
        let problem = app.me("not-a-token").await;
        let events = app.client.get(format!("{}/api/v1/events", app.url)).bearer_auth(&access).send().await.unwrap();
        let link_page = app.get(&format!("/m/{link}")).await;
        let link_json = app.get(&format!("/api/v1/vehicle-move-links/{link}")).await;
        let provider_page = app.client.get(order["pay_url"].as_str().unwrap()).send().await.unwrap();
        let health = app.get("/api/v1/health").await;
        let unknown = app.get("/api/v1/nothing-here").await;
        let table: [(&str, &Response, StatusCode); 9] = [
            ("token pair", &tokens, StatusCode::OK),
            ("resident JSON", &me, StatusCode::OK),
            ("problem", &problem, StatusCode::UNAUTHORIZED),
            ("event stream", &events, StatusCode::OK),
            ("owner's link page", &link_page, StatusCode::OK),
            ("owner's link JSON", &link_json, StatusCode::OK),
            ("provider's page", &provider_page, StatusCode::OK),
            ("health", &health, StatusCode::OK),
            ("unknown path", &unknown, StatusCode::NOT_FOUND),
        ];
        for (what, res, status) in table {
            assert_eq!(res.status(), status, "{what}");
            assert_private(what, res);
        }
        assert!(header(&link_page, "content-type").unwrap().starts_with("text/html"));
        assert!(header(&provider_page, "content-type").unwrap().starts_with("text/html"));
        // The OpenAPI document is the same for everyone: it may be cached.
        let spec = app.get("/api/v1/openapi.json").await;
        assert_eq!(spec.status(), StatusCode::OK);
        assert_eq!(header(&spec, "cache-control"), None);
        assert_eq!(header(&spec, "x-content-type-options"), Some("nosniff"));
    }
);
