//! Scan to pay end to end: scanning signed bill codes, orders with Idempotency-Key, the local
//! provider's signed and encrypted notifications, exactly-once settlement, reconciliation, expiry and
//! who may see what. Jobs run when a test calls `run_jobs` after moving the manual clock.

use futures::future::join_all;
use jingtong_api::bill::{amount_due, shanghai_date, BillCode, BillKind, BillNumber, SigningKey};
use jingtong_api::payments::ReceiptCode;
use jingtong_server::payments::keys::{Issuer, ProviderKeys};
use jingtong_server::payments::wechat::{self, Amount, NotifyParams, SignedNotification, Transaction};
use jingtong_server::Clock;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use time::{Date, OffsetDateTime};

use crate::helpers::{expect_problem, spawn_app_config, Backend, TestApp};

const GAMMA: &str = "19900000003"; // 演示用户丙: no bills of their own
const DING: &str = "19900000004"; // 演示用户丁: another resident

struct DemoBill {
    id: String,
    number: String,
    amount_fen: i64,
    due: Date,
}

/// The `index`-th bill of the demo resident with this phone.
fn demo_bill(phone: &str, index: usize) -> DemoBill {
    let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    let r = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == phone).unwrap();
    let b = &r["bills"][index];
    DemoBill {
        id: b["id"].as_str().unwrap().to_owned(),
        number: b["bill_number"].as_str().unwrap().to_owned(),
        amount_fen: b["amount_fen"].as_i64().unwrap(),
        due: jingtong_server::clock::parse_date(b["due_date"].as_str().unwrap()).unwrap(),
    }
}

/// 演示用户甲's 200.00 yuan parking fine.
fn fine() -> DemoBill {
    demo_bill("19900000001", 0)
}

async fn pay_app(backend: Backend) -> TestApp {
    spawn_app_config(backend, |c| c.run_jobs = false).await
}

fn today(app: &TestApp) -> Date {
    let ms = app.clock.now_ms();
    shanghai_date(OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap())
}

async fn token(app: &TestApp, phone: &str) -> String {
    app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned()
}

