"""The sandbox's responses against the installed stripe SDK's resource classes (generated from Stripe's API
description): every field declared always present is present, nothing non-nullable is null, enums stay within
their Literal values, nested and expanded objects included."""

from __future__ import annotations

import re
from typing import Any

import pytest
import stripe

from adapters.stripe.sandbox import StripeSandbox
from adapters.stripe.sandbox.sdk_models import model_problems

KINDS = ("customer", "payment_method", "payment_intent", "charge", "refund", "dispute", "coupon",
         "promotion_code", "product", "price", "subscription", "invoice", "checkout_session", "event")


async def _scenario(client: stripe.StripeClient, sandbox: StripeSandbox, seeded: dict[str, Any]) -> None:
    """Objects in every state the gateway meets: paid, held and captured, cancelled, declined, needing
    authentication, refunded, a refund failing, coupons, promotion codes, Checkout open/complete/expired,
    subscriptions updated and cancelled, and the events all of that made."""
    v1 = client.v1
    cus = await v1.customers.create_async(params={"email": "m@example.com", "name": "M"})
    paid = await v1.payment_intents.create_async(params={
        "amount": 2000, "currency": "gbp", "payment_method": "pm_card_visa", "confirm": True, "customer": cus.id})
    held = await v1.payment_intents.create_async(params={
        "amount": 3000, "currency": "gbp", "payment_method": "pm_card_visa", "confirm": True,
        "capture_method": "manual"})
    await v1.payment_intents.capture_async(held.id, params={"amount_to_capture": 2500})
    open_pi = await v1.payment_intents.create_async(params={"amount": 900, "currency": "gbp"})
    await v1.payment_intents.cancel_async(open_pi.id, params={"cancellation_reason": "abandoned"})
    with pytest.raises(stripe.CardError):
        await v1.payment_intents.create_async(params={
            "amount": 900, "currency": "gbp", "payment_method": "pm_card_chargeDeclined", "confirm": True})
    with pytest.raises(stripe.CardError):  # no 3-D Secure on a phone call: declined with the PI attached
        await v1.payment_intents.create_async(params={
            "amount": 900, "currency": "gbp", "payment_method": "pm_card_authenticationRequired", "confirm": True})
    await v1.refunds.create_async(params={"payment_intent": paid.id, "amount": 500, "reason": "requested_by_customer"})
    failing = await v1.payment_intents.create_async(params={
        "amount": 1200, "currency": "gbp", "payment_method": "pm_card_refundFail", "confirm": True})
    await v1.refunds.create_async(params={"payment_intent": failing.id})
    sandbox.settle()
    pct = await v1.coupons.create_async(params={"percent_off": 10, "duration": "once"})
    await v1.coupons.create_async(params={"amount_off": 500, "currency": "gbp", "duration": "repeating",
                                          "duration_in_months": 3, "max_redemptions": 5})
    await v1.promotion_codes.create_async(params={"promotion": {"type": "coupon", "coupon": pct.id},
                                                  "code": "CALLER10", "max_redemptions": 1})
    line = {"quantity": 1, "price_data": {"currency": "gbp", "unit_amount": 1500,
                                          "product_data": {"name": "Order 1"}}}
    done = await v1.checkout.sessions.create_async(params={"mode": "payment", "line_items": [line],
                                                           "customer_email": "p@example.com"})
    sandbox.state.complete_checkout(done.id)
    gone = await v1.checkout.sessions.create_async(params={"mode": "payment", "line_items": [line]})
    await v1.checkout.sessions.expire_async(gone.id)
    await v1.checkout.sessions.create_async(params={"mode": "payment", "line_items": [line]})
    sub_id = seeded["subscriptions"]["alan_past_due"]["id"]
    await v1.subscriptions.update_async(sub_id, params={"cancel_at_period_end": True})
    sandbox.state.mark_past_due(next(s["id"] for s in seeded["subscriptions"].values() if s["status"] == "active"))


def _summary(problems: list[str]) -> list[str]:
    """One line per distinct field (indexes folded), so a failure reads as a list of what is missing."""
    seen: dict[str, str] = {}
    for p in problems:
        seen.setdefault(re.sub(r"\[\d+\]", "[]", p.split(":")[0]), p)
    return sorted(seen.values())


async def test_every_object_the_sandbox_keeps_matches_the_sdk_model(
    client: stripe.StripeClient, sandbox: StripeSandbox, seeded: dict[str, Any]
) -> None:
    await _scenario(client, sandbox, seeded)
    assert set(KINDS) <= set(sandbox.state.store), set(KINDS) - set(sandbox.state.store)
    problems: list[str] = []
    for kind in KINDS:
        for obj in sandbox.state.store[kind].values():
            problems += model_problems(obj)
    assert _summary(problems) == []


async def test_expanded_and_listed_responses_match_the_sdk_models(
    client: stripe.StripeClient, sandbox: StripeSandbox, seeded: dict[str, Any]
) -> None:
    await _scenario(client, sandbox, seeded)
    v1 = client.v1
    responses = [
        await v1.payment_intents.list_async(params={"expand": ["data.latest_charge", "data.customer"]}),
        await v1.charges.list_async(params={"expand": ["data.refunds", "data.payment_intent"]}),
        await v1.subscriptions.list_async(params={"status": "all", "expand": [
            "data.latest_invoice", "data.items.data.price.product", "data.customer"]}),
        await v1.invoices.list_async(params={"expand": ["data.customer"]}),
        await v1.refunds.list_async(params={"expand": ["data.charge"]}),
        await v1.checkout.sessions.list_async(params={"expand": ["data.payment_intent"]}),
        await v1.events.list_async(params={"limit": 100}),
    ]
    problems: list[str] = []
    for listing in responses:
        assert listing.object == "list"
        for i, item in enumerate(listing.data):
            problems += model_problems(item.to_dict(), path=f"{item.object}[{i}]")
    assert _summary(problems) == []


def test_the_checker_finds_what_it_should() -> None:
    """The checker itself: a missing always-present field, a null where not nullable, an enum out of range,
    a wrong nested type."""
    pi = {"id": "pi_1", "object": "payment_intent", "amount": 100, "status": "sideways", "currency": None,
          "metadata": {}}
    found = model_problems(pi)
    assert "payment_intent.status: 'sideways' not one of" in " ".join(found)
    assert any(p.startswith("payment_intent.currency: null") for p in found)
    assert any(p.startswith("payment_intent.payment_method_types: missing") for p in found)
    assert not any(p.startswith("payment_intent.description") for p in found)  # Optional: may be absent
