"""All HTTP routes, in one place."""

from __future__ import annotations

import time

from aiohttp import web

from gateway import errors
from gateway.callbacks import handle_pcipal_callback, handle_pcipal_token
from gateway.dispatch import authenticate, handle_action
from gateway.live import setup_live_routes
from gateway.mcp_server import setup_mcp_routes
from gateway.metrics import metrics_response, scrape_allowed
from gateway.middlewares import REQUEST_ID, json_ok
from gateway.openapi import catalogue_entry, openai_tool, openapi_document
from gateway.redact_service import setup_redact_routes
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


async def pcipal_token(request: web.Request) -> web.Response:
    return await handle_pcipal_token(request, request.app[SERVICES])


async def openapi(request: web.Request) -> web.Response:
    return json_ok(openapi_document(request.app[SERVICES].registry), request[REQUEST_ID])


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition, for the scraper only: ``[metrics] token`` as a bearer token, or nothing here
    when ``[metrics] listen`` moves it to its own listener (and the reverse proxy in deploy/ does not route
    /metrics either)."""
    services = request.app[SERVICES]
    cfg = services.settings.metrics
    if cfg.listen or cfg.token is None:
        raise errors.NotFound("No such endpoint.")
    if not scrape_allowed(request, services.settings, separate_listener=False):
        raise errors.Unauthorized("Missing or invalid metrics token.",
                                  headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return metrics_response(services.metrics)


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
    app.router.add_post("/v1/callbacks/pcipal/{tenant}/token", pcipal_token)
    setup_redact_routes(app)
    setup_mcp_routes(app)
    setup_live_routes(app)
