"""The adapter's API version setting and its Checkout expiry margin, against the sandbox on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from adapters.stripe.client import (
    CHECKOUT_EXPIRY_MARGIN,
    CHECKOUT_MAX_EXPIRY,
    CHECKOUT_MIN_EXPIRY,
    StripeAdapter,
    checkout_expires_at,
)
from adapters.stripe.sandbox import StripeSandbox
from adapters.stripe.versions import PINNED_API_VERSION

KEY = "sk_test_sandbox"


@pytest.fixture
async def sandbox() -> AsyncIterator[StripeSandbox]:
    sb = StripeSandbox(api_key=KEY, settle_delay=3600)
    await sb.start()
    yield sb
    await sb.stop()


def test_expiry_is_clamped_inside_stripes_window_with_a_margin() -> None:
    now = 1_800_000_000.0
    assert checkout_expires_at(int(now) + 24 * 3600, now) == int(now) + CHECKOUT_MAX_EXPIRY - CHECKOUT_EXPIRY_MARGIN
    assert checkout_expires_at(int(now) + 60, now) > int(now) + CHECKOUT_MIN_EXPIRY
    assert checkout_expires_at(int(now) + 3 * 3600, now) == int(now) + 3 * 3600


def test_version_must_look_like_a_stripe_version() -> None:
    with pytest.raises(ValueError, match="API version"):
        StripeAdapter(KEY, api_version="latest")


async def test_when_link_asks_for_24h_then_stripe_accepts_even_with_our_clock_ahead(sandbox: StripeSandbox) -> None:
    # Our clock 10 minutes ahead of Stripe's: exactly now + 24 h would be refused by Stripe (and the sandbox).
    adapter = StripeAdapter(KEY, base_url=sandbox.base_url, clock=lambda: time.time() + 600)
    try:
        s = await adapter.create_checkout_session(
            amount=1500, currency="gbp", description="Order 1", expires_at=int(time.time()) + 600 + 24 * 3600,
            idempotency_key="k-exp-1",
        )
    finally:
        await adapter.close()
    assert s.expires_at is not None
    assert s.expires_at - sandbox.now() < CHECKOUT_MAX_EXPIRY
    assert s.expires_at - sandbox.now() > CHECKOUT_MAX_EXPIRY - 2 * CHECKOUT_EXPIRY_MARGIN


async def test_requests_carry_the_configured_version_and_the_sandbox_answers_in_it(sandbox: StripeSandbox) -> None:
    old = "2025-02-24.acacia"
    for version in (PINNED_API_VERSION, old):
        adapter = StripeAdapter(KEY, base_url=sandbox.base_url, api_version=version)
        try:
            assert adapter.api_version == version
            await adapter.list_payments("cus_none", limit=1)
        finally:
            await adapter.close()
    assert [r.api_version for r in sandbox.request_log] == [PINNED_API_VERSION, old]
