"""Every ``/v1`` request checked against the installed stripe SDK's generated parameter types.

The SDK's ``stripe.params`` TypedDicts are generated from Stripe's OpenAPI description of the version the SDK
pins (``stripe.api_version``); nobody here wrote them. So the sandbox's own hand-written specs (state/*.py)
are backed by a check they cannot drift from: a parameter the types do not declare, a hash where they want a
string, an enum value outside their ``Literal``, a missing ``Required`` key: 400 ``invalid_request_error`` with
``param``, in Stripe's words. After an SDK upgrade, this is what shows which parameters moved.

Two readings of the generated types, both deliberate:

* ``Literal["a", "b"] | str``: the SDK widens enums with ``str`` so old clients survive new values. The API
  description's enum is the ``Literal``; the real API refuses anything else, so the check does too. Only
  ``Literal[""] | X`` (Stripe's "emptyable") keeps its ``""``.
* ``RequestOptions`` keys (``api_key``, ``idempotency_key``, ...) are SDK options sent as headers, never
  parameters.

Ranges the types cannot carry but Stripe documents (``RANGES`` and ``MAX_EXPAND_DEPTH``) are checked here too.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union, get_args, get_origin

import typing_extensions
from stripe._request_options import RequestOptions

from .errors import ValidationError

#: The sandbox handler (state/*.py method name) -> its SDK parameter type ("module.Class" under stripe.params).
ENDPOINT_PARAMS: dict[str, str] = {
    "customer_create": "CustomerCreateParams",
    "customer_retrieve": "CustomerRetrieveParams",
    "customer_update": "CustomerUpdateParams",
    "customer_delete": "CustomerDeleteParams",
    "customer_list": "CustomerListParams",
    "customer_search": "CustomerSearchParams",
    "pm_create": "PaymentMethodCreateParams",
    "pm_retrieve": "PaymentMethodRetrieveParams",
    "pi_create": "PaymentIntentCreateParams",
    "pi_retrieve": "PaymentIntentRetrieveParams",
    "pi_update": "PaymentIntentUpdateParams",
    "pi_confirm": "PaymentIntentConfirmParams",
    "pi_cancel": "PaymentIntentCancelParams",
    "pi_capture": "PaymentIntentCaptureParams",
    "pi_list": "PaymentIntentListParams",
    "pi_search": "PaymentIntentSearchParams",
    "charge_retrieve": "ChargeRetrieveParams",
    "charge_list": "ChargeListParams",
    "charge_search": "ChargeSearchParams",
    "refund_create": "RefundCreateParams",
    "refund_retrieve": "RefundRetrieveParams",
    "refund_update": "RefundUpdateParams",
    "refund_list": "RefundListParams",
    "dispute_retrieve": "DisputeRetrieveParams",
    "dispute_list": "DisputeListParams",
    "coupon_create": "CouponCreateParams",
    "coupon_retrieve": "CouponRetrieveParams",
    "coupon_delete": "CouponDeleteParams",
    "coupon_list": "CouponListParams",
    "promo_create": "PromotionCodeCreateParams",
    "promo_retrieve": "PromotionCodeRetrieveParams",
    "promo_update": "PromotionCodeUpdateParams",
    "promo_list": "PromotionCodeListParams",
    "product_create": "ProductCreateParams",
    "product_retrieve": "ProductRetrieveParams",
    "product_list": "ProductListParams",
    "price_create": "PriceCreateParams",
    "price_retrieve": "PriceRetrieveParams",
    "price_list": "PriceListParams",
    "sub_create": "SubscriptionCreateParams",
    "sub_retrieve": "SubscriptionRetrieveParams",
    "sub_update": "SubscriptionUpdateParams",
    "sub_cancel": "SubscriptionCancelParams",
    "sub_list": "SubscriptionListParams",
    "sub_search": "SubscriptionSearchParams",
    "invoice_retrieve": "InvoiceRetrieveParams",
    "invoice_list": "InvoiceListParams",
    "checkout_create": "checkout.SessionCreateParams",
    "checkout_retrieve": "checkout.SessionRetrieveParams",
    "checkout_expire": "checkout.SessionExpireParams",
    "checkout_list": "checkout.SessionListParams",
    "event_retrieve": "EventRetrieveParams",
    "event_list": "EventListParams",
}

#: "Expansions have a maximum depth of four levels" (docs.stripe.com/expand).
MAX_EXPAND_DEPTH = 4

#: Checkout Session ``expires_at``: "between 30 minutes and 24 hours after the session is created".
CHECKOUT_MIN_EXPIRY = 30 * 60
CHECKOUT_MAX_EXPIRY = 24 * 3600

_OPTIONS = frozenset(RequestOptions.__annotations__)
_INT = re.compile(r"-?\d+")


def params_type(handler: str) -> type | None:
    """The SDK TypedDict for a sandbox handler, or None if the sandbox serves it without one."""
    ref = ENDPOINT_PARAMS.get(handler)
    if ref is None:
        return None
    module, _, name = ref.rpartition(".")
    mod = importlib.import_module("stripe.params" + (f".{module}" if module else ""))
    td: type = getattr(mod, name)
    return td


@functools.cache
def _fields(td: type) -> tuple[dict[str, Any], frozenset[str]]:
    """The TypedDict's keys with their types resolved (forward references evaluated in its module)."""
    namespace = vars(sys.modules[td.__module__])
    hints: dict[str, Any] = {}
    for key, tp in td.__annotations__.items():
        if key in _OPTIONS:
            continue
        hints[key] = _resolve(tp, namespace)
    required = frozenset(k for k in getattr(td, "__required_keys__", ()) if k not in _OPTIONS)
    return hints, required


