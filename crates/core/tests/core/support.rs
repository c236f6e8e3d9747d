//! Shared test set-up: a real server per test, unique keychain services and phone numbers, a
//! recording TCP tap, and file scans.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jingtong_api::auth::SmsOutboxEntry;
use jingtong_core::{AppError, Core, CoreConfig, Keychain, KeychainBackend, Sensitive, SessionInfo};
use jingtong_core::{DATA_KEY_ENTRY, SESSION_ENTRY};
use rand::Rng;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Server {
    pub url: String,
    running: Option<jingtong_server::Running>,
    config: jingtong_server::Config,
    _dir: TempDir,
}

impl Server {
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    /// Stops answering: the port is closed, as when the network is gone.
    pub async fn go_away(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    /// Comes back on the same address with the same data.
    pub async fn come_back(&mut self) {
        let mut config = self.config.clone();
        config.listen = self.url.trim_start_matches("http://").parse().unwrap();
        self.running = Some(jingtong_server::start(config).await.expect("server restarts"));
    }

    /// Lifts the one-code-per-minute limit, so the same number can sign in again at once.
    pub async fn allow_new_codes(&self) {
        let url = jingtong_server::db::sqlite_url(&self.config.data_dir);
        let db = jingtong_server::db::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM rate_limits WHERE bucket LIKE 'sms:%'").execute(&db.pool).await.unwrap();
        db.pool.close().await;
    }

    /// Marks the signed-in account as verified as the demo resident with `phone`, as face verification would.
    pub async fn verify(&self, user_id: &str, phone: &str) {
        let url = jingtong_server::db::sqlite_url(&self.config.data_dir);
        let db = jingtong_server::db::connect(&url).await.unwrap();
        let demo: serde_json::Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let person = demo["residents"].as_array().unwrap().iter().find(|r| r["phone"] == phone).unwrap()["id"].clone();
        sqlx::query(
            "UPDATE users SET verification_level = 'real_name',
               id_number_hash = (SELECT id_number_hash FROM registry_persons WHERE id = $1) WHERE id = $2",
        )
        .bind(person.as_str().unwrap().to_owned())
        .bind(user_id)
        .execute(&db.pool)
        .await
        .unwrap();
        db.pool.close().await;
    }
}

impl Server {
    /// Lets `user_id` follow `count` new cases (as after looking each up), one second apart.
    pub async fn follow_cases(&self, user_id: &str, count: usize) {
        let url = jingtong_server::db::sqlite_url(&self.config.data_dir);
        let db = jingtong_server::db::connect(&url).await.unwrap();
        let demo: serde_json::Value = serde_json::from_str(jingtong_server::demo::FIXTURE).unwrap();
        let person = demo["residents"][4]["id"].as_str().unwrap().to_owned();
        for i in 0..count {
            let id = format!("paging-case-{i:04}");
            sqlx::query(
                "INSERT INTO cases (id, person_id, receipt_number, kind, title, status, reported_at)
                 VALUES ($1, $2, $3, '盗窃', '分页测试', 'received', $4)",
            )
            .bind(&id)
            .bind(&person)
            .bind(format!("P{i:05}"))
            .bind(1_700_000_000_000_i64 + i as i64 * 1000)
            .execute(&db.pool)
            .await
            .unwrap();
            sqlx::query("INSERT INTO case_viewers (user_id, case_id, created_at) VALUES ($1, $2, 0)")
                .bind(user_id)
                .bind(&id)
                .execute(&db.pool)
                .await
                .unwrap();
        }
        db.pool.close().await;
    }
}

/// A demo-mode server on a free loopback port with its own SQLite file.
pub async fn server() -> Server {
    server_with(|_| {}).await
}

/// As [`server`], with the configuration adjusted first.
pub async fn server_with(adjust: impl FnOnce(&mut jingtong_server::Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = jingtong_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        demo: true,
        ..Default::default()
    };
    adjust(&mut config);
    let running = jingtong_server::start(config.clone()).await.expect("server starts");
    Server { url: running.url(), running: Some(running), config, _dir: dir }
}

pub fn unique_service() -> String {
    format!("jingtong-test-{}", uuid::Uuid::now_v7())
}

/// Fictional mainland numbers; a fresh one per test avoids the 60 s resend limit.
pub fn unique_phone() -> String {
    format!("199{:08}", rand::rng().random_range(0..100_000_000u32))
}

pub fn config(dir: &Path, url: &str, service: &str) -> CoreConfig {
    CoreConfig {
        data_dir: dir.to_path_buf(),
        server_url: url.to_owned(),
        keyring_service: service.to_owned(),
        keychain: KeychainBackend::Auto,
        face_models: jingtong_face::asset_dir().join("models"),
    }
}

pub async fn open(dir: &Path, url: &str, service: &str) -> Core {
    Core::open(config(dir, url, service)).await.expect("core opens")
}

/// The keychain the app would use, or a loud failure: these tests must not silently skip.
pub async fn require_keychain(service: &str) -> Keychain {
    let kc = Keychain::new(KeychainBackend::Auto, service);
    let probe = Sensitive::new("probe".to_owned());
    let ok = kc.set("probe", &probe).await.is_ok()
        && kc.get("probe").await.ok().flatten() == Some(probe)
        && kc.delete("probe").await.is_ok();
    assert!(ok, "no OS keychain reachable (backend {:?}): run the tests under scripts/with-keychain", kc.backend());
    kc
}

/// Removes what a test left in the keychain.
pub async fn forget(kc: &Keychain) {
    let _ = kc.delete(SESSION_ENTRY).await;
    let _ = kc.delete(DATA_KEY_ENTRY).await;
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// The newest code the local SMS gateway sent to `phone`.
pub async fn sms_code(server_url: &str, phone: &str) -> String {
    let url = format!("{server_url}/api/v1/dev/sms-outbox?phone={phone}");
    let list: Vec<SmsOutboxEntry> = http().get(url).send().await.unwrap().json().await.unwrap();
    list.first().expect("an SMS was sent").code.clone()
}

pub async fn sign_in(core: &Core, server_url: &str, phone: &str) -> SessionInfo {
    core.request_sms_code(phone).await.expect("code sent");
    let code = sms_code(server_url, phone).await;
    core.sign_in(phone, &code).await.expect("signed in")
}

/// The stored `{access_token, refresh_token}`.
pub async fn stored_tokens(kc: &Keychain) -> Option<serde_json::Value> {
    let raw = kc.get(SESSION_ENTRY).await.expect("keychain readable")?;
    Some(serde_json::from_str(raw.expose()).unwrap())
}

pub async fn overwrite_tokens(kc: &Keychain, tokens: &serde_json::Value) {
    kc.set(SESSION_ENTRY, &Sensitive::new(tokens.to_string())).await.unwrap();
}

/// GET /me with a given token: the server's verdict on it.
pub async fn me_status(server_url: &str, access: &str) -> u16 {
    http().get(format!("{server_url}/api/v1/me")).bearer_auth(access).send().await.unwrap().status().as_u16()
}

/// An http:// URL where nothing listens.
pub fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

pub fn assert_code<T: std::fmt::Debug>(result: Result<T, AppError>, code: jingtong_api::ErrorCode) -> AppError {
    match result {
        Err(e) if e.code == code => e,
        other => panic!("expected {code}, got {other:?}"),
    }
}

/// Every file under `dir`, recursively.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub fn any_file_contains(dir: &Path, needle: &[u8]) -> Option<PathBuf> {
    files(dir).into_iter().find(|f| std::fs::read(f).unwrap_or_default().windows(needle.len()).any(|w| w == needle))
}

/// A TCP pass-through to a server that records both directions, to see exactly what went over the wire.
pub struct Tap {
    pub url: String,
    up: Arc<Mutex<Vec<u8>>>,
    down: Arc<Mutex<Vec<u8>>>,
}

impl Tap {
    pub async fn start(upstream_url: &str) -> Tap {
        let upstream: SocketAddr = upstream_url.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (up, down) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (u, d) = (up.clone(), down.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream).await.unwrap();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, u.clone()));
                tokio::spawn(pump(sr, cw, d.clone()));
            }
        });
        Tap { url, up, down }
    }

    /// Bytes the client sent.
    pub fn sent(&self) -> String {
        String::from_utf8_lossy(&self.up.lock().unwrap()).into_owned()
    }

    /// Bytes the server answered.
    pub fn received(&self) -> String {
        String::from_utf8_lossy(&self.down.lock().unwrap()).into_owned()
    }
}

