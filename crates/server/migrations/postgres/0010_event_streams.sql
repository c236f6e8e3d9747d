-- Open event streams (GET /api/v1/events), one row per stream, so the per-session and per-account
-- limits hold across server processes (see crates/server/src/cases/streams.rs).
-- Keep in step with the other database's 0010_event_streams.sql. Applied migrations are never edited.
-- A row goes when its stream closes; a process that dies leaves rows whose lease (renewed while the
-- stream is open) runs out, and the account's next open removes them.
CREATE TABLE event_streams (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    opened_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL
);
CREATE INDEX event_streams_by_user ON event_streams (user_id, opened_at);
CREATE INDEX event_streams_by_session ON event_streams (session_id);
