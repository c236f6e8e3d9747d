//! Vehicle moving (一键挪车) end to end: a verified driver files a request, the owner hears of it in
//! the app or by SMS and answers, the reminder and the escalation run on the server clock (across a
//! restart and with two processes, once), limits and suspension, the duty queue, and privacy: no
//! answer, notice or log line one side sees holds the other side's phone number.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use jingtong_api::auth::Role;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::applications::verified;
use crate::helpers::{expect_problem, spawn_app, spawn_app_config, spawn_app_with_carrier, TestApp};

// Demo residents (fixtures/demo.json, fictional) and their vehicles.
const JIA: &str = "19900000001"; // 甲, the blocked driver; owns 皖SD0001
const YI: &str = "19900000002"; // 乙, owns 皖SD0002, uses the app
const BING: &str = "19900000003"; // 丙, owns 皖SD0004, no app account: SMS
const DING: &str = "19900000004"; // 丁, owns 皖SD0005, a third user

/// A small JPEG standing in for a compressed scene photo.
fn photo(shade: u8) -> String {
    use base64::Engine as _;
    let img = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([shade, (x % 200) as u8, (y % 200) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

pub fn request(plate: &str) -> Value {
    json!({
        "plate": plate, "plate_type": "small_blue",
        "address": "演示市蜀山区演示路 88 号小区东门", "region_code": "340104",
        "position": { "lat_e6": 31_820_000, "lon_e6": 117_230_000 },
        "reason": "blocking_car", "photos": [photo(10), photo(90)],
    })
}

async fn create(app: &TestApp, t: &str, key: &str, body: &Value) -> Response {
    app.client
        .post(format!("{}/api/v1/vehicle-moves", app.url))
        .bearer_auth(t)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn created(app: &TestApp, t: &str, key: &str, body: &Value) -> Value {
    let res = create(app, t, key, body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn get(app: &TestApp, t: &str, path: &str) -> Response {
    app.client.get(format!("{}{path}", app.url)).bearer_auth(t).send().await.unwrap()
}

async fn post(app: &TestApp, t: &str, path: &str, body: Value) -> Response {
    app.client.post(format!("{}{path}", app.url)).bearer_auth(t).json(&body).send().await.unwrap()
}

async fn ok(res: Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn kinds(view: &Value) -> Vec<String> {
    view["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

async fn token(app: &TestApp, phone: &str) -> String {
    app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned()
}

/// The text and the link's token of the `nth` message to `phone` (1 = the first), once sent.
async fn sms_token(app: &TestApp, phone: &str, nth: usize) -> (String, String) {
    let outbox = app.outbox_of_at_least(phone, nth).await;
    let text = outbox[outbox.len() - nth]["text"].as_str().unwrap().to_owned();
    let token = text.split("/m/").nth(1).unwrap().chars().take_while(char::is_ascii_hexdigit).collect();
    (text, token)
}

/// Every phone form a side must never see of the other: as typed and masked.
fn phone_forms(phone: &str) -> [String; 2] {
    [phone.to_owned(), format!("{}****{}", &phone[..3], &phone[7..])]
}

/// Log lines, captured on this test's thread (the test runtime runs the server's tasks there too).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

api_test! {
    async fn an_owner_with_the_app_is_told_answers_and_the_driver_sees_the_eta(backend) {
        let app = spawn_app(backend).await;
        let owner = token(&app, YI).await;
        let driver = verified(&app, JIA).await;
        let view = created(&app, &driver, "k1", &request("皖S·D0002")).await;
        assert_eq!(view["status"], "waiting");
        assert_eq!(view["role"], "requester");
        assert_eq!(kinds(&view), ["sent", "notified_in_app"]);
        assert_eq!(view["photo_count"], 2);
        assert_eq!(view["can_remind"], false);
        let id = view["id"].as_str().unwrap();

        let list = ok(get(&app, &owner, "/api/v1/vehicle-moves").await).await["items"].clone();
        let mine = &list.as_array().unwrap()[0];
        assert_eq!((mine["id"].as_str(), &mine["role"], &mine["can_answer"]), (Some(id), &json!("owner"), &json!(true)));
        assert_eq!(mine["address"], "演示市蜀山区演示路 88 号小区东门");

        let bad = post(&app, &owner, &format!("/api/v1/vehicle-moves/{id}/answer"), json!({ "reply": "coming" })).await;
        expect_problem(bad, StatusCode::BAD_REQUEST, "field_required").await;
        let answered =
            ok(post(&app, &owner, &format!("/api/v1/vehicle-moves/{id}/answer"), json!({ "reply": "coming", "eta_minutes": 5 })).await).await;
        assert_eq!(answered["status"], "coming");

        let seen = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
        assert_eq!(seen["status"], "coming");
        assert_eq!(kinds(&seen), ["sent", "notified_in_app", "coming"]);
        assert_eq!(seen["events"][2]["eta_minutes"], 5);
        assert!(seen["eta_at"].is_string());
        assert_eq!(seen["escalates_at"], Value::Null, "an answered request does not escalate");

        // The relay: both sides write, neither can pass a number.
        let sent = post(&app, &driver, &format!("/api/v1/vehicle-moves/{id}/messages"), json!({ "text": "我在东门等您，谢谢" })).await;
        ok(sent).await;
        let leak = post(&app, &owner, &format!("/api/v1/vehicle-moves/{id}/messages"), json!({ "text": "打我 139 0000 1234" })).await;
        expect_problem(leak, StatusCode::BAD_REQUEST, "message_contains_number").await;
        ok(post(&app, &owner, &format!("/api/v1/vehicle-moves/{id}/messages"), json!({ "text": "马上到" })).await).await;
        let thread = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
        let from: Vec<&str> = thread["messages"].as_array().unwrap().iter().map(|m| m["from"].as_str().unwrap()).collect();
        assert_eq!(from, ["requester", "owner"]);

        let blobs = app.data_dir.path().join("blobs").join("moves").join(id);
        assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), 2, "both photos stored");
        let done = ok(post(&app, &driver, &format!("/api/v1/vehicle-moves/{id}/resolve"), json!({})).await).await;
        assert_eq!(done["status"], "resolved");
        // Scene photos go 30 days after the end (rules data), not before.
        app.advance(29 * 24 * 3600);
        app.run_jobs().await;
        assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), 2);
        app.advance(2 * 24 * 3600);
        app.run_jobs().await;
        assert_eq!(std::fs::read_dir(&blobs).map_or(0, |d| d.count()), 0, "photos erased");
        let driver = verified(&app, JIA).await;
        let erased = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
        assert_eq!(erased["photo_count"], 0);
        // Resolving again answers the same, with one event.
        let again = ok(post(&app, &driver, &format!("/api/v1/vehicle-moves/{id}/resolve"), json!({})).await).await;
        assert_eq!(kinds(&again).iter().filter(|k| *k == "resolved").count(), 1);
        assert_eq!(again["messages"].as_array().unwrap().len(), 2);
    }
}

api_test! {
    async fn an_owner_without_the_app_gets_an_sms_link_and_answers_through_it(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let view = created(&app, &driver, "k1", &request("皖SD0004")).await;
        assert_eq!(kinds(&view), ["sent", "notified_by_sms"]);
        let id = view["id"].as_str().unwrap().to_owned();
        let (text, link) = sms_token(&app, BING, 1).await;
        assert!(text.contains("皖S·***04"), "masked plate: {text}");
        assert!(text.contains("演示路 88 号") && text.contains("阻挡他人车辆驶出"), "{text}");
        assert_eq!(link.len(), 32);

        let owner_side = ok(app.get(&format!("/api/v1/vehicle-move-links/{link}")).await).await;
        assert_eq!((owner_side["id"].as_str(), &owner_side["role"]), (Some(id.as_str()), &json!("owner")));
        let page = app.get(&format!("/m/{link}")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("约5分钟到") && html.contains("皖SD0004"), "{html}");
        expect_problem(app.get("/api/v1/vehicle-move-links/0123456789abcdef0123456789abcdef").await, StatusCode::NOT_FOUND, "not_found").await;

        // "Cannot come" through the page's form: straight to the traffic police.
        let form = app
            .client
            .post(format!("{}/m/{link}", app.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("reply=cannot")
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        assert!(form.text().await.unwrap().contains("已回复"));
        let seen = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
        assert_eq!(seen["status"], "escalated");
        assert_eq!(kinds(&seen), ["sent", "notified_by_sms", "cannot", "escalated"]);

        // The duty queue has it; the officer takes over and closes it; the link is void after.
        let traffic = app.staff_token("JT2901", Role::Traffic).await;
        let queue = ok(get(&app, &traffic, "/api/v1/staff/vehicle-moves").await).await["items"].clone();
        assert!(queue.as_array().unwrap().iter().any(|m| m["id"] == id.as_str()));
        let act = |action: &'static str| {
            let (app, traffic, id) = (&app, traffic.clone(), id.clone());
            async move { post(app, &traffic, &format!("/api/v1/staff/vehicle-moves/{id}/actions"), json!({ "action": action })).await }
        };
        ok(act("take_over").await).await;
        let closed = ok(act("close").await).await;
        assert_eq!(closed["status"], "resolved");
        expect_problem(act("close").await, StatusCode::CONFLICT, "move_state_conflict").await;
        expect_problem(app.get(&format!("/api/v1/vehicle-move-links/{link}")).await, StatusCode::NOT_FOUND, "not_found").await;
        // A resident never reaches the duty queue.
        expect_problem(get(&app, &driver, "/api/v1/staff/vehicle-moves").await, StatusCode::FORBIDDEN, "forbidden").await;
    }
}

api_test! {
    async fn neither_side_sees_the_other_sides_number_in_answers_notices_or_logs(backend) {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let app = spawn_app(backend).await;
        let owner = token(&app, YI).await;
        let driver = verified(&app, JIA).await;
        let mut driver_sees = Vec::new();
        let mut owner_sees = Vec::new();
        let in_app = created(&app, &driver, "k1", &request("皖SD0002")).await;
        driver_sees.push(in_app.to_string());
        let id = in_app["id"].as_str().unwrap();
        owner_sees.push(ok(get(&app, &owner, "/api/v1/vehicle-moves").await).await["items"].clone().to_string());
        owner_sees.push(
            ok(post(&app, &owner, &format!("/api/v1/vehicle-moves/{id}/answer"), json!({ "reply": "coming", "eta_minutes": 3 })).await)
                .await
                .to_string(),
        );
        driver_sees.push(ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await.to_string());

        let by_sms = created(&app, &driver, "k2", &request("皖SD0004")).await;
        driver_sees.push(by_sms.to_string());
        let (text, link) = sms_token(&app, BING, 1).await;
        owner_sees.push(text);
        owner_sees.push(ok(app.get(&format!("/api/v1/vehicle-move-links/{link}")).await).await.to_string());
        owner_sees.push(app.get(&format!("/m/{link}")).await.text().await.unwrap());
        driver_sees.push(ok(get(&app, &driver, "/api/v1/vehicle-moves").await).await["items"].clone().to_string());

        for seen in &owner_sees {
            for form in phone_forms(JIA) {
                assert!(!seen.contains(&form), "the owner saw the driver's number {form}: {seen}");
            }
        }
        for seen in &driver_sees {
            for form in phone_forms(YI).iter().chain(phone_forms(BING).iter()) {
                assert!(!seen.contains(form.as_str()), "the driver saw an owner's number {form}: {seen}");
            }
        }
        let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("vehicle move created"), "the capture works: {} bytes", logged.len());
        for phone in [JIA, YI, BING] {
            for form in phone_forms(phone).iter().take(1) {
                assert!(!logged.contains(form.as_str()), "a log line holds {form}");
            }
        }
        assert!(!logged.contains("演示路 88 号"), "a log line holds the address");
        assert!(!logged.contains(&link), "a log line holds the SMS link's token");
    }
}

api_test! {
    async fn the_sixth_request_in_a_month_and_a_second_open_one_per_plate_are_refused(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let other = verified(&app, DING).await;
        let first = created(&app, &driver, "k0", &request("皖SD0002")).await;
        let twice = create(&app, &other, "o1", &request("皖SD0002")).await;
        expect_problem(twice, StatusCode::CONFLICT, "move_open_exists").await;
        // The same key and body is a retry, not a second request.
        let retry = created(&app, &driver, "k0", &request("皖SD0002")).await;
        assert_eq!(retry["id"], first["id"]);
        ok(post(&app, &driver, &format!("/api/v1/vehicle-moves/{}/resolve", first["id"].as_str().unwrap()), json!({})).await).await;
        // Other plates too: one plate's owner gets at most 3 SMS an hour (crates/rules sms_limits.toml).
        for (n, plate) in [(1, "皖SD0004"), (2, "皖SD0005"), (3, "皖SD0002"), (4, "皖SD0004")] {
            let v = created(&app, &driver, &format!("k{n}"), &request(plate)).await;
            ok(post(&app, &driver, &format!("/api/v1/vehicle-moves/{}/resolve", v["id"].as_str().unwrap()), json!({})).await).await;
        }
        let sixth = create(&app, &driver, "k6", &request("皖SD0002")).await;
        assert!(sixth.headers().get("retry-after").is_some());
        let p = expect_problem(sixth, StatusCode::TOO_MANY_REQUESTS, "move_monthly_limit").await;
        assert!(p["detail"].as_str().unwrap().contains("5"), "{p}");
        // Another driver's month is their own.
        created(&app, &other, "o2", &request("皖SD0002")).await;
    }
}

api_test! {
    async fn three_confirmed_malicious_requests_suspend_the_driver(backend) {
        let app = spawn_app(backend).await;
        let owner = token(&app, YI).await;
        let driver = verified(&app, JIA).await;
        let traffic = app.staff_token("JT2902", Role::Traffic).await;
        for n in 0..3 {
            let v = created(&app, &driver, &format!("k{n}"), &request("皖SD0002")).await;
            let id = v["id"].as_str().unwrap();
            let reported = ok(post(&app, &owner, &format!("/api/v1/vehicle-moves/{id}/report"), json!({})).await).await;
            assert_eq!(reported["can_report"], false);
            let queue = ok(get(&app, &traffic, "/api/v1/staff/vehicle-moves").await).await["items"].clone();
            assert!(queue.as_array().unwrap().iter().any(|m| m["id"] == id && m["report_open"] == true));
            let done =
                ok(post(&app, &traffic, &format!("/api/v1/staff/vehicle-moves/{id}/actions"), json!({ "action": "confirm_malicious" })).await).await;
            assert_eq!(done["status"], "resolved");
            assert!(kinds(&done).contains(&"malicious_confirmed".to_owned()));
        }
        let refused = create(&app, &driver, "k9", &request("皖SD0002")).await;
        expect_problem(refused, StatusCode::FORBIDDEN, "move_suspended").await;
        // A year later the service is open again (signed in afresh: sessions do not last a year).
        app.advance(366 * 24 * 3600);
        let driver = verified(&app, JIA).await;
        created(&app, &driver, "k10", &request("皖SD0002")).await;
    }
}

api_test! {
    async fn no_answer_allows_one_reminder_at_10_minutes_and_escalates_once_at_20_across_a_restart(backend) {
        let mut app = spawn_app(backend).await;
        let _owner = token(&app, YI).await;
        let driver = verified(&app, JIA).await;
        let view = created(&app, &driver, "k1", &request("皖SD0002")).await;
        let id = view["id"].as_str().unwrap().to_owned();
        let remind = format!("/api/v1/vehicle-moves/{id}/remind");
        let show = format!("/api/v1/vehicle-moves/{id}");
        expect_problem(post(&app, &driver, &remind, json!({})).await, StatusCode::CONFLICT, "move_state_conflict").await;
        app.advance(9 * 60);
        app.run_jobs().await;
        expect_problem(post(&app, &driver, &remind, json!({})).await, StatusCode::CONFLICT, "move_state_conflict").await;
        app.advance(60);
        app.run_jobs().await;
        let now = ok(get(&app, &driver, &show).await).await;
        assert_eq!(now["can_remind"], true);
        let reminded = ok(post(&app, &driver, &remind, json!({})).await).await;
        assert_eq!(kinds(&reminded), ["sent", "notified_in_app", "reminded"]);
        assert_eq!(reminded["status"], "waiting");
        expect_problem(post(&app, &driver, &remind, json!({})).await, StatusCode::CONFLICT, "move_state_conflict").await;

        app.restart().await;
        app.advance(9 * 60);
        app.run_jobs().await;
        // Access tokens last minutes, not the whole wait: sign in again, as the app's refresh would.
        let driver = verified(&app, JIA).await;
        let still = ok(get(&app, &driver, &show).await).await;
        assert_eq!(still["status"], "waiting", "19 minutes is not yet 20");
        app.advance(60);
        app.run_jobs().await;
        app.restart().await;
        app.run_jobs().await;
        let escalated = ok(get(&app, &driver, &show).await).await;
        assert_eq!(escalated["status"], "escalated");
        assert_eq!(kinds(&escalated), ["sent", "notified_in_app", "reminded", "escalated"]);
    }
}

api_test! {
    async fn an_owner_without_the_app_is_reminded_by_sms_with_a_new_link(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let id = created(&app, &driver, "k1", &request("皖SD0004")).await["id"].as_str().unwrap().to_owned();
        let (_, first_link) = sms_token(&app, BING, 1).await;
        app.advance(10 * 60);
        app.run_jobs().await;
        let reminded = ok(post(&app, &driver, &format!("/api/v1/vehicle-moves/{id}/remind"), json!({})).await).await;
        assert_eq!(kinds(&reminded), ["sent", "notified_by_sms", "reminded"]);
        let (text, link) = sms_token(&app, BING, 2).await;
        assert!(text.starts_with("【警通】催办提醒：") && text.contains("皖S·***04"), "{text}");
        assert_ne!(link, first_link);
        // Only the newest link answers; the owner's reply through it reaches the driver.
        expect_problem(app.get(&format!("/api/v1/vehicle-move-links/{first_link}")).await, StatusCode::NOT_FOUND, "not_found").await;
        let page = app.get(&format!("/api/v1/vehicle-move-links/{link}")).await;
        assert_eq!(ok(page).await["id"], id.as_str());
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        assert_eq!(app.outbox(BING).await.len(), 2, "one notice and one reminder, nothing more");
    }
}

api_test! {
    async fn the_owners_sms_survives_a_stop_right_after_the_commit_and_is_sent_once(backend) {
        // No background runner: nothing is sent until the test runs the jobs.
        let mut app = spawn_app_config(backend, |c| c.run_jobs = false).await;
        let driver = verified(&app, JIA).await;
        let view = created(&app, &driver, "k1", &request("皖SD0004")).await;
        assert_eq!(kinds(&view), ["sent", "notified_by_sms"]);
        assert!(app.outbox(BING).await.is_empty(), "queued with the request, not sent yet");
        // The server stops before sending; the message was committed with the request.
        app.restart().await;
        let pool = app.state().db.pool.clone();
        let queued: (String,) =
            sqlx::query_as("SELECT payload FROM jobs WHERE kind = 'sms.send'").fetch_one(&pool).await.unwrap();
        assert!(!queued.0.contains(BING) && !queued.0.contains("演示路"), "queued encrypted: {}", queued.0);
        assert_eq!(app.run_jobs().await, 1);
        let (text, link) = sms_token(&app, BING, 1).await;
        assert!(text.contains("演示路 88 号"), "{text}");
        assert_eq!(ok(app.get(&format!("/api/v1/vehicle-move-links/{link}")).await).await["id"], view["id"]);
        // A sender that stopped after the gateway took the message but before recording it sends
        // it again; the gateway keeps it once (the message's own id).
        let sent: (String,) =
            sqlx::query_as("SELECT payload FROM jobs WHERE kind = 'sms.send'").fetch_one(&pool).await.unwrap();
        assert_eq!(sent.0, "{}", "a sent message's number and text are not kept");
        sqlx::query("UPDATE jobs SET done_at = NULL, locked_until = NULL, payload = $1 WHERE kind = 'sms.send'")
            .bind(&queued.0)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(app.run_jobs().await, 1, "sent again");
        assert_eq!(app.outbox(BING).await.len(), 1, "the owner got one message");
        assert_eq!(app.run_jobs().await, 0);
    }
}

api_test! {
    async fn the_owners_sms_waits_out_a_carrier_outage_and_is_sent_once(backend) {
        let (app, carrier_down) = spawn_app_with_carrier(backend, |c| c.run_jobs = false).await;
        let driver = verified(&app, JIA).await;
        carrier_down.store(true, Ordering::SeqCst);
        // The driver's request does not wait on the carrier.
        let view = created(&app, &driver, "k1", &request("皖SD0004")).await;
        assert_eq!(kinds(&view), ["sent", "notified_by_sms"]);
        assert_eq!(app.run_jobs().await, 0, "the carrier refused it");
        app.advance(30);
        assert_eq!(app.run_jobs().await, 0, "refused again");
        assert!(app.outbox(BING).await.is_empty());
        // Back up: the message goes on its retry schedule (the carrier is not hammered meanwhile).
        carrier_down.store(false, Ordering::SeqCst);
        assert_eq!(app.run_jobs().await, 0, "not due yet");
        app.advance(60);
        assert_eq!(app.run_jobs().await, 1);
        let (text, link) = sms_token(&app, BING, 1).await;
        assert!(text.contains("演示路 88 号"), "{text}");
        assert_eq!(ok(app.get(&format!("/api/v1/vehicle-move-links/{link}")).await).await["id"], view["id"]);
        assert_eq!(app.run_jobs().await, 0);
        assert_eq!(app.outbox(BING).await.len(), 1, "the owner got one message");
    }
}

api_test! {
    async fn a_queued_sms_that_cannot_be_read_is_given_up_on_once(backend) {
        // E.g. queued under keys the server no longer has: logged and ended, not claimed forever,
        // and the messages queued beside it still go out.
        let app = spawn_app_config(backend, |c| c.run_jobs = false).await;
        let driver = verified(&app, JIA).await;
        created(&app, &driver, "k1", &request("皖SD0004")).await;
        let pool = app.state().db.pool.clone();
        sqlx::query(
            "INSERT INTO jobs (id, kind, payload, run_at, attempts, created_at)
             VALUES ('garbled', 'sms.send', '{\"id\":\"x\",\"to\":\"AAAA\",\"text\":\"AAAA\"}', 0, 0, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        assert_eq!(app.run_jobs().await, 1, "the readable one is sent");
        assert_eq!(app.outbox(BING).await.len(), 1);
        let (error, payload): (Option<String>, String) =
            sqlx::query_as("SELECT last_error, payload FROM jobs WHERE id = 'garbled' AND done_at IS NOT NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(error.unwrap().starts_with("gave up"));
        assert_eq!(payload, "{}");
        assert_eq!(app.run_jobs().await, 0, "not tried again");
    }
}

api_test! {
    async fn two_server_processes_escalate_a_request_once(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let second = app.second_process().await;
        let mut ids = Vec::new();
        for (n, plate) in ["皖SD0002", "皖SD0004", "皖SD0005"].into_iter().enumerate() {
            ids.push(created(&app, &driver, &format!("k{n}"), &request(plate)).await["id"].as_str().unwrap().to_owned());
        }
        app.advance(20 * 60);
        // Both processes' background runners race these two as well.
        tokio::join!(app.run_jobs(), second.run_jobs_once());
        let driver = verified(&app, JIA).await;
        for id in &ids {
            let v = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
            assert_eq!(v["status"], "escalated");
            assert_eq!(kinds(&v).iter().filter(|k| *k == "escalated").count(), 1, "{v}");
        }
        second.shutdown().await;
    }
}

api_test! {
    async fn the_create_answer_is_the_request_as_a_read_shows_it(backend) {
        // The create builds its answer from what it wrote; a read and a retry load it from the database.
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let mut unregistered = request("皖A12345");
        unregistered["escalate_if_unregistered"] = json!(true);
        unregistered["note"] = json!("白色轿车挡住小区出口");
        for (key, body) in [("in-app", request("皖S·D0002")), ("sms", request("皖SD0004")), ("unknown", unregistered)] {
            let first = created(&app, &driver, key, &body).await;
            let id = first["id"].as_str().unwrap();
            let read = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
            assert_eq!(first, read, "{key}");
            assert_eq!(created(&app, &driver, key, &body).await, first, "{key}: a retry answers the same");
        }
        let list = ok(get(&app, &driver, "/api/v1/vehicle-moves").await).await["items"].clone();
        assert_eq!(list.as_array().unwrap().len(), 3, "retries add nothing");
    }
}

api_test! {
    async fn photos_that_cannot_be_stored_leave_no_request_and_no_file(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let blobs = app.data_dir.path().join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        // A file where the photos' folder belongs (a broken disk does the same): every photo write fails.
        std::fs::write(blobs.join("moves"), b"not a folder").unwrap();
        expect_problem(create(&app, &driver, "k1", &request("皖S·D0002")).await, StatusCode::INTERNAL_SERVER_ERROR, "internal")
            .await;
        let list = ok(get(&app, &driver, "/api/v1/vehicle-moves").await).await["items"].clone();
        assert!(list.as_array().unwrap().is_empty(), "nothing was committed");
        // The disk is back: the driver's retry goes through, once, with both photos and no leftovers.
        std::fs::remove_file(blobs.join("moves")).unwrap();
        let view = created(&app, &driver, "k1", &request("皖S·D0002")).await;
        assert_eq!(view["photo_count"], 2);
        let folder = blobs.join("moves").join(view["id"].as_str().unwrap());
        let mut files: Vec<String> =
            std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        assert_eq!(files, ["0.jpg", "1.jpg"]);
        assert_eq!(std::fs::read_dir(blobs.join("moves")).unwrap().count(), 1, "one request's folder");
    }
}

api_test! {
    async fn a_plate_not_in_the_registry_can_go_straight_to_the_traffic_police(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let refused = create(&app, &driver, "k1", &request("皖A12345")).await;
        let p = expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "plate_not_registered").await;
        assert_eq!(p["errors"][0]["field"], "plate");
        let mut body = request("皖A12345");
        body["escalate_if_unregistered"] = json!(true);
        let v = created(&app, &driver, "k2", &body).await;
        assert_eq!(v["status"], "escalated");
        assert_eq!(kinds(&v), ["sent", "owner_unknown", "escalated"]);
    }
}

api_test! {
    async fn bad_fields_unverified_drivers_and_third_users_get_clear_answers(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let mut body = request("皖AI2345");
        body["photos"] = json!([photo(1)]);
        let p = expect_problem(create(&app, &driver, "k1", &body).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        let fields: Vec<(&str, &str)> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(fields, [("plate", "plate_invalid"), ("photos", "move_photos_invalid")]);
        let mut nev = request("皖SD0002");
        nev["plate_type"] = json!("small_new_energy");
        expect_problem(create(&app, &driver, "k2", &nev).await, StatusCode::BAD_REQUEST, "plate_type_mismatch").await;
        let unverified = token(&app, "19900000005").await;
        expect_problem(create(&app, &unverified, "k3", &request("皖SD0002")).await, StatusCode::FORBIDDEN, "verification_required").await;

        let _owner = token(&app, YI).await;
        let v = created(&app, &driver, "k4", &request("皖SD0002")).await;
        let id = v["id"].as_str().unwrap();
        let third = token(&app, DING).await;
        expect_problem(get(&app, &third, &format!("/api/v1/vehicle-moves/{id}")).await, StatusCode::NOT_FOUND, "not_found").await;
        for action in ["remind", "resolve", "report"] {
            let res = post(&app, &third, &format!("/api/v1/vehicle-moves/{id}/{action}"), json!({})).await;
            expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        }
        let answer = post(&app, &third, &format!("/api/v1/vehicle-moves/{id}/answer"), json!({ "reply": "cannot" })).await;
        expect_problem(answer, StatusCode::NOT_FOUND, "not_found").await;
        let msg = post(&app, &third, &format!("/api/v1/vehicle-moves/{id}/messages"), json!({ "text": "你好" })).await;
        expect_problem(msg, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(ok(get(&app, &third, "/api/v1/vehicle-moves").await).await["items"].clone(), json!([]));
        // The requester cannot answer for the owner.
        let own = post(&app, &driver, &format!("/api/v1/vehicle-moves/{id}/answer"), json!({ "reply": "cannot" })).await;
        expect_problem(own, StatusCode::NOT_FOUND, "not_found").await;
    }
}

api_test! {
    async fn concurrent_creates_by_one_driver_all_land_and_the_month_still_stops_at_five(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let mut bodies = Vec::new();
        for plate in ["皖SD0002", "皖SD0004", "皖SD0005", "皖A11111", "皖A22222", "皖A33333"] {
            let mut body = request(plate);
            body["escalate_if_unregistered"] = json!(true);
            bodies.push(body);
        }
        let keys: Vec<String> = (0..bodies.len()).map(|n| format!("c{n}")).collect();
        let sent =
            futures::future::join_all(bodies.iter().zip(&keys).map(|(body, key)| create(&app, &driver, key, body))).await;
        let mut statuses: Vec<u16> = sent.iter().map(|r| r.status().as_u16()).collect();
        statuses.sort_unstable();
        // Six at once from one driver: five land, the sixth is the monthly limit, none fails.
        assert_eq!(statuses, [201, 201, 201, 201, 201, 429], "{statuses:?}");
    }
}

api_test! {
    async fn an_owners_phone_gets_no_more_sms_than_its_budget_whoever_asks(backend) {
        let app = spawn_app(backend).await;
        // Five sign-in codes to 丙's phone use its hourly SMS budget (crates/rules sms_limits.toml).
        for _ in 0..5 {
            assert_eq!(app.send_code(BING).await.status(), StatusCode::ACCEPTED);
            app.advance(61);
        }
        let driver = verified(&app, JIA).await;
        let res = create(&app, &driver, "k1", &request("皖SD0004")).await;
        let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        let body = expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        assert_eq!(body["retry_after"].as_u64(), Some(wait));
        // Nothing was created, and nothing more went to the phone.
        assert_eq!(ok(get(&app, &driver, "/api/v1/vehicle-moves").await).await["items"].clone(), json!([]));
        assert_eq!(app.outbox(BING).await.len(), 5);
        app.advance(wait);
        let driver = token(&app, JIA).await;
        created(&app, &driver, "k2", &request("皖SD0004")).await;
        app.outbox_of_at_least(BING, 6).await;
    }
}

api_test! {
    async fn the_duty_officer_cannot_close_a_request_that_was_never_escalated(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let view = created(&app, &driver, "k1", &request("皖SD0002")).await;
        let id = view["id"].as_str().unwrap().to_owned();
        let traffic = app.staff_token("JT2901", Role::Traffic).await;
        for action in ["close", "take_over", "dismiss_report"] {
            let res = post(&app, &traffic, &format!("/api/v1/staff/vehicle-moves/{id}/actions"), json!({ "action": action })).await;
            expect_problem(res, StatusCode::CONFLICT, "move_state_conflict").await;
        }
        let seen = ok(get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await).await;
        assert_eq!(seen["status"], view["status"]);
        assert_eq!(kinds(&seen), kinds(&view));
    }
}

/// Base64 of a JPEG whose APP1 segment carries an Exif block naming a GPS position, as phones write it.
fn photo_with_gps() -> String {
    use base64::Engine as _;
    let plain = base64::engine::general_purpose::STANDARD.decode(photo(40)).unwrap();
    let mut seg = b"Exif\0\0MM\0*GPSLatitude 31.82 GPSLongitude 117.23".to_vec();
    seg.splice(0..0, ((seg.len() + 2) as u16).to_be_bytes());
    let mut marked = plain[..2].to_vec();
    marked.extend_from_slice(&[0xFF, 0xE1]);
    marked.extend_from_slice(&seg);
    marked.extend_from_slice(&plain[2..]);
    base64::engine::general_purpose::STANDARD.encode(marked)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

api_test! {
    async fn a_jpeg_header_with_noise_behind_it_is_not_a_photo_and_nothing_is_kept(backend) {
        use base64::Engine as _;
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let mut noise = vec![0xFF, 0xD8, 0xFF, 0xE0];
        noise.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
        let mut body = request("皖SD0004");
        body["photos"][1] = json!(base64::engine::general_purpose::STANDARD.encode(&noise));
        let p = expect_problem(create(&app, &driver, "k1", &body).await, StatusCode::BAD_REQUEST, "photo_unreadable").await;
        assert_eq!(p["errors"][0]["field"], "photos");
        assert_eq!(ok(get(&app, &driver, "/api/v1/vehicle-moves").await).await["items"].clone(), json!([]));
        let moves = app.data_dir.path().join("blobs").join("moves");
        assert!(!moves.exists() || std::fs::read_dir(&moves).unwrap().count() == 0, "no photo file was kept");
        assert!(app.outbox(BING).await.is_empty(), "the owner was not told");
    }
}

api_test! {
    async fn a_photos_gps_position_never_reaches_the_store(backend) {
        use base64::Engine as _;
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        let mut body = request("皖SD0002");
        body["photos"][0] = json!(photo_with_gps());
        let sent = base64::engine::general_purpose::STANDARD.decode(body["photos"][0].as_str().unwrap()).unwrap();
        assert!(contains(&sent, b"Exif") && contains(&sent, b"GPSLatitude"));
        let view = created(&app, &driver, "k1", &body).await;
        let folder = app.data_dir.path().join("blobs").join("moves").join(view["id"].as_str().unwrap());
        for n in 0..2 {
            let kept = std::fs::read(folder.join(format!("{n}.jpg"))).unwrap();
            assert!(!contains(&kept, b"Exif") && !contains(&kept, b"GPS"), "photo {n} keeps no metadata");
            let decoded = image::load_from_memory_with_format(&kept, image::ImageFormat::Jpeg).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (320, 240));
        }
    }
}
