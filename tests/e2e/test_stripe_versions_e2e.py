"""End to end over real sockets: ``invoice.payment_failed`` from the sandbox reaches the bot with its
subscription id in the pinned API version's shape, and an endpoint created at another release's version is
refused processing (stored, dead-lettered, counted) until the operator replays it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.stripe.sandbox.versions import OLD_VERSION
from gateway.webhooks import replay_events
from tests.e2e.conftest import Gateway

WEBHOOK_SECRET = "whsec_e2e_versions"


async def _bounded(check: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _setup(make_gateway: Callable[..., Awaitable[Gateway]], settings_factory: Any,
                 version: str | None) -> tuple[Gateway, str]:
    gw = await make_gateway(stripe_webhook_secrets=[settings_factory.ring.encrypt(WEBHOOK_SECRET)])
    url = str(gw.client.server.make_url("/v1/webhooks/stripe/acme"))
    kw = {"api_version": version} if version else {}
    gw.sandbox.add_webhook_endpoint(url, WEBHOOK_SECRET, ["invoice.payment_failed"], **kw)
    sub_id = gw.seed["subscriptions"]["ada_active"]["id"]
    gw.sandbox.state.mark_past_due(sub_id)
    await gw.sandbox.flush_webhooks(wait=20)
    return gw, sub_id


async def _invoice_notes(gw: Gateway) -> list[dict[str, Any]]:
    rows = await gw.services.store.fetchall("SELECT body FROM notifications WHERE kind = 'invoice.payment_failed'")
    return [json.loads(r["body"])["data"] for r in rows]


async def _status(gw: Gateway) -> str | None:
    row = await gw.services.store.fetchone(
        "SELECT status FROM webhook_events WHERE type = 'invoice.payment_failed'")
    return None if row is None else str(row["status"])


async def test_invoice_payment_failed_reaches_the_bot_with_its_subscription(
    make_gateway: Callable[..., Awaitable[Gateway]], settings_factory: Any
) -> None:
    gw, sub_id = await _setup(make_gateway, settings_factory, None)

    async def noted() -> bool:
        return bool(await _invoice_notes(gw))

    await _bounded(noted, "invoice.payment_failed notified")
    [data] = await _invoice_notes(gw)
    assert data["subscription"] == sub_id  # read from parent.subscription_details (the pinned shape)
    assert data["customer"] == gw.seed["customers"]["ada"]["id"]


async def test_event_from_an_endpoint_of_another_release_is_refused_until_replayed(
    make_gateway: Callable[..., Awaitable[Gateway]], settings_factory: Any
) -> None:
    gw, sub_id = await _setup(make_gateway, settings_factory, OLD_VERSION)
    assert all(d.ok for d in gw.sandbox.webhook_deliveries)  # acknowledged: Stripe stops retrying
    assert await _status(gw) == "dead"
    assert await _invoice_notes(gw) == []
    refused = gw.services.metrics.registry.get_sample_value(
        "voicepay_webhook_api_version_mismatch_total", {"tenant": "acme", "decision": "refused"})
    assert refused == 1
    [event_id] = [e["id"] for e in gw.sandbox.events("invoice.payment_failed")]
    assert await replay_events(gw.services.store, event_id=event_id) == [event_id]

    async def processed() -> bool:
        return await _status(gw) == "processed"

    await _bounded(processed, "replayed event processed")
    [data] = await _invoice_notes(gw)
    assert data["subscription"] == sub_id  # from the old top-level invoice.subscription
