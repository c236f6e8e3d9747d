//! The 5-point similarity alignment that SFace expects (OpenCV `FaceRecognizerSF::alignCrop`).

use image::{Rgb, RgbImage};

/// Side of the aligned face crop.
pub(crate) const ALIGNED_SIDE: u32 = 112;

/// Where the 5 landmarks land in the 112×112 crop (OpenCV's alignCrop reference, from ArcFace).
const REFERENCE: [[f32; 2]; 5] =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/// 2×3 affine matrix `[a, -b, tx; b, a, ty]` mapping image points to crop points.
type Affine = [[f32; 3]; 2];

/// Least-squares similarity transform (rotation, uniform scale, translation, no reflection) from
/// `src` to `dst`: the closed form of Umeyama's method in 2-D.
fn similarity(src: &[[f32; 2]; 5], dst: &[[f32; 2]; 5]) -> Option<Affine> {
    let n = src.len() as f32;
    let mean = |p: &[[f32; 2]; 5]| {
        let (x, y) = p.iter().fold((0.0, 0.0), |(x, y), q| (x + q[0], y + q[1]));
        [x / n, y / n]
    };
    let (ms, md) = (mean(src), mean(dst));
    let (mut dot, mut cross, mut norm) = (0f32, 0f32, 0f32);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] - ms[0], s[1] - ms[1]);
        let (dx, dy) = (d[0] - md[0], d[1] - md[1]);
        dot += sx * dx + sy * dy;
        cross += sx * dy - sy * dx;
        norm += sx * sx + sy * sy;
    }
    if norm <= f32::EPSILON {
        return None;
    }
    let (a, b) = (dot / norm, cross / norm);
    let tx = md[0] - (a * ms[0] - b * ms[1]);
    let ty = md[1] - (b * ms[0] + a * ms[1]);
    Some([[a, -b, tx], [b, a, ty]])
}

/// Warps the face with the given landmarks into a 112×112 crop, bilinear, black outside the image.
pub(crate) fn align_crop(image: &RgbImage, landmarks: &[[f32; 2]; 5]) -> Option<RgbImage> {
    let m = similarity(landmarks, &REFERENCE)?;
    // Invert [a -b; b a]: 1/(a²+b²) [a b; -b a].
    let (a, b) = (m[0][0], m[1][0]);
    let det = a * a + b * b;
    if det <= f32::EPSILON {
        return None;
    }
    let (ia, ib) = (a / det, b / det);
    let (tx, ty) = (m[0][2], m[1][2]);
    let (w, h) = image.dimensions();
    let px = |x: i64, y: i64| -> [f32; 3] {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            [0.0; 3]
        } else {
            let p = image.get_pixel(x as u32, y as u32).0;
            [p[0] as f32, p[1] as f32, p[2] as f32]
        }
    };
    let mut out = RgbImage::new(ALIGNED_SIDE, ALIGNED_SIDE);
    for (u, v, pixel) in out.enumerate_pixels_mut() {
        let (du, dv) = (u as f32 - tx, v as f32 - ty);
        let sx = ia * du + ib * dv;
        let sy = -ib * du + ia * dv;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (p00, p10, p01, p11) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
        let mut rgb = [0u8; 3];
        for c in 0..3 {
            let top = p00[c] + (p10[c] - p00[c]) * fx;
            let bottom = p01[c] + (p11[c] - p01[c]) * fx;
            rgb[c] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
        }
        *pixel = Rgb(rgb);
    }
    Some(out)
}

/// The aligned crop as a 1×3×112×112 RGB tensor with values 0–255 (OpenCV's `blobFromImage` with
/// `swapRB` on a BGR crop, scale 1, no mean).
pub(crate) fn to_tensor(crop: &RgbImage) -> Vec<f32> {
    let plane = (ALIGNED_SIDE * ALIGNED_SIDE) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (i, p) in crop.pixels().enumerate() {
        data[i] = p[0] as f32;
        data[plane + i] = p[1] as f32;
        data[2 * plane + i] = p[2] as f32;
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_a_known_transform() {
        // Rotate by 30°, scale 2, shift (5, -3).
        let (c, s) = (30f32.to_radians().cos() * 2.0, 30f32.to_radians().sin() * 2.0);
        let dst = REFERENCE.map(|[x, y]| [c * x - s * y + 5.0, s * x + c * y - 3.0]);
        let m = similarity(&REFERENCE, &dst).unwrap();
        assert!((m[0][0] - c).abs() < 1e-4 && (m[1][0] - s).abs() < 1e-4);
        assert!((m[0][2] - 5.0).abs() < 1e-3 && (m[1][2] + 3.0).abs() < 1e-3);
    }

    #[test]
    fn landmarks_already_in_place_give_the_identity_crop() {
        let img = RgbImage::from_fn(112, 112, |x, y| Rgb([x as u8, y as u8, 7]));
        let crop = align_crop(&img, &REFERENCE).unwrap();
        assert_eq!(crop.get_pixel(40, 60).0, [40, 60, 7]);
    }
}
