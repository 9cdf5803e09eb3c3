"""StripeAdapter over aioresponses: idempotency across retries, retry/no-retry, breaker, deadline, mapping.

No network: base_url is 127.0.0.1 and aioresponses intercepts every request. Backoffs are tiny and nothing
asserts a duration.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import stripe
from aioresponses import aioresponses

from adapters.outcomes import (
    Outcome,
    ProviderAuthError,
    ProviderDeclined,
    ProviderIdempotencyError,
    ProviderInvalidRequest,
    ProviderNotFound,
    ProviderTimeout,
    ProviderUnavailable,
)
from adapters.resilience import BreakerState, CircuitBreaker, RetryPolicy
from adapters.stripe.client import StripeAdapter

BASE = "http://127.0.0.1:12111"
API_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


def url(path: str) -> re.Pattern[str]:
    """Match a path with any query string (the SDK sends GET params in the query)."""
    return re.compile("^" + re.escape(BASE + path) + r"(\?.*)?$")


def fast_policy(**kw: Any) -> RetryPolicy:
    base: dict[str, Any] = {
        "max_attempts": 3,
        "deadline": 30.0,
        "base_backoff": 0.001,
        "max_backoff": 0.002,
        "jitter": 0.0,
    }
    base.update(kw)
    return RetryPolicy(**base)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def adapter() -> AsyncIterator[StripeAdapter]:
    a = StripeAdapter(API_KEY, base_url=BASE, retry=fast_policy())
    yield a
    await a.close()


def calls(m: aioresponses) -> list[tuple[str, str, dict[str, Any]]]:
    """Every intercepted request as (method, url, kwargs)."""
    return [(key[0], str(key[1]), c.kwargs) for key, cs in m.requests.items() for c in cs]


def query(u: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)


def form(kwargs: dict[str, Any]) -> dict[str, list[str]]:
    data = kwargs.get("data")
    if isinstance(data, bytes):
        data = data.decode()
    return urllib.parse.parse_qs(data or "")


def stripe_error(type_: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"type": type_, "message": f"echo of input 4242424242424242 {API_KEY}"}
    if code:
        err["code"] = code
    err.update(extra)
    return {"error": err}


REFUND = {
    "id": "re_123",
    "object": "refund",
    "amount": 500,
    "currency": "gbp",
    "status": "succeeded",
    "reason": "requested_by_customer",
    "charge": "ch_123",
    "payment_intent": "pi_123",
    "created": 1700000000,
    "failure_reason": None,
    "destination_details": {"type": "card", "card": {"type": "refund"}},
    "metadata": {"call": "c1"},
}

CHARGE = {
    "id": "ch_123",
    "object": "charge",
    "amount": 2599,
    "amount_refunded": 500,
    "currency": "gbp",
    "status": "succeeded",
    "created": 1700000000,
    "description": "Order 42",
    "refunded": False,
    "disputed": False,
    "failure_code": None,
    "failure_message": None,
    "customer": "cus_123",
    "payment_intent": "pi_123",
    "metadata": {},
    "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
}


async def refund(adapter: StripeAdapter, key: str = "refund:call-1:pi_123:500") -> Any:
    return await adapter.create_refund(
        payment_intent="pi_123",
        amount=500,
        reason="requested_by_customer",
        metadata={"call": "c1"},
        idempotency_key=key,
    )


# ----- the acceptance set


async def test_when_a_write_times_out_after_sending_then_the_retry_reuses_the_same_idempotency_key(
    adapter: StripeAdapter,
) -> None:
    with aioresponses() as m:
        m.post(url("/v1/refunds"), exception=TimeoutError())
        m.post(url("/v1/refunds"), payload=REFUND, headers={"Request-Id": "req_2"})
        result = await refund(adapter)

    sent = calls(m)
    assert len(sent) == 2
    keys = [kw["headers"]["Idempotency-Key"] for _, _, kw in sent]
    assert keys == ["refund:call-1:pi_123:500", "refund:call-1:pi_123:500"]
    assert form(sent[0][2]) == form(sent[1][2])  # identical parameters: Stripe replays, never refunds twice
    assert result.id == "re_123"
    assert result.destination_type == "refund"
    assert adapter.stats.requests == 2
    assert adapter.stats.retries == 1


async def test_when_the_card_is_declined_with_402_then_it_is_not_retried(adapter: StripeAdapter) -> None:
    body = stripe_error("card_error", "card_declined", decline_code="insufficient_funds")
    with aioresponses() as m:
        m.post(
            url("/v1/payment_intents"),
            status=402,
            payload=body,
            headers={"Request-Id": "req_402"},
            repeat=True,
        )
        with pytest.raises(ProviderDeclined) as info:
            await adapter.create_payment_intent(amount=1000, currency="GBP", idempotency_key="pi:call-1")

    assert len(calls(m)) == 1
    err = info.value
    assert err.outcome is Outcome.DECLINED
    assert err.provider_code == "insufficient_funds"
    assert err.http_status == 402
    assert err.provider_request_id == "req_402"


async def test_when_rate_limited_with_429_then_retried_after_the_retry_after_wait(
    adapter: StripeAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.stripe")
    with aioresponses() as m:
        m.get(
            url("/v1/charges"),
            status=429,
            payload=stripe_error("invalid_request_error", "rate_limit"),
            headers={"Retry-After": "0.05"},
        )
        m.get(
            url("/v1/charges"),
            payload={"object": "list", "data": [CHARGE], "has_more": False, "url": "/v1/charges"},
        )
        payments = await adapter.list_payments("cus_123")

    assert len(calls(m)) == 2
    assert [p.charge_id for p in payments] == ["ch_123"]
    # The scheduled wait is the server's hint (0.05 s), not the 0.001 s backoff.
    assert "retrying in 0.050s" in caplog.text


async def test_breaker_opens_after_repeated_failures_fails_fast_and_recovers_via_half_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30, clock=clock)
    a = StripeAdapter(API_KEY, base_url=BASE, retry=fast_policy(max_attempts=2), breaker=breaker)
    try:
        with aioresponses() as m:
            m.get(url("/v1/customers/cus_1"), status=503, payload=stripe_error("api_error"), repeat=True)
            for _ in range(2):
                with pytest.raises(ProviderUnavailable):
                    await a.get_customer("cus_1")
            assert breaker.state is BreakerState.OPEN
            sent = a.stats.requests
            assert sent == 4  # two calls, two attempts each

            with pytest.raises(ProviderUnavailable) as info:
                await a.get_customer("cus_1")
            assert info.value.outcome is Outcome.NOT_ATTEMPTED
            assert a.stats.requests == sent  # failed fast: nothing sent

        clock.now += 30  # half-open: one probe goes through and succeeds
        with aioresponses() as m:
            m.get(
                url("/v1/customers/cus_1"),
                payload={
                    "id": "cus_1",
                    "object": "customer",
                    "created": 1,
                    "email": "a@b.com",
                    "address": {"postal_code": "SW1A 1AA"},
                },
            )
            customer = await a.get_customer("cus_1")
        assert customer.postal_code == "SW1A 1AA"
        assert breaker.state is BreakerState.CLOSED
    finally:
        await a.close()


async def test_breaker_is_not_tripped_by_declines_or_invalid_requests() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30)
    a = StripeAdapter(API_KEY, base_url=BASE, retry=fast_policy(), breaker=breaker)
    try:
        with aioresponses() as m:
            m.post(
                url("/v1/refunds"),
                status=400,
                repeat=True,
                payload=stripe_error("invalid_request_error", "charge_already_refunded"),
            )
            for _ in range(3):
                with pytest.raises(ProviderInvalidRequest):
                    await refund(a)
        assert breaker.state is BreakerState.CLOSED
    finally:
        await a.close()


async def test_when_the_deadline_would_pass_then_retries_stop() -> None:
    a = StripeAdapter(API_KEY, base_url=BASE, retry=fast_policy(max_attempts=10, deadline=1.0))
    try:
        with aioresponses() as m:
            # Stripe asks for a 30 s pause; the caller cannot wait that long.
            m.post(
                url("/v1/refunds"),
                status=503,
                payload=stripe_error("api_error"),
                headers={"Retry-After": "30"},
                repeat=True,
            )
            with pytest.raises(ProviderUnavailable) as info:
                await refund(a)
        assert len(calls(m)) == 1
        assert info.value.outcome is Outcome.UNKNOWN  # a 5xx on a write is indeterminate (Stripe docs)
    finally:
        await a.close()


async def test_when_an_attempt_hangs_past_the_deadline_then_a_write_is_unknown() -> None:
    a = StripeAdapter(API_KEY, base_url=BASE, retry=fast_policy(max_attempts=5, deadline=0.05))
    never = asyncio.Event()

    async def hang(url: Any, **kwargs: Any) -> None:
        await never.wait()

    try:
        with aioresponses() as m:
            m.post(url("/v1/refunds"), callback=hang, repeat=True)
            with pytest.raises(ProviderTimeout) as info:
                await refund(a)
        assert len(calls(m)) == 1
        assert info.value.outcome is Outcome.UNKNOWN
        assert info.value.retryable
    finally:
        await a.close()


# ----- error mapping


@pytest.mark.parametrize(
    ("status", "body", "error_type", "provider_code"),
    [
        (
            404,
            stripe_error("invalid_request_error", "resource_missing", param="id"),
            ProviderNotFound,
            "resource_missing",
        ),
        (
            400,
            stripe_error("invalid_request_error", "charge_already_refunded"),
            ProviderInvalidRequest,
            "charge_already_refunded",
        ),
        (
            400,
            stripe_error("invalid_request_error", "amount_too_large"),
            ProviderInvalidRequest,
            "amount_too_large",
        ),
        (
            400,
            stripe_error("invalid_request_error", "charge_disputed"),
            ProviderInvalidRequest,
            "charge_disputed",
        ),
        (400, stripe_error("idempotency_error"), ProviderIdempotencyError, None),
        (401, stripe_error("invalid_request_error"), ProviderAuthError, None),
        (403, stripe_error("invalid_request_error"), ProviderAuthError, None),
        (
            402,
            stripe_error("card_error", "authentication_required"),
            ProviderDeclined,
            "authentication_required",
        ),
        (402, stripe_error("card_error", "expired_card"), ProviderDeclined, "expired_card"),
    ],
)
async def test_stripe_errors_map_onto_the_outcome_tree_without_echoing_stripe_text(
    adapter: StripeAdapter,
    status: int,
    body: dict[str, Any],
    error_type: type[Exception],
    provider_code: str | None,
) -> None:
    with aioresponses() as m:
        m.post(url("/v1/refunds"), status=status, payload=body, headers={"Request-Id": "req_x"}, repeat=True)
        with pytest.raises(error_type) as info:
            await refund(adapter)
    assert len(calls(m)) == 1  # none of these is retried
    err = info.value
    assert getattr(err, "provider_code", None) == provider_code
    assert getattr(err, "provider_request_id", None) == "req_x"
    assert getattr(err, "http_status", None) == status
    if not isinstance(err, ProviderDeclined):
        assert getattr(err, "outcome", None) is Outcome.NOT_ATTEMPTED
    text = str(err) + repr(err.args)
    assert "4242424242424242" not in text
    assert API_KEY not in text
    assert "echo of input" not in text
    assert err.__cause__ is None
    assert err.__suppress_context__


async def test_when_connection_keeps_dropping_on_a_write_then_timeout_with_unknown_outcome(
    adapter: StripeAdapter,
) -> None:
    with aioresponses() as m:
        m.post(url("/v1/refunds"), exception=aiohttp.ServerDisconnectedError(), repeat=True)
        with pytest.raises(ProviderTimeout) as info:
            await refund(adapter)
    assert len(calls(m)) == 3
    assert info.value.outcome is Outcome.UNKNOWN


async def test_when_connection_keeps_dropping_on_a_read_then_unavailable_not_timeout(
    adapter: StripeAdapter,
) -> None:
    with aioresponses() as m:
        m.get(url("/v1/charges"), exception=TimeoutError(), repeat=True)
        with pytest.raises(ProviderUnavailable) as info:
            await adapter.list_payments("cus_123")
    assert not isinstance(info.value, ProviderTimeout)
    assert len(calls(m)) == 3


async def test_when_stripe_cannot_even_be_connected_to_then_a_write_was_not_attempted(
    adapter: StripeAdapter,
) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 12111, False, True, None, None, None),
        OSError(111, "Connection refused"),
    )
    with aioresponses() as m:
        m.post(url("/v1/refunds"), exception=refused, repeat=True)
        with pytest.raises(ProviderUnavailable) as info:
            await refund(adapter)
    assert not isinstance(info.value, ProviderTimeout)
    assert info.value.outcome is Outcome.NOT_ATTEMPTED


async def test_when_a_409_is_followed_by_success_then_the_stored_result_is_returned(
    adapter: StripeAdapter,
) -> None:
    with aioresponses() as m:
        m.post(url("/v1/refunds"), status=409, payload=stripe_error("idempotency_error"))
        m.post(url("/v1/refunds"), payload=REFUND, headers={"Idempotent-Replayed": "true"})
        result = await refund(adapter)
    assert result.id == "re_123"
    assert len({kw["headers"]["Idempotency-Key"] for _, _, kw in calls(m)}) == 1


async def test_a_write_without_an_idempotency_key_is_refused_before_sending(adapter: StripeAdapter) -> None:
    with aioresponses() as m, pytest.raises(ValueError):
        await refund(adapter, key="")
    assert calls(m) == []


# ----- domain methods


async def test_requests_are_pinned_to_the_sdk_api_version_and_sdk_retries_are_off(
    adapter: StripeAdapter,
) -> None:
    with aioresponses() as m:
        m.get(url("/v1/charges"), payload={"object": "list", "data": [], "has_more": False})
        await adapter.list_payments("cus_123", limit=5)
    ((_, u, kw),) = calls(m)
    assert kw["headers"]["Stripe-Version"] == stripe.api_version == adapter.api_version
    assert query(u) == {"customer": ["cus_123"], "limit": ["5"]}
    assert adapter.stats.by_endpoint == {"GET /v1/charges": 1}


async def test_list_payments_maps_a_charge_to_a_payment(adapter: StripeAdapter) -> None:
    with aioresponses() as m:
        m.get(url("/v1/charges"), payload={"object": "list", "data": [CHARGE], "has_more": False})
        (p,) = await adapter.list_payments("cus_123")
    assert (p.id, p.charge_id, p.amount, p.currency, p.status) == (
        "pi_123",
        "ch_123",
        2599,
        "gbp",
        "succeeded",
    )
    assert (p.card_brand, p.card_last4, p.amount_refunded, p.amount_refundable) == ("visa", "4242", 500, 2099)
    assert (p.customer_id, p.description, p.disputed, p.refunded) == ("cus_123", "Order 42", False, False)


async def test_email_lookup_falls_back_to_lower_case_when_nothing_matches(adapter: StripeAdapter) -> None:
    with aioresponses() as m:
        m.get(url("/v1/customers"), payload={"object": "list", "data": [], "has_more": False})
        m.get(
            url("/v1/customers"),
            payload={
                "object": "list",
                "has_more": False,
                "data": [
                    {
                        "id": "cus_1",
                        "object": "customer",
                        "email": "ann@example.com",
                        "name": "Ann",
                        "created": 5,
                        "phone": "+447700900123",
                        "address": None,
                        "metadata": {"tier": "gold"},
                    }
                ],
            },
        )
        found = await adapter.list_customers_by_email("Ann@Example.com")
    emails = [query(u)["email"][0] for _, u, _ in calls(m)]
    assert emails == ["Ann@Example.com", "ann@example.com"]
    assert [(c.id, c.email, c.postal_code, c.metadata) for c in found] == [
        ("cus_1", "ann@example.com", None, {"tier": "gold"})
    ]


async def test_email_lookup_makes_one_call_when_found(adapter: StripeAdapter) -> None:
    with aioresponses() as m:
        m.get(
            url("/v1/customers"),
            payload={
                "object": "list",
                "has_more": False,
                "data": [{"id": "cus_1", "object": "customer", "email": "Ann@Example.com", "created": 5}],
            },
        )
        found = await adapter.list_customers_by_email("Ann@Example.com")
    assert len(found) == 1
    assert adapter.stats.requests == 1


async def test_phone_search_quotes_an_e164_number_and_refuses_anything_else(adapter: StripeAdapter) -> None:
    with aioresponses() as m:
        m.get(url("/v1/customers/search"), payload={"object": "search_result", "data": [], "has_more": False})
        assert await adapter.search_customers_by_phone("+447700900123") == []
        with pytest.raises(ValueError):
            await adapter.search_customers_by_phone("07700 900123' OR email:'x")
    ((_, u, _),) = calls(m)
    assert query(u)["query"] == ["phone:'+447700900123'"]


async def test_get_payment_by_payment_intent_expands_the_latest_charge_in_one_call(
    adapter: StripeAdapter,
) -> None:
    pi = {
        "id": "pi_123",
        "object": "payment_intent",
        "amount": 2599,
        "currency": "gbp",
        "status": "succeeded",
        "created": 1700000000,
        "customer": "cus_123",
        "latest_charge": CHARGE,
        "metadata": {},
    }
    with aioresponses() as m:
        m.get(url("/v1/payment_intents/pi_123"), payload=pi)
        p = await adapter.get_payment("pi_123")
    ((_, u, _),) = calls(m)
    assert query(u) == {"expand[0]": ["latest_charge"]}
    assert (p.payment_intent_id, p.charge_id, p.status, p.card_last4) == (
        "pi_123",
        "ch_123",
        "succeeded",
        "4242",
    )
    assert p.payment_intent_status == "succeeded"


async def test_get_payment_intent_reports_the_last_decline_code(adapter: StripeAdapter) -> None:
    pi = {
        "id": "pi_9",
        "object": "payment_intent",
        "amount": 100,
        "currency": "gbp",
        "status": "requires_payment_method",
        "created": 1,
        "latest_charge": None,
        "last_payment_error": {"type": "card_error", "code": "card_declined", "decline_code": "lost_card"},
    }
    with aioresponses() as m:
        m.get(url("/v1/payment_intents/pi_9"), payload=pi)
        info = await adapter.get_payment_intent("pi_9")
        m.get(url("/v1/payment_intents/pi_9"), payload=pi)
        payment = await adapter.get_payment("pi_9")
    assert info.last_payment_error_code == "lost_card"
    assert (payment.status, payment.failure_code) == ("incomplete", "lost_card")


async def test_create_payment_intent_sends_card_only_typed_params_and_the_key(adapter: StripeAdapter) -> None:
    pi = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 1000,
        "currency": "gbp",
        "status": "requires_payment_method",
        "created": 1,
        "metadata": {"moto": "true"},
    }
    with aioresponses() as m:
        m.post(url("/v1/payment_intents"), payload=pi)
        info = await adapter.create_payment_intent(
            amount=1000, currency="GBP", customer="cus_1", description="Phone order", idempotency_key="cap:1"
        )
    ((_, _, kw),) = calls(m)
    body = form(kw)
    assert body["allowed_payment_method_types[0]"] == ["card"]
    assert body["currency"] == ["gbp"]
    assert body["metadata[moto]"] == ["true"]
    assert kw["headers"]["Idempotency-Key"] == "cap:1"
    assert (info.id, info.status) == ("pi_1", "requires_payment_method")


async def test_promotion_code_uses_the_new_promotion_shape(adapter: StripeAdapter) -> None:
    promo = {
        "id": "promo_1",
        "object": "promotion_code",
        "code": "KILO-7",
        "active": True,
        "created": 1,
        "customer": "cus_1",
        "max_redemptions": 1,
        "times_redeemed": 0,
        "expires_at": 99,
        "promotion": {"type": "coupon", "coupon": "co_1"},
        "restrictions": {},
    }
    with aioresponses() as m:
        m.post(url("/v1/promotion_codes"), payload=promo)
        code = await adapter.create_promotion_code(
            "co_1", "KILO-7", customer="cus_1", max_redemptions=1, expires_at=99, idempotency_key="promo:1"
        )
    ((_, _, kw),) = calls(m)
    body = form(kw)
    assert body["promotion[type]"] == ["coupon"]
    assert body["promotion[coupon]"] == ["co_1"]
    assert "coupon" not in body
    assert (code.code, code.coupon_id, code.customer_id) == ("KILO-7", "co_1", "cus_1")


async def test_find_promotion_code_expands_the_coupon_and_prefers_an_active_code(
    adapter: StripeAdapter,
) -> None:
    coupon = {
        "id": "co_1",
        "object": "coupon",
        "percent_off": 10,
        "duration": "once",
        "valid": True,
        "created": 1,
        "times_redeemed": 0,
    }
    data = [
        {
            "id": "promo_old",
            "object": "promotion_code",
            "code": "KILO-7",
            "active": False,
            "created": 1,
            "promotion": {"type": "coupon", "coupon": coupon},
        },
        {
            "id": "promo_new",
            "object": "promotion_code",
            "code": "KILO-7",
            "active": True,
            "created": 2,
            "promotion": {"type": "coupon", "coupon": coupon},
        },
    ]
    with aioresponses() as m:
        m.get(url("/v1/promotion_codes"), payload={"object": "list", "data": data, "has_more": False})
        found = await adapter.find_promotion_code("KILO-7")
        m.get(url("/v1/promotion_codes"), payload={"object": "list", "data": [], "has_more": False})
        assert await adapter.find_promotion_code("NOPE") is None
    assert found is not None
    assert found.id == "promo_new"
    assert found.coupon is not None
    assert found.coupon.percent_off == 10.0
    assert query(calls(m)[0][1])["expand[0]"] == ["data.promotion.coupon"]


async def test_create_coupon_sends_amount_off_with_currency(adapter: StripeAdapter) -> None:
    with aioresponses() as m:
        m.post(
            url("/v1/coupons"),
            payload={
                "id": "co_9",
                "object": "coupon",
                "amount_off": 500,
                "currency": "gbp",
                "duration": "once",
                "max_redemptions": 1,
                "valid": True,
                "created": 1,
                "times_redeemed": 0,
            },
        )
        c = await adapter.create_coupon(
            amount_off=500, currency="GBP", max_redemptions=1, redeem_by=123, idempotency_key="coupon:1"
        )
        with pytest.raises(ValueError):
            await adapter.create_coupon(percent_off=5, amount_off=5, currency="gbp", idempotency_key="k")
    body = form(calls(m)[0][2])
    assert body == {
        "duration": ["once"],
        "amount_off": ["500"],
        "currency": ["gbp"],
        "max_redemptions": ["1"],
        "redeem_by": ["123"],
    }
    assert (c.id, c.amount_off, c.currency, c.percent_off) == ("co_9", 500, "gbp", None)


async def test_list_subscriptions_includes_canceled_and_fetches_product_names_in_one_extra_call(
    adapter: StripeAdapter,
) -> None:
    def sub(sid: str, status: str, product: str, invoice: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": sid,
            "object": "subscription",
            "status": status,
            "customer": "cus_1",
            "currency": "gbp",
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "trial_end": None,
            "created": 1,
            "latest_invoice": invoice,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_" + sid,
                        "object": "subscription_item",
                        "quantity": 1,
                        "current_period_end": 777,
                        "price": {
                            "id": "price_1",
                            "object": "price",
                            "nickname": "Monthly",
                            "unit_amount": 999,
                            "currency": "gbp",
                            "product": product,
                            "recurring": {"interval": "month", "interval_count": 1},
                        },
                    }
                ],
            },
        }

    open_invoice = {"id": "in_1", "object": "invoice", "status": "open", "amount_remaining": 999}
    subs = [sub("sub_a", "past_due", "prod_a", open_invoice), sub("sub_b", "canceled", "prod_a", None)]
    with aioresponses() as m:
        m.get(url("/v1/subscriptions"), payload={"object": "list", "data": subs, "has_more": False})
        m.get(
            url("/v1/products"),
            payload={
                "object": "list",
                "has_more": False,
                "data": [{"id": "prod_a", "object": "product", "name": "Gold plan"}],
            },
        )
        result = await adapter.list_subscriptions("cus_1")
    sent = calls(m)
    assert len(sent) == 2
    q = query(sent[0][1])
    assert q["status"] == ["all"]
    assert q["expand[0]"] == ["data.latest_invoice"]
    assert query(sent[1][1])["ids[0]"] == ["prod_a"]
    a, b = result
    assert (a.product_name, a.price_nickname, a.unit_amount, a.interval, a.current_period_end) == (
        "Gold plan",
        "Monthly",
        999,
        "month",
        777,
    )
    assert (a.amount_past_due, b.amount_past_due, b.status) == (999, 0, "canceled")


async def test_create_checkout_session_returns_id_and_url(adapter: StripeAdapter) -> None:
    with aioresponses() as m:
        m.post(
            url("/v1/checkout/sessions"),
            payload={
                "id": "cs_1",
                "object": "checkout.session",
                "url": "https://checkout.example/cs_1",
                "status": "open",
                "payment_intent": None,
                "expires_at": 5,
            },
        )
        s = await adapter.create_checkout_session(
            amount=1500,
            currency="gbp",
            description="Invoice 7",
            customer_email="a@b.com",
            idempotency_key="link:1",
        )
    body = form(calls(m)[0][2])
    assert body["line_items[0][price_data][unit_amount]"] == ["1500"]
    assert body["mode"] == ["payment"]
    assert (s.id, s.url) == ("cs_1", "https://checkout.example/cs_1")


async def test_refund_needs_exactly_one_target(adapter: StripeAdapter) -> None:
    with pytest.raises(ValueError):
        await adapter.create_refund(payment_intent="pi_1", charge="ch_1", idempotency_key="k")
    with pytest.raises(ValueError):
        await adapter.create_refund(idempotency_key="k")


async def test_list_subscriptions_still_answers_when_product_names_cannot_be_fetched(
    adapter: StripeAdapter,
) -> None:
    sub = {
        "id": "sub_1",
        "object": "subscription",
        "status": "active",
        "customer": "cus_1",
        "currency": "gbp",
        "cancel_at_period_end": True,
        "created": 1,
        "latest_invoice": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "price": {"id": "price_1", "object": "price", "nickname": "Monthly", "product": "prod_x"},
                }
            ],
        },
    }
    with aioresponses() as m:
        m.get(url("/v1/subscriptions"), payload={"object": "list", "data": [sub], "has_more": False})
        m.get(
            url("/v1/products"), status=404, payload=stripe_error("invalid_request_error", "resource_missing")
        )
        (result,) = await adapter.list_subscriptions("cus_1")
    assert (result.product_name, result.price_nickname, result.cancel_at_period_end) == (
        None,
        "Monthly",
        True,
    )
