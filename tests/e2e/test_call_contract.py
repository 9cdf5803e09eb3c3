"""The call contract (issue 12), written as the conversations that hit each trap, against the real gateway
app and the Stripe sandbox over sockets.

"Two cases for one dispute": ``refunds.create`` on a disputed charge opens a case and answers
``escalation_required``; a bot that follows that code calls ``escalations.create``, and the ops desk must still
see one case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.e2e.conftest import Gateway, new_call_id

MakeGateway = Callable[..., Awaitable[Gateway]]


async def test_bot_following_escalation_required_gets_the_same_case_not_a_second_one(gw: Gateway) -> None:
    call = new_call_id()
    pi = gw.seed["payments"]["grace_disputed"]["payment_intent"]
    grace = gw.seed["customers"]["grace"]["id"]

    # Caller: "I'd like a refund for the conference pass." The charge is disputed.
    status, body = await gw.call("refunds.create", {"payment_id": pi}, call_id=call)
    assert (status, body["error"]["code"]) == (422, "escalation_required")
    reference = body["error"]["details"]["reference"]
    assert reference in body["error"]["say"]

    # The bot follows the code and escalates the same problem itself, in its own words.
    status, esc = await gw.call(
        "escalations.create",
        {"reason": "dispute", "summary": "Caller wants a refund for the conference pass; it is disputed.",
         "customer_id": grace, "payment_ids": [pi]},
        call_id=call,
    )
    assert status == 200, esc
    assert esc["result"]["reference"] == reference and esc["result"]["existing"] is True
    assert esc["say"].startswith("That's already with one of my colleagues")
    assert reference in esc["say"]
    # Without the customer id too (the payment names the customer): still the same case.
    status, again = await gw.call(
        "escalations.create", {"reason": "dispute", "summary": "Disputed pass.", "payment_ids": [pi]}, call_id=call
    )
    assert again["result"]["reference"] == reference

    assert [c["reference"] for c in gw.ops_inbox] == [reference]
    rows = await gw.services.store.fetchall("SELECT reference FROM escalations WHERE call_id = ?", call)
    assert [r["reference"] for r in rows] == [reference]


async def test_a_different_problem_in_the_same_call_or_the_same_problem_in_another_call_is_a_new_case(
    gw: Gateway,
) -> None:
    call = new_call_id()
    pi = gw.seed["payments"]["grace_disputed"]["payment_intent"]
    other_pi = gw.seed["payments"]["grace_succeeded"]["payment_intent"]
    base = {"reason": "complaint", "summary": "Unhappy with the service."}
    _, a = await gw.call("escalations.create", {**base, "payment_ids": [pi]}, call_id=call)
    _, b = await gw.call("escalations.create", {**base, "payment_ids": [other_pi]}, call_id=call)
    _, c = await gw.call("escalations.create", {**base, "reason": "other", "payment_ids": [pi]}, call_id=call)
    _, d = await gw.call("escalations.create", {**base, "payment_ids": [pi]}, call_id=new_call_id())
    refs = [x["result"]["reference"] for x in (a, b, c, d)]
    assert len(set(refs)) == 4
    assert not any(x["result"]["existing"] for x in (a, b, c, d))


async def test_two_racing_escalations_of_one_problem_make_one_case(make_gateway: MakeGateway, store_url: str) -> None:
    gw = await make_gateway(store_url=store_url)
    call = new_call_id()
    customer = gw.seed["customers"]["ada"]["id"]
    body = {"reason": "account_change", "summary": "Wants to change the address.", "customer_id": customer}
    results = await asyncio.gather(*(
        gw.call("escalations.create", body, call_id=call, idempotency_key=f"race-{n}") for n in range(6)
    ))
    assert {status for status, _ in results} == {200}
    refs = {b["result"]["reference"] for _, b in results}
    assert len(refs) == 1
    assert sum(not b["result"]["existing"] for _, b in results) == 1
    rows = await gw.services.store.fetchall("SELECT reference FROM escalations WHERE call_id = ?", call)
    assert len(rows) == 1
