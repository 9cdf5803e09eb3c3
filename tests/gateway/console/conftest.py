from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.gateway.console.helpers import Client

CONSOLE = {"enabled": True, "secure_cookie": False}


@pytest.fixture
async def console(store_url: str, make_client: Callable[..., Awaitable[Client]]) -> Client:
    """A gateway with the console on, tenants acme and globex, on SQLite and PostgreSQL."""
    return await make_client(store_url, console=CONSOLE)


@pytest.fixture
async def console_sqlite(sqlite_url: str, make_client: Callable[..., Awaitable[Client]]) -> Any:
    return await make_client(sqlite_url, console=CONSOLE)
