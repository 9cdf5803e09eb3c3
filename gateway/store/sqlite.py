"""SQLite backend (aiosqlite, WAL): the embedded default for a single gateway instance.

One connection serves the process. SQLite allows one writer at a time anyway, so transactions are serialised
with an asyncio lock (``BEGIN IMMEDIATE`` takes the write lock up front, so two processes on the same file
wait on ``busy_timeout`` rather than failing half-way). Reads outside a transaction share the same lock: a
read between another coroutine's statements would otherwise see its uncommitted writes.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from gateway.store.base import (
    Executor,
    Migration,
    Row,
    Store,
    StoreConflict,
    StoreError,
    StoreUnavailable,
    split_statements,
)

# Row locks mean nothing here: the transaction already holds SQLite's single write lock.
_LOCK_SUFFIX = re.compile(r"\s+FOR\s+UPDATE(\s+SKIP\s+LOCKED)?\s*$", re.IGNORECASE)


def _sql(sql: str) -> str:
    return _LOCK_SUFFIX.sub("", sql)


def _wrap(exc: BaseException) -> StoreError:
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreConflict("uniqueness or integrity constraint violated")
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return StoreUnavailable("database is locked")
    if isinstance(exc, TimeoutError):
        return StoreUnavailable("database operation timed out")
    return StoreError(f"database error: {type(exc).__name__}")


class _Tx:
    def __init__(self, conn: aiosqlite.Connection, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            async with asyncio.timeout(self._timeout):
                cur = await self._conn.execute(_sql(sql), args)
                if cur.description is not None:
                    await cur.fetchall()
                return cur.rowcount
        except (sqlite3.Error, TimeoutError) as exc:
            raise _wrap(exc) from None

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        try:
            async with asyncio.timeout(self._timeout):
                cur = await self._conn.execute(_sql(sql), args)
                rows = await cur.fetchall()
                cols = [d[0] for d in cur.description or ()]
        except (sqlite3.Error, TimeoutError) as exc:
            raise _wrap(exc) from None
        return [dict(zip(cols, r, strict=True)) for r in rows]


class SqliteStore(Store):
    dialect = "sqlite"

    def __init__(self, path: str, *, command_timeout: float = 10.0) -> None:
        self.path = path
        self._timeout = command_timeout
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
            await conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
            await conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise _wrap(exc) from None
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    def _c(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreUnavailable("store is closed")
        return self._conn

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._lock:
            return await _Tx(self._c(), self._timeout).execute(sql, *args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with self._lock:
            return await _Tx(self._c(), self._timeout).fetchone(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            return await _Tx(self._c(), self._timeout).fetchall(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._lock:
            conn = self._c()
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _wrap(exc) from None
            try:
                yield _Tx(conn, self._timeout)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    await conn.execute("ROLLBACK")
                    raise _wrap(exc) from None

    async def _apply_migrations(self, migrations: list[Migration]) -> list[int]:
        applied: list[int] = []
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            done = {int(r["version"]) for r in await tx.fetchall("SELECT version FROM schema_migrations")}
            for mig in migrations:
                if mig.version in done:
                    continue
                for stmt in split_statements(self.render(mig.sql)):
                    await tx.execute(stmt)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    mig.version,
                    mig.name,
                    time.time(),
                )
                applied.append(mig.version)
        return applied
