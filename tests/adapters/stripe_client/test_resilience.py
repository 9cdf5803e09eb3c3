"""Circuit breaker and retry policy (adapters.resilience), with a fake clock: no timing in tests."""

from __future__ import annotations

import pytest

from adapters.resilience import BreakerState, CircuitBreaker, RetryPolicy, build_async_retrying, compute_wait


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_breaker_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_threshold=3, reset_timeout=30, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state is BreakerState.CLOSED
    assert b.allow()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    assert not b.allow()
    assert b.retry_in() == pytest.approx(30)


def test_breaker_success_resets_the_failure_count(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_threshold=2, clock=clock)
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state is BreakerState.CLOSED
    assert b.consecutive_failures == 1


def test_breaker_half_open_lets_limited_probes_and_closes_on_success(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_threshold=1, reset_timeout=10, half_open_max_calls=1, clock=clock)
    b.record_failure()
    assert b.state is BreakerState.OPEN
    clock.now += 9.9
    assert not b.allow()
    clock.now += 0.1
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # only one probe at a time
    b.record_success()
    assert b.state is BreakerState.CLOSED
    assert b.allow()


def test_breaker_half_open_probe_failure_reopens_for_a_full_timeout(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_threshold=1, reset_timeout=10, clock=clock)
    b.record_failure()
    clock.now += 10
    assert b.allow()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    clock.now += 9
    assert not b.allow()
    clock.now += 1
    assert b.allow()


def test_breaker_release_frees_a_probe_slot_without_changing_state(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_threshold=1, reset_timeout=1, clock=clock)
    b.record_failure()
    clock.now += 1
    assert b.allow()
    b.release()  # e.g. the probe was cancelled
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()


@pytest.mark.parametrize(
    "kwargs", [{"failure_threshold": 0}, {"reset_timeout": -1}, {"half_open_max_calls": 0}]
)
def test_breaker_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]


def test_policy_defaults_suit_a_phone_call() -> None:
    p = RetryPolicy()
    assert p.max_attempts == 3
    assert p.deadline == 4.0


def test_policy_backoff_is_exponential_and_capped_without_jitter() -> None:
    p = RetryPolicy(base_backoff=0.5, max_backoff=1.5, jitter=0)
    assert [p.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]


def test_policy_jitter_only_shortens_the_wait() -> None:
    p = RetryPolicy(base_backoff=1.0, max_backoff=1.0, jitter=0.5)
    for _ in range(50):
        assert 0.5 <= p.backoff(1) <= 1.0


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"deadline": 0}, {"base_backoff": -1}, {"jitter": 1.5}]
)
def test_policy_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_wait_honours_retry_after_hint_above_backoff() -> None:
    p = RetryPolicy(base_backoff=0.1, max_backoff=0.1, jitter=0, deadline=4)
    assert compute_wait(p, 1, elapsed=0.0, hint=2.0) == 2.0
    assert compute_wait(p, 1, elapsed=0.0, hint=0.01) == 0.1  # a small hint does not shorten the backoff
    assert compute_wait(p, 1, elapsed=0.0, hint=None) == 0.1


def test_wait_is_capped_by_the_remaining_deadline() -> None:
    p = RetryPolicy(base_backoff=0.1, jitter=0, deadline=4)
    assert compute_wait(p, 1, elapsed=3.5, hint=30.0) == pytest.approx(0.5)
    assert compute_wait(p, 1, elapsed=5.0, hint=None) == 0.0


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


def _fast(**kw: float) -> RetryPolicy:
    base: dict[str, float] = {"base_backoff": 0.0, "max_backoff": 0.0, "jitter": 0.0}
    base.update(kw)
    return RetryPolicy(**base)  # type: ignore[arg-type]


async def _run(retrying: object, errors: list[BaseException]) -> int:
    attempts = 0
    async for attempt in retrying:  # type: ignore[attr-defined]
        with attempt:
            attempts += 1
            if errors:
                raise errors.pop(0)
    return attempts


async def test_retrying_retries_what_should_retry_allows_up_to_max_attempts() -> None:
    r = build_async_retrying(_fast(max_attempts=3), lambda e: isinstance(e, Transient))
    with pytest.raises(Transient):
        await _run(r, [Transient(), Transient(), Transient(), Transient()])
    r = build_async_retrying(_fast(max_attempts=3), lambda e: isinstance(e, Transient))
    assert await _run(r, [Transient(), Transient()]) == 3


async def test_retrying_does_not_retry_what_should_retry_refuses() -> None:
    r = build_async_retrying(_fast(max_attempts=5), lambda e: isinstance(e, Transient))
    errors: list[BaseException] = [Permanent(), Transient()]
    with pytest.raises(Permanent):
        await _run(r, errors)
    assert len(errors) == 1  # the second attempt never happened


async def test_retrying_stops_when_the_hint_would_pass_the_deadline() -> None:
    # The server asks for 60 s, the caller has 1 s: give up after the first attempt instead of waiting.
    r = build_async_retrying(_fast(max_attempts=10, deadline=1.0), lambda e: True, lambda e: 60.0)
    errors: list[BaseException] = [Transient(), Transient()]
    with pytest.raises(Transient):
        await _run(r, errors)
    assert len(errors) == 1
