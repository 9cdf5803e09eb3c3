"""Rate limits per agent key and per tenant: shared by every instance on Redis, in memory otherwise.

The algorithm is GCRA (the generic cell rate algorithm, as in ``redis-cell`` and ``throttled``): per limited
thing one number, its theoretical arrival time (TAT). A request at ``now`` is allowed when
``max(TAT, now) + T - burst * T <= now`` (``T = 1 / rate``), and then moves the TAT on by ``T``. It is
equivalent to a token bucket of ``burst`` tokens refilled at ``rate``, but needs one key and no refill loop.

* **Redis** (``rate_limit.redis_url``): one Lua script checks the key's and the tenant's limit and consumes
  both, or neither, atomically on the server, with the server's clock (``TIME``): instances never disagree on
  the time and never race between read and write. One round trip per action.
* **In memory** (no Redis configured): the same algorithm per instance; with N instances the ceiling is N
  times the rate.
* **Redis unreachable** (timeout ``redis_timeout_seconds``, connection refused): ``on_redis_error = "open"``
  (default) lets the request through *under the in-memory limiter of this instance* and counts
  ``voicepay_ratelimit_backend_errors_total``; ``"closed"`` refuses it with 503 ``service_unavailable``. Open is
  the default because a caller on the phone must not lose a payment action because a cache is down, and the
  per-instance fallback still stops a runaway bot loop. The next check tries Redis again (the client
  reconnects), so recovery needs nothing.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter

if TYPE_CHECKING:
    from gateway.settings import RateLimitSettings

log = logging.getLogger("voicepay.ratelimit")


class Limiter(Protocol):
    async def check(self, key_id: str, tenant_id: str) -> float:
        """0.0 when allowed, else the seconds until a request would be; raises :class:`LimiterUnavailable`."""

    async def close(self) -> None: ...


class LimiterUnavailable(Exception):
    """The shared limiter cannot be reached and the configuration says to refuse (``on_redis_error = closed``)."""


class TokenBucketLimiter:
    """Per-agent-key token buckets (in memory, per instance). Kept for callers that want one limit only."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str) -> float:
        """Take one token. Returns 0.0 when allowed, else the seconds until a token is available."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._rate

    async def check(self, key_id: str, tenant_id: str) -> float:
        return self.acquire(key_id)

    async def close(self) -> None:
        return None


class MemoryGCRA:
    """GCRA over several limits at once, in this process: all allow and all are consumed, or none is."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._max_keys = max_keys

    def take(self, limits: list[tuple[str, float, int]]) -> float:
        """``limits``: (name, rate per second, burst). Returns 0.0 when allowed, else seconds to wait."""
        now = self._clock()
        wait = 0.0
        new: list[tuple[str, float]] = []
        for name, rate, burst in limits:
            interval = 1.0 / rate
            tat = max(self._tat.get(name, now), now) + interval
            allow_at = tat - burst * interval
            wait = max(wait, allow_at - now)
            new.append((name, tat))
        if wait > 0:
            return wait
        if len(self._tat) > self._max_keys:  # a bound on memory: forget limits that are back to full burst
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        for name, tat in new:
            self._tat[name] = tat
        return 0.0


#: KEYS: the limits' keys. ARGV: per key, its emission interval and its burst (microseconds, count).
#: Returns 0 when allowed (every key consumed), else the microseconds until it would be (nothing consumed).
GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local new = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if allow_at - now > wait then wait = allow_at - now end
  new[i] = new_tat
end
if wait > 0 then return math.ceil(wait) end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%d', new[i]), 'PX', math.ceil((new[i] - now) / 1000) + 1)
end
return 0
"""


class RateLimitMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.backend_errors = Counter(
            "voicepay_ratelimit_backend_errors",
            "Rate-limit checks that could not reach Redis (let through or refused per rate_limit.on_redis_error).",
            registry=registry,
        )


class RateLimiter:
    """The gateway's limiter: per key and per tenant, on Redis when configured, in memory otherwise."""

    def __init__(
        self,
        settings: RateLimitSettings,
        *,
        tenants: Mapping[str, tuple[float | None, int | None]] | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
        prefix: str = "voicepay:rl:",
    ) -> None:
        self.settings = settings
        #: Per tenant (rate, burst) from its policy; None falls back to the global per-tenant limit.
        self._tenants = dict(tenants or {})
        self.metrics = RateLimitMetrics(registry)
        self._memory = MemoryGCRA(clock=clock)
        self._prefix = prefix
        self._redis: Any = None
        self._script: Any = None
        if settings.redis_url:
            import redis.asyncio as aioredis

            timeout = settings.redis_timeout_seconds
            self._redis = aioredis.Redis.from_url(
                settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry_on_timeout=False, health_check_interval=30,
            )
            self._script = self._redis.register_script(GCRA_SCRIPT)

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def _limits(self, key_id: str, tenant_id: str) -> list[tuple[str, float, int]]:
        s = self.settings
        rate, burst = self._tenants.get(tenant_id, (None, None))
        return [
            (f"{self._prefix}key:{key_id}", s.per_key_rate, s.burst),
            (f"{self._prefix}tenant:{tenant_id}", rate or s.per_tenant_rate, burst or s.per_tenant_burst),
        ]

    async def check(self, key_id: str, tenant_id: str) -> float:
        limits = self._limits(key_id, tenant_id)
        if self._redis is None:
            return self._memory.take(limits)
        import redis.exceptions

        args: list[int] = []
        for _, rate, burst in limits:
            args += [max(1, round(1_000_000 / rate)), burst]
        try:
            micros = await self._script(keys=[name for name, _, _ in limits], args=args)
        except (redis.exceptions.RedisError, OSError, TimeoutError):
            self.metrics.backend_errors.inc()
            log.warning("rate limiter: Redis unreachable (%s)", self.settings.on_redis_error)
            if self.settings.on_redis_error == "closed":
                raise LimiterUnavailable() from None
            return self._memory.take(limits)
        return float(micros) / 1_000_000 if micros else 0.0

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def retry_after(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
