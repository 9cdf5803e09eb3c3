"""Every error the gateway can answer with, in one tree.

Each error carries a stable machine ``code``, an HTTP ``status``, whether the bot may ``retryable`` it, a
``message`` for developers and a short ``say`` sentence the voice bot can speak to the caller. Messages never
contain card data or secrets: they are built from constants and validated identifiers only.

::

    GatewayError (500 internal_error)
    ├── BadRequest (400 bad_request)
    │   ├── InvalidJson (400 invalid_json)
    │   ├── IdempotencyKeyRequired (400 idempotency_key_required)
    │   ├── MalformedRequest (400 malformed_request)   unparseable request line or headers (gateway/server.py)
    │   ├── RequestTimeout (408 request_timeout)       headers trickled in past [http] header_read_timeout
    │   └── HeadersTooLarge (431 headers_too_large)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    │   ├── UnknownAction (404 unknown_action)
    │   └── OperationNotFound (404 operation_not_found)     operations.get for an unknown or expired id
    ├── Conflict (409 conflict)
    │   └── RequestInProgress (409 request_in_progress)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── Unprocessable (422 unprocessable)
    │   ├── ValidationFailed (422 validation_failed)        params do not match the action's schema
    │   │   └── JsonTooDeep (422 json_too_deep)             a body nested past [http] max_json_depth
    │   ├── CardDataNotAccepted (422 card_data_not_accepted) a card number in the body: use secure capture
    │   ├── IdempotencyKeyReused (422 idempotency_key_reused)
    │   ├── PolicyRefused (422 policy_refused)              tenant policy says no (refund too big, too old...)
    │   ├── VerificationRequired (422 verification_required)
    │   ├── VerificationFailed (422 verification_failed)
    │   ├── EscalationRequired (422 escalation_required)    a human must handle it (e.g. disputed charge)
    │   ├── AmbiguousCustomer (422 ambiguous_customer)
    │   ├── CustomerNotFound (404 customer_not_found)       (a NotFound in spirit, kept beside its siblings)
    │   └── PaymentDeclined (402 payment_declined)          the provider gave a real "no"
    ├── RateLimited (429 rate_limited)                      every 429 / 503 carries Retry-After
    ├── ProviderUnavailable (503 provider_unavailable)      provider down, breaker open, retries exhausted
    │   └── ProviderOutcomeUnknown (503 provider_outcome_unknown) sent, answer lost: retry with the same key
    ├── ServiceUnavailable (503 service_unavailable)        our own store unreachable, shutting down
    └── (anything else is answered as 500 internal_error, with the detail only in the log)
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway import speech


class GatewayError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal error."
    default_say: ClassVar[str] = "Sorry, something went wrong on my side. Please try again in a moment."
    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str | None = None,
        *,
        say: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.say = say or _default_say(type(self))
        self.details = details or {}
        self.headers = dict(headers or {})
        if self.status in (429, 503):
            # Every "try again" says when (RFC 9110 Retry-After), so a bot can act on it; a precise hint
            # (a rate limiter's wait, an open breaker's time to its next probe) is passed in and wins.
            self.headers.setdefault("Retry-After", "1")
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "say": self.say,
            "say_ssml": speech.ssml(self.say),
            "retryable": self.retryable,
        }
        if self.details:
            body["details"] = self.details
        return body


def _default_say(cls: type[GatewayError]) -> str:
    """The class's sentence in the caller's locale (gateway/speech_catalogue.py ``error.<Class>``), else
    the nearest catalogued base class's; the English ``default_say`` only for a class nobody catalogued."""
    for klass in cls.__mro__:
        if not (isinstance(klass, type) and issubclass(klass, GatewayError)):
            continue
        key = f"error.{klass.__name__}"
        if speech.has(key):
            return speech.say(key)
        if "default_say" in vars(klass):
            return klass.default_say
    return cls.default_say


class BadRequest(GatewayError):
    status = 400
    code = "bad_request"
    default_message = "The request is malformed."
    default_say = "Sorry, I couldn't process that request."
    retryable = False


class InvalidJson(BadRequest):
    code = "invalid_json"
    default_message = "The body must be a JSON object."


class IdempotencyKeyRequired(BadRequest):
    code = "idempotency_key_required"
    default_message = "This action changes money or state: send an Idempotency-Key or X-Call-Id header."


class Unauthorized(GatewayError):
    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid agent key."
    default_say = "Sorry, I can't access payment information right now."
    retryable = False


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"
    default_message = "This agent key may not call this action."
    default_say = "Sorry, I'm not able to do that for you."
    retryable = False


class NotFound(GatewayError):
    status = 404
    code = "not_found"
    default_message = "Not found."
    default_say = "Sorry, I couldn't find that."
    retryable = False


