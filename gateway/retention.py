"""Deleting operational records once they have served their purpose (data minimisation).

What goes, and when, is set by ``[retention]``; see :class:`gateway.settings.RetentionSettings`. Only
finished work is deleted: an event still queued or dead-lettered, or a notification still being delivered,
stays until it is done or replayed.
"""

from __future__ import annotations

import time

from gateway.settings import RetentionSettings
from gateway.store import Store

DAY = 86400.0


async def prune(store: Store, policy: RetentionSettings, now: float | None = None) -> dict[str, int]:
    """Delete expired records; returns the number deleted per table."""
    now = time.time() if now is None else now
    old = now - policy.operational_days * DAY
    stale = now - policy.verification_days * DAY
    removed: dict[str, int] = {}
    async with store.transaction() as tx:
        removed["webhook_events"] = await tx.execute(
            "DELETE FROM webhook_events WHERE received_at < ? AND status IN ('processed', 'ignored')", old
        )
        removed["notification_attempts"] = await tx.execute(
            "DELETE FROM notification_attempts WHERE notification_id IN (SELECT id FROM notifications "
            "WHERE created_at < ? AND state IN ('delivered', 'skipped', 'failed'))",
            old,
        )
        removed["notifications"] = await tx.execute(
            "DELETE FROM notifications WHERE created_at < ? AND state IN ('delivered', 'skipped', 'failed')",
            old,
        )
        removed["stripe_objects"] = await tx.execute("DELETE FROM stripe_objects WHERE updated_at < ?", old)
        removed["capture_callbacks"] = await tx.execute("DELETE FROM capture_callbacks WHERE received_at < ?", old)
        removed["caller_verifications"] = await tx.execute(
            "DELETE FROM caller_verifications WHERE expires_at < ?", stale
        )
        removed["verification_attempts"] = await tx.execute(
            "DELETE FROM verification_attempts WHERE created_at < ?", stale
        )
    return {table: n for table, n in removed.items() if n}
