"""The store interface shared by both backends."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

Row = dict[str, Any]


class StoreError(Exception):
    """A store operation failed. Messages never include parameter values (they may be sensitive)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (or timed out). Callers answer 503 and retry later."""


class StoreConflict(StoreError):
    """A uniqueness constraint was violated."""


class Executor(Protocol):
    """What a transaction (and the store itself, in autocommit mode) can run."""

    async def execute(self, sql: str, *args: Any) -> int: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def load_migrations() -> list[Migration]:
    """Migrations are ``gateway/store/migrations/NNNN_name.sql``, applied in order, each exactly once."""
    out: list[Migration] = []
    folder = resources.files("gateway.store") / "migrations"
    for entry in folder.iterdir():
        m = _MIGRATION_FILE.match(entry.name)
        if m:
            out.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    out.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in out]
    if len(set(versions)) != len(versions):
        raise StoreError("two migrations share a version number")
    return out


def split_statements(sql: str) -> list[str]:
    """Split a migration on ``;`` at line ends (migrations contain no procedural code)."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


class Store(ABC):
    dialect: str

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> int: ...

    @abstractmethod
    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...

    @abstractmethod
    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Executor]:
        """A write transaction. On PostgreSQL, row locks (``FOR UPDATE``) are honoured inside it."""

    @abstractmethod
    async def _lock_for_migrations(self, tx: Executor) -> None:
        """Serialise concurrent migrators (several instances starting at once) inside ``tx``."""

    async def ping(self) -> None:
        await self.fetchone("SELECT 1 AS one")

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each exactly once, in one transaction; returns the versions applied now."""
        applied: list[int] = []
        async with self.transaction() as tx:
            await self._lock_for_migrations(tx)
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            done = {int(r["version"]) for r in await tx.fetchall("SELECT version FROM schema_migrations")}
            for mig in load_migrations():
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

    async def schema_version(self) -> int:
        try:
            row = await self.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
        except StoreUnavailable:
            raise
        except StoreError:
            return 0
        return int(row["v"]) if row and row["v"] is not None else 0

    async def is_current(self) -> bool:
        migrations = load_migrations()
        return await self.schema_version() >= (migrations[-1].version if migrations else 0)

    def render(self, sql: str) -> str:
        """Dialect substitutions for migrations: ``{serial_pk}``."""
        serial = "INTEGER PRIMARY KEY" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        return sql.replace("{serial_pk}", serial)
