"""The reconciler: settles writes left in doubt.

A refund, coupon or capture launch whose answer was lost (the gateway killed after Stripe accepted it, a
timeout after sending) leaves its idempotency record in flight (``in_flight``; under deadline mode a call
answered ``pending`` is ``pending`` while it runs and ``retry`` if it ended retryable): the decision is written down
(``gateway_refunds`` / ``coupons_issued`` / ``capture_sessions`` in ``sending`` or ``created``) but nobody
heard the outcome. Normally the bot retries with the same key and the retry settles it. When the caller hung
up, nobody retries, and the records, the notifications and the audit trail would disagree with Stripe for
ever. This module finishes such writes itself:

* **Find**: every instance scans, every ``reconcile.interval_seconds``, for records of the write actions below
  whose lease passed more than ``reconcile.grace_seconds`` ago (the bot's own retry comes first), and queues
  one ``reconcile`` job per record in the durable job queue (``gateway/jobs.py``: ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so retries, backoff and dead letters are the queue's.
* **Claim**: the job takes over the record's lease in ONE conditional ``UPDATE`` (``lease_until < now``), the
  same guard a bot retry passes, so two instances (or a reconciler and a late bot retry) never both send.
* **Settle**: re-send exactly the stored decision with the SAME provider idempotency keys
  (``ActionContext.provider_key`` derived from the record): Stripe replays what it already did, so there is
  never a second refund, coupon or PaymentIntent. A PCI Pal launch runs only while the capture has no
  session (PCI Pal launches are not idempotent). A record whose decision was never written (the crash came
  before anything was sent) is released: nothing happened, and a retry decides afresh.
* **Record**: the answer is stored on the idempotency record (a later retry by the bot replays it), an audit
  row is appended in the same transaction, and the bot's platform gets one notification
  (``action.settled``, deduplicated per record).
* **Escalate**: a record that cannot be settled after ``reconcile.max_attempts`` (Stripe down, the PCI Pal
  launch failing) becomes an escalation for the ops desk, once per record.

Metrics: ``voicepay_reconcile_backlog`` (records in doubt past the grace period, read from the shared store:
aggregate with ``max``) and ``voicepay_reconcile_total{action,outcome}``; alert rules in
``deploy/prometheus/alerts.yaml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import BaseModel

from gateway import jobs
from gateway.actions.base import Action, ActionContext, ActionOutput
from gateway.audit import record as audit_record
from gateway.auth import AgentIdentity
from gateway.notifications import emit_notification
from gateway.routes import SERVICES
from gateway.store import Executor, StoreError

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.settings import TenantSettings

log = logging.getLogger("voicepay.reconciler")

#: Job kind; ``ref`` is ``tenant \x1f action \x1f idempotency key``.
RECONCILE_JOB = "reconcile"
#: The write actions whose in-doubt records the reconciler can settle.
ACTIONS = ("refunds.create", "coupons.create", "capture.start")
_SEP = "\x1f"


class ReconcileMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.backlog = Gauge(
            "voicepay_reconcile_backlog",
            "Writes in doubt (answer lost, no retry) past the grace period, waiting for the reconciler.",
            registry=registry,
        )
        self.settled = Counter(
            "voicepay_reconcile",
            "Records the reconciler finished, by action and outcome (settled, released, escalated, retry).",
            ["action", "outcome"],
            registry=registry,
        )


class NotSettledYet(Exception):
    """The record could not be settled on this attempt (provider down, outcome still unknown, record busy)."""


@dataclass(frozen=True, slots=True)
class InDoubt:
    tenant_id: str
    action: str
    idem_key: str

    @property
    def ref(self) -> str:
        return _SEP.join((self.tenant_id, self.action, self.idem_key))

    @classmethod
    def from_ref(cls, ref: str) -> InDoubt:
        tenant_id, action, key = ref.split(_SEP, 2)
        return cls(tenant_id, action, key)


# --- find ----------------------------------------------------------------------------------------------


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


async def in_doubt(db: Executor, *, grace: float, now: float | None = None, limit: int = 500) -> list[InDoubt]:
    t = time.time() if now is None else now
    rows = await db.fetchall(
        "SELECT tenant_id, action, idem_key FROM idempotency WHERE state IN ('in_flight', 'pending', 'retry') "  # noqa: S608 (placeholders only)
        f"AND action IN ({_marks(len(ACTIONS))}) AND lease_until < ? ORDER BY lease_until LIMIT ?",
        *ACTIONS,
        t - grace,
        limit,
    )
    return [InDoubt(r["tenant_id"], r["action"], r["idem_key"]) for r in rows]


async def backlog(db: Executor, *, grace: float, now: float | None = None) -> int:
    t = time.time() if now is None else now
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM idempotency WHERE state IN ('in_flight', 'pending', 'retry') "  # noqa: S608 (placeholders only)
        f"AND action IN ({_marks(len(ACTIONS))}) AND lease_until < ?",
        *ACTIONS,
        t - grace,
    )
    return int(row["n"]) if row else 0


async def scan(services: Services, *, now: float | None = None) -> int:
    """Queue a reconcile job for every record in doubt that has none yet; returns how many were queued.

    Two instances scanning at once may both queue one: harmless, the claim below lets only one of them act."""
    grace = services.settings.reconcile.grace_seconds
    queued = 0
    for item in await in_doubt(services.store, grace=grace, now=now):
        if services.settings.tenant(item.tenant_id) is None:
            continue
        existing = await services.store.fetchone(
            "SELECT id FROM jobs WHERE kind = ? AND ref = ?", RECONCILE_JOB, item.ref
        )
        if existing is None:
            await jobs.enqueue(services.store, RECONCILE_JOB, item.tenant_id, item.ref)
            queued += 1
    return queued


async def claim(services: Services, item: InDoubt, worker: str, *, now: float | None = None) -> bool:
    """Take over the record's lease in one statement: true for exactly one claimant."""
    t = time.time() if now is None else now
    lease = services.settings.idempotency.lease_seconds
    n = await services.store.execute(
        "UPDATE idempotency SET state = 'in_flight', lease_until = ?, request_id = ? WHERE tenant_id = ? AND "
        "action = ? AND idem_key = ? AND state IN ('in_flight', 'pending', 'retry') AND lease_until < ?",
        t + max(lease, services.settings.server.request_timeout * 2),
        worker,
        item.tenant_id,
        item.action,
        item.idem_key,
        t,
    )
    return n > 0