async fn pump(mut from: impl AsyncReadExt + Unpin, mut to: impl AsyncWriteExt + Unpin, log: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        log.lock().unwrap().extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Every string value of `"field":"…"` in raw JSON traffic.
pub fn json_strings(traffic: &str, field: &str) -> Vec<String> {
    let marker = format!("\"{field}\":\"");
    traffic
        .match_indices(&marker)
        .filter_map(|(i, _)| traffic[i + marker.len()..].split('"').next().map(str::to_owned))
        .collect()
}

/// A TCP pass-through that, once, lets a request containing `marker` reach the server and then
/// closes the client's connection instead of passing the answer back: "the server decided, the
/// app never heard".
pub struct Cutter {
    pub url: String,
    cuts: Arc<Mutex<u32>>,
}

impl Cutter {
    pub async fn start(upstream_url: &str, marker: &'static [u8]) -> Cutter {
        let upstream: SocketAddr = upstream_url.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cuts = Arc::new(Mutex::new(0u32));
        let done = cuts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream).await.unwrap();
                let (mut cr, cw) = client.into_split();
                let (sr, mut sw) = server.into_split();
                let marked = Arc::new(Mutex::new(false));
                let (m, d) = (marked.clone(), done.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        if !*m.lock().unwrap() {
                            seen.extend_from_slice(&buf[..n]);
                            if seen.windows(marker.len()).any(|w| w == marker) && *d.lock().unwrap() == 0 {
                                *m.lock().unwrap() = true;
                            }
                        }
                    }
                });
                let d = done.clone();
                tokio::spawn(async move {
                    let (mut sr, mut cw) = (sr, cw);
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = sr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        if *marked.lock().unwrap() {
                            *d.lock().unwrap() += 1;
                            break; // drop the answer and the connection
                        }
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = cw.shutdown().await;
                });
            }
        });
        Cutter { url, cuts }
    }

    pub fn cuts(&self) -> u32 {
        *self.cuts.lock().unwrap()
    }
}

