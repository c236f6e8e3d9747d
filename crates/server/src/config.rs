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
    /// The address residents' phones reach this server at, e.g. `https://jingtong.example.gov.cn`:
    /// SMS links and the payment provider's links are built from it, never from the listen address.
    /// Required (and https) outside demo; in demo it defaults to the listen address.
    pub public_url: Option<String>,
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
            public_url: None,
        }
    }
}

impl Config {
    /// The face asset folder in use.
    pub fn face_dir(&self) -> PathBuf {
        self.face_dir.clone().unwrap_or_else(jingtong_face::asset_dir)
    }

    /// The configured public base URL without a trailing slash; `Ok(None)` in demo without one.
    /// Outside demo it must be there and be https: an owner's SMS link carries a credential.
    pub fn checked_public_url(&self) -> Result<Option<String>, PublicUrlError> {
        let Some(raw) = self.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return if self.demo { Ok(None) } else { Err(PublicUrlError::Missing) };
        };
        let url = reqwest::Url::parse(raw).map_err(|_| PublicUrlError::Invalid(raw.to_owned()))?;
        let plain = url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !plain || !matches!(url.scheme(), "https" | "http") {
            return Err(PublicUrlError::Invalid(raw.to_owned()));
        }
        if url.scheme() != "https" && !self.demo {
            return Err(PublicUrlError::NotHttps(raw.to_owned()));
        }
        Ok(Some(url.as_str().trim_end_matches('/').to_owned()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublicUrlError {
    #[error(
        "--public-url (or JINGTONG_PUBLIC_URL) is required outside --demo: the https address residents' phones \
         reach this server at, e.g. https://jingtong.example.gov.cn (SMS links and payment links are built from it)"
    )]
    Missing,
    #[error("--public-url {0:?} is not a base URL like https://jingtong.example.gov.cn (no user, query or fragment)")]
    Invalid(String),
    #[error("--public-url {0:?} must start with https:// outside --demo: SMS links carry a credential")]
    NotHttps(String),
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
    fn public_url_is_required_and_https_outside_demo() {
        let url = |demo: bool, public_url: Option<&str>| {
            Config { demo, public_url: public_url.map(str::to_owned), ..Config::default() }.checked_public_url()
        };
        assert_eq!(url(false, None), Err(PublicUrlError::Missing));
        assert_eq!(url(false, Some(" ")), Err(PublicUrlError::Missing));
        assert!(matches!(url(false, Some("http://jt.example")), Err(PublicUrlError::NotHttps(_))));
        assert!(matches!(url(false, Some("https://jt.example/?a=1")), Err(PublicUrlError::Invalid(_))));
        assert!(matches!(url(false, Some("jt.example")), Err(PublicUrlError::Invalid(_))));
        assert_eq!(url(false, Some("https://jt.example/")), Ok(Some("https://jt.example".to_owned())));
        assert_eq!(url(false, Some("https://jt.example/jt/")), Ok(Some("https://jt.example/jt".to_owned())));
        assert_eq!(url(true, None), Ok(None));
        assert_eq!(url(true, Some("http://192.168.1.5:8080")), Ok(Some("http://192.168.1.5:8080".to_owned())));
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("postgres://user:hunter2@db/x");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "postgres://user:hunter2@db/x");
    }
}
