//! Free text (issue 22 items 5 and 6): NUL, bidi overrides and zero-width characters are a 400
//! naming the field and the character on every body (the unauthenticated staff sign-in too),
//! never a 500 and never stored; text the other side of a vehicle move reads carries no link,
//! phone number or contact handle, and a refused request sends the owner nothing.

use jingtong_server::applications::demo::DEMO_CLERK;
use jingtong_server::cases::demo::DEMO_OFFICER;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::applications::{apply, clerk, pay, staff_move, verified};
use crate::helpers::{expect_problem, spawn_app, TestApp};
use crate::moves::request;

const JIA: &str = "19900000001";
const YI: &str = "19900000002";
const BING: &str = "19900000003"; // owns 皖SD0004, no app account: told by SMS

async fn post(app: &TestApp, t: &str, path: &str, body: Value) -> Response {
    let req = app.client.post(format!("{}{path}", app.url)).bearer_auth(t).header("Idempotency-Key", "text-1");
    req.json(&body).send().await.unwrap()
}

async fn get(app: &TestApp, t: &str, path: &str) -> Value {
    app.client.get(format!("{}{path}", app.url)).bearer_auth(t).send().await.unwrap().json().await.unwrap()
}

/// A 400 `text_char_not_allowed` whose one field error names `field` and the character.
async fn refused(res: Response, field: &str, ch: &str) {
    let body = expect_problem(res, StatusCode::BAD_REQUEST, "text_char_not_allowed").await;
    assert_eq!(body["errors"][0]["field"], field, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(ch), "{body}");
}

