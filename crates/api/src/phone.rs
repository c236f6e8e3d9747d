use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// A mainland China mobile number: 11 digits, `1[3-9]` then 9 digits.
/// Accepts `+86`/`86` prefixes, spaces and hyphens as people type them.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, ErrorCode> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| (digits.len() == 13).then(|| digits.strip_prefix("86")).flatten())
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        let ok = b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        if ok {
            Ok(Phone(digits.to_owned()))
        } else {
            Err(ErrorCode::PhoneInvalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `139****5678`: the only form that may appear in logs and on screens of other people.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl FromStr for Phone {
    type Err = ErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// Debug never shows the full number, so a stray `{:?}` cannot leak it into a log.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_forms() {
        for s in ["19900001234", "+86 199 0000 1234", "199-0000-1234", "8619900001234"] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "19900001234", "{s}");
        }
    }

    #[test]
    fn rejects_bad_numbers() {
        for s in ["", "1990000123", "199000012345", "12900001234", "29900001234", "1990000123a", "+1 199 0000 1234"] {
            assert_eq!(Phone::parse(s), Err(ErrorCode::PhoneInvalid), "{s}");
        }
    }

    #[test]
    fn masks_middle_digits() {
        let p = Phone::parse("19900001234").unwrap();
        assert_eq!(p.masked(), "199****1234");
        assert!(!format!("{p:?}").contains("19900001234"));
    }

    proptest! {
        #[test]
        fn every_valid_number_round_trips(second in 3u8..=9, rest in "[0-9]{9}") {
            let s = format!("1{second}{rest}");
            let p = Phone::parse(&s).unwrap();
            prop_assert_eq!(p.as_str(), s.as_str());
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<Phone>(&json).unwrap(), p);
        }

        #[test]
        fn wrong_length_is_rejected(s in "1[3-9][0-9]{0,8}|1[3-9][0-9]{10,14}") {
            prop_assert!(Phone::parse(&s).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = Phone::parse(&s);
        }
    }
}
