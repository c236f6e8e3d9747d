//! Liveness against stills on the pinned material: live frames of one person moving are told apart,
//! and crops, scales, re-encodes, brightness changes and mirrors of one frame are caught, with the
//! limits of `crates/rules/data/face_photos.toml`. `measure_liveness_margins` prints the figures the
//! data file and docs/face.md quote (run with `-- --nocapture`).

mod common;

use common::{engine, photo, scale_brightness, single_face};
use image::imageops::FilterType;
use image::DynamicImage;
use jingtong_face::liveness::{compare, signature, Likeness, Signature, StillLimits};
use jingtong_face::{check_frame, estimate_pose, Embedding, FaceEngine, PoseAction, Thresholds};
use jingtong_rules::FacePhotos;

/// Frames a challenge could be answered with: one frontal frame and the actions, per video.
const FRANCK: [&str; 5] = [
    "franck_0000_frontal.png",
    "franck_1088_turn_left.png",
    "franck_3848_turn_right.png",
    "franck_2448_look_up.png",
    "franck_3838_look_down.png",
];
const CAP12: [&str; 2] = ["cap12_0700_normal.png", "cap12_0820_closer.png"];

fn limits() -> StillLimits {
    let s = &FacePhotos::load().stills;
    StillLimits {
        face_bits: s.face_bits,
        region_bits: s.region_bits,
        shape: s.shape,
        shape_face_bits: s.shape_face_bits,
        pair_cosine: s.pair_cosine,
    }
}

struct Frame {
    signature: Signature,
    embedding: Embedding,
}

fn frame(image: &DynamicImage, what: &str) -> Frame {
    let face = single_face(image, what);
    Frame {
        signature: signature(image, &face).expect("aligned"),
        embedding: engine().embed(image, &face).expect("embed"),
    }
}

fn alike(a: &Frame, b: &Frame) -> (bool, Likeness, f32) {
    let l = compare(&a.signature, &b.signature);
    let c = a.embedding.cosine(&b.embedding);
    (l.is_same_picture(&limits()) || c >= limits().pair_cosine, l, c)
}

/// What an attacker does to one still to make it look like another capture.
fn attacks(img: &DynamicImage) -> Vec<(&'static str, DynamicImage)> {
    let (w, h) = (img.width(), img.height());
    let reencode = {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 60).encode_image(&img.to_rgb8()).unwrap();
        image::load_from_memory(&out).unwrap()
    };
    vec![
        (
            "crop 1/12 and scale back",
            img.crop_imm(w / 12, h / 12, w - w / 6, h - h / 6).resize(w, h, FilterType::Lanczos3),
        ),
        ("off-centre crop", img.crop_imm(w / 8, 0, w - w / 8, h - h / 10)),
        ("scaled to 80 %", img.resize(w * 4 / 5, h * 4 / 5, FilterType::Triangle)),
        ("scaled to 130 %", img.resize(w * 13 / 10, h * 13 / 10, FilterType::CatmullRom)),
        ("JPEG quality 60", reencode),
        ("10 % brighter", scale_brightness(img, 1.1)),
        ("mirrored", img.fliph()),
    ]
}

#[test]
fn live_frames_of_a_moving_person_are_distinct_captures() {
    for video in [&FRANCK[..], &CAP12[..]] {
        let frames: Vec<Frame> = video.iter().map(|n| frame(&photo(n), n)).collect();
        for i in 0..frames.len() {
            for j in i + 1..frames.len() {
                let (same, l, c) = alike(&frames[i], &frames[j]);
                assert!(
                    !same,
                    "{} vs {}: live captures refused as one picture: {l:?}, cosine {c:.3}",
                    video[i], video[j]
                );
            }
        }
    }
}

#[test]
fn reworked_copies_of_one_still_are_one_picture() {
    for name in FRANCK.iter().chain(&CAP12) {
        let img = photo(name);
        let original = frame(&img, name);
        for (what, copy) in attacks(&img) {
            let (same, l, c) = alike(&original, &frame(&copy, what));
            assert!(same, "{name}, {what}: passed as a new capture: {l:?}, cosine {c:.3}");
        }
    }
}

#[test]
fn a_mirrored_left_turn_passes_the_pose_check_as_a_right_turn_but_not_the_still_check() {
    let t = Thresholds::default();
    let left = photo(FRANCK[1]);
    let mirrored = left.fliph();
    let analysis = engine().analyze(&mirrored).unwrap();
    let dims = (mirrored.width(), mirrored.height());
    // The pose alone cannot tell: this is why the still check exists.
    assert!(check_frame(&analysis, dims, Some(PoseAction::TurnRight), None, &t).is_ok());
    let (same, l, _) = alike(&frame(&left, "left"), &frame(&mirrored, "mirrored"));
    assert!(same && l.mirrored, "{l:?}");
}

#[test]
fn only_frontal_frames_may_open_a_challenge() {
    let first = &FacePhotos::load().first_frame;
    let frontal = |name: &str| {
        let pose = estimate_pose(&single_face(&photo(name), name));
        pose.yaw.abs() <= first.max_yaw_deg && pose.pitch.abs() <= first.max_pitch_deg
    };
    // (franck_0600, his registry photo, is estimated at 13.7° of yaw: a registry photo, not a challenge frame.)
    for name in ["franck_0000_frontal.png", "cap12_0700_normal.png"] {
        assert!(frontal(name), "{name} faces the camera");
    }
    for name in &FRANCK[1..] {
        assert!(!frontal(name), "{name} is a movement, not a frontal frame");
    }
}

#[test]
fn measure_liveness_margins() {
    let mut live = (u32::MAX, u32::MAX, f32::MAX, f32::MIN);
    for video in [&FRANCK[..], &CAP12[..]] {
        let frames: Vec<Frame> = video.iter().map(|n| frame(&photo(n), n)).collect();
        for i in 0..frames.len() {
            for j in i + 1..frames.len() {
                let (_, l, c) = alike(&frames[i], &frames[j]);
                println!(
                    "live   {:28} {:28} face {:2} region {:2} shape {:.3} cosine {c:.3}",
                    video[i], video[j], l.face_bits, l.region_bits, l.shape
                );
                live = (live.0.min(l.face_bits), live.1.min(l.region_bits), live.2.min(l.shape), live.3.max(c));
            }
        }
    }
    let mut copies = (0u32, 0u32, 1f32);
    for name in FRANCK.iter().chain(&CAP12) {
        let img = photo(name);
        let original = frame(&img, name);
        for (what, copy) in attacks(&img) {
            let (_, l, c) = alike(&original, &frame(&copy, what));
            println!(
                "copy   {name:28} {what:28} face {:2} region {:2} shape {:.3} cosine {c:.3}",
                l.face_bits, l.region_bits, l.shape
            );
            copies = (copies.0.max(l.face_bits.min(l.region_bits)), copies.1.max(l.region_bits), copies.2.min(c));
        }
    }
    for name in FRANCK.iter().chain(&CAP12).chain(&["franck_0600_frontal.png"]) {
        let pose = estimate_pose(&single_face(&photo(name), name));
        println!("pose   {name:28} yaw {:6.1} pitch {:6.1} roll {:6.1}", pose.yaw, pose.pitch, pose.roll);
    }
    println!(
        "live pairs: face bits >= {}, region bits >= {}, shape >= {:.3}, cosine <= {:.3}",
        live.0, live.1, live.2, live.3
    );
    println!("copies: min(face, region) bits <= {}, region bits <= {}, cosine >= {:.3}", copies.0, copies.1, copies.2);
}