api_test!(
    async fn hidden_characters_are_a_400_naming_the_field_and_nothing_is_stored(backend) {
        let app = spawn_app(backend).await;
        // The staff sign-in, before any authentication: NUL in either field.
        let (number, password) = DEMO_CLERK;
        refused(app.post("/api/v1/staff/sessions", json!({ "staff_number": format!("{number}\u{0}"), "password": password })).await, "staff_number", "U+0000").await;
        refused(app.post("/api/v1/staff/sessions", json!({ "staff_number": number, "password": format!("{password}\u{0}") })).await, "password", "U+0000").await;
        refused(app.post("/api/v1/staff/sessions", json!({ "staff_number": "\u{202E}x", "password": password })).await, "staff_number", "U+202E").await;

        // A staff transition: the reason the resident would read.
        let t = verified(&app, JIA).await;
        let body = json!({ "item": "id_card_renewal", "photo": { "kind": "on_site" }, "delivery": { "kind": "pickup", "station_id": "st-shushan" } });
        let created: Value = apply(&app, &t, "k1", &body).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        pay(&app, &t, created["bill_id"].as_str().unwrap()).await;
        let c = clerk(&app).await;
        assert_eq!(staff_move(&app, &c, id, json!({ "action": "accept" })).await.status(), StatusCode::OK);
        let hostile = json!({ "action": "reject", "reason": "户籍信息\u{202E}与申请不符", "what_to_do": "请核对" });
        refused(staff_move(&app, &c, id, hostile).await, "reason", "U+202E").await;
        let hostile = json!({ "action": "reject", "reason": "不符", "what_to_do": "请\u{0}核对" });
        refused(staff_move(&app, &c, id, hostile).await, "what_to_do", "U+0000").await;
        let view = get(&app, &t, &format!("/api/v1/applications/{id}")).await;
        assert_ne!(view["status"], "rejected", "nothing stored");

        // A case event.
        let o = {
            let (n, p) = DEMO_OFFICER;
            let res = app.post("/api/v1/staff/sessions", json!({ "staff_number": n, "password": p })).await;
            res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        };
        let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let yi = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == YI).unwrap();
        let reg = json!({ "reporter_id_number": yi["id_number"], "reporter_phone": YI, "kind": "fraud",
                          "title": "演示：电信诈骗报案", "station": "演示路派出所", "officer": "值班民警" });
        let res = post(&app, &o, "/api/v1/staff/cases", reg.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let case_id = res.json::<Value>().await.unwrap()["case_id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/staff/cases/{case_id}/events");
        refused(post(&app, &o, &path, json!({ "text": "已受理\u{200B}" })).await, "text", "U+200B").await;
        let mut hostile = reg;
        hostile["title"] = json!("演示\u{2066}报案");
        refused(post(&app, &o, "/api/v1/staff/cases", hostile).await, "title", "U+2066").await;
        let t_yi = verified(&app, YI).await;
        let case = get(&app, &t_yi, &format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(case["events"].as_array().unwrap().len(), 1, "no event stored: {case}");

        // A vehicle move: the address and a relayed message.
        let driver = t.clone();
        let mut body = request("皖SD0004");
        body["address"] = json!("演示路 88 号\u{0}东门");
        refused(post(&app, &driver, "/api/v1/vehicle-moves", body).await, "address", "U+0000").await;
        let mut body = request("皖SD0004");
        body["note"] = json!("马上\u{FEFF}来");
        refused(post(&app, &driver, "/api/v1/vehicle-moves", body).await, "note", "U+FEFF").await;
        assert_eq!(get(&app, &driver, "/api/v1/vehicle-moves").await["items"].as_array().unwrap().len(), 0, "nothing stored");
        app.run_jobs().await;
        assert!(app.outbox(BING).await.is_empty(), "the owner is not told of a refused request");

        let res = post(&app, &driver, "/api/v1/vehicle-moves", request("皖SD0004")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let mv: Value = res.json().await.unwrap();
        let path = format!("/api/v1/vehicle-moves/{}/messages", mv["id"].as_str().unwrap());
        refused(post(&app, &driver, &path, json!({ "text": "我在\u{202E}东门" })).await, "text", "U+202E").await;
        let thread = get(&app, &driver, &format!("/api/v1/vehicle-moves/{}", mv["id"].as_str().unwrap())).await;
        assert!(thread["messages"].as_array().is_none_or(|m| m.is_empty()), "nothing stored");
    }
);

api_test!(
    async fn links_numbers_and_handles_never_reach_the_owner(backend) {
        let app = spawn_app(backend).await;
        let driver = verified(&app, JIA).await;
        for (address, code) in [
            ("演示路 88 号 www 点 abc 点 com", "text_contains_link"),
            ("演示路 88 号，详见 abc。cn", "text_contains_link"),
            ("演示路 88 号 电话 139,1234,5678", "message_contains_number"),
            ("演示路 88 号 一三九 1234 五六七八", "message_contains_number"),
            ("演示路 88 号 １３９ １２３４ ５６７８", "message_contains_number"),
            ("演示路 88 号 加我微信", "text_contains_contact"),
        ] {
            let mut body = request("皖SD0004");
            body["address"] = json!(address);
            let problem = expect_problem(post(&app, &driver, "/api/v1/vehicle-moves", body).await, StatusCode::BAD_REQUEST, code).await;
            assert_eq!(problem["errors"][0]["field"], "address", "{problem}");
        }
        app.run_jobs().await;
        assert!(app.outbox(BING).await.is_empty(), "no SMS for a refused request");

        // An address with building numbers, a date and a plate is what residents write: accepted.
        let mut body = request("皖SD0004");
        body["address"] = json!("幸福路 128 号 3 栋 B2-103 车位");
        body["note"] = json!("2026-12-05 14:30 起挡住皖A12345");
        body["reason"] = json!("other");
        let res = post(&app, &driver, "/api/v1/vehicle-moves", body).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
        let mv: Value = res.json().await.unwrap();
        let id = mv["id"].as_str().unwrap();
        let path = format!("/api/v1/vehicle-moves/{id}/messages");
        for (text, code) in [
            ("加我 vx abc123", "text_contains_contact"),
            ("QQ 号在下面", "text_contains_contact"),
            ("看 https://abc.com", "text_contains_link"),
            ("打 幺三九 幺二三四 五六七八", "message_contains_number"),
            ("139 1234 5678", "message_contains_number"),
        ] {
            expect_problem(post(&app, &driver, &path, json!({ "text": text })).await, StatusCode::BAD_REQUEST, code).await;
        }
        let thread = get(&app, &driver, &format!("/api/v1/vehicle-moves/{id}")).await;
        assert!(thread["messages"].as_array().is_none_or(|m| m.is_empty()), "nothing relayed");
        let sms = app.outbox(BING).await;
        assert!(sms.iter().all(|m| !m["text"].as_str().unwrap_or("").contains("abc")), "no relayed text by SMS");
    }
);

api_test!(
    async fn staff_and_case_texts_are_stored_normalised_and_bounded(backend) {
        let app = spawn_app(backend).await;
        let t = verified(&app, JIA).await;
        let body = json!({ "item": "id_card_renewal", "photo": { "kind": "on_site" }, "delivery": { "kind": "pickup", "station_id": "st-shushan" } });
        let created: Value = apply(&app, &t, "k1", &body).await.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        pay(&app, &t, created["bill_id"].as_str().unwrap()).await;
        let c = clerk(&app).await;
        assert_eq!(staff_move(&app, &c, id, json!({ "action": "accept" })).await.status(), StatusCode::OK);
        // 201 characters: the field is named and nothing changes.
        let long = "核".repeat(201);
        let res = staff_move(&app, &c, id, json!({ "action": "reject", "reason": long, "what_to_do": "请核对" })).await;
        let problem = expect_problem(res, StatusCode::BAD_REQUEST, "text_too_long").await;
        assert_eq!(problem["errors"][0]["field"], "reason", "{problem}");
        assert_eq!(problem["errors"][0]["code"], "text_too_long", "{problem}");
        // Decomposed "é" (e + U+0301) is stored and shown composed, trimmed.
        let res = staff_move(&app, &c, id, json!({ "action": "reject", "reason": "  Cafe\u{301} 照片不符  ", "what_to_do": "请重拍" })).await;
        assert_eq!(res.status(), StatusCode::OK);
        let view = get(&app, &t, &format!("/api/v1/applications/{id}")).await;
        assert_eq!(view["rejection"]["reason"], "Caf\u{e9} 照片不符", "{view}");

        // A case event: bounded, required, normalised.
        let o = {
            let (n, p) = DEMO_OFFICER;
            let res = app.post("/api/v1/staff/sessions", json!({ "staff_number": n, "password": p })).await;
            res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        };
        let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let yi = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == YI).unwrap();
        let reg = json!({ "reporter_id_number": yi["id_number"], "reporter_phone": YI, "kind": "fraud",
                          "title": "演示：电信诈骗报案", "station": "演示路派出所", "officer": "   " });
        let problem = expect_problem(post(&app, &o, "/api/v1/staff/cases", reg.clone()).await, StatusCode::BAD_REQUEST, "field_required").await;
        assert_eq!(problem["errors"][0]["field"], "officer", "{problem}");
        let mut reg = reg;
        reg["officer"] = json!("值班民警");
        let res = post(&app, &o, "/api/v1/staff/cases", reg).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let case_id = res.json::<Value>().await.unwrap()["case_id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/staff/cases/{case_id}/events");
        let problem = expect_problem(post(&app, &o, &path, json!({ "text": "案".repeat(201) })).await, StatusCode::BAD_REQUEST, "text_too_long").await;
        assert_eq!(problem["errors"][0]["field"], "text", "{problem}");
        assert_eq!(post(&app, &o, &path, json!({ "text": "Cafe\u{301} 已受理" })).await.status(), StatusCode::CREATED);
        let t_yi = verified(&app, YI).await;
        let case = get(&app, &t_yi, &format!("/api/v1/cases/{case_id}")).await;
        let texts: Vec<&str> = case["events"].as_array().unwrap().iter().filter_map(|e| e["text"].as_str()).collect();
        assert!(texts.contains(&"Caf\u{e9} 已受理"), "{case}");
    }
);
