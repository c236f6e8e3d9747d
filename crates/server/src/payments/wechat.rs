//! The notification format of WeChat Pay API v3, used by the local provider to send and by the server
//! to check: headers `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Serial`,
//! `Wechatpay-Signature` = base64(RSA-SHA256 PKCS#1 v1.5 over `"{timestamp}\n{nonce}\n{body}\n"`), and a
//! JSON body whose `resource` is AES-256-GCM ciphertext (API v3 key, `associated_data` as AAD) of the
//! transaction.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const H_TIMESTAMP: &str = "Wechatpay-Timestamp";
pub const H_NONCE: &str = "Wechatpay-Nonce";
pub const H_SERIAL: &str = "Wechatpay-Serial";
pub const H_SIGNATURE: &str = "Wechatpay-Signature";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyBody {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub resource_type: String,
    pub resource: Resource,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    pub algorithm: String,
    pub ciphertext: String,
    pub nonce: String,
    pub associated_data: String,
}

/// The decrypted resource of a `TRANSACTION.SUCCESS` notification (and the answer to a query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Our payment order id.
    pub out_trade_no: String,
    pub transaction_id: String,
    /// `SUCCESS`, `NOTPAY`, `CLOSED`.
    pub trade_state: String,
    pub amount: Amount,
    /// RFC 3339.
    pub success_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// Fen.
    pub total: i64,
    pub currency: String,
}

/// A notification ready to POST: its headers and its body.
#[derive(Debug, Clone)]
pub struct SignedNotification {
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// Everything that varies between notifications; tests change one field at a time.
#[derive(Debug, Clone)]
pub struct NotifyParams {
    pub id: String,
    /// Unix seconds.
    pub timestamp: i64,
    pub nonce: String,
    pub transaction: Transaction,
}

pub fn message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

pub fn sign(key: &RsaPrivateKey, message: &str) -> String {
    let digest = Sha256::digest(message.as_bytes());
    let signature = key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).expect("RSA signing");
    STANDARD.encode(signature)
}

pub fn verify(key: &RsaPublicKey, message: &str, signature_b64: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let digest = Sha256::digest(message.as_bytes());
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature).is_ok()
}

pub fn encrypt(api_v3_key: &[u8; 32], nonce: &str, associated_data: &str, plaintext: &[u8]) -> String {
    let cipher = Aes256Gcm::new(&(*api_v3_key).into());
    let ct = cipher
        .encrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: plaintext, aad: associated_data.as_bytes() })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    STANDARD.encode(ct)
}

/// `None` if the nonce is not 12 bytes, the ciphertext is not base64 or fails its tag.
pub fn decrypt(api_v3_key: &[u8; 32], resource: &Resource) -> Option<Vec<u8>> {
    if resource.nonce.len() != 12 || resource.algorithm != "AEAD_AES_256_GCM" {
        return None;
    }
    let ct = STANDARD.decode(&resource.ciphertext).ok()?;
    let cipher = Aes256Gcm::new(&(*api_v3_key).into());
    cipher
        .decrypt(
            Nonce::from_slice(resource.nonce.as_bytes()),
            Payload { msg: &ct, aad: resource.associated_data.as_bytes() },
        )
        .ok()
}

/// A random 32-character alphanumeric nonce, as WeChat Pay's.
pub fn random_nonce(len: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Builds and signs a `TRANSACTION.SUCCESS` notification.
pub fn build_notification(keys: &super::keys::ProviderKeys, params: &NotifyParams) -> SignedNotification {
    let plaintext = serde_json::to_vec(&params.transaction).expect("serialises");
    let resource_nonce = random_nonce(12);
    let associated_data = "transaction".to_owned();
    let body = NotifyBody {
        id: params.id.clone(),
        create_time: crate::clock::rfc3339(params.timestamp * 1000),
        event_type: "TRANSACTION.SUCCESS".to_owned(),
        resource_type: "encrypt-resource".to_owned(),
        resource: Resource {
            algorithm: "AEAD_AES_256_GCM".to_owned(),
            ciphertext: encrypt(&keys.api_v3_key, &resource_nonce, &associated_data, &plaintext),
            nonce: resource_nonce,
            associated_data,
        },
    };
    let body = serde_json::to_string(&body).expect("serialises");
    let timestamp = params.timestamp.to_string();
    let signature = sign(&keys.private, &message(&timestamp, &params.nonce, &body));
    SignedNotification {
        headers: vec![
            (H_TIMESTAMP, timestamp),
            (H_NONCE, params.nonce.clone()),
            (H_SERIAL, keys.serial.clone()),
            (H_SIGNATURE, signature),
        ],
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_gcm_round_trip_binds_aad() {
        let key = [9u8; 32];
        let r = Resource {
            algorithm: "AEAD_AES_256_GCM".into(),
            ciphertext: encrypt(&key, "abcdefghijkl", "transaction", b"hello"),
            nonce: "abcdefghijkl".into(),
            associated_data: "transaction".into(),
        };
        assert_eq!(decrypt(&key, &r).unwrap(), b"hello");
        let other = Resource { associated_data: "x".into(), ..r.clone() };
        assert!(decrypt(&key, &other).is_none());
        assert!(decrypt(&[8u8; 32], &r).is_none());
    }
}
