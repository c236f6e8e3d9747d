//! Face verification on the device: the challenge, a local check of each frame with the same
//! detector and thresholds the server uses, and the upload.
//!
//! Frames are face data: they live in this process's memory only (never the local database, never
//! a file, never a log) and are dropped as soon as the server decided, the challenge expired or the
//! resident cancelled.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use jingtong_api::identity::rules::FRAMES_REQUIRED;
use jingtong_api::identity::{ChallengeAction, FaceChallenge, FaceDecision};
use jingtong_api::ErrorCode;
use jingtong_face::{check_frame, decode_image, Face, FaceEngine, LocalEngine, PoseAction, Thresholds};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell};
use tracing::{info, warn};

use crate::Sensitive;

/// Imported photos larger than this are refused before decoding.
pub const MAX_INPUT_BYTES: usize = 20 * 1024 * 1024;
/// Frames are scaled down to this longest side before checking and upload (3 frames stay far
/// below the server's 8 MiB body limit; faces stay far above the 80 px minimum).
pub const MAX_SIDE: u32 = 1280;
const JPEG_QUALITY: u8 = 90;
/// Upload attempts when the network drops, all with the same Idempotency-Key.
pub const UPLOAD_ATTEMPTS: u32 = 3;

/// The answer to one frame: accepted for its slot, or the problem to fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct FrameCheck {
    /// 0 is the frontal frame, then one per action in order.
    pub slot: u32,
    pub accepted: bool,
    /// `face_none`, `face_several`, `face_too_small`, `face_too_dark`, `face_too_bright`, `face_blurred`,
    /// `face_wrong_pose` or `face_frame_invalid`; null when accepted.
    #[ts(type = "string | null")]
    pub problem: Option<ErrorCode>,
    /// The problem in the resident's words; empty when accepted.
    pub message: String,
    /// False when the detector models are not on this device: the server still checks everything.
    pub checked_locally: bool,
    /// Frames accepted so far; the answer can be sent when this reaches `frames_required`.
    pub frames_ready: u32,
}

struct Frame {
    jpeg: Sensitive<Vec<u8>>,
    face: Option<Face>,
}

struct Attempt {
    challenge: FaceChallenge,
    actions: Vec<PoseAction>,
    expires_at: OffsetDateTime,
    frames: Vec<Frame>,
    /// One key per challenge: every retry of the upload is the same request to the server.
    idempotency_key: String,
}

impl Attempt {
    fn expired(&self) -> bool {
        OffsetDateTime::now_utc() >= self.expires_at
    }
}

pub(crate) struct FaceFlow {
    models: PathBuf,
    engine: OnceCell<Option<Arc<LocalEngine>>>,
    current: Mutex<Option<Attempt>>,
}

fn to_pose(a: ChallengeAction) -> PoseAction {
    match a {
        ChallengeAction::TurnLeft => PoseAction::TurnLeft,
        ChallengeAction::TurnRight => PoseAction::TurnRight,
        ChallengeAction::LookUp => PoseAction::LookUp,
        ChallengeAction::LookDown => PoseAction::LookDown,
        ChallengeAction::ComeCloser => PoseAction::ComeCloser,
    }
}

/// What the blocking check hands back.
struct Checked {
    jpeg: Vec<u8>,
    face: Option<Face>,
    problem: Option<ErrorCode>,
}

/// The engine the device runs: the detector alone (the server compares faces), its matrix
/// products spread over up to four cores while the resident waits for the answer.
pub fn device_engine(models: &std::path::Path) -> Result<LocalEngine, jingtong_face::FaceError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(LocalEngine::load_detector(models)?.with_threads(cores.min(4)))
}

impl FaceFlow {
    pub fn new(models: PathBuf) -> FaceFlow {
        FaceFlow { models, engine: OnceCell::new(), current: Mutex::new(None) }
    }

