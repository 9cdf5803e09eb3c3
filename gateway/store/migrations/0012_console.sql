-- The operator console (issue 15): operators (people, separate from agent keys), their roles per tenant,
-- server-side console sessions, login-attempt counters, and the console's view of escalation cases.
-- No column holds card data: notes are redacted before they are stored.

-- password_hash: "scrypt$n$r$p$salt$hash" (base64), memory-hard, one salt per operator.
CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    disabled_at DOUBLE PRECISION
);

-- viewer < agent < admin, one role per tenant the operator may see.
CREATE TABLE operator_roles (
    operator_id TEXT NOT NULL REFERENCES operators (id),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    role TEXT NOT NULL,
    PRIMARY KEY (operator_id, tenant_id)
);

-- The cookie carries 256 random bits; only their SHA-256 is stored (a database read gives no live session).
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators (id),
    csrf_token TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- Login attempts per key (a username, a client address) in a fixed window, counted atomically.
CREATE TABLE console_login_attempts (
    attempt_key TEXT PRIMARY KEY,
    window_start DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL
);

-- The handling state of an escalation (no row: open).
CREATE TABLE console_cases (
    tenant_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    state TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at DOUBLE PRECISION,
    resolved_by TEXT,
    resolved_at DOUBLE PRECISION,
    PRIMARY KEY (tenant_id, reference)
);

CREATE TABLE console_case_notes (
    id {serial_pk},
    tenant_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    operator TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX console_case_notes_case ON console_case_notes (tenant_id, reference);
