"""The one Stripe retry decision (adapters.stripe.retry), rule by rule."""

from __future__ import annotations

import asyncio
import email.utils

import pytest
import stripe

from adapters.outcomes import ProviderUnavailable
from adapters.stripe.retry import header, retry_after, should_retry


def _api_error(status: int, headers: dict[str, str] | None = None) -> stripe.APIError:
    return stripe.APIError("boom", http_status=status, headers=headers)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        # connection errors / timeouts: retried when the HTTP client flags them retryable
        (stripe.APIConnectionError("timeout", should_retry=True), True),
        (stripe.APIConnectionError("tls setup", should_retry=False), False),
        # 409: lock timeout or an idempotent request still in flight
        (_api_error(409), True),
        # 429: rate limited (the SDK itself never retries it)
        (stripe.RateLimitError("slow down", http_status=429), True),
        # 5xx
        (_api_error(500), True),
        (_api_error(502), True),
        (_api_error(503), True),
        # never: real answers about the request
        (stripe.CardError("declined", None, "card_declined", http_status=402), False),
        (stripe.InvalidRequestError("bad", "amount", "parameter_invalid_integer", http_status=400), False),
        (stripe.InvalidRequestError("missing", "id", "resource_missing", http_status=404), False),
        (stripe.AuthenticationError("bad key", http_status=401), False),
        (stripe.PermissionError("restricted", http_status=403), False),
        (stripe.IdempotencyError("different params", http_status=400), False),
        # unexpected 4xx / unparsable answers: not known to be transient
        (_api_error(405), False),
        (stripe.APIError("garbage"), False),
        # not a Stripe error at all: bugs, our own errors, cancellation
        (ValueError("bug"), False),
        (ProviderUnavailable("x", provider="stripe"), False),
        (asyncio.CancelledError(), False),
        (TimeoutError(), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_should_retry_rule(exc: BaseException, expected: bool) -> None:
    assert should_retry(exc) is expected


def test_when_stripe_should_retry_is_false_then_a_500_is_not_retried() -> None:
    assert should_retry(_api_error(500, {"Stripe-Should-Retry": "false"})) is False


def test_when_stripe_should_retry_is_true_then_even_a_400_is_retried() -> None:
    # Stripe sends it e.g. on a lock timeout reported as 400.
    exc = stripe.InvalidRequestError("lock", None, "lock_timeout", http_status=400,
                                      headers={"Stripe-Should-Retry": "true"})
    assert should_retry(exc) is True


def test_when_stripe_should_retry_header_is_lower_case_then_it_is_still_obeyed() -> None:
    assert should_retry(_api_error(503, {"stripe-should-retry": "false"})) is False
    assert should_retry(stripe.APIConnectionError("x", headers={"STRIPE-SHOULD-RETRY": "false"},
                                                  should_retry=True)) is False


def test_when_stripe_should_retry_has_another_value_then_the_status_rules_decide() -> None:
    assert should_retry(_api_error(503, {"Stripe-Should-Retry": "maybe"})) is True
    assert should_retry(_api_error(404, {"Stripe-Should-Retry": "maybe"})) is False


def test_header_lookup_is_case_insensitive_and_tolerates_missing_headers() -> None:
    assert header(_api_error(500, {"Request-Id": "req_1"}), "request-id") == "req_1"
    assert header(_api_error(500), "request-id") is None
    assert header(ValueError(), "request-id") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2.0), ("0.25", 0.25), ("-3", 0.0), ("soon", None), ("nan", None), ("inf", None)],
)
def test_retry_after_delta_seconds(value: str, expected: float | None) -> None:
    exc = stripe.RateLimitError("slow", http_status=429, headers={"Retry-After": value})
    assert retry_after(exc) == expected


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    exc = stripe.RateLimitError(
        "slow", http_status=429, headers={"retry-after": email.utils.formatdate(now + 7, usegmt=True)}
    )
    assert retry_after(exc, now=now) == pytest.approx(7.0)


def test_retry_after_absent_is_none() -> None:
    assert retry_after(stripe.RateLimitError("slow", http_status=429)) is None
    assert retry_after(ValueError()) is None
