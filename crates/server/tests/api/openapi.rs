use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

const TAGS: [&str; 7] = ["auth", "identity", "applications", "vehicle-moves", "payments", "cases", "staff"];

api_test!(
    async fn openapi_is_3_1_and_every_operation_has_an_id_and_one_tag(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/api/v1/openapi.json").await;
        assert_eq!(res.status(), StatusCode::OK);
        let spec: Value = res.json().await.unwrap();
        assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"), "{}", spec["openapi"]);

        let declared: Vec<&str> = spec["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(declared, TAGS);

        let mut ids = HashSet::new();
        let mut count = 0;
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(&method.as_str()) {
                    continue;
                }
                count += 1;
                let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
                let tags = op["tags"].as_array().unwrap_or_else(|| panic!("{method} {path} has no tags"));
                assert_eq!(tags.len(), 1, "{method} {path}");
                assert!(TAGS.contains(&tags[0].as_str().unwrap()), "{method} {path}: {}", tags[0]);
            }
        }
        for path in [
            "/api/v1/auth/sms-codes",
            "/api/v1/auth/sessions",
            "/api/v1/auth/refresh",
            "/api/v1/auth/sessions/current",
            "/api/v1/me",
            "/api/v1/health",
            "/api/v1/dev/sms-outbox",
            "/api/v1/identity/face-challenges",
            "/api/v1/identity/face-challenges/{challenge_id}/frames",
            "/api/v1/bills/scan",
            "/api/v1/bills",
            "/api/v1/bills/{bill_id}",
            "/api/v1/bills/{bill_id}/payment-orders",
            "/api/v1/payment-orders/{order_id}",
            "/api/v1/receipts/{receipt_number}",
            "/api/v1/payments/notify",
            "/api/v1/dev/bill-codes",
            "/api/v1/dev/provider/pay/{prepay_id}",
            "/api/v1/dev/provider/pay/{prepay_id}/confirm",
            "/api/v1/pickup-stations",
            "/api/v1/applications",
            "/api/v1/applications/{application_id}",
            "/api/v1/applications/{application_id}/withdraw",
            "/api/v1/staff/sessions",
            "/api/v1/staff/applications",
            "/api/v1/staff/applications/{application_id}/transitions",
            "/api/v1/cases",
            "/api/v1/cases/{case_id}",
            "/api/v1/case-lookups",
            "/api/v1/case-lookups/{lookup_id}/verify",
            "/api/v1/events",
            "/api/v1/staff/cases",
            "/api/v1/staff/cases/{case_id}/events",
            "/api/v1/vehicle-moves",
            "/api/v1/vehicle-moves/{move_id}",
            "/api/v1/vehicle-moves/{move_id}/remind",
            "/api/v1/vehicle-moves/{move_id}/resolve",
            "/api/v1/vehicle-moves/{move_id}/answer",
            "/api/v1/vehicle-moves/{move_id}/messages",
            "/api/v1/vehicle-moves/{move_id}/report",
            "/api/v1/vehicle-move-links/{token}",
            "/api/v1/vehicle-move-links/{token}/answer",
            "/api/v1/staff/vehicle-moves",
            "/api/v1/staff/vehicle-moves/{move_id}/actions",
        ] {
            assert!(spec["paths"].get(path).is_some(), "{path} missing");
        }
        assert_eq!(count, 46);
        assert!(spec["components"]["schemas"].get("Problem").is_some());
        assert!(spec["components"]["securitySchemes"].get("bearer").is_some());
    }
);

api_test!(
    async fn every_list_takes_cursor_and_limit_and_answers_a_page(backend) {
        let app = spawn_app(backend).await;
        let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
        for path in [
            "/api/v1/bills",
            "/api/v1/applications",
            "/api/v1/pickup-stations",
            "/api/v1/cases",
            "/api/v1/vehicle-moves",
            "/api/v1/staff/applications",
            "/api/v1/staff/vehicle-moves",
        ] {
            let op = &spec["paths"][path]["get"];
            let params: Vec<&str> =
                op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
            assert!(params.contains(&"cursor") && params.contains(&"limit"), "{path}: {params:?}");
            let mut schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
            if let Some(name) = schema["$ref"].as_str() {
                schema = &spec["components"]["schemas"][name.rsplit('/').next().unwrap()];
            }
            let props = &schema["properties"];
            assert!(props.get("items").is_some() && props.get("next_cursor").is_some(), "{path}: {schema}");
            assert!(op["responses"].get("400").is_some(), "{path}: invalid_page is documented");
        }
    }
);
