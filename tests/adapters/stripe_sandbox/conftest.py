"""Fixtures: a sandbox on a real 127.0.0.1 socket and the real stripe SDK (async, aiohttp) pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe

from adapters.stripe.sandbox import StripeSandbox

API_KEY = "sk_test_sandbox"


@pytest.fixture
async def sandbox() -> AsyncIterator[StripeSandbox]:
    # Tiny webhook retry delays keep delivery-retry tests quick; async transitions only run on settle().
    sb = StripeSandbox(
        api_key=API_KEY, webhook_retry_delays=(0.01, 0.01), webhook_timeout=5, settle_delay=3600
    )
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def seeded(sandbox: StripeSandbox) -> dict[str, Any]:
    return sandbox.seed_demo_data()


def make_client(
    base_url: str, key: str = API_KEY, **kw: Any
) -> tuple[stripe.StripeClient, stripe.AIOHTTPClient]:
    http = stripe.AIOHTTPClient(timeout=kw.pop("timeout", 10))
    return stripe.StripeClient(key, base_addresses={"api": base_url}, http_client=http, **kw), http


@pytest.fixture
async def client(sandbox: StripeSandbox) -> AsyncIterator[stripe.StripeClient]:
    c, http = make_client(sandbox.base_url)
    yield c
    await http.close_async()
