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
        public_url: Some("https://jingtong.test".to_owned()),
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

/// wrk (Debian's package; `scripts/bench` installs it) against `url` for `seconds` from `connections`
/// connections on 2 threads, its requests made by the Lua `script`: a load generator in a process of
/// its own, written in C, so the figures are the server's and not the generator's. Each wrk thread
/// gets `thread_no` (1, 2) in its Lua state before `init`. `None` when wrk is not installed.
pub fn wrk(url: &str, script: &str, connections: usize, seconds: u32) -> Option<Figures> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.lua");
    let numbering =
        "local threads = 0\nfunction setup(thread) threads = threads + 1; thread:set(\"thread_no\", threads) end\n";
    std::fs::write(&path, format!("{numbering}{script}")).unwrap();
    let run = std::process::Command::new("wrk")
        .args(["-t", "2", "-c", &connections.to_string(), "-d", &format!("{seconds}s"), "--latency", "-s"])
        .arg(&path)
        .arg(url)
        .output();
    let run = match run {
        Ok(r) if r.status.success() => r,
        Ok(r) => panic!("wrk failed: {}", String::from_utf8_lossy(&r.stderr)),
        Err(_) => {
            eprintln!("wrk is not installed: scripts/bench installs it");
            return None;
        }
    };
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    Some(parse_wrk(&out).unwrap_or_else(|| panic!("unexpected wrk output:\n{out}")))
}

/// Reads wrk's summary: "N requests in Xs", the 50% and 99% latency lines, non-2xx answers and socket errors.
fn parse_wrk(out: &str) -> Option<Figures> {
    fn ms(v: &str) -> Option<f64> {
        let split = v.find(|c: char| c.is_ascii_alphabetic())?;
        let (n, unit) = v.split_at(split);
        let n: f64 = n.parse().ok()?;
        Some(match unit {
            "us" => n / 1e3,
            "ms" => n,
            "s" => n * 1e3,
            "m" => n * 60e3,
            _ => return None,
        })
    }
    let (mut requests, mut seconds, mut p50, mut p99, mut errors) = (None, None, None, None, 0);
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", t, ..] => {
                requests = n.parse().ok();
                seconds = ms(t.trim_end_matches(',')).map(|m| m / 1e3);
            }
            ["50%", v] => p50 = ms(v),
            ["99%", v] => p99 = ms(v),
            ["Non-2xx", "or", "3xx", "responses:", n] => errors += n.parse::<usize>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<usize>().ok()).sum::<usize>()
            }
            _ => {}
        }
    }
    Some(Figures { requests: requests?, seconds: seconds?, p50_ms: p50?, p99_ms: p99?, errors })
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
