//! Case-status lookup (`GET /api/v1/cases/{id}` by the reporter's own account: token check, owner
//! check in the SQL, case and public timeline) over HTTP on loopback, next to `pgbench -S` on the same
//! PostgreSQL database in the same run; then the same on the embedded SQLite default. Two loads: as
//! many requests as 32 connections of wrk can send in 10 s (throughput; an in-process generator when
//! wrk is missing), and a steady 500 requests/s (p99).
//! Writes target/bench/cases_read.{json,md}. Run: `cargo bench -p jingtong-server --bench cases_read`.

mod common;

use std::sync::Arc;

use common::{closed_loop, paced, pgbench, server, write_report, wrk, Figures, PgDatabase};
use serde_json::json;

const RESIDENTS: usize = 500;
const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 32;
/// wrk's and pgbench's run length.
const SECONDS: u32 = 10;
const RATE: u32 = 500;
const RATE_SECONDS: u32 = 10;

struct Run {
    from_wrk: bool,
    throughput: Figures,
    steady: Figures,
    /// The served query alone through the server's pool, no HTTP: the database's share.
    query: Figures,
}

/// Queries the "query alone" figure sends.
const QUERIES: usize = 60_000;

async fn run(server: &jingtong_server::Running) -> Run {
    let state = server.state();
    let residents = jingtong_server::seed::residents(state, 0, RESIDENTS).await.unwrap();
    let cases = jingtong_server::seed::cases(state, &residents).await.unwrap();
    let pairs: Arc<Vec<(String, String)>> =
        Arc::new(residents.into_iter().map(|r| r.access_token).zip(cases).collect());
    let url = server.url();
    let listed: String = pairs.iter().map(|(token, case)| format!("{{\"{token}\",\"{case}\"}},")).collect();
    let script = format!(
        "local cases = {{{listed}}}\nlocal i = 0\n\
         function request()\n  i = i + 1\n  local c = cases[(i * 2 + thread_no) % #cases + 1]\n  \
         return wrk.format(\"GET\", \"/api/v1/cases/\" .. c[2], {{[\"Authorization\"] = \"Bearer \" .. c[1]}})\nend\n"
    );
    // Off the runtime's workers: they serve the requests.
    let base = url.clone();
    let from_wrk = tokio::task::spawn_blocking(move || wrk(&base, &script, CONCURRENCY, SECONDS)).await.unwrap();
    let hashed: Arc<Vec<(String, String)>> = Arc::new(
        pairs.iter().map(|(token, case)| (jingtong_server::crypto::sha256_hex(token), case.clone())).collect(),
    );
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let send = move |n: usize| {
        let (client, url, pairs) = (client.clone(), url.clone(), pairs.clone());
        async move {
            let (token, case) = &pairs[n % pairs.len()];
            match client.get(format!("{url}/api/v1/cases/{case}")).bearer_auth(token).send().await {
                Ok(r) => r.status().as_u16() == 200 && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    };
    let (from_wrk, throughput) = match from_wrk {
        Some(figures) => (true, figures),
        None => (false, closed_loop(CONCURRENCY, REQUESTS, send.clone()).await),
    };
    let steady = paced(RATE, RATE_SECONDS, send).await;
    let (db, sql) = (state.db.clone(), Arc::new(jingtong_server::hot::case_for_token()));
    let now = state.now_ms();
    let query = closed_loop(CONCURRENCY, QUERIES, move |n| {
        let (db, sql, hashed) = (db.clone(), sql.clone(), hashed.clone());
        async move {
            let (hash, case) = &hashed[n % hashed.len()];
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(hash.as_str())
                .bind(jingtong_server::auth::tokens::ACCESS)
                .bind(now)
                .bind(case.as_str())
                .fetch_all(&db.pool)
                .await;
            rows.is_ok_and(|r| r.len() > 1)
        }
    })
    .await;
    Run { from_wrk, throughput, steady, query }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = PgDatabase::create("jt_bench").await;
        let pg_dir = tempfile::tempdir().unwrap();
        let pg = server(pg_dir.path(), Some(db.url.clone())).await;
        let pg_run = run(&pg).await;
        pg.shutdown().await;
        let c = CONCURRENCY.to_string();
        let baseline = pgbench(&db.url, true, &["-S", "-c", &c, "-j", "2", "-T", &SECONDS.to_string()]);

        let lite_dir = tempfile::tempdir().unwrap();
        let lite = server(lite_dir.path(), None).await;
        let lite_run = run(&lite).await;
        lite.shutdown().await;
        db.drop_now().await;
        report(&pg_run, &lite_run, baseline);
    });
}

