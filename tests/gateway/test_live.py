"""Live call events over WebSocket: tenant-wide and per call, signed frames, resume from the store, limits,
and two instances sharing PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from adapters.stripe.signing import verify_header
from gateway import live
from gateway.notifications import emit_notification
from tests.conftest import create_pg_database, drop_pg_database
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import auth

SECRET = "whsec_live_test"


LIVE = {"poll_interval_seconds": 0.05}


def tenants(ring: Any) -> list[dict[str, Any]]:
    return [
        {"id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("sk_test_acme"),
         "stripe_api_base": "http://127.0.0.1:9", "currency": "gbp",
         "notification_secret": ring.encrypt(SECRET)},
        {"id": "globex", "name": "Globex", "stripe_secret_key": ring.encrypt("sk_test_globex"),
         "stripe_api_base": "http://127.0.0.1:9", "currency": "usd"},
    ]


async def client_for(make_client: Any, settings_factory: Any, url: str, registry: Any = None,
                     **live_settings: Any) -> Any:
    return await make_client(url, registry=registry, tenants=tenants(settings_factory.ring),
                             live={**LIVE, **live_settings})


async def emit(client: Any, tenant: str, refund: str, say: str = "Refunded.") -> str:
    return await emit_notification(services(client).store, tenant, "refund.succeeded",
                                   {"refund": refund, "amount": 500, "currency": "gbp"}, say,
                                   status="succeeded", dedupe_key=f"refund:{refund}")


async def frames(ws: Any, n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < n:
        frame = await ws.receive_json(timeout=20)
        if frame["type"] == "notification":
            out.append(frame)
    return out


async def nothing_more(ws: Any, seconds: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=deadline - time.monotonic())
        except TimeoutError:
            return True
        if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["type"] == "notification":
            return False
    return True


async def test_tenant_stream_gets_its_own_signed_notifications_only(make_client, settings_factory, sqlite_url):
    client = await client_for(make_client, settings_factory, sqlite_url)
    key = await new_key(client, scopes=("payments:read",))
    async with client.ws_connect("/v1/events", headers=auth(key)) as ws:
        await emit(client, "globex", "re_globex1")
        nid = await emit(client, "acme", "re_acme1", say="I've refunded £5.00.")
        (frame,) = await frames(ws, 1)
        assert frame["id"] == nid
        assert frame["notification"]["say"] == "I've refunded £5.00." and frame["notification"]["tenant"] == "acme"
        # The same body and signature scheme as the webhook POST: the receiver's verification code works.
        verify_header(frame["body"].encode(), frame["signature"], [SECRET], tolerance=300)
        stored = await services(client).store.fetchone("SELECT body FROM notifications WHERE id = ?", nid)
        assert stored is not None and stored["body"] == frame["body"]
        assert await nothing_more(ws)


async def test_call_stream_gets_that_calls_events_only(make_client, settings_factory, sqlite_url):
    client = await client_for(make_client, settings_factory, sqlite_url)
    key = await new_key(client, scopes=("payments:read",))
    store = services(client).store
    for call_id, refund in (("call-a", "re_a"), ("call-b", "re_b")):
        await store.execute(
            "INSERT INTO gateway_refunds (tenant_id, op_key, amount, currency, state, refund_id, call_id, "
            "created_at, updated_at) VALUES ('acme', ?, 500, 'gbp', 'created', ?, ?, 0, 0)",
            f"op-{refund}", refund, call_id,
        )
    async with client.ws_connect("/v1/calls/call-a/events", headers=auth(key)) as ws:
        await emit(client, "acme", "re_b")
        mine = await emit(client, "acme", "re_a")
        await emit(client, "acme", "re_unknown")
        (frame,) = await frames(ws, 1)
        assert frame["id"] == mine
        assert await nothing_more(ws)


async def test_reconnect_with_last_event_id_replays_what_was_missed(make_client, settings_factory, sqlite_url):
    client = await client_for(make_client, settings_factory, sqlite_url)
    key = await new_key(client, scopes=("payments:read",))
    async with client.ws_connect("/v1/events", headers=auth(key)) as ws:
        first = await emit(client, "acme", "re_1")
        (frame,) = await frames(ws, 1)
        assert frame["id"] == first
    missed = [await emit(client, "acme", f"re_{i}") for i in (2, 3)]
    async with client.ws_connect(f"/v1/events?last_event_id={first}", headers=auth(key)) as ws:
        got = await frames(ws, 2)
        assert [f["id"] for f in got] == missed
        assert await nothing_more(ws)
    # An unknown id is a clear error before the upgrade.
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await client.ws_connect("/v1/events?last_event_id=ntf_00", headers=auth(key))
    assert exc.value.status == 404


async def test_auth_scope_and_connection_limit(make_client, settings_factory, sqlite_url):
    client = await client_for(make_client, settings_factory, sqlite_url, max_connections_per_key=1)
    for headers, status in (({}, 401), (auth(await new_key(client, scopes=("refunds:write",))), 403)):
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await client.ws_connect("/v1/events", headers=headers)
        assert exc.value.status == status
    key = await new_key(client, scopes=("payments:read",))
    async with client.ws_connect("/v1/events", headers=auth(key)):
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await client.ws_connect("/v1/events", headers=auth(key))
        assert exc.value.status == 429
        other = await new_key(client, scopes=("payments:read",))
        async with client.ws_connect("/v1/calls/call-x/events", headers=auth(other)):
            pass
    # The slot is free again once the stream ends.
    for _ in range(50):
        if not client.server.app[live._CONNECTIONS]:
            break
        await asyncio.sleep(0.05)
    async with client.ws_connect("/v1/events", headers=auth(key)):
        pass


async def test_two_instances_on_postgres_subscriber_on_one_event_on_the_other(make_client, settings_factory):
    url = await create_pg_database()
    try:
        one = await client_for(make_client, settings_factory, url)
        two = await client_for(make_client, settings_factory, url)
        key = await new_key(one, scopes=("payments:read",))
        async with one.ws_connect("/v1/events", headers=auth(key)) as ws:
            nid = await emit(two, "acme", "re_pg")
            (frame,) = await frames(ws, 1)
            assert frame["id"] == nid
        await one.close()
        await two.close()
    finally:
        await drop_pg_database(url)


async def test_pending_operation_outcome_reaches_the_calls_subscriber(make_client, settings_factory, sqlite_url):
    """Deadline mode: the bot was told ``pending``; the final answer arrives on its call's stream."""
    from tests.gateway import test_deadline as deadline

    client = await client_for(make_client, settings_factory, sqlite_url, registry=deadline.registry())
    key = await new_key(client, scopes=("refunds:write", "payments:read"))
    async with client.ws_connect("/v1/calls/CA-live-op/events", headers=auth(key)) as ws:
        headers = {"Idempotency-Key": "op-live-1", "X-Deadline-Ms": "50", "X-Call-Id": "CA-live-op"}
        status, body = await deadline.call(client, key, "test.gated", {"text": "ten pounds"}, **headers)
        assert status == 202 and body["pending"] is True
        other = {"Idempotency-Key": "op-live-2", "X-Deadline-Ms": "50", "X-Call-Id": "CA-live-other"}
        status, _ = await deadline.call(client, key, "test.gated", {"text": "other call"}, **other)
        assert status == 202
        deadline.Gated.gate.set()
        (frame,) = await frames(ws, 1)
        note = frame["notification"]
        assert note["type"] == "operation.completed" and note["data"]["operation_id"] == body["operation_id"]
        assert note["data"]["call_id"] == "CA-live-op" and note["say"] == "Done: ten pounds."
        verify_header(frame["body"].encode(), frame["signature"], [SECRET], tolerance=300)
        assert await nothing_more(ws)
