-- Stripe webhook events, the durable job queue, per-object state for ordering, agent notifications.
-- Payloads are stored after redact_json: no column here holds a PAN or CVV.

CREATE TABLE webhook_events (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    object_id TEXT,
    livemode INTEGER NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL,
    payload TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    -- queued, processed, ignored (no handler), dead (retry budget spent)
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    processed_count INTEGER NOT NULL DEFAULT 0,
    processed_at DOUBLE PRECISION,
    last_error TEXT,
    UNIQUE (tenant_id, event_id)
);
CREATE INDEX webhook_events_received ON webhook_events (tenant_id, received_at);

-- One row per unit of background work. Claimed with FOR UPDATE SKIP LOCKED on PostgreSQL; a running job
-- whose lease has passed belongs to a crashed worker and is claimed again. Finished jobs are deleted.
CREATE TABLE jobs (
    id {serial_pk},
    kind TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    -- queued, running, dead
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at DOUBLE PRECISION NOT NULL,
    lease_until DOUBLE PRECISION,
    locked_by TEXT,
    last_error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- The last state we applied per Stripe object: events arrive out of order, and this is what stops an old
-- event from moving a refund or payment backwards.
CREATE TABLE stripe_objects (
    tenant_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    object_type TEXT NOT NULL,
    status TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    event_created DOUBLE PRECISION NOT NULL,
    event_id TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant_id, object_id)
);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    dedupe_key TEXT,
    body TEXT NOT NULL,
    -- pending, delivered, failed (schedule spent), skipped (no URL or secret configured)
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    delivered_at DOUBLE PRECISION,
    last_error TEXT,
    UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX notifications_created ON notifications (tenant_id, created_at);

CREATE TABLE notification_attempts (
    id {serial_pk},
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    attempt INTEGER NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL,
    status_code INTEGER,
    error TEXT
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, attempt);
