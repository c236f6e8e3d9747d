//! Face verification (刷脸认证): the challenge a resident answers with camera frames, and the decision.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ErrorCode;

/// Rules of face verification, in one place for server, app and docs.
pub mod rules {
    /// A challenge must be answered within this many seconds.
    pub const CHALLENGE_TTL_SECONDS: u32 = 120;
    /// Challenges (attempts) per account per day (Asia/Shanghai calendar day).
    pub const MAX_ATTEMPTS_PER_DAY: u32 = 5;
    /// Pose actions per challenge.
    pub const ACTIONS_PER_CHALLENGE: usize = 2;
    /// Frames per answer: `frame0` frontal, then one per action in order.
    pub const FRAMES_REQUIRED: u32 = 3;
    /// Name length in characters.
    pub const NAME_MIN_CHARS: usize = 2;
    pub const NAME_MAX_CHARS: usize = 30;
    /// Largest multipart body for the frames, in bytes.
    pub const FRAMES_BODY_LIMIT: usize = 8 * 1024 * 1024;
}

/// A name as on the resident ID card: trimmed, 2–30 characters, no control characters.
/// The one validation of names, used by the app before sending and by the server on receipt.
pub fn parse_name(name: &str) -> Result<String, ErrorCode> {
    let name = name.trim();
    let chars = name.chars().count();
    if (rules::NAME_MIN_CHARS..=rules::NAME_MAX_CHARS).contains(&chars) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(ErrorCode::NameInvalid)
    }
}

/// A movement the resident performs in front of the camera (same names as `jingtong_face::PoseAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChallengeAction {
    TurnLeft,
    TurnRight,
    LookUp,
    LookDown,
    /// The face must be wider than in the frame before.
    ComeCloser,
}

/// Who the resident says they are.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct FaceChallengeRequest {
    /// Name as on the resident ID card, 2–30 characters.
    pub name: String,
    /// 18-character resident ID number.
    pub id_number: String,
}

impl std::fmt::Debug for FaceChallengeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceChallengeRequest(***)")
    }
}

/// A single-use challenge: answer it with the frames before `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct FaceChallenge {
    pub challenge_id: String,
    /// Sent back with the frames.
    pub nonce: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    /// Perform these in order: `frame1` shows the first, `frame2` the second.
    pub actions: Vec<ChallengeAction>,
    pub frames_required: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FaceOutcome {
    Verified,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NextStep {
    /// Start a new challenge.
    Retry,
    /// No attempts left today, or the registry cannot confirm: go to a police service window.
    VisitPoliceWindow,
    Done,
}

/// The server's decision on one answered challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct FaceDecision {
    pub outcome: FaceOutcome,
    /// Why it was rejected; null when verified.
    pub reason: Option<ErrorCode>,
    /// What the resident reads, in the request's language.
    pub message: String,
    pub next_step: NextStep,
    /// Challenges still allowed today.
    pub attempts_left: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  演示用户甲 ").as_deref(), Ok("演示用户甲"));
        assert_eq!(parse_name("甲"), Err(ErrorCode::NameInvalid));
        assert_eq!(parse_name(&"名".repeat(31)), Err(ErrorCode::NameInvalid));
        assert_eq!(parse_name("演示\n用户"), Err(ErrorCode::NameInvalid));
        assert!(parse_name("Zhang San").is_ok());
    }
}
