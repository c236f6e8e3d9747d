//! Working days of mainland China: the State Council's yearly holiday arrangements (with 调休 working weekends), an
//! override table that wins over everything, and plain weekends for years whose notice is not yet published.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;
use time::{Date, Weekday};

use crate::{check_version, de_date, de_dates, parse_toml, RulesError};

const FILE: &str = "holidays_cn.toml";
const HOLIDAYS_TOML: &str = include_str!("../data/holidays_cn.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarData {
    version: String,
    years: Vec<YearData>,
    #[serde(default, rename = "override")]
    overrides: Vec<OverrideData>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearData {
    year: i32,
    published: bool,
    source: String,
    #[serde(default)]
    holidays: Vec<HolidayData>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayData {
    name: String,
    #[serde(deserialize_with = "de_date")]
    from: Date,
    #[serde(deserialize_with = "de_date")]
    to: Date,
    #[serde(deserialize_with = "de_dates")]
    working: Vec<Date>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideData {
    #[serde(deserialize_with = "de_date")]
    date: Date,
    working: bool,
    reason: String,
}

/// The working-day calendar. Use [`Calendar::load`] for the embedded data.
#[derive(Debug, Clone)]
pub struct Calendar {
    version: String,
    /// Years whose official arrangement is in the data, with the notice cited.
    published: BTreeMap<i32, String>,
    /// Dates the notices set apart from the Monday–Friday rule: `false` for days off, `true` for 调休 working days.
    notices: HashMap<Date, bool>,
    overrides: HashMap<Date, (bool, String)>,
}

impl Calendar {
    /// The embedded calendar, parsed and validated once.
    pub fn load() -> &'static Calendar {
        static CALENDAR: OnceLock<Calendar> = OnceLock::new();
        CALENDAR.get_or_init(|| Calendar::from_toml(HOLIDAYS_TOML).expect("embedded holidays_cn.toml is valid"))
    }

    /// Parses and validates calendar data in the format of `data/holidays_cn.toml`.
    pub fn from_toml(src: &str) -> Result<Calendar, RulesError> {
        let data: CalendarData = parse_toml(FILE, src)?;
        check_version(FILE, &data.version)?;
        let invalid = |message: String| RulesError::Invalid { file: FILE, message };

        let mut published = BTreeMap::new();
        let mut notices = HashMap::new();
        let mut seen_years = Vec::new();
        for y in &data.years {
            if seen_years.contains(&y.year) {
                return Err(invalid(format!("year {} listed twice", y.year)));
            }
            seen_years.push(y.year);
            if y.source.trim().is_empty() {
                return Err(invalid(format!("year {}: empty source", y.year)));
            }
            if !y.published {
                if !y.holidays.is_empty() {
                    return Err(invalid(format!("year {} is unpublished but lists holidays", y.year)));
                }
                continue;
            }
            if y.holidays.is_empty() {
                return Err(invalid(format!("year {} is published but lists no holidays", y.year)));
            }
            for h in &y.holidays {
                let at = format!("{} {}", y.year, h.name);
                if h.name.trim().is_empty() || h.from > h.to || (h.to - h.from).whole_days() > 10 {
                    return Err(invalid(format!("{at}: bad range {}..={}", h.from, h.to)));
                }
                if h.from.year() != y.year && h.to.year() != y.year {
                    return Err(invalid(format!("{at}: range outside the year")));
                }
                let mut d = h.from;
                while d <= h.to {
                    if notices.insert(d, false).is_some() {
                        return Err(invalid(format!("{at}: {d} listed twice")));
                    }
                    d = d.next_day().expect("in range");
                }
                for &w in &h.working {
                    if !is_weekend(w) {
                        return Err(invalid(format!("{at}: 调休 working day {w} is not a weekend day")));
                    }
                    if notices.insert(w, true).is_some() {
                        return Err(invalid(format!("{at}: {w} listed twice")));
                    }
                }
            }
            published.insert(y.year, y.source.clone());
        }

        let mut overrides = HashMap::new();
        for o in data.overrides {
            if o.reason.trim().is_empty() {
                return Err(invalid(format!("override {}: empty reason", o.date)));
            }
            if overrides.insert(o.date, (o.working, o.reason)).is_some() {
                return Err(invalid(format!("override {} listed twice", o.date)));
            }
        }
        Ok(Calendar { version: data.version, published, notices, overrides })
    }

    /// The date the data was last checked (`YYYY-MM-DD`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether `year`'s official arrangement is in the data. When it is not, deadlines in that year are estimates from
    /// weekends and overrides only; the UI should say so.
    pub fn is_published(&self, year: i32) -> bool {
        self.published.contains_key(&year)
    }

    /// The notice cited for `year`, if published.
    pub fn source(&self, year: i32) -> Option<&str> {
        self.published.get(&year).map(String::as_str)
    }

    /// Override first, then the year's notice, then Monday to Friday.
    pub fn is_working_day(&self, date: Date) -> bool {
        if let Some((working, _)) = self.overrides.get(&date) {
            return *working;
        }
        if let Some(working) = self.notices.get(&date) {
            return *working;
        }
        !is_weekend(date)
    }

    /// The `n`-th working day after `start`. Counting starts on the next working day after `start` (the day of
    /// submission itself never counts, whether or not it is a working day), so `n = 1` submitted on a Friday is the
    /// next Monday, and `n = 0` returns `start` unchanged.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date = date.next_day().expect("dates stay far from the end of time");
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// Working days in `(a, b]`: what [`Calendar::add_working_days`] counts, so
    /// `working_days_between(a, add_working_days(a, n)) == n`. Negative when `b` is before `a` (an overdue countdown).
    pub fn working_days_between(&self, a: Date, b: Date) -> i64 {
        let (from, to, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut count = 0;
        let mut date = from;
        while date < to {
            date = date.next_day().expect("before `to`");
            if self.is_working_day(date) {
                count += 1;
            }
        }
        sign * count
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// [`Calendar::is_working_day`] on the embedded calendar.
pub fn is_working_day(date: Date) -> bool {
    Calendar::load().is_working_day(date)
}

/// [`Calendar::add_working_days`] on the embedded calendar.
pub fn add_working_days(start: Date, n: u32) -> Date {
    Calendar::load().add_working_days(start, n)
}

/// [`Calendar::working_days_between`] on the embedded calendar.
pub fn working_days_between(a: Date, b: Date) -> i64 {
    Calendar::load().working_days_between(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn off(days: &[Date]) {
        for &d in days {
            assert!(!is_working_day(d), "{d} should be a day off");
        }
    }

    fn on(days: &[Date]) {
        for &d in days {
            assert!(is_working_day(d), "{d} should be a working day");
        }
    }

    #[test]
    fn embedded_calendar_loads() {
        let c = Calendar::load();
        assert_eq!(c.version(), "2026-11-29");
        assert!(c.is_published(2025) && c.is_published(2026));
        assert!(!c.is_published(2027), "the 2027 notice was not out at this data version");
        assert!(c.source(2026).unwrap().contains("2026年部分节假日安排"));
    }

    #[test]
    fn national_day_golden_weeks() {
        // 2025: 1–8 October off (merged with 中秋), Sunday 28 September and Saturday 11 October worked.
        off(&[date!(2025 - 10 - 01), date!(2025 - 10 - 06), date!(2025 - 10 - 08)]);
        on(&[date!(2025 - 09 - 28), date!(2025 - 10 - 09), date!(2025 - 10 - 11)]);
        off(&[date!(2025 - 10 - 12)]);
        // 2026: 1–7 October off, Sunday 20 September and Saturday 10 October worked; 中秋 25–27 September off.
        for day in 1..=7 {
            off(&[Date::from_calendar_date(2026, time::Month::October, day).unwrap()]);
        }
        on(&[date!(2026 - 09 - 20), date!(2026 - 10 - 08), date!(2026 - 10 - 09), date!(2026 - 10 - 10)]);
        off(&[date!(2026 - 09 - 25), date!(2026 - 10 - 11)]);
    }

    #[test]
    fn spring_festival_with_working_saturdays() {
        // 2026: Saturday 14 February worked, 15–23 February off, Saturday 28 February worked.
        on(&[date!(2026 - 02 - 13), date!(2026 - 02 - 14), date!(2026 - 02 - 24), date!(2026 - 02 - 28)]);
        off(&[date!(2026 - 02 - 15), date!(2026 - 02 - 16), date!(2026 - 02 - 20), date!(2026 - 02 - 23)]);
        off(&[date!(2026 - 03 - 01)]);
        // 2025: Sunday 26 January worked, 28 January–4 February off, Saturday 8 February worked.
        on(&[date!(2025 - 01 - 26), date!(2025 - 01 - 27), date!(2025 - 02 - 05), date!(2025 - 02 - 08)]);
        off(&[date!(2025 - 01 - 28), date!(2025 - 02 - 03), date!(2025 - 02 - 04)]);
        // Across the festival: submitted Friday 13 February 2026, the 1st working day is the 调休 Saturday,
        // the 2nd is Tuesday 24 February.
        assert_eq!(add_working_days(date!(2026 - 02 - 13), 1), date!(2026 - 02 - 14));
        assert_eq!(add_working_days(date!(2026 - 02 - 13), 2), date!(2026 - 02 - 24));
    }

    #[test]
    fn unpublished_year_falls_back_to_weekends_and_overrides() {
        off(&[date!(2027 - 01 - 01)]); // override: 元旦 is statutory
        on(&[date!(2027 - 01 - 04), date!(2027 - 02 - 08)]); // a Monday that will likely be 春节; not known yet
        off(&[date!(2027 - 01 - 02), date!(2027 - 01 - 03)]);
        assert!(!Calendar::load().is_published(2028));
        on(&[date!(2028 - 03 - 01)]);
    }

    #[test]
    fn an_override_wins() {
        let src = format!(
            "{HOLIDAYS_TOML}\n\
             [[override]]\ndate = 2026-10-10\nworking = false\nreason = \"test: 调休 Saturday cancelled\"\n\
             [[override]]\ndate = 2026-10-05\nworking = true\nreason = \"test: holiday worked\"\n\
             [[override]]\ndate = 2026-10-09\nworking = false\nreason = \"test: local closure\"\n"
        );
        let c = Calendar::from_toml(&src).unwrap();
        assert!(!c.is_working_day(date!(2026 - 10 - 10)));
        assert!(c.is_working_day(date!(2026 - 10 - 05)));
        assert!(!c.is_working_day(date!(2026 - 10 - 09)));
        assert!(c.is_working_day(date!(2026 - 10 - 08)));
        // The embedded calendar is untouched.
        assert!(is_working_day(date!(2026 - 10 - 10)));
    }

    #[test]
    fn counting_starts_the_next_working_day() {
        let wed = date!(2026 - 09 - 30);
        assert_eq!(add_working_days(wed, 0), wed);
        assert_eq!(add_working_days(wed, 1), date!(2026 - 10 - 08));
        // Submitted on a day off: that day still does not count.
        assert_eq!(add_working_days(date!(2026 - 10 - 03), 1), date!(2026 - 10 - 08));
        assert_eq!(add_working_days(date!(2026 - 11 - 27), 1), date!(2026 - 11 - 30));
        // Friday → Monday
    }

    #[test]
    fn sixty_working_days() {
        // Submitted Tuesday 15 September 2026. By hand:
        //   September: 16 17 18, Sunday 20 (调休), 21 22 23 24 (25–27 中秋), 28 29 30      → 11
        //   October:   (1–7 国庆) 8 9, Saturday 10 (调休), then 12–16, 19–23, 26–30       → 29
        //   November:  2–6, 9–13, 16–20, 23–27, 30                                       → 50
        //   December:  1–4 → 54, 7–11 → 59, Monday 14 → 60.
        let submitted = date!(2026 - 09 - 15);
        assert_eq!(add_working_days(submitted, 60), date!(2026 - 12 - 14));
        assert_eq!(working_days_between(submitted, date!(2026 - 12 - 14)), 60);
        // +30 for a remote area: December 15–18 → 64, 21–25 → 69, 28–31 → 73, 1 January 2027 off (override),
        // 4–8 → 78, 11–15 → 83, 18–22 → 88, Monday 25 → 89, Tuesday 26 January 2027 → 90.
        assert_eq!(add_working_days(submitted, 90), date!(2027 - 01 - 26));
    }

    #[test]
    fn between_is_signed_and_inverse_of_add() {
        let a = date!(2026 - 01 - 10);
        assert_eq!(working_days_between(a, a), 0);
        for n in [1, 3, 17, 60, 90] {
            let b = add_working_days(a, n);
            assert_eq!(working_days_between(a, b), i64::from(n));
            assert_eq!(working_days_between(b, a), -i64::from(n));
        }
        // A weekend alone holds no working day.
        assert_eq!(working_days_between(date!(2026 - 11 - 27), date!(2026 - 11 - 29)), 0);
    }

    #[test]
    fn bad_data_is_rejected() {
        let weekday_swap = "version = \"2026-11-29\"\n[[years]]\nyear = 2026\npublished = true\nsource = \"x\"\n\
            [[years.holidays]]\nname = \"n\"\nfrom = 2026-10-01\nto = 2026-10-07\nworking = [2026-10-08]\n";
        assert!(Calendar::from_toml(weekday_swap).is_err(), "a 调休 working day must be a weekend day");
        let no_reason = format!("{HOLIDAYS_TOML}\n[[override]]\ndate = 2027-05-06\nworking = false\nreason = \" \"\n");
        assert!(Calendar::from_toml(&no_reason).is_err());
        let twice = format!("{HOLIDAYS_TOML}\n[[override]]\ndate = 2027-01-01\nworking = false\nreason = \"again\"\n");
        assert!(Calendar::from_toml(&twice).is_err());
        let with_time = HOLIDAYS_TOML.replace("from = 2026-10-01", "from = 2026-10-01T00:00:00");
        assert!(Calendar::from_toml(&with_time).is_err());
        let bad_version = HOLIDAYS_TOML.replace("version = \"2026-11-29\"", "version = \"soon\"");
        assert!(Calendar::from_toml(&bad_version).is_err());
    }
}
