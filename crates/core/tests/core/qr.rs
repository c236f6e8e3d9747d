//! QR decoding from rendered codes carrying a real signed bill: turned, shrunk, noisy and
//! photographed-paper-like pictures, all through PNG or JPEG bytes as the app imports them.

use image::codecs::jpeg::JpegEncoder;
use image::{imageops, GrayImage, ImageFormat, Luma};
use jingtong_api::bill::{BillCode, BillKind, BillNumber, SigningKey, TrustedIssuers};
use jingtong_api::ErrorCode;
use jingtong_core::qr::{decode_luma, decode_qr};
use qrcode::{Color, EcLevel, QrCode};
use time::macros::{date, datetime};
use time::Date;

const TODAY: Date = date!(2026 - 11 - 29);

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// Fictional: a test issuer and a decision number of an office that does not exist (0000…).
fn bill() -> BillCode {
    BillCode {
        issuer: "test-issuer-1".into(),
        kind: BillKind::Fine { decision_number: "0000202611290042".into() },
        number: BillNumber::from_body("00009876543210").unwrap(),
        amount_fen: 20_000,
        due_on: date!(2026 - 12 - 14),
        issued_at: datetime!(2026-11-29 02:00 UTC),
        expires_on: date!(2027 - 11 - 29),
    }
}

fn payload() -> String {
    bill().sign(&key()).unwrap()
}

fn assert_reads_the_bill(found: Result<Vec<String>, ErrorCode>) {
    let found = found.expect("a QR code is found");
    assert_eq!(found, vec![payload()]);
    let trusted = TrustedIssuers::new().with("test-issuer-1", key().verifying_key());
    assert_eq!(BillCode::parse(&found[0], &trusted, TODAY).unwrap(), bill());
}

/// Black modules on white, `module` pixels each, with the standard 4-module quiet zone.
pub fn render(text: &str, module: u32) -> GrayImage {
    let code = QrCode::with_error_correction_level(text, EcLevel::M).unwrap();
    let n = code.width() as u32;
    let colors = code.to_colors();
    let side = (n + 8) * module;
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / module) as i64 - 4, (y / module) as i64 - 4);
        let dark = (0..n as i64).contains(&mx)
            && (0..n as i64).contains(&my)
            && colors[(my * n as i64 + mx) as usize] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    })
}

pub fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality).encode_image(img).unwrap();
    out
}

/// Bilinear rotation about the centre onto a canvas that holds the whole result.
fn rotate(img: &GrayImage, degrees: f64, background: u8) -> GrayImage {
    let (s, c) = degrees.to_radians().sin_cos();
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let (ow, oh) = ((w * c.abs() + h * s.abs()).ceil(), (w * s.abs() + h * c.abs()).ceil());
    GrayImage::from_fn(ow as u32, oh as u32, |x, y| {
        let (dx, dy) = (f64::from(x) - ow / 2.0, f64::from(y) - oh / 2.0);
        let (sx, sy) = (c * dx + s * dy + w / 2.0, -s * dx + c * dy + h / 2.0);
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let px = |xx: f64, yy: f64| {
            if xx < 0.0 || yy < 0.0 || xx >= w || yy >= h {
                f64::from(background)
            } else {
                f64::from(img.get_pixel(xx as u32, yy as u32)[0])
            }
        };
        let v = px(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + px(x0 + 1.0, y0) * fx * (1.0 - fy)
            + px(x0, y0 + 1.0) * (1.0 - fx) * fy
            + px(x0 + 1.0, y0 + 1.0) * fx * fy;
        Luma([v.round() as u8])
    })
}

/// Deterministic noise source (xorshift64), so failures reproduce.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Roughly normal, mean 0, standard deviation `sd` (sum of four uniforms).
    fn gauss(&mut self, sd: f64) -> f64 {
        let sum: f64 = (0..4).map(|_| (self.next() % 10_000) as f64 / 10_000.0 - 0.5).sum();
        sum * sd * 3f64.sqrt()
    }

    fn apply(&mut self, img: &mut GrayImage, sd: f64, salt_permille: u64) {
        for p in img.iter_mut() {
            let roll = self.next() % 1000;
            *p = if roll < salt_permille / 2 {
                0
            } else if roll < salt_permille {
                255
            } else {
                (f64::from(*p) + self.gauss(sd)).round().clamp(0.0, 255.0) as u8
            };
        }
    }
}

#[test]
fn reads_an_upright_code() {
    assert_reads_the_bill(decode_qr(&png(&render(&payload(), 6))));
}

