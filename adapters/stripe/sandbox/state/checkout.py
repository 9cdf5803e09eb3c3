"""Checkout Sessions (the "pay by link" fallback when 3-D Secure is needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import params as P
from ..errors import ValidationError, invalid
from .base import (
    CURRENCY,
    LIST_FIELDS,
    new_id,
)
from .payment_intents import PaymentIntentsMixin


class CheckoutMixin(PaymentIntentsMixin):
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
            "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
            "cancel_url": p.get("cancel_url"),
            "client_reference_id": p.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "customer": p.get("customer"),
            "custom_fields": [],
            "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                            "terms_of_service_acceptance": None},
            "customer_email": p.get("customer_email"),
            "expires_at": p.get("expires_at") or now + 86400,
            "livemode": False,
            "metadata": p.get("metadata", {}),
            "mode": "payment",
            "payment_intent": None,
            "payment_link": None,
            "payment_method_types": p.get("payment_method_types") or ["card"],
            "payment_status": "unpaid",
            "shipping_options": [],
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
