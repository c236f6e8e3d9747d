use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::sms::SmsGateway;

/// How to run the server. Flags and environment are parsed in `main.rs`.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Holds the SQLite file, the data key and (later) blobs.
    pub data_dir: PathBuf,
    /// `postgres://…` switches from the embedded SQLite file to PostgreSQL.
    pub database_url: Option<Secret>,
    /// Loads the fictional demo data set and mounts the dev SMS outbox route.
    pub demo: bool,
    /// Face asset folder (holding `models/` and `testdata/`); `None` means `jingtong_face::asset_dir()`.
    pub face_dir: Option<PathBuf>,
    /// Tests only: every face challenge asks for these actions instead of random ones.
    /// Ignored in release builds (`debug_assertions` off), so production challenges are always random.
    pub fixed_face_actions: Option<Vec<jingtong_face::PoseAction>>,
    /// Runs due background jobs (payment expiry, reconciliation, notification deliveries) every half
    /// second. Tests turn it off and call `Running::run_jobs_once` after moving the clock.
    pub run_jobs: bool,
    /// Wraps the SMS gateway, e.g. with a carrier outage in the fault tests; `None` sends as is.
    pub sms_layer: Option<SmsLayer>,
}

/// Puts something between the server and its SMS gateway (see [`Config::sms_layer`]).
#[derive(Clone)]
pub struct SmsLayer(Arc<WrapGateway>);

type WrapGateway = dyn Fn(Arc<dyn SmsGateway>) -> Arc<dyn SmsGateway> + Send + Sync;

impl SmsLayer {
    pub fn new(wrap: impl Fn(Arc<dyn SmsGateway>) -> Arc<dyn SmsGateway> + Send + Sync + 'static) -> SmsLayer {
        SmsLayer(Arc::new(wrap))
    }

    pub(crate) fn wrap(&self, gateway: Arc<dyn SmsGateway>) -> Arc<dyn SmsGateway> {
        (self.0)(gateway)
    }
}

impl fmt::Debug for SmsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmsLayer")
    }
}

impl Default for Config {
    /// Loopback port 8080, `./data`, SQLite, no demo, default face assets.
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            demo: false,
            face_dir: None,
            fixed_face_actions: None,
            run_jobs: true,
            sms_layer: None,
        }
    }
}

impl Config {
    /// The face asset folder in use.
    pub fn face_dir(&self) -> PathBuf {
        self.face_dir.clone().unwrap_or_else(jingtong_face::asset_dir)
    }
}

/// A value that must never reach a log: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The only way to read the value, so every use is easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("postgres://user:hunter2@db/x");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "postgres://user:hunter2@db/x");
    }
}
