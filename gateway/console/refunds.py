"""Refunds from the console: the bot's ``refunds.create`` through the same pipeline (``dispatch_action``: params,
idempotency, policy, audit), made by an operator with role agent or admin.

Verification: the bot may refund only a caller verified on this call (``customers.verify``). An operator is an
authenticated human who checks who they are dealing with, so the console passes ``operator=`` to the pipeline,
which stands in for that one requirement; every other rule of the tenant's policy (reason, charge age,
refundable remainder, no-human amount cap, per-customer count taken atomically, disputes handed over) applies
unchanged, and the refusal the operator sees is the policy's own message.

Two steps: ``/refunds/confirm`` shows the payment and a form carrying a fresh per-operation key;
``/refunds`` sends it as the ``Idempotency-Key``, so a double submit (or a reload) of one confirmation form
makes one refund and shows the same answer.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from aiohttp import web

from adapters.outcomes import ProviderError, ProviderNotFound
from gateway import errors
from gateway.actions._common import format_date, format_money
from gateway.auth import AgentIdentity
from gateway.console.views import (
    ConsoleError,
    _audit,
    _form,
    _render,
    _services,
    _session,
    _tenant_for,
)
from gateway.dispatch import dispatch_action
from gateway.middlewares import REQUEST_ID

_PAYMENT_ID = re.compile(r"(pi|ch|py)_[A-Za-z0-9]{1,60}")
_OP_KEY = re.compile(r"[A-Za-z0-9_-]{22,64}")
REASONS = ("requested_by_customer", "duplicate", "fraudulent")
ACTION = "refunds.create"


def _payment_id(form: dict[str, str]) -> str:
    value = form.get("payment_id", "").strip()
    if _PAYMENT_ID.fullmatch(value) is None:
        raise ConsoleError(400, "That is not a payment id.")
    return value


async def refund_confirm(request: web.Request) -> web.Response:
    """Step one: the payment as Stripe has it now, and the refund form (agent or admin only)."""
    form = await _form(request)
    tenant_id = _tenant_for(request, form.get("tenant", ""), "agent")
    payment_id = _payment_id(form)
    services = _services(request)
    tenant = services.settings.tenant(tenant_id)
    if tenant is None:
        raise ConsoleError(404, "No such page.")
    try:
        payment = await services.providers.stripe(tenant).get_payment(payment_id)
    except ProviderNotFound:
        raise ConsoleError(404, "No such payment.") from None
    except ProviderError:
        raise ConsoleError(503, "Stripe could not answer just now; try again in a moment.") from None
    shown = {
        "id": payment.id, "status": payment.status, "date": format_date(payment.created),
        "amount_text": format_money(payment.amount, payment.currency),
        "refundable_text": format_money(payment.amount_refundable, payment.currency),
        "refundable": payment.amount_refundable, "currency": payment.currency.upper(),
        "description": payment.description or "", "disputed": payment.disputed,
        "card": f"{payment.card_brand or ''} ••{payment.card_last4}" if payment.card_last4 else "",
    }
    return _render(request, "refund_confirm.html", {
        "page": "payments", "tenant_id": tenant_id, "payment": shown, "reasons": REASONS,
        # One key per confirmation form: every submit of this form is the same operation.
        "op_key": secrets.token_urlsafe(24),
    })


async def refund_create(request: web.Request) -> web.Response:
    """Step two: the refund, through the bot's pipeline, audited as made by this operator."""
    form = await _form(request)
    tenant_id = _tenant_for(request, form.get("tenant", ""), "agent")
    payment_id = _payment_id(form)
    op_key = form.get("op_key", "")
    if _OP_KEY.fullmatch(op_key) is None:
        raise ConsoleError(400, "This form has no operation key; open the refund from the payment again.")
    if form.get("confirm") != "yes":
        raise ConsoleError(400, "Tick the confirmation box to make the refund.")
    reason = form.get("reason", "requested_by_customer")
    raw_amount = form.get("amount", "").strip()
    params: dict[str, Any] = {"payment_id": payment_id, "reason": reason}
    if raw_amount:
        if not (raw_amount.isascii() and raw_amount.isdigit() and len(raw_amount) <= 9):
            raise ConsoleError(400, "The amount is a whole number of minor units (pence, cents), or empty.")
        params["amount"] = int(raw_amount)
    operator = _session(request).operator
    services = _services(request)
    identity = AgentIdentity(key_id=f"operator:{operator.id}", tenant_id=tenant_id,
                             scopes=frozenset({"refunds:write"}))

    async def read_params() -> Any:
        return params

    replayed = False
    body: dict[str, Any]
    try:
        resp = await dispatch_action(
            services, identity, ACTION, {"Idempotency-Key": f"console:{op_key}"}, read_params,
            request[REQUEST_ID], operator=operator.username,
        )
    except errors.GatewayError as err:
        status, body = err.status, {"ok": False, "error": err.to_dict()}
    else:
        status, body = resp.status, json.loads(resp.text or "{}")
        replayed = resp.headers.get("Idempotent-Replayed") == "true"
    ok = bool(body.get("ok"))
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    result: dict[str, Any] | None = body["result"] if ok and isinstance(body.get("result"), dict) else None
    # 202: Stripe is slow, the work goes on; request_in_progress: the same form's other submit is being sent.
    in_flight = status == 202 or error.get("code") == "request_in_progress"
    if in_flight:
        outcome = "PENDING"
    elif ok:
        outcome = "SUCCEEDED"
    else:
        outcome = "REFUSED" if status < 500 else "FAILED"
    await _audit(request, tenant_id, "console.refund", {
        "payment_id": payment_id, "amount": params.get("amount"), "reason": reason,
        "refund_id": result.get("refund_id") if result else None, "error_code": error.get("code"),
        "replayed": replayed,
    }, outcome=outcome)
    return _render(request, "refund_result.html", {
        "page": "payments", "tenant_id": tenant_id, "payment_id": payment_id, "ok": ok, "result": result,
        "say": body.get("say") if ok else error.get("say", ""), "message": error.get("message", ""),
        "code": error.get("code", ""), "replayed": replayed, "pending": in_flight,
    }, status=200 if ok or status == 202 else status)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/refunds/confirm", refund_confirm)
    app.router.add_post("/refunds", refund_create)
