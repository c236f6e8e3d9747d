//! Vehicle-move create throughput and p99 latency (the write path: Idempotency-Key, registry lookup,
//! owner SMS, timers) over HTTP on loopback, next to `pgbench` (TPC-B-like) on the same PostgreSQL
//! database in the same run; then the same load on the embedded SQLite default. The load is wrk (32
//! connections for 5 s; an in-process generator sending 1000 when wrk is missing). Prints the ratios and
//! writes target/bench/moves_create.{json,md}. Run: `cargo bench -p jingtong-server --bench moves_create`.

mod common;

use std::sync::Arc;

use common::{closed_loop, pgbench, server, write_report, wrk, Figures, PgDatabase};
use serde_json::{json, Value};

/// Fictional requesters: each may file 5 requests a month (rules data), so the load spreads over them
/// (room for 5000 requests, more than 5 s of wrk reach on this machine).
const USERS: usize = 1000;
const VEHICLES: usize = 5000;
/// The in-process generator's count, when wrk is missing.
const REQUESTS: usize = 1000;
const WRK_SECONDS: u32 = 5;
const CONCURRENCY: usize = 32;
/// pgbench's own run length.
const PGBENCH_SECONDS: &str = "10";

fn photo(shade: u8) -> String {
    use base64::Engine as _;
    let img = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([shade, (x % 251) as u8, (y % 241) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

/// Signed-in, verified requesters and one registered vehicle (with an owner reached by SMS) per request.
async fn prepare(server: &jingtong_server::Running) -> (Vec<String>, Vec<String>) {
    let state = server.state();
    let residents = jingtong_server::seed::residents(state, 0, USERS).await.unwrap();
    let plates = jingtong_server::seed::vehicles(state, 0, VEHICLES).await.unwrap();
    (residents.into_iter().map(|r| r.access_token).collect(), plates)
}

/// Request n: requester n mod USERS, plate n, key bench-n (each wrk thread takes every second n).
fn wrk_script(tokens: &[String], plates: &[String]) -> String {
    let list = |v: &[String]| v.iter().map(|t| format!("\"{t}\",")).collect::<String>();
    let head = json!({
        "plate_type": "small_blue", "address": "压测路 1 号", "region_code": "340104", "reason": "blocking_car",
        "photos": [photo(40), photo(200)],
    })
    .to_string();
    // The body is the fixed fields, then the plate: `{…,"plate":"<plate>"}`.
    let head = format!("{},\"plate\":\"", head.trim_end_matches('}'));
    format!(
        "local tokens = {{{}}}\nlocal plates = {{{}}}\nlocal head = [=[{head}]=]\nlocal i = 0\n\
         function request()\n  local n = i * 2 + thread_no - 1\n  i = i + 1\n  \
         local headers = {{[\"Authorization\"] = \"Bearer \" .. tokens[n % #tokens + 1], \
         [\"Idempotency-Key\"] = \"bench-\" .. n, [\"Content-Type\"] = \"application/json\"}}\n  \
         return wrk.format(\"POST\", \"/api/v1/vehicle-moves\", headers, head .. plates[n % #plates + 1] .. \"\\\"}}\")\nend\n",
        list(tokens),
        list(plates)
    )
}

async fn load(url: &str, (tokens, plates): (Vec<String>, Vec<String>)) -> (bool, Figures) {
    let (base, script) = (url.to_owned(), wrk_script(&tokens, &plates));
    // Off the runtime's workers: they serve the requests.
    if let Some(f) = tokio::task::spawn_blocking(move || wrk(&base, &script, CONCURRENCY, WRK_SECONDS)).await.unwrap() {
        return (true, f);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
    let photos = Arc::new([photo(40), photo(200)]);
    let (url, tokens, plates) = (url.to_owned(), Arc::new(tokens), Arc::new(plates));
    let figures = closed_loop(CONCURRENCY, REQUESTS, move |n| {
        let (client, url, tokens, photos, plates) =
            (client.clone(), url.clone(), tokens.clone(), photos.clone(), plates.clone());
        async move {
            let body: Value = json!({
                "plate": plates[n], "plate_type": "small_blue",
                "address": "压测路 1 号", "region_code": "340104", "reason": "blocking_car",
                "photos": photos.as_slice(),
            });
            let res = client
                .post(format!("{url}/api/v1/vehicle-moves"))
                .bearer_auth(&tokens[n % tokens.len()])
                .header("Idempotency-Key", format!("bench-{n}"))
                .json(&body)
                .send()
                .await;
            match res {
                Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    (false, figures)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = PgDatabase::create("jt_bench").await;
        let pg_dir = tempfile::tempdir().unwrap();
        let pg = server(pg_dir.path(), Some(db.url.clone())).await;
        let seeded = prepare(&pg).await;
        let (from_wrk, pg_figures) = load(&pg.url(), seeded).await;
        pg.shutdown().await;
        let c = CONCURRENCY.to_string();
        let baseline = pgbench(&db.url, true, &["-c", &c, "-j", "2", "-T", PGBENCH_SECONDS]);

        let lite_dir = tempfile::tempdir().unwrap();
        let lite = server(lite_dir.path(), None).await;
        let seeded = prepare(&lite).await;
        let (_, lite_figures) = load(&lite.url(), seeded).await;
        lite.shutdown().await;
        db.drop_now().await;

        report(&pg_figures, baseline, &lite_figures, from_wrk);
    });
}

fn report(pg: &Figures, baseline: Option<(f64, f64)>, lite: &Figures, from_wrk: bool) {
    let ratio = baseline.map(|(tps, _)| pg.rps() / tps);
    let lite_ratio = baseline.map(|(tps, _)| lite.rps() / tps);
    let mut md =
        String::from("| vehicle-move create, loopback | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n");
    for (name, f) in [("PostgreSQL", pg), ("SQLite (embedded)", lite)] {
        md += &format!("| {name} | {:.0} | {:.1} | {:.1} | {} |\n", f.rps(), f.p50_ms, f.p99_ms, f.errors);
    }
    match baseline {
        Some((tps, lat)) => {
            md += &format!("| pgbench tpcb-like, same database | {tps:.0} tps | avg {lat:.1} | | |\n");
            md += &format!("\nratio create/pgbench: **{:.2}×** (target ≥ 0.30×)\n", ratio.unwrap_or(0.0));
        }
        None => md += "\npgbench: not available\n",
    }
    let load = if from_wrk {
        format!("wrk for {WRK_SECONDS} s")
    } else {
        format!("{REQUESTS} requests (in-process generator; wrk missing)")
    };
    md += &format!("\n{load}, {CONCURRENCY} concurrent connections, {USERS} requesters, 2 photos each.\n");
    let json = json!({
        "bench": "moves_create", "requests": pg.requests, "concurrency": CONCURRENCY, "wrk": from_wrk,
        "postgres": pg.json(), "sqlite": lite.json(),
        "pgbench": baseline.map(|(tps, lat)| json!({ "tps": tps, "latency_avg_ms": lat })),
        "ratio": ratio, "target": 0.30,
        "rows": [
            { "name": "vehicle-move create (PostgreSQL) / pgbench tpcb-like", "ratio": ratio, "target": ">= 0.30" },
            { "name": "vehicle-move create (SQLite) / pgbench tpcb-like", "ratio": lite_ratio, "target": ">= 0.30" },
        ],
    });
    write_report("moves_create", &md, &json);
}
