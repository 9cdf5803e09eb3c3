"""The voice actions end to end: the real gateway app against the Stripe sandbox, over sockets on 127.0.0.1.

The three conversations of issue 4 ("did my payment go through?", "I'd like a refund", "I was promised a
discount"), every action's happy path and each refusal; and a refund whose answer is lost after Stripe
processed it, retried with the same Idempotency-Key, leaving exactly one refund.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.resilience import RetryPolicy
from adapters.stripe.client import StripeAdapter
from gateway.actions._common import CODE_ALPHABET
from gateway.actions.escalations import reference_words
from tests.e2e.conftest import SANDBOX_KEY, Gateway, new_call_id

MakeGateway = Callable[..., Awaitable[Gateway]]


def refunds_on(gw: Gateway, payment_intent: str) -> list[dict[str, Any]]:
    return [r for r in gw.sandbox.state.store.get("refund", {}).values() if r["payment_intent"] == payment_intent]


async def verify_ada(gw: Gateway, call_id: str) -> None:
    ada = gw.seed["customers"]["ada"]
    status, body = await gw.call(
        "customers.verify",
        {"email": ada["email"], "postal_code": "sw1a 1aa", "card_last4": "4242"},
        call_id=call_id,
    )
    assert status == 200, body
    assert body["result"]["verified"] is True


# ------------------------------------------------------------------ "did my payment go through?"


async def test_payment_lookup_by_email_says_the_latest_went_through_in_two_round_trips(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("payments.lookup", {"email": "ada@example.com"})
    assert status == 200, body
    payments = body["result"]["payments"]
    assert payments[0]["id"] == gw.seed["payments"]["ada_latest"]["payment_intent"]
    assert [p["date"] for p in payments] == sorted((p["date"] for p in payments), reverse=True)
    assert payments[0]["amount"] == 1299
    assert payments[0]["card_brand"] == "visa" and payments[0]["card_last4"] == "4242"
    assert body["say"].startswith("Your payment of 12.99 British pounds on ")
    assert "to Acme went through." in body["say"]
    assert gw.stripe_requests(before) == ["GET /v1/customers", "GET /v1/charges"]


async def test_payment_lookup_by_national_phone_number_finds_the_same_customer(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("payments.lookup", {"phone": "07700 900123"})
    assert status == 200, body
    assert body["result"]["customer_id"] == gw.seed["customers"]["ada"]["id"]
    assert "went through" in body["say"]
    assert gw.stripe_requests(before) == ["GET /v1/customers/search", "GET /v1/charges"]


async def test_declined_payment_says_why_in_plain_words(gw: Gateway) -> None:
    pi = gw.seed["payments"]["ada_declined"]["payment_intent"]
    status, body = await gw.call("payments.lookup", {"payment_id": pi})
    assert status == 200, body
    assert body["result"]["payments"][0]["status"] == "failed"
    assert "was declined because there weren't enough funds on the card" in body["say"]


async def test_partly_refunded_payment_mentions_the_refund(gw: Gateway) -> None:
    pi = gw.seed["payments"]["ada_partially_refunded"]["payment_intent"]
    status, body = await gw.call("payments.lookup", {"payment_id": pi})
    assert status == 200, body
    assert body["result"]["payments"][0]["amount_refunded"] == 1000
    assert "10.00 British pounds of it has been refunded" in body["say"]


async def test_lookup_by_customer_id_fetches_customer_and_charges_concurrently(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("payments.lookup", {"customer_id": gw.seed["customers"]["grace"]["id"]})
    assert status == 200, body
    grace = gw.seed["customers"]["grace"]["id"]
    assert sorted(gw.stripe_requests(before)) == ["GET /v1/charges", f"GET /v1/customers/{grace}"]
    assert body["result"]["payments"][0]["currency"] == "usd"
    assert body["say"].startswith("Your payment of 15.00 US dollars on ")


async def test_two_customers_with_one_email_are_never_guessed_between(gw: Gateway) -> None:
    status, body = await gw.call("payments.lookup", {"email": "sam@example.com"})
    assert status == 422
    assert body["error"]["code"] == "ambiguous_customer"
    assert "more than one account" in body["error"]["say"]


async def test_unknown_caller_is_customer_not_found(gw: Gateway) -> None:
    status, body = await gw.call("payments.lookup", {"email": "nobody@example.com"})
    assert status == 404
    assert body["error"]["code"] == "customer_not_found"


async def test_invalid_phone_number_is_a_validation_error(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("payments.lookup", {"phone": "12"})
    assert status == 422
    assert body["error"]["code"] == "validation_failed"
    assert gw.stripe_requests(before) == []


async def test_lookup_needs_exactly_one_identifier(gw: Gateway) -> None:
    status, body = await gw.call("payments.lookup", {"email": "ada@example.com", "phone": "+447700900123"})
    assert status == 422
    assert body["error"]["code"] == "validation_failed"


# -------------------------------------------------------------------------------- "I'd like a refund"


async def test_refund_conversation_verify_then_refund_and_the_repeat_returns_the_same_refund(gw: Gateway) -> None:
    call = new_call_id()
    await verify_ada(gw, call)
    pi = gw.seed["payments"]["ada_latest"]["payment_intent"]
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=call)
    assert status == 200, body
    result = body["result"]
    assert (result["payment_id"], result["amount"], result["status"]) == (pi, 1299, "succeeded")
    assert result["arrival"] == "within 5 to 10 business days"
    assert body["say"] == (
        "I've refunded 12.99 British pounds to your Visa ending 4 2 4 2. The money should be back within 5 to 10 business days."
    )
    assert gw.stripe_requests(before) == ["GET /v1/customers", "GET /v1/charges", "POST /v1/refunds"]

    status, again = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=call)
    assert status == 200
    assert again["result"]["refund_id"] == result["refund_id"]
    assert len(refunds_on(gw, pi)) == 1
    row = await gw.services.store.fetchone(
        "SELECT state, refund_id, amount FROM gateway_refunds WHERE refund_id = ?", result["refund_id"]
    )
    assert row == {"state": "created", "refund_id": result["refund_id"], "amount": 1299}


async def test_partial_refund_by_payment_id_takes_two_round_trips(gw: Gateway) -> None:
    call = new_call_id()
    await verify_ada(gw, call)
    pi = gw.seed["payments"]["ada_succeeded"]["payment_intent"]
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("refunds.create", {"payment_id": pi, "amount": 999}, call_id=call)
    assert status == 200, body
    assert body["result"]["amount"] == 999
    assert gw.stripe_requests(before) == [f"GET /v1/payment_intents/{pi}", "POST /v1/refunds"]


async def test_refund_without_verification_is_refused_and_nothing_is_sent(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=new_call_id())
    assert status == 422
    assert body["error"]["code"] == "verification_required"
    assert "POST /v1/refunds" not in gw.stripe_requests(before)


async def test_verification_of_another_call_does_not_count(gw: Gateway) -> None:
    await verify_ada(gw, "call-one")
    status, body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id="call-two")
    assert (status, body["error"]["code"]) == (422, "verification_required")


async def test_refund_above_the_no_human_limit_is_refused_with_the_reason(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(policy={"max_refund_amount": 1000})
    call = new_call_id()
    await verify_ada(gw, call)
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "A refund of 12.99 British pounds needs one of my colleagues to approve it" in body["error"]["say"]
    assert "POST /v1/refunds" not in gw.stripe_requests(before)


async def test_refund_reason_not_allowed_by_policy_is_refused(gw: Gateway) -> None:
    call = new_call_id()
    await verify_ada(gw, call)
    status, body = await gw.call(
        "refunds.create", {"email": "ada@example.com", "reason": "fraudulent"}, call_id=call
    )
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "for that reason" in body["error"]["say"]


async def test_refund_of_an_old_charge_is_refused(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(policy={"max_charge_age_days": 7})
    call = new_call_id()
    await verify_ada(gw, call)
    pi = gw.seed["payments"]["ada_succeeded"]["payment_intent"]  # 20 days old
    status, body = await gw.call("refunds.create", {"payment_id": pi}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "more than 7 days ago" in body["error"]["say"]


async def test_refund_above_the_refundable_remainder_is_refused(gw: Gateway) -> None:
    call = new_call_id()
    await verify_ada(gw, call)
    pi = gw.seed["payments"]["ada_partially_refunded"]["payment_intent"]  # £30, £10 refunded
    status, body = await gw.call("refunds.create", {"payment_id": pi, "amount": 2500}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "at most 20.00 British pounds" in body["error"]["say"]
    assert len(refunds_on(gw, pi)) == 1  # only the seeded one


async def test_refund_of_a_declined_payment_is_refused(gw: Gateway) -> None:
    call = new_call_id()
    await verify_ada(gw, call)
    pi = gw.seed["payments"]["ada_declined"]["payment_intent"]
    status, body = await gw.call("refunds.create", {"payment_id": pi}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "didn't go through" in body["error"]["say"]


async def test_too_many_refunds_for_one_customer_are_refused(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(policy={"max_refunds_per_customer": 1})
    call = new_call_id()
    await verify_ada(gw, call)
    first = gw.seed["payments"]["ada_latest"]["payment_intent"]
    second = gw.seed["payments"]["ada_succeeded"]["payment_intent"]
    status, _ = await gw.call("refunds.create", {"payment_id": first}, call_id=call)
    assert status == 200
    status, body = await gw.call("refunds.create", {"payment_id": second}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "already had 1 refund" in body["error"]["say"]
    assert refunds_on(gw, second) == []


async def test_refund_of_a_disputed_charge_escalates_with_a_reference(gw: Gateway) -> None:
    pi = gw.seed["payments"]["grace_disputed"]["payment_intent"]
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("refunds.create", {"payment_id": pi}, call_id=new_call_id())
    assert (status, body["error"]["code"]) == (422, "escalation_required")
    reference = body["error"]["details"]["reference"]
    assert re.fullmatch(r"ESC-[" + CODE_ALPHABET + "]{4}", reference)
    assert reference in body["error"]["say"]
    assert "POST /v1/refunds" not in gw.stripe_requests(before)
    assert [c["reference"] for c in gw.ops_inbox] == [reference]
    assert gw.ops_inbox[0]["payment_ids"] == [pi]
    row = await gw.services.store.fetchone(
        "SELECT reason, delivery_state FROM escalations WHERE reference = ?", reference
    )
    assert row == {"reason": "dispute", "delivery_state": "delivered"}


async def test_refund_answer_lost_after_stripe_processed_it_is_retried_in_call_with_the_same_key(
    gw: Gateway,
) -> None:
    call = new_call_id()
    await verify_ada(gw, call)
    pi = gw.seed["payments"]["ada_latest"]["payment_intent"]
    gw.sandbox.faults.add(kind="drop_after_commit", path_prefix="/v1/refunds", method="POST", count=1)
    status, body = await gw.call("refunds.create", {"payment_id": pi}, call_id=call, idempotency_key="idem-1")
    assert status == 200, body
    posts = [r for r in gw.sandbox.request_log if r.path == "/v1/refunds"]
    assert len(posts) == 2
    assert posts[0].idempotency_key == posts[1].idempotency_key
    assert posts[1].replayed is True
    assert len(refunds_on(gw, pi)) == 1


async def test_gateway_dying_after_the_refund_reached_stripe_then_retry_after_restart_makes_one_refund(
    make_gateway: MakeGateway, store_url: str
) -> None:
    # On both stores: the retry depends on the decision row written before Stripe was called.
    first = await make_gateway(store_url=store_url)
    # This process never retries by itself: the lost answer stands for the process dying mid-request.
    first.services.providers._stripe["acme"] = StripeAdapter(
        SANDBOX_KEY,
        base_url=first.sandbox.base_url,
        retry=RetryPolicy(max_attempts=1),
        session=first.services.http,
    )
    call = new_call_id()
    await verify_ada(first, call)
    pi = first.seed["payments"]["ada_latest"]["payment_intent"]
    first.sandbox.faults.add(kind="drop_after_commit", path_prefix="/v1/refunds", method="POST", count=1)
    status, body = await first.call("refunds.create", {"payment_id": pi}, call_id=call, idempotency_key="k-42")
    assert (status, body["error"]["code"]) == (503, "provider_outcome_unknown")
    assert len(refunds_on(first, pi)) == 1  # it did happen

    restarted = await make_gateway(store_url=store_url)  # a new process on the same database
    status, body = await restarted.call(
        "refunds.create", {"payment_id": pi}, call_id=call, idempotency_key="k-42"
    )
    assert status == 200, body
    assert len(refunds_on(restarted, pi)) == 1
    assert body["result"]["refund_id"] == refunds_on(restarted, pi)[0]["id"]
    posts = [r for r in restarted.sandbox.request_log if r.path == "/v1/refunds"]
    assert [p.replayed for p in posts] == [False, True]


# ------------------------------------------------------------------------- "I was promised a discount"


async def test_discount_conversation_gives_an_easy_code_spelled_out_and_a_retry_gives_the_same(
    gw: Gateway,
) -> None:
    before = len(gw.sandbox.request_log)
    call = new_call_id()
    status, body = await gw.call(
        "coupons.create", {"customer_id": gw.seed["customers"]["ada"]["id"], "percent_off": 10}, call_id=call
    )
    assert status == 200, body
    code = body["result"]["code"]
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}", code)
    assert body["result"]["code_spelled"] in body["say"]
    assert " as in " in body["say"] and "10 percent off" in body["say"]
    assert gw.stripe_requests(before) == ["POST /v1/coupons", "POST /v1/promotion_codes"]

    promo = gw.sandbox.state.by_id[body["result"]["promotion_code_id"]]
    coupon = gw.sandbox.state.by_id[body["result"]["coupon_id"]]
    assert promo["customer"] == gw.seed["customers"]["ada"]["id"] and promo["max_redemptions"] == 1
    assert (coupon["duration"], coupon["max_redemptions"], coupon["percent_off"]) == ("once", 1, 10)

    status, again = await gw.call(
        "coupons.create", {"customer_id": gw.seed["customers"]["ada"]["id"], "percent_off": 10}, call_id=call
    )
    assert status == 200 and again["result"]["code"] == code
    assert [p["code"] for p in gw.sandbox.state.store["promotion_code"].values()].count(code) == 1


async def test_coupon_retried_after_a_lost_answer_returns_the_same_code_once(gw: Gateway) -> None:
    gw.sandbox.faults.add(kind="drop_after_commit", path_prefix="/v1/promotion_codes", method="POST", count=1)
    status, body = await gw.call("coupons.create", {"amount_off": 500}, idempotency_key="promo-1")
    assert status == 200, body
    assert body["result"]["amount_off"] == 500 and "5.00 British pounds off" in body["say"]
    assert len(gw.sandbox.state.store["promotion_code"]) == 1
    assert len(gw.sandbox.state.store["coupon"]) == 1


async def test_coupon_above_the_policy_cap_is_refused(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("coupons.create", {"percent_off": 50}, call_id=new_call_id())
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert "at most 20 percent off" in body["error"]["say"]
    assert gw.stripe_requests(before) == []


async def test_coupon_needs_verification_when_policy_says_so(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(policy={"require_verification_for_coupons": True})
    call = new_call_id()
    status, body = await gw.call("coupons.create", {"email": "ada@example.com", "percent_off": 5}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "verification_required")
    await verify_ada(gw, call)
    status, body = await gw.call("coupons.create", {"email": "ada@example.com", "percent_off": 5}, call_id=call)
    assert status == 200, body


# ----------------------------------------------------------------------------------------- subscriptions


async def test_subscriptions_by_customer_id_in_two_round_trips(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    status, body = await gw.call("subscriptions.lookup", {"customer_id": gw.seed["customers"]["alan"]["id"]})
    assert status == 200, body
    assert len(gw.stripe_requests(before)) <= 2
    subs = {s["status"]: s for s in body["result"]["subscriptions"]}
    assert set(subs) == {"past_due", "canceled"}
    assert subs["past_due"]["product_name"] == "Premium Plan"
    assert subs["past_due"]["interval"] == "monthly" and subs["past_due"]["amount"] == 999
    assert subs["past_due"]["amount_past_due"] == 999
    assert "hasn't gone through" in body["say"] and "9.99 British pounds is outstanding" in body["say"]


async def test_subscriptions_trial_and_cancel_at_period_end_in_words(gw: Gateway) -> None:
    status, body = await gw.call("subscriptions.lookup", {"email": "grace@example.com"})
    assert status == 200, body
    assert body["result"]["subscriptions"][0]["trial_end"] is not None
    assert "free trial until" in body["say"] and "99.00 US dollars yearly" in body["say"]
    status, body = await gw.call("subscriptions.lookup", {"phone": "+447700900789"})
    assert status == 200, body
    sub = body["result"]["subscriptions"][0]
    assert sub["cancel_at_period_end"] is True and sub["renews"] is False
    assert "set to end on" in body["say"]


async def test_subscriptions_none_found(gw: Gateway) -> None:
    status, body = await gw.call("subscriptions.lookup", {"customer_id": gw.seed["customers"]["sam2"]["id"]})
    assert status == 200
    assert body["result"]["subscriptions"] == []
    assert "can't find any subscriptions" in body["say"]


# ------------------------------------------------------------------------------------- verification


async def test_verification_failure_does_not_say_which_factor_failed(gw: Gateway) -> None:
    call = new_call_id()
    right_postcode = {"email": "ada@example.com", "postal_code": "SW1A 1AA", "card_last4": "1111"}
    right_card = {"email": "ada@example.com", "postal_code": "ZZ1 1ZZ", "card_last4": "4242"}
    s1, b1 = await gw.call("customers.verify", right_postcode, call_id=call)
    s2, b2 = await gw.call("customers.verify", right_card, call_id=call)
    assert (s1, s2) == (422, 422)
    assert b1["error"]["code"] == b2["error"]["code"] == "verification_failed"
    assert b1["error"]["message"] == b2["error"]["message"]
    assert b1["error"]["say"] == b2["error"]["say"]
    assert (b1["error"]["details"], b2["error"]["details"]) == ({"attempts_left": 2}, {"attempts_left": 1})


async def test_verification_locks_after_max_attempts_even_with_right_answers(gw: Gateway) -> None:
    call = new_call_id()
    wrong = {"email": "ada@example.com", "postal_code": "ZZ1 1ZZ", "card_last4": "1111"}
    for _ in range(3):
        status, _ = await gw.call("customers.verify", wrong, call_id=call)
        assert status == 422
    before = len(gw.sandbox.request_log)
    right = {"email": "ada@example.com", "postal_code": "SW1A 1AA", "card_last4": "4242"}
    status, body = await gw.call("customers.verify", right, call_id=call)
    assert (status, body["error"]["code"]) == (422, "verification_failed")
    assert "colleagues" in body["error"]["say"]
    assert gw.stripe_requests(before) == []  # locked before asking Stripe anything
    # ...and a new call for the same customer is limited too (a guesser can redial).
    status, body = await gw.call("customers.verify", right, call_id=new_call_id())
    assert (status, body["error"]["code"]) == (422, "verification_failed")


async def test_verification_by_phone_with_email_on_file_and_postcode(gw: Gateway) -> None:
    status, body = await gw.call(
        "customers.verify",
        {"phone": "+1 212 555 0147", "email_on_file": "Grace@Example.com", "postal_code": "10001"},
        call_id=new_call_id(),
    )
    assert status == 200, body
    assert body["result"]["customer_id"] == gw.seed["customers"]["grace"]["id"]


async def test_email_that_identified_the_caller_is_not_also_a_factor(gw: Gateway) -> None:
    # By default the identifying email does not count twice: the caller is asked for another factor (what
    # exactly), never told "those details don't match", and nothing is counted against them.
    before = len(gw.sandbox.request_log)
    status, body = await gw.call(
        "customers.verify",
        {"email": "ada@example.com", "email_on_file": "ada@example.com", "postal_code": "SW1A 1AA"},
        call_id=new_call_id(),
    )
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    assert "last 4 digits" in body["error"]["say"]
    assert gw.stripe_requests(before) == []


async def test_verification_needs_a_call_id(gw: Gateway) -> None:
    status, body = await gw.call(
        "customers.verify", {"email": "ada@example.com", "postal_code": "SW1A 1AA", "card_last4": "4242"}
    )
    assert (status, body["error"]["code"]) == (400, "bad_request")


async def test_verification_needs_two_factors(gw: Gateway) -> None:
    status, body = await gw.call(
        "customers.verify", {"email": "ada@example.com", "postal_code": "SW1A 1AA"}, call_id=new_call_id()
    )
    assert (status, body["error"]["code"]) == (422, "validation_failed")


# --------------------------------------------------------------------------------------- escalations


async def test_escalation_is_stored_redacted_posted_and_has_a_reference(gw: Gateway) -> None:
    call = new_call_id()
    summary = "Caller says the card ending 4242 was charged twice; CVV 123 mentioned"
    status, body = await gw.call(
        "escalations.create",
        {"reason": "complaint", "summary": summary, "customer_id": gw.seed["customers"]["ada"]["id"]},
        call_id=call,
    )
    assert status == 200, body
    reference = body["result"]["reference"]
    assert re.fullmatch(f"ESC-[{CODE_ALPHABET}]{{4}}", reference)
    assert body["result"]["delivery_state"] == "delivered"
    assert f"{reference}: that's {reference_words(reference)}." in body["say"]
    row = await gw.services.store.fetchone("SELECT summary FROM escalations WHERE reference = ?", reference)
    assert row is not None and "123" not in row["summary"]
    assert gw.ops_inbox[-1]["reference"] == reference and "123" not in gw.ops_inbox[-1]["summary"]
    # The same request again (same call, same params): the same case, not a second one.
    status, again = await gw.call(
        "escalations.create",
        {"reason": "complaint", "summary": summary, "customer_id": gw.seed["customers"]["ada"]["id"]},
        call_id=call,
    )
    assert again["result"]["reference"] == reference
    assert len(gw.ops_inbox) == 1


async def test_escalation_is_kept_pending_when_the_ops_desk_is_down(make_gateway: MakeGateway) -> None:
    gw = await make_gateway(ops=False, ops_url="http://127.0.0.1:9/cases")
    status, body = await gw.call(
        "escalations.create", {"reason": "account_change", "summary": "Wants to change address"},
        call_id=new_call_id(),
    )
    assert status == 200, body
    assert body["result"]["delivery_state"] == "pending"
    row = await gw.services.store.fetchone(
        "SELECT delivery_state, delivery_attempts FROM escalations WHERE reference = ?", body["result"]["reference"]
    )
    assert row == {"delivery_state": "pending", "delivery_attempts": 1}


async def test_refund_asked_before_verification_goes_through_once_verified_in_the_same_call(gw: Gateway) -> None:
    call = new_call_id()
    status, body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "verification_required")
    await verify_ada(gw, call)
    status, body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=call)
    assert status == 200, body
