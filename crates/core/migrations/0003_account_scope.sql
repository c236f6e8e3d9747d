-- Local data belongs to the account that wrote it: `account` is the user id from the session, or ''
-- for what was typed while signed out (the sign-in form). Payloads are sealed under that account's
-- own key in the keychain, so another account on the same computer can neither list nor open them.
--
-- Rows written before this change have no owner we can trust: on a shared computer they may be an
-- earlier resident's. Giving them to whoever signs in first could show them to the wrong person, so
-- they are dropped.

DROP TABLE drafts;
CREATE TABLE drafts (
    account    TEXT NOT NULL,
    item       TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, item)
);

DROP TABLE outbox;
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    account         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    -- nonce (12 bytes) followed by the ciphertext; NULL for a request without a body.
    body            BLOB,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    -- 'failed' = the server refused it for good; kept so the resident can see and redo it.
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    draft_item      TEXT
);
CREATE INDEX outbox_account ON outbox (account, state);
