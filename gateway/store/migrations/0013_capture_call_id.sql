-- The call a capture was started in (X-Call-Id), so its notifications carry call_id and reach that call's live
-- event stream (gateway/live.py) without a search through the audit log. NULL for captures started before.
ALTER TABLE capture_sessions ADD COLUMN call_id TEXT;
