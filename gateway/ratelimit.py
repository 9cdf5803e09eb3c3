"""Per-agent-key token buckets (in memory, per instance).

Each instance enforces the limit on its own share of traffic; behind a load balancer with N instances the
effective ceiling is up to N times the configured rate. That is the usual trade-off for a limiter whose job is
to stop a runaway bot loop cheaply, not to meter billing.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucketLimiter:
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
