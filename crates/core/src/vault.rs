//! Encryption of local payloads with random AES-256-GCM keys kept in the keychain: one key per
//! account (`data-key:<user id>`), and the device's own (`data-key`) for what is typed while
//! signed out. A key never leaves the keychain except into this process's memory.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jingtong_api::ErrorCode;
use rand::RngCore;
use tokio::sync::Mutex;
use tracing::info;

use crate::{Keychain, Sensitive};

/// Keychain entry (account name) of the device's data key, for what is typed while signed out.
pub const DATA_KEY_ENTRY: &str = "data-key";
pub(crate) const NONCE_LEN: usize = 12;

/// Keychain entry of the data key of `account` (a user id; `""` is the signed-out device scope).
pub fn data_key_entry(account: &str) -> String {
    if account.is_empty() {
        DATA_KEY_ENTRY.to_owned()
    } else {
        format!("{DATA_KEY_ENTRY}:{account}")
    }
}

pub(crate) struct Vault {
    keychain: Keychain,
    /// The current account's key, loaded once: drafts are saved on every change and a D-Bus trip
    /// each time is too slow. Replaced when the account changes, dropped at sign-out.
    key: Mutex<Option<(String, Sensitive<[u8; 32]>)>>,
}

impl Vault {
    pub fn new(keychain: Keychain) -> Vault {
        Vault { keychain, key: Mutex::new(None) }
    }

    async fn cipher(&self, account: &str) -> Result<Aes256Gcm, ErrorCode> {
        let mut slot = self.key.lock().await;
        if slot.as_ref().is_none_or(|(owner, _)| owner != account) {
            *slot = None;
            *slot = Some((account.to_owned(), self.load_or_create(account).await?));
        }
        let (_, key) = slot.as_ref().expect("set above");
        Ok(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose())))
    }

    /// Sign-out: no key stays in memory.
    pub async fn forget(&self) {
        *self.key.lock().await = None;
    }

    /// Deletes `account`'s key: whatever was sealed under it can never be opened again.
    pub async fn destroy(&self, account: &str) -> Result<(), ErrorCode> {
        self.forget().await;
        self.keychain.delete(&data_key_entry(account)).await
    }

    async fn load_or_create(&self, account: &str) -> Result<Sensitive<[u8; 32]>, ErrorCode> {
        let entry = data_key_entry(account);
        if let Some(stored) = self.keychain.get(&entry).await? {
            if let Some(key) = B64.decode(stored.expose()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                return Ok(Sensitive::new(key));
            }
            info!("data key in keychain unreadable; making a new one (old drafts become unreadable)");
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        self.keychain.set(&entry, &Sensitive::new(B64.encode(key))).await?;
        info!("new data key created");
        Ok(Sensitive::new(key))
    }

    /// Seals under `account`'s key; `aad` binds the ciphertext to its row, so rows cannot be swapped.
    pub async fn seal(
        &self,
        account: &str,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), ErrorCode> {
        let cipher = self.cipher(account).await?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| ErrorCode::LocalStorage)?;
        Ok((nonce, ciphertext))
    }

    /// `Ok(None)` when the data fails its integrity check (tampered, or the key was replaced).
    pub async fn open(
        &self,
        account: &str,
        aad: &[u8],
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<Option<Vec<u8>>, ErrorCode> {
        let cipher = self.cipher(account).await?;
        if nonce.len() != NONCE_LEN {
            return Ok(None);
        }
        Ok(cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad }).ok())
    }
}
