"""PaymentIntents and the Charges their confirmation makes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .. import params as P
from ..errors import StripeError, ValidationError, invalid
from .base import (
    _MINIMUMS,
    CURRENCY,
    LIST_FIELDS,
    SEARCH_FIELDS,
    TEST_CARDS,
    TestCard,
    fmt_money,
    new_id,
)
from .customers import CustomersMixin
from .refunds import RefundsMixin


class PaymentIntentsMixin(CustomersMixin, RefundsMixin):
    # --- payment intents -----------------------------------------------------------------------------

    PI_FIELDS: ClassVar[dict[str, P.Spec]] = {
        "amount": P.Int(),
        "currency": CURRENCY,
        "customer": P.Str(),
        "description": P.Str(),
        "metadata": P.Metadata(),
        "payment_method": P.Str(),
        # ``payment_method_types`` in versions before the pinned one (versions.py translates it).
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
            "allowed_payment_method_types": p.get("allowed_payment_method_types"),
            "payment_method_types": p.get("allowed_payment_method_types") or ["card"],
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
