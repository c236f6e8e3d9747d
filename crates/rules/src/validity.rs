//! How long a resident ID card is valid, by age at application (居民身份证法 第五条), and end dates.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// Validity of a card. Serialised as `{"years": 10}`, `{"months": 3}` (a temporary card) or `"long_term"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Validity {
    Years(u8),
    /// A fixed number of months from the issue date (临时居民身份证: three).
    Months(u8),
    /// 长期: no end date.
    LongTerm,
}

impl Validity {
    /// The end date printed on a card valid from `valid_from` (its 签发日期): same month and day, `n` years later
    /// (a 29 February start ends on 28 February in a common year, so the card never outlives its term).
    /// `None` for a long-term card.
    pub fn expiry(self, valid_from: Date) -> Option<Date> {
        match self {
            Validity::Years(n) => Some(add_years(valid_from, n)),
            Validity::Months(n) => Some(add_months(valid_from, n)),
            Validity::LongTerm => None,
        }
    }
}

/// 居民身份证法 第五条: under 16 → 5 years; 16–25 → 10; 26–45 → 20; 46 and over → long-term.
/// Age is in completed years on `application_date` (see [`age_on`]).
pub fn card_validity(birth_date: Date, application_date: Date) -> Validity {
    match age_on(birth_date, application_date) {
        0..=15 => Validity::Years(5),
        16..=25 => Validity::Years(10),
        26..=45 => Validity::Years(20),
        _ => Validity::LongTerm,
    }
}

/// Completed years (周岁) on `on`; 0 if `on` is before the birth.
///
/// Someone born on 29 February completes a year on 1 March in common years, not on 28 February: a full year has not
/// passed until 28 February is over. (An assumption: the statute does not say; it only matters at the 16/26/46
/// boundaries.)
pub fn age_on(birth_date: Date, on: Date) -> u32 {
    if on < birth_date {
        return 0;
    }
    let years = (on.year() - birth_date.year()) as u32;
    let anniversary = anniversary_in(birth_date, on.year());
    if on < anniversary {
        years - 1
    } else {
        years
    }
}

fn anniversary_in(birth_date: Date, year: i32) -> Date {
    birth_date.replace_year(year).unwrap_or_else(|_| {
        // Only 29 February fails, in a common year.
        Date::from_calendar_date(year, Month::March, 1).expect("1 March exists")
    })
}

/// Same month and day `years` later; 29 February becomes 28 February in a common year.
pub fn add_years(date: Date, years: u8) -> Date {
    let year = date.year() + i32::from(years);
    date.replace_year(year)
        .unwrap_or_else(|_| Date::from_calendar_date(year, Month::February, 28).expect("28 February exists"))
}

/// Same day `months` later, clamped to the end of a shorter month (30 November + 3 months = 28 February).
pub fn add_months(date: Date, months: u8) -> Date {
    let index = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + i32::from(months);
    let year = index.div_euclid(12);
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).expect("1..=12");
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).expect("clamped to the month")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn validity_at_each_age_boundary() {
        let birth = date!(2000 - 03 - 15);
        // The day before the 16th birthday: 15 years and 364 days.
        assert_eq!(card_validity(birth, date!(2016 - 03 - 14)), Validity::Years(5));
        assert_eq!(card_validity(birth, date!(2016 - 03 - 15)), Validity::Years(10));
        assert_eq!(card_validity(birth, date!(2026 - 03 - 14)), Validity::Years(10)); // 25
        assert_eq!(card_validity(birth, date!(2026 - 03 - 15)), Validity::Years(20)); // 26
        assert_eq!(card_validity(birth, date!(2046 - 03 - 14)), Validity::Years(20)); // 45
        assert_eq!(card_validity(birth, date!(2046 - 03 - 15)), Validity::LongTerm); // 46
        assert_eq!(card_validity(birth, date!(2000 - 03 - 15)), Validity::Years(5)); // newborn
        assert_eq!(card_validity(birth, date!(2090 - 01 - 01)), Validity::LongTerm);
    }

    #[test]
    fn validity_for_29_february_births() {
        let birth = date!(2008 - 02 - 29);
        // 2024 is a leap year: the 16th birthday is 29 February itself.
        assert_eq!(card_validity(birth, date!(2024 - 02 - 28)), Validity::Years(5));
        assert_eq!(card_validity(birth, date!(2024 - 02 - 29)), Validity::Years(10));
        // 2034 and 2054 are common years: 26 and 46 are reached on 1 March.
        assert_eq!(card_validity(birth, date!(2034 - 02 - 28)), Validity::Years(10));
        assert_eq!(card_validity(birth, date!(2034 - 03 - 01)), Validity::Years(20));
        assert_eq!(card_validity(birth, date!(2054 - 02 - 28)), Validity::Years(20));
        assert_eq!(card_validity(birth, date!(2054 - 03 - 01)), Validity::LongTerm);
        // Born 29 February 2000: 16 in 2016 (leap), the day before is still under 16.
        assert_eq!(card_validity(date!(2000 - 02 - 29), date!(2016 - 02 - 28)), Validity::Years(5));
        assert_eq!(card_validity(date!(2000 - 02 - 29), date!(2016 - 02 - 29)), Validity::Years(10));
    }

    #[test]
    fn age_is_zero_before_birth() {
        assert_eq!(age_on(date!(2010 - 05 - 01), date!(2010 - 04 - 30)), 0);
        assert_eq!(age_on(date!(2010 - 05 - 01), date!(2011 - 04 - 30)), 0);
        assert_eq!(age_on(date!(2010 - 05 - 01), date!(2011 - 05 - 01)), 1);
    }

    #[test]
    fn expiry_dates() {
        assert_eq!(Validity::Years(10).expiry(date!(2026 - 11 - 29)), Some(date!(2036 - 11 - 29)));
        assert_eq!(Validity::Years(20).expiry(date!(2026 - 01 - 31)), Some(date!(2046 - 01 - 31)));
        assert_eq!(Validity::Years(5).expiry(date!(2024 - 02 - 29)), Some(date!(2029 - 02 - 28)));
        assert_eq!(Validity::Years(20).expiry(date!(2024 - 02 - 29)), Some(date!(2044 - 02 - 29)));
        assert_eq!(Validity::LongTerm.expiry(date!(2026 - 11 - 29)), None);
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(date!(2026 - 11 - 29), 3), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2027 - 11 - 30), 3), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 10 - 08), 3), date!(2027 - 01 - 08));
        assert_eq!(add_months(date!(2026 - 05 - 31), 1), date!(2026 - 06 - 30));
        assert_eq!(add_months(date!(2026 - 12 - 31), 0), date!(2026 - 12 - 31));
    }

    #[test]
    fn serialises_for_the_ui() {
        assert_eq!(serde_json::to_string(&Validity::Years(10)).unwrap(), r#"{"years":10}"#);
        assert_eq!(serde_json::to_string(&Validity::LongTerm).unwrap(), r#""long_term""#);
    }
}
