//! Frame checks: what a resident is told before a frame is used.

use serde::{Deserialize, Serialize};

use crate::{Face, FrameAnalysis, PoseAction};

/// Every number the checks use. The defaults and the evidence behind each are in `THRESHOLDS.md`
/// (measured on the pinned test material with `cargo run -p jingtong-face --example measure`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Two SFace embeddings with a cosine similarity at or above this are the same person.
    pub match_cosine: f32,
    /// A usable face box is at least this many pixels wide…
    pub min_face_px: f32,
    /// …and at least this fraction of the frame's shorter side.
    pub min_face_fraction: f32,
    /// Face regions darker than this mean luma (0–255) are too dark.
    pub min_brightness: f32,
    /// Face regions brighter than this mean luma are washed out.
    pub max_brightness: f32,
    /// Faces whose Laplacian variance (on the 112×112 face patch) is below this are blurred.
    pub min_sharpness: f32,
    /// Estimated yaw, in degrees, that confirms a turn to the left or right.
    pub turn_yaw_deg: f32,
    /// Estimated pitch, in degrees, that confirms looking up or down.
    pub look_pitch_deg: f32,
    /// "Come closer" is confirmed when the face box is at least this many times wider than in the
    /// previous frame.
    pub closer_width_ratio: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            match_cosine: 0.5,
            min_face_px: 80.0,
            min_face_fraction: 0.08,
            min_brightness: 50.0,
            max_brightness: 230.0,
            min_sharpness: 25.0,
            turn_yaw_deg: 12.0,
            look_pitch_deg: 5.0,
            closer_width_ratio: 1.2,
        }
    }
}

impl Thresholds {
    /// Whether a cosine similarity between two embeddings means "same person".
    pub fn is_match(&self, cosine: f32) -> bool {
        cosine >= self.match_cosine
    }
}

/// Why a frame cannot be used, in terms a resident can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum FrameProblem {
    #[error("no face found: face the camera")]
    NoFace,
    #[error("more than one face: only the resident may be in the picture")]
    SeveralFaces,
    #[error("the face is too small: come closer to the camera")]
    TooSmall,
    #[error("too dark: find more light")]
    TooDark,
    #[error("too bright: avoid strong light on the face or behind you")]
    TooBright,
    #[error("blurred: hold still and keep the camera steady")]
    Blurred,
    #[error("the requested movement was not seen")]
    WrongPose,
}

impl FrameProblem {
    /// The stable error code for APIs and translations: `face_none`, `face_several`,
    /// `face_too_small`, `face_too_dark`, `face_too_bright`, `face_blurred`, `face_wrong_pose`.
    pub fn code(self) -> &'static str {
        match self {
            FrameProblem::NoFace => "face_none",
            FrameProblem::SeveralFaces => "face_several",
            FrameProblem::TooSmall => "face_too_small",
            FrameProblem::TooDark => "face_too_dark",
            FrameProblem::TooBright => "face_too_bright",
            FrameProblem::Blurred => "face_blurred",
            FrameProblem::WrongPose => "face_wrong_pose",
        }
    }
}

