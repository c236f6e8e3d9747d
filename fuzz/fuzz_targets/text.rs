//! Text and RelayedText on any input: a value or a stable error code, never a panic; what parses
//! holds no refused character, stays in its bound and parses again to itself.
#![no_main]
use jingtong_api::text::{allowed_char, relay_refusal};
use jingtong_api::{RelayedText, Text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = Text::<200>::parse(&text) {
        assert!(t.as_str().chars().all(|c| allowed_char(c, false)));
        assert!(t.as_str().chars().count() <= 200);
        assert_eq!(Text::<200>::parse(t.as_str()).ok(), Some(t.clone()));
    }
    if let Ok(r) = RelayedText::<200>::parse(&text) {
        assert_eq!(relay_refusal(r.as_str()), None);
        assert_eq!(RelayedText::<200>::parse(r.as_str()).ok(), Some(r));
    }
});
