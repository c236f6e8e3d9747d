//! Head pose from the 5 YuNet landmarks and the challenge actions they can confirm.
//!
//! The estimates use a generic face, not a fitted 3-D model: they are good for telling "turned
//! left" from "turned right" or "looking up" from "looking down" at 15–25°, not for measuring angles.
//! `THRESHOLDS.md` has the values measured on real frames.

use serde::{Deserialize, Serialize};

use crate::landmark::{LEFT_EYE, LEFT_MOUTH_CORNER, NOSE_TIP, RIGHT_EYE, RIGHT_MOUTH_CORNER};
use crate::{Face, Thresholds};

/// How far the nose tip stands in front of the eyes, in eye distances (generic face). Turning the
/// head by `yaw` moves the nose sideways by `NOSE_DEPTH · sin(yaw)` while the eye distance shrinks by
/// `cos(yaw)`, so the nose offset divided by the seen eye distance is `NOSE_DEPTH · tan(yaw)`.
const NOSE_DEPTH: f32 = 0.6;
/// Where the nose tip sits between the eye line (0) and the mouth line (1) in a frontal face.
const NOSE_LEVEL: f32 = 0.55;
/// `NOSE_DEPTH` divided by the eye-to-mouth height (≈ 1.1 eye distances): pitching by `p` moves the
/// nose level by `NOSE_PITCH_GAIN · tan(p)`.
const NOSE_PITCH_GAIN: f32 = 0.55;
/// Where the eye line sits in the detector's face box (0 = top, 1 = bottom) in a frontal face.
const EYE_LEVEL_IN_BOX: f32 = 0.37;
/// The eye line moves by `sin(pitch) / EYE_PITCH_GAIN` of the box height when the head pitches
/// (the eyes are about a third of a face height in front of the neck's pivot).
const EYE_PITCH_GAIN: f32 = 3.0;

/// Estimated head rotation in degrees, for an unmirrored camera frame (as the camera delivers it;
/// a mirrored preview must not be what gets analysed, or left and right swap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadPose {
    /// Positive when the person turned their head to their own left (the nose moves toward the
    /// image's right), negative to their right.
    pub yaw: f32,
    /// Positive when the person looks up, negative when they look down.
    pub pitch: f32,
    /// Angle of the eye line in the image, positive when it slopes down toward the image's right
    /// (head tilted toward the person's left shoulder).
    pub roll: f32,
}

/// Estimates the head pose of `face` from its landmarks (and, for pitch, its box).
///
/// * yaw: the nose tip's offset from the eye midpoint along the eye line, divided by the eye
///   distance, is `NOSE_DEPTH · tan(yaw)`.
/// * pitch: the mean of two cues, (1) where the nose tip sits between the eye line and the mouth
///   line (it rises toward the eyes when the head tips back) and (2) where the eye line sits in the
///   face box (it rises in the box when the head tips back, as the chin comes forward).
/// * roll: the slope of the eye line.
pub fn estimate_pose(face: &Face) -> HeadPose {
    let l = &face.landmarks;
    let (re, le, nose) = (l[RIGHT_EYE], l[LEFT_EYE], l[NOSE_TIP]);
    let mouth = [
        (l[RIGHT_MOUTH_CORNER][0] + l[LEFT_MOUTH_CORNER][0]) / 2.0,
        (l[RIGHT_MOUTH_CORNER][1] + l[LEFT_MOUTH_CORNER][1]) / 2.0,
    ];
    let eye_mid = [(re[0] + le[0]) / 2.0, (re[1] + le[1]) / 2.0];
    let (ex, ey) = (le[0] - re[0], le[1] - re[1]);
    let eye_distance = (ex * ex + ey * ey).sqrt();
    if !eye_distance.is_finite() || eye_distance < 1e-3 {
        return HeadPose { yaw: 0.0, pitch: 0.0, roll: 0.0 };
    }
    // Face frame: u along the eye line (toward the image right for an upright face), v down the face.
    let u = [ex / eye_distance, ey / eye_distance];
    let v = [-u[1], u[0]];
    let along =
        |p: [f32; 2], axis: [f32; 2]| ((p[0] - eye_mid[0]) * axis[0] + (p[1] - eye_mid[1]) * axis[1]) / eye_distance;

    let yaw = (along(nose, u) / NOSE_DEPTH).atan().to_degrees();

    let eye_level =
        if face.bbox.height > 0.0 { (eye_mid[1] - face.bbox.y) / face.bbox.height } else { EYE_LEVEL_IN_BOX };
    let box_pitch = ((EYE_LEVEL_IN_BOX - eye_level) * EYE_PITCH_GAIN).clamp(-1.0, 1.0).asin().to_degrees();
    let mouth_down = along(mouth, v);
    let pitch = if mouth_down > 0.1 {
        let level = along(nose, v) / mouth_down;
        let nose_pitch = ((NOSE_LEVEL - level) / NOSE_PITCH_GAIN).atan().to_degrees();
        (nose_pitch + box_pitch) / 2.0
    } else {
        box_pitch
    };
    HeadPose { yaw, pitch, roll: ey.atan2(ex).to_degrees() }
}

