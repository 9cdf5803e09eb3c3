"""Live call events across real processes: two ``voicepay serve`` on one PostgreSQL, the Stripe sandbox and the
PCI Pal emulator. A bot subscribed to its call on instance A gets that call's refund (made through B) and
capture notifications, none of another call's; after a dropped connection it resumes with what it missed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import stripe

from adapters.stripe.signing import sign_header, verify_header
from tests.e2e.procs import NOTIFY_SECRET, TENANT, WEBHOOK_SECRET, GatewayProc, Stack, free_port, pg_stack

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


async def verify_ada(gw: GatewayProc, stack: Stack, call_id: str) -> None:
    assert stack.stripe is not None
    ada = stack.stripe.seed["customers"]["ada"]
    status, body = await gw.call(
        "customers.verify", {"email": ada["email"], "postal_code": "SW1A 1AA", "card_last4": "4242"},
        call_id=call_id,
    )
    assert status == 200 and body["result"]["verified"] is True, body


async def refund_on(gw: GatewayProc, stack: Stack, call_id: str, payment_key: str, amount: int) -> str:
    """A refund made in ``call_id`` through ``gw``; then Stripe's ``refund.updated`` for it, posted to ``gw``."""
    assert stack.stripe is not None
    await verify_ada(gw, stack, call_id)
    pi = stack.stripe.seed["payments"][payment_key]["payment_intent"]
    status, body = await gw.call("refunds.create", {"payment_id": pi, "amount": amount}, call_id=call_id,
                                 idempotency_key=f"{call_id}-{amount}")
    assert status == 200, body
    refund_id = str(body["result"]["refund_id"])
    event = {
        "id": f"evt_live_{uuid.uuid4().hex[:12]}", "object": "event", "api_version": stripe.api_version,
        "type": "refund.updated", "created": int(time.time()), "livemode": False,
        "data": {"object": {"id": refund_id, "object": "refund", "status": "succeeded", "amount": amount,
                            "currency": "gbp", "payment_intent": pi}},
    }
    raw = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign_header(raw, [WEBHOOK_SECRET], int(time.time())),
               "Content-Type": "application/json"}
    async with gw.http.post(f"{gw.url}/v1/webhooks/stripe/{TENANT}", data=raw, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
    return refund_id


async def next_notification(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=30)
        if frame["type"] == "notification":
            verify_header(frame["body"].encode(), frame["signature"], [NOTIFY_SECRET], tolerance=300)
            return dict(frame)


async def quiet(ws: aiohttp.ClientWebSocketResponse, seconds: float = 2.0) -> list[dict[str, Any]]:
    """Every notification frame that arrives within ``seconds`` (an empty list is the expected answer)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = await ws.receive_json(timeout=left)
        except TimeoutError:
            break
        if frame["type"] == "notification":
            got.append(frame)
    return got


async def test_subscriber_on_one_instance_gets_its_calls_refund_and_capture_and_resumes(stack: Stack) -> None:
    pcipal = await stack.start_pcipal()
    stack.write_config(tenant={"notification_secret": NOTIFY_SECRET,
                               "policy": {"max_refunds_per_customer": 10}},
                       live={"poll_interval_seconds": 0.2})
    await stack.create_key()
    port_b = free_port()
    b = await stack.start_gateway("b", port=port_b)
    a = await stack.start_gateway("a")
    call, other_call = "call-" + uuid.uuid4().hex[:10], "call-" + uuid.uuid4().hex[:10]
    url = f"{a.url.replace('http', 'ws', 1)}/v1/calls/{call}/events"
    auth = {"Authorization": f"Bearer {a.key}"}

    try:
        async with stack.http.ws_connect(url, headers=auth) as ws:
            # Another call's refund (through A) comes first, then this call's refund through B.
            await refund_on(a, stack, other_call, "ada_succeeded", 110)
            mine = await refund_on(b, stack, call, "ada_succeeded", 120)
            frame = await next_notification(ws)
            note = frame["notification"]
            assert (note["type"], note["data"]["refund"], note["data"]["call_id"]) == ("refund.succeeded", mine,
                                                                                       call), note
            # A capture in this call, its PCI Pal callback handled by B.
            status, body = await b.call("capture.start", {"amount": 1800, "description": "Order 9"},
                                        call_id=call, idempotency_key=f"{call}-cap")
            assert status == 200, body
            cap = body["result"]
            await pcipal.simulate(cap["pcipal_session_id"], "success", card="visa", wait=True)
            frame = await next_notification(ws)
            note = frame["notification"]
            assert (note["type"], note["data"]["capture_id"]) == ("capture.succeeded", cap["capture_id"]), note
            assert note["data"]["card_last4"] == "4242"
            assert note["data"]["call_id"] == call  # stored with the capture (capture_sessions.call_id)
            last_id = frame["id"]
            assert await quiet(ws) == []  # nothing of the other call, nothing twice

        # Dropped: meanwhile another refund in this call (through B) and one in the other call.
        await refund_on(b, stack, other_call, "ada_succeeded", 130)
        missed = await refund_on(b, stack, call, "ada_succeeded", 140)
        async with stack.http.ws_connect(f"{url}?last_event_id={last_id}", headers=auth) as ws:
            frame = await next_notification(ws)
            assert frame["notification"]["data"]["refund"] == missed
            assert await quiet(ws) == []
    except BaseException:
        print(stack.logs())
        raise
