//! Faults: the real server binary killed with SIGKILL while 200 clients submit ID-card applications and
//! vehicle-moving requests, each retrying with its own Idempotency-Key until it is answered. After the
//! restart every submission exists exactly once, and every answer a client got names the same row.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jingtong_server::seed;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row;

use crate::applications::replacement_at_station;
use crate::helpers::{spawn_app_config, TestApp};

const CLIENTS: usize = 200;
/// Answers before the kill: the crash lands in the middle of the load.
const KILL_AFTER: usize = 120;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server binary on this test's data, as `jingtong-server` runs in production.
fn start(app: &TestApp, port: u16) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jingtong-server"));
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .env("RUST_LOG", "warn")
        // Outside --demo the server starts only with its public address.
        .env("JINGTONG_PUBLIC_URL", "https://jingtong.test")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = app.database_url() {
        cmd.env("DATABASE_URL", url);
    }
    cmd.spawn().expect("start jingtong-server")
}

async fn wait_healthy(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/api/v1/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts until the server answers 201, as the app's outbox does; returns the created id.
async fn submit(client: &reqwest::Client, url: &str, path: &str, token: &str, key: &str, body: &Value) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let res = client
            .post(format!("{url}{path}"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .timeout(Duration::from_secs(30))
            .json(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status() == StatusCode::CREATED => {
                return r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
            }
            // Refused for a reason a retry cannot fix: the test fails with it.
            Ok(r) if r.status().is_client_error() && r.status() != StatusCode::TOO_MANY_REQUESTS => {
                panic!("{path} refused: {} {}", r.status(), r.text().await.unwrap_or_default());
            }
            // Connection refused or reset by the kill, a 5xx or 429: try again with the same key.
            _ => {}
        }
        assert!(Instant::now() < deadline, "{path} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let pool = app.db().await;
    let n = sqlx::query(sql).fetch_one(&pool).await.unwrap().get::<i64, _>(0);
    pool.close().await;
    n
}

api_test! {
    async fn killed_server_loses_and_doubles_nothing(backend) {
        let mut app = spawn_app_config(backend, |c| c.run_jobs = false).await;
        let residents = seed::residents(app.state(), 0, CLIENTS).await.unwrap();
        let plates = seed::vehicles(app.state(), 0, CLIENTS).await.unwrap();
        app.stop().await;
        let bills_before = count(&app, "SELECT COUNT(*) FROM bills").await;
        let sms_before = count(&app, "SELECT COUNT(*) FROM sms_outbox").await;

        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut server = start(&app, port);
        wait_healthy(&client, &url).await;

        let answered = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = residents
            .into_iter()
            .zip(plates)
            .enumerate()
            .map(|(i, (resident, plate))| {
                let (client, url, answered) = (client.clone(), url.clone(), answered.clone());
                tokio::spawn(async move {
                    let t = &resident.access_token;
                    let application = replacement_at_station();
                    let a = submit(&client, &url, "/api/v1/applications", t, &format!("app-{i}"), &application).await;
                    answered.fetch_add(1, Ordering::SeqCst);
                    let m = submit(&client, &url, "/api/v1/vehicle-moves", t, &format!("move-{i}"), &crate::moves::request(&plate)).await;
                    answered.fetch_add(1, Ordering::SeqCst);
                    // Asked again after the crash, each key still names the same row.
                    let a2 = submit(&client, &url, "/api/v1/applications", t, &format!("app-{i}"), &application).await;
                    let m2 = submit(&client, &url, "/api/v1/vehicle-moves", t, &format!("move-{i}"), &crate::moves::request(&plate)).await;
                    assert_eq!((&a, &m), (&a2, &m2), "a retry with the same key named another row");
                    (resident.user_id, a, m)
                })
            })
            .collect();

        while answered.load(Ordering::SeqCst) < KILL_AFTER {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        let at_kill = answered.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut server = start(&app, port);

        let mut results = Vec::new();
        for c in clients {
            results.push(c.await.expect("client"));
        }
        // The owners' SMS were queued with the requests; a batch the kill interrupted is sent again
        // once its lease (15 s) ends.
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&app, "SELECT COUNT(*) FROM jobs WHERE kind = 'sms.send' AND done_at IS NULL").await > 0 {
            assert!(Instant::now() < deadline, "queued SMS not sent within 60 s of the restart");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        server.kill().unwrap();
        server.wait().unwrap();
        assert!(at_kill < 2 * CLIENTS, "the kill came after the load ended");

        assert_eq!(count(&app, "SELECT COUNT(*) FROM applications").await, CLIENTS as i64);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM vehicle_moves").await, CLIENTS as i64);
        // One fee bill per application, one first event per request.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM bills").await - bills_before, CLIENTS as i64);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM vehicle_move_events WHERE kind = 'sent'").await, CLIENTS as i64);
        // Every owner (each has their own number, no app) got one SMS: none lost at the kill, none sent twice.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM sms_outbox").await - sms_before, CLIENTS as i64);
        let mut ids: Vec<_> = results.iter().flat_map(|(_, a, m)| [a.clone(), m.clone()]).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 2 * CLIENTS, "two clients were answered with the same row");
        // Each row belongs to the resident who asked for it.
        let pool = app.db().await;
        for (user, a, m) in results.iter().step_by(17) {
            let owner: String =
                sqlx::query("SELECT user_id FROM applications WHERE id = $1").bind(a).fetch_one(&pool).await.unwrap().get(0);
            assert_eq!(&owner, user);
            let requester: String = sqlx::query("SELECT requester_id FROM vehicle_moves WHERE id = $1")
                .bind(m)
                .fetch_one(&pool)
                .await
                .unwrap()
                .get(0);
            assert_eq!(&requester, user);
        }
        pool.close().await;
    }
}

/// A PostgreSQL server of this test's own (initdb in a temp dir, a free port), so it can be
/// restarted without disturbing the other tests' databases.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
}

fn pg_bin(tool: &str) -> std::path::PathBuf {
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's binaries under /usr/lib/postgresql")
        .filter_map(|e| Some(e.ok()?.path().join("bin").join(tool)))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("{tool} not found under /usr/lib/postgresql"))
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

impl PrivatePostgres {
    /// As root, PostgreSQL's tools run as the `postgres` user (they refuse root).
    fn run(&self, tool: &str, args: &[&str]) {
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_bin(tool));
            c
        } else {
            Command::new(pg_bin(tool))
        };
        let out = cmd.args(args).stdin(Stdio::null()).output().expect("run a PostgreSQL tool");
        assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn start() -> PrivatePostgres {
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap();
            assert!(status.success());
        }
        let pg = PrivatePostgres { dir, port: free_port() };
        let data = pg.data();
        pg.run("initdb", &["-A", "trust", "-U", "postgres", "--no-sync", "-D", &data]);
        pg.ctl(&["start"]);
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn ctl(&self, action: &[&str]) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let data = self.data();
        let mut args = vec!["-D", data.as_str(), "-o", opts.as_str(), "-l", log.as_str(), "-w"];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = std::panic::catch_unwind(|| self.run("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]));
    }
}

/// PostgreSQL crashes and comes back (an immediate restart: crash recovery) while 100 drivers file
/// requests. The server is not restarted: its pool reconnects, every driver's retries end in exactly one
/// request, and every request a driver was told about is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load_loses_nothing_acknowledged() {
    const DRIVERS: usize = 100;
    let pg = Arc::new(tokio::task::spawn_blocking(PrivatePostgres::start).await.unwrap());
    let data_dir = tempfile::tempdir().unwrap();
    let config = jingtong_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_owned(),
        database_url: Some(jingtong_server::Secret::new(pg.url())),
        demo: false,
        public_url: Some("https://jingtong.test".to_owned()),
        run_jobs: false,
        ..jingtong_server::Config::default()
    };
    let server = jingtong_server::start(config).await.expect("server starts");
    let residents = seed::residents(server.state(), 0, DRIVERS).await.unwrap();
    let plates = seed::vehicles(server.state(), 0, DRIVERS).await.unwrap();
    let url = server.url();
    let client = reqwest::Client::new();

    let answered = Arc::new(AtomicUsize::new(0));
    let drivers: Vec<_> = residents
        .into_iter()
        .zip(plates)
        .enumerate()
        .map(|(i, (resident, plate))| {
            let (client, url, answered) = (client.clone(), url.clone(), answered.clone());
            tokio::spawn(async move {
                // Spread out, so the restart lands in the middle.
                tokio::time::sleep(Duration::from_millis(20 * i as u64)).await;
                let body = crate::moves::request(&plate);
                let sent = Instant::now();
                let id =
                    submit(&client, &url, "/api/v1/vehicle-moves", &resident.access_token, &format!("m-{i}"), &body)
                        .await;
                answered.fetch_add(1, Ordering::SeqCst);
                (id, sent, Instant::now())
            })
        })
        .collect();
    while answered.load(Ordering::SeqCst) < DRIVERS / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let restarting = pg.clone();
    let restart_began = Instant::now();
    tokio::task::spawn_blocking(move || restarting.ctl(&["-m", "immediate", "restart"])).await.unwrap();
    let restart_ended = Instant::now();
    let mut ids = Vec::new();
    let mut in_flight = 0;
    for d in drivers {
        let (id, sent, done) = d.await.expect("driver");
        // A request that was sent before PostgreSQL was back and answered after it went down.
        if sent < restart_ended && done > restart_began {
            in_flight += 1;
        }
        ids.push(id);
    }
    // Timing-independent: however long the restart takes, the test only shows something if some
    // request lived through it.
    assert!(in_flight > 0, "no request was in flight during the restart");

    // Still the same server process: it answers and its data is whole.
    assert!(client.get(format!("{url}/api/v1/health")).send().await.unwrap().status().is_success());
    let pool = &server.state().db.pool;
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM vehicle_moves").fetch_one(pool).await.unwrap().get(0);
    assert_eq!(n, DRIVERS as i64, "each request exactly once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), DRIVERS);
    for id in &ids {
        let found: i64 = sqlx::query("SELECT COUNT(*) FROM vehicle_moves WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(found, 1, "an acknowledged request is gone");
    }
    server.shutdown().await;
}
