//! Liveness against stills: the frames of one challenge must be distinct captures of a moving person.
//!
//! A replayed still can be cropped, scaled, mirrored or re-encoded to look like a new frame. Each of
//! those leaves the picture itself alike, so every frame gets a [`Signature`]:
//!
//! * a 64-bit difference hash (dHash) of the aligned 112×112 face: crops and scales land on the same
//!   aligned face, so they hash alike whatever the framing;
//! * a dHash of the region around the face (the box grown by half on each side): near-duplicates and
//!   re-encodes of one capture hash alike even when the landmarks jitter;
//! * the landmark shape (nose and mouth relative to the eyes, in eye distances): a similarity
//!   transform (crop, scale, rotation) leaves it unchanged, a real head movement does not.
//!
//! Each is also taken of the mirrored picture, so a mirrored copy is caught too: a mirror of a left
//! turn would otherwise pass as a right turn. [`StillLimits`] holds the numbers; they are data in
//! `crates/rules/data/face_photos.toml` with what they were measured on.

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

use crate::align::align_crop;
use crate::landmark::{LEFT_EYE, LEFT_MOUTH_CORNER, NOSE_TIP, RIGHT_EYE, RIGHT_MOUTH_CORNER};
use crate::Face;

/// When two frames count as one picture shown twice.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StillLimits {
    /// Aligned-face hashes this close (differing bits, of 64) are the same picture.
    pub face_bits: u32,
    /// Face-region hashes this close are the same capture.
    pub region_bits: u32,
    /// Landmark shapes this close (largest coordinate difference, in eye distances)…
    pub shape: f32,
    /// …are the same picture when the aligned faces also differ by at most this many bits.
    pub shape_face_bits: u32,
    /// Two frames of one challenge whose SFace embeddings are at least this similar are one picture.
    pub pair_cosine: f32,
}

/// What [`compare`] measured between two frames, in the orientation that made them most alike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Likeness {
    pub face_bits: u32,
    pub region_bits: u32,
    pub shape: f32,
    /// Whether the second frame was compared mirrored.
    pub mirrored: bool,
}

impl Likeness {
    /// Whether the two frames are one picture by these limits (the embedding bound is checked by the caller).
    pub fn is_same_picture(&self, limits: &StillLimits) -> bool {
        self.face_bits <= limits.face_bits
            || self.region_bits <= limits.region_bits
            || (self.shape <= limits.shape && self.face_bits <= limits.shape_face_bits)
    }
}

/// A frame's fingerprint for [`compare`]: hashes and landmark shape, straight and mirrored. It holds no
/// pixels and cannot be turned back into a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signature {
    face: [u64; 2],
    region: [u64; 2],
    shape: [[f32; 6]; 2],
}

/// The signature of `face` in `image`, or `None` when the face cannot be aligned (degenerate landmarks).
pub fn signature(image: &DynamicImage, face: &Face) -> Option<Signature> {
    let rgb = crate::rgb(image);
    let aligned = align_crop(&rgb, &face.landmarks)?;
    let region = face_region(&rgb, face)?;
    let aligned_grey = DynamicImage::ImageRgb8(aligned).to_luma8();
    let region_grey = DynamicImage::ImageRgb8(region).to_luma8();
    Some(Signature {
        face: [dhash(&aligned_grey), dhash(&imageops::flip_horizontal(&aligned_grey))],
        region: [dhash(&region_grey), dhash(&imageops::flip_horizontal(&region_grey))],
        shape: [shape(&face.landmarks, false), shape(&face.landmarks, true)],
    })
}

/// How alike two frames are: straight, and with the second one mirrored; the more alike of the two.
pub fn compare(a: &Signature, b: &Signature) -> Likeness {
    let one = |m: usize| Likeness {
        face_bits: (a.face[0] ^ b.face[m]).count_ones(),
        region_bits: (a.region[0] ^ b.region[m]).count_ones(),
        shape: a.shape[0].iter().zip(&b.shape[m]).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max),
        mirrored: m == 1,
    };
    let (straight, mirrored) = (one(0), one(1));
    let score = |l: &Likeness| l.face_bits.min(l.region_bits * 2);
    if score(&mirrored) < score(&straight) {
        mirrored
    } else {
        straight
    }
}

