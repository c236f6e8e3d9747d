//! The face engine on real models and real photos (see testdata/MANIFEST.toml), each test asserting
//! what a resident would notice. The assets come from scripts/fetch-face-assets; without them these
//! tests fail with that hint, they never skip.

mod common;

use common::{analyze, engine, photo, scale_brightness, single_face};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageEncoder};
use jingtong_face::{
    check_frame, decode_image, estimate_pose, Embedding, Face, FaceEngine, FaceError, FrameProblem, LocalEngine,
    PoseAction, Thresholds, YUNET_FILE,
};

fn check(image: &DynamicImage, action: Option<PoseAction>, previous: Option<&Face>) -> Result<Face, FrameProblem> {
    let analysis = analyze(image);
    check_frame(&analysis, (image.width(), image.height()), action, previous, &Thresholds::default()).copied()
}

fn embedding(name: &str) -> Embedding {
    let image = photo(name);
    let face = check(&image, None, None).unwrap_or_else(|p| panic!("{name} should be a usable frame, got {p:?}"));
    engine().embed(&image, &face).expect("embed")
}

#[test]
fn same_person_in_different_photos_matches_and_different_people_do_not() {
    let t = Thresholds::default();
    let obama = embedding("obama.jpg");
    let obama2 = embedding("obama2.jpg");
    let obama3 = embedding("obama3.jpg");
    let biden = embedding("biden.jpg");
    let astronaut = embedding("astronaut.png");
    let franck = embedding("franck_0000_frontal.png");

    for (what, cosine) in [
        ("obama vs obama2", obama.cosine(&obama2)),
        ("obama vs obama3", obama.cosine(&obama3)),
        ("obama2 vs obama3", obama2.cosine(&obama3)),
    ] {
        assert!(t.is_match(cosine), "{what}: three official photos of one man must match, cosine {cosine:.3}");
    }
    for (what, cosine) in [
        ("obama vs biden", obama.cosine(&biden)),
        ("obama2 vs biden", obama2.cosine(&biden)),
        ("obama3 vs biden", obama3.cosine(&biden)),
        ("obama vs astronaut", obama.cosine(&astronaut)),
        ("biden vs astronaut", biden.cosine(&astronaut)),
        ("obama vs franck", obama.cosine(&franck)),
        ("obama3 vs franck", obama3.cosine(&franck)),
        ("astronaut vs franck", astronaut.cosine(&franck)),
    ] {
        assert!(!t.is_match(cosine), "{what}: different people must not match, cosine {cosine:.3}");
    }
}

#[test]
fn the_same_resident_stays_the_same_person_across_challenge_frames() {
    let t = Thresholds::default();
    let frontal = embedding("franck_0000_frontal.png");
    for name in [
        "franck_1088_turn_left.png",
        "franck_3848_turn_right.png",
        "franck_2448_look_up.png",
        "franck_3838_look_down.png",
    ] {
        let cosine = frontal.cosine(&embedding(name));
        assert!(t.is_match(cosine), "{name} is the same man as the frontal frame, cosine {cosine:.3}");
    }
    let cosine = embedding("cap12_0700_normal.png").cosine(&embedding("cap12_0820_closer.png"));
    assert!(t.is_match(cosine), "cap12 frames 700 and 820 are the same man, cosine {cosine:.3}");
}

#[test]
fn good_photos_pass_the_frame_checks() {
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "astronaut.png", "franck_0000_frontal.png"] {
        assert!(check(&photo(name), None, None).is_ok(), "{name}: {:?}", check(&photo(name), None, None));
    }
}

#[test]
fn a_cat_or_a_coffee_cup_has_no_face() {
    for name in ["chelsea.png", "coffee.png"] {
        let image = photo(name);
        assert!(analyze(&image).faces.is_empty(), "{name} shows no human face");
        assert_eq!(check(&image, None, None), Err(FrameProblem::NoFace), "{name}");
    }
}

#[test]
fn a_group_photo_has_several_faces() {
    let image = photo("solvay_group.png");
    let analysis = analyze(&image);
    assert!(analysis.faces.len() >= 20, "the Solvay photo shows 29 people, found {}", analysis.faces.len());
    assert_eq!(check(&image, None, None), Err(FrameProblem::SeveralFaces));
}

#[test]
fn a_dark_frame_is_too_dark() {
    let dark = scale_brightness(&photo("obama.jpg"), 0.2);
    assert_eq!(check(&dark, None, None), Err(FrameProblem::TooDark));
    // So dark that no face can be found: still "too dark", the hint the resident can act on.
    let black = scale_brightness(&photo("obama.jpg"), 0.02);
    assert_eq!(check(&black, None, None), Err(FrameProblem::TooDark));
}

#[test]
fn a_washed_out_frame_is_too_bright() {
    let bright = scale_brightness(&photo("obama.jpg"), 2.5);
    assert_eq!(check(&bright, None, None), Err(FrameProblem::TooBright));
}

