"""The agent-action flow (DESIGN.md section 3.1):

auth -> rate limit -> action + scope -> body (size, type) -> card-data gate -> params schema ->
idempotency -> run (with a deadline) -> audit -> stored response -> reply.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from adapters.outcomes import ProviderError
from gateway import errors, speech
from gateway.actions.base import Action, ActionContext
from gateway.audit import AlsoInTx, AuditEntry
from gateway.auth import AgentIdentity
from gateway.bodies import check_json_depth, read_body
from gateway.idempotency import Pending, Replay, derive_call_key, fingerprint
from gateway.logs import tenant_var
from gateway.metrics import provider_seconds
from gateway.middlewares import REQUEST_ID, from_provider_error
from gateway.notifications import emit_notification
from gateway.operations import DEADLINE_HEADER, NOTIFICATION_KIND, Operation, operation_id, pending_body
from gateway.ratelimit import LimiterUnavailable
from gateway.services import SERVICES, Services
from gateway.speech import LOCALE_HEADER
from gateway.store import Executor, StoreUnavailable
from gateway.store.guard import WITHHELD, guard_text, redact_value, value_has_card
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


def _joined_strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.append(str(k))
            _joined_strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _joined_strings(v, out)


def refuse_split_card(body: Any) -> None:
    """The cross-field check: the body's strings (keys and values, in order) read as one text, so a number
    split over two fields (half in ``summary``, half in ``payment_ids``) is refused like a whole one. Integers
    split over sibling values are the gate's own JSON check (``contains_card_number`` on the raw body)."""
    parts: list[str] = []
    _joined_strings(body, parts)
    if len(parts) > 1:
        joined = " ".join(p for p in parts if any(ch.isdigit() for ch in p))
        if len(joined) >= 12 and contains_card_number(joined):
            raise errors.CardDataNotAccepted()


@functools.cache
def _declared_names(model: type[BaseModel]) -> frozenset[str]:
    """Every property name declared anywhere in the params schema (nested models included)."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                names.update(k for k in props if isinstance(k, str))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(model.model_json_schema())
    return frozenset(names)


def _validation_details(exc: ValidationError, model: type[BaseModel]) -> list[dict[str, str]]:
    # Field and problem only; the rejected input is never echoed (it could be anything the bot heard), and
    # neither is a key the schema does not declare (an unknown key, a key of a free-form map): the bot may
    # have put card digits there.
    known = _declared_names(model)
    out = []
    for e in exc.errors(include_input=False, include_url=False):
        path = [p if isinstance(p, int) or p in known else "(unknown field)" for p in e["loc"]]
        out.append({"field": ".".join(str(p) for p in path) or "(body)", "problem": guard_text(e["msg"])})
    return out


def guard_body(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The response guard: every JSON body the action pipeline answers (and stores for replays) passes here.

    Returns the body and its JSON text (what is sent). Detection walks the body once (``value_has_card``:
    strings, integers, numbers split over fields); only a body that holds a card number pays for redaction
    (``redact_json``, which also masks by key name, so it is not run on clean bodies where a field named e.g.
    ``number`` would be masked for nothing).
    """
    if value_has_card(payload):
        log.warning("card data removed from a response body")
        payload = redact_value(payload)
        if value_has_card(payload):  # the redactor could not pin it down: withhold the result, keep the shape
            payload = {k: v for k, v in payload.items() if k not in ("result", "say", "say_ssml")}
            payload["say"] = WITHHELD
    return payload, json.dumps(payload)


