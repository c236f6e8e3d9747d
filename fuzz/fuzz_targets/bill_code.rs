//! Bill QR payloads: any text must parse or be refused, never panic; a code that parses re-signs to itself.
#![no_main]
use jingtong_api::bill::{BillCode, SigningKey, TrustedIssuers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let trusted = TrustedIssuers::new().with("fuzz-1", key.verifying_key());
    let text = String::from_utf8_lossy(data);
    if let Ok(bill) = BillCode::parse(&text, &trusted, time::macros::date!(2026 - 11 - 29)) {
        let again = bill.sign(&key).expect("a parsed bill signs");
        assert_eq!(BillCode::parse(&again, &trusted, time::macros::date!(2026 - 11 - 29)).ok(), Some(bill));
    }
});
