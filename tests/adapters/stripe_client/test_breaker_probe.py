"""The breaker probes soon after opening, backs off while the provider stays down, and says when to retry
(issue 12 point 2). A fake clock: no timing in tests."""

from __future__ import annotations

from adapters.resilience import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_probes_double_the_wait_up_to_the_cap_and_a_success_resets_it() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=2, max_reset_timeout=10, clock=clock)
    b.record_failure()
    waits = []
    for _ in range(5):
        waits.append(b.retry_in())
        clock.now += b.retry_in()
        assert b.allow()  # the probe
        b.record_failure()  # still down
    assert waits == [2, 4, 8, 10, 10]
    clock.now += b.retry_in()
    assert b.allow()
    b.record_success()
    assert b.state is BreakerState.CLOSED
    b.record_failure()  # a new outage starts again from the short wait
    assert b.retry_in() == 2


def test_retry_in_counts_down_to_the_next_probe() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=2, reset_timeout=2, max_reset_timeout=10, clock=clock)
    b.record_failure()
    assert b.retry_in() == 0  # still closed
    b.record_failure()
    clock.now += 0.5
    assert b.retry_in() == 1.5 and not b.allow()
    clock.now += 1.5
    assert b.retry_in() == 0 and b.state is BreakerState.HALF_OPEN


def test_without_a_cap_the_wait_does_not_grow() -> None:
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_timeout=3, clock=clock)
    b.record_failure()
    clock.now += 3
    assert b.allow()
    b.record_failure()
    assert b.retry_in() == 3
