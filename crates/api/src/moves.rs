//! Vehicle moving (一键挪车) on the wire: the request a blocked driver files, the owner's answer,
//! the message relay, the timeline both sides see and the traffic police's duty-queue actions.
//! Neither side's phone number is part of any of these types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::applications::FieldErrors;
use crate::plate::PlateKind;
use crate::{ErrorCode, Plate};

/// Photo limits that are about bytes, not policy (policy lives in `jingtong_rules::MoveRules`).
pub mod rules {
    /// One compressed photo (the app makes them ≤ 1280 px, JPEG q 70, usually < 200 KB).
    pub const PHOTO_MAX_BYTES: usize = 400 * 1024;
    /// Three base64 photos and the fields.
    pub const BODY_LIMIT: usize = 3 * PHOTO_MAX_BYTES * 4 / 3 + 16 * 1024;
    pub const ADDRESS_MAX_CHARS: usize = 120;
    pub const NOTE_MAX_CHARS: usize = 200;
    pub const MESSAGE_MAX_CHARS: usize = 200;
    /// An ETA longer than this is not "coming".
    pub const ETA_MAX_MINUTES: u32 = 60;
}

/// The plate types the requester chooses (the colour and size on the plate; GA 36-2018 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PlateType {
    /// 小型汽车 (blue)
    SmallBlue,
    /// 大型汽车 (yellow)
    LargeYellow,
    /// 小型新能源汽车 (green gradient, 8 characters)
    SmallNewEnergy,
    /// 大型新能源汽车 (yellow-green, 8 characters)
    LargeNewEnergy,
    /// 教练汽车 (学)
    Coach,
    /// 挂车 (挂)
    Trailer,
    /// 警用汽车 (警)
    Police,
    /// 使馆汽车 (使)
    Embassy,
    /// 领馆汽车 (领)
    Consulate,
    /// 港澳入出境车 (港 / 澳)
    HongKongMacao,
    /// 试验汽车 (试)
    Test,
    /// 超限汽车 (超)
    Oversize,
}

