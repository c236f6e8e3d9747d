use std::path::Path;

use jingtong_api::ErrorCode;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tracing::error;

pub const FILE_NAME: &str = "jingtong.db";

/// Opens (creating and migrating) the local database in `dir`.
pub(crate) async fn open(dir: &Path) -> Result<SqlitePool, ErrorCode> {
    std::fs::create_dir_all(dir).map_err(|e| storage(&e))?;
    let options = SqliteConnectOptions::new()
        .filename(dir.join(FILE_NAME))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Drafts are saved on every keystroke and must survive a crash or power cut.
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(|e| storage(&e))?;
    sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| storage(&e))?;
    Ok(pool)
}

/// Database errors hold SQL and paths, not row values; log them and answer `local_storage`.
pub(crate) fn storage(e: &dyn std::fmt::Display) -> ErrorCode {
    error!(error = %e, "local storage failed");
    ErrorCode::LocalStorage
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("UTC time formats")
}
