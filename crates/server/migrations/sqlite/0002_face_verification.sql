-- Face verification (刷脸认证): identity binding, challenges, decisions, idempotency, registry photos.
-- Raw frames are never stored: they live in memory until the decision is made.
-- Keep in step with ../postgres/0002_face_verification.sql. Applied migrations are never edited.

-- The identity a resident proved by face: name and ID number encrypted, the number's keyed hash for lookups.
ALTER TABLE users ADD COLUMN name_enc BLOB;
ALTER TABLE users ADD COLUMN id_number_enc BLOB;
ALTER TABLE users ADD COLUMN id_number_hash TEXT;
ALTER TABLE users ADD COLUMN verified_at BIGINT;
CREATE INDEX users_by_id_number ON users (id_number_hash);

-- The registry photo lives in the blob store under photo_ref; the row keeps its sha256, never the bytes.
ALTER TABLE registry_persons ADD COLUMN photo_sha256 TEXT;

-- actions: JSON array of pose actions in order. The claimed identity is kept encrypted until the decision.
CREATE TABLE face_challenges (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    registry_person_id TEXT NOT NULL REFERENCES registry_persons (id),
    name_enc BLOB NOT NULL,
    id_number_enc BLOB NOT NULL,
    id_number_hash TEXT NOT NULL,
    nonce_hash TEXT NOT NULL,
    actions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX face_challenges_by_user ON face_challenges (user_id, created_at);

-- outcome 'verified' | 'rejected'; reason an error code or NULL; scores JSON (cosines, poses); frame_hashes JSON (sha256 hex).
CREATE TABLE face_decisions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    challenge_id TEXT NOT NULL UNIQUE REFERENCES face_challenges (id),
    outcome TEXT NOT NULL,
    reason TEXT,
    scores TEXT NOT NULL,
    frame_hashes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX face_decisions_by_user ON face_decisions (user_id, created_at);

-- Idempotency-Key per account: the request's hash and the first response.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

ALTER TABLE audit_events ADD COLUMN detail TEXT;
