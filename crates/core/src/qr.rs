//! QR decoding for desktop scanning (camera frames or an imported photo). Phones use the
//! barcode-scanner plugin; both hand the text to `jingtong_api::bill::BillCode::parse`.
//!
//! rqrr (a quirc port) finds codes at any rotation, but its single row-wise threshold misses codes
//! that are tiny, noisy or unevenly lit. So several prepared versions of the picture are tried, cheap
//! ones first, and the first that yields a readable code wins.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{GrayImage, ImageReader, Limits};
use jingtong_api::ErrorCode;

/// Larger pictures are also tried downscaled to this longest side: phone photos are 4000 px wide,
/// while quirc needs only ~3 px per module.
const WORK_SIDE: u32 = 1600;
/// Smaller pictures are also tried upscaled ×2, so a code of 1–2 px per module becomes readable.
const SMALL_SIDE: u32 = 900;
/// Refuse pictures whose decoded pixels would take more memory than this.
const MAX_IMAGE_BYTES: u64 = 256 * 1024 * 1024;
const MAX_IMAGE_SIDE: u32 = 12_000;

/// Decodes every QR code in a JPEG or PNG picture, as text (deduplicated, in the order found).
pub fn decode_qr(image_bytes: &[u8]) -> Result<Vec<String>, ErrorCode> {
    let mut reader =
        ImageReader::new(Cursor::new(image_bytes)).with_guessed_format().map_err(|_| ErrorCode::QrImageInvalid)?;
    if !matches!(reader.format(), Some(image::ImageFormat::Png | image::ImageFormat::Jpeg)) {
        return Err(ErrorCode::QrImageInvalid);
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_IMAGE_BYTES);
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| ErrorCode::QrImageInvalid)?;
    decode_gray(&img.to_luma8())
}

/// Decodes QR codes in a greyscale camera frame (one byte per pixel, row by row).
pub fn decode_luma(width: u32, height: u32, luma: &[u8]) -> Result<Vec<String>, ErrorCode> {
    let img = GrayImage::from_raw(width, height, luma.to_vec()).ok_or(ErrorCode::QrImageInvalid)?;
    decode_gray(&img)
}

fn decode_gray(img: &GrayImage) -> Result<Vec<String>, ErrorCode> {
    if img.width() == 0 || img.height() == 0 {
        return Err(ErrorCode::QrImageInvalid);
    }
    let found = scan(img);
    if !found.is_empty() {
        return Ok(found);
    }
    let longest = img.width().max(img.height());
    let work = if longest > WORK_SIDE {
        let scale = f64::from(WORK_SIDE) / f64::from(longest);
        let (w, h) = ((f64::from(img.width()) * scale) as u32, (f64::from(img.height()) * scale) as u32);
        let small = imageops::resize(img, w.max(1), h.max(1), FilterType::Triangle);
        let found = scan(&small);
        if !found.is_empty() {
            return Ok(found);
        }
        small
    } else {
        img.clone()
    };
    // Uneven light: a local threshold. Noise: smooth first. Tiny modules: upscale (never blur).
    let stretched = stretch(&work);
    let smooth = stretch(&imageops::blur(&work, 1.0));
    let mut passes: Vec<Box<dyn Fn() -> GrayImage + '_>> = vec![
        Box::new(|| local_threshold(&stretched)),
        Box::new(|| smooth.clone()),
        Box::new(|| local_threshold(&smooth)),
    ];
    if work.width().max(work.height()) <= SMALL_SIDE {
        let up = || imageops::resize(&stretched, work.width() * 2, work.height() * 2, FilterType::CatmullRom);
        passes.push(Box::new(up));
        passes.push(Box::new(move || local_threshold(&up())));
    }
    passes.iter().map(|pass| scan(&pass())).find(|found| !found.is_empty()).ok_or(ErrorCode::QrNotFound)
}

