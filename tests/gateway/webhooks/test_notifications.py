"""Agent notifications: signed, verifiable, retried on the schedule, every attempt recorded, replayable."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from adapters.stripe.signing import verify_header
from gateway.notifications import emit_notification, list_notifications, replay_notifications
from tests.gateway.webhooks.conftest import (
    FAST_NOTIFICATIONS,
    FAST_WEBHOOKS,
    make_event,
    post_event,
    services_of,
    tenant_with,
    wait_for,
)


class Receiver:
    """A test receiver on 127.0.0.1 that fails the first ``fail_first`` deliveries with 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((body, dict(request.headers)))
        if len(self.received) <= self.fail_first:
            return web.Response(status=503)
        return web.Response(status=204)


async def _receiver(aiohttp_server: Any, fail_first: int = 0) -> tuple[Receiver, str]:
    rec = Receiver(fail_first)
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    return rec, str(server.make_url("/hook"))


async def _state(client: Any, nid: str) -> str:
    row = await services_of(client).store.fetchone("SELECT state FROM notifications WHERE id = ?", nid)
    assert row is not None
    return str(row["state"])


async def test_when_event_processed_then_receiver_gets_signed_notification(
    make_client: Any, aiohttp_server: Any, store_url: str, settings_factory: Any
) -> None:
    rec, url = await _receiver(aiohttp_server)
    tenants = tenant_with(settings_factory, notification_url=url, notification_secret="ntfsec_acme")
    client = await make_client(store_url, tenants=tenants, webhooks=FAST_WEBHOOKS, notifications=FAST_NOTIFICATIONS)
    ev = make_event("refund.created", {"id": "re_5", "status": "succeeded", "amount": 1234, "currency": "gbp",
                                       "charge": "ch_5", "payment_intent": "pi_5"})
    assert (await post_event(client, ev)).status == 200

    async def got_one() -> bool:
        return len(rec.received) >= 1

    await wait_for(got_one, what="notification delivered")
    body, headers = rec.received[0]
    verify_header(body, headers["Voicepay-Signature"], ["ntfsec_acme"])
    note = json.loads(body)
    assert note["type"] == "refund.succeeded"
    assert note["status"] == "succeeded"
    assert note["tenant"] == "acme"
    assert note["say"].startswith("The refund of 12.34 British pounds has been processed")
    assert note["data"]["refund"] == "re_5"
    assert note["data"]["event_id"] == ev["id"]
    assert headers["Voicepay-Notification-Id"] == note["id"]
    await wait_for(lambda: _is(client, note["id"], "delivered"), what="marked delivered")


async def _is(client: Any, nid: str, state: str) -> bool:
    return await _state(client, nid) == state


async def test_when_receiver_fails_then_retried_and_every_attempt_recorded(
    make_client: Any, aiohttp_server: Any, store_url: str, settings_factory: Any
) -> None:
    rec, url = await _receiver(aiohttp_server, fail_first=2)
    tenants = tenant_with(settings_factory, notification_url=url, notification_secret="ntfsec_acme")
    client = await make_client(
        store_url, tenants=tenants, webhooks=FAST_WEBHOOKS,
        notifications={**FAST_NOTIFICATIONS, "retry_schedule_seconds": [0.01, 0.01, 0.01]},
    )
    store = services_of(client).store
    async with store.transaction() as tx:
        nid = await emit_notification(tx, "acme", "capture.succeeded", {"capture_id": "cap_1"}, "Paid.",
                                      status="succeeded", dedupe_key="capture:cap_1:succeeded")
    await wait_for(lambda: _is(client, nid, "delivered"), what="delivered on the third attempt")
    assert len(rec.received) == 3
    # Same id and body on every attempt, each freshly signed.
    assert len({b for b, _ in rec.received}) == 1
    for body, headers in rec.received:
        verify_header(body, headers["Voicepay-Signature"], ["ntfsec_acme"])
    [listed] = await list_notifications(store, with_attempts=True)
    assert listed["id"] == nid
    assert [(a["attempt"], a["status_code"]) for a in listed["attempt_log"]] == [(1, 503), (2, 503), (3, 204)]
    assert listed["attempt_log"][0]["error"] == "HTTP 503"


async def test_when_schedule_spent_then_failed_then_replay_delivers(
    make_client: Any, aiohttp_server: Any, sqlite_url: str, settings_factory: Any
) -> None:
    rec, url = await _receiver(aiohttp_server, fail_first=3)
    tenants = tenant_with(settings_factory, notification_url=url, notification_secret="ntfsec_acme")
    client = await make_client(sqlite_url, tenants=tenants, webhooks=FAST_WEBHOOKS, notifications=FAST_NOTIFICATIONS)
    store = services_of(client).store
    nid = await emit_notification(store, "acme", "refund.failed", {"refund": "re_1"}, "It failed.")
    await wait_for(lambda: _is(client, nid, "failed"), what="failed after the schedule")
    assert len(rec.received) == 3  # first attempt + two scheduled retries
    assert await replay_notifications(store, notification_id=nid) == [nid]
    await wait_for(lambda: _is(client, nid, "delivered"), what="delivered after replay")
    [listed] = await list_notifications(store, with_attempts=True)
    assert [a["attempt"] for a in listed["attempt_log"]] == [1, 2, 3, 4]


async def test_when_receiver_unreachable_then_ingestion_unaffected(
    make_client: Any, sqlite_url: str, settings_factory: Any
) -> None:
    tenants = tenant_with(settings_factory, notification_url="http://127.0.0.1:9/down",
                          notification_secret="ntfsec_acme")
    client = await make_client(sqlite_url, tenants=tenants, webhooks=FAST_WEBHOOKS, notifications=FAST_NOTIFICATIONS)
    events = [make_event("refund.created", {"id": f"re_{i}", "status": "succeeded", "amount": 1, "currency": "gbp"})
              for i in range(5)]
    for ev in events:
        assert (await post_event(client, ev)).status == 200
    store = services_of(client).store

    async def all_failed() -> bool:
        rows = await store.fetchall("SELECT state FROM notifications")
        return len(rows) == 5 and all(r["state"] == "failed" for r in rows)

    await wait_for(all_failed, what="notifications failed")
    attempts = await store.fetchall("SELECT error FROM notification_attempts")
    assert len(attempts) == 15
    assert all(a["error"] for a in attempts)


async def test_emit_is_idempotent_per_dedupe_key(make_client: Any, store_url: str) -> None:
    client = await make_client(store_url, webhooks={"worker_enabled": False})
    store = services_of(client).store
    first = await emit_notification(store, "acme", "x.y", {"a": 1}, "Hi.", dedupe_key="k1")
    again = await emit_notification(store, "acme", "x.y", {"a": 1}, "Hi.", dedupe_key="k1")
    other = await emit_notification(store, "acme", "x.y", {"a": 1}, "Hi.")
    assert first == again != other
    assert len(await store.fetchall("SELECT id FROM jobs WHERE kind = 'notification'")) == 2


async def test_when_tenant_has_no_notification_url_then_skipped_not_sent(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    store = services_of(client).store
    nid = await emit_notification(store, "acme", "x.y", {"card": "4242424242424242"}, "Hi.")
    await wait_for(lambda: _is(client, nid, "skipped"), what="skipped")
    row = await store.fetchone("SELECT body FROM notifications WHERE id = ?", nid)
    assert row is not None
    assert "4242424242424242" not in row["body"]
