-- Case tracking: what a report's receipt carries, public events, lookups with SMS codes, who may see a case.
-- Keep in step with ../postgres/0006_cases.sql. Applied migrations are never edited.

ALTER TABLE cases ADD COLUMN station TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN officer TEXT NOT NULL DEFAULT '';
-- The query code printed on the receipt: only its keyed hash.
ALTER TABLE cases ADD COLUMN query_code_hash TEXT;
-- The phone registered on the case (the lookup SMS goes there), encrypted, and its keyed hash.
ALTER TABLE cases ADD COLUMN phone_enc BLOB;
ALTER TABLE cases ADD COLUMN status_changed_at BIGINT;
ALTER TABLE cases ADD COLUMN updated_at BIGINT;

-- Public events only: nothing about other parties.
CREATE TABLE case_events (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    text TEXT NOT NULL,
    actor_id TEXT
);
CREATE INDEX case_events_by_case ON case_events (case_id, at);

-- A lookup with the right receipt and query code: an SMS code went to the case's phone.
CREATE TABLE case_lookups (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    wrong_tries BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);

-- Residents who proved receipt + query code + SMS code may follow the case from their account.
CREATE TABLE case_viewers (
    user_id TEXT NOT NULL REFERENCES users (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, case_id)
);
CREATE INDEX case_viewers_by_case ON case_viewers (case_id);