impl PlateType {
    pub const ALL: [PlateType; 12] = [
        PlateType::SmallBlue,
        PlateType::LargeYellow,
        PlateType::SmallNewEnergy,
        PlateType::LargeNewEnergy,
        PlateType::Coach,
        PlateType::Trailer,
        PlateType::Police,
        PlateType::Embassy,
        PlateType::Consulate,
        PlateType::HongKongMacao,
        PlateType::Test,
        PlateType::Oversize,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlateType::SmallBlue => "small_blue",
            PlateType::LargeYellow => "large_yellow",
            PlateType::SmallNewEnergy => "small_new_energy",
            PlateType::LargeNewEnergy => "large_new_energy",
            PlateType::Coach => "coach",
            PlateType::Trailer => "trailer",
            PlateType::Police => "police",
            PlateType::Embassy => "embassy",
            PlateType::Consulate => "consulate",
            PlateType::HongKongMacao => "hong_kong_macao",
            PlateType::Test => "test",
            PlateType::Oversize => "oversize",
        }
    }

    pub fn parse(s: &str) -> Option<PlateType> {
        PlateType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The plate's characters must be of this type: 8 characters for new-energy, the right suffix
    /// for special plates. Blue and yellow plates share one format; the registry tells them apart.
    pub fn check(self, plate: &Plate) -> Result<(), ErrorCode> {
        let last = plate.as_str().chars().last().unwrap_or(' ');
        let fits = match (self, plate.kind()) {
            (PlateType::SmallBlue | PlateType::LargeYellow, PlateKind::Standard) => true,
            (PlateType::SmallNewEnergy, PlateKind::NewEnergySmall) => true,
            (PlateType::LargeNewEnergy, PlateKind::NewEnergyLarge) => true,
            (PlateType::Embassy, PlateKind::Embassy) => true,
            (PlateType::Coach, PlateKind::Special) => last == '学',
            (PlateType::Trailer, PlateKind::Special) => last == '挂',
            (PlateType::Police, PlateKind::Special) => last == '警',
            (PlateType::Consulate, PlateKind::Special) => last == '领',
            (PlateType::HongKongMacao, PlateKind::Special) => last == '港' || last == '澳',
            (PlateType::Test, PlateKind::Special) => last == '试',
            (PlateType::Oversize, PlateKind::Special) => last == '超',
            _ => false,
        };
        if fits {
            Ok(())
        } else {
            Err(ErrorCode::PlateTypeMismatch)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MoveReason {
    /// 堵住车辆无法驶出
    BlockingCar,
    /// 堵住车库或车位出入口
    BlockingGarage,
    /// 堵塞通道
    BlockingPassage,
    /// 占用消防通道
    FireLane,
    Other,
}

impl MoveReason {
    pub const ALL: [MoveReason; 5] = [
        MoveReason::BlockingCar,
        MoveReason::BlockingGarage,
        MoveReason::BlockingPassage,
        MoveReason::FireLane,
        MoveReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MoveReason::BlockingCar => "blocking_car",
            MoveReason::BlockingGarage => "blocking_garage",
            MoveReason::BlockingPassage => "blocking_passage",
            MoveReason::FireLane => "fire_lane",
            MoveReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<MoveReason> {
        MoveReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the owner's notice words it.
    pub fn text_zh(self) -> &'static str {
        match self {
            MoveReason::BlockingCar => "阻挡他人车辆驶出",
            MoveReason::BlockingGarage => "堵住车库或车位出入口",
            MoveReason::BlockingPassage => "堵塞通道",
            MoveReason::FireLane => "占用消防通道",
            MoveReason::Other => "影响他人通行",
        }
    }
}

/// A device position in millionths of a degree (GCJ-02 as phones report it in China).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct GeoPoint {
    pub lat_e6: i32,
    pub lon_e6: i32,
}

/// What the blocked driver files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct MoveRequest {
    pub plate: String,
    pub plate_type: PlateType,
    /// Where the car stands, as the requester confirmed or typed it.
    pub address: String,
    /// 6-digit GB/T 2260 county code of the place (area picker): picks the traffic brigade.
    pub region_code: String,
    #[ts(optional)]
    pub position: Option<GeoPoint>,
    pub reason: MoveReason,
    #[ts(optional)]
    pub note: Option<String>,
    /// 2–3 JPEG photos (car, plate, obstruction), compressed on the device, base64.
    pub photos: Vec<String>,
    /// The plate is not in the registry: send the request straight to the traffic police.
    #[serde(default)]
    pub escalate_if_unregistered: bool,
}

/// A request that passed every field check.
#[derive(Debug, Clone)]
pub struct ValidMoveRequest {
    pub plate: Plate,
    pub plate_type: PlateType,
    pub address: String,
    pub region_code: String,
    pub position: Option<GeoPoint>,
    pub reason: MoveReason,
    pub note: Option<String>,
    pub photos: Vec<Vec<u8>>,
}

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// A 6-digit county code of a known province.
pub fn region_code_valid(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && crate::id_number::region_known(&code[..2])
}

/// Text the other side reads, cleaned (NFC, trimmed, no hidden characters) and bounded by
/// `max` characters; a link, phone-like number or contact handle is refused
/// ([`crate::text::relay_refusal`]). `too_long` is the code this field gives for over-long text.
fn relayed(text: &str, max: usize, too_long: ErrorCode) -> Result<String, ErrorCode> {
    match crate::text::clean(text, max, false) {
        Ok(t) => crate::text::relay_refusal(&t).map_or(Ok(t), Err),
        Err(e) if e.code == ErrorCode::TextTooLong => Err(too_long),
        Err(e) => Err(e.code),
    }
}

impl MoveRequest {
    /// Every field, with one code per wrong field; `photos` counts come from the rules data.
    pub fn parse(&self, photos_min: usize, photos_max: usize) -> Result<ValidMoveRequest, FieldErrors> {
        use base64::Engine as _;
        let mut errors: FieldErrors = Vec::new();
        let plate = match Plate::parse(&self.plate) {
            Ok(p) => match self.plate_type.check(&p) {
                Ok(()) => Some(p),
                Err(code) => {
                    errors.push(("plate_type", code));
                    None
                }
            },
            Err(code) => {
                errors.push(("plate", code));
                None
            }
        };
        // The owner reads the address: it must not carry the requester's number or link either.
        let address = match relayed(&self.address, rules::ADDRESS_MAX_CHARS, ErrorCode::AddressInvalid) {
            Ok(a) if a.chars().count() >= 4 => a,
            Ok(_) => {
                errors.push(("address", ErrorCode::AddressInvalid));
                String::new()
            }
            Err(code) => {
                errors.push(("address", code));
                String::new()
            }
        };
        if !region_code_valid(&self.region_code) {
            errors.push(("region_code", ErrorCode::AddressInvalid));
        }
        if let Some(p) = self.position {
            if !(-90_000_000..=90_000_000).contains(&p.lat_e6) || !(-180_000_000..=180_000_000).contains(&p.lon_e6) {
                errors.push(("position", ErrorCode::InvalidRequest));
            }
        }
        let note = match self.note.as_deref().map(|n| relayed(n, rules::NOTE_MAX_CHARS, ErrorCode::InvalidRequest)) {
            Some(Ok(n)) if !n.is_empty() => Some(n),
            Some(Err(code)) => {
                errors.push(("note", code));
                Some(String::new())
            }
            _ => None,
        };
        if self.reason == MoveReason::Other && note.is_none() {
            errors.push(("note", ErrorCode::FieldRequired));
        }
        let mut photos = Vec::with_capacity(self.photos.len());
        if self.photos.len() < photos_min || self.photos.len() > photos_max {
            errors.push(("photos", ErrorCode::MovePhotosInvalid));
        } else {
            for p in &self.photos {
                match base64::engine::general_purpose::STANDARD.decode(p.trim()) {
                    Ok(b) if is_jpeg(&b) && b.len() <= rules::PHOTO_MAX_BYTES => photos.push(b),
                    _ => {
                        errors.push(("photos", ErrorCode::MovePhotosInvalid));
                        break;
                    }
                }
            }
        }
        match plate {
            Some(plate) if errors.is_empty() => Ok(ValidMoveRequest {
                plate,
                plate_type: self.plate_type,
                address,
                region_code: self.region_code.clone(),
                position: self.position,
                reason: self.reason,
                note,
                photos,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MoveStatus {
    /// The owner was told; no answer yet.
    Waiting,
    /// The owner said they are coming.
    Coming,
    /// With the traffic police on duty.
    Escalated,
    Resolved,
}

impl MoveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveStatus::Waiting => "waiting",
            MoveStatus::Coming => "coming",
            MoveStatus::Escalated => "escalated",
            MoveStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<MoveStatus> {
        [MoveStatus::Waiting, MoveStatus::Coming, MoveStatus::Escalated, MoveStatus::Resolved]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        self != MoveStatus::Resolved
    }
}

/// What happened, in order; the UI names each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MoveEventKind {
    Sent,
    NotifiedInApp,
    NotifiedBySms,
    /// The plate is not in the registry; nobody to notify.
    OwnerUnknown,
    Coming,
    Cannot,
    NotMine,
    Reminded,
    Escalated,
    TakenOver,
    Resolved,
    ReportedMalicious,
    MaliciousConfirmed,
    ReportDismissed,
}

impl MoveEventKind {
    pub const ALL: [MoveEventKind; 14] = [
        MoveEventKind::Sent,
        MoveEventKind::NotifiedInApp,
        MoveEventKind::NotifiedBySms,
        MoveEventKind::OwnerUnknown,
        MoveEventKind::Coming,
        MoveEventKind::Cannot,
        MoveEventKind::NotMine,
        MoveEventKind::Reminded,
        MoveEventKind::Escalated,
        MoveEventKind::TakenOver,
        MoveEventKind::Resolved,
        MoveEventKind::ReportedMalicious,
        MoveEventKind::MaliciousConfirmed,
        MoveEventKind::ReportDismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MoveEventKind::Sent => "sent",
            MoveEventKind::NotifiedInApp => "notified_in_app",
            MoveEventKind::NotifiedBySms => "notified_by_sms",
            MoveEventKind::OwnerUnknown => "owner_unknown",
            MoveEventKind::Coming => "coming",
            MoveEventKind::Cannot => "cannot",
            MoveEventKind::NotMine => "not_mine",
            MoveEventKind::Reminded => "reminded",
            MoveEventKind::Escalated => "escalated",
            MoveEventKind::TakenOver => "taken_over",
            MoveEventKind::Resolved => "resolved",
            MoveEventKind::ReportedMalicious => "reported_malicious",
            MoveEventKind::MaliciousConfirmed => "malicious_confirmed",
            MoveEventKind::ReportDismissed => "report_dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<MoveEventKind> {
        MoveEventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who did something, as the other side may know it: a role, never a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MoveParty {
    Requester,
    Owner,
    Traffic,
    System,
}

impl MoveParty {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveParty::Requester => "requester",
            MoveParty::Owner => "owner",
            MoveParty::Traffic => "traffic",
            MoveParty::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<MoveParty> {
        [MoveParty::Requester, MoveParty::Owner, MoveParty::Traffic, MoveParty::System]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct MoveEvent {
    pub kind: MoveEventKind,
    pub by: MoveParty,
    /// RFC 3339
    pub at: String,
    #[ts(optional)]
    pub eta_minutes: Option<u32>,
}

/// A relay message: the only way the two sides talk, so neither learns the other's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct MoveMessage {
    pub from: MoveParty,
    pub text: String,
    pub at: String,
}

/// One request as the caller may see it (`role` says from which side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct MoveView {
    pub id: String,
    pub role: MoveParty,
    pub plate: String,
    pub plate_type: PlateType,
    pub address: String,
    pub region_code: String,
    pub reason: MoveReason,
    #[ts(optional)]
    pub note: Option<String>,
    pub status: MoveStatus,
    pub photo_count: u32,
    pub created_at: String,
    /// When the owner said they would arrive (RFC 3339).
    #[ts(optional)]
    pub eta_at: Option<String>,
    /// When the requester may send the one reminder (RFC 3339); absent once sent or not waiting.
    #[ts(optional)]
    pub remind_from: Option<String>,
    /// When an unanswered request goes to the traffic police (RFC 3339).
    #[ts(optional)]
    pub escalates_at: Option<String>,
    pub can_remind: bool,
    pub can_resolve: bool,
    pub can_answer: bool,
    pub can_report: bool,
    pub events: Vec<MoveEvent>,
    pub messages: Vec<MoveMessage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OwnerReply {
    Coming,
    Cannot,
    NotMine,
}

/// The owner's answer, in the app or through the SMS link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct MoveAnswer {
    pub reply: OwnerReply,
    /// Required with `coming`: 1–60.
    #[ts(optional)]
    pub eta_minutes: Option<u32>,
}

impl MoveAnswer {
    pub fn check(&self) -> Result<(), FieldErrors> {
        match (self.reply, self.eta_minutes) {
            (OwnerReply::Coming, None) => Err(vec![("eta_minutes", ErrorCode::FieldRequired)]),
            (OwnerReply::Coming, Some(m)) if m == 0 || m > rules::ETA_MAX_MINUTES => {
                Err(vec![("eta_minutes", ErrorCode::InvalidRequest)])
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct MoveMessageInput {
    pub text: String,
}

impl MoveMessageInput {
    pub fn parse(&self) -> Result<String, ErrorCode> {
        match relayed(&self.text, rules::MESSAGE_MAX_CHARS, ErrorCode::InvalidRequest)? {
            t if t.is_empty() => Err(ErrorCode::InvalidRequest),
            t => Ok(t),
        }
    }
}

/// What traffic police on duty do with a request in their queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TrafficAction {
    TakeOver,
    Close,
    ConfirmMalicious,
    DismissReport,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct TrafficActionInput {
    pub action: TrafficAction,
}

/// A request in the duty queue: what the officer needs to act, with the requester's phone
/// masked (officers call through the relay, not directly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct DutyMoveView {
    #[serde(flatten)]
    pub request: MoveView,
    pub brigade: String,
    pub report_open: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plate(s: &str) -> Plate {
        Plate::parse(s).unwrap()
    }

    #[test]
    fn every_plate_type_takes_its_own_plates_and_refuses_the_others() {
        let samples = [
            (PlateType::SmallBlue, "皖A12345"),
            (PlateType::LargeYellow, "皖B6789X"),
            (PlateType::SmallNewEnergy, "皖AD12345"),
            (PlateType::LargeNewEnergy, "皖A12345D"),
            (PlateType::Coach, "皖A1234学"),
            (PlateType::Trailer, "皖A1234挂"),
            (PlateType::Police, "皖A1234警"),
            (PlateType::Embassy, "使123456"),
            (PlateType::Consulate, "沪A1234领"),
            (PlateType::HongKongMacao, "粤Z1234港"),
            (PlateType::Test, "皖A1234试"),
            (PlateType::Oversize, "皖A1234超"),
        ];
        for (ty, text) in samples {
            assert_eq!(ty.check(&plate(text)), Ok(()), "{ty:?} {text}");
            for (other, other_text) in samples {
                let same_format = matches!(
                    (ty, other),
                    (PlateType::SmallBlue | PlateType::LargeYellow, PlateType::SmallBlue | PlateType::LargeYellow)
                );
                if other != ty && !same_format {
                    assert_eq!(ty.check(&plate(other_text)), Err(ErrorCode::PlateTypeMismatch), "{ty:?} {other_text}");
                }
            }
        }
        assert_eq!(PlateType::HongKongMacao.check(&plate("粤Z1234澳")), Ok(()));
    }

    #[test]
    fn bad_plates_are_refused_with_the_field_and_reason() {
        let photo = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0])
        };
        let req = |plate: &str, ty: PlateType| MoveRequest {
            plate: plate.into(),
            plate_type: ty,
            address: "合肥市蜀山区长江西路100号".into(),
            region_code: "340104".into(),
            position: None,
            reason: MoveReason::BlockingCar,
            note: None,
            photos: vec![photo.clone(), photo.clone()],
            escalate_if_unregistered: false,
        };
        for bad in ["皖A1234", "皖AI2345", "XX12345", "皖A12345678", "", "皖aO2345"] {
            let errors = req(bad, PlateType::SmallBlue).parse(2, 3).unwrap_err();
            assert_eq!(errors, vec![("plate", ErrorCode::PlateInvalid)], "{bad}");
        }
        let errors = req("皖A12345", PlateType::SmallNewEnergy).parse(2, 3).unwrap_err();
        assert_eq!(errors, vec![("plate_type", ErrorCode::PlateTypeMismatch)]);
        let ok = req("皖 a·12345", PlateType::SmallBlue).parse(2, 3).unwrap();
        assert_eq!(ok.plate.as_str(), "皖A12345");
    }

    #[test]
    fn photos_address_region_and_note_are_checked() {
        let mut r = MoveRequest {
            plate: "皖A12345".into(),
            plate_type: PlateType::SmallBlue,
            address: "x".into(),
            region_code: "990101".into(),
            position: Some(GeoPoint { lat_e6: 91_000_000, lon_e6: 0 }),
            reason: MoveReason::Other,
            note: None,
            photos: vec!["bm90IGEganBlZw==".into()],
            escalate_if_unregistered: false,
        };
        let fields: Vec<&str> = r.parse(2, 3).unwrap_err().into_iter().map(|e| e.0).collect();
        assert_eq!(fields, ["address", "region_code", "position", "note", "photos"]);
        r.photos = vec!["bm90IGEganBlZw==".into(); 2];
        r.note = Some("请拨打 139 0000 0000".into());
        let errors = r.parse(2, 3).unwrap_err();
        assert!(errors.contains(&("note", ErrorCode::MessageContainsNumber)));
        assert!(errors.contains(&("photos", ErrorCode::MovePhotosInvalid)));
    }

    #[test]
    fn numbers_are_kept_out_of_relay_messages() {
        let m = |t: &str| MoveMessageInput { text: t.into() }.parse();
        assert_eq!(m("打我电话13900000000"), Err(ErrorCode::MessageContainsNumber));
        assert_eq!(m("139-0000-0000"), Err(ErrorCode::MessageContainsNumber));
        assert_eq!(m("１３９００００００００"), Err(ErrorCode::MessageContainsNumber));
        assert_eq!(m("幺三九 零零零零 零零零零"), Err(ErrorCode::MessageContainsNumber));
        assert_eq!(m("www 点 abc 点 com"), Err(ErrorCode::TextContainsLink));
        assert_eq!(m("加我 vx"), Err(ErrorCode::TextContainsContact));
        assert_eq!(m("马上\u{202E}到"), Err(ErrorCode::TextCharNotAllowed));
        assert_eq!(m("5分钟到，车位B2-103"), Ok("5分钟到，车位B2-103".into()));
        assert_eq!(MoveMessageInput { text: "马上到".into() }.parse(), Ok("马上到".into()));
        assert_eq!(MoveMessageInput { text: "call 1390000000".into() }.parse(), Err(ErrorCode::MessageContainsNumber));
        assert_eq!(MoveMessageInput { text: "  ".into() }.parse(), Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn coming_needs_a_sensible_eta() {
        let a = |reply, eta| MoveAnswer { reply, eta_minutes: eta };
        assert!(a(OwnerReply::Coming, Some(5)).check().is_ok());
        assert!(a(OwnerReply::Coming, None).check().is_err());
        assert!(a(OwnerReply::Coming, Some(0)).check().is_err());
        assert!(a(OwnerReply::Coming, Some(61)).check().is_err());
        assert!(a(OwnerReply::Cannot, None).check().is_ok());
    }
}
