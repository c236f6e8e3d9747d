//! Test material helpers shared by the crates' tests, the end-to-end tests and the benches.

use image::{DynamicImage, Rgb, RgbImage};

use crate::FaceEngine;

/// A portrait as a studio would take it: everything outside a head-shaped ellipse around the largest
/// face painted light grey, and a band of backdrop (0.8 face heights) added above the head (official
/// portraits are cut close to the hair). `None` when the picture shows no face.
pub fn on_studio_backdrop(engine: &dyn FaceEngine, img: &DynamicImage) -> Option<DynamicImage> {
    let face = *engine.analyze(img).ok()?.largest_face()?;
    let (cx, cy) = (face.bbox.x + face.bbox.width / 2.0, face.bbox.y + face.bbox.height / 2.0);
    let (rx, ry) = (face.bbox.width * 0.72, face.bbox.height * 0.75);
    let rgb = img.to_rgb8();
    let pad = (face.bbox.height * 0.8) as u32;
    let out = RgbImage::from_fn(rgb.width(), rgb.height() + pad, |x, y| {
        let Some(y) = y.checked_sub(pad) else { return Rgb([245, 245, 245]) };
        let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
        if dx * dx + dy * dy <= 1.0 {
            *rgb.get_pixel(x, y)
        } else {
            Rgb([245, 245, 245])
        }
    });
    Some(DynamicImage::ImageRgb8(out))
}
