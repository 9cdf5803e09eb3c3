"""``escalations.create``: hand a case to a human, and give the caller a reference to quote.

The case is stored first (with the summary redacted: the bot writes it from what the caller said, which may
contain card digits), then posted to the tenant's ``ops_url`` with a short timeout. A failed post loses
nothing: the case stays stored with ``delivery_state = 'pending'`` for a re-send, and the caller still gets
their reference. No Stripe round trips.

``create_escalation`` is also what ``refunds.create`` calls for a disputed charge.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Literal

import aiohttp
from pydantic import Field

from gateway.actions._common import code_from_key, spell_phonetic
from gateway.actions.base import Action, ActionContext, ActionOutput, Params, Result, register
from gateway.store import StoreConflict
from redaction import redact

log = logging.getLogger("voicepay.escalations")

#: The ops desk is a courtesy notification: the case is already stored, so the caller is not kept waiting.
OPS_POST_TIMEOUT = 2.0
REFERENCE_LENGTH = 4

EscalationReason = Literal[
    "dispute", "refund_over_limit", "policy_refused", "verification_failed", "account_change", "complaint", "other"
]


@dataclass(frozen=True, slots=True)
class Escalation:
    reference: str
    delivery_state: str
    created: bool  # False: this request had already created it (a retry)


class EscalateParams(Params):
    reason: EscalationReason = Field(description="Why a human is needed.")
    summary: str = Field(
        min_length=1,
        max_length=2000,
        description="What the caller wants, in a sentence or two. Never include card numbers.",
    )
    customer_id: str | None = Field(None, max_length=64, pattern=r"^cus_[A-Za-z0-9]+$")
    payment_ids: list[str] = Field(
        default_factory=list, max_length=20, description="Payment ids (pi_/ch_) the case is about."
    )


class EscalateResult(Result):
    reference: str = Field(description="The case reference to read out, e.g. 'ESC-7K4M'.")
    delivery_state: Literal["delivered", "pending", "none"] = Field(
        description="Whether the ops desk has received it ('pending': stored, to be re-sent)."
    )


def reference_words(reference: str) -> str:
    return spell_phonetic(reference.removeprefix("ESC-"))


async def create_escalation(
    ctx: ActionContext,
    *,
    reason: str,
    summary: str,
    customer_id: str | None,
    payment_ids: list[str],
    source_key: str,
) -> Escalation:
    """Store a case once per ``source_key`` (the same request retried gets the same reference), then post it
    to the ops URL."""
    store = ctx.services.store
    tenant = ctx.tenant
    existing = await store.fetchone(
        "SELECT reference, delivery_state FROM escalations WHERE tenant_id = ? AND source_key = ?",
        tenant.id,
        source_key,
    )
    if existing is not None:
        return Escalation(existing["reference"], existing["delivery_state"], created=False)

    clean_summary = redact(summary)
    now = time.time()
    reference = ""
    for attempt in range(10):
        # Derived from the request's key, so a retry racing the first attempt proposes the same reference;
        # a clash with another case just moves on to the next candidate.
        reference = "ESC-" + code_from_key(f"{source_key}:{attempt}", REFERENCE_LENGTH, group=0)
        try:
            await store.execute(
                "INSERT INTO escalations (tenant_id, reference, source_key, call_id, customer_id, payment_ids, "
                "reason, summary, delivery_state, delivery_attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                tenant.id,
                reference,
                source_key,
                ctx.call_id,
                customer_id,
                json.dumps(payment_ids),
                reason,
                clean_summary,
                "pending" if tenant.ops_url else "none",
                now,
            )
            break
        except StoreConflict:
            again = await store.fetchone(
                "SELECT reference, delivery_state FROM escalations WHERE tenant_id = ? AND source_key = ?",
                tenant.id,
                source_key,
            )
            if again is not None:
                return Escalation(again["reference"], again["delivery_state"], created=False)
    else:
        raise RuntimeError("could not allocate an escalation reference")

    if not tenant.ops_url:
        return Escalation(reference, "none", created=True)
    case = {
        "reference": reference,
        "tenant": tenant.id,
        "reason": reason,
        "summary": clean_summary,
        "customer_id": customer_id,
        "payment_ids": payment_ids,
        "call_id": ctx.call_id,
        "created_at": int(now),
    }
    state, error = "pending", None
    try:
        async with ctx.services.http.post(
            tenant.ops_url, json=case, timeout=aiohttp.ClientTimeout(total=OPS_POST_TIMEOUT)
        ) as resp:
            if 200 <= resp.status < 300:
                state = "delivered"
            else:
                error = f"HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = type(exc).__name__
    if error:
        log.warning("escalation %s not delivered to the ops URL (%s); kept pending", reference, error)
    await store.execute(
        "UPDATE escalations SET delivery_state = ?, delivery_attempts = delivery_attempts + 1, last_error = ?, "
        "delivered_at = ? WHERE tenant_id = ? AND reference = ?",
        state,
        error,
        time.time() if state == "delivered" else None,
        tenant.id,
        reference,
    )
    return Escalation(reference, state, created=True)


@register
class EscalationsCreate(Action):
    name = "escalations.create"
    description = (
        "Hand the call's issue to a human colleague (disputes, account changes, anything you can't do). "
        "Returns a short case reference to read out to the caller."
    )
    scopes = frozenset({"escalations:write"})
    writes = True
    Params = EscalateParams
    Result = EscalateResult

    async def run(self, ctx: ActionContext, params: EscalateParams) -> ActionOutput:
        esc = await create_escalation(
            ctx,
            reason=params.reason,
            summary=params.summary,
            customer_id=params.customer_id,
            payment_ids=params.payment_ids,
            source_key=ctx.provider_key("escalation"),
        )
        state: Literal["delivered", "pending", "none"] = (
            "delivered"
            if esc.delivery_state == "delivered"
            else "pending"
            if esc.delivery_state == "pending"
            else "none"
        )
        return ActionOutput(
            result=EscalateResult(reference=esc.reference, delivery_state=state),
            say=(
                "I've passed this to one of my colleagues, who will get back to you. "
                f"Your reference is {esc.reference}: that's {reference_words(esc.reference)}."
            ),
            provider_ids={"escalation": esc.reference},
        )
