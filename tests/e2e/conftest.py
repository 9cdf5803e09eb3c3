"""End-to-end fixtures: the Stripe sandbox on 127.0.0.1 and the real gateway app pointed at it.

The gateway is the production app (``create_app`` with the built-in actions), served by aiohttp's test server
on a real socket; the tenant's ``stripe_api_base`` is the sandbox's URL and its key the sandbox's key, so every
action goes through the real adapter, SDK and HTTP stack. An "ops desk" server records posted escalations.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.stripe.sandbox import StripeSandbox
from gateway.app import create_app
from gateway.routes import SERVICES
from gateway.services import Services

SANDBOX_KEY = "sk_test_e2e_voicepay"
ALL_SCOPES = (
    "payments:read",
    "refunds:write",
    "coupons:write",
    "subscriptions:read",
    "customers:verify",
    "escalations:write",
)


def _app(client: TestClient[Any, Any]) -> web.Application:
    server = client.server
    assert isinstance(server, TestServer)
    return server.app


@dataclass
class Gateway:
    """The running gateway, its sandbox, an agent key with every voice scope, and the ops desk's inbox."""

    client: TestClient[Any, Any]
    sandbox: StripeSandbox
    key: str
    ops_inbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return _app(self.client)[SERVICES]

    @property
    def seed(self) -> dict[str, Any]:
        assert self.sandbox.seed_data is not None
        return self.sandbox.seed_data

    async def call(
        self,
        action: str,
        body: dict[str, Any] | None = None,
        *,
        call_id: str | None = None,
        idempotency_key: str | None = None,
        key: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        if call_id is not None:
            headers["X-Call-Id"] = call_id
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        resp = await self.client.post(f"/v1/actions/{action}", json=body or {}, headers=headers)
        return resp.status, await resp.json()

    def stripe_requests(self, since: int = 0) -> list[str]:
        """``"GET /v1/charges"``-style lines of the sandbox's request log from index ``since``."""
        return [f"{r.method} {r.path}" for r in self.sandbox.request_log[since:]]


def new_call_id() -> str:
    return "call-" + uuid.uuid4().hex[:12]


@pytest.fixture
async def sandbox() -> AsyncIterator[StripeSandbox]:
    sb = StripeSandbox(api_key=SANDBOX_KEY, seed=True)
    await sb.start("127.0.0.1", 0)
    try:
        yield sb
        # Issue 13: every request the gateway's adapter sent in this test fit the installed stripe SDK's
        # generated parameter types (the sandbox refuses and records any that did not).
        violations = [f"{r.method} {r.path}: {r.sdk_violation}" for r in sb.sdk_violations()]
        assert violations == [], violations
        assert sb.request_log == [] or all(r.api_version == stripe.api_version for r in sb.request_log)
    finally:
        await sb.stop()


@pytest.fixture
async def make_gateway(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    settings_factory: Callable[..., Any],
    sandbox: StripeSandbox,
    sqlite_url: str,
) -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
    """Build the gateway; ``policy=`` overrides the tenant policy, ``store_url=`` the database."""
    servers: list[TestServer] = []

    async def make(
        *, policy: dict[str, Any] | None = None, store_url: str | None = None, ops: bool = True, **tenant: Any
    ) -> Gateway:
        inbox: list[dict[str, Any]] = []
        ops_url = None
        if ops:

            async def receive(request: web.Request) -> web.Response:
                inbox.append(await request.json())
                return web.json_response({"ok": True})

            ops_app = web.Application()
            ops_app.router.add_post("/cases", receive)
            server = TestServer(ops_app, host="127.0.0.1")
            await server.start_server()
            ops_url = str(server.make_url("/cases"))
            servers.append(server)
        ring = settings_factory.ring  # type: ignore[attr-defined]
        acme: dict[str, Any] = {
            "id": "acme",
            "name": "Acme",
            "stripe_secret_key": ring.encrypt(SANDBOX_KEY),
            "stripe_api_base": sandbox.base_url,
            "currency": "gbp",
            "phone_default_region": "GB",
            "ops_url": ops_url,
            "policy": policy or {},
        }
        acme.update(tenant)
        settings = settings_factory(store_url or sqlite_url, tenants=[acme])
        client = await aiohttp_client(create_app(settings))
        services: Services = _app(client)[SERVICES]
        _, key = await services.keys.create("acme", ALL_SCOPES)
        return Gateway(client=client, sandbox=sandbox, key=key, ops_inbox=inbox)

    try:
        yield make
    finally:
        for server in servers:
            await server.close()


@pytest.fixture
async def gw(make_gateway: Callable[..., Awaitable[Gateway]]) -> Gateway:
    return await make_gateway()