fn scan(img: &GrayImage) -> Vec<String> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| img.as_raw()[y * w + x]);
    let mut out: Vec<String> = Vec::new();
    for grid in prepared.detect_grids() {
        if let Ok((_, text)) = grid.decode() {
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// Maps the 1st..99th percentile of brightness onto 0..255.
fn stretch(img: &GrayImage) -> GrayImage {
    let mut hist = [0u64; 256];
    for p in img.as_raw() {
        hist[usize::from(*p)] += 1;
    }
    let total = img.as_raw().len() as u64;
    let percentile = |q: u64| {
        let mut seen = 0;
        hist.iter().position(|n| {
            seen += n;
            seen * 100 >= total * q
        })
    };
    let lo = percentile(1).unwrap_or(0) as i32;
    let hi = percentile(99).unwrap_or(255) as i32;
    if hi - lo < 8 {
        return img.clone();
    }
    let mut out = img.clone();
    for p in out.iter_mut() {
        *p = ((i32::from(*p) - lo) * 255 / (hi - lo)).clamp(0, 255) as u8;
    }
    out
}

/// Black where a pixel is darker than its neighbourhood's mean: follows a lighting gradient that a
/// global or row-wise threshold cannot.
fn local_threshold(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let r = (w.min(h) / 16).max(4);
    let mut integral = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(img.as_raw()[y * w + x]);
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                - integral[y0 * (w + 1) + x1]
                - integral[y1 * (w + 1) + x0];
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            // 7/8 of the mean: flat paper stays white instead of turning into speckle.
            let dark = u64::from(img.as_raw()[y * w + x]) * n * 8 < sum * 7;
            out[y * w + x] = if dark { 0 } else { 255 };
        }
    }
    GrayImage::from_raw(img.width(), img.height(), out).expect("sized to the image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_invalid_image() {
        assert_eq!(decode_qr(b"not an image"), Err(ErrorCode::QrImageInvalid));
        assert_eq!(decode_qr(&[]), Err(ErrorCode::QrImageInvalid));
        assert_eq!(decode_luma(4, 4, &[0; 3]), Err(ErrorCode::QrImageInvalid));
    }

    #[test]
    fn blank_frame_has_no_code() {
        assert_eq!(decode_luma(64, 48, &[200; 64 * 48]), Err(ErrorCode::QrNotFound));
    }

    fn render(text: &str, module: u32) -> GrayImage {
        let code = qrcode::QrCode::new(text).unwrap();
        let n = code.width() as i64;
        let colors = code.to_colors();
        let side = (n as u32 + 8) * module;
        GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = ((x / module) as i64 - 4, (y / module) as i64 - 4);
            let inside = (0..n).contains(&mx) && (0..n).contains(&my);
            let dark = inside && colors[(my * n + mx) as usize] == qrcode::Color::Dark;
            image::Luma([if dark { 0 } else { 255 }])
        })
    }

    /// The extra passes earn their keep: each picture here defeats rqrr's own threshold.
    #[test]
    fn extra_passes_read_what_the_plain_pass_misses() {
        let text = format!("JTB1.{}", "A".repeat(200));
        let mut seed = 0x5eed_u64;
        for (sd, salt_permille) in [(45.0, 20), (70.0, 40)] {
            let mut img = render(&text, 5);
            for p in img.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let roll = seed % 1000;
                let noise = (((seed >> 20) % 1000) as f64 / 1000.0 - 0.5) * sd * 3.4;
                *p = match roll {
                    r if r < salt_permille / 2 => 0,
                    r if r < salt_permille => 255,
                    _ => (f64::from(*p) + noise).clamp(0.0, 255.0) as u8,
                };
            }
            assert!(scan(&img).is_empty(), "noise {sd}: plain pass should fail for this test to mean anything");
            assert_eq!(decode_gray(&img), Ok(vec![text.clone()]), "noise {sd}");
        }
        // Light falling off to a tenth at the left edge, on grey paper.
        let mut img = render(&text, 5);
        let w = f64::from(img.width());
        for (x, _, p) in img.enumerate_pixels_mut() {
            p[0] = (f64::from(p[0]) * (0.1 + 0.9 * f64::from(x) / w)) as u8 / 2 + 60;
        }
        assert!(scan(&img).is_empty());
        assert_eq!(decode_gray(&img), Ok(vec![text]));
    }
}
