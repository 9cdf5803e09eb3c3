"""Money and security limits under concurrency, with real processes (issue 11, found items 5 and 6).

The Stripe sandbox and ``voicepay serve`` run as processes on 127.0.0.1 (see ``tests/e2e/procs.py``): one
gateway on SQLite, and two gateways sharing one PostgreSQL database. Each test runs several rounds, each on a
customer created fresh at the sandbox, and sends its requests all at once:

* 20 refunds of 1.00, each with its own Idempotency-Key, after a correct verification, under a limit of 2
  refunds per customer: exactly 2 refunds exist at Stripe, the other 18 are refused by policy.
* 30 wrong verification guesses on one call under a limit of 3 per call: exactly 3 are checked (recorded and
  answered "don't match"), 27 are refused unchecked, and the right answer afterwards is refused too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.store import Store, open_store
from tests.e2e.procs import GatewayProc, Stack, pg_stack

pytestmark = [pytest.mark.slow]

ROUNDS = 3
POLICY = {
    "max_refunds_per_customer": 2,
    "verification_max_attempts": 3,
    # High, so that the per-call limit is the one under test here (the per-customer one has its own tests).
    "verification_max_attempts_per_customer": 100,
}
POSTCODE = "SW1A 1AA"


async def stripe_post(stack: Stack, path: str, form: dict[str, str]) -> dict[str, Any]:
    assert stack.stripe is not None
    headers = {"Authorization": f"Bearer {stack.stripe.api_key}"}
    async with stack.http.post(stack.stripe.base_url + path, data=form, headers=headers) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return dict(body)


async def new_customer_with_payment(stack: Stack, amount: int = 5000) -> tuple[str, str]:
    """A customer (billing postcode ``POSTCODE``) and a succeeded card payment: (customer id, pi id)."""
    tag = uuid.uuid4().hex[:8]
    cus = await stripe_post(stack, "/v1/customers", {
        "name": f"Limit Tester {tag}", "email": f"limits-{tag}@example.com",
        "address[postal_code]": POSTCODE, "address[country]": "GB",
    })
    pi = await stripe_post(stack, "/v1/payment_intents", {
        "amount": str(amount), "currency": "gbp", "customer": cus["id"], "payment_method": "pm_card_visa",
        "confirm": "true",
    })
    assert pi["status"] == "succeeded", pi
    return cus["id"], pi["id"]


async def refunds_round(stack: Stack, gateways: list[GatewayProc], db: Store) -> None:
    assert stack.stripe is not None
    customer, pi = await new_customer_with_payment(stack)
    call = "call-" + uuid.uuid4().hex[:10]
    status, body = await gateways[0].call(
        "customers.verify", {"customer_id": customer, "postal_code": POSTCODE, "card_last4": "4242"}, call_id=call
    )
    assert status == 200 and body["result"]["verified"] is True, body

    answers = await asyncio.gather(*(
        gateways[n % len(gateways)].call(
            "refunds.create", {"payment_id": pi, "amount": 100}, call_id=call, idempotency_key=f"{call}-r{n}"
        )
        for n in range(20)
    ))
    made = [b for s, b in answers if s == 200]
    refused = [b for s, b in answers if s != 200]
    assert len(made) == 2, [(s, b.get("error", {}).get("code")) for s, b in answers]
    assert all(b["error"]["code"] == "policy_refused" for b in refused), refused[:3]
    assert all(b["error"]["details"]["max_refunds_per_customer"] == 2 for b in refused)
    at_stripe = await stack.stripe.refunds_for(pi)
    assert sorted(r["id"] for r in at_stripe) == sorted(b["result"]["refund_id"] for b in made)
    assert [r["amount"] for r in at_stripe] == [100, 100]
    rows = await db.fetchall("SELECT state FROM gateway_refunds WHERE customer_id = ?", customer)
    assert [r["state"] for r in rows] == ["created", "created"]

    # A retry of a refund that went through replays it (no second slot, no second refund); one that was
    # refused stays refused.
    key = next(f"{call}-r{n}" for n, (s, _) in enumerate(answers) if s == 200)
    status, replay = await gateways[-1].call("refunds.create", {"payment_id": pi, "amount": 100}, call_id=call,
                                             idempotency_key=key)
    assert status == 200 and replay["result"]["refund_id"] in {b["result"]["refund_id"] for b in made}
    assert len(await stack.stripe.refunds_for(pi)) == 2


async def guesses_round(stack: Stack, gateways: list[GatewayProc], db: Store) -> None:
    customer, _ = await new_customer_with_payment(stack, amount=700)
    call = "call-" + uuid.uuid4().hex[:10]
    wrong = {"customer_id": customer, "postal_code": "ZZ1 1ZZ", "card_last4": "1111"}
    answers = await asyncio.gather(*(
        gateways[n % len(gateways)].call("customers.verify", wrong, call_id=call) for n in range(30)
    ))
    assert {(s, b["error"]["code"]) for s, b in answers} == {(422, "verification_failed")}
    checked = [b for _, b in answers if "details" in b["error"]]
    assert len(checked) == 3, [b["error"] for _, b in answers]
    assert sorted(b["error"]["details"]["attempts_left"] for b in checked) == [0, 1, 2]
    assert sum("colleagues" in b["error"]["say"] for _, b in answers) == 28  # 27 unchecked + the last failure
    row = await db.fetchone("SELECT COUNT(*) AS n FROM verification_attempts WHERE call_id = ?", call)
    assert row is not None and row["n"] == 3
    # The right answer on this call now is refused unchecked, and records nothing.
    right = {"customer_id": customer, "postal_code": POSTCODE, "card_last4": "4242"}
    status, body = await gateways[-1].call("customers.verify", right, call_id=call)
    assert (status, body["error"]["code"]) == (422, "verification_failed") and "details" not in body["error"]
    row = await db.fetchone("SELECT COUNT(*) AS n FROM caller_verifications WHERE call_id = ?", call)
    assert row is not None and row["n"] == 0


@pytest.fixture
async def sqlite_stack(tmp_path: Path) -> AsyncIterator[tuple[Stack, list[GatewayProc], Store]]:
    url = f"sqlite:///{tmp_path}/limits.sqlite3"
    stack = await Stack.open(tmp_path, url)
    db: Store | None = None
    try:
        await stack.start_stripe()
        stack.write_config(tenant={"policy": POLICY})
        await stack.create_key()
        gw = await stack.start_gateway("gw")
        db = await open_store(url, command_timeout=10)
        yield stack, [gw], db
    finally:
        if db is not None:
            await db.close()
        await stack.close()
        print(stack.logs())


@pytest.fixture
async def pg_two(tmp_path: Path) -> AsyncIterator[tuple[Stack, list[GatewayProc], Store]]:
    async with pg_stack(tmp_path) as stack:
        await stack.start_stripe()
        stack.write_config(tenant={"policy": POLICY})
        await stack.create_key()
        a, b = await asyncio.gather(stack.start_gateway("a"), stack.start_gateway("b"))
        db = await open_store(stack.store_url, command_timeout=10)
        try:
            yield stack, [a, b], db
        finally:
            await db.close()


async def test_sqlite_twenty_concurrent_refunds_under_a_limit_of_two_make_exactly_two(
    sqlite_stack: tuple[Stack, list[GatewayProc], Store],
) -> None:
    stack, gateways, db = sqlite_stack
    for _ in range(ROUNDS):
        await refunds_round(stack, gateways, db)


async def test_sqlite_thirty_concurrent_guesses_under_a_limit_of_three_get_exactly_three_checked(
    sqlite_stack: tuple[Stack, list[GatewayProc], Store],
) -> None:
    stack, gateways, db = sqlite_stack
    for _ in range(ROUNDS):
        await guesses_round(stack, gateways, db)


@pytest.mark.postgres
async def test_two_postgres_instances_twenty_concurrent_refunds_under_a_limit_of_two_make_exactly_two(
    pg_two: tuple[Stack, list[GatewayProc], Store],
) -> None:
    stack, gateways, db = pg_two
    for _ in range(ROUNDS):
        await refunds_round(stack, gateways, db)


@pytest.mark.postgres
async def test_two_postgres_instances_thirty_concurrent_guesses_under_a_limit_of_three_get_exactly_three_checked(
    pg_two: tuple[Stack, list[GatewayProc], Store],
) -> None:
    stack, gateways, db = pg_two
    for _ in range(ROUNDS):
        await guesses_round(stack, gateways, db)
