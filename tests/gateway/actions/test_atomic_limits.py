"""The per-customer refund limit and the verification attempt limits, checked and consumed atomically.

Each test runs on SQLite and on PostgreSQL (the ``store_url`` fixture). "Two instances" are two store objects
on the same database (on PostgreSQL two connection pools, so the requests really interleave in the server);
the requests are sent at once with ``asyncio.gather``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.actions.customers import check_attempt
from gateway.actions.refunds import LimitReached, Reservation, reserve_refund
from gateway.settings import PolicySettings
from gateway.store import Store, open_store

TENANT = "acme"


@pytest.fixture
async def stores(store_url: str) -> AsyncIterator[tuple[Store, Store]]:
    a = await open_store(store_url, pool_max_size=10)
    await a.migrate()
    b = await open_store(store_url, pool_max_size=10)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def refund_row(op_key: str, customer: str = "cus_A", amount: int = 100) -> dict[str, Any]:
    return {
        "op_key": op_key,
        "customer_id": customer,
        "payment_intent_id": "pi_1",
        "charge_id": None,
        "amount": amount,
        "currency": "gbp",
        "reason": "requested_by_customer",
        "call_id": "call-1",
    }


async def try_reserve(store: Store, op_key: str, *, limit: int = 2, customer: str = "cus_A") -> Reservation | None:
    try:
        return await reserve_refund(store, tenant_id=TENANT, row=refund_row(op_key, customer), limit=limit,
                                    period_days=30)
    except LimitReached:
        return None


async def slots(store: Store, customer: str = "cus_A") -> int:
    row = await store.fetchone(
        "SELECT COUNT(*) AS n FROM gateway_refunds WHERE tenant_id = ? AND customer_id = ? AND state = 'sending'",
        TENANT,
        customer,
    )
    assert row is not None
    return int(row["n"])


async def test_twenty_concurrent_refund_decisions_under_a_limit_of_two_take_exactly_two_slots(
    stores: tuple[Store, Store],
) -> None:
    a, b = stores
    for round_no in range(3):
        customer = f"cus_round{round_no}"
        results = await asyncio.gather(
            *(try_reserve(a if n % 2 else b, f"op-{round_no}-{n}", customer=customer) for n in range(20))
        )
        granted = [r for r in results if r is not None]
        assert len(granted) == 2, f"round {round_no}: {len(granted)} granted"
        assert all(not r.existing for r in granted)
        assert await slots(a, customer) == 2


async def test_a_retry_with_the_same_key_takes_no_second_slot(stores: tuple[Store, Store]) -> None:
    a, b = stores
    first = await try_reserve(a, "op-1", limit=1)
    assert first is not None and not first.existing
    # The same decision retried on both instances at once, after the limit is full: found, not re-decided.
    again = await asyncio.gather(try_reserve(a, "op-1", limit=1), try_reserve(b, "op-1", limit=1))
    assert all(r is not None and r.existing and r.row["op_key"] == "op-1" for r in again)
    assert await try_reserve(b, "op-2", limit=1) is None
    assert await slots(a) == 1


async def test_released_and_refused_decisions_free_their_slot_but_a_lost_answer_keeps_it(
    stores: tuple[Store, Store],
) -> None:
    a, _ = stores
    assert await try_reserve(a, "op-1", limit=1) is not None
    # UNKNOWN at Stripe: the row stays 'sending' and holds the slot.
    assert await try_reserve(a, "op-2", limit=1) is None
    # NOT_ATTEMPTED / DECLINED: the action marks the row released (or refused): the slot is free again.
    await a.execute("UPDATE gateway_refunds SET state = 'released' WHERE op_key = 'op-1'")
    second = await try_reserve(a, "op-2", limit=1)
    assert second is not None and not second.existing
    # A released decision retried with its own key is decided again in place (one row per key).
    await a.execute("UPDATE gateway_refunds SET state = 'refused' WHERE op_key = 'op-2'")
    retried = await try_reserve(a, "op-1", limit=1)
    assert retried is not None and not retried.existing
    rows = await a.fetchall("SELECT op_key, state FROM gateway_refunds ORDER BY op_key")
    assert [(r["op_key"], r["state"]) for r in rows] == [("op-1", "sending"), ("op-2", "refused")]


async def test_a_refund_that_failed_at_stripe_or_is_older_than_the_period_holds_no_slot(
    stores: tuple[Store, Store],
) -> None:
    a, _ = stores
    assert await try_reserve(a, "op-1", limit=1) is not None
    await a.execute("UPDATE gateway_refunds SET state = 'created', refund_status = 'failed' WHERE op_key = 'op-1'")
    assert await try_reserve(a, "op-2", limit=1) is not None
    old = time.time() - 31 * 86400
    await a.execute("UPDATE gateway_refunds SET created_at = ? WHERE op_key = 'op-2'", old)
    assert await try_reserve(a, "op-3", limit=1) is not None
    assert await try_reserve(a, "op-4", limit=1) is None


async def test_a_payment_without_a_customer_is_not_limited_per_customer(stores: tuple[Store, Store]) -> None:
    a, _ = stores
    for n in range(3):
        row = refund_row(f"op-{n}") | {"customer_id": None}
        got = await reserve_refund(a, tenant_id=TENANT, row=row, limit=1, period_days=30)
        assert not got.existing


# ------------------------------------------------------------------------------------------ verification


POLICY = PolicySettings(verification_max_attempts=3, verification_max_attempts_per_customer=3)


async def attempt(store: Store, call: str, customer: str = "cus_A", *, right: bool = False,
                  policy: PolicySettings = POLICY, now: float | None = None) -> Any:
    match = ["postal_code", "card_last4"] if right else ["postal_code"]
    return await check_attempt(store, tenant_id=TENANT, call_id=call, customer_id=customer, policy=policy,
                               match=match, now=now)


async def attempts(store: Store, **where: str) -> int:
    cond = " AND ".join(f"{k} = ?" for k in where)
    row = await store.fetchone(f"SELECT COUNT(*) AS n FROM verification_attempts WHERE {cond}", *where.values())
    assert row is not None
    return int(row["n"])


async def test_thirty_concurrent_guesses_on_one_call_get_exactly_three_checked(stores: tuple[Store, Store]) -> None:
    a, b = stores
    for round_no in range(3):
        call, customer = f"call-{round_no}", f"cus_{round_no}"
        outcomes = await asyncio.gather(*(attempt(a if n % 2 else b, call, customer) for n in range(30)))
        checked = [o for o in outcomes if o.checked]
        assert len(checked) == 3, f"round {round_no}: {len(checked)} checked"
        assert sorted(o.attempts_left for o in checked) == [0, 1, 2]
        assert await attempts(a, call_id=call) == 3
        # The right answer now is refused unchecked: the limit is spent.
        late = await attempt(b, call, customer, right=True)
        assert (late.checked, late.verified) == (False, False)


async def test_thirty_concurrent_guesses_from_different_calls_are_limited_per_customer(
    stores: tuple[Store, Store],
) -> None:
    a, b = stores
    outcomes = await asyncio.gather(*(attempt(a if n % 2 else b, f"call-{n}") for n in range(30)))
    assert sum(o.checked for o in outcomes) == 3
    assert await attempts(a, customer_id="cus_A") == 3


async def test_a_right_answer_among_concurrent_wrong_ones_verifies_only_if_checked_within_the_limit(
    stores: tuple[Store, Store],
) -> None:
    a, b = stores
    for round_no in range(3):
        call = f"call-mixed-{round_no}"
        outcomes = await asyncio.gather(
            *(attempt(a if n % 2 else b, call, f"cus_m{round_no}", right=(n == 17)) for n in range(30))
        )
        checked = [o for o in outcomes if o.checked]
        failures = [o for o in checked if not o.verified]
        assert len(failures) <= 3
        right = outcomes[17]
        # Never "verified after 7 wrong guesses": if the right answer was checked, fewer than 3 had failed.
        if right.verified:
            assert len(checked) <= 4 and right.attempts_left >= 1
        else:
            assert not right.checked and len(failures) == 3


async def test_failures_count_only_within_the_window_and_limits_come_from_policy(stores: tuple[Store, Store]) -> None:
    a, _ = stores
    policy = PolicySettings(verification_max_attempts=2, verification_max_attempts_per_customer=4,
                            verification_attempt_window_seconds=600)
    long_ago = time.time() - 601
    for _ in range(2):
        assert (await attempt(a, "call-old", policy=policy, now=long_ago)).checked
    # Past the window the call may try again: old failures no longer count.
    fresh = await attempt(a, "call-old", right=True, policy=policy)
    assert fresh.checked and fresh.verified
    # Per call: 2; per customer (across calls): 4 within the window.
    assert [(await attempt(a, "call-x", policy=policy)).checked for _ in range(3)] == [True, True, False]
    assert [(await attempt(a, "call-y", policy=policy)).checked for _ in range(3)] == [True, True, False]
    assert (await attempt(a, "call-z", policy=policy)).checked is False  # customer budget of 4 spent
    assert (await attempt(a, "call-z", "cus_other", policy=policy)).checked is True
