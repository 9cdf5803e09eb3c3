-- Secure card capture (issue 6): one row per capture, and one row per distinct PCI Pal callback.
-- Neither table has a column that can hold a PAN or CVV: card data stops at brand and last4, and callbacks
-- are refused before anything is stored if their body carries a card number.

CREATE TABLE capture_sessions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    -- created, awaiting_caller, processing, succeeded, failed, canceled, expired
    state TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    customer_id TEXT,
    payment_intent_id TEXT,
    pcipal_session_id TEXT,
    pcipal_link_id TEXT,
    card_brand TEXT,
    card_last4 TEXT,
    -- what the PCI Pal callback reported (success, declined, hangup, ...), before Stripe confirmation
    callback_result TEXT,
    failure_code TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX capture_sessions_pi ON capture_sessions (tenant_id, payment_intent_id);
CREATE INDEX capture_sessions_pcipal ON capture_sessions (tenant_id, pcipal_session_id);
CREATE INDEX capture_sessions_due ON capture_sessions (state, expires_at);

-- Dedupe: PCI Pal retries a callback until it gets a 2xx, and may deliver the same one twice. The key is the
-- session plus its result, so a repeat is acknowledged without being processed again.
CREATE TABLE capture_callbacks (
    tenant_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    capture_id TEXT NOT NULL,
    result TEXT NOT NULL,
    -- the callback's fields with card numbers, CVV-like and expiry values removed (JSON)
    fields_redacted TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant_id, dedupe_key)
);
