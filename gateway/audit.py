"""The append-only audit log, hash-chained per tenant.

Each row stores ``hash = sha256(canonical JSON of [prev_hash, seq, fields...])``. Editing a row breaks its
hash; deleting one breaks the next row's ``prev_hash`` and the sequence; deleting the newest rows is caught by
the per-tenant head (``audit_heads``), which records the last sequence number and hash. (Someone who can
rewrite the whole database can rewrite the chain too: ship ``voicepay audit verify`` output, or the head
hash, somewhere else to anchor it.)

Writers serialise on the tenant's head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's single writer
lock), so concurrent instances never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from gateway.store import Executor, Store

GENESIS = "0" * 64


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


async def record(store: Store, entry: AuditEntry) -> int:
    async with store.transaction() as tx:
        return await append(tx, entry)


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
