"""The event worker: handlers, ordering, retries, dead letters, replay, restart."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway import handlers
from gateway.webhooks import get_event, list_events, replay_events
from tests.gateway.webhooks.conftest import (
    FAST_WEBHOOKS,
    event_row,
    make_event,
    post_event,
    processed,
    services_of,
    wait_for,
)


def refund(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "re_9", "object": "refund", "status": status, "amount": 1500, "currency": "gbp",
            "charge": "ch_9", "payment_intent": "pi_9", **extra}


async def _notes(client: Any) -> list[str]:
    rows = await services_of(client).store.fetchall("SELECT kind FROM notifications ORDER BY created_at, id")
    return [r["kind"] for r in rows]


async def _state(client: Any, object_id: str) -> str | None:
    row = await services_of(client).store.fetchone(
        "SELECT status FROM stripe_objects WHERE object_id = ?", object_id
    )
    return None if row is None else str(row["status"])


async def test_when_refund_events_arrive_out_of_order_then_state_never_moves_back(
    make_client: Any, store_url: str
) -> None:
    client = await make_client(store_url, webhooks=FAST_WEBHOOKS)
    t = int(time.time())
    created = make_event("refund.created", refund("pending"), created=t - 60)
    updated = make_event("refund.updated", refund("succeeded"), created=t - 30, previous={"status": "pending"})
    # The later event is delivered first.
    assert (await post_event(client, updated)).status == 200
    await wait_for(lambda: processed(client, updated["id"]), what="refund.updated processed")
    assert (await post_event(client, created)).status == 200
    await wait_for(lambda: processed(client, created["id"]), what="refund.created processed")
    assert await _state(client, "re_9") == "succeeded"
    assert await _notes(client) == ["refund.succeeded"]


async def test_when_payment_failure_is_older_than_success_then_payment_stays_succeeded(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    t = int(time.time())
    pi = {"id": "pi_7", "object": "payment_intent", "amount": 999, "currency": "usd", "customer": "cus_1"}
    ok = make_event("payment_intent.succeeded", {**pi, "status": "succeeded"}, created=t)
    failed = make_event("payment_intent.payment_failed", {**pi, "status": "requires_payment_method",
                                                          "last_payment_error": {"code": "card_declined"}},
                        created=t - 5)
    for ev in (ok, failed):
        assert (await post_event(client, ev)).status == 200
        await wait_for(lambda ev=ev: processed(client, ev["id"]), what="processed")
    assert await _state(client, "pi_7") == "succeeded"
    assert await _notes(client) == ["payment.succeeded"]


async def test_when_refund_fails_after_success_then_failure_is_told(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    t = int(time.time())
    for ev in (
        make_event("refund.created", refund("succeeded"), created=t - 10),
        make_event("charge.refunded", {"id": "ch_9", "object": "charge", "refunded": True}, created=t - 10),
        make_event("refund.failed", refund("failed", failure_reason="expired_or_canceled_card"), created=t),
        make_event("refund.updated", refund("failed"), created=t),
    ):
        assert (await post_event(client, ev)).status == 200
        await wait_for(lambda ev=ev: processed(client, ev["id"]), what="processed")
    assert await _state(client, "re_9") == "failed"
    assert await _state(client, "ch_9") == "refunded"
    assert await _notes(client) == ["refund.succeeded", "refund.failed"]


async def test_every_listed_event_type_is_handled_and_notifies(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    events = [
        make_event("payment_intent.succeeded", {"id": "pi_a", "status": "succeeded", "amount": 100, "currency": "gbp"}),
        make_event("payment_intent.payment_failed", {"id": "pi_b", "status": "requires_payment_method",
                                                     "amount": 100, "currency": "gbp"}),
        make_event("refund.created", refund("pending")),
        make_event("charge.dispute.created", {"id": "dp_1", "object": "dispute", "amount": 5000, "currency": "gbp",
                                             "charge": "ch_d", "reason": "fraudulent",
                                             "status": "needs_response"}),
        make_event("customer.subscription.updated", {"id": "sub_1", "status": "past_due", "customer": "cus_1"},
                   previous={"status": "active"}),
        make_event("customer.subscription.deleted", {"id": "sub_2", "status": "canceled", "customer": "cus_1"}),
        make_event("invoice.payment_failed", {"id": "in_1", "amount_due": 1000, "currency": "gbp",
                                              "customer": "cus_1", "subscription": "sub_1"}),
    ]
    for ev in events:
        assert (await post_event(client, ev)).status == 200
    for ev in events:
        await wait_for(lambda ev=ev: processed(client, ev["id"]), what=ev["type"])
    assert sorted(await _notes(client)) == sorted([
        "payment.succeeded", "payment.failed", "refund.pending", "dispute.opened", "subscription.updated",
        "subscription.canceled", "invoice.payment_failed",
    ])
    rows = await services_of(client).store.fetchall("SELECT body FROM notifications WHERE kind = 'dispute.opened'")
    assert '"escalation_required":true' in rows[0]["body"]
    cases = await services_of(client).store.fetchall("SELECT reference, reason, payment_ids FROM escalations")
    assert len(cases) == 1
    assert cases[0]["reason"] == "dispute"
    assert cases[0]["payment_ids"] == '["ch_d"]'
    assert f'"escalation_reference":"{cases[0]["reference"]}"' in rows[0]["body"]


async def test_when_handler_fails_then_retried_until_it_succeeds(
    make_client: Any, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = handlers.HANDLERS["refund.created"]

    async def flaky(ctx: Any, ev: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("transient")
        await real(ctx, ev)

    monkeypatch.setitem(handlers.HANDLERS, "refund.created", flaky)
    client = await make_client(store_url, webhooks=FAST_WEBHOOKS)
    ev = make_event("refund.created", refund("succeeded"))
    assert (await post_event(client, ev)).status == 200
    await wait_for(lambda: processed(client, ev["id"]), what="processed after retry")
    row = await event_row(client, ev["id"])
    assert row is not None
    assert row["status"] == "processed"
    assert row["attempts"] == 2
    assert row["processed_count"] == 1
    assert calls == 2
    assert await _notes(client) == ["refund.succeeded"]


async def test_when_retry_budget_spent_then_dead_letter_then_replay_processes(
    make_client: Any, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = handlers.HANDLERS["refund.created"]

    async def broken(ctx: Any, ev: Any) -> None:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(handlers.HANDLERS, "refund.created", broken)
    client = await make_client(store_url, webhooks=FAST_WEBHOOKS)
    store = services_of(client).store
    ev = make_event("refund.created", refund("succeeded"))
    assert (await post_event(client, ev)).status == 200
    await wait_for(lambda: processed(client, ev["id"]), what="dead-lettered")
    row = await event_row(client, ev["id"])
    assert row is not None
    assert row["status"] == "dead"
    assert row["attempts"] == FAST_WEBHOOKS["job_max_attempts"]
    assert "RuntimeError" in row["last_error"]
    assert [j["state"] for j in await store.fetchall("SELECT state FROM jobs")] == ["dead"]
    assert [e["event_id"] for e in await list_events(store, status="dead")] == [ev["id"]]

    monkeypatch.setitem(handlers.HANDLERS, "refund.created", real)  # the bug is fixed
    assert await replay_events(store, event_id=ev["id"]) == [ev["id"]]
    await wait_for(lambda: processed(client, ev["id"]), what="processed after replay")
    shown = await get_event(store, ev["id"])
    assert shown is not None
    assert shown["status"] == "processed"
    assert shown["payload"]["id"] == ev["id"]

    async def no_event_jobs() -> bool:
        return await store.fetchall("SELECT id FROM jobs WHERE kind = 'stripe_event'") == []

    await wait_for(no_event_jobs, what="the replayed job finished and removed")
    assert await _notes(client) == ["refund.succeeded"]


async def test_when_processed_event_is_replayed_then_no_second_notification(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    store = services_of(client).store
    ev = make_event("refund.created", refund("succeeded"))
    assert (await post_event(client, ev)).status == 200
    await wait_for(lambda: processed(client, ev["id"]), what="processed")
    since = time.time() - 3600
    assert await replay_events(store, since=since) == [ev["id"]]
    await wait_for(lambda: processed(client, ev["id"]), what="processed again")
    row = await event_row(client, ev["id"])
    assert row is not None
    assert row["processed_count"] == 2
    assert await _notes(client) == ["refund.succeeded"]


async def test_when_gateway_dies_after_persisting_then_event_processed_after_restart(
    make_client: Any, store_url: str
) -> None:
    first = await make_client(store_url, webhooks={**FAST_WEBHOOKS, "worker_enabled": False})
    ev = make_event("refund.created", refund("succeeded"))
    assert (await post_event(first, ev)).status == 200
    row = await event_row(first, ev["id"])
    assert row is not None
    assert row["status"] == "queued"
    await first.close()  # the process goes away with the event stored but not processed

    second = await make_client(store_url, webhooks=FAST_WEBHOOKS)
    await wait_for(lambda: processed(second, ev["id"]), what="processed after restart")
    row = await event_row(second, ev["id"])
    assert row is not None
    assert row["status"] == "processed"
    assert row["processed_count"] == 1
    assert await _notes(second) == ["refund.succeeded"]


def test_decide_orders_by_rank_then_created() -> None:
    prev = {"status": "pending", "status_rank": 1, "event_created": 100.0, "event_id": "evt_a"}
    assert handlers.decide(None, status="pending", rank=1, created=1, event_id="evt_x") == "apply"
    assert handlers.decide(prev, status="pending", rank=1, created=100, event_id="evt_a") == "same"
    assert handlers.decide(prev, status="succeeded", rank=5, created=50, event_id="evt_b") == "apply"
    assert handlers.decide(prev, status="x", rank=0, created=200, event_id="evt_b") == "stale"
    assert handlers.decide(prev, status="pending", rank=1, created=99, event_id="evt_b") == "stale"
    assert handlers.decide(prev, status="pending", rank=1, created=101, event_id="evt_b") == "apply"
    assert handlers.decide(prev, status="other", rank=1, created=100, event_id="evt_b") == "ambiguous"
