//! YuNet pre- and post-processing, following OpenCV's `FaceDetectorYN`.

use image::{DynamicImage, RgbImage};

use crate::{BoundingBox, Face};

/// YuNet's largest input side (the ONNX graph declares 1×3×640×640; its reshapes and upsampling
/// take any height and width that are multiples of [`ALIGN`], as OpenCV runs it).
pub(crate) const INPUT_SIDE: u32 = 640;
/// Input sides are multiples of the coarsest stride.
pub(crate) const ALIGN: u32 = 32;
/// Feature-map strides of the three output levels.
pub(crate) const STRIDES: [u32; 3] = [8, 16, 32];
/// Output names, in the order [`decode`] expects them.
pub(crate) const OUTPUT_NAMES: [&str; 12] = [
    "cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32", "bbox_8", "bbox_16", "bbox_32", "kps_8", "kps_16",
    "kps_32",
];

/// The image's size once scaled to fit [`INPUT_SIDE`] (never up), as the letterbox scales it.
fn scaled_size(w: u32, h: u32) -> (u32, u32) {
    let side = INPUT_SIDE as f32;
    let scale = (side / w as f32).min(side / h as f32).min(1.0);
    let nw = ((w as f32 * scale).round() as u32).clamp(1, INPUT_SIDE);
    let nh = ((h as f32 * scale).round() as u32).clamp(1, INPUT_SIDE);
    (nw, nh)
}

/// The smallest input that holds `image` as [`letterbox`] lays it out: a 4:3 photo runs on
/// 640×480 instead of 640×640, a quarter less work.
pub(crate) fn fitted_size(image: &DynamicImage) -> InputSize {
    let (nw, nh) = scaled_size(image.width(), image.height());
    InputSize { width: nw.next_multiple_of(ALIGN), height: nh.next_multiple_of(ALIGN) }
}

/// The detector's input: `width`×`height` pixels (multiples of [`ALIGN`], at most [`INPUT_SIDE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct InputSize {
    pub width: u32,
    pub height: u32,
}

impl InputSize {
    pub(crate) const FULL: InputSize = InputSize { width: INPUT_SIDE, height: INPUT_SIDE };

    /// Cells of the output level with this stride, as (columns, rows).
    pub(crate) fn cells(self, stride: u32) -> (usize, usize) {
        ((self.width / stride) as usize, (self.height / stride) as usize)
    }
}

/// Lays `image` out as a 1×3×H×W BGR tensor with values 0–255, as `FaceDetectorYN` feeds the
/// model: at its own size, padded right and bottom with black to a multiple of 32, like OpenCV
/// running YuNet at the image's size; images larger than 640 pixels are first scaled down to fit,
/// keeping their aspect ratio. Small images are never scaled up: the landmarks of an upscaled face
/// came out measurably noisier (see THRESHOLDS.md). `input` is the size to lay it out in (at
/// least [`fitted_size`]'s). Returns the tensor data and the scale from image to input pixels.
pub(crate) fn letterbox(image: &DynamicImage, input: InputSize) -> (Vec<f32>, f32) {
    let (w, h) = (image.width(), image.height());
    let (nw, nh) = scaled_size(w, h);
    let full = crate::decode::rgb(image);
    // Downscaling only (small images keep their size), by area average: antialiased, and with
    // SIMD a few milliseconds for a 3-megapixel photo.
    let resized = if (nw, nh) == (w, h) { None } else { Some(area_average(&full, nw, nh)) };
    let rgb = resized.as_ref().unwrap_or(&full);
    debug_assert!(nw <= input.width && nh <= input.height);
    let plane = (input.width * input.height) as usize;
    let mut data = vec![0f32; 3 * plane];
    let (b, rest) = data.split_at_mut(plane);
    let (g, r) = rest.split_at_mut(plane);
    let row_len = nw as usize * 3;
    for (y, row) in rgb.as_raw().chunks_exact(row_len).enumerate() {
        let base = y * input.width as usize;
        for (x, p) in row.chunks_exact(3).enumerate() {
            r[base + x] = p[0] as f32;
            g[base + x] = p[1] as f32;
            b[base + x] = p[2] as f32;
        }
    }
    // The effective scale per axis after rounding; YuNet boxes are mapped back with the mean.
    let effective = (nw as f32 / w as f32 + nh as f32 / h as f32) / 2.0;
    (data, effective)
}

/// `image` scaled down to `w`×`h` with a box filter (each output pixel the mean of the input
/// pixels it covers).
fn area_average(image: &RgbImage, w: u32, h: u32) -> RgbImage {
    use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions};
    let mut out = RgbImage::new(w, h);
    let resized = (|| {
        let src = ImageRef::new(image.width(), image.height(), image.as_raw(), PixelType::U8x3).ok()?;
        let mut dst = Image::from_slice_u8(w, h, &mut out, PixelType::U8x3).ok()?;
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
        fast_image_resize::Resizer::new().resize(&src, &mut dst, &options).ok()
    })();
    match resized {
        Some(()) => out,
        // Not reached (RGB in and out, sizes checked); the image crate's slower one otherwise.
        None => DynamicImage::ImageRgb8(image.clone()).thumbnail_exact(w, h).to_rgb8(),
    }
}