#[test]
fn a_blurred_frame_is_blurred() {
    let franck = photo("franck_0000_frontal.png");
    assert_eq!(check(&franck.blur(2.0), None, None), Err(FrameProblem::Blurred));
    let obama = photo("obama.jpg");
    assert_eq!(check(&obama.blur(6.0), None, None), Err(FrameProblem::Blurred));
    // The live webcam frames of cap12 are soft but usable.
    assert!(check(&photo("cap12_0700_normal.png"), None, None).is_ok());
}

#[test]
fn a_face_far_from_the_camera_is_too_small() {
    let obama = photo("obama.jpg");
    let tiny = obama.resize(obama.width() / 5, u32::MAX, FilterType::Triangle);
    let analysis = analyze(&tiny);
    assert_eq!(analysis.faces.len(), 1, "the downscaled face is still found");
    assert!(analysis.faces[0].bbox.width < 60.0);
    assert_eq!(check(&tiny, None, None), Err(FrameProblem::TooSmall));
}

#[test]
fn turning_left_and_right_is_told_apart() {
    let left = photo("franck_1088_turn_left.png");
    let right = photo("franck_3848_turn_right.png");
    let frontal = photo("franck_0000_frontal.png");
    assert!(check(&left, Some(PoseAction::TurnLeft), None).is_ok(), "{:?}", pose_of(&left));
    assert_eq!(check(&left, Some(PoseAction::TurnRight), None), Err(FrameProblem::WrongPose));
    assert!(check(&right, Some(PoseAction::TurnRight), None).is_ok(), "{:?}", pose_of(&right));
    assert_eq!(check(&right, Some(PoseAction::TurnLeft), None), Err(FrameProblem::WrongPose));
    for action in [PoseAction::TurnLeft, PoseAction::TurnRight] {
        assert_eq!(check(&frontal, Some(action), None), Err(FrameProblem::WrongPose), "frontal is not {action:?}");
    }
}

#[test]
fn looking_up_and_down_is_told_apart() {
    let up = photo("franck_2448_look_up.png");
    let down = photo("franck_3838_look_down.png");
    let frontal = photo("franck_0000_frontal.png");
    assert!(check(&up, Some(PoseAction::LookUp), None).is_ok(), "{:?}", pose_of(&up));
    assert_eq!(check(&up, Some(PoseAction::LookDown), None), Err(FrameProblem::WrongPose));
    assert!(check(&down, Some(PoseAction::LookDown), None).is_ok(), "{:?}", pose_of(&down));
    assert_eq!(check(&down, Some(PoseAction::LookUp), None), Err(FrameProblem::WrongPose));
    for action in [PoseAction::LookUp, PoseAction::LookDown] {
        assert_eq!(check(&frontal, Some(action), None), Err(FrameProblem::WrongPose), "frontal is not {action:?}");
    }
}

#[test]
fn coming_closer_needs_a_wider_face_than_the_frame_before() {
    let before = photo("cap12_0700_normal.png");
    let after = photo("cap12_0820_closer.png");
    let before_face = check(&before, None, None).expect("frame 700 is usable");
    let after_face = check(&after, Some(PoseAction::ComeCloser), Some(&before_face)).expect("frame 820 is closer");
    assert!(after_face.bbox.width > before_face.bbox.width * 1.2);
    // Backing away, or no frame to compare with, does not count.
    assert_eq!(check(&before, Some(PoseAction::ComeCloser), Some(&after_face)), Err(FrameProblem::WrongPose));
    assert_eq!(check(&after, Some(PoseAction::ComeCloser), None), Err(FrameProblem::WrongPose));
}

fn pose_of(image: &DynamicImage) -> jingtong_face::HeadPose {
    estimate_pose(&single_face(image, "pose"))
}

/// A minimal big-endian TIFF/EXIF block holding only the Orientation tag.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec(); // byte order, magic, offset of IFD0
    exif.extend_from_slice(&1u16.to_be_bytes()); // one entry
    exif.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    exif.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    exif.extend_from_slice(&1u32.to_be_bytes()); // count
    exif.extend_from_slice(&value.to_be_bytes());
    exif.extend_from_slice(&[0, 0]); // padding of the 4-byte value field
    exif.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    exif
}

