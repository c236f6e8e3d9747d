//! One code path for SQLite and PostgreSQL through sqlx's `Any` driver. SQL uses `$N` placeholders
//! and portable types (TEXT, BIGINT unix milliseconds, BLOB/BYTEA).

use std::path::Path;
use std::time::Duration;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme (use sqlite: or postgres:)")]
    Scheme,
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The default embedded database: `DATA_DIR/jingtong.sqlite3`, created if missing.
pub fn sqlite_url(data_dir: &Path) -> String {
    let path = data_dir.join("jingtong.sqlite3");
    let encoded: String = path
        .to_string_lossy()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("sqlite://{encoded}?mode=rwc")
}

/// Connects and brings the schema up to date.
pub async fn connect(url: &str) -> Result<Db, DbError> {
    install_default_drivers();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Backend::Postgres
    } else {
        return Err(DbError::Scheme);
    };
    let mut options = AnyPoolOptions::new().max_connections(10).acquire_timeout(Duration::from_secs(10));
    if backend == Backend::Sqlite {
        options = options.after_connect(|conn, _meta| {
            Box::pin(async move {
                // Per connection: wait for a writer instead of failing at once; enforce references.
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        });
    }
    let pool = options.connect(url).await.map_err(DbError::Connect)?;
    if backend == Backend::Sqlite {
        // Stored in the file: readers no longer block the writer.
        pool.execute("PRAGMA journal_mode = WAL").await.map_err(DbError::Connect)?;
    }
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
    }
    Ok(Db { pool, backend })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_url_escapes_odd_paths() {
        let url = sqlite_url(Path::new("/tmp/a b?#/x"));
        assert_eq!(url, "sqlite:///tmp/a%20b%3F%23/x/jingtong.sqlite3?mode=rwc");
    }
}
