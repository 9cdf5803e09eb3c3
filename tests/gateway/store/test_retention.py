from __future__ import annotations

import time

from gateway import retention
from gateway.settings import RetentionSettings
from gateway.store import open_store

DAY = 86400.0


async def test_only_finished_records_past_their_retention_are_deleted(store_url):
    store = await open_store(store_url)
    now = time.time()
    old, recent = now - 40 * DAY, now - 1 * DAY
    try:
        await store.migrate()
        for n, (status, at) in enumerate([("processed", old), ("ignored", old), ("dead", old), ("processed", recent)]):
            await store.execute(
                "INSERT INTO webhook_events (tenant_id, event_id, type, created, payload, received_at, status) "
                "VALUES ('acme', ?, 'refund.updated', ?, '{}', ?, ?)",
                f"evt_{n}", at, at, status,
            )
        for nid, state, at in [("n_old", "delivered", old), ("n_pending", "pending", old), ("n_new", "failed", recent)]:
            await store.execute(
                "INSERT INTO notifications (id, tenant_id, kind, dedupe_key, body, state, created_at) "
                "VALUES (?, 'acme', 'k', ?, '{}', ?, ?)",
                nid, nid, state, at,
            )
            await store.execute(
                "INSERT INTO notification_attempts (notification_id, attempt, started_at, duration_ms) "
                "VALUES (?, 1, ?, 1.0)",
                nid, at,
            )
        await store.execute(
            "INSERT INTO caller_verifications (tenant_id, call_id, customer_id, factors, verified_at, expires_at) "
            "VALUES ('acme', 'CA1', 'cus_1', '[]', ?, ?), ('acme', 'CA2', 'cus_2', '[]', ?, ?)",
            old, old + 900, now, now + 900,
        )
        removed = await retention.prune(store, RetentionSettings(operational_days=30, verification_days=1), now=now)
        assert removed == {
            "webhook_events": 2, "notification_attempts": 1, "notifications": 1, "caller_verifications": 1,
        }
        events = await store.fetchall("SELECT event_id FROM webhook_events ORDER BY event_id")
        assert [e["event_id"] for e in events] == ["evt_2", "evt_3"]  # dead-lettered and recent ones stay
        notes = await store.fetchall("SELECT id FROM notifications ORDER BY id")
        assert [n["id"] for n in notes] == ["n_new", "n_pending"]  # still being delivered, or recent
        assert await retention.prune(store, RetentionSettings(), now=now) == {}
    finally:
        await store.close()
