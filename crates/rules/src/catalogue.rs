//! The service catalogue: what each ID card service item needs, costs and takes, with the legal source of each rule.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::Calendar;
use crate::validity::{add_months, card_validity};
use crate::{check_version, parse_toml, RulesError};

const FILE: &str = "service_catalogue.toml";
const CATALOGUE_TOML: &str = include_str!("../data/service_catalogue.toml");

/// Province-level codes of GB/T 2260 that may carry an override.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];

/// A service item a resident can apply for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ServiceItemId {
    /// 首次申领
    IdCardFirst,
    /// 换领 (有效期满)
    IdCardRenewal,
    /// 损坏换领
    IdCardDamaged,
    /// 补领 (丢失)
    IdCardReplacement,
    /// 临时居民身份证
    TemporaryIdCard,
}

impl ServiceItemId {
    pub const ALL: [ServiceItemId; 5] = [
        ServiceItemId::IdCardFirst,
        ServiceItemId::IdCardRenewal,
        ServiceItemId::IdCardDamaged,
        ServiceItemId::IdCardReplacement,
        ServiceItemId::TemporaryIdCard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceItemId::IdCardFirst => "id_card_first",
            ServiceItemId::IdCardRenewal => "id_card_renewal",
            ServiceItemId::IdCardDamaged => "id_card_damaged",
            ServiceItemId::IdCardReplacement => "id_card_replacement",
            ServiceItemId::TemporaryIdCard => "temporary_id_card",
        }
    }
}

impl fmt::Display for ServiceItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServiceItemId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        ServiceItemId::ALL.into_iter().find(|id| id.as_str() == s).ok_or(())
    }
}

/// How the finished card reaches the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DeliveryOption {
    /// At the police station (派出所 / 受理点).
    Pickup,
    /// By post (EMS) to an address the resident gives.
    Post,
}

/// How long the issued card is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum ValidityRule {
    /// By age at application: see [`crate::card_validity`].
    ByAge,
    /// A fixed number of months from the issue date.
    Months { months: u8 },
}

impl ValidityRule {
    /// The end date of a card issued on `issued_on` to someone born on `birth_date` who applied on
    /// `application_date`; `None` for a long-term card.
    pub fn expiry(self, birth_date: Date, application_date: Date, issued_on: Date) -> Option<Date> {
        match self {
            ValidityRule::ByAge => card_validity(birth_date, application_date).expiry(issued_on),
            ValidityRule::Months { months } => Some(add_months(issued_on, months)),
        }
    }
}

/// A document or act the resident brings or does, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Material {
    pub zh: String,
    pub en: String,
}

/// A province's departure from the national rule. Every set value replaces the national one; `source` is required.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceOverride {
    pub fee_fen: Option<u32>,
    pub time_limit_working_days: Option<u16>,
    pub remote_extra_working_days: Option<u16>,
    pub source: String,
    pub note_zh: Option<String>,
    pub note_en: Option<String>,
}

/// One service item as written in the catalogue (national rules plus province overrides).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    pub id: ServiceItemId,
    pub name_zh: String,
    pub name_en: String,
    pub eligibility_zh: String,
    pub eligibility_en: String,
    /// Source of the eligibility rule.
    pub source: String,
    /// Form fields (ids shared with the UI and the server) every applicant fills in or confirms.
    pub required_fields: Vec<String>,
    /// Extra fields when the applicant is under 16 and a guardian applies.
    #[serde(default)]
    pub under_16_fields: Vec<String>,
    pub materials: Vec<Material>,
    /// National fee in fen (1 yuan = 100 fen).
    pub fee_fen: u32,
    pub fee_source: String,
    pub fee_exemption_zh: Option<String>,
    pub fee_exemption_en: Option<String>,
    pub fee_exemption_source: Option<String>,
    /// Counted with [`Calendar::add_working_days`] from the day of submission.
    pub time_limit_working_days: u16,
    /// Added for remote areas (偏远地区 / 交通不便的地区).
    pub remote_extra_working_days: u16,
    pub time_limit_source: String,
    pub validity: ValidityRule,
    pub validity_source: String,
    pub delivery: Vec<DeliveryOption>,
    /// Keyed by the 2-digit GB/T 2260 province code ("34" = 安徽).
    #[serde(default)]
    pub province_overrides: BTreeMap<String, ProvinceOverride>,
}

