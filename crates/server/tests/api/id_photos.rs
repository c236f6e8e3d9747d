//! The server decides on every uploaded ID photo (issue 23): GA 461 again, then the applicant's own
//! face against the registry photo, before any fee. And the temporary card's rules.

use image::{DynamicImage, GenericImageView, Rgb};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::applications::{apply, clerk, pay, replacement_by_post, staff_move, verified, APPLICANT};
use crate::helpers::{expect_problem, spawn_app_config, Backend, TestApp};
use crate::photos::{base64, faceless_jpeg, ga461, ga461_refused_on_device, STRANGER, YI_OWN, YI_SMILING};

async fn app(backend: Backend) -> TestApp {
    spawn_app_config(backend, |c| c.run_jobs = false).await
}

fn with_photo(jpeg: &[u8]) -> Value {
    let mut body = replacement_by_post();
    body["photo"]["jpeg_base64"] = json!(base64(jpeg));
    body
}

fn jpeg(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn get(app: &TestApp, t: &str, path: &str) -> Value {
    let res = app.client.get(format!("{}{path}", app.url)).bearer_auth(t).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

async fn nothing_created(app: &TestApp, t: &str) {
    let list = get(app, t, "/api/v1/applications").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    let pool = app.db().await;
    let (bills,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) AS n FROM bills WHERE kind = 'id_card_fee'").fetch_one(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(bills, 0, "no fee bill for a refused photo");
}

/// The clerk's view of the newest application in a status.
async fn staff_row(app: &TestApp, status: &str) -> Value {
    let c = clerk(app).await;
    let page = get(app, &c, &format!("/api/v1/staff/applications?status={status}")).await;
    page["items"].as_array().unwrap().last().cloned().expect("an application in the queue")
}

api_test!(
    async fn the_applicants_own_photo_is_accepted_and_another_persons_is_refused_before_any_fee(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;

        let p = expect_problem(
            apply(&app, &t, "stranger", &with_photo(&ga461(STRANGER))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "id_photo_other_person",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "photo", "{p}");
        assert!(p.to_string().contains("本人"), "the resident is told to use their own photo: {p}");
        nothing_created(&app, &t).await;

        let res = apply(&app, &t, "own", &with_photo(&ga461(YI_OWN))).await;
        let status = res.status();
        assert_eq!(status, StatusCode::CREATED, "{}", res.text().await.unwrap());
        let row = staff_row(&app, "awaiting_payment").await;
        assert_eq!(row["photo_review"], false, "{row}");
        assert!(row["photo_match"].as_f64().unwrap() >= 0.5, "{row}");
    }
);

api_test!(
    async fn the_server_rechecks_ga_461_on_every_upload(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let own = ga461(YI_OWN);
        let upright = image::load_from_memory(&own).unwrap();

        // The right size, no face.
        expect_problem(apply(&app, &t, "k1", &with_photo(&faceless_jpeg())).await, StatusCode::UNPROCESSABLE_ENTITY, "id_photo_no_face").await;
        // The right size in its header, then cut short: it does not decode.
        let cut = &own[..own.len() / 2];
        expect_problem(apply(&app, &t, "k2", &with_photo(cut)).await, StatusCode::BAD_REQUEST, "photo_unreadable").await;
        // The face enlarged past the standard's width (a closer crop scaled back to 358×441).
        let zoomed = upright.crop_imm(30, 40, 298, 367).resize_exact(358, 441, image::imageops::FilterType::Lanczos3);
        expect_problem(apply(&app, &t, "k3", &with_photo(&jpeg(&zoomed))).await, StatusCode::UNPROCESSABLE_ENTITY, "id_photo_geometry").await;
        // A busy background beside the head.
        let mut busy = upright.to_rgb8();
        for (x, y, p) in busy.enumerate_pixels_mut() {
            if !(50..=308).contains(&x) && y < 250 && (x / 6 + y / 6) % 2 == 0 {
                *p = Rgb([30, 60, 20]);
            }
        }
        expect_problem(
            apply(&app, &t, "k4", &with_photo(&jpeg(&DynamicImage::ImageRgb8(busy)))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "id_photo_background",
        )
        .await;
        // A smile with teeth, sent although the app's own check refused it.
        let smiling = ga461_refused_on_device(YI_SMILING);
        expect_problem(apply(&app, &t, "k5", &with_photo(&smiling)).await, StatusCode::UNPROCESSABLE_ENTITY, "id_photo_expression").await;
        assert_eq!(upright.dimensions(), (358, 441));
        nothing_created(&app, &t).await;
    }
);

api_test!(
    async fn without_a_registry_photo_to_compare_a_clerk_compares(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let pool = app.db().await;
        sqlx::query("UPDATE registry_persons SET photo_ref = NULL, photo_sha256 = NULL WHERE photo_ref LIKE '%.enc'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let res = apply(&app, &t, "own", &with_photo(&ga461(YI_OWN))).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: Value = res.json().await.unwrap();
        let row = staff_row(&app, "awaiting_payment").await;
        assert_eq!(row["photo_review"], true, "{row}");
        assert!(row["photo_match"].is_null(), "{row}");

        // The clerk accepts only after saying the photos were compared.
        pay(&app, &t, created["bill_id"].as_str().unwrap()).await;
        let c = clerk(&app).await;
        let id = created["id"].as_str().unwrap();
        expect_problem(staff_move(&app, &c, id, json!({ "action": "accept" })).await, StatusCode::CONFLICT, "photo_review_required").await;
        let ok = staff_move(&app, &c, id, json!({ "action": "accept", "photo_compared": true })).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let view = get(&app, &t, &format!("/api/v1/applications/{id}")).await;
        assert_eq!(view["status"], "accepted", "{view}");
        assert!(view.to_string().contains("证件照已人工比对"), "{view}");
    }
);

api_test!(
    async fn a_temporary_card_needs_a_resident_card_in_progress_and_is_valid_three_months(backend) {
        let app = app(backend).await;
        let t = verified(&app, APPLICANT).await;
        let temp = json!({ "item": "temporary_id_card", "photo": { "kind": "on_site" },
                           "delivery": { "kind": "pickup", "station_id": "st-luyang" } });
        let p = expect_problem(apply(&app, &t, "t1", &temp).await, StatusCode::CONFLICT, "temporary_card_no_pending_application").await;
        assert!(p.to_string().contains("临时居民身份证"), "{p}");

        assert_eq!(apply(&app, &t, "card", &with_photo(&ga461(YI_OWN))).await.status(), StatusCode::CREATED);
        let res = apply(&app, &t, "t2", &temp).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["validity"], json!({ "months": 3 }), "not long-term: {created}");
        assert!(created["valid_until"].is_null(), "no end date before it is issued");

        let id = created["id"].as_str().unwrap();
        pay(&app, &t, created["bill_id"].as_str().unwrap()).await;
        let c = clerk(&app).await;
        for action in ["accept", "start_production", "mark_ready"] {
            assert_eq!(staff_move(&app, &c, id, json!({ "action": action })).await.status(), StatusCode::OK, "{action}");
        }
        let view = get(&app, &t, &format!("/api/v1/applications/{id}")).await;
        let today = jingtong_server::clock::shanghai_day(app.state().now_ms());
        let until = jingtong_rules::add_months(today, 3).to_string();
        assert_eq!(view["valid_until"], until.as_str(), "{view}");
    }
);
