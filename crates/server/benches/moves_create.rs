//! Vehicle-move create throughput and p99 latency (the write path: Idempotency-Key, registry lookup,
//! owner SMS, timers) over HTTP on loopback, next to `pgbench` (TPC-B-like) on the same PostgreSQL
//! database in the same run; then the same load on the embedded SQLite default. Prints the ratios and
//! writes target/bench/moves_create.{json,md}. Run: `cargo bench -p jingtong-server --bench moves_create`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use jingtong_api::Phone;
use jingtong_server::{Config, Secret};
use serde_json::{json, Value};
use sqlx::{Connection, Executor};

/// Fictional requesters: each may file 5 requests a month (rules data), so the load spreads over them.
const USERS: usize = 200;
const REQUESTS: usize = 1000;
const CONCURRENCY: usize = 32;
/// pgbench's own run length.
const PGBENCH_SECONDS: u32 = 10;

struct Figures {
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

impl Figures {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

fn admin_url() -> String {
    std::env::var("JINGTONG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn photo(shade: u8) -> String {
    use base64::Engine as _;
    let img = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([shade, (x % 251) as u8, (y % 241) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

/// Signed-in, verified requesters and one registered vehicle (with an owner reached by SMS) per request.
async fn prepare(server: &jingtong_server::Running) -> Vec<String> {
    let state = server.state();
    let mut tokens = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let phone = Phone::parse(&format!("1990001{i:04}")).unwrap();
        let hash = state.keys.keyed_hash(jingtong_server::sms::PHONE, phone.as_str());
        let user = jingtong_server::auth::accounts::find_or_create(state, &phone, &hash).await.unwrap();
        sqlx::query("UPDATE users SET verification_level = 'real_name' WHERE id = $1")
            .bind(&user)
            .execute(&state.db.pool)
            .await
            .unwrap();
        tokens.push(jingtong_server::auth::tokens::start_session(state, &user).await.unwrap().access_token);
    }
    for n in 0..REQUESTS {
        let person = uuid::Uuid::now_v7().to_string();
        let owner_phone = format!("1990002{n:04}");
        sqlx::query(
            "INSERT INTO registry_persons (id, name_enc, id_number_enc, id_number_hash, phone_enc, phone_hash)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&person)
        .bind(state.keys.encrypt("name", "压测车主".as_bytes()))
        .bind(state.keys.encrypt("id_number", format!("bench-{n}").as_bytes()))
        .bind(state.keys.keyed_hash("id_number", &format!("bench-{n}")))
        .bind(state.keys.encrypt(jingtong_server::sms::PHONE, owner_phone.as_bytes()))
        .bind(state.keys.keyed_hash(jingtong_server::sms::PHONE, &owner_phone))
        .execute(&state.db.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO registry_vehicles (id, owner_id, plate, vehicle_type, brand, color) VALUES ($1, $2, $3, '小型轿车', '演示', '白色')",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&person)
        .bind(format!("皖T{n:05}"))
        .execute(&state.db.pool)
        .await
        .unwrap();
    }
    tokens
}

async fn load(url: &str, tokens: &[String]) -> Figures {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
    let photos = [photo(40), photo(200)];
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, next, url) = (client.clone(), next.clone(), url.to_owned());
            let tokens = tokens.to_vec();
            let photos = photos.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= REQUESTS {
                        break;
                    }
                    let body: Value = json!({
                        "plate": format!("皖T{n:05}"), "plate_type": "small_blue",
                        "address": "压测路 1 号", "region_code": "340104", "reason": "blocking_car",
                        "photos": photos,
                    });
                    let t = Instant::now();
                    let res = client
                        .post(format!("{url}/api/v1/vehicle-moves"))
                        .bearer_auth(&tokens[n % tokens.len()])
                        .header("Idempotency-Key", format!("bench-{n}"))
                        .json(&body)
                        .send()
                        .await;
                    let ok = matches!(&res, Ok(r) if r.status().as_u16() == 201);
                    if let Ok(r) = res {
                        let _ = r.bytes().await;
                    }
                    latencies.push(t.elapsed());
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(REQUESTS);
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    Figures { requests: all.len(), seconds, p50_ms: pct(0.50), p99_ms: pct(0.99), errors }
}

/// `pgbench` TPC-B-like on `db`: (tps, average latency in ms).
fn pgbench(db_url: &str) -> Option<(f64, f64)> {
    let init = std::process::Command::new("pgbench").args(["-i", "-q", "-s", "2", db_url]).output().ok()?;
    if !init.status.success() {
        eprintln!("pgbench -i failed: {}", String::from_utf8_lossy(&init.stderr));
        return None;
    }
    let c = CONCURRENCY.to_string();
    let t = PGBENCH_SECONDS.to_string();
    let run = std::process::Command::new("pgbench").args(["-c", &c, "-j", "2", "-T", &t, db_url]).output().ok()?;
    let out = String::from_utf8_lossy(&run.stdout);
    let number = |prefix: &str| -> Option<f64> {
        out.lines().find(|l| l.starts_with(prefix))?.split('=').nth(1)?.split_whitespace().next()?.parse().ok()
    };
    Some((number("tps")?, number("latency average")?))
}

async fn server(data_dir: &Path, database_url: Option<String>) -> jingtong_server::Running {
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

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let admin = admin_url();
        let name = format!("jt_bench_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::postgres::PgConnection::connect(&admin).await.expect("PostgreSQL on 127.0.0.1:5432");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
        let db_url = format!("{base}/{name}");

        let pg_dir = tempfile::tempdir().unwrap();
        let pg = server(pg_dir.path(), Some(db_url.clone())).await;
        let tokens = prepare(&pg).await;
        let pg_figures = load(&pg.url(), &tokens).await;
        pg.shutdown().await;
        let baseline = pgbench(&db_url);

        let lite_dir = tempfile::tempdir().unwrap();
        let lite = server(lite_dir.path(), None).await;
        let tokens = prepare(&lite).await;
        let lite_figures = load(&lite.url(), &tokens).await;
        lite.shutdown().await;
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();

        report(&pg_figures, baseline, &lite_figures);
    });
}

fn report(pg: &Figures, baseline: Option<(f64, f64)>, lite: &Figures) {
    let ratio = baseline.map(|(tps, _)| pg.rps() / tps);
    let mut md =
        String::from("| vehicle-move create, loopback | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n");
    md += &format!("| PostgreSQL | {:.0} | {:.1} | {:.1} | {} |\n", pg.rps(), pg.p50_ms, pg.p99_ms, pg.errors);
    md += &format!(
        "| SQLite (embedded) | {:.0} | {:.1} | {:.1} | {} |\n",
        lite.rps(),
        lite.p50_ms,
        lite.p99_ms,
        lite.errors
    );
    match baseline {
        Some((tps, lat)) => {
            md += &format!("| pgbench tpcb-like, same database | {tps:.0} tps | avg {lat:.1} | | |\n");
            md += &format!("\nratio create/pgbench: **{:.2}×** (target ≥ 0.30×)\n", ratio.unwrap_or(0.0));
        }
        None => md += "\npgbench: not available\n",
    }
    md += &format!("\n{REQUESTS} requests, {CONCURRENCY} concurrent clients, {USERS} requesters, 2 photos each.\n");
    println!("{md}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("moves_create.md"), &md).unwrap();
    let json = json!({
        "bench": "moves_create", "requests": REQUESTS, "concurrency": CONCURRENCY,
        "postgres": { "rps": pg.rps(), "p50_ms": pg.p50_ms, "p99_ms": pg.p99_ms, "errors": pg.errors },
        "sqlite": { "rps": lite.rps(), "p50_ms": lite.p50_ms, "p99_ms": lite.p99_ms, "errors": lite.errors },
        "pgbench": baseline.map(|(tps, lat)| json!({ "tps": tps, "latency_avg_ms": lat })),
        "ratio": ratio, "target": 0.30,
    });
    std::fs::write(dir.join("moves_create.json"), format!("{json:#}\n")).unwrap();
}
