//! GA 461-2004 《居民身份证制证用数字相片技术要求》: the ID-card photo's geometry and how a finished
//! photo is checked. The device crops to it (jingtong_core::id_photo); the server checks every upload
//! again with [`check_ga461`], because only the server's check counts.

use image::{DynamicImage, RgbImage};
use serde::{Deserialize, Serialize};

use crate::{estimate_pose, Face, FrameAnalysis};

/// GA 461 geometry, and the upload size limit.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub width: u32,
    pub height: u32,
    /// Face width in the output, ±`face_width_tolerance`.
    pub face_width: f32,
    pub face_width_tolerance: f32,
    /// Head top between these many pixels from the top edge.
    pub head_top_min: f32,
    pub head_top_max: f32,
    /// The eye line at least this many pixels above the bottom edge.
    pub eye_line_min_from_bottom: f32,
    /// Largest upscaling of the source (more means a blurred photo).
    pub max_upscale: f32,
    /// Background: mean luma of the margins at least this, spread at most that.
    pub background_min_luma: f32,
    pub background_max_spread: f32,
    /// Largest JPEG accepted by the upload (a platform limit, not part of GA 461).
    pub max_bytes: usize,
    /// Largest head turn, nod and tilt, in degrees, for a frontal photo.
    pub max_yaw_deg: f32,
    pub max_pitch_deg: f32,
    pub max_roll_deg: f32,
    /// How far a re-detection on the finished photo may move the measured head top and eye line
    /// (the detector sees the 358×441 photo, not the source the crop was measured on)…
    pub recheck_margin_px: f32,
    /// A smile with teeth: more than this share of the mouth region looks like teeth (see [`teeth_share`]).
    pub max_teeth_share: f32,
    /// …and the estimated angles: the landmarks of a face filling the detector's input are placed
    /// differently from those of the same face at the source's scale (measured: up to 7° of yaw and
    /// 10° of roll apart on the pinned portraits).
    pub recheck_margin_deg: f32,
}

pub const GA_461: Spec = Spec {
    width: 358,
    height: 441,
    face_width: 207.0,
    face_width_tolerance: 14.0,
    head_top_min: 7.0,
    head_top_max: 21.0,
    eye_line_min_from_bottom: 207.0,
    max_upscale: 1.6,
    background_min_luma: 170.0,
    background_max_spread: 28.0,
    max_bytes: 60 * 1024,
    max_yaw_deg: 12.0,
    max_pitch_deg: 15.0,
    max_roll_deg: 8.0,
    recheck_margin_px: 6.0,
    recheck_margin_deg: 10.0,
    max_teeth_share: 0.10,
};

/// Where the head top is: the eyes sit about halfway down the head, so the top is about as far above
/// the eye line as the chin (the face box's bottom) is below it, times this factor.
pub const HEAD_ABOVE_EYES: f32 = 0.95;

/// Head top (y) estimated from a face's eye line and box.
pub fn head_top(face: &Face) -> f32 {
    let eyes_y = (face.landmarks[0][1] + face.landmarks[1][1]) / 2.0;
    eyes_y - HEAD_ABOVE_EYES * (face.bbox.y + face.bbox.height - eyes_y)
}

/// Whether the head is upright and facing the camera, by the spec's limits widened by `margin_deg`.
pub fn is_frontal(face: &Face, spec: &Spec, margin_deg: f32) -> bool {
    let pose = estimate_pose(face);
    pose.yaw.abs() <= spec.max_yaw_deg + margin_deg
        && pose.pitch.abs() <= spec.max_pitch_deg + margin_deg
        && pose.roll.abs() <= spec.max_roll_deg + margin_deg
}

/// Why a finished photo does not meet GA 461.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum IdPhotoProblem {
    #[error("the photo is not {0}×{1} pixels")]
    WrongSize(u32, u32),
    #[error("no face in the photo")]
    NoFace,
    #[error("more than one face in the photo")]
    SeveralFaces,
    #[error("the head is turned, nodding or tilted")]
    NotFrontal,
    #[error("the face's size or position is outside the standard")]
    Geometry,
    #[error("the background is not plain and light")]
    Background,
    #[error("the expression is not neutral (a smile with teeth)")]
    Expression,
}

/// What the check measured on an accepted photo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IdPhotoMeasures {
    pub face_width_px: f32,
    pub head_top_px: f32,
    pub eye_line_from_bottom_px: f32,
}

