"""``escalations.create``: hand a case to a human, and give the caller a reference to quote.

The case is stored first (with the summary redacted: the bot writes it from what the caller said, which may
contain card digits), then posted to the tenant's ``ops_url`` with a short timeout. A failed post loses
nothing: the case stays ``pending`` and a durable job re-sends it on the notification retry schedule (then
``failed``, logged as an error, after the last try), and the caller still gets their reference. Posts are
signed like agent notifications (``Voicepay-Signature``) when the tenant has a ``notification_secret``.
No Stripe round trips.

``create_escalation`` is also what ``refunds.create`` calls for a disputed charge.

One case per problem: within a call, a case is identified by its reason and the payments it is about (or the
customer, when it names no payment: a payment belongs to one customer). The store holds that *case key* under
a unique index, so a bot that follows ``escalation_required`` with its own ``escalations.create``, or two
requests racing, get the existing case and its reference, never a second case on the ops desk. Outside a
call (no call id) there is no case key: each request is its own case.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from pydantic import Field

from adapters.stripe.signing import sign_header
from gateway import jobs, speech
from gateway.actions._common import code_from_key
from gateway.actions.base import Action, ActionContext, ActionOutput, Params, Result, register
from gateway.store import StoreConflict
from redaction import redact

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.settings import TenantSettings

log = logging.getLogger("voicepay.escalations")

#: The job kind that re-sends a case the ops URL did not take.
ESCALATION_JOB = "escalation_delivery"
#: Same header and scheme as agent notifications, so the ops desk can reuse the receiver's check.
SIGNATURE_HEADER = "Voicepay-Signature"

#: The ops desk is a courtesy notification: the case is already stored, so the caller is not kept waiting.
OPS_POST_TIMEOUT = 2.0
REFERENCE_LENGTH = 4

EscalationReason = Literal[
    "dispute",
    "refund_over_limit",
    "refund_failed",
    "policy_refused",
    "verification_failed",
    "account_change",
    "complaint",
    "other",
]


@dataclass(frozen=True, slots=True)
class Escalation:
    reference: str
    delivery_state: str
    created: bool  # False: this request had already created it (a retry), or the problem already had a case
    #: The case was opened earlier in the call for the same problem (by another request).
    existing_case: bool = False


def case_key(tenant_id: str, call_id: str | None, reason: str, customer_id: str | None,
             payment_ids: list[str]) -> str | None:
    """The identity of a problem within a call; None outside a call (nothing to match on safely)."""
    if call_id is None:
        return None
    subject = ["payments", *sorted(set(payment_ids))] if payment_ids else ["customer", customer_id or "-"]
    material = json.dumps([tenant_id, call_id, reason, subject], separators=(",", ":"))
    return "case_" + hashlib.sha256(material.encode()).hexdigest()[:48]


class EscalateParams(Params):
    reason: EscalationReason = Field(description="Why a human is needed.")
    summary: str = Field(
        min_length=1,
        max_length=2000,
        description="What the caller wants, in a sentence or two. Never include card numbers.",
    )
    customer_id: str | None = Field(
        None, max_length=64, pattern=r"^cus_[A-Za-z0-9]+$",
        description="The caller's customer id (cus_...), if known.",
    )
    payment_ids: list[str] = Field(
        default_factory=list, max_length=20, description="Payment ids (pi_/ch_) the case is about."
    )


class EscalateResult(Result):
    reference: str = Field(description="The case reference to read out, e.g. 'ESC-7K4M'.")
    delivery_state: Literal["delivered", "pending", "none"] = Field(
        description="Whether the ops desk has received it ('pending': stored, to be re-sent)."
    )
    existing: bool = Field(
        False, description="True when this problem already had a case in this call: its reference is returned."
    )


def reference_words(reference: str) -> str:
    return speech.spell(reference.removeprefix("ESC-"))


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
    key = case_key(tenant.id, ctx.call_id, reason, customer_id, payment_ids)

    async def existing_case() -> Escalation | None:
        row = await store.fetchone(
            "SELECT reference, delivery_state, source_key FROM escalations WHERE tenant_id = ? "
            "AND (source_key = ? OR case_key = ?) ORDER BY id LIMIT 1",
            tenant.id,
            source_key,
            key,
        )
        if row is None:
            return None
        return Escalation(row["reference"], row["delivery_state"], created=False,
                          existing_case=row["source_key"] != source_key)

    found = await existing_case()
    if found is not None:
        return found

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
                "reason, summary, delivery_state, delivery_attempts, created_at, case_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
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
                key,
            )
            break
        except StoreConflict:
            # The same request, or the same problem, won a race to the unique index; else a reference clash.
            found = await existing_case()
            if found is not None:
                return found
    else:
        raise RuntimeError("could not allocate an escalation reference")

    if not tenant.ops_url:
        return Escalation(reference, "none", created=True)
    row = await store.fetchone("SELECT * FROM escalations WHERE tenant_id = ? AND reference = ?", tenant.id, reference)
    assert row is not None
    state = await deliver_case(ctx.services, tenant, row)
    if state != "delivered":
        await jobs.enqueue(store, ESCALATION_JOB, tenant.id, reference, run_at=time.time() + _first_retry(ctx.services))
    return Escalation(reference, state, created=True)


async def open_refund_failure_case(
    services: Services, tenant: TenantSettings, refund_id: str, *, amount_text: str
) -> str | None:
    """A refund the gateway made has failed (at once, or later by webhook): open its case, once per refund.

    Returns the case reference, or None when the refund was not made through the gateway (nobody on a call
    was promised it; the merchant's own tools show the failure). The case belongs to the refund's call and
    customer, so a bot escalating the same failed refund in that call gets this case back.
    """
    from gateway.actions.base import ActionContext
    from gateway.auth import AgentIdentity

    row = await services.store.fetchone(
        "SELECT call_id, customer_id, payment_intent_id, charge_id FROM gateway_refunds "
        "WHERE tenant_id = ? AND refund_id = ?",
        tenant.id,
        refund_id,
    )
    if row is None:
        return None
    payment = row["payment_intent_id"] or row["charge_id"]
    ctx = ActionContext(
        services=services,
        tenant=tenant,
        identity=AgentIdentity(key_id="refund-failure", tenant_id=tenant.id, scopes=frozenset()),
        action="refunds.failed",
        request_id=f"refund-failed:{refund_id}",
        call_id=row["call_id"],
        idempotency_key=None,
    )
    case = await create_escalation(
        ctx,
        reason="refund_failed",
        summary=f"The refund {refund_id} of {amount_text} failed; the caller expects the money back.",
        customer_id=row["customer_id"],
        payment_ids=[payment] if payment else [],
        source_key=f"refund-failed:{refund_id}",
    )
    return case.reference


def _first_retry(services: Services) -> float:
    schedule = services.settings.notifications.retry_schedule_seconds
    return schedule[0] if schedule else 5.0


def case_body(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the ops desk receives: the stored (redacted) case."""
    return {
        "reference": row["reference"],
        "tenant": row["tenant_id"],
        "reason": row["reason"],
        "summary": row["summary"],
        "customer_id": row["customer_id"],
        "payment_ids": json.loads(row["payment_ids"]),
        "call_id": row["call_id"],
        "created_at": int(row["created_at"]),
    }


async def deliver_case(services: Services, tenant: TenantSettings, row: Mapping[str, Any]) -> str:
    """POST one stored case to the tenant's ops URL and record the attempt. Returns the delivery state."""
    assert tenant.ops_url
    body = json.dumps(case_body(row), separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "voicepay-gateway"}
    if tenant.notification_secret:
        headers[SIGNATURE_HEADER] = sign_header(body, [tenant.notification_secret.reveal()], int(time.time()))
    state, error = "pending", None
    try:
        async with services.http.post(
            tenant.ops_url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=OPS_POST_TIMEOUT),
            allow_redirects=False,
        ) as resp:
            if 200 <= resp.status < 300:
                state = "delivered"
            else:
                error = f"HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = type(exc).__name__
    if error:
        log.warning("escalation %s not delivered to the ops URL (%s); kept pending", row["reference"], error)
    await services.store.execute(
        "UPDATE escalations SET delivery_state = ?, delivery_attempts = delivery_attempts + 1, last_error = ?, "
        "delivered_at = ? WHERE tenant_id = ? AND reference = ?",
        state,
        error,
        time.time() if state == "delivered" else None,
        tenant.id,
        row["reference"],
    )
    return state


