"""The append-only audit log, hash-chained per tenant.

Each row stores ``hash = sha256(canonical JSON of [prev_hash, seq, fields...])``. Editing a row breaks its
hash; deleting one breaks the next row's ``prev_hash`` and the sequence; deleting the newest rows is caught by
the per-tenant head (``audit_heads``), which records the last sequence number and hash. (Someone who can
rewrite the whole database can rewrite the chain too: ship ``voicepay audit verify`` output, or the head
hash, somewhere else to anchor it.)

Writers serialise on the tenant's head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer
lock), so concurrent instances never fork the chain. Within a process, :class:`AuditWriter` commits the
entries of concurrent requests together (group commit): one transaction and one hold of the head lock per
batch instead of per request, which is what keeps the lock from becoming the queue under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.store import Executor, Store
from gateway.store.guard import guard_text

GENESIS = "0" * 64
log = logging.getLogger("voicepay.audit")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    tenant_id: str
    action: str
    params: dict[str, Any]
    outcome: str
    request_id: str
    agent_key_id: str | None = None
    error_code: str | None = None
    provider_ids: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _row_hash(prev_hash: str, seq: int, row: dict[str, Any]) -> str:
    material = [
        prev_hash,
        seq,
        row["tenant_id"],
        row["agent_key_id"],
        row["action"],
        row["params"],
        row["outcome"],
        row["error_code"],
        row["provider_ids"],
        row["request_id"],
        row["call_id"],
        repr(float(row["created_at"])),
    ]
    return hashlib.sha256(_dumps(material).encode()).hexdigest()


async def append(tx: Executor, entry: AuditEntry) -> int:
    """Append ``entry`` inside the caller's transaction; returns its sequence number."""
    # One round trip creates the tenant's head if needed, locks it until commit (the no-op update takes the
    # row lock on PostgreSQL) and returns it: writers hold the lock as briefly as possible.
    head = await tx.fetchone(
        "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, 0, ?) "
        "ON CONFLICT (tenant_id) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash",
        entry.tenant_id,
        GENESIS,
    )
    assert head is not None
    seq = int(head["seq"]) + 1
    row = {
        "tenant_id": entry.tenant_id,
        "agent_key_id": entry.agent_key_id,
        "action": entry.action,
        "params": _dumps(entry.params),
        "outcome": entry.outcome,
        "error_code": entry.error_code,
        "provider_ids": _dumps(entry.provider_ids),
        "request_id": entry.request_id,
        "call_id": entry.call_id,
        "created_at": round(time.time(), 6),
    }
    # The row is hashed as stored: the store's guard would redact card data after hashing and break the chain.
    row = {k: guard_text(v) if isinstance(v, str) else v for k, v in row.items()}
    digest = _row_hash(str(head["hash"]), seq, row)
    await tx.execute(
        "INSERT INTO audit_log (tenant_id, seq, prev_hash, hash, agent_key_id, action, params, outcome, "
        "error_code, provider_ids, request_id, call_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row["tenant_id"],
        seq,
        head["hash"],
        digest,
        row["agent_key_id"],
        row["action"],
        row["params"],
        row["outcome"],
        row["error_code"],
        row["provider_ids"],
        row["request_id"],
        row["call_id"],
        row["created_at"],
    )
    await tx.execute(
        "UPDATE audit_heads SET seq = ?, hash = ? WHERE tenant_id = ?", seq, digest, entry.tenant_id
    )
    return seq


#: Runs inside the entry's transaction, after the row is appended (e.g. storing the idempotent response).
AlsoInTx = Callable[[Executor], Awaitable[None]]


async def record(store: Store, entry: AuditEntry, also: AlsoInTx | None = None) -> int:
    """Append ``entry`` (and run ``also``) in a transaction of its own; returns its sequence number."""
    async with store.transaction() as tx:
        seq = await append(tx, entry)
        if also is not None:
            await also(tx)
        return seq
_Item = tuple[AuditEntry, AlsoInTx | None, "asyncio.Future[None]"]


