//! Sign-in as a resident experiences it: codes, limits, locks, tokens, sign-out.

use std::sync::atomic::Ordering;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_app, spawn_app_with, spawn_app_with_carrier};

const PHONE: &str = "19900098000";

api_test!(
    async fn sign_in_with_code_from_outbox(backend) {
        let app = spawn_app(backend).await;
        let res = app.send_code(PHONE).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let sent: Value = res.json().await.unwrap();
        assert_eq!(sent, json!({ "resend_after_seconds": 60, "expires_in_seconds": 300 }));

        let outbox = app.outbox(PHONE).await;
        assert_eq!(outbox.len(), 1);
        let code = outbox[0]["code"].as_str().unwrap();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        let text = outbox[0]["text"].as_str().unwrap();
        assert!(text.starts_with("【警通】您的验证码是") && text.contains(code) && text.contains("5分钟"), "{text}");

        let res = app.sign_in_with(PHONE, code).await;
        assert_eq!(res.status(), StatusCode::OK);
        let pair: Value = res.json().await.unwrap();
        assert_eq!(pair["token_type"], "Bearer");
        assert_eq!(pair["expires_in"], 900);
        assert!(pair["refresh_token"].as_str().is_some_and(|t| t.len() >= 43));

        let res = app.me(pair["access_token"].as_str().unwrap()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["phone_masked"], "199****8000");
        assert_eq!(me["role"], "resident");
        assert_eq!(me["verification_level"], "none");

        // The code was used up.
        expect_problem(app.sign_in_with(PHONE, code).await, StatusCode::BAD_REQUEST, "sms_code_invalid").await;
    }
);

