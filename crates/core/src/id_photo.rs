//! The ID-photo pipeline: a phone photo in, a GA 461 resident ID card photo out (or the reason why
//! not), before anything is uploaded. EXIF orientation, one frontal face, crop and scale so the face
//! has the standard width and position, a plain light background, JPEG within the size limit.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use jingtong_api::ErrorCode;
use jingtong_face::{check_frame, decode_image, FaceEngine, FrameAnalysis, LocalEngine, Thresholds};
use serde::{Deserialize, Serialize};

use jingtong_face::id_photo::{is_frontal, plain_light_background, teeth_share, HEAD_ABOVE_EYES};
pub use jingtong_face::id_photo::{Spec, GA_461};

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
///
/// A JPEG is decoded at a reduced size (IDCT scaling) that still gives the detector its full input
/// and the crop at least the output's pixels; all checks are made in full-size pixels.
pub fn process(bytes: &[u8], engine: &LocalEngine, spec: &Spec) -> Processed {
    if let Some(p) = process_jpeg(bytes, engine, spec) {
        return p;
    }
    let Ok(image) = decode_image(bytes) else { return fail(ErrorCode::FaceFrameInvalid) };
    process_image(&image, engine, spec)
}

pub fn process_image(image: &DynamicImage, engine: &LocalEngine, spec: &Spec) -> Processed {
    let full = Scaled { denom: 1, offset: (0.0, 0.0), full: image.dimensions() };
    match process_scaled(image, &full, None, engine, spec) {
        Step::Done(p) => p,
        // Unreachable at full size; refuse rather than panic.
        Step::Finer(..) => fail(ErrorCode::Internal),
    }
}

/// The detector scales its input to fit 640×640 (YuNet's input side): a decode with a long side of
/// at least this gives it the same input as the full photo.
const DETECTOR_SIDE: u32 = 640;
/// The face quality measures resample the face box to this side (jingtong_face's patch): a face at
/// least this wide gives the same measures at any scale, so a finer decode need not re-analyse.
const QUALITY_PATCH_SIDE: f32 = 112.0;
/// As `jingtong_face::decode_image`: wider or taller photos are refused.
const MAX_SIDE: u32 = 12_000;

/// How an analysed image maps to the full-size upright photo: full = scaled × denom − offset.
struct Scaled {
    denom: u32,
    /// Full-size pixels missing from the first scaled pixel of an axis the orientation reversed
    /// (the partial last block of the stored image comes first).
    offset: (f32, f32),
    full: (u32, u32),
}

enum Step {
    Done(Processed),
    /// The crop has fewer pixels than the output at this scale: decode at 1/denom and run again,
    /// with this analysis (in full-size pixels) when it holds there too.
    Finer(u32, Option<FrameAnalysis>),
}

/// `None` when `bytes` is not a JPEG libjpeg-turbo decodes to RGB; the caller then
/// falls back to [`decode_image`] (which also reports the error of an invalid file).
fn process_jpeg(bytes: &[u8], engine: &LocalEngine, spec: &Spec) -> Option<Processed> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    // Same size limits and EXIF orientation as decode_image; only the headers are read here.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().ok()?;
    let stored = decoder.dimensions();
    let swapped = matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    let full = if swapped { (stored.1, stored.0) } else { stored };
    // Twice the detector's input: most framings' crop then has the output's pixels in this one
    // decode (a second, finer decode costs more than half a full one: the entropy decoding is
    // the same), and the detector's downscale of the larger image costs a few milliseconds.
    let long = stored.0.max(stored.1);
    let mut denom = [8, 4, 2].into_iter().find(|d| long.div_ceil(*d) >= 2 * DETECTOR_SIDE).unwrap_or(1);
    let mut analysis = None;
    loop {
        let (image, scaled) = decode_scaled(bytes, stored, full, denom, orientation)?;
        match process_scaled(&image, &scaled, analysis.take(), engine, spec) {
            Step::Done(p) => return Some(p),
            Step::Finer(d, known) if d < denom => (denom, analysis) = (d, known),
            Step::Finer(..) => return None,
        }
    }
}

/// Most scans a progressive JPEG may have here (libjpeg-turbo's advice for untrusted input): a
/// crafted file with thousands of tiny scans fails fast instead of keeping libjpeg-turbo busy for
/// minutes. Like any JPEG libjpeg-turbo refuses, it then goes to the image crate's decoder.
const MAX_SCANS: u32 = 500;

