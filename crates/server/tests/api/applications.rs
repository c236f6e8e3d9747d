//! ID card applications end to end: a verified resident applies with a GA 461 photo, pays the fee
//! through scan-to-pay (which submits the application), and clerks move it on through the staff API.
//! Also: Idempotency-Key, one open application per card kind, withdrawal, field errors, staff
//! authorisation, and personal data encrypted at rest.

use futures::future::join_all;
use jingtong_server::applications::demo::DEMO_CLERK;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_problem, file_contains, spawn_app_config, Backend, TestApp};

/// 演示用户乙 (fixtures/demo.json, fictional): his registry photo is obama.jpg, so a GA 461 photo made from
/// another picture of him is his own (see photos.rs).
pub const APPLICANT: &str = "19900000002";
/// 演示用户甲: another resident.
const OTHER: &str = "19900000001";
const ITEM_NAME: &str = "居民身份证丢失补领";

fn demo_resident(phone: &str) -> Value {
    let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == phone).unwrap().clone()
}

/// 演示用户乙's own GA 461 photo, as the app's pipeline makes it.
pub fn ga461_jpeg() -> String {
    crate::photos::base64(&crate::photos::ga461(crate::photos::YI_OWN))
}

/// Signs in and binds the account to the demo resident with this phone, as face verification would.
pub async fn verified(app: &TestApp, phone: &str) -> String {
    let t = app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned();
    verify(app, &t, phone).await;
    t
}

