"""Stripe webhooks: ``POST /v1/webhooks/stripe/{tenant}``, and the background runtime that processes them.

Ingestion (the route) does as little as possible, and in this order:

1. read the raw body, at most ``[webhooks] max_body_bytes`` (413 above);
2. verify ``Stripe-Signature`` against every active signing secret of the tenant (rotation), with the
   timestamp tolerance applied in both directions (:func:`adapters.stripe.signing.verify_header`). Unsigned,
   forged, stale, future or malformed: 400 ``invalid_signature``, and one log line with the reason, never
   the body or the header. An unknown tenant gets exactly the same answer (and the same HMAC work, against
   a throwaway secret), so the endpoint cannot be used to discover tenant ids;
3. parse the event (a signed body that is not an event: 400 ``invalid_event``);
4. in **one transaction**: insert the event (payload through ``redact_json``) under
   ``UNIQUE (tenant_id, event_id)`` and enqueue its job. A duplicate delivery hits the unique key, bumps a
   delivery counter and enqueues nothing;
5. only then answer 200. Stripe retries anything else, so an event is never acknowledged unless stored.

Event types without a handler are stored as ``ignored`` and acknowledged: Stripe sends what the endpoint
subscribes to, and an unexpected type is not an error.

Processing happens in a :class:`gateway.jobs.Worker` started with the app (``[webhooks] worker_enabled``):
one worker for events and another for notification deliveries, so a slow or dead notification receiver
never delays event processing, and neither ever delays ingestion.

Operators: ``voicepay webhooks list|show|replay`` (:func:`list_events`, :func:`get_event`,
:func:`replay_events`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.stripe.signing import SignatureError, verify_header
from adapters.stripe.versions import event_version_decision
from gateway import errors, jobs, speech
from gateway.bodies import check_json_depth, read_body
from gateway.middlewares import REQUEST_ID, json_ok
from gateway.services import SERVICES, Services
from gateway.settings import TenantSettings
from gateway.store import Executor, Store, StoreError
from redaction import redact, redact_json

log = logging.getLogger("voicepay.webhooks")

#: Job kind for "process this stored Stripe event"; ``ref`` is the ``webhook_events.id``.
EVENT_JOB = "stripe_event"

# Stripe ids are short ASCII tokens; anything else in the id field means the body is not an event.
_EVENT_ID = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_EVENT_TYPE = re.compile(r"^[a-z0-9_.]{1,255}$")


class InvalidSignature(errors.BadRequest):
    code = "invalid_signature"
    default_message = "The Stripe-Signature header does not verify."


class InvalidEvent(errors.BadRequest):
    code = "invalid_event"
    default_message = "The body is not a Stripe event."


@dataclass
class WebhookRuntime:
    """What the route needs beyond :class:`Services`: the workers to wake after an enqueue."""

    event_worker: jobs.Worker | None = None
    notification_worker: jobs.Worker | None = None

    def wake(self) -> None:
        if self.event_worker is not None:
            self.event_worker.wake()


WEBHOOKS = web.AppKey("webhooks", WebhookRuntime)


# --- ingestion -------------------------------------------------------------------------------------------


def _verify(body: bytes, header: str | None, tenant: TenantSettings | None, tolerance: int) -> None:
    active = [s.reveal() for s in tenant.stripe_webhook_secrets] if tenant is not None else []
    active = [s for s in active if s]
    # No tenant (or no secret): do the same work against a random secret, so neither the answer nor its
    # timing tells a prober which tenant ids exist.
    verify_header(body, header, active or ["whsec_" + secrets.token_hex(16)], tolerance=tolerance)
    if not active:
        raise SignatureError("no_match")


def _parse_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidEvent() from None
    if not isinstance(event, dict):
        raise InvalidEvent()
    eid, etype, created = event.get("id"), event.get("type"), event.get("created")
    if not (isinstance(eid, str) and _EVENT_ID.match(eid)):
        raise InvalidEvent()
    if not (isinstance(etype, str) and _EVENT_TYPE.match(etype)):
        raise InvalidEvent()
    if not isinstance(created, int | float) or isinstance(created, bool):
        raise InvalidEvent()
    return event


def event_object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


async def store_event(db: Executor, tenant_id: str, event: dict[str, Any], *, handled: bool) -> int | None:
    """Insert the (redacted) event and, if it has a handler, its job. ``None`` for a duplicate."""
    obj = event_object(event)
    # The ids go to their own columns, so they pass through the redactor like the payload does: Stripe's ids
    # never look like a card number, but a signed body is still input, and no column may hold a PAN.
    event_id, event_type = redact(str(event["id"])), redact(str(event["type"]))
    object_id = redact(obj["id"]) if isinstance(obj.get("id"), str) else None
    payload = json.dumps(redact_json(event), separators=(",", ":"), sort_keys=True)
    now = time.time()
    row = await db.fetchone(
        "INSERT INTO webhook_events (tenant_id, event_id, type, object_id, livemode, created, payload, "
        "received_at, deliveries, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
        "ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING id",
        tenant_id,
        event_id,
        event_type,
        object_id,
        1 if event.get("livemode") is True else 0,
        float(event["created"]),
        payload,
        now,
        "queued" if handled else "ignored",
    )
    if row is None:
        await db.execute(
            "UPDATE webhook_events SET deliveries = deliveries + 1 WHERE tenant_id = ? AND event_id = ?",
            tenant_id,
            event_id,
        )
        return None
    if handled:
        await jobs.enqueue(db, EVENT_JOB, tenant_id, str(row["id"]))
    return int(row["id"])


async def stripe_webhook(request: web.Request) -> web.Response:
    from gateway.handlers import HANDLERS
    services: Services = request.app[SERVICES]
    cfg = services.settings.webhooks
    tenant_id = request.match_info["tenant"]
    tenant = services.settings.tenant(tenant_id)
    body = await read_body(request, cfg.max_body_bytes)
    try:
        _verify(body, request.headers.get("Stripe-Signature"), tenant, cfg.tolerance_seconds)
    except (SignatureError, ValueError, UnicodeError) as exc:
        # A header the parser chokes on is a malformed header (400), never a 500 with a traceback.
        reason = exc.reason if isinstance(exc, SignatureError) else "malformed_header"
        # The reason only: never the body, the header, or whether the tenant exists.
        log.warning("stripe webhook rejected", extra={"reason": reason, "size": len(body)})
        # Label: a configured tenant id or "unknown", never the raw path segment (no free text in labels).
        services.metrics.webhook_verification_failures.labels(tenant.id if tenant else "unknown").inc()
        raise InvalidSignature() from None
    check_json_depth(body, services.settings.http.max_json_depth)
    event = _parse_event(body)
    has_handler = event["type"] in HANDLERS
    refuse = _api_version_refused(services, tenant_id, event) if has_handler else None
    async with services.store.transaction() as tx:
        row_id = await store_event(tx, tenant_id, event, handled=has_handler and refuse is None)
        if row_id is not None and refuse is not None:
            # Stored and acknowledged (Stripe would otherwise retry for days) but never processed: a handler
            # reading another release's shapes could silently drop fields. Replay once the endpoint is fixed.
            await tx.execute(
                "UPDATE webhook_events SET status = 'dead', last_error = ? WHERE id = ?", refuse, row_id
            )
    duplicate = row_id is None
    log.info(
        "stripe webhook stored",
        extra={"tenant": tenant_id, "event_id": event["id"], "type": event["type"], "duplicate": duplicate},
    )
    if not duplicate:
        runtime = request.app.get(WEBHOOKS)
        if runtime is not None:
            runtime.wake()
    return json_ok({"ok": True, "received": True, "duplicate": duplicate}, request[REQUEST_ID])


def _api_version_refused(services: Services, tenant_id: str, event: dict[str, Any]) -> str | None:
    """The documented rule of adapters/stripe/versions.py; returns the dead-letter reason, or None to handle."""
    configured = services.settings.stripe.api_version
    got = event.get("api_version")
    decision = event_version_decision(got, configured)
    if decision == "same":
        return None
    shown = redact(str(got))[:40] if got is not None else "none"
    label = "handled" if decision == "same_release" else "refused"
    services.metrics.webhook_api_version_mismatch.labels(tenant_id, label).inc()
    if decision == "same_release":
        log.warning(
            "stripe event in another API version of the same release: handled",
            extra={"tenant": tenant_id, "event_id": event["id"], "api_version": shown, "configured": configured},
        )
        return None
    log.error(
        "stripe event in an API version of another release: stored, not processed (dead letter); re-create "
        "the webhook endpoint at the configured version, then replay",
        extra={"tenant": tenant_id, "event_id": event["id"], "api_version": shown, "configured": configured},
    )
    return f"api_version {shown} is not of the configured release ({configured}); not processed"


# --- processing ------------------------------------------------------------------------------------------


def make_event_job(services: Services) -> jobs.JobHandler:
    from gateway.handlers import HANDLERS, HandlerContext, StoredEvent

    async def run(job: jobs.Job) -> None:
        row = await services.store.fetchone("SELECT * FROM webhook_events WHERE id = ?", int(job.ref))
        if row is None:
            raise jobs.PermanentJobError("event row is gone")
        await services.store.execute(
            "UPDATE webhook_events SET attempts = attempts + 1 WHERE id = ?", row["id"]
        )
        tenant = services.settings.tenant(row["tenant_id"])
        handler = HANDLERS.get(row["type"])
        if tenant is None or handler is None:
            status = "ignored"
        else:
            event = StoredEvent.from_row(row)
            # A webhook has no caller: its notifications speak the tenant's language (gateway/speech.py).
            with speech.using(tenant.locale):
                await handler(HandlerContext(services, tenant, event), event)
            status = "processed"
        await services.store.execute(
            "UPDATE webhook_events SET status = ?, processed_at = ?, processed_count = processed_count + 1, "
            "last_error = NULL WHERE id = ?",
            status,
            time.time(),
            row["id"],
        )

    return run


def make_event_failure_hook(services: Services) -> jobs.FailureHook:
    async def hook(job: jobs.Job, error: str, dead: bool) -> None:
        await services.store.execute(
            "UPDATE webhook_events SET last_error = ?, status = ? WHERE id = ?",
            error[:300],
            "dead" if dead else "queued",
            int(job.ref),
        )

    return hook


def build_workers(services: Services) -> WebhookRuntime:
    from gateway.actions.escalations import (
        ESCALATION_JOB,
        make_escalation_delivery_job,
        make_escalation_failure_hook,
    )
    from gateway.notifications import NOTIFY_JOB, make_delivery_failure_hook, make_delivery_job
    from gateway.senders import LINK_JOB, make_link_delivery_job, make_link_failure_hook

    w, n = services.settings.webhooks, services.settings.notifications
    event_worker = jobs.Worker(
        services.store,
        {EVENT_JOB: make_event_job(services)},
        retry={EVENT_JOB: jobs.exponential_backoff(w.job_max_attempts, w.retry_base_seconds, w.retry_max_seconds)},
        on_failure={EVENT_JOB: make_event_failure_hook(services)},
        concurrency=w.worker_concurrency,
        poll_interval=w.poll_interval_seconds,
        lease_seconds=w.job_lease_seconds,
        stop_timeout=w.stop_timeout_seconds,
        name="events",
    )
    schedule = jobs.schedule_backoff(n.retry_schedule_seconds)
    # Outbound deliveries (agent notifications, cases for the ops desk) share one worker and one schedule.
    notification_worker = jobs.Worker(
        services.store,
        {NOTIFY_JOB: make_delivery_job(services), ESCALATION_JOB: make_escalation_delivery_job(services),
         LINK_JOB: make_link_delivery_job(services)},
        retry={NOTIFY_JOB: schedule, ESCALATION_JOB: schedule, LINK_JOB: schedule},
        on_failure={
            NOTIFY_JOB: make_delivery_failure_hook(services),
            ESCALATION_JOB: make_escalation_failure_hook(services),
            LINK_JOB: make_link_failure_hook(services),
        },
        concurrency=n.worker_concurrency,
        poll_interval=w.poll_interval_seconds,
        lease_seconds=max(w.job_lease_seconds, n.timeout_seconds * 4),
        stop_timeout=w.stop_timeout_seconds,
        name="notifications",
    )
    return WebhookRuntime(event_worker, notification_worker)


async def webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the workers after the services exist; stop them (gracefully) before the services close."""
    services = app[SERVICES]
    if not services.settings.webhooks.worker_enabled:
        app[WEBHOOKS] = WebhookRuntime()
        yield
        return
    runtime = build_workers(services)
    app[WEBHOOKS] = runtime
    assert runtime.event_worker is not None
    assert runtime.notification_worker is not None
    runtime.event_worker.start()
    runtime.notification_worker.start()
    try:
        yield
    finally:
        await runtime.event_worker.stop()
        await runtime.notification_worker.stop()


