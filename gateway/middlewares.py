"""Request id, uniform JSON errors, and the no-bare-500 guarantee."""

from __future__ import annotations

import logging
import math
import secrets
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from adapters.outcomes import ProviderError
from gateway import errors, speech
from gateway.logs import request_id_var, tenant_var
from gateway.services import SERVICES
from gateway.store import StoreUnavailable

log = logging.getLogger("voicepay.http")

REQUEST_ID = web.RequestKey("request_id", str)

#: The ``Server`` header of every answer: no product version (aiohttp's default names Python and aiohttp
#: versions, a free hint for anyone matching known vulnerabilities).
SERVER_NAME = "voicepay-gateway"


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def error_response(err: errors.GatewayError, request_id: str) -> web.Response:
    resp = web.json_response(
        {"ok": False, "error": err.to_dict(), "request_id": request_id}, status=err.status
    )
    for k, v in err.headers.items():
        resp.headers[k] = v
    return resp


def from_provider_error(exc: ProviderError) -> errors.GatewayError:
    """Map an adapter's error onto the gateway's tree (the bot hears ``say``; the log keeps the detail)."""
    from adapters import outcomes as o

    if isinstance(exc, o.ProviderTimeout):
        return errors.ProviderOutcomeUnknown()
    if isinstance(exc, o.ProviderUnavailable):
        # Rounded up: a bot told to come back before the next probe would only hear another 503.
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))} if exc.retry_after else None
        return errors.ProviderUnavailable(headers=headers)
    if isinstance(exc, o.ProviderDeclined):
        return errors.PaymentDeclined(
            details={"provider_code": exc.provider_code} if exc.provider_code else None
        )
    if isinstance(exc, o.ProviderNotFound):
        return errors.NotFound("The provider has no such object.", say=speech.say("provider.not_found"))
    if isinstance(exc, o.ProviderIdempotencyError):
        return errors.IdempotencyKeyReused()
    if isinstance(exc, o.ProviderAuthError):
        # Our credentials are wrong or lack a permission: an operator must fix the config; the bot can't.
        return errors.ProviderUnavailable("The gateway's provider credentials were refused.")
    return errors.Unprocessable(
        "The provider refused the request.",
        details={"provider_code": exc.provider_code} if exc.provider_code else None,
    )


def _http_exception_to_error(exc: web.HTTPException) -> errors.GatewayError:
    status = exc.status
    if status == 404:
        return errors.NotFound("No such endpoint.")
    if status == 405:
        return errors.BadRequest("Method not allowed.", headers={"Allow": exc.headers.get("Allow", "")})
    if status == 413:
        return errors.PayloadTooLarge()
    if 400 <= status < 500:
        return errors.BadRequest(exc.reason)
    return errors.GatewayError()


def _count_response(request: web.Request, status: int) -> None:
    services = request.app.get(SERVICES)
    if services is None:
        return
    # The route template (e.g. /v1/actions/{name}), never the concrete path: a closed set of label values.
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    services.metrics.http_responses.labels(route, str(status)).inc()


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = new_request_id()
    request[REQUEST_ID] = rid
    token = request_id_var.set(rid)
    tenant_token = tenant_var.set(None)
    # The listener's protocol (gateway.server) stops its header-read clock while a request is handled.
    protocol = request.protocol
    started = getattr(protocol, "request_started", None)
    if started is not None:
        started()
    try:
        try:
            resp = await handler(request)
        except errors.GatewayError as err:
            resp = error_response(err, rid)
        except ProviderError as exc:
            log.warning("provider error: %s (%s)", exc.code, exc.provider_code or "-")
            resp = error_response(from_provider_error(exc), rid)
        except StoreUnavailable:
            log.error("store unavailable", exc_info=True)
            resp = error_response(errors.ServiceUnavailable(), rid)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            resp = error_response(_http_exception_to_error(exc), rid)
        except Exception:
            # Never a bare 500 or a stack trace to the client; the (redacted) traceback goes to the log.
            log.exception("unhandled error")
            resp = error_response(errors.GatewayError(), rid)
        resp.headers["X-Request-Id"] = rid
        resp.headers["Server"] = SERVER_NAME
        _count_response(request, resp.status)
        return resp
    finally:
        request_id_var.reset(token)
        tenant_var.reset(tenant_token)
        finished = getattr(protocol, "request_finished", None)
        if finished is not None:
            finished()


def json_ok(payload: dict[str, Any], request_id: str, status: int = 200) -> web.Response:
    resp = web.json_response(payload, status=status)
    resp.headers["X-Request-Id"] = request_id
    return resp
