//! E-receipt verification codes: parse or refuse, never panic.
#![no_main]
use jingtong_api::bill::{SigningKey, TrustedIssuers};
use jingtong_api::payments::ReceiptCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let trusted = TrustedIssuers::new().with("fuzz-1", key.verifying_key());
    let _ = ReceiptCode::parse(&String::from_utf8_lossy(data), &trusted);
});
