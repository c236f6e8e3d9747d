//! Face photos the API tests upload: real portraits from the pinned face material, turned into GA 461
//! ID photos by the app's own pipeline (jingtong_core::id_photo), as a resident's phone would.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use image::{DynamicImage, Rgb, RgbImage};
use jingtong_core::id_photo::{process_image, GA_461};
use jingtong_face::{decode_image, LocalEngine};

/// 演示用户乙's registry photo is obama.jpg: an ID photo made from another picture of him is his own.
pub const YI_OWN: &str = "obama3.jpg";
/// 演示用户乙 smiling with teeth (his registry photo itself): GA 461 refuses the expression.
pub const YI_SMILING: &str = "obama.jpg";
/// Someone else entirely (an official portrait of another man).
pub const STRANGER: &str = "biden.jpg";

pub fn testdata(name: &str) -> Vec<u8> {
    let path = jingtong_face::asset_dir().join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run scripts/fetch-face-assets", path.display()))
}

fn engine() -> &'static LocalEngine {
    static ENGINE: OnceLock<LocalEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        jingtong_core::device_engine(&jingtong_face::asset_dir().join("models"))
            .expect("face models (run scripts/fetch-face-assets)")
    })
}

/// The portrait as a studio would take it (see jingtong_face::testing).
pub fn on_white_backdrop(name: &str) -> DynamicImage {
    let img = decode_image(&testdata(name)).unwrap();
    jingtong_face::testing::on_studio_backdrop(engine(), &img).expect("a face")
}

/// The GA 461 JPEG the app makes of this portrait (made once per test process).
pub fn ga461(name: &str) -> Vec<u8> {
    static MADE: OnceLock<Mutex<HashMap<String, Vec<u8>>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(jpeg) = made.lock().unwrap().get(name) {
        return jpeg.clone();
    }
    let p = process_image(&on_white_backdrop(name), engine(), &GA_461);
    assert_eq!(p.problem, None, "{name} should make a GA 461 photo");
    let jpeg = p.jpeg.expect("a photo");
    made.lock().unwrap().insert(name.to_owned(), jpeg.clone());
    jpeg
}

/// The crop the app makes of this portrait even when its own check refuses it (to send it anyway, as an
/// edited app could).
pub fn ga461_refused_on_device(name: &str) -> Vec<u8> {
    let p = process_image(&on_white_backdrop(name), engine(), &GA_461);
    assert!(p.problem.is_some(), "{name} should be refused by the device's check");
    p.jpeg.expect("a crop")
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A 358×441 JPEG of the right size that shows no face (a plain light wall).
pub fn faceless_jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(358, 441, |x, y| Rgb([240, 240 - (y % 7) as u8, 235 + (x % 5) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}
