-- Scan to pay (扫码支付): bills, who holds them, payment orders, settlement events, receipts,
-- notification nonces, the local payment provider's own tables, and durable jobs.
-- Keep in step with ../postgres/0004_payments.sql. Applied migrations are never edited.

-- The issuer's fields of a bill. paid_at / receipt_number are set once, in the settling transaction.
ALTER TABLE bills ADD COLUMN payee TEXT NOT NULL DEFAULT '';
ALTER TABLE bills ADD COLUMN decision_number TEXT;
ALTER TABLE bills ADD COLUMN paid_at BIGINT;
ALTER TABLE bills ADD COLUMN receipt_number TEXT;
CREATE INDEX bills_by_person ON bills (person_id, due_date);

-- A resident who scanned a bill's code may see and pay it.
CREATE TABLE bill_holders (
    user_id TEXT NOT NULL REFERENCES users (id),
    bill_id TEXT NOT NULL REFERENCES bills (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, bill_id)
);
CREATE INDEX bill_holders_by_bill ON bill_holders (bill_id);

-- status 'open' | 'paid' | 'closed'. lines: JSON of the amount due when the order was made.
-- flag: why the order needs a person (e.g. 'amount_mismatch', 'paid_after_close'), NULL if none.
CREATE TABLE payment_orders (
    id TEXT PRIMARY KEY,
    bill_id TEXT NOT NULL REFERENCES bills (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    amount_fen BIGINT NOT NULL,
    lines TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    closed_at BIGINT,
    paid_at BIGINT,
    prepay_id TEXT,
    pay_url TEXT NOT NULL DEFAULT '',
    transaction_id TEXT,
    receipt_number TEXT,
    flag TEXT
);
-- At most one open order per bill, whatever races.
CREATE UNIQUE INDEX payment_orders_one_open ON payment_orders (bill_id) WHERE status = 'open';
CREATE INDEX payment_orders_by_user ON payment_orders (user_id, created_at);

-- Append-only: every change of an order or a bill, and every refused or late notification.
CREATE TABLE payment_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    order_id TEXT,
    bill_id TEXT,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX payment_events_by_order ON payment_events (order_id, at);

-- The payer's name is kept encrypted; the receipt shows it masked.
CREATE TABLE receipts (
    receipt_number TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE REFERENCES payment_orders (id),
    bill_id TEXT NOT NULL UNIQUE REFERENCES bills (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    payer_name_enc BLOB NOT NULL,
    lines TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    paid_at BIGINT NOT NULL,
    verify_code TEXT NOT NULL
);

-- Nonces of verified notifications: a nonce is accepted once.
CREATE TABLE notify_nonces (
    nonce TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);

-- The local payment provider's own state, as a separate system would keep it.
-- trade_state 'NOTPAY' | 'SUCCESS' | 'CLOSED'.
CREATE TABLE provider_orders (
    prepay_id TEXT PRIMARY KEY,
    out_trade_no TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    payee TEXT NOT NULL,
    amount_total BIGINT NOT NULL,
    notify_url TEXT NOT NULL,
    trade_state TEXT NOT NULL,
    transaction_id TEXT,
    success_time BIGINT,
    created_at BIGINT NOT NULL
);

-- Durable background work, claimed safely by several server processes.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    done_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (done_at, run_at);
