"""The call contract (issue 12), written as the conversations that hit each trap, against the real gateway
app and the Stripe sandbox over sockets.

"Two cases for one dispute": ``refunds.create`` on a disputed charge opens a case and answers
``escalation_required``; a bot that follows that code calls ``escalations.create``, and the ops desk must still
see one case.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.stripe.signing import verify_header
from tests.e2e.conftest import Gateway, new_call_id

MakeGateway = Callable[..., Awaitable[Gateway]]


async def _bounded(check: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


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


# ---------------------------------------------------------------- outcomes as they are (issue 12 point 5)

WEBHOOK_SECRET = "whsec_e2e_contract"
NOTIFY_SECRET = "ntfsec_e2e_contract"


async def test_pending_refund_is_said_as_started_and_its_later_failure_opens_a_case_the_notification_names(
    make_gateway: MakeGateway, settings_factory: Any
) -> None:
    notes: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        verify_header(raw, request.headers.get("Voicepay-Signature", ""), [NOTIFY_SECRET])
        notes.append(json.loads(raw))
        return web.Response(status=204)

    bot = web.Application()
    bot.router.add_post("/voicepay", receive)
    bot_server = TestServer(bot, host="127.0.0.1")
    await bot_server.start_server()
    try:
        ring = settings_factory.ring
        gw = await make_gateway(
            policy={"require_verification_for_refunds": False},
            stripe_webhook_secrets=[ring.encrypt(WEBHOOK_SECRET)],
            notification_url=str(bot_server.make_url("/voicepay")),
            notification_secret=ring.encrypt(NOTIFY_SECRET),
        )
        gw.sandbox.add_webhook_endpoint(str(gw.client.server.make_url("/v1/webhooks/stripe/acme")), WEBHOOK_SECRET)
        call = new_call_id()
        alan = gw.seed["customers"]["alan"]["id"]
        pi = gw.seed["payments"]["alan_refund_fails"]["payment_intent"]

        # Caller: "Can I get my money back for the workshop seat?" Stripe accepts the refund as pending.
        status, body = await gw.call("refunds.create", {"payment_id": pi}, call_id=call)
        assert status == 200, body
        assert body["result"]["status"] == "pending"
        assert body["say"].startswith("I've started a refund of 20.00 British pounds ")
        assert "isn't complete yet" in body["say"] and "I've refunded" not in body["say"]
        refund_id = body["result"]["refund_id"]

        # Days later the bank returns it: Stripe sends refund.updated / refund.failed.
        assert gw.sandbox.settle() >= 1
        await gw.sandbox.flush_webhooks(wait=20)

        async def failure_told() -> bool:
            return any(n["type"] == "refund.failed" for n in notes)

        await _bounded(failure_told, "the refund.failed notification")
        failed = next(n for n in notes if n["type"] == "refund.failed")
        case = await gw.services.store.fetchone(
            "SELECT reference, reason, call_id, customer_id, payment_ids FROM escalations WHERE tenant_id = 'acme' "
            "AND reason = 'refund_failed'"
        )
        assert case is not None, "a failed refund must open a case"
        assert (case["call_id"], case["customer_id"], json.loads(case["payment_ids"])) == (call, alan, [pi])
        assert failed["data"]["escalation_reference"] == case["reference"]
        assert "I've passed it to a colleague, who will follow up" in failed["say"]
        assert case["reference"] in failed["say"]
        # Routable to the live call.
        assert failed["data"]["call_id"] == call and failed["data"]["customer_id"] == alan
        assert failed["data"]["refund"] == refund_id
        assert case["reference"] in [c["reference"] for c in gw.ops_inbox]
        # Every notification names the call and customer (here all are about the gateway's refund).
        assert all(n["data"]["call_id"] == call and n["data"]["customer_id"] == alan for n in notes)

        # The bot escalates the same failed refund itself in that call: the same case comes back.
        status, esc = await gw.call(
            "escalations.create",
            {"reason": "refund_failed", "summary": "Refund bounced.", "payment_ids": [pi]}, call_id=call,
        )
        assert status == 200 and esc["result"]["reference"] == case["reference"] and esc["result"]["existing"]
    finally:
        await bot_server.close()


async def test_failed_refund_the_gateway_did_not_make_promises_no_follow_up(
    make_gateway: MakeGateway, settings_factory: Any
) -> None:
    ring = settings_factory.ring
    gw = await make_gateway(stripe_webhook_secrets=[ring.encrypt(WEBHOOK_SECRET)])
    gw.sandbox.add_webhook_endpoint(str(gw.client.server.make_url("/v1/webhooks/stripe/acme")), WEBHOOK_SECRET)
    pi = gw.seed["payments"]["alan_refund_fails"]["payment_intent"]
    # A refund made from the merchant's dashboard, not through a call.
    refund = gw.sandbox.state.refund_create({"payment_intent": pi}, {})
    assert refund["status"] == "pending"
    assert gw.sandbox.settle() >= 1
    await gw.sandbox.flush_webhooks(wait=20)
    store = gw.services.store

    async def failure_stored() -> bool:
        return await store.fetchone("SELECT id FROM notifications WHERE kind = 'refund.failed'") is not None

    await _bounded(failure_stored, "the refund.failed notification")
    row = await store.fetchone("SELECT body FROM notifications WHERE kind = 'refund.failed'")
    assert row is not None
    note = json.loads(row["body"])
    assert note["say"] == "The refund of 20.00 British pounds could not be completed."
    assert "escalation_reference" not in note["data"]
    assert note["data"]["call_id"] is None
    assert await store.fetchall("SELECT reference FROM escalations") == []
