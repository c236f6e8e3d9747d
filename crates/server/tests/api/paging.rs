//! Issue 22 item 13: every list is paged by an opaque cursor and a limit of at most 100, staff
//! lists included. Walks a long list page by page, refuses bad limits and changed cursors, and
//! checks that a cursor never shows one resident another's rows.

use jingtong_api::auth::Role;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{expect_problem, spawn_app, TestApp};

const YI: &str = "19900000002"; // 演示用户乙
const BING: &str = "19900000003"; // 演示用户丙
/// A demo person on whose cases nobody is the verified reporter in these tests.
const PERSON: &str = "019b76da-a811-742f-b9d1-8a937a3e82ac";

async fn signed_in(app: &TestApp, phone: &str) -> (String, String) {
    let token = app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned();
    let me: Value = app.me(&token).await.json().await.unwrap();
    (token, me["user_id"].as_str().unwrap().to_owned())
}

async fn get(app: &TestApp, token: &str, path: &str) -> Response {
    app.client.get(format!("{}{path}", app.url)).bearer_auth(token).send().await.unwrap()
}

/// `count` cases the user follows (as after a lookup), three to a `reported_at` so the id has to
/// break ties; returns their ids newest first, the list's order.
async fn follow_cases(app: &TestApp, user_id: &str, tag: &str, count: usize) -> Vec<String> {
    let db = app.db().await;
    let mut made = Vec::new();
    for i in 0..count {
        let id = format!("case-{tag}-{i:03}");
        let at = 1_700_000_000_000_i64 + (i as i64 / 3) * 1000;
        sqlx::query(
            "INSERT INTO cases (id, person_id, receipt_number, kind, title, status, reported_at)
             VALUES ($1, $2, $3, '盗窃', '分页测试', 'received', $4)",
        )
        .bind(&id)
        .bind(PERSON)
        .bind(format!("P{tag}{i:05}"))
        .bind(at)
        .execute(&db)
        .await
        .unwrap();
        sqlx::query("INSERT INTO case_viewers (user_id, case_id, created_at) VALUES ($1, $2, 0)")
            .bind(user_id)
            .bind(&id)
            .execute(&db)
            .await
            .unwrap();
        made.push((at, id));
    }
    db.close().await;
    made.sort_by(|a, b| b.cmp(a));
    made.into_iter().map(|(_, id)| id).collect()
}

/// Every page of `path` (which may carry a query already): the ids on each page.
async fn walk(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<Vec<String>> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let res = get(app, token, &url).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let page: Value = res.json().await.unwrap();
        pages.push(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().or(v["bill_id"].as_str()).unwrap().to_owned())
                .collect(),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages.len() < 50, "the cursor does not move on");
    }
    pages
}

api_test!(
    async fn a_long_list_comes_in_pages_in_order_without_gaps_or_repeats(backend) {
        let app = spawn_app(backend).await;
        let (t, uid) = signed_in(&app, BING).await;
        let want = follow_cases(&app, &uid, "b", 45).await;

        let pages = walk(&app, &t, "/api/v1/cases", 20).await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [20, 20, 5]);
        assert_eq!(pages.concat(), want, "newest first, ties by id, each once");

        // The default page is 20; 100 is the most one page holds.
        let first: Value = get(&app, &t, "/api/v1/cases").await.json().await.unwrap();
        assert_eq!(first["items"].as_array().unwrap().len(), 20);
        assert!(first["next_cursor"].is_string());
        let all: Value = get(&app, &t, "/api/v1/cases?limit=100").await.json().await.unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 45);
        assert!(all["next_cursor"].is_null(), "the last page says so");
    }
);

