"""The sandbox's shared bookkeeping: the object store, ids, events, rendering with ``expand``, pagination.

Objects are kept as the JSON dicts Stripe returns (references to other objects as ids), so rendering is a
deep copy plus ``expand``. Every handler is synchronous: a request's whole state change happens without an
``await`` in between, so concurrent requests on the event loop never see half an operation.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import params as P
from ..errors import ValidationError, invalid, missing
from ..search import make_matcher

API_VERSION = "2026-10-28.endive"

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    decline: tuple[str, str, str] | None = None  # (code, decline_code, message)
    behaviour: str = "ok"  # ok | auth_required | refund_fail | dispute


# The magic test PaymentMethods Stripe documents (docs.stripe.com/testing), with their cards' last 4 digits.
TEST_CARDS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_visa_debit": TestCard("visa", "5556"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_chargeDeclined": TestCard(
        "visa", "0002", ("card_declined", "generic_decline", "Your card was declined.")
    ),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "visa", "9995", ("card_declined", "insufficient_funds", "Your card has insufficient funds.")
    ),
    "pm_card_chargeDeclinedExpiredCard": TestCard(
        "visa", "0069", ("expired_card", "expired_card", "Your card has expired.")
    ),
    "pm_card_chargeDeclinedIncorrectCvc": TestCard(
        "visa", "0127", ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.")
    ),
    "pm_card_authenticationRequired": TestCard("visa", "3184", behaviour="auth_required"),
    "pm_card_refundFail": TestCard("visa", "5126", behaviour="refund_fail"),
    "pm_card_createDispute": TestCard("visa", "0259", behaviour="dispute"),
}

# Stripe's minimum charge amounts for the currencies the demo uses
# (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
_MINIMUMS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50, "chf": 50}
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_CODE_CHARSET = re.compile(r"^[A-Za-z0-9-]+$")

ADDRESS = P.Obj({k: P.Str() for k in ("line1", "line2", "city", "state", "postal_code", "country")})
CURRENCY = P.Str(max_len=3)
LIST_FIELDS: dict[str, P.Spec] = {
    "limit": P.Int(min=1, max=100),
    "starting_after": P.Str(),
    "ending_before": P.Str(),
    "created": P.Any_(),
}
SEARCH_FIELDS: dict[str, P.Spec] = {"query": P.Str(), "limit": P.Int(min=1, max=100), "page": P.Str()}


def fmt_money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "gbp": "£", "eur": "€", "jpy": "¥"}.get(currency, "")
    value = str(amount) if currency in ZERO_DECIMAL else f"{amount / 100:.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


class StateBase:
    def __init__(self, now: Callable[[], float], on_event: Callable[[dict[str, Any]], None]) -> None:
        self.now = now
        self.on_event = on_event
        self.base_url = "http://127.0.0.1"
        self.reset()

    # --- bookkeeping ---------------------------------------------------------------------------------

    def reset(self) -> None:
        self.store: dict[str, dict[str, dict[str, Any]]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        self.seq: dict[str, int] = {}
        self._seq = itertools.count()
        self.pm_behaviour: dict[str, str] = {}  # pm id -> TestCard key
        self.quiet = False  # seeding makes no events
        self.current_request: dict[str, Any] = {"id": None, "idempotency_key": None}
        # async transitions (refund failure) waiting to run: (due unix time, callable)
        self.pending: list[tuple[float, Callable[[], None]]] = []
        self.checkout_pi_data: dict[str, dict[str, Any]] = {}

    def ts(self) -> int:
        return int(self.now())

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.store.setdefault(kind, {})[obj["id"]] = obj
        self.by_id[obj["id"]] = obj
        self.seq[obj["id"]] = next(self._seq)
        return obj

    def get(self, kind: str, ident: str, label: str, param: str = "id") -> dict[str, Any]:
        obj = self.store.get(kind, {}).get(ident)
        if obj is None:
            raise missing(label, ident, param)
        return obj

    def emit(self, type_: str, obj: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> None:
        if self.quiet:
            return
        data: dict[str, Any] = {"object": copy.deepcopy(dict(obj))}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(dict(previous))
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.ts(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": dict(self.current_request),
            "type": type_,
        }
        self.put("event", event)
        self.on_event(event)

    # --- rendering -----------------------------------------------------------------------------------

    def render(self, obj: Mapping[str, Any], expand: Iterable[str] = ()) -> dict[str, Any]:
        out = copy.deepcopy(dict(obj))
        for path in expand:
            self._expand(out, path.split("."), path, 0)
        return out

    def _virtual(self, node: Mapping[str, Any], key: str) -> Any:
        """Properties not included by default but expandable (Charge.refunds in current API versions)."""
        if node.get("object") == "charge" and key == "refunds":
            refunds = [r for r in self._newest("refund") if r["charge"] == node["id"]]
            return {
                "object": "list",
                "data": refunds,
                "has_more": False,
                "url": f"/v1/charges/{node['id']}/refunds",
            }
        return _NOPE

    def _expand(self, node: Any, parts: list[str], path: str, depth: int) -> None:
        if depth > 4:
            raise invalid(
                f"You cannot expand more than 4 levels of a property. Property: {path}", param="expand"
            )
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, path, depth)
            return
        if not isinstance(node, dict):
            return
        key = parts[0]
        if key not in node:
            virtual = self._virtual(node, key)
            if virtual is _NOPE:
                raise invalid(f"This property cannot be expanded ({path}).", param="expand")
            node[key] = copy.deepcopy(virtual)
        value = node[key]
        if isinstance(value, str):
            target = self.by_id.get(value)
            if target is None:
                raise invalid(f"This property cannot be expanded ({path}).", param="expand")
            node[key] = value = copy.deepcopy(target)
        elif value is not None and not isinstance(value, dict | list):
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        if len(parts) > 1 and value is not None:
            self._expand(value, parts[1:], path, depth + 1)

    def _newest(self, kind: str) -> list[dict[str, Any]]:
        objs = list(self.store.get(kind, {}).values())
        objs.sort(key=lambda o: (o.get("created", 0), self.seq[o["id"]]), reverse=True)
        return objs

    def page(
        self, kind: str, p: P.Params, url: str, pred: Callable[[dict[str, Any]], bool] = lambda _o: True
    ) -> dict[str, Any]:
        items = [o for o in self._newest(kind) if pred(o)]
        items = [o for o in items if _created_ok(o, p.get("created"))]
        limit = p.get("limit", 10)
        after, before = p.get("starting_after"), p.get("ending_before")
        if after:
            idx = next((i for i, o in enumerate(items) if o["id"] == after), None)
            if idx is None:
                raise missing(kind.replace("_", " "), after, "starting_after")
            items = items[idx + 1 :]
            window, more = items[:limit], len(items) > limit
        elif before:
            idx = next((i for i, o in enumerate(items) if o["id"] == before), None)
            if idx is None:
                raise missing(kind.replace("_", " "), before, "ending_before")
            items = items[:idx]
            window, more = items[-limit:], len(items) > limit
        else:
            window, more = items[:limit], len(items) > limit
        return {"object": "list", "data": window, "has_more": more, "url": url}

    def search(self, kind: str, p: P.Params, url: str, fields: Mapping[str, str]) -> dict[str, Any]:
        # Deviation: real search lags writes by up to a minute; here it is immediately consistent.
        match = make_matcher(p.get("query", ""), fields)
        items = [o for o in self._newest(kind) if match(o)]
        limit = p.get("limit", 10)
        offset = 0
        if p.get("page"):
            try:
                offset = int(base64.urlsafe_b64decode(p.get("page").encode()).decode())
            except (ValueError, UnicodeDecodeError):
                raise ValidationError("Invalid page token", param="page") from None
        window = items[offset : offset + limit]
        more = len(items) > offset + limit
        next_page = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
        return {
            "object": "search_result",
            "data": window,
            "has_more": more,
            "next_page": next_page,
            "url": url,
            "total_count": len(items),
        }


class _Nope:
    pass


_NOPE: Any = _Nope()


def _created_ok(obj: Mapping[str, Any], created: Any) -> bool:
    """``created`` filter: an int, or a hash of gt/gte/lt/lte (as strings from the form)."""
    if created is None:
        return True
    value = obj.get("created", 0)
    try:
        if isinstance(created, str):
            return bool(value == int(created))
        if isinstance(created, dict):
            ops = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for key, raw in created.items():
                if key not in ops:
                    raise ValidationError(
                        f"Received unknown parameter: created[{key}]",
                        param=f"created[{key}]",
                        code="parameter_unknown",
                    )
                if not ops[key](value, int(raw)):
                    return False
            return True
    except (TypeError, ValueError):
        raise ValidationError(
            "Invalid integer for created", param="created", code="parameter_invalid_integer"
        ) from None
    raise ValidationError("Invalid created filter", param="created")