class EscalationNotDelivered(Exception):
    """The ops URL did not take the case this time: the job queue retries it."""


def make_escalation_delivery_job(services: Services) -> jobs.JobHandler:
    async def deliver(job: jobs.Job) -> None:
        row = await services.store.fetchone(
            "SELECT * FROM escalations WHERE tenant_id = ? AND reference = ?", job.tenant_id, job.ref
        )
        tenant = services.settings.tenant(job.tenant_id)
        if row is None or row["delivery_state"] == "delivered" or tenant is None or not tenant.ops_url:
            return
        if await deliver_case(services, tenant, row) != "delivered":
            raise EscalationNotDelivered(str(row["last_error"] or "not delivered"))

    return deliver


def make_escalation_failure_hook(services: Services) -> jobs.FailureHook:
    async def hook(job: jobs.Job, error: str, dead: bool) -> None:
        if dead:
            await services.store.execute(
                "UPDATE escalations SET delivery_state = 'failed' WHERE tenant_id = ? AND reference = ? "
                "AND delivery_state = 'pending'",
                job.tenant_id,
                job.ref,
            )
            # A human must still see this case: say so where operators look.
            log.error("escalation %s could not be delivered to the ops URL after every retry", job.ref)

    return hook


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
            result=EscalateResult(reference=esc.reference, delivery_state=state, existing=esc.existing_case),
            say=speech.say("escalation.existing" if esc.existing_case else "escalation.new",
                           reference=esc.reference, spelled=speech.spell(esc.reference.removeprefix("ESC-"))),
            provider_ids={"escalation": esc.reference},
        )
