//! Encryption at rest for personal data (AES-256-GCM) and keyed hashes (HMAC-SHA256) for lookups.
//!
//! One 32-byte data key: from `JINGTONG_DATA_KEY` (base64), else generated once into
//! `DATA_DIR/keys/data.key` (mode 0600). With PostgreSQL in production the key must come from the
//! environment or a KMS, never from a file beside the database: whoever has both has the data.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const KEY_ENV: &str = "JINGTONG_DATA_KEY";
/// First byte of every ciphertext, so a later key rotation can tell versions apart.
const FORMAT_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{KEY_ENV} must be base64 of exactly 32 bytes")]
    BadEnv,
    #[error("the key file {0} is not base64 of exactly 32 bytes")]
    BadFile(String),
    #[error("cannot read or write the key file: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error)]
#[error("ciphertext failed its integrity check")]
pub struct DecryptError;

/// Sub-keys derived from the data key; never printed.
pub struct Keys {
    cipher: Aes256Gcm,
    hash_key: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// Reads the key from the environment, else from (or newly into) the data directory.
    pub fn load(data_dir: &Path) -> Result<Keys, KeyError> {
        if let Ok(b64) = std::env::var(KEY_ENV) {
            return decode(&b64).map(|k| Keys::from_master(&k)).ok_or(KeyError::BadEnv);
        }
        let path = data_dir.join("keys").join("data.key");
        if !path.exists() {
            create_private_dir(&data_dir.join("keys"))?;
            let key: [u8; 32] = rand::random();
            match create_private(&path) {
                Ok(mut f) => f.write_all(STANDARD.encode(key).as_bytes())?,
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        let text = std::fs::read_to_string(&path)?;
        decode(&text).map(|k| Keys::from_master(&k)).ok_or_else(|| KeyError::BadFile(path.display().to_string()))
    }

    pub fn from_master(master: &[u8; 32]) -> Keys {
        // Separate keys per purpose, so a hash never reuses the encryption key.
        let enc = hmac(master, b"jingtong/v1/encrypt");
        let hash_key = hmac(master, b"jingtong/v1/keyed-hash");
        Keys { cipher: Aes256Gcm::new(&enc.into()), hash_key }
    }

    /// `purpose` is bound as associated data, so a phone ciphertext cannot be passed off as a name.
    pub fn encrypt(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; 12] = rand::random();
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: purpose.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn decrypt(&self, purpose: &str, blob: &[u8]) -> Result<Vec<u8>, DecryptError> {
        if blob.len() < 13 || blob[0] != FORMAT_V1 {
            return Err(DecryptError);
        }
        self.cipher
            .decrypt(Nonce::from_slice(&blob[1..13]), Payload { msg: &blob[13..], aad: purpose.as_bytes() })
            .map_err(|_| DecryptError)
    }

    pub fn decrypt_string(&self, purpose: &str, blob: &[u8]) -> Result<String, DecryptError> {
        String::from_utf8(self.decrypt(purpose, blob)?).map_err(|_| DecryptError)
    }

    /// Deterministic keyed hash for equality lookups (hex); useless without the key.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hash_key).expect("any key length works");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Plain SHA-256 (hex), for random tokens that are already unguessable.
pub fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Comparison whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length works");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn decode(b64: &str) -> Option<[u8; 32]> {
    STANDARD.decode(b64.trim()).ok()?.try_into().ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a private text file under `DATA_DIR/keys`, creating it once with `make` (mode 0600). When two
/// processes race, both read the one that was written first.
pub fn load_or_create_private(path: &Path, make: impl FnOnce() -> String) -> std::io::Result<String> {
    if !path.exists() {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        // Written whole to a private temporary file, then linked into place: nobody reads half a key.
        let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::now_v7().simple()));
        let mut f = create_private(&tmp)?;
        f.write_all(make().as_bytes())?;
        f.sync_all()?;
        drop(f);
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    std::fs::read_to_string(path)
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_purpose() {
        let keys = Keys::from_master(&[7; 32]);
        let blob = keys.encrypt("phone", b"19900000001");
        assert!(!blob.windows(11).any(|w| w == b"19900000001"));
        assert_eq!(keys.decrypt_string("phone", &blob).unwrap(), "19900000001");
        assert!(keys.decrypt("name", &blob).is_err());
        assert!(Keys::from_master(&[8; 32]).decrypt("phone", &blob).is_err());
    }

    #[test]
    fn keyed_hash_is_stable_and_keyed() {
        let a = Keys::from_master(&[1; 32]);
        let b = Keys::from_master(&[2; 32]);
        assert_eq!(a.keyed_hash("phone", "x"), a.keyed_hash("phone", "x"));
        assert_ne!(a.keyed_hash("phone", "x"), b.keyed_hash("phone", "x"));
        assert_ne!(a.keyed_hash("phone", "x"), a.keyed_hash("id_number", "x"));
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let one = Keys::load(dir.path()).unwrap();
        let two = Keys::load(dir.path()).unwrap();
        assert_eq!(one.keyed_hash("p", "v"), two.keyed_hash("p", "v"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("keys/data.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
