"""A durable job queue in the store, and the worker that drains it.

A job is a row in ``jobs``: ``kind`` names its handler, ``ref`` points at the work (a webhook event row, a
notification). :func:`enqueue` takes an executor so a job is written in the *same transaction* as the thing
it refers to: an event that is stored always has its job, and an event that is not stored has none.

Claiming (:func:`claim`) selects due jobs ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several gateway
instances share the queue without two of them taking the same row; on SQLite the store's single write lock
does the same. A claimed job gets a *lease*; a job still ``running`` after its lease belongs to a worker that
died, and is claimed again. That is the crash story: an event persisted and acknowledged but never processed
(or half processed) is picked up by the next worker to start. Handlers are therefore written to be safe to
run twice (see :mod:`gateway.handlers`), and a handler is cut off at half the lease so a live worker never
has its job taken over.

Failures: the worker asks a per-kind :class:`RetryPolicy` for the delay before the next attempt; ``None``
means the budget is spent and the job is dead-lettered (``state = 'dead'``, kept for replay). A handler may
raise :class:`PermanentJobError` to dead-letter at once. Finished jobs are deleted: the record of what was
done lives with the work itself (``webhook_events.status``, ``notifications.state``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.store import Executor, Store, StoreError

log = logging.getLogger("voicepay.jobs")

__all__ = [
    "Job",
    "JobHandler",
    "PermanentJobError",
    "RetryPolicy",
    "Worker",
    "claim",
    "complete",
    "enqueue",
    "exponential_backoff",
    "fail",
    "release",
    "schedule_backoff",
]


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    tenant_id: str
    ref: str
    attempts: int  # including the current one
    locked_by: str


class PermanentJobError(Exception):
    """Retrying cannot help (the referenced row is gone, the payload is unusable): dead-letter now."""


JobHandler = Callable[[Job], Awaitable[None]]
#: ``attempts`` so far (>= 1) -> seconds until the next attempt, or ``None`` to dead-letter.
RetryPolicy = Callable[[int], float | None]
#: Called after a failed attempt: (job, short error, dead).
FailureHook = Callable[[Job, str, bool], Awaitable[None]]


def exponential_backoff(max_attempts: int, base: float, cap: float) -> RetryPolicy:
    def policy(attempts: int) -> float | None:
        if attempts >= max_attempts:
            return None
        return float(min(cap, base * (2 ** (attempts - 1))))

    return policy


def schedule_backoff(schedule: Sequence[float]) -> RetryPolicy:
    """Retry after ``schedule[0]``, then ``schedule[1]``...; after the last delay, dead-letter."""
    delays = list(schedule)

    def policy(attempts: int) -> float | None:
        return float(delays[attempts - 1]) if attempts - 1 < len(delays) else None

    return policy


async def enqueue(db: Executor, kind: str, tenant_id: str, ref: str, *, run_at: float | None = None) -> int:
    now = time.time()
    row = await db.fetchone(
        "INSERT INTO jobs (kind, tenant_id, ref, state, attempts, run_at, created_at, updated_at) "
        "VALUES (?, ?, ?, 'queued', 0, ?, ?, ?) RETURNING id",
        kind,
        tenant_id,
        ref,
        now if run_at is None else run_at,
        now,
        now,
    )
    assert row is not None
    return int(row["id"])


async def requeue(db: Executor, kind: str, tenant_id: str, ref: str) -> None:
    """Queue ``ref`` again (a replay): one live job per ref, so a dead-lettered job is dropped and a new one is
    enqueued unless one is already queued or running."""
    await db.execute("DELETE FROM jobs WHERE kind = ? AND ref = ? AND state = 'dead'", kind, ref)
    live = await db.fetchone(
        "SELECT id FROM jobs WHERE kind = ? AND ref = ? AND state IN ('queued', 'running')", kind, ref
    )
    if live is None:
        await enqueue(db, kind, tenant_id, ref)


def replay_selection(
    id_column: str, id_value: str | None, time_column: str, since: float | None, tenant_id: str | None
) -> tuple[str, list[Any]]:
    """The WHERE clause (fixed column names, bound values) choosing what a replay command re-queues: exactly
    one of an id or a start time, optionally one tenant."""
    if (id_value is None) == (since is None):
        raise ValueError("give exactly one of an id or a start time")
    where = [f"{id_column} = ?" if id_value is not None else f"{time_column} >= ?"]
    args: list[Any] = [id_value if id_value is not None else since]
    if tenant_id is not None:
        where.append("tenant_id = ?")
        args.append(tenant_id)
    return " AND ".join(where), args


async def queue_stats(db: Executor, now: float | None = None) -> tuple[int, float]:
    """(jobs waiting to run, age in seconds of the oldest one) for the queue-depth metrics."""
    row = await db.fetchone("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs WHERE state = 'queued'")
    n = int(row["n"]) if row else 0
    oldest = row["oldest"] if row else None
    age = ((time.time() if now is None else now) - float(oldest)) if oldest is not None else 0.0
    return n, max(0.0, age)


async def claim(
    store: Store, kinds: Sequence[str], *, limit: int, lease_seconds: float, worker_id: str, now: float | None = None
) -> list[Job]:
    """Take up to ``limit`` due jobs of ``kinds``: queued ones whose time has come, and running ones whose
    lease has passed (their worker died)."""
    if limit <= 0 or not kinds:
        return []
    t = time.time() if now is None else now
    marks = ", ".join("?" for _ in kinds)
    async with store.transaction() as tx:
        rows = await tx.fetchall(
            f"SELECT id FROM jobs WHERE kind IN ({marks}) AND "  # noqa: S608 (fixed fragments; values are bound parameters)
            "((state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until < ?)) "
            "ORDER BY run_at, id LIMIT ? FOR UPDATE SKIP LOCKED",
            *kinds,
            t,
            t,
            limit,
        )
        jobs: list[Job] = []
        for r in rows:
            got = await tx.fetchone(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?, locked_by = ?, "
                "updated_at = ? WHERE id = ? RETURNING id, kind, tenant_id, ref, attempts",
                t + lease_seconds,
                worker_id,
                t,
                r["id"],
            )
            if got is not None:
                jobs.append(
                    Job(int(got["id"]), got["kind"], got["tenant_id"], got["ref"], int(got["attempts"]), worker_id)
                )
    return jobs


# The ``locked_by`` + ``attempts`` guard fences a worker whose lease expired and whose job was taken over:
# its late update then matches nothing instead of overwriting the new owner's state.
_OWNED = "id = ? AND state = 'running' AND locked_by = ? AND attempts = ?"


async def complete(db: Executor, job: Job) -> bool:
    return await db.execute(f"DELETE FROM jobs WHERE {_OWNED}", job.id, job.locked_by, job.attempts) > 0  # noqa: S608 (fixed fragments; values are bound parameters)


async def fail(db: Executor, job: Job, error: str, delay: float | None) -> bool:
    """Record a failed attempt: requeue after ``delay`` seconds, or dead-letter when ``delay`` is None."""
    now = time.time()
    if delay is None:
        n = await db.execute(
            f"UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = ?, updated_at = ? WHERE {_OWNED}",  # noqa: S608 (fixed fragments; values are bound parameters)
            error[:500],
            now,
            job.id,
            job.locked_by,
            job.attempts,
        )
    else:
        n = await db.execute(
            "UPDATE jobs SET state = 'queued', run_at = ?, lease_until = NULL, last_error = ?, updated_at = ? "  # noqa: S608 (fixed fragments; values are bound parameters)
            f"WHERE {_OWNED}",
            now + delay,
            error[:500],
            now,
            job.id,
            job.locked_by,
            job.attempts,
        )
    return n > 0


async def release(db: Executor, job: Job) -> bool:
    """Hand a job back untried (shutdown): the attempt does not count."""
    return (
        await db.execute(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_until = NULL, updated_at = ? "  # noqa: S608 (fixed fragments; values are bound parameters)
            f"WHERE {_OWNED}",
            time.time(),
            job.id,
            job.locked_by,
            job.attempts,
        )
        > 0
    )


class Worker:
    """Claims jobs of some kinds and runs them, at most ``concurrency`` at a time.

    ``start()`` runs the loop as a task; ``wake()`` makes an idle loop look for work now (the webhook route
    calls it after committing); ``stop()`` stops claiming, lets running jobs finish for ``stop_timeout``
    seconds, then cancels the rest and hands their jobs back to the queue.
    """

    def __init__(
        self,
        store: Store,
        handlers: Mapping[str, JobHandler],
        *,
        retry: Mapping[str, RetryPolicy],
        on_failure: Mapping[str, FailureHook] | None = None,
        concurrency: int = 4,
        poll_interval: float = 1.0,
        lease_seconds: float = 300.0,
        stop_timeout: float = 10.0,
        name: str = "worker",
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.retry = dict(retry)
        self.on_failure = dict(on_failure or {})
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.stop_timeout = stop_timeout
        self.worker_id = f"{name}-{secrets.token_hex(6)}"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._loop_task = asyncio.create_task(self.run(), name=self.worker_id)
        return self._loop_task

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        kinds = list(self.handlers)
        while not self._stopping.is_set():
            free = self.concurrency - len(self._running)
            jobs: list[Job] = []
            if free > 0:
                try:
                    jobs = await claim(
                        self.store, kinds, limit=free, lease_seconds=self.lease_seconds, worker_id=self.worker_id
                    )
                except StoreError:
                    log.warning("job claim failed; will retry", exc_info=True)
            for job in jobs:
                task = asyncio.create_task(self._run_one(job), name=f"job-{job.id}")
                self._running.add(task)
                task.add_done_callback(self._done)
            if jobs and len(jobs) == free:
                await asyncio.sleep(0)  # more may be due: look again at once (after yielding)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free

    async def _run_one(self, job: Job) -> None:
        handler = self.handlers[job.kind]
        try:
            async with asyncio.timeout(self.lease_seconds / 2):
                await handler(job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(release(self.store, job))
            raise
        except Exception as exc:
            # The error's class (and a short message from our own code) only: never a payload.
            error = type(exc).__name__ if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"[:300]
            delay = None if isinstance(exc, PermanentJobError) else self.retry[job.kind](job.attempts)
            dead = delay is None
            log.warning(
                "job failed",
                extra={"job_id": job.id, "kind": job.kind, "attempt": job.attempts, "dead": dead,
                       "error": type(exc).__name__},
            )
            try:
                await fail(self.store, job, error, delay)
                hook = self.on_failure.get(job.kind)
                if hook is not None:
                    await hook(job, error, dead)
            except StoreError:
                log.warning("could not record job failure; the lease will expire and it will rerun", exc_info=True)
        else:
            try:
                await complete(self.store, job)
            except StoreError:
                log.warning("could not mark job done; it will rerun after its lease", exc_info=True)

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._loop_task, timeout=max(self.stop_timeout, 1.0))
        running = list(self._running)
        if running:
            _, pending = await asyncio.wait(running, timeout=self.stop_timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5.0)
