"""Deadline mode: answer within the caller's turn, finish the work in the background.

A phone bot has about a second before the caller hears dead air. The bot may send a turn budget
(``X-Deadline-Ms``, or the tenant's ``default_deadline_ms``). When an action is not finished by then, the
gateway answers at once (HTTP 202)::

    {"ok": true, "pending": true, "action": "refunds.create", "operation_id": "op_...",
     "say": "One moment while I check that."}

and the action keeps running in a task the app holds (awaited, never cancelled, on shutdown). The deadline
only stops the *waiting*: the work keeps its own limit (``server.request_timeout``), so a write is never
abandoned half-way and never started twice. The outcome is stored under the same idempotency record, and the
bot gets it three ways:

* repeating the call with the same key: the final answer once ready (a replay), or ``pending`` again (after
  waiting up to its own deadline for the work when it runs in this process);
* ``operations.get {"operation_id": ...}``;
* an ``operation.completed`` notification (signed delivery, :mod:`gateway.notifications`) carrying the final
  answer, the call id and the action.

Record states: ``in_flight`` (running, the caller still waiting), ``pending`` (running, the caller was told
``pending``), ``done`` (final answer stored), ``retry`` (a pending operation ended in a retryable failure such
as ``provider_outcome_unknown``: its answer is kept for ``operations.get``, and a retry with the same key runs
again with the same provider keys, so the provider replays). A pending record whose process died is an
in-flight record whose lease lapses: the retry takes it over (see :mod:`gateway.idempotency`).

Reads sent without a key still get an operation id when they go pending: a record under a fresh random key
is created at that moment (never for an answer given in time, which costs nothing extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from gateway import speech
from gateway.store import Executor, Store

log = logging.getLogger("voicepay.operations")

#: What the bot says while the work goes on: short, and fine to say twice.
PENDING_SAY = "One moment while I check that."
#: Header carrying the caller's turn budget in milliseconds.
DEADLINE_HEADER = "X-Deadline-Ms"
NOTIFICATION_KIND = "operation.completed"


def operation_id(tenant_id: str, action: str, idem_key: str) -> str:
    """Stable per idempotency record, so a retry after a restart names the same operation; no personal data."""
    material = "\x1f".join(("op", tenant_id, action, idem_key))
    return "op_" + hashlib.sha256(material.encode()).hexdigest()[:32]


def pending_body(action: str, op_id: str) -> dict[str, Any]:
    say = speech.say("operation.pending")
    return {
        "ok": True, "pending": True, "action": action, "operation_id": op_id, "say": say,
        "say_ssml": speech.ssml(say),
    }


@dataclass(slots=True)
class Operation:
    """One action run that may outlive its request."""

    id: str
    action: str
    #: The idempotency key the outcome is stored under (set before ``pending`` for keyless reads).
    key: str | None
    #: The caller was answered ``pending``: the outcome must be kept (and notified), never released.
    pending: bool = False
    #: The work has finished and is recording its outcome: waiting a little longer beats a ``pending``.
    recording: bool = False
    #: Set once the record is marked ``pending`` in the store, so the outcome never lands before the mark.
    marked: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[tuple[int, dict[str, Any], dict[str, str]]] | None = None


class Operations:
    """The background operations of this process: started by the dispatcher, drained on shutdown."""

    def __init__(self) -> None:
        self._running: dict[str, Operation] = {}

    def start(
        self, op: Operation, work: Coroutine[Any, Any, tuple[int, dict[str, Any], dict[str, str]]]
    ) -> asyncio.Task[tuple[int, dict[str, Any], dict[str, str]]]:
        task = asyncio.create_task(work, name=f"operation-{op.action}")
        op.task = task
        self._running[op.id] = op
        task.add_done_callback(lambda _t: self._running.pop(op.id, None))
        # A failure inside the task is answered by the task itself; consume any exception so none is lost.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    def running(self, op_id: str) -> Operation | None:
        return self._running.get(op_id)

    def __len__(self) -> int:
        return len(self._running)

    async def drain(self, within: float) -> None:
        """Let every running operation finish (bounded by ``within`` seconds): their outcomes are owed to a caller."""
        tasks = [op.task for op in self._running.values() if op.task is not None]
        if not tasks:
            return
        log.info("waiting for background operations", extra={"count": len(tasks)})
        _done, late = await asyncio.wait(tasks, timeout=within)
        for task in late:
            # Past the bound (a hung store): the record stays in flight, its lease lapses, a retry with the
            # same key re-runs with the same provider keys.
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def mark_pending(self, store: Store, tenant_id: str, op: Operation, fp: str, request_id: str,
                           ttl: float, lease: float) -> None:
        """Record that the caller was told ``pending``; for a keyless read, create its record now."""
        try:
            if op.key is not None:
                await store.execute(
                    "UPDATE idempotency SET state = 'pending' "
                    "WHERE tenant_id = ? AND action = ? AND idem_key = ? AND state = 'in_flight'",
                    tenant_id, op.action, op.key,
                )
            else:
                now = time.time()
                op.key = "op:" + secrets.token_hex(16)
                await store.execute(
                    "INSERT INTO idempotency (tenant_id, action, idem_key, fingerprint, state, lease_until, "
                    "request_id, created_at, expires_at, operation_id) "
                    "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                    tenant_id, op.action, op.key, fp, now + lease, request_id, now, now + ttl, op.id,
                )
        finally:
            op.marked.set()


@dataclass(frozen=True, slots=True)
class StoredOperation:
    id: str
    action: str
    state: str
    status: int | None
    response: dict[str, Any] | None


async def fetch(db: Executor, tenant_id: str, op_id: str) -> StoredOperation | None:
    row = await db.fetchone(
        "SELECT action, state, status_code, response FROM idempotency WHERE tenant_id = ? AND operation_id = ?",
        tenant_id, op_id,
    )
    if row is None:
        return None
    response = json.loads(str(row["response"])) if row["response"] is not None else None
    return StoredOperation(
        id=op_id,
        action=str(row["action"]),
        state=str(row["state"]),
        status=int(row["status_code"]) if row["status_code"] is not None else None,
        response=response,
    )
