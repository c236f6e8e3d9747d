//! How many SMS the server sends on a stranger's request: per phone, per case or plate, per client
//! address and per account, each per hour and per day, with the reason for each number.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{check_version, parse_toml, RulesError};

const FILE: &str = "sms_limits.toml";
const SMS_TOML: &str = include_str!("../data/sms_limits.toml");

/// One scope's budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsBudget {
    pub per_hour: u32,
    pub per_day: u32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsLimits {
    pub version: String,
    /// The receiving phone, whatever the purpose.
    pub per_phone: SmsBudget,
    /// The case or the plate the message is about.
    pub per_object: SmsBudget,
    /// The requesting client address.
    pub per_client: SmsBudget,
    /// The requesting account.
    pub per_account: SmsBudget,
}

impl SmsLimits {
    /// The embedded limits, parsed and validated once.
    pub fn load() -> &'static SmsLimits {
        static LIMITS: OnceLock<SmsLimits> = OnceLock::new();
        LIMITS.get_or_init(|| SmsLimits::from_toml(SMS_TOML).expect("embedded sms_limits.toml is valid"))
    }

    pub fn from_toml(src: &str) -> Result<SmsLimits, RulesError> {
        let limits: SmsLimits = parse_toml(FILE, src)?;
        check_version(FILE, &limits.version)?;
        for b in [&limits.per_phone, &limits.per_object, &limits.per_client, &limits.per_account] {
            if b.per_hour == 0 || b.per_day < b.per_hour || b.source.trim().is_empty() {
                let message = "each budget needs 1 <= per_hour <= per_day and a source".to_owned();
                return Err(RulesError::Invalid { file: FILE, message });
            }
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_limits_are_the_published_numbers() {
        let l = SmsLimits::load();
        assert_eq!((l.per_phone.per_hour, l.per_phone.per_day), (5, 10));
        assert_eq!((l.per_object.per_hour, l.per_object.per_day), (3, 6));
        assert_eq!((l.per_client.per_hour, l.per_client.per_day), (20, 50));
        assert_eq!((l.per_account.per_hour, l.per_account.per_day), (10, 20));
        assert!(l.per_phone.source.contains("个人信息保护法"));
    }

    #[test]
    fn a_day_budget_below_the_hour_budget_is_refused() {
        let src = SMS_TOML.replace("per_hour = 5\nper_day = 10", "per_hour = 5\nper_day = 4");
        assert!(matches!(SmsLimits::from_toml(&src), Err(RulesError::Invalid { .. })));
    }
}
