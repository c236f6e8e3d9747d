//! How wrong staff passwords slow down further tries: per staff number a doubling wait after a few
//! free failures (never a lock a stranger could trigger), and a cap per client address.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{check_version, parse_toml, RulesError};

const FILE: &str = "staff_sign_in.toml";
const TOML: &str = include_str!("../data/staff_sign_in.toml");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerStaffNumber {
    pub free_failures: u32,
    pub first_wait_seconds: u32,
    pub max_wait_seconds: u32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerClient {
    pub max_failures: u32,
    pub window_seconds: u32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSignIn {
    pub version: String,
    pub per_staff_number: PerStaffNumber,
    pub per_client: PerClient,
}

impl StaffSignIn {
    /// The embedded rules, parsed and validated once.
    pub fn load() -> &'static StaffSignIn {
        static RULES: OnceLock<StaffSignIn> = OnceLock::new();
        RULES.get_or_init(|| StaffSignIn::from_toml(TOML).expect("embedded staff_sign_in.toml is valid"))
    }

    pub fn from_toml(src: &str) -> Result<StaffSignIn, RulesError> {
        let rules: StaffSignIn = parse_toml(FILE, src)?;
        check_version(FILE, &rules.version)?;
        let s = &rules.per_staff_number;
        let c = &rules.per_client;
        if s.first_wait_seconds == 0
            || s.max_wait_seconds < s.first_wait_seconds
            || c.max_failures == 0
            || c.window_seconds == 0
            || s.source.trim().is_empty()
            || c.source.trim().is_empty()
        {
            let message = "waits need 0 < first <= max, the client cap a window and a count, each a source".to_owned();
            return Err(RulesError::Invalid { file: FILE, message });
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_rules_load_and_nobody_is_ever_locked_for_good() {
        let r = StaffSignIn::load();
        assert_eq!(r.per_staff_number.free_failures, 5);
        assert!(r.per_staff_number.max_wait_seconds <= 3600, "a wait, not a lock");
    }

    #[test]
    fn a_zero_wait_or_a_missing_source_is_refused() {
        let bad = TOML.replace("first_wait_seconds = 60", "first_wait_seconds = 0");
        assert!(StaffSignIn::from_toml(&bad).is_err());
        let bad = TOML.replace("source = \"service_terms: GB/T 22239-2019 8.1.4.1 b)：", "source = \" \" #");
        assert_ne!(bad, TOML);
        assert!(StaffSignIn::from_toml(&bad).is_err());
    }
}
