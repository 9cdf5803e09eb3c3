"""Captures (PCI Pal secure card capture) with their state history.

There is no transition table: ``capture_sessions`` keeps the current state and ``updated_at``. The history is
put together from what each step leaves behind: the row's creation, every distinct PCI Pal callback
(``capture_callbacks``, stored redacted), the audit rows that name the capture (``capture.start``,
``capture.status``, ``capture.cancel``...) and the notifications sent when it became final
(``capture.succeeded`` / ``failed`` / ...). Every value shown is the stored, already redacted one."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway.console.views import ConsoleError, _pretty, _render, _say, _services, _session, _tenant_for, _ts

_COLUMNS = (
    "id, tenant_id, state, amount, currency, description, customer_id, payment_intent_id, pcipal_session_id, "
    "card_brand, card_last4, callback_result, failure_code, created_at, updated_at, expires_at"
)


def _like(ident: str) -> str:
    # The id's '_' is a LIKE wildcard: escape it.
    return "%" + ident.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _names(stored: Any, ident: str) -> bool:
    try:
        values = json.loads(stored or "{}")
    except ValueError:
        return False
    return isinstance(values, dict) and ident in [v for v in values.values() if isinstance(v, str)]


async def captures_page(request: web.Request) -> web.Response:
    operator = _session(request).operator
    store = _services(request).store
    rows: list[dict[str, Any]] = []
    for tenant_id in sorted(operator.roles):
        rows.extend(await store.fetchall(
            f"SELECT {_COLUMNS} FROM capture_sessions WHERE tenant_id = ? "  # noqa: S608 (fixed column list)
            "ORDER BY created_at DESC LIMIT 100", tenant_id,
        ))
    for r in rows:
        r["created"], r["updated"] = _ts(r["created_at"]), _ts(r["updated_at"])
    return _render(request, "captures.html", {"captures": rows, "page": "captures"})


async def capture_page(request: web.Request) -> web.Response:
    tenant_id = _tenant_for(request, request.match_info["tenant"])
    capture_id = request.match_info["capture"]
    store = _services(request).store
    capture = await store.fetchone(
        f"SELECT {_COLUMNS} FROM capture_sessions WHERE tenant_id = ? AND id = ?",  # noqa: S608 (fixed list)
        tenant_id, capture_id,
    )
    if capture is None:
        raise ConsoleError(404, "No such page.")
    history: list[dict[str, Any]] = [{"at": float(capture["created_at"]), "source": "capture",
                                      "what": "created", "detail": ""}]
    for cb in await store.fetchall(
        "SELECT result, fields_redacted, received_at FROM capture_callbacks WHERE tenant_id = ? AND capture_id = ? "
        "ORDER BY received_at LIMIT 100", tenant_id, capture_id,
    ):
        history.append({"at": float(cb["received_at"]), "source": "PCI Pal callback",
                        "what": str(cb["result"]), "detail": _pretty(cb["fields_redacted"])})
    for a in await store.fetchall(
        "SELECT seq, created_at, action, outcome, error_code, params, provider_ids FROM audit_log "
        "WHERE tenant_id = ? AND (provider_ids LIKE ? ESCAPE '\\' OR params LIKE ? ESCAPE '\\') "
        "ORDER BY seq LIMIT 200",
        tenant_id, _like(capture_id), _like(capture_id),
    ):
        if not (_names(a["provider_ids"], capture_id) or _names(a["params"], capture_id)):
            continue  # a longer id that merely contains this one
        history.append({"at": float(a["created_at"]), "source": f"audit #{a['seq']}",
                        "what": f"{a['action']}: {a['outcome']}" + (f" ({a['error_code']})" if a["error_code"] else ""),
                        "detail": _pretty(a["provider_ids"])})
    for n in await store.fetchall(
        "SELECT id, kind, state, attempts, created_at, body FROM notifications "
        "WHERE tenant_id = ? AND body LIKE ? ESCAPE '\\' ORDER BY created_at LIMIT 50",
        tenant_id, _like(capture_id),
    ):
        history.append({"at": float(n["created_at"]), "source": f"notification {n['id']}",
                        "what": f"{n['kind']} (delivery {n['state']}, {n['attempts']} attempt(s))",
                        "detail": _say(n["body"])})
    history.sort(key=lambda h: h["at"])
    for h in history:
        h["when"] = _ts(h["at"])
    if float(capture["updated_at"]) > float(capture["created_at"]):
        history.append({"at": float(capture["updated_at"]), "when": _ts(capture["updated_at"]),
                        "source": "capture", "what": f"now {capture['state']}", "detail": ""})
    capture["created"], capture["updated"] = _ts(capture["created_at"]), _ts(capture["updated_at"])
    capture["expires"] = _ts(capture["expires_at"])
    return _render(request, "capture.html", {"capture": capture, "history": history, "page": "captures"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/captures", captures_page)
    app.router.add_get("/captures/{tenant}/{capture}", capture_page)
