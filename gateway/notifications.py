"""Agent notifications: outbound, signed, retried on a schedule, every attempt recorded, replayable.

API for other modules (webhook handlers, PCI Pal capture callbacks, escalations)::

    from gateway.notifications import emit_notification

    async with services.store.transaction() as tx:
        ...  # your own state change
        notification_id = await emit_notification(
            tx, tenant_id, "capture.succeeded",
            {"capture_id": "cap_...", "payment_intent": "pi_...", "amount": 1200, "currency": "gbp"},
            say="Thanks, the payment of £12.00 has gone through.",
            status="succeeded",
            dedupe_key="capture:cap_...:succeeded",
        )

``emit_notification(db, tenant_id, kind, data, say, *, status=None, dedupe_key=None) -> str``

* ``db`` is a transaction (or the store itself): pass your transaction so the notification exists if and
  only if your state change committed. Delivery happens later, in the background: emitting never waits on
  the network, so a receiver that is down slows nothing.
* ``kind`` is a dotted machine name (``refund.succeeded``, ``payment.failed``, ``dispute.opened``...);
  ``data`` is a small JSON object of ids and facts (it is passed through ``redact_json`` before storage);
  ``say`` is one sentence the bot can speak as is; ``status`` a plain word (``succeeded``, ``failed``...).
* ``dedupe_key`` makes emitting idempotent per tenant: a second call with the same key returns the first
  notification's id and sends nothing (use it whenever your code may run twice: retries, replays).

What the receiver (the tenant's ``notification_url``) gets: ``POST`` with JSON body ::

    {"id": "ntf_...", "type": "<kind>", "tenant": "<tenant id>", "created": <unix>, "status": "<word>",
     "say": "<sentence>", "data": {...}}

and headers ``Voicepay-Signature: t=<unix>,v1=<hex>`` where ``v1`` is HMAC-SHA256 of ``"{t}.{raw body}"``
keyed with the tenant's ``notification_secret`` (Stripe's scheme, so Stripe's verification code works with
the secret swapped), ``Voicepay-Notification-Id`` (dedupe on it: delivery is at least once) and
``Voicepay-Attempt``. ``data`` always carries ``call_id`` and ``customer_id`` (null when the gateway does not
know them), so the voice platform can route a notification to the live call: the emitter's own values win,
else they are looked up from what the gateway made (its refunds, its capture sessions) or taken from the
Stripe object's ``customer``. Any 2xx is success; anything else, a timeout or a connection error is retried after
``[notifications] retry_schedule_seconds`` (5 s, 30 s, 2 min, 10 min, 1 h, 6 h by default) and then marked
``failed``. Each attempt is a row in ``notification_attempts``. ``voicepay notifications list|replay``.
A tenant with no ``notification_url`` or ``notification_secret`` gets its notifications stored as
``skipped`` (never sent unsigned), replayable once configured.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import aiohttp

from adapters.stripe.signing import sign_header
from gateway import jobs, speech
from gateway.services import Services
from gateway.store import Executor, Store
from redaction import redact_json

log = logging.getLogger("voicepay.notifications")

#: Job kind for "deliver this notification"; ``ref`` is the notification id.
NOTIFY_JOB = "notification"
SIGNATURE_HEADER = "Voicepay-Signature"

__all__ = [
    "NOTIFY_JOB",
    "SIGNATURE_HEADER",
    "DeliveryFailed",
    "emit_notification",
    "list_notifications",
    "replay_notifications",
]


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx (the message is the status code or the error class only)."""


async def emit_notification(
    db: Executor,
    tenant_id: str,
    kind: str,
    data: dict[str, Any],
    say: str,
    *,
    status: str | None = None,
    dedupe_key: str | None = None,
) -> str:
    """Store a notification and queue its delivery; see the module docstring. Returns its id."""
    data = {**data, **await _known_context(db, tenant_id, data)}
    now = time.time()
    nid = "ntf_" + secrets.token_hex(12)
    body = {
        "id": nid,
        "type": kind,
        "tenant": tenant_id,
        "created": int(now),
        "status": status,
        "say": say,
        "say_ssml": speech.ssml(say),
        "data": redact_json(data),
    }
    row = await db.fetchone(
        "INSERT INTO notifications (id, tenant_id, kind, dedupe_key, body, state, attempts, created_at) "
        "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING id",
        nid,
        tenant_id,
        kind,
        dedupe_key,
        json.dumps(body, separators=(",", ":")),
        now,
    )
    if row is None:
        existing = await db.fetchone(
            "SELECT id FROM notifications WHERE tenant_id = ? AND dedupe_key = ?", tenant_id, dedupe_key
        )
        assert existing is not None
        return str(existing["id"])
    await jobs.enqueue(db, NOTIFY_JOB, tenant_id, nid)
    return nid


