//! One code path for SQLite and PostgreSQL through sqlx's `Any` driver. SQL uses `$N` placeholders
//! and portable types (TEXT, BIGINT unix milliseconds, BLOB/BYTEA).

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

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
    /// SQLite only: one transaction at a time in this process. SQLite has a single writer, and a
    /// connection that finds the file locked sleeps in SQLite's busy handler (1, 2, 5 … 100 ms)
    /// instead of being woken when the lock frees; queuing here hands the lock over at once.
    write_gate: Option<Arc<Mutex<()>>>,
}

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A transaction from [`Db::begin`]: derefs to the connection, like `&mut *tx` on sqlx's own;
/// rolled back when dropped without [`Tx::commit`].
pub struct Tx {
    // Declared first so it is dropped (rolled back) before the gate opens.
    inner: Transaction<'static, Any>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl Db {
    /// Begins a transaction (on SQLite, after the one before it in this process has ended).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let gate = self.write_turn().await?;
        #[allow(clippy::disallowed_methods)] // the one place that may
        let inner = self.pool.begin().await?;
        Ok(Tx { inner, _gate: gate })
    }

    /// On SQLite, this process's turn to write (held until dropped); nothing on PostgreSQL. A single
    /// write on a hot path outside a transaction takes it, so it queues here instead of sleeping in
    /// SQLite's busy handler while the lock is free.
    pub async fn write_turn(&self) -> Result<Option<OwnedMutexGuard<()>>, sqlx::Error> {
        match &self.write_gate {
            // As long as the pool waits for a connection: a wait this long is an overload (or a
            // transaction begun inside another), reported like the pool's own timeout.
            Some(gate) => Ok(Some(
                tokio::time::timeout(ACQUIRE_TIMEOUT, gate.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?,
            )),
            None => Ok(None),
        }
    }
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
    let mut options = AnyPoolOptions::new().max_connections(10).acquire_timeout(ACQUIRE_TIMEOUT);
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
    let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
    Ok(Db { pool, backend, write_gate })
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
