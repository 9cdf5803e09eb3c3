"""Deadline mode end to end (issue 12, acceptance 1), with real processes on 127.0.0.1 (tests/e2e/procs.py).

Stripe answers every call 2 s late (a sandbox ``latency`` fault) and the bot gives each turn 1 s
(``X-Deadline-Ms: 1000``). ``payments.lookup``, ``refunds.create`` and ``coupons.create`` answer ``pending``
while their work is still running; the final answer then arrives three ways (replay with the same key,
``operations.get``, a signed ``operation.completed`` notification), and the refund exists exactly once at the
sandbox. Then the gateway is SIGKILLed while a refund is pending; after a restart, the retry with the same key
still makes exactly one refund.

No assertion is about how long anything took: "answered before the work completed" is shown by the work's
own state at the moment of the answer (``operations.get`` says pending, the sandbox has not finished).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.e2e.procs import NOTIFY_SECRET, GatewayProc, Stack, pg_stack, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


class Inbox:
    """The voice platform's notification endpoint: keeps every verified notification body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        parts = dict(p.split("=", 1) for p in request.headers["Voicepay-Signature"].split(","))
        expected = hmac.new(NOTIFY_SECRET.encode(), f"{parts['t']}.".encode() + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["v1"]):
            return web.json_response({"error": "bad signature"}, status=400)
        self.bodies.append(json.loads(raw))
        return web.json_response({"ok": True})

    def completed(self, op_id: str) -> dict[str, Any] | None:
        return next((b for b in self.bodies if b["type"] == "operation.completed"
                     and b["data"]["operation_id"] == op_id), None)


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[str, Inbox]]:
    box = Inbox()
    app = web.Application()
    app.router.add_post("/notify", box.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/notify")), box
    finally:
        await server.close()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


async def act(gw: GatewayProc, action: str, body: dict[str, Any], *, call_id: str, key: str | None = None,
              deadline_ms: int | None = 1000) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {gw.key}", "X-Call-Id": call_id}
    if key is not None:
        headers["Idempotency-Key"] = key
    if deadline_ms is not None:
        headers["X-Deadline-Ms"] = str(deadline_ms)
    async with gw.http.post(f"{gw.url}/v1/actions/{action}", json=body, headers=headers) as resp:
        return resp.status, dict(await resp.json())


async def stripe_posts(stack: Stack, path: str) -> list[dict[str, Any]]:
    assert stack.stripe is not None
    return [r for r in await stack.stripe.requests(path) if r["method"] == "POST" and r["path"] == path]


async def test_slow_stripe_answers_pending_within_the_turn_and_the_answer_arrives_three_ways(
    stack: Stack, inbox: tuple[str, Inbox]
) -> None:
    assert stack.stripe is not None
    sandbox = stack.stripe
    url, box = inbox
    stack.write_config(
        tenant={"notification_url": url, "notification_secret": NOTIFY_SECRET},
        idempotency={"lease_seconds": 10.0},
        server={"request_timeout": 9.0},
    )
    await stack.create_key()
    gw = await stack.start_gateway("gw")
    call = "call-" + uuid.uuid4().hex[:10]
    ada = sandbox.seed["customers"]["ada"]
    pi = sandbox.seed["payments"]["ada_latest"]["payment_intent"]
    status, body = await act(gw, "customers.verify", {"email": ada["email"], "postal_code": "SW1A 1AA",
                                                      "card_last4": "4242"}, call_id=call, deadline_ms=None)
    assert status == 200 and body["result"]["verified"] is True, body

    await sandbox.add_fault("latency", "/v1/", latency_ms=2000)
    requests = {
        "payments.lookup": ({"email": ada["email"]}, None),
        "refunds.create": ({"payment_id": pi}, "k-refund-1"),
        "coupons.create": ({"email": ada["email"], "percent_off": 10}, "k-coupon-1"),
    }
    pending: dict[str, str] = {}
    for action, (params, key) in requests.items():
        status, body = await act(gw, action, params, call_id=call, key=key)
        assert status == 202, (action, body)
        assert body["ok"] is True and body["pending"] is True and body["say"] == "One moment while I check that."
        # Answered while the work was still under way.
        got_status, got = await act(gw, "operations.get", {"operation_id": body["operation_id"]}, call_id=call,
                                    deadline_ms=None)
        assert got_status == 200 and got["result"]["status"] == "pending", (action, got)
        pending[action] = body["operation_id"]
    assert not [r for r in await stripe_posts(stack, "/v1/refunds") if r["status"] is not None]

    # 1. Replay with the same key: pending again until the work is done, then the final answer.
    async def replayed(action: str) -> dict[str, Any] | None:
        params, key = requests[action]
        status, body = await act(gw, action, params, call_id=call, key=key)
        if status == 202:
            assert body["pending"] is True and body["operation_id"] == pending[action]
            return None
        assert status == 200, (action, body)
        return body

    refund = await wait_until(lambda: replayed("refunds.create"), within=30, interval=0.3, what="refund answer")
    coupon = await wait_until(lambda: replayed("coupons.create"), within=30, interval=0.3, what="coupon answer")
    assert refund["result"]["refund_id"].startswith("re_") and refund["say"]
    assert coupon["result"]["code"] and coupon["say"]

    # 2. operations.get, for the keyed writes and for the keyless lookup.
    async def fetched(action: str) -> dict[str, Any] | None:
        status, got = await act(gw, "operations.get", {"operation_id": pending[action]}, call_id=call,
                                deadline_ms=None)
        assert status == 200, got
        return got if got["result"]["status"] == "done" else None

    lookup = await wait_until(lambda: fetched("payments.lookup"), within=30, interval=0.3, what="lookup answer")
    assert lookup["result"]["response"]["result"]["payments"][0]["id"] == pi
    assert lookup["say"] == lookup["result"]["response"]["say"]
    assert (await fetched("refunds.create"))["result"]["response"] == refund  # type: ignore[index]
    assert (await fetched("coupons.create"))["result"]["response"] == coupon  # type: ignore[index]

    # 3. A signed notification per operation, with the call id, the answer and its sentence.
    async def notified() -> bool:
        return all(box.completed(op) is not None for op in pending.values())

    await wait_until(notified, within=30, interval=0.2, what="operation.completed notifications")
    note = box.completed(pending["refunds.create"])
    assert note is not None
    assert note["data"]["call_id"] == call and note["data"]["response"] == refund and note["say"] == refund["say"]
    assert note["status"] == "succeeded"

    # Exactly one refund at Stripe, and the one the bot was told about.
    refunds = await sandbox.refunds_for(pi)
    assert [r["id"] for r in refunds] == [refund["result"]["refund_id"]]
    await sandbox.clear_faults()


async def test_gateway_killed_while_a_refund_is_pending_then_retried_makes_exactly_one_refund(
    stack: Stack,
) -> None:
    assert stack.stripe is not None
    sandbox = stack.stripe
    stack.write_config(idempotency={"lease_seconds": 4.0}, server={"request_timeout": 3.5})
    await stack.create_key()
    gw = await stack.start_gateway("gw")
    call = "call-" + uuid.uuid4().hex[:10]
    ada = sandbox.seed["customers"]["ada"]
    pi = sandbox.seed["payments"]["ada_succeeded"]["payment_intent"]
    status, body = await act(gw, "customers.verify", {"email": ada["email"], "postal_code": "SW1A 1AA",
                                                      "card_last4": "4242"}, call_id=call, deadline_ms=None)
    assert status == 200, body

    # Only the refund POST is slow: the caller is told `pending` while the refund is inside Stripe.
    await sandbox.add_fault("latency", "/v1/refunds", method="POST", latency_ms=2500)
    status, body = await act(gw, "refunds.create", {"payment_id": pi}, call_id=call, key="k-kill")
    assert status == 202 and body["pending"] is True, body
    op_id = body["operation_id"]

    async def at_stripe() -> bool:
        return bool(await stripe_posts(stack, "/v1/refunds"))

    await wait_until(at_stripe, within=20, interval=0.05, what="the refund at the sandbox")
    await gw.proc.kill()
    await sandbox.clear_faults()

    restarted = await stack.start_gateway("gw", port=gw.port)

    # The record of the dead process is `pending` until its lease lapses; then the retry takes it over and
    # runs again with the same provider keys: Stripe replays the refund the dead process created.
    async def retried() -> dict[str, Any] | None:
        status, body = await act(restarted, "refunds.create", {"payment_id": pi}, call_id=call, key="k-kill")
        if status == 202:
            assert body["operation_id"] == op_id
            return None
        assert status == 200, body
        return body

    final = await wait_until(retried, within=40, interval=0.3, what="the retried refund")
    refunds = await sandbox.refunds_for(pi)
    assert [r["id"] for r in refunds] == [final["result"]["refund_id"]]
    posts = await stripe_posts(stack, "/v1/refunds")
    assert len(posts) >= 2  # the retry did reach Stripe, which replayed rather than refunded again
