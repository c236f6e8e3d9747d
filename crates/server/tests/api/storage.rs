//! What lands in the database: no phone number in plaintext, an audit trail of sign-in.

use sqlx::{AssertSqlSafe, Row};

use crate::helpers::{file_contains, spawn_app, Backend, TestApp};

const PHONE: &str = "19900098000";
/// A demo resident's number and name, loaded with `--demo`.
const DEMO_PHONE: &str = "19900000001";
const DEMO_NAME: &str = "演示用户甲";

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Every row of every table, as text (PostgreSQL renders BYTEA as hex, so plaintext bytes would show as hex).
async fn postgres_dump(app: &TestApp) -> String {
    let pool = app.db().await;
    let tables: Vec<String> =
        sqlx::query("SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("t"))
            .collect();
    assert!(tables.iter().any(|t| t == "users"));
    let mut dump = String::new();
    for table in tables {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT CAST(x AS TEXT) AS r FROM {table} x")))
            .fetch_all(&pool)
            .await
            .unwrap();
        for r in rows {
            dump.push_str(&r.get::<String, _>("r"));
            dump.push('\n');
        }
    }
    dump
}

api_test!(
    async fn phone_numbers_are_not_stored_in_plaintext(backend) {
        let app = spawn_app(backend).await;
        let pair = app.sign_in(PHONE).await;
        assert_eq!(app.me(pair["access_token"].as_str().unwrap()).await.status(), reqwest::StatusCode::OK);

        match backend {
            Backend::Sqlite => {
                let db = app.sqlite_path();
                let wal = db.with_extension("sqlite3-wal");
                assert!(file_contains(&db, b"CREATE TABLE users") || file_contains(&wal, b"CREATE TABLE users"));
                for needle in [PHONE, DEMO_PHONE, DEMO_NAME, pair["access_token"].as_str().unwrap()] {
                    assert!(!file_contains(&db, needle.as_bytes()), "{needle} in the database file");
                    assert!(!file_contains(&wal, needle.as_bytes()), "{needle} in the WAL file");
                }
            }
            Backend::Postgres => {
                let dump = postgres_dump(&app).await;
                assert!(dump.contains("resident"));
                for needle in [PHONE, DEMO_PHONE, DEMO_NAME, pair["access_token"].as_str().unwrap()] {
                    assert!(!dump.contains(needle), "{needle} stored in plaintext");
                    assert!(!dump.contains(&hex(needle)), "{needle} stored as plaintext bytes");
                }
            }
        }
    }
);

api_test!(
    async fn sign_in_leaves_an_audit_trail(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.send_code(PHONE).await.status(), reqwest::StatusCode::ACCEPTED);
        let _ = app.sign_in_with(PHONE, "abcdef").await;
        let code = app.latest_code(PHONE).await;
        let pair: serde_json::Value = app.sign_in_with(PHONE, &code).await.json().await.unwrap();
        let second: serde_json::Value = app.refresh(pair["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
        let _ = app.refresh(pair["refresh_token"].as_str().unwrap()).await;
        let _ = second;

        let pool = app.db().await;
        let rows = sqlx::query("SELECT kind, phone_hash, client_ip FROM audit_events ORDER BY at, id").fetch_all(&pool).await.unwrap();
        let kinds: Vec<String> = rows.iter().map(|r| r.get("kind")).collect();
        assert_eq!(kinds, ["sms_sent", "sign_in_failed", "sign_in", "refresh", "refresh_reuse"]);
        let hash: Option<String> = rows[0].get("phone_hash");
        assert_eq!(hash.as_deref().map(str::len), Some(64));
        assert_ne!(hash.as_deref(), Some(PHONE));
        let ip: Option<String> = rows[0].get("client_ip");
        assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    }
);
