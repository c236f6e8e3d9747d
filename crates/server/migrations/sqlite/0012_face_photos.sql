-- Face photos bound to the person (issue 23; see crates/server/src/face_check.rs and docs/face.md).
-- Keep in step with the other database's 0012_face_photos.sql. Applied migrations are never edited.

-- The ID photo's match with the registry photo, in thousandths of SFace cosine, and whether a clerk must
-- compare the two (a borderline score) before accepting the application.
ALTER TABLE applications ADD COLUMN photo_match_milli BIGINT;
ALTER TABLE applications ADD COLUMN photo_review INTEGER NOT NULL DEFAULT 0;
-- A temporary card's end date (YYYY-MM-DD), set when it is issued (临时居民身份证管理办法: three months).
ALTER TABLE applications ADD COLUMN valid_until TEXT;

-- An attempt whose frames did not decode or showed no face is given back: it does not count.
ALTER TABLE face_challenges ADD COLUMN attempt_refunded INTEGER NOT NULL DEFAULT 0;
