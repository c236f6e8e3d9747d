//! The authorisation matrix, generated from the OpenAPI document: every operation that takes an
//! object id is called by a signed-out client, by a second resident and by staff of the wrong role, with the ids of objects a
//! first resident really owns. Every answer must be 401/403/404 and must not carry the owner's data.
//! A new endpoint joins by itself; a new kind of path parameter fails here until it is added to `ids`.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_config, TestApp};

/// Demo residents (fixtures/demo.json, fictional): 甲 owns the objects, 乙 tries to reach them.
const OWNER: &str = "19900000001";
const STRANGER: &str = "19900000002";

/// Operations outside the matrix, each with its reason.
const EXEMPT: [(&str, &str); 5] = [
    // The SMS link's token is itself the credential (random, kept hashed, void once resolved): covered
    // by tests/api/moves.rs (unknown token → 404, closed request → 404).
    ("/api/v1/vehicle-move-links/{token}", "capability link from the owner's SMS"),
    ("/api/v1/vehicle-move-links/{token}/answer", "capability link from the owner's SMS"),
    // The payment provider's own pages (demo mode only): the payer reaches them by the provider's link.
    ("/api/v1/dev/provider/pay/{prepay_id}", "the local provider's payer page, not our API"),
    ("/api/v1/dev/provider/pay/{prepay_id}/confirm", "the local provider's payer page, not our API"),
    // Authenticated by the provider's signature, not a user: covered by the payment notification tests.
    ("/api/v1/payments/notify", "provider webhook"),
];

fn demo() -> Value {
    serde_json::from_str(include_str!("../../fixtures/demo.json")).expect("demo.json")
}

fn resident(phone: &str) -> Value {
    demo()["residents"].as_array().unwrap().iter().find(|r| r["phone"] == phone).unwrap().clone()
}

async fn token(app: &TestApp, phone: &str) -> String {
    app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned()
}