/// Binds the signed-in account to the demo resident with this phone.
pub async fn verify(app: &TestApp, t: &str, phone: &str) {
    let me: Value = app.me(t).await.json().await.unwrap();
    let pool = app.db().await;
    sqlx::query(
        "UPDATE users SET verification_level = 'real_name',
           id_number_hash = (SELECT id_number_hash FROM registry_persons WHERE id = $1) WHERE id = $2",
    )
    .bind(demo_resident(phone)["id"].as_str().unwrap())
    .bind(me["user_id"].as_str().unwrap())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

pub fn replacement_by_post() -> Value {
    json!({
        "item": "id_card_replacement",
        "photo": { "kind": "upload", "jpeg_base64": ga461_jpeg() },
        "delivery": { "kind": "post", "region_code": "340104", "address": "演示路 88 号 6 栋 502 室",
                      "recipient": "测试收件人", "phone": "19900009999" },
        "loss_date": "2026-11-01",
    })
}

/// A replacement with the photo taken at the station: no upload, so no face check (for tests about
/// something else: ownership, crashes).
pub fn replacement_at_station() -> Value {
    json!({
        "item": "id_card_replacement",
        "photo": { "kind": "on_site" },
        "delivery": { "kind": "pickup", "station_id": "st-shushan" },
        "loss_date": "2026-11-01",
    })
}

fn renewal_at_station() -> Value {
    json!({
        "item": "id_card_renewal",
        "photo": { "kind": "on_site" },
        "delivery": { "kind": "pickup", "station_id": "st-shushan" },
    })
}

pub async fn apply(app: &TestApp, t: &str, key: &str, body: &Value) -> Response {
    app.client
        .post(format!("{}/api/v1/applications", app.url))
        .bearer_auth(t)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, t: &str, path: &str) -> Response {
    app.client.get(format!("{}{path}", app.url)).bearer_auth(t).send().await.unwrap()
}

async fn post(app: &TestApp, t: &str, path: &str, body: Value) -> Response {
    app.client.post(format!("{}{path}", app.url)).bearer_auth(t).json(&body).send().await.unwrap()
}

pub async fn clerk(app: &TestApp) -> String {
    let res =
        app.post("/api/v1/staff/sessions", json!({ "staff_number": DEMO_CLERK.0, "password": DEMO_CLERK.1 })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

pub async fn staff_move(app: &TestApp, clerk: &str, id: &str, body: Value) -> Response {
    post(app, clerk, &format!("/api/v1/staff/applications/{id}/transitions"), body).await
}

/// Pays a bill through the local provider's page and delivers the notification.
pub async fn pay(app: &TestApp, t: &str, bill_id: &str) {
    let res = app
        .client
        .post(format!("{}/api/v1/bills/{bill_id}/payment-orders", app.url))
        .bearer_auth(t)
        .header("Idempotency-Key", format!("pay-{bill_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let order: Value = res.json().await.unwrap();
    let confirm = format!("{}/confirm", order["pay_url"].as_str().unwrap());
    assert_eq!(app.client.post(confirm).send().await.unwrap().status(), StatusCode::OK);
    assert!(app.run_jobs().await >= 1);
}

async fn app(backend: Backend) -> TestApp {
    spawn_app_config(backend, |c| c.run_jobs = false).await
}

fn statuses(view: &Value) -> Vec<(String, String)> {
    view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["status"].as_str().unwrap().to_owned(), e["actor"].as_str().unwrap().to_owned()))
        .collect()
}

api_test!(
    async fn a_replacement_is_paid_submitted_and_posted_by_a_clerk(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let res = apply(&app, &t, "apply-1", &replacement_by_post()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: Value = res.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(created["status"], "awaiting_payment");
        assert_eq!(created["fee_fen"], 4000, "补领 is 40 yuan");
        assert_eq!(created["item_name"], ITEM_NAME, "{created}");
        assert_eq!(created["delivery"]["recipient_masked"], "***件人");
        assert_eq!(created["delivery"]["phone_masked"], "199****9999");
        assert!(created["deadline"].is_null(), "the time limit starts with payment");
        let me = demo_resident(APPLICANT);
        let body = created.to_string();
        for secret in [me["name"].as_str().unwrap(), me["id_number"].as_str().unwrap(), "演示路 88 号 6 栋 502 室", "19900009999"] {
            assert!(!body.contains(secret), "the view shows {secret} in clear: {body}");
        }

        // The fee is an ordinary bill; paying it submits the application in the same transaction.
        let bill_id = created["bill_id"].as_str().unwrap();
        let bill: Value = get(&app, &t, &format!("/api/v1/bills/{bill_id}")).await.json().await.unwrap();
        assert_eq!(bill["amount_due"]["total_fen"], 4000);
        pay(&app, &t, bill_id).await;
        let paid: Value = get(&app, &t, &format!("/api/v1/applications/{id}")).await.json().await.unwrap();
        assert_eq!(paid["status"], "submitted");
        assert_eq!(paid["working_days_left"], 60, "{paid}");
        assert!(paid["deadline"].as_str().is_some());
        assert_eq!(paid["can_withdraw"], true);

        // A clerk takes it from the queue and moves it to posted.
        let c = clerk(&app).await;
        let queue: Value = get(&app, &c, "/api/v1/staff/applications").await.json::<Value>().await.unwrap()["items"].clone();
        assert!(queue.as_array().unwrap().iter().any(|a| a["id"] == id.as_str()));
        for action in ["accept", "start_production"] {
            assert_eq!(staff_move(&app, &c, &id, json!({ "action": action })).await.status(), StatusCode::OK);
        }
        // A pickup transition on a posted card, and posting without a tracking number, are refused.
        expect_problem(staff_move(&app, &c, &id, json!({ "action": "mark_ready" })).await, StatusCode::CONFLICT, "application_state_conflict").await;
        expect_problem(staff_move(&app, &c, &id, json!({ "action": "mark_posted" })).await, StatusCode::BAD_REQUEST, "field_required").await;
        let posted = staff_move(&app, &c, &id, json!({ "action": "mark_posted", "tracking_number": "EA123456789CN" })).await;
        assert_eq!(posted.status(), StatusCode::OK);
        // The clerk's retry changes nothing.
        let again = staff_move(&app, &c, &id, json!({ "action": "mark_posted", "tracking_number": "EA123456789CN" })).await;
        assert_eq!(again.status(), StatusCode::OK);

        let view: Value = get(&app, &t, &format!("/api/v1/applications/{id}")).await.json().await.unwrap();
        assert_eq!(view["status"], "posted");
        assert_eq!(view["delivery"]["tracking_number"], "EA123456789CN");
        assert_eq!(view["can_withdraw"], false);
        assert!(view["deadline"].is_null(), "no countdown once the card is on its way");
        assert_eq!(
            statuses(&view),
            [
                ("awaiting_payment", "resident"),
                ("submitted", "payment"),
                ("accepted", "clerk"),
                ("in_production", "clerk"),
                ("posted", "clerk"),
            ]
            .map(|(s, a)| (s.to_owned(), a.to_owned()))
        );
        let list: Value = get(&app, &t, "/api/v1/applications").await.json::<Value>().await.unwrap()["items"].clone();
        assert_eq!(list.as_array().unwrap().len(), 1);
    }
);

api_test!(
    async fn the_same_idempotency_key_makes_one_application_even_in_parallel(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let body = replacement_by_post();
        let answers = join_all((0..6).map(|_| apply(&app, &t, "same-key", &body))).await;
        let mut ids = Vec::new();
        for res in answers {
            assert_eq!(res.status(), StatusCode::CREATED);
            ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every retry answers the first application");
        let pool = app.db().await;
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM applications").fetch_one(&pool).await.unwrap();
        let (bills,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM bills WHERE kind = 'id_card_fee'").fetch_one(&pool).await.unwrap();
        pool.close().await;
        assert_eq!((n, bills), (1, 1));
        // The same key with another body is another request: refused, not mixed up.
        expect_problem(apply(&app, &t, "same-key", &renewal_at_station()).await, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    }
);

api_test!(
    async fn one_open_application_per_card_kind_until_it_is_withdrawn(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let first: Value = apply(&app, &t, "k1", &renewal_at_station()).await.json().await.unwrap();
        expect_problem(apply(&app, &t, "k2", &replacement_by_post()).await, StatusCode::CONFLICT, "application_open_exists").await;
        // A temporary card is another kind of card.
        let temp = json!({ "item": "temporary_id_card", "photo": { "kind": "on_site" },
                           "delivery": { "kind": "pickup", "station_id": "st-luyang" } });
        let res = apply(&app, &t, "k3", &temp).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.json::<Value>().await.unwrap()["fee_fen"], 1000);

        let id = first["id"].as_str().unwrap();
        let w = post(&app, &t, &format!("/api/v1/applications/{id}/withdraw"), json!({})).await;
        assert_eq!(w.status(), StatusCode::OK);
        let w: Value = w.json().await.unwrap();
        assert_eq!(w["status"], "withdrawn");
        // Withdrawing again is answered, not doubled.
        let again: Value = post(&app, &t, &format!("/api/v1/applications/{id}/withdraw"), json!({})).await.json().await.unwrap();
        assert_eq!(statuses(&again).len(), 2);
        // The unpaid fee bill of a withdrawn application cannot be paid any more.
        let bill_id = first["bill_id"].as_str().unwrap();
        let order = app
            .client
            .post(format!("{}/api/v1/bills/{bill_id}/payment-orders", app.url))
            .bearer_auth(&t)
            .header("Idempotency-Key", "late")
            .send()
            .await
            .unwrap();
        expect_problem(order, StatusCode::CONFLICT, "bill_cancelled").await;
        assert_eq!(apply(&app, &t, "k4", &replacement_by_post()).await.status(), StatusCode::CREATED);
    }
);

api_test!(
    async fn after_acceptance_the_resident_cannot_withdraw_and_a_rejection_says_what_to_do(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let created: Value = apply(&app, &t, "k1", &renewal_at_station()).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        pay(&app, &t, created["bill_id"].as_str().unwrap()).await;
        let c = clerk(&app).await;
        assert_eq!(staff_move(&app, &c, id, json!({ "action": "accept" })).await.status(), StatusCode::OK);
        expect_problem(post(&app, &t, &format!("/api/v1/applications/{id}/withdraw"), json!({})).await, StatusCode::CONFLICT, "application_state_conflict").await;
        expect_problem(staff_move(&app, &c, id, json!({ "action": "reject" })).await, StatusCode::BAD_REQUEST, "field_required").await;
        let rejected = staff_move(
            &app,
            &c,
            id,
            json!({ "action": "reject", "reason": "户籍信息与申请不符", "what_to_do": "请携带户口簿到户籍窗口核对" }),
        )
        .await;
        assert_eq!(rejected.status(), StatusCode::OK);
        let view: Value = get(&app, &t, &format!("/api/v1/applications/{id}")).await.json().await.unwrap();
        assert_eq!(view["status"], "rejected");
        assert_eq!(view["rejection"]["what_to_do"], "请携带户口簿到户籍窗口核对");
        // The fee paid goes back: flagged for refund.
        let pool = app.db().await;
        let (refunds,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payment_events WHERE kind = 'refund_required' AND bill_id = $1")
            .bind(created["bill_id"].as_str().unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(refunds, 1);
    }
);

api_test!(
    async fn wrong_fields_unverified_residents_and_bad_photos_get_clear_errors(backend) {
        let app = app(backend).await;
        // Signed in but not verified.
        let unverified = app.sign_in(OTHER).await["access_token"].as_str().unwrap().to_owned();
        expect_problem(apply(&app, &unverified, "k", &replacement_by_post()).await, StatusCode::FORBIDDEN, "verification_required").await;

        let t = verified(&app, APPLICANT).await;
        let mut bad = replacement_by_post();
        bad["loss_date"] = json!("2999-01-01");
        bad["delivery"]["phone"] = json!("12345");
        bad["delivery"]["region_code"] = json!("990101");
        let p = expect_problem(apply(&app, &t, "k1", &bad).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        let fields: Vec<(&str, &str)> =
            p["errors"].as_array().unwrap().iter().map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap())).collect();
        assert_eq!(
            fields,
            [("delivery.region_code", "address_invalid"), ("delivery.phone", "phone_invalid"), ("loss_date", "date_invalid")]
        );
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("地址"));

        let mut station = renewal_at_station();
        station["delivery"]["station_id"] = json!("st-nowhere");
        let p = expect_problem(apply(&app, &t, "k2", &station).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_eq!(p["errors"][0]["code"], "station_unknown");

        // A JPEG of the wrong size (not from the app's GA 461 pipeline).
        use base64::Engine as _;
        let mut small = std::io::Cursor::new(Vec::new());
        image::DynamicImage::new_rgb8(100, 120).write_to(&mut small, image::ImageFormat::Jpeg).unwrap();
        let mut photo = replacement_by_post();
        photo["photo"]["jpeg_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(small.into_inner()));
        expect_problem(apply(&app, &t, "k3", &photo).await, StatusCode::UNPROCESSABLE_ENTITY, "id_photo_invalid").await;

        // Nothing was created by any of these.
        let list: Value = get(&app, &t, "/api/v1/applications").await.json::<Value>().await.unwrap()["items"].clone();
        assert!(list.as_array().unwrap().is_empty());
    }
);

api_test!(
    async fn residents_cannot_use_staff_endpoints_and_staff_passwords_are_checked(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let created: Value = apply(&app, &t, "k1", &renewal_at_station()).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        expect_problem(get(&app, &t, "/api/v1/staff/applications").await, StatusCode::FORBIDDEN, "forbidden").await;
        expect_problem(staff_move(&app, &t, id, json!({ "action": "accept" })).await, StatusCode::FORBIDDEN, "forbidden").await;
        let wrong = app.post("/api/v1/staff/sessions", json!({ "staff_number": DEMO_CLERK.0, "password": "guess" })).await;
        expect_problem(wrong, StatusCode::UNAUTHORIZED, "staff_credentials_invalid").await;
        let unknown = app.post("/api/v1/staff/sessions", json!({ "staff_number": "JT9999", "password": "guess" })).await;
        expect_problem(unknown, StatusCode::UNAUTHORIZED, "staff_credentials_invalid").await;
        // A clerk is not a resident: the resident endpoints refuse the clerk's token.
        let c = clerk(&app).await;
        expect_problem(get(&app, &c, &format!("/api/v1/applications/{id}")).await, StatusCode::FORBIDDEN, "forbidden").await;
        // Not paid yet: nothing for a clerk to accept.
        expect_problem(staff_move(&app, &c, id, json!({ "action": "accept" })).await, StatusCode::CONFLICT, "application_state_conflict").await;
        // Guessing passwords is limited per staff number.
        for _ in 0..10 {
            app.post("/api/v1/staff/sessions", json!({ "staff_number": "JT0002", "password": "x" })).await;
        }
        let limited = app.post("/api/v1/staff/sessions", json!({ "staff_number": "JT0002", "password": "x" })).await;
        expect_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
);

#[tokio::test]
async fn personal_data_of_an_application_is_encrypted_at_rest() {
    let app = app(Backend::Sqlite).await;
    let t = verified(&app, APPLICANT).await;
    let created: Value = apply(&app, &t, "k1", &replacement_by_post()).await.json().await.unwrap();
    assert!(created["id"].is_string());
    let path = app.sqlite_path();
    // SQLite may hold fresh pages in its write-ahead log: look at both files.
    let wal = path.with_extension("sqlite3-wal");
    let me = demo_resident(APPLICANT);
    for secret in [me["id_number"].as_str().unwrap(), "演示路 88 号", "测试收件人", "19900009999", "2026-11-01"]
    {
        assert!(
            !file_contains(&path, secret.as_bytes()) && !file_contains(&wal, secret.as_bytes()),
            "{secret} stored in clear"
        );
    }
}

api_test!(
    async fn twenty_parallel_transitions_from_one_state_make_one_event(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let created: Value = apply(&app, &t, "apply-1", &replacement_by_post()).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        pay(&app, &t, created["bill_id"].as_str().unwrap()).await;
        let c = clerk(&app).await;
        let answers = join_all((0..20).map(|_| staff_move(&app, &c, &id, json!({ "action": "accept" })))).await;
        for res in answers {
            // The winner and the late comers who see it accepted answer 200; a loser of the race answers 409.
            assert!(matches!(res.status(), StatusCode::OK | StatusCode::CONFLICT), "{}", res.status());
        }
        let view: Value = get(&app, &t, &format!("/api/v1/applications/{id}")).await.json().await.unwrap();
        assert_eq!(view["status"], "accepted");
        let accepted = statuses(&view).iter().filter(|(s, _)| s == "accepted").count();
        assert_eq!(accepted, 1, "{view}");
    }
);