impl ServiceItem {
    fn override_for(&self, province_code: u8) -> Option<&ProvinceOverride> {
        self.province_overrides.get(&format!("{province_code:02}"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueData {
    version: String,
    items: Vec<ServiceItem>,
}

/// Which rule a citation backs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RuleKind {
    Eligibility,
    Fee,
    FeeExemption,
    TimeLimit,
    Validity,
    ProvinceOverride,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct RuleSource {
    pub rule: RuleKind,
    pub citation: String,
}

/// A service item as it applies in one province: what the service item page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ServiceItemView {
    pub id: ServiceItemId,
    /// Data versions (the dates the rules and the calendar were last checked).
    pub catalogue_version: String,
    pub calendar_version: String,
    /// 2-digit GB/T 2260 province code the view was resolved for.
    pub province_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub eligibility_zh: String,
    pub eligibility_en: String,
    pub required_fields: Vec<String>,
    pub under_16_fields: Vec<String>,
    pub materials: Vec<Material>,
    pub fee_fen: u32,
    pub fee_exemption_zh: Option<String>,
    pub fee_exemption_en: Option<String>,
    pub time_limit_working_days: u16,
    pub remote_extra_working_days: u16,
    pub validity: ValidityRule,
    pub delivery: Vec<DeliveryOption>,
    pub province_note_zh: Option<String>,
    pub province_note_en: Option<String>,
    pub sources: Vec<RuleSource>,
}

/// The service catalogue with the calendar its deadlines are counted on.
#[derive(Debug, Clone)]
pub struct Catalogue {
    version: String,
    /// In [`ServiceItemId::ALL`] order; validation guarantees each id once.
    items: Vec<ServiceItem>,
    calendar: Calendar,
}

impl Catalogue {
    /// The embedded catalogue and calendar, parsed and validated once.
    pub fn load() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            Catalogue::from_toml(CATALOGUE_TOML, Calendar::load().clone())
                .expect("embedded service_catalogue.toml is valid")
        })
    }

    /// Parses and validates catalogue data in the format of `data/service_catalogue.toml`.
    pub fn from_toml(src: &str, calendar: Calendar) -> Result<Catalogue, RulesError> {
        let data: CatalogueData = parse_toml(FILE, src)?;
        Catalogue::from_data(data, calendar)
    }

    fn from_data(data: CatalogueData, calendar: Calendar) -> Result<Catalogue, RulesError> {
        check_version(FILE, &data.version)?;
        for item in &data.items {
            validate_item(item)
                .map_err(|message| RulesError::Invalid { file: FILE, message: format!("{}: {message}", item.id) })?;
        }
        let mut items = Vec::with_capacity(ServiceItemId::ALL.len());
        for id in ServiceItemId::ALL {
            let mut found = data.items.iter().filter(|i| i.id == id);
            match (found.next(), found.next()) {
                (Some(item), None) => items.push(item.clone()),
                (None, _) => return Err(RulesError::Invalid { file: FILE, message: format!("{id}: missing") }),
                (Some(_), Some(_)) => {
                    return Err(RulesError::Invalid { file: FILE, message: format!("{id}: listed twice") })
                }
            }
        }
        Ok(Catalogue { version: data.version, items, calendar })
    }

    /// The date the catalogue was last checked (`YYYY-MM-DD`).
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn items(&self) -> &[ServiceItem] {
        &self.items
    }

    pub fn item(&self, id: ServiceItemId) -> &ServiceItem {
        self.items.iter().find(|i| i.id == id).expect("every id is present after validation")
    }

    /// Fee in fen for an applicant whose household register (户籍) is in `province_code`; an unknown code gets the
    /// national fee. Exemptions for 低保 residents are decided by a clerk, not here.
    pub fn fee_for(&self, id: ServiceItemId, province_code: u8) -> u32 {
        let item = self.item(id);
        item.override_for(province_code).and_then(|o| o.fee_fen).unwrap_or(item.fee_fen)
    }

    /// Processing time limit in working days, with the remote-area extension when `remote`.
    pub fn time_limit_for(&self, id: ServiceItemId, province_code: u8, remote: bool) -> u16 {
        let item = self.item(id);
        let o = item.override_for(province_code);
        let base = o.and_then(|o| o.time_limit_working_days).unwrap_or(item.time_limit_working_days);
        let extra = o.and_then(|o| o.remote_extra_working_days).unwrap_or(item.remote_extra_working_days);
        if remote {
            base + extra
        } else {
            base
        }
    }

