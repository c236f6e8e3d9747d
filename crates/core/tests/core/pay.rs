//! Scan to pay from the core against a real server: a rendered bill QR code in, exactly one order,
//! the payer confirming on the local provider's page, the server's word on the order, the e-receipt.

use std::time::{Duration, Instant};

use base64::Engine as _;
use jingtong_api::payments::{BillStatus, OrderStatus};
use jingtong_api::ErrorCode;
use jingtong_core::Core;

use crate::qr::{png, render};
use crate::support::*;

/// Demo residents 甲 and 乙 (crates/server/fixtures/demo.json, fictional).
const PHONE: &str = "19900000001";
const OTHER: &str = "19900000002";

fn demo_bill_number() -> String {
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../../../server/fixtures/demo.json")).expect("demo.json");
    let r = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == PHONE).unwrap();
    r["bills"][0]["bill_number"].as_str().unwrap().to_owned()
}

async fn bill_code(server: &str, number: &str) -> String {
    let v: serde_json::Value = http()
        .get(format!("{server}/api/v1/dev/bill-codes?bill_number={number}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["code"].as_str().expect("a bill code").to_owned()
}

fn picture_of(code: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(png(&render(code, 4)))
}

async fn resident(server: &Server, phone: &str) -> (Core, tempfile::TempDir, jingtong_core::Keychain) {
    let service = unique_service();
    let kc = require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &server.url, &service).await;
    sign_in(&core, &server.url, phone).await;
    (core, dir, kc)
}

#[tokio::test]
async fn a_scanned_bill_is_paid_once_with_a_receipt_only_its_payer_sees() {
    let server = server().await;
    let (core, dir, kc) = resident(&server, PHONE).await;
    let number = demo_bill_number();
    let code = bill_code(&server.url, &number).await;

    let bill = core.pay_scan_image(&picture_of(&code)).await.expect("bill from the picture");
    assert_eq!(bill.bill_number, number);
    assert_eq!(bill.status, BillStatus::Unpaid);
    assert!(bill.amount_due.total_fen >= bill.amount_due.principal_fen);

    let first = core.pay_order(&bill.bill_id).await.expect("order");
    let again = core.pay_order(&bill.bill_id).await.expect("same order");
    assert_eq!(first.order_id, again.order_id, "one open order per bill");
    assert_eq!(first.amount_fen, bill.amount_due.total_fen);
    assert_eq!(first.status, OrderStatus::Open);
    assert!(core.provider_url(&first.pay_url).is_ok(), "the local provider's page is on our server");

    // The payer confirms on the provider's page; the provider notifies the server.
    let confirmed = http().post(format!("{}/confirm", first.pay_url)).send().await.unwrap();
    assert!(confirmed.status().is_success() || confirmed.status().is_redirection(), "{}", confirmed.status());
    let deadline = Instant::now() + Duration::from_secs(20);
    let paid = loop {
        let o = core.pay_order_status(&first.order_id).await.expect("order status");
        if o.status == OrderStatus::Paid {
            break o;
        }
        assert!(Instant::now() < deadline, "the order was not settled: {o:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let number = paid.receipt_number.expect("a receipt");
    let receipt = core.receipt(&number).await.expect("receipt");
    assert_eq!(receipt.amount_fen, first.amount_fen);
    assert!(!receipt.payer_masked.contains("演示用户甲"), "the payer's name is masked");
    assert_eq!(core.bill(&bill.bill_id).await.unwrap().status, BillStatus::Paid);

    let file = core.receipt_export(&number, &dir.path().join("downloads")).await.expect("exported");
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.contains(&number) && html.contains("<svg"), "receipt file with its QR code");

    // Another resident sees neither the bill nor the receipt.
    let (other, _dir2, kc2) = resident(&server, OTHER).await;
    assert_code(other.bill(&bill.bill_id).await, ErrorCode::NotFound);
    assert_code(other.receipt(&number).await, ErrorCode::NotFound);
    assert_code(other.pay_order_status(&first.order_id).await, ErrorCode::NotFound);
    forget(&kc).await;
    forget(&kc2).await;
    server.stop().await;
}

#[tokio::test]
async fn foreign_tampered_and_missing_codes_are_refused_with_a_reason() {
    let server = server().await;
    let (core, _dir, kc) = resident(&server, PHONE).await;
    assert_code(core.pay_scan_text("https://example.test/pay?x=1").await, ErrorCode::BillCodeForeign);
    assert_code(core.pay_scan_image(&picture_of("WIFI:S:cafe;;")).await, ErrorCode::BillCodeForeign);
    let code = bill_code(&server.url, &demo_bill_number()).await;
    // Change one character of the signature.
    let mut tampered: Vec<char> = code.chars().collect();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let e = core.pay_scan_text(&tampered).await.expect_err("tampered code refused");
    assert!(matches!(e.code, ErrorCode::BillCodeSignatureInvalid | ErrorCode::BillCodeInvalid), "{e:?}");
    let blank = base64::engine::general_purpose::STANDARD.encode(png(&image::GrayImage::from_pixel(
        200,
        200,
        image::Luma([255]),
    )));
    assert_code(core.pay_scan_image(&blank).await, ErrorCode::QrNotFound);
    forget(&kc).await;
    server.stop().await;
}

#[tokio::test]
async fn an_order_request_whose_answer_was_lost_is_retried_into_the_same_order() {
    let server = server().await;
    let proxy = Cutter::start(&server.url, b"/payment-orders").await;
    let service = unique_service();
    let kc = require_keychain(&service).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), &proxy.url, &service).await;
    sign_in(&core, &proxy.url, PHONE).await;
    let code = bill_code(&server.url, &demo_bill_number()).await;
    let bill = core.pay_scan_text(&code).await.expect("bill");
    let order = core.pay_order(&bill.bill_id).await.expect("order after the retry");
    assert_eq!(proxy.cuts(), 1, "the first answer was lost");
    let again = core.pay_order(&bill.bill_id).await.expect("same order");
    assert_eq!(order.order_id, again.order_id);
    forget(&kc).await;
    server.stop().await;
}
