//! Face verification end to end, with the real engine and the real test photos from the face asset
//! folder (`scripts/fetch-face-assets`). Challenges ask for "look down" then "turn left" (a test-only
//! fixed challenge), answered with frames of the FG-net talking-face video. (With the face crate's
//! current pose estimates the look-up and turn-right frames are not confirmed, so they are not used.)

use jingtong_face::PoseAction;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_problem, file_contains, spawn_app_config, Backend, TestApp};

/// Demo resident 甲: registry photo is a franck frontal frame (frame 600), not one of the live frames.
fn franck() -> Resident {
    demo_resident("19900000001")
}
/// Demo resident 乙: registry photo is obama.jpg.
fn obama() -> Resident {
    demo_resident("19900000002")
}

/// (phone, name, ID number) of a generated, fictional demo resident, read from the demo file so no
/// ID number is written out in the tests.
type Resident = (&'static str, &'static str, &'static str);

fn demo_resident(phone: &str) -> Resident {
    static DEMO: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../../fixtures/demo.json")).expect("demo.json parses")
    });
    let r = DEMO["residents"].as_array().unwrap().iter().find(|r| r["phone"] == phone).expect("demo resident");
    (r["phone"].as_str().unwrap(), r["name"].as_str().unwrap(), r["id_number"].as_str().unwrap())
}

/// The resident's ID number with its check character changed: well-formed but invalid.
fn wrong_check_digit(id: &str) -> String {
    let last = if id.ends_with('9') { '8' } else { '9' };
    format!("{}{last}", &id[..17])
}

const FRONTAL: &str = "franck_0000_frontal.png";
const REGISTRY_PHOTO: &str = "franck_0600_frontal.png";
const LEFT: &str = "franck_1088_turn_left.png";
const DOWN: &str = "franck_3838_look_down.png";
const RIGHT: &str = "franck_3848_turn_right.png";
const GROUP: &str = "solvay_group.png";
const CAT: &str = "chelsea.png";

fn testdata(name: &str) -> Vec<u8> {
    let path = jingtong_face::asset_dir().join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run scripts/fetch-face-assets", path.display()))
}

async fn face_app(backend: Backend) -> TestApp {
    let models = jingtong_face::asset_dir().join("models");
    assert!(models.is_dir(), "{} is missing: run scripts/fetch-face-assets", models.display());
    spawn_app_config(backend, |c| c.fixed_face_actions = Some(vec![PoseAction::LookDown, PoseAction::TurnLeft])).await
}

async fn token(app: &TestApp, phone: &str) -> String {
    app.sign_in(phone).await["access_token"].as_str().unwrap().to_owned()
}

async fn challenge(app: &TestApp, token: &str, name: &str, id_number: &str) -> Response {
    app.client
        .post(format!("{}/api/v1/identity/face-challenges", app.url))
        .bearer_auth(token)
        .json(&json!({ "name": name, "id_number": id_number }))
        .send()
        .await
        .unwrap()
}

