"""Typed, immutable results of the Stripe adapter.

Plain values, not SDK objects: the gateway never touches a ``StripeObject`` (whose attributes depend on the
API version and which lazily carries a requestor), and nothing here holds card data beyond brand and last 4.
Money is always an integer in the currency's minor unit, currencies are lower-case ISO codes, times are unix
seconds (as Stripe sends them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from redaction import contains_card_number, redact, redact_json

__all__ = [
    "AdapterStats",
    "CheckoutSessionInfo",
    "Coupon",
    "Customer",
    "Dispute",
    "Payment",
    "PaymentIntentInfo",
    "PaymentStatus",
    "PromotionCode",
    "ProviderText",
    "Refund",
    "RefundReason",
    "Subscription",
    "SubscriptionLine",
]

# The payment's state in the words the voice actions need. ``succeeded`` / ``pending`` / ``failed`` are the
# charge's own statuses; a PaymentIntent with no charge yet is ``incomplete`` (waiting for a card) or
# ``canceled``.
PaymentStatus = Literal["succeeded", "pending", "failed", "incomplete", "canceled"]
RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]


#: A value the redactor could not clean in place (it still detects a card number after ``redact``).
WITHHELD = "[card data removed]"


def _dirty(text: str) -> bool:
    # Shorter than any card number: nothing to find (the common case for ids, codes and statuses).
    return len(text) >= 12 and contains_card_number(text)


def _clean_text(text: str) -> str:
    out = redact(text)
    return WITHHELD if contains_card_number(out) else out


class ProviderText:
    """Base of every result model: text that came from Stripe is redacted when the result is built.

    Stripe hands back whatever a merchant or an integration wrote (PaymentIntent descriptions, product and
    price names, metadata, failure messages), and a card number typed into one of them would otherwise reach
    the bot, the idempotency table and the log. Redacting at construction makes this the one boundary: every
    ``str`` field, and every string key or value of a ``dict`` field, of every model, including fields added
    later (``tests/adapters/stripe_client`` checks that every model derives from this class).
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, str):
                if _dirty(value):
                    object.__setattr__(self, f.name, _clean_text(value))
            elif isinstance(value, dict) and any(isinstance(x, str) and _dirty(x) for kv in value.items() for x in kv):
                object.__setattr__(self, f.name, _clean_map(value))


