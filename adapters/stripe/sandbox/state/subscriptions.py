"""Products, prices, subscriptions and invoices."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from .. import params as P
from ..errors import ValidationError, invalid
from .base import (
    CURRENCY,
    LIST_FIELDS,
    SEARCH_FIELDS,
    StateBase,
    new_id,
)


class SubscriptionsMixin(StateBase):
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
                # Deprecated but still declared always present by the SDK: the price seen as a Plan.
                "plan": _plan(price),
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
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": period_end,
            "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
            "billing_schedules": [],
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
            "invoice_settings": {"account_tax_ids": None, "custom_fields": None, "description": None,
                                 "footer": None, "issuer": {"type": "self"}},
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
        inv_id = new_id("in_")
        lines = [
            {
                "id": new_id("il_"),
                "object": "line_item",
                "amount": (item["price"]["unit_amount"] or 0) * item["quantity"],
                "currency": sub["currency"],
                "description": f"{item['quantity']} x {item['price'].get('nickname') or 'subscription'}",
                "discount_amounts": [],
                "discountable": True,
                "discounts": [],
                "invoice": inv_id,
                "livemode": False,
                "metadata": {},
                "parent": {
                    "invoice_item_details": None,
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": sub["id"],
                        "subscription_item": item["id"],
                    },
                    "type": "subscription_item_details",
                },
                "period": {"end": sub["current_period_end"], "start": sub["current_period_start"]},
                "pretax_credit_amounts": [],
                "pricing": {
                    "price_details": {"price": item["price"]["id"], "product": item["price"]["product"]},
                    "type": "price_details",
                    "unit_amount_decimal": str(item["price"]["unit_amount"] or 0),
                },
                "quantity": item["quantity"],
                "subtotal": (item["price"]["unit_amount"] or 0) * item["quantity"],
                "taxes": [],
            }
            for item in sub["items"]["data"]
        ]
        inv = {
            "id": inv_id,
            "object": "invoice",
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": total if paid else 0,
            "amount_remaining": 0 if paid else total,
            "amount_shipping": 0,
            "attempt_count": 1,
            "attempted": True,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "provider": None,
                              "status": None},
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically",
            "created": now,
            "currency": sub["currency"],
            "customer": sub["customer"],
            "customer_email": cus.get("email"),
            "default_tax_rates": [],
            "discounts": [],
            "due_date": None,
            "hosted_invoice_url": f"{self.base_url}/_sandbox/invoices/{new_id('', 12)}",
            "issuer": {"type": "self"},
            "lines": {"object": "list", "data": lines, "has_more": False, "url": f"/v1/invoices/{inv_id}/lines"},
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None if paid else now + 3 * 86400,
            "number": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {"metadata": {}, "subscription": sub["id"]},
                "type": "subscription_details",
            },
            "payment_settings": {"default_mandate": None, "payment_method_options": None,
                                 "payment_method_types": None},
            "period_end": sub["current_period_start"],
            "period_start": sub["current_period_start"],
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "starting_balance": 0,
            "status": "paid" if paid else "open",
            "status_transitions": {"finalized_at": now, "marked_uncollectible_at": None,
                                   "paid_at": now if paid else None, "voided_at": None},
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


def _plan(price: Mapping[str, Any]) -> dict[str, Any]:
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price.get("active", True),
        "amount": price.get("unit_amount"),
        "amount_decimal": str(price.get("unit_amount") or 0),
        "billing_scheme": "per_unit",
        "created": price.get("created"),
        "currency": price.get("currency"),
        "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": False,
        "metadata": dict(price.get("metadata") or {}),
        "meter": None,
        "nickname": price.get("nickname"),
        "product": price.get("product"),
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring.get("usage_type", "licensed"),
    }