    /// The last day the card is due, counting working days from the day after `submitted_on` (Asia/Shanghai date).
    pub fn deadline(&self, id: ServiceItemId, province_code: u8, remote: bool, submitted_on: Date) -> Date {
        let days = self.time_limit_for(id, province_code, remote);
        self.calendar.add_working_days(submitted_on, u32::from(days))
    }

    /// The item as it applies in `province_code`, for the service item page.
    pub fn view(&self, id: ServiceItemId, province_code: u8) -> ServiceItemView {
        let item = self.item(id);
        let o = item.override_for(province_code);
        let mut sources = vec![
            RuleSource { rule: RuleKind::Eligibility, citation: item.source.clone() },
            RuleSource { rule: RuleKind::Fee, citation: item.fee_source.clone() },
        ];
        if let Some(s) = &item.fee_exemption_source {
            sources.push(RuleSource { rule: RuleKind::FeeExemption, citation: s.clone() });
        }
        sources.push(RuleSource { rule: RuleKind::TimeLimit, citation: item.time_limit_source.clone() });
        sources.push(RuleSource { rule: RuleKind::Validity, citation: item.validity_source.clone() });
        if let Some(o) = o {
            sources.push(RuleSource { rule: RuleKind::ProvinceOverride, citation: o.source.clone() });
        }
        ServiceItemView {
            id,
            catalogue_version: self.version.clone(),
            calendar_version: self.calendar.version().to_string(),
            province_code: format!("{province_code:02}"),
            name_zh: item.name_zh.clone(),
            name_en: item.name_en.clone(),
            eligibility_zh: item.eligibility_zh.clone(),
            eligibility_en: item.eligibility_en.clone(),
            required_fields: item.required_fields.clone(),
            under_16_fields: item.under_16_fields.clone(),
            materials: item.materials.clone(),
            fee_fen: self.fee_for(id, province_code),
            fee_exemption_zh: item.fee_exemption_zh.clone(),
            fee_exemption_en: item.fee_exemption_en.clone(),
            time_limit_working_days: self.time_limit_for(id, province_code, false),
            remote_extra_working_days: self.time_limit_for(id, province_code, true)
                - self.time_limit_for(id, province_code, false),
            validity: item.validity,
            delivery: item.delivery.clone(),
            province_note_zh: o.and_then(|o| o.note_zh.clone()),
            province_note_en: o.and_then(|o| o.note_en.clone()),
            sources,
        }
    }
}

