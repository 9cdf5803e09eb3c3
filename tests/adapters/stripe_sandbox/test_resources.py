"""The sandbox's resources, driven by the real stripe SDK (async, aiohttp) over 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from adapters.stripe.sandbox import StripeSandbox


async def _customer(client: stripe.StripeClient, **params: Any) -> stripe.Customer:
    return await client.v1.customers.create_async(params=params or {"email": "new@example.com"})


async def _pay(client: stripe.StripeClient, pm: str = "pm_card_visa", amount: int = 2000, **kw: Any) -> Any:
    params = {"amount": amount, "currency": "gbp", "payment_method": pm, "confirm": True, **kw}
    return await client.v1.payment_intents.create_async(params=params)


# --- customers ----------------------------------------------------------------------------------------


async def test_customer_create_retrieve_update(client: stripe.StripeClient) -> None:
    cus = await _customer(
        client,
        email="Lin@example.com",
        name="Lin",
        phone="+447700900111",
        metadata={"tier": "gold"},
        address={"postal_code": "SW1A 1AA", "country": "GB"},
    )
    assert cus.id.startswith("cus_")
    assert cus.object == "customer"
    assert cus.livemode is False
    got = await client.v1.customers.retrieve_async(cus.id)
    assert (got.email, got.phone, got.metadata["tier"], got.address.postal_code) == (
        "Lin@example.com",
        "+447700900111",
        "gold",
        "SW1A 1AA",
    )
    upd = await client.v1.customers.update_async(cus.id, params={"name": "Lin Y", "metadata": {"tier": ""}})
    assert upd.name == "Lin Y"
    assert "tier" not in upd.metadata


async def test_customer_list_by_email_is_exact_and_case_sensitive(client: stripe.StripeClient) -> None:
    a = await _customer(client, email="case@example.com")
    await _customer(client, email="Case@example.com")
    res = await client.v1.customers.list_async(params={"email": "case@example.com"})
    assert [c.id for c in res.data] == [a.id]
    assert res.object == "list"
    assert res.url == "/v1/customers"
    assert res.has_more is False


async def test_customer_list_paginates_newest_first(client: stripe.StripeClient) -> None:
    made = [(await _customer(client, email=f"p{i}@example.com")).id for i in range(5)]
    first = await client.v1.customers.list_async(params={"limit": 2})
    assert [c.id for c in first.data] == made[::-1][:2]
    assert first.has_more
    rest = await client.v1.customers.list_async(params={"limit": 10, "starting_after": first.data[-1].id})
    assert [c.id for c in rest.data] == made[::-1][2:]
    seen = [
        c.id async for c in (await client.v1.customers.list_async(params={"limit": 2})).auto_paging_iter()
    ]
    assert seen == made[::-1]


async def test_customer_search_by_phone_email_and_both(
    client: stripe.StripeClient, seeded: dict[str, Any]
) -> None:
    ada = seeded["customers"]["ada"]
    by_phone = await client.v1.customers.search_async(params={"query": f"phone:'{ada['phone']}'"})
    assert by_phone.object == "search_result"
    assert [c.id for c in by_phone.data] == [ada["id"]]
    by_email = await client.v1.customers.search_async(params={"query": "email:'ADA@example.com'"})
    assert [c.id for c in by_email.data] == [ada["id"]]  # search is case-insensitive, list is not
    both = await client.v1.customers.search_async(
        params={"query": f"email:'ada@example.com' AND phone:'{seeded['customers']['alan']['phone']}'"}
    )
    assert both.data == []
    sams = await client.v1.customers.search_async(params={"query": "email:'sam@example.com'", "limit": 1})
    assert len(sams.data) == 1
    assert sams.has_more
    assert sams.next_page
    page2 = await client.v1.customers.search_async(
        params={"query": "email:'sam@example.com'", "limit": 1, "page": sams.next_page}
    )
    assert len(page2.data) == 1
    assert page2.data[0].id != sams.data[0].id


async def test_search_mixing_and_or_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.customers.search_async(params={"query": "email:'a@b.c' AND name:'x' OR phone:'1'"})
    assert info.value.http_status == 400
    assert info.value.param == "query"


# --- payment intents and charges -----------------------------------------------------------------------


async def test_moto_payment_succeeds_with_a_charge(client: stripe.StripeClient) -> None:
    cus = await _customer(client)
    pi = await _pay(
        client,
        "pm_card_mastercard",
        4999,
        customer=cus.id,
        description="Order 7",
        metadata={"order": "7"},
        payment_method_options={"card": {"moto": True}},
        expand=["latest_charge"],
    )
    assert pi.status == "succeeded"
    assert pi.amount_received == 4999
    assert pi.payment_method_options.card.moto is True
    ch = pi.latest_charge
    assert ch.id.startswith("ch_")
    assert ch.status == "succeeded"
    assert ch.paid
    assert ch.captured
    card = ch.payment_method_details.card
    assert (card.brand, card.last4) == ("mastercard", "4444")
    assert card.exp_month
    assert card.exp_year
    assert (ch.payment_intent, ch.customer, ch.amount_refunded, ch.refunded, ch.disputed) == (
        pi.id,
        cus.id,
        0,
        False,
        False,
    )
    assert ch.outcome.type == "authorized"
    assert ch.failure_code is None


@pytest.mark.parametrize(
    ("pm", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
async def test_declines_are_402_card_errors_with_a_failed_charge(
    client: stripe.StripeClient, sandbox: StripeSandbox, pm: str, code: str, decline_code: str
) -> None:
    with pytest.raises(stripe.CardError) as info:
        await _pay(client, pm)
    err = info.value
    assert err.http_status == 402
    assert err.code == code
    body = err.json_body["error"]
    assert body["type"] == "card_error"
    assert body["decline_code"] == decline_code
    assert body["charge"].startswith("ch_")
    assert err.request_id
    assert err.request_id.startswith("req_")
    pi = await client.v1.payment_intents.retrieve_async(body["payment_intent"]["id"])
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == code
    ch = await client.v1.charges.retrieve_async(body["charge"])
    assert ch.status == "failed"
    assert ch.failure_code == code
    assert ch.paid is False
    assert [e["type"] for e in sandbox.events()][-2:] == ["charge.failed", "payment_intent.payment_failed"]


@pytest.mark.parametrize("moto", [True, False])
async def test_authentication_required_card_fails_even_with_moto(
    client: stripe.StripeClient, moto: bool
) -> None:
    with pytest.raises(stripe.CardError) as info:
        await _pay(client, "pm_card_authenticationRequired", payment_method_options={"card": {"moto": moto}})
    assert info.value.code == "authentication_required"
    pi_id = info.value.json_body["error"]["payment_intent"]["id"]
    pi = await client.v1.payment_intents.retrieve_async(pi_id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "authentication_required"


async def test_confirm_later_cancel_and_unexpected_state(client: stripe.StripeClient) -> None:
    pi = await client.v1.payment_intents.create_async(params={"amount": 1000, "currency": "usd"})
    assert pi.status == "requires_payment_method"
    assert pi.latest_charge is None
    pi = await client.v1.payment_intents.confirm_async(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.payment_intents.cancel_async(pi.id)
    assert info.value.code == "payment_intent_unexpected_state"
    other = await client.v1.payment_intents.create_async(params={"amount": 1000, "currency": "usd"})
    canceled = await client.v1.payment_intents.cancel_async(
        other.id, params={"cancellation_reason": "abandoned"}
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"


async def test_amount_below_minimum_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.payment_intents.create_async(params={"amount": 10, "currency": "usd"})
    assert info.value.code == "amount_too_small"
    assert info.value.param == "amount"


async def test_pi_list_and_search_and_charge_list(client: stripe.StripeClient) -> None:
    cus = await _customer(client)
    a = await _pay(client, customer=cus.id, metadata={"call": "c-1"})
    b = await _pay(client, customer=cus.id)
    await _pay(client)
    listed = await client.v1.payment_intents.list_async(params={"customer": cus.id})
    assert [p.id for p in listed.data] == [b.id, a.id]
    found = await client.v1.payment_intents.search_async(params={"query": "metadata['call']:'c-1'"})
    assert [p.id for p in found.data] == [a.id]
    charges = await client.v1.charges.list_async(
        params={"customer": cus.id, "expand": ["data.payment_intent"]}
    )
    assert [c.payment_intent.id for c in charges.data] == [b.id, a.id]
    by_pi = await client.v1.charges.list_async(params={"payment_intent": a.id})
    assert [c.id for c in by_pi.data] == [a.latest_charge]
    searched = await client.v1.charges.search_async(
        params={"query": f"customer:'{cus.id}' AND status:'succeeded'"}
    )
    assert len(searched.data) == 2


async def test_expanding_a_non_expandable_field_is_refused(client: stripe.StripeClient) -> None:
    pi = await _pay(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.payment_intents.retrieve_async(pi.id, params={"expand": ["currency"]})
    assert "cannot be expanded" in str(info.value)


# --- refunds ----------------------------------------------------------------------------------------


async def test_partial_then_remaining_refund(client: stripe.StripeClient, sandbox: StripeSandbox) -> None:
    pi = await _pay(client, amount=3000)
    r1 = await client.v1.refunds.create_async(
        params={
            "payment_intent": pi.id,
            "amount": 1000,
            "reason": "requested_by_customer",
            "metadata": {"a": "b"},
        }
    )
    assert r1.id.startswith("re_")
    assert r1.status == "succeeded"
    assert r1.amount == 1000
    assert r1.charge == pi.latest_charge
    ch = await client.v1.charges.retrieve_async(pi.latest_charge)
    assert (ch.amount_refunded, ch.refunded) == (1000, False)
    r2 = await client.v1.refunds.create_async(params={"charge": pi.latest_charge})
    assert r2.amount == 2000
    ch = await client.v1.charges.retrieve_async(pi.latest_charge, params={"expand": ["refunds"]})
    assert (ch.amount_refunded, ch.refunded) == (3000, True)
    assert {r.id for r in ch.refunds.data} == {r1.id, r2.id}
    listed = await client.v1.refunds.list_async(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [r2.id, r1.id]
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.refunds.create_async(params={"charge": pi.latest_charge, "amount": 1})
    assert info.value.code == "charge_already_refunded"
    types = [e["type"] for e in sandbox.events()]
    assert types.count("refund.created") == 2
    assert types.count("charge.refunded") == 2


async def test_refund_more_than_remaining_is_amount_too_large(client: stripe.StripeClient) -> None:
    pi = await _pay(client, amount=3000)
    await client.v1.refunds.create_async(params={"payment_intent": pi.id, "amount": 2500})
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.refunds.create_async(params={"payment_intent": pi.id, "amount": 501})
    assert info.value.code == "amount_too_large"
    assert info.value.param == "amount"
    assert "greater than unrefunded amount" in str(info.value)


async def test_refund_reason_must_be_one_stripe_knows(client: stripe.StripeClient) -> None:
    pi = await _pay(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.refunds.create_async(params={"payment_intent": pi.id, "reason": "changed_mind"})
    assert info.value.param == "reason"


async def test_disputed_charge_cannot_be_refunded(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    pi = await _pay(client, "pm_card_createDispute")
    assert pi.status == "succeeded"
    disputes = await client.v1.disputes.list_async(params={"charge": pi.latest_charge})
    assert len(disputes.data) == 1
    assert disputes.data[0].status == "needs_response"
    dp = await client.v1.disputes.retrieve_async(disputes.data[0].id)
    assert dp.charge == pi.latest_charge
    assert dp.payment_intent == pi.id
    ch = await client.v1.charges.retrieve_async(pi.latest_charge)
    assert ch.disputed is True
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.refunds.create_async(params={"payment_intent": pi.id})
    assert info.value.code == "charge_disputed"
    assert sandbox.count("refund") == 0
    assert [e["type"] for e in sandbox.events()][-2:] == [
        "payment_intent.succeeded",
        "charge.dispute.created",
    ]


async def test_refund_fail_card_goes_pending_then_failed(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    pi = await _pay(client, "pm_card_refundFail")
    refund = await client.v1.refunds.create_async(params={"payment_intent": pi.id})
    assert refund.status == "pending"
    assert sandbox.settle() == 1
    refund = await client.v1.refunds.retrieve_async(refund.id)
    assert refund.status == "failed"
    assert refund.failure_reason
    ch = await client.v1.charges.retrieve_async(pi.latest_charge)
    assert (ch.amount_refunded, ch.refunded) == (0, False)
    assert [e["type"] for e in sandbox.events()][-2:] == ["refund.updated", "refund.failed"]


async def test_refund_of_unpaid_payment_intent_refused(client: stripe.StripeClient) -> None:
    pi = await client.v1.payment_intents.create_async(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.refunds.create_async(params={"payment_intent": pi.id})
    assert info.value.http_status == 400


# --- coupons and promotion codes ------------------------------------------------------------------------


async def test_coupon_and_promotion_code_new_shape(client: stripe.StripeClient) -> None:
    cus = await _customer(client)
    coupon = await client.v1.coupons.create_async(
        params={
            "percent_off": 15,
            "duration": "once",
            "max_redemptions": 1,
            "name": "Sorry",
            "metadata": {"call": "x"},
        }
    )
    assert coupon.object == "coupon"
    assert coupon.percent_off == 15
    assert coupon.valid
    promo = await client.v1.promotion_codes.create_async(
        params={
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "code": "KILO-7",
            "customer": cus.id,
            "max_redemptions": 1,
        }
    )
    assert promo.id.startswith("promo_")
    assert promo.promotion.coupon == coupon.id
    assert promo.active
    assert promo.customer == cus.id
    assert promo.code == "KILO-7"
    found = await client.v1.promotion_codes.list_async(params={"code": "kilo-7"})
    assert [p.id for p in found.data] == [promo.id]
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.promotion_codes.create_async(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "kilo-7"}
        )
    assert info.value.code == "resource_already_exists"
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.promotion_codes.create_async(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "BAD CODE!"}
        )
    assert info.value.param == "code"


async def test_old_top_level_coupon_param_is_unknown(client: stripe.StripeClient) -> None:
    coupon = await client.v1.coupons.create_async(
        params={"amount_off": 500, "currency": "gbp", "duration": "once"}
    )
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.promotion_codes.create_async(params={"coupon": coupon.id})  # type: ignore[typeddict-unknown-key]
    assert info.value.code == "parameter_unknown"
    assert info.value.param == "coupon"


@pytest.mark.parametrize(
    "params",
    [
        {"duration": "once"},
        {"percent_off": 10, "amount_off": 100, "currency": "gbp", "duration": "once"},
        {"amount_off": 100, "duration": "once"},
        {"percent_off": 10, "duration": "repeating"},
        {"percent_off": 120, "duration": "once"},
    ],
)
async def test_invalid_coupons_refused(client: stripe.StripeClient, params: dict[str, Any]) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.coupons.create_async(params=params)  # type: ignore[arg-type]


# --- subscriptions, invoices -----------------------------------------------------------------------------


async def test_subscription_list_filters(client: stripe.StripeClient, seeded: dict[str, Any]) -> None:
    alan = seeded["customers"]["alan"]["id"]
    default = await client.v1.subscriptions.list_async(params={"customer": alan})
    assert [s.status for s in default.data] == ["past_due"]
    every = await client.v1.subscriptions.list_async(params={"customer": alan, "status": "all"})
    assert sorted(s.status for s in every.data) == ["canceled", "past_due"]
    ended = await client.v1.subscriptions.list_async(params={"customer": alan, "status": "ended"})
    assert [s.status for s in ended.data] == ["canceled"]


async def test_subscription_shape_with_product_and_invoice(
    client: stripe.StripeClient, seeded: dict[str, Any]
) -> None:
    sub_id = seeded["subscriptions"]["alan_past_due"]["id"]
    sub = await client.v1.subscriptions.retrieve_async(
        sub_id, params={"expand": ["items.data.price.product", "latest_invoice"]}
    )
    item = sub["items"].data[0]
    assert item.price.product.name == "Premium Plan"
    assert item.price.unit_amount == 999
    assert item.price.recurring.interval == "month"
    assert item.current_period_end == sub.current_period_end
    assert sub.latest_invoice.status == "open"
    assert sub.latest_invoice.amount_remaining == 999
    trial = await client.v1.subscriptions.retrieve_async(seeded["subscriptions"]["grace_trialing"]["id"])
    assert trial.status == "trialing"
    assert trial.trial_end


async def test_subscription_update_and_cancel_emit_events(
    client: stripe.StripeClient, sandbox: StripeSandbox, seeded: dict[str, Any]
) -> None:
    sub_id = seeded["subscriptions"]["ada_active"]["id"]
    sub = await client.v1.subscriptions.update_async(sub_id, params={"cancel_at_period_end": True})
    assert sub.cancel_at_period_end
    assert sub.cancel_at == sub.current_period_end
    sub = await client.v1.subscriptions.cancel_async(sub_id)
    assert sub.status == "canceled"
    assert [e["type"] for e in sandbox.events()] == [
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]


# --- checkout, events -----------------------------------------------------------------------------------


async def test_checkout_session_pay_by_link(client: stripe.StripeClient, sandbox: StripeSandbox) -> None:
    cus = await _customer(client)
    sess = await client.v1.checkout.sessions.create_async(
        params={
            "mode": "payment",
            "customer": cus.id,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "gbp",
                        "unit_amount": 2500,
                        "product_data": {"name": "Order 9"},
                    },
                }
            ],
        }
    )
    assert sess.url.startswith(sandbox.base_url)
    assert sess.status == "open"
    assert sess.amount_total == 2500
    done = sandbox.state.complete_checkout(sess.id)
    sess = await client.v1.checkout.sessions.retrieve_async(sess.id, params={"expand": ["payment_intent"]})
    assert done["status"] == "complete"
    assert sess.payment_status == "paid"
    assert sess.payment_intent.status == "succeeded"
    assert sess.payment_intent.customer == cus.id


async def test_events_retrieve_and_list(client: stripe.StripeClient) -> None:
    cus = await _customer(client)
    events = await client.v1.events.list_async(params={"type": "customer.created"})
    assert len(events.data) == 1
    ev = await client.v1.events.retrieve_async(events.data[0].id)
    assert ev.id.startswith("evt_")
    assert ev.data.object.id == cus.id
    assert ev.livemode is False
    assert ev.api_version == stripe.api_version
    assert ev.request.id


async def test_seed_data_is_as_described(sandbox: StripeSandbox, seeded: dict[str, Any]) -> None:
    pays = seeded["payments"]
    assert pays["ada_succeeded"]["status"] == "succeeded"
    assert pays["ada_declined"]["status"] == "requires_payment_method"
    charge = sandbox.state.by_id[pays["ada_partially_refunded"]["charge"]]
    assert 0 < charge["amount_refunded"] < charge["amount"]
    assert sandbox.state.by_id[pays["grace_disputed"]["charge"]]["disputed"] is True
    statuses = {s["status"] for s in seeded["subscriptions"].values()}
    assert {"active", "trialing", "past_due", "canceled"} <= statuses
    for cus in seeded["customers"].values():
        assert cus["email"].endswith("@example.com")
        assert cus["phone"].startswith("+")
    assert sandbox.events() == []  # seeding emits no events
