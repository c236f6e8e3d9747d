use std::path::PathBuf;

/// Errors of the face engine. Frame quality problems are not errors: see
/// [`FrameProblem`](crate::FrameProblem).
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// A model file is missing: the assets were not fetched on this machine.
    #[error("face model {path} is missing: run scripts/fetch-face-assets")]
    MissingModel { path: PathBuf },
    /// A model file does not have its pinned sha256.
    #[error("face model {path} has sha256 {actual}, expected {expected}: run scripts/fetch-face-assets")]
    ModelChecksum { path: PathBuf, expected: &'static str, actual: String },
    /// The model could not be read, converted or optimised.
    #[error("face model {name}: {message}")]
    Model { name: &'static str, message: String },
    /// Embeddings asked of an engine loaded with the detector only.
    #[error("this face engine was loaded without the recognizer (detector only)")]
    NoRecognizer,
    /// Running a model failed, or it produced something unexpected.
    #[error("face inference: {0}")]
    Inference(String),
    /// The uploaded bytes are not an image we can decode (or exceed the size limits).
    #[error("image: {0}")]
    Image(#[from] image::ImageError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
