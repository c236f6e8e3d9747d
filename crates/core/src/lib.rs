//! Jingtong client core: everything the app does below the UI, with no Tauri dependency.
//! The REST client (with automatic token refresh), the session tokens in the OS keychain,
//! and the local SQLite store for encrypted drafts and the outbox.

mod account;
mod applications;
mod cases;
mod changes;
mod client;
mod db;
mod drafts;
mod error;
mod facade;
mod face;
pub mod id_photo;
pub mod keychain;
mod lang;
mod moves;
mod outbox;
mod paging;
mod pay;
mod progress;
pub mod qr;
mod sensitive;
mod services;
mod session;
mod tokens;
mod vault;

pub use account::Unsent;
pub use applications::SubmitOutcome;
pub use db::FILE_NAME as DB_FILE;
pub use error::AppError;
pub use facade::{AppInfo, Core, CoreConfig, DEFAULT_SERVER_URL};
pub use face::{device_engine, FrameCheck};
pub use id_photo::IdPhotoCheck;
pub use keychain::{Keychain, KeychainBackend};
pub use moves::{MoveSubmitOutcome, PreparedPhoto};
pub use outbox::{FlushReport, OutboxEntry, OutboxState};
pub use sensitive::Sensitive;
pub use services::ServiceItemPage;
pub use session::SessionInfo;
pub use tokens::SESSION_ENTRY;
pub use vault::{data_key_entry, DATA_KEY_ENTRY};
