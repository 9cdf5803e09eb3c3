"""The API versions the sandbox speaks, and the fields that differ between them.

Stripe answers each request in its ``Stripe-Version`` (the account's default without one) and renders each
webhook event in its endpoint's version. The sandbox keeps every object in the pinned version's shape
(``API_VERSION``, the one the installed SDK describes) and translates at the edges:

* the invoice's subscription: ``invoice.subscription`` in ``2025-02-24.acacia`` (before basil), and
  ``invoice.parent.subscription_details.subscription`` in the pinned version (no top-level field);
* the PaymentIntent create/update parameter ``payment_method_types`` (acacia) is
  ``allowed_payment_method_types`` in the pinned version, which the SDK's types say; a PaymentIntent's
  ``allowed_payment_method_types`` is not rendered in acacia.

A request in the older version is translated to the pinned shape *before* the SDK-type check, so what is
checked is always what the pinned version would receive; its answer is translated back.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .errors import StripeError, ValidationError
from .state import API_VERSION

#: Before 2025-03-31.basil moved invoice.subscription under invoice.parent.
OLD_VERSION = "2025-02-24.acacia"
SUPPORTED_VERSIONS: tuple[str, ...] = (API_VERSION, OLD_VERSION)

_PMT_RENAMED = frozenset({"pi_create", "pi_update"})


def check_version(version: str) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise StripeError(
            400,
            "invalid_request_error",
            f"Invalid Stripe API version: {version[:40]}. The sandbox supports {', '.join(SUPPORTED_VERSIONS)}.",
        )


def request_to_pinned(handler: str, raw: dict[str, Any], version: str) -> dict[str, Any]:
    """``raw`` (decoded form) as the pinned version names it."""
    if version == API_VERSION or handler not in _PMT_RENAMED:
        return raw
    if "allowed_payment_method_types" in raw:
        raise ValidationError(
            "Received unknown parameter: allowed_payment_method_types",
            param="allowed_payment_method_types",
            code="parameter_unknown",
        )
    out = dict(raw)
    if "payment_method_types" in out:
        out["allowed_payment_method_types"] = out.pop("payment_method_types")
    return out


def render(body: Any, version: str) -> Any:
    """``body`` (pinned shape) as ``version`` shows it; the stored objects are never changed."""
    if version == API_VERSION:
        return body
    return _walk(copy.deepcopy(body), version)


def _walk(node: Any, version: str) -> Any:
    if isinstance(node, list):
        return [_walk(n, version) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _walk(v, version) for k, v in node.items()}
    kind = out.get("object")
    if kind == "event":
        out["api_version"] = version  # its data is rendered in this version, so it says so
    if kind == "invoice" and "parent" in out:
        parent = out.pop("parent")
        details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
        out["subscription"] = details.get("subscription") if isinstance(details, Mapping) else None
    elif kind == "payment_intent":
        out.pop("allowed_payment_method_types", None)
    return out


def render_event(event: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The event as delivered to an endpoint created at ``version``: stamped with it, shapes translated."""
    out = dict(render(dict(event), version))
    out["api_version"] = version  # also when ``version`` is the pinned one
    return out
