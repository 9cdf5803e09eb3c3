"""The sandbox's objects and the Stripe behaviour that changes them, one module per resource.

``SandboxState`` is the union of the per-resource mixins; each handler keeps the name it had when this was one
class (``pi_create``, ``refund_create``, ...), so the routing table and callers are unchanged.
"""

from __future__ import annotations

from .base import (
    ADDRESS,
    API_VERSION,
    CURRENCY,
    LIST_FIELDS,
    REFUND_REASONS,
    SEARCH_FIELDS,
    TEST_CARDS,
    ZERO_DECIMAL,
    StateBase,
    TestCard,
    fmt_money,
    new_id,
)
from .checkout import CheckoutMixin
from .coupons import CouponsMixin
from .customers import CustomersMixin
from .events import EventsMixin
from .payment_intents import PaymentIntentsMixin
from .refunds import RefundsMixin
from .subscriptions import SubscriptionsMixin


class SandboxState(CheckoutMixin, SubscriptionsMixin, CouponsMixin, EventsMixin):
    """Every resource's handlers over one object store (see base.StateBase)."""


__all__ = [
    "ADDRESS",
    "API_VERSION",
    "CURRENCY",
    "LIST_FIELDS",
    "REFUND_REASONS",
    "SEARCH_FIELDS",
    "TEST_CARDS",
    "ZERO_DECIMAL",
    "CheckoutMixin",
    "CouponsMixin",
    "CustomersMixin",
    "EventsMixin",
    "PaymentIntentsMixin",
    "RefundsMixin",
    "SandboxState",
    "StateBase",
    "SubscriptionsMixin",
    "TestCard",
    "fmt_money",
    "new_id",
]
