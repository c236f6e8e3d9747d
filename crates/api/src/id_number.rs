use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::ErrorCode;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";
/// Province-level codes of GB/T 2260 (plus 83, used on residence permits for Taiwan residents).
/// Whether a 2-digit GB/T 2260 province code is one a resident ID number can start with.
pub fn region_known(two_digits: &str) -> bool {
    two_digits.parse::<u8>().is_ok_and(|p| two_digits.len() == 2 && PROVINCES.contains(&p))
}

const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// An 18-character resident ID number (GB 11643-1999): a region code, a real birth date that is
/// not in the future, a sequence code and the ISO 7064 MOD 11-2 check character.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses against today's date in China.
    pub fn parse(input: &str) -> Result<IdNumber, ErrorCode> {
        let today = (time::OffsetDateTime::now_utc() + time::Duration::hours(8)).date();
        IdNumber::parse_on(input, today)
    }

    pub fn parse_on(input: &str, today: Date) -> Result<IdNumber, ErrorCode> {
        let s: String = input.trim().to_ascii_uppercase().chars().filter(|c| *c != ' ').collect();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(ErrorCode::IdNumberInvalid);
        }
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(ErrorCode::IdNumberInvalid);
        }
        let birth = birth_date(&s).ok_or(ErrorCode::IdNumberInvalid)?;
        if birth > today || birth.year() < 1900 {
            return Err(ErrorCode::IdNumberInvalid);
        }
        if b[17] != check_char(&s[..17]) {
            return Err(ErrorCode::IdNumberInvalid);
        }
        Ok(IdNumber(s))
    }

    /// Builds a valid number from 17 digits by appending the check character. For generated test identities.
    pub fn from_first17(first17: &str) -> Result<IdNumber, ErrorCode> {
        if first17.len() != 17 || !first17.bytes().all(|c| c.is_ascii_digit()) {
            return Err(ErrorCode::IdNumberInvalid);
        }
        let full = format!("{first17}{}", check_char(first17) as char);
        IdNumber::parse(&full)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        birth_date(&self.0).expect("checked at parse")
    }

    /// GB 11643: an odd 17th digit is male.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// `3401**********1234`: the only form allowed in logs.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

fn birth_date(s: &str) -> Option<Date> {
    let year: i32 = s.get(6..10)?.parse().ok()?;
    let month: u8 = s.get(10..12)?.parse().ok()?;
    let day: u8 = s.get(12..14)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn check_char(first17: &str) -> u8 {
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

impl FromStr for IdNumber {
    type Err = ErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

impl TryFrom<String> for IdNumber {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(v: IdNumber) -> String {
        v.0
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 29);

    fn fictional(first17: &str) -> String {
        format!("{first17}{}", check_char(first17) as char)
    }

    #[test]
    fn check_digit_matches_the_standard_example() {
        // The worked example printed in GB 11643-1999 itself.
        assert_eq!(check_char("11010519491231002"), b'X');
    }

    #[test]
    fn accepts_a_generated_number_and_reads_it() {
        let s = fictional("34160219900101003");
        let id = IdNumber::parse_on(&s.to_lowercase(), TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1990 - 01 - 01));
        assert!(id.is_male());
        assert_eq!(id.masked(), format!("3416**********{}", &s[14..]));
        assert!(!format!("{id:?}").contains(&s));
    }

    #[test]
    fn rejects_each_kind_of_mistake() {
        let good = fictional("34160219900101003");
        let wrong_check = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
        let cases = [
            wrong_check,
            fictional("99160219900101003"),           // no such province
            fictional("34160219900231003"),           // 31 February
            fictional("34160220991231003"),           // born in the future
            fictional("34160218991231003"),           // before 1900
            good[..17].to_string(),                   // too short
            format!("{good}1"),                       // too long
            format!("{}A{}", &good[..5], &good[6..]), // a letter inside
        ];
        for c in cases {
            assert_eq!(IdNumber::parse_on(&c, TODAY), Err(ErrorCode::IdNumberInvalid), "{c}");
        }
    }

    proptest! {
        #[test]
        fn any_real_birth_date_with_right_check_digit_parses(
            p in proptest::sample::select(PROVINCES.to_vec()),
            region in 0u32..10_000,
            days in 0i64..40_000,
            seq in 0u32..1000,
        ) {
            let birth = date!(1910 - 01 - 01) + time::Duration::days(days);
            prop_assume!(birth <= TODAY);
            let first17 = format!("{p:02}{region:04}{:04}{:02}{:02}{seq:03}", birth.year(), birth.month() as u8, birth.day());
            let id = IdNumber::parse_on(&fictional(&first17), TODAY).unwrap();
            prop_assert_eq!(id.birth_date(), birth);
        }

        #[test]
        fn changing_one_digit_is_caught(pos in 0usize..17, delta in 1u8..10) {
            let good = fictional("34160219900101003");
            let mut b = good.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(IdNumber::parse_on(&s, TODAY).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = IdNumber::parse_on(&s, TODAY);
        }
    }
}
