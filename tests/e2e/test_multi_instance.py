"""Two ``voicepay serve`` processes on one PostgreSQL database, against the Stripe sandbox process.

What several instances behind a load balancer must never do: refund twice for one Idempotency-Key, process a
webhook event twice (or lose one), fork the audit hash chain, or notify the bot twice. Each test starts real
processes on 127.0.0.1 (see ``tests/e2e/procs.py``) on a fresh database.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.stripe.signing import sign_header
from gateway.store import Store, open_store
from tests.e2e.procs import NOTIFY_SECRET, TENANT, WEBHOOK_SECRET, GatewayProc, Stack, free_port, pg_stack, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: Policy for these tests: several refunds per customer, so one seeded customer can be refunded repeatedly.
POLICY = {"max_refunds_per_customer": 10}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[Store]:
    store = await open_store(stack.store_url, command_timeout=10)
    try:
        yield store
    finally:
        await store.close()


async def two_gateways(stack: Stack, **sections: Any) -> tuple[GatewayProc, GatewayProc]:
    stack.write_config(tenant={"policy": POLICY, **sections.pop("tenant", {})}, **sections)
    await stack.create_key()
    a, b = await asyncio.gather(stack.start_gateway("a"), stack.start_gateway("b"))
    return a, b


async def verify_ada(gw: GatewayProc, stack: Stack, call_id: str) -> None:
    assert stack.stripe is not None
    ada = stack.stripe.seed["customers"]["ada"]
    status, body = await gw.call(
        "customers.verify", {"email": ada["email"], "postal_code": "SW1A 1AA", "card_last4": "4242"},
        call_id=call_id,
    )
    assert status == 200 and body["result"]["verified"] is True, body


def refund_event(n: int, refund_id: str, status: str = "succeeded") -> dict[str, Any]:
    return {
        "id": f"evt_mi_{n:04d}_{uuid.uuid4().hex[:8]}",
        "object": "event",
        "api_version": stripe.api_version,
        "type": "refund.updated",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": refund_id, "object": "refund", "status": status, "amount": 100 + n,
                            "currency": "gbp", "charge": f"ch_mi_{n}", "payment_intent": f"pi_mi_{n}"}},
    }


async def post_event(gw: GatewayProc, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign_header(raw, [WEBHOOK_SECRET], int(time.time())),
               "Content-Type": "application/json"}
    async with gw.http.post(f"{gw.url}/v1/webhooks/stripe/{TENANT}", data=raw, headers=headers) as resp:
        return resp.status, dict(await resp.json())


async def test_one_idempotency_key_sent_to_both_instances_at_once_makes_one_refund(stack: Stack) -> None:
    assert stack.stripe is not None
    a, b = await two_gateways(stack)
    seed = stack.stripe.seed["payments"]

    # 1. Stripe is slow, so the first request is still running when the second arrives at the other instance.
    call = "call-" + uuid.uuid4().hex[:10]
    await verify_ada(a, stack, call)
    pi = seed["ada_latest"]["payment_intent"]
    await stack.stripe.add_fault("latency", "/v1/refunds", method="POST", count=1, latency_ms=1500)
    body = {"payment_id": pi}
    first = asyncio.create_task(a.call("refunds.create", body, call_id=call, idempotency_key="k-slow"))
    # Wait until a's request holds the key at Stripe (the sandbox logged it), then send the same to b.
    await wait_until(lambda: _posted(stack, "/v1/refunds"), what="a's refund at the sandbox")
    status_b, body_b = await b.call("refunds.create", body, call_id=call, idempotency_key="k-slow")
    status_a, body_a = await first
    assert status_a == 200, body_a
    assert (status_b, body_b["error"]["code"], body_b["error"]["retryable"]) == (409, "request_in_progress", True)
    assert body_b["error"]["say"]
    refunds = await stack.stripe.refunds_for(pi)
    assert [r["id"] for r in refunds] == [body_a["result"]["refund_id"]]
    # b's retry, once a finished, replays a's answer.
    status, replay = await b.call("refunds.create", body, call_id=call, idempotency_key="k-slow")
    assert (status, replay) == (200, body_a)

    # 2. No help from latency: both at the same instant, several times. Whoever wins, one refund per key.
    pi2 = seed["ada_succeeded"]["payment_intent"]
    for n in range(4):
        body = {"payment_id": pi2, "amount": 100 + n}
        (s1, r1), (s2, r2) = await asyncio.gather(
            a.call("refunds.create", body, call_id=call, idempotency_key=f"k-race-{n}"),
            b.call("refunds.create", body, call_id=call, idempotency_key=f"k-race-{n}"),
        )
        answers = sorted([(s1, r1), (s2, r2)], key=lambda x: x[0])
        assert answers[0][0] == 200, answers
        winner = answers[0][1]
        other_status, other = answers[1]
        # The other is either told to wait (409, retryable) or gets the winner's stored answer.
        assert (other_status == 409 and other["error"]["code"] == "request_in_progress") or (
            other_status == 200 and other == winner
        ), answers
    refunds = await stack.stripe.refunds_for(pi2)
    assert sorted(r["amount"] for r in refunds) == [100, 101, 102, 103]
    posts = [r for r in await stack.stripe.requests("/v1/refunds") if r["method"] == "POST"]
    # One POST per key reached Stripe: no instance ever sent a second one for a key the other had.
    assert len(posts) == 5
    assert len({p["idempotency_key"] for p in posts}) == 5


async def _posted(stack: Stack, path: str) -> bool:
    assert stack.stripe is not None
    return any(r["method"] == "POST" and r["path"] == path for r in await stack.stripe.requests(path))


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """The bot platform's notification endpoint: records every delivery (id, body)."""
    got: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        got.append({"id": request.headers.get("Voicepay-Notification-Id"), "body": await request.json()})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/notify", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/notify")), got
    finally:
        await server.close()


