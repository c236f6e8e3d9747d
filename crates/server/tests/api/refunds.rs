//! Money under races, second half (issue 22 item 10): withdrawing an application closes its fee order
//! at the provider too, and money that reaches an order after it closed goes back to the payer, once.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::applications::{apply, verified};
use crate::helpers::{spawn_app_config, TestApp};

const JIA: &str = "19900000001"; // 演示用户甲 (fixtures/demo.json, fictional)

fn renewal_at_station() -> Value {
    json!({ "item": "id_card_renewal", "photo": { "kind": "on_site" },
            "delivery": { "kind": "pickup", "station_id": "st-shushan" } })
}

/// A verified resident's renewal with its fee order open: (token, application id, order).
async fn open_fee_order(app: &TestApp) -> (String, String, Value) {
    let t = verified(app, JIA).await;
    let created: Value = apply(app, &t, "k1", &renewal_at_station()).await.json().await.unwrap();
    let bill_id = created["bill_id"].as_str().unwrap();
    let res = app
        .client
        .post(format!("{}/api/v1/bills/{bill_id}/payment-orders", app.url))
        .bearer_auth(&t)
        .header("Idempotency-Key", "fee")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    (t, created["id"].as_str().unwrap().to_owned(), res.json().await.unwrap())
}

async fn withdraw(app: &TestApp, t: &str, id: &str) {
    let res = app
        .client
        .post(format!("{}/api/v1/applications/{id}/withdraw", app.url))
        .bearer_auth(t)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    let pool = app.db().await;
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).bind(id).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

async fn order_view(app: &TestApp, t: &str, order_id: &str) -> Value {
    let res = app.client.get(format!("{}/api/v1/payment-orders/{order_id}", app.url)).bearer_auth(t).send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

api_test!(
    async fn withdrawing_an_application_closes_its_fee_order_at_the_provider(backend) {
        let app = spawn_app_config(backend, |c| c.run_jobs = false).await;
        let (t, id, order) = open_fee_order(&app).await;
        withdraw(&app, &t, &id).await;
        app.run_jobs().await;
        let order_id = order["order_id"].as_str().unwrap();
        assert_eq!(order_view(&app, &t, order_id).await["status"], "closed");
        // The payer who still has the provider's page open can no longer pay there.
        let pay_url = order["pay_url"].as_str().unwrap();
        assert_eq!(app.client.post(format!("{pay_url}/confirm")).send().await.unwrap().status(), StatusCode::CONFLICT);
        let page = app.client.get(pay_url).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<form"), "a closed order's page offers no way to pay: {page}");
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM provider_orders WHERE out_trade_no = $1 AND trade_state = 'CLOSED'", order_id)
                .await,
            1
        );
    }
);

api_test!(
    async fn money_that_reaches_a_withdrawn_applications_order_is_refunded_once(backend) {
        let app = spawn_app_config(backend, |c| c.run_jobs = false).await;
        let (t, id, order) = open_fee_order(&app).await;
        let order_id = order["order_id"].as_str().unwrap();
        // The payer confirms at the provider just before the resident withdraws: the provider holds the
        // money, its notification has not arrived yet.
        let pay_url = order["pay_url"].as_str().unwrap();
        assert_eq!(app.client.post(format!("{pay_url}/confirm")).send().await.unwrap().status(), StatusCode::OK);
        withdraw(&app, &t, &id).await;
        // Delivery of the notification, the closing at the provider and the refund all run now.
        app.run_jobs().await;
        app.run_jobs().await;

        let view = order_view(&app, &t, order_id).await;
        assert_eq!(view["status"], "closed");
        assert!(view["refunded_at"].as_str().is_some_and(|at| at.ends_with('Z')), "{view}");
        assert_eq!(view["receipt_number"], Value::Null);
        let app_view: Value = app
            .client
            .get(format!("{}/api/v1/applications/{id}", app.url))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(app_view["status"], "withdrawn");
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM receipts WHERE order_id = $1", order_id).await, 0);
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM provider_refunds WHERE out_trade_no = $1", order_id).await, 1);
        let refunded = "SELECT COUNT(*) AS n FROM payment_events WHERE order_id = $1 AND kind = 'refunded'";
        assert_eq!(count(&app, refunded, order_id).await, 1);

        // Asked again (a retried job, a second runner): still one refund, one event.
        let pool = app.db().await;
        for _ in 0..3 {
            jingtong_server::payments::refunds::enqueue(&pool, order_id, jingtong_server::Clock::now_ms(&*app.clock)).await.unwrap();
        }
        pool.close().await;
        app.run_jobs().await;
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM provider_refunds WHERE out_trade_no = $1", order_id).await, 1);
        assert_eq!(count(&app, refunded, order_id).await, 1);
    }
);
