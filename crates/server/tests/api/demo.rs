use crate::helpers::spawn_app;

async fn counts(app: &crate::helpers::TestApp) -> Vec<i64> {
    let pool = app.db().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) AS n FROM registry_persons",
        "SELECT COUNT(*) AS n FROM registry_vehicles",
        "SELECT COUNT(*) AS n FROM bills",
        "SELECT COUNT(*) AS n FROM cases",
    ] {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
        out.push(n);
    }
    pool.close().await;
    out
}

async fn photo_refs(app: &crate::helpers::TestApp) -> Vec<(String, Option<String>, Option<String>)> {
    let pool = app.db().await;
    let rows = sqlx::query_as("SELECT id, photo_ref, photo_sha256 FROM registry_persons ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

/// Row counts the fixture file itself describes.
fn expected() -> Vec<i64> {
    let file: serde_json::Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    let residents = file["residents"].as_array().unwrap();
    let sum = |key: &str| residents.iter().map(|r| r[key].as_array().unwrap().len() as i64).sum::<i64>();
    vec![residents.len() as i64, sum("vehicles"), sum("bills"), sum("cases")]
}

api_test!(
    async fn demo_data_loads_once(backend) {
        let mut app = spawn_app(backend).await;
        let first = counts(&app).await;
        assert_eq!(first, expected());
        let photos = photo_refs(&app).await;
        app.restart().await;
        assert_eq!(counts(&app).await, first);
        // Registry photos (present when the face assets are fetched) are stored once and kept.
        assert_eq!(photo_refs(&app).await, photos);
        assert_eq!(app.get("/api/v1/health").await.status(), reqwest::StatusCode::OK);
    }
);
