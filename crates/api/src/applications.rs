//! Resident ID card and temporary ID card applications (居民身份证 / 临时居民身份证 申领) on the wire:
//! the request a resident submits, what the app shows, the staff API, and the state machine that
//! both the server and the app use to say what may happen next.
//!
//! Dates are `YYYY-MM-DD` (Asia/Shanghai); times RFC 3339 UTC; money integer fen.

use jingtong_rules::{DeliveryOption, ServiceItemId, Validity};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::{ErrorCode, Phone};

/// Every field that is wrong, by its path in the request, with why.
pub type FieldErrors = Vec<(&'static str, ErrorCode)>;

/// Limits of an application, in one place for server, app and docs.
pub mod rules {
    /// GA 461 output size; the server accepts exactly this.
    pub const PHOTO_WIDTH: u32 = 358;
    pub const PHOTO_HEIGHT: u32 = 441;
    /// Largest ID photo JPEG (a platform limit, not part of GA 461).
    pub const PHOTO_MAX_BYTES: usize = 60 * 1024;
    /// The create request carries the photo in base64: a larger body limit on that one route.
    pub const BODY_LIMIT: usize = 256 * 1024;
    /// The fee bill of an application is due this many days after it was made.
    pub const FEE_DUE_DAYS: i64 = 7;
    pub const ADDRESS_MAX_CHARS: usize = 120;
    pub const TEXT_MAX_CHARS: usize = 200;
    pub const TRACKING_MAX_CHARS: usize = 40;
    /// Applications a resident may create per day (stops a runaway client making bills).
    pub const CREATES_PER_DAY: i64 = 10;
    /// Uploaded ID photos the server checks per resident per day (each costs a face match; a resident
    /// retaking a refused photo has plenty).
    pub const PHOTO_CHECKS_PER_DAY: i64 = 20;
}

/// How the ID photo reaches the card office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum PhotoInput {
    /// The GA 461 JPEG made on the device (358×441, at most 60 KB), base64.
    Upload { jpeg_base64: String },
    /// Taken at the station when the resident comes (pickup only).
    OnSite,
}

/// Where the finished card goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum DeliveryInput {
    Pickup {
        station_id: String,
    },
    Post {
        /// GB/T 2260 county code (6 digits), from the area picker.
        region_code: String,
        /// Street, building and room.
        address: String,
        recipient: String,
        phone: String,
    },
}

/// `POST /api/v1/applications` (with an `Idempotency-Key`).
/// Name, ID number and household register come from the verified identity, never from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct ApplicationRequest {
    #[schema(value_type = String, example = "id_card_replacement")]
    pub item: ServiceItemId,
    pub photo: PhotoInput,
    pub delivery: DeliveryInput,
    /// 补领: the day the card was lost (`YYYY-MM-DD`).
    #[serde(default)]
    #[ts(optional)]
    pub loss_date: Option<String>,
    /// 损坏换领: what is wrong with the card.
    #[serde(default)]
    #[ts(optional)]
    pub damage_description: Option<String>,
}

/// A request that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidApplication {
    pub item: ServiceItemId,
    /// The JPEG bytes, or `None` for a photo taken on site.
    pub photo: Option<Vec<u8>>,
    pub delivery: ValidDelivery,
    pub loss_date: Option<Date>,
    pub damage_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidDelivery {
    Pickup { station_id: String },
    Post { region_code: String, address: String, recipient: String, phone: Phone },
}

impl ValidDelivery {
    pub fn option(&self) -> DeliveryOption {
        match self {
            ValidDelivery::Pickup { .. } => DeliveryOption::Pickup,
            ValidDelivery::Post { .. } => DeliveryOption::Post,
        }
    }
}

