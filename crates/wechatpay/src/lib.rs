//! The notification format of WeChat Pay API v3, used by the local provider to send and by the server
//! to check: headers `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Serial`,
//! `Wechatpay-Signature` = base64(RSA-SHA256 PKCS#1 v1.5 over `"{timestamp}\n{nonce}\n{body}\n"`), and a
//! JSON body whose `resource` is AES-256-GCM ciphertext (API v3 key, `associated_data` as AAD) of the
//! transaction.
//!
//! The local payment provider sends with [`build_notification`]; the server reads with
//! [`authenticate`] (headers, platform key, signature, time window) and, after its replay check,
//! [`read_body`]. Both are pure, so the fuzzer runs them on any input.

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
pub fn build_notification(
    private: &RsaPrivateKey,
    serial: &str,
    api_v3_key: &[u8; 32],
    params: &NotifyParams,
) -> SignedNotification {
    let plaintext = serde_json::to_vec(&params.transaction).expect("serialises");
    let body = sealed_body(&params.id, params.timestamp, api_v3_key, &plaintext);
    let timestamp = params.timestamp.to_string();
    let signature = sign(private, &message(&timestamp, &params.nonce, &body));
    SignedNotification {
        headers: vec![
            (H_TIMESTAMP, timestamp),
            (H_NONCE, params.nonce.clone()),
            (H_SERIAL, serial.to_owned()),
            (H_SIGNATURE, signature),
        ],
        body,
    }
}

/// A `TRANSACTION.SUCCESS` body whose resource is `plaintext`, sealed with the API v3 key.
pub fn sealed_body(id: &str, timestamp: i64, api_v3_key: &[u8; 32], plaintext: &[u8]) -> String {
    let resource_nonce = random_nonce(12);
    let associated_data = "transaction".to_owned();
    let create_time = time::OffsetDateTime::from_unix_timestamp(timestamp)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = NotifyBody {
        id: id.to_owned(),
        create_time,
        event_type: "TRANSACTION.SUCCESS".to_owned(),
        resource_type: "encrypt-resource".to_owned(),
        resource: Resource {
            algorithm: "AEAD_AES_256_GCM".to_owned(),
            ciphertext: encrypt(api_v3_key, &resource_nonce, &associated_data, plaintext),
            nonce: resource_nonce,
            associated_data,
        },
    };
    serde_json::to_string(&body).expect("serialises")
}

/// The four `Wechatpay-*` headers as they arrived (any may be missing).
#[derive(Debug, Clone, Default)]
pub struct Headers {
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub serial: Option<String>,
    pub signature: Option<String>,
}

/// Why a notification is not acted on. The server answers 401 for the first two, 400 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownSerial,
    BadSignature,
    MissingHeaders,
    BadTimestamp,
    OutsideWindow,
    NotANotification,
    ResourceUnreadable,
    NotATransaction,
}

impl Refusal {
    pub fn detail(self) -> &'static str {
        match self {
            Refusal::UnknownSerial => "unknown platform serial",
            Refusal::BadSignature => "signature does not verify",
            Refusal::MissingHeaders => "missing headers",
            Refusal::BadTimestamp => "timestamp not a number",
            Refusal::OutsideWindow => "timestamp outside the window",
            Refusal::NotANotification => "body is not a notification",
            Refusal::ResourceUnreadable => "resource does not decrypt",
            Refusal::NotATransaction => "resource is not a transaction",
        }
    }
}

/// The platform key the notifications must be signed with.
pub struct Platform<'a> {
    pub serial: &'a str,
    pub key: &'a RsaPublicKey,
    /// Largest accepted distance between the notification's timestamp and now.
    pub window_seconds: i64,
}

