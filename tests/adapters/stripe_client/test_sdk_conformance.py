"""Every request the adapter can send fits the installed stripe SDK's generated parameter types.

Each public StripeAdapter operation runs against the sandbox, which checks every ``/v1`` request against
``stripe.params.*`` (adapters/stripe/sandbox/sdk_params.py) and records any misfit. The e2e suite makes the
same check on every request of every e2e test (tests/e2e/conftest.py); this one covers each operation
explicitly, including the ones no e2e test happens to reach.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe

from adapters.stripe.client import StripeAdapter
from adapters.stripe.sandbox import StripeSandbox

KEY = "sk_test_sandbox"


@pytest.fixture
async def sandbox() -> AsyncIterator[StripeSandbox]:
    sb = StripeSandbox(api_key=KEY, seed=True, settle_delay=3600)
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def adapter(sandbox: StripeSandbox) -> AsyncIterator[StripeAdapter]:
    a = StripeAdapter(KEY, base_url=sandbox.base_url)
    yield a
    await a.close()


async def test_every_adapter_operation_passes_the_sdk_type_check(
    sandbox: StripeSandbox, adapter: StripeAdapter
) -> None:
    seed: dict[str, Any] = sandbox.seed_data or {}
    ada = seed["customers"]["ada"]["id"]
    paid = seed["payments"]["ada_succeeded"]
    disputed = seed["payments"]["grace_disputed"]
    await adapter.list_customers_by_email("ada@example.com")
    await adapter.search_customers_by_phone("+447700900123")
    await adapter.get_customer(ada)
    await adapter.list_payments(ada, limit=5)
    await adapter.get_payment(paid["payment_intent"])
    await adapter.list_disputes(disputed["charge"])
    await adapter.create_refund(payment_intent=paid["payment_intent"], amount=100, reason="requested_by_customer",
                                metadata={"call_id": "c1"}, idempotency_key="conf-refund")
    coupon = await adapter.create_coupon(percent_off=10, duration="repeating", duration_in_months=2,
                                         max_redemptions=3, redeem_by=int(time.time()) + 86400, name="Sorry",
                                         metadata={"call_id": "c1"}, idempotency_key="conf-coupon")
    await adapter.create_coupon(amount_off=500, currency="gbp", idempotency_key="conf-coupon-2")
    await adapter.create_promotion_code(coupon.id, "SORRY10", customer=ada, max_redemptions=1,
                                        expires_at=int(time.time()) + 3600, metadata={"call_id": "c1"},
                                        idempotency_key="conf-promo")
    await adapter.find_promotion_code("SORRY10")
    await adapter.list_subscriptions(ada)
    pi = await adapter.create_payment_intent(amount=2500, currency="gbp", customer=ada, description="Order",
                                             metadata={"call_id": "c1"}, idempotency_key="conf-pi")
    await adapter.get_payment_intent(pi.id)
    await adapter.cancel_payment_intent(pi.id, reason="abandoned", idempotency_key="conf-cancel")
    await adapter.create_checkout_session(amount=1500, currency="gbp", description="Order", customer=ada,
                                          metadata={"call_id": "c1"}, success_url="https://example.com/ok",
                                          expires_at=int(time.time()) + 24 * 3600, idempotency_key="conf-cs")
    await adapter.create_checkout_session(amount=1500, currency="gbp", description="Order",
                                          customer_email="x@example.com", idempotency_key="conf-cs-2")
    log = [r for r in sandbox.request_log if r.path.startswith("/v1/")]
    assert all(r.status == 200 for r in log), [(r.method, r.path, r.status) for r in log if r.status != 200]
    assert sandbox.sdk_violations() == []
    endpoints = {f"{r.method} {r.path.split('/')[2]}" for r in log}
    assert {"GET customers", "GET charges", "GET payment_intents", "GET disputes", "POST refunds", "POST coupons",
            "POST promotion_codes", "GET promotion_codes", "GET subscriptions", "POST payment_intents",
            "POST checkout"} <= endpoints


async def test_a_request_outside_the_sdk_types_would_be_caught(sandbox: StripeSandbox) -> None:
    """The check above is not vacuous: the same path with a parameter the pinned version removed is refused
    and recorded."""
    adapter = StripeAdapter(KEY, base_url=sandbox.base_url)
    try:
        with pytest.raises(stripe.InvalidRequestError) as info:
            await adapter._client.v1.payment_intents.create_async(params={  # type: ignore[typeddict-unknown-key]
                "amount": 1000, "currency": "gbp", "payment_method_types": ["card"]})
    finally:
        await adapter.close()
    assert "payment_method_types" in str(info.value)
    [bad] = sandbox.sdk_violations()
    assert bad.path == "/v1/payment_intents"
