-- Foundation: tenants, agent keys, idempotency records, the hash-chained audit log.
-- No column here can hold a PAN or CVV: params are stored redacted, responses are built by the gateway.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);

-- Keys are stored as SHA-256 of 256 random bits: unguessable, so no slow hash is needed; the key id is the
-- lookup handle and is not secret.
CREATE TABLE agent_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    key_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION
);

CREATE TABLE idempotency (
    tenant_id TEXT NOT NULL,
    action TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    lease_until DOUBLE PRECISION NOT NULL,
    status_code INTEGER,
    response TEXT,
    request_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant_id, action, idem_key)
);
CREATE INDEX idempotency_expires ON idempotency (expires_at);

-- One row per tenant: the head of its audit chain. Updating it first serialises concurrent writers.
CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_log (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    agent_key_id TEXT,
    action TEXT NOT NULL,
    params TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error_code TEXT,
    provider_ids TEXT NOT NULL,
    request_id TEXT NOT NULL,
    call_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    UNIQUE (tenant_id, seq)
);
