"""The agent-action flow (DESIGN.md section 3.1):

auth -> rate limit -> action + scope -> body (size, type) -> card-data gate -> params schema ->
idempotency -> run (with a deadline) -> audit -> stored response -> reply.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from adapters.outcomes import ProviderError
from gateway import errors
from gateway.actions.base import Action, ActionContext
from gateway.audit import AlsoInTx, AuditEntry
from gateway.auth import AgentIdentity
from gateway.bodies import check_json_depth, read_body
from gateway.idempotency import derive_call_key, fingerprint
from gateway.logs import tenant_var
from gateway.metrics import provider_seconds
from gateway.middlewares import REQUEST_ID, from_provider_error
from gateway.ratelimit import LimiterUnavailable
from gateway.services import SERVICES, Services
from gateway.store import Executor, StoreUnavailable
from redaction import contains_card_number, redact_json

log = logging.getLogger("voicepay.actions")

_IDEM_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
_CALL_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


async def authenticate(request: web.Request, services: Services) -> AgentIdentity:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise errors.Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="voicepay"'})
    identity = await services.keys.authenticate(token.strip())
    if identity is None or services.settings.tenant(identity.tenant_id) is None:
        raise errors.Unauthorized(headers={"WWW-Authenticate": 'Bearer realm="voicepay"'})
    tenant_var.set(identity.tenant_id)
    try:
        wait = await services.limiter.check(identity.key_id, identity.tenant_id)
    except LimiterUnavailable:
        raise errors.ServiceUnavailable() from None
    if wait > 0:
        raise errors.RateLimited(headers={"Retry-After": str(max(1, round(wait + 0.5)))})
    return identity


async def read_json_body(request: web.Request, limit: int) -> Any:
    """Read the body within the size limit and a time limit, refuse card data, then parse."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    if request.content_type not in ("application/json", "application/octet-stream", ""):
        raise errors.UnsupportedMediaType()
    return parse_gated_json(raw, request.app[SERVICES].settings.http.max_json_depth)


def parse_gated_json(raw: bytes, max_depth: int) -> Any:
    """Depth limit, card-data gate, then parse: for a body read by any face (HTTP, MCP tool arguments)."""
    check_json_depth(raw, max_depth)
    text = raw.decode("utf-8", errors="replace")
    # The gate looks at the raw text first (digits as sent), then at the parsed value re-serialised, which
    # catches numbers hidden behind JSON escapes such as "\u0034".
    if contains_card_number(text):
        raise errors.CardDataNotAccepted()
    try:
        value = json.loads(text)
    except ValueError:
        raise errors.InvalidJson() from None
    if "\\u" in text and contains_card_number(json.dumps(value, ensure_ascii=False)):
        raise errors.CardDataNotAccepted()
    return value


def _validation_details(exc: ValidationError) -> list[dict[str, str]]:
    # Field and problem only; the rejected input is never echoed (it could be anything the bot heard).
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
        for e in exc.errors(include_input=False, include_url=False)
    ]


async def handle_action(request: web.Request, services: Services) -> web.Response:
    identity = await authenticate(request, services)

    async def read_params() -> Any:
        return await read_json_body(request, services.settings.server.max_body_bytes)

    return await dispatch_action(
        services, identity, request.match_info["name"], request.headers, read_params, request[REQUEST_ID],
        query_string=request.query_string,
    )


