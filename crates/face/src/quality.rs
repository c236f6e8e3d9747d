//! Brightness and sharpness of the face region.

use image::imageops::FilterType;
use image::DynamicImage;

use crate::BoundingBox;

/// Side of the grey patch the measures are taken on (the size SFace sees).
pub(crate) const PATCH_SIDE: u32 = 112;

/// Mean Rec. 601 luma (0–255) and variance of the 4-neighbour Laplacian of `region` (the whole image
/// when `None` or when the box misses the image), resampled to a 112×112 patch so the numbers do
/// not depend on how many pixels the face has.
pub(crate) fn measure(image: &DynamicImage, region: Option<&BoundingBox>) -> (f32, f32) {
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return (0.0, 0.0);
    }
    let clip = region.and_then(|b| {
        let x0 = b.x.max(0.0).floor() as u32;
        let y0 = b.y.max(0.0).floor() as u32;
        let x1 = ((b.x + b.width).ceil().max(0.0) as u32).min(w);
        let y1 = ((b.y + b.height).ceil().max(0.0) as u32).min(h);
        (x1 > x0 + 1 && y1 > y0 + 1).then(|| (x0, y0, x1 - x0, y1 - y0))
    });
    let (x, y, cw, ch) = clip.unwrap_or((0, 0, w, h));
    let patch = image.crop_imm(x, y, cw, ch).resize_exact(PATCH_SIDE, PATCH_SIDE, FilterType::Triangle).to_rgb8();
    let luma: Vec<f32> =
        patch.pixels().map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).collect();
    let brightness = luma.iter().sum::<f32>() / luma.len() as f32;
    (brightness, laplacian_variance(&luma, PATCH_SIDE as usize))
}

fn laplacian_variance(luma: &[f32], side: usize) -> f32 {
    let mut values = Vec::with_capacity((side - 2) * (side - 2));
    for y in 1..side - 1 {
        for x in 1..side - 1 {
            let c = luma[y * side + x];
            let lap =
                luma[(y - 1) * side + x] + luma[(y + 1) * side + x] + luma[y * side + x - 1] + luma[y * side + x + 1]
                    - 4.0 * c;
            values.push(lap);
        }
    }
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    #[test]
    fn flat_grey_is_not_sharp_and_checkerboard_is() {
        let flat = DynamicImage::ImageLuma8(GrayImage::from_pixel(200, 200, Luma([100])));
        let (b, s) = measure(&flat, None);
        assert!((b - 100.0).abs() < 0.5 && s < 1e-3);
        let board = DynamicImage::ImageLuma8(GrayImage::from_fn(112, 112, |x, y| {
            Luma([if (x + y) % 2 == 0 { 0 } else { 255 }])
        }));
        assert!(measure(&board, None).1 > 1000.0);
    }

    #[test]
    fn region_outside_the_image_falls_back_to_the_whole_frame() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(50, 50, Luma([10])));
        let off = BoundingBox { x: 100.0, y: 100.0, width: 20.0, height: 20.0 };
        assert!((measure(&img, Some(&off)).0 - 10.0).abs() < 0.5);
    }
}