/// Checks one analysed frame of `dimensions` (width, height) and returns its single face, or the
/// first problem in this order: no face (reported as too dark when the whole frame is too dark to
/// see one), several faces, too small, too dark, too bright, blurred, wrong pose.
///
/// `expected` is the challenge action the frame must show, if any; `previous` is the face of the
/// frame before it, which only [`PoseAction::ComeCloser`] needs (without it, that action fails).
pub fn check_frame<'a>(
    analysis: &'a FrameAnalysis,
    dimensions: (u32, u32),
    expected: Option<PoseAction>,
    previous: Option<&Face>,
    thresholds: &Thresholds,
) -> Result<&'a Face, FrameProblem> {
    let face = match analysis.faces.as_slice() {
        [] if analysis.brightness < thresholds.min_brightness => return Err(FrameProblem::TooDark),
        [] => return Err(FrameProblem::NoFace),
        [face] => face,
        _ => return Err(FrameProblem::SeveralFaces),
    };
    let shorter_side = dimensions.0.min(dimensions.1) as f32;
    if face.bbox.width < thresholds.min_face_px || face.bbox.width < thresholds.min_face_fraction * shorter_side {
        return Err(FrameProblem::TooSmall);
    }
    if analysis.brightness < thresholds.min_brightness {
        return Err(FrameProblem::TooDark);
    }
    if analysis.brightness > thresholds.max_brightness {
        return Err(FrameProblem::TooBright);
    }
    if analysis.sharpness < thresholds.min_sharpness {
        return Err(FrameProblem::Blurred);
    }
    if let Some(action) = expected {
        if !action.is_confirmed(face, previous, thresholds) {
            return Err(FrameProblem::WrongPose);
        }
    }
    Ok(face)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoundingBox;

    fn face(x: f32, width: f32) -> Face {
        let s = width / 100.0;
        Face {
            bbox: BoundingBox { x, y: 0.0, width, height: width },
            landmarks: [[30.0, 37.0], [70.0, 37.0], [50.0, 61.2], [35.0, 81.0], [65.0, 81.0]]
                .map(|[a, b]| [x + a * s, b * s]),
            score: 0.9,
        }
    }

    fn frame(faces: Vec<Face>, brightness: f32, sharpness: f32) -> FrameAnalysis {
        FrameAnalysis { faces, brightness, sharpness }
    }

    #[test]
    fn problems_come_in_order() {
        let t = Thresholds::default();
        let dims = (640, 480);
        assert_eq!(check_frame(&frame(vec![], 120.0, 100.0), dims, None, None, &t), Err(FrameProblem::NoFace));
        assert_eq!(check_frame(&frame(vec![], 10.0, 100.0), dims, None, None, &t), Err(FrameProblem::TooDark));
        let two = vec![face(0.0, 200.0), face(300.0, 200.0)];
        assert_eq!(check_frame(&frame(two, 120.0, 100.0), dims, None, None, &t), Err(FrameProblem::SeveralFaces));
        assert_eq!(
            check_frame(&frame(vec![face(0.0, 60.0)], 120.0, 100.0), dims, None, None, &t),
            Err(FrameProblem::TooSmall)
        );
        // 100 px is enough in a 640×480 frame but not in a 4000×3000 one.
        assert!(check_frame(&frame(vec![face(0.0, 100.0)], 120.0, 100.0), dims, None, None, &t).is_ok());
        assert_eq!(
            check_frame(&frame(vec![face(0.0, 100.0)], 120.0, 100.0), (4000, 3000), None, None, &t),
            Err(FrameProblem::TooSmall)
        );
        let one = || vec![face(0.0, 200.0)];
        assert_eq!(check_frame(&frame(one(), 20.0, 100.0), dims, None, None, &t), Err(FrameProblem::TooDark));
        assert_eq!(check_frame(&frame(one(), 250.0, 100.0), dims, None, None, &t), Err(FrameProblem::TooBright));
        assert_eq!(check_frame(&frame(one(), 120.0, 1.0), dims, None, None, &t), Err(FrameProblem::Blurred));
        assert_eq!(
            check_frame(&frame(one(), 120.0, 100.0), dims, Some(PoseAction::TurnLeft), None, &t),
            Err(FrameProblem::WrongPose)
        );
        let f = frame(one(), 120.0, 100.0);
        assert_eq!(check_frame(&f, dims, None, None, &t), Ok(&f.faces[0]));
    }

    #[test]
    fn codes_and_serde_names() {
        assert_eq!(FrameProblem::NoFace.code(), "face_none");
        assert_eq!(FrameProblem::WrongPose.code(), "face_wrong_pose");
        assert_eq!(serde_json::to_string(&FrameProblem::SeveralFaces).unwrap(), "\"several_faces\"");
        assert_eq!(serde_json::to_string(&FrameProblem::TooSmall).unwrap(), "\"too_small\"");
    }
}
