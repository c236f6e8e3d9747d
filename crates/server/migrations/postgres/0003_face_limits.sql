-- Face verification limits that must hold under concurrent requests.
-- Keep in step with the other database's 0003_face_limits.sql. Applied migrations are never edited.

-- One account per person: an ID number proven on one account cannot be claimed by another.
-- (NULLs, i.e. unverified accounts, do not collide.)
CREATE UNIQUE INDEX users_one_account_per_id_number ON users (id_number_hash);

-- Attempts of the current Asia/Shanghai day, counted by one conditional UPDATE so that parallel
-- requests cannot both take the fifth attempt. face_day is the day's start in ms since the epoch.
ALTER TABLE users ADD COLUMN face_day BIGINT;
ALTER TABLE users ADD COLUMN face_attempts BIGINT NOT NULL DEFAULT 0;
