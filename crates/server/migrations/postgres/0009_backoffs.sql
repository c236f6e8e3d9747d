-- Growing delays after repeated failures (staff sign-in per account): `failures` in a row and the
-- earliest time of the next attempt. Claimed and reset by one conditional upsert each (ratelimit.rs).
CREATE TABLE backoffs (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    not_before BIGINT NOT NULL
);