    /// The local engine, loaded once on first use; `None` (and one warning) without the models.
    pub(crate) async fn engine(&self) -> Option<Arc<LocalEngine>> {
        let models = self.models.clone();
        self.engine
            .get_or_init(|| async move {
                let loaded = tokio::task::spawn_blocking(move || device_engine(&models)).await;
                match loaded {
                    Ok(Ok(engine)) => Some(Arc::new(engine)),
                    Ok(Err(e)) => {
                        warn!(error = %e, "face models not available: frames are checked by the server only");
                        None
                    }
                    Err(e) => {
                        warn!(error = %e, "loading the face models failed");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Starts over with a new challenge; frames of an earlier one are dropped.
    pub async fn begin(&self, challenge: FaceChallenge) -> Result<(), ErrorCode> {
        let expires_at = OffsetDateTime::parse(&challenge.expires_at, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ErrorCode::UnexpectedResponse)?;
        if challenge.actions.len() + 1 != FRAMES_REQUIRED as usize || challenge.frames_required != FRAMES_REQUIRED {
            return Err(ErrorCode::UnexpectedResponse);
        }
        let actions = challenge.actions.iter().copied().map(to_pose).collect();
        let attempt = Attempt {
            challenge,
            actions,
            expires_at,
            frames: Vec::new(),
            idempotency_key: uuid::Uuid::now_v7().to_string(),
        };
        *self.current.lock().await = Some(attempt);
        // Warm the models while the resident reads the first instruction.
        let _ = self.engine().await;
        Ok(())
    }

    pub async fn cancel(&self) {
        *self.current.lock().await = None;
    }

    /// Checks `image` (JPEG or PNG bytes) for `slot`. An accepted frame replaces that slot and drops
    /// every later one (they were checked against it). Problems with the picture come back as a
    /// `FrameCheck`, not an error: the camera calls this many times a second.
    pub async fn check(&self, slot: u32, image: Vec<u8>) -> Result<FrameCheck, ErrorCode> {
        let (expected, previous) = {
            let mut guard = self.current.lock().await;
            let attempt = guard.as_ref().ok_or(ErrorCode::FaceChallengeExpired)?;
            if attempt.expired() {
                *guard = None;
                return Err(ErrorCode::FaceChallengeExpired);
            }
            if slot >= FRAMES_REQUIRED || slot as usize > attempt.frames.len() {
                return Err(ErrorCode::InvalidRequest);
            }
            let expected = slot.checked_sub(1).and_then(|i| attempt.actions.get(i as usize).copied());
            let previous = slot.checked_sub(1).and_then(|i| attempt.frames.get(i as usize)).and_then(|f| f.face);
            (expected, previous)
        };
        if image.len() > MAX_INPUT_BYTES {
            return Err(ErrorCode::PayloadTooLarge);
        }
        let engine = self.engine().await;
        let checked_locally = engine.is_some();
        let checked = tokio::task::spawn_blocking(move || prepare(image, engine.as_deref(), expected, previous))
            .await
            .map_err(|_| ErrorCode::Internal)?;

        let mut guard = self.current.lock().await;
        // The resident may have cancelled or restarted meanwhile: this frame belongs to nobody.
        let attempt = guard.as_mut().ok_or(ErrorCode::FaceChallengeExpired)?;
        let mut answer = FrameCheck {
            slot,
            accepted: false,
            problem: checked.problem,
            message: String::new(),
            checked_locally,
            frames_ready: attempt.frames.len() as u32,
        };
        if checked.problem.is_none() && slot as usize <= attempt.frames.len() {
            attempt.frames.truncate(slot as usize);
            attempt.frames.push(Frame { jpeg: Sensitive::new(checked.jpeg), face: checked.face });
            answer.accepted = true;
            answer.frames_ready = attempt.frames.len() as u32;
        }
        Ok(answer)
    }

    /// The multipart body of the answer and its key, or why it cannot be sent yet. The frames stay
    /// here until [`FaceFlow::finish`].
    async fn upload(&self) -> Result<(String, Vec<u8>, String, String), ErrorCode> {
        let mut guard = self.current.lock().await;
        let attempt = guard.as_ref().ok_or(ErrorCode::FaceChallengeExpired)?;
        if attempt.expired() {
            *guard = None;
            return Err(ErrorCode::FaceChallengeExpired);
        }
        if attempt.frames.len() != FRAMES_REQUIRED as usize {
            return Err(ErrorCode::FaceFrameInvalid);
        }
        let boundary = format!("jingtong-{:032x}", rand::random::<u128>());
        let mut body = Vec::new();
        let mut part = |headers: String, bytes: &[u8]| {
            body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        };
        part("Content-Disposition: form-data; name=\"nonce\"".into(), attempt.challenge.nonce.as_bytes());
        for (i, frame) in attempt.frames.iter().enumerate() {
            let headers = format!(
                "Content-Disposition: form-data; name=\"frame{i}\"; filename=\"frame{i}.jpg\"\r\nContent-Type: image/jpeg"
            );
            part(headers, frame.jpeg.expose());
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let path = format!("/api/v1/identity/face-challenges/{}/frames", attempt.challenge.challenge_id);
        Ok((path, body, format!("multipart/form-data; boundary={boundary}"), attempt.idempotency_key.clone()))
    }

    /// Drops the frames: the server decided, or the challenge can no longer be answered.
    async fn finish(&self) {
        *self.current.lock().await = None;
    }
}

/// Decodes (EXIF orientation applied), scales down, checks with the engine if there is one, and
/// re-encodes as JPEG, which also drops any metadata (a phone photo's location) before upload.
fn prepare(
    bytes: Vec<u8>,
    engine: Option<&LocalEngine>,
    expected: Option<PoseAction>,
    previous: Option<Face>,
) -> Checked {
    let invalid = || Checked { jpeg: Vec::new(), face: None, problem: Some(ErrorCode::FaceFrameInvalid) };
    let Ok(mut image) = decode_image(&bytes) else { return invalid() };
    drop(bytes);
    if image.width().max(image.height()) > MAX_SIDE {
        image = image.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let rgb = image.to_rgb8();
    let mut jpeg = Vec::new();
    if JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), JPEG_QUALITY).encode_image(&rgb).is_err() {
        return invalid();
    }
    let Some(engine) = engine else { return Checked { jpeg, face: None, problem: None } };
    // Check what will be sent: the server sees these JPEG bytes, not the original.
    let Ok(sent) = decode_image(&jpeg) else { return invalid() };
    let analysis = match engine.analyze(&sent) {
        Ok(a) => a,
        Err(e) => {
            warn!(error = %e, "local face analysis failed; the server will check");
            return Checked { jpeg, face: None, problem: None };
        }
    };
    let dims = (sent.width(), sent.height());
    match check_frame(&analysis, dims, expected, previous.as_ref(), &Thresholds::default()) {
        Ok(face) => Checked { face: Some(*face), jpeg, problem: None },
        Err(p) => {
            let code = p.code().parse().unwrap_or(ErrorCode::FaceFrameInvalid);
            Checked { jpeg: Vec::new(), face: None, problem: Some(code) }
        }
    }
}

/// Sends the answer, retrying a dropped connection with the same key; the server answers a retry
/// with its first decision. Keeps the frames only while the network is the problem.
pub(crate) async fn submit(flow: &FaceFlow, client: &crate::client::Client) -> Result<FaceDecision, crate::AppError> {
    let (path, body, content_type, key) = flow.upload().await.map_err(|c| client.error(c))?;
    let mut attempt = 0;
    let resp = loop {
        attempt += 1;
        let req = crate::client::Request::new(reqwest::Method::POST, &path)
            .raw(content_type.clone(), body.clone())
            .authed()
            .idempotent(&key);
        match client.exchange(&req).await {
            Ok(resp) => break resp,
            Err(e) if e.code == ErrorCode::Offline && attempt < UPLOAD_ATTEMPTS => {
                info!(attempt, "face upload interrupted; retrying with the same key");
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            Err(e) => {
                if e.code != ErrorCode::Offline {
                    flow.finish().await;
                }
                return Err(e);
            }
        }
    };
    drop(body);
    if resp.status.is_server_error() {
        // Undecided (engine down, overload): the same answer may be sent again.
        return Err(client.problem(&resp));
    }
    flow.finish().await;
    if !resp.status.is_success() {
        return Err(client.problem(&resp));
    }
    serde_json::from_slice(&resp.body).map_err(|_| client.error(ErrorCode::UnexpectedResponse))
}
