//! Every uploaded picture passes through here before anything keeps it or shows it to anyone: bounded in
//! bytes and pixels (checked from the header, before any pixel is allocated), decoded in full, turned upright
//! by its EXIF orientation, then re-encoded as a plain JPEG. The new file carries no metadata: no GPS
//! position, camera, time or comment from the phone reaches a store or another person.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use jingtong_api::ErrorCode;

/// What one kind of upload may be.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_bytes: usize,
    /// Each side; a phone's 12-megapixel photo is 4032 px on its long side.
    pub max_side: u32,
    pub max_pixels: u64,
    /// JPEG quality of the re-encoded file.
    pub quality: u8,
}

/// Vehicle-move scene photos: the app compresses them to ≤ 1280 px and < 400 KB; a decoded photo of the
/// largest allowed size takes 4096 × 4096 × 3 bytes (48 MB) at most, so three in parallel stay bounded.
pub const MOVE_PHOTO: Bounds = Bounds {
    max_bytes: jingtong_api::moves::rules::PHOTO_MAX_BYTES,
    max_side: 4096,
    max_pixels: 4096 * 4096,
    quality: 85,
};

/// ID-card photos: GA 461 fixes 358 × 441 px; anything much larger is not an ID photo.
pub const ID_PHOTO: Bounds = Bounds {
    max_bytes: jingtong_api::applications::rules::PHOTO_MAX_BYTES,
    max_side: 1024,
    max_pixels: 1024 * 1024,
    quality: 92,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    /// Not a picture, or a damaged one.
    Unreadable,
    /// More bytes or pixels than the kind allows.
    TooLarge,
}

impl ImageError {
    pub fn code(self) -> ErrorCode {
        match self {
            ImageError::Unreadable => ErrorCode::PhotoUnreadable,
            ImageError::TooLarge => ErrorCode::PhotoTooLarge,
        }
    }
}

/// A JPEG upload as it may be kept: decoded, upright, re-encoded without metadata.
pub fn clean_jpeg(bytes: &[u8], bounds: &Bounds) -> Result<Vec<u8>, ImageError> {
    if bytes.len() > bounds.max_bytes {
        return Err(ImageError::TooLarge);
    }
    if !has_end_marker(bytes) {
        return Err(ImageError::Unreadable);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_image_width = Some(bounds.max_side);
    limits.max_image_height = Some(bounds.max_side);
    // Room for the decoded RGB pixels and the decoder's own buffers, no more.
    limits.max_alloc = Some(bounds.max_pixels * 4 + 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(from_image)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > bounds.max_pixels {
        return Err(ImageError::TooLarge);
    }
    if w == 0 || h == 0 {
        return Err(ImageError::Unreadable);
    }
    let orientation = decoder.orientation().map_err(from_image)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(from_image)?;
    picture.apply_orientation(orientation);
    let rgb = picture.to_rgb8();
    let mut out = Vec::with_capacity(bytes.len());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, bounds.quality)
        .encode_image(&rgb)
        .map_err(|_| ImageError::Unreadable)?;
    Ok(out)
}

/// Whether the JPEG's image data is complete: an end-of-image marker (FF D9) after the first scan
/// (FF DA). The decoder fills a cut-off file with grey and calls it a picture; this does not. In the
/// entropy-coded data an FF byte is always followed by 00 or a restart marker, so FF D9 there is the
/// real end (an EXIF thumbnail's own FF D9 comes before the first scan).
fn has_end_marker(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else { return false };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// [`clean_jpeg`] off the async threads: decoding is CPU work.
pub async fn clean_jpeg_blocking(bytes: Vec<u8>, bounds: Bounds) -> Result<Vec<u8>, ImageError> {
    tokio::task::spawn_blocking(move || clean_jpeg(&bytes, &bounds)).await.unwrap_or(Err(ImageError::Unreadable))
}

fn from_image(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        _ => ImageError::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 250) as u8, (y % 250) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    /// An APP1 Exif segment right after SOI, as phones write it (content need not be a full TIFF here).
    fn with_exif(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut seg = b"Exif\0\0".to_vec();
        seg.extend_from_slice(payload);
        let len = (seg.len() + 2) as u16;
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&seg);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn a_jpeg_header_then_noise_is_unreadable() {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
        bytes.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        assert_eq!(clean_jpeg(&bytes, &MOVE_PHOTO), Err(ImageError::Unreadable));
        assert_eq!(clean_jpeg(b"", &MOVE_PHOTO), Err(ImageError::Unreadable));
        // A truncated real photo is damaged too.
        let real = jpeg(64, 48);
        assert_eq!(clean_jpeg(&real[..real.len() / 2], &MOVE_PHOTO), Err(ImageError::Unreadable));
    }

    #[test]
    fn metadata_is_gone_and_pixels_stay() {
        let marked = with_exif(&jpeg(64, 48), b"MM\0*GPSLatitude 31.82 GPSLongitude 117.23");
        let clean = clean_jpeg(&marked, &MOVE_PHOTO).unwrap();
        let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(has(&marked, b"Exif") && has(&marked, b"GPS"));
        assert!(!has(&clean, b"Exif") && !has(&clean, b"GPS"));
        let back = image::load_from_memory_with_format(&clean, ImageFormat::Jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (64, 48));
    }

    #[test]
    fn a_huge_header_is_refused_before_decoding() {
        // A valid small JPEG whose SOF0 claims 60000 × 60000 pixels.
        let mut bytes = jpeg(16, 16);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 7].copy_from_slice(&60000u16.to_be_bytes());
        bytes[sof + 7..sof + 9].copy_from_slice(&60000u16.to_be_bytes());
        assert_eq!(clean_jpeg(&bytes, &MOVE_PHOTO), Err(ImageError::TooLarge));
        let mut wide = jpeg(16, 16);
        wide[sof + 7..sof + 9].copy_from_slice(&5000u16.to_be_bytes());
        assert_eq!(clean_jpeg(&wide, &MOVE_PHOTO), Err(ImageError::TooLarge));
    }

    #[test]
    fn a_photo_cut_short_is_unreadable_though_its_header_is_whole() {
        let whole = jpeg(320, 240);
        assert!(clean_jpeg(&whole, &MOVE_PHOTO).is_ok());
        for keep in [whole.len() - 2, whole.len() * 3 / 4, whole.len() / 2] {
            assert_eq!(clean_jpeg(&whole[..keep], &MOVE_PHOTO), Err(ImageError::Unreadable), "{keep} bytes");
        }
    }

    #[test]
    fn too_many_bytes_is_too_large() {
        let bytes = vec![0u8; MOVE_PHOTO.max_bytes + 1];
        assert_eq!(clean_jpeg(&bytes, &MOVE_PHOTO), Err(ImageError::TooLarge));
    }
}