api_test!(
    async fn a_carrier_outage_asks_the_resident_to_try_again_when_a_code_may_be_sent(backend) {
        let (app, carrier_down) = spawn_app_with_carrier(backend, |_| {}).await;
        carrier_down.store(true, Ordering::SeqCst);
        let res = app.send_code(PHONE).await;
        // Not "internal error": the resident is told the service is briefly unavailable and when to
        // try again, which is when this number may be sent a code anyway.
        let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert_eq!(retry_after, 60);
        expect_problem(res, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
        assert!(app.outbox(PHONE).await.is_empty());

        carrier_down.store(false, Ordering::SeqCst);
        app.advance(60);
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code(PHONE).await;
        assert_eq!(app.sign_in_with(PHONE, &code).await.status(), StatusCode::OK);
    }
);

api_test!(
    async fn second_send_within_a_minute_is_rate_limited(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        app.advance(30);
        let res = app.send_code(PHONE).await;
        let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((29..=30).contains(&retry_after), "{retry_after}");
        let body = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        assert_eq!(body["retry_after"], retry_after);

        // Another number is not affected.
        assert_eq!(app.send_code("19900099000").await.status(), StatusCode::ACCEPTED);

        app.advance(31);
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        assert_eq!(app.outbox(PHONE).await.len(), 2);
    }
);

api_test!(
    async fn one_client_cannot_spray_codes(backend) {
        let app = spawn_app(backend).await;
        for i in 0..20 {
            let res = app.send_code(&format!("1370000{i:04}")).await;
            assert_eq!(res.status(), StatusCode::ACCEPTED, "send {i}");
        }
        let res = app.send_code("19900097999").await;
        assert!(res.headers().contains_key("retry-after"));
        expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        app.advance(3600);
        assert_eq!(app.send_code("19900097999").await.status(), StatusCode::ACCEPTED);
    }
);

api_test!(
    async fn wrong_code_is_rejected(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code(PHONE).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let body = expect_problem(app.sign_in_with(PHONE, wrong).await, StatusCode::BAD_REQUEST, "sms_code_invalid").await;
        assert_eq!(body["detail"], "验证码不正确，请重新输入。");
        // A code for a number that never asked is just as wrong.
        expect_problem(app.sign_in_with("19900099000", &code).await, StatusCode::BAD_REQUEST, "sms_code_invalid").await;
        // The right code still works after one mistake.
        assert_eq!(app.sign_in_with(PHONE, &code).await.status(), StatusCode::OK);
    }
);

api_test!(
    async fn expired_code_is_rejected(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code(PHONE).await;
        app.advance(301);
        expect_problem(app.sign_in_with(PHONE, &code).await, StatusCode::BAD_REQUEST, "sms_code_expired").await;
        // A new code works.
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code(PHONE).await;
        assert_eq!(app.sign_in_with(PHONE, &code).await.status(), StatusCode::OK);
    }
);

api_test!(
    async fn five_wrong_codes_lock_the_number_for_15_minutes(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code(PHONE).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..4 {
            expect_problem(app.sign_in_with(PHONE, wrong).await, StatusCode::BAD_REQUEST, "sms_code_invalid")
                .await;
        }
        let body = expect_problem(app.sign_in_with(PHONE, wrong).await, StatusCode::LOCKED, "phone_locked").await;
        assert_eq!(body["retry_after"], 900);
        // Even the right code, and no new code, while locked.
        let res = app.sign_in_with(PHONE, &code).await;
        assert!(res.headers().contains_key("retry-after"));
        expect_problem(res, StatusCode::LOCKED, "phone_locked").await;
        expect_problem(app.send_code(PHONE).await, StatusCode::LOCKED, "phone_locked").await;

        app.advance(14 * 60);
        let body = expect_problem(app.sign_in_with(PHONE, &code).await, StatusCode::LOCKED, "phone_locked").await;
        assert_eq!(body["retry_after"], 60);

        app.advance(61);
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let code = app.latest_code(PHONE).await;
        assert_eq!(app.sign_in_with(PHONE, &code).await.status(), StatusCode::OK);
    }
);

api_test!(
    async fn malformed_phone_is_explained_in_the_residents_language(backend) {
        let app = spawn_app(backend).await;
        let body = expect_problem(app.send_code("1990009800").await, StatusCode::BAD_REQUEST, "phone_invalid").await;
        assert_eq!(body["detail"], "请输入正确的11位中国大陆手机号码。");
        assert_eq!(body["errors"][0]["field"], "phone");
        assert_eq!(body["errors"][0]["code"], "phone_invalid");
        assert_eq!(body["errors"][0]["message"], "请输入正确的11位中国大陆手机号码。");

        let res = app
            .client
            .post(format!("{}/api/v1/auth/sessions", app.url))
            .header("accept-language", "en-US,en;q=0.9")
            .json(&json!({ "phone": "12345", "code": "123456" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-language"], "en");
        let body = expect_problem(res, StatusCode::BAD_REQUEST, "phone_invalid").await;
        assert_eq!(body["detail"], "Enter a valid 11-digit mainland China mobile number.");
        assert_eq!(body["errors"][0]["message"], "Enter a valid 11-digit mainland China mobile number.");
    }
);

api_test!(
    async fn malformed_json_is_a_problem_not_plain_text(backend) {
        let app = spawn_app(backend).await;
        let post_raw = |body: &'static str| {
            app.client
                .post(format!("{}/api/v1/auth/sms-codes", app.url))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        expect_problem(post_raw("{\"phone\":").await.unwrap(), StatusCode::BAD_REQUEST, "invalid_request").await;
        expect_problem(post_raw("{\"telephone\":\"19900098000\"}").await.unwrap(), StatusCode::BAD_REQUEST, "invalid_request")
            .await;
        let no_type = app.client.post(format!("{}/api/v1/auth/sms-codes", app.url)).body("{}").send().await.unwrap();
        expect_problem(no_type, StatusCode::BAD_REQUEST, "invalid_request").await;
        let huge = format!("{{\"phone\":\"{}\"}}", "1".repeat(100_000));
        let res = app
            .client
            .post(format!("{}/api/v1/auth/sms-codes", app.url))
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
);

api_test!(
    async fn refresh_rotates_and_the_old_refresh_token_stops_working(backend) {
        let app = spawn_app(backend).await;
        let first = app.sign_in(PHONE).await;
        let res = app.refresh(first["refresh_token"].as_str().unwrap()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let second: Value = res.json().await.unwrap();
        assert_ne!(second["refresh_token"], first["refresh_token"]);
        assert_ne!(second["access_token"], first["access_token"]);
        assert_eq!(app.me(second["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);

        // The newest refresh token keeps working, chain after chain.
        let res = app.refresh(second["refresh_token"].as_str().unwrap()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let third: Value = res.json().await.unwrap();
        assert_eq!(app.me(third["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);

        expect_problem(app.refresh("not-a-token").await, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;
    }
);

api_test!(
    async fn reusing_a_replaced_refresh_token_ends_the_session(backend) {
        let app = spawn_app(backend).await;
        let first = app.sign_in(PHONE).await;
        let second: Value = app.refresh(first["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
        assert_eq!(app.me(second["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);

        // Someone replays the first refresh token: everything of this session stops working.
        let res = app.refresh(first["refresh_token"].as_str().unwrap()).await;
        expect_problem(res, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;
        expect_problem(app.me(second["access_token"].as_str().unwrap()).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let res = app.refresh(second["refresh_token"].as_str().unwrap()).await;
        expect_problem(res, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;

        // Another session of the same person is untouched.
        app.advance(61);
        let other = app.sign_in(PHONE).await;
        assert_eq!(app.me(other["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);
    }
);

api_test!(
    async fn sign_out_revokes_access_and_refresh(backend) {
        let app = spawn_app(backend).await;
        let pair = app.sign_in(PHONE).await;
        let access = pair["access_token"].as_str().unwrap();
        let url = format!("{}/api/v1/auth/sessions/current", app.url);
        let res = app.client.delete(&url).bearer_auth(access).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        expect_problem(app.me(access).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        expect_problem(app.refresh(pair["refresh_token"].as_str().unwrap()).await, StatusCode::UNAUTHORIZED, "refresh_token_invalid")
            .await;
        // Signing out again needs a live token.
        let res = app.client.delete(&url).bearer_auth(access).send().await.unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

api_test!(
    async fn me_needs_a_live_access_token(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/api/v1/me").await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        expect_problem(app.me("garbage").await, StatusCode::UNAUTHORIZED, "unauthorized").await;

        let pair = app.sign_in(PHONE).await;
        let access = pair["access_token"].as_str().unwrap();
        app.advance(14 * 60);
        assert_eq!(app.me(access).await.status(), StatusCode::OK);
        app.advance(61);
        expect_problem(app.me(access).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        // The refresh token outlives it.
        assert_eq!(app.refresh(pair["refresh_token"].as_str().unwrap()).await.status(), StatusCode::OK);
    }
);

api_test!(
    async fn a_new_number_gets_an_account_and_keeps_it(backend) {
        let app = spawn_app(backend).await;
        let first = app.sign_in(PHONE).await;
        let me1: Value = app.me(first["access_token"].as_str().unwrap()).await.json().await.unwrap();
        app.advance(61);
        // Typed differently, same number.
        let second = app.sign_in("+86 199-0009-8000").await;
        let me2: Value = app.me(second["access_token"].as_str().unwrap()).await.json().await.unwrap();
        assert_eq!(me1["user_id"], me2["user_id"]);
        assert!(uuid::Uuid::parse_str(me1["user_id"].as_str().unwrap()).is_ok_and(|u| u.get_version_num() == 7));

        let other = app.sign_in("19900099000").await;
        let me3: Value = app.me(other["access_token"].as_str().unwrap()).await.json().await.unwrap();
        assert_ne!(me1["user_id"], me3["user_id"]);
        assert_eq!(me3["phone_masked"], "199****9000");
    }
);

api_test!(
    async fn dev_outbox_is_absent_without_demo(backend) {
        let app = spawn_app_with(backend, false).await;
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let res = app.get(&format!("/api/v1/dev/sms-outbox?phone={PHONE}")).await;
        expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
        assert!(spec["paths"].get("/api/v1/dev/sms-outbox").is_none());
    }
);

api_test!(
    async fn dev_outbox_lists_newest_first(backend) {
        let app = spawn_app(backend).await;
        assert!(app.outbox(PHONE).await.is_empty());
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let first = app.latest_code(PHONE).await;
        app.advance(61);
        assert_eq!(app.send_code(PHONE).await.status(), StatusCode::ACCEPTED);
        let outbox = app.outbox(PHONE).await;
        assert_eq!(outbox.len(), 2);
        assert_eq!(outbox[1]["code"], first.as_str());
        assert!(outbox[0]["sent_at"].as_str().unwrap() > outbox[1]["sent_at"].as_str().unwrap());
        assert_eq!(outbox[0]["phone"], PHONE);
        // Only the newest code signs in.
        if outbox[0]["code"] != first.as_str() {
            expect_problem(app.sign_in_with(PHONE, &first).await, StatusCode::BAD_REQUEST, "sms_code_invalid").await;
        }
        let newest = outbox[0]["code"].as_str().unwrap();
        assert_eq!(app.sign_in_with(PHONE, newest).await.status(), StatusCode::OK);
        expect_problem(app.get("/api/v1/dev/sms-outbox?phone=123").await, StatusCode::BAD_REQUEST, "phone_invalid").await;
    }
);
