"""Console routes: login/logout, cases, audit, events. Every POST carries the session's CSRF token; every
operator action is appended to the tenant's audit hash chain; an operator sees only the tenants they have a
role in (another tenant's case or event answers 404, as if it did not exist)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway import audit as audit_log
from gateway.audit import AuditEntry
from gateway.console import PREFIX
from gateway.console.auth import (
    Operator,
    Role,
    Session,
    authenticate,
    clear_attempts,
    close_session,
    count_attempt,
    csrf_ok,
    load_session,
    open_session,
)
from gateway.middlewares import REQUEST_ID
from gateway.services import SERVICES, Services
from gateway.settings import Settings
from gateway.store import Executor
from redaction import redact

log = logging.getLogger("voicepay.console")

SESSION = web.RequestKey("console_session", Session)
SETTINGS = web.AppKey("console_settings", Settings)

#: No script, no inline style, no framing, forms post only to us.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Forms are a few fields; nothing bigger is read.
MAX_FORM_BYTES = 16 * 1024
MAX_NOTE_CHARS = 2000
LOGIN_CSRF_COOKIE = "voicepay_console_login"
PUBLIC_PATHS = {f"{PREFIX}/login", f"{PREFIX}/static/console.css"}
CASE_STATES = ("open", "claimed", "resolved")
_VERIFIED = re.compile(r"([\w.-]{1,64}):(ok|broken):(\d{1,12}):(\d{1,12})")
_REPLAYED = re.compile(r"(webhook|notification):[\w.-]{1,128}")


class ConsoleError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _services(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


def _settings(request: web.Request) -> Settings:
    return request.config_dict[SETTINGS]


def cookie_name(settings: Settings) -> str:
    return "__Host-voicepay_console" if settings.console.secure_cookie else "voicepay_console"


def _ts(value: Any) -> str:
    if value is None:
        return ""
    return dt.datetime.fromtimestamp(float(value), dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _pretty(value: Any) -> str:
    """Stored JSON, indented for reading (still the stored, redacted text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    session = request.get(SESSION)
    base = {"session": session, "operator": session.operator if session else None,
            "csrf": session.csrf_token if session else "", "prefix": PREFIX, "page": ""}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


# --- middleware -------------------------------------------------------------------------------------------


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        resp = await _guarded(request, handler)
    except ConsoleError as err:
        resp = _render(request, "error.html", {"message": err.message, "status": err.status}, status=err.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        resp = _render(request, "error.html", {"message": exc.reason, "status": exc.status}, status=exc.status)
    for k, v in SECURITY_HEADERS.items():
        resp.headers[k] = v
    return resp


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        raise ConsoleError(405, "Method not allowed.")
    origin = request.headers.get("Origin")
    # Host only: behind a TLS-terminating proxy the scheme seen here may be http while the browser's is https.
    if request.method == "POST" and origin not in (None, "null") and urlsplit(origin).netloc != request.host:
        raise ConsoleError(403, "Cross-site form posts are refused.")
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    token = request.cookies.get(cookie_name(_settings(request)), "")
    session = await load_session(_services(request).store, token)
    if session is None:
        if request.method == "POST":
            raise ConsoleError(401, "Your session has expired. Log in again.")
        return _redirect(f"{PREFIX}/login")
    request[SESSION] = session
    if request.method == "POST":
        form = await _form(request)
        if not csrf_ok(session, form.get("csrf")):
            raise ConsoleError(403, "This form is stale or was not sent by the console (CSRF check failed).")
    return await handler(request)


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise ConsoleError(413, "Form too large.")
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ConsoleError(415, "Forms only.")
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


# --- helpers ----------------------------------------------------------------------------------------------


def _session(request: web.Request) -> Session:
    return request[SESSION]


def _tenant_for(request: web.Request, tenant_id: str, needed: Role = "viewer") -> str:
    """The tenant if the operator may act there; 404 if they have no role in it (never reveal it exists)."""
    operator = _session(request).operator
    if operator.role_in(tenant_id) is None:
        raise ConsoleError(404, "No such page.")
    if not operator.can(tenant_id, needed):
        raise ConsoleError(403, f"Your role in this tenant does not allow that (needs {needed}).")
    return tenant_id


async def _audit(
    request: web.Request, tenant_id: str, action: str, params: dict[str, Any], *, outcome: str = "SUCCEEDED",
    call_id: str | None = None, also: Callable[[Executor], Awaitable[None]] | None = None,
    operator: Operator | None = None,
) -> None:
    op = operator or _session(request).operator
    entry = AuditEntry(
        tenant_id=tenant_id,
        action=action,
        params={"operator": op.username, "operator_id": op.id, **params},
        outcome=outcome,
        request_id=request[REQUEST_ID],
        call_id=call_id,
    )
    await _services(request).audit.append(entry, also)


def _client_addr(request: web.Request) -> str:
    return request.remote or "unknown"


# --- login / logout ---------------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.method == "POST":
        return await _login_post(request)
    return _login_form(request)


def _login_form(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    settings = _settings(request)
    csrf = secrets.token_urlsafe(32)
    resp = _render(request, "login.html", {"login_csrf": csrf, "error": error}, status=status)
    resp.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="Strict", secure=settings.console.secure_cookie,
                    path=f"{PREFIX}/login", max_age=3600)
    return resp


async def _login_post(request: web.Request) -> web.StreamResponse:
    settings = _settings(request)
    store = _services(request).store
    form = await _form(request)
    # Double submit: the form's token must match the cookie set with the form (no session exists yet).
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_ok(Session(Operator("", "", {}), cookie, 0, ""), form.get("csrf")):
        raise ConsoleError(403, "This form is stale or was not sent by the console (CSRF check failed).")
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")[:1024]
    cfg = settings.console
    user_key, addr_key = f"user:{username.lower()}", f"addr:{_client_addr(request)}"
    per_user = await count_attempt(store, user_key, cfg.login_window_seconds)
    per_addr = await count_attempt(store, addr_key, cfg.login_window_seconds)
    if per_user > cfg.login_attempts or per_addr > cfg.login_attempts_per_address:
        log.warning("console login refused: too many attempts")
        return _login_form(request, "Too many login attempts. Try again later.", status=429)
    operator = await authenticate(store, username, password)
    if operator is None:
        log.info("console login failed")
        return _login_form(request, "Wrong username or password.", status=401)
    await clear_attempts(store, user_key)
    token, session = await open_session(store, operator, cfg.session_ttl_seconds)
    for tenant_id in sorted(operator.roles):
        await _audit(request, tenant_id, "console.login", {"role": operator.roles[tenant_id]}, operator=operator)
    resp = _redirect(f"{PREFIX}/cases")
    resp.set_cookie(cookie_name(settings), token, httponly=True, samesite="Strict", secure=cfg.secure_cookie,
                    path="/", max_age=cfg.session_ttl_seconds)
    resp.del_cookie(LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    del session
    return resp


async def logout(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    await close_session(_services(request).store, session)
    for tenant_id in sorted(session.operator.roles):
        await _audit(request, tenant_id, "console.logout", {})
    resp = _redirect(f"{PREFIX}/login")
    resp.del_cookie(cookie_name(_settings(request)), path="/")
    return resp


async def index(request: web.Request) -> web.StreamResponse:
    return _redirect(f"{PREFIX}/cases")


# --- cases --------------------------------------------------------------------------------------------------


async def cases(request: web.Request) -> web.Response:
    operator = _session(request).operator
    state = request.query.get("state", "open")
    if state not in CASE_STATES:
        state = "open"
    tenants = sorted(operator.roles)
    rows: list[dict[str, Any]] = []
    store = _services(request).store
    for tenant_id in tenants:
        found = await store.fetchall(
            "SELECT e.tenant_id, e.reference, e.reason, e.summary, e.call_id, e.customer_id, e.created_at, "
            "e.delivery_state, COALESCE(c.state, 'open') AS state, c.claimed_by, c.resolved_by "
            "FROM escalations e LEFT JOIN console_cases c ON c.tenant_id = e.tenant_id AND c.reference = e.reference "
            "WHERE e.tenant_id = ? AND COALESCE(c.state, 'open') = ? ORDER BY e.created_at DESC LIMIT 200",
            tenant_id, state,
        )
        rows.extend(found)
    for r in rows:
        r["created"] = _ts(r["created_at"])
    return _render(request, "cases.html", {"cases": rows, "state": state, "states": CASE_STATES, "page": "cases"})


async def _load_case(request: web.Request, tenant_id: str, reference: str) -> dict[str, Any]:
    row = await _services(request).store.fetchone(
        "SELECT e.*, COALESCE(c.state, 'open') AS state, c.claimed_by, c.claimed_at, c.resolved_by, c.resolved_at "
        "FROM escalations e LEFT JOIN console_cases c ON c.tenant_id = e.tenant_id AND c.reference = e.reference "
        "WHERE e.tenant_id = ? AND e.reference = ?",
        tenant_id, reference,
    )
    if row is None:
        raise ConsoleError(404, "No such page.")
    return row


async def case_page(request: web.Request) -> web.Response:
    tenant_id = _tenant_for(request, request.match_info["tenant"])
    reference = request.match_info["reference"]
    case = await _load_case(request, tenant_id, reference)
    store = _services(request).store
    timeline: list[dict[str, Any]] = []
    if case["call_id"]:
        # The stored response (kept while its idempotency record lives) holds the ``say`` the caller heard.
        timeline = await store.fetchall(
            "SELECT a.seq, a.created_at, a.action, a.params, a.outcome, a.error_code, a.provider_ids, "
            "a.request_id, i.response FROM audit_log a LEFT JOIN idempotency i ON i.tenant_id = a.tenant_id "
            "AND i.action = a.action AND i.request_id = a.request_id "
            "WHERE a.tenant_id = ? AND a.call_id = ? ORDER BY a.seq LIMIT 500",
            tenant_id, case["call_id"],
        )
    for row in timeline:
        row["say"] = _say(row.pop("response"))
        row["when"] = _ts(row["created_at"])
        row["params_text"] = _pretty(row["params"])
        row["provider_text"] = _pretty(row["provider_ids"])
    notifications = await _notifications_for(store, tenant_id, timeline)
    notes = await store.fetchall(
        "SELECT operator, body, created_at FROM console_case_notes WHERE tenant_id = ? AND reference = ? ORDER BY id",
        tenant_id, reference,
    )
    for n in notes:
        n["when"] = _ts(n["created_at"])
    case["created"] = _ts(case["created_at"])
    case["claimed"] = _ts(case["claimed_at"])
    case["resolved"] = _ts(case["resolved_at"])
    payment_ids = [p for p in json.loads(case["payment_ids"] or "[]") if isinstance(p, str)]
    case["payment_ids_text"] = ", ".join(payment_ids)
    case["payment_ids_list"] = payment_ids
    can_act = _session(request).operator.can(tenant_id, "agent")
    return _render(request, "case.html", {"case": case, "timeline": timeline, "notes": notes, "can_act": can_act,
                                          "notifications": notifications, "page": "cases"})


_PROVIDER_ID = re.compile(r"[a-z]{2,8}_[A-Za-z0-9]{6,64}")


async def _notifications_for(store: Executor, tenant_id: str, timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notifications sent about the objects the call touched (its payments, refunds, captures...)."""
    ids: list[str] = []
    for row in timeline:
        try:
            values = json.loads(row["provider_ids"] or "{}")
        except ValueError:
            continue
        if isinstance(values, dict):
            ids.extend(v for v in values.values() if isinstance(v, str) and _PROVIDER_ID.fullmatch(v))
    found: dict[str, dict[str, Any]] = {}
    for ident in list(dict.fromkeys(ids))[:20]:
        # The id's characters are letters, digits and '_' (a LIKE wildcard): escape it.
        pattern = "%" + ident.replace("_", "\\_") + "%"
        for n in await store.fetchall(
            "SELECT id, kind, state, attempts, created_at, body FROM notifications "
            "WHERE tenant_id = ? AND body LIKE ? ESCAPE '\\' ORDER BY created_at LIMIT 20",
            tenant_id, pattern,
        ):
            found.setdefault(str(n["id"]), n)
    out = sorted(found.values(), key=lambda n: float(n["created_at"]))
    for n in out:
        n["when"] = _ts(n["created_at"])
        n["say"] = _say(n.pop("body"))
    return out


def _say(response: Any) -> str:
    if not response:
        return ""
    try:
        body = json.loads(response)
    except ValueError:
        return ""
    say = body.get("say") if isinstance(body, dict) else None
    if not isinstance(say, str) and isinstance(body, dict) and isinstance(body.get("error"), dict):
        say = body["error"].get("say")
    return say if isinstance(say, str) else ""


class _Conflict(Exception):
    pass


async def case_action(request: web.Request) -> web.StreamResponse:
    tenant_id = _tenant_for(request, request.match_info["tenant"], "agent")
    reference = request.match_info["reference"]
    what = request.match_info["what"]
    case = await _load_case(request, tenant_id, reference)
    operator = _session(request).operator
    form = await _form(request)
    now = time.time()
    params: dict[str, Any] = {"reference": reference}

    if what == "claim":
        async def change(tx: Executor) -> None:
            row = await tx.fetchone(
                "INSERT INTO console_cases (tenant_id, reference, state, claimed_by, claimed_at) "
                "VALUES (?, ?, 'claimed', ?, ?) ON CONFLICT (tenant_id, reference) DO NOTHING RETURNING state",
                tenant_id, reference, operator.username, now,
            )
            if row is None:
                raise _Conflict
    elif what == "resolve":
        async def change(tx: Executor) -> None:
            row = await tx.fetchone(
                "INSERT INTO console_cases (tenant_id, reference, state, claimed_by, claimed_at, resolved_by, "
                "resolved_at) VALUES (?, ?, 'resolved', ?, ?, ?, ?) ON CONFLICT (tenant_id, reference) DO UPDATE "
                "SET state = 'resolved', resolved_by = excluded.resolved_by, resolved_at = excluded.resolved_at "
                "WHERE console_cases.state <> 'resolved' RETURNING state",
                tenant_id, reference, operator.username, now, operator.username, now,
            )
            if row is None:
                raise _Conflict
    elif what == "note":
        # Operators type free text: it is redacted before it is stored, like everything else the gateway keeps.
        body = redact(form.get("body", "").strip()[:MAX_NOTE_CHARS])
        if not body:
            raise ConsoleError(400, "An empty note was not added.")
        params["length"] = len(body)

        async def change(tx: Executor) -> None:
            await tx.execute(
                "INSERT INTO console_case_notes (tenant_id, reference, operator, body, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                tenant_id, reference, operator.username, body, now,
            )
    else:
        raise ConsoleError(404, "No such page.")
    try:
        await _audit(request, tenant_id, f"console.case.{what}", params, call_id=case["call_id"], also=change)
    except _Conflict:
        raise ConsoleError(409, f"Case {reference} is already {case['state']}.") from None
    return _redirect(f"{PREFIX}/cases/{tenant_id}/{reference}")


# --- payments -----------------------------------------------------------------------------------------------

SEARCH_FIELDS = {"email": "Email", "phone": "Phone", "customer_id": "Customer id (cus_...)",
                 "payment_id": "Payment id (pi_... / ch_...)"}


async def payments_page(request: web.Request) -> web.Response:
    """Read-only payment search through the same adapter and action as the bot's ``payments.lookup``. A POST
    (with CSRF), so what was searched for stays out of URLs, browser history and access logs."""
    from pydantic import ValidationError

    from adapters.outcomes import ProviderError
    from gateway import errors
    from gateway.actions.base import ActionContext
    from gateway.actions.payments import LookupParams, PaymentsLookup
    from gateway.auth import AgentIdentity
    from redaction import redact_json

    operator = _session(request).operator
    context: dict[str, Any] = {"page": "payments", "tenants": sorted(operator.roles), "fields": SEARCH_FIELDS,
                               "results": None, "error": None, "say": "", "customer_id": None,
                               "chosen_tenant": "", "chosen_field": "email", "can_refund": False}
    if request.method != "POST":
        return _render(request, "payments.html", context)
    form = await _form(request)
    tenant_id = _tenant_for(request, form.get("tenant", ""))
    field, value = form.get("field", ""), form.get("value", "").strip()[:254]
    context.update(chosen_tenant=tenant_id, chosen_field=field, can_refund=operator.can(tenant_id, "agent"))
    services = _services(request)
    tenant = services.settings.tenant(tenant_id)
    if field not in SEARCH_FIELDS or tenant is None:
        raise ConsoleError(400, "Choose what to search by.")
    try:
        params = LookupParams.model_validate({field: value})
    except ValidationError:
        # Never echo the value: an operator may have typed something that must not be shown again.
        context["error"] = f"That is not a valid {SEARCH_FIELDS[field].lower()}."
        return _render(request, "payments.html", context, status=400)
    ctx = ActionContext(
        services=services, tenant=tenant,
        identity=AgentIdentity(key_id=f"operator:{operator.id}", tenant_id=tenant_id,
                               scopes=frozenset({"payments:read"})),
        action=PaymentsLookup.name, request_id=request[REQUEST_ID], call_id=None, idempotency_key=None,
    )
    outcome, status = "SUCCEEDED", 200
    try:
        out = await PaymentsLookup().run(ctx, params)
    except errors.GatewayError as err:
        outcome, status, context["error"] = "REFUSED", err.status, err.say
    except ProviderError:
        outcome, status = "NOT_ATTEMPTED", 503
        context["error"] = "Stripe could not answer just now; try again in a moment."
    else:
        result = out.result.model_dump(mode="json")
        context.update(results=result["payments"], say=out.say, customer_id=result["customer_id"])
    await _audit(request, tenant_id, "console.payments.search", {"by": field, **redact_json({field: value})},
                 outcome=outcome)
    return _render(request, "payments.html", context, status=status)


# --- audit ------------------------------------------------------------------------------------------------


async def audit_page(request: web.Request) -> web.Response:
    operator = _session(request).operator
    store = _services(request).store
    chains = []
    for tenant_id in sorted(operator.roles):
        head = await store.fetchone("SELECT seq, hash FROM audit_heads WHERE tenant_id = ?", tenant_id)
        entries = await audit_log.tail(store, tenant_id, limit=25)
        for e in entries:
            e["when"] = _ts(e["created_at"])
        chains.append({
            "tenant_id": tenant_id,
            "seq": int(head["seq"]) if head else 0,
            "hash": str(head["hash"]) if head else audit_log.GENESIS,
            "entries": list(reversed(entries)),
            "can_verify": operator.can(tenant_id, "admin"),
        })
    # Only a well-formed result about one of the operator's tenants is shown (a crafted link shows nothing).
    m = _VERIFIED.fullmatch(request.query.get("verified", ""))
    verified = None
    if m is not None and m.group(1) in operator.roles:
        verified = {"tenant": m.group(1), "ok": m.group(2) == "ok", "checked": int(m.group(3)),
                    "problems": int(m.group(4))}
    return _render(request, "audit.html", {"chains": chains, "verified": verified, "page": "audit"})


async def audit_verify(request: web.Request) -> web.StreamResponse:
    tenant_id = _tenant_for(request, request.match_info["tenant"], "admin")
    checked, problems = await audit_log.verify(_services(request).store, tenant_id)
    outcome = "ok" if not problems else "broken"
    await _audit(request, tenant_id, "console.audit.verify", {"rows_checked": checked, "problems": len(problems)},
                 outcome="SUCCEEDED" if not problems else "FAILED")
    request_state = f"{tenant_id}:{outcome}:{checked}:{len(problems)}"
    return _redirect(f"{PREFIX}/audit?verified={request_state}")


# --- events -----------------------------------------------------------------------------------------------


async def events_page(request: web.Request) -> web.Response:
    from gateway.notifications import list_notifications
    from gateway.webhooks import list_events

    operator = _session(request).operator
    store = _services(request).store
    events: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for tenant_id in sorted(operator.roles):
        events.extend(await list_events(store, tenant_id=tenant_id, limit=50))
        notes.extend(await list_notifications(store, tenant_id=tenant_id, limit=50, with_attempts=True))
    for e in events:
        e["when"] = _ts(e.get("received_at"))
        e["can_replay"] = operator.can(str(e["tenant_id"]), "agent")
    for n in notes:
        n["when"] = _ts(n.get("created_at"))
        n["body_text"] = _pretty(n["body"])
        n["can_replay"] = operator.can(str(n["tenant_id"]), "agent")
        for a in n.get("attempt_log", []):
            a["when"] = _ts(a["started_at"])
    replayed = request.query.get("replayed", "")
    if _REPLAYED.fullmatch(replayed) is None:
        replayed = ""
    return _render(request, "events.html", {"events": events, "notifications": notes, "page": "events",
                                            "replayed": replayed})


async def event_replay(request: web.Request) -> web.StreamResponse:
    from gateway.notifications import replay_notifications
    from gateway.webhooks import replay_events

    tenant_id = _tenant_for(request, request.match_info["tenant"], "agent")
    kind, ident = request.match_info["kind"], request.match_info["ident"]
    store = _services(request).store
    if kind == "webhook":
        queued = await replay_events(store, event_id=ident, tenant_id=tenant_id)
    elif kind == "notification":
        queued = await replay_notifications(store, notification_id=ident, tenant_id=tenant_id)
    else:
        raise ConsoleError(404, "No such page.")
    if not queued:
        raise ConsoleError(404, "No such page.")
    await _audit(request, tenant_id, f"console.{kind}.replay", {"id": ident})
    return _redirect(f"{PREFIX}/events?replayed={kind}:{ident}")


# --- static -----------------------------------------------------------------------------------------------

_CSS = (resources.files("gateway.console") / "static" / "console.css").read_bytes()


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(body=_CSS, content_type="text/css", headers={"Cache-Control": "max-age=3600"})


def build_console_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[console_middleware], client_max_size=MAX_FORM_BYTES)
    app[SETTINGS] = settings
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("gateway.console", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["ts"] = _ts
    app.router.add_get("", index)
    app.router.add_get("/", index)
    app.router.add_route("*", "/login", login_page)
    app.router.add_post("/logout", logout)
    app.router.add_get("/cases", cases)
    app.router.add_get("/cases/{tenant}/{reference}", case_page)
    app.router.add_post("/cases/{tenant}/{reference}/{what:claim|note|resolve}", case_action)
    app.router.add_route("*", "/payments", payments_page)
    app.router.add_get("/audit", audit_page)
    app.router.add_post("/audit/{tenant}/verify", audit_verify)
    app.router.add_get("/events", events_page)
    app.router.add_post("/events/{tenant}/{kind:webhook|notification}/{ident}/replay", event_replay)
    app.router.add_get("/static/console.css", stylesheet)
    from gateway.console import captures, refunds  # they import this module

    refunds.add_routes(app)
    captures.add_routes(app)
    return app
