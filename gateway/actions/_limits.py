"""Money and security limits that hold under concurrency (DESIGN.md section 6).

A limit such as "2 refunds per customer in 30 days" or "3 failed verification attempts per call" is a count
of rows. Reading the count and then writing the new row as two steps lets N concurrent requests (on one
instance or several) all read the same count and all pass. So every limit here is checked and consumed in
one write transaction that first takes a lock named after what is limited:

* PostgreSQL: a transaction-scoped advisory lock (``pg_advisory_xact_lock``) per limited subject (one
  customer of one tenant, one call). It is held until commit, so the next request's count already sees the
  row this one wrote; every instance on the same database contends for the same lock. Advisory locks rather
  than ``SELECT ... FOR UPDATE`` on a counter row: the limits are sliding windows (a count of recent rows, not
  a number that could live in one row), and a lock row per call would be a table that only ever grows.
* SQLite: the store's transactions start with ``BEGIN IMMEDIATE``, which takes the database's only write
  lock before the first read (other processes wait on ``busy_timeout``; other coroutines of the same process
  on the store's asyncio lock). Nothing more is needed, and the lock names are ignored.

Lock ids are a 64-bit hash of the name: a collision only makes two unrelated subjects wait for each other
briefly, it never lets a limit through. Locks are taken in sorted order so two transactions that need the
same pair (a call and a customer) cannot deadlock.

A transaction holding these locks must not wait on the network (no provider call inside): on SQLite it holds
every writer of the database.
"""

from __future__ import annotations

import hashlib

from gateway.store import Executor, Store


def lock_id(name: str) -> int:
    """A signed 64-bit advisory-lock id for ``name`` (PostgreSQL's ``bigint``)."""
    digest = hashlib.sha256(("voicepay-limit\x1f" + name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_subjects(store: Store, tx: Executor, *names: str) -> None:
    """Serialise check-and-consume for each named subject until ``tx`` ends (see the module docstring)."""
    if store.dialect != "postgresql":
        return
    for key in sorted({lock_id(n) for n in names}):
        await tx.execute("SELECT pg_advisory_xact_lock(?)", key)