class AuditWriter:
    """Group commit: requests hand their entry to one writer task, which appends every entry waiting at that
    moment in a single transaction. Each request still waits until *its* entry is committed, so an answered
    call is an audited call; what changes is that concurrent requests share one commit and one hold of the
    tenant's head lock."""

    MAX_BATCH = 256

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # On SQLite a transaction runs without yielding (statements execute on the loop thread), so no lock is
        # ever held across an await: appending directly is cheaper than the hop through the writer task.
        if self._store.dialect != "sqlite":
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def append(self, entry: AuditEntry, also: AlsoInTx | None = None) -> None:
        """Append ``entry`` (and run ``also`` in the same transaction); returns once committed."""
        if self._task is None or self._task.done():
            await record(self._store, entry, also)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # If the caller is gone by the time the write fails, the error is still consumed (and was logged).
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.put_nowait((entry, also, future))
        await asyncio.shield(future)  # a caller that goes away must not cancel the write of its entry

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch: list[_Item] = []
            stop = first is None
            if first is not None:
                batch.append(first)
            while len(batch) < self.MAX_BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            if batch:
                await self._commit(batch)
            if stop:
                return

    async def _commit(self, batch: list[_Item]) -> None:
        try:
            await self._write(batch)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch, exc)
                return
            # One bad entry must not fail its neighbours: write them one by one.
            log.warning("audit batch failed (%s); retrying its %d entries one by one", type(exc).__name__, len(batch))
            for item in batch:
                try:
                    await self._write([item])
                except Exception as one:
                    _settle([item], one)
                else:
                    _settle([item], None)
        else:
            _settle(batch, None)

    async def _write(self, batch: list[_Item]) -> None:
        async with self._store.transaction() as tx:
            for entry, also, _ in batch:
                await append(tx, entry)
                if also is not None:
                    await also(tx)


def _settle(batch: list[_Item], exc: BaseException | None) -> None:
    for _, _, future in batch:
        if future.done():
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    tenant_id: str
    seq: int
    problem: str


async def verify(store: Store, tenant_id: str | None = None) -> tuple[int, list[ChainProblem]]:
    """Check every chain (or one tenant's). Returns (rows checked, problems found)."""
    if tenant_id:
        heads = await store.fetchall(
            "SELECT tenant_id, seq, hash FROM audit_heads WHERE tenant_id = ?", tenant_id
        )
    else:
        heads = await store.fetchall("SELECT tenant_id, seq, hash FROM audit_heads ORDER BY tenant_id")
    problems: list[ChainProblem] = []
    checked = 0
    for head in heads:
        tid = str(head["tenant_id"])
        rows = await store.fetchall("SELECT * FROM audit_log WHERE tenant_id = ? ORDER BY seq", tid)
        prev, expected_seq = GENESIS, 1
        for row in rows:
            checked += 1
            seq = int(row["seq"])
            if seq != expected_seq:
                problems.append(
                    ChainProblem(tid, expected_seq, f"rows {expected_seq}..{seq - 1} are missing")
                )
            if row["prev_hash"] != prev:
                problems.append(ChainProblem(tid, seq, "does not link to the previous row"))
            if _row_hash(str(row["prev_hash"]), seq, row) != row["hash"]:
                problems.append(ChainProblem(tid, seq, "content does not match its hash (edited)"))
            prev, expected_seq = str(row["hash"]), seq + 1
        if int(head["seq"]) != expected_seq - 1 or str(head["hash"]) != prev:
            problems.append(
                ChainProblem(
                    tid, int(head["seq"]), "the newest rows are missing (head does not match the chain)"
                )
            )
    return checked, problems


async def tail(store: Store, tenant_id: str | None, limit: int = 20) -> list[dict[str, Any]]:
    cols = "tenant_id, seq, created_at, action, outcome, error_code, agent_key_id, request_id, call_id, provider_ids"
    if tenant_id:
        rows = await store.fetchall(
            f"SELECT {cols} FROM audit_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT ?",  # noqa: S608
            tenant_id,
            limit,
        )
    else:
        rows = await store.fetchall(f"SELECT {cols} FROM audit_log ORDER BY id DESC LIMIT ?", limit)  # noqa: S608
    return list(reversed(rows))