fn date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The JPEG the server accepts: starts like a JPEG, within the size limit. The pixel size is checked by
/// the server's decoder; the app's pipeline makes exactly 358×441.
pub fn check_photo_bytes(bytes: &[u8]) -> Result<(), ErrorCode> {
    if bytes.len() > rules::PHOTO_MAX_BYTES {
        return Err(ErrorCode::IdPhotoInvalid);
    }
    if bytes.len() < 4 || bytes[..3] != [0xFF, 0xD8, 0xFF] {
        return Err(ErrorCode::IdPhotoInvalid);
    }
    Ok(())
}

impl ApplicationRequest {
    /// Every field error at once, so the form can mark them all. `offered` is the item's delivery options.
    pub fn parse(&self, today: Date, offered: &[DeliveryOption]) -> Result<ValidApplication, FieldErrors> {
        use base64::Engine as _;
        let mut errors = Vec::new();
        let mut fail = |field: &'static str, code: ErrorCode| errors.push((field, code));

        let photo = match &self.photo {
            PhotoInput::OnSite => None,
            PhotoInput::Upload { jpeg_base64 } => {
                match base64::engine::general_purpose::STANDARD.decode(jpeg_base64.trim()) {
                    Ok(bytes) if check_photo_bytes(&bytes).is_ok() => Some(bytes),
                    _ => {
                        fail("photo", ErrorCode::IdPhotoInvalid);
                        None
                    }
                }
            }
        };
        let delivery = match &self.delivery {
            DeliveryInput::Pickup { station_id } => {
                let id = station_id.trim();
                if id.is_empty() || id.len() > 64 {
                    fail("delivery.station_id", ErrorCode::StationUnknown);
                }
                Some(ValidDelivery::Pickup { station_id: id.to_owned() })
            }
            DeliveryInput::Post { region_code, address, recipient, phone } => {
                let region_ok = region_code.len() == 6
                    && region_code.bytes().all(|b| b.is_ascii_digit())
                    && crate::id_number::region_known(&region_code[..2]);
                if !region_ok {
                    fail("delivery.region_code", ErrorCode::AddressInvalid);
                }
                let address = match crate::text::required(address, rules::ADDRESS_MAX_CHARS) {
                    Ok(a) if a.chars().count() >= 5 => Some(a),
                    Ok(_) | Err(ErrorCode::FieldRequired) => {
                        fail("delivery.address", ErrorCode::AddressInvalid);
                        None
                    }
                    Err(code) => {
                        fail("delivery.address", code);
                        None
                    }
                };
                let recipient = crate::identity::parse_name(recipient).ok();
                if recipient.is_none() {
                    fail("delivery.recipient", ErrorCode::NameInvalid);
                }
                let phone = Phone::parse(phone).ok();
                if phone.is_none() {
                    fail("delivery.phone", ErrorCode::PhoneInvalid);
                }
                match (address, recipient, phone) {
                    (Some(address), Some(recipient), Some(phone)) if region_ok => {
                        Some(ValidDelivery::Post { region_code: region_code.clone(), address, recipient, phone })
                    }
                    _ => None,
                }
            }
        };
        if let Some(d) = &delivery {
            if !offered.contains(&d.option()) {
                fail("delivery", ErrorCode::DeliveryNotOffered);
            }
            if photo.is_none() && matches!(self.photo, PhotoInput::OnSite) && d.option() == DeliveryOption::Post {
                // Nobody would be at a station to take it.
                fail("photo", ErrorCode::IdPhotoRequired);
            }
        }
        let loss_date = match (self.item, self.loss_date.as_deref()) {
            (ServiceItemId::IdCardReplacement, None) => {
                fail("loss_date", ErrorCode::FieldRequired);
                None
            }
            (ServiceItemId::IdCardReplacement, Some(s)) => match date(s).filter(|d| *d <= today) {
                Some(d) => Some(d),
                None => {
                    fail("loss_date", ErrorCode::DateInvalid);
                    None
                }
            },
            _ => None,
        };
        let damage_description = match (self.item, self.damage_description.as_deref()) {
            (ServiceItemId::IdCardDamaged, d) => {
                match crate::text::required(d.unwrap_or_default(), rules::TEXT_MAX_CHARS) {
                    Ok(d) => Some(d),
                    Err(code) => {
                        fail("damage_description", code);
                        None
                    }
                }
            }
            _ => None,
        };
        match delivery {
            Some(delivery) if errors.is_empty() => {
                Ok(ValidApplication { item: self.item, photo, delivery, loss_date, damage_description })
            }
            _ => Err(errors),
        }
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ApplicationStatus {
    /// Made, the fee bill is not paid yet.
    AwaitingPayment,
    /// Paid (or free) and waiting for a clerk.
    Submitted,
    /// A clerk checked it (受理).
    Accepted,
    /// The card is being made (制证中).
    InProduction,
    ReadyForPickup,
    /// Sent by post, with a tracking number.
    Posted,
    /// In the resident's hands.
    Completed,
    Rejected,
    /// By the resident, before a clerk accepted it.
    Withdrawn,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 9] = [
        ApplicationStatus::AwaitingPayment,
        ApplicationStatus::Submitted,
        ApplicationStatus::Accepted,
        ApplicationStatus::InProduction,
        ApplicationStatus::ReadyForPickup,
        ApplicationStatus::Posted,
        ApplicationStatus::Completed,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::AwaitingPayment => "awaiting_payment",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Accepted => "accepted",
            ApplicationStatus::InProduction => "in_production",
            ApplicationStatus::ReadyForPickup => "ready_for_pickup",
            ApplicationStatus::Posted => "posted",
            ApplicationStatus::Completed => "completed",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        ApplicationStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still on its way: counts against "one open application per card kind".
    pub fn is_open(self) -> bool {
        !matches!(self, ApplicationStatus::Completed | ApplicationStatus::Rejected | ApplicationStatus::Withdrawn)
    }

    /// The processing time limit runs in these states.
    pub fn deadline_runs(self) -> bool {
        matches!(self, ApplicationStatus::Submitted | ApplicationStatus::Accepted | ApplicationStatus::InProduction)
    }

    /// The resident may withdraw: before a clerk accepted.
    pub fn can_withdraw(self) -> bool {
        matches!(self, ApplicationStatus::AwaitingPayment | ApplicationStatus::Submitted)
    }

    /// Once the fee is paid, leaving the process means the fee is refunded.
    pub fn fee_paid(self) -> bool {
        !matches!(self, ApplicationStatus::AwaitingPayment)
    }
}

/// What a clerk does to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StaffAction {
    Accept,
    Reject,
    StartProduction,
    MarkReady,
    MarkPosted,
    MarkCollected,
}

/// The state machine: where `action` takes an application in `from`, or `None` when it may not.
pub fn transition(from: ApplicationStatus, action: StaffAction, delivery: DeliveryOption) -> Option<ApplicationStatus> {
    use ApplicationStatus as S;
    match (from, action, delivery) {
        (S::Submitted, StaffAction::Accept, _) => Some(S::Accepted),
        (S::Submitted | S::Accepted, StaffAction::Reject, _) => Some(S::Rejected),
        (S::Accepted, StaffAction::StartProduction, _) => Some(S::InProduction),
        (S::InProduction, StaffAction::MarkReady, DeliveryOption::Pickup) => Some(S::ReadyForPickup),
        (S::InProduction, StaffAction::MarkPosted, DeliveryOption::Post) => Some(S::Posted),
        (S::ReadyForPickup | S::Posted, StaffAction::MarkCollected, _) => Some(S::Completed),
        _ => None,
    }
}

/// `POST /api/v1/staff/applications/{id}/transitions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct StaffTransition {
    pub action: StaffAction,
    /// Reject: why, in words the resident understands.
    #[serde(default)]
    #[ts(optional)]
    pub reason: Option<String>,
    /// Reject: what the resident should do now.
    #[serde(default)]
    #[ts(optional)]
    pub what_to_do: Option<String>,
    /// MarkPosted: the EMS tracking number.
    #[serde(default)]
    #[ts(optional)]
    pub tracking_number: Option<String>,
    /// Accept: the clerk compared the uploaded photo with the registry photo. Required when the
    /// application is marked `photo_review` (a borderline match).
    #[serde(default)]
    #[ts(optional)]
    pub photo_compared: Option<bool>,
}

