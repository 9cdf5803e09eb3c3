-- State of the voice actions (issue 4). No column holds a PAN or CVV: card facts are never stored (the
-- verification rows record which factor *kinds* matched, never the values the caller said).

-- A caller verified for one customer within one phone call (X-Call-Id), until expires_at.
CREATE TABLE caller_verifications (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    factors TEXT NOT NULL,
    verified_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX caller_verifications_lookup ON caller_verifications (tenant_id, call_id, customer_id);

-- Every verification attempt (success or not), so guessing can be limited per call and per customer.
CREATE TABLE verification_attempts (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    customer_id TEXT,
    succeeded INTEGER NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX verification_attempts_call ON verification_attempts (tenant_id, call_id);
CREATE INDEX verification_attempts_customer ON verification_attempts (tenant_id, customer_id);

-- Cases handed to a human. source_key ties a case to the request that created it (a retry finds it again);
-- delivery_state: 'delivered', 'pending' (being re-sent by the job queue), 'failed' (every retry refused) or
-- 'none' (no ops URL).
CREATE TABLE escalations (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    source_key TEXT NOT NULL,
    call_id TEXT,
    customer_id TEXT,
    payment_ids TEXT NOT NULL,
    reason TEXT NOT NULL,
    summary TEXT NOT NULL,
    delivery_state TEXT NOT NULL,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    delivered_at DOUBLE PRECISION,
    UNIQUE (tenant_id, reference),
    UNIQUE (tenant_id, source_key)
);

-- Refunds the gateway decided to make. The row is written *before* Stripe is called (state 'sending'), keyed
-- by the Stripe idempotency key: a retry after a crash finds the decision and re-sends the very same request
-- (Stripe replays it) instead of re-deciding against a charge that is already partly refunded.
CREATE TABLE gateway_refunds (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    op_key TEXT NOT NULL,
    customer_id TEXT,
    payment_intent_id TEXT,
    charge_id TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    state TEXT NOT NULL,
    refund_id TEXT,
    refund_status TEXT,
    call_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    UNIQUE (tenant_id, op_key)
);
CREATE INDEX gateway_refunds_customer ON gateway_refunds (tenant_id, customer_id, created_at);

-- Discount codes the gateway issued. Like refunds, the decision (code, expiry) is written before Stripe is
-- called, so a retry re-sends identical requests under the same idempotency keys (Stripe replays them).
CREATE TABLE coupons_issued (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    op_key TEXT NOT NULL,
    state TEXT NOT NULL,
    coupon_id TEXT,
    promotion_code_id TEXT,
    code TEXT NOT NULL,
    customer_id TEXT,
    percent_off DOUBLE PRECISION,
    amount_off BIGINT,
    currency TEXT,
    expires_at BIGINT NOT NULL,
    call_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    UNIQUE (tenant_id, op_key)
);
