//! Time comes from a `Clock` so expiry, lock and rate-limit tests can move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync + 'static {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;

    /// Told when the time jumps (the manual clock in tests), so timers on this clock look again;
    /// `None`: time only flows (the real clock), a sleep is enough.
    fn jumps(&self) -> Option<tokio::sync::watch::Receiver<()>> {
        None
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// A clock that only moves when told to; starts at the real time.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    jumped: tokio::sync::watch::Sender<()>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock { now: AtomicI64::new(SystemClock.now_ms()), jumped: tokio::sync::watch::channel(()).0 }
    }

    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        self.jumped.send_replace(());
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn jumps(&self) -> Option<tokio::sync::watch::Receiver<()>> {
        Some(self.jumped.subscribe())
    }
}

/// Returns once `clock` reads `deadline_ms` or later, real time passing or the clock jumping.
pub async fn sleep_until(clock: &dyn Clock, deadline_ms: i64) {
    loop {
        // Subscribed before reading the time, so a jump in between is not missed.
        let mut jumps = clock.jumps();
        let left = deadline_ms - clock.now_ms();
        if left <= 0 {
            return;
        }
        let sleep = tokio::time::sleep(Duration::from_millis(left as u64));
        tokio::pin!(sleep);
        match jumps.as_mut() {
            Some(jumps) => {
                tokio::select! {
                    () = &mut sleep => {}
                    changed = jumps.changed() => if changed.is_err() { (&mut sleep).await },
                }
            }
            None => sleep.await,
        }
    }
}

/// RFC 3339 in UTC, as the API speaks it.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The Asia/Shanghai calendar day of a time in ms.
pub fn shanghai_day(ms: i64) -> time::Date {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    jingtong_api::bill::shanghai_date(t)
}

/// A `YYYY-MM-DD` date as stored.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new();
        let t0 = c.now_ms();
        c.advance(Duration::from_secs(61));
        assert_eq!(c.now_ms() - t0, 61_000);
    }

    #[test]
    fn formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
