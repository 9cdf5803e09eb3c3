"""Provider-agnostic resilience: a circuit breaker and a retry policy built on tenacity.

Used by every provider adapter (Stripe, PCI Pal). Nothing here knows about a provider's exceptions: the
adapter supplies ``should_retry(exc)`` and ``retry_after(exc)`` and decides which failures count against the
breaker.

Why these defaults: a caller is waiting on the phone. A voice agent can fill about four seconds with "one
moment" before the silence gets awkward, so the whole retry budget of one logical call (all attempts and all
waits) is bounded by ``RetryPolicy.deadline`` = 4 s, and at most three attempts are made. Past that the
gateway is better off telling the caller "still working on it" (the outcome is UNKNOWN for writes, and the
reconciler re-checks it with the same idempotency key) than stacking further retries.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_before_delay

__all__ = ["BreakerState", "CircuitBreaker", "RetryPolicy", "build_async_retrying", "compute_wait"]


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """A per-tenant, per-provider circuit breaker.

    * ``closed``: calls flow; consecutive provider-side failures are counted. ``failure_threshold`` of them
      in a row open the breaker. Any success resets the count.
    * ``open``: calls fail fast (``allow()`` is False) for ``reset_timeout`` seconds, so a caller hears
      "the payment system is not answering" at once instead of after a full retry budget, and a struggling
      provider is not hammered by every call in the queue.
    * ``half_open``: after the timeout, up to ``half_open_max_calls`` probe calls are let through. A probe
      success closes the breaker; a probe failure re-opens it for twice the previous wait, up to
      ``max_reset_timeout`` (default: ``reset_timeout``, i.e. no growth).

    Why a short first wait that grows: a caller is on the phone, so once the provider is back the service must
    resume within seconds (one probe every ``reset_timeout``, a couple of seconds, costs the provider nothing),
    while a long outage is probed ever less often, never less than every ``max_reset_timeout``.
    :meth:`retry_in` is what ``Retry-After`` tells the bot.

    Only provider-side failures (unavailable, timeout, 5xx, rate limited) may be recorded as failures: a card
    decline or an invalid request is a healthy provider giving a real answer, so callers record those as
    successes (or release the slot with :meth:`release`).

    Every ``allow()`` that returned True must be followed by exactly one of ``record_success``,
    ``record_failure`` or ``release`` (e.g. on cancellation), otherwise a half-open probe slot stays taken.
    Not thread-safe: one event loop owns it (asyncio code between awaits is atomic).
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
        max_reset_timeout: float | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if reset_timeout < 0:
            raise ValueError("reset_timeout must be >= 0")
        if half_open_max_calls < 1:
            raise ValueError("half_open_max_calls must be >= 1")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self.max_reset_timeout = max(reset_timeout, max_reset_timeout if max_reset_timeout is not None else 0.0)
        #: The wait of the current open period (grows with failed probes, back to ``reset_timeout`` on success).
        self._open_for = reset_timeout
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._half_open_in_flight = 0

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose timeout has passed reports ``half_open``."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self._open_for:
            self._state = BreakerState.HALF_OPEN
            self._half_open_in_flight = 0
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go out now? In half-open, a True answer takes one of the probe slots."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        if self._half_open_in_flight < self.half_open_max_calls:
            self._half_open_in_flight += 1
            return True
        return False

    def record_success(self) -> None:
        """The provider answered (successfully, or with a real business answer such as a decline)."""
        self._failures = 0
        if self._state is BreakerState.HALF_OPEN:
            self._half_open_in_flight = max(0, self._half_open_in_flight - 1)
        self._state = BreakerState.CLOSED
        self._open_for = self.reset_timeout

    def record_failure(self) -> None:
        """The provider did not answer usefully (unavailable, timed out, 5xx, rate limited)."""
        if self._state is BreakerState.HALF_OPEN:
            # A failed probe: the provider is still down; wait longer before the next one.
            self._trip(min(self.max_reset_timeout, self._open_for * 2))
            return
        self._failures += 1
        if self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold:
            self._trip(self.reset_timeout)

    def release(self) -> None:
        """An allowed call ended without telling us anything about the provider (e.g. cancelled)."""
        if self._state is BreakerState.HALF_OPEN:
            self._half_open_in_flight = max(0, self._half_open_in_flight - 1)

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._open_for - (self._clock() - self._opened_at))

    def _trip(self, open_for: float) -> None:
        self._state = BreakerState.OPEN
        self._open_for = open_for
        self._opened_at = self._clock()
        self._half_open_in_flight = 0
        self._failures = 0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one logical provider call tries.

    ``max_attempts`` counts the first attempt. ``deadline`` bounds the whole call (attempts plus waits) in
    seconds: no retry starts, and no wait is scheduled, that would end past it. Backoff before retry *n* (n
    >= 1) is ``min(max_backoff, base_backoff * 2**(n-1))``, then reduced by up to ``jitter`` (a fraction,
    0..1) at random so that many calls failing together do not retry in lock-step. A provider's ``Retry-
    After`` hint raises the wait to at least the hint, but never past the deadline (if it would, the call
    stops instead).
    """

    max_attempts: int = 3
    deadline: float = 4.0
    base_backoff: float = 0.25
    max_backoff: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.deadline <= 0:
            raise ValueError("deadline must be > 0")
        if self.base_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within 0..1")

    def backoff(self, retry_number: int) -> float:
        """The jittered exponential backoff before retry ``retry_number`` (1 = the first retry)."""
        delay = min(self.max_backoff, self.base_backoff * (2.0 ** max(0, retry_number - 1)))
        if self.jitter:
            # Jitter is for spreading load, not security: the stdlib PRNG is right here.
            delay *= 1.0 - self.jitter * random.random()  # noqa: S311
        return delay


def compute_wait(
    policy: RetryPolicy,
    retry_number: int,
    elapsed: float,
    hint: float | None,
) -> float:
    """The wait before retry ``retry_number``: backoff, raised to a ``Retry-After`` hint, capped by deadline.

    Capping at the remaining budget makes ``elapsed + wait`` reach the deadline exactly, which tenacity's
    ``stop_before_delay`` then treats as "stop now": a provider asking us to wait longer than the caller can
    wait is answered by giving up at once rather than by sleeping into the deadline.
    """
    wait = policy.backoff(retry_number)
    if hint is not None and hint > wait:
        wait = hint
    remaining = max(0.0, policy.deadline - elapsed)
    return min(wait, remaining)


def build_async_retrying(
    policy: RetryPolicy,
    should_retry: Callable[[BaseException], bool],
    retry_after: Callable[[BaseException], float | None] | None = None,
    *,
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> AsyncRetrying:
    """A tenacity ``AsyncRetrying`` for one logical call under ``policy``.

    ``should_retry`` is the provider's one retry decision; ``retry_after`` extracts a server hint in seconds.
    The last exception is re-raised unchanged (``reraise=True``) so the adapter maps it onto its error tree.
    Build a new one per logical call: its clock (for the deadline) starts with the first attempt.
    """

    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hint = retry_after(exc) if (retry_after is not None and exc is not None) else None
        return compute_wait(policy, state.attempt_number, state.seconds_since_start or 0.0, hint)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.deadline),
        wait=_wait,
        retry=retry_if_exception(should_retry),
        reraise=True,
        before_sleep=before_sleep,
    )