#[test]
fn reads_a_code_turned_90_degrees() {
    assert_reads_the_bill(decode_qr(&png(&imageops::rotate90(&render(&payload(), 5)))));
}

#[test]
fn reads_a_code_turned_15_degrees() {
    assert_reads_the_bill(decode_qr(&png(&rotate(&render(&payload(), 6), 15.0, 255))));
    assert_reads_the_bill(decode_qr(&png(&rotate(&render(&payload(), 6), -15.0, 255))));
}

#[test]
fn reads_a_small_code_in_a_big_picture() {
    let big = render(&payload(), 12);
    let side = big.width() * 3 / 12; // 3 px a module
    let small = imageops::resize(&big, side, side, imageops::FilterType::Triangle);
    let mut canvas = GrayImage::from_pixel(2400, 1800, Luma([255]));
    imageops::replace(&mut canvas, &small, 1700, 1300);
    assert_reads_the_bill(decode_qr(&png(&canvas)));
}

#[test]
fn reads_a_tiny_code_of_two_pixels_a_module() {
    let big = render(&payload(), 12);
    let side = big.width() * 2 / 12;
    let small = imageops::resize(&big, side, side, imageops::FilterType::Triangle);
    let mut canvas = GrayImage::from_pixel(640, 480, Luma([255]));
    imageops::replace(&mut canvas, &small, 300, 200);
    assert_reads_the_bill(decode_qr(&png(&canvas)));
}

#[test]
fn reads_a_noisy_code() {
    let mut img = rotate(&render(&payload(), 5), 5.0, 255);
    Noise(0x5eed).apply(&mut img, 45.0, 20);
    assert_reads_the_bill(decode_qr(&png(&img)));
}

#[test]
fn reads_a_photo_of_paper() {
    // Ink is not black and paper not white; the sheet lies turned on a grey desk.
    let black_white = render(&payload(), 6);
    let code = GrayImage::from_fn(black_white.width(), black_white.height(), |x, y| {
        Luma([if black_white.get_pixel(x, y)[0] < 128 { 45 } else { 228 }])
    });
    let mut sheet = GrayImage::from_pixel(code.width() + 160, code.height() + 260, Luma([228]));
    imageops::replace(&mut sheet, &code, 80, 60);
    let sheet = rotate(&sheet, -7.0, 95);
    let mut photo = GrayImage::from_pixel(sheet.width() + 300, sheet.height() + 200, Luma([95]));
    imageops::replace(&mut photo, &sheet, 170, 90);
    // A lamp at the bottom right: the far corner gets half the light.
    let (w, h) = (f64::from(photo.width()), f64::from(photo.height()));
    for (x, y, p) in photo.enumerate_pixels_mut() {
        let light = 0.5 + 0.55 * (f64::from(x) / w + f64::from(y) / h) / 2.0;
        p[0] = (f64::from(p[0]) * light).round().clamp(0.0, 255.0) as u8;
    }
    let mut photo = imageops::blur(&photo, 1.2);
    Noise(0xfeed).apply(&mut photo, 8.0, 0);
    assert_reads_the_bill(decode_qr(&jpeg(&photo, 75)));
}

#[test]
fn reads_a_raw_camera_frame() {
    let img = rotate(&render(&payload(), 4), 30.0, 255);
    assert_reads_the_bill(decode_luma(img.width(), img.height(), img.as_raw()));
}

#[test]
fn a_picture_without_a_code_is_qr_not_found() {
    let mut img = GrayImage::from_fn(800, 600, |x, y| Luma([(60 + (x + y) / 8) as u8]));
    for (x0, y0) in [(100, 100), (400, 250), (600, 80)] {
        for y in y0..y0 + 90 {
            for x in x0..x0 + 120 {
                img.put_pixel(x, y, Luma([20]));
            }
        }
    }
    Noise(0xdead).apply(&mut img, 20.0, 5);
    assert_eq!(decode_qr(&png(&img)), Err(ErrorCode::QrNotFound));
    assert_eq!(decode_qr(&jpeg(&img, 80)), Err(ErrorCode::QrNotFound));
}

#[test]
fn a_file_that_is_not_an_image_is_qr_image_invalid() {
    assert_eq!(decode_qr(b"JTB1.not-a-picture"), Err(ErrorCode::QrImageInvalid));
    let mut gif_like = b"GIF89a".to_vec();
    gif_like.extend_from_slice(&[0; 64]);
    assert_eq!(decode_qr(&gif_like), Err(ErrorCode::QrImageInvalid));
}
