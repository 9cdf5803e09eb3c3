"""The durable job queue on both stores: claiming, leases, backoff, dead letters, several workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from gateway import jobs
from gateway.store import Store, open_store
from tests.gateway.webhooks.conftest import wait_for


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    s = await open_store(store_url)
    await s.migrate()
    yield s
    await s.close()


async def test_claimed_job_is_not_claimed_again_until_its_lease_passes(store: Store) -> None:
    jid = await jobs.enqueue(store, "k", "acme", "r1")
    [job] = await jobs.claim(store, ["k"], limit=5, lease_seconds=60, worker_id="w1")
    assert (job.id, job.attempts) == (jid, 1)
    assert await jobs.claim(store, ["k"], limit=5, lease_seconds=60, worker_id="w2") == []
    # w1 "crashes": once its lease has passed the job is claimed again, and w1's late answer is fenced off.
    [again] = await jobs.claim(store, ["k"], limit=5, lease_seconds=60, worker_id="w2", now=job_time(120))
    assert (again.id, again.attempts, again.locked_by) == (jid, 2, "w2")
    assert await jobs.complete(store, job) is False
    assert await jobs.complete(store, again) is True
    assert await store.fetchall("SELECT id FROM jobs") == []


def job_time(ahead: float) -> float:
    import time

    return time.time() + ahead


async def test_failed_job_waits_for_backoff_then_dead_letters(store: Store) -> None:
    await jobs.enqueue(store, "k", "acme", "r1")
    policy = jobs.exponential_backoff(2, 30.0, 60.0)
    [job] = await jobs.claim(store, ["k"], limit=1, lease_seconds=60, worker_id="w")
    assert await jobs.fail(store, job, "boom", policy(job.attempts))
    assert await jobs.claim(store, ["k"], limit=1, lease_seconds=60, worker_id="w") == []  # backing off
    [job2] = await jobs.claim(store, ["k"], limit=1, lease_seconds=60, worker_id="w", now=job_time(31))
    assert job2.attempts == 2
    assert policy(job2.attempts) is None
    assert await jobs.fail(store, job2, "boom", None)
    row = await store.fetchone("SELECT state, last_error FROM jobs")
    assert row == {"state": "dead", "last_error": "boom"}
    assert await jobs.claim(store, ["k"], limit=1, lease_seconds=60, worker_id="w", now=job_time(10_000)) == []


def test_retry_policies() -> None:
    exp = jobs.exponential_backoff(4, 2.0, 5.0)
    assert [exp(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 5.0, None]
    sched = jobs.schedule_backoff([5, 30, 120])
    assert [sched(n) for n in (1, 2, 3, 4)] == [5.0, 30.0, 120.0, None]


async def test_two_workers_on_separate_connections_never_run_a_job_twice(store: Store, store_url: str) -> None:
    """Two workers, each with its own store (own pool on PostgreSQL: SKIP LOCKED does the sharing)."""
    n = 60
    async with store.transaction() as tx:
        for i in range(n):
            await jobs.enqueue(tx, "work", "acme", f"r{i}")
    runs: Counter[str] = Counter()
    by_worker: Counter[str] = Counter()

    def handler_for(name: str) -> jobs.JobHandler:
        async def handle(job: jobs.Job) -> None:
            runs[job.ref] += 1
            by_worker[name] += 1
            await asyncio.sleep(0.005)  # hold the job a moment so claims really overlap

        return handle

    second = await open_store(store_url)
    workers = [
        jobs.Worker(s, {"work": handler_for(name)}, retry={"work": jobs.exponential_backoff(3, 0.01, 0.01)},
                    concurrency=4, poll_interval=0.02, name=name)
        for s, name in ((store, "a"), (second, "b"))
    ]
    try:
        for w in workers:
            w.start()

        async def drained() -> bool:
            return await store.fetchall("SELECT id FROM jobs") == []

        await wait_for(drained, what="queue drained")
    finally:
        for w in workers:
            await w.stop()
        await second.close()
    assert len(runs) == n
    assert set(runs.values()) == {1}
    assert sum(by_worker.values()) == n


async def test_stop_hands_running_jobs_back_untried(store: Store) -> None:
    await jobs.enqueue(store, "slow", "acme", "r1")
    started = asyncio.Event()

    async def slow(job: jobs.Job) -> None:
        started.set()
        await asyncio.sleep(30)

    w = jobs.Worker(store, {"slow": slow}, retry={"slow": jobs.schedule_backoff([])}, poll_interval=0.02,
                    stop_timeout=0.05)
    w.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    await w.stop()
    row = await store.fetchone("SELECT state, attempts FROM jobs")
    assert row == {"state": "queued", "attempts": 0}
