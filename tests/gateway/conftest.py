from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.routes import SERVICES
from gateway.services import Services
from tests.gateway.helpers import make_registry

Client = TestClient[Any, Any]


@pytest.fixture
def make_client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings_factory: Callable[..., Any]
) -> Callable[..., Awaitable[Client]]:
    async def make(store_url: str, registry: Any = None, **sections: Any) -> Client:
        settings = settings_factory(store_url, **sections)
        app = create_app(settings, registry=registry if registry is not None else make_registry())
        return await aiohttp_client(app)

    return make


def services(client: Client) -> Services:
    return client.server.app[SERVICES]


async def new_key(client: Client, tenant: str = "acme", scopes: tuple[str, ...] = ("refunds:write",)) -> str:
    _, key = await services(client).keys.create(tenant, scopes)
    return key
