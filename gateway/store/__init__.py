"""One async store interface, two backends: SQLite (embedded default) and PostgreSQL (several instances).

Queries are written once, in portable SQL with ``?`` placeholders; the PostgreSQL backend rewrites them to
``$1, $2, ...``. Rows come back as plain dicts. Feature modules own their queries (``gateway/idempotency.py``,
``gateway/audit.py``, ...); this package owns connections, transactions and migrations.

Portable SQL rules used throughout: ``INSERT ... ON CONFLICT DO NOTHING`` and ``RETURNING`` (SQLite >= 3.35),
booleans as INTEGER 0/1, times as DOUBLE PRECISION epoch seconds, JSON as TEXT. ``FOR UPDATE`` / ``SKIP
LOCKED`` suffixes are dropped on SQLite, where a write transaction already holds the only write lock.
"""

from __future__ import annotations

from gateway.store.base import (
    Executor,
    Row,
    Store,
    StoreConflict,
    StoreError,
    StoreUnavailable,
)


async def open_store(
    url: str, *, pool_min_size: int = 1, pool_max_size: int = 10, command_timeout: float = 10.0
) -> Store:
    """Open (and connect) the store named by ``url``; does not migrate."""
    if url.startswith("sqlite:///"):
        from gateway.store.sqlite import SqliteStore

        # sqlite:///var/x.sqlite3 is relative to the working directory, sqlite:////abs/x.sqlite3 absolute.
        store: Store = SqliteStore(url[len("sqlite:///") :], command_timeout=command_timeout)
    elif url.startswith(("postgresql://", "postgres://")):
        from gateway.store.postgres import PostgresStore

        store = PostgresStore(
            url, min_size=pool_min_size, max_size=pool_max_size, command_timeout=command_timeout
        )
    else:
        raise StoreError("store url must start with sqlite:/// or postgresql://")
    await store.connect()
    return store


__all__ = ["Executor", "Row", "Store", "StoreConflict", "StoreError", "StoreUnavailable", "open_store"]
