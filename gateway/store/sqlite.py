"""SQLite backend (stdlib ``sqlite3``, WAL): the embedded default for a single gateway instance.

Statements run synchronously on the event loop's thread. That is deliberate: the gateway's statements are
small, indexed reads and writes on a local file (tens of microseconds each, measured by
``benchmarks/load.py``), while handing each one to a worker thread costs more than the statement itself and,
worse, keeps the write lock held across event-loop scheduling delays under load. Two guards keep a statement
from stalling the loop: ``busy_timeout`` bounds waiting for another process's write lock, and a progress
handler aborts any statement running longer than ``command_timeout``. (Several gateway processes should share
PostgreSQL, not one SQLite file.) The one slow operation, the WAL checkpoint with its fsync, is taken off the
loop: automatic checkpoints are disabled on the loop's connection and a background thread runs passive
checkpoints on its own connection every ``CHECKPOINT_INTERVAL`` seconds (measured: an on-loop checkpoint put
stalls of hundreds of milliseconds into the latency tail).

One connection serves the process. Transactions take an asyncio lock (a transaction body may await between
statements, and another coroutine's statement must not land inside it) and ``BEGIN IMMEDIATE`` (SQLite's
write lock up front, so a second process waits on ``busy_timeout`` instead of failing half-way).
Statements outside a transaction take the same lock for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gateway.store.base import (
    Executor,
    Row,
    Store,
    StoreConflict,
    StoreError,
    StoreUnavailable,
)
from gateway.store.guard import guard_args

# Row locks mean nothing here: the transaction already holds SQLite's single write lock.
_LOCK_SUFFIX = re.compile(r"\s+FOR\s+UPDATE(\s+SKIP\s+LOCKED)?\s*$", re.IGNORECASE)
# How often (in SQLite VM instructions) the progress handler checks the statement deadline.
_PROGRESS_STEPS = 10_000
#: Seconds between background WAL checkpoints.
CHECKPOINT_INTERVAL = 1.0
log = logging.getLogger("voicepay.store")


def _sql(sql: str) -> str:
    return _LOCK_SUFFIX.sub("", sql)


def _wrap(exc: BaseException) -> StoreError:
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreConflict("uniqueness or integrity constraint violated")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreUnavailable("database is locked")
        if "interrupted" in text:
            return StoreUnavailable("database operation timed out")
    return StoreError(f"database error: {type(exc).__name__}")


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class _Tx:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def execute(self, sql: str, *args: Any) -> int:
        return self._store._run(sql, args, fetch=False)[0]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = self._store._run(sql, args, fetch=True)[1]
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return self._store._run(sql, args, fetch=True)[1]


class SqliteStore(Store):
    dialect = "sqlite"

    def __init__(self, path: str, *, command_timeout: float = 10.0) -> None:
        self.path = path
        self._timeout = command_timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._deadline = 0.0
        self._tx = _Tx(self)
        self._checkpointer: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._checkpoint_conn: sqlite3.Connection | None = None

    async def connect(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.row_factory = _dict_row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
            conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.set_progress_handler(self._past_deadline, _PROGRESS_STEPS)
            if self.path != ":memory:":
                conn.execute("PRAGMA wal_autocheckpoint=0")  # the background checkpointer does it
        except sqlite3.Error as exc:
            raise _wrap(exc) from None
        self._conn = conn
        if self.path != ":memory:":
            self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="sqlite-checkpoint")

    def _checkpoint(self) -> None:
        """Runs in a worker thread, on its own connection: PASSIVE never blocks the loop's writers."""
        if self._checkpoint_conn is None:
            self._checkpoint_conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._checkpoint_conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _checkpoint_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), CHECKPOINT_INTERVAL)
                return
            try:
                await asyncio.to_thread(self._checkpoint)
            except sqlite3.Error:
                log.warning("WAL checkpoint failed; will retry", exc_info=True)

    def _past_deadline(self) -> int:
        # Non-zero aborts the running statement with "interrupted".
        return 1 if time.monotonic() > self._deadline else 0

    async def close(self) -> None:
        if self._checkpointer is not None:
            # Let a checkpoint running in its thread finish before its connection is closed.
            self._stopping.set()
            await self._checkpointer
            self._checkpointer = None
        if self._conn is not None:
            # A last passive checkpoint so the WAL does not grow across restarts.
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
            self._conn = None
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None

    def _run(self, sql: str, args: tuple[Any, ...], *, fetch: bool) -> tuple[int, list[Row]]:
        conn = self._conn
        if conn is None:
            raise StoreUnavailable("store is closed")
        self._deadline = time.monotonic() + self._timeout
        try:
            cur = conn.execute(_sql(sql), guard_args(args, sql))
            rows: list[Row] = cur.fetchall() if fetch or cur.description is not None else []
            return cur.rowcount, rows
        except sqlite3.Error as exc:
            raise _wrap(exc) from None

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._lock:
            return self._run(sql, args, fetch=False)[0]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with self._lock:
            rows = self._run(sql, args, fetch=True)[1]
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            return self._run(sql, args, fetch=True)[1]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._lock:
            self._run("BEGIN IMMEDIATE", (), fetch=False)
            try:
                yield self._tx
            except BaseException:
                self._rollback()
                raise
            try:
                self._run("COMMIT", (), fetch=False)
            except StoreError:
                self._rollback()
                raise

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None and conn.in_transaction:
            # If this fails the connection is unusable or already rolled back: nothing more to undo.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    async def _lock_for_migrations(self, tx: Executor) -> None:
        """Nothing to add: the transaction's ``BEGIN IMMEDIATE`` already holds SQLite's only write lock."""