/// Checks a finished photo (already decoded) and the detector's analysis of it: the spec's size,
/// exactly one face, frontal, face width and position within the spec (with the re-detection margin),
/// and a plain light background. Returns the one face and the measures.
pub fn check_ga461(
    image: &DynamicImage,
    analysis: &FrameAnalysis,
    spec: &Spec,
) -> Result<(Face, IdPhotoMeasures), IdPhotoProblem> {
    if (image.width(), image.height()) != (spec.width, spec.height) {
        return Err(IdPhotoProblem::WrongSize(spec.width, spec.height));
    }
    let face = match analysis.faces.as_slice() {
        [] => return Err(IdPhotoProblem::NoFace),
        [face] => *face,
        _ => return Err(IdPhotoProblem::SeveralFaces),
    };
    if !is_frontal(&face, spec, spec.recheck_margin_deg) {
        return Err(IdPhotoProblem::NotFrontal);
    }
    let m = spec.recheck_margin_px;
    let eyes_y = (face.landmarks[0][1] + face.landmarks[1][1]) / 2.0;
    let measures = IdPhotoMeasures {
        face_width_px: face.bbox.width,
        head_top_px: head_top(&face),
        eye_line_from_bottom_px: spec.height as f32 - eyes_y,
    };
    let width_ok = (measures.face_width_px - spec.face_width).abs() <= spec.face_width_tolerance;
    let top_ok = (spec.head_top_min - m..=spec.head_top_max + m).contains(&measures.head_top_px);
    let eyes_ok = measures.eye_line_from_bottom_px >= spec.eye_line_min_from_bottom - m;
    let centred = ((face.landmarks[0][0] + face.landmarks[1][0]) / 2.0 - spec.width as f32 / 2.0).abs() <= 2.0 * m;
    if !(width_ok && top_ok && eyes_ok && centred) {
        return Err(IdPhotoProblem::Geometry);
    }
    let rgb = crate::rgb(image);
    if !plain_light_background(&rgb, (face.bbox.x, face.bbox.width), spec) {
        return Err(IdPhotoProblem::Background);
    }
    if teeth_share(&rgb, &face) > spec.max_teeth_share {
        return Err(IdPhotoProblem::Expression);
    }
    Ok((face, measures))
}

/// The share of the mouth region (between the mouth corners, a quarter of the mouth's width above and
/// below their line) whose pixels look like teeth: light (luma ≥ 150) and nearly colourless (saturation
/// ≤ 0.25), where lips and skin are darker or coloured. GA 461 asks for a neutral expression: a closed
/// mouth has almost none (0.00–0.01 on the pinned portraits), a smile showing teeth far more.
/// Eyes closed cannot be told from five landmarks; the clerk sees every photo.
pub fn teeth_share(img: &RgbImage, face: &Face) -> f32 {
    let (l, r) = (face.landmarks[3], face.landmarks[4]);
    let (x0, x1) = (l[0].min(r[0]), l[0].max(r[0]));
    let d = (r[0] - l[0]).hypot(r[1] - l[1]);
    let mid_y = (l[1] + r[1]) / 2.0;
    let clip = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let (bx0, bx1) = (clip(x0 + 0.1 * d, img.width()), clip(x1 - 0.1 * d, img.width()));
    let (by0, by1) = (clip(mid_y - 0.25 * d, img.height()), clip(mid_y + 0.25 * d, img.height()));
    let (mut teeth, mut all) = (0u32, 0u32);
    for y in by0..by1 {
        for x in bx0..bx1 {
            let p = img.get_pixel(x, y).0.map(f32::from);
            let (max, min) = (p[0].max(p[1]).max(p[2]), p[0].min(p[1]).min(p[2]));
            let luma = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            all += 1;
            if luma >= 150.0 && (max - min) <= 0.25 * max.max(1.0) {
                teeth += 1;
            }
        }
    }
    if all == 0 {
        0.0
    } else {
        teeth as f32 / all as f32
    }
}

/// The strips left and right of the head and above it must be light and even (a plain backdrop).
/// `face_x` and `face_w`: the face box's left edge and width in `img`'s pixels.
pub fn plain_light_background(img: &RgbImage, (face_x, face_w): (f32, f32), spec: &Spec) -> bool {
    let margin = (face_x - face_w * 0.25).max(0.0) as u32;
    let right = ((face_x + face_w * 1.25) as u32).min(img.width());
    let mut lumas = Vec::new();
    for (x, y, p) in img.enumerate_pixels() {
        let side = (x < margin || x >= right) && y < img.height() * 2 / 3;
        let top = y < spec.head_top_min as u32;
        if side || top {
            lumas.push(0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]));
        }
    }
    if lumas.len() < 100 {
        return false;
    }
    let mean = lumas.iter().sum::<f32>() / lumas.len() as f32;
    let spread = (lumas.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / lumas.len() as f32).sqrt();
    mean >= spec.background_min_luma && spread <= spec.background_max_spread
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoundingBox;
    use image::Rgb;

    fn face() -> Face {
        let landmarks = [[140.0, 180.0], [220.0, 180.0], [180.0, 230.0], [145.0, 280.0], [215.0, 280.0]];
        Face { bbox: BoundingBox { x: 75.0, y: 90.0, width: 207.0, height: 270.0 }, landmarks, score: 0.9 }
    }

    #[test]
    fn white_between_the_lips_is_teeth_and_skin_or_lips_are_not() {
        let skin = RgbImage::from_pixel(358, 441, Rgb([190, 140, 110]));
        assert_eq!(teeth_share(&skin, &face()), 0.0);
        let mut smile = skin.clone();
        for y in 272..288 {
            for x in 155..205 {
                smile.put_pixel(x, y, Rgb([235, 230, 220]));
            }
        }
        assert!(teeth_share(&smile, &face()) > GA_461.max_teeth_share, "{}", teeth_share(&smile, &face()));
    }
}
