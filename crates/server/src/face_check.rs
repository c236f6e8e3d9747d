//! The server's own check of a face photo attached to anything (an ID-card photo today, licence photos
//! later): GA 461 again on the uploaded file, then the face is matched with the applicant's registry
//! photo. The device checks first as a convenience; this check is the one that counts.
//!
//! Nothing of the photos is kept here: the embeddings live on the blocking thread and are dropped with
//! it; the decision and its score are what the caller stores.

use std::sync::Arc;

use jingtong_api::ErrorCode;
use jingtong_face::id_photo::{check_ga461, IdPhotoProblem, GA_461};
use jingtong_face::{decode_image, FaceEngine, FaceError};
use jingtong_rules::{FacePhotos, PhotoVerdict};

use crate::error::ApiProblem;
use crate::registry::RegistryPerson;
use crate::state::AppState;

/// An accepted photo: whether a clerk must compare it with the registry photo, and the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhotoMatch {
    /// SFace cosine with the registry photo; `None` when the registry has no usable photo.
    pub cosine: Option<f32>,
    /// A borderline score, or no registry photo to compare with: a clerk looks before accepting.
    pub review: bool,
}

impl PhotoMatch {
    /// The score in thousandths, as stored.
    pub fn milli(&self) -> Option<i64> {
        self.cosine.map(|c| (c * 1000.0).round() as i64)
    }
}

fn refuse(code: ErrorCode) -> ApiProblem {
    ApiProblem::new(code).field("photo", code)
}

pub fn ga461_code(p: IdPhotoProblem) -> ErrorCode {
    match p {
        IdPhotoProblem::WrongSize(..) => ErrorCode::IdPhotoInvalid,
        IdPhotoProblem::NoFace => ErrorCode::IdPhotoNoFace,
        IdPhotoProblem::SeveralFaces => ErrorCode::FaceSeveral,
        IdPhotoProblem::NotFrontal => ErrorCode::IdPhotoNotFrontal,
        IdPhotoProblem::Geometry => ErrorCode::IdPhotoGeometry,
        IdPhotoProblem::Background => ErrorCode::IdPhotoBackground,
        IdPhotoProblem::Expression => ErrorCode::IdPhotoExpression,
    }
}

/// Checks a cleaned ID photo (a JPEG already decoded once and re-encoded, see `images`) of the person
/// the registry knows as `person`: GA 461, then one person. Refusals are problems with the field `photo`.
pub async fn check_id_photo(state: &AppState, person: &RegistryPerson, jpeg: &[u8]) -> Result<PhotoMatch, ApiProblem> {
    // The missing models were logged once at start.
    let engine = state.face.clone().ok_or_else(|| ApiProblem::new(ErrorCode::ServiceUnavailable))?;
    let registry = state.registry.photo(person).await.map_err(|e| ApiProblem::internal(&e))?;
    let jpeg = jpeg.to_vec();
    let started = std::time::Instant::now();
    let outcome = tokio::task::spawn_blocking(move || decide(engine, &jpeg, registry.as_deref()))
        .await
        .map_err(|e| ApiProblem::internal(&e))?
        .map_err(|e| ApiProblem::internal(&e))?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Err(code) => {
            tracing::info!(code = code.as_str(), elapsed_ms, "ID photo refused by the server's check");
            Err(refuse(code))
        }
        Ok(m) => {
            tracing::info!(cosine = m.cosine, review = m.review, elapsed_ms, "ID photo checked");
            Ok(m)
        }
    }
}

/// Blocking: decode, GA 461, embed, compare. `Ok(Err(code))` is a refusal.
fn decide(
    engine: Arc<dyn FaceEngine>,
    jpeg: &[u8],
    registry: Option<&[u8]>,
) -> Result<Result<PhotoMatch, ErrorCode>, FaceError> {
    let Ok(image) = decode_image(jpeg) else { return Ok(Err(ErrorCode::PhotoUnreadable)) };
    let analysis = engine.analyze(&image)?;
    let face = match check_ga461(&image, &analysis, &GA_461) {
        Ok((face, _)) => face,
        Err(p) => return Ok(Err(ga461_code(p))),
    };
    let photo = engine.embed(&image, &face)?;
    let registry_face = registry.and_then(|bytes| decode_image(bytes).ok()).and_then(|img| {
        let analysis = engine.analyze(&img).ok()?;
        let face = *analysis.largest_face()?;
        engine.embed(&img, &face).ok()
    });
    let Some(registry) = registry_face else {
        // Nothing to compare with: a clerk compares with the person at the window.
        return Ok(Ok(PhotoMatch { cosine: None, review: true }));
    };
    let cosine = photo.cosine(&registry);
    Ok(match FacePhotos::load().verdict(cosine) {
        PhotoVerdict::OtherPerson => Err(ErrorCode::IdPhotoOtherPerson),
        PhotoVerdict::Review => Ok(PhotoMatch { cosine: Some(cosine), review: true }),
        PhotoVerdict::SamePerson => Ok(PhotoMatch { cosine: Some(cosine), review: false }),
    })
}
