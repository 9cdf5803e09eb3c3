"""Agent keys: who may call which action for which tenant.

A key looks like ``vpk_<key id>_<secret>``. Only ``sha256(key)`` is stored: the secret part has 256 random
bits, so a fast hash is enough (no password-style stretching is needed for unguessable values) and the key id
makes lookup a primary-key read. Comparison is constant-time. Validated keys are cached for a few seconds per
instance; a revocation therefore takes effect everywhere within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.store import Store

#: Every scope an agent key can hold, and what it allows.
SCOPES: dict[str, str] = {
    "payments:read": "Look up payments and their status.",
    "refunds:write": "Create refunds within policy.",
    "coupons:write": "Create one-time discount codes within policy.",
    "subscriptions:read": "Report subscription status.",
    "customers:verify": "Verify a caller against the customer on file.",
    "escalations:write": "Hand a case to a human.",
    "capture:write": "Start, check and cancel secure card capture; send payment links.",
    "redact:use": "Scrub card data from transcripts and logs (POST /v1/redact, /v1/redact/stream).",
}

CACHE_SECONDS = 5.0
_KEY_RE = re.compile(r"^vpk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    key_id: str
    tenant_id: str
    scopes: frozenset[str]


class UnknownScope(ValueError):
    pass


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_scopes(scopes: Iterable[str]) -> frozenset[str]:
    out = frozenset(s.strip() for s in scopes if s.strip())
    unknown = sorted(out - SCOPES.keys())
    if unknown:
        raise UnknownScope(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}")
    return out


class AgentKeys:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, str, AgentIdentity | None]] = {}

    async def create(
        self, tenant_id: str, scopes: Iterable[str], label: str = ""
    ) -> tuple[AgentIdentity, str]:
        """Create a key; returns the identity and the key itself, which is never retrievable again."""
        scope_set = validate_scopes(scopes)
        key_id = secrets.token_hex(6)
        key = f"vpk_{key_id}_{secrets.token_urlsafe(32)}"
        await self._store.execute(
            "INSERT INTO agent_keys (id, tenant_id, key_hash, scopes, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            key_id,
            tenant_id,
            _hash(key),
            " ".join(sorted(scope_set)),
            label,
            time.time(),
        )
        return AgentIdentity(key_id, tenant_id, scope_set), key

    async def revoke(self, key_id: str) -> bool:
        n = await self._store.execute(
            "UPDATE agent_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", time.time(), key_id
        )
        self._cache.pop(key_id, None)
        return n > 0

    async def list(self, tenant_id: str | None = None) -> list[dict[str, object]]:
        sql = "SELECT id, tenant_id, scopes, label, created_at, revoked_at FROM agent_keys"
        rows = (
            await self._store.fetchall(sql + " WHERE tenant_id = ? ORDER BY created_at", tenant_id)
            if tenant_id
            else await self._store.fetchall(sql + " ORDER BY created_at")
        )
        return [dict(r) for r in rows]

    async def authenticate(self, presented: str) -> AgentIdentity | None:
        m = _KEY_RE.match(presented)
        if not m:
            return None
        key_id = m.group(1)
        presented_hash = _hash(presented)
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is None or cached[0] < now:
            row = await self._store.fetchone(
                "SELECT tenant_id, key_hash, scopes, revoked_at FROM agent_keys WHERE id = ?", key_id
            )
            if row is None or row["revoked_at"] is not None:
                cached = (now + CACHE_SECONDS, "", None)
            else:
                ident = AgentIdentity(key_id, str(row["tenant_id"]), frozenset(str(row["scopes"]).split()))
                cached = (now + CACHE_SECONDS, str(row["key_hash"]), ident)
            self._cache[key_id] = cached
        _, stored_hash, identity = cached
        if identity is None:
            # Compare anyway so a revoked or unknown id costs the same as a wrong secret.
            hmac.compare_digest(presented_hash, "0" * 64)
            return None
        return identity if hmac.compare_digest(presented_hash, stored_hash) else None
