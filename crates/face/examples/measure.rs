//! Prints the evidence behind THRESHOLDS.md: detections, quality measures, poses, cosine
//! similarities and timings on the pinned test material.
//!
//! `scripts/fetch-face-assets && cargo run -p jingtong-face --example measure`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{analyze, engine, photo, scale_brightness, single_face};
use image::imageops::FilterType;
use image::DynamicImage;
use jingtong_face::{estimate_pose, Embedding, FaceEngine, LocalEngine, Thresholds};

const PHOTOS: [&str; 9] = [
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "solvay_group.png",
    "cap12_0700_normal.png",
];
const FRAMES: [&str; 6] = [
    "franck_0000_frontal.png",
    "franck_1088_turn_left.png",
    "franck_3848_turn_right.png",
    "franck_2448_look_up.png",
    "franck_3838_look_down.png",
    "cap12_0820_closer.png",
];

fn main() {
    let started = Instant::now();
    let dir = jingtong_face::asset_dir().join("models");
    let fresh = LocalEngine::load(&dir).expect("models: run scripts/fetch-face-assets");
    println!("load (sha256 + fold + optimise both models): {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    drop(fresh);
    let t = Thresholds::default();

    println!("\n== detections and quality (brightness = mean luma of the face box, sharpness = Laplacian variance on 112x112)");
    println!(
        "{:<28} {:>9} {:>5} {:>6} {:>7} {:>6} {:>8} {:>7} {:>7} {:>6}",
        "image", "size", "faces", "score", "width", "bright", "sharp", "yaw", "pitch", "roll"
    );
    for name in PHOTOS.iter().chain(FRAMES.iter()) {
        let img = photo(name);
        let a = analyze(&img);
        let size = format!("{}x{}", img.width(), img.height());
        match a.largest_face() {
            Some(f) => {
                let p = estimate_pose(f);
                println!(
                    "{name:<28} {size:>9} {:>5} {:>6.3} {:>7.1} {:>6.1} {:>8.1} {:>7.1} {:>7.1} {:>6.1}",
                    a.faces.len(),
                    f.score,
                    f.bbox.width,
                    a.brightness,
                    a.sharpness,
                    p.yaw,
                    p.pitch,
                    p.roll
                );
            }
            None => println!(
                "{name:<28} {size:>9} {:>5} {:>6} {:>7} {:>6.1} {:>8.1}",
                0, "-", "-", a.brightness, a.sharpness
            ),
        }
    }

    println!("\n== cosine similarity of SFace embeddings (threshold {})", t.match_cosine);
    let people = [
        "obama.jpg",
        "obama2.jpg",
        "obama3.jpg",
        "biden.jpg",
        "astronaut.png",
        "franck_0000_frontal.png",
        "franck_1088_turn_left.png",
        "franck_3848_turn_right.png",
        "franck_2448_look_up.png",
        "franck_3838_look_down.png",
        "cap12_0700_normal.png",
        "cap12_0820_closer.png",
    ];
    let embeddings: Vec<_> = people
        .iter()
        .map(|name| {
            let img = photo(name);
            let face = single_face(&img, name);
            engine().embed(&img, &face).expect("embed")
        })
        .collect();
    print!("{:<14}", "");
    for name in &people {
        print!(" {:>7}", short(name));
    }
    println!();
    for (i, a) in embeddings.iter().enumerate() {
        print!("{:<14}", short(people[i]));
        for b in &embeddings {
            print!(" {:>7.3}", a.cosine(b));
        }
        println!();
    }

    let obama = photo("obama.jpg");
    let obama_face = single_face(&obama, "obama");
    let obama2 = embedding(&photo("obama2.jpg"));
    let franck_up = embedding(&photo("franck_2448_look_up.png"));
    let astronaut_ref = embedding(&photo("astronaut.png"));
    println!("\n(cosine: each degraded copy against another photo of the same person: obama2.jpg for obama, frame 2448 for franck, the undegraded photo for the astronaut, who has no second photo)");
    println!("\n== darker copies of obama.jpg (every channel x factor)");
    for factor in [0.6f32, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1] {
        report(&format!("x{factor}"), &scale_brightness(&obama, factor), &obama2);
    }
    println!("\n== brighter copies of obama.jpg");
    for factor in [1.3f32, 1.6, 1.8, 2.0, 2.5, 3.0] {
        report(&format!("x{factor}"), &scale_brightness(&obama, factor), &obama2);
    }
    println!(
        "\n== Gaussian blur (sigma in pixels of the original; obama face is {:.0} px wide)",
        obama_face.bbox.width
    );
    for sigma in [0.0f32, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0] {
        report(&format!("obama s={sigma}"), &blur(&obama, sigma), &obama2);
    }
    let franck = photo("franck_0000_frontal.png");
    for sigma in [0.0f32, 0.5, 1.0, 1.5, 2.0, 3.0] {
        report(&format!("franck s={sigma}"), &blur(&franck, sigma), &franck_up);
    }
    let astronaut = photo("astronaut.png");
    for sigma in [0.0f32, 0.5, 1.0, 1.5, 2.0, 3.0] {
        report(&format!("astronaut s={sigma}"), &blur(&astronaut, sigma), &astronaut_ref);
    }
    println!("\n== downscaled obama.jpg (face width in pixels)");
    for scale in [0.5f32, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1] {
        let small = obama.resize((obama.width() as f32 * scale) as u32, u32::MAX, FilterType::Triangle);
        report(&format!("x{scale}"), &small, &obama2);
    }

    println!(
        "\n== timings (this build; median of 9 runs; detect = letterbox + YuNet + decode, analyze = detect + quality)"
    );
    for name in ["franck_0000_frontal.png", "astronaut.png", "cap12_0700_normal.png", "obama3.jpg", "solvay_group.png"]
    {
        let img = photo(name);
        let detect = median_ms(|| {
            engine().detect(&img).expect("detect");
        });
        let analyze = median_ms(|| {
            engine().analyze(&img).expect("analyze");
        });
        println!(
            "{name:<26} {:>5}x{:<5} detect {detect:>6.1} ms  analyze {analyze:>6.1} ms",
            img.width(),
            img.height()
        );
    }
    let face = single_face(&obama, "obama");
    let ms = median_ms(|| {
        engine().embed(&obama, &face).expect("embed");
    });
    println!("embed   obama.jpg (align + SFace)            {ms:>7.1} ms");
    let bytes = std::fs::read(common::testdata("obama3.jpg")).expect("read");
    let ms = median_ms(|| {
        jingtong_face::decode_image(&bytes).expect("decode");
    });
    println!("decode  obama3.jpg (JPEG, 1434x2333)         {ms:>7.1} ms");
}

fn embedding(image: &DynamicImage) -> Embedding {
    let face = single_face(image, "reference");
    engine().embed(image, &face).expect("embed")
}

fn short(name: &str) -> String {
    let stem = name.split('.').next().unwrap_or(name);
    stem.replace("franck_", "fr")
        .replace("_frontal", "")
        .replace("_turn_left", "L")
        .replace("_turn_right", "R")
        .replace("_look_up", "U")
        .replace("_look_down", "D")
        .replace("_normal", "")
        .replace("_closer", "C")
        .replace("astronaut", "astro")
}

fn blur(image: &DynamicImage, sigma: f32) -> DynamicImage {
    if sigma == 0.0 {
        image.clone()
    } else {
        image.blur(sigma)
    }
}

/// One line per degraded copy; `reference` is an embedding of another photo of the same person.
fn report(label: &str, image: &DynamicImage, reference: &Embedding) {
    let a = analyze(image);
    let cosine = a
        .largest_face()
        .map(|f| format!("{:.3}", engine().embed(image, f).expect("embed").cosine(reference)))
        .unwrap_or_else(|| "-".into());
    let width = a.largest_face().map(|f| format!("{:.1}", f.bbox.width)).unwrap_or_else(|| "-".into());
    let problem =
        match jingtong_face::check_frame(&a, (image.width(), image.height()), None, None, &Thresholds::default()) {
            Ok(_) => "ok".to_string(),
            Err(p) => p.code().to_string(),
        };
    println!(
        "{label:<20} faces {:>2}  width {width:>6}  brightness {:>6.1}  sharpness {:>8.1}  cosine {cosine:>6}  -> {problem}",
        a.faces.len(),
        a.brightness,
        a.sharpness
    );
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
