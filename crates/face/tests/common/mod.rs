//! Shared by the face tests and the measure example: the engine (loaded once) and the pinned photos.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use image::DynamicImage;
use jingtong_face::{asset_dir, decode_image, Face, FaceEngine, FrameAnalysis, LocalEngine};

pub const HINT: &str = "run scripts/fetch-face-assets (it fills $JINGTONG_FACE_DIR, default ~/.cache/jingtong/face)";

/// The engine, loaded once per test binary. Fails (never skips) when the models are missing.
pub fn engine() -> &'static LocalEngine {
    static ENGINE: OnceLock<LocalEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = asset_dir().join("models");
        LocalEngine::load(&dir)
            .unwrap_or_else(|e| panic!("cannot load the face models from {}: {e}; {HINT}", dir.display()))
    })
}

pub fn testdata(name: &str) -> PathBuf {
    asset_dir().join("testdata").join(name)
}

/// Reads and decodes one pinned test photo (EXIF orientation applied). Fails when it is missing.
pub fn photo(name: &str) -> DynamicImage {
    let path = testdata(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("test photo {} is missing ({e}); {HINT}", path.display()));
    decode_image(&bytes).unwrap_or_else(|e| panic!("cannot decode {}: {e}", path.display()))
}

pub fn analyze(image: &DynamicImage) -> FrameAnalysis {
    engine().analyze(image).expect("analyze")
}

/// The single face of a photo that must show exactly one.
pub fn single_face(image: &DynamicImage, what: &str) -> Face {
    let analysis = analyze(image);
    assert_eq!(analysis.faces.len(), 1, "{what}: expected exactly one face, found {:?}", analysis.faces);
    analysis.faces[0]
}

/// Multiplies every channel by `factor` (darker below 1, brighter above), clamping at 255.
pub fn scale_brightness(image: &DynamicImage, factor: f32) -> DynamicImage {
    let mut rgb = image.to_rgb8();
    for p in rgb.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (*c as f32 * factor).round().clamp(0.0, 255.0) as u8;
        }
    }
    DynamicImage::ImageRgb8(rgb)
}
