//! Encryption of local payloads with a random AES-256-GCM key kept in the keychain.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jingtong_api::ErrorCode;
use rand::RngCore;
use tokio::sync::Mutex;
use tracing::info;

use crate::{Keychain, Sensitive};

/// Keychain entry (account name) of the local data key.
pub const DATA_KEY_ENTRY: &str = "data-key";
pub(crate) const NONCE_LEN: usize = 12;

pub(crate) struct Vault {
    keychain: Keychain,
    /// Loaded once: drafts are saved on every change and a D-Bus trip each time is too slow.
    key: Mutex<Option<Sensitive<[u8; 32]>>>,
}

impl Vault {
    pub fn new(keychain: Keychain) -> Vault {
        Vault { keychain, key: Mutex::new(None) }
    }

    async fn cipher(&self) -> Result<Aes256Gcm, ErrorCode> {
        let mut slot = self.key.lock().await;
        if slot.is_none() {
            *slot = Some(self.load_or_create().await?);
        }
        let key = slot.as_ref().expect("set above");
        Ok(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose())))
    }

    async fn load_or_create(&self) -> Result<Sensitive<[u8; 32]>, ErrorCode> {
        if let Some(stored) = self.keychain.get(DATA_KEY_ENTRY).await? {
            if let Some(key) = B64.decode(stored.expose()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                return Ok(Sensitive::new(key));
            }
            info!("data key in keychain unreadable; making a new one (old drafts become unreadable)");
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        self.keychain.set(DATA_KEY_ENTRY, &Sensitive::new(B64.encode(key))).await?;
        info!("new data key created");
        Ok(Sensitive::new(key))
    }

    /// `aad` binds the ciphertext to its row, so rows cannot be swapped.
    pub async fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>), ErrorCode> {
        let cipher = self.cipher().await?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| ErrorCode::LocalStorage)?;
        Ok((nonce, ciphertext))
    }

    /// `Ok(None)` when the data fails its integrity check (tampered, or the key was replaced).
    pub async fn open(&self, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Result<Option<Vec<u8>>, ErrorCode> {
        let cipher = self.cipher().await?;
        if nonce.len() != NONCE_LEN {
            return Ok(None);
        }
        Ok(cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad }).ok())
    }
}
