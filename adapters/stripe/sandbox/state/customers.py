"""Customers and their payment methods."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any, ClassVar

from .. import params as P
from ..errors import invalid, missing
from .base import (
    ADDRESS,
    LIST_FIELDS,
    SEARCH_FIELDS,
    TEST_CARDS,
    StateBase,
    new_id,
)


class CustomersMixin(StateBase):
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

    def pm_create(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        """``POST /v1/payment_methods`` with ``type=card`` and ``card[token]``: how a single-use card Token (what
        PCI Pal's Stripe "Tokenisation" step returns) becomes a PaymentMethod. Stripe's test tokens mirror its
        test PaymentMethods (``tok_visa`` is ``pm_card_visa``'s card); raw card numbers are refused here, as
        Stripe refuses them from an integration that is not PCI-validated for them."""
        p = P.validate(
            raw, {"type": P.Enum(("card",)), "card": P.Obj({"token": P.Str()}), "metadata": P.Metadata()},
            required=("type",),
        )
        token = (p.get("card") or {}).get("token")
        if not token:
            raise invalid("Missing required param: card[token].", param="card[token]")
        magic = "pm_card_" + str(token).removeprefix("tok_")
        if not str(token).startswith("tok_") or magic not in TEST_CARDS:
            raise invalid(f"No such token: '{token}'", param="card[token]", code="resource_missing")
        return self.render(self.get("payment_method", self.resolve_pm(magic, None), "PaymentMethod"), p.expand)

    def pm_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("payment_method", a["id"], "PaymentMethod"), p.expand)
