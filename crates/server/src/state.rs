use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::Keys;
use crate::db::Db;
use crate::sms::SmsGateway;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub sms: Arc<dyn SmsGateway>,
}

impl AppState {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
