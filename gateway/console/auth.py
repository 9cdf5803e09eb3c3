"""Operators of the console: accounts, password hashing, sessions and login limits.

Operators are people, not bots: they never hold agent keys and agent keys never open the console. Passwords are
hashed with scrypt (memory-hard, from ``cryptography``), one random salt per operator, and checked with the
library's constant-time ``verify``. A session is a server-side row keyed by the SHA-256 of 256 random bits
the cookie carries, so logging out (or an expiry) ends it for good, and a database read gives no live cookie.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from gateway.store import Executor, Store, StoreConflict

Role = Literal["viewer", "agent", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "agent", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}

#: scrypt cost: 2**15 * 8 * 128 bytes = 32 MiB per hash (OWASP's minimum is 2**17 with r=8; tune up with
#: hardware). Stored with each hash, so raising it later keeps old hashes verifiable.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class OperatorError(Exception):
    """A refused operator change (message safe to print: never the password)."""


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    key = Scrypt(salt=salt, length=_KEY_BYTES, n=n, r=r, p=p).derive(password.encode())
    b64 = base64.urlsafe_b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        kdf = Scrypt(salt=base64.urlsafe_b64decode(salt), length=_KEY_BYTES, n=int(n), r=int(r), p=int(p))
        kdf.verify(password.encode(), base64.urlsafe_b64decode(key))  # constant-time comparison inside
    except (InvalidKey, ValueError):
        return False
    return True


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so an unknown user costs as much as a wrong password."""
    return hash_password(secrets.token_urlsafe(16), n=SCRYPT_N)


def role_allows(role: str, needed: Role) -> bool:
    return role in _RANK and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    username: str
    #: tenant id -> role
    roles: dict[str, str]

    def role_in(self, tenant_id: str) -> str | None:
        return self.roles.get(tenant_id)

    def can(self, tenant_id: str, needed: Role) -> bool:
        role = self.roles.get(tenant_id)
        return role is not None and role_allows(role, needed)


@dataclass(frozen=True, slots=True)
class Session:
    operator: Operator
    csrf_token: str
    expires_at: float
    token_hash: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_operator(
    store: Store, username: str, password: str, grants: dict[str, Role], *, n: int = SCRYPT_N
) -> str:
    """Create an operator with a role per tenant; returns the operator id."""
    if not (3 <= len(username) <= 64) or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise OperatorError("username: 3 to 64 letters, digits, '.', '-' or '_'")
    if not (MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise OperatorError(f"password: {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    if not grants:
        raise OperatorError("an operator needs a role in at least one tenant")
    for tenant_id, role in grants.items():
        if role not in ROLES:
            raise OperatorError(f"role must be one of {', '.join(ROLES)}")
        if await store.fetchone("SELECT id FROM tenants WHERE id = ?", tenant_id) is None:
            raise OperatorError(f"no tenant {tenant_id!r} in the configuration")
    hashed = await asyncio.to_thread(hash_password, password, n=n)
    op_id = "op_" + secrets.token_hex(8)
    try:
        async with store.transaction() as tx:
            await tx.execute(
                "INSERT INTO operators (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)",
                op_id, username, hashed, time.time(),
            )
            for tenant_id, role in grants.items():
                await tx.execute(
                    "INSERT INTO operator_roles (operator_id, tenant_id, role) VALUES (?, ?, ?)",
                    op_id, tenant_id, role,
                )
    except StoreConflict:
        raise OperatorError(f"an operator named {username!r} already exists") from None
    return op_id


async def load_operator(db: Executor, operator_id: str) -> Operator | None:
    row = await db.fetchone(
        "SELECT id, username FROM operators WHERE id = ? AND disabled_at IS NULL", operator_id
    )
    if row is None:
        return None
    roles = await db.fetchall("SELECT tenant_id, role FROM operator_roles WHERE operator_id = ?", operator_id)
    return Operator(str(row["id"]), str(row["username"]), {str(r["tenant_id"]): str(r["role"]) for r in roles})


async def authenticate(store: Store, username: str, password: str) -> Operator | None:
    """The operator if the password is right; None otherwise (same cost either way)."""
    row = await store.fetchone(
        "SELECT id, password_hash FROM operators WHERE username = ? AND disabled_at IS NULL", username
    )
    stored = str(row["password_hash"]) if row is not None else await asyncio.to_thread(_dummy_hash)
    ok = await asyncio.to_thread(verify_password, password, stored)
    if not ok or row is None:
        return None
    return await load_operator(store, str(row["id"]))


async def count_attempt(store: Store, key: str, window_seconds: float, now: float | None = None) -> int:
    """Count one login attempt for ``key``; returns the attempts in the current window, this one included.
    One statement (insert or update, returning the count): concurrent attempts cannot slip under the limit."""
    now = time.time() if now is None else now
    # Counters from finished windows mean nothing any more: keep the table as small as the live windows.
    await store.execute("DELETE FROM console_login_attempts WHERE window_start < ?", now - 2 * window_seconds)
    row = await store.fetchone(
        "INSERT INTO console_login_attempts (attempt_key, window_start, attempts) VALUES (?, ?, 1) "
        "ON CONFLICT (attempt_key) DO UPDATE SET "
        "attempts = CASE WHEN console_login_attempts.window_start < ? THEN 1 "
        "ELSE console_login_attempts.attempts + 1 END, "
        "window_start = CASE WHEN console_login_attempts.window_start < ? THEN ? "
        "ELSE console_login_attempts.window_start END "
        "RETURNING attempts",
        key, now, now - window_seconds, now - window_seconds, now,
    )
    assert row is not None
    return int(row["attempts"])


async def clear_attempts(store: Store, key: str) -> None:
    await store.execute("DELETE FROM console_login_attempts WHERE attempt_key = ?", key)


async def open_session(store: Store, operator: Operator, ttl_seconds: float) -> tuple[str, Session]:
    """A new session; returns (cookie token, session). The token is shown once, to the browser."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = time.time()
    await store.execute(
        "INSERT INTO console_sessions (token_hash, operator_id, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        _token_hash(token), operator.id, csrf, now, now + ttl_seconds,
    )
    await store.execute("DELETE FROM console_sessions WHERE expires_at < ?", now)
    return token, Session(operator, csrf, now + ttl_seconds, _token_hash(token))


async def load_session(store: Store, token: str) -> Session | None:
    """The live session for a cookie token, or None (unknown, expired, or its operator disabled)."""
    if not token or len(token) > 128:
        return None
    row = await store.fetchone(
        "SELECT operator_id, csrf_token, expires_at FROM console_sessions WHERE token_hash = ?", _token_hash(token)
    )
    if row is None or float(row["expires_at"]) <= time.time():
        return None
    operator = await load_operator(store, str(row["operator_id"]))
    if operator is None:
        return None
    return Session(operator, str(row["csrf_token"]), float(row["expires_at"]), _token_hash(token))


async def close_session(store: Store, session: Session) -> None:
    await store.execute("DELETE FROM console_sessions WHERE token_hash = ?", session.token_hash)


def csrf_ok(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf_token.encode(), str(submitted).encode())