# --- settle --------------------------------------------------------------------------------------------


class _Resend(Action):
    """Runs one stored decision again through the action pipeline's error mapping (``dispatch._run``)."""

    name: ClassVar[str] = "reconcile"
    description: ClassVar[str] = "internal"
    writes: ClassVar[bool] = True
    Params = BaseModel
    Result = BaseModel

    def __init__(self, action: str, step: Any) -> None:
        self._action = action
        self._step = step

    async def run(self, ctx: ActionContext, params: Any) -> ActionOutput:
        out: ActionOutput = await self._step()
        return out


def _context(services: Services, tenant: TenantSettings, item: InDoubt, request_id: str,
             call_id: str | None) -> ActionContext:
    identity = AgentIdentity(key_id="reconciler", tenant_id=tenant.id, scopes=frozenset())
    return ActionContext(
        services=services,
        tenant=tenant,
        identity=identity,
        action=item.action,
        request_id=request_id,
        call_id=call_id,
        idempotency_key=item.idem_key,
    )


async def _stored_step(ctx: ActionContext, item: InDoubt) -> Any | None:
    """The coroutine factory that re-sends the stored decision, or None when nothing was ever sent."""
    store = ctx.services.store
    if item.action == "refunds.create":
        from gateway.actions.refunds import RefundsCreate

        row = await store.fetchone(
            "SELECT * FROM gateway_refunds WHERE tenant_id = ? AND op_key = ?", ctx.tenant.id,
            ctx.provider_key("refund"),
        )
        if row is None or row["state"] not in ("sending", "created"):
            return None
        ctx.call_id = row["call_id"]
        return lambda: RefundsCreate()._send(ctx, dict(row), payment=None)
    if item.action == "coupons.create":
        from gateway.actions.coupons import CouponsCreate

        row = await store.fetchone(
            "SELECT * FROM coupons_issued WHERE tenant_id = ? AND op_key = ?", ctx.tenant.id,
            ctx.provider_key("coupon"),
        )
        if row is None:
            return None
        ctx.call_id = row["call_id"]
        return lambda: CouponsCreate()._send(ctx, dict(row))
    if item.action == "capture.start":
        from gateway import captures
        from gateway.actions.capture import CaptureStart, StartParams

        cap = await captures.get(store, ctx.tenant.id, captures.capture_id_for(ctx.provider_key("pi")))
        if cap is None or (cap.final and cap.pcipal_session_id is None):
            return None
        params = StartParams(amount=cap.amount, currency=cap.currency, description=cap.description or "payment",
                             customer_id=cap.customer_id)
        return lambda: CaptureStart().run(ctx, params)
    return None


def _source_key(item: InDoubt) -> str:
    return "reconcile:" + hashlib.sha256(item.ref.encode()).hexdigest()[:40]


