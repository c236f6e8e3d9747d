//! The ID-photo pipeline on the pinned photos: GA 461 geometry when it can be met, the reason when not.

use image::{DynamicImage, GenericImageView};
use jingtong_api::ErrorCode;
use jingtong_core::id_photo::{has_spec_size, process, process_image, GA_461};
use jingtong_face::{decode_image, FaceEngine, LocalEngine};

fn engine() -> LocalEngine {
    jingtong_core::device_engine(&jingtong_face::asset_dir().join("models"))
        .expect("face models (run scripts/fetch-face-assets)")
}

fn photo(name: &str) -> Vec<u8> {
    let path = jingtong_face::asset_dir().join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An official portrait as a studio would take it (see jingtong_face::testing). obama3.jpg: a neutral
/// expression; obama.jpg: a smile with teeth.
fn studio(engine: &LocalEngine, name: &str) -> DynamicImage {
    let img = decode_image(&photo(name)).unwrap();
    jingtong_face::testing::on_studio_backdrop(engine, &img).expect("a face")
}

fn on_white_backdrop(engine: &LocalEngine) -> DynamicImage {
    studio(engine, "obama3.jpg")
}

#[test]
fn a_smile_with_teeth_is_refused_but_the_crop_is_shown() {
    let e = engine();
    let p = process_image(&studio(&e, "obama.jpg"), &e, &GA_461);
    assert_eq!(p.problem, Some(ErrorCode::IdPhotoExpression));
    let jpeg = p.jpeg.expect("the resident sees the crop and why it fails");
    // The server's check refuses it the same way.
    let decoded = decode_image(&jpeg).unwrap();
    let analysis = e.analyze(&decoded).unwrap();
    let checked = jingtong_face::id_photo::check_ga461(&decoded, &analysis, &GA_461);
    assert_eq!(checked.err(), Some(jingtong_face::id_photo::IdPhotoProblem::Expression));
}

#[test]
fn a_portrait_on_a_plain_backdrop_becomes_a_ga_461_photo() {
    let e = engine();
    let img = on_white_backdrop(&e);
    let p = process_image(&img, &e, &GA_461);
    assert_eq!(p.problem, None, "{:?} in {:?}", e.analyze(&img).unwrap().faces, img.dimensions());
    let jpeg = p.jpeg.expect("a photo");
    assert!(has_spec_size(&jpeg, &GA_461), "358×441");
    assert!(jpeg.len() <= GA_461.max_bytes, "{} bytes", jpeg.len());
    assert!((p.face_width_px - 207.0).abs() <= 14.0, "face width {}", p.face_width_px);
    assert!((7.0..=21.0).contains(&p.head_top_px), "head top {}", p.head_top_px);
    assert!(p.eye_line_from_bottom_px >= 207.0, "eye line {}", p.eye_line_from_bottom_px);
    // The result is itself a photo with one face of the standard width.
    let decoded = decode_image(&jpeg).unwrap();
    let again = e.analyze(&decoded).unwrap();
    assert_eq!(again.faces.len(), 1);
    assert!((again.faces[0].bbox.width - 207.0).abs() <= 14.0, "{}", again.faces[0].bbox.width);
    // The server checks the upload again: what the device makes passes there.
    let checked = jingtong_face::id_photo::check_ga461(&decoded, &again, &GA_461);
    assert!(checked.is_ok(), "{checked:?}");
}

#[test]
fn a_busy_background_is_refused_but_the_crop_is_shown() {
    let e = engine();
    let p = process(&photo("obama.jpg"), &e, &GA_461);
    assert_eq!(p.problem, Some(ErrorCode::IdPhotoBackground));
    assert!(p.jpeg.is_some(), "the resident sees the crop and why it fails");
}

#[test]
fn each_other_failure_has_its_reason() {
    let e = engine();
    // A video still: the face is far too small for a card photo.
    assert_eq!(process(&photo("franck_0000_frontal.png"), &e, &GA_461).problem, Some(ErrorCode::IdPhotoTooSmall));
    assert_eq!(process(&photo("solvay_group.png"), &e, &GA_461).problem, Some(ErrorCode::FaceSeveral));
    assert_eq!(process(&photo("coffee.png"), &e, &GA_461).problem, Some(ErrorCode::FaceNone));
    assert_eq!(process(b"not an image", &e, &GA_461).problem, Some(ErrorCode::FaceFrameInvalid));
    // The same portrait cut just above the eyebrows: no room for the head top.
    let img = on_white_backdrop(&e);
    let face = e.analyze(&img).unwrap().largest_face().copied().unwrap();
    let top = (face.bbox.y + face.bbox.height * 0.05) as u32;
    let cut = img.crop_imm(0, top, img.width(), img.height() - top);
    assert_eq!(cut.dimensions().0, img.width());
    assert_eq!(process_image(&cut, &e, &GA_461).problem, Some(ErrorCode::IdPhotoTooTight));
}

/// A phone stores a portrait sideways with an EXIF orientation tag (6 = turn 90° clockwise to show).
fn sideways_jpeg_with_orientation_tag(upright: &DynamicImage) -> Vec<u8> {
    let stored = upright.rotate270();
    let mut jpeg = Vec::new();
    stored.to_rgb8().write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    // APP1 "Exif": a little-endian TIFF header and one IFD entry, Orientation (0x0112) = 6.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&[1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn a_sideways_phone_photo_is_turned_upright_by_its_exif_tag() {
    let e = engine();
    let upright = on_white_backdrop(&e);
    let file = sideways_jpeg_with_orientation_tag(&upright);
    // Stored sideways, shown upright: the decoder applies the tag.
    assert_eq!(decode_image(&file).unwrap().dimensions(), upright.dimensions());
    let p = process(&file, &e, &GA_461);
    assert_eq!(p.problem, None);
    assert!(has_spec_size(p.jpeg.as_ref().unwrap(), &GA_461));
    assert!((p.face_width_px - 207.0).abs() <= 14.0, "face width {}", p.face_width_px);
    assert!((7.0..=21.0).contains(&p.head_top_px), "head top {}", p.head_top_px);
}

#[test]
fn a_dark_photo_is_refused_with_its_reason() {
    let e = engine();
    let mut img = on_white_backdrop(&e).to_rgb8();
    for px in img.pixels_mut() {
        for c in px.0.iter_mut() {
            *c /= 6;
        }
    }
    let p = process_image(&DynamicImage::ImageRgb8(img), &e, &GA_461);
    assert_eq!(p.problem, Some(ErrorCode::FaceTooDark));
    assert!(ErrorCode::FaceTooDark.message(jingtong_api::Lang::ZhCn).contains("暗"));
}
