-- Foundation: accounts, sign-in, audit, local SMS outbox, rate limits, demo registry.
-- Times are BIGINT unix milliseconds; ids are UUIDv7 text; *_enc columns are AES-256-GCM
-- ciphertext and *_hash columns HMAC-SHA256 keyed hashes (see src/crypto.rs).
-- Keep in step with ../sqlite/0001_foundation.sql. Applied migrations are never edited.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    phone_hash TEXT NOT NULL UNIQUE,
    phone_enc BYTEA NOT NULL,
    role TEXT NOT NULL,
    verification_level TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sms_codes (
    id TEXT PRIMARY KEY,
    phone_hash TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX sms_codes_by_phone ON sms_codes (phone_hash, created_at);

-- Wrong tries in a row and the lock, per number.
CREATE TABLE phone_guards (
    phone_hash TEXT PRIMARY KEY,
    wrong_tries BIGINT NOT NULL,
    locked_until BIGINT
);

-- Fixed-window counters shared by all server processes, e.g. 'sms:phone:<hash>', 'sms:ip:<ip>'.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Only sha256 of each token is kept. kind is 'access' or 'refresh'; used_at marks a rotated refresh token.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX tokens_by_session ON tokens (session_id);

-- Append-only. Never the phone number itself: its keyed hash.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    phone_hash TEXT,
    client_ip TEXT
);
CREATE INDEX audit_events_by_time ON audit_events (at);

-- The local SMS gateway's outbox (demo and tests read it).
CREATE TABLE sms_outbox (
    id TEXT PRIMARY KEY,
    phone_hash TEXT NOT NULL,
    phone_enc BYTEA NOT NULL,
    text TEXT NOT NULL,
    code TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX sms_outbox_by_phone ON sms_outbox (phone_hash, sent_at);

-- Population registry adapter data (demo for now); later issues extend these tables.
CREATE TABLE registry_persons (
    id TEXT PRIMARY KEY,
    name_enc BYTEA NOT NULL,
    id_number_enc BYTEA NOT NULL,
    id_number_hash TEXT NOT NULL UNIQUE,
    phone_enc BYTEA,
    phone_hash TEXT,
    photo_ref TEXT
);
CREATE INDEX registry_persons_by_phone ON registry_persons (phone_hash);

CREATE TABLE registry_vehicles (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES registry_persons (id),
    plate TEXT NOT NULL UNIQUE,
    vehicle_type TEXT NOT NULL,
    brand TEXT NOT NULL,
    color TEXT NOT NULL
);

-- amount in integer fen; due_date is a calendar date (YYYY-MM-DD, Asia/Shanghai).
CREATE TABLE bills (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES registry_persons (id),
    bill_number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES registry_persons (id),
    receipt_number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    reported_at BIGINT NOT NULL
);
