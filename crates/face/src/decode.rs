use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::FaceError;

/// Largest accepted width or height (a 48-megapixel phone photo is about 8000×6000).
const MAX_SIDE: u32 = 12_000;

/// Decodes an uploaded or imported image (JPEG or PNG) and applies its EXIF orientation, so a
/// phone photo taken upright is analysed upright. Images wider or taller than 12,000 pixels or
/// needing more than 512 MiB to decode are refused.
pub fn decode_image(bytes: &[u8]) -> Result<DynamicImage, FaceError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// The image as 8-bit RGB: borrowed when it already is, converted otherwise.
pub fn rgb(image: &DynamicImage) -> std::borrow::Cow<'_, image::RgbImage> {
    match image.as_rgb8() {
        Some(rgb) => std::borrow::Cow::Borrowed(rgb),
        None => std::borrow::Cow::Owned(image.to_rgb8()),
    }
}
