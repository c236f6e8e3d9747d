//! The decision on one answered challenge: blocking and CPU bound, run in `spawn_blocking`.
//!
//! Frames arrive as bytes, are decoded and analysed here, and are dropped when this function
//! returns: nothing of them survives but their sha256 and the scores (no embedding, no pixels).

use jingtong_api::ErrorCode;
use jingtong_face::liveness::{self, Signature, StillLimits};
use jingtong_face::{
    check_frame, decode_image, estimate_pose, Embedding, Face, FaceEngine, FaceError, FrameProblem, PoseAction,
    Thresholds,
};
use jingtong_rules::FacePhotos;
use serde_json::{json, Value};

/// The outcome: `reason` is `None` when verified. `scores` is what gets recorded (no biometrics).
#[derive(Debug)]
pub struct Verdict {
    pub reason: Option<ErrorCode>,
    pub scores: Value,
}

pub fn problem_code(p: FrameProblem) -> ErrorCode {
    match p {
        FrameProblem::NoFace => ErrorCode::FaceNone,
        FrameProblem::SeveralFaces => ErrorCode::FaceSeveral,
        FrameProblem::TooSmall => ErrorCode::FaceTooSmall,
        FrameProblem::TooDark => ErrorCode::FaceTooDark,
        FrameProblem::TooBright => ErrorCode::FaceTooBright,
        FrameProblem::Blurred => ErrorCode::FaceBlurred,
        FrameProblem::WrongPose => ErrorCode::FaceWrongPose,
    }
}

fn reject(reason: ErrorCode, scores: Value) -> Result<Verdict, FaceError> {
    Ok(Verdict { reason: Some(reason), scores })
}

/// The liveness limits of the rules data.
pub fn still_limits(rules: &FacePhotos) -> StillLimits {
    let s = &rules.stills;
    StillLimits {
        face_bits: s.face_bits,
        region_bits: s.region_bits,
        shape: s.shape,
        shape_face_bits: s.shape_face_bits,
        pair_cosine: s.pair_cosine,
    }
}

/// Whether a refusal means the files were unusable (they did not decode or showed no face): such an
/// attempt is given back, it does not count against the day's five.
pub fn is_bad_file(reason: ErrorCode) -> bool {
    matches!(reason, ErrorCode::FaceFrameInvalid | ErrorCode::FaceNone)
}

/// Decides one attempt. `frames[0]` is frontal, `frames[i]` shows `actions[i - 1]`; `hashes` are the
/// frames' sha256. Checks, in order: no duplicate files, every frame decodes and shows exactly one good
/// face doing the requested action (the first one facing the camera), no two frames are one picture
/// (cropped, scaled, mirrored, re-encoded or too alike: see `jingtong_face::liveness`), all frames show
/// one person, and that person matches the registry photo.
pub fn decide(
    engine: &dyn FaceEngine,
    frames: Vec<Vec<u8>>,
    hashes: &[String],
    registry_photo: &[u8],
    actions: &[PoseAction],
    t: &Thresholds,
) -> Result<Verdict, FaceError> {
    let mut scores = json!({ "match_threshold": t.match_cosine, "frames": [] });
    // The registry photo itself held up to the camera, or uploaded as a frame, is a replay too.
    let registry_hash = crate::blobs::sha256_bytes(registry_photo);
    for i in 0..hashes.len() {
        if hashes[i + 1..].contains(&hashes[i]) || hashes[i] == registry_hash {
            return reject(ErrorCode::FaceReplay, scores);
        }
    }
    let rules = FacePhotos::load();
    let limits = still_limits(rules);
    let mut faces: Vec<Face> = Vec::new();
    let mut embeddings: Vec<Embedding> = Vec::new();
    let mut signatures: Vec<Signature> = Vec::new();
    for (i, bytes) in frames.into_iter().enumerate() {
        let Ok(image) = decode_image(&bytes) else {
            return reject(ErrorCode::FaceFrameInvalid, scores);
        };
        drop(bytes);
        let analysis = engine.analyze(&image)?;
        let expected = if i == 0 { None } else { actions.get(i - 1).copied() };
        let checked = check_frame(&analysis, (image.width(), image.height()), expected, faces.last(), t);
        let face = match checked {
            Ok(face) => *face,
            Err(p) => {
                scores["failed_frame"] = json!(i);
                if let Some(face) = analysis.largest_face() {
                    let pose = estimate_pose(face);
                    scores["failed_pose"] =
                        json!({ "yaw": pose.yaw, "pitch": pose.pitch, "faces": analysis.faces.len() });
                }
                return reject(problem_code(p), scores);
            }
        };
        let pose = estimate_pose(&face);
        scores["frames"].as_array_mut().expect("array").push(json!({
            "yaw": pose.yaw, "pitch": pose.pitch, "roll": pose.roll, "face_width": face.bbox.width,
            "brightness": analysis.brightness, "sharpness": analysis.sharpness,
        }));
        // Every challenge starts from a frontal face, so the actions are movements away from it.
        let first = &rules.first_frame;
        if i == 0 && (pose.yaw.abs() > first.max_yaw_deg || pose.pitch.abs() > first.max_pitch_deg) {
            return reject(ErrorCode::FaceNotFrontal, scores);
        }
        let Some(signature) = liveness::signature(&image, &face) else {
            return reject(ErrorCode::FaceWrongPose, scores);
        };
        signatures.push(signature);
        embeddings.push(engine.embed(&image, &face)?);
        faces.push(face);
    }
    // Liveness against stills: no two frames may be one picture (see jingtong_face::liveness).
    let mut pairs = Vec::new();
    let mut alike = false;
    let mut same_person = true;
    for i in 0..embeddings.len() {
        for j in i + 1..embeddings.len() {
            let c = embeddings[i].cosine(&embeddings[j]);
            let l = liveness::compare(&signatures[i], &signatures[j]);
            pairs.push(json!({ "pair": [i, j], "cosine": c, "face_bits": l.face_bits, "region_bits": l.region_bits,
                               "shape": l.shape, "mirrored": l.mirrored }));
            alike |= c >= limits.pair_cosine || l.is_same_picture(&limits);
            same_person &= t.is_match(c);
        }
    }
    scores["pairs"] = json!(pairs);
    if alike {
        return reject(ErrorCode::FaceFramesAlike, scores);
    }
    if !same_person {
        return reject(ErrorCode::FaceMismatch, scores);
    }
    let Ok(photo) = decode_image(registry_photo) else {
        return Err(FaceError::Inference("registry photo does not decode".into()));
    };
    let analysis = engine.analyze(&photo)?;
    let Some(registry_face) = analysis.largest_face() else {
        return reject(ErrorCode::FaceRegistryPhotoMissing, scores);
    };
    let registry = engine.embed(&photo, registry_face)?;
    let cosines: Vec<f32> = embeddings.iter().map(|e| e.cosine(&registry)).collect();
    let best = cosines.iter().copied().fold(f32::MIN, f32::max);
    scores["registry_cosines"] = json!(cosines);
    scores["registry_best"] = json!(best);
    if !t.is_match(best) {
        return reject(ErrorCode::FaceMismatch, scores);
    }
    Ok(Verdict { reason: None, scores })
}
