"""Live call events: a bot subscribes over a WebSocket and receives its tenant's notifications as they happen.

* ``GET /v1/events`` (every notification of the key's tenant) and ``GET /v1/calls/{call_id}/events`` (those of
  one call), WebSocket, ``Authorization: Bearer <agent key>`` with scope ``payments:read``.
* Each notification is one JSON frame ``{"type": "notification", "id": "ntf_...", "body": "<raw JSON>",
  "signature": "t=...,v1=..." | null, "notification": {...}}``: ``body`` is byte for byte what the webhook
  POST carries and ``signature`` the same ``Voicepay-Signature`` (tenant's ``notification_secret``), so the
  bot verifies frames with the same code; ``notification`` is ``body`` parsed, for convenience.
* Resume: ``?last_event_id=ntf_...`` (or a ``Last-Event-ID`` header) first replays, from the store, every
  notification after that one, then goes live. The source is the ``notifications`` table, polled every
  ``[live] poll_interval_seconds``: it works across instances (PostgreSQL) with nothing else to run, and a
  notification arrives within one poll interval of its commit. Polling looks back ``_LOOKBACK`` seconds and
  skips ids already sent, because a notification's ``created_at`` is set before its transaction commits.
* The call of a notification: ``data.call_id`` when the emitter put one there; otherwise the call that made
  the refund (``gateway_refunds.call_id``) or the action whose audit record names the notification's capture /
  refund / payment intent.
* ``{"type": "heartbeat"}`` every ``heartbeat_seconds`` (and WebSocket pings); a client that does not read
  (a send stalls ``send_timeout_seconds``) is disconnected; at most ``max_connections_per_key`` streams per
  agent key on each instance (a further upgrade is 429).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSMsgType, web

from adapters.stripe.signing import sign_header
from gateway import errors
from gateway.dispatch import authenticate
from gateway.services import SERVICES, Services
from gateway.store import Executor

SCOPE = "payments:read"
_LOOKBACK = 30.0
_BATCH = 200
_CALL_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
_EVENT_ID_RE = re.compile(r"^ntf_[0-9a-f]{1,64}$")
_CONNECTIONS: web.AppKey[dict[str, int]] = web.AppKey("live_connections", dict)



async def _like_ids(db: Executor, tenant_id: str, data: dict[str, Any]) -> str | None:
    refund = data.get("refund")
    if isinstance(refund, str):
        row = await db.fetchone(
            "SELECT call_id FROM gateway_refunds WHERE tenant_id = ? AND refund_id = ? AND call_id IS NOT NULL",
            tenant_id, refund,
        )
        if row is not None:
            return str(row["call_id"])
    for field in ("capture_id", "refund", "payment_intent"):
        value = data.get(field)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*", value):
            pattern = '%"' + value.replace("_", "\\_") + '"%'
            row = await db.fetchone(
                "SELECT call_id FROM audit_log WHERE tenant_id = ? AND call_id IS NOT NULL "
                "AND provider_ids LIKE ? ESCAPE '\\' ORDER BY id LIMIT 1",
                tenant_id, pattern,
            )
            if row is not None:
                return str(row["call_id"])
    return None


async def call_of(db: Executor, tenant_id: str, body: dict[str, Any]) -> str | None:
    data = body.get("data")
    if not isinstance(data, dict):
        return None
    direct = data.get("call_id")
    if isinstance(direct, str):
        return direct
    return await _like_ids(db, tenant_id, data)


class _Feed:
    """The notifications of one tenant after a cursor, without repeats."""

    def __init__(self, services: Services, tenant_id: str, call_id: str | None, floor: tuple[float, str]) -> None:
        self.services = services
        #: Nothing at or before this (created_at, id) is sent: the resume anchor, or the connection time.
        self.floor = floor
        since = floor[0]
        self.tenant_id = tenant_id
        self.call_id = call_id
        self.since = since
        self.sent: OrderedDict[str, float] = OrderedDict()
        self._page_from: float | None = None
        self._calls: dict[str, str | None] = {}

    async def next_batch(self) -> list[dict[str, Any]]:
        start = self._page_from if self._page_from is not None else self.since - _LOOKBACK
        rows = await self.services.store.fetchall(
            "SELECT id, body, created_at FROM notifications WHERE tenant_id = ? AND created_at >= ? "
            "ORDER BY created_at, id LIMIT ?",
            self.tenant_id, start, _BATCH,
        )
        self._page_from = None
        out: list[dict[str, Any]] = []
        for r in rows:
            nid = str(r["id"])
            if nid in self.sent or (float(r["created_at"]), nid) <= self.floor:
                continue
            self.sent[nid] = float(r["created_at"])
            body = json.loads(r["body"])
            if self.call_id is not None:
                if nid not in self._calls:
                    self._calls[nid] = await call_of(self.services.store, self.tenant_id, body)
                if self._calls[nid] != self.call_id:
                    continue
            out.append({"id": nid, "raw": str(r["body"])})
        if rows:
            self.since = max(self.since, max(float(r["created_at"]) for r in rows))
        # Forget ids that fell out of the lookback window (bounded memory on a long stream).
        while self.sent and next(iter(self.sent.values())) < self.since - 2 * _LOOKBACK:
            self.sent.popitem(last=False)
            if len(self._calls) > 10_000:
                self._calls.clear()
        if len(rows) == _BATCH and float(rows[0]["created_at"]) < float(rows[-1]["created_at"]):
            # A full page: the next one starts at its last timestamp, without the lookback (already-sent rows
            # are skipped). A page of one timestamp only cannot move on: it is left to the lookback query.
            self._page_from = float(rows[-1]["created_at"])
        return out


async def _start_cursor(services: Services, tenant_id: str, last_event_id: str | None) -> tuple[float, str]:
    if last_event_id is None:
        return time.time(), ""
    row = await services.store.fetchone(
        "SELECT created_at FROM notifications WHERE tenant_id = ? AND id = ?", tenant_id, last_event_id
    )
    if row is None:
        raise errors.NotFound("No such event id for this tenant.")
    return float(row["created_at"]), last_event_id


def _frame(services: Services, tenant_id: str, nid: str, raw: str) -> dict[str, Any]:
    tenant = services.settings.tenant(tenant_id)
    secret = tenant.notification_secret.reveal() if tenant and tenant.notification_secret else None
    signature = sign_header(raw.encode("utf-8"), [secret], int(time.time())) if secret else None
    return {"type": "notification", "id": nid, "body": raw, "signature": signature,
            "notification": json.loads(raw)}


async def events(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    identity = await authenticate(request, services)
    if SCOPE not in identity.scopes:
        raise errors.Forbidden(details={"required_scopes": [SCOPE]})
    call_id = request.match_info.get("call_id")
    if call_id is not None and not _CALL_ID_RE.match(call_id):
        raise errors.BadRequest("The call id must be 1-128 characters of letters, digits and ._:@-")
    last = request.query.get("last_event_id") or request.headers.get("Last-Event-ID")
    if last is not None and not _EVENT_ID_RE.match(last):
        raise errors.BadRequest("last_event_id must be a notification id (ntf_...).")
    floor = await _start_cursor(services, identity.tenant_id, last)
    cfg = services.settings.live
    connections = request.app[_CONNECTIONS]
    if connections.get(identity.key_id, 0) >= cfg.max_connections_per_key:
        raise errors.RateLimited("Too many event streams for this agent key.",
                                 details={"max_connections_per_key": cfg.max_connections_per_key},
                                 headers={"Retry-After": "5"})
    connections[identity.key_id] = connections.get(identity.key_id, 0) + 1
    try:
        ws = web.WebSocketResponse(heartbeat=cfg.heartbeat_seconds, max_msg_size=4096)
        await ws.prepare(request)
        feed = _Feed(services, identity.tenant_id, call_id, floor)
        reader = asyncio.create_task(_drain(ws))
        try:
            last_sent = time.monotonic()
            while not ws.closed and not reader.done():
                batch = await feed.next_batch()
                async with asyncio.timeout(cfg.send_timeout_seconds):  # back-pressure: a stalled reader goes
                    for item in batch:
                        await ws.send_json(_frame(services, identity.tenant_id, item["id"], item["raw"]))
                        last_sent = time.monotonic()
                    if time.monotonic() - last_sent >= cfg.heartbeat_seconds:
                        await ws.send_json({"type": "heartbeat", "time": int(time.time())})
                        last_sent = time.monotonic()
                if not batch or len(batch) < _BATCH:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(reader), cfg.poll_interval_seconds)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            await ws.close()
        return ws
    finally:
        connections[identity.key_id] -= 1
        if connections[identity.key_id] <= 0:
            del connections[identity.key_id]


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) client frames until the client closes: the stream is one-way."""
    async for msg in ws:
        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break


async def _connections_ctx(app: web.Application) -> AsyncIterator[None]:
    app[_CONNECTIONS] = {}
    yield


def setup_live_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_connections_ctx)
    app.router.add_get("/v1/events", events)
    app.router.add_get("/v1/calls/{call_id}/events", events)
