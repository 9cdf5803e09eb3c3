"""The transcript scrubbing service: the gateway's card-data detector for text the gateway never handles.

* ``POST /v1/redact`` with ``{"text": "..."}`` or ``{"json": <any JSON value>}`` answers the redacted value and
  the findings: kind (``pan``/``cvv``/``expiry``), brand and offsets (text) or JSON path, never the digits.
* ``GET /v1/redact/stream`` (WebSocket) for live interim transcripts: the client sends ``{"text": chunk}``
  frames and ``{"flush": true}`` at the end of an utterance; the server answers ``{"text": redacted}`` as
  soon as a part can no longer become card data (:class:`redaction.StreamRedactor`: a number split over
  chunks is still caught, and the concatenated output equals ``POST /v1/redact`` on the whole text). A
  flush answers ``{"text": rest, "flushed": true}`` and starts a new stream on the same connection.

Both need an agent key with scope ``redact:use``. Limits (``[redact]`` settings): body, frame and stream
sizes, frames per second per key (a limiter of its own, same implementation as ``[rate_limit]``), an idle
timeout; the request and the upgrade count against ``[rate_limit]`` like an action.

Nothing of the input is stored or logged: handlers keep it in local variables only, errors are built from
constants, and nothing here writes to the store or passes text to a logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSMsgType, web

from gateway import errors
from gateway.auth import AgentIdentity
from gateway.bodies import check_json_depth, read_body
from gateway.dispatch import authenticate
from gateway.middlewares import REQUEST_ID, json_ok
from gateway.ratelimit import Limiter, LimiterUnavailable, RateLimiter, retry_after
from gateway.services import SERVICES
from redaction import Finding, StreamRedactor, redact, redact_json, scan

SCOPE = "redact:use"
FRAME_LIMITER: web.AppKey[Limiter] = web.AppKey("redact_frame_limiter", Limiter)

#: WebSocket close codes (4000-4999 are the application's): rate limited, too large, bad frame, idle.
CLOSE_RATE_LIMITED = 4429
CLOSE_TOO_LARGE = 4413
CLOSE_BAD_FRAME = 4400
CLOSE_IDLE = 4408


def _text_findings(text: str) -> list[dict[str, Any]]:
    return [_finding(f) for f in scan(text)]


def _finding(f: Finding) -> dict[str, Any]:
    # Offsets are in Unicode code points of the input string (Python/JSON string indexing). No last4: the
    # caller asked for digits to go, and the redacted text already says what it may.
    out: dict[str, Any] = {"kind": f.kind, "start": f.start, "end": f.end}
    if f.brand:
        out["brand"] = f.brand
    return out


def _marker_kind(value: str) -> str:
    if value.startswith("[cvv"):
        return "cvv"
    if value.startswith("[expiry"):
        return "expiry"
    return "pan"


def _json_findings(before: Any, after: Any, path: str, out: list[dict[str, Any]]) -> None:
    """Findings of ``redact_json``: each changed leaf with its path; kinds and offsets from a scan of the leaf
    when the text itself shows card data, else (by key name, split across siblings) from the marker."""
    if isinstance(before, dict) and isinstance(after, dict):
        for k, v in before.items():
            _json_findings(v, after.get(k), f"{path}.{k}" if path else str(k), out)
        return
    if isinstance(before, list) and isinstance(after, list):
        for i, (b, a) in enumerate(zip(before, after, strict=False)):
            _json_findings(b, a, f"{path}[{i}]", out)
        return
    if before == after:
        return
    found = scan(before) if isinstance(before, str) else []
    if found:
        out.extend({"path": path, **_finding(f)} for f in found)
    else:
        out.append({"path": path, "kind": _marker_kind(after) if isinstance(after, str) else "pan"})


async def _identity(request: web.Request) -> AgentIdentity:
    identity = await authenticate(request, request.app[SERVICES])
    if SCOPE not in identity.scopes:
        raise errors.Forbidden(details={"required_scopes": [SCOPE]})
    return identity


async def redact_once(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await _identity(request)
    cfg = services.settings.redact
    raw = await read_body(request, cfg.max_body_bytes)
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        raise errors.UnsupportedMediaType()
    check_json_depth(raw, services.settings.http.max_json_depth)
    try:
        body = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise errors.InvalidJson() from None
    if not isinstance(body, dict) or len(body) != 1 or not ({"text", "json"} & body.keys()):
        raise errors.BadRequest('Send {"text": "..."} or {"json": <value>}.')
    if "text" in body:
        text = body["text"]
        if not isinstance(text, str):
            raise errors.BadRequest('"text" must be a string.')
        return json_ok({"ok": True, "text": redact(text), "findings": _text_findings(text)}, request[REQUEST_ID])
    value = body["json"]
    redacted = redact_json(value)
    findings: list[dict[str, Any]] = []
    _json_findings(value, redacted, "", findings)
    return json_ok({"ok": True, "json": redacted, "findings": findings}, request[REQUEST_ID])


async def _close(ws: web.WebSocketResponse, code: int, error: errors.GatewayError) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_json({"error": error.to_dict()})
        await ws.close(code=code, message=error.code.encode())


async def redact_stream(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    identity = await _identity(request)  # before the upgrade: a refused key gets an ordinary JSON error
    cfg = services.settings.redact
    limiter = request.app[FRAME_LIMITER]
    ws = web.WebSocketResponse(
        max_msg_size=cfg.max_frame_bytes, heartbeat=30.0, receive_timeout=cfg.idle_timeout_seconds
    )
    await ws.prepare(request)
    redactor = StreamRedactor()
    stream_bytes = 0
    try:
        while True:
            try:
                msg = await ws.receive()
            except TimeoutError:
                await _close(ws, CLOSE_IDLE, errors.RequestTimeout("No frame within the idle timeout."))
                break
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                break
            if msg.type == WSMsgType.ERROR:
                # Mostly a frame over max_msg_size: aiohttp has already closed with 1009 (message too big).
                break
            if msg.type != WSMsgType.TEXT:
                await _close(ws, CLOSE_BAD_FRAME, errors.BadRequest("Send JSON text frames."))
                break
            try:
                wait = await limiter.check(identity.key_id, identity.tenant_id)
            except LimiterUnavailable:
                await _close(ws, CLOSE_RATE_LIMITED, errors.ServiceUnavailable())
                break
            if wait > 0:
                # Dropping a frame would break the stream's guarantee; the client reconnects and resends.
                await _close(ws, CLOSE_RATE_LIMITED, errors.RateLimited(details={"retry_after": retry_after(wait)}))
                break
            try:
                frame = json.loads(msg.data)
            except ValueError:
                await _close(ws, CLOSE_BAD_FRAME, errors.InvalidJson())
                break
            if isinstance(frame, dict) and frame.get("flush") is True and "text" not in frame:
                await ws.send_json({"text": redactor.flush(), "flushed": True})
                redactor = StreamRedactor()
                stream_bytes = 0
                continue
            chunk = frame.get("text") if isinstance(frame, dict) and len(frame) == 1 else None
            if not isinstance(chunk, str):
                await _close(ws, CLOSE_BAD_FRAME, errors.BadRequest('Send {"text": chunk} or {"flush": true}.'))
                break
            stream_bytes += len(msg.data)
            if stream_bytes > cfg.max_stream_bytes:
                await _close(
                    ws, CLOSE_TOO_LARGE, errors.PayloadTooLarge(details={"limit_bytes": cfg.max_stream_bytes})
                )
                break
            out = redactor.feed(chunk)
            if out:
                await ws.send_json({"text": out})
    finally:
        # Whatever the redactor still holds back is dropped with it: unflushed text is never released.
        await ws.close()
    return ws


async def _frame_limiter_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SERVICES].settings
    cfg = settings.redact
    limits = settings.rate_limit.model_copy(
        update={
            "per_key_rate": cfg.frames_per_second,
            "burst": cfg.frames_burst,
            "per_tenant_rate": cfg.frames_per_second * 20,
            "per_tenant_burst": cfg.frames_burst * 20,
        }
    )
    limiter = RateLimiter(limits, prefix="voicepay:rl:redact:")
    app[FRAME_LIMITER] = limiter
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(limiter.close(), 5)


def setup_redact_routes(app: web.Application) -> None:
    """Routes and the frame limiter (its context runs after the services' one: it reads the settings)."""
    app.cleanup_ctx.append(_frame_limiter_ctx)
    app.router.add_post("/v1/redact", redact_once)
    app.router.add_get("/v1/redact/stream", redact_stream)
