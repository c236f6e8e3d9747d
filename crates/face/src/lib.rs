//! Jingtong's offline face engine for face verification (刷脸认证).
//!
//! The server matches a live face against the registry photo, and the app's core runs the same
//! detector locally to tell the resident at once what is wrong with a frame. Everything here runs
//! offline: YuNet (detection, 5 landmarks) and SFace (128-d embeddings) executed with tract-onnx.
//! No cloud call, no network access at run time.
//!
//! * [`LocalEngine`] loads the two models once and implements [`FaceEngine`]; it is `Send + Sync`,
//!   so share it in an `Arc` and call it from `spawn_blocking` in async code (each call is CPU bound).
//! * [`FaceEngine`] is the seam where a provincial or national verification service can replace the
//!   local engine by configuration.
//! * [`check_frame`] turns a [`FrameAnalysis`] into the one face to use or a [`FrameProblem`] a resident
//!   understands; [`Thresholds`] holds every number, documented in `THRESHOLDS.md` with its evidence.
//! * [`estimate_pose`] and [`PoseAction`] confirm challenge actions from the 5 landmarks.
//! * [`decode_image`] decodes uploaded bytes and applies the EXIF orientation.
//! * [`id_photo`] holds GA 461 and the check of a finished ID photo; [`liveness`] tells distinct
//!   captures from one still shown several times.
//!
//! Face images and embeddings are sensitive personal information: nothing in this crate logs them,
//! and [`Embedding`]'s `Debug` shows only its dimension.

mod align;
mod check;
mod decode;
mod detect;
mod engine;
mod error;
mod fold;
pub mod id_photo;
pub mod liveness;
mod pose;
mod quality;
#[doc(hidden)]
pub mod testing;

use image::DynamicImage;
use serde::{Deserialize, Serialize};

pub use check::{check_frame, FrameProblem, Thresholds};
pub use decode::{decode_image, rgb};
pub use engine::{LocalEngine, RECOGNIZER_FILE, RECOGNIZER_SHA256, YUNET_FILE, YUNET_SHA256};
pub use error::FaceError;
pub use pose::{estimate_pose, HeadPose, PoseAction};

/// A face detection engine plus a face embedding engine.
///
/// [`LocalEngine`] is the offline implementation; a remote verification service can implement the
/// same trait. Both methods are blocking and CPU bound: call them from `spawn_blocking` in async code.
pub trait FaceEngine: Send + Sync {
    /// Detects every face in `image` and measures the frame quality around the main face.
    fn analyze(&self, image: &DynamicImage) -> Result<FrameAnalysis, FaceError>;

    /// Computes the L2-normalised identity embedding of `face`, a face found in `image` by
    /// [`FaceEngine::analyze`]. Compare two embeddings with [`Embedding::cosine`] and
    /// [`Thresholds::is_match`].
    fn embed(&self, image: &DynamicImage, face: &Face) -> Result<Embedding, FaceError>;
}

/// Axis-aligned face box in pixels of the analysed image (it may reach past the image edges).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoundingBox {
    /// Area in square pixels.
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union with `other`.
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let x1 = self.x.max(other.x);
        let y1 = self.y.max(other.y);
        let x2 = (self.x + self.width).min(other.x + other.width);
        let y2 = (self.y + self.height).min(other.y + other.height);
        let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// Index of each landmark in [`Face::landmarks`]. "Right" and "left" are the person's own sides, so in
/// an unmirrored camera frame the right eye is the one on the image's left.
pub mod landmark {
    pub const RIGHT_EYE: usize = 0;
    pub const LEFT_EYE: usize = 1;
    pub const NOSE_TIP: usize = 2;
    pub const RIGHT_MOUTH_CORNER: usize = 3;
    pub const LEFT_MOUTH_CORNER: usize = 4;
}

/// One detected face, in pixels of the analysed image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub bbox: BoundingBox,
    /// `[x, y]` of the right eye, left eye, nose tip, right mouth corner and left mouth corner,
    /// in that order (see [`landmark`]).
    pub landmarks: [[f32; 2]; 5],
    /// Detector confidence in 0..=1.
    pub score: f32,
}

/// What [`FaceEngine::analyze`] found in one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameAnalysis {
    /// Every face above the detector's score threshold, after non-maximum suppression, highest
    /// score first.
    pub faces: Vec<Face>,
    /// Mean luma (0–255, Rec. 601) of the largest face's box, or of the whole frame when there is
    /// no face.
    pub brightness: f32,
    /// Variance of the Laplacian of the largest face's box resampled to 112×112 grey pixels (so it
    /// does not depend on the face's size in pixels), or of the whole frame resampled the same way
    /// when there is no face. Low means blurred.
    pub sharpness: f32,
}

impl FrameAnalysis {
    /// The face with the largest box, if any.
    pub fn largest_face(&self) -> Option<&Face> {
        self.faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
    }
}

/// L2-normalised face identity embedding (128 values for SFace).
///
/// It is biometric data: its `Debug` output shows only the dimension, never the values, and it
/// has no serde implementation on purpose, so it cannot end up in a log line or a JSON body by accident.
#[derive(Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Normalises `values` to unit length. Fails on an empty or all-zero vector.
    pub fn from_values(mut values: Vec<f32>) -> Result<Self, FaceError> {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if values.is_empty() || !norm.is_finite() || norm <= f32::EPSILON {
            return Err(FaceError::Inference("embedding is empty or zero".into()));
        }
        values.iter_mut().for_each(|v| *v /= norm);
        Ok(Self(values))
    }

    /// The unit-length values.
    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// Cosine similarity in -1..=1 (both embeddings are unit length, so this is their dot product).
    /// Embeddings of different dimensions score 0.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        if self.0.len() != other.0.len() {
            return 0.0;
        }
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedding({}-d)", self.0.len())
    }
}

/// Where the face assets live: `$JINGTONG_FACE_DIR`, else `$JINGTONG_CACHE/face`, else
/// `$HOME/.cache/jingtong/face` (what `scripts/fetch-face-assets` fills). The models are in its
/// `models/` folder, the test material in `testdata/`.
pub fn asset_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("JINGTONG_FACE_DIR").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    if let Some(cache) = std::env::var_os("JINGTONG_CACHE").filter(|d| !d.is_empty()) {
        return std::path::PathBuf::from(cache).join("face");
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    std::path::PathBuf::from(home).join(".cache").join("jingtong").join("face")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_is_unit_length_and_hides_values() {
        let e = Embedding::from_values(vec![3.0, 4.0]).unwrap();
        assert!((e.cosine(&e) - 1.0).abs() < 1e-6);
        assert_eq!(format!("{e:?}"), "Embedding(2-d)");
        assert!(Embedding::from_values(vec![0.0, 0.0]).is_err());
        let o = Embedding::from_values(vec![-4.0, 3.0]).unwrap();
        assert!(e.cosine(&o).abs() < 1e-6);
    }

    #[test]
    fn iou_of_boxes() {
        let a = BoundingBox { x: 0.0, y: 0.0, width: 10.0, height: 10.0 };
        let b = BoundingBox { x: 5.0, y: 0.0, width: 10.0, height: 10.0 };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BoundingBox { x: 20.0, ..a }), 0.0);
    }
}
