"""Helpers for webhook tests: build Stripe-shaped events, sign them as Stripe does, wait for the worker."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.stripe.versions import PINNED_API_VERSION
from gateway.services import SERVICES, Services

# Tiny delays so retry paths run within a test; the worker polls often.
FAST_WEBHOOKS: dict[str, Any] = {
    "poll_interval_seconds": 0.05,
    "retry_base_seconds": 0.01,
    "retry_max_seconds": 0.05,
    "job_max_attempts": 3,
    "stop_timeout_seconds": 2.0,
}
FAST_NOTIFICATIONS: dict[str, Any] = {"retry_schedule_seconds": [0.01, 0.01], "timeout_seconds": 5.0}


def make_event(
    type_: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": PINNED_API_VERSION,  # as the endpoint is created at the configured version
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "type": type_,
    }


def stripe_header(body: bytes, secrets_: list[str], t: int | None = None) -> str:
    """``Stripe-Signature`` exactly as Stripe's docs describe it: HMAC-SHA256 of ``"{t}.{body}"``, hex."""
    ts = int(time.time()) if t is None else t
    parts = [f"t={ts}"]
    for s in secrets_:
        parts.append("v1=" + hmac.new(s.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest())
    return ",".join(parts)


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2).encode()


async def post_event(
    client: Any, event: dict[str, Any], *, tenant: str = "acme", secrets_: list[str] | None = None,
    t: int | None = None, header: str | None = None,
) -> Any:
    body = body_of(event)
    headers = {"Content-Type": "application/json"}
    sig = header if header is not None else stripe_header(body, secrets_ or ["whsec_acme"], t)
    if sig:
        headers["Stripe-Signature"] = sig
    return await client.post(f"/v1/webhooks/stripe/{tenant}", data=body, headers=headers)


async def wait_for(check: Callable[[], Awaitable[bool]], limit: float = 15.0, what: str = "condition") -> None:
    """Poll until ``check()`` is true; fail after ``timeout`` (a bound on waiting, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def services_of(client: Any) -> Services:
    return client.server.app[SERVICES]


async def event_row(client: Any, event_id: str) -> dict[str, Any] | None:
    return await services_of(client).store.fetchone(
        "SELECT * FROM webhook_events WHERE event_id = ?", event_id
    )


async def processed(client: Any, event_id: str) -> bool:
    row = await event_row(client, event_id)
    return row is not None and row["status"] in ("processed", "ignored", "dead")


def tenant_with(settings_factory: Any, **fields: Any) -> list[dict[str, Any]]:
    """The default "acme" tenant with some fields replaced (secrets given in plaintext are encrypted)."""
    ring = settings_factory.ring
    tenant: dict[str, Any] = {
        "id": "acme",
        "name": "Acme Ltd",
        "stripe_secret_key": ring.encrypt("sk_test_acme"),
        "stripe_api_base": "http://127.0.0.1:9",
        "stripe_webhook_secrets": [ring.encrypt("whsec_acme")],
        "currency": "gbp",
    }
    for k, v in fields.items():
        if k == "stripe_webhook_secrets":
            v = [ring.encrypt(s) for s in v]
        elif k in ("notification_secret", "stripe_secret_key"):
            v = ring.encrypt(v)
        tenant[k] = v
    return [tenant]
