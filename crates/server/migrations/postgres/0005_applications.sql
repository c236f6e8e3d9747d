-- ID card applications: pickup stations, staff accounts, applications and their events.
-- Keep in step with ../sqlite/0005_applications.sql. Applied migrations are never edited.

CREATE TABLE pickup_stations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    hours TEXT NOT NULL,
    region_code TEXT NOT NULL,
    -- 1 where transport is poor: the time limit gets its remote-area extension (居民身份证法 第十二条).
    remote BIGINT NOT NULL DEFAULT 0
);

-- Staff sign in with their staff number and a password (argon2id PHC string), not with SMS.
CREATE TABLE staff_accounts (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    staff_number TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    station_id TEXT REFERENCES pickup_stations (id)
);

-- card_kind 'resident' | 'temporary'. status: see jingtong_api::applications::ApplicationStatus.
-- post_enc: the postal address JSON, encrypted; photo_enc: the GA 461 JPEG, encrypted, erased when the
-- application ends; details_enc: item-specific answers (loss date, damage), encrypted.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    person_id TEXT NOT NULL REFERENCES registry_persons (id),
    item TEXT NOT NULL,
    card_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    province_code BIGINT NOT NULL,
    delivery TEXT NOT NULL,
    station_id TEXT REFERENCES pickup_stations (id),
    post_enc BYTEA,
    photo_source TEXT NOT NULL,
    photo_enc BYTEA,
    details_enc BYTEA,
    fee_fen BIGINT NOT NULL,
    bill_id TEXT REFERENCES bills (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_on TEXT,
    deadline TEXT,
    tracking_number TEXT,
    reject_reason TEXT,
    reject_action TEXT
);
CREATE INDEX applications_by_user ON applications (user_id, created_at);
CREATE INDEX applications_by_status ON applications (status, created_at);
CREATE UNIQUE INDEX applications_by_bill ON applications (bill_id);
-- One open application per person and card kind, whatever races.
CREATE UNIQUE INDEX applications_one_open ON applications (person_id, card_kind)
    WHERE status IN ('awaiting_payment', 'submitted', 'accepted', 'in_production', 'ready_for_pickup', 'posted');

-- Append-only: every change, with time and actor ('resident' | 'clerk' | 'payment' | 'system').
CREATE TABLE application_events (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT,
    note TEXT
);
CREATE INDEX application_events_by_application ON application_events (application_id, at);
