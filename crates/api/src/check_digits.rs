//! ISO 7064 MOD 97-10 check digits (as in IBAN), the one check every human-facing number uses: bill
//! numbers, e-receipt numbers and case receipt numbers. Two check digits make the whole number
//! ≡ 1 (mod 97), which catches every single wrong digit and every swap of two neighbours, so a typo
//! is told as a typo before any lookup.

/// `body` (ASCII digits) with its two check digits appended.
pub fn append(body: &str) -> String {
    debug_assert!(body.bytes().all(|b| b.is_ascii_digit()));
    let check = 98 - mod97(&format!("{body}00"));
    format!("{body}{check:02}")
}

/// True when `digits` are all ASCII digits, at least three, and end in the right check digits.
pub fn is_valid(digits: &str) -> bool {
    digits.len() >= 3 && digits.bytes().all(|b| b.is_ascii_digit()) && mod97(digits) == 1
}

fn mod97(digits: &str) -> u32 {
    digits.bytes().fold(0, |acc, d| (acc * 10 + u32::from(d - b'0')) % 97)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // ISO 7064 example: 794 → check digits 44.
        assert_eq!(append("794"), "79444");
        assert!(is_valid("79444"));
        assert!(!is_valid("79445") && !is_valid("") && !is_valid("7a444"));
    }

    /// Every single-digit change and every adjacent swap of every valid 6-digit number is refused
    /// (exhaustive over all 10⁴ bodies; longer numbers are covered by the proptests of the types).
    #[test]
    fn every_single_error_and_adjacent_swap_is_caught_exhaustively() {
        for n in 0..10_000u32 {
            let valid = append(&format!("{n:04}"));
            let b = valid.as_bytes();
            for pos in 0..b.len() {
                for d in b'0'..=b'9' {
                    if d != b[pos] {
                        let mut t = b.to_vec();
                        t[pos] = d;
                        assert!(!is_valid(std::str::from_utf8(&t).unwrap()), "{valid} pos {pos}");
                    }
                }
                if pos + 1 < b.len() && b[pos] != b[pos + 1] {
                    let mut t = b.to_vec();
                    t.swap(pos, pos + 1);
                    assert!(!is_valid(std::str::from_utf8(&t).unwrap()), "{valid} swap {pos}");
                }
            }
        }
    }
}
