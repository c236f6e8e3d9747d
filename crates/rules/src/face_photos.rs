//! When a face photo is the verified resident, and when the frames of one face verification are one
//! still shown several times. Numbers measured on the pinned face material; see the data file's header.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::{check_version, parse_toml, RulesError};

const FILE: &str = "face_photos.toml";
const TOML: &str = include_str!("../data/face_photos.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoMatch {
    /// Below this SFace cosine with the registry photo the photo is another person's: refused.
    pub refuse_below: f32,
    /// From `refuse_below` up to this, a clerk compares the photos before the card is made.
    pub review_below: f32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stills {
    pub face_bits: u32,
    pub region_bits: u32,
    pub shape: f32,
    pub shape_face_bits: u32,
    pub pair_cosine: f32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstFrame {
    pub max_yaw_deg: f32,
    pub max_pitch_deg: f32,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacePhotos {
    pub version: String,
    pub photo_match: PhotoMatch,
    pub stills: Stills,
    pub first_frame: FirstFrame,
}

/// Where a photo's match score puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoVerdict {
    SamePerson,
    Review,
    OtherPerson,
}

impl FacePhotos {
    /// The embedded rules, parsed and validated once.
    pub fn load() -> &'static FacePhotos {
        static RULES: OnceLock<FacePhotos> = OnceLock::new();
        RULES.get_or_init(|| FacePhotos::from_toml(TOML).expect("embedded face_photos.toml is valid"))
    }

    pub fn from_toml(src: &str) -> Result<FacePhotos, RulesError> {
        let rules: FacePhotos = parse_toml(FILE, src)?;
        check_version(FILE, &rules.version)?;
        let m = &rules.photo_match;
        let s = &rules.stills;
        let f = &rules.first_frame;
        let valid = 0.0 < m.refuse_below
            && m.refuse_below <= m.review_below
            && m.review_below < 1.0
            && s.face_bits < 64
            && s.region_bits < 64
            && s.shape_face_bits < 64
            && s.shape >= 0.0
            && s.pair_cosine > m.review_below
            && s.pair_cosine <= 1.0
            && f.max_yaw_deg > 0.0
            && f.max_pitch_deg > 0.0
            && [&m.source, &s.source, &f.source].iter().all(|x| !x.trim().is_empty());
        if !valid {
            let message = "need 0 < refuse <= review < pair_cosine <= 1, bits < 64, positive angles, each a source";
            return Err(RulesError::Invalid { file: FILE, message: message.to_owned() });
        }
        Ok(rules)
    }

    /// The verdict on an SFace cosine between a photo and the registry photo.
    pub fn verdict(&self, cosine: f32) -> PhotoVerdict {
        // A NaN score is refused, never accepted.
        if cosine.is_nan() || cosine < self.photo_match.refuse_below {
            PhotoVerdict::OtherPerson
        } else if cosine < self.photo_match.review_below {
            PhotoVerdict::Review
        } else {
            PhotoVerdict::SamePerson
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_rules_load_and_borderline_goes_to_a_clerk() {
        let r = FacePhotos::load();
        assert_eq!(r.verdict(0.30), PhotoVerdict::OtherPerson);
        assert_eq!(r.verdict(0.45), PhotoVerdict::Review);
        assert_eq!(r.verdict(0.75), PhotoVerdict::SamePerson);
        assert_eq!(r.verdict(f32::NAN), PhotoVerdict::OtherPerson);
    }

    #[test]
    fn inverted_thresholds_are_refused() {
        let bad = TOML.replace("refuse_below = 0.40", "refuse_below = 0.60");
        assert!(FacePhotos::from_toml(&bad).is_err());
    }
}
