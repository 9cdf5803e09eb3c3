"""The reconciler's parts on both stores (the whole flow with killed processes is tests/e2e/test_reconciler_e2e.py):
finding records in doubt past the grace period, a claim only one instance wins, a write that never reached a
provider released, one that cannot be settled escalated once; and dispatch keeping an UNKNOWN write's record
for it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from gateway import jobs
from gateway.reconciler import (
    RECONCILE_JOB,
    InDoubt,
    NotSettledYet,
    ReconcileMetrics,
    _context,
    backlog,
    claim,
    make_reconcile_failure_hook,
    make_reconcile_job,
    scan,
)
from gateway.services import Services
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import Echo, auth

QUIET = {"reconcile": {"enabled": False, "grace_seconds": 5.0}, "webhooks": {"worker_enabled": False}}


async def in_flight(svc: Services, action: str, key: str, *, lease_until: float, state: str = "in_flight") -> None:
    now = time.time()
    await svc.store.execute(
        "INSERT INTO idempotency (tenant_id, action, idem_key, fingerprint, state, lease_until, request_id, "
        "created_at, expires_at) VALUES ('acme', ?, ?, 'fp', ?, ?, 'req_x', ?, ?)",
        action, key, state, lease_until, now - 60, now + 3600,
    )


async def test_scan_queues_one_job_per_record_in_doubt_past_the_grace_period(make_client: Any, store_url: str) -> None:
    svc = services(await make_client(store_url, **QUIET))
    now = time.time()
    await in_flight(svc, "refunds.create", "old", lease_until=now - 60)
    await in_flight(svc, "coupons.create", "old", lease_until=now - 60)
    await in_flight(svc, "refunds.create", "young", lease_until=now - 1)  # within the 5 s grace
    await in_flight(svc, "refunds.create", "live", lease_until=now + 30)
    await in_flight(svc, "refunds.create", "done", lease_until=now - 60, state="done")
    await in_flight(svc, "test.echo", "other", lease_until=now - 60)  # not a write the reconciler settles
    assert await backlog(svc.store, grace=5.0) == 2
    assert await scan(svc) == 2
    assert await scan(svc) == 0  # one job per record
    rows = await svc.store.fetchall("SELECT ref FROM jobs WHERE kind = ? ORDER BY ref", RECONCILE_JOB)
    assert [InDoubt.from_ref(r["ref"]).action for r in rows] == ["coupons.create", "refunds.create"]


async def test_only_one_of_many_concurrent_claims_wins(make_client: Any, store_url: str) -> None:
    svc = services(await make_client(store_url, **QUIET))
    await in_flight(svc, "refunds.create", "k", lease_until=time.time() - 60)
    item = InDoubt("acme", "refunds.create", "k")
    won = await asyncio.gather(*(claim(svc, item, f"rcn_{i}") for i in range(12)))
    assert won.count(True) == 1
    # The winner holds a fresh lease: a bot retry now waits (409) instead of sending a second time.
    row = await svc.store.fetchone("SELECT lease_until FROM idempotency WHERE idem_key = 'k'")
    assert row is not None and float(row["lease_until"]) > time.time()
    assert not await claim(svc, item, "rcn_late")


def job_for(item: InDoubt, attempts: int = 1) -> jobs.Job:
    return jobs.Job(1, RECONCILE_JOB, item.tenant_id, item.ref, attempts, "w")


async def test_a_write_that_never_reached_a_provider_is_released(make_client: Any, store_url: str) -> None:
    svc = services(await make_client(store_url, **QUIET))
    await in_flight(svc, "refunds.create", "nothing-sent", lease_until=time.time() - 60)
    metrics = ReconcileMetrics(CollectorRegistry())
    await make_reconcile_job(svc, metrics)(job_for(InDoubt("acme", "refunds.create", "nothing-sent")))
    assert await svc.store.fetchone("SELECT * FROM idempotency WHERE idem_key = 'nothing-sent'") is None
    assert metrics.settled.labels("refunds.create", "released")._value.get() == 1


async def test_a_write_that_cannot_be_settled_stays_in_doubt_then_becomes_one_escalation(
    make_client: Any, store_url: str
) -> None:
    # Stripe at 127.0.0.1:9 refuses connections; the action deadline keeps the attempt short.
    svc = services(await make_client(store_url, server={"request_timeout": 2.0}, **QUIET))
    item = InDoubt("acme", "refunds.create", "stuck")
    await in_flight(svc, item.action, item.idem_key, lease_until=time.time() - 60)
    tenant = svc.settings.tenant("acme")
    assert tenant is not None
    ctx = _context(svc, tenant, item, "rcn_t", None)
    now = time.time()
    await svc.store.execute(
        "INSERT INTO gateway_refunds (tenant_id, op_key, customer_id, payment_intent_id, charge_id, amount, "
        "currency, reason, state, call_id, created_at, updated_at) "
        "VALUES ('acme', ?, 'cus_1', 'pi_1', NULL, 500, 'gbp', 'requested_by_customer', 'sending', 'call-1', ?, ?)",
        ctx.provider_key("refund"), now, now,
    )
    metrics = ReconcileMetrics(CollectorRegistry())
    with pytest.raises(NotSettledYet):
        await make_reconcile_job(svc, metrics)(job_for(item))
    row = await svc.store.fetchone("SELECT state, lease_until FROM idempotency WHERE idem_key = 'stuck'")
    assert row is not None and row["state"] == "in_flight" and float(row["lease_until"]) <= time.time()
    # A refused connection is known not to have reached Stripe: the refund's limit slot is given back
    # (gateway/actions/refunds.py), so the next attempt finds nothing sent and releases the key.
    refund = await svc.store.fetchone("SELECT state FROM gateway_refunds")
    assert refund is not None and refund["state"] == "released"

    hook = make_reconcile_failure_hook(svc, metrics)
    await hook(job_for(item, 5), "NotSettledYet: still unsettled", False)  # not yet dead: nothing
    assert await svc.store.fetchone("SELECT COUNT(*) AS n FROM escalations") == {"n": 0}
    await hook(job_for(item, 6), "NotSettledYet: still unsettled", True)
    await hook(job_for(item, 6), "NotSettledYet: still unsettled", True)  # a replayed dead letter: same case
    cases = await svc.store.fetchall("SELECT reason, summary FROM escalations")
    assert len(cases) == 1 and cases[0]["reason"] == "reconcile_failed" and "refunds.create" in cases[0]["summary"]
    assert metrics.settled.labels("refunds.create", "escalated")._value.get() == 2


async def test_an_unknown_write_keeps_its_record_for_the_reconciler_and_a_retry_takes_it_over(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, **QUIET)
    key = await new_key(client)
    Echo.fail_with = TimeoutError()
    resp = await client.post("/v1/actions/test.echo", json={"text": "hi"}, headers=auth(key, **{"Idempotency-Key": "u1"}))
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "provider_outcome_unknown"
    row = await services(client).store.fetchone("SELECT state, lease_until FROM idempotency WHERE idem_key = 'u1'")
    assert row is not None and row["state"] == "in_flight" and float(row["lease_until"]) <= time.time()
    Echo.fail_with = None
    resp = await client.post("/v1/actions/test.echo", json={"text": "hi"}, headers=auth(key, **{"Idempotency-Key": "u1"}))
    assert resp.status == 200 and Echo.runs == 2
    # The same key with other params is now a reuse, not a fresh request.
    resp = await client.post("/v1/actions/test.echo", json={"text": "other"},
                             headers=auth(key, **{"Idempotency-Key": "u1"}))
    assert resp.status == 422