async fn new_challenge(app: &TestApp, token: &str, who: (&str, &str, &str)) -> Value {
    let res = challenge(app, token, who.1, who.2).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn submit(app: &TestApp, token: &str, ch: &Value, frames: [&str; 3], key: &str) -> Response {
    submit_bytes(app, token, ch, frames.map(testdata), key).await
}

async fn submit_bytes(app: &TestApp, token: &str, ch: &Value, frames: [Vec<u8>; 3], key: &str) -> Response {
    let mut form = Form::new().text("nonce", ch["nonce"].as_str().unwrap().to_owned());
    for (i, bytes) in frames.into_iter().enumerate() {
        form = form.part(format!("frame{i}"), Part::bytes(bytes).file_name(format!("frame{i}.png")));
    }
    app.client
        .post(format!("{}/api/v1/identity/face-challenges/{}/frames", app.url, ch["challenge_id"].as_str().unwrap()))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn decision(res: Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The newest decision's recorded scores, for failure messages.
async fn last_scores(app: &TestApp) -> String {
    let pool = app.db().await;
    let row: Option<(String,)> =
        sqlx::query_as("SELECT scores FROM face_decisions ORDER BY created_at DESC, id DESC LIMIT 1")
            .fetch_optional(&pool)
            .await
            .unwrap();
    pool.close().await;
    row.map(|r| r.0).unwrap_or_default()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let pool = app.db().await;
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

api_test!(
    async fn matching_frames_verify_and_retries_are_idempotent(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let ch = new_challenge(&app, &t, franck()).await;
        assert_eq!(ch["actions"], json!(["look_down", "turn_left"]));
        assert_eq!(ch["frames_required"], 3);
        assert!(ch["expires_at"].as_str().unwrap().ends_with('Z'));

        let started = std::time::Instant::now();
        let d = decision(submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "key-1").await).await;
        eprintln!("one verified attempt, upload to decision: {:?}", started.elapsed());
        assert_eq!(d["outcome"], "verified", "{d} {}", last_scores(&app).await);
        assert_eq!(d["reason"], Value::Null);
        assert_eq!(d["next_step"], "done");
        assert_eq!(d["attempts_left"], 4);
        let me: Value = app.me(&t).await.json().await.unwrap();
        assert_eq!(me["verification_level"], "real_name");
        // One verified account per person: another account cannot claim this identity.
        let other = token(&app, obama().0).await;
        expect_problem(challenge(&app, &other, franck().1, franck().2).await, StatusCode::CONFLICT, "identity_bound_elsewhere").await;

        // A retry with the same key and body gets the first decision; nothing is decided twice.
        let again = decision(submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "key-1").await).await;
        assert_eq!(again, d);
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM face_decisions").await, 1);
        let res = submit(&app, &t, &ch, [FRONTAL, LEFT, DOWN], "key-1").await;
        expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;

        // Kept: the decision, scores and frame hashes. Not kept: any frame.
        let pool = app.db().await;
        let (outcome, scores, hashes): (String, String, String) =
            sqlx::query_as("SELECT outcome, scores, frame_hashes FROM face_decisions").fetch_one(&pool).await.unwrap();
        pool.close().await;
        assert_eq!(outcome, "verified");
        let scores: Value = serde_json::from_str(&scores).unwrap();
        assert!(scores["registry_best"].as_f64().unwrap() > 0.363, "{scores}");
        let hashes: Vec<String> = serde_json::from_str(&hashes).unwrap();
        assert_eq!(hashes.len(), 3);
        let blobs: Vec<_> = walk(&app.data_dir.path().join("blobs"));
        assert!(blobs.iter().all(|p| p.contains("registry")), "{blobs:?}");
        // Registry photos are face data: encrypted at rest, no picture readable on disk.
        let photo = testdata(REGISTRY_PHOTO);
        for path in &blobs {
            let stored = std::fs::read(path).unwrap();
            let picture = stored.starts_with(&[0x89, b'P', b'N', b'G']) || stored.starts_with(&[0xFF, 0xD8]);
            assert!(!picture && !stored.windows(64).any(|w| w == &photo[64..128]), "{path} holds a readable photo");
        }
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'face_verified'").await, 1);
        if backend == Backend::Sqlite {
            let db = app.sqlite_path();
            let wal = db.with_extension("sqlite3-wal");
            for needle in [franck().1, franck().2] {
                assert!(!file_contains(&db, needle.as_bytes()) && !file_contains(&wal, needle.as_bytes()), "{needle}");
            }
        }
    }
);

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

api_test!(
    async fn another_persons_registry_photo_is_a_mismatch(backend) {
        let app = face_app(backend).await;
        let t = token(&app, obama().0).await;
        let ch = new_challenge(&app, &t, obama()).await;
        let d = decision(submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "k").await).await;
        assert_eq!(d["outcome"], "rejected");
        assert_eq!(d["reason"], "face_mismatch", "{d} {}", last_scores(&app).await);
        assert_eq!(d["next_step"], "retry");
        let me: Value = app.me(&t).await.json().await.unwrap();
        assert_eq!(me["verification_level"], "none");
    }
);

api_test!(
    async fn another_person_mid_sequence_is_a_mismatch(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let ch = new_challenge(&app, &t, franck()).await;
        // The last frame is another man (cap12 video), his head turned enough to pass as "turn left".
        let d = decision(submit(&app, &t, &ch, [FRONTAL, DOWN, "cap12_0820_closer.png"], "k").await).await;
        assert_eq!(d["reason"], "face_mismatch", "{d} {}", last_scores(&app).await);
    }
);

api_test!(
    async fn the_registry_photo_itself_is_refused_as_a_replay(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let ch = new_challenge(&app, &t, franck()).await;
        let d = decision(submit(&app, &t, &ch, [REGISTRY_PHOTO, DOWN, LEFT], "k").await).await;
        assert_eq!(d["outcome"], "rejected", "{d}");
        assert_eq!(d["reason"], "face_replay", "{d} {}", last_scores(&app).await);
    }
);

api_test!(
    async fn bad_frames_are_rejected_bad_files_cost_nothing_and_the_sixth_attempt_is_refused(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let mut left = 5;
        for (frames, reason, counts) in [
            ([GROUP, DOWN, LEFT], "face_several", true),
            ([CAT, DOWN, LEFT], "face_none", false),
            ([FRONTAL, LEFT, DOWN], "face_wrong_pose", true),
            ([FRONTAL, DOWN, DOWN], "face_replay", true),
        ] {
            let ch = new_challenge(&app, &t, franck()).await;
            let d = decision(submit(&app, &t, &ch, frames, reason).await).await;
            assert_eq!(d["outcome"], "rejected", "{frames:?}");
            assert_eq!(d["reason"], reason, "{d} {}", last_scores(&app).await);
            assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()));
            left -= i64::from(counts);
            assert_eq!(d["attempts_left"], left, "{reason}: a file without a usable face costs no attempt");
        }
        // A file that is not a picture at all is given back too.
        let ch = new_challenge(&app, &t, franck()).await;
        let junk = [testdata(FRONTAL), b"not a picture".to_vec(), testdata(LEFT)];
        let d = decision(submit_bytes(&app, &t, &ch, junk, "junk").await).await;
        assert_eq!(d["reason"], "face_frame_invalid", "{d}");
        assert_eq!(d["attempts_left"], left);
        for _ in 0..left {
            new_challenge(&app, &t, franck()).await;
        }
        let res = challenge(&app, &t, franck().1, franck().2).await;
        let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=86_400).contains(&retry_after), "{retry_after}");
        expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "face_attempts_exhausted").await;
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM face_decisions WHERE outcome = 'rejected'").await, 5);
        // The next Shanghai day has 5 new attempts.
        app.advance(retry_after);
        let t = token(&app, franck().0).await;
        new_challenge(&app, &t, franck()).await;
    }
);

