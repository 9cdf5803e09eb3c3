-- Pay-by-link deliveries (payments.send_link): one row per link sent, its delivery state and attempts.
-- destination and url are kept only while the delivery may still be retried (the job queue re-sends from
-- them); they are cleared once it is sent or has failed for good. destination_masked stays for the record.
CREATE TABLE link_deliveries (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    source_key TEXT NOT NULL,
    call_id TEXT,
    checkout_session_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    destination_masked TEXT NOT NULL,
    destination TEXT,
    url TEXT,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    provider_message_id TEXT,
    last_error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    sent_at DOUBLE PRECISION,
    UNIQUE (tenant_id, source_key)
);
CREATE INDEX link_deliveries_session ON link_deliveries (tenant_id, checkout_session_id);
