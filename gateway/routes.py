"""All HTTP routes, in one place."""

from __future__ import annotations

import time

from aiohttp import web

from gateway.callbacks import handle_pcipal_callback
from gateway.dispatch import authenticate, handle_action
from gateway.metrics import CONTENT_TYPE
from gateway.middlewares import REQUEST_ID, json_ok
from gateway.openapi import catalogue_entry, openai_tool, openapi_document
from gateway.services import SERVICES as SERVICES  # re-exported: handlers import it from here
from gateway.webhooks import stripe_webhook


async def healthz(request: web.Request) -> web.Response:
    return json_ok({"ok": True, "status": "alive"}, request[REQUEST_ID])


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        await services.store.ping()
        current = await services.store.is_current()
    except Exception:  # readiness is a yes/no question; the reason goes to the log via the store
        current = False
        reachable = False
    else:
        reachable = True
    status = 200 if reachable and current else 503
    resp = json_ok(
        {"ok": status == 200, "store": "reachable" if reachable else "unreachable", "migrations": current},
        request[REQUEST_ID],
        status=status,
    )
    if status == 503:
        resp.headers["Retry-After"] = "1"  # every 503 says when to ask again
    return resp


async def list_actions(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    identity = await authenticate(request, services)
    actions = services.registry.allowed(identity.scopes)
    if request.query.get("format") == "openai":
        names = frozenset(a.name for a in services.registry.all())
        return json_ok({"tools": [openai_tool(a, names) for a in actions]}, request[REQUEST_ID])
    return json_ok({"actions": [catalogue_entry(a) for a in actions]}, request[REQUEST_ID])


async def run_action(request: web.Request) -> web.Response:
    return await handle_action(request, request.app[SERVICES])


async def pcipal_callback(request: web.Request) -> web.Response:
    return await handle_pcipal_callback(request, request.app[SERVICES])


async def openapi(request: web.Request) -> web.Response:
    return json_ok(openapi_document(request.app[SERVICES].registry), request[REQUEST_ID])


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition. Labels carry no request content; still, expose it to the scraper only
    (the reverse proxy in deploy/ does not route /metrics)."""
    body = request.app[SERVICES].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def root(request: web.Request) -> web.Response:
    return json_ok({"ok": True, "service": "voicepay-gateway", "time": time.time()}, request[REQUEST_ID])


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/v1/actions", list_actions)
    app.router.add_post("/v1/actions/{name}", run_action)
    app.router.add_post("/v1/webhooks/stripe/{tenant}", stripe_webhook)
    app.router.add_post("/v1/callbacks/pcipal/{tenant}", pcipal_callback)
