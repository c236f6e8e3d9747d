//! Payment notifications (WeChat Pay API v3 shape): any headers and body are refused or read, never a
//! panic. Lines 1–4 of the input are the four headers, the rest the body; the body is also read as an
//! authenticated one would be, and the input sealed as a transaction resource must read back as itself.
#![no_main]
use std::sync::OnceLock;

use jingtong_wechatpay::{authenticate, read_body, sealed_body, Headers, Notice, Platform, Refusal};
use libfuzzer_sys::fuzz_target;
use rsa::{RsaPrivateKey, RsaPublicKey};

const KEY: [u8; 32] = [5u8; 32];

fn platform_key() -> &'static RsaPublicKey {
    static KEY: OnceLock<RsaPublicKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPublicKey::from(&RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap()))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(5, '\n').map(|l| l.to_owned());
    let headers =
        Headers { timestamp: lines.next(), nonce: lines.next(), serial: lines.next(), signature: lines.next() };
    let body = lines.next().unwrap_or_default();
    let platform = Platform { serial: "fuzz-serial", key: platform_key(), window_seconds: 300 };
    // Nobody without the platform's private key gets past the signature.
    let verdict = authenticate(&headers, &body, &platform, 1_800_000_000);
    assert!(matches!(
        verdict,
        Err(Refusal::MissingHeaders | Refusal::UnknownSerial | Refusal::BadSignature)
    ));
    let _ = read_body(&body, &KEY);
    let sealed = sealed_body("fuzz", 1_800_000_000, &KEY, data);
    match read_body(&sealed, &KEY) {
        Ok(Notice::Transaction(t)) => {
            let again = serde_json::to_vec(&t).unwrap();
            let sealed_again = sealed_body("fuzz", 1_800_000_000, &KEY, &again);
            assert_eq!(read_body(&sealed_again, &KEY), Ok(Notice::Transaction(t)));
        }
        Ok(Notice::Other(_)) => panic!("a sealed body is a TRANSACTION.SUCCESS"),
        Err(r) => assert_eq!(r, Refusal::NotATransaction),
    }
});