async def handle_action(request: web.Request, services: Services) -> web.Response:
    received = time.monotonic()
    # Errors before the tenant is known (authentication) are said in the caller's language if it is supported.
    speech.set_locale(speech.choose_locale(request.headers.get(LOCALE_HEADER), request.headers.get("Accept-Language"),
                                           None))
    identity = await authenticate(request, services)

    async def read_params() -> Any:
        return await read_json_body(request, services.settings.server.max_body_bytes)

    return await dispatch_action(
        services, identity, request.match_info["name"], request.headers, read_params, request[REQUEST_ID],
        query_string=request.query_string, received=received,
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
    received: float | None = None,
    operator: str | None = None,
) -> web.Response:
    """Everything after authentication, for every face (HTTP ``/v1/actions/{name}``, the MCP server in
    gateway/mcp_server.py): scope, card-data gate, params, idempotency, run, audit. ``headers`` supplies
    ``X-Call-Id`` / ``Idempotency-Key`` / ``X-Deadline-Ms``; ``read_params`` returns the decoded body (already
    through the gate); ``received`` is when the request arrived (the turn budget counts from it).
    ``operator`` names the console operator acting (gateway/console/refunds.py), None for the bot."""
    received = time.monotonic() if received is None else received
    tenant = services.settings.tenant(identity.tenant_id)
    assert tenant is not None
    # Everything said from here on (and in deadline-mode work, which copies this context) is in this locale.
    speech.set_locale(speech.choose_locale(headers.get(LOCALE_HEADER), headers.get("Accept-Language"), tenant.locale))
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
    refuse_split_card(body)
    # Strict tool calling (gateway/openapi.py) sends every field, null for the ones not used: null means "not
    # given", so a field's default applies and both forms are one request (one idempotency fingerprint).
    body = {k: v for k, v in body.items() if v is not None}
    try:
        params = action.Params.model_validate(body)
    except ValidationError as exc:
        details = _validation_details(exc, action.Params)
        raise errors.ValidationFailed(
            "The parameters are invalid: " + "; ".join(f"{d['field']}: {d['problem']}" for d in details),
            say=speech.validation_say(details),
            details={"errors": details},
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

    deadline = _deadline_seconds(headers, tenant.default_deadline_ms, services.settings.server.request_timeout)
    if idem_key is not None:
        claim = await services.idempotency.begin(
            tenant.id, action.name, idem_key, fingerprint(canonical), rid
        )
        if isinstance(claim, Replay):
            resp = web.json_response(claim.body, status=claim.status)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
        if isinstance(claim, Pending):
            return await _still_pending(services, action.name, claim.operation_id, deadline, received)

    ctx = ActionContext(
        services=services,
        tenant=tenant,
        identity=identity,
        action=action.name,
        request_id=rid,
        call_id=call_id,
        idempotency_key=idem_key,
        operator=operator,
    )
    op = Operation(
        id=operation_id(tenant.id, action.name, idem_key) if idem_key is not None else "op_" + secrets.token_hex(16),
        action=action.name,
        key=idem_key,
    )
    work = _work(action, ctx, params, canonical, op)
    if deadline is None:
        status, payload, headers = await work
    else:
        # --- deadline mode (gateway/operations.py): stop waiting at the deadline, never stop the work ---
        task = services.operations.start(op, work)
        done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - (time.monotonic() - received)))
        if not done and not op.recording:
            op.pending = True
            await services.operations.mark_pending(
                services.store, tenant.id, op, fingerprint(canonical), rid,
                ttl=services.settings.idempotency.ttl_hours * 3600,
                lease=services.settings.idempotency.lease_seconds,
            )
            services.metrics.requests.labels(action.name, "PENDING").inc()
            return _pending_response(action.name, op.id)
        # Finished in time, or only its outcome is being written: the caller gets the answer itself.
        status, payload, headers = await task
    resp = web.json_response(payload, status=status)
    resp.headers.update(headers)
    return resp


def _deadline_seconds(headers: Mapping[str, str], tenant_default_ms: int | None, work_limit: float) -> float | None:
    """The caller's turn budget: ``X-Deadline-Ms``, else the tenant's default, else none (wait for the work)."""
    raw = headers.get(DEADLINE_HEADER)
    if raw is None:
        ms = tenant_default_ms
    elif raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= 600_000:
        ms = int(raw)
    else:
        raise errors.BadRequest(f"{DEADLINE_HEADER} must be a whole number of milliseconds from 1 to 600000.")
    if ms is None or ms / 1000 >= work_limit:
        return None  # the work's own limit comes first anyway
    return ms / 1000


def _pending_response(action: str, op_id: str) -> web.Response:
    resp = web.json_response(pending_body(action, op_id), status=202)
    resp.headers["Retry-After"] = "1"
    return resp


