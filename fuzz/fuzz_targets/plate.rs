//! Plate::parse on any text: a value or a stable error code, never a panic; what parses is stable.
#![no_main]
use jingtong_api::Plate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(v) = Plate::parse(&text) {
        assert_eq!(Plate::parse(v.as_str()).ok().map(|w| w.as_str().to_owned()), Some(v.as_str().to_owned()));
    }
});
