//! The ID-photo pipeline: a phone photo in, a GA 461 resident ID card photo out (or the reason why
//! not), before anything is uploaded. EXIF orientation, one frontal face, crop and scale so the face
//! has the standard width and position, a plain light background, JPEG within the size limit.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, RgbImage};
use jingtong_api::ErrorCode;
use jingtong_face::{check_frame, decode_image, estimate_pose, FaceEngine, LocalEngine, Thresholds};
use serde::{Deserialize, Serialize};

/// GA 461-2004 《居民身份证制证用数字相片技术要求》 geometry, and the upload size limit.
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
    /// Largest head turn, in degrees, for a frontal photo.
    pub max_yaw_deg: f32,
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
};

/// Where the head top is: the eyes sit about halfway down the head, so the top is about as far above
/// the eye line as the chin (the face box's bottom) is below it, times this factor.
const HEAD_ABOVE_EYES: f32 = 0.95;

/// What the resident sees before upload: the cropped photo and its measurements, or the problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct IdPhotoCheck {
    pub ok: bool,
    #[ts(type = "string | null")]
    pub problem: Option<ErrorCode>,
    pub message: String,
    /// The GA 461 photo as base64 JPEG when it could be cropped (also when the background failed, to show why).
    pub jpeg_base64: Option<String>,
    pub face_width_px: f32,
    pub head_top_px: f32,
    pub eye_line_from_bottom_px: f32,
    pub bytes: u32,
}

/// The result of [`process`]: the JPEG and measurements, or the problem (with a crop to show, if any).
pub struct Processed {
    pub problem: Option<ErrorCode>,
    pub jpeg: Option<Vec<u8>>,
    pub face_width_px: f32,
    pub head_top_px: f32,
    pub eye_line_from_bottom_px: f32,
}

fn fail(code: ErrorCode) -> Processed {
    Processed { problem: Some(code), jpeg: None, face_width_px: 0.0, head_top_px: 0.0, eye_line_from_bottom_px: 0.0 }
}

/// Runs the whole pipeline on encoded bytes (JPEG or PNG). Blocking and CPU bound.
pub fn process(bytes: &[u8], engine: &LocalEngine, spec: &Spec) -> Processed {
    let Ok(image) = decode_image(bytes) else { return fail(ErrorCode::FaceFrameInvalid) };
    process_image(&image, engine, spec)
}

pub fn process_image(image: &DynamicImage, engine: &LocalEngine, spec: &Spec) -> Processed {
    let analysis = match engine.analyze(image) {
        Ok(a) => a,
        Err(_) => return fail(ErrorCode::Internal),
    };
    let dims = (image.width(), image.height());
    let face = match check_frame(&analysis, dims, None, None, &Thresholds::default()) {
        Ok(f) => *f,
        Err(p) => return fail(p.code().parse().unwrap_or(ErrorCode::FaceFrameInvalid)),
    };
    if estimate_pose(&face).yaw.abs() > spec.max_yaw_deg {
        return fail(ErrorCode::IdPhotoNotFrontal);
    }
    let scale = spec.face_width / face.bbox.width;
    if scale > spec.max_upscale {
        return fail(ErrorCode::IdPhotoTooSmall);
    }
    // Crop window in source pixels: centred on the eyes, head top at the middle of its band.
    let eyes_x = (face.landmarks[0][0] + face.landmarks[1][0]) / 2.0;
    let eyes_y = (face.landmarks[0][1] + face.landmarks[1][1]) / 2.0;
    let head_top = eyes_y - HEAD_ABOVE_EYES * (face.bbox.y + face.bbox.height - eyes_y);
    let (w, h) = (spec.width as f32 / scale, spec.height as f32 / scale);
    let x0 = eyes_x - w / 2.0;
    // Head top in the middle of its band if the picture allows, anywhere in the band otherwise.
    let middle = head_top - (spec.head_top_min + spec.head_top_max) / 2.0 / scale;
    let (lowest, highest) = (head_top - spec.head_top_max / scale, head_top - spec.head_top_min / scale);
    let y0 = middle.clamp(0.0, (image.height() as f32 - h).max(0.0));
    if x0 < 0.0 || x0 + w > image.width() as f32 || y0 + h > image.height() as f32 || !(lowest..=highest).contains(&y0)
    {
        return fail(ErrorCode::IdPhotoTooTight);
    }
    let crop = image.crop_imm(x0.round() as u32, y0.round() as u32, w.round() as u32, h.round() as u32);
    let out = crop.resize_exact(spec.width, spec.height, FilterType::Lanczos3).to_rgb8();
    let measured = Processed {
        problem: None,
        jpeg: None,
        face_width_px: face.bbox.width * scale,
        head_top_px: (head_top - y0) * scale,
        eye_line_from_bottom_px: spec.height as f32 - (eyes_y - y0) * scale,
    };
    if measured.eye_line_from_bottom_px < spec.eye_line_min_from_bottom {
        return Processed { problem: Some(ErrorCode::IdPhotoTooTight), ..measured };
    }
    let face_box = ((face.bbox.x - x0) * scale, (face.bbox.width) * scale);
    let problem = (!plain_light_background(&out, face_box, spec)).then_some(ErrorCode::IdPhotoBackground);
    match encode_within(&out, spec.max_bytes) {
        Some(jpeg) => Processed { problem, jpeg: Some(jpeg), ..measured },
        None => Processed { problem: Some(ErrorCode::Internal), ..measured },
    }
}

/// The strips left and right of the head and above it must be light and even (a plain backdrop).
fn plain_light_background(img: &RgbImage, (face_x, face_w): (f32, f32), spec: &Spec) -> bool {
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

/// JPEG at the best quality that fits `max_bytes`.
fn encode_within(img: &RgbImage, max_bytes: usize) -> Option<Vec<u8>> {
    for quality in [92u8, 85, 78, 70, 60, 50] {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(Cursor::new(&mut out), quality).encode_image(img).ok()?;
        if out.len() <= max_bytes {
            return Some(out);
        }
    }
    None
}

/// Whether an encoded JPEG has the GA 461 pixel size (for the server's re-check of an upload).
pub fn has_spec_size(jpeg: &[u8], spec: &Spec) -> bool {
    decode_image(jpeg).map(|i| i.dimensions() == (spec.width, spec.height)).unwrap_or(false)
}
