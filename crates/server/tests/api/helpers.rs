//! `spawn_app()`: a real server on port 0 with its own database, a manual clock and an HTTP client.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jingtong_server::sms::{SmsError, SmsGateway, SmsMessage};
use jingtong_server::{Config, ManualClock, Running, Secret, SmsLayer};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{AnyPool, AssertSqlSafe, Connection, Executor};

/// Writes one test body and runs it twice: `name::sqlite` and `name::postgres`.
macro_rules! api_test {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::helpers::Backend) $body

            #[tokio::test]
            async fn sqlite() {
                run($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                run($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

/// The public address of test servers outside demo.
pub const PUBLIC_URL: &str = "https://jingtong.test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn postgres_admin_url() -> String {
    std::env::var("JINGTONG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh database `jt_test_<uuid>`, dropped when the value goes (also when the test panics).
struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create() -> PgDatabase {
        let admin = postgres_admin_url();
        let mut conn = sqlx::postgres::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {admin} for the postgres tests: {e}"));
        let name = format!("jt_test_{}", uuid::Uuid::now_v7().simple());
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create test database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        PgDatabase { url: format!("{base}/{name}"), name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Best effort, on its own runtime: Drop cannot await and the test's runtime may be unwinding.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut conn = sqlx::postgres::PgConnection::connect(&postgres_admin_url()).await.ok()?;
                conn.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub data_dir: tempfile::TempDir,
    config: Config,
    running: Option<Running>,
    /// With `JINGTONG_TEST_TWO_PROCESSES=1` on PostgreSQL: the other server process and the balancer
    /// that sends each connection to the next process in turn.
    second: Option<(Running, Balancer)>,
    _pg: Option<PgDatabase>,
}

/// A round-robin TCP balancer on loopback: each new connection goes to the next server.
pub struct Balancer {
    pub url: String,
    servers: Arc<std::sync::Mutex<Vec<std::net::SocketAddr>>>,
}

impl Balancer {
    async fn start(servers: Vec<std::net::SocketAddr>) -> Balancer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let servers = Arc::new(std::sync::Mutex::new(servers));
        let targets = servers.clone();
        tokio::spawn(async move {
            let mut next = 0usize;
            while let Ok((mut client, _)) = listener.accept().await {
                let target = {
                    let s = targets.lock().unwrap();
                    next += 1;
                    s[next % s.len()]
                };
                tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Balancer { url, servers }
    }

    fn replace(&self, old: std::net::SocketAddr, new: std::net::SocketAddr) {
        for s in self.servers.lock().unwrap().iter_mut() {
            if *s == old {
                *s = new;
            }
        }
    }
}

fn two_processes() -> bool {
    std::env::var("JINGTONG_TEST_TWO_PROCESSES").is_ok_and(|v| v == "1")
}

fn addr_of(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("http://").parse().expect("server url")
}

/// A server with the demo data and the dev SMS outbox (tests read codes from it).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, true).await
}

pub async fn spawn_app_with(backend: Backend, demo: bool) -> TestApp {
    spawn_app_config(backend, |config| config.demo = demo).await
}

/// Like [`spawn_app`], after `configure` adjusts the config (demo is on unless it turns it off).
pub async fn spawn_app_config(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgDatabase::create().await),
    };
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_owned(),
        database_url: pg.as_ref().map(|pg| Secret::new(pg.url.clone())),
        demo: true,
        ..Config::default()
    };
    configure(&mut config);
    if !config.demo && config.public_url.is_none() {
        // Required outside demo; nothing in the tests follows these links over the network.
        config.public_url = Some(PUBLIC_URL.to_owned());
    }
    let clock = Arc::new(ManualClock::new());
    let running = jingtong_server::start_with_clock(config.clone(), clock.clone()).await.expect("server starts");
    let mut app = TestApp {
        url: running.url(),
        client: reqwest::Client::new(),
        clock,
        data_dir,
        config,
        running: Some(running),
        second: None,
        _pg: pg,
    };
    if backend == Backend::Postgres && two_processes() {
        let other = app.second_process().await;
        let first = addr_of(&app.url);
        let balancer = Balancer::start(vec![first, addr_of(&other.url())]).await;
        app.url = balancer.url.clone();
        // A new connection per request, so consecutive requests go to different processes.
        app.client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        app.second = Some((other, balancer));
    }
    app
}

/// An SMS carrier that refuses every call while its switch is on, and passes messages to the
/// server's own gateway otherwise: an outage, for the fault tests.
struct CarrierOutage {
    inner: Arc<dyn SmsGateway>,
    down: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl SmsGateway for CarrierOutage {
    async fn send_all(&self, messages: &[SmsMessage]) -> Result<(), SmsError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SmsError::Unavailable("carrier answered 503".into()));
        }
        self.inner.send_all(messages).await
    }
}

/// Like [`spawn_app_config`], with an SMS carrier that is down while the returned switch is on.
pub async fn spawn_app_with_carrier(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, Arc<AtomicBool>) {
    let down = Arc::new(AtomicBool::new(false));
    let switch = down.clone();
    let app = spawn_app_config(backend, move |config| {
        config.sms_layer = Some(SmsLayer::new(move |inner| {
            Arc::new(CarrierOutage { inner, down: switch.clone() }) as Arc<dyn SmsGateway>
        }));
        configure(config);
    })
    .await;
    (app, down)
}

impl TestApp {
    /// Stops the server and starts it again on the same data.
    pub async fn restart(&mut self) {
        let old = self.running.as_ref().map(|r| addr_of(&r.url()));
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
        let running =
            jingtong_server::start_with_clock(self.config.clone(), self.clock.clone()).await.expect("restart");
        match (&self.second, old) {
            (Some((_, balancer)), Some(old)) => balancer.replace(old, addr_of(&running.url())),
            _ => self.url = running.url(),
        }
        self.running = Some(running);
    }

    /// The running server's state, to seed generated data (`jingtong_server::seed`).
    pub fn state(&self) -> &jingtong_server::state::AppState {
        self.running.as_ref().expect("server running").state()
    }

    /// Stops the in-process server, leaving its data for another process (`restart` starts it again).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
        if let Some((other, _)) = self.second.take() {
            other.shutdown().await;
        }
    }

    /// `DATABASE_URL` for another process on this test's data, if it runs on PostgreSQL.
    pub fn database_url(&self) -> Option<String> {
        self.config.database_url.as_ref().map(|u| u.expose().to_owned())
    }

    /// Another server process on the same database, data directory and clock.
    pub async fn second_process(&self) -> Running {
        jingtong_server::start_with_clock(self.config.clone(), self.clock.clone()).await.expect("second process")
    }

    /// Runs the background jobs due by the (manual) clock, as the runner would.
    pub async fn run_jobs(&self) -> usize {
        self.running.as_ref().expect("server running").run_jobs_once().await
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    pub fn sqlite_path(&self) -> std::path::PathBuf {
        self.data_dir.path().join("jingtong.sqlite3")
    }

    /// A second connection to the server's database, to look at what it stored.
    pub async fn db(&self) -> AnyPool {
        let url = match &self.config.database_url {
            Some(url) => url.expose().to_owned(),
            None => jingtong_server::db::sqlite_url(self.data_dir.path()),
        };
        jingtong_server::db::connect(&url).await.expect("connect to the test database").pool
    }

    /// Creates a staff account with this role (if missing) and signs it in; returns the access token.
    pub async fn staff_token(&self, staff_number: &str, role: jingtong_api::auth::Role) -> String {
        let url = match &self.config.database_url {
            Some(url) => url.expose().to_owned(),
            None => jingtong_server::db::sqlite_url(self.data_dir.path()),
        };
        let db = jingtong_server::db::connect(&url).await.expect("connect to the test database");
        let password = "test-staff-password";
        jingtong_server::auth::staff_accounts::ensure_account(&db, staff_number, password, role, 0).await.unwrap();
        db.pool.close().await;
        let res =
            self.post("/api/v1/staff/sessions", json!({ "staff_number": staff_number, "password": password })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.url)).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client.post(format!("{}{path}", self.url)).json(&body).send().await.expect("request")
    }

    pub async fn send_code(&self, phone: &str) -> Response {
        self.post("/api/v1/auth/sms-codes", json!({ "phone": phone })).await
    }

    pub async fn sign_in_with(&self, phone: &str, code: &str) -> Response {
        self.post("/api/v1/auth/sessions", json!({ "phone": phone, "code": code })).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post("/api/v1/auth/refresh", json!({ "refresh_token": refresh_token })).await
    }

    pub async fn outbox(&self, phone: &str) -> Vec<Value> {
        let res = self.get(&format!("/api/v1/dev/sms-outbox?phone={phone}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("outbox json")
    }

    /// The outbox once it holds at least `count` messages: the job runner sends queued messages
    /// (vehicle-move notices) shortly after their commit, not within the request.
    pub async fn outbox_of_at_least(&self, phone: &str, count: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let outbox = self.outbox(phone).await;
            if outbox.len() >= count {
                return outbox;
            }
            assert!(std::time::Instant::now() < deadline, "{count} message(s) to {phone} not sent in 15 s: {outbox:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The newest code the local gateway "sent" to the number.
    pub async fn latest_code(&self, phone: &str) -> String {
        let outbox = self.outbox(phone).await;
        outbox.first().expect("a message in the outbox")["code"].as_str().unwrap().to_owned()
    }

    /// Sends a code, reads it from the outbox and signs in; returns the token pair.
    pub async fn sign_in(&self, phone: &str) -> Value {
        assert_eq!(self.send_code(phone).await.status(), StatusCode::ACCEPTED);
        let code = self.latest_code(phone).await;
        let res = self.sign_in_with(phone, &code).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    pub async fn me(&self, access_token: &str) -> Response {
        self.client.get(format!("{}/api/v1/me", self.url)).bearer_auth(access_token).send().await.expect("request")
    }
}

/// Asserts a problem+json response with `code` and `status`, and returns its body.
pub async fn expect_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: Value = res.json().await.expect("problem json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}

pub fn file_contains(path: &Path, needle: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}