async def test_events_delivered_to_both_instances_are_processed_once_and_notified_once(
    stack: Stack, db: Store, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, got = receiver
    a, b = await two_gateways(
        stack, tenant={"notification_url": url, "notification_secret": NOTIFY_SECRET},
        webhooks={"worker_concurrency": 2},
    )
    # Stripe delivers every event to both endpoints (one per instance), and retries: each event arrives at
    # both instances at once, sometimes twice.
    events = [refund_event(n, f"re_mi_{n:04d}") for n in range(24)]
    posts = [post_event(gw, ev) for ev in events for gw in (a, b)]
    posts += [post_event(b if n % 2 else a, ev) for n, ev in enumerate(events[::3])]
    results = await asyncio.gather(*posts)
    assert all(status == 200 for status, _ in results), results
    # Each event was stored once: the other copies were acknowledged as duplicates.
    assert sum(1 for _, r in results if not r["duplicate"]) == len(events)

    async def drained() -> bool:
        left = await db.fetchone("SELECT COUNT(*) AS n FROM jobs")
        pending = await db.fetchone(
            "SELECT COUNT(*) AS n FROM webhook_events WHERE status <> 'processed'")
        undelivered = await db.fetchone("SELECT COUNT(*) AS n FROM notifications WHERE state <> 'delivered'")
        return bool(left and pending and undelivered
                    and left["n"] == 0 and pending["n"] == 0 and undelivered["n"] == 0)

    await wait_until(drained, within=30, what="every event processed and every notification delivered")
    rows = await db.fetchall("SELECT event_id, processed_count, deliveries, status FROM webhook_events")
    assert sorted(r["event_id"] for r in rows) == sorted(e["id"] for e in events)
    assert {r["processed_count"] for r in rows} == {1}
    assert sum(r["deliveries"] for r in rows) == len(posts)
    # Exactly one notification per refund, each delivered exactly once.
    ids = [g["id"] for g in got]
    assert len(ids) == len(events) and len(set(ids)) == len(events)
    assert sorted(g["body"]["data"]["refund"] for g in got) == sorted(f"re_mi_{n:04d}" for n in range(24))
    assert {g["body"]["type"] for g in got} == {"refund.succeeded"}
    attempts = await db.fetchone("SELECT COUNT(*) AS n FROM notification_attempts")
    assert attempts is not None and attempts["n"] == len(events)


async def test_concurrent_actions_on_both_instances_keep_one_intact_audit_chain(stack: Stack, db: Store) -> None:
    assert stack.stripe is not None
    a, b = await two_gateways(stack)
    ada = stack.stripe.seed["customers"]["ada"]
    grace = stack.stripe.seed["customers"]["grace"]
    calls = []
    for n in range(30):
        gw = a if n % 2 else b
        who = ada if n % 3 else grace
        calls.append(gw.call("payments.lookup", {"email": who["email"]}, call_id=f"call-audit-{n % 5}"))
        calls.append(gw.call("gateway.ping", {}))
    for n in range(6):
        gw = b if n % 2 else a
        calls.append(gw.call("coupons.create", {"email": ada["email"], "percent_off": 10},
                             call_id=f"call-coupon-{n}", idempotency_key=f"coupon-{n}"))
    results = await asyncio.gather(*calls)
    assert all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:3]

    rc, out, err = await stack.cli("audit", "verify")
    assert rc == 0, out + err
    rows = await db.fetchall("SELECT seq, request_id FROM audit_log WHERE tenant_id = ? ORDER BY seq", TENANT)
    assert out.strip().splitlines()[-1] == f"checked {len(rows)} row(s): OK"
    # One row per action call (no fork: sequence numbers 1..n with no gap or duplicate).
    assert [r["seq"] for r in rows] == list(range(1, len(calls) + 1))
    assert len({r["request_id"] for r in rows}) == len(calls)

    # The check has teeth: an edited row (as an intruder with database access would make) is reported.
    await db.execute("UPDATE audit_log SET outcome = 'REFUSED' WHERE tenant_id = ? AND seq = 7", TENANT)
    rc, out, _ = await stack.cli("audit", "verify")
    assert rc == 1 and "seq=7" in out


