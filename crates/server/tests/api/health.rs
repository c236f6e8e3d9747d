use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_app};

api_test!(
    async fn the_health_check_says_only_that_it_is_up(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/api/v1/health").await;
        assert_eq!(res.status(), StatusCode::OK);
        // Public: no database kind, no version, nothing about the server beyond "up".
        assert_eq!(res.json::<Value>().await.unwrap(), json!({ "status": "ok" }));
    }
);

api_test!(
    async fn unknown_paths_and_methods_are_problems(backend) {
        let app = spawn_app(backend).await;
        expect_problem(app.get("/api/v1/nothing-here").await, StatusCode::NOT_FOUND, "not_found").await;
        let res = app.client.put(format!("{}/api/v1/health", app.url)).send().await.unwrap();
        expect_problem(res, StatusCode::METHOD_NOT_ALLOWED, "invalid_request").await;
    }
);