# --- operator functions (the CLI) ------------------------------------------------------------------------

_LIST_COLUMNS = (
    "event_id, tenant_id, type, object_id, status, deliveries, attempts, processed_count, created, received_at, "
    "processed_at, last_error"
)


async def list_events(
    store: Store, *, tenant_id: str | None = None, status: str | None = None, since: float | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if tenant_id is not None:
        where.append("tenant_id = ?")
        args.append(tenant_id)
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if since is not None:
        where.append("received_at >= ?")
        args.append(since)
    return await store.fetchall(
        f"SELECT {_LIST_COLUMNS} FROM webhook_events WHERE {' AND '.join(where)} ORDER BY received_at DESC, id DESC "  # noqa: S608 (fixed fragments; values are bound parameters)
        "LIMIT ?",
        *args,
        limit,
    )


async def get_event(store: Store, event_id: str, *, tenant_id: str | None = None) -> dict[str, Any] | None:
    sql = "SELECT * FROM webhook_events WHERE event_id = ?"
    args: list[Any] = [event_id]
    if tenant_id is not None:
        sql += " AND tenant_id = ?"
        args.append(tenant_id)
    row = await store.fetchone(sql + " ORDER BY id LIMIT 1", *args)
    if row is not None:
        row["payload"] = json.loads(row["payload"])
    return row


async def replay_events(
    store: Store, *, event_id: str | None = None, since: float | None = None, tenant_id: str | None = None
) -> list[str]:
    """Queue stored events for processing again (dead-lettered ones, or after fixing a handler).

    Handlers are idempotent, so replaying an already-processed event re-applies nothing that is already in
    place and sends no second notification for the same change. Returns the event ids queued.
    """
    where, args = jobs.replay_selection("event_id", event_id, "received_at", since, tenant_id)
    queued: list[str] = []
    async with store.transaction() as tx:
        rows = await tx.fetchall(
            f"SELECT id, tenant_id, event_id FROM webhook_events WHERE {where} ORDER BY id", *args  # noqa: S608 (fixed fragments; values are bound parameters)
        )
        for r in rows:
            # One live job per event: a replay of an event already waiting in the queue changes nothing.
            await jobs.requeue(tx, EVENT_JOB, r["tenant_id"], str(r["id"]))
            await tx.execute("UPDATE webhook_events SET status = 'queued', last_error = NULL WHERE id = ?", r["id"])
            queued.append(r["event_id"])
    return queued


__all__ = [
    "EVENT_JOB",
    "WEBHOOKS",
    "InvalidEvent",
    "InvalidSignature",
    "StoreError",
    "WebhookRuntime",
    "get_event",
    "list_events",
    "replay_events",
    "store_event",
    "stripe_webhook",
    "webhooks_ctx",
]
