//! Vehicle moving (一键挪车) rules: monthly limit, one open request per plate, photos, reminder and
//! escalation timers, and the abuse suspension. Server enforces them; the app shows them with sources.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{check_version, parse_toml, RulesError};

const FILE: &str = "vehicle_moves.toml";
const MOVES_TOML: &str = include_str!("../data/vehicle_moves.toml");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MoveLimits {
    pub requests_per_month: u32,
    pub requests_per_month_source: String,
    pub open_requests_per_plate: u32,
    pub open_requests_per_plate_source: String,
    pub photos_min: u32,
    pub photos_max: u32,
    pub photos_source: String,
    pub photos_kept_days: u32,
    pub photos_kept_source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MoveTimers {
    pub reminder_after_minutes: u32,
    pub escalate_after_minutes: u32,
    pub timers_source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MoveAbuse {
    pub malicious_reports_to_suspend: u32,
    pub suspension_days: u32,
    pub abuse_source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MoveDuty {
    pub source: String,
    pub privacy_source: String,
}

/// The whole rule set, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MoveRules {
    pub version: String,
    pub limits: MoveLimits,
    pub timers: MoveTimers,
    pub abuse: MoveAbuse,
    pub duty: MoveDuty,
}

impl MoveRules {
    /// The embedded rules, parsed and validated once.
    pub fn load() -> &'static MoveRules {
        static RULES: OnceLock<MoveRules> = OnceLock::new();
        RULES.get_or_init(|| MoveRules::from_toml(MOVES_TOML).expect("embedded vehicle_moves.toml is valid"))
    }

    pub fn from_toml(src: &str) -> Result<MoveRules, RulesError> {
        let rules: MoveRules = parse_toml(FILE, src)?;
        check_version(FILE, &rules.version)?;
        let invalid = |message: &str| Err(RulesError::Invalid { file: FILE, message: message.to_owned() });
        if rules.limits.photos_min == 0 || rules.limits.photos_min > rules.limits.photos_max {
            return invalid("photos_min must be 1..=photos_max");
        }
        if rules.timers.reminder_after_minutes == 0
            || rules.timers.escalate_after_minutes <= rules.timers.reminder_after_minutes
        {
            return invalid("escalation must come after the reminder window");
        }
        if rules.limits.requests_per_month == 0 || rules.abuse.malicious_reports_to_suspend == 0 {
            return invalid("limits must be at least 1");
        }
        Ok(rules)
    }

    pub fn reminder_after_ms(&self) -> i64 {
        i64::from(self.timers.reminder_after_minutes) * 60_000
    }

    pub fn escalate_after_ms(&self) -> i64 {
        i64::from(self.timers.escalate_after_minutes) * 60_000
    }

    pub fn photos_kept_ms(&self) -> i64 {
        i64::from(self.limits.photos_kept_days) * 24 * 3600 * 1000
    }

    pub fn suspension_ms(&self) -> i64 {
        i64::from(self.abuse.suspension_days) * 24 * 3600 * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_are_the_published_numbers() {
        let r = MoveRules::load();
        assert_eq!(r.limits.requests_per_month, 5);
        assert_eq!(r.limits.open_requests_per_plate, 1);
        assert_eq!((r.limits.photos_min, r.limits.photos_max), (2, 3));
        assert_eq!(r.reminder_after_ms(), 10 * 60_000);
        assert_eq!(r.escalate_after_ms(), 20 * 60_000);
        assert_eq!(r.abuse.malicious_reports_to_suspend, 3);
        assert_eq!(r.suspension_ms(), 365 * 86_400_000);
        assert!(r.duty.source.contains("第九十三条"));
    }

    #[test]
    fn escalation_before_the_reminder_is_refused() {
        let src = MOVES_TOML.replace("escalate_after_minutes = 20", "escalate_after_minutes = 5");
        assert!(matches!(MoveRules::from_toml(&src), Err(RulesError::Invalid { .. })));
    }

    #[test]
    fn an_unknown_key_is_refused_not_ignored() {
        let src = MOVES_TOML.replace("[timers]", "[timers]\nreminder_after_minutes_typo = 3");
        assert!(matches!(MoveRules::from_toml(&src), Err(RulesError::Parse { .. })));
    }
}
