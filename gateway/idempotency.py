"""Idempotency records: one per (tenant, action, key), holding the fingerprint of the params and, once
finished, the response.

* Same key, same params, finished: the stored response is replayed (also after a restart).
* Same key, different params: ``idempotency_key_reused``.
* Same key while the first request runs: ``request_in_progress``.
* A record left ``in_flight`` by a crashed process is taken over once its lease has passed. The retry then
  derives the *same* provider idempotency keys, so the provider replays its first answer instead of acting
  twice (a refund is never created twice).
* Retryable failures (provider down, outcome unknown) are not stored: the record is released so the bot's
  retry runs again, with the same provider keys.
* Deadline mode (:mod:`gateway.operations`): a record whose caller was answered ``pending`` is in state
  ``pending`` while its work runs; the same key then gets :class:`Pending` (not 409). A pending operation that
  ends retryable is kept as ``retry`` (its answer readable by ``operations.get``) and is taken over at once by
  the next call with the key.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from gateway.errors import IdempotencyKeyReused, RequestInProgress
from gateway.operations import operation_id
from gateway.store import Executor, Store


def fingerprint(params: Any) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def derive_call_key(tenant_id: str, call_id: str, action: str, params: Any) -> str:
    """The key for a write action that names its call (X-Call-Id) but sends no Idempotency-Key.

    A bot that repeats a tool call within one phone call (same action, same params) gets a replay, not a
    second refund.
    """
    material = json.dumps([tenant_id, call_id, action, params], sort_keys=True, separators=(",", ":"))
    return "call_" + hashlib.sha256(material.encode()).hexdigest()[:48]


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Pending:
    """The key's first request answered ``pending`` and its work is still running (within its lease)."""

    operation_id: str


class IdempotencyStore:
    def __init__(self, store: Store, *, ttl_seconds: float, lease_seconds: float) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._lease = lease_seconds

    async def begin(
        self, tenant_id: str, action: str, key: str, fp: str, request_id: str
    ) -> Replay | Pending | None:
        """Claim the key. Returns a :class:`Replay` for a finished request, ``None`` to go ahead."""
        now = time.time()
        claim = (
            "INSERT INTO idempotency (tenant_id, action, idem_key, fingerprint, state, lease_until, "
            "request_id, created_at, expires_at, operation_id) VALUES (?, ?, ?, ?, 'in_flight', ?, ?, ?, ?, ?) "
            # No conflict target: the operation id (a unique index, derived from the key) conflicts exactly when
            # the key does, and PostgreSQL may report either index first when two instances insert the same key
            # at once; with a target naming only the key, the other index's conflict was a 500.
            "ON CONFLICT DO NOTHING"
        )
        op_id = operation_id(tenant_id, action, key)
        claim_args = (tenant_id, action, key, fp, now + self._lease, request_id, now, now + self._ttl, op_id)
        # The common case, a new key, is one atomic statement (one round trip); only a key seen before takes
        # the transaction below.
        if await self._store.execute(claim, *claim_args):
            return None
        async with self._store.transaction() as tx:
            row = await tx.fetchone(
                "SELECT fingerprint, state, lease_until, status_code, response, expires_at FROM idempotency "
                "WHERE tenant_id = ? AND action = ? AND idem_key = ? FOR UPDATE",
                tenant_id,
                action,
                key,
            )
            if row is None:  # pruned between the two statements; claim it afresh
                await tx.execute(claim, *claim_args)
                return None
            if float(row["expires_at"]) <= now:
                await tx.execute(
                    "UPDATE idempotency SET fingerprint = ?, state = 'in_flight', lease_until = ?, "
                    "status_code = NULL, response = NULL, request_id = ?, created_at = ?, expires_at = ? "
                    "WHERE tenant_id = ? AND action = ? AND idem_key = ?",
                    fp,
                    now + self._lease,
                    request_id,
                    now,
                    now + self._ttl,
                    tenant_id,
                    action,
                    key,
                )
                return None
            if row["fingerprint"] != fp:
                raise IdempotencyKeyReused()
            if row["state"] == "done":
                return Replay(int(row["status_code"]), json.loads(str(row["response"])))
            if row["state"] == "pending" and float(row["lease_until"]) > now:
                return Pending(op_id)
            if row["state"] == "in_flight" and float(row["lease_until"]) > now:
                raise RequestInProgress(headers={"Retry-After": "1"})
            # The previous holder crashed or hung past its lease, or a pending operation ended retryable:
            # take over.
            await tx.execute(
                "UPDATE idempotency SET state = 'in_flight', lease_until = ?, request_id = ? "
                "WHERE tenant_id = ? AND action = ? AND idem_key = ?",
                now + self._lease,
                request_id,
                tenant_id,
                action,
                key,
            )
            return None

    async def complete(
        self, tenant_id: str, action: str, key: str, status: int, body: dict[str, Any], *, db: Executor | None = None
    ) -> None:
        await (db or self._store).execute(
            "UPDATE idempotency SET state = 'done', status_code = ?, response = ? "
            "WHERE tenant_id = ? AND action = ? AND idem_key = ?",
            status,
            json.dumps(body, separators=(",", ":")),
            tenant_id,
            action,
            key,
        )

    async def keep_for_retry(
        self, tenant_id: str, action: str, key: str, status: int, body: dict[str, Any], *, db: Executor | None = None
    ) -> None:
        """A pending operation ended retryable: keep its answer for ``operations.get``, free the key at once."""
        await (db or self._store).execute(
            "UPDATE idempotency SET state = 'retry', lease_until = 0, status_code = ?, response = ? "
            "WHERE tenant_id = ? AND action = ? AND idem_key = ?",
            status,
            json.dumps(body, separators=(",", ":")),
            tenant_id,
            action,
            key,
        )

    async def release(self, tenant_id: str, action: str, key: str) -> None:
        await self._store.execute(
            "DELETE FROM idempotency WHERE tenant_id = ? AND action = ? AND idem_key = ? "
            "AND state IN ('in_flight', 'pending')",
            tenant_id,
            action,
            key,
        )

    async def leave_in_doubt(self, tenant_id: str, action: str, key: str) -> None:
        """A write whose outcome is UNKNOWN: keep the record (so the reconciler can find and settle it) but end
        its lease, so the bot's retry takes it over at once and re-sends with the same provider keys."""
        await self._store.execute(
            "UPDATE idempotency SET lease_until = ? "
            "WHERE tenant_id = ? AND action = ? AND idem_key = ? AND state = 'in_flight'",
            time.time(),
            tenant_id,
            action,
            key,
        )

    async def prune(self, now: float | None = None) -> int:
        return await self._store.execute(
            "DELETE FROM idempotency WHERE expires_at <= ?", time.time() if now is None else now
        )
