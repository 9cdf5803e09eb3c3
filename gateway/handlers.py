"""Stripe event handlers: update the gateway's own records, then tell the bot (agent notifications).

Each handler runs in the event worker (:mod:`gateway.webhooks`) and may run more than once for one event (a
retry after a crash, an operator replay), and events arrive in any order. So every handler goes through
:func:`advance`:

* ``stripe_objects`` holds, per Stripe object, the last status we applied, its rank and the ``created`` of
  the event that carried it;
* a new event is applied only if it moves the object *forward*: a higher status rank, or the same rank
  and a later ``created``. A lower rank, or an older event, is stale and changes nothing (a late
  ``refund.created`` with ``pending`` never undoes ``refund.updated`` with ``succeeded``);
* same rank, same second, different status: we cannot tell which is newer, so we re-fetch the object from
  Stripe when we know how (PaymentIntents) and apply what Stripe says now;
* the state change and its notification are written in one transaction, and notifications carry a dedupe
  key per (object, status), so a rerun or a second event for the same change notifies once.

Ranks are per object type (``RANKS``). Subscriptions legitimately move back and forth (active -> past_due ->
active), so their live statuses share one rank and only ``created`` orders them; ``canceled`` is final.

Handlers map event types to what the bot hears: ``payment_intent.succeeded|payment_failed``,
``refund.created|updated|failed`` and ``charge.refunded`` (refund progress: one notification per refund
status), ``charge.dispute.created`` (a dispute opens an escalation for a human),
``customer.subscription.updated|deleted``, ``invoice.payment_failed``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from gateway import speech
from gateway.notifications import emit_notification
from gateway.services import Services
from gateway.settings import TenantSettings
from gateway.store import Executor, StoreError

log = logging.getLogger("voicepay.handlers")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    row_id: int
    tenant_id: str
    event_id: str
    type: str
    created: float
    object: dict[str, Any]
    previous: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredEvent:
        payload = json.loads(row["payload"])
        data = payload.get("data") if isinstance(payload, dict) else None
        data = data if isinstance(data, dict) else {}
        obj = data.get("object")
        prev = data.get("previous_attributes")
        return cls(
            row_id=int(row["id"]),
            tenant_id=str(row["tenant_id"]),
            event_id=str(row["event_id"]),
            type=str(row["type"]),
            created=float(row["created"]),
            object=obj if isinstance(obj, dict) else {},
            previous=prev if isinstance(prev, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class HandlerContext:
    services: Services
    tenant: TenantSettings
    event: StoredEvent


Handler = Callable[[HandlerContext, StoredEvent], Awaitable[None]]

#: Higher means later in the object's life. Equal ranks are ordered by the event's ``created``.
RANKS: Final[dict[str, dict[str, int]]] = {
    "payment_intent": {
        "requires_payment_method": 0,
        "requires_confirmation": 1,
        "requires_action": 2,
        "processing": 3,
        "payment_failed": 4,
        "requires_capture": 5,
        "succeeded": 9,
        "canceled": 9,
    },
    # A refund can fail after it succeeded (the bank returns it), never the other way.
    "refund": {"pending": 1, "requires_action": 1, "succeeded": 5, "failed": 6, "canceled": 6},
    "charge": {"succeeded": 1, "partially_refunded": 2, "refunded": 3},
    "dispute": {"opened": 1},
    "subscription": {
        "incomplete": 1,
        "trialing": 1,
        "active": 1,
        "past_due": 1,
        "unpaid": 1,
        "paused": 1,
        "canceled": 9,
        "incomplete_expired": 9,
    },
    "invoice": {"payment_failed": 1, "paid": 5, "void": 5, "uncollectible": 5},
}

Verdict = Literal["apply", "stale", "same", "ambiguous"]


def decide(
    prev: dict[str, Any] | None, *, status: str, rank: int, created: float, event_id: str
) -> Verdict:
    """Does an event carrying ``status`` move the object forward from ``prev`` (a ``stripe_objects`` row)?"""
    if prev is None:
        return "apply"
    if prev["event_id"] == event_id:
        return "same"  # this very event was applied already (a rerun or a replay)
    if rank != int(prev["status_rank"]):
        return "apply" if rank > int(prev["status_rank"]) else "stale"
    if created != float(prev["event_created"]):
        return "apply" if created > float(prev["event_created"]) else "stale"
    if status == prev["status"]:
        return "same"  # two events for one change (Stripe sometimes sends two)
    return "ambiguous"


OnApply = Callable[[Executor, str], Awaitable[None]]


async def advance(
    ctx: HandlerContext,
    object_type: str,
    object_id: str,
    status: str,
    *,
    on_apply: OnApply | None = None,
    refetch: Callable[[], Awaitable[str]] | None = None,
) -> bool:
    """Apply ``status`` to the object if it moves it forward; run ``on_apply(tx, status)`` in the same
    transaction. Returns whether it was applied."""
    ev = ctx.event
    ranks = RANKS[object_type]
    forced: str | None = None
    for _ in range(2):
        async with ctx.services.store.transaction() as tx:
            prev = await tx.fetchone(
                "SELECT status, status_rank, event_created, event_id FROM stripe_objects "
                "WHERE tenant_id = ? AND object_id = ? FOR UPDATE",
                ev.tenant_id,
                object_id,
            )
            if forced is not None:
                # Stripe's own current answer settles the tie.
                verdict: Verdict = "same" if prev is not None and prev["status"] == forced else "apply"
                status = forced
            else:
                verdict = decide(prev, status=status, rank=ranks.get(status, 0), created=ev.created,
                                 event_id=ev.event_id)
            if verdict == "ambiguous" and refetch is not None:
                pass  # leave the transaction (no network wait inside it), re-fetch, look again
            elif verdict != "apply":
                log.info("event does not advance its object",
                         extra={"event_id": ev.event_id, "object_id": object_id, "verdict": verdict})
                return False
            else:
                await _save_state(tx, ctx, object_type, object_id, status, prev is None)
                if on_apply is not None:
                    await on_apply(tx, status)
                return True
        assert refetch is not None
        forced = await refetch()
    return False


async def _save_state(
    tx: Executor, ctx: HandlerContext, object_type: str, object_id: str, status: str, new: bool
) -> None:
    ev, now = ctx.event, time.time()
    rank = RANKS[object_type].get(status, 0)
    if new:
        n = await tx.execute(
            "INSERT INTO stripe_objects (tenant_id, object_id, object_type, status, status_rank, event_created, "
            "event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, object_id) DO NOTHING",
            ev.tenant_id, object_id, object_type, status, rank, ev.created, ev.event_id, now,
        )
        if n == 0:
            # Another worker recorded this object between our read and our write: retry the job, which will
            # then compare against what it wrote.
            raise StoreError("concurrent first event for one object; retrying")
        return
    await tx.execute(
        "UPDATE stripe_objects SET status = ?, status_rank = ?, event_created = ?, event_id = ?, updated_at = ? "
        "WHERE tenant_id = ? AND object_id = ?",
        status, rank, max(ev.created, 0.0), ev.event_id, now, ev.tenant_id, object_id,
    )


# --- words -----------------------------------------------------------------------------------------------

_SYMBOLS: Final = {"gbp": "£", "usd": "$", "eur": "€", "aud": "A$", "cad": "C$"}
_ZERO_DECIMAL: Final = frozenset({"jpy", "krw", "vnd", "clp", "isk", "ugx", "xaf", "xof"})


def spoken_money(amount: Any, currency: Any) -> str:
    """Money for a notification's ``say``, in words in the current (tenant's) locale."""
    if not isinstance(amount, int) or not isinstance(currency, str):
        return speech.say("amount.unknown")
    return speech.money(amount, currency)


def _sub_say(status: str) -> str:
    key = f"notify.subscription.{status}"
    return speech.say(key if speech.has(key) else "notify.subscription.changed")


def money(amount: Any, currency: Any) -> str:
    if not isinstance(amount, int) or not isinstance(currency, str):
        return "the amount"
    cur = currency.lower()
    text = f"{amount:,}" if cur in _ZERO_DECIMAL else f"{amount // 100:,}.{amount % 100:02d}"
    symbol = _SYMBOLS.get(cur)
    return f"{symbol}{text}" if symbol else f"{text} {cur.upper()}"


def _s(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])  # an expanded object
    return None


def _ids(obj: dict[str, Any], *keys: str) -> dict[str, str]:
    return {k: v for k in keys if (v := _s(obj, k)) is not None}


def _base(ev: StoredEvent, object_type: str) -> dict[str, Any]:
    return {"event_id": ev.event_id, "event_type": ev.type, "object": object_type, "object_id": ev.object.get("id")}


# --- payment intents -------------------------------------------------------------------------------------


async def on_payment_intent(ctx: HandlerContext, ev: StoredEvent) -> None:
    pi = ev.object
    pi_id = _s(pi, "id")
    if pi_id is None:
        return
    status = "succeeded" if ev.type == "payment_intent.succeeded" else "payment_failed"
    error = pi.get("last_payment_error") if isinstance(pi.get("last_payment_error"), dict) else {}
    failure_code = (error.get("decline_code") or error.get("code")) if isinstance(error, dict) else None

    async def refetch() -> str:
        info = await ctx.services.providers.stripe(ctx.tenant).get_payment_intent(pi_id)
        if info.status == "requires_payment_method" and info.last_payment_error_code:
            return "payment_failed"
        return info.status

    # Capture sessions (gateway/captures.py) own their notification for their own PaymentIntents.
    owned_by_capture = await _apply_to_capture(ctx, pi, pi_id, status, failure_code)

    async def notify(tx: Executor, final: str) -> None:
        if owned_by_capture:
            return
        amount = spoken_money(pi.get("amount"), pi.get("currency"))
        data = {**_base(ev, "payment_intent"), **_ids(pi, "customer", "latest_charge"),
                "payment_intent": pi_id, "amount": pi.get("amount"), "currency": pi.get("currency")}
        if final == "succeeded":
            await emit_notification(tx, ev.tenant_id, "payment.succeeded", data,
                                    speech.say("notify.payment.succeeded", amount=amount), status="succeeded",
                                    dedupe_key=f"payment_intent:{pi_id}:succeeded")
        elif final == "payment_failed":
            if isinstance(failure_code, str):
                data["failure_code"] = failure_code
            await emit_notification(tx, ev.tenant_id, "payment.failed", data,
                                    speech.say("notify.payment.failed", amount=amount),
                                    status="failed", dedupe_key=f"event:{ev.event_id}")

    await advance(ctx, "payment_intent", pi_id, status, on_apply=notify, refetch=refetch)


async def _apply_to_capture(
    ctx: HandlerContext, pi: dict[str, Any], pi_id: str, status: str, failure_code: Any
) -> bool:
    try:
        from gateway import captures
    except ImportError:  # pragma: no cover - the capture module is optional for this handler
        return False
    apply = getattr(captures, "on_payment_intent_event", None)
    if apply is None:
        return False
    meta = pi.get("metadata") if isinstance(pi.get("metadata"), dict) else {}
    capture_id = meta.get("voicepay_capture_id") if isinstance(meta, dict) else None
    capture_id = capture_id if isinstance(capture_id, str) else None
    state = await apply(
        ctx.services.store,
        ctx.tenant.id,
        pi_id,
        "succeeded" if status == "succeeded" else "requires_payment_method",
        amount=pi.get("amount") if isinstance(pi.get("amount"), int) else None,
        currency=pi.get("currency") if isinstance(pi.get("currency"), str) else None,
        failure_code=failure_code if isinstance(failure_code, str) else None,
        capture_id=capture_id,
    )
    if state is not None:
        # Late success case, PCI Pal's own intent adopted, a failure made final after a cancel at Stripe.
        await captures.after_payment_intent_event(ctx.services, ctx.tenant, pi_id, capture_id)
    return state is not None


# --- refunds ---------------------------------------------------------------------------------------------



async def _refund_update(ctx: HandlerContext, ev: StoredEvent, refund: dict[str, Any]) -> None:
    refund_id = _s(refund, "id")
    status = refund.get("status")
    if refund_id is None or not isinstance(status, str) or status not in RANKS["refund"]:
        return
    amount_text = money(refund.get("amount"), refund.get("currency"))
    # A failed refund the gateway made opens a case (once per refund), before the transaction below: the case
    # store and the ops desk post are not part of it, and a rerun finds the same case.
    case = None
    if status == "failed":
        from gateway.actions.escalations import open_refund_failure_case

        reference = await open_refund_failure_case(ctx.services, ctx.tenant, refund_id, amount_text=amount_text)
        if reference is not None:
            case = (reference,)

    async def notify(tx: Executor, final: str) -> None:
        data = {**_base(ev, "refund"), **_ids(refund, "charge", "payment_intent"), "refund": refund_id,
                "amount": refund.get("amount"), "currency": refund.get("currency")}
        if final == "failed" and isinstance(refund.get("failure_reason"), str):
            data["failure_reason"] = refund["failure_reason"]
        # A webhook has no caller: the tenant's language (gateway/speech.py).
        with speech.using(ctx.tenant.locale):
            spoken = speech.money(int(refund.get("amount") or 0), str(refund.get("currency") or ctx.tenant.currency))
            say = speech.say(f"notify.refund.{final}", amount=spoken)
            if final == "failed" and case is not None:
                data["escalation_reference"] = case[0]
                spelled = speech.spell(case[0].removeprefix("ESC-"))
                say = speech.join(say, speech.say("notify.refund.case", reference=case[0], spelled=spelled))
        await emit_notification(tx, ev.tenant_id, f"refund.{final}", data, say, status=final,
                                dedupe_key=f"refund:{refund_id}:{final}")
        # The refunds action's own record (gateway_refunds, migration 0002), when the gateway made it.
        await tx.execute(
            "UPDATE gateway_refunds SET refund_status = ? WHERE tenant_id = ? AND refund_id = ?",
            final, ev.tenant_id, refund_id,
        )

    await advance(ctx, "refund", refund_id, status, on_apply=notify)


async def on_refund(ctx: HandlerContext, ev: StoredEvent) -> None:
    await _refund_update(ctx, ev, ev.object)


async def on_charge_refunded(ctx: HandlerContext, ev: StoredEvent) -> None:
    charge = ev.object
    charge_id = _s(charge, "id")
    if charge_id is None:
        return
    status = "refunded" if charge.get("refunded") is True else "partially_refunded"
    await advance(ctx, "charge", charge_id, status)
    # Refund progress is told once per refund and status, by the refund.* handlers; older API versions
    # embed the refunds in the charge, and those go through the same path (same dedupe keys).
    refunds = charge.get("refunds")
    data = refunds.get("data") if isinstance(refunds, dict) else None
    for refund in data if isinstance(data, list) else []:
        if isinstance(refund, dict):
            await _refund_update(ctx, ev, refund)


# --- disputes --------------------------------------------------------------------------------------------


async def on_dispute_created(ctx: HandlerContext, ev: StoredEvent) -> None:
    dispute = ev.object
    dispute_id = _s(dispute, "id")
    if dispute_id is None:
        return
    # A dispute is for a human: the ops team must answer it before Stripe's deadline. The case is created
    # once per dispute (source_key), so a rerun of this handler finds the same reference.
    reference = await _open_escalation(ctx, dispute, dispute_id)

    async def notify(tx: Executor, _final: str) -> None:
        amount = spoken_money(dispute.get("amount"), dispute.get("currency"))
        data = {**_base(ev, "dispute"), **_ids(dispute, "charge", "payment_intent"), "dispute": dispute_id,
                "amount": dispute.get("amount"), "currency": dispute.get("currency"),
                "reason": dispute.get("reason"), "dispute_status": dispute.get("status"),
                "escalation_required": True, "escalation_reference": reference}
        await emit_notification(
            tx, ev.tenant_id, "dispute.opened", data,
            speech.say("notify.dispute.opened", amount=amount),
            status="disputed", dedupe_key=f"dispute:{dispute_id}:opened",
        )

    await advance(ctx, "dispute", dispute_id, "opened", on_apply=notify)


async def _open_escalation(ctx: HandlerContext, dispute: dict[str, Any], dispute_id: str) -> str | None:
    from gateway.actions.base import ActionContext
    from gateway.actions.escalations import create_escalation
    from gateway.auth import AgentIdentity

    action_ctx = ActionContext(
        services=ctx.services,
        tenant=ctx.tenant,
        identity=AgentIdentity(key_id="stripe-webhook", tenant_id=ctx.tenant.id, scopes=frozenset()),
        action="webhooks.stripe",
        request_id=f"evt:{ctx.event.event_id}",
        call_id=None,
        idempotency_key=None,
    )
    charge = _s(dispute, "charge")
    case = await create_escalation(
        action_ctx,
        reason="dispute",
        summary=f"Stripe opened dispute {dispute_id} ({dispute.get('reason') or 'no reason given'}) for "
        f"{money(dispute.get('amount'), dispute.get('currency'))}; evidence is due to Stripe.",
        customer_id=None,
        payment_ids=[charge] if charge else [],
        source_key=f"stripe-dispute:{dispute_id}",
    )
    return case.reference


# --- subscriptions and invoices --------------------------------------------------------------------------



async def on_subscription(ctx: HandlerContext, ev: StoredEvent) -> None:
    sub = ev.object
    sub_id = _s(sub, "id")
    status = sub.get("status")
    if ev.type == "customer.subscription.deleted":
        status = "canceled"
    if sub_id is None or not isinstance(status, str) or status not in RANKS["subscription"]:
        return
    prior = await ctx.services.store.fetchone(
        "SELECT status FROM stripe_objects WHERE tenant_id = ? AND object_id = ?", ev.tenant_id, sub_id
    )
    # Tell the bot about status changes only, not every metadata edit.
    changed = "status" in ev.previous or ev.type == "customer.subscription.deleted" or (
        prior is not None and prior["status"] != status
    )

    async def notify(tx: Executor, final: str) -> None:
        if not changed:
            return
        data = {**_base(ev, "subscription"), **_ids(sub, "customer", "latest_invoice"), "subscription": sub_id,
                "subscription_status": final}
        await emit_notification(tx, ev.tenant_id, "subscription.canceled" if final == "canceled"
                                else "subscription.updated", data, _sub_say(final),
                                status=final, dedupe_key=f"event:{ev.event_id}")

    await advance(ctx, "subscription", sub_id, status, on_apply=notify)


def _invoice_subscription(inv: dict[str, Any]) -> dict[str, str]:
    """The invoice's subscription id: ``parent.subscription_details.subscription`` since API 2025-03-31.basil
    (``invoice.subscription`` is gone), top-level ``subscription`` in events of older endpoints."""
    parent = inv.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if isinstance(details, dict) and (sub := _s(details, "subscription")) is not None:
        return {"subscription": sub}
    return _ids(inv, "subscription")


async def on_invoice_payment_failed(ctx: HandlerContext, ev: StoredEvent) -> None:
    inv = ev.object
    inv_id = _s(inv, "id")
    if inv_id is None:
        return

    async def notify(tx: Executor, _final: str) -> None:
        amount = spoken_money(inv.get("amount_due"), inv.get("currency"))
        data = {**_base(ev, "invoice"), **_ids(inv, "customer"), **_invoice_subscription(inv), "invoice": inv_id,
                "amount_due": inv.get("amount_due"), "currency": inv.get("currency"),
                "attempt_count": inv.get("attempt_count")}
        await emit_notification(tx, ev.tenant_id, "invoice.payment_failed", data,
                                speech.say("notify.invoice.failed", amount=amount),
                                status="failed", dedupe_key=f"event:{ev.event_id}")

    await advance(ctx, "invoice", inv_id, "payment_failed", on_apply=notify)


HANDLERS: Final[dict[str, Handler]] = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "charge.refunded": on_charge_refunded,
    "refund.created": on_refund,
    "refund.updated": on_refund,
    "refund.failed": on_refund,
    "charge.refund.updated": on_refund,  # older API versions' name for refund.updated
    "charge.dispute.created": on_dispute_created,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "invoice.payment_failed": on_invoice_payment_failed,
}