/// The face box grown by half its size on each side, clipped to the image.
fn face_region(image: &RgbImage, face: &Face) -> Option<RgbImage> {
    let b = &face.bbox;
    let (w, h) = (image.width() as f32, image.height() as f32);
    let x0 = (b.x - b.width / 2.0).max(0.0);
    let y0 = (b.y - b.height / 2.0).max(0.0);
    let x1 = (b.x + b.width * 1.5).min(w);
    let y1 = (b.y + b.height * 1.5).min(h);
    if x1 - x0 < 9.0 || y1 - y0 < 8.0 {
        return None;
    }
    Some(imageops::crop_imm(image, x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32).to_image())
}

/// 64-bit difference hash: 9×8 grey, one bit per horizontal neighbour pair (left brighter than right).
fn dhash(grey: &GrayImage) -> u64 {
    let small = imageops::resize(grey, 9, 8, FilterType::Triangle);
    let mut bits = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            bits <<= 1;
            if small.get_pixel(x, y)[0] > small.get_pixel(x + 1, y)[0] {
                bits |= 1;
            }
        }
    }
    bits
}

/// Nose tip and mouth corners in a frame where the eyes sit at (−½, 0) and (½, 0). Mirrored: x is
/// negated and the person's left and right swap, as in a mirror image of the same face.
fn shape(l: &[[f32; 2]; 5], mirrored: bool) -> [f32; 6] {
    let flip = |p: [f32; 2]| if mirrored { [-p[0], p[1]] } else { p };
    let (re, le) = if mirrored { (flip(l[LEFT_EYE]), flip(l[RIGHT_EYE])) } else { (l[RIGHT_EYE], l[LEFT_EYE]) };
    let (rm, lm) = if mirrored {
        (flip(l[LEFT_MOUTH_CORNER]), flip(l[RIGHT_MOUTH_CORNER]))
    } else {
        (l[RIGHT_MOUTH_CORNER], l[LEFT_MOUTH_CORNER])
    };
    let nose = flip(l[NOSE_TIP]);
    let mid = [(re[0] + le[0]) / 2.0, (re[1] + le[1]) / 2.0];
    let (ex, ey) = (le[0] - re[0], le[1] - re[1]);
    let d2 = (ex * ex + ey * ey).max(1e-6);
    // Rotate and scale so that the eye vector becomes (1, 0).
    let to = |p: [f32; 2]| {
        let (x, y) = (p[0] - mid[0], p[1] - mid[1]);
        [(x * ex + y * ey) / d2, (y * ex - x * ey) / d2]
    };
    let (n, r, m) = (to(nose), to(rm), to(lm));
    [n[0], n[1], r[0], r[1], m[0], m[1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoundingBox;

    fn face(shift: f32, scale: f32, nose_x: f32) -> Face {
        let p = |x: f32, y: f32| [shift + x * scale, shift + y * scale];
        Face {
            bbox: BoundingBox { x: shift, y: shift, width: 100.0 * scale, height: 100.0 * scale },
            landmarks: [p(30.0, 37.0), p(70.0, 37.0), p(nose_x, 61.0), p(35.0, 81.0), p(65.0, 81.0)],
            score: 0.9,
        }
    }

    #[test]
    fn the_shape_ignores_position_and_scale_but_not_a_turn() {
        let a = shape(&face(0.0, 1.0, 50.0).landmarks, false);
        let b = shape(&face(40.0, 2.5, 50.0).landmarks, false);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-4), "{a:?} {b:?}");
        let turned = shape(&face(0.0, 1.0, 62.0).landmarks, false);
        assert!((turned[0] - a[0]).abs() > 0.2);
    }

    #[test]
    fn a_mirrored_turn_has_the_shape_of_the_opposite_turn() {
        let left = face(0.0, 1.0, 62.0);
        let mut mirrored = left;
        for (i, j) in [(0, 1), (1, 0), (2, 2), (3, 4), (4, 3)] {
            mirrored.landmarks[i] = [200.0 - left.landmarks[j][0], left.landmarks[j][1]];
        }
        let straight = shape(&left.landmarks, false);
        let back = shape(&mirrored.landmarks, true);
        assert!(straight.iter().zip(&back).all(|(x, y)| (x - y).abs() < 1e-4), "{straight:?} {back:?}");
    }

    #[test]
    fn dhash_is_stable_under_scaling_and_flips_under_a_mirror() {
        let img = GrayImage::from_fn(90, 80, |x, y| image::Luma([((x * 7 + y * 3) % 200) as u8]));
        let big = imageops::resize(&img, 180, 160, FilterType::Triangle);
        assert!((dhash(&img) ^ dhash(&big)).count_ones() <= 4);
        assert!((dhash(&img) ^ dhash(&imageops::flip_horizontal(&img))).count_ones() > 16);
    }
}
