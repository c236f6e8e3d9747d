//! Case tracking: lookup with receipt number + query code + SMS code, identical answers for unknown
//! receipts and wrong codes, limits, the officers' API, and changes pushed to an open app.

use std::time::{Duration, Instant};

use jingtong_api::auth::Role;
use jingtong_server::cases::demo::{DEMO_OFFICER, DEMO_QUERY_CODE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::applications::verified;
use crate::helpers::{expect_problem, spawn_app_config, TestApp};

const JIA: &str = "19900000001"; // 演示用户甲: reported a lost wallet (demo case R850203255844)
const YI: &str = "19900000002"; // 演示用户乙
const JIA_RECEIPT: &str = "R850203255844";

async fn token(app: &TestApp, phone: &str) -> String {
    app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned()
}

async fn lookup(app: &TestApp, t: &str, receipt: &str, code: &str) -> Response {
    app.client
        .post(format!("{}/api/v1/case-lookups", app.url))
        .bearer_auth(t)
        .json(&json!({ "receipt_number": receipt, "query_code": code }))
        .send()
        .await
        .unwrap()
}

async fn verify(app: &TestApp, t: &str, lookup_id: &str, code: &str) -> Response {
    app.client
        .post(format!("{}/api/v1/case-lookups/{lookup_id}/verify", app.url))
        .bearer_auth(t)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, t: &str, path: &str) -> Response {
    app.client.get(format!("{}{path}", app.url)).bearer_auth(t).send().await.unwrap()
}

async fn officer(app: &TestApp) -> String {
    let (number, password) = DEMO_OFFICER;
    let res = app.post("/api/v1/staff/sessions", json!({ "staff_number": number, "password": password })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn append(app: &TestApp, t: &str, case_id: &str, body: Value) -> Response {
    app.client
        .post(format!("{}/api/v1/staff/cases/{case_id}/events", app.url))
        .bearer_auth(t)
        .json(&body)
        .send()
        .await
        .unwrap()
}

api_test!(
    async fn a_receipt_its_query_code_and_the_sms_code_open_the_case(backend) {
        let app = spawn_app_config(backend, |_| {}).await;
        // 乙 holds 甲's receipt (a relative helping): the SMS still goes to the phone on the case.
        let t = token(&app, YI).await;
        assert!(get(&app, &t, "/api/v1/cases").await.json::<Value>().await.unwrap()["items"].clone().as_array().unwrap().is_empty());
        let res = lookup(&app, &t, "r8502 0325 5844", "k7p2qx").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let started: Value = res.json().await.unwrap();
        assert_eq!(started["phone_masked"], "199****0001");
        let sms = app.latest_code(JIA).await;
        let id = started["lookup_id"].as_str().unwrap();
        expect_problem(verify(&app, &t, id, "000000").await, StatusCode::BAD_REQUEST, "sms_code_invalid").await;
        let res = verify(&app, &t, id, &sms).await;
        assert_eq!(res.status(), StatusCode::OK);
        let case: Value = res.json().await.unwrap();
        assert_eq!(case["receipt_number"], JIA_RECEIPT);
        assert_eq!(case["status"], "received");
        assert!(case["station"].as_str().unwrap().contains("派出所"));
        assert_eq!(case["events"][0]["status"], "received");
        // The code works once.
        expect_problem(verify(&app, &t, id, &sms).await, StatusCode::BAD_REQUEST, "sms_code_expired").await;
        let list: Value = get(&app, &t, "/api/v1/cases").await.json::<Value>().await.unwrap()["items"].clone();
        assert_eq!(list.as_array().unwrap().len(), 1);
        // Another resident sees nothing of it, not even by id.
        let other = token(&app, "19900000004").await;
        let case_id = case["id"].as_str().unwrap();
        expect_problem(get(&app, &other, &format!("/api/v1/cases/{case_id}")).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_problem(verify(&app, &other, id, &sms).await, StatusCode::NOT_FOUND, "not_found").await;
    }
);

api_test!(
    async fn a_mistyped_receipt_number_is_told_as_a_typo_and_costs_no_lookup_attempt(backend) {
        use jingtong_api::cases::rules::LOOKUPS_PER_ACCOUNT_PER_HOUR;
        let app = spawn_app_config(backend, |_| {}).await;
        let t = token(&app, YI).await;
        // One wrong digit, two swapped neighbours, the old demo number: more typos than the account has tries.
        let typos = ["R850203255854", "R850203255484", "R580203255844", "R850203255845"];
        for i in 0..=LOOKUPS_PER_ACCOUNT_PER_HOUR as usize {
            let typo = typos[i % typos.len()];
            let res = lookup(&app, &t, typo, DEMO_QUERY_CODE).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{typo}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["code"], "case_receipt_invalid");
            assert!(body["detail"].as_str().unwrap().contains("有误"), "{body}");
            assert_eq!(body["errors"][0]["field"], "receipt_number", "{body}");
        }
        let pool = app.db().await;
        let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE kind = 'case_lookup'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(audited, 0, "a typo is not a failed lookup");
        // None of them counted: the right number still opens the case.
        let res = lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
);

api_test!(
    async fn unknown_receipts_and_wrong_codes_look_the_same_and_guessing_stops(backend) {
        let app = spawn_app_config(backend, |_| {}).await;
        let t = token(&app, YI).await;
        let unknown = lookup(&app, &t, "R000000000098", DEMO_QUERY_CODE).await;
        let wrong = lookup(&app, &t, JIA_RECEIPT, "AAAAAA").await;
        let (a, b) = (unknown.status(), wrong.status());
        let (a_body, b_body): (Value, Value) = (unknown.json().await.unwrap(), wrong.json().await.unwrap());
        assert_eq!((a, b), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
        assert_eq!(a_body, b_body, "the answers must not tell which one was wrong");
        assert_eq!(a_body["code"], "case_lookup_failed");
        expect_problem(lookup(&app, &t, "R12", DEMO_QUERY_CODE).await, StatusCode::BAD_REQUEST, "case_receipt_invalid").await;
        // Five failures per account an hour; then even the right code waits.
        for i in 0..3 {
            assert_eq!(lookup(&app, &t, JIA_RECEIPT, &format!("AAAAA{}", i + 2)).await.status(), StatusCode::NOT_FOUND);
        }
        expect_problem(lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        // The receipt itself is protected too: after its fifth failure, no account gets another try today.
        let other = token(&app, "19900000004").await;
        expect_problem(lookup(&app, &other, JIA_RECEIPT, "BBBBBB").await, StatusCode::NOT_FOUND, "case_lookup_failed").await;
        expect_problem(lookup(&app, &other, JIA_RECEIPT, DEMO_QUERY_CODE).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        // An hour later the account may try again, but the receipt stays blocked for the day.
        app.advance(3601);
        let t = token(&app, YI).await;
        expect_problem(lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        let pool = app.db().await;
        let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE kind = 'case_lookup'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(audited, 6, "every failure is audited");
    }
);

api_test!(
    async fn an_officer_registers_a_case_and_posts_events_the_reporter_follows(backend) {
        let app = spawn_app_config(backend, |_| {}).await;
        let o = officer(&app).await;
        let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let yi = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == YI).unwrap();
        let res = app
            .client
            .post(format!("{}/api/v1/staff/cases", app.url))
            .bearer_auth(&o)
            .json(&json!({ "reporter_id_number": yi["id_number"], "reporter_phone": YI, "kind": "fraud",
                           "title": "演示：电信诈骗报案", "station": "演示路派出所", "officer": "值班民警（警号 JT1001）" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let reg: Value = res.json().await.unwrap();
        let case_id = reg["case_id"].as_str().unwrap().to_owned();
        assert_eq!(reg["query_code"].as_str().unwrap().len(), 6);

        // The reporter, verified, sees their own case without a lookup.
        let t = verified(&app, YI).await;
        let mine: Value = get(&app, &t, &format!("/api/v1/cases/{case_id}")).await.json().await.unwrap();
        assert_eq!(mine["status"], "received");

        // A decision not to open the case: the 3-day notice deadline is shown.
        assert_eq!(
            append(&app, &o, &case_id, json!({ "text": "经审查，不符合立案条件", "status": "not_opened" })).await.status(),
            StatusCode::CREATED
        );
        let now: Value = get(&app, &t, &format!("/api/v1/cases/{case_id}")).await.json().await.unwrap();
        assert_eq!(now["status"], "not_opened");
        assert!(now["deadline"].as_str().is_some());
        assert_eq!(now["events"].as_array().unwrap().len(), 2);

        // Residents and clerks cannot post events.
        expect_problem(append(&app, &t, &case_id, json!({ "text": "x" })).await, StatusCode::FORBIDDEN, "forbidden").await;
        let clerk = app.staff_token("JT0009", Role::Clerk).await;
        expect_problem(append(&app, &clerk, &case_id, json!({ "text": "x" })).await, StatusCode::FORBIDDEN, "forbidden").await;
        let after: Value = get(&app, &t, &format!("/api/v1/cases/{case_id}")).await.json().await.unwrap();
        assert_eq!((&after["status"], after["events"].as_array().unwrap().len()), (&json!("not_opened"), 2));
        expect_problem(append(&app, &o, &case_id, json!({ "text": "  " })).await, StatusCode::BAD_REQUEST, "field_required").await;
    }
);

api_test!(
    async fn the_case_screen_answers_only_a_live_resident_session(backend) {
        let app = spawn_app_config(backend, |_| {}).await;
        // 甲, verified, is the reporter of the demo case: it is in their list and opens by id.
        let t = verified(&app, JIA).await;
        let list: Value = get(&app, &t, "/api/v1/cases").await.json::<Value>().await.unwrap()["items"].clone();
        let case_id = list[0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/cases/{case_id}");
        let res = get(&app, &t, &path).await;
        assert_eq!(res.status(), StatusCode::OK);
        let case: Value = res.json().await.unwrap();
        assert_eq!(case["receipt_number"], JIA_RECEIPT);
        assert!(!case["events"].as_array().unwrap().is_empty());
        // No such case, and a staff account: not a resident's screen.
        expect_problem(get(&app, &t, "/api/v1/cases/no-such-case").await, StatusCode::NOT_FOUND, "not_found").await;
        let o = officer(&app).await;
        expect_problem(get(&app, &o, &path).await, StatusCode::FORBIDDEN, "forbidden").await;
        // No token, a made-up one, an expired one and a signed-out one: 401 with the bearer challenge.
        let res = app.get(&path).await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        expect_problem(get(&app, "garbage", &path).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        app.advance(16 * 60);
        expect_problem(get(&app, &t, &path).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let fresh = app.sign_in(JIA).await["access_token"].as_str().unwrap().to_owned();
        assert_eq!(get(&app, &fresh, &path).await.status(), StatusCode::OK);
        let res = app.client.delete(format!("{}/api/v1/auth/sessions/current", app.url)).bearer_auth(&fresh).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        expect_problem(get(&app, &fresh, &path).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

api_test!(
    async fn an_open_app_hears_of_a_new_case_event_within_two_seconds(backend) {
        let app = spawn_app_config(backend, |_| {}).await;
        let t = verified(&app, JIA).await;
        let cases: Value = get(&app, &t, "/api/v1/cases").await.json::<Value>().await.unwrap()["items"].clone();
        let case_id = cases[0]["id"].as_str().unwrap().to_owned();
        let mut stream = get(&app, &t, "/api/v1/events").await;
        assert_eq!(stream.status(), StatusCode::OK);
        assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let o = officer(&app).await;
        let sent = Instant::now();
        assert_eq!(append(&app, &o, &case_id, json!({ "text": "已调取周边监控", "status": "investigating" })).await.status(), StatusCode::CREATED);
        let mut seen = String::new();
        while !seen.contains("已调取周边监控") {
            let chunk = tokio::time::timeout(Duration::from_secs(2), stream.chunk()).await.expect("an event within 2 s");
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("stream open")));
        }
        assert!(sent.elapsed() < Duration::from_secs(2));
        assert!(seen.contains("event: change") && seen.contains(&case_id), "{seen}");
    }
);