async def _still_pending(
    services: Services, action: str, op_id: str, deadline: float | None, received: float
) -> web.Response:
    """A repeat of a call that went ``pending``: the answer if it arrives within this turn, else ``pending``."""
    op = services.operations.running(op_id)
    if op is not None and op.task is not None and deadline is not None:
        done, _ = await asyncio.wait({op.task}, timeout=max(0.0, deadline - (time.monotonic() - received)))
        if done and not op.task.cancelled() and op.task.exception() is None:
            status, payload, _headers = op.task.result()
            resp = web.json_response(payload, status=status)
            resp.headers["Idempotent-Replayed"] = "true"
            return resp
    return _pending_response(action, op_id)


async def _work(
    action: Action, ctx: ActionContext, params: Any, canonical: dict[str, Any], op: Operation
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Run the action and record its outcome (audit + stored answer); returns (status, body, headers)."""
    services = ctx.services
    tenant_id = ctx.tenant.id
    provider_time = [0.0]
    provider_seconds.set(provider_time)
    started = time.monotonic()
    status, payload, retryable, entry, err_headers = await _run(action, ctx, params, canonical)
    payload, _text = guard_body(payload)
    elapsed = time.monotonic() - started
    op.recording = True
    if op.pending:
        await op.marked.wait()  # the `pending` mark (or a keyless read's record) exists before the outcome
    key = op.key
    store_response: AlsoInTx | None = None
    # A retryable failure frees the key for the bot's retry; once the caller was told `pending`, it is kept as
    # `retry` instead, so operations.get and the notification can tell what happened.
    if key is not None and (not retryable or op.pending):
        pending = op.pending

        async def store_response(tx: Executor) -> None:
            if retryable:
                await services.idempotency.keep_for_retry(tenant_id, action.name, key, status, payload, db=tx)
            else:
                await services.idempotency.complete(tenant_id, action.name, key, status, payload, db=tx)
            if pending:
                await _notify_completed(tx, ctx, op, status, payload)

    try:
        # The audit row and the stored response commit together (group-committed with concurrent requests).
        await services.audit.append(entry, store_response)
        if key is not None and retryable and not op.pending:
            if action.writes and entry.outcome == "UNKNOWN":
                # It may have happened at the provider: keep the record for the reconciler (gateway/reconciler.py).
                await services.idempotency.leave_in_doubt(tenant_id, action.name, key)
            else:
                await services.idempotency.release(tenant_id, action.name, key)
    except StoreUnavailable:
        log.error("could not record the outcome of %s (audit, idempotency)", action.name, exc_info=True)
        if not action.writes:
            # Every answered call is audited: a read can simply be asked again once the store is back.
            raise
        # A write may have moved money at the provider: the bot must hear what happened. The record stays in
        # flight until its lease passes; a retry then runs again with the same provider keys, so it replays.
    # Server-Timing (W3C): how much of this action was spent waiting on providers, in milliseconds.
    headers = {**err_headers,
               "Server-Timing": f"action;dur={elapsed * 1000:.2f}, provider;dur={provider_time[0] * 1000:.2f}"}
    return status, payload, headers


async def _notify_completed(
    tx: Executor, ctx: ActionContext, op: Operation, status: int, payload: dict[str, Any]
) -> None:
    """``operation.completed``: the final answer of an operation whose caller was told ``pending``."""
    error = payload.get("error") if isinstance(payload.get("error"), dict) else None
    say = str(error["say"]) if error is not None else str(payload.get("say", ""))
    data: dict[str, Any] = {"operation_id": op.id, "action": op.action, "status_code": status, "response": payload}
    if ctx.call_id is not None:
        data["call_id"] = ctx.call_id
    await emit_notification(
        tx, ctx.tenant.id, NOTIFICATION_KIND, data, say,
        status="succeeded" if payload.get("ok") else "failed",
        dedupe_key=f"operation:{op.id}:{ctx.request_id}",
    )


async def _run(
    action: Action, ctx: ActionContext, params: Any, canonical: dict[str, Any]
) -> tuple[int, dict[str, Any], bool, AuditEntry, dict[str, str]]:
    """Run the action. Returns (status, body, retryable, the audit entry to record, the error's headers)."""
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
            "say_ssml": speech.ssml(out.say),
        }
        outcome, error_code, retryable = out.outcome, None, False
        err_headers: dict[str, str] = {}
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
        err_headers = err.headers  # Retry-After on every 429 / 503
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
    return status, payload, retryable, entry, err_headers
