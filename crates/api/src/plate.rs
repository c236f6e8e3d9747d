use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Province abbreviations that open a plate (GA 36-2018).
pub const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
/// Suffixes of special plates: coach, police, trailer, consulate, Hong Kong / Macao crossing, test, oversize.
const SUFFIXES: &str = "学警挂领港澳试超";
/// Third-position letters of new-energy plates: D/A/B/C/E pure electric, F/G/H/J/K other.
const NEV_LETTERS: &str = "DABCEFGHJK";

/// Which kind of plate it is; the vehicle registry and fee rules differ by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateKind {
    Standard,
    NewEnergySmall,
    NewEnergyLarge,
    Special,
    Embassy,
}

/// A motor-vehicle licence plate of mainland China (GA 36): province + issuing-authority letter +
/// 5 characters (6 for new-energy), with special suffixes and the embassy prefix. No I or O anywhere.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Plate {
    text: String,
    #[serde(skip)]
    kind: Option<PlateKind>,
}

fn is_serial(c: char) -> bool {
    (c.is_ascii_uppercase() && c != 'I' && c != 'O') || c.is_ascii_digit()
}

fn authority(c: char) -> bool {
    c.is_ascii_uppercase() && c != 'I' && c != 'O'
}

fn classify(chars: &[char]) -> Option<PlateKind> {
    if chars.first() == Some(&'使') {
        return (chars.len() == 7 && chars[1..].iter().all(char::is_ascii_digit)).then_some(PlateKind::Embassy);
    }
    if chars.len() < 7 || !PROVINCES.contains(chars[0]) || !authority(chars[1]) {
        return None;
    }
    let rest = &chars[2..];
    match rest.len() {
        5 if rest.iter().all(|c| is_serial(*c)) => {
            // The serial holds at most two letters (GA 36-2018 §5.6).
            (rest.iter().filter(|c| c.is_ascii_alphabetic()).count() <= 2).then_some(PlateKind::Standard)
        }
        5 if rest[..4].iter().all(|c| is_serial(*c)) && SUFFIXES.contains(rest[4]) => Some(PlateKind::Special),
        6 if NEV_LETTERS.contains(rest[0]) && is_serial(rest[1]) && rest[2..].iter().all(char::is_ascii_digit) => {
            Some(PlateKind::NewEnergySmall)
        }
        6 if rest[..5].iter().all(char::is_ascii_digit) && NEV_LETTERS.contains(rest[5]) => {
            Some(PlateKind::NewEnergyLarge)
        }
        _ => None,
    }
}

impl Plate {
    pub fn parse(input: &str) -> Result<Plate, ErrorCode> {
        let text: String = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '·' | '•' | '-' | '\u{3000}'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let chars: Vec<char> = text.chars().collect();
        let kind = classify(&chars).ok_or(ErrorCode::PlateInvalid)?;
        Ok(Plate { text, kind: Some(kind) })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> PlateKind {
        self.kind.unwrap_or_else(|| classify(&self.text.chars().collect::<Vec<_>>()).unwrap_or(PlateKind::Standard))
    }

    /// `皖A·***45`: enough for an owner to recognise, not enough to look up.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.text.chars().collect();
        let n = chars.len();
        let head: String = chars[..2.min(n)].iter().collect();
        let tail: String = chars[n.saturating_sub(2)..].iter().collect();
        format!("{head}·{}{tail}", "*".repeat(n.saturating_sub(4)))
    }
}

impl FromStr for Plate {
    type Err = ErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plate::parse(s)
    }
}

impl TryFrom<String> for Plate {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Plate::parse(&s)
    }
}

impl From<Plate> for String {
    fn from(p: Plate) -> String {
        p.text
    }
}

impl fmt::Debug for Plate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plate({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn recognises_each_kind() {
        let cases = [
            ("皖A12345", PlateKind::Standard),
            ("皖a·ab123", PlateKind::Standard),
            ("皖AD12345", PlateKind::NewEnergySmall),
            ("皖AFA1234", PlateKind::NewEnergySmall),
            ("皖A12345D", PlateKind::NewEnergyLarge),
            ("皖A1234学", PlateKind::Special),
            ("皖A1234警", PlateKind::Special),
            ("粤Z1234港", PlateKind::Special),
            ("使123456", PlateKind::Embassy),
        ];
        for (s, kind) in cases {
            assert_eq!(Plate::parse(s).unwrap().kind(), kind, "{s}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "皖A1234",
            "皖A123456",
            "皖I12345",
            "皖A1O345",
            "皖AABC12",
            "A皖12345",
            "X A12345",
            "皖AZ12345",
            "皖A1234D5",
            "使12345",
        ] {
            assert_eq!(Plate::parse(s), Err(ErrorCode::PlateInvalid), "{s}");
        }
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(Plate::parse("皖A12345").unwrap().masked(), "皖A·***45");
    }

    proptest! {
        #[test]
        fn standard_plates_parse(p in proptest::sample::select(PROVINCES.chars().collect::<Vec<_>>()),
                                 a in "[A-HJ-NP-Z]", serial in "[0-9]{3}[A-HJ-NP-Z0-9]{2}") {
            let s = format!("{p}{a}{serial}");
            let plate = Plate::parse(&s).unwrap();
            prop_assert_eq!(plate.as_str(), s.as_str());
            prop_assert_eq!(plate.kind(), PlateKind::Standard);
        }

        #[test]
        fn i_and_o_never_appear(pos in 1usize..7, bad in "[IO]") {
            let mut chars: Vec<char> = "皖A12345".chars().collect();
            chars[pos] = bad.chars().next().unwrap();
            let s: String = chars.into_iter().collect();
            prop_assert!(Plate::parse(&s).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = Plate::parse(&s);
        }
    }
}
