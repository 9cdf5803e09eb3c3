"""The sandbox's objects and the Stripe behaviour that changes them.

Objects are kept as the JSON dicts Stripe returns (references to other objects as ids), so rendering is a
deep copy plus ``expand``. Every handler here is synchronous: a request's whole state change happens
without an ``await`` in between, so concurrent requests on the event loop never see half an operation.
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
from typing import Any, ClassVar

from . import params as P
from .errors import StripeError, ValidationError, invalid, missing
from .search import make_matcher

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


class SandboxState:
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

    # --- customers -----------------------------------------------------------------------------------

    CUSTOMER_FIELDS: ClassVar[dict[str, P.Spec]] = {
        "email": P.Str(max_len=512),
        "name": P.Str(max_len=256),
        "phone": P.Str(max_len=20),
        "description": P.Str(),
        "metadata": P.Metadata(),
        "address": ADDRESS,
        "payment_method": P.Str(),
        "invoice_settings": P.Obj({"default_payment_method": P.Str()}),
    }

    def customer_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, self.CUSTOMER_FIELDS)
        cus = {
            "id": new_id("cus_", 14),
            "object": "customer",
            "address": p.get("address") or None,
            "balance": 0,
            "created": self.ts(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": p.get("description"),
            "discount": None,
            "email": p.get("email"),
            "invoice_prefix": "".join(
                secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
            ),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": (p.get("invoice_settings") or {}).get("default_payment_method"),
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": p.get("metadata", {}),
            "name": p.get("name"),
            "next_invoice_sequence": 1,
            "phone": p.get("phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.put("customer", cus)
        self.emit("customer.created", cus)
        return self.render(cus, p.expand)

    def customer_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        ident = a["id"]
        deleted = self.store.get("deleted_customer", {}).get(ident)
        if deleted:
            return dict(deleted)
        return self.render(self.get("customer", ident, "customer"), p.expand)

    def customer_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, self.CUSTOMER_FIELDS)
        cus = self.get("customer", a["id"], "customer")
        previous: dict[str, Any] = {}
        for key, value in p.values.items():
            if key == "metadata":
                meta = dict(cus["metadata"]) if value else {}
                for k, v in value.items():
                    if v == "":
                        meta.pop(k, None)
                    else:
                        meta[k] = v
                value = meta
            elif key == "invoice_settings":
                value = {**cus["invoice_settings"], **value}
            elif key == "payment_method":
                continue
            elif value == "":
                value = None
            if cus.get(key) != value:
                previous[key] = cus.get(key)
                cus[key] = value
        if previous:
            self.emit("customer.updated", cus, previous)
        return self.render(cus, p.expand)

    def customer_delete(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        P.validate(raw, {})
        cus = self.get("customer", a["id"], "customer")
        del self.store["customer"][cus["id"]]
        del self.by_id[cus["id"]]
        tomb = {"id": cus["id"], "object": "customer", "deleted": True}
        self.store.setdefault("deleted_customer", {})[cus["id"]] = tomb
        self.emit("customer.deleted", cus)
        return dict(tomb)

    def customer_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "email": P.Str(max_len=512), "test_clock": P.Str()})
        email = p.get("email")
        # Stripe documents the list filter's email match as case-sensitive (unlike search).
        res = self.page("customer", p, "/v1/customers", lambda o: email is None or o["email"] == email)
        return self.render(res, p.expand)

    def customer_search(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, SEARCH_FIELDS, required=("query",))
        res = self.search(
            "customer",
            p,
            "/v1/customers/search",
            {"email": "email", "name": "name", "phone": "phone", "created": "created"},
        )
        return self.render(res, p.expand)

    # --- payment methods -----------------------------------------------------------------------------

    def resolve_pm(self, ident: str, customer: str | None, param: str = "payment_method") -> str:
        """A magic test token becomes a fresh ``pm_`` (as Stripe clones them); returns the real pm id."""
        if ident in TEST_CARDS:
            card = TEST_CARDS[ident]
            year = int(self.now() // 31_557_600) + 1970 + 3
            pm = {
                "id": new_id("pm_"),
                "object": "payment_method",
                "billing_details": {
                    "address": {
                        "city": None,
                        "country": None,
                        "line1": None,
                        "line2": None,
                        "postal_code": None,
                        "state": None,
                    },
                    "email": None,
                    "name": None,
                    "phone": None,
                },
                "card": {
                    "brand": card.brand,
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass",
                    },
                    "country": "US",
                    "exp_month": 8,
                    "exp_year": year,
                    "funding": "credit",
                    "last4": card.last4,
                    "networks": {"available": [card.brand], "preferred": None},
                },
                "created": self.ts(),
                "customer": None,
                "livemode": False,
                "metadata": {},
                "type": "card",
            }
            self.put("payment_method", pm)
            self.pm_behaviour[str(pm["id"])] = ident
            return str(pm["id"])
        if ident in self.store.get("payment_method", {}):
            return ident
        raise missing("PaymentMethod", ident, param)

    def pm_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("payment_method", a["id"], "PaymentMethod"), p.expand)

    # --- payment intents -----------------------------------------------------------------------------

    PI_FIELDS: ClassVar[dict[str, P.Spec]] = {
        "amount": P.Int(),
        "currency": CURRENCY,
        "customer": P.Str(),
        "description": P.Str(),
        "metadata": P.Metadata(),
        "payment_method": P.Str(),
        "payment_method_types": P.StrList(),
        # Newer API versions (the SDK's pinned 2026-10-28) name the allow-list this way.
        "allowed_payment_method_types": P.StrList(),
        "confirm": P.Bool(),
        "capture_method": P.Enum(("automatic", "automatic_async", "manual")),
        "payment_method_options": P.Obj(
            {
                "card": P.Obj(
                    {
                        "moto": P.Bool(),
                        "request_three_d_secure": P.Enum(("any", "automatic", "challenge")),
                        "capture_method": P.Enum(("manual",)),
                    }
                )
            }
        ),
        "receipt_email": P.Str(),
        "statement_descriptor": P.Str(max_len=22),
        "statement_descriptor_suffix": P.Str(max_len=22),
        "setup_future_usage": P.Enum(("on_session", "off_session")),
        "off_session": P.Bool(),
        "return_url": P.Str(),
        "error_on_requires_action": P.Bool(),
        "automatic_payment_methods": P.Obj(
            {"enabled": P.Bool(), "allow_redirects": P.Enum(("always", "never"))}
        ),
        "confirmation_method": P.Enum(("automatic", "manual")),
    }

    def pi_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, self.PI_FIELDS, required=("amount", "currency"))
        currency = p.get("currency").lower()
        amount = p.get("amount")
        minimum = _MINIMUMS.get(currency, 1)
        if amount < minimum:
            raise ValidationError(
                f"Amount must be at least {fmt_money(minimum, currency)} {currency}",
                param="amount",
                code="amount_too_small",
            )
        if amount > 99_999_999:
            raise ValidationError(
                "Amount must be no more than 999,999.99", param="amount", code="amount_too_large"
            )
        customer = p.get("customer")
        if customer:
            self.get("customer", customer, "customer", "customer")
        pm_id = self.resolve_pm(p.get("payment_method"), customer) if p.get("payment_method") else None
        pmo = p.get("payment_method_options") or {}
        pi = {
            "id": "",
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": p.get("capture_method", "automatic_async"),
            "client_secret": "",
            "confirmation_method": p.get("confirmation_method", "automatic"),
            "created": self.ts(),
            "currency": currency,
            "customer": customer,
            "description": p.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": p.get("metadata", {}),
            "next_action": None,
            "payment_method": pm_id,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": pmo.get("card", {}).get("request_three_d_secure", "automatic"),
                    **({"moto": True} if pmo.get("card", {}).get("moto") else {}),
                }
            },
            "payment_method_types": p.get("payment_method_types") or p.get("allowed_payment_method_types") or ["card"],
            "receipt_email": p.get("receipt_email"),
            "setup_future_usage": p.get("setup_future_usage"),
            "statement_descriptor": p.get("statement_descriptor"),
            "statement_descriptor_suffix": p.get("statement_descriptor_suffix"),
            "status": "requires_confirmation" if pm_id else "requires_payment_method",
        }
        pi["id"] = new_id("pi_")
        pi["client_secret"] = f"{pi['id']}_secret_{new_id('', 25)}"
        self.put("payment_intent", pi)
        self.emit("payment_intent.created", pi)
        if p.get("confirm"):
            if not pm_id:
                raise invalid(
                    "You cannot confirm this PaymentIntent because it's missing a payment method. "
                    "To confirm the PaymentIntent with cus, you must provide a payment method.",
                    code="payment_intent_unexpected_state",
                    param="payment_method",
                )
            self._confirm(pi, pm_id)
        return self.render(pi, p.expand)

    def pi_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {"client_secret": P.Str()})
        return self.render(self.get("payment_intent", a["id"], "payment_intent"), p.expand)

    def pi_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                k: self.PI_FIELDS[k]
                for k in (
                    "amount",
                    "currency",
                    "customer",
                    "description",
                    "metadata",
                    "payment_method",
                    "receipt_email",
                )
            },
        )
        pi = self.get("payment_intent", a["id"], "payment_intent")
        if pi["status"] in ("succeeded", "canceled", "processing"):
            raise invalid(
                f"This PaymentIntent's status is {pi['status']}; it can no longer be updated.",
                code="payment_intent_unexpected_state",
            )
        previous: dict[str, Any] = {}
        for key, value in p.values.items():
            if key == "payment_method":
                value = self.resolve_pm(value, pi["customer"])
                pi["status"] = "requires_confirmation"
            if key == "metadata":
                value = {**pi["metadata"], **value}
                value = {k: v for k, v in value.items() if v != ""}
            previous[key] = pi.get(key)
            pi[key] = value
        if previous:
            self.emit("payment_intent.updated", pi, previous)
        return self.render(pi, p.expand)

    def pi_confirm(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "payment_method": P.Str(),
                "return_url": P.Str(),
                "off_session": P.Bool(),
                "receipt_email": P.Str(),
                "error_on_requires_action": P.Bool(),
                "payment_method_options": self.PI_FIELDS["payment_method_options"],
                # A card Token (what PCI Pal's Stripe "Tokenisation" step returns) confirms an intent too.
                "payment_method_data": P.Obj({"type": P.Enum(("card",)), "card": P.Obj({"token": P.Str()})}),
            },
        )
        pi = self.get("payment_intent", a["id"], "payment_intent")
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise invalid(
                f"This PaymentIntent's status is {pi['status']}, but it "
                "must be one of requires_payment_method,"
                " requires_confirmation, or requires_action to confirm.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": self.render(pi)},
            )
        if p.get("payment_method"):
            pi["payment_method"] = self.resolve_pm(p.get("payment_method"), pi["customer"])
        token = ((p.get("payment_method_data") or {}).get("card") or {}).get("token")
        if token:
            # Stripe's test tokens mirror its test PaymentMethods: tok_visa is pm_card_visa's card.
            magic = "pm_card_" + token.removeprefix("tok_")
            if not token.startswith("tok_") or magic not in TEST_CARDS:
                raise invalid(f"No such token: '{token}'", param="payment_method_data[card][token]",
                              code="resource_missing")
            pi["payment_method"] = self.resolve_pm(magic, pi["customer"])
        if p.get("receipt_email"):
            pi["receipt_email"] = p.get("receipt_email")
        if (p.get("payment_method_options") or {}).get("card", {}).get("moto"):
            pi["payment_method_options"]["card"]["moto"] = True
        if not pi["payment_method"]:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
                extra={"payment_intent": self.render(pi)},
            )
        self._confirm(pi, pi["payment_method"])
        return self.render(pi, p.expand)

    def _card_details(self, pm_id: str) -> dict[str, Any]:
        card = self.by_id[pm_id]["card"]
        return {
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "funding": card["funding"],
            "last4": card["last4"],
            "network": card["brand"],
            "three_d_secure": None,
        }

    def _confirm(self, pi: dict[str, Any], pm_id: str) -> None:
        test_card = TEST_CARDS[self.pm_behaviour.get(pm_id, "pm_card_visa")]
        pm_obj = self.by_id[pm_id]
        if test_card.behaviour == "auth_required":
            # Deliberate choice: this card demands authentication on every payment, MOTO or not, and a
            # voice call cannot complete 3-D Secure; so confirm fails like an off-session payment does:
            # 402 authentication_required, the PaymentIntent back to requires_payment_method with
            # last_payment_error, and no Charge (the issuer never authorised anything).
            error: dict[str, Any] = {
                "code": "authentication_required",
                "decline_code": "authentication_required",
                "doc_url": "https://docs.stripe.com/error-codes/authentication-required",
                "message": "Your card was declined. This transaction requires authentication.",
                "payment_method": self.render(pm_obj),
                "type": "card_error",
            }
            previous = {"status": pi["status"], "last_payment_error": pi["last_payment_error"]}
            pi.update(status="requires_payment_method", last_payment_error=error, payment_method=None)
            self.emit("payment_intent.payment_failed", pi, previous)
            raise StripeError(
                402,
                "card_error",
                error["message"],
                code="authentication_required",
                decline_code="authentication_required",
                extra={"payment_intent": self.render(pi), "payment_method": self.render(pm_obj)},
            )
        charge = self._new_charge(pi, pm_id, test_card)
        if test_card.decline:
            code, decline_code, message = test_card.decline
            error = {
                "charge": charge["id"],
                "code": code,
                "decline_code": decline_code,
                "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
                "message": message,
                "payment_method": self.render(pm_obj),
                "type": "card_error",
            }
            previous = {"status": pi["status"], "last_payment_error": pi["last_payment_error"]}
            pi.update(
                status="requires_payment_method",
                last_payment_error=error,
                latest_charge=charge["id"],
                payment_method=None,
            )
            self.emit("charge.failed", charge)
            self.emit("payment_intent.payment_failed", pi, previous)
            raise StripeError(
                402,
                "card_error",
                message,
                code=code,
                decline_code=decline_code,
                extra={
                    "charge": charge["id"],
                    "payment_intent": self.render(pi),
                    "payment_method": self.render(pm_obj),
                },
            )
        manual = pi["capture_method"] == "manual"
        previous = {"status": pi["status"]}
        pi.update(
            status="requires_capture" if manual else "succeeded",
            latest_charge=charge["id"],
            last_payment_error=None,
            amount_received=0 if manual else pi["amount"],
            amount_capturable=pi["amount"] if manual else 0,
        )
        self.emit("charge.succeeded", charge)
        self.emit(
            "payment_intent.amount_capturable_updated" if manual else "payment_intent.succeeded", pi, previous
        )
        if test_card.behaviour == "dispute":
            # Deviation: Stripe opens this dispute moments later; here it is opened within the same request
            # (events still after charge.succeeded) so tests need no waiting.
            self.open_dispute(charge["id"])

    def _new_charge(self, pi: dict[str, Any], pm_id: str, card: TestCard) -> dict[str, Any]:
        failed = card.decline is not None
        manual = pi["capture_method"] == "manual"
        code: str | None
        message: str | None
        if failed:
            assert card.decline is not None
            code, decline_code, message = card.decline
            outcome = {
                "network_status": "declined_by_network",
                "reason": decline_code,
                "risk_level": "normal",
                "risk_score": 20,
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            }
        else:
            code, message = None, None
            outcome = {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": 20,
                "seller_message": "Payment complete.",
                "type": "authorized",
            }
        charge = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0 if failed or manual else pi["amount"],
            "amount_refunded": 0,
            "balance_transaction": None if failed else new_id("txn_"),
            "billing_details": self.by_id[pm_id]["billing_details"],
            "calculated_statement_descriptor": "VOICEPAY",
            "captured": not failed and not manual,
            "created": self.ts(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": code,
            "failure_message": message,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "outcome": outcome,
            "paid": not failed,
            "payment_intent": pi["id"],
            "payment_method": pm_id,
            "payment_method_details": {"card": self._card_details(pm_id), "type": "card"},
            "receipt_email": pi["receipt_email"],
            "receipt_url": None,
            "refunded": False,
            "status": "failed" if failed else "succeeded",
        }
        self.put("charge", charge)
        self.pm_behaviour.setdefault(charge["id"], card.behaviour)
        return charge

    def pi_cancel(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "cancellation_reason": P.Enum(
                    ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
                )
            },
        )
        pi = self.get("payment_intent", a["id"], "payment_intent")
        if pi["status"] in ("succeeded", "canceled"):
            raise invalid(
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
                "requires_capture, requires_confirmation, requires_action, processing.",
                code="payment_intent_unexpected_state",
                extra={"payment_intent": self.render(pi)},
            )
        previous = {"status": pi["status"]}
        pi.update(
            status="canceled",
            canceled_at=self.ts(),
            cancellation_reason=p.get("cancellation_reason"),
            amount_capturable=0,
        )
        self.emit("payment_intent.canceled", pi, previous)
        return self.render(pi, p.expand)

    def pi_capture(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {"amount_to_capture": P.Int(min=1), "metadata": P.Metadata()})
        pi = self.get("payment_intent", a["id"], "payment_intent")
        if pi["status"] != "requires_capture":
            raise invalid(
                f"This PaymentIntent could not be captured because it has a status of {pi['status']}. Only a "
                "PaymentIntent with one of the following statuses may be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        amount = p.get("amount_to_capture", pi["amount"])
        if amount > pi["amount"]:
            raise invalid(
                "The amount_to_capture must be less than or equal to the amount capturable.",
                param="amount_to_capture",
                code="amount_too_large",
            )
        charge = self.by_id[pi["latest_charge"]]
        charge.update(captured=True, amount_captured=amount)
        previous = {"status": pi["status"]}
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.emit("charge.captured", charge)
        self.emit("payment_intent.succeeded", pi, previous)
        return self.render(pi, p.expand)

    def pi_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "customer": P.Str()})
        cus = p.get("customer")
        res = self.page(
            "payment_intent", p, "/v1/payment_intents", lambda o: cus is None or o["customer"] == cus
        )
        return self.render(res, p.expand)

    def pi_search(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, SEARCH_FIELDS, required=("query",))
        res = self.search(
            "payment_intent",
            p,
            "/v1/payment_intents/search",
            {
                "customer": "customer",
                "status": "status",
                "amount": "amount",
                "currency": "currency",
                "created": "created",
            },
        )
        return self.render(res, p.expand)

    # --- charges -------------------------------------------------------------------------------------

    def charge_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("charge", a["id"], "charge"), p.expand)

    def charge_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {**LIST_FIELDS, "customer": P.Str(), "payment_intent": P.Str(), "transfer_group": P.Str()}
        )
        cus, pi = p.get("customer"), p.get("payment_intent")
        res = self.page(
            "charge",
            p,
            "/v1/charges",
            lambda o: (cus is None or o["customer"] == cus) and (pi is None or o["payment_intent"] == pi),
        )
        return self.render(res, p.expand)

    def charge_search(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, SEARCH_FIELDS, required=("query",))
        res = self.search(
            "charge",
            p,
            "/v1/charges/search",
            {
                "customer": "customer",
                "amount": "amount",
                "status": "status",
                "currency": "currency",
                "payment_intent": "payment_intent",
                "created": "created",
                "disputed": "disputed",
                "payment_method_details.card.last4": "payment_method_details.card.last4",
            },
        )
        return self.render(res, p.expand)

    # --- refunds -------------------------------------------------------------------------------------

    def refund_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "charge": P.Str(),
                "payment_intent": P.Str(),
                "amount": P.Int(min=1),
                "reason": P.Enum(REFUND_REASONS),
                "metadata": P.Metadata(),
                "instructions_email": P.Str(),
                "refund_application_fee": P.Bool(),
                "reverse_transfer": P.Bool(),
                "origin": P.Enum(("customer_balance",)),
            },
        )
        charge_id, pi_id = p.get("charge"), p.get("payment_intent")
        if not charge_id and not pi_id:
            raise ValidationError(
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        if pi_id:
            pi = self.get("payment_intent", pi_id, "payment_intent", "payment_intent")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                if pi["status"] == "requires_capture":
                    message = (
                        "This PaymentIntent is in requires_capture and can't be refunded. Cancel the "
                        "PaymentIntent instead."
                    )
                else:
                    message = "This PaymentIntent does not have a successful charge to refund."
                raise invalid(message, param="payment_intent", code="charge_not_refundable")
            if charge_id and charge_id != pi["latest_charge"]:
                raise invalid("The charge does not belong to this PaymentIntent.", param="charge")
            charge_id = pi["latest_charge"]
        charge = self.get("charge", charge_id, "charge", "charge")
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(
                f"Charge {charge['id']} has not been captured or has failed and cannot be refunded.",
                param="charge",
                code="charge_not_refundable",
            )
        if charge["disputed"]:
            raise invalid(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                param="charge",
                code="charge_disputed",
            )
        if charge["refunded"] or charge["amount_refunded"] >= charge["amount_captured"]:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.",
                param="charge",
                code="charge_already_refunded",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        amount = p.get("amount", remaining)
        if amount > remaining:
            raise invalid(
                f"Refund amount ({fmt_money(amount, charge['currency'])}) "
                "is greater than unrefunded amount on "
                f"charge ({fmt_money(remaining, charge['currency'])})",
                param="amount",
                code="amount_too_large",
            )
        will_fail = self.pm_behaviour.get(charge["id"]) == "refund_fail"
        refund = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": self.ts(),
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": p.get("metadata", {}),
            "payment_intent": charge["payment_intent"],
            "reason": p.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "pending" if will_fail else "succeeded",
            "transfer_reversal": None,
        }
        if will_fail:
            refund["pending_reason"] = "processing"
        self.put("refund", refund)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge, {"amount_refunded": charge["amount_refunded"] - amount})
        if will_fail:
            # Stripe documents this test card's refunds as failing "some time in the future"; the failure is
            # scheduled (run by the sandbox's settle loop or on demand with settle()).
            self.pending.append((self.now(), lambda: self._fail_refund(refund["id"])))
        return self.render(refund, p.expand)

    def _fail_refund(self, refund_id: str) -> None:
        refund = self.by_id[refund_id]
        if refund["status"] != "pending":
            return
        charge = self.by_id[refund["charge"]]
        refund.update(status="failed", failure_reason="declined", failure_balance_transaction=new_id("txn_"))
        refund.pop("pending_reason", None)
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("refund.updated", refund, {"status": "pending"})
        self.emit("refund.failed", refund, {"status": "pending"})

    def refund_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("refund", a["id"], "refund"), p.expand)

    def refund_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {"metadata": P.Metadata()})
        refund = self.get("refund", a["id"], "refund")
        if "metadata" in p:
            previous = {"metadata": dict(refund["metadata"])}
            meta = {**refund["metadata"], **p.get("metadata")}
            refund["metadata"] = {k: v for k, v in meta.items() if v != ""}
            self.emit("refund.updated", refund, previous)
        return self.render(refund, p.expand)

    def refund_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "charge": P.Str(), "payment_intent": P.Str()})
        ch, pi = p.get("charge"), p.get("payment_intent")
        res = self.page(
            "refund",
            p,
            "/v1/refunds",
            lambda o: (ch is None or o["charge"] == ch) and (pi is None or o["payment_intent"] == pi),
        )
        return self.render(res, p.expand)

    # --- disputes ------------------------------------------------------------------------------------

    def open_dispute(self, charge_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        charge = self.get("charge", charge_id, "charge", "charge")
        if charge["status"] != "succeeded":
            raise invalid("Only a succeeded charge can be disputed.", param="charge")
        if charge["disputed"]:
            raise invalid(f"Charge {charge_id} is already disputed.", param="charge")
        dispute = {
            "id": new_id("dp_"),
            "object": "dispute",
            "amount": charge["amount"] - charge["amount_refunded"],
            "balance_transactions": [],
            "charge": charge_id,
            "created": self.ts(),
            "currency": charge["currency"],
            "evidence": {"customer_email_address": None, "customer_name": None, "uncategorized_text": None},
            "evidence_details": {
                "due_by": self.ts() + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }
        self.put("dispute", dispute)
        charge["disputed"] = True
        self.emit("charge.dispute.created", dispute)
        return dispute

    def dispute_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("dispute", a["id"], "dispute"), p.expand)

    def dispute_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "charge": P.Str(), "payment_intent": P.Str()})
        ch, pi = p.get("charge"), p.get("payment_intent")
        res = self.page(
            "dispute",
            p,
            "/v1/disputes",
            lambda o: (ch is None or o["charge"] == ch) and (pi is None or o["payment_intent"] == pi),
        )
        return self.render(res, p.expand)

    # --- coupons and promotion codes -----------------------------------------------------------------

    def coupon_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "id": P.Str(max_len=200),
                "percent_off": P.Float(),
                "amount_off": P.Int(min=1),
                "currency": CURRENCY,
                "duration": P.Enum(("once", "repeating", "forever")),
                "duration_in_months": P.Int(min=1),
                "max_redemptions": P.Int(min=1),
                "redeem_by": P.Int(),
                "name": P.Str(max_len=40),
                "metadata": P.Metadata(),
                "applies_to": P.Obj({"products": P.StrList()}),
            },
        )
        has_pct, has_amt = "percent_off" in p, "amount_off" in p
        if has_pct == has_amt:
            raise ValidationError(
                "You must pass exactly one of percent_off or amount_off.",
                param="percent_off" if not has_pct else "amount_off",
            )
        if has_pct and not 0 < p.get("percent_off") <= 100:
            raise ValidationError(
                "Invalid percent_off: must be greater than 0 and at most 100.", param="percent_off"
            )
        if has_amt and not p.get("currency"):
            raise ValidationError(
                "You must pass currency when passing amount_off.", param="currency", code="parameter_missing"
            )
        duration = p.get("duration", "once")
        if duration == "repeating" and "duration_in_months" not in p:
            raise ValidationError(
                "You must pass duration_in_months when duration is repeating.",
                param="duration_in_months",
                code="parameter_missing",
            )
        if duration != "repeating" and "duration_in_months" in p:
            raise ValidationError(
                "duration_in_months can only be set when duration is repeating.", param="duration_in_months"
            )
        if "redeem_by" in p and p.get("redeem_by") <= self.ts():
            raise ValidationError("Invalid redeem_by: must be in the future.", param="redeem_by")
        ident = p.get("id") or new_id("", 8)
        if ident in self.store.get("coupon", {}):
            raise invalid("Coupon already exists.", param="id", code="resource_already_exists")
        coupon = {
            "id": ident,
            "object": "coupon",
            "amount_off": p.get("amount_off"),
            "created": self.ts(),
            "currency": (p.get("currency") or "").lower() or None,
            "duration": duration,
            "duration_in_months": p.get("duration_in_months"),
            "livemode": False,
            "max_redemptions": p.get("max_redemptions"),
            "metadata": p.get("metadata", {}),
            "name": p.get("name"),
            "percent_off": p.get("percent_off"),
            "redeem_by": p.get("redeem_by"),
            "times_redeemed": 0,
            "valid": True,
        }
        self.put("coupon", coupon)
        self.emit("coupon.created", coupon)
        return self.render(coupon, p.expand)

    def coupon_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        coupon = self.get("coupon", a["id"], "coupon")
        self._refresh_coupon(coupon)
        return self.render(coupon, p.expand)

    def _refresh_coupon(self, coupon: dict[str, Any]) -> None:
        expired = coupon["redeem_by"] is not None and coupon["redeem_by"] <= self.ts()
        exhausted = (
            coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]
        )
        coupon["valid"] = not (expired or exhausted)

    def coupon_delete(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        P.validate(raw, {})
        coupon = self.get("coupon", a["id"], "coupon")
        del self.store["coupon"][coupon["id"]]
        self.emit("coupon.deleted", coupon)
        return {"id": coupon["id"], "object": "coupon", "deleted": True}

    def coupon_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, LIST_FIELDS)
        return self.render(self.page("coupon", p, "/v1/coupons"), p.expand)

    PROMO_RESTRICTIONS = P.Obj(
        {
            "first_time_transaction": P.Bool(),
            "minimum_amount": P.Int(min=1),
            "minimum_amount_currency": CURRENCY,
        }
    )

    def promo_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        # Since API version 2025-09-30 the coupon sits under promotion[coupon] with promotion[type]=coupon;
        # the old top-level ``coupon`` parameter is unknown and refused as such.
        p = P.validate(
            raw,
            {
                "promotion": P.Obj(
                    {"type": P.Enum(("coupon",)), "coupon": P.Str()}, required=("type", "coupon")
                ),
                "code": P.Str(max_len=500),
                "active": P.Bool(),
                "customer": P.Str(),
                "expires_at": P.Int(),
                "max_redemptions": P.Int(min=1),
                "metadata": P.Metadata(),
                "restrictions": self.PROMO_RESTRICTIONS,
            },
            required=("promotion",),
        )
        coupon = self.get("coupon", p.get("promotion")["coupon"], "coupon", "promotion[coupon]")
        self._refresh_coupon(coupon)
        if not coupon["valid"]:
            raise invalid(f"Coupon {coupon['id']} is no longer valid.", param="promotion[coupon]")
        code = p.get("code") or "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
        )
        if not _CODE_CHARSET.match(code):
            raise ValidationError(
                "Invalid code: only letters, digits and dashes (-) are allowed.", param="code"
            )
        active = p.get("active", True)
        if active and any(
            o["active"] and o["code"].lower() == code.lower()
            for o in self.store.get("promotion_code", {}).values()
        ):
            raise invalid(
                f"An active promotion code with `code: {code}` already exists.",
                param="code",
                code="resource_already_exists",
            )
        if p.get("customer"):
            self.get("customer", p.get("customer"), "customer", "customer")
        expires_at = p.get("expires_at")
        if expires_at is not None:
            if expires_at <= self.ts():
                raise ValidationError("Invalid expires_at: must be in the future.", param="expires_at")
            if coupon["redeem_by"] is not None and expires_at > coupon["redeem_by"]:
                raise invalid(
                    "The promotion code's expires_at cannot be later than its coupon's redeem_by.",
                    param="expires_at",
                )
        max_r = p.get("max_redemptions")
        if max_r is not None and coupon["max_redemptions"] is not None and max_r > coupon["max_redemptions"]:
            raise invalid(
                "The promotion code's max_redemptions cannot exceed its coupon's max_redemptions.",
                param="max_redemptions",
            )
        restr = p.get("restrictions") or {}
        promo = {
            "id": new_id("promo_"),
            "object": "promotion_code",
            "active": active,
            "code": code,
            "created": self.ts(),
            "customer": p.get("customer"),
            "expires_at": expires_at,
            "livemode": False,
            "max_redemptions": max_r,
            "metadata": p.get("metadata", {}),
            "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "restrictions": {
                "currency_options": {},
                "first_time_transaction": restr.get("first_time_transaction", False),
                "minimum_amount": restr.get("minimum_amount"),
                "minimum_amount_currency": restr.get("minimum_amount_currency"),
            },
            "times_redeemed": 0,
        }
        self.put("promotion_code", promo)
        self.emit("promotion_code.created", promo)
        return self.render(promo, p.expand)

    def _refresh_promo(self, promo: dict[str, Any]) -> None:
        if promo["expires_at"] is not None and promo["expires_at"] <= self.ts():
            promo["active"] = False

    def promo_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        promo = self.get("promotion_code", a["id"], "promotion code")
        self._refresh_promo(promo)
        return self.render(promo, p.expand)

    def promo_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {"active": P.Bool(), "metadata": P.Metadata(), "restrictions": self.PROMO_RESTRICTIONS}
        )
        promo = self.get("promotion_code", a["id"], "promotion code")
        previous: dict[str, Any] = {}
        if "active" in p and p.get("active") != promo["active"]:
            if p.get("active") and any(
                o["active"] and o["code"].lower() == promo["code"].lower()
                for o in self.store["promotion_code"].values()
            ):
                raise invalid(
                    f"An active promotion code with `code: {promo['code']}` already exists.",
                    param="active",
                    code="resource_already_exists",
                )
            previous["active"] = promo["active"]
            promo["active"] = p.get("active")
        if "metadata" in p:
            previous["metadata"] = dict(promo["metadata"])
            meta = {**promo["metadata"], **p.get("metadata")}
            promo["metadata"] = {k: v for k, v in meta.items() if v != ""}
        if previous:
            self.emit("promotion_code.updated", promo, previous)
        return self.render(promo, p.expand)

    def promo_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {**LIST_FIELDS, "code": P.Str(), "coupon": P.Str(), "customer": P.Str(), "active": P.Bool()}
        )
        for promo in self.store.get("promotion_code", {}).values():
            self._refresh_promo(promo)
        code, coupon, cus, active = p.get("code"), p.get("coupon"), p.get("customer"), p.get("active")

        def pred(o: dict[str, Any]) -> bool:
            # Stripe: "Only return promotion codes that have this case-insensitive code."
            return (
                (code is None or o["code"].lower() == code.lower())
                and (coupon is None or o["promotion"]["coupon"] == coupon)
                and (cus is None or o["customer"] == cus)
                and (active is None or o["active"] == active)
            )

        return self.render(self.page("promotion_code", p, "/v1/promotion_codes", pred), p.expand)

    # --- products, prices, subscriptions, invoices ----------------------------------------------------

    def product_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "id": P.Str(),
                "name": P.Str(),
                "description": P.Str(),
                "active": P.Bool(),
                "metadata": P.Metadata(),
            },
            required=("name",),
        )
        ident = p.get("id") or new_id("prod_", 14)
        if ident in self.store.get("product", {}):
            raise invalid("Product already exists.", param="id", code="resource_already_exists")
        prod = {
            "id": ident,
            "object": "product",
            "active": p.get("active", True),
            "created": self.ts(),
            "default_price": None,
            "description": p.get("description"),
            "images": [],
            "livemode": False,
            "marketing_features": [],
            "metadata": p.get("metadata", {}),
            "name": p.get("name"),
            "type": "service",
            "updated": self.ts(),
            "url": None,
        }
        self.put("product", prod)
        self.emit("product.created", prod)
        return self.render(prod, p.expand)

    def product_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("product", a["id"], "product"), p.expand)

    def product_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "ids": P.StrList(), "active": P.Bool()})
        ids = set(p.get("ids") or ())
        active = p.get("active")

        def keep(o: Mapping[str, Any]) -> bool:
            return (not ids or o["id"] in ids) and (active is None or o.get("active") == active)

        return self.render(self.page("product", p, "/v1/products", keep), p.expand)

    def price_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "unit_amount": P.Int(min=0),
                "currency": CURRENCY,
                "product": P.Str(),
                "product_data": P.Obj({"name": P.Str()}, required=("name",)),
                "nickname": P.Str(),
                "recurring": P.Obj(
                    {"interval": P.Enum(("day", "week", "month", "year")), "interval_count": P.Int(min=1)},
                    required=("interval",),
                ),
                "metadata": P.Metadata(),
                "active": P.Bool(),
                "lookup_key": P.Str(),
            },
            required=("currency",),
        )
        if p.get("product"):
            product_id = self.get("product", p.get("product"), "product", "product")["id"]
        elif p.get("product_data"):
            product_id = self.product_create({"name": p.get("product_data")["name"]}, {})["id"]
        else:
            raise ValidationError(
                "Missing required param: product.", param="product", code="parameter_missing"
            )
        return self.render(
            self._price(
                product_id,
                p.get("unit_amount"),
                p.get("currency"),
                p.get("recurring"),
                p.get("nickname"),
                p.get("metadata", {}),
            ),
            p.expand,
        )

    def _price(
        self,
        product: str,
        unit_amount: int | None,
        currency: str,
        recurring: Mapping[str, Any] | None,
        nickname: str | None,
        metadata: Mapping[str, str],
    ) -> dict[str, Any]:
        rec = None
        if recurring:
            rec = {
                "interval": recurring["interval"],
                "interval_count": recurring.get("interval_count", 1),
                "meter": None,
                "usage_type": "licensed",
            }
        price = {
            "id": new_id("price_"),
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": self.ts(),
            "currency": currency.lower(),
            "livemode": False,
            "lookup_key": None,
            "metadata": dict(metadata),
            "nickname": nickname,
            "product": product,
            "recurring": rec,
            "tax_behavior": "unspecified",
            "type": "recurring" if rec else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
        }
        self.put("price", price)
        self.emit("price.created", price)
        return price

    def price_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("price", a["id"], "price"), p.expand)

    def price_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "product": P.Str(), "active": P.Bool()})
        prod = p.get("product")
        return self.render(
            self.page("price", p, "/v1/prices", lambda o: prod is None or o["product"] == prod), p.expand
        )

    def make_subscription(
        self,
        customer: str,
        price_ids: list[tuple[str, int]],
        *,
        status: str = "active",
        trial_days: int | None = None,
        start: int | None = None,
        metadata: Mapping[str, str] | None = None,
        cancel_at_period_end: bool = False,
    ) -> dict[str, Any]:
        now = start if start is not None else self.ts()
        sub_id = new_id("sub_")
        prices = [(self.by_id[pid], qty) for pid, qty in price_ids]
        interval = prices[0][0]["recurring"]["interval"]
        count = prices[0][0]["recurring"]["interval_count"]
        period = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}[interval] * count
        trial_end = now + trial_days * 86400 if trial_days else None
        period_end = trial_end or now + period
        items: list[dict[str, Any]] = [
            {
                "id": new_id("si_", 14),
                "object": "subscription_item",
                "created": now,
                "current_period_start": now,
                "current_period_end": period_end,
                "discounts": [],
                "metadata": {},
                "price": copy.deepcopy(price),
                "quantity": qty,
                "subscription": sub_id,
                "tax_rates": [],
            }
            for price, qty in prices
        ]
        sub = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "billing_cycle_anchor": period_end,
            "cancel_at": period_end if cancel_at_period_end else None,
            "cancel_at_period_end": cancel_at_period_end,
            "canceled_at": None,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": prices[0][0]["currency"],
            # Stripe moved current_period_* onto the items in
            # 2025-03-31.basil; the sandbox keeps a copy on the
            # subscription too (first item's period) so readers of either place get an answer.
            "current_period_start": now,
            "current_period_end": period_end,
            "customer": customer,
            "default_payment_method": None,
            "description": None,
            "discounts": [],
            "ended_at": None,
            "items": {
                "object": "list",
                "data": items,
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(metadata or {}),
            "pause_collection": None,
            "start_date": now,
            "status": "trialing" if trial_days else status,
            "trial_end": trial_end,
            "trial_start": now if trial_days else None,
        }
        self.put("subscription", sub)
        if not trial_days:
            inv = self._invoice(sub, paid=status not in ("past_due", "unpaid", "incomplete"))
            sub["latest_invoice"] = inv["id"]
        for item in items:
            self.by_id[item["id"]] = item
        self.emit("customer.subscription.created", sub)
        return sub

    def _invoice(self, sub: dict[str, Any], *, paid: bool) -> dict[str, Any]:
        total = sum((i["price"]["unit_amount"] or 0) * i["quantity"] for i in sub["items"]["data"])
        now = self.ts()
        cus = self.by_id.get(sub["customer"], {})
        inv = {
            "id": new_id("in_"),
            "object": "invoice",
            "amount_due": total,
            "amount_paid": total if paid else 0,
            "amount_remaining": 0 if paid else total,
            "attempt_count": 1,
            "attempted": True,
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically",
            "created": now,
            "currency": sub["currency"],
            "customer": sub["customer"],
            "customer_email": cus.get("email"),
            "due_date": None,
            "hosted_invoice_url": f"{self.base_url}/_sandbox/invoices/{new_id('', 12)}",
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None if paid else now + 3 * 86400,
            "number": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {"metadata": {}, "subscription": sub["id"]},
                "type": "subscription_details",
            },
            "period_end": sub["current_period_start"],
            "period_start": sub["current_period_start"],
            "status": "paid" if paid else "open",
            "subtotal": total,
            "total": total,
        }
        self.put("invoice", inv)
        return inv

    SUB_FIELDS: ClassVar[dict[str, P.Spec]] = {
        "customer": P.Str(),
        "items": P.List(P.Obj({"price": P.Str(), "quantity": P.Int(min=1)}, required=("price",))),
        "trial_period_days": P.Int(min=1, max=730),
        "cancel_at_period_end": P.Bool(),
        "metadata": P.Metadata(),
        "default_payment_method": P.Str(),
        "description": P.Str(),
    }

    def sub_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, self.SUB_FIELDS, required=("customer", "items"))
        self.get("customer", p.get("customer"), "customer", "customer")
        items = []
        for i, item in enumerate(p.get("items")):
            price = self.get("price", item["price"], "price", f"items[{i}][price]")
            if not price["recurring"]:
                raise invalid(
                    "The price specified is set to `type=one_time` but this field only accepts prices "
                    "with `type=recurring`.",
                    param=f"items[{i}][price]",
                )
            items.append((price["id"], item.get("quantity", 1)))
        sub = self.make_subscription(
            p.get("customer"),
            items,
            trial_days=p.get("trial_period_days"),
            metadata=p.get("metadata"),
            cancel_at_period_end=p.get("cancel_at_period_end", False),
        )
        return self.render(sub, p.expand)

    def sub_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("subscription", a["id"], "subscription"), p.expand)

    def sub_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "cancel_at_period_end": P.Bool(),
                "metadata": P.Metadata(),
                "description": P.Str(),
                "default_payment_method": P.Str(),
            },
        )
        sub = self.get("subscription", a["id"], "subscription")
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
        previous: dict[str, Any] = {}
        if "cancel_at_period_end" in p and p.get("cancel_at_period_end") != sub["cancel_at_period_end"]:
            previous.update(cancel_at_period_end=sub["cancel_at_period_end"], cancel_at=sub["cancel_at"])
            sub["cancel_at_period_end"] = p.get("cancel_at_period_end")
            sub["cancel_at"] = sub["current_period_end"] if sub["cancel_at_period_end"] else None
        if "metadata" in p:
            previous["metadata"] = dict(sub["metadata"])
            meta = {**sub["metadata"], **p.get("metadata")}
            sub["metadata"] = {k: v for k, v in meta.items() if v != ""}
        for key in ("description", "default_payment_method"):
            if key in p:
                previous[key] = sub[key]
                sub[key] = p.get(key) or None
        if previous:
            self.emit("customer.subscription.updated", sub, previous)
        return self.render(sub, p.expand)

    def sub_cancel(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "invoice_now": P.Bool(),
                "prorate": P.Bool(),
                "cancellation_details": P.Obj({"comment": P.Str(), "feedback": P.Str()}),
            },
        )
        sub = self.get("subscription", a["id"], "subscription")
        if sub["status"] == "canceled":
            raise invalid(
                f"No such subscription: '{sub['id']}'. It has already been canceled.", code="resource_missing"
            )
        self.cancel_subscription(sub)
        return self.render(sub, p.expand)

    def cancel_subscription(self, sub: dict[str, Any]) -> None:
        now = self.ts()
        sub.update(status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False)
        self.emit("customer.subscription.deleted", sub)

    def sub_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                **LIST_FIELDS,
                "customer": P.Str(),
                "price": P.Str(),
                "status": P.Enum(
                    (
                        "active",
                        "all",
                        "canceled",
                        "ended",
                        "incomplete",
                        "incomplete_expired",
                        "past_due",
                        "paused",
                        "trialing",
                        "unpaid",
                    )
                ),
            },
        )
        cus, price, status = p.get("customer"), p.get("price"), p.get("status")

        def pred(o: dict[str, Any]) -> bool:
            if cus is not None and o["customer"] != cus:
                return False
            if price is not None and all(i["price"]["id"] != price for i in o["items"]["data"]):
                return False
            if status is None:
                return bool(o["status"] != "canceled")  # Stripe's default excludes canceled subscriptions
            if status == "all":
                return True
            if status == "ended":
                return o["status"] in ("canceled", "incomplete_expired")
            return bool(o["status"] == status)

        return self.render(self.page("subscription", p, "/v1/subscriptions", pred), p.expand)

    def sub_search(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, SEARCH_FIELDS, required=("query",))
        return self.render(
            self.search(
                "subscription",
                p,
                "/v1/subscriptions/search",
                {"status": "status", "created": "created", "customer": "customer"},
            ),
            p.expand,
        )

    def mark_past_due(self, sub_id: str) -> dict[str, Any]:
        sub = self.get("subscription", sub_id, "subscription")
        inv = self._invoice(sub, paid=False)
        previous = {"status": sub["status"], "latest_invoice": sub["latest_invoice"]}
        sub.update(status="past_due", latest_invoice=inv["id"])
        self.emit("invoice.payment_failed", inv)
        self.emit("customer.subscription.updated", sub, previous)
        return sub

    def invoice_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("invoice", a["id"], "invoice"), p.expand)

    def invoice_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                **LIST_FIELDS,
                "customer": P.Str(),
                "subscription": P.Str(),
                "status": P.Enum(("draft", "open", "paid", "uncollectible", "void")),
            },
        )
        cus, sub, status = p.get("customer"), p.get("subscription"), p.get("status")
        return self.render(
            self.page(
                "invoice",
                p,
                "/v1/invoices",
                lambda o: (
                    (cus is None or o["customer"] == cus)
                    and (status is None or o["status"] == status)
                    and (
                        sub is None
                        or (o["parent"] or {}).get("subscription_details", {}).get("subscription") == sub
                    )
                ),
            ),
            p.expand,
        )

    # --- checkout sessions (the "pay by link" fallback when 3-D Secure is needed) ------------------------

    def checkout_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "mode": P.Enum(("payment", "setup", "subscription")),
                "customer": P.Str(),
                "customer_email": P.Str(),
                "success_url": P.Str(),
                "cancel_url": P.Str(),
                "metadata": P.Metadata(),
                "client_reference_id": P.Str(),
                "expires_at": P.Int(),
                "payment_method_types": P.StrList(),
                "locale": P.Str(),
                "line_items": P.List(
                    P.Obj(
                        {
                            "price": P.Str(),
                            "quantity": P.Int(min=1),
                            "price_data": P.Obj(
                                {
                                    "currency": CURRENCY,
                                    "unit_amount": P.Int(min=0),
                                    "product": P.Str(),
                                    "product_data": P.Obj(
                                        {"name": P.Str(), "description": P.Str(), "metadata": P.Metadata()},
                                        required=("name",),
                                    ),
                                },
                                required=("currency",),
                            ),
                        }
                    )
                ),
                "payment_intent_data": P.Obj(
                    {
                        "description": P.Str(),
                        "metadata": P.Metadata(),
                        "receipt_email": P.Str(),
                        "capture_method": P.Enum(("automatic", "manual")),
                    }
                ),
            },
            required=("mode",),
        )
        if p.get("mode") != "payment":
            raise invalid("The sandbox supports only mode=payment Checkout Sessions.", param="mode")
        if p.get("customer") and p.get("customer_email"):
            raise ValidationError(
                "You may only specify one of these parameters: customer, customer_email.",
                param="customer_email",
            )
        if p.get("customer"):
            self.get("customer", p.get("customer"), "customer", "customer")
        lines = p.get("line_items") or []
        if not lines:
            raise ValidationError(
                "line_items is required in payment mode.", param="line_items", code="parameter_missing"
            )
        total, currency = 0, None
        for i, line in enumerate(lines):
            if "quantity" not in line:
                raise ValidationError(
                    "Missing required param: quantity.",
                    param=f"line_items[{i}][quantity]",
                    code="parameter_missing",
                )
            if line.get("price"):
                price = self.get("price", line["price"], "price", f"line_items[{i}][price]")
                unit, cur = price["unit_amount"] or 0, price["currency"]
            elif line.get("price_data"):
                pd = line["price_data"]
                if "unit_amount" not in pd:
                    raise ValidationError(
                        "Missing required param: unit_amount.",
                        param=f"line_items[{i}][price_data][unit_amount]",
                        code="parameter_missing",
                    )
                unit, cur = pd["unit_amount"], pd["currency"].lower()
            else:
                raise ValidationError(
                    "You must specify either price or price_data.", param=f"line_items[{i}]"
                )
            if currency and cur != currency:
                raise invalid("All line items must use the same currency.", param=f"line_items[{i}]")
            currency = cur
            total += unit * line["quantity"]
        sess_id = new_id("cs_test_a1", 48)
        now = self.ts()
        session = {
            "id": sess_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": p.get("cancel_url"),
            "client_reference_id": p.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer": p.get("customer"),
            "customer_email": p.get("customer_email"),
            "expires_at": p.get("expires_at") or now + 86400,
            "livemode": False,
            "metadata": p.get("metadata", {}),
            "mode": "payment",
            "payment_intent": None,
            "payment_link": None,
            "payment_method_types": p.get("payment_method_types") or ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": p.get("success_url"),
            "url": f"{self.base_url}/_sandbox/checkout/{sess_id}",
        }
        self.put("checkout_session", session)
        self.checkout_pi_data[sess_id] = dict(p.get("payment_intent_data") or {})
        return self.render(session, p.expand)

    def checkout_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        session = self.get("checkout_session", a["id"], "checkout.session")
        self._refresh_session(session)
        return self.render(session, p.expand)

    def _refresh_session(self, session: dict[str, Any]) -> None:
        if session["status"] == "open" and session["expires_at"] <= self.ts():
            session["status"] = "expired"
            self.emit("checkout.session.expired", session)

    def checkout_expire(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        session = self.get("checkout_session", a["id"], "checkout.session")
        if session["status"] != "open":
            raise invalid(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f'Session has a status of "{session["status"]}".',
                code="checkout_session_unexpected_state",
            )
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return self.render(session, p.expand)

    def checkout_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                **LIST_FIELDS,
                "customer": P.Str(),
                "payment_intent": P.Str(),
                "status": P.Enum(("open", "complete", "expired")),
            },
        )
        cus, pi, status = p.get("customer"), p.get("payment_intent"), p.get("status")
        return self.render(
            self.page(
                "checkout_session",
                p,
                "/v1/checkout/sessions",
                lambda o: (
                    (cus is None or o["customer"] == cus)
                    and (pi is None or o["payment_intent"] == pi)
                    and (status is None or o["status"] == status)
                ),
            ),
            p.expand,
        )

    def complete_checkout(self, sess_id: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """What the customer's browser would do: pay the session (control API only)."""
        session = self.get("checkout_session", sess_id, "checkout.session")
        self._refresh_session(session)
        if session["status"] != "open":
            raise invalid(
                f"This Checkout Session is {session['status']}.", code="checkout_session_unexpected_state"
            )
        customer = session["customer"]
        if customer is None:
            customer = self.customer_create(
                {"email": session["customer_email"]} if session["customer_email"] else {}, {}
            )["id"]
        pi_data = self.checkout_pi_data.get(sess_id, {})
        raw: dict[str, Any] = {
            "amount": str(session["amount_total"]),
            "currency": session["currency"],
            "customer": customer,
            "payment_method": payment_method,
            "confirm": "true",
        }
        if pi_data.get("description"):
            raw["description"] = pi_data["description"]
        if pi_data.get("metadata"):
            raw["metadata"] = pi_data["metadata"]
        pi = self.pi_create(raw, {})
        session.update(status="complete", payment_status="paid", payment_intent=pi["id"], customer=customer)
        self.emit("checkout.session.completed", session)
        return session

    # --- events --------------------------------------------------------------------------------------

    def event_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("event", a["id"], "event"), p.expand)

    def event_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {**LIST_FIELDS, "type": P.Str(), "types": P.StrList(), "delivery_success": P.Bool()}
        )
        type_, types = p.get("type"), p.get("types")

        def pred(o: dict[str, Any]) -> bool:
            if type_ is not None:
                pattern = re.escape(type_).replace(r"\*", ".*")
                if not re.fullmatch(pattern, o["type"]):
                    return False
            return not types or o["type"] in types

        return self.render(self.page("event", p, "/v1/events", pred), p.expand)


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
