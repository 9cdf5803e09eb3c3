"""The MCP face: every registered action as an MCP tool, at ``/mcp`` of the gateway's own listener.

Built on the official ``mcp`` SDK: a low-level :class:`mcp.server.lowlevel.Server` generated from the action
registry, served by the SDK's :class:`StreamableHTTPSessionManager` (Streamable HTTP transport, stateful
sessions). The SDK speaks ASGI; :func:`_bridge` hands it the aiohttp request, so MCP shares the listener, its
hardening (header/body limits, timeouts), TLS, the reverse proxy and the access log with the HTTP API: one
port to operate, nothing else to start.

* **Auth**: every HTTP request to ``/mcp`` needs ``Authorization: Bearer <agent key>``, checked (and rate
  limited) by the same :func:`gateway.dispatch.authenticate` as ``/v1/actions`` before the SDK sees it. A
  session belongs to the key that opened it (the SDK answers 404 to another key presenting its id).
* **tools/list** lists only the actions the key's scopes allow: name, description, the params' JSON Schema
  (plus an optional ``call_id``).
* **tools/call** runs :func:`gateway.dispatch.dispatch_action`, the HTTP route's own pipeline (card-data gate
  on the arguments, params validation, idempotency, run, audit). The call id is the ``call_id`` argument, or
  else the MCP session id: a write repeated in the same call replays (same answer, one provider operation).
  The result: ``say`` as text content, the action's result as structured content; an error sets ``isError``,
  with the error's ``say`` as text and ``{"error": {...}}`` as structured content.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping, MutableMapping
from typing import Any

from aiohttp import web
from mcp import types
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from gateway import errors
from gateway.actions.base import Action
from gateway.auth import AgentIdentity
from gateway.bodies import read_body
from gateway.dispatch import authenticate, dispatch_action, parse_gated_json
from gateway.logs import tenant_var
from gateway.middlewares import REQUEST_ID
from gateway.services import SERVICES, Services

PATH = "/mcp"
MANAGER: web.AppKey[StreamableHTTPSessionManager] = web.AppKey("mcp_manager", StreamableHTTPSessionManager)
#: Where the bridge leaves the aiohttp request for the tool handlers (the SDK passes the ASGI scope on as
#: ``ctx.request.scope``).
_SCOPE_KEY = "voicepay"
_SESSION_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,100}$")

_CALL_ID_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": "^[A-Za-z0-9._:@-]{1,128}$",
    "description": "The phone call this tool call belongs to (idempotency: a repeated write in the same call "
    "replays). Defaults to the MCP session id.",
}


def tool_for(action: Action) -> types.Tool:
    schema = action.Params.model_json_schema()
    schema.pop("title", None)
    schema.setdefault("properties", {})["call_id"] = _CALL_ID_SCHEMA
    return types.Tool(
        name=action.name,
        description=action.description,
        inputSchema=schema,
        annotations=types.ToolAnnotations(readOnlyHint=not action.writes, idempotentHint=True),
    )


def _context(ctx: ServerRequestContext[Any]) -> tuple[web.Request, AgentIdentity]:
    request = getattr(ctx, "request", None)
    scope = getattr(request, "scope", None)
    state = scope.get(_SCOPE_KEY) if isinstance(scope, Mapping) else None
    if not isinstance(state, tuple):  # only reachable through the bridge, which always sets it
        raise errors.Unauthorized()
    aio_request, identity = state
    return aio_request, identity


def _tool_error(err: errors.GatewayError) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=err.say)],
        structuredContent={"error": err.to_dict()},
        isError=True,
    )


def build_server(services: Services) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        _, identity = _context(ctx)
        return types.ListToolsResult(tools=[tool_for(a) for a in services.registry.allowed(identity.scopes)])

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        request, identity = _context(ctx)
        tenant_var.set(identity.tenant_id)
        arguments = dict(params.arguments or {})
        call_id = arguments.pop("call_id", None)
        headers: dict[str, str] = {}
        try:
            if call_id is None:
                session = request.headers.get("Mcp-Session-Id")
                call_id = f"mcp:{session}" if session and _SESSION_ID_RE.match(session) else None
            elif not isinstance(call_id, str):
                raise errors.BadRequest("call_id must be a string.")
            if call_id is not None:
                headers["X-Call-Id"] = call_id
            # Re-serialised so the gate and the parser see exactly what an HTTP body would carry.
            raw = json.dumps(arguments, ensure_ascii=False).encode()
            depth = services.settings.http.max_json_depth

            async def read_params() -> Any:
                return parse_gated_json(raw, depth)

            resp = await dispatch_action(services, identity, params.name, headers, read_params, request[REQUEST_ID])
        except errors.GatewayError as err:
            return _tool_error(err)
        assert isinstance(resp.body, bytes)
        payload = json.loads(resp.body)
        if not payload.get("ok"):
            error = payload.get("error", {})
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(error.get("say", "")))],
                structuredContent={"error": error},
                isError=True,
            )
        structured = dict(payload["result"])
        if resp.headers.get("Idempotent-Replayed") == "true":
            meta: dict[str, Any] | None = {"voicepay/replayed": True}
        else:
            meta = None
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=payload["say"])],
            structuredContent=structured,
            _meta=meta,
        )

    return Server(
        "voicepay-gateway",
        version="1",
        instructions="Payment actions for voice agents. Speak each result's text to the caller as it is.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def _bridge(request: web.Request) -> web.StreamResponse:
    """Authenticate, then run the SDK's ASGI app on this aiohttp request."""
    services = request.app[SERVICES]
    identity = await authenticate(request, services)
    body = b""
    if request.method == "POST":
        body = await read_body(request, services.settings.server.max_body_bytes)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.raw_path.encode("latin-1"),
        "query_string": request.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.raw_headers],
        "client": (request.remote or "", 0),
        "server": (request.host, 0),
        _SCOPE_KEY: (request, identity),
        # The SDK binds each session to the principal that opened it (another key presenting the session id
        # is answered 404): the agent key's id, never the key itself.
        "user": AuthenticatedUser(
            AccessToken(token="-",  # noqa: S106 (a placeholder: the key itself is not kept)
                        client_id=identity.key_id, scopes=sorted(identity.scopes),
                        subject=identity.tenant_id)
        ),
    }
    done = asyncio.Event()
    sent_body = False
    response: web.StreamResponse | None = None

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # the client is still there until the response ends (a disconnect cancels us)
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal response
        if message["type"] == "http.response.start":
            response = web.StreamResponse(status=message["status"])
            for k, v in message.get("headers", []):
                name = k.decode("latin-1")
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    response.headers.add(name, v.decode("latin-1"))
            response.headers["X-Request-Id"] = request[REQUEST_ID]
        elif message["type"] == "http.response.body":
            assert response is not None
            if not response.prepared:
                await response.prepare(request)
            chunk = message.get("body", b"")
            if chunk:
                await response.write(chunk)
            if not message.get("more_body", False):
                await response.write_eof()
                done.set()

    try:
        await request.app[MANAGER].handle_request(scope, receive, send)
    finally:
        done.set()
    if response is None:
        raise errors.GatewayError()
    if not response.prepared:
        await response.prepare(request)
        await response.write_eof()
    return response


async def _manager_ctx(app: web.Application) -> AsyncIterator[None]:
    manager = StreamableHTTPSessionManager(
        app=build_server(app[SERVICES]),
        json_response=True,
        max_request_body_size=app[SERVICES].settings.server.max_body_bytes,
    )
    app[MANAGER] = manager
    started = asyncio.Event()
    stop = asyncio.Event()

    async def run() -> None:
        # The SDK's task group must be entered and left by one task: aiohttp's startup and cleanup may not be.
        async with manager.run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="mcp-session-manager")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raises what stopped it
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


def setup_mcp_routes(app: web.Application) -> None:
    """``/mcp`` (POST messages, GET the server's stream, DELETE a session). The manager's context runs after
    the services' one (it reads the registry and settings)."""
    app.cleanup_ctx.append(_manager_ctx)
    app.router.add_route("POST", PATH, _bridge)
    app.router.add_route("GET", PATH, _bridge)
    app.router.add_route("DELETE", PATH, _bridge)