/// A frame as an attacker would rework a still: `f` applied to the decoded picture, saved as PNG.
fn reworked(name: &str, f: impl Fn(image::DynamicImage) -> image::DynamicImage) -> Vec<u8> {
    let img = f(image::load_from_memory(&testdata(name)).unwrap());
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg_q70(name: &str) -> Vec<u8> {
    let img = image::load_from_memory(&testdata(name)).unwrap().to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70).encode_image(&img).unwrap();
    out
}

async fn app_asking(backend: Backend, actions: Vec<PoseAction>) -> TestApp {
    spawn_app_config(backend, move |c| c.fixed_face_actions = Some(actions)).await
}

api_test!(
    async fn crops_scales_re_encodes_and_mirrors_of_one_still_are_refused(backend) {
        // "Look down" twice: one still of a nod, cropped and scaled, or re-encoded, would answer both.
        let app = app_asking(backend, vec![PoseAction::LookDown, PoseAction::LookDown]).await;
        let t = token(&app, franck().0).await;
        let cropped = reworked(DOWN, |i| {
            let (w, h) = (i.width(), i.height());
            i.crop_imm(w / 12, h / 12, w - w / 6, h - h / 6).resize(w, h, image::imageops::FilterType::Lanczos3)
        });
        for (name, copy) in [("crop and scale", cropped), ("re-encode", jpeg_q70(DOWN))] {
            let ch = new_challenge(&app, &t, franck()).await;
            let d = decision(submit_bytes(&app, &t, &ch, [testdata(FRONTAL), testdata(DOWN), copy], name).await).await;
            assert_eq!(d["reason"], "face_frames_alike", "{name}: {d} {}", last_scores(&app).await);
            assert_eq!(d["next_step"], "retry");
        }

        // "Turn left" then "turn right": the mirror image of a left turn shows a right turn.
        let app = app_asking(backend, vec![PoseAction::TurnLeft, PoseAction::TurnRight]).await;
        let t = token(&app, franck().0).await;
        let ch = new_challenge(&app, &t, franck()).await;
        let mirrored = reworked(LEFT, |i| i.fliph());
        let d = decision(submit_bytes(&app, &t, &ch, [testdata(FRONTAL), testdata(LEFT), mirrored], "m").await).await;
        assert_eq!(d["reason"], "face_frames_alike", "{d} {}", last_scores(&app).await);
        let me: Value = app.me(&t).await.json().await.unwrap();
        assert_eq!(me["verification_level"], "none");
    }
);