/// A TCP pass-through that, once, cuts the connection in the middle of an upload: after the request
/// containing `marker` has sent `after` more bytes, both sides are closed before the body is complete.
pub struct UploadCutter {
    pub url: String,
    cuts: Arc<Mutex<u32>>,
}

impl UploadCutter {
    pub async fn start(upstream_url: &str, marker: &'static [u8], after: usize) -> UploadCutter {
        let upstream: SocketAddr = upstream_url.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cuts = Arc::new(Mutex::new(0u32));
        let done = cuts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream).await.unwrap();
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let (cut_tx, mut cut_rx) = tokio::sync::watch::channel(false);
                let d = done.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut since_marker: Option<usize> = None;
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        match since_marker.as_mut() {
                            Some(count) => *count += n,
                            None if *d.lock().unwrap() == 0 => {
                                seen.extend_from_slice(&buf[..n]);
                                if seen.windows(marker.len()).any(|w| w == marker) {
                                    since_marker = Some(0);
                                }
                            }
                            None => {}
                        }
                        if since_marker.is_some_and(|c| c >= after) {
                            *d.lock().unwrap() += 1;
                            let _ = cut_tx.send(true);
                            return; // drops both halves: the server sees a body that stops short
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                });
                tokio::spawn(async move {
                    let mut buf = [0u8; 8192];
                    loop {
                        tokio::select! {
                            _ = cut_rx.changed() => break,
                            read = sr.read(&mut buf) => match read {
                                Ok(n) if n > 0 => {
                                    if cw.write_all(&buf[..n]).await.is_err() {
                                        break;
                                    }
                                }
                                _ => break,
                            },
                        }
                    }
                    let _ = cw.shutdown().await;
                });
            }
        });
        UploadCutter { url, cuts }
    }

    pub fn cuts(&self) -> u32 {
        *self.cuts.lock().unwrap()
    }
}

/// 演示用户乙 (fixtures/demo.json, fictional): his registry photo is obama.jpg, so an ID photo made from
/// another picture of him (obama3.jpg) is his own. The server matches every ID photo with the applicant.
pub const PHOTO_OWNER: &str = "19900000002";

/// 演示用户乙's own GA 461 photo (base64 JPEG), made by the app's pipeline from a studio-like portrait.
pub fn own_id_photo() -> String {
    use base64::Engine as _;
    static PHOTO: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PHOTO
        .get_or_init(|| {
            let engine = jingtong_core::device_engine(&jingtong_face::asset_dir().join("models")).expect("face models");
            let bytes =
                std::fs::read(jingtong_face::asset_dir().join("testdata").join("obama3.jpg")).expect("face photos");
            let img = jingtong_face::decode_image(&bytes).unwrap();
            let studio = jingtong_face::testing::on_studio_backdrop(&engine, &img).expect("a face");
            let p = jingtong_core::id_photo::process_image(&studio, &engine, &jingtong_core::id_photo::GA_461);
            assert_eq!(p.problem, None, "obama3.jpg on a backdrop makes a GA 461 photo");
            base64::engine::general_purpose::STANDARD.encode(p.jpeg.unwrap())
        })
        .clone()
}
