//! Local data per account. Drafts and outbox entries belong to the account signed in when they were
//! written (the user id from the session; `""` while signed out) and are sealed under that account's
//! key in the keychain, so on a shared computer the next resident neither sees nor can open them, and
//! their owner finds them again at the next sign-in.

use jingtong_api::ErrorCode;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::vault::Vault;
use crate::{drafts, outbox, session};

/// What the signed-in account would leave behind on this computer at sign-out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Unsent {
    /// Outbox entries the server has not confirmed (waiting, or refused and kept).
    pub outbox: u32,
    /// Saved forms.
    pub drafts: u32,
}

impl Unsent {
    pub fn total(&self) -> u32 {
        self.outbox.saturating_add(self.drafts)
    }
}

/// The account local data is read and written for: the session's user id, or `""` when signed out.
/// Read from the database, not the keychain: drafts are saved on every change.
pub(crate) async fn current(db: &SqlitePool) -> Result<String, ErrorCode> {
    Ok(session::load(db).await?.map(|s| s.user_id).unwrap_or_default())
}

pub(crate) async fn unsent(db: &SqlitePool, account: &str) -> Result<Unsent, ErrorCode> {
    Ok(Unsent { outbox: outbox::count(db, account).await?, drafts: drafts::count(db, account).await? })
}

/// Removes everything `account` wrote here and deletes its key, so no copy of the rows (a backup of
/// the file, a WAL page) can be opened afterwards.
pub(crate) async fn remove(db: &SqlitePool, vault: &Vault, account: &str) -> Result<(), ErrorCode> {
    outbox::remove_all(db, account).await?;
    drafts::remove_all(db, account).await?;
    vault.destroy(account).await
}