async def dispatch_action(
    services: Services,
    identity: AgentIdentity,
    name: str,
    headers: Mapping[str, str],
    read_params: Callable[[], Awaitable[Any]],
    rid: str,
    *,
    query_string: str = "",
) -> web.Response:
    """Everything after authentication, for every face (HTTP ``/v1/actions/{name}``, the MCP server in
    gateway/mcp_server.py): scope, card-data gate, params, idempotency, run, audit. ``headers`` supplies
    ``X-Call-Id`` / ``Idempotency-Key``; ``read_params`` returns the decoded body (already through the gate)."""
    tenant = services.settings.tenant(identity.tenant_id)
    assert tenant is not None
    action = services.registry.get(name)
    if action is None:
        raise errors.UnknownAction()
    if not action.scopes <= identity.scopes:
        raise errors.Forbidden(details={"required_scopes": sorted(action.scopes)})
    if contains_card_number(query_string):
        raise errors.CardDataNotAccepted()
    # The call id and the idempotency key are stored (idempotency records, audit, verifications) and logged:
    # the same gate as the body. Both formats allow a bare or dashed run of digits.
    for header in ("X-Call-Id", "Idempotency-Key"):
        value = headers.get(header)
        if value is not None and contains_card_number(value):
            raise errors.CardDataNotAccepted()

    body = await read_params()
    if not isinstance(body, dict):
        raise errors.InvalidJson()
    try:
        params = action.Params.model_validate(body)
    except ValidationError as exc:
        raise errors.ValidationFailed(
            "The parameters are invalid: "
            + "; ".join(f"{d['field']}: {d['problem']}" for d in _validation_details(exc)),
            details={"errors": _validation_details(exc)},
        ) from None
    canonical = params.model_dump(mode="json")

    call_id = headers.get("X-Call-Id")
    if call_id is not None and not _CALL_ID_RE.match(call_id):
        raise errors.BadRequest("X-Call-Id must be 1-128 characters of letters, digits and ._:@-")
    idem_key = headers.get("Idempotency-Key")
    if idem_key is not None and not _IDEM_KEY_RE.match(idem_key):
        raise errors.BadRequest("Idempotency-Key must be 1-255 printable ASCII characters.")
    if idem_key is None and action.writes:
        if call_id is None:
            raise errors.IdempotencyKeyRequired()
        idem_key = derive_call_key(tenant.id, call_id, action.name, canonical)

    if idem_key is not None:
        replay = await services.idempotency.begin(
            tenant.id, action.name, idem_key, fingerprint(canonical), rid
        )
        if replay is not None:
            resp = web.json_response(replay.body, status=replay.status)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp

    ctx = ActionContext(
        services=services,
        tenant=tenant,
        identity=identity,
        action=action.name,
        request_id=rid,
        call_id=call_id,
        idempotency_key=idem_key,
    )
    provider_time = [0.0]
    provider_seconds.set(provider_time)
    started = time.monotonic()
    status, payload, retryable, entry = await _run(action, ctx, params, canonical)
    elapsed = time.monotonic() - started
    store_response: AlsoInTx | None = None
    if idem_key is not None and not retryable:
        key = idem_key

        async def store_response(tx: Executor) -> None:
            await services.idempotency.complete(tenant.id, action.name, key, status, payload, db=tx)

    try:
        # The audit row and the stored response commit together (group-committed with concurrent requests).
        await services.audit.append(entry, store_response)
        if idem_key is not None and retryable:
            if action.writes and entry.outcome == "UNKNOWN":
                # It may have happened at the provider: keep the record for the reconciler (gateway/reconciler.py).
                await services.idempotency.leave_in_doubt(tenant.id, action.name, idem_key)
            else:
                await services.idempotency.release(tenant.id, action.name, idem_key)
    except StoreUnavailable:
        log.error("could not record the outcome of %s (audit, idempotency)", action.name, exc_info=True)
        if not action.writes:
            # Every answered call is audited: a read can simply be asked again once the store is back.
            raise
        # A write may have moved money at the provider: the bot must hear what happened. The record stays in
        # flight until its lease passes; a retry then runs again with the same provider keys, so it replays.
    resp = web.json_response(payload, status=status)
    # Server-Timing (W3C): how much of this action was spent waiting on providers, in milliseconds.
    resp.headers["Server-Timing"] = f"action;dur={elapsed * 1000:.2f}, provider;dur={provider_time[0] * 1000:.2f}"
    return resp


async def _run(
    action: Action, ctx: ActionContext, params: Any, canonical: dict[str, Any]
) -> tuple[int, dict[str, Any], bool, AuditEntry]:
    """Run the action. Returns (status, body, retryable, the audit entry to record)."""
    services = ctx.services
    provider_ids: dict[str, Any] = {}
    started = time.monotonic()
    # What a failure means for money: a write that may have reached a provider is UNKNOWN (retry with the
    # same key: the provider replays), anything else is NOT_ATTEMPTED.
    unknown = "UNKNOWN" if action.writes else "NOT_ATTEMPTED"
    try:
        async with asyncio.timeout(services.settings.server.request_timeout):
            out = await action.run(ctx, params)
        provider_ids = out.provider_ids
        status = 200
        payload: dict[str, Any] = {
            "ok": True,
            "action": action.name,
            "result": out.result.model_dump(mode="json"),
            "say": out.say,
        }
        outcome, error_code, retryable = out.outcome, None, False
    except Exception as exc:
        if isinstance(exc, ProviderError):
            log.warning("provider error in %s: %s (%s)", action.name, exc.code, exc.provider_code or "-")
            err = from_provider_error(exc)
            outcome = exc.outcome.value
        elif isinstance(exc, errors.GatewayError):
            err = exc
            outcome = "REFUSED" if not err.retryable else "NOT_ATTEMPTED"
        elif isinstance(exc, TimeoutError):
            err = errors.ProviderOutcomeUnknown() if action.writes else errors.ProviderUnavailable()
            outcome = unknown
        elif isinstance(exc, StoreUnavailable):
            log.error("store unavailable during %s", action.name, exc_info=True)
            err, outcome = errors.ServiceUnavailable(), unknown
        else:
            # A bug. Answered as a retryable 500 (never a stack trace); the redacted traceback goes to the log.
            log.exception("unhandled error in %s", action.name)
            err, outcome = errors.GatewayError(), unknown
        status, error_code, retryable = err.status, err.code, err.retryable
        provider_ids = err.details.get("provider_ids", {}) if isinstance(err.details, dict) else {}
        payload = {"ok": False, "error": err.to_dict(), "request_id": ctx.request_id}
    services.metrics.requests.labels(action.name, outcome).inc()
    services.metrics.request_duration.labels(action.name).observe(time.monotonic() - started)
    entry = AuditEntry(
        tenant_id=ctx.tenant.id,
        agent_key_id=ctx.identity.key_id,
        action=action.name,
        params=redact_json(canonical),
        outcome=outcome,
        error_code=error_code,
        provider_ids=provider_ids,
        request_id=ctx.request_id,
        call_id=ctx.call_id,
    )
    return status, payload, retryable, entry
