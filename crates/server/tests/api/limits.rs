//! Issue 22 items 1-3: every limit decided atomically (parallel requests judged no more often than
//! sequential ones, also across two server processes), SMS on a stranger's request limited, and a
//! staff sign-in that colleagues cannot use up and strangers cannot turn into a lock-out.

use futures::future::join_all;
use jingtong_api::auth::Role;
use jingtong_server::cases::demo::{DEMO_OFFICER, DEMO_QUERY_CODE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::applications::verified;
use crate::helpers::{expect_problem, spawn_app, TestApp};

const JIA: &str = "19900000001"; // 演示用户甲, reporter of the demo case
const YI: &str = "19900000002";
const JIA_RECEIPT: &str = "R850203255844";

/// The `code` of each answer, `"ok"` for a success.
async fn codes(answers: Vec<Response>) -> Vec<String> {
    let mut out = Vec::new();
    for res in answers {
        if res.status().is_success() {
            out.push("ok".to_owned());
        } else {
            let body: Value = res.json().await.unwrap();
            out.push(body["code"].as_str().unwrap().to_owned());
        }
    }
    out
}

fn count(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

fn wrong_of(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

api_test!(
    async fn twenty_parallel_wrong_sign_in_codes_are_judged_five_times_then_the_right_code_fails(backend) {
        let app = spawn_app(backend).await;
        let phone = "19900077001";
        assert_eq!(app.send_code(phone).await.status(), StatusCode::ACCEPTED);
        let right = app.latest_code(phone).await;
        let wrong = wrong_of(&right);
        let answers = codes(join_all((0..20).map(|_| app.sign_in_with(phone, &wrong))).await).await;
        assert!(count(&answers, "sms_code_invalid") <= 5, "{answers:?}");
        assert_eq!(count(&answers, "sms_code_invalid") + count(&answers, "phone_locked"), 20, "{answers:?}");
        assert_eq!(count(&answers, "phone_locked"), 20 - count(&answers, "sms_code_invalid"));
        expect_problem(app.sign_in_with(phone, &right).await, StatusCode::LOCKED, "phone_locked").await;
    }
);

api_test!(
    async fn twenty_parallel_sign_in_code_requests_send_one_sms(backend) {
        let app = spawn_app(backend).await;
        let phone = "19900077002";
        let answers = join_all((0..20).map(|_| app.send_code(phone))).await;
        let accepted = answers.iter().filter(|r| r.status() == StatusCode::ACCEPTED).count();
        assert_eq!(accepted, 1);
        assert_eq!(app.outbox(phone).await.len(), 1);
        let refused = answers.into_iter().find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).unwrap();
        assert!(refused.headers().contains_key("retry-after"));
        let body = expect_problem(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        assert!(body["retry_after"].as_u64().unwrap() >= 1);
    }
);

api_test!(
    async fn one_phone_gets_at_most_five_sign_in_codes_an_hour(backend) {
        let app = spawn_app(backend).await;
        let phone = "19900077003";
        for _ in 0..5 {
            assert_eq!(app.send_code(phone).await.status(), StatusCode::ACCEPTED);
            app.advance(61);
        }
        let res = app.send_code(phone).await;
        assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 60);
        expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        assert_eq!(app.outbox(phone).await.len(), 5);
        app.advance(3600);
        assert_eq!(app.send_code(phone).await.status(), StatusCode::ACCEPTED);
    }
);

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

api_test!(
    async fn twenty_parallel_wrong_case_lookup_codes_are_judged_five_times_then_the_right_code_fails(backend) {
        let app = spawn_app(backend).await;
        let t = app.sign_in(YI).await["access_token"].as_str().unwrap().to_owned();
        let res = lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["lookup_id"].as_str().unwrap().to_owned();
        let right = app.latest_code(JIA).await;
        let wrong = wrong_of(&right);
        let answers = codes(join_all((0..20).map(|_| verify(&app, &t, &id, &wrong))).await).await;
        assert!(count(&answers, "sms_code_invalid") <= 5, "{answers:?}");
        assert_eq!(count(&answers, "sms_code_invalid") + count(&answers, "sms_code_expired"), 20, "{answers:?}");
        expect_problem(verify(&app, &t, &id, &right).await, StatusCode::BAD_REQUEST, "sms_code_expired").await;
    }
);

api_test!(
    async fn twenty_parallel_wrong_query_codes_count_no_more_than_the_limit(backend) {
        let app = spawn_app(backend).await;
        let t = app.sign_in(YI).await["access_token"].as_str().unwrap().to_owned();
        let answers = codes(join_all((0..20).map(|_| lookup(&app, &t, JIA_RECEIPT, "aaaaaa"))).await).await;
        let per_receipt = jingtong_api::cases::rules::LOOKUPS_PER_RECEIPT_PER_DAY as usize;
        let judged = count(&answers, "case_lookup_failed");
        assert!(judged <= per_receipt, "{answers:?}");
        assert_eq!(judged + count(&answers, "rate_limited"), 20, "{answers:?}");
    }
);

api_test!(
    async fn a_case_phone_gets_at_most_three_lookup_codes_an_hour(backend) {
        let app = spawn_app(backend).await;
        let t = app.sign_in(YI).await["access_token"].as_str().unwrap().to_owned();
        let before = app.outbox(JIA).await.len();
        for _ in 0..3 {
            assert_eq!(lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await.status(), StatusCode::CREATED);
        }
        let res = lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await;
        let header: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        let body = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        assert_eq!(body["retry_after"].as_u64(), Some(header));
        // Parallel requests from others do not get past the case's budget either.
        let t2 = app.sign_in("19900000004").await["access_token"].as_str().unwrap().to_owned();
        let answers = codes(join_all((0..10).map(|_| lookup(&app, &t2, JIA_RECEIPT, DEMO_QUERY_CODE))).await).await;
        assert_eq!(count(&answers, "rate_limited"), 10, "{answers:?}");
        assert_eq!(app.outbox(JIA).await.len(), before + 3);
        app.advance(3601);
        let t = app.sign_in(YI).await["access_token"].as_str().unwrap().to_owned();
        assert_eq!(lookup(&app, &t, JIA_RECEIPT, DEMO_QUERY_CODE).await.status(), StatusCode::CREATED);
    }
);

async fn staff_sign_in(app: &TestApp, number: &str, password: &str) -> Response {
    app.post("/api/v1/staff/sessions", json!({ "staff_number": number, "password": password })).await
}

api_test!(
    async fn eleven_staff_sign_ins_from_one_address_all_succeed(backend) {
        let app = spawn_app(backend).await;
        let (number, password) = DEMO_OFFICER;
        for _ in 0..11 {
            assert_eq!(staff_sign_in(&app, number, password).await.status(), StatusCode::CREATED);
        }
        // Eleven colleagues at one window, then all of them again at once.
        let colleagues: Vec<String> = (0..11).map(|i| format!("JT70{i:02}")).collect();
        for c in &colleagues {
            app.staff_token(c, Role::Clerk).await;
        }
        let answers = join_all(colleagues.iter().map(|c| staff_sign_in(&app, c, "test-staff-password"))).await;
        assert!(answers.iter().all(|r| r.status() == StatusCode::CREATED));
    }
);

api_test!(
    async fn wrong_staff_passwords_back_off_and_never_lock_the_officer_out(backend) {
        let app = spawn_app(backend).await;
        let (number, password) = DEMO_OFFICER;
        // Twenty wrong passwords at once: five free failures, the sixth starts a 1-minute delay.
        let answers = codes(join_all((0..20).map(|_| staff_sign_in(&app, number, "wrong"))).await).await;
        assert_eq!(count(&answers, "staff_credentials_invalid"), 6, "{answers:?}");
        assert_eq!(count(&answers, "rate_limited"), 14, "{answers:?}");
        let res = staff_sign_in(&app, number, password).await;
        let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        app.advance(wait);
        // The next failure doubles the delay; the right password after it works.
        expect_problem(staff_sign_in(&app, number, "wrong").await, StatusCode::UNAUTHORIZED, "staff_credentials_invalid")
            .await;
        let res = staff_sign_in(&app, number, password).await;
        let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((61..=120).contains(&wait), "{wait}");
        app.advance(wait);
        assert_eq!(staff_sign_in(&app, number, password).await.status(), StatusCode::CREATED);
        // A success starts the count again: five free failures.
        for _ in 0..5 {
            expect_problem(staff_sign_in(&app, number, "wrong").await, StatusCode::UNAUTHORIZED, "staff_credentials_invalid")
                .await;
        }
        assert_eq!(staff_sign_in(&app, number, password).await.status(), StatusCode::CREATED);
    }
);

api_test!(
    async fn one_address_gets_thirty_wrong_staff_passwords_a_quarter_hour(backend) {
        let app = spawn_app(backend).await;
        for i in 0..30 {
            let res = staff_sign_in(&app, &format!("JT9{i:03}"), "wrong").await;
            expect_problem(res, StatusCode::UNAUTHORIZED, "staff_credentials_invalid").await;
        }
        expect_problem(staff_sign_in(&app, "JT9999", "wrong").await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
);

api_test!(
    async fn a_residents_case_view_shows_no_staff_number(backend) {
        let app = spawn_app(backend).await;
        let (number, password) = DEMO_OFFICER;
        let res = staff_sign_in(&app, number, password).await;
        let o = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let yi = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == YI).unwrap().clone();
        let res = app
            .client
            .post(format!("{}/api/v1/staff/cases", app.url))
            .bearer_auth(&o)
            .json(&json!({ "reporter_id_number": yi["id_number"], "reporter_phone": YI, "kind": "fraud",
                           "title": "电信诈骗报案", "station": "演示路派出所", "officer": "值班民警（警号 JT1001）" }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let reg: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{reg}");
        let case_id = reg["case_id"].as_str().unwrap().to_owned();
        let res = app
            .client
            .post(format!("{}/api/v1/staff/cases/{case_id}/events", app.url))
            .bearer_auth(&o)
            .json(&json!({ "text": "已由民警JT1001受理，警号：123456 负责" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let t = verified(&app, YI).await;
        let res = app.client.get(format!("{}/api/v1/cases/{case_id}", app.url)).bearer_auth(&t).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        assert!(!text.contains("JT1001") && !text.contains("123456"), "{text}");
        let case: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(case["officer"], "值班民警");
        // The demo case names its officer without a number.
        let t = verified(&app, JIA).await;
        let list: Value =
            app.client.get(format!("{}/api/v1/cases", app.url)).bearer_auth(&t).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["items"][0]["officer"], "民警 张某");
        assert!(!list.to_string().contains("JT1001"));
    }
);
