//! ID-photo pipeline on a 12-megapixel phone-sized JPEG, measured side by side with its limit, a
//! plain decode of the same file, in the same process. Prints the ratio and writes
//! target/bench/id_photo.json. Run: `cargo bench -p jingtong-core --bench id_photo` (scripts/bench).

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};
use jingtong_core::id_photo::{process, GA_461};
use jingtong_face::{decode_image, FaceEngine, LocalEngine};

const RUNS: usize = 7;

/// A 4000×3000 JPEG (q 90) of the pinned portrait on a light backdrop, like a phone photo.
fn phone_photo(engine: &LocalEngine) -> Vec<u8> {
    let path = jingtong_face::asset_dir().join("testdata").join("obama.jpg");
    let img = decode_image(&std::fs::read(path).expect("scripts/fetch-face-assets")).unwrap();
    let face = engine.analyze(&img).unwrap().largest_face().copied().unwrap();
    let (cx, cy) = (face.bbox.x + face.bbox.width / 2.0, face.bbox.y + face.bbox.height / 2.0);
    let (rx, ry) = (face.bbox.width * 0.72, face.bbox.height * 0.75);
    let rgb = img.to_rgb8();
    let pad = 150;
    let studio = RgbImage::from_fn(rgb.width(), rgb.height() + pad, |x, y| match y.checked_sub(pad) {
        Some(y) if ((x as f32 - cx) / rx).powi(2) + ((y as f32 - cy) / ry).powi(2) <= 1.0 => *rgb.get_pixel(x, y),
        _ => Rgb([245, 245, 245]),
    });
    // Portrait orientation like a phone held upright: 3000×4000.
    let big = DynamicImage::ImageRgb8(studio).resize_exact(3000, 4000, FilterType::Triangle).to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut out), 90).encode_image(&big).unwrap();
    out
}

fn median(mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    let engine = LocalEngine::load(jingtong_face::asset_dir().join("models")).expect("face models");
    let jpeg = phone_photo(&engine);
    let decode = median(|| {
        std::hint::black_box(decode_image(&jpeg).unwrap());
    });
    let pipeline = median(|| {
        let p = process(&jpeg, &engine, &GA_461);
        assert!(p.problem.is_none(), "{:?}", p.problem);
    });
    let ratio = pipeline.as_secs_f64() / decode.as_secs_f64();
    println!("id_photo on a 12 MP JPEG ({} KB), median of {RUNS}:", jpeg.len() / 1024);
    println!("  decode only (limit)   {:>8.1} ms", decode.as_secs_f64() * 1e3);
    println!("  full pipeline         {:>8.1} ms", pipeline.as_secs_f64() * 1e3);
    println!("  ratio pipeline/decode {ratio:>8.2}×  (target ≤ 2.0×)");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let json = format!(
        "{{\"bench\":\"id_photo\",\"input_bytes\":{},\"decode_ms\":{:.2},\"pipeline_ms\":{:.2},\"ratio\":{ratio:.3},\"target\":2.0}}\n",
        jpeg.len(),
        decode.as_secs_f64() * 1e3,
        pipeline.as_secs_f64() * 1e3
    );
    std::fs::write(dir.join("id_photo.json"), json).unwrap();
}
