"""The one Stripe retry decision, called by tenacity (see ``adapters.resilience.build_async_retrying``).

Modelled on stripe-python's ``HTTPClient._should_retry``, which we switch off (``max_network_retries=0``) so
that there is exactly one retry layer. Differences from the SDK, on purpose:

* 429 is retried (the SDK never retries it): a rate limit is transient, and with jittered backoff plus the
  ``Retry-After`` hint a short wait usually beats telling the caller to ring back.
* the decision looks at the typed exception the SDK raised rather than the raw response, so rules read as
  "never retry a card error" instead of status-code arithmetic.

Every retry of a write reuses the caller's idempotency key, so a retry can never perform an operation twice:
Stripe replays the stored answer, or answers 409 while the first request is still running.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

import stripe

__all__ = ["header", "retry_after", "should_retry"]

# Errors that are Stripe's real answer about our request: repeating the request gets the same answer.
_NEVER_RETRY: tuple[type[stripe.StripeError], ...] = (
    stripe.CardError,  # the card was declined / needs authentication: the issuer already said no
    stripe.InvalidRequestError,  # wrong parameters or no such object: same input, same 400
    stripe.AuthenticationError,  # bad API key: retrying only burns the caller's time
    stripe.PermissionError,  # restricted key lacks a permission: needs an operator, not a retry
    stripe.IdempotencyError,  # same key, different parameters: a bug on our side, never paper over it
)


def header(exc: BaseException, name: str) -> str | None:
    """A response header of a Stripe error, looked up case-insensitively (the SDK passes whatever mapping the
    HTTP client produced: aiohttp's case-insensitive one, or a plain dict in tests)."""
    headers = getattr(exc, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return str(value)
    return None


def should_retry(exc: BaseException) -> bool:
    """Is another attempt of the same request (same idempotency key) worth making?"""
    # Only the SDK's errors are candidates. Our own errors, programming errors and cancellation are never
    # retried: retrying a bug just repeats it, and a cancelled call must stop.
    if not isinstance(exc, stripe.StripeError):
        return False

    # Stripe tells us explicitly, and knows better than any status-code rule: ``false`` when a retry would be
    # a no-op (e.g. the idempotency layer would replay the same failure), ``true`` e.g. on lock timeouts.
    advice = header(exc, "stripe-should-retry")
    if advice is not None:
        if advice.strip().lower() == "true":
            return True
        if advice.strip().lower() == "false":
            return False

    # Real answers about the request itself: never retried (see _NEVER_RETRY for why, one by one).
    if isinstance(exc, _NEVER_RETRY):
        return False

    # Connection refused/reset, DNS failure, or a timeout (the SDK raises timeouts as APIConnectionError). The
    # request may or may not have reached Stripe; the reused idempotency key makes the retry safe. The SDK's
    # HTTP client flags the few connection errors not worth retrying with should_retry=False.
    if isinstance(exc, stripe.APIConnectionError):
        return bool(exc.should_retry)

    # 429: rate limited (including 429 lock_timeout on a contended object). Transient by definition; the wait
    # honours Retry-After when Stripe sends one (see retry_after).
    if isinstance(exc, stripe.RateLimitError):
        return True

    status = exc.http_status
    # 409: a lock timeout, or another request with the same idempotency key still in flight. Once that
    # finishes, the retry gets its stored result.
    if status == 409:
        return True

    # 5xx: Stripe-side trouble. With the idempotency key, Stripe either replays the stored result or runs the
    # request for the first time; either way a retry is safe.
    # Anything else (an unexpected 4xx or an unparsable response) is not known to be transient.
    return isinstance(exc, stripe.APIError) and status is not None and status >= 500


def retry_after(exc: BaseException, *, now: float | None = None) -> float | None:
    """The ``Retry-After`` hint of a Stripe error in seconds (delta-seconds or an HTTP date), else None.

    ``now`` (unix seconds) is for tests of the HTTP-date form. Negative or unparsable values give None / 0.
    """
    raw = header(exc, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)