def make_reconcile_job(services: Services, metrics: ReconcileMetrics | None) -> jobs.JobHandler:
    from gateway.dispatch import _run

    async def run(job: jobs.Job) -> None:
        item = InDoubt.from_ref(job.ref)
        tenant = services.settings.tenant(item.tenant_id)
        if tenant is None:
            raise jobs.PermanentJobError("tenant no longer configured")
        request_id = "rcn_" + secrets.token_hex(10)
        if not await claim(services, item, request_id):
            row = await services.store.fetchone(
                "SELECT state FROM idempotency WHERE tenant_id = ? AND action = ? AND idem_key = ?",
                item.tenant_id, item.action, item.idem_key,
            )
            if row is None or row["state"] == "done":
                return  # settled meanwhile (a retry by the bot, another instance): nothing to do
            raise NotSettledYet("the record is held by a live request")
        ctx = _context(services, tenant, item, request_id, None)
        step = await _stored_step(ctx, item)
        if step is None:
            # Nothing was sent to a provider: release the key, a retry decides afresh.
            await services.idempotency.release(item.tenant_id, item.action, item.idem_key)
            if metrics:
                metrics.settled.labels(item.action, "released").inc()
            log.info("reconciler released a write that never reached a provider", extra={"action": item.action})
            return
        action = cast(Action, _Resend(item.action, step))
        status, payload, retryable, entry, _headers = await _run(action, ctx, None, {"reconciled": True})
        if retryable:
            await services.idempotency.leave_in_doubt(item.tenant_id, item.action, item.idem_key)
            if metrics:
                metrics.settled.labels(item.action, "retry").inc()
            raise NotSettledYet(f"still unsettled: {payload.get('error', {}).get('code', 'error')}")
        entry = replace(entry, action=item.action, agent_key_id=None, call_id=ctx.call_id,
                        provider_ids={**entry.provider_ids, "reconciled": True})
        result = payload.get("result") if payload.get("ok") else None
        say = str(payload.get("say") or payload.get("error", {}).get("say") or "")

        async def finish(tx: Executor) -> None:
            await services.idempotency.complete(tenant.id, item.action, item.idem_key, status, payload, db=tx)
            await emit_notification(
                tx, tenant.id, "action.settled",
                {"action": item.action, "call_id": ctx.call_id, "result": result,
                 "error": None if payload.get("ok") else payload.get("error")},
                say, status=entry.outcome.lower(), dedupe_key=_source_key(item),
            )

        await audit_record(services.store, entry, finish)
        if metrics:
            metrics.settled.labels(item.action, "settled").inc()
        log.info("reconciler settled a write in doubt", extra={"action": item.action, "outcome": entry.outcome})

    return run


def make_reconcile_failure_hook(services: Services, metrics: ReconcileMetrics | None) -> jobs.FailureHook:
    from gateway.actions.escalations import create_escalation

    async def hook(job: jobs.Job, error: str, dead: bool) -> None:
        if not dead:
            return
        item = InDoubt.from_ref(job.ref)
        tenant = services.settings.tenant(item.tenant_id)
        if tenant is None:
            return
        ctx = _context(services, tenant, item, "rcn_" + secrets.token_hex(10), None)
        await create_escalation(
            ctx,
            reason="reconcile_failed",
            summary=f"A {item.action} whose answer was lost could not be settled with the provider after "
            f"{job.attempts} attempts ({error[:120]}). Check it at Stripe / PCI Pal and settle it by hand.",
            customer_id=None,
            payment_ids=[],
            source_key=_source_key(item),
        )
        if metrics:
            metrics.settled.labels(item.action, "escalated").inc()
        log.error("reconciler escalated a write it could not settle", extra={"action": item.action})

    return hook


# --- running it ----------------------------------------------------------------------------------------


async def scan_loop(services: Services, metrics: ReconcileMetrics | None, worker: jobs.Worker) -> None:
    cfg = services.settings.reconcile
    while True:
        try:
            if await scan(services):
                worker.wake()
            if metrics:
                metrics.backlog.set(await backlog(services.store, grace=cfg.grace_seconds))
        except StoreError:
            log.warning("reconciler scan failed; will retry", exc_info=True)
        await asyncio.sleep(cfg.interval_seconds)


def build_worker(services: Services, metrics: ReconcileMetrics | None) -> jobs.Worker:
    cfg, w = services.settings.reconcile, services.settings.webhooks
    return jobs.Worker(
        services.store,
        {RECONCILE_JOB: make_reconcile_job(services, metrics)},
        retry={RECONCILE_JOB: jobs.exponential_backoff(cfg.max_attempts, cfg.retry_base_seconds,
                                                       cfg.retry_max_seconds)},
        on_failure={RECONCILE_JOB: make_reconcile_failure_hook(services, metrics)},
        concurrency=2,
        poll_interval=min(w.poll_interval_seconds, cfg.interval_seconds),
        # The handler is cut off at half the lease: room for a request's whole deadline plus the records.
        lease_seconds=max(w.job_lease_seconds, services.settings.server.request_timeout * 4),
        stop_timeout=w.stop_timeout_seconds,
        name="reconciler",
    )


RECONCILER = web.AppKey("reconciler", jobs.Worker)


async def reconciler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the scan loop and the worker with the app's other workers; stop them before the store closes."""
    services = app[SERVICES]
    metrics = ReconcileMetrics(services.metrics.registry)
    if not (services.settings.reconcile.enabled and services.settings.webhooks.worker_enabled):
        yield
        return
    worker = build_worker(services, metrics)
    app[RECONCILER] = worker
    worker.start()
    scanner = asyncio.create_task(scan_loop(services, metrics, worker), name="reconcile-scan")
    try:
        yield
    finally:
        scanner.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await scanner
        await worker.stop()


__all__ = [
    "ACTIONS",
    "RECONCILE_JOB",
    "InDoubt",
    "ReconcileMetrics",
    "backlog",
    "claim",
    "in_doubt",
    "reconciler_ctx",
    "scan",
]