api_test!(
    async fn the_first_frame_must_face_the_camera(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let ch = new_challenge(&app, &t, franck()).await;
        let d = decision(submit(&app, &t, &ch, [RIGHT, DOWN, LEFT], "k").await).await;
        assert_eq!(d["reason"], "face_not_frontal", "{d} {}", last_scores(&app).await);
    }
);

api_test!(
    async fn challenges_expire_are_single_use_and_private(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;

        let ch = new_challenge(&app, &t, franck()).await;
        app.advance(121);
        let res = submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "a").await;
        expect_problem(res, StatusCode::GONE, "face_challenge_expired").await;

        let ch = new_challenge(&app, &t, franck()).await;
        // The Idempotency-Key header is required.
        let form = Form::new().text("nonce", ch["nonce"].as_str().unwrap().to_owned());
        let res = app
            .client
            .post(format!("{}/api/v1/identity/face-challenges/{}/frames", app.url, ch["challenge_id"].as_str().unwrap()))
            .bearer_auth(&t)
            .multipart(form)
            .send()
            .await
            .unwrap();
        expect_problem(res, StatusCode::BAD_REQUEST, "invalid_request").await;
        let mut wrong = ch.clone();
        wrong["nonce"] = json!("not-the-nonce");
        expect_problem(submit(&app, &t, &wrong, [CAT, DOWN, LEFT], "b").await, StatusCode::BAD_REQUEST, "face_nonce_invalid")
            .await;
        decision(submit(&app, &t, &ch, [CAT, DOWN, LEFT], "c").await).await;
        let res = submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "d").await;
        expect_problem(res, StatusCode::CONFLICT, "face_challenge_used").await;

        // Someone else's challenge does not exist for this caller.
        let ch = new_challenge(&app, &t, franck()).await;
        let other = token(&app, obama().0).await;
        let res = submit(&app, &other, &ch, [FRONTAL, DOWN, LEFT], "e").await;
        expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
);

