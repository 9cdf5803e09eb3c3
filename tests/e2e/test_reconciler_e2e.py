"""The reconciler with real processes (issue 13, acceptance 1): a write whose answer is lost (the gateway
SIGKILLed while Stripe holds the request, which Stripe then completes) and that the bot never retries is
settled by the reconciler of the restarted gateway: exactly one object at Stripe, the record final, one
notification, one audit row; a later retry by the bot replays the settled answer without calling Stripe.

Waits are bounded polls (``wait_until``); no assertion is about how long something took.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.store import Store, open_store
from tests.e2e.procs import NOTIFY_SECRET, Stack, pg_stack, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

RECONCILE = {"grace_seconds": 0.5, "interval_seconds": 0.3, "retry_base_seconds": 0.3, "retry_max_seconds": 1.0}


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(json.loads(await request.read()))
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, Receiver]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/notify", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/notify")), rec
    finally:
        await server.close()


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


async def arrived(stack: Stack, method: str, path: str) -> bool:
    assert stack.stripe is not None
    return any(r["method"] == method and r["path"] == path for r in await stack.stripe.requests(path))


async def finished(stack: Stack, method: str, path: str) -> bool:
    assert stack.stripe is not None
    reqs = [r for r in await stack.stripe.requests(path) if r["method"] == method and r["path"] == path]
    return bool(reqs) and all(r["status"] is not None for r in reqs)


async def refund_posts(stack: Stack) -> list[dict[str, Any]]:
    assert stack.stripe is not None
    return [r for r in await stack.stripe.requests("/v1/refunds") if r["method"] == "POST" and r["path"] == "/v1/refunds"]


async def settled(db: Store, action: str, key: str) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT state, status_code, response FROM idempotency WHERE action = ? AND idem_key = ?",
                            action, key)
    return dict(row) if row is not None and row["state"] == "done" else None


async def settled_notifications(rec: Receiver, action: str) -> list[dict[str, Any]]:
    return [b for b in rec.bodies if b["type"] == "action.settled" and b["data"]["action"] == action]


async def audit_rows(db: Store, action: str) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT action, outcome, provider_ids, request_id FROM audit_log WHERE action = ?",
                             action)
    return [dict(r) for r in rows]


async def kill_while_at_stripe(stack: Stack, path: str, start: Any) -> None:
    """Start the call, let it reach Stripe (which is slow), SIGKILL the gateway: the answer is lost."""
    assert stack.stripe is not None
    await stack.stripe.add_fault("latency", path, method="POST", count=1, latency_ms=1500)
    task = asyncio.create_task(start())
    await wait_until(lambda: arrived(stack, "POST", path), what=f"POST {path} at the sandbox")
    gw = stack.procs[-1]
    await gw.kill()
    with pytest.raises(aiohttp.ClientError):
        await task
    await wait_until(lambda: finished(stack, "POST", path), what="the sandbox to finish the request")


async def test_lost_refund_coupon_and_capture_launch_are_settled_by_the_reconciler_without_a_retry(
    stack: Stack, db: Store, receiver: tuple[str, Receiver]
) -> None:
    assert stack.stripe is not None
    url, rec = receiver
    await stack.start_pcipal()
    stack.write_config(
        idempotency={"lease_seconds": 1.0},
        reconcile=RECONCILE,
        tenant={"notification_url": url, "notification_secret": NOTIFY_SECRET},
    )
    await stack.create_key()
    # The first gateway runs no reconciler: the writes stay in doubt until the second one starts.
    gw = await stack.start_gateway("gw", env={"VOICEPAY_RECONCILE__ENABLED": "false"})
    call = "call-" + uuid.uuid4().hex[:10]
    ada = stack.stripe.seed["customers"]["ada"]
    status, body = await gw.call("customers.verify", {"email": ada["email"], "postal_code": "SW1A 1AA",
                                                      "card_last4": "4242"}, call_id=call)
    assert status == 200, body
    pi = stack.stripe.seed["payments"]["ada_latest"]["payment_intent"]

    # 1. The refund: killed while Stripe makes it.
    await kill_while_at_stripe(stack, "/v1/refunds", lambda: gw.call(
        "refunds.create", {"payment_id": pi}, call_id=call, idempotency_key="k-refund"))
    gw = await stack.start_gateway("gw", env={"VOICEPAY_RECONCILE__ENABLED": "false"})
    # 2. The coupon: killed while Stripe creates the coupon (the promotion code not yet asked for).
    await kill_while_at_stripe(stack, "/v1/coupons", lambda: gw.call(
        "coupons.create", {"percent_off": 10}, call_id=call, idempotency_key="k-coupon"))
    gw = await stack.start_gateway("gw", env={"VOICEPAY_RECONCILE__ENABLED": "false"})
    # 3. The capture launch: killed while Stripe creates its PaymentIntent (PCI Pal not yet launched).
    await kill_while_at_stripe(stack, "/v1/payment_intents", lambda: gw.call(
        "capture.start", {"amount": 2500, "description": "Order 1042"}, idempotency_key="k-capture"))

    in_doubt = await db.fetchall("SELECT action FROM idempotency WHERE state = 'in_flight' ORDER BY action")
    assert [r["action"] for r in in_doubt] == ["capture.start", "coupons.create", "refunds.create"]

    # A gateway with the reconciler, and no retry from the bot.
    gw = await stack.start_gateway("gw")
    refund = await wait_until(lambda: settled(db, "refunds.create", "k-refund"), within=30, what="refund settled")
    coupon = await wait_until(lambda: settled(db, "coupons.create", "k-coupon"), within=30, what="coupon settled")
    capture = await wait_until(lambda: settled(db, "capture.start", "k-capture"), within=30,
                               what="capture launch settled")

    # Refund: exactly one at Stripe, the record final, the stored answer is that refund.
    refunds = await stack.stripe.refunds_for(pi)
    assert len(refunds) == 1 and refunds[0]["status"] == "succeeded"
    answer = json.loads(refund["response"])
    assert refund["status_code"] == 200 and answer["result"]["refund_id"] == refunds[0]["id"]
    row = await db.fetchone("SELECT state, refund_id, refund_status FROM gateway_refunds")
    assert row is not None and (row["state"], row["refund_id"], row["refund_status"]) == (
        "created", refunds[0]["id"], "succeeded")
    posts = await refund_posts(stack)
    assert len({p["idempotency_key"] for p in posts}) == 1 and [p["replayed"] for p in posts] == [False, True]

    # Coupon: one coupon and one promotion code at Stripe, the record created.
    coupons = await stack.stripe.api("GET", "/v1/coupons", {"limit": "100"})
    assert len(coupons["data"]) == 1
    promos = await stack.stripe.api("GET", "/v1/promotion_codes", {"limit": "100"})
    assert len(promos["data"]) == 1
    c_answer = json.loads(coupon["response"])
    assert c_answer["result"]["coupon_id"] == coupons["data"][0]["id"]
    c_row = await db.fetchone("SELECT state FROM coupons_issued")
    assert c_row is not None and c_row["state"] == "created"

    # Capture launch: one PaymentIntent, a PCI Pal session, the capture waiting for the caller.
    cap = json.loads(capture["response"])["result"]
    pis = await stack.stripe.api("GET", "/v1/payment_intents", {"limit": "100"})
    mine = [p for p in pis["data"] if p["metadata"].get("voicepay_capture_id") == cap["capture_id"]]
    assert len(mine) == 1
    cap_row = await db.fetchone("SELECT state, pcipal_session_id, payment_intent_id FROM capture_sessions")
    assert cap_row is not None and cap_row["state"] == "awaiting_caller" and cap_row["pcipal_session_id"]
    assert cap_row["payment_intent_id"] == mine[0]["id"]

    # One notification and one audit row each.
    for action in ("refunds.create", "coupons.create", "capture.start"):
        await wait_until(lambda a=action: settled_notifications(rec, a), within=20, what=f"{action} notification")
        rows = await audit_rows(db, action)
        reconciled = [r for r in rows if json.loads(r["provider_ids"]).get("reconciled")]
        assert len(reconciled) == 1, rows
    await asyncio.sleep(1.0)  # a duplicate would have been queued by now: the scan runs every 0.3 s
    for action in ("refunds.create", "coupons.create", "capture.start"):
        assert len(await settled_notifications(rec, action)) == 1
    notes = await db.fetchall("SELECT id FROM notifications WHERE kind = 'action.settled'")
    assert len(notes) == 3

    # The bot, calling again later, hears the settled answer; Stripe is not called again.
    status, again = await gw.call("refunds.create", {"payment_id": pi}, call_id=call, idempotency_key="k-refund")
    assert (status, again["result"]) == (200, answer["result"])
    assert len(await refund_posts(stack)) == 2
    backlog = await db.fetchone("SELECT COUNT(*) AS n FROM idempotency WHERE state = 'in_flight'")
    assert backlog is not None and backlog["n"] == 0
