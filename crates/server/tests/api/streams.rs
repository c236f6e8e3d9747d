//! A session that ends, ends everywhere (issue 22, item 4): an open event stream closes within a
//! second of sign-out, of its refresh family being revoked, and of its access token expiring, also
//! when another server process holds it; open streams are limited per session and per account.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{expect_problem, spawn_app, TestApp};

const JIA: &str = "19900000001";

async fn open(app: &TestApp, access: &str) -> Response {
    let res = app.client.get(format!("{}/api/v1/events", app.url)).bearer_auth(access).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res
}

/// Whether the stream's body ends within `wait` (keep-alives and events are read past); the stream
/// stays open for the caller otherwise.
async fn ends_within(stream: &mut Response, wait: Duration) -> bool {
    tokio::time::timeout(wait, async { while let Ok(Some(_)) = stream.chunk().await {} }).await.is_ok()
}

fn access(pair: &Value) -> String {
    pair["access_token"].as_str().unwrap().to_owned()
}

const SECOND: Duration = Duration::from_secs(1);

api_test!(
    async fn an_open_stream_ends_within_a_second_of_sign_out(backend) {
        let app = spawn_app(backend).await;
        let t = access(&app.sign_in(JIA).await);
        let other = access(&app.sign_in("19900000002").await);
        let mut mine = open(&app, &t).await;
        let mut theirs = open(&app, &other).await;
        let out = app.client.delete(format!("{}/api/v1/auth/sessions/current", app.url)).bearer_auth(&t).send().await.unwrap();
        assert_eq!(out.status(), StatusCode::NO_CONTENT);
        assert!(ends_within(&mut mine, SECOND).await, "the signed-out session's stream still streams");
        // Another account's stream is not touched.
        assert!(!ends_within(&mut theirs, SECOND).await, "another session's stream ended");
        let res = app.client.get(format!("{}/api/v1/events", app.url)).bearer_auth(&t).send().await.unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

api_test!(
    async fn a_reused_refresh_token_ends_the_sessions_open_stream_within_a_second(backend) {
        let app = spawn_app(backend).await;
        let first = app.sign_in(JIA).await;
        let res = app.refresh(first["refresh_token"].as_str().unwrap()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let second: Value = res.json().await.unwrap();
        let mut stream = open(&app, &access(&second)).await;
        // The replaced refresh token again: a copy is in someone else's hands, the family is revoked.
        let reused = app.refresh(first["refresh_token"].as_str().unwrap()).await;
        expect_problem(reused, StatusCode::UNAUTHORIZED, "refresh_token_invalid").await;
        assert!(ends_within(&mut stream, SECOND).await, "the revoked session's stream still streams");
    }
);

api_test!(
    async fn an_open_stream_ends_within_a_second_of_its_access_token_expiring(backend) {
        let app = spawn_app(backend).await;
        let pair = app.sign_in(JIA).await;
        let mut stream = open(&app, &access(&pair)).await;
        let mut early = open(&app, &access(&pair)).await;
        app.advance(14 * 60);
        assert!(!ends_within(&mut early, SECOND).await, "ended before the token expired");
        app.advance(61);
        assert!(ends_within(&mut stream, SECOND).await, "the stream outlived its access token");
        // The app reconnects with a refreshed token.
        let fresh: Value = app.refresh(pair["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
        assert!(!ends_within(&mut open(&app, &access(&fresh)).await, SECOND).await);
    }
);

api_test!(
    async fn twenty_parallel_opens_leave_three_streams_per_session_and_ten_per_account(backend) {
        let app = spawn_app(backend).await;
        let mut sessions = Vec::new();
        for _ in 0..5 {
            sessions.push(access(&app.sign_in(JIA).await));
            app.advance(61); // the resend interval between sign-in codes
        }
        let opens = (0..20).map(|i| open(&app, &sessions[i % 5]));
        let mut streams = join_all(opens).await;
        // The newest streams stay; the oldest are closed to make room.
        let ended = join_all(streams.iter_mut().map(|s| ends_within(s, Duration::from_millis(1500)))).await;
        assert_eq!(ended.iter().filter(|e| !**e).count(), 10, "{ended:?}");
        let pool = app.db().await;
        let counts = || async {
            let rows: Vec<(i64,)> = sqlx::query_as("SELECT COUNT(*) FROM event_streams GROUP BY session_id")
                .fetch_all(&pool)
                .await
                .unwrap();
            rows.into_iter().map(|(n,)| n).collect::<Vec<_>>()
        };
        let per_session = counts().await;
        assert!(per_session.iter().all(|n| *n <= 3), "{per_session:?}");
        assert_eq!(per_session.iter().sum::<i64>(), 10, "{per_session:?}");
        // A stream the app closes gives its place back.
        drop(streams);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !counts().await.is_empty() {
            assert!(std::time::Instant::now() < deadline, "closed streams still hold their places");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
);