api_test!(
    async fn a_limit_out_of_range_or_a_changed_cursor_is_invalid_page_never_500(backend) {
        let app = spawn_app(backend).await;
        let (t, uid) = signed_in(&app, BING).await;
        follow_cases(&app, &uid, "b", 5).await;
        let page: Value = get(&app, &t, "/api/v1/cases?limit=2").await.json().await.unwrap();
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        assert_eq!(get(&app, &t, &format!("/api/v1/cases?limit=2&cursor={cursor}")).await.status(), StatusCode::OK);

        for limit in ["0", "101", "-1", "abc", "1.5", "99999999999", ""] {
            let res = get(&app, &t, &format!("/api/v1/cases?limit={limit}")).await;
            let problem = expect_problem(res, StatusCode::BAD_REQUEST, "invalid_page").await;
            assert_eq!(problem["errors"][0]["field"], "limit", "limit={limit}");
        }
        // A cursor with one character changed, cut short, made up, not base64, or re-encoded with
        // another position (no valid MAC), and one from another list.
        let mut flipped = cursor.clone().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        use base64::Engine;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("9999999999999\ncase-b-004\n00000000000000000000000000000000");
        let stations: Value = app.get("/api/v1/pickup-stations?limit=1").await.json().await.unwrap();
        let foreign = stations["next_cursor"].as_str().unwrap().to_owned();
        let long = "A".repeat(600);
        let cut = &cursor[..cursor.len() - 3];
        for bad in [flipped.as_str(), cut, "AAAA", "a+b/c=", forged.as_str(), foreign.as_str(), long.as_str()] {
            let res = get(&app, &t, &format!("/api/v1/cases?cursor={bad}")).await;
            let problem = expect_problem(res, StatusCode::BAD_REQUEST, "invalid_page").await;
            assert_eq!(problem["errors"][0]["field"], "cursor", "cursor={bad}");
        }
        // A query that does not even decode.
        expect_problem(get(&app, &t, "/api/v1/cases?cursor=%00%ff&cursor=x").await, StatusCode::BAD_REQUEST, "invalid_page").await;
        // In English too, saying what to do.
        let res = app
            .client
            .get(format!("{}/api/v1/cases?limit=101", app.url))
            .bearer_auth(&t)
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        let problem = expect_problem(res, StatusCode::BAD_REQUEST, "invalid_page").await;
        assert!(problem["detail"].as_str().unwrap().contains("load it again"), "{problem}");
        // Without a session the bad limit does not matter: 401 first.
        expect_problem(app.get("/api/v1/cases?limit=101").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

api_test!(
    async fn a_cursor_never_shows_another_residents_rows(backend) {
        let app = spawn_app(backend).await;
        let (bing, bing_id) = signed_in(&app, BING).await;
        let (yi, yi_id) = signed_in(&app, YI).await;
        let bings = follow_cases(&app, &bing_id, "b", 30).await;
        let yis = follow_cases(&app, &yi_id, "y", 4).await;

        // 丙 walks their list: only their rows.
        let walked = walk(&app, &bing, "/api/v1/cases", 7).await.concat();
        assert_eq!(walked, bings);
        // 乙 replays 丙's cursors (same list, so they are genuine): still only 乙's own rows.
        let page: Value = get(&app, &bing, "/api/v1/cases?limit=1").await.json().await.unwrap();
        let bings_cursor = page["next_cursor"].as_str().unwrap();
        let res = get(&app, &yi, &format!("/api/v1/cases?limit=100&cursor={bings_cursor}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let seen: Value = res.json().await.unwrap();
        let seen: Vec<&str> = seen["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert!(seen.iter().all(|id| yis.iter().any(|y| y == id)), "乙 saw {seen:?}");
        assert_eq!(walk(&app, &yi, "/api/v1/cases", 3).await.concat(), yis);
    }
);

api_test!(
    async fn every_resident_list_answers_a_page(backend) {
        let app = spawn_app(backend).await;
        let (t, yi_id) = signed_in(&app, YI).await;
        for path in ["/api/v1/bills", "/api/v1/applications", "/api/v1/cases", "/api/v1/vehicle-moves"] {
            let res = get(&app, &t, &format!("{path}?limit=1")).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let page: Value = res.json().await.unwrap();
            assert!(page["items"].is_array(), "{path}: {page}");
            assert!(page.get("next_cursor").is_some(), "{path}: {page}");
            let res = get(&app, &t, &format!("{path}?limit=101")).await;
            expect_problem(res, StatusCode::BAD_REQUEST, "invalid_page").await;
        }
        // 乙 holds every demo bill (as after scanning them): one a page, each once.
        let db = app.db().await;
        let bills: Vec<(String,)> = sqlx::query_as("SELECT id FROM bills").fetch_all(&db).await.unwrap();
        for (bill_id,) in &bills {
            sqlx::query("INSERT INTO bill_holders (user_id, bill_id, created_at) VALUES ($1, $2, 0)")
                .bind(&yi_id)
                .bind(bill_id)
                .execute(&db)
                .await
                .unwrap();
        }
        db.close().await;
        assert!(bills.len() >= 3);
        let pages = walk(&app, &t, "/api/v1/bills", 1).await;
        assert!(pages.iter().all(|p| p.len() == 1), "{pages:?}");
        let mut walked = pages.concat();
        walked.sort();
        let mut want: Vec<String> = bills.into_iter().map(|b| b.0).collect();
        want.sort();
        assert_eq!(walked, want);
        // The stations (public): three demo stations, two a page.
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let url = next.as_ref().map_or("/api/v1/pickup-stations?limit=2".to_owned(), |c| {
                format!("/api/v1/pickup-stations?limit=2&cursor={c}")
            });
            let page: Value = app.get(&url).await.json().await.unwrap();
            ids.extend(page["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(c) => next = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(ids, ["st-luyang", "st-shanqu", "st-shushan"]);
    }
);

api_test!(
    async fn the_clerks_queue_is_paged_oldest_first(backend) {
        let app = spawn_app(backend).await;
        let (_, uid) = signed_in(&app, BING).await;
        let db = app.db().await;
        let mut want = Vec::new();
        for i in 0..25 {
            let id = format!("app-{i:03}");
            // Two to a `created_at`: the id breaks the tie.
            let at = 1_700_000_000_000_i64 + (i / 2) * 1000;
            sqlx::query(
                "INSERT INTO applications (id, user_id, person_id, item, card_kind, status, province_code, delivery,
                   photo_source, fee_fen, created_at, updated_at)
                 VALUES ($1, $2, $3, 'id_card_replacement', 'resident', 'completed', 34, 'pickup', 'station', 0, $4, $4)",
            )
            .bind(&id)
            .bind(&uid)
            .bind(PERSON)
            .bind(at)
            .execute(&db)
            .await
            .unwrap();
            want.push(id);
        }
        db.close().await;
        let clerk = app.staff_token("JT0099", Role::Clerk).await;
        let pages = walk(&app, &clerk, "/api/v1/staff/applications?status=completed", 10).await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        assert_eq!(pages.concat(), want);
        let res = get(&app, &clerk, "/api/v1/staff/applications?status=completed&limit=101").await;
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_page").await;
        // The traffic duty queue takes the same query.
        let traffic = app.staff_token("JT2099", Role::Traffic).await;
        let res = get(&app, &traffic, "/api/v1/staff/vehicle-moves?limit=5").await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.unwrap();
        assert!(page["items"].is_array() && page["next_cursor"].is_null(), "{page}");
        let res = get(&app, &traffic, "/api/v1/staff/vehicle-moves?limit=0").await;
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_page").await;
    }
);
