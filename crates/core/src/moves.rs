//! Vehicle moving (一键挪车) from the device: photos are compressed here before upload, the request
//! is checked with the same rules as the server (crates/api, crates/rules) and goes through the
//! outbox with one Idempotency-Key; the form's draft goes only once the server has the request.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use jingtong_api::moves::{MoveAnswer, MoveMessageInput, MoveRequest, MoveView};
use jingtong_api::{ErrorCode, Lang, Page};
use jingtong_rules::MoveRules;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::client::{segment, Client, Request};
use crate::outbox::{self, Sent};
use crate::paging::{self, List};
use crate::vault::Vault;
use crate::AppError;

/// Longest side of an uploaded scene photo: plate characters stay legible, the upload stays small.
pub const PHOTO_MAX_SIDE: u32 = 1280;
/// Quality steps tried until the photo fits the API's byte limit.
const QUALITIES: [u8; 4] = [75, 65, 55, 45];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum MoveSubmitOutcome {
    /// The server has it and the owner was told.
    Sent { request: Box<MoveView> },
    /// No network: it waits in the outbox and goes once when the network is back. The draft stays.
    Queued { outbox_id: String },
}

/// A scene photo ready to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PreparedPhoto {
    pub jpeg_base64: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u32,
}

/// Decodes (EXIF orientation applied, metadata dropped), scales to at most [`PHOTO_MAX_SIDE`] and
/// encodes a JPEG within the API's limit. `None` when it is not a readable JPEG/PNG.
pub fn prepare_photo(bytes: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    let image = jingtong_face::decode_image(bytes).ok()?;
    let image = if image.width().max(image.height()) > PHOTO_MAX_SIDE {
        image.resize(PHOTO_MAX_SIDE, PHOTO_MAX_SIDE, FilterType::Triangle)
    } else {
        image
    };
    let rgb = image.to_rgb8();
    for quality in QUALITIES {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(Cursor::new(&mut out), quality).encode_image(&rgb).ok()?;
        if out.len() <= jingtong_api::moves::rules::PHOTO_MAX_BYTES {
            return Some((out, rgb.width(), rgb.height()));
        }
    }
    None
}

fn label(field: &str, lang: Lang) -> &'static str {
    match (field, lang) {
        ("plate" | "plate_type", Lang::ZhCn) => "车牌号码",
        ("plate" | "plate_type", Lang::En) => "Plate",
        ("address" | "region_code", Lang::ZhCn) => "位置",
        ("address" | "region_code", Lang::En) => "Location",
        ("photos", Lang::ZhCn) => "现场照片",
        ("photos", Lang::En) => "Photos",
        ("note", Lang::ZhCn) => "补充说明",
        ("note", Lang::En) => "Note",
        (_, Lang::ZhCn) => "挪车请求",
        (_, Lang::En) => "Request",
    }
}

fn field_error(errors: &[(&'static str, ErrorCode)], lang: Lang) -> AppError {
    crate::applications::field_error_with(errors, lang, label)
}

pub(crate) async fn submit(
    db: &SqlitePool,
    vault: &Vault,
    client: &Client,
    account: &str,
    lang: Lang,
    request: &MoveRequest,
    draft_item: &str,
) -> Result<MoveSubmitOutcome, AppError> {
    let limits = &MoveRules::load().limits;
    request
        .parse(limits.photos_min as usize, limits.photos_max as usize)
        .map_err(|errors| field_error(&errors, lang))?;
    let body = serde_json::to_value(request).map_err(|_| client.error(ErrorCode::InvalidRequest))?;
    let entry = outbox::enqueue(db, vault, account, "POST", "/api/v1/vehicle-moves", Some(&body), Some(draft_item))
        .await
        .map_err(|c| client.error(c))?;
    match outbox::send_now(db, vault, client, account, &entry.id).await.map_err(|c| client.error(c))? {
        Sent::Done(body) => {
            let request = serde_json::from_slice(&body).map_err(|_| client.error(ErrorCode::UnexpectedResponse))?;
            Ok(MoveSubmitOutcome::Sent { request })
        }
        Sent::Later(_) => Ok(MoveSubmitOutcome::Queued { outbox_id: entry.id }),
        Sent::Refused(e) => {
            // Said on the form, which keeps its draft (e.g. to send it to the traffic police instead).
            outbox::discard(db, account, &entry.id).await.map_err(|c| client.error(c))?;
            Err(e)
        }
    }
}

pub(crate) const LIST: List = List { path: "/api/v1/vehicle-moves", authed: true };

pub(crate) async fn list(client: &Client, cursor: Option<&str>) -> Result<Page<MoveView>, AppError> {
    paging::page(client, LIST, cursor, None).await
}

pub(crate) async fn get(client: &Client, id: &str) -> Result<MoveView, AppError> {
    let id = segment(id).map_err(|c| client.error(c))?;
    client.json(&Request::new(Method::GET, &format!("/api/v1/vehicle-moves/{id}")).authed()).await
}

/// `remind`, `resolve` or `report`: an action without a body.
pub(crate) async fn act(client: &Client, id: &str, action: &str) -> Result<MoveView, AppError> {
    let id = segment(id).map_err(|c| client.error(c))?;
    let path = format!("/api/v1/vehicle-moves/{id}/{action}");
    client.json(&Request::new(Method::POST, &path).json(&serde_json::json!({})).authed()).await
}

pub(crate) async fn answer(client: &Client, id: &str, answer: &MoveAnswer) -> Result<MoveView, AppError> {
    if let Err(errors) = answer.check() {
        return Err(client.error(errors.first().map_or(ErrorCode::InvalidRequest, |e| e.1)));
    }
    let id = segment(id).map_err(|c| client.error(c))?;
    let path = format!("/api/v1/vehicle-moves/{id}/answer");
    client.json(&Request::new(Method::POST, &path).json(answer).authed()).await
}

pub(crate) async fn message(client: &Client, id: &str, text: &str) -> Result<MoveView, AppError> {
    let input = MoveMessageInput { text: text.to_owned() };
    input.parse().map_err(|c| client.error(c))?;
    let id = segment(id).map_err(|c| client.error(c))?;
    let path = format!("/api/v1/vehicle-moves/{id}/messages");
    client.json(&Request::new(Method::POST, &path).json(&input).authed()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_photo_is_scaled_and_compressed_under_the_limit() {
        // A 4000×3000 picture with fine texture, like a phone photo of a street.
        let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
            image::Rgb([(x / 7 % 256) as u8, (y / 5 % 256) as u8, ((x ^ y) % 64) as u8 + 100])
        });
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let (jpeg, w, h) = prepare_photo(&png).unwrap();
        assert_eq!((w, h), (1280, 960));
        assert!(jpeg.len() <= jingtong_api::moves::rules::PHOTO_MAX_BYTES, "{}", jpeg.len());
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    }

    #[test]
    fn not_an_image_is_refused() {
        assert!(prepare_photo(b"not an image").is_none());
    }

    #[test]
    fn field_problems_name_the_field() {
        let e = field_error(&[("plate_type", ErrorCode::PlateTypeMismatch)], Lang::ZhCn);
        assert!(e.message.starts_with("车牌号码："), "{}", e.message);
    }
}
