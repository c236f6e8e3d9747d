use std::sync::Arc;

use jingtong_face::{FaceEngine, PoseAction};

use crate::blobs::BlobStore;
use crate::clock::Clock;
use crate::crypto::Keys;
use crate::db::Db;
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
}

impl AppState {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
