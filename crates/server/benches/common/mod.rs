//! What the HTTP benchmarks share: a fresh PostgreSQL database, a server on loopback, a closed-loop
//! and a paced load generator with latency percentiles, `pgbench` on the same database, and the
//! report files under target/bench/.
#![allow(dead_code)] // each bench uses its part

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jingtong_server::{Config, Secret};
use sqlx::{Connection, Executor};

pub struct Figures {
    pub requests: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

impl Figures {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn from(mut latencies: Vec<Duration>, errors: usize, seconds: f64) -> Figures {
        latencies.sort();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        Figures { requests: latencies.len(), seconds, p50_ms: pct(0.50), p99_ms: pct(0.99), errors }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "rps": self.rps(), "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "errors": self.errors })
    }
}

/// A database of its own on the local PostgreSQL, dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    pub url: String,
    name: String,
    admin: sqlx::postgres::PgConnection,
}

impl PgDatabase {
    pub async fn create(prefix: &str) -> PgDatabase {
        let admin_url = std::env::var("JINGTONG_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::postgres::PgConnection::connect(&admin_url).await.expect("PostgreSQL on 127.0.0.1:5432");
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b).to_owned();
        PgDatabase { url: format!("{base}/{name}"), name, admin }
    }

    pub async fn drop_now(mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        self.admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
    }
}

pub async fn server(data_dir: &Path, database_url: Option<String>) -> jingtong_server::Running {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        database_url: database_url.map(Secret::new),
        demo: false,
        run_jobs: false,
        ..Config::default()
    };
    jingtong_server::start(config).await.expect("server starts")
}

/// `total` requests from `concurrency` clients, each sending its next request when the last is answered.
/// `send(n)` makes request `n` and says whether the answer was the expected one.
pub async fn closed_loop<F, Fut>(concurrency: usize, total: usize, send: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let send = Arc::new(send);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (send, next) = (send.clone(), next.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let t = Instant::now();
                    errors += usize::from(!send(n).await);
                    latencies.push(t.elapsed());
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::with_capacity(total), 0);
    for w in workers {
        let (l, e) = w.await.unwrap();
        all.extend(l);
        errors += e;
    }
    Figures::from(all, errors, started.elapsed().as_secs_f64())
}

/// Requests started at a fixed `rate` per second for `seconds`, whatever the answers take (an open
/// loop, as many independent phones are): latencies include any queueing in the server.
pub async fn paced<F, Fut>(rate: u32, seconds: u32, send: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let send = Arc::new(send);
    let total = (rate * seconds) as usize;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / f64::from(rate));
        tokio::time::sleep_until(due.into()).await;
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let ok = send(n).await;
            // From when it was due, not when the task got to run.
            (due.elapsed(), ok)
        }));
    }
    let (mut all, mut errors) = (Vec::with_capacity(total), 0);
    for t in tasks {
        let (l, ok) = t.await.unwrap();
        all.push(l);
        errors += usize::from(!ok);
    }
    Figures::from(all, errors, started.elapsed().as_secs_f64())
}

/// `pgbench` on `db_url` (initialised at scale 2 if `init`): (tps, average latency in ms).
pub fn pgbench(db_url: &str, init: bool, args: &[&str]) -> Option<(f64, f64)> {
    if init {
        let out = std::process::Command::new("pgbench").args(["-i", "-q", "-s", "2", db_url]).output().ok()?;
        if !out.status.success() {
            eprintln!("pgbench -i failed: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
    }
    let run = std::process::Command::new("pgbench").args(args).arg(db_url).output().ok()?;
    let out = String::from_utf8_lossy(&run.stdout);
    let number = |prefix: &str| -> Option<f64> {
        out.lines().find(|l| l.starts_with(prefix))?.split('=').nth(1)?.split_whitespace().next()?.parse().ok()
    };
    Some((number("tps")?, number("latency average")?))
}

pub fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Prints the Markdown and writes `<name>.md` and `<name>.json`.
pub fn write_report(name: &str, md: &str, json: &serde_json::Value) {
    println!("{md}");
    std::fs::write(out_dir().join(format!("{name}.md")), md).unwrap();
    std::fs::write(out_dir().join(format!("{name}.json")), format!("{json:#}\n")).unwrap();
}