def _resolve(tp: Any, namespace: Mapping[str, Any]) -> Any:
    if isinstance(tp, str):
        tp = ForwardRef(tp)
    if isinstance(tp, ForwardRef):
        tp = eval(tp.__forward_arg__, dict(namespace))  # noqa: S307 (the SDK's own generated annotations)
    origin = get_origin(tp)
    if origin in (NotRequired, Required):
        return _resolve(get_args(tp)[0], namespace)
    return tp


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing_extensions.is_typeddict(tp)


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + (f", or {values[-1]}" if len(values) > 1 else values[0])


class _Check:
    """One request's walk; the first mismatch raises (Stripe names one parameter per error)."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.namespace = namespace

    def value(self, value: Any, tp: Any, name: str) -> None:
        tp = _resolve(tp, self.namespace)
        if tp is Any:
            return
        origin = get_origin(tp)
        if origin is Union or isinstance(tp, types.UnionType):
            self.union(value, get_args(tp), name)
        elif origin is Literal:
            self.literal(value, get_args(tp), name)
        elif _is_typeddict(tp):
            self.typeddict(value, tp, name)
        elif origin in (list, typing.List):  # noqa: UP006 (the SDK's annotations use typing.List)
            if not isinstance(value, list):
                raise ValidationError(f"Invalid array: {name} must be an array", param=name)
            (item,) = get_args(tp)
            for i, v in enumerate(value):
                self.value(v, item, f"{name}[{i}]")
        elif origin in (dict, typing.Dict) or getattr(origin, "__name__", "") == "UntypedStripeObject":  # noqa: UP006
            if not isinstance(value, dict):
                raise ValidationError(f"Invalid hash: {name} must be a hash", param=name)
            args = get_args(tp)
            item = args[-1] if args else Any
            for k, v in value.items():
                self.value(v, item, f"{name}[{k}]")
        elif getattr(tp, "__name__", "") == "UntypedStripeObject":
            if not isinstance(value, dict):
                raise ValidationError(f"Invalid hash: {name} must be a hash", param=name)
        else:
            self.scalar(value, tp, name)

    def scalar(self, value: Any, tp: Any, name: str) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"Invalid string: {name} must be a string, not a hash or array", param=name)
        if tp is str:
            return
        if tp is bool:
            if value not in ("true", "false"):
                raise ValidationError(f"Invalid boolean: {value[:40]}", param=name)
            return
        if tp is int:
            if not _INT.fullmatch(value):
                raise ValidationError(
                    f"Invalid integer: {value[:40]}", param=name, code="parameter_invalid_integer"
                )
            return
        if tp is float:
            try:
                float(value)
            except ValueError:
                raise ValidationError(f"Invalid decimal: {value[:40]}", param=name) from None
            return
        raise AssertionError(f"sandbox: SDK parameter type {tp!r} of {name} not understood")

    def literal(self, value: Any, values: tuple[Any, ...], name: str) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"Invalid string: {name} must be a string, not a hash or array", param=name)
        if value not in values:
            raise ValidationError(f"Invalid {name}: must be one of {_choices(tuple(map(str, values)))}", param=name)

    def union(self, value: Any, members: tuple[Any, ...], name: str) -> None:
        resolved = [_resolve(m, self.namespace) for m in members]
        literals: list[str] = []
        others: list[Any] = []
        for m in resolved:
            if get_origin(m) is Literal:
                literals.extend(str(v) for v in get_args(m))
            else:
                others.append(m)
        if isinstance(value, str) and value in literals:
            return
        enum = [v for v in literals if v != ""]
        if enum and str in others:
            # ``Literal[...] | str``: the SDK's forward-compatibility widening; the API's enum is the Literal.
            others.remove(str)
        if not others:
            self.literal(value, tuple(literals), name)
            return
        errors: list[ValidationError] = []
        for member in sorted(others, key=lambda m: _shape_rank(value, m)):
            try:
                self.value(value, member, name)
            except ValidationError as exc:
                errors.append(exc)
            else:
                return
        if enum and isinstance(value, str) and all(_shape_rank(value, m) > 0 for m in others):
            self.literal(value, tuple(literals), name)
        raise errors[0]

    def typeddict(self, value: Any, td: type, name: str) -> None:
        if not isinstance(value, dict):
            raise ValidationError(f"Invalid object: {name} must be a hash", param=name)
        hints, required = _fields(td)
        saved, self.namespace = self.namespace, vars(sys.modules[td.__module__])
        try:
            for key, v in value.items():
                sub = f"{name}[{key}]" if name else key
                if key not in hints:
                    raise ValidationError(f"Received unknown parameter: {sub}", param=sub, code="parameter_unknown")
                self.value(v, hints[key], sub)
            for key in sorted(required):
                if key not in value:
                    sub = f"{name}[{key}]" if name else key
                    raise ValidationError(f"Missing required param: {sub}.", param=sub, code="parameter_missing")
        finally:
            self.namespace = saved


def _shape_rank(value: Any, member: Any) -> int:
    """Try first the union member whose shape matches the value (a hash -> a TypedDict), for the best error."""
    origin = get_origin(member)
    if isinstance(value, dict):
        return 0 if _is_typeddict(member) or origin in (dict, typing.Dict) else 1  # noqa: UP006
    if isinstance(value, list):
        return 0 if origin in (list, typing.List) else 1  # noqa: UP006
    return 0 if member in (str, int, float, bool) else 1


def check_params(handler: str, raw: Mapping[str, Any], now: float) -> None:
    """Raise :class:`ValidationError` if ``raw`` (decoded form) does not fit the handler's SDK params."""
    td = params_type(handler)
    if td is None:
        return
    _Check(vars(sys.modules[td.__module__])).typeddict(dict(raw), td, "")
    expand = raw.get("expand")
    listing = handler.endswith(("_list", "_search"))
    for path in expand if isinstance(expand, list) else []:
        # On a list, the leading ``data.`` does not count: Stripe's own example of the deepest expansion
        # allowed when listing Checkout Sessions is ``data.line_items.data.price.product``.
        levels = path.removeprefix("data.") if listing and isinstance(path, str) else path
        if isinstance(levels, str) and levels.count(".") + 1 > MAX_EXPAND_DEPTH:
            raise ValidationError(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
    rule = RANGES.get(handler)
    if rule is not None:
        rule(raw, now)


def _positive(raw: Mapping[str, Any], key: str) -> None:
    value = raw.get(key)
    if isinstance(value, str) and _INT.fullmatch(value) and int(value) < 1:
        raise ValidationError(
            "This value must be greater than or equal to 1.", param=key, code="parameter_invalid_integer"
        )


def _checkout_range(raw: Mapping[str, Any], now: float) -> None:
    value = raw.get("expires_at")
    if isinstance(value, str) and _INT.fullmatch(value):
        at = int(value)
        if at > now + CHECKOUT_MAX_EXPIRY:
            raise ValidationError(
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        if at < now + CHECKOUT_MIN_EXPIRY:
            raise ValidationError(
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                param="expires_at",
            )


#: Documented ranges the generated types do not carry, by handler.
RANGES: dict[str, Callable[[Mapping[str, Any], float], None]] = {
    "pi_create": lambda raw, _now: _positive(raw, "amount"),
    "refund_create": lambda raw, _now: _positive(raw, "amount"),
    "coupon_create": lambda raw, _now: _positive(raw, "amount_off"),
    "checkout_create": _checkout_range,
}
