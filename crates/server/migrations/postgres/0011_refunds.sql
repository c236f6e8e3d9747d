-- Refunds of money that reached a closed order (issue 22 item 10; see crates/server/src/payments/refunds.rs).
-- Keep in step with the other database's 0011_refunds.sql. Applied migrations are never edited.
-- The merchant side: when the provider confirmed the refund of an order.
ALTER TABLE payment_orders ADD COLUMN refunded_at BIGINT;

-- The local provider's refunds, in the shape of WeChat Pay's domestic refunds: one per out_refund_no.
CREATE TABLE provider_refunds (
    out_refund_no TEXT PRIMARY KEY,
    refund_id TEXT NOT NULL UNIQUE,
    out_trade_no TEXT NOT NULL REFERENCES provider_orders (out_trade_no),
    amount_refund BIGINT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