async def test_a_capture_started_on_one_instance_and_called_back_on_the_other_settles_once(
    stack: Stack, db: Store
) -> None:
    """Behind a load balancer PCI Pal's callback (and its duplicates) may reach any instance."""
    assert stack.stripe is not None
    pcipal = await stack.start_pcipal()
    stack.write_config()
    await stack.create_key()
    port_b = free_port()
    b = await stack.start_gateway("b", port=port_b)
    # Instance a hands PCI Pal b's address as the callback URL.
    a = await stack.start_gateway("a", env={"VOICEPAY_SERVER__PUBLIC_BASE_URL": f"http://127.0.0.1:{port_b}"})

    status, body = await a.call("capture.start", {"amount": 1800, "description": "Order 7"}, idempotency_key="mi-cap")
    assert status == 200, body
    cap = body["result"]
    await pcipal.simulate(cap["pcipal_session_id"], "success", card="visa", wait=True, delivery={"duplicates": 2})

    async def settled_on(gw: GatewayProc) -> dict[str, Any] | None:
        status, body = await gw.call("capture.status", {"capture_id": cap["capture_id"]})
        assert status == 200, body
        return body["result"] if body["result"]["state"] != "processing" else None

    on_a = await wait_until(lambda: settled_on(a), within=20, interval=0.2, what="the capture to settle on a")
    on_b = await settled_on(b)
    assert on_a["state"] == "succeeded" and on_b == on_a
    assert (on_a["card_brand"], on_a["card_last4"], on_a["amount"]) == ("visa", "4242", 1800)
    session = await pcipal.session(cap["pcipal_session_id"])
    assert sum(1 for d in session["deliveries"] if d["status"] == 200) >= 3  # the callback and 2 duplicates
    assert all(d["url"].startswith(f"http://127.0.0.1:{port_b}/") for d in session["deliveries"])
    pis = await stack.stripe.api("GET", "/v1/payment_intents", {"limit": "100"})
    assert len([p for p in pis["data"] if p["metadata"].get("voicepay_capture_id") == cap["capture_id"]]) == 1
    kinds = await db.fetchall("SELECT kind FROM notifications WHERE dedupe_key LIKE ?", f"capture:{cap['capture_id']}:%")
    assert [k["kind"] for k in kinds] == ["capture.succeeded"]
