"""Two instances claiming one new idempotency key at the same moment: one claim, the rest told it is in
progress; never a uniqueness error (a 500). The key and its operation id are both unique, and PostgreSQL may
report either index's conflict first."""

from __future__ import annotations

import asyncio

from gateway.errors import RequestInProgress
from gateway.idempotency import IdempotencyStore
from gateway.store import open_store


async def test_concurrent_claims_of_one_new_key_from_two_stores_give_one_owner(store_url: str) -> None:
    first, second = await open_store(store_url), await open_store(store_url)
    try:
        await first.migrate()
        stores = [IdempotencyStore(s, ttl_seconds=3600, lease_seconds=30) for s in (first, second)]
        for round_ in range(5):
            key = f"race-{round_}"

            async def claim(i: int, key: str = key) -> str:
                try:
                    got = await stores[i % 2].begin("acme", "refunds.create", key, "fp", f"req_{i}")
                except RequestInProgress:
                    return "in_progress"
                return "owner" if got is None else type(got).__name__

            outcomes = await asyncio.gather(*(claim(i) for i in range(12)))
            assert outcomes.count("owner") == 1, outcomes
            assert set(outcomes) <= {"owner", "in_progress"}, outcomes
    finally:
        await first.close()
        await second.close()
