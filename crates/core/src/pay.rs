//! Scan to pay from the device: read a bill's QR code, show the bill, open exactly one payment order
//! per bill (retries reuse one Idempotency-Key), and ask the server for the truth afterwards.

use std::collections::HashMap;
use std::time::Duration;

use jingtong_api::payments::{BillView, PaymentOrder, Receipt, ScanRequest};
use jingtong_api::{ErrorCode, Page};
use reqwest::Method;
use tokio::sync::Mutex;
use tracing::info;

use crate::client::{segment, Client, Request};
use crate::paging::{self, List};
use crate::AppError;

/// Attempts to create an order when the connection drops, all with the same key.
const ORDER_ATTEMPTS: u32 = 3;
/// Bill codes start with this (see docs/bill-qr-format.md); anything else is not ours.
const BILL_PREFIX: &str = "JTB";

pub(crate) const BILLS: List = List { path: "/api/v1/bills", authed: true };

#[derive(Default)]
pub(crate) struct Payments {
    /// bill id → the Idempotency-Key of its order request, until the server answered it.
    keys: Mutex<HashMap<String, String>>,
}

/// The first bill code among decoded texts; a picture of someone else's QR code is `bill_code_foreign`.
pub(crate) fn pick_bill_code(texts: Vec<String>) -> Result<String, ErrorCode> {
    texts
        .into_iter()
        .map(|t| t.trim().to_owned())
        .find(|t| t.starts_with(BILL_PREFIX))
        .ok_or(ErrorCode::BillCodeForeign)
}

impl Payments {
    /// Sign-out: another account must not reuse this one's order keys.
    pub async fn forget(&self) {
        self.keys.lock().await.clear();
    }

    pub async fn scan(&self, client: &Client, code: &str) -> Result<BillView, AppError> {
        let code = pick_bill_code(vec![code.to_owned()]).map_err(|c| client.error(c))?;
        info!("bill code scanned");
        let body = ScanRequest { code };
        client.json(&Request::new(Method::POST, "/api/v1/bills/scan").json(&body).authed()).await
    }

    pub async fn bills(&self, client: &Client, cursor: Option<&str>) -> Result<Page<BillView>, AppError> {
        paging::page(client, BILLS, cursor, None).await
    }

    pub async fn bill(&self, client: &Client, bill_id: &str) -> Result<BillView, AppError> {
        let path = format!("/api/v1/bills/{}", segment(bill_id).map_err(|c| client.error(c))?);
        client.json(&Request::new(Method::GET, &path).authed()).await
    }

    /// Opens (or gets back) the bill's payment order. A dropped connection is retried with the same
    /// key, and the key is kept until the server answered, so a tap after a failure cannot open a second order.
    pub async fn order(&self, client: &Client, bill_id: &str) -> Result<PaymentOrder, AppError> {
        let path = format!("/api/v1/bills/{}/payment-orders", segment(bill_id).map_err(|c| client.error(c))?);
        let key = {
            let mut keys = self.keys.lock().await;
            keys.entry(bill_id.to_owned()).or_insert_with(|| uuid::Uuid::now_v7().to_string()).clone()
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = Request::new(Method::POST, &path).json(&serde_json::json!({})).authed().idempotent(&key);
            match client.json::<PaymentOrder>(&req).await {
                Err(e) if e.code == ErrorCode::Offline && attempt < ORDER_ATTEMPTS => {
                    info!(attempt, "order request interrupted; retrying with the same key");
                    tokio::time::sleep(Duration::from_millis(400 * u64::from(attempt))).await;
                }
                // Still offline: keep the key for the resident's next tap.
                Err(e) if e.code == ErrorCode::Offline => return Err(e),
                other => {
                    self.keys.lock().await.remove(bill_id);
                    return other;
                }
            }
        }
    }

    /// The server's word on an order; the provider page returning is only a hint.
    pub async fn order_status(&self, client: &Client, order_id: &str) -> Result<PaymentOrder, AppError> {
        let path = format!("/api/v1/payment-orders/{}", segment(order_id).map_err(|c| client.error(c))?);
        client.json(&Request::new(Method::GET, &path).authed()).await
    }

    pub async fn receipt(&self, client: &Client, number: &str) -> Result<Receipt, AppError> {
        let path = format!("/api/v1/receipts/{}", segment(number).map_err(|c| client.error(c))?);
        client.json(&Request::new(Method::GET, &path).authed()).await
    }
}

/// The receipt's verification QR code as an SVG document (our own markup, safe to show inline).
pub fn receipt_qr_svg(verify_code: &str) -> Result<String, ErrorCode> {
    let code = qrcode::QrCode::with_error_correction_level(verify_code.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| ErrorCode::Internal)?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// A self-contained HTML e-receipt for saving or printing.
pub fn receipt_html(r: &Receipt) -> Result<String, ErrorCode> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    let lines: String = r
        .lines
        .iter()
        .map(|l| format!("<tr><td>{}</td><td class=\"n\">¥{}</td></tr>", esc(&l.label), yuan(l.amount_fen)))
        .collect();
    Ok(format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>电子票据 {num}</title>\
<style>body{{font-family:sans-serif;max-width:560px;margin:24px auto}}td{{padding:4px 8px}}.n{{text-align:right}}</style>\
<h1>电子票据 E-receipt</h1><p>票据号码 No.: {num}<br>缴款单号 Bill: {bill}<br>收款单位 Payee: {payee}<br>\
缴款人 Payer: {payer}<br>缴款时间 Paid at: {paid}</p><table>{lines}<tr><th>合计 Total</th><th class=\"n\">¥{total}</th></tr></table>\
<p>扫码核验 Scan to verify:</p>{qr}<p><small>{code}</small></p></html>",
        num = esc(&r.receipt_number),
        bill = esc(&r.bill_number),
        payee = esc(&r.payee),
        payer = esc(&r.payer_masked),
        paid = esc(&r.paid_at),
        total = yuan(r.amount_fen),
        qr = receipt_qr_svg(&r.verify_code)?,
        code = esc(&r.verify_code),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_codes_are_taken() {
        assert_eq!(pick_bill_code(vec!["https://example.test/pay".into()]), Err(ErrorCode::BillCodeForeign));
        assert_eq!(pick_bill_code(vec!["x".into(), " JTB1.a.b ".into()]).as_deref(), Ok("JTB1.a.b"));
        assert_eq!(pick_bill_code(vec![]), Err(ErrorCode::BillCodeForeign));
    }

    #[test]
    fn ids_cannot_escape_the_path() {
        assert!(segment("../me").is_err());
        assert!(segment("019b76da-a803-7e50-ad75-2a6a05840f4c").is_ok());
        assert!(segment("").is_err());
    }

    #[test]
    fn receipt_html_escapes_and_embeds_the_qr() {
        let r = Receipt {
            receipt_number: "R1".into(),
            bill_number: "0000123456789092".into(),
            payee: "<script>".into(),
            payer_masked: "演**甲".into(),
            lines: vec![],
            amount_fen: 20_005,
            paid_at: "2026-11-29T10:00:00Z".into(),
            verify_code: "JTR1.x.y".into(),
        };
        let html = receipt_html(&r).unwrap();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("<svg") && html.contains("¥200.05"));
    }
}
