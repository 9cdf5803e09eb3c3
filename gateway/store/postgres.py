"""PostgreSQL backend (asyncpg, pooled): for several gateway instances sharing one database.

Queries arrive with ``?`` placeholders and are rewritten to ``$n`` once per distinct statement. Connection
failures and timeouts become :class:`StoreUnavailable` (the HTTP layer answers 503 with a ``say``); the pool
reconnects by itself when the server comes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from typing import Any

import asyncpg

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

# Any advisory-lock id will do as long as every instance uses the same one for migrations.
_MIGRATION_LOCK_ID = 0x766F69636570  # "voicep"


@lru_cache(maxsize=1024)
def _sql(sql: str) -> str:
    out: list[str] = []
    n = 0
    for ch in sql:
        if ch == "?":
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    return "".join(out)


def _wrap(exc: BaseException) -> StoreError:
    if isinstance(exc, asyncpg.UniqueViolationError | asyncpg.IntegrityConstraintViolationError):
        return StoreConflict("uniqueness or integrity constraint violated")
    if isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError,
    ):
        return StoreUnavailable(f"database unavailable: {type(exc).__name__}")
    return StoreError(f"database error: {type(exc).__name__}")


_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class _Conn:
    def __init__(self, conn: Any, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            status: str = await self._conn.execute(_sql(sql), *args, timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        try:
            rec = await self._conn.fetchrow(_sql(sql), *args, timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        return dict(rec) if rec is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        try:
            recs = await self._conn.fetch(_sql(sql), *args, timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        return [dict(r) for r in recs]


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(
        self, dsn: str, *, min_size: int = 1, max_size: int = 10, command_timeout: float = 10.0
    ) -> None:
        self._dsn = dsn
        self._min = min_size
        self._max = max_size
        self._timeout = command_timeout
        self._pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min,
                max_size=self._max,
                command_timeout=self._timeout,
                timeout=self._timeout,
            )
        except _ERRORS as exc:
            raise _wrap(exc) from None

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), timeout=self._timeout)
            except TimeoutError:
                self._pool.terminate()
            self._pool = None

    def _p(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreUnavailable("store is closed")
        return self._pool

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Any]:
        try:
            conn = await self._p().acquire(timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        try:
            yield conn
        finally:
            with suppress(*_ERRORS):
                await self._p().release(conn)

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._acquire() as conn:
            return await _Conn(conn, self._timeout).execute(sql, *args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with self._acquire() as conn:
            return await _Conn(conn, self._timeout).fetchone(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._acquire() as conn:
            return await _Conn(conn, self._timeout).fetchall(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._acquire() as conn:
            try:
                tx = conn.transaction()
                await tx.start()
            except _ERRORS as exc:
                raise _wrap(exc) from None
            try:
                yield _Conn(conn, self._timeout)
            except BaseException:
                with suppress(*_ERRORS):
                    await tx.rollback()
                raise
            else:
                try:
                    await tx.commit()
                except _ERRORS as exc:
                    raise _wrap(exc) from None

    async def _apply_migrations(self, migrations: list[Migration]) -> list[int]:
        applied: list[int] = []
        async with self.transaction() as tx:
            # Several instances may start together: one migrates, the others wait here, then see it done.
            await tx.execute("SELECT pg_advisory_xact_lock(?)", _MIGRATION_LOCK_ID)
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
