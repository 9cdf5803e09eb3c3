-- The call contract (issue 12).
-- Deadline mode: every idempotency record gets an operation id, so an answer that finished in the background
-- can be fetched by id (operations.get) as well as by replaying the call with its key.
ALTER TABLE idempotency ADD COLUMN operation_id TEXT;
CREATE UNIQUE INDEX idempotency_operation ON idempotency (tenant_id, operation_id);

-- One case per problem: a case key per (call, reason, payments, or the customer when no payment is named),
-- unique per tenant, so a refund that escalated and the bot's own escalations.create for the same problem
-- share one case. NULL (no call id) never collides.
ALTER TABLE escalations ADD COLUMN case_key TEXT;
CREATE UNIQUE INDEX escalations_case ON escalations (tenant_id, case_key);

-- Notifications about a refund name its call and customer (looked up by refund id).
CREATE INDEX gateway_refunds_refund ON gateway_refunds (tenant_id, refund_id);