/// Decodes at 1/`denom` (1, 2, 4 or 8) of the stored size with libjpeg-turbo, always to RGB, and
/// turns the result upright. `None` for what TurboJPEG cannot turn into RGB (CMYK, say).
fn decode_scaled(
    bytes: &[u8],
    stored: (u32, u32),
    full: (u32, u32),
    denom: u32,
    orientation: Orientation,
) -> Option<(DynamicImage, Scaled)> {
    let mut decoder = turbojpeg::Decompressor::new().ok()?;
    let header = decoder.read_header(bytes).ok()?;
    if (header.width, header.height) != (stored.0 as usize, stored.1 as usize) {
        return None;
    }
    let factor = turbojpeg::ScalingFactor::new(1, denom as usize);
    decoder.set_scaling_factor(factor).ok()?;
    decoder.set_scan_limit(MAX_SCANS).ok()?;
    let scaled = header.scaled(factor);
    let (w, h) = (u32::try_from(scaled.width).ok()?, u32::try_from(scaled.height).ok()?);
    if (w, h) != (stored.0.div_ceil(denom), stored.1.div_ceil(denom)) {
        return None;
    }
    let mut pixels = vec![0u8; 3 * scaled.width * scaled.height];
    let output = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: scaled.width,
        pitch: 3 * scaled.width,
        height: scaled.height,
        format: turbojpeg::PixelFormat::RGB,
    };
    decoder.decompress(bytes, output).ok()?;
    let mut image = DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?);
    image.apply_orientation(orientation);
    // Which upright axes run against the stored ones.
    let (flip_x, flip_y) = match orientation {
        Orientation::NoTransforms | Orientation::Rotate90FlipH => (false, false),
        Orientation::FlipHorizontal | Orientation::Rotate90 => (true, false),
        Orientation::FlipVertical | Orientation::Rotate270 => (false, true),
        Orientation::Rotate180 | Orientation::Rotate270FlipH => (true, true),
    };
    let partial = |flip: bool, scaled: u32, full: u32| if flip { (scaled * denom - full) as f32 } else { 0.0 };
    let offset = (partial(flip_x, image.width(), full.0), partial(flip_y, image.height(), full.1));
    Some((image, Scaled { denom, offset, full }))
}