impl StaffTransition {
    /// The fields each action needs, checked before the state machine; the texts come back
    /// normalised (NFC, trimmed), as they are stored.
    pub fn check(&self) -> Result<StaffTransition, FieldErrors> {
        let mut errors = Vec::new();
        let mut valid = self.clone();
        let need = |v: &Option<String>| crate::text::required(v.as_deref().unwrap_or_default(), rules::TEXT_MAX_CHARS);
        match self.action {
            StaffAction::Reject => {
                match need(&self.reason) {
                    Ok(t) => valid.reason = Some(t),
                    Err(code) => errors.push(("reason", code)),
                }
                match need(&self.what_to_do) {
                    Ok(t) => valid.what_to_do = Some(t),
                    Err(code) => errors.push(("what_to_do", code)),
                }
            }
            StaffAction::MarkPosted => {
                let ok = self.tracking_number.as_deref().is_some_and(|t| {
                    let t = t.trim();
                    !t.is_empty()
                        && t.len() <= rules::TRACKING_MAX_CHARS
                        && t.bytes().all(|b| b.is_ascii_alphanumeric())
                });
                if !ok {
                    errors.push(("tracking_number", ErrorCode::FieldRequired));
                }
            }
            _ => {}
        }
        if errors.is_empty() {
            Ok(valid)
        } else {
            Err(errors)
        }
    }
}

