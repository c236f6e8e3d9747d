use std::sync::Arc;

use jingtong_face::{FaceEngine, PoseAction};

use crate::blobs::BlobStore;
use crate::clock::Clock;
use crate::crypto::Keys;
use crate::db::Db;
use crate::payments::keys::{Issuer, MerchantKeys};
use crate::payments::provider::{LocalProvider, PaymentProvider};
use crate::registry::PopulationRegistry;
use crate::sms::SmsGateway;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub sms: Arc<dyn SmsGateway>,
    pub blobs: Arc<dyn BlobStore>,
    pub registry: Arc<dyn PopulationRegistry>,
    /// `None` when the face models are missing: identity endpoints answer 503.
    pub face: Option<Arc<dyn FaceEngine>>,
    /// Tests only (see `Config::fixed_face_actions`); always `None` in release builds.
    pub fixed_face_actions: Option<Vec<PoseAction>>,
    /// Signs bill and receipt codes; its public key is the trusted issuer of scanned codes.
    pub issuer: Arc<Issuer>,
    /// The provider's platform public key, serial and API v3 key, to check notifications.
    pub merchant: Arc<MerchantKeys>,
    pub provider: Arc<dyn PaymentProvider>,
    /// The same provider when it is the local one (its payer page and notification deliveries).
    pub local_provider: Option<Arc<LocalProvider>>,
    /// The public base URL (`Config::public_url`; the listen address in demo without one): SMS links,
    /// pay pages and the provider's notify URL are built from it.
    pub base_url: String,
    /// Changes and session ends for open apps (server-sent events).
    pub changes: tokio::sync::broadcast::Sender<crate::changes::Notice>,
    /// Turns true when the server stops: open event streams end.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Wakes the job runner (something committed a job due now, e.g. a queued SMS).
    pub jobs_due: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Asks the job runner to look now instead of at its next tick (a no-op without a runner).
    pub fn wake_jobs(&self) {
        self.jobs_due.notify_one();
    }
}