#[test]
fn a_phone_photo_with_exif_orientation_is_analysed_upright() {
    // A phone held sideways stores the pixels rotated and records "rotate 90° clockwise to display"
    // (orientation 6) in EXIF.
    let upright = photo("obama.jpg");
    let stored = upright.rotate270();
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 92);
    encoder.set_exif_metadata(exif_orientation(6)).expect("exif");
    encoder
        .write_image(stored.to_rgb8().as_raw(), stored.width(), stored.height(), image::ExtendedColorType::Rgb8)
        .expect("encode");

    let naive = image::load_from_memory(&bytes).expect("decode");
    assert_eq!((naive.width(), naive.height()), (upright.height(), upright.width()), "stored sideways");

    let decoded = decode_image(&bytes).expect("decode");
    assert_eq!((decoded.width(), decoded.height()), (upright.width(), upright.height()), "orientation applied");
    let face = check(&decoded, None, None).expect("upright face passes the checks");
    let pose = estimate_pose(&face);
    assert!(pose.roll.abs() < 10.0, "eyes level after applying the orientation: {pose:?}");
    let original = embedding("obama.jpg");
    let cosine = engine().embed(&decoded, &face).expect("embed").cosine(&original);
    assert!(Thresholds::default().is_match(cosine), "the re-encoded photo still matches, cosine {cosine:.3}");
}

#[test]
fn the_engine_is_shareable_across_threads() {
    let image = photo("astronaut.png");
    let results: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..2).map(|_| s.spawn(|| engine().analyze(&image).expect("analyze").faces.len())).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(results, vec![1, 1]);
}

#[test]
fn missing_or_altered_models_are_refused_with_the_fetch_hint() {
    let dir = std::env::temp_dir().join(format!("jingtong-face-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let err = LocalEngine::load(&dir).err().expect("no models in an empty folder");
    assert!(matches!(err, FaceError::MissingModel { .. }), "{err}");
    assert!(err.to_string().contains("scripts/fetch-face-assets"), "{err}");

    std::fs::write(dir.join(YUNET_FILE), b"not the pinned model").expect("write");
    let err = LocalEngine::load(&dir).err().expect("a wrong file is refused");
    assert!(matches!(err, FaceError::ModelChecksum { .. }), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn garbage_bytes_are_an_error_not_a_panic() {
    assert!(decode_image(b"definitely not an image").is_err());
    assert!(decode_image(&[]).is_err());
}

#[test]
fn the_devices_detector_only_engine_finds_the_same_faces_and_cannot_compare_them() {
    let dir = jingtong_face::asset_dir().join("models");
    let device = LocalEngine::load_detector(&dir).expect("detector model");
    let image = photo("obama.jpg");
    let found = device.analyze(&image).expect("analyze");
    let full = analyze(&image);
    assert_eq!(found.faces.len(), 1, "one face in the photo");
    assert_eq!(found.faces[0].bbox, full.faces[0].bbox, "the same box as the full engine");
    match device.embed(&image, &found.faces[0]) {
        Err(FaceError::NoRecognizer) => {}
        Err(other) => panic!("expected NoRecognizer, got {other}"),
        Ok(_) => panic!("the device's engine has no recognizer, yet it compared faces"),
    }
}

#[test]
fn a_threaded_engine_finds_exactly_what_a_single_threaded_one_finds() {
    let dir = jingtong_face::asset_dir().join("models");
    let threaded = LocalEngine::load(&dir).expect("models").with_threads(2);
    for name in ["obama.jpg", "biden.jpg"] {
        let image = photo(name);
        let one = analyze(&image);
        let two = threaded.analyze(&image).expect("analyze");
        assert_eq!(two.faces, one.faces, "{name}: boxes, landmarks and scores differ with two threads");
        let a = engine().embed(&image, &one.faces[0]).expect("embed");
        let b = threaded.embed(&image, &two.faces[0]).expect("embed");
        assert_eq!(a, b, "{name}: the embedding differs with two threads");
    }
}

#[test]
fn a_portrait_photo_on_its_fitted_input_finds_the_face_the_square_input_finds() {
    // obama.jpg is 910×1137: scaled to 512×640, it runs on a 512×640 input. The same pixels on a
    // black square canvas run on the 640×640 input, with the padding the old plan always had.
    let image = photo("obama.jpg");
    let (w, h) = (image.width(), image.height());
    assert!(w < h, "the test needs a portrait photo");
    let mut square = image::RgbImage::new(h, h);
    image::imageops::replace(&mut square, &image.to_rgb8(), 0, 0);
    let fitted = single_face(&image, "obama.jpg on its 512×640 input");
    let padded = single_face(&DynamicImage::ImageRgb8(square), "obama.jpg padded to a square");
    let near = |a: f32, b: f32| (a - b).abs() <= 0.02 * fitted.bbox.width;
    assert!(
        near(fitted.bbox.x, padded.bbox.x)
            && near(fitted.bbox.y, padded.bbox.y)
            && near(fitted.bbox.width, padded.bbox.width)
            && near(fitted.bbox.height, padded.bbox.height),
        "the face box moved with the input size: {:?} vs {:?}",
        fitted.bbox,
        padded.bbox
    );
    for (a, b) in fitted.landmarks.iter().zip(&padded.landmarks) {
        assert!(near(a[0], b[0]) && near(a[1], b[1]), "a landmark moved: {a:?} vs {b:?}");
    }
    assert!((fitted.score - padded.score).abs() < 0.05, "score {} vs {}", fitted.score, padded.score);
}