/// A police station where cards are collected (受理点 / 领证点).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct PickupStation {
    pub id: String,
    pub name: String,
    pub address: String,
    pub hours: String,
    pub region_code: String,
}

/// Who moved an application on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Actor {
    Resident,
    Clerk,
    /// The payment provider's notification.
    Payment,
    System,
}

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct ApplicationEvent {
    pub at: String,
    pub status: ApplicationStatus,
    pub actor: Actor,
    /// E.g. the rejection reason or the tracking number.
    #[ts(optional)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct DeliveryView {
    #[schema(value_type = String)]
    pub kind: DeliveryOption,
    #[ts(optional)]
    pub station: Option<PickupStation>,
    /// Post: the area and the street with the middle masked.
    #[ts(optional)]
    pub address_masked: Option<String>,
    #[ts(optional)]
    pub recipient_masked: Option<String>,
    #[ts(optional)]
    pub phone_masked: Option<String>,
    #[ts(optional)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct Rejection {
    pub reason: String,
    pub what_to_do: String,
}

/// One application as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct ApplicationView {
    pub id: String,
    #[schema(value_type = String)]
    pub item: ServiceItemId,
    /// The item's name in the request's language.
    pub item_name: String,
    pub status: ApplicationStatus,
    pub created_at: String,
    pub applicant_name_masked: String,
    pub id_number_masked: String,
    /// `upload` or `on_site`.
    pub photo: String,
    pub delivery: DeliveryView,
    #[ts(type = "number")]
    pub fee_fen: i64,
    /// The fee bill, paid through scan-to-pay (`/pay/bills/{bill_id}`).
    #[ts(optional)]
    pub bill_id: Option<String>,
    /// The last day the card is due (working days from payment), while the limit runs.
    #[ts(optional)]
    pub deadline: Option<String>,
    /// Working days left until `deadline` (0 = due today, negative = late).
    #[ts(optional, type = "number")]
    pub working_days_left: Option<i64>,
    pub time_limit_source: String,
    /// How long the new card will be valid: by age at application, or months from issue (temporary card).
    #[schema(value_type = Object)]
    pub validity: Validity,
    /// The end date (YYYY-MM-DD) of a card with a validity in months, once it is issued.
    #[ts(optional)]
    pub valid_until: Option<String>,
    #[ts(optional)]
    pub rejection: Option<Rejection>,
    pub can_withdraw: bool,
    /// What the resident does next, in the request's language.
    pub next_step: String,
    pub events: Vec<ApplicationEvent>,
}

