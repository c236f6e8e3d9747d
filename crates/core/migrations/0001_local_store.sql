-- The app's local store. Secrets live in the OS keychain, never here; payloads are AES-256-GCM
-- ciphertext under a key held in the keychain.

CREATE TABLE drafts (
    item       TEXT PRIMARY KEY NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    -- nonce (12 bytes) followed by the ciphertext; NULL for a request without a body.
    body            BLOB,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    -- 'failed' = the server refused it for good; kept so the resident can see and redo it.
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed'))
);

-- The signed-in account as last seen from GET /me; nothing secret.
CREATE TABLE session_info (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    user_id            TEXT NOT NULL,
    phone_masked       TEXT NOT NULL,
    verification_level TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
