"""PostgreSQL backend (asyncpg, pooled): for several gateway instances sharing one database.

Queries arrive with ``?`` placeholders and are rewritten to ``$n`` once per distinct statement. Connection
failures and timeouts become :class:`StoreUnavailable` (the HTTP layer answers 503 with a ``say``); the pool
reconnects by itself when the server comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from typing import Any

import asyncpg

from gateway.store.base import (
    Executor,
    Row,
    Store,
    StoreConflict,
    StoreError,
    StoreUnavailable,
)
from gateway.store.guard import guard_args

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
        | asyncpg.AdminShutdownError
        | asyncpg.InternalClientError,
    ):
        return StoreUnavailable(f"database unavailable: {type(exc).__name__}")
    return StoreError(f"database error: {type(exc).__name__}")


# InternalClientError: asyncpg found a connection in an impossible protocol state (seen when the server
# restarts under load: "cannot switch to state 15; another operation is in progress"). It is not a
# PostgresError, so without it here it escaped as a bare exception (a 500) instead of a 503.
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)


class _Conn:
    def __init__(self, conn: Any, timeout: float) -> None:
        self._conn = conn
        self._timeout = timeout

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            status: str = await self._conn.execute(_sql(sql), *guard_args(args, sql), timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        try:
            rec = await self._conn.fetchrow(_sql(sql), *guard_args(args, sql), timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        return dict(rec) if rec is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        try:
            recs = await self._conn.fetch(_sql(sql), *guard_args(args, sql), timeout=self._timeout)
        except _ERRORS as exc:
            raise _wrap(exc) from None
        return [dict(r) for r in recs]


async def _reset_if_dirty(conn: Any) -> None:
    """asyncpg resets every connection on release (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL): one more
    round trip per statement for state the gateway never creates (its advisory locks are transaction-scoped,
    it opens no cursors, listens to nothing, sets nothing). Reset only a connection left inside a transaction."""
    if conn.is_in_transaction():
        await conn.reset()


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
                reset=_reset_if_dirty,
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
        broken = False
        try:
            yield conn
        except StoreUnavailable:
            broken = True
            raise
        finally:
            if broken:
                # The connection failed mid-operation: never hand it to the next request (it may be half-way
                # through a protocol exchange); the pool opens a fresh one when the server is back. A connection
                # the server closed was already detached by the pool, and says so with an InterfaceError.
                with suppress(*_ERRORS):
                    conn.terminate()
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

    async def _lock_for_migrations(self, tx: Executor) -> None:
        # Several instances may start together: one migrates, the others wait here, then see it done.
        await tx.execute("SELECT pg_advisory_xact_lock(?)", _MIGRATION_LOCK_ID)
