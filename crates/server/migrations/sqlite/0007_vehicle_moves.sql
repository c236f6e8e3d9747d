-- Vehicle moving (一键挪车): requests, their timeline, relay messages and abuse reports.
-- Keep in step with ../postgres/0007_vehicle_moves.sql. Applied migrations are never edited.

-- The 4-digit city code a traffic officer's duty queue covers; NULL: every city.
ALTER TABLE staff_accounts ADD COLUMN duty_region TEXT;

-- status: see jingtong_api::moves::MoveStatus. The requester's and owner's phones are never stored here;
-- owner_token_hash is the keyed hash of the SMS link's token (owners without the app answer through it).
-- month is the Asia/Shanghai 'YYYY-MM' of creation, for the monthly limit.
CREATE TABLE vehicle_moves (
    id TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL REFERENCES users (id),
    plate TEXT NOT NULL,
    plate_type TEXT NOT NULL,
    vehicle_id TEXT REFERENCES registry_vehicles (id),
    owner_user_id TEXT REFERENCES users (id),
    owner_token_hash TEXT UNIQUE,
    address_enc BLOB NOT NULL,
    position_enc BLOB,
    region_code TEXT NOT NULL,
    brigade TEXT NOT NULL,
    reason TEXT NOT NULL,
    note_enc BLOB,
    photos TEXT NOT NULL,
    status TEXT NOT NULL,
    eta_at BIGINT,
    reminded_at BIGINT,
    escalated_at BIGINT,
    resolved_at BIGINT,
    month TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX vehicle_moves_by_requester ON vehicle_moves (requester_id, month);
CREATE INDEX vehicle_moves_by_owner ON vehicle_moves (owner_user_id, created_at);
CREATE INDEX vehicle_moves_duty_queue ON vehicle_moves (status, brigade, escalated_at);
-- One open request per plate.
CREATE UNIQUE INDEX vehicle_moves_open_plate ON vehicle_moves (plate) WHERE status <> 'resolved';

CREATE TABLE vehicle_move_events (
    id TEXT PRIMARY KEY,
    move_id TEXT NOT NULL REFERENCES vehicle_moves (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    party TEXT NOT NULL,
    actor_id TEXT,
    eta_minutes BIGINT
);
CREATE INDEX vehicle_move_events_by_move ON vehicle_move_events (move_id, at);

CREATE TABLE vehicle_move_messages (
    id TEXT PRIMARY KEY,
    move_id TEXT NOT NULL REFERENCES vehicle_moves (id),
    at BIGINT NOT NULL,
    party TEXT NOT NULL,
    text_enc BLOB NOT NULL
);
CREATE INDEX vehicle_move_messages_by_move ON vehicle_move_messages (move_id, at);

-- An owner's report that a request was malicious; traffic police confirm or dismiss it.
-- status 'open' | 'confirmed' | 'dismissed'.
CREATE TABLE vehicle_move_reports (
    move_id TEXT PRIMARY KEY REFERENCES vehicle_moves (id),
    requester_id TEXT NOT NULL REFERENCES users (id),
    reported_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT
);
CREATE INDEX vehicle_move_reports_by_requester ON vehicle_move_reports (requester_id, status, decided_at);
