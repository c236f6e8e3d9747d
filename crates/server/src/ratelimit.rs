//! Fixed-window counters kept in the database, so several server processes enforce one limit.

use sqlx::AnyConnection;

pub struct Limit {
    pub max_hits: i64,
    pub window_ms: i64,
}

/// Counts one hit in `bucket`. `Ok(None)` when allowed, `Ok(Some(seconds))` to wait when over the limit.
/// The upsert is one atomic statement on both databases.
pub async fn hit(conn: &mut AnyConnection, bucket: &str, limit: &Limit, now: i64) -> Result<Option<u64>, sqlx::Error> {
    let (window_start, hits): (i64, i64) = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (bucket) DO UPDATE SET
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN excluded.window_start ELSE rate_limits.window_start END,
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END
         RETURNING window_start, hits",
    )
    .bind(bucket)
    .bind(now)
    .bind(now - limit.window_ms)
    .fetch_one(conn)
    .await?;
    if hits <= limit.max_hits {
        return Ok(None);
    }
    let wait_ms = (window_start + limit.window_ms - now).max(1);
    Ok(Some((wait_ms as u64).div_ceil(1000)))
}

/// Whether `bucket` is already at its limit, without counting a hit: `Some(seconds)` to wait. For limits
/// that only failures count against, checked before the work.
pub async fn exhausted(
    pool: &sqlx::AnyPool,
    bucket: &str,
    limit: &Limit,
    now: i64,
) -> Result<Option<u64>, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT window_start, hits FROM rate_limits WHERE bucket = $1")
        .bind(bucket)
        .fetch_optional(pool)
        .await?;
    Ok(row
        .filter(|(start, hits)| *start > now - limit.window_ms && *hits >= limit.max_hits)
        .map(|(start, _)| ((start + limit.window_ms - now).max(1000) as u64).div_ceil(1000)))
}
