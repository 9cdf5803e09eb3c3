"""Stripe's error body and the exceptions the sandbox's handlers raise to produce it.

Shape (docs.stripe.com/api/errors): ``{"error": {"type", "code", "decline_code", "message", "param",
"doc_url", "request_log_url", "payment_intent", "charge", ...}}``.
Only keys with a value are sent, as Stripe does.
"""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error answered to the client in Stripe's shape.

    ``saved`` says whether the idempotency layer stores it. Stripe stores the result of any request whose
    endpoint "started executing" (including card errors and 500s) but nothing for a request that failed
    parameter validation or clashed with a concurrent one; :class:`ValidationError` covers the latter.
    """

    saved = True

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://docs.stripe.com/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err.update(self.extra)
        return {"error": err}


class ValidationError(StripeError):
    """400 from parameter validation: never stored under an idempotency key."""

    saved = False

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(400, "invalid_request_error", message, param=param, code=code)


def invalid(
    message: str, *, param: str | None = None, code: str | None = None, extra: dict[str, Any] | None = None
) -> StripeError:
    """400 raised by an endpoint after it started executing (stored under the idempotency key)."""
    return StripeError(400, "invalid_request_error", message, param=param, code=code, extra=extra)


def missing(kind: str, ident: str, param: str = "id") -> StripeError:
    return StripeError(
        404, "invalid_request_error", f"No such {kind}: '{ident}'", code="resource_missing", param=param
    )