/// `known`: the analysis of a coarser decode of the same photo, in full-size pixels.
fn process_scaled(
    image: &DynamicImage,
    scaled: &Scaled,
    known: Option<FrameAnalysis>,
    engine: &LocalEngine,
    spec: &Spec,
) -> Step {
    let done = Step::Done;
    let d = scaled.denom as f32;
    let (ox, oy) = scaled.offset;
    let analysis = match known {
        Some(a) => a,
        None => match engine.analyze(image) {
            Ok(a) => to_full_size(a, d, scaled.offset),
            Err(_) => return done(fail(ErrorCode::Internal)),
        },
    };
    let (full_w, full_h) = (scaled.full.0 as f32, scaled.full.1 as f32);
    let face = match check_frame(&analysis, scaled.full, None, None, &Thresholds::default()) {
        Ok(f) => *f,
        Err(p) => return done(fail(p.code().parse().unwrap_or(ErrorCode::FaceFrameInvalid))),
    };
    if !is_frontal(&face, spec, 0.0) {
        return done(fail(ErrorCode::IdPhotoNotFrontal));
    }
    let scale = spec.face_width / face.bbox.width;
    if scale > spec.max_upscale {
        return done(fail(ErrorCode::IdPhotoTooSmall));
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
    let y0 = middle.clamp(0.0, (full_h - h).max(0.0));
    if x0 < 0.0 || x0 + w > full_w || y0 + h > full_h || !(lowest..=highest).contains(&y0) {
        return done(fail(ErrorCode::IdPhotoTooTight));
    }
    // Never upscale a reduced decode: ask for the coarsest scale that has the output's width.
    if scaled.denom > 1 && w / d < spec.width as f32 {
        let finer = [4, 2].into_iter().find(|&n| n < scaled.denom && w / n as f32 >= spec.width as f32);
        let reuse = face.bbox.width / d >= QUALITY_PATCH_SIDE;
        return Step::Finer(finer.unwrap_or(1), reuse.then_some(analysis));
    }
    // The window in this image's pixels, kept inside it despite rounding.
    let to_px = |v: f32, off: f32, max: u32| (((v + off) / d).round().max(0.0) as u32).min(max);
    let cx = to_px(x0, ox, image.width());
    let cy = to_px(y0, oy, image.height());
    let cw = to_px(w, 0.0, image.width() - cx).max(1);
    let ch = to_px(h, 0.0, image.height() - cy).max(1);
    let Some(out) = resize_crop(image, (cx, cy, cw, ch), spec) else { return done(fail(ErrorCode::Internal)) };
    let measured = Processed {
        problem: None,
        jpeg: None,
        face_width_px: face.bbox.width * scale,
        head_top_px: (head_top - y0) * scale,
        eye_line_from_bottom_px: spec.height as f32 - (eyes_y - y0) * scale,
    };
    if measured.eye_line_from_bottom_px < spec.eye_line_min_from_bottom {
        return done(Processed { problem: Some(ErrorCode::IdPhotoTooTight), ..measured });
    }
    let face_box = ((face.bbox.x - x0) * scale, (face.bbox.width) * scale);
    // The face in the output's pixels, for the expression check (the server's check sees the same).
    let mut out_face = face;
    for l in &mut out_face.landmarks {
        *l = [(l[0] - x0) * scale, (l[1] - y0) * scale];
    }
    let problem = if !plain_light_background(&out, face_box, spec) {
        Some(ErrorCode::IdPhotoBackground)
    } else if teeth_share(&out, &out_face) > spec.max_teeth_share {
        Some(ErrorCode::IdPhotoExpression)
    } else {
        None
    };
    done(match encode_within(&out, spec.max_bytes) {
        Some(jpeg) => Processed { problem, jpeg: Some(jpeg), ..measured },
        None => Processed { problem: Some(ErrorCode::Internal), ..measured },
    })
}

/// Maps faces found in an image at 1/`d` of the full size (see [`Scaled`]) to full-size pixels, so
/// every check sees the photo as it is.
fn to_full_size(mut analysis: FrameAnalysis, d: f32, (ox, oy): (f32, f32)) -> FrameAnalysis {
    for f in &mut analysis.faces {
        f.bbox.x = f.bbox.x * d - ox;
        f.bbox.y = f.bbox.y * d - oy;
        f.bbox.width *= d;
        f.bbox.height *= d;
        for l in &mut f.landmarks {
            *l = [l[0] * d - ox, l[1] * d - oy];
        }
    }
    analysis
}

/// Crops the window and scales it to the output size with Lanczos3 (SIMD, straight from the
/// decoded pixels: no copy of the crop).
fn resize_crop(image: &DynamicImage, (x, y, w, h): (u32, u32, u32, u32), spec: &Spec) -> Option<RgbImage> {
    use fast_image_resize::{images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let rgb = jingtong_face::rgb(image);
    let src = ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), PixelType::U8x3).ok()?;
    let mut out = RgbImage::new(spec.width, spec.height);
    let mut dst =
        fast_image_resize::images::Image::from_slice_u8(spec.width, spec.height, &mut out, PixelType::U8x3).ok()?;
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)).crop(
        f64::from(x),
        f64::from(y),
        f64::from(w),
        f64::from(h),
    );
    Resizer::new().resize(&src, &mut dst, &options).ok()?;
    drop(dst);
    Some(out)
}

/// JPEG (libjpeg-turbo, 4:2:0 like a camera's) at the best quality that fits `max_bytes`.
fn encode_within(img: &RgbImage, max_bytes: usize) -> Option<Vec<u8>> {
    let mut compressor = turbojpeg::Compressor::new().ok()?;
    compressor.set_subsamp(turbojpeg::Subsamp::Sub2x2).ok()?;
    let image = turbojpeg::Image {
        pixels: img.as_raw().as_slice(),
        width: img.width() as usize,
        pitch: 3 * img.width() as usize,
        height: img.height() as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    for quality in [92, 85, 78, 70, 60, 50] {
        compressor.set_quality(quality).ok()?;
        let out = compressor.compress_to_vec(image).ok()?;
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
