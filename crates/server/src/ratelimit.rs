//! The one limiter every limit uses. Each decision is one atomic statement in the database, so
//! parallel requests and several server processes can do no more than the same requests one by one.
//!
//! Shapes: [`hit`] / [`hit_all`] count a hit and say whether it was within the limit; limits that
//! only failures count against claim a hit first, judge, then [`refund`] it on success; [`Backoff`]
//! claims an attempt (refused while its delay runs), then [`Backoff::reset`] on success.

use jingtong_rules::{SmsBudget, SmsLimits};
use sqlx::AnyConnection;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_hits: i64,
    pub window_ms: i64,
}

impl Limit {
    pub fn per_hour(max_hits: u32) -> Limit {
        Limit { max_hits: i64::from(max_hits), window_ms: HOUR_MS }
    }

    pub fn per_day(max_hits: u32) -> Limit {
        Limit { max_hits: i64::from(max_hits), window_ms: DAY_MS }
    }
}

/// A budget's hour and day buckets for one subject, e.g. `sms:phone:<hash>`.
pub fn budget(prefix: &str, b: &SmsBudget) -> [(String, Limit); 2] {
    [(format!("{prefix}:hour"), Limit::per_hour(b.per_hour)), (format!("{prefix}:day"), Limit::per_day(b.per_day))]
}

/// The SMS budgets (crates/rules `sms_limits.toml`) one message sent on request counts against: the
/// receiving phone's (by keyed hash), the case's or plate's, the client address's and the account's.
pub fn sms_budgets(
    phone_hash: &str,
    object: Option<&str>,
    client: Option<&str>,
    account: Option<&str>,
) -> Vec<(String, Limit)> {
    let rules = SmsLimits::load();
    let mut out = budget(&format!("sms:phone:{phone_hash}"), &rules.per_phone).to_vec();
    if let Some(object) = object {
        out.extend(budget(&format!("sms:object:{object}"), &rules.per_object));
    }
    if let Some(client) = client {
        out.extend(budget(&format!("sms:ip:{client}"), &rules.per_client));
    }
    if let Some(account) = account {
        out.extend(budget(&format!("sms:user:{account}"), &rules.per_account));
    }
    out
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

/// Counts one hit in every bucket, stopping at the first refusal. Call it inside a transaction and
/// roll back on `Some`, so a refused request is counted in none.
pub async fn hit_all(
    conn: &mut AnyConnection,
    buckets: &[(String, Limit)],
    now: i64,
) -> Result<Option<u64>, sqlx::Error> {
    for (bucket, limit) in buckets {
        if let Some(wait) = hit(conn, bucket, limit, now).await? {
            return Ok(Some(wait));
        }
    }
    Ok(None)
}

/// Gives back a hit claimed in the current window (a success, for limits only failures count against).
pub async fn refund(conn: &mut AnyConnection, buckets: &[(String, Limit)], now: i64) -> Result<(), sqlx::Error> {
    for (bucket, limit) in buckets {
        sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE bucket = $1 AND window_start > $2 AND hits > 0")
            .bind(bucket)
            .bind(now - limit.window_ms)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Growing delays after failures in a row: `free` failures cost nothing, then `first_ms`, doubling,
/// at most `max_ms`. Anyone may cause failures, so it slows guessing without locking the owner out.
pub struct Backoff {
    pub free: i64,
    pub first_ms: i64,
    pub max_ms: i64,
}

impl Backoff {
    /// The delay after the `n`th failure in a row.
    pub fn delay_ms(&self, n: i64) -> i64 {
        if n <= self.free {
            return 0;
        }
        let doublings = (n - self.free - 1).min(32) as u32;
        self.first_ms.saturating_mul(1 << doublings).min(self.max_ms)
    }

    /// `CASE` over the new failure count, since SQLite has no power function. (Placeholders are
    /// numbered in order of appearance: SQLite numbers `$N` by where it first appears.)
    fn delay_sql(&self) -> String {
        let mut sql = format!("CASE WHEN backoffs.failures + 1 <= {} THEN 0", self.free);
        let mut n = self.free + 1;
        while self.delay_ms(n) < self.max_ms {
            sql.push_str(&format!(" WHEN backoffs.failures + 1 <= {n} THEN {}", self.delay_ms(n)));
            n += 1;
        }
        sql.push_str(&format!(" ELSE {} END", self.max_ms));
        sql
    }

    /// Claims an attempt for `subject`, counted as a failure until [`Backoff::reset`]: `Ok(None)` to go
    /// on, `Ok(Some(seconds))` while the delay of earlier failures runs. One upsert decides.
    pub async fn claim(&self, conn: &mut AnyConnection, subject: &str, now: i64) -> Result<Option<u64>, sqlx::Error> {
        let sql = format!(
            "INSERT INTO backoffs (subject, failures, not_before) VALUES ($1, 1, $2)
             ON CONFLICT (subject) DO UPDATE SET failures = backoffs.failures + 1,
               not_before = $3 + {}
             WHERE backoffs.not_before <= $3
             RETURNING failures",
            self.delay_sql()
        );
        let claimed: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(subject)
            .bind(now + self.delay_ms(1))
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
        if claimed.is_some() {
            return Ok(None);
        }
        let (not_before,): (i64,) = sqlx::query_as("SELECT not_before FROM backoffs WHERE subject = $1")
            .bind(subject)
            .fetch_one(&mut *conn)
            .await?;
        Ok(Some(((not_before - now).max(1) as u64).div_ceil(1000)))
    }

    /// A success: the failures in a row start again from none.
    pub async fn reset(conn: &mut AnyConnection, subject: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE backoffs SET failures = 0, not_before = 0 WHERE subject = $1")
            .bind(subject)
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_after_the_free_failures_up_to_the_cap() {
        let b = Backoff { free: 5, first_ms: 60_000, max_ms: 900_000 };
        let minutes: Vec<i64> = (1..=11).map(|n| b.delay_ms(n) / 60_000).collect();
        assert_eq!(minutes, [0, 0, 0, 0, 0, 1, 2, 4, 8, 15, 15]);
        assert_eq!(b.delay_ms(1000), 900_000);
    }
}
