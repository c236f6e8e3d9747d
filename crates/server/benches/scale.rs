//! A province-sized data set scaled to this machine, generated inside PostgreSQL: R residents (default
//! 1,000,000; `JINGTONG_SCALE_RESIDENTS`), 3 applications and 6 application events per resident,
//! R/2 vehicle-moving requests and as many of their events (10 R applications, requests and events in
//! all), R/2 cases with events, R sessions with an access token each, R/10 case viewers (residents who looked a case up), R/2 registered vehicles and R/2 finished timers. Every hot query of
//! `jingtong_server::hot` is then EXPLAINed (it must not scan a big table) and timed with random
//! parameters. Writes target/bench/scale.{json,md}. Run: `cargo bench -p jingtong-server --bench scale`.

mod common;

use std::time::{Duration, Instant};

use common::{write_report, PgDatabase};
use rand::Rng;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};

const RUNS: usize = 500;

/// Tables a plan must reach through an index.
const BIG: [&str; 12] = [
    "tokens",
    "sessions",
    "applications",
    "application_events",
    "vehicle_moves",
    "cases",
    "case_events",
    "case_viewers",
    "users",
    "registry_persons",
    "registry_vehicles",
    "jobs",
];

/// One generation step per table, in insert order; `{r}` is the resident count.
const GENERATE: [(&str, &str); 13] = [
    ("registry_persons", "INSERT INTO registry_persons (id, name_enc, id_number_enc, id_number_hash, phone_enc, phone_hash)
       SELECT 'p' || i, '\\x00'::bytea, '\\x00'::bytea, 'h' || i, '\\x00'::bytea, 'ph' || i FROM generate_series(1, {r}) i"),
    ("users", "INSERT INTO users (id, phone_hash, phone_enc, role, verification_level, created_at, id_number_hash)
       SELECT 'u' || i, 'ph' || i, '\\x00'::bytea, 'resident', 'real_name', i, 'h' || i FROM generate_series(1, {r}) i"),
    ("sessions", "INSERT INTO sessions (id, user_id, created_at)
       SELECT 's' || i, 'u' || i, 1700000000000 FROM generate_series(1, {r}) i"),
    ("tokens", "INSERT INTO tokens (token_hash, session_id, kind, created_at, expires_at)
       SELECT 't' || i, 's' || i, 'access', 1700000000000, 4102444800000 FROM generate_series(1, {r}) i"),
    ("applications", "INSERT INTO applications (id, user_id, person_id, item, card_kind, status, province_code, delivery,
         photo_source, fee_fen, created_at, updated_at)
       SELECT 'a' || i, 'u' || (i % {r} + 1), 'p' || (i % {r} + 1), 'id_card_renewal', 'resident',
              CASE WHEN i <= {r} / 10 THEN 'submitted' ELSE 'completed' END, 34, 'post', 'on_site', 2000,
              1700000000000 + i * 10, 1700000000000 + i * 10
       FROM generate_series(1, 3 * {r}) i"),
    ("application_events", "INSERT INTO application_events (id, application_id, at, status, actor)
       SELECT 'ae' || i, 'a' || ((i - 1) / 2 + 1), 1700000000000 + i * 5, 'submitted', 'resident'
       FROM generate_series(1, 6 * {r}) i"),
    ("registry_vehicles", "INSERT INTO registry_vehicles (id, owner_id, plate, vehicle_type, brand, color)
       SELECT 'v' || i, 'p' || i, '皖S' || lpad(i::text, 7, '0'), '小型轿车', '演示', '白色' FROM generate_series(1, {r} / 2) i"),
    ("vehicle_moves", "INSERT INTO vehicle_moves (id, requester_id, plate, plate_type, owner_user_id, address_enc, region_code,
         brigade, reason, photos, status, month, created_at, updated_at)
       SELECT 'm' || i, 'u' || (i * 7 % {r} + 1), '皖S' || lpad((i % ({r} / 2) + 1)::text, 7, '0'), 'small_blue',
              'u' || (i % ({r} / 2) + 1), '\\x00'::bytea, '340104', '3401', 'blocking_car', '[]',
              CASE WHEN i <= 1000 THEN 'waiting' ELSE 'resolved' END, '2026-11',
              1700000000000 + i * 10, 1700000000000 + i * 10
       FROM generate_series(1, {r} / 2) i"),
    ("vehicle_move_events", "INSERT INTO vehicle_move_events (id, move_id, at, kind, party)
       SELECT 'me' || i, 'm' || i, 1700000000000 + i * 10, 'sent', 'requester' FROM generate_series(1, {r} / 2) i"),
    ("cases", "INSERT INTO cases (id, person_id, receipt_number, kind, title, status, reported_at, status_changed_at, updated_at)
       SELECT 'c' || i, 'p' || (i * 2 % {r} + 1), 'J' || lpad(i::text, 17, '0'), '盗窃', '压测案件', 'received',
              1700000000000 + i * 10, NULL, 1700000000000 + i * 10
       FROM generate_series(1, {r} / 2) i"),
    ("case_events", "INSERT INTO case_events (id, case_id, at, status, text)
       SELECT 'ce' || i, 'c' || i, 1700000000000 + i * 10, 'received', '已受理' FROM generate_series(1, {r} / 2) i"),
    ("case_viewers", "INSERT INTO case_viewers (user_id, case_id, created_at)
       SELECT 'u' || (i * 3 % {r} + 1), 'c' || i, 1700000000000 FROM generate_series(1, {r} / 10) i"),
    ("jobs", "INSERT INTO jobs (id, kind, payload, run_at, done_at, created_at)
       SELECT 'j' || i, 'vehicle_move.escalate', '{}', 1700000000000 + i * 10,
              CASE WHEN i <= {r} / 2 - 1000 THEN 1700000000000 + i * 10 END, 1700000000000
       FROM generate_series(1, {r} / 2) i"),
];

struct Hot {
    name: &'static str,
    sql: String,
    /// Random parameters for one run.
    params: fn(usize) -> Vec<String>,
}

fn hot_queries() -> Vec<Hot> {
    use jingtong_server::hot;
    // A user and the rows of a default page (20) plus the one that tells whether more follow.
    let user_page = |r: usize| vec![format!("u{}", rand::rng().random_range(1..=r)), "21".into()];
    vec![
        Hot { name: "my applications", sql: hot::my_applications(""), params: user_page },
        Hot {
            name: "an application's timeline",
            sql: hot::APPLICATION_EVENTS.into(),
            params: |r| vec![format!("a{}", rand::rng().random_range(1..=3 * r))],
        },
        Hot {
            name: "case status lookup",
            sql: hot::case_by_id(),
            params: |r| {
                // The reporter of case i is person/user i*2 % r + 1.
                let i = rand::rng().random_range(1..=r / 2);
                vec![format!("c{i}"), format!("u{}", i * 2 % r + 1)]
            },
        },
        Hot {
            name: "case status lookup with its bearer check (as served)",
            sql: hot::case_for_token(),
            params: |r| {
                // User u's session is s<u> with the access token hash t<u>.
                let i = rand::rng().random_range(1..=r / 2);
                let u = i * 2 % r + 1;
                vec![format!("t{u}"), "access".into(), "1800000000000".into(), format!("c{i}")]
            },
        },
        Hot { name: "my cases", sql: hot::my_cases(""), params: user_page },
        Hot {
            name: "a case's timeline",
            sql: hot::CASE_EVENTS.into(),
            params: |r| vec![format!("c{}", rand::rng().random_range(1..=r / 2))],
        },
        Hot { name: "my vehicle-moving requests", sql: hot::my_vehicle_moves(""), params: user_page },
        Hot {
            name: "open vehicle move by plate",
            sql: hot::OPEN_MOVE_BY_PLATE.into(),
            params: |r| vec![format!("皖S{:07}", rand::rng().random_range(1..=r / 2))],
        },
        Hot {
            name: "plate owner (vehicle registry)",
            sql: hot::PLATE_OWNER.into(),
            params: |r| vec![format!("皖S{:07}", rand::rng().random_range(1..=r / 2))],
        },
        Hot {
            name: "next due timer (claim)",
            sql: hot::due_job("FOR UPDATE SKIP LOCKED"),
            // Far in the past: nothing is due, the claim finds that out through the index.
            params: |_| vec!["1".into(), "1600000000000".into()],
        },
    ]
}

/// `sql` with `$n` replaced by literals, for EXPLAIN (the parameters are generated, never outside input).
fn inline(sql: &str, params: &[String]) -> String {
    let mut out = sql.to_owned();
    for (n, p) in params.iter().enumerate().rev() {
        let literal = if p.chars().all(|c| c.is_ascii_digit()) { p.clone() } else { format!("'{p}'") };
        out = out.replace(&format!("${}", n + 1), &literal);
    }
    out
}

fn plan_nodes(plan: &Value, out: &mut Vec<String>) {
    let node = plan["Node Type"].as_str().unwrap_or("?");
    let label = match (plan["Relation Name"].as_str(), plan["Index Name"].as_str()) {
        (Some(rel), Some(ix)) => format!("{node} {rel} using {ix}"),
        (Some(rel), None) => format!("{node} {rel}"),
        (None, Some(ix)) => format!("{node} using {ix}"),
        (None, None) => node.to_owned(),
    };
    out.push(label);
    for child in plan["Plans"].as_array().into_iter().flatten() {
        plan_nodes(child, out);
    }
}

async fn explain(pool: &PgPool, sql: &str) -> Vec<String> {
    use sqlx::Row as _;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) {sql}")))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
    // The plan comes as `json`, which is text on the wire.
    let plan: Value = serde_json::from_str(&row.try_get_unchecked::<String, _>(0).unwrap()).unwrap();
    let mut nodes = Vec::new();
    plan_nodes(&plan[0]["Plan"], &mut nodes);
    nodes
}

async fn time(pool: &PgPool, hot: &Hot, residents: usize) -> (f64, f64) {
    let mut latencies = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let params = (hot.params)(residents);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(hot.sql.clone()));
        for p in &params {
            q = match p.parse::<i64>() {
                Ok(n) if p.chars().all(|c| c.is_ascii_digit()) => q.bind(n),
                _ => q.bind(p.clone()),
            };
        }
        let t = Instant::now();
        // A transaction rolled back: the timer claim must not change the data it measures.
        #[allow(clippy::disallowed_methods)] // PostgreSQL, no server: nothing to queue behind
        let mut tx = pool.begin().await.unwrap();
        q.fetch_all(&mut *tx).await.unwrap_or_else(|e| panic!("{}: {e}", hot.name));
        tx.rollback().await.unwrap();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(latencies[RUNS / 2]), ms(latencies[RUNS * 99 / 100]))
}

fn main() {
    let residents: usize =
        std::env::var("JINGTONG_SCALE_RESIDENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = PgDatabase::create("jt_scale").await;
        // The server's own migrations make the schema.
        let dir = tempfile::tempdir().unwrap();
        common::server(dir.path(), Some(db.url.clone())).await.shutdown().await;
        let pool = PgPoolOptions::new().max_connections(4).connect(&db.url).await.unwrap();
        let started = Instant::now();
        let mut rows = 0u64;
        for (table, sql) in GENERATE {
            let t = Instant::now();
            let mut conn = pool.acquire().await.unwrap();
            conn.execute("SET synchronous_commit = off").await.unwrap();
            let n = sqlx::query(sqlx::AssertSqlSafe(sql.replace("{r}", &residents.to_string())))
                .execute(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("generating {table}: {e}"))
                .rows_affected();
            rows += n;
            eprintln!("scale: {table}: {n} rows in {:.0} s", t.elapsed().as_secs_f64());
        }
        pool.execute("ANALYZE").await.unwrap();
        let generated_s = started.elapsed().as_secs_f64();

        let mut md = format!(
            "Scale: {residents} residents, {rows} rows generated in {generated_s:.0} s (PostgreSQL). Each hot query \
             EXPLAINed with random parameters and run {RUNS} times:\n\n\
             | hot query | p50 ms | p99 ms | plan | index only |\n|---|---:|---:|---|---|\n"
        );
        let mut results = Vec::new();
        let mut all_indexed = true;
        for hot in hot_queries() {
            let nodes = explain(&pool, &inline(&hot.sql, &(hot.params)(residents))).await;
            let scans: Vec<&String> = nodes
                .iter()
                .filter(|n| n.starts_with("Seq Scan") && BIG.iter().any(|t| n.split(' ').nth(2) == Some(*t)))
                .collect();
            let indexed = scans.is_empty();
            all_indexed &= indexed;
            let (p50, p99) = time(&pool, &hot, residents).await;
            let plan: Vec<&str> = nodes.iter().filter(|n| n.contains(" using ") || n.contains("Scan")).map(String::as_str).collect();
            md += &format!(
                "| {} | {p50:.2} | {p99:.2} | {} | {} |\n",
                hot.name,
                plan.join("; "),
                if indexed { "yes" } else { "NO" }
            );
            results.push(json!({ "name": hot.name, "p50_ms": p50, "p99_ms": p99, "plan": nodes, "indexed": indexed }));
        }
        pool.close().await;
        db.drop_now().await;
        let json = json!({
            "bench": "scale", "residents": residents, "generated_rows": rows, "generate_seconds": generated_s,
            "queries": results,
            "rows": [
                { "name": format!("hot queries on {residents} residents use indexes"), "value": all_indexed, "target": "true" },
            ],
        });
        write_report("scale", &md, &json);
        assert!(all_indexed, "a hot query scans a big table: see the plan column");
    });
}