def _clean_map(value: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = redact_json(value)
    return {
        k: (_clean_text(v) if isinstance(v, str) and _dirty(v) else v)
        for k, v in out.items()
        if not (isinstance(k, str) and _dirty(k))
    }


@dataclass(frozen=True, slots=True)
class Customer(ProviderText):
    id: str
    email: str | None
    name: str | None
    phone: str | None
    postal_code: str | None  # billing address postal code, used for caller verification
    created: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Payment(ProviderText):
    """One payment attempt as a caller thinks of it: a charge, and the PaymentIntent it belongs to."""

    payment_intent_id: str | None
    charge_id: str | None
    amount: int
    currency: str
    status: PaymentStatus
    created: int
    description: str | None
    card_brand: str | None
    card_last4: str | None
    amount_refunded: int
    refunded: bool  # True only when fully refunded (Stripe's meaning)
    disputed: bool
    failure_code: str | None
    failure_message: str | None  # Stripe's fixed wording for the failure code, not an echo of our input
    customer_id: str | None
    payment_intent_status: str | None = None  # the PI's raw status when known (e.g. "requires_action")
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The id a caller or the bot uses for this payment: the PaymentIntent's, else the charge's."""
        return self.payment_intent_id or self.charge_id or ""

    @property
    def amount_refundable(self) -> int:
        """What can still be refunded: nothing unless the charge succeeded."""
        if self.status != "succeeded":
            return 0
        return max(0, self.amount - self.amount_refunded)


@dataclass(frozen=True, slots=True)
class Refund(ProviderText):
    id: str
    amount: int
    currency: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    reason: str | None
    charge_id: str | None
    payment_intent_id: str | None
    created: int
    failure_reason: str | None
    pending_reason: str | None = None
    # For card refunds: "refund", "reversal" (a refund soon after the charge, never shows on the statement) or
    # "pending"; otherwise the destination's payment method type. None when Stripe does not say.
    destination_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Coupon(ProviderText):
    id: str
    name: str | None
    percent_off: float | None
    amount_off: int | None
    currency: str | None
    duration: str  # once, repeating, forever
    duration_in_months: int | None
    max_redemptions: int | None
    redeem_by: int | None
    times_redeemed: int
    valid: bool
    created: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PromotionCode(ProviderText):
    id: str
    code: str
    coupon_id: str | None
    active: bool
    customer_id: str | None
    max_redemptions: int | None
    times_redeemed: int
    expires_at: int | None
    created: int
    coupon: Coupon | None = None  # present when the call expanded it (find_promotion_code does)
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubscriptionLine(ProviderText):
    """One item of a subscription: what is being paid for, how much, how often."""

    price_id: str | None
    price_nickname: str | None
    product_id: str | None
    product_name: str | None
    unit_amount: int | None
    currency: str | None
    interval: str | None  # day, week, month, year
    interval_count: int | None
    quantity: int | None
    current_period_end: int | None  # per item since API 2025-03-31


@dataclass(frozen=True, slots=True)
class Subscription(ProviderText):
    """A subscription; the price/product fields repeat its first line's, for the common one-item case."""

    id: str
    status: str  # incomplete, incomplete_expired, trialing, active, past_due, canceled, unpaid, paused
    customer_id: str | None
    product_name: str | None
    price_nickname: str | None
    unit_amount: int | None
    currency: str
    interval: str | None
    interval_count: int | None
    current_period_end: int | None
    cancel_at_period_end: bool
    cancel_at: int | None
    canceled_at: int | None
    trial_end: int | None
    # What the latest invoice still owes while it is open (0 when paid/none); None when the invoice was not
    # available in the response.
    amount_past_due: int | None
    latest_invoice_status: str | None
    created: int
    lines: tuple[SubscriptionLine, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentIntentInfo(ProviderText):
    id: str
    status: str  # requires_payment_method, requires_confirmation, requires_action, processing, ...
    amount: int
    currency: str
    customer_id: str | None
    description: str | None
    latest_charge_id: str | None
    charge_status: str | None
    card_brand: str | None
    card_last4: str | None
    # Decline code of the last failed attempt (``decline_code`` if the issuer gave one, else Stripe's
    # ``code``).
    last_payment_error_code: str | None
    created: int
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Marked Mail Order / Telephone Order: True if Stripe says so (the intent's card options or its charge),
    # False if a charge exists without the mark, None if Stripe has not said (nothing charged yet).
    moto: bool | None = None


@dataclass(frozen=True, slots=True)
class Dispute(ProviderText):
    id: str
    amount: int
    currency: str
    status: str  # warning_needs_response, needs_response, under_review, won, lost, ...
    reason: str
    charge_id: str | None
    payment_intent_id: str | None
    created: int
    evidence_due_by: int | None


@dataclass(frozen=True, slots=True)
class CheckoutSessionInfo(ProviderText):
    id: str
    url: str | None
    status: str | None  # open, complete, expired
    payment_intent_id: str | None
    expires_at: int | None


@dataclass(slots=True)
class AdapterStats:
    """Round-trip counters of one adapter (one tenant), for the benchmark and metrics.

    ``requests`` counts HTTP attempts actually sent (retries included); ``by_endpoint`` splits them by
    ``"GET /v1/charges"``-style keys (ids replaced by ``{id}``); ``retries`` counts attempts after the first.
    """

    requests: int = 0
    retries: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.requests = 0
        self.retries = 0
        self.by_endpoint.clear()
