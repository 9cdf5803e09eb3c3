"""Demo data: customers with payments, a partial refund, a dispute, subscriptions in several states.

Emails are example.com, phones fictional (UK Ofcom drama range +44 7700 900xxx, US 555-01xx). Seeding emits
no events (nothing happened "now"); objects get creation times spread over the past weeks.
"""

from __future__ import annotations

from typing import Any

from .errors import StripeError
from .state import SandboxState

DAY = 86400


def seed(state: SandboxState) -> dict[str, Any]:
    was_quiet = state.quiet
    state.quiet = True
    real_now = state.now
    out: dict[str, Any] = {"customers": {}, "payments": {}, "subscriptions": {}, "products": {}, "prices": {}}
    try:
        base = real_now()

        def at(days_ago: float) -> None:
            state.now = lambda: base - days_ago * DAY

        at(60)
        people = {
            "ada": ("Ada Lovelace", "ada@example.com", "+447700900123", "SW1A 1AA", "GB"),
            "grace": ("Grace Hopper", "grace@example.com", "+12125550147", "10001", "US"),
            "alan": ("Alan Turing", "alan@example.com", "+447700900456", "M1 1AE", "GB"),
            # Two customers sharing one email: the gateway must say "several matches", never guess.
            "sam1": ("Sam Taylor", "sam@example.com", "+447700900789", "EH1 1YZ", "GB"),
            "sam2": ("Samantha Taylor", "sam@example.com", "+447700900790", "CF10 1EP", "GB"),
        }
        for key, (name, email, phone, postal, country) in people.items():
            cus = state.customer_create(
                {
                    "name": name,
                    "email": email,
                    "phone": phone,
                    "address": {"postal_code": postal, "country": country, "line1": "1 Example Street"},
                },
                {},
            )
            out["customers"][key] = {
                "id": cus["id"],
                "name": name,
                "email": email,
                "phone": phone,
                "postal_code": postal,
            }
        c = {k: v["id"] for k, v in out["customers"].items()}

        def pay(
            label: str, days_ago: float, customer: str, amount: int, currency: str, pm: str, description: str
        ) -> dict[str, Any]:
            at(days_ago)
            raw = {
                "amount": str(amount),
                "currency": currency,
                "customer": customer,
                "payment_method": pm,
                "confirm": "true",
                "description": description,
                "metadata": {"seed": label},
            }
            try:
                pi = state.pi_create(raw, {})
            except StripeError as err:
                pi = err.extra["payment_intent"]
            out["payments"][label] = {
                "payment_intent": pi["id"],
                "charge": pi["latest_charge"],
                "status": pi["status"],
                "amount": amount,
                "currency": currency,
                "customer": customer,
            }
            return pi

        pay("ada_succeeded", 20, c["ada"], 4999, "gbp", "pm_card_visa", "Annual membership")
        pay(
            "ada_declined",
            10,
            c["ada"],
            2500,
            "gbp",
            "pm_card_chargeDeclinedInsufficientFunds",
            "Gift voucher",
        )
        pi = pay("ada_partially_refunded", 5, c["ada"], 3000, "gbp", "pm_card_mastercard", "Concert tickets")
        at(4)
        refund = state.refund_create(
            {"payment_intent": pi["id"], "amount": "1000", "reason": "requested_by_customer"}, {}
        )
        out["payments"]["ada_partially_refunded"]["refund"] = refund["id"]
        pay("ada_latest", 1, c["ada"], 1299, "gbp", "pm_card_visa", "Monthly box")
        pay("grace_disputed", 15, c["grace"], 12000, "usd", "pm_card_createDispute", "Conference pass")
        out["payments"]["grace_disputed"]["dispute"] = next(
            d["id"]
            for d in state.store["dispute"].values()
            if d["payment_intent"] == pi_id(out, "grace_disputed")
        )
        pay("grace_succeeded", 3, c["grace"], 1500, "usd", "pm_card_amex", "Coffee subscription top-up")
        pay(
            "alan_expired_card", 2, c["alan"], 999, "gbp", "pm_card_chargeDeclinedExpiredCard", "Premium plan"
        )
        pay("alan_refund_fails", 6, c["alan"], 2000, "gbp", "pm_card_refundFail", "Workshop seat")
        pay("sam1_succeeded", 8, c["sam1"], 750, "gbp", "pm_card_visa", "Book order")

        at(90)
        products = {"premium": "Premium Plan", "basic": "Basic Plan", "pro": "Pro Annual"}
        for key, name in products.items():
            out["products"][key] = state.product_create({"name": name}, {})["id"]
        prices = {
            "premium": (999, "gbp", "month"),
            "basic": (499, "gbp", "month"),
            "pro": (9900, "usd", "year"),
        }
        for key, (amount, currency, interval) in prices.items():
            price = state._price(
                out["products"][key], amount, currency, {"interval": interval}, f"{key} {interval}ly", {}
            )
            out["prices"][key] = price["id"]

        def sub(label: str, customer: str, price: str, days_ago: float, **kw: Any) -> dict[str, Any]:
            at(days_ago)
            s = state.make_subscription(customer, [(out["prices"][price], 1)], **kw)
            out["subscriptions"][label] = {"id": s["id"], "customer": customer, "status": s["status"]}
            return s

        sub("ada_active", c["ada"], "premium", 12)
        sub("grace_trialing", c["grace"], "pro", 2, trial_days=14)
        s = sub("alan_past_due", c["alan"], "premium", 35)
        at(5)
        state.mark_past_due(s["id"])
        out["subscriptions"]["alan_past_due"].update(status="past_due", latest_invoice=s["latest_invoice"])
        s = sub("alan_canceled", c["alan"], "basic", 80)
        at(40)
        state.cancel_subscription(s)
        out["subscriptions"]["alan_canceled"]["status"] = "canceled"
        sub("sam1_cancel_at_period_end", c["sam1"], "basic", 20, cancel_at_period_end=True)
    finally:
        state.now = real_now
        state.quiet = was_quiet
    return out


def pi_id(out: dict[str, Any], label: str) -> str:
    return str(out["payments"][label]["payment_intent"])