fn validate_item(item: &ServiceItem) -> Result<(), String> {
    let texts = [
        ("name_zh", &item.name_zh),
        ("name_en", &item.name_en),
        ("eligibility_zh", &item.eligibility_zh),
        ("eligibility_en", &item.eligibility_en),
        ("source", &item.source),
        ("fee_source", &item.fee_source),
        ("time_limit_source", &item.time_limit_source),
        ("validity_source", &item.validity_source),
    ];
    for (name, text) in texts {
        if text.trim().is_empty() {
            return Err(format!("{name} is empty"));
        }
    }
    match (&item.fee_exemption_zh, &item.fee_exemption_en, &item.fee_exemption_source) {
        (None, None, None) => {}
        (Some(zh), Some(en), Some(source)) if ![zh, en, source].iter().any(|t| t.trim().is_empty()) => {}
        _ => return Err("fee exemption needs zh, en and source together".into()),
    }
    if item.time_limit_working_days == 0 {
        return Err("time_limit_working_days must be positive".into());
    }
    if item.required_fields.is_empty() || item.required_fields.iter().chain(&item.under_16_fields).any(|f| f.is_empty())
    {
        return Err("required_fields must list non-empty field ids".into());
    }
    if item.materials.is_empty() || item.materials.iter().any(|m| m.zh.trim().is_empty() || m.en.trim().is_empty()) {
        return Err("materials must be listed in zh and en".into());
    }
    if item.delivery.is_empty() || item.delivery.iter().enumerate().any(|(i, d)| item.delivery[..i].contains(d)) {
        return Err("delivery must list distinct options".into());
    }
    if let ValidityRule::Months { months: 0 } = item.validity {
        return Err("validity months must be positive".into());
    }
    for (code, o) in &item.province_overrides {
        let known = code.len() == 2 && code.parse::<u8>().is_ok_and(|c| PROVINCES.contains(&c));
        if !known {
            return Err(format!("province override {code:?} is not a GB/T 2260 province code"));
        }
        if o.source.trim().is_empty() {
            return Err(format!("province override {code}: empty source"));
        }
        if o.fee_fen.is_none() && o.time_limit_working_days.is_none() && o.remote_extra_working_days.is_none() {
            return Err(format!("province override {code}: overrides nothing"));
        }
        if o.time_limit_working_days == Some(0) {
            return Err(format!("province override {code}: time limit must be positive"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const ANHUI: u8 = 34;

    #[test]
    fn embedded_catalogue_validates_and_cites_every_rule() {
        let c = Catalogue::load();
        assert_eq!(c.version(), "2026-11-29");
        assert_eq!(c.calendar().version(), "2026-11-29");
        assert_eq!(c.items().len(), ServiceItemId::ALL.len());
        for id in ServiceItemId::ALL {
            let item = c.item(id);
            assert_eq!(item.id, id);
            for source in [&item.source, &item.fee_source, &item.time_limit_source, &item.validity_source] {
                assert!(!source.trim().is_empty(), "{id}: empty source");
            }
            for o in item.province_overrides.values() {
                assert!(!o.source.trim().is_empty(), "{id}: override without source");
            }
            assert!(item.time_limit_working_days > 0);
        }
    }

    #[test]
    fn national_fees_in_fen() {
        let c = Catalogue::load();
        assert_eq!(c.fee_for(ServiceItemId::IdCardFirst, ANHUI), 2000);
        assert_eq!(c.fee_for(ServiceItemId::IdCardRenewal, ANHUI), 2000);
        assert_eq!(c.fee_for(ServiceItemId::IdCardDamaged, ANHUI), 4000);
        assert_eq!(c.fee_for(ServiceItemId::IdCardReplacement, ANHUI), 4000);
        assert_eq!(c.fee_for(ServiceItemId::TemporaryIdCard, ANHUI), 1000);
        // An unknown province code falls back to the national fee.
        assert_eq!(c.fee_for(ServiceItemId::IdCardReplacement, 99), 4000);
    }

    #[test]
    fn time_limits_and_validity() {
        let c = Catalogue::load();
        for id in [ServiceItemId::IdCardFirst, ServiceItemId::IdCardRenewal, ServiceItemId::IdCardReplacement] {
            assert_eq!(c.time_limit_for(id, ANHUI, false), 60);
            assert_eq!(c.time_limit_for(id, ANHUI, true), 90);
            assert_eq!(c.item(id).validity, ValidityRule::ByAge);
            assert_eq!(c.item(id).delivery, [DeliveryOption::Pickup, DeliveryOption::Post]);
        }
        assert_eq!(c.time_limit_for(ServiceItemId::TemporaryIdCard, ANHUI, false), 3);
        assert_eq!(c.time_limit_for(ServiceItemId::TemporaryIdCard, ANHUI, true), 3);
        assert_eq!(c.item(ServiceItemId::TemporaryIdCard).validity, ValidityRule::Months { months: 3 });
    }

    #[test]
    fn deadlines_count_working_days() {
        let c = Catalogue::load();
        // Worked by hand in calendar::tests::sixty_working_days.
        let submitted = date!(2026 - 09 - 15);
        assert_eq!(c.deadline(ServiceItemId::IdCardRenewal, ANHUI, false, submitted), date!(2026 - 12 - 14));
        assert_eq!(c.deadline(ServiceItemId::IdCardRenewal, ANHUI, true, submitted), date!(2027 - 01 - 26));
        // Temporary card applied for on Wednesday 30 September 2026: 8, 9 October, then the 调休 Saturday.
        assert_eq!(
            c.deadline(ServiceItemId::TemporaryIdCard, ANHUI, false, date!(2026 - 09 - 30)),
            date!(2026 - 10 - 10)
        );
    }

    #[test]
    fn province_override_wins() {
        // The example from the data file's header, applied to a copy: not live data.
        let mut data: CatalogueData = parse_toml(FILE, CATALOGUE_TOML).unwrap();
        let first = data.items.iter_mut().find(|i| i.id == ServiceItemId::IdCardFirst).unwrap();
        first.province_overrides.insert(
            "34".into(),
            ProvinceOverride {
                fee_fen: Some(0),
                time_limit_working_days: Some(30),
                remote_extra_working_days: None,
                source: "test fixture".into(),
                note_zh: Some("本省首次申领免收工本费".into()),
                note_en: Some("First application is free in this province".into()),
            },
        );
        let c = Catalogue::from_data(data, Calendar::load().clone()).unwrap();
        assert_eq!(c.fee_for(ServiceItemId::IdCardFirst, ANHUI), 0);
        assert_eq!(c.fee_for(ServiceItemId::IdCardFirst, 11), 2000);
        assert_eq!(c.fee_for(ServiceItemId::IdCardRenewal, ANHUI), 2000);
        assert_eq!(c.time_limit_for(ServiceItemId::IdCardFirst, ANHUI, false), 30);
        assert_eq!(c.time_limit_for(ServiceItemId::IdCardFirst, ANHUI, true), 60);
        let view = c.view(ServiceItemId::IdCardFirst, ANHUI);
        assert_eq!(view.fee_fen, 0);
        assert_eq!(view.province_note_en.as_deref(), Some("First application is free in this province"));
        assert!(view.sources.iter().any(|s| s.rule == RuleKind::ProvinceOverride && s.citation == "test fixture"));
    }

    #[test]
    fn bad_data_is_rejected() {
        let cal = || Calendar::load().clone();
        let no_source = CATALOGUE_TOML.replacen(
            "fee_source = \"发改价格〔2003〕2322号 第一条 (损坏换领 40 元)\"",
            "fee_source = \"\"",
            1,
        );
        assert_ne!(no_source, CATALOGUE_TOML);
        assert!(Catalogue::from_toml(&no_source, cal()).is_err());
        let no_fee = CATALOGUE_TOML.replacen("fee_fen = 1000\n", "", 1);
        assert!(Catalogue::from_toml(&no_fee, cal()).is_err());
        let no_item = CATALOGUE_TOML.replacen("id = \"temporary_id_card\"", "id = \"id_card_first\"", 1);
        assert!(Catalogue::from_toml(&no_item, cal()).is_err());
        let zero_limit = CATALOGUE_TOML.replacen("time_limit_working_days = 3\n", "time_limit_working_days = 0\n", 1);
        assert!(Catalogue::from_toml(&zero_limit, cal()).is_err());
        let bad_province =
            format!("{CATALOGUE_TOML}\n[items.province_overrides.\"99\"]\nfee_fen = 0\nsource = \"x\"\n");
        assert!(Catalogue::from_toml(&bad_province, cal()).is_err());
        let no_override_source =
            format!("{CATALOGUE_TOML}\n[items.province_overrides.\"34\"]\nfee_fen = 0\nsource = \"\"\n");
        assert!(Catalogue::from_toml(&no_override_source, cal()).is_err());
        let ok_override =
            format!("{CATALOGUE_TOML}\n[items.province_overrides.\"34\"]\nfee_fen = 500\nsource = \"x\"\n");
        let c = Catalogue::from_toml(&ok_override, cal()).unwrap();
        assert_eq!(c.fee_for(ServiceItemId::TemporaryIdCard, ANHUI), 500, "appended to the last item");
    }

    #[test]
    fn view_serialises_for_the_ui() {
        let view = Catalogue::load().view(ServiceItemId::TemporaryIdCard, ANHUI);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["id"], "temporary_id_card");
        assert_eq!(json["province_code"], "34");
        assert_eq!(json["fee_fen"], 1000);
        assert_eq!(json["validity"], serde_json::json!({"kind": "months", "months": 3}));
        assert_eq!(json["delivery"], serde_json::json!(["pickup"]));
        assert!(json["sources"].as_array().unwrap().iter().all(|s| !s["citation"].as_str().unwrap().is_empty()));
    }

    #[test]
    fn card_end_dates_follow_the_item_rule() {
        let c = Catalogue::load();
        let birth = date!(1990 - 06 - 01);
        // Temporary card: three months from issue, whatever the age.
        let temp = c.item(ServiceItemId::TemporaryIdCard).validity;
        assert_eq!(temp.expiry(birth, date!(2026 - 11 - 27), date!(2026 - 11 - 30)), Some(date!(2027 - 02 - 28)));
        // Resident card: 36 at application → 20 years from issue.
        let card = c.item(ServiceItemId::IdCardRenewal).validity;
        assert_eq!(card.expiry(birth, date!(2026 - 11 - 27), date!(2027 - 01 - 15)), Some(date!(2047 - 01 - 15)));
        assert_eq!(card.expiry(date!(1970 - 01 - 01), date!(2026 - 11 - 27), date!(2027 - 01 - 15)), None);
    }

    #[test]
    fn ids_round_trip() {
        for id in ServiceItemId::ALL {
            assert_eq!(id.as_str().parse::<ServiceItemId>(), Ok(id));
        }
        assert!("id_card".parse::<ServiceItemId>().is_err());
    }
}
