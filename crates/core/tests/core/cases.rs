//! Case lookup and pushed changes from the device against a real server.

use std::time::{Duration, Instant};

use jingtong_api::ErrorCode;
use jingtong_server::cases::demo::{DEMO_OFFICER, DEMO_QUERY_CODE};
use serde_json::{json, Value};

use crate::support;

const JIA: &str = "19900000001"; // 演示用户甲: the demo case R850203255844 is theirs
const YI: &str = "19900000002";

async fn officer_token(server: &str) -> String {
    let (number, password) = DEMO_OFFICER;
    let pair: Value = support::http()
        .post(format!("{server}/api/v1/staff/sessions"))
        .json(&json!({ "staff_number": number, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pair["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_receipt_with_its_codes_adds_the_case_and_officer_news_arrives_within_two_seconds() {
    support::require_keychain(&support::unique_service()).await;
    let server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &support::unique_service()).await;
    support::sign_in(&core, &server.url, YI).await;

    // Mistakes the device can see are caught before the network.
    support::assert_code(core.case_lookup_start("R123", DEMO_QUERY_CODE).await, ErrorCode::CaseReceiptInvalid);
    // A wrong check digit (one digit off the demo receipt) is a typo told offline.
    support::assert_code(core.case_lookup_start("R850203255854", DEMO_QUERY_CODE).await, ErrorCode::CaseReceiptInvalid);
    support::assert_code(core.case_lookup_start("R850203255844", "K7P2Q0").await, ErrorCode::CaseQueryCodeInvalid);
    let wrong =
        support::assert_code(core.case_lookup_start("R850203255844", "AAAAAA").await, ErrorCode::CaseLookupFailed);
    assert!(wrong.message.contains("回执编号或查询码"), "{}", wrong.message);

    let started = core.case_lookup_start("r8502 0325 5844", &DEMO_QUERY_CODE.to_lowercase()).await.unwrap();
    assert_eq!(started.phone_masked, "199****0001");
    let code = support::sms_code(&server.url, JIA).await;
    let case = core.case_lookup_verify(&started.lookup_id, &code).await.unwrap();
    assert_eq!(core.cases(None).await.unwrap().items.len(), 1);

    // The app is open: an officer's new event reaches it by itself.
    let officer = officer_token(&server.url).await;
    let post = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = Instant::now();
        let res = support::http()
            .post(format!("{}/api/v1/staff/cases/{}/events", server.url, case.id))
            .bearer_auth(&officer)
            .json(&json!({ "text": "已调取周边监控", "status": "investigating" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        sent
    };
    let (change, sent) = tokio::join!(tokio::time::timeout(Duration::from_secs(10), core.wait_change()), post);
    let change = change.expect("a change arrives").expect("the stream is open");
    assert!(sent.elapsed() < Duration::from_secs(2), "took {:?}", sent.elapsed());
    assert_eq!((change.kind.as_str(), change.id.as_str()), ("case", case.id.as_str()));
    assert_eq!(core.case(&case.id).await.unwrap().events.last().unwrap().text, "已调取周边监控");

    // Progress merges it with the rest, in the rule's order.
    let items = core.progress().await.unwrap();
    assert!(items.iter().any(|i| i.id == case.id));
    server.stop().await;
}

#[tokio::test]
async fn lists_come_a_page_at_a_time_and_my_progress_reads_every_page() {
    support::require_keychain(&support::unique_service()).await;
    let server = support::server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = support::open(dir.path(), &server.url, &support::unique_service()).await;
    let phone = support::unique_phone();
    let me = support::sign_in(&core, &server.url, &phone).await;
    // More than one page of 100, so "my progress" has to follow the cursor.
    server.follow_cases(&me.user_id, 130).await;

    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = core.cases(cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 20);
        ids.extend(page.items.into_iter().map(|c| c.id));
        pages += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 7, "20 a page by default");
    let want: Vec<String> = (0..130).rev().map(|i| format!("paging-case-{i:04}")).collect();
    assert_eq!(ids, want, "newest first, each once");

    let progress = core.progress().await.unwrap();
    assert_eq!(progress.iter().filter(|p| p.id.starts_with("paging-case-")).count(), 130);

    // A cursor the server did not make: refused on the device if it could not be one, else by the server.
    support::assert_code(core.cases(Some("not a cursor&limit=1000")).await, ErrorCode::InvalidPage);
    support::assert_code(core.cases(Some("AAAAAAAA")).await, ErrorCode::InvalidPage);
    server.stop().await;
}