/// Decodes the 12 YuNet outputs (ordered as [`OUTPUT_NAMES`]) of an `input`-sized run into faces
/// in image pixels (input pixels divided by `scale`), keeps those scoring at least
/// `score_threshold` and applies greedy non-maximum suppression at `nms_iou`. Faces come out
/// highest score first.
pub(crate) fn decode(
    outputs: &[&[f32]; 12],
    input: InputSize,
    scale: f32,
    score_threshold: f32,
    nms_iou: f32,
) -> Vec<Face> {
    let mut faces = Vec::new();
    for (level, &stride) in STRIDES.iter().enumerate() {
        let (cols, rows) = input.cells(stride);
        let (cls, obj, bbox, kps) = (outputs[level], outputs[3 + level], outputs[6 + level], outputs[9 + level]);
        let s = stride as f32;
        for r in 0..rows {
            for c in 0..cols {
                let idx = r * cols + c;
                let score = (cls[idx].clamp(0.0, 1.0) * obj[idx].clamp(0.0, 1.0)).sqrt();
                if score < score_threshold {
                    continue;
                }
                let b = &bbox[idx * 4..idx * 4 + 4];
                let cx = (c as f32 + b[0]) * s;
                let cy = (r as f32 + b[1]) * s;
                let w = b[2].exp() * s;
                let h = b[3].exp() * s;
                let k = &kps[idx * 10..idx * 10 + 10];
                let mut landmarks = [[0f32; 2]; 5];
                for (n, lm) in landmarks.iter_mut().enumerate() {
                    *lm = [(k[2 * n] + c as f32) * s / scale, (k[2 * n + 1] + r as f32) * s / scale];
                }
                faces.push(Face {
                    bbox: BoundingBox {
                        x: (cx - w / 2.0) / scale,
                        y: (cy - h / 2.0) / scale,
                        width: w / scale,
                        height: h / scale,
                    },
                    landmarks,
                    score,
                });
            }
        }
    }
    nms(faces, nms_iou)
}

fn nms(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.bbox.iou(&f.bbox) <= iou) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_one_cell_and_maps_back() {
        // One confident cell at stride 32, row 2, column 3; everything else scores 0.
        let n = |s: u32| ((INPUT_SIDE / s) * (INPUT_SIDE / s)) as usize;
        let mut cls: Vec<Vec<f32>> = STRIDES.iter().map(|&s| vec![0.0; n(s)]).collect();
        let mut obj = cls.clone();
        let bbox: Vec<Vec<f32>> = STRIDES.iter().map(|&s| vec![0.0; n(s) * 4]).collect();
        let kps: Vec<Vec<f32>> = STRIDES.iter().map(|&s| vec![0.5; n(s) * 10]).collect();
        let idx = 2 * 20 + 3;
        cls[2][idx] = 0.81;
        obj[2][idx] = 1.0;
        let outs: [&[f32]; 12] = [
            &cls[0], &cls[1], &cls[2], &obj[0], &obj[1], &obj[2], &bbox[0], &bbox[1], &bbox[2], &kps[0], &kps[1],
            &kps[2],
        ];
        let faces = decode(&outs, InputSize::FULL, 0.5, 0.6, 0.3);
        assert_eq!(faces.len(), 1);
        let f = faces[0];
        assert!((f.score - 0.9).abs() < 1e-6);
        // centre (3, 2) * 32 = (96, 64), size exp(0) * 32 = 32, then / 0.5
        assert_eq!(f.bbox, BoundingBox { x: 160.0, y: 96.0, width: 64.0, height: 64.0 });
        assert_eq!(f.landmarks[0], [(3.5 * 32.0) / 0.5, (2.5 * 32.0) / 0.5]);
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let face = |x: f32, score: f32| Face {
            bbox: BoundingBox { x, y: 0.0, width: 10.0, height: 10.0 },
            landmarks: [[0.0; 2]; 5],
            score,
        };
        let kept = nms(vec![face(0.0, 0.7), face(1.0, 0.9), face(50.0, 0.8)], 0.3);
        assert_eq!(kept.iter().map(|f| f.score).collect::<Vec<_>>(), vec![0.9, 0.8]);
    }

    #[test]
    fn letterbox_keeps_aspect_and_orders_bgr() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(1280, 650, image::Rgb([10, 20, 30])));
        // 640×325 once scaled: rows padded to 352, the next multiple of 32.
        let input = fitted_size(&img);
        assert_eq!(input, InputSize { width: 640, height: 352 });
        let (data, scale) = letterbox(&img, input);
        assert_eq!(scale, 0.5);
        let plane = (input.width * input.height) as usize;
        assert_eq!(data.len(), 3 * plane);
        assert_eq!((data[0], data[plane], data[2 * plane]), (30.0, 20.0, 10.0));
        // Below the scaled image (325 rows) is black padding.
        assert_eq!(data[330 * input.width as usize], 0.0);
        // The same image in the full square input: same pixels, more padding.
        let (square, _) = letterbox(&img, InputSize::FULL);
        assert_eq!(square[640 * 324], 30.0);
        assert_eq!(square[640 * 600], 0.0);
        // Small images keep their size.
        let small = DynamicImage::ImageRgb8(RgbImage::from_pixel(100, 50, image::Rgb([1, 2, 3])));
        assert_eq!(fitted_size(&small), InputSize { width: 128, height: 64 });
        let (data, scale) = letterbox(&small, fitted_size(&small));
        assert_eq!(scale, 1.0);
        assert_eq!((data[99], data[100]), (3.0, 0.0));
    }
}
