"""Outcomes of provider calls and the errors adapters raise.

Every provider call ends in exactly one :class:`Outcome` (DESIGN.md section 5):

* ``SUCCEEDED``     the provider did it.
* ``PENDING``       accepted, not final yet (a refund that settles later).
* ``DECLINED``      a real answer: card declined, refund refused.
* ``NOT_ATTEMPTED`` known not to have happened: safe to retry, even with a new key.
* ``UNKNOWN``       we sent it and lost the answer (timeout after sending): retry **with the same
                    idempotency key** or reconcile, never with a new one.

Error tree (all carry ``outcome``, a stable ``code``, ``retryable`` and a message free of card data)::

    ProviderError
    ├── ProviderUnavailable      breaker open, 5xx / 429 / connection errors after the retry budget
    │   └── ProviderTimeout      deadline passed after a request may have reached the provider (UNKNOWN)
    ├── ProviderDeclined         card declined, refund refused, 3-D Secure required (DECLINED)
    ├── ProviderNotFound         the object does not exist (NOT_ATTEMPTED)
    ├── ProviderInvalidRequest   the provider rejected our parameters (NOT_ATTEMPTED)
    ├── ProviderAuthError        bad credentials or a restricted key lacking a permission (NOT_ATTEMPTED)
    └── ProviderIdempotencyError same idempotency key, different parameters (NOT_ATTEMPTED)
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Outcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    PENDING = "PENDING"
    DECLINED = "DECLINED"
    NOT_ATTEMPTED = "NOT_ATTEMPTED"
    UNKNOWN = "UNKNOWN"


#: Called once per logical provider call with (provider, operation, outcome, seconds). The operation is a
#: fixed name such as ``refunds.create`` (never built from input), so it is safe as a metric label.
CallObserver = Callable[[str, str, str, float], None]


class ProviderError(Exception):
    """Base of every error an adapter raises. ``str(err)`` never contains card data or secrets."""

    outcome: Outcome = Outcome.NOT_ATTEMPTED
    code: str = "provider_error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        code: str | None = None,
        http_status: int | None = None,
        provider_code: str | None = None,
        provider_request_id: str | None = None,
        outcome: Outcome | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        if code is not None:
            self.code = code
        if outcome is not None:
            self.outcome = outcome
        self.http_status = http_status
        self.provider_code = provider_code
        self.provider_request_id = provider_request_id
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"
    retryable = True


class ProviderTimeout(ProviderUnavailable):
    outcome = Outcome.UNKNOWN
    code = "provider_timeout"


class ProviderDeclined(ProviderError):
    outcome = Outcome.DECLINED
    code = "provider_declined"


class ProviderNotFound(ProviderError):
    code = "provider_not_found"


class ProviderInvalidRequest(ProviderError):
    code = "provider_invalid_request"


class ProviderAuthError(ProviderError):
    code = "provider_auth_error"


class ProviderIdempotencyError(ProviderError):
    code = "provider_idempotency_error"
