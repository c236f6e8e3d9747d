//! Rules as data for the ID card services: the service catalogue (eligibility, fields, materials, fee, time limit,
//! delivery, per-province overrides), card validity by age, and the working-day calendar.
//!
//! The data lives in `data/*.toml`, is embedded in the binary and parsed and validated once. Every rule names its
//! legal source; see the header of `data/service_catalogue.toml` for what is cited and how sure it is.
//! Dates are calendar dates in Asia/Shanghai; money is integer fen.

pub mod calendar;
pub mod catalogue;
pub mod face_photos;
pub mod moves;
pub mod sms;
pub mod staff_sign_in;
pub mod validity;

use time::Date;

pub use calendar::{add_working_days, is_working_day, working_days_between, Calendar};
pub use catalogue::{
    Catalogue, DeliveryOption, Material, ProvinceOverride, RuleKind, RuleSource, ServiceItem, ServiceItemId,
    ServiceItemView, ValidityRule,
};
pub use face_photos::{FacePhotos, PhotoVerdict};
pub use moves::MoveRules;
pub use sms::{SmsBudget, SmsLimits};
pub use staff_sign_in::StaffSignIn;
pub use validity::{add_months, add_years, age_on, card_validity, Validity};

/// The embedded data failed to parse or to validate. Only reachable with edited data: a test loads the real files.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{file}: {source}")]
    Parse {
        file: &'static str,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{file}: {message}")]
    Invalid { file: &'static str, message: String },
}

fn parse_toml<T: serde::de::DeserializeOwned>(file: &'static str, src: &str) -> Result<T, RulesError> {
    toml::from_str(src).map_err(|e| RulesError::Parse { file, source: Box::new(e) })
}

/// `version` is the date the data was last checked, so it must be a real date.
fn check_version(file: &'static str, version: &str) -> Result<(), RulesError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(version, format)
        .map(|_| ())
        .map_err(|_| RulesError::Invalid { file, message: format!("version {version:?} is not a YYYY-MM-DD date") })
}

/// TOML local dates (`2026-10-01`, no time, no offset) into `time::Date`.
fn de_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let dt = <toml::value::Datetime as serde::Deserialize>::deserialize(d)?;
    toml_date(&dt).map_err(serde::de::Error::custom)
}

fn de_dates<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Date>, D::Error> {
    let dts = <Vec<toml::value::Datetime> as serde::Deserialize>::deserialize(d)?;
    dts.iter().map(|dt| toml_date(dt).map_err(serde::de::Error::custom)).collect()
}

fn toml_date(dt: &toml::value::Datetime) -> Result<Date, String> {
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => {
            let month = time::Month::try_from(d.month).map_err(|e| e.to_string())?;
            Date::from_calendar_date(i32::from(d.year), month, d.day).map_err(|e| e.to_string())
        }
        _ => Err(format!("{dt} must be a plain date (YYYY-MM-DD)")),
    }
}
