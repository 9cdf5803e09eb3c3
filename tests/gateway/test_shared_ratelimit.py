"""Rate limits per key and per tenant (gateway/ratelimit.py): GCRA in memory and on Redis (a private
redis-server this test starts and kills; never the shared one), with Redis down both ways documented."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from gateway.ratelimit import LimiterUnavailable, MemoryGCRA, RateLimiter
from gateway.settings import RateLimitSettings
from tests.redis_proc import RedisProc, private_redis


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gcra_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    gcra = MemoryGCRA(clock=clock)
    limits = [("k", 2.0, 3)]
    assert [gcra.take(limits) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = gcra.take(limits)
    assert wait == pytest.approx(0.5)
    clock.now += 0.5
    assert gcra.take(limits) == 0.0
    assert gcra.take(limits) > 0


def test_a_refusal_by_one_limit_consumes_neither() -> None:
    clock = Clock()
    gcra = MemoryGCRA(clock=clock)
    key_a = [("key:a", 100.0, 100), ("tenant:t", 1.0, 2)]
    key_b = [("key:b", 100.0, 100), ("tenant:t", 1.0, 2)]
    assert gcra.take(key_a) == 0.0 and gcra.take(key_b) == 0.0
    # The tenant's burst is spent, whichever key asks.
    assert gcra.take(key_a) > 0 and gcra.take(key_b) > 0
    clock.now += 1.0
    assert gcra.take(key_b) == 0.0


async def test_in_memory_limiter_limits_per_key_and_per_tenant() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitSettings(per_key_rate=1, burst=2, per_tenant_rate=1, per_tenant_burst=3),
                          registry=CollectorRegistry(), clock=clock)
    assert not limiter.shared
    got = [await limiter.check("k1", "t") for _ in range(3)]
    assert got[:2] == [0.0, 0.0] and got[2] > 0  # key burst 2
    assert await limiter.check("k2", "t") == 0.0  # the tenant's third
    assert await limiter.check("k3", "t") > 0  # tenant burst 3 spent
    assert await limiter.check("k4", "other") == 0.0


@pytest.fixture
async def redis() -> AsyncIterator[RedisProc]:
    async with private_redis() as r:
        yield r


def shared(redis: RedisProc, **kw: object) -> RateLimiter:
    settings = RateLimitSettings.model_validate({"redis_url": redis.url, "redis_timeout_seconds": 0.5, **kw})
    return RateLimiter(settings, registry=CollectorRegistry())


async def test_two_instances_on_redis_share_one_budget(redis: RedisProc) -> None:
    a = shared(redis, per_key_rate=0.001, burst=10, per_tenant_rate=1000, per_tenant_burst=1000)
    b = shared(redis, per_key_rate=0.001, burst=10, per_tenant_rate=1000, per_tenant_burst=1000)
    try:
        results = await asyncio.gather(*(lim.check("key1", "t") for lim in (a, b) for _ in range(15)))
        assert sum(1 for w in results if w == 0.0) == 10  # not 10 per instance
        assert all(w > 0 for w in results if w != 0.0)
        assert await a.check("key2", "t") == 0.0  # another key has its own budget
    finally:
        await a.close()
        await b.close()


async def test_tenant_limit_on_redis_spans_keys(redis: RedisProc) -> None:
    a = shared(redis, per_key_rate=1000, burst=1000, per_tenant_rate=0.001, per_tenant_burst=4)
    try:
        got = [await a.check(f"key{i}", "acme") for i in range(6)]
        assert [w == 0.0 for w in got] == [True] * 4 + [False] * 2
    finally:
        await a.close()


async def test_redis_down_fails_open_on_the_local_limiter_and_counts_it(redis: RedisProc) -> None:
    lim = shared(redis, per_key_rate=0.001, burst=3, per_tenant_rate=1000, per_tenant_burst=1000)
    try:
        assert await lim.check("k", "t") == 0.0
        await redis.stop()
        # Open: let through, but still under this instance's own limiter (burst 3), and counted.
        got = [await lim.check("k", "t") for _ in range(5)]
        assert [w == 0.0 for w in got] == [True, True, True, False, False]
        assert lim.metrics.backend_errors._value.get() == 5
        # Back up: the shared limit applies again without a restart.
        await redis.start()
        assert await lim.check("fresh", "t") == 0.0
    finally:
        await lim.close()


async def test_redis_down_fails_closed_when_configured(redis: RedisProc) -> None:
    lim = shared(redis, on_redis_error="closed")
    try:
        assert await lim.check("k", "t") == 0.0
        await redis.stop()
        with pytest.raises(LimiterUnavailable):
            await lim.check("k", "t")
        assert lim.metrics.backend_errors._value.get() == 1
    finally:
        await lim.close()


async def test_action_answers_503_when_redis_is_down_and_the_limiter_fails_closed(make_client, sqlite_url):  # type: ignore[no-untyped-def]
    from tests.gateway.conftest import new_key, services
    from tests.gateway.helpers import auth

    async with private_redis() as r:
        client = await make_client(sqlite_url, rate_limit={"redis_url": r.url, "on_redis_error": "closed",
                                                           "redis_timeout_seconds": 0.5})
        key = await new_key(client)
        assert (await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))).status == 200
        await r.stop()
        resp = await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))
        assert resp.status == 503
        body = await resp.json()
        assert body["error"]["code"] == "service_unavailable" and body["error"]["retryable"] is True
        metrics = services(client).metrics.render().decode()
        assert "voicepay_ratelimit_backend_errors_total 1.0" in metrics


async def test_tenant_limit_refuses_with_429_across_keys(make_client, sqlite_url):  # type: ignore[no-untyped-def]
    from tests.gateway.conftest import new_key
    from tests.gateway.helpers import auth

    client = await make_client(sqlite_url, rate_limit={"per_key_rate": 1000, "burst": 1000,
                                                       "per_tenant_rate": 0.01, "per_tenant_burst": 3})
    keys = [await new_key(client) for _ in range(4)]
    codes = [(await client.post("/v1/actions/gateway.ping", json={}, headers=auth(k))).status for k in keys]
    assert codes == [200, 200, 200, 429]


async def test_a_tenants_policy_sets_its_own_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimitSettings(per_key_rate=1000, burst=1000, per_tenant_rate=0.01, per_tenant_burst=2),
                          tenants={"big": (0.01, 5), "small": (None, None)}, registry=CollectorRegistry(), clock=clock)
    big = [await limiter.check(f"k{i}", "big") for i in range(6)]
    small = [await limiter.check(f"s{i}", "small") for i in range(3)]
    assert [w == 0.0 for w in big] == [True] * 5 + [False]
    assert [w == 0.0 for w in small] == [True, True, False]