/// Objects the owner really has: a face challenge, a scanned bill, its order, and a receipt of another bill.
async fn owned_ids(app: &TestApp, t: &str) -> HashMap<&'static str, String> {
    let me = resident(OWNER);
    let ch: Value = app
        .client
        .post(format!("{}/api/v1/identity/face-challenges", app.url))
        .bearer_auth(t)
        .json(&json!({ "name": me["name"], "id_number": me["id_number"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = me["bills"][0]["bill_number"].as_str().unwrap();
    let code: Value = app
        .client
        .get(format!("{}/api/v1/dev/bill-codes?bill_number={number}", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bill: Value = app
        .client
        .post(format!("{}/api/v1/bills/scan", app.url))
        .bearer_auth(t)
        .json(&json!({ "code": code["code"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bill_id = bill["bill_id"].as_str().expect("scanned bill").to_owned();
    let order: Value = app
        .client
        .post(format!("{}/api/v1/bills/{bill_id}/payment-orders", app.url))
        .bearer_auth(t)
        .header("Idempotency-Key", "authz-1")
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order_id = order["order_id"].as_str().expect("order").to_owned();
    let confirm = format!("{}/confirm", order["pay_url"].as_str().unwrap());
    assert!(app.client.post(confirm).send().await.unwrap().status().as_u16() < 400);
    let mut receipt = None;
    for _ in 0..20 {
        app.run_jobs().await;
        let o: Value = app
            .client
            .get(format!("{}/api/v1/payment-orders/{order_id}", app.url))
            .bearer_auth(t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(r) = o["receipt_number"].as_str() {
            receipt = Some(r.to_owned());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let application = owned_application(app, t).await;
    let vehicle_move = owned_move(app, t).await;
    let case_id = me["cases"][0]["id"].as_str().unwrap().to_owned();
    let started: Value = app
        .client
        .post(format!("{}/api/v1/case-lookups", app.url))
        .bearer_auth(t)
        .json(&json!({ "receipt_number": me["cases"][0]["receipt_number"], "query_code": jingtong_server::cases::demo::DEMO_QUERY_CODE }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    HashMap::from([
        ("case_id", case_id),
        ("lookup_id", started["lookup_id"].as_str().expect("a lookup").to_owned()),
        ("application_id", application),
        ("move_id", vehicle_move),
        ("challenge_id", ch["challenge_id"].as_str().expect("challenge").to_owned()),
        ("bill_id", bill_id),
        ("order_id", order_id),
        ("receipt_number", receipt.expect("the order was paid")),
    ])
}

/// The owner, verified as face verification would make them, applies for a renewal.
async fn owned_application(app: &TestApp, t: &str) -> String {
    crate::applications::verify(app, t, OWNER).await;
    let res = crate::applications::apply(app, t, "authz-app", &crate::applications::replacement_at_station()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// The (verified) owner asks 丙, who has no account, to move 皖SD0004: 乙, the stranger, is no party.
async fn owned_move(app: &TestApp, t: &str) -> String {
    let res = app
        .client
        .post(format!("{}/api/v1/vehicle-moves", app.url))
        .bearer_auth(t)
        .header("Idempotency-Key", "authz-move")
        .json(&crate::moves::request("皖SD0004"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// A well-formed body, so that the answer is about who asks, not about what was sent.
fn request(app: &TestApp, method: &Method, url: &str, op: &Value) -> reqwest::RequestBuilder {
    let rb = app.client.request(method.clone(), url).header("Idempotency-Key", "authz-probe");
    let content = &op["requestBody"]["content"];
    if content.get("multipart/form-data").is_some() {
        let mut form = reqwest::multipart::Form::new().text("nonce", "probe");
        for i in 0..3 {
            form = form.part(format!("frame{i}"), reqwest::multipart::Part::bytes(vec![0xff, 0xd8, 0xff, i]));
        }
        rb.multipart(form)
    } else if content.get("application/json").is_some() {
        rb.json(&json!({}))
    } else {
        rb
    }
}

api_test!(
    async fn no_object_is_reachable_by_a_stranger_or_without_a_session(backend) {
        let app = spawn_app_config(backend, |_| {}).await;
        let owner = token(&app, OWNER).await;
        let ids = owned_ids(&app, &owner).await;
        let stranger = token(&app, STRANGER).await;
        // Staff of another role than the one an endpoint needs: traffic police for everything but
        // the duty queue of vehicle moves, where a clerk is the wrong role.
        let traffic = app.staff_token("TR0001", jingtong_api::auth::Role::Traffic).await;
        let clerk = app.staff_token("CL0001", jingtong_api::auth::Role::Clerk).await;
        let me = resident(OWNER);
        let secrets = [me["name"].as_str().unwrap(), me["id_number"].as_str().unwrap(), OWNER, me["bills"][0]["bill_number"].as_str().unwrap()];

        let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
        let mut checked = 0;
        for (path, item) in spec["paths"].as_object().unwrap() {
            if !path.contains('{') || EXEMPT.iter().any(|(p, _)| p == path) {
                continue;
            }
            for (method, op) in item.as_object().unwrap() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
                let mut url = format!("{}{path}", app.url);
                for (name, value) in &ids {
                    url = url.replace(&format!("{{{name}}}"), value);
                }
                assert!(!url.contains('{'), "{method} {path}: add an owned object for its parameter to `owned_ids`");
                let wrong_staff = if path.starts_with("/api/v1/staff/vehicle-moves") { &clerk } else { &traffic };
                for (who, bearer) in [("signed out", None), ("another resident", Some(&stranger)), ("wrong staff role", Some(wrong_staff))] {
                    let mut rb = request(&app, &method, &url, op);
                    if let Some(t) = bearer {
                        rb = rb.bearer_auth(t);
                    }
                    let res = rb.send().await.unwrap();
                    let status = res.status();
                    let body = res.text().await.unwrap();
                    let allowed: &[StatusCode] = if bearer.is_none() {
                        &[StatusCode::UNAUTHORIZED]
                    } else {
                        &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND]
                    };
                    assert!(allowed.contains(&status), "{who}: {method} {path} answered {status}: {body}");
                    for secret in secrets.iter().chain(ids.values().map(String::as_str).collect::<Vec<_>>().iter()) {
                        assert!(!body.contains(secret), "{who}: {method} {path} leaked {secret}: {body}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 10, "only {checked} calls: the matrix lost its operations");
    }
);