/// `POST /api/v1/staff/sessions`: a clerk's own sign-in (staff number + password).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffSessionRequest {
    pub staff_number: String,
    pub password: String,
}

impl std::fmt::Debug for StaffSessionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaffSessionRequest({})", self.staff_number)
    }
}

/// One application in a clerk's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StaffApplication {
    pub id: String,
    #[schema(value_type = String)]
    pub item: ServiceItemId,
    pub status: ApplicationStatus,
    #[schema(value_type = String)]
    pub delivery: DeliveryOption,
    pub applicant_name_masked: String,
    pub id_number_masked: String,
    pub created_at: String,
    pub deadline: Option<String>,
    pub tracking_number: Option<String>,
    /// The uploaded photo's match with the registry photo was borderline (or there was nothing to compare
    /// with): compare the two before accepting.
    pub photo_review: bool,
    /// That match as an SFace cosine (1 = the same picture), when it was computed.
    pub photo_match: Option<f32>,
    /// A temporary card's end date (YYYY-MM-DD), once issued.
    pub valid_until: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use ApplicationStatus as S;

    const TODAY: Date = date!(2026 - 11 - 29);
    const BOTH: [DeliveryOption; 2] = [DeliveryOption::Pickup, DeliveryOption::Post];

    fn jpeg() -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0])
    }

    fn replacement() -> ApplicationRequest {
        ApplicationRequest {
            item: ServiceItemId::IdCardReplacement,
            photo: PhotoInput::Upload { jpeg_base64: jpeg() },
            delivery: DeliveryInput::Pickup { station_id: "st-1".into() },
            loss_date: Some("2026-11-20".into()),
            damage_description: None,
        }
    }

    fn fields(r: &ApplicationRequest, offered: &[DeliveryOption]) -> FieldErrors {
        r.parse(TODAY, offered).err().unwrap_or_default()
    }

    #[test]
    fn a_complete_replacement_parses() {
        let v = replacement().parse(TODAY, &BOTH).unwrap();
        assert_eq!(v.loss_date, Some(date!(2026 - 11 - 20)));
        assert!(v.photo.is_some());
    }

    #[test]
    fn every_wrong_field_is_reported_at_once() {
        let mut r = replacement();
        r.photo = PhotoInput::Upload { jpeg_base64: "not base64!".into() };
        r.loss_date = Some("2026-12-01".into());
        r.delivery = DeliveryInput::Post {
            region_code: "990000".into(),
            address: "x".into(),
            recipient: "".into(),
            phone: "123".into(),
        };
        let f = fields(&r, &BOTH);
        for want in [
            ("photo", ErrorCode::IdPhotoInvalid),
            ("loss_date", ErrorCode::DateInvalid),
            ("delivery.region_code", ErrorCode::AddressInvalid),
            ("delivery.address", ErrorCode::AddressInvalid),
            ("delivery.recipient", ErrorCode::NameInvalid),
            ("delivery.phone", ErrorCode::PhoneInvalid),
        ] {
            assert!(f.contains(&want), "{want:?} missing in {f:?}");
        }
    }

    #[test]
    fn item_specific_fields_are_required() {
        let mut r = replacement();
        r.loss_date = None;
        assert_eq!(fields(&r, &BOTH), [("loss_date", ErrorCode::FieldRequired)]);
        r.item = ServiceItemId::IdCardDamaged;
        assert_eq!(fields(&r, &BOTH), [("damage_description", ErrorCode::FieldRequired)]);
        r.damage_description = Some("芯片损坏，无法读取".into());
        assert!(r.parse(TODAY, &BOTH).is_ok());
    }

    #[test]
    fn post_only_where_offered_and_never_with_an_on_site_photo() {
        let mut r = replacement();
        r.item = ServiceItemId::TemporaryIdCard;
        r.delivery = DeliveryInput::Post {
            region_code: "340104".into(),
            address: "演示路 1 号 2 栋 301 室".into(),
            recipient: "测试甲".into(),
            phone: "19900001234".into(),
        };
        assert_eq!(fields(&r, &[DeliveryOption::Pickup]), [("delivery", ErrorCode::DeliveryNotOffered)]);
        r.item = ServiceItemId::IdCardRenewal;
        r.photo = PhotoInput::OnSite;
        assert_eq!(fields(&r, &BOTH), [("photo", ErrorCode::IdPhotoRequired)]);
    }

    #[test]
    fn photo_bytes_over_the_limit_or_not_jpeg_are_refused() {
        assert!(check_photo_bytes(&[0xFF, 0xD8, 0xFF, 0xDB]).is_ok());
        assert_eq!(check_photo_bytes(b"\x89PNG\r\n"), Err(ErrorCode::IdPhotoInvalid));
        let mut big = vec![0xFF, 0xD8, 0xFF];
        big.resize(rules::PHOTO_MAX_BYTES + 1, 0);
        assert_eq!(check_photo_bytes(&big), Err(ErrorCode::IdPhotoInvalid));
    }

    #[test]
    fn the_state_machine_allows_only_the_documented_paths() {
        let pickup = DeliveryOption::Pickup;
        let post = DeliveryOption::Post;
        assert_eq!(transition(S::Submitted, StaffAction::Accept, pickup), Some(S::Accepted));
        assert_eq!(transition(S::Accepted, StaffAction::StartProduction, pickup), Some(S::InProduction));
        assert_eq!(transition(S::InProduction, StaffAction::MarkReady, pickup), Some(S::ReadyForPickup));
        assert_eq!(transition(S::InProduction, StaffAction::MarkPosted, post), Some(S::Posted));
        assert_eq!(transition(S::Posted, StaffAction::MarkCollected, post), Some(S::Completed));
        assert_eq!(transition(S::ReadyForPickup, StaffAction::MarkCollected, pickup), Some(S::Completed));
        assert_eq!(transition(S::Accepted, StaffAction::Reject, post), Some(S::Rejected));
        // Not paid yet, posted to a pickup, ready for a posted card, anything after the end.
        assert_eq!(transition(S::AwaitingPayment, StaffAction::Accept, pickup), None);
        assert_eq!(transition(S::InProduction, StaffAction::MarkPosted, pickup), None);
        assert_eq!(transition(S::InProduction, StaffAction::MarkReady, post), None);
        assert_eq!(transition(S::InProduction, StaffAction::Reject, post), None);
        for end in [S::Completed, S::Rejected, S::Withdrawn] {
            for a in [StaffAction::Accept, StaffAction::Reject, StaffAction::MarkCollected] {
                assert_eq!(transition(end, a, pickup), None);
            }
            assert!(!end.is_open() && !end.can_withdraw());
        }
        assert!(S::Submitted.can_withdraw() && !S::Accepted.can_withdraw());
    }

    #[test]
    fn staff_fields_needed_by_the_action() {
        let t = |action, reason: Option<&str>, tracking: Option<&str>| StaffTransition {
            action,
            reason: reason.map(Into::into),
            what_to_do: reason.map(Into::into),
            tracking_number: tracking.map(Into::into),
            photo_compared: None,
        };
        assert!(t(StaffAction::Reject, None, None).check().is_err());
        assert!(t(StaffAction::Reject, Some("照片不符合要求"), None).check().is_ok());
        assert!(t(StaffAction::MarkPosted, None, None).check().is_err());
        assert!(t(StaffAction::MarkPosted, None, Some("EMS 1")).check().is_err());
        assert!(t(StaffAction::MarkPosted, None, Some("EA123456789CN")).check().is_ok());
    }
}