class UnknownAction(NotFound):
    code = "unknown_action"
    default_message = "No such action."


class Conflict(GatewayError):
    status = 409
    code = "conflict"
    default_message = "Conflict."
    retryable = True


class RequestInProgress(Conflict):
    code = "request_in_progress"
    default_message = "A request with this idempotency key is still being processed."
    default_say = "I'm still working on that, one moment please."


class PayloadTooLarge(GatewayError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."
    default_say = "Sorry, I couldn't process that request."
    retryable = False


class UnsupportedMediaType(GatewayError):
    status = 415
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."
    default_say = "Sorry, I couldn't process that request."
    retryable = False


class Unprocessable(GatewayError):
    status = 422
    code = "unprocessable"
    default_message = "The request cannot be processed."
    default_say = "Sorry, I can't do that."
    retryable = False


class ValidationFailed(Unprocessable):
    code = "validation_failed"
    default_message = "The parameters are invalid."
    default_say = "Sorry, some of the details I have aren't right. Could you repeat them?"


class CardDataNotAccepted(Unprocessable):
    code = "card_data_not_accepted"
    default_message = (
        "The request contains what looks like card data. Card details are never accepted here; "
        "start secure card capture (capture.start) instead."
    )
    default_say = (
        "For your security, please don't read out your card details. "
        "I can transfer you to our secure payment line, where you key them in on your phone."
    )


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    default_message = "This idempotency key was already used with different parameters."
    default_say = "Sorry, something went wrong with that request."


class PolicyRefused(Unprocessable):
    code = "policy_refused"
    default_message = "Refused by policy."


class VerificationRequired(Unprocessable):
    """Retryable: the bot's next step is customers.verify and then the *same* request again (within a call it
    even derives the same idempotency key). Nothing was attempted, so the answer is not stored for replay."""

    code = "verification_required"
    default_message = "The caller must be verified first (customers.verify)."
    default_say = "Before I can do that, I need to verify a couple of details with you."
    retryable = True


class VerificationFailed(Unprocessable):
    code = "verification_failed"
    default_message = "The caller could not be verified."
    default_say = "Sorry, I wasn't able to verify those details."


class EscalationRequired(Unprocessable):
    code = "escalation_required"
    default_message = "A human needs to handle this."
    default_say = "This needs one of my colleagues. I've passed it on to them."


class AmbiguousCustomer(Unprocessable):
    code = "ambiguous_customer"
    default_message = "Several customers match; narrow it down."
    default_say = "I found more than one account with those details. Could you give me another detail?"


class CustomerNotFound(Unprocessable):
    status = 404
    code = "customer_not_found"
    default_message = "No matching customer."
    default_say = "I couldn't find an account with those details."


class PaymentDeclined(Unprocessable):
    status = 402
    code = "payment_declined"
    default_message = "The provider declined the operation."
    default_say = "Sorry, that didn't go through."


class RateLimited(GatewayError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests for this agent key."
    default_say = "I'm a bit busy right now, one moment please."
    retryable = True


class ProviderUnavailable(GatewayError):
    status = 503
    code = "provider_unavailable"
    default_message = "The payment provider is unavailable."
    default_say = "Our payment system isn't responding right now. Please bear with me or try again shortly."
    retryable = True


class ProviderOutcomeUnknown(ProviderUnavailable):
    code = "provider_outcome_unknown"
    default_message = (
        "The request reached the provider but the answer was lost. Retry with the same Idempotency-Key."
    )
    default_say = "I'm still confirming that with our payment system, one moment please."


class ServiceUnavailable(GatewayError):
    status = 503
    code = "service_unavailable"
    default_message = "The gateway is temporarily unavailable."
    default_say = "Sorry, I can't reach our payment system right now. Please try again shortly."
    retryable = True


# --- HTTP-level refusals (answered by gateway/server.py before any route runs) -------------------------------


class MalformedRequest(BadRequest):
    code = "malformed_request"
    default_message = "The HTTP request could not be parsed."


class RequestTimeout(BadRequest):
    status = 408
    code = "request_timeout"
    default_message = "The request headers arrived too slowly."
    retryable = True


class HeadersTooLarge(BadRequest):
    status = 431
    code = "headers_too_large"
    default_message = "The request line or headers are too large."


class JsonTooDeep(ValidationFailed):
    code = "json_too_deep"
    default_message = "The JSON body is nested too deeply."


class OperationNotFound(NotFound):
    """``operations.get`` for an id this tenant never had (or whose record expired)."""

    code = "operation_not_found"
    default_message = "No operation with this id."
    default_say = "Sorry, I can't find that request any more."
