-- The call contract (issue 12).
-- Deadline mode: every idempotency record gets an operation id, so an answer that finished in the background
-- can be fetched by id (operations.get) as well as by replaying the call with its key.
ALTER TABLE idempotency ADD COLUMN operation_id TEXT;
CREATE UNIQUE INDEX idempotency_operation ON idempotency (tenant_id, operation_id);
