"""End to end: a refund made through the bot's ``refunds.create`` becomes Stripe events, delivered signed by the
Stripe sandbox over a real socket to the gateway, processed once, and told to the bot as exactly one signed
notification at a receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.stripe.signing import verify_header
from tests.e2e.conftest import Gateway, new_call_id

WEBHOOK_SECRET = "whsec_e2e_webhooks"
NOTIFY_SECRET = "ntfsec_e2e_webhooks"


async def _bounded(check: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_refund_through_the_bot_yields_one_signed_notification(
    make_gateway: Callable[..., Awaitable[Gateway]], settings_factory: Any
) -> None:
    received: list[tuple[bytes, str]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers.get("Voicepay-Signature", "")))
        return web.Response(status=204)

    bot = web.Application()
    bot.router.add_post("/voicepay", receive)
    bot_server = TestServer(bot, host="127.0.0.1")
    await bot_server.start_server()
    try:
        ring = settings_factory.ring
        gw = await make_gateway(
            stripe_webhook_secrets=[ring.encrypt(WEBHOOK_SECRET)],
            notification_url=str(bot_server.make_url("/voicepay")),
            notification_secret=ring.encrypt(NOTIFY_SECRET),
        )
        webhook_url = str(gw.client.server.make_url("/v1/webhooks/stripe/acme"))
        assert webhook_url.startswith("http://127.0.0.1:")
        gw.sandbox.add_webhook_endpoint(webhook_url, WEBHOOK_SECRET)

        call = new_call_id()
        ada = gw.seed["customers"]["ada"]
        status, body = await gw.call(
            "customers.verify", {"email": ada["email"], "postal_code": "sw1a 1aa", "card_last4": "4242"},
            call_id=call,
        )
        assert status == 200, body
        status, body = await gw.call("refunds.create", {"email": ada["email"]}, call_id=call)
        assert status == 200, body
        refund_id = body["result"]["refund_id"]

        await gw.sandbox.flush_webhooks(wait=20)
        sent = {e["id"]: e["type"] for e in gw.sandbox.events() if e["type"] in ("refund.created", "charge.refunded")}
        assert sorted(sent.values()) == ["charge.refunded", "refund.created"]
        deliveries = [d for d in gw.sandbox.webhook_deliveries if d.event_id in sent]
        assert deliveries
        assert all(d.ok for d in deliveries)
        store = gw.services.store

        async def settled() -> bool:
            rows = await store.fetchall("SELECT event_id, status FROM webhook_events")
            done = {r["event_id"] for r in rows if r["status"] in ("processed", "ignored")}
            pending_jobs = await store.fetchall("SELECT id FROM jobs")
            return set(sent) <= done and not pending_jobs and len(received) >= 1

        await _bounded(settled, "events processed and the notification delivered")
        for event_id in sent:
            row = await store.fetchone(
                "SELECT processed_count, deliveries FROM webhook_events WHERE event_id = ?", event_id
            )
            assert row == {"processed_count": 1, "deliveries": 1}

        assert len(received) == 1
        raw, signature = received[0]
        verify_header(raw, signature, [NOTIFY_SECRET])
        note = json.loads(raw)
        assert note["type"] == "refund.succeeded"
        assert note["data"]["refund"] == refund_id
        assert note["say"].startswith("The refund of 12.99 British pounds has been processed")
        row = await store.fetchone("SELECT state, attempts FROM notifications WHERE id = ?", note["id"])
        assert row == {"state": "delivered", "attempts": 1}
        # The refunds action's own record follows the webhook.
        ref = await store.fetchone("SELECT refund_status FROM gateway_refunds WHERE refund_id = ?", refund_id)
        assert ref == {"refund_status": "succeeded"}
    finally:
        await bot_server.close()
