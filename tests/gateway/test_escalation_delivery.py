"""A case for the ops desk is never lost: a failed post is retried by the durable job queue, signed."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.stripe.signing import verify_header
from gateway.app import create_app
from gateway.routes import SERVICES
from tests.gateway.helpers import auth

SECRET = "ops-signing-secret-for-tests"


async def _ops_desk(fail_first: int) -> tuple[TestServer, list[tuple[bytes, str | None]]]:
    received: list[tuple[bytes, str | None]] = []
    calls = {"n": 0}

    async def receive(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] <= fail_first:
            return web.Response(status=503)
        received.append((await request.read(), request.headers.get("Voicepay-Signature")))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/cases", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, received


async def _gateway(aiohttp_client: Any, settings_factory: Any, sqlite_url: str, ops_url: str) -> Any:
    ring = settings_factory.ring
    tenant = {
        "id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("sk_test_x"),
        "ops_url": ops_url, "notification_secret": ring.encrypt(SECRET),
    }
    settings = settings_factory(
        sqlite_url, tenants=[tenant],
        notifications={"retry_schedule_seconds": [0.05, 0.05, 0.05]},
        webhooks={"poll_interval_seconds": 0.05},
    )
    return await aiohttp_client(create_app(settings))


async def _escalate(client: Any) -> str:
    _, key = await client.server.app[SERVICES].keys.create("acme", ["escalations:write"])
    resp = await client.post(
        "/v1/actions/escalations.create", json={"reason": "complaint", "summary": "Wants a manager"},
        headers=auth(key, **{"X-Call-Id": "CA1"}),
    )
    body = await resp.json()
    assert resp.status == 200, body
    return str(body["result"]["reference"])


async def _state(client: Any, reference: str) -> dict[str, Any]:
    row = await client.server.app[SERVICES].store.fetchone(
        "SELECT delivery_state, delivery_attempts FROM escalations WHERE reference = ?", reference
    )
    assert row is not None
    return dict(row)


async def test_a_case_the_ops_desk_refused_is_retried_until_delivered_and_signed(
    aiohttp_client, settings_factory, sqlite_url
):
    server, received = await _ops_desk(fail_first=2)
    try:
        client = await _gateway(aiohttp_client, settings_factory, sqlite_url, str(server.make_url("/cases")))
        reference = await _escalate(client)
        for _ in range(200):
            if (await _state(client, reference))["delivery_state"] == "delivered":
                break
            await asyncio.sleep(0.05)
        assert await _state(client, reference) == {"delivery_state": "delivered", "delivery_attempts": 3}
        assert len(received) == 1
        body, signature = received[0]
        verify_header(body, signature, [SECRET])  # raises if forged
        assert reference.encode() in body
    finally:
        await server.close()


async def test_a_case_never_accepted_ends_failed_and_is_logged_as_an_error(
    aiohttp_client, settings_factory, sqlite_url, caplog
):
    server, _ = await _ops_desk(fail_first=1000)
    try:
        client = await _gateway(aiohttp_client, settings_factory, sqlite_url, str(server.make_url("/cases")))
        reference = await _escalate(client)
        for _ in range(200):
            if (await _state(client, reference))["delivery_state"] == "failed":
                break
            await asyncio.sleep(0.05)
        state = await _state(client, reference)
        assert state["delivery_state"] == "failed" and state["delivery_attempts"] >= 4
        assert any(r.levelname == "ERROR" and reference in r.getMessage() for r in caplog.records)
    finally:
        await server.close()