api_test!(
    async fn challenge_needs_a_known_identity(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        // Wrong name for a real number, and an unknown (valid) number: the same answer.
        expect_problem(challenge(&app, &t, "演示用户乙", franck().2).await, StatusCode::NOT_FOUND, "identity_not_found").await;
        let unknown = jingtong_api::IdNumber::from_first17("34160219900101123").unwrap();
        let res = challenge(&app, &t, franck().1, unknown.as_str()).await;
        expect_problem(res, StatusCode::NOT_FOUND, "identity_not_found").await;

        let body = expect_problem(challenge(&app, &t, franck().1, &wrong_check_digit(franck().2)).await, StatusCode::BAD_REQUEST, "id_number_invalid").await;
        assert_eq!(body["errors"][0]["field"], "id_number", "{body}");
        let body = expect_problem(challenge(&app, &t, "甲", franck().2).await, StatusCode::BAD_REQUEST, "name_invalid").await;
        assert_eq!(body["errors"][0]["field"], "name", "{body}");

        // Resident 丙 has no registry photo.
        let res = challenge(&app, &t, "演示用户丙", &demo_id_number(2)).await;
        expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "face_registry_photo_missing").await;
        let res = app.client.post(format!("{}/api/v1/identity/face-challenges", app.url))
            .json(&json!({ "name": franck().1, "id_number": franck().2 })).send().await.unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
);

fn demo_id_number(index: usize) -> String {
    let file: Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
    file["residents"][index]["id_number"].as_str().unwrap().to_owned()
}

api_test!(
    async fn without_models_identity_is_unavailable(backend) {
        let empty = tempfile::tempdir().unwrap();
        let app = spawn_app_config(backend, |c| c.face_dir = Some(empty.path().to_owned())).await;
        let t = token(&app, franck().0).await;
        let res = challenge(&app, &t, franck().1, franck().2).await;
        expect_problem(res, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
        // Demo data still loads; the residents just have no registry photo.
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM registry_persons WHERE photo_ref IS NOT NULL").await, 0);
    }
);

api_test!(
    async fn a_retry_during_the_decision_gets_the_same_answer(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let ch = new_challenge(&app, &t, franck()).await;
        let (a, b) = tokio::join!(
            submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "same"),
            submit(&app, &t, &ch, [FRONTAL, DOWN, LEFT], "same")
        );
        let (a, b) = (decision(a).await, decision(b).await);
        assert_eq!(a, b);
        assert_eq!(a["outcome"], "verified", "{a}");
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM face_decisions").await, 1);
    }
);

api_test!(
    async fn parallel_requests_cannot_share_the_last_attempt(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let tries = (0..12).map(|_| challenge(&app, &t, franck().1, franck().2));
        let statuses: Vec<StatusCode> = futures::future::join_all(tries).await.iter().map(|r| r.status()).collect();
        let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
        assert_eq!(created, 5, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM face_challenges").await, 5);
    }
);

api_test!(
    async fn a_second_account_proving_the_same_person_meanwhile_is_told_why(backend) {
        let app = face_app(backend).await;
        let first = token(&app, franck().0).await;
        let second = token(&app, obama().0).await;
        // Both challenges are issued before either account is verified.
        let a = new_challenge(&app, &first, franck()).await;
        let b = new_challenge(&app, &second, franck()).await;
        let d = decision(submit(&app, &first, &a, [FRONTAL, DOWN, LEFT], "a").await).await;
        assert_eq!(d["outcome"], "verified", "{d}");
        let d = decision(submit(&app, &second, &b, [FRONTAL, DOWN, LEFT], "b").await).await;
        assert_eq!(d["outcome"], "rejected", "{d}");
        assert_eq!(d["reason"], "identity_bound_elsewhere");
        assert_eq!(d["next_step"], "visit_police_window");
        let me: Value = app.me(&second).await.json().await.unwrap();
        assert_eq!(me["verification_level"], "none");
    }
);

api_test!(
    async fn twenty_parallel_face_challenges_take_at_most_the_five_daily_attempts(backend) {
        let app = face_app(backend).await;
        let t = token(&app, franck().0).await;
        let answers =
            futures::future::join_all((0..20).map(|_| challenge(&app, &t, franck().1, franck().2))).await;
        let created = answers.iter().filter(|r| r.status() == StatusCode::CREATED).count();
        let exhausted = answers.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!((created, exhausted), (5, 15));
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM face_challenges").await, 5);
    }
);