/// Checks headers, serial, signature and time window; returns the nonce for the replay check.
pub fn authenticate(
    headers: &Headers,
    body: &str,
    platform: &Platform<'_>,
    now_seconds: i64,
) -> Result<String, Refusal> {
    let (Some(timestamp), Some(nonce), Some(serial), Some(signature)) =
        (&headers.timestamp, &headers.nonce, &headers.serial, &headers.signature)
    else {
        return Err(Refusal::MissingHeaders);
    };
    if serial != platform.serial {
        return Err(Refusal::UnknownSerial);
    }
    if !verify(platform.key, &message(timestamp, nonce, body), signature) {
        return Err(Refusal::BadSignature);
    }
    let sent: i64 = timestamp.trim().parse().map_err(|_| Refusal::BadTimestamp)?;
    if now_seconds.checked_sub(sent).is_none_or(|d| d.abs() > platform.window_seconds) {
        return Err(Refusal::OutsideWindow);
    }
    Ok(nonce.clone())
}

/// What an authentic notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Transaction(Transaction),
    /// Another event type (refunds, closures): acknowledged, nothing to do.
    Other(String),
}

/// Reads an authenticated body: the event type, then the sealed transaction.
pub fn read_body(body: &str, api_v3_key: &[u8; 32]) -> Result<Notice, Refusal> {
    let parsed: NotifyBody = serde_json::from_str(body).map_err(|_| Refusal::NotANotification)?;
    if parsed.event_type != "TRANSACTION.SUCCESS" {
        return Ok(Notice::Other(parsed.event_type));
    }
    let plain = decrypt(api_v3_key, &parsed.resource).ok_or(Refusal::ResourceUnreadable)?;
    serde_json::from_slice(&plain).map(Notice::Transaction).map_err(|_| Refusal::NotATransaction)
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

    fn transaction() -> Transaction {
        Transaction {
            out_trade_no: "order-1".into(),
            transaction_id: "4200000001".into(),
            trade_state: "SUCCESS".into(),
            amount: Amount { total: 2000, currency: "CNY".into() },
            success_time: "2026-11-30T10:00:00+08:00".into(),
        }
    }

    #[test]
    fn a_signed_notification_reads_back_and_any_change_is_refused() {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let public = RsaPublicKey::from(&private);
        let key = [3u8; 32];
        let params = NotifyParams {
            id: "n-1".into(),
            timestamp: 1_800_000_000,
            nonce: "abc".into(),
            transaction: transaction(),
        };
        let n = build_notification(&private, "serial-1", &key, &params);
        let h = |name: &str| n.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
        let headers =
            Headers { timestamp: h(H_TIMESTAMP), nonce: h(H_NONCE), serial: h(H_SERIAL), signature: h(H_SIGNATURE) };
        let platform = Platform { serial: "serial-1", key: &public, window_seconds: 300 };
        assert_eq!(authenticate(&headers, &n.body, &platform, 1_800_000_100), Ok("abc".to_owned()));
        assert_eq!(read_body(&n.body, &key), Ok(Notice::Transaction(transaction())));
        let tampered = n.body.replace("n-1", "n-2");
        assert_eq!(authenticate(&headers, &tampered, &platform, 1_800_000_100), Err(Refusal::BadSignature));
        assert_eq!(authenticate(&headers, &n.body, &platform, 1_800_000_400), Err(Refusal::OutsideWindow));
        let other = Platform { serial: "serial-2", ..platform };
        assert_eq!(authenticate(&headers, &n.body, &other, 1_800_000_100), Err(Refusal::UnknownSerial));
        let missing = Headers { nonce: None, ..headers };
        assert_eq!(authenticate(&missing, &n.body, &platform, 1_800_000_100), Err(Refusal::MissingHeaders));
        assert_eq!(read_body(&n.body, &[4u8; 32]), Err(Refusal::ResourceUnreadable));
        assert_eq!(read_body("{}", &key), Err(Refusal::NotANotification));
        let sealed = sealed_body("n-3", 1_800_000_000, &key, b"{\"out_trade_no\":1}");
        assert_eq!(read_body(&sealed, &key), Err(Refusal::NotATransaction));
    }
}
