-- Limits counted inside a locked transaction (gateway/actions/_limits.py): the count must be an index range
-- scan, since every request for the same call or customer waits for it. Failed verification attempts are
-- counted per call and per customer within a time window.
CREATE INDEX verification_attempts_call_window ON verification_attempts (tenant_id, call_id, created_at);
CREATE INDEX verification_attempts_customer_window ON verification_attempts (tenant_id, customer_id, created_at);
