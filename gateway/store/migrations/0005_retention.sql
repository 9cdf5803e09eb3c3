-- Indexes for the retention pruning in gateway/retention.py (each prune is a range delete on a time column).
CREATE INDEX webhook_events_received_all ON webhook_events (received_at);
CREATE INDEX notifications_created_all ON notifications (created_at);
CREATE INDEX stripe_objects_updated ON stripe_objects (updated_at);
CREATE INDEX capture_callbacks_received ON capture_callbacks (received_at);
CREATE INDEX caller_verifications_expires ON caller_verifications (expires_at);
CREATE INDEX verification_attempts_created ON verification_attempts (created_at);
