//! Jingtong's REST backend: axum over sqlx (`Any`: SQLite by default, PostgreSQL by URL).
//! `start` brings up one server; `main.rs` is only flags, logging and signals around it.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod blobs;
pub mod cases;
pub mod changes;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod face_check;
pub mod headers;
pub mod hot;
pub mod idempotency;
pub mod identity;
pub mod images;
pub mod jobs;
pub mod lang;
pub mod moves;
pub mod openapi;
pub mod paging;
pub mod payments;
pub mod ratelimit;
pub mod registry;
pub mod routes;
pub mod seed;
pub mod sms;
pub mod state;
pub mod streams;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jingtong_face::{FaceEngine, LocalEngine};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, PublicUrlError, Secret, SmsLayer};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory: {0}")]
    DataDir(#[source] std::io::Error),
    #[error(transparent)]
    Keys(#[from] crypto::KeyError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot LISTEN for changes on PostgreSQL: {0}")]
    Listen(#[source] sqlx::Error),
    #[error(transparent)]
    PublicUrl(#[from] config::PublicUrlError),
}

/// A server serving in a background task.
pub struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    jobs_stop: tokio::sync::watch::Sender<bool>,
    jobs_task: Option<JoinHandle<()>>,
    streams_stop: tokio::sync::watch::Sender<bool>,
    state: state::AppState,
    db: db::Db,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for clients on this machine, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        base_url(self.addr)
    }

    /// What the handlers share (benchmarks prepare accounts through it).
    pub fn state(&self) -> &state::AppState {
        &self.state
    }

    /// Runs the background jobs that are due by the server clock, now; returns how many ran.
    /// Tests move the clock and call this (with `Config::run_jobs` off, nothing else runs them).
    pub async fn run_jobs_once(&self) -> usize {
        jobs::run_all_due(&self.state).await
    }

    /// Stops accepting, lets requests in flight finish, stops the job runner, then closes the database pool.
    pub async fn shutdown(mut self) {
        let _ = self.streams_stop.send(true);
        let _ = self.stop.send(());
        let _ = self.task.await;
        let _ = self.jobs_stop.send(true);
        if let Some(task) = self.jobs_task.take() {
            let _ = task.await;
        }
        self.db.pool.close().await;
    }
}

fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

pub async fn start(config: Config) -> Result<Running, StartError> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// Like [`start`] with another clock; tests pass a [`ManualClock`] to move time.
pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Running, StartError> {
    // Checked first: a server that would text residents a loopback link must not start at all.
    let public_url = config.checked_public_url()?;
    std::fs::create_dir_all(&config.data_dir).map_err(StartError::DataDir)?;
    let keys = Arc::new(crypto::Keys::load(&config.data_dir)?);
    let url = match &config.database_url {
        Some(url) => url.expose().to_owned(),
        None => db::sqlite_url(&config.data_dir),
    };
    let db = db::connect(&url).await?;
    let db_url = url;
    let blobs: Arc<dyn blobs::BlobStore> = Arc::new(blobs::LocalBlobStore::new(&config.data_dir));
    let face_dir = config.face_dir();
    if config.demo {
        demo::load(&db, &keys, blobs.as_ref(), &face_dir.join("testdata")).await?;
        applications::demo::load(&db, clock.now_ms()).await.map_err(demo::DemoError::Db)?;
    }
    let sms: Arc<dyn sms::SmsGateway> = Arc::new(sms::LocalSmsGateway::new(db.clone(), keys.clone(), clock.clone()));
    let sms = match &config.sms_layer {
        Some(layer) => layer.wrap(sms),
        None => sms,
    };
    let registry = Arc::new(registry::LocalRegistry::new(db.clone(), keys.clone(), blobs.clone()));
    let models = face_dir.join("models");
    let face = tokio::task::spawn_blocking(move || load_face_engine(&models)).await.unwrap_or(None);
    let fixed_face_actions = if cfg!(debug_assertions) { config.fixed_face_actions.clone() } else { None };
    let issuer = Arc::new(payments::keys::Issuer::load(&config.data_dir)?);
    let data_dir = config.data_dir.clone();
    let provider_keys = tokio::task::spawn_blocking(move || payments::keys::ProviderKeys::load(&data_dir))
        .await
        .map_err(|e| StartError::Keys(crypto::KeyError::Io(std::io::Error::other(e))))??;
    let provider_keys = Arc::new(provider_keys);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
    let url = public_url.unwrap_or_else(|| base_url(addr));
    let local_provider =
        Arc::new(payments::provider::LocalProvider::new(db.clone(), clock.clone(), provider_keys.clone(), url.clone()));
    // Open event streams end when the server stops, or graceful shutdown would wait for them forever.
    let (streams_stop, streams_stopping) = tokio::sync::watch::channel(false);
    let state = state::AppState {
        db: db.clone(),
        keys,
        clock,
        sms,
        blobs,
        registry,
        face,
        fixed_face_actions,
        issuer,
        merchant: Arc::new(provider_keys.merchant()),
        provider: local_provider.clone(),
        local_provider: Some(local_provider),
        base_url: url,
        changes: changes::channel(),
        stopping: streams_stopping,
        jobs_due: Arc::new(tokio::sync::Notify::new()),
    };
    if db.backend == db::Backend::Postgres {
        changes::listen(&db_url, state.changes.clone(), state.stopping.clone()).await.map_err(StartError::Listen)?;
    }
    if config.demo {
        cases::demo::load(&state).await.map_err(demo::DemoError::Db)?;
        moves::demo::load(&state.db, state.now_ms()).await.map_err(demo::DemoError::Db)?;
    }
    let app = routes::router(state.clone(), config.demo);
    let (jobs_stop, jobs_stopped) = tokio::sync::watch::channel(false);
    let jobs_task = config.run_jobs.then(|| jobs::spawn_runner(state.clone(), jobs_stopped));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    tracing::info!(%addr, database = db.backend.name(), demo = config.demo, "jingtong-server listening");
    Ok(Running { addr, stop, task, jobs_stop, jobs_task, streams_stop, state, db })
}

/// Loads the face engine from `models`, once per folder per process (tests start many servers).
/// Missing or wrong models are logged here, once; identity endpoints then answer 503.
fn load_face_engine(models: &Path) -> Option<Arc<dyn FaceEngine>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<LocalEngine>>>> = OnceLock::new();
    let cache = LOADED.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = cache.get(models) {
        return Some(engine.clone() as Arc<dyn FaceEngine>);
    }
    match LocalEngine::load(models) {
        Ok(engine) => {
            let engine = Arc::new(engine);
            cache.insert(models.to_owned(), engine.clone());
            tracing::info!(models = %models.display(), "face engine loaded");
            Some(engine as Arc<dyn FaceEngine>)
        }
        Err(e) => {
            tracing::warn!(error = %e, "face engine not available: identity endpoints answer service_unavailable");
            None
        }
    }
}