fn report(pg: &Run, lite: &Run, baseline: Option<(f64, f64)>) {
    let ratio = |r: &Run| baseline.map(|(tps, _)| r.throughput.rps() / tps);
    let query_ratio = |r: &Run| baseline.map(|(tps, _)| r.query.rps() / tps);
    let mut md = String::from(
        "| case status, loopback | max req/s | p50 ms | p99 ms | errors | at 500 req/s: p50 ms | p99 ms | errors |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (name, r) in [("PostgreSQL", pg), ("SQLite (embedded)", lite)] {
        let (t, s) = (&r.throughput, &r.steady);
        md += &format!(
            "| {name} | {:.0} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} |\n",
            t.rps(),
            t.p50_ms,
            t.p99_ms,
            t.errors,
            s.p50_ms,
            s.p99_ms,
            s.errors
        );
    }
    match baseline {
        Some((tps, lat)) => {
            md += &format!("| pgbench -S, same database | {tps:.0} tps | avg {lat:.2} | | | | | |\n");
            md += &format!(
                "\nratio lookup/pgbench -S: PostgreSQL **{:.2}×**, SQLite **{:.2}×** (target ≥ 0.50×); \
                 p99 at {RATE} req/s: PostgreSQL {:.1} ms, SQLite {:.1} ms (target ≤ 20 ms)\n",
                ratio(pg).unwrap_or(0.0),
                ratio(lite).unwrap_or(0.0),
                pg.steady.p99_ms,
                lite.steady.p99_ms
            );
        }
        None => md += "\npgbench: not available\n",
    }
    md += &format!(
        "\nThe served query alone through the server's pool, no HTTP ({CONCURRENCY} tasks, {QUERIES} queries): \
         PostgreSQL {:.0}/s ({:.2}× pgbench -S, p99 {:.1} ms), SQLite {:.0}/s ({:.2}×): the part of the request \
         that is the database's.\n",
        pg.query.rps(),
        query_ratio(pg).unwrap_or(0.0),
        pg.query.p99_ms,
        lite.query.rps(),
        query_ratio(lite).unwrap_or(0.0)
    );
    md += &format!(
        "\n{} from {CONCURRENCY} connections, then {RATE} req/s for {RATE_SECONDS} s; {RESIDENTS} residents, one case each.\n",
        if pg.from_wrk { format!("wrk for {SECONDS} s") } else { format!("{REQUESTS} requests (in-process generator; wrk missing)") }
    );
    let json = json!({
        "bench": "cases_read",
        "postgres": { "throughput": pg.throughput.json(), "steady_500": pg.steady.json(), "query_alone": pg.query.json() },
        "sqlite": { "throughput": lite.throughput.json(), "steady_500": lite.steady.json(), "query_alone": lite.query.json() },
        "pgbench_select_only": baseline.map(|(tps, lat)| json!({ "tps": tps, "latency_avg_ms": lat })),
        "rows": [
            { "name": "case lookup (PostgreSQL) / pgbench -S", "ratio": ratio(pg), "target": ">= 0.50" },
            { "name": "case lookup (SQLite) / pgbench -S", "ratio": ratio(lite), "target": ">= 0.50" },
            { "name": "case lookup p99 at 500 req/s, PostgreSQL (ms)", "value": pg.steady.p99_ms, "target": "<= 20" },
            { "name": "case lookup p99 at 500 req/s, SQLite (ms)", "value": lite.steady.p99_ms, "target": "<= 20" },
        ],
    });
    write_report("cases_read", &md, &json);
}