async fn code_for(app: &TestApp, bill: &DemoBill) -> String {
    let res = app.get(&format!("/api/v1/dev/bill-codes?bill_number={}", bill.number)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["code"].as_str().unwrap().to_owned()
}

async fn scan(app: &TestApp, token: &str, code: &str) -> Response {
    app.client
        .post(format!("{}/api/v1/bills/scan", app.url))
        .bearer_auth(token)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Response {
    app.client.get(format!("{}{path}", app.url)).bearer_auth(token).send().await.unwrap()
}

async fn order(app: &TestApp, token: &str, bill_id: &str, key: &str) -> Response {
    app.client
        .post(format!("{}/api/v1/bills/{bill_id}/payment-orders", app.url))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .send()
        .await
        .unwrap()
}

/// Signs in as 丙, scans 甲's fine and opens an order for it.
async fn open_order(app: &TestApp) -> (String, Value) {
    let t = token(app, GAMMA).await;
    let code = code_for(app, &fine()).await;
    assert_eq!(scan(app, &t, &code).await.status(), StatusCode::OK);
    let res = order(app, &t, &fine().id, "key-1").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    (t, res.json().await.unwrap())
}

fn provider_keys(app: &TestApp) -> ProviderKeys {
    ProviderKeys::load(app.data_dir.path()).unwrap()
}

fn transaction(order: &Value, total: i64) -> Transaction {
    Transaction {
        out_trade_no: order["order_id"].as_str().unwrap().to_owned(),
        transaction_id: "4200000000202611290000000001".to_owned(),
        trade_state: "SUCCESS".to_owned(),
        amount: Amount { total, currency: "CNY".to_owned() },
        success_time: "2026-11-29T10:00:00+08:00".to_owned(),
    }
}

fn notification(app: &TestApp, keys: &ProviderKeys, t: Transaction, nonce: &str, age_s: i64) -> SignedNotification {
    let params = NotifyParams {
        id: uuid::Uuid::now_v7().to_string(),
        timestamp: app.clock.now_ms() / 1000 - age_s,
        nonce: nonce.to_owned(),
        transaction: t,
    };
    wechat::build_notification(keys, &params)
}

async fn send(app: &TestApp, n: &SignedNotification) -> Response {
    let mut req =
        app.client.post(format!("{}/api/v1/payments/notify", app.url)).header("content-type", "application/json");
    for (name, value) in &n.headers {
        req = req.header(*name, value);
    }
    req.body(n.body.clone()).send().await.unwrap()
}

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    let pool = app.db().await;
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).bind(id).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

async fn order_status(app: &TestApp, token: &str, order_id: &str) -> Value {
    let res = get(app, token, &format!("/api/v1/payment-orders/{order_id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

api_test!(
    async fn scanning_a_demo_code_shows_the_bill_and_its_late_fee(backend) {
        let app = pay_app(backend).await;
        let t = token(&app, GAMMA).await;
        let bill = fine();
        let res = scan(&app, &t, &code_for(&app, &bill).await).await;
        assert_eq!(res.status(), StatusCode::OK);
        let view: Value = res.json().await.unwrap();
        assert_eq!(view["bill_number"], bill.number);
        assert_eq!(view["kind"], "fine");
        assert_eq!(view["status"], "unpaid");
        assert!(view["decision_number"].as_str().unwrap().contains("决字"));
        assert_eq!(view["payee"], "演示市公安局交通警察支队");
        let expected = amount_due(bill.amount_fen, bill.due, today(&app));
        assert_eq!(view["amount_due"]["total_fen"], expected.total_fen);

        // Three days after the due date: 3 % of 200.00 a day.
        let days = (bill.due - today(&app)).whole_days() + 3;
        app.advance(u64::try_from(days).unwrap() * 86_400);
        let t = token(&app, GAMMA).await;
        let res = scan(&app, &t, &code_for(&app, &bill).await).await;
        assert_eq!(res.status(), StatusCode::OK);
        let view: Value = res.json().await.unwrap();
        let due = &view["amount_due"];
        assert_eq!(due["late_days"], 3);
        assert_eq!(due["late_fee_fen"], 1800);
        assert_eq!(due["total_fen"], 21800);
        assert_eq!(due["lines"][1]["kind"], "late_fee");
        assert!(due["lines"][1]["label"].as_str().unwrap().contains("逾期 3 天"), "{due}");
        assert!(due["source"].as_str().unwrap().contains("行政处罚法"));

        // The scanned bill is now the resident's: listed and readable.
        let list: Value = get(&app, &t, "/api/v1/bills").await.json::<Value>().await.unwrap()["items"].clone();
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["bill_id"], bill.id);
        let res = get(&app, &t, &format!("/api/v1/bills/{}", bill.id)).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
);

api_test!(
    async fn tampered_foreign_and_unknown_codes_are_refused_with_their_reason(backend) {
        let app = pay_app(backend).await;
        let t = token(&app, GAMMA).await;
        let bill = fine();
        let good = code_for(&app, &bill).await;

        expect_problem(scan(&app, &t, "https://shop.example/qr/123").await, StatusCode::BAD_REQUEST, "bill_code_foreign")
            .await;
        // Change one character of the signed payload.
        // The amount changed from 200.00 to 2.00, the signature kept.
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let parts: Vec<&str> = good.split('.').collect();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert!(payload.contains("|20000|"), "{payload}");
        let changed = URL_SAFE_NO_PAD.encode(payload.replace("|20000|", "|200|"));
        let tampered = format!("{}.{changed}.{}", parts[0], parts[2]);
        expect_problem(scan(&app, &t, &tampered).await, StatusCode::BAD_REQUEST, "bill_code_signature_invalid").await;
        expect_problem(scan(&app, &t, &good[..good.len() - 10]).await, StatusCode::BAD_REQUEST, "bill_code_invalid").await;

        let number = BillNumber::parse(&bill.number).unwrap();
        let forged = |issuer: &str, key: &SigningKey, number: BillNumber| {
            BillCode {
                issuer: issuer.to_owned(),
                kind: BillKind::Fine { decision_number: "演示公交决字〔2026〕第000001号".to_owned() },
                number,
                amount_fen: 100,
                due_on: bill.due,
                issued_at: OffsetDateTime::from_unix_timestamp(app.clock.now_ms() / 1000).unwrap(),
                expires_on: today(&app) + time::Duration::days(30),
            }
            .sign(key)
            .unwrap()
        };
        let stranger = SigningKey::from_bytes(&[42; 32]);
        expect_problem(
            scan(&app, &t, &forged("other-issuer", &stranger, number.clone())).await,
            StatusCode::BAD_REQUEST,
            "bill_code_issuer_unknown",
        )
        .await;
        expect_problem(
            scan(&app, &t, &forged("jingtong-1", &stranger, number.clone())).await,
            StatusCode::BAD_REQUEST,
            "bill_code_signature_invalid",
        )
        .await;
        // Signed by our own key, but the amount is not the bill's; and a number we never issued.
        let issuer = Issuer::load(app.data_dir.path()).unwrap();
        expect_problem(
            scan(&app, &t, &forged("jingtong-1", &issuer.key, number)).await,
            StatusCode::BAD_REQUEST,
            "bill_code_invalid",
        )
        .await;
        let unknown = BillNumber::from_body("11111111111111").unwrap();
        expect_problem(
            scan(&app, &t, &forged("jingtong-1", &issuer.key, unknown)).await,
            StatusCode::BAD_REQUEST,
            "bill_code_invalid",
        )
        .await;
        // Nothing was granted by the refused scans.
        let list: Value = get(&app, &t, "/api/v1/bills").await.json::<Value>().await.unwrap()["items"].clone();
        assert_eq!(list.as_array().unwrap().len(), 0);
    }
);

api_test!(
    async fn orders_are_idempotent_and_one_per_bill(backend) {
        let app = pay_app(backend).await;
        let (t, first) = open_order(&app).await;
        assert_eq!(first["status"], "open");
        assert_eq!(first["amount_fen"], amount_due(fine().amount_fen, fine().due, today(&app)).total_fen);
        assert!(first["pay_url"].as_str().unwrap().contains("/api/v1/dev/provider/pay/"));

        let again = order(&app, &t, &fine().id, "key-1").await;
        assert_eq!(again.status(), StatusCode::CREATED);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again, first);

        let other_key = order(&app, &t, &fine().id, "key-2").await;
        assert_eq!(other_key.status(), StatusCode::OK);
        let other_key: Value = other_key.json().await.unwrap();
        assert_eq!(other_key["order_id"], first["order_id"]);

        // The same key for another bill is a different request.
        let other_bill = demo_bill("19900000002", 0);
        expect_problem(order(&app, &t, &other_bill.id, "key-1").await, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            .await;
        let res = app
            .client
            .post(format!("{}/api/v1/bills/{}/payment-orders", app.url, fine().id))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_request").await;
        let bill: Value = get(&app, &t, &format!("/api/v1/bills/{}", fine().id)).await.json().await.unwrap();
        assert_eq!(bill["open_order_id"], first["order_id"]);
    }
);

api_test!(
    async fn a_hundred_concurrent_duplicate_notifications_change_the_state_once(backend) {
        let app = pay_app(backend).await;
        let (t, order) = open_order(&app).await;
        let keys = provider_keys(&app);
        let total = order["amount_fen"].as_i64().unwrap();
        let notifications: Vec<SignedNotification> = (0..100)
            .map(|i| notification(&app, &keys, transaction(&order, total), &format!("nonce-{i:03}"), 0))
            .collect();
        let answers = join_all(notifications.iter().map(|n| send(&app, n))).await;
        for a in answers {
            assert_eq!(a.status(), StatusCode::OK);
        }
        let order_id = order["order_id"].as_str().unwrap();
        let paid = order_status(&app, &t, order_id).await;
        assert_eq!(paid["status"], "paid");
        let receipt_number = paid["receipt_number"].as_str().unwrap().to_owned();
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM receipts WHERE order_id = $1", order_id).await, 1);
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM payment_events WHERE order_id = $1 AND kind = 'order_paid'", order_id)
                .await,
            1
        );
        let bill_id = fine().id;
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM payment_events WHERE bill_id = $1 AND kind = 'bill_paid'", &bill_id).await, 1);
        let bill: Value = get(&app, &t, &format!("/api/v1/bills/{bill_id}")).await.json().await.unwrap();
        assert_eq!(bill["status"], "paid");
        assert_eq!(bill["receipt_number"], receipt_number.as_str());

        // The e-receipt: masked payer, the amount, a verifiable code.
        let res = get(&app, &t, &format!("/api/v1/receipts/{receipt_number}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let receipt: Value = res.json().await.unwrap();
        assert_eq!(receipt["payer_masked"], "演***甲");
        assert_eq!(receipt["amount_fen"], total);
        assert_eq!(receipt["bill_number"], fine().number);
        let issuer = Issuer::load(app.data_dir.path()).unwrap();
        let verified = ReceiptCode::parse(receipt["verify_code"].as_str().unwrap(), &issuer.trusted).unwrap();
        assert_eq!(verified.receipt_number.as_str(), receipt_number);
        assert_eq!(verified.amount_fen, total);
        assert!(!jingtong_server::payments::keys::ISSUER_KEY_ID.is_empty());

        // A paid bill takes no new order.
        expect_problem(order_req(&app, &t, &bill_id, "key-after-paid").await, StatusCode::CONFLICT, "bill_already_paid").await;
    }
);

async fn order_req(app: &TestApp, t: &str, bill_id: &str, key: &str) -> Response {
    order(app, t, bill_id, key).await
}

api_test!(
    async fn old_replayed_forged_and_wrong_amount_notifications_are_refused(backend) {
        let app = pay_app(backend).await;
        let (t, order) = open_order(&app).await;
        let keys = provider_keys(&app);
        let total = order["amount_fen"].as_i64().unwrap();
        let order_id = order["order_id"].as_str().unwrap();

        // Outside the 5-minute window.
        let old = notification(&app, &keys, transaction(&order, total), "old-nonce", 301);
        expect_problem(send(&app, &old).await, StatusCode::BAD_REQUEST, "invalid_request").await;

        // Forged: body changed after signing, and signed by another key.
        let mut changed = notification(&app, &keys, transaction(&order, total), "forged-1", 0);
        changed.body = changed.body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS ");
        expect_problem(send(&app, &changed).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let mut other = notification(&app, &keys, transaction(&order, total), "forged-2", 0);
        let stranger = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let ts = other.headers.iter().find(|(h, _)| *h == wechat::H_TIMESTAMP).unwrap().1.clone();
        let signature = wechat::sign(&stranger, &wechat::message(&ts, "forged-2", &other.body));
        for (h, v) in other.headers.iter_mut() {
            if *h == wechat::H_SIGNATURE {
                *v = signature.clone();
            }
        }
        expect_problem(send(&app, &other).await, StatusCode::UNAUTHORIZED, "unauthorized").await;

        // Signed right, but for another amount: refused and flagged, not paid.
        let wrong = notification(&app, &keys, transaction(&order, total - 1), "wrong-amount", 0);
        expect_problem(send(&app, &wrong).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM payment_orders WHERE id = $1 AND flag = 'amount_mismatch'", order_id)
                .await,
            1
        );
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'payment_flagged' AND detail LIKE $1 || '%'", order_id)
                .await,
            1
        );
        assert_eq!(order_status(&app, &t, order_id).await["status"], "open");

        // A good one pays; its nonce used again is a replay.
        let good = notification(&app, &keys, transaction(&order, total), "nonce-once", 0);
        assert_eq!(send(&app, &good).await.status(), StatusCode::OK);
        assert_eq!(order_status(&app, &t, order_id).await["status"], "paid");
        let replay = notification(&app, &keys, transaction(&order, total), "nonce-once", 0);
        expect_problem(send(&app, &replay).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM receipts WHERE order_id = $1", order_id).await, 1);

        // Money a second time (another transaction): acknowledged, recorded once for a refund, nothing else changes.
        let mut second = transaction(&order, total);
        second.transaction_id = "4200000000202611290000000002".to_owned();
        for nonce in ["second-1", "second-2"] {
            let n = notification(&app, &keys, second.clone(), nonce, 0);
            assert_eq!(send(&app, &n).await.status(), StatusCode::OK);
        }
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM payment_events WHERE order_id = $1 AND kind = 'second_payment'", order_id)
                .await,
            1
        );
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM receipts WHERE order_id = $1", order_id).await, 1);
        assert_eq!(order_status(&app, &t, order_id).await["status"], "paid");
    }
);

api_test!(
    async fn the_provider_page_pays_through_a_delivered_notification(backend) {
        let app = pay_app(backend).await;
        let (t, order) = open_order(&app).await;
        let pay_url = order["pay_url"].as_str().unwrap();
        let page = app.client.get(pay_url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("演示市公安局交通警察支队") && html.contains("confirm"), "{html}");
        // The page's form posts from a browser, which gets a page back.
        let res = app.client.post(format!("{pay_url}/confirm")).header("accept", "text/html").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("支付成功"));
        // The return to the app is only a hint: the order is paid once the notification is delivered.
        let order_id = order["order_id"].as_str().unwrap();
        assert_eq!(order_status(&app, &t, order_id).await["status"], "open");
        assert!(app.run_jobs().await >= 1);
        assert_eq!(order_status(&app, &t, order_id).await["status"], "paid");
        // Confirming twice changes nothing.
        let again = app.client.post(format!("{pay_url}/confirm")).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT);
    }
);

api_test!(
    async fn a_lost_notification_is_settled_by_reconciliation(backend) {
        let app = pay_app(backend).await;
        let (t, order) = open_order(&app).await;
        let pay_url = order["pay_url"].as_str().unwrap();
        assert_eq!(app.client.post(format!("{pay_url}/confirm")).send().await.unwrap().status(), StatusCode::OK);
        // The notification is lost on the way.
        let pool = app.db().await;
        sqlx::query("DELETE FROM jobs WHERE kind = 'provider_notify'").execute(&pool).await.unwrap();
        pool.close().await;
        let order_id = order["order_id"].as_str().unwrap();
        app.run_jobs().await;
        assert_eq!(order_status(&app, &t, order_id).await["status"], "open");
        app.advance(61);
        app.run_jobs().await;
        let paid = order_status(&app, &t, order_id).await;
        assert_eq!(paid["status"], "paid");
        assert!(paid["receipt_number"].as_str().is_some());
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM receipts WHERE order_id = $1", order_id).await, 1);
    }
);

api_test!(
    async fn an_order_older_than_two_hours_is_closed_and_cannot_be_paid(backend) {
        let app = pay_app(backend).await;
        let (_, order) = open_order(&app).await;
        let keys = provider_keys(&app);
        let order_id = order["order_id"].as_str().unwrap();
        app.advance(2 * 3600 + 1);
        app.run_jobs().await;
        let t = token(&app, GAMMA).await; // the access token expired meanwhile
        assert_eq!(order_status(&app, &t, order_id).await["status"], "closed");

        // The payer confirms too late: the provider refuses.
        let pay_url = order["pay_url"].as_str().unwrap();
        assert_eq!(app.client.post(format!("{pay_url}/confirm")).send().await.unwrap().status(), StatusCode::CONFLICT);
        // A notification for it anyway: acknowledged, recorded for refund, not applied.
        let late = notification(&app, &keys, transaction(&order, order["amount_fen"].as_i64().unwrap()), "late", 0);
        assert_eq!(send(&app, &late).await.status(), StatusCode::OK);
        assert_eq!(order_status(&app, &t, order_id).await["status"], "closed");
        let bill: Value = get(&app, &t, &format!("/api/v1/bills/{}", fine().id)).await.json().await.unwrap();
        assert_eq!(bill["status"], "unpaid");
        assert_eq!(bill["open_order_id"], Value::Null);
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM payment_orders WHERE id = $1 AND flag = 'refund_required'", order_id).await,
            1
        );
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM receipts WHERE order_id = $1", order_id).await, 0);

        // A new order can be made; an expired open order also closes when read.
        let res = order_req(&app, &t, &fine().id, "key-new").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let second: Value = res.json().await.unwrap();
        assert_ne!(second["order_id"], order["order_id"]);
        app.advance(2 * 3600 + 1);
        let t = token(&app, GAMMA).await;
        let second_id = second["order_id"].as_str().unwrap();
        assert_eq!(order_status(&app, &t, second_id).await["status"], "closed");
    }
);

api_test!(
    async fn another_resident_cannot_see_the_bill_the_order_or_the_receipt(backend) {
        let app = pay_app(backend).await;
        let (_t, order) = open_order(&app).await;
        let keys = provider_keys(&app);
        let n = notification(&app, &keys, transaction(&order, order["amount_fen"].as_i64().unwrap()), "n1", 0);
        assert_eq!(send(&app, &n).await.status(), StatusCode::OK);
        let pool = app.db().await;
        let (receipt,): (String,) = sqlx::query_as("SELECT receipt_number FROM receipts WHERE order_id = $1")
            .bind(order["order_id"].as_str().unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;

        let other = token(&app, DING).await;
        for path in [
            format!("/api/v1/bills/{}", fine().id),
            format!("/api/v1/payment-orders/{}", order["order_id"].as_str().unwrap()),
            format!("/api/v1/receipts/{receipt}"),
        ] {
            expect_problem(get(&app, &other, &path).await, StatusCode::NOT_FOUND, "not_found").await;
        }
        expect_problem(order_req(&app, &other, &fine().id, "k").await, StatusCode::NOT_FOUND, "not_found").await;
        let list: Value = get(&app, &other, "/api/v1/bills").await.json::<Value>().await.unwrap()["items"].clone();
        assert!(list.as_array().unwrap().is_empty());
        // Without a token: 401.
        expect_problem(app.get("/api/v1/bills").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

api_test!(
    async fn a_verified_resident_sees_their_own_bills_newest_due_first(backend) {
        let app = pay_app(backend).await;
        let t = token(&app, "19900000002").await;
        let me: Value = app.me(&t).await.json().await.unwrap();
        let user_id = me["user_id"].as_str().unwrap().to_owned();
        let list: Value = get(&app, &t, "/api/v1/bills").await.json::<Value>().await.unwrap()["items"].clone();
        assert!(list.as_array().unwrap().is_empty());
        // As face verification would: the account is bound to 演示用户乙's ID number.
        let pool = app.db().await;
        let demo: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let person = demo["residents"][1]["id"].as_str().unwrap().to_owned();
        sqlx::query(
            "UPDATE users SET verification_level = 'real_name',
               id_number_hash = (SELECT id_number_hash FROM registry_persons WHERE id = $1) WHERE id = $2",
        )
        .bind(&person)
        .bind(&user_id)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let list: Value = get(&app, &t, "/api/v1/bills").await.json::<Value>().await.unwrap()["items"].clone();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0]["due_on"].as_str().unwrap() >= list[1]["due_on"].as_str().unwrap());
        assert_eq!(list.iter().filter(|b| b["kind"] == "fee").count(), 1);
        let fee = list.iter().find(|b| b["kind"] == "fee").unwrap();
        assert_eq!(fee["decision_number"], Value::Null);
        assert_eq!(fee["amount_due"]["total_fen"], 2000);
    }
);

api_test!(
    async fn a_failed_delivery_is_retried_with_backoff(backend) {
        let app = pay_app(backend).await;
        let (t, order) = open_order(&app).await;
        let pay_url = order["pay_url"].as_str().unwrap();
        assert_eq!(app.client.post(format!("{pay_url}/confirm")).send().await.unwrap().status(), StatusCode::OK);
        // The merchant cannot be reached for now.
        let pool = app.db().await;
        let (url,): (String,) = sqlx::query_as("SELECT notify_url FROM provider_orders").fetch_one(&pool).await.unwrap();
        sqlx::query("UPDATE provider_orders SET notify_url = 'http://127.0.0.1:9/api/v1/payments/notify'")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(app.run_jobs().await, 1);
        let order_id = order["order_id"].as_str().unwrap();
        assert_eq!(order_status(&app, &t, order_id).await["status"], "open");
        let (attempts, error): (i64, Option<String>) =
            sqlx::query_as("SELECT attempts, last_error FROM jobs WHERE kind = 'provider_notify'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(attempts, 1);
        assert!(error.is_some());
        // Not again before 15 s have passed; then delivered.
        assert_eq!(app.run_jobs().await, 0);
        sqlx::query("UPDATE provider_orders SET notify_url = $1").bind(&url).execute(&pool).await.unwrap();
        app.advance(15);
        app.run_jobs().await;
        assert_eq!(order_status(&app, &t, order_id).await["status"], "paid");
        let (done,): (Option<i64>,) =
            sqlx::query_as("SELECT done_at FROM jobs WHERE kind = 'provider_notify'").fetch_one(&pool).await.unwrap();
        assert!(done.is_some());
        pool.close().await;
    }
);

api_test!(
    async fn concurrent_job_runners_claim_each_job_once(backend) {
        let app = pay_app(backend).await;
        let (t, order) = open_order(&app).await;
        let pay_url = order["pay_url"].as_str().unwrap();
        assert_eq!(app.client.post(format!("{pay_url}/confirm")).send().await.unwrap().status(), StatusCode::OK);
        // Two runners (as two server processes would) race for the one due delivery.
        let (a, b) = tokio::join!(app.run_jobs(), app.run_jobs());
        assert_eq!(a + b, 1);
        let order_id = order["order_id"].as_str().unwrap();
        assert_eq!(order_status(&app, &t, order_id).await["status"], "paid");
        let pool = app.db().await;
        let (attempts,): (i64,) =
            sqlx::query_as("SELECT attempts FROM jobs WHERE kind = 'provider_notify'").fetch_one(&pool).await.unwrap();
        pool.close().await;
        assert_eq!(attempts, 1);
    }
);

api_test!(
    async fn twenty_parallel_orders_with_distinct_keys_all_get_the_one_order_and_a_pay_url(backend) {
        let app = pay_app(backend).await;
        let t = token(&app, GAMMA).await;
        let code = code_for(&app, &fine()).await;
        assert_eq!(scan(&app, &t, &code).await.status(), StatusCode::OK);
        let keys: Vec<String> = (0..20).map(|i| format!("race-{i}")).collect();
        let bill_id = fine().id;
        let answers = join_all(keys.iter().map(|k| order(&app, &t, &bill_id, k))).await;
        let mut ids = std::collections::BTreeSet::new();
        for res in answers {
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            if status == StatusCode::CONFLICT {
                assert_eq!(body["code"], "payment_order_pending", "{body}");
                continue;
            }
            assert!(matches!(status, StatusCode::OK | StatusCode::CREATED), "{status} {body}");
            assert!(!body["pay_url"].as_str().unwrap().is_empty(), "an empty pay_url: {body}");
            ids.insert(body["order_id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
        let pool = app.db().await;
        let (at_provider,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM provider_orders").fetch_one(&pool).await.unwrap();
        let (replays,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM idempotency_keys WHERE response LIKE '%\"pay_url\":\"\"%'")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        assert_eq!((at_provider, replays), (1, 0));
    }
);
