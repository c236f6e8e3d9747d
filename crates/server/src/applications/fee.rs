//! The fee of an application is an ordinary bill of the payments module: the resident pays it
//! like any other, and the settling transaction calls [`on_paid`], which starts the time limit.

use jingtong_api::applications::rules::FEE_DUE_DAYS;
use jingtong_api::applications::{Actor, ApplicationStatus};
use jingtong_api::bill::BillNumber;
use jingtong_rules::{Catalogue, ServiceItemId};
use sqlx::AnyConnection;

use super::{event, Applicant};
use crate::clock::shanghai_day;
use crate::payments::settle;

/// The payee printed on fee bills (a fictional demo office until a real issuer is configured).
pub const PAYEE: &str = "演示市公安局户政管理支队";

fn new_bill_number() -> BillNumber {
    let body: String = (0..14).map(|_| char::from(b'0' + rand::random_range(0..10u8))).collect();
    BillNumber::from_body(&body).expect("14 digits make a bill number")
}

/// Creates the fee bill, held by the applicant (so it is in "my bills" too).
pub async fn create_bill(
    conn: &mut AnyConnection,
    who: &Applicant,
    item: ServiceItemId,
    fee_fen: i64,
    user_id: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let name = &Catalogue::load().item(item).name_zh;
    let due = shanghai_day(now) + time::Duration::days(FEE_DUE_DAYS);
    sqlx::query(
        "INSERT INTO bills (id, person_id, bill_number, kind, description, amount_fen, due_date, status, decision_number, payee)
         VALUES ($1, $2, $3, 'id_card_fee', $4, $5, $6, 'unpaid', NULL, $7)",
    )
    .bind(&id)
    .bind(&who.person_id)
    .bind(new_bill_number().as_str())
    .bind(format!("{name} 工本费"))
    .bind(fee_fen)
    .bind(due.to_string())
    .bind(PAYEE)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO bill_holders (user_id, bill_id, created_at) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(&id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Paid (or free): the application is submitted and its time limit starts, counted in working days
/// from today (Asia/Shanghai), with the remote-area extension where the station is remote.
pub async fn start_clock(
    conn: &mut AnyConnection,
    application_id: &str,
    item: ServiceItemId,
    province_code: i64,
    now: i64,
    actor: Actor,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let remote: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT s.remote FROM applications a LEFT JOIN pickup_stations s ON s.id = a.station_id WHERE a.id = $1",
    )
    .bind(application_id)
    .fetch_optional(&mut *conn)
    .await?;
    let remote = remote.and_then(|r| r.0) == Some(1);
    let today = shanghai_day(now);
    let province = u8::try_from(province_code).unwrap_or(0);
    let deadline = Catalogue::load().deadline(item, province, remote, today);
    let changed = sqlx::query(
        "UPDATE applications SET status = 'submitted', submitted_on = $1, deadline = $2, updated_at = $3
         WHERE id = $4 AND status = 'awaiting_payment'",
    )
    .bind(today.to_string())
    .bind(deadline.to_string())
    .bind(now)
    .bind(application_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 1 {
        event(conn, application_id, now, ApplicationStatus::Submitted, actor, None, note).await?;
    }
    Ok(changed == 1)
}

/// Called in the settling transaction once a bill is paid. An application that was withdrawn in the
/// meantime keeps its state, and the money is flagged for refund.
pub async fn on_paid(conn: &mut AnyConnection, bill_id: &str, receipt: &str, now: i64) -> Result<(), sqlx::Error> {
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as("SELECT id, item, status, province_code FROM applications WHERE bill_id = $1")
            .bind(bill_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((id, item, status, province)) = row else { return Ok(()) };
    let Ok(item) = item.parse::<ServiceItemId>() else { return Ok(()) };
    if status == ApplicationStatus::AwaitingPayment.as_str() {
        start_clock(conn, &id, item, province, now, Actor::Payment, Some(receipt)).await?;
    } else {
        let reason = format!("fee paid for application {id} in state {status}: refund");
        settle::event(&mut *conn, now, None, Some(bill_id), "refund_required", "system", &reason).await?;
        tracing::warn!(application_id = %id, "fee paid for an application no longer waiting for it: refund");
    }
    Ok(())
}

/// After a withdrawal: an unpaid bill is cancelled (its open order closed here and, by a durable job,
/// at the provider, so it cannot be paid); a paid one is flagged for refund.
pub async fn after_withdrawal(
    conn: &mut AnyConnection,
    bill_id: &str,
    paid: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    if paid {
        return settle::event(
            &mut *conn,
            now,
            None,
            Some(bill_id),
            "refund_required",
            "system",
            "application withdrawn",
        )
        .await;
    }
    sqlx::query("UPDATE bills SET status = 'cancelled' WHERE id = $1 AND status = 'unpaid'")
        .bind(bill_id)
        .execute(&mut *conn)
        .await?;
    let closed: Vec<(String,)> = sqlx::query_as(
        "UPDATE payment_orders SET status = 'closed', closed_at = $1 WHERE bill_id = $2 AND status = 'open' RETURNING id",
    )
    .bind(now)
    .bind(bill_id)
    .fetch_all(&mut *conn)
    .await?;
    for (order_id,) in closed {
        // Durable: the provider's page must refuse this order even if the provider is down right now.
        let job = serde_json::json!({ "order_id": order_id });
        crate::jobs::enqueue(&mut *conn, crate::payments::orders::CLOSE_AT_PROVIDER_JOB, &job, now, now).await?;
        settle::event(
            &mut *conn,
            now,
            Some(&order_id),
            Some(bill_id),
            "order_closed",
            "system",
            "application withdrawn",
        )
        .await?;
    }
    settle::event(&mut *conn, now, None, Some(bill_id), "bill_cancelled", "system", "application withdrawn").await
}

/// Clerks reject after payment too: the fee goes back.
pub async fn after_rejection(conn: &mut AnyConnection, bill_id: &str, now: i64) -> Result<(), sqlx::Error> {
    settle::event(&mut *conn, now, None, Some(bill_id), "refund_required", "system", "application rejected").await
}
