//! Keys of scan to pay, generated once per data directory under `DATA_DIR/keys` (mode 0600):
//!
//! * `issuer-jingtong-1.key`: the Ed25519 key the server signs bill codes (`JTB1.`) and receipt codes
//!   (`JTR1.`) with, key id [`ISSUER_KEY_ID`];
//! * `provider/platform.pem` and `provider/apiv3.key`: the local payment provider's RSA-2048 platform
//!   key (it signs notifications) and the 32-byte API v3 key (AES-256-GCM of notification resources).
//!   The merchant side (the server) holds the platform *public* key, its serial and the API v3 key,
//!   as a WeChat Pay merchant holds the downloaded platform certificate and its API v3 key.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jingtong_api::bill::{SigningKey, TrustedIssuers};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::crypto::{load_or_create_private, KeyError};

/// Key id of the server's own issuer key, as written in the codes it signs.
pub const ISSUER_KEY_ID: &str = "jingtong-1";

/// The server's bill and receipt signing key.
pub struct Issuer {
    pub key_id: String,
    pub key: SigningKey,
    pub trusted: TrustedIssuers,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Issuer({})", self.key_id)
    }
}

impl Issuer {
    pub fn load(data_dir: &Path) -> Result<Issuer, KeyError> {
        let path = data_dir.join("keys").join(format!("issuer-{ISSUER_KEY_ID}.key"));
        let text = load_or_create_private(&path, || STANDARD.encode(rand::random::<[u8; 32]>()))?;
        let secret: [u8; 32] = STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| KeyError::BadFile(path.display().to_string()))?;
        let key = SigningKey::from_bytes(&secret);
        let trusted = TrustedIssuers::new().with(ISSUER_KEY_ID, key.verifying_key());
        Ok(Issuer { key_id: ISSUER_KEY_ID.to_owned(), key, trusted })
    }
}

/// What the provider itself holds: the platform private key and the API v3 key.
pub struct ProviderKeys {
    pub private: RsaPrivateKey,
    pub serial: String,
    pub api_v3_key: [u8; 32],
}

impl std::fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProviderKeys(serial={})", self.serial)
    }
}

/// What the merchant (this server) holds to check notifications.
#[derive(Clone)]
pub struct MerchantKeys {
    pub platform_public: RsaPublicKey,
    pub serial: String,
    pub api_v3_key: [u8; 32],
}

impl std::fmt::Debug for MerchantKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MerchantKeys(serial={})", self.serial)
    }
}

impl ProviderKeys {
    /// Loads the provider's keys, generating them once (RSA generation is slow: call from
    /// `spawn_blocking`).
    pub fn load(data_dir: &Path) -> Result<ProviderKeys, KeyError> {
        let dir = data_dir.join("keys").join("provider");
        let pem_path = dir.join("platform.pem");
        let pem = load_or_create_private(&pem_path, || {
            let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA-2048 generation");
            key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 encoding").to_string()
        })?;
        let private =
            RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|_| KeyError::BadFile(pem_path.display().to_string()))?;
        let v3_path = dir.join("apiv3.key");
        let text = load_or_create_private(&v3_path, || STANDARD.encode(rand::random::<[u8; 32]>()))?;
        let api_v3_key: [u8; 32] = STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| KeyError::BadFile(v3_path.display().to_string()))?;
        let serial = serial_of(&RsaPublicKey::from(&private));
        Ok(ProviderKeys { private, serial, api_v3_key })
    }

    pub fn merchant(&self) -> MerchantKeys {
        MerchantKeys {
            platform_public: RsaPublicKey::from(&self.private),
            serial: self.serial.clone(),
            api_v3_key: self.api_v3_key,
        }
    }
}

/// The certificate serial stand-in: the first 20 bytes of SHA-256 over the public key (DER), hex upper-case.
pub fn serial_of(key: &RsaPublicKey) -> String {
    let der = key.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
    Sha256::digest(&der)[..20].iter().map(|b| format!("{b:02X}")).collect()
}