async def _known_context(db: Executor, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """``call_id`` / ``customer_id`` for a notification, where the gateway knows them."""
    known: dict[str, Any] = {"call_id": data.get("call_id"), "customer_id": data.get("customer_id")}
    if known["customer_id"] is None and isinstance(data.get("customer"), str):
        known["customer_id"] = data["customer"]
    if known["call_id"] is None or known["customer_id"] is None:
        row = None
        if isinstance(data.get("refund"), str):
            row = await db.fetchone(
                "SELECT call_id, customer_id FROM gateway_refunds WHERE tenant_id = ? AND refund_id = ?",
                tenant_id, data["refund"],
            )
        elif isinstance(data.get("capture_id"), str):
            row = await db.fetchone(
                "SELECT call_id, customer_id FROM capture_sessions WHERE tenant_id = ? AND id = ?", tenant_id,
                data["capture_id"],
            )
        if row is not None:
            for field in ("call_id", "customer_id"):
                if known[field] is None and row.get(field) is not None:
                    known[field] = str(row[field])
    return known


def make_delivery_job(services: Services) -> jobs.JobHandler:
    timeout = aiohttp.ClientTimeout(total=services.settings.notifications.timeout_seconds)

    async def deliver(job: jobs.Job) -> None:
        row = await services.store.fetchone(
            "SELECT id, tenant_id, body, state, attempts FROM notifications WHERE id = ?", job.ref
        )
        if row is None:
            raise jobs.PermanentJobError("notification row is gone")
        if row["state"] == "delivered":
            return
        tenant = services.settings.tenant(row["tenant_id"])
        url = tenant.notification_url if tenant is not None else None
        secret = tenant.notification_secret.reveal() if tenant and tenant.notification_secret else ""
        if not url or not secret:
            await services.store.execute(
                "UPDATE notifications SET state = 'skipped', last_error = ? WHERE id = ?",
                "no notification_url or notification_secret configured",
                row["id"],
            )
            return
        attempt = int(row["attempts"]) + 1
        body = str(row["body"]).encode("utf-8")
        started = time.time()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_header(body, [secret], int(started)),
            "Voicepay-Notification-Id": str(row["id"]),
            "Voicepay-Attempt": str(attempt),
            "User-Agent": "voicepay-gateway",
        }
        status_code: int | None = None
        error: str | None = None
        try:
            async with services.http.post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as resp:
                status_code = resp.status
                await resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = type(exc).__name__
        ok = status_code is not None and 200 <= status_code < 300
        if not ok and error is None:
            error = f"HTTP {status_code}"
        duration_ms = (time.time() - started) * 1000
        async with services.store.transaction() as tx:
            await tx.execute(
                "INSERT INTO notification_attempts (notification_id, attempt, started_at, duration_ms, status_code, "
                "error) VALUES (?, ?, ?, ?, ?, ?)",
                row["id"],
                attempt,
                started,
                duration_ms,
                status_code,
                error,
            )
            await tx.execute(
                "UPDATE notifications SET attempts = ?, state = ?, delivered_at = ?, last_error = ? WHERE id = ?",
                attempt,
                "delivered" if ok else "pending",
                time.time() if ok else None,
                error,
                row["id"],
            )
        services.metrics.notifications.labels("delivered" if ok else "retry").inc()
        if not ok:
            raise DeliveryFailed(error or "failed")

    return deliver


def make_delivery_failure_hook(services: Services) -> jobs.FailureHook:
    async def hook(job: jobs.Job, error: str, dead: bool) -> None:
        if dead:
            await services.store.execute(
                "UPDATE notifications SET state = 'failed' WHERE id = ? AND state = 'pending'", job.ref
            )
            log.warning("notification gave up after its retry schedule", extra={"notification_id": job.ref})
            services.metrics.notifications.labels("failed").inc()

    return hook


# --- operator functions (the CLI) ------------------------------------------------------------------------


async def list_notifications(
    store: Store, *, tenant_id: str | None = None, state: str | None = None, limit: int = 50,
    with_attempts: bool = False,
) -> list[dict[str, Any]]:
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if tenant_id is not None:
        where.append("tenant_id = ?")
        args.append(tenant_id)
    if state is not None:
        where.append("state = ?")
        args.append(state)
    rows = await store.fetchall(
        "SELECT id, tenant_id, kind, state, attempts, created_at, delivered_at, last_error, body "  # noqa: S608 (fixed fragments; values are bound parameters)
        f"FROM notifications WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC LIMIT ?",
        *args,
        limit,
    )
    for r in rows:
        r["body"] = json.loads(r["body"])
        if with_attempts:
            r["attempt_log"] = await store.fetchall(
                "SELECT attempt, started_at, duration_ms, status_code, error FROM notification_attempts "
                "WHERE notification_id = ? ORDER BY attempt, id",
                r["id"],
            )
    return rows


async def replay_notifications(
    store: Store, *, notification_id: str | None = None, since: float | None = None, tenant_id: str | None = None
) -> list[str]:
    """Send notifications again (the same id and body: receivers dedupe on the id). Returns the ids queued."""
    where, args = jobs.replay_selection("id", notification_id, "created_at", since, tenant_id)
    queued: list[str] = []
    async with store.transaction() as tx:
        rows = await tx.fetchall(f"SELECT id, tenant_id FROM notifications WHERE {where}", *args)  # noqa: S608 (fixed fragments; values are bound parameters)
        for r in rows:
            await jobs.requeue(tx, NOTIFY_JOB, r["tenant_id"], r["id"])
            await tx.execute("UPDATE notifications SET state = 'pending' WHERE id = ?", r["id"])
            queued.append(str(r["id"]))
    return queued
