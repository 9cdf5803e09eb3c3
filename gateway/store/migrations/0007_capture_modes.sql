-- Capture modes (issue 16): in adopt_theirs mode PCI Pal's own PaymentIntent becomes the capture's payment of
-- record (payment_intent_id) while the intent the gateway created is kept here, to be cancelled and to
-- still match Stripe's webhooks for it. In the other modes both columns hold the same id.
-- States gain late_succeeded (issue 11): a PaymentIntent that succeeded after the capture ended as failed,
-- canceled or expired; the column type is unchanged (TEXT).
ALTER TABLE capture_sessions ADD COLUMN own_payment_intent_id TEXT;
CREATE INDEX capture_sessions_own_pi ON capture_sessions (tenant_id, own_payment_intent_id);
UPDATE capture_sessions SET own_payment_intent_id = payment_intent_id WHERE own_payment_intent_id IS NULL;
