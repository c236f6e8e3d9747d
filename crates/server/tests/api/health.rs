use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_problem, spawn_app, Backend};

api_test!(
    async fn health_names_the_database(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/api/v1/health").await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], if backend == Backend::Sqlite { "sqlite" } else { "postgres" });
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
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
