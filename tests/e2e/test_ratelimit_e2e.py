"""Shared rate limits with real processes (issue 13, acceptance 2): two gateway instances and one Redis (a
private redis-server on a free port that this test starts and kills; never the shared one), one agent key
hammered through both: the combined accepted count stays within the limit plus burst. Then Redis is killed
mid-run and each instance behaves as documented for ``on_redis_error = "open"``: requests go through under
each instance's own limiter, and the failure is counted in ``/metrics``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.procs import GatewayProc, Stack, pg_stack
from tests.redis_proc import RedisProc, private_redis

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

RATE, BURST = 5.0, 10


@pytest.fixture
async def redis() -> AsyncIterator[RedisProc]:
    async with private_redis() as r:
        yield r


METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


async def hammer(gws: list[GatewayProc], n: int) -> list[int]:
    async def one(i: int) -> int:
        status, _ = await gws[i % len(gws)].call("gateway.ping", {})
        return status

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def test_two_instances_share_one_key_budget_on_redis_and_fail_open_when_it_dies(
    stack: Stack, redis: RedisProc
) -> None:
    stack.write_config(rate_limit={"per_key_rate": RATE, "burst": BURST, "per_tenant_rate": 1000.0,
                                   "per_tenant_burst": 1000, "redis_url": redis.url,
                                   "redis_timeout_seconds": 0.5, "on_redis_error": "open"},
                       metrics={"token": stack.ring.encrypt(METRICS_TOKEN)})
    await stack.create_key()
    a = await stack.start_gateway("a")
    b = await stack.start_gateway("b")

    started = time.monotonic()
    statuses = await hammer([a, b], 80)
    elapsed = time.monotonic() - started
    accepted = statuses.count(200)
    assert set(statuses) <= {200, 429}
    # GCRA: at most the burst plus what the rate refilled while the requests ran, across BOTH instances
    # (each alone would have allowed its own burst: 2 x 10).
    assert BURST <= accepted <= BURST + int(RATE * elapsed) + 1, (accepted, elapsed)
    assert statuses.count(429) >= 80 - accepted

    # Redis dies mid-run: open, each instance falls back to its own in-memory limiter (fresh: a full burst).
    await redis.stop()
    statuses = await hammer([a, b], 40)
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) >= BURST  # not refused wholesale...
    assert statuses.count(200) <= 2 * (BURST + 2)  # ...and still limited, per instance
    for gw in (a, b):
        async with gw.http.get(gw.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as resp:
            assert resp.status == 200
            text = await resp.text()
        count = next(float(line.split()[-1]) for line in text.splitlines()
                     if line.startswith("voicepay_ratelimit_backend_errors_total "))
        assert count >= 1