/// A challenge action the resident performs in front of the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoseAction {
    /// Turn the head to the resident's own left.
    TurnLeft,
    /// Turn the head to the resident's own right.
    TurnRight,
    LookUp,
    LookDown,
    /// Come closer to the camera: the face must be wider than in the previous frame.
    ComeCloser,
}

impl PoseAction {
    /// All actions, for drawing a challenge.
    pub const ALL: [PoseAction; 5] =
        [PoseAction::TurnLeft, PoseAction::TurnRight, PoseAction::LookUp, PoseAction::LookDown, PoseAction::ComeCloser];

    /// Whether `face` shows this action. [`PoseAction::ComeCloser`] compares with `previous`, the
    /// face of the frame before, and is never confirmed without one; the other actions ignore it.
    pub fn is_confirmed(self, face: &Face, previous: Option<&Face>, thresholds: &Thresholds) -> bool {
        let pose = estimate_pose(face);
        match self {
            PoseAction::TurnLeft => pose.yaw >= thresholds.turn_yaw_deg,
            PoseAction::TurnRight => pose.yaw <= -thresholds.turn_yaw_deg,
            PoseAction::LookUp => pose.pitch >= thresholds.look_pitch_deg,
            PoseAction::LookDown => pose.pitch <= -thresholds.look_pitch_deg,
            PoseAction::ComeCloser => previous
                .is_some_and(|p| p.bbox.width > 0.0 && face.bbox.width >= p.bbox.width * thresholds.closer_width_ratio),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoundingBox;

    fn face(nose: [f32; 2]) -> Face {
        Face {
            bbox: BoundingBox { x: 0.0, y: 0.0, width: 100.0, height: 100.0 },
            landmarks: [[30.0, 37.0], [70.0, 37.0], nose, [35.0, 81.0], [65.0, 81.0]],
            score: 0.9,
        }
    }

    #[test]
    fn frontal_face_is_near_zero() {
        let p = estimate_pose(&face([50.0, 61.2]));
        assert!(p.yaw.abs() < 1.0 && p.pitch.abs() < 1.0 && p.roll.abs() < 1e-3, "{p:?}");
    }

    #[test]
    fn nose_toward_image_right_is_a_left_turn() {
        let p = estimate_pose(&face([50.0 + 0.6 * 40.0 * 0.4663, 61.2])); // tan(25°) = 0.4663
        assert!((p.yaw - 25.0).abs() < 0.1, "{p:?}");
        let t = Thresholds::default();
        assert!(PoseAction::TurnLeft.is_confirmed(&face([70.0, 61.2]), None, &t));
        assert!(!PoseAction::TurnRight.is_confirmed(&face([70.0, 61.2]), None, &t));
        assert!(PoseAction::TurnRight.is_confirmed(&face([30.0, 61.2]), None, &t));
    }

    #[test]
    fn come_closer_needs_a_previous_smaller_face() {
        let t = Thresholds::default();
        let small = face([50.0, 61.2]);
        let mut big = small;
        big.bbox.width = 140.0;
        assert!(PoseAction::ComeCloser.is_confirmed(&big, Some(&small), &t));
        assert!(!PoseAction::ComeCloser.is_confirmed(&small, Some(&big), &t));
        assert!(!PoseAction::ComeCloser.is_confirmed(&big, None, &t));
    }

    #[test]
    fn actions_have_snake_case_names() {
        assert_eq!(serde_json::to_string(&PoseAction::TurnLeft).unwrap(), "\"turn_left\"");
        assert_eq!(serde_json::to_string(&PoseAction::ComeCloser).unwrap(), "\"come_closer\"");
    }
}
