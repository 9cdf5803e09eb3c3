"""``refunds.create``: "I'd like a refund", decided by tenant policy, made at most once.

Order: find the payment (by id, or the latest successful payment of the customer) -> policy, before anything
is sent: the charge went through, is not disputed (else an escalation), the reason is allowed, the caller is
verified on this call, the charge is recent enough, the amount is within the refundable remainder and the
no-human cap, the customer has not had too many refunds lately -> the decision is written down (state
``sending``) -> Stripe, with ``ctx.provider_key("refund")`` as its idempotency key.

Why the decision is written before Stripe is called: if the answer is lost (a timeout, a crash) and the bot
retries with the same Idempotency-Key, the charge may already show the refund; re-deciding would then refuse
("already refunded") or send different parameters. The retry instead finds the row for its key and re-sends
exactly the same request, which Stripe replays: one refund, and the caller hears it was made.

The per-customer limit (``policy.max_refunds_per_customer`` in ``refund_period_days``) is checked and the
slot taken in the same transaction that writes the decision, under a lock per customer
(:mod:`gateway.actions._limits`): twenty refunds sent at once under a limit of 2, to one instance or several,
make exactly two. A retry with the same key finds its own row and never takes a second slot.

Round trips: by payment id 2 (payment, refund); by customer id 2 (customer and charges concurrently, then the
refund); by email or phone 3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from adapters.outcomes import Outcome, ProviderError, ProviderInvalidRequest, ProviderNotFound
from adapters.stripe.models import Payment, Refund
from gateway import errors, speech
from gateway.actions._common import (
    CustomerRef,
    customer_and_payments,
    format_money,
    minor_digits,
)
from gateway.actions._limits import lock_subjects
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register
from gateway.actions.customers import is_verified
from gateway.actions.escalations import create_escalation, open_refund_failure_case
from gateway.store import Store

DAY = 86400
RefundReasonParam = Literal["requested_by_customer", "duplicate", "fraudulent"]


class RefundParams(CustomerRef):
    exactly_one_of = ("payment_id", "email", "phone", "customer_id")

    payment_id: str | None = Field(
        None,
        max_length=64,
        pattern=r"^(pi|ch|py)_[A-Za-z0-9]+$",
        description="The payment to refund (pi_... or ch_...). Or identify the customer instead: their latest "
        "successful payment is refunded.",
    )
    amount: int | None = Field(
        None,
        gt=0,
        description="Amount to refund in minor units (pence, cents; yen as is). Leave it out (null) for everything "
        "that is still refundable.",
    )
    reason: RefundReasonParam = Field("requested_by_customer", description="Why the caller wants a refund.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if self._customer_fields() + (self.payment_id is not None) != 1:
            raise ValueError("give exactly one of payment_id, email, phone or customer_id")
        return self


class RefundResult(Result):
    refund_id: str
    status: str = Field(description="pending, succeeded, failed, requires_action or canceled.")
    amount: int = Field(description="Refunded amount in minor units.")
    currency: str
    amount_text: str
    payment_id: str
    arrival: str = Field(description="When the money arrives, in words.")


def arrival_words(refund: Refund) -> str:
    if refund.status == "failed":
        return "the refund could not be completed"
    if refund.status == "requires_action":
        return "we need a few more details from you before the money can be returned"
    if refund.destination_type == "reversal":
        # A refund soon after the charge cancels it before it settles: nothing shows on the statement.
        return "the original charge has been cancelled, so it should disappear from your statement within a few days"
    return "within 5 to 10 business days"


def _refused(message: str, say: str, **details: Any) -> errors.PolicyRefused:
    return errors.PolicyRefused(message, say=say, details=details or None)


#: Rows that hold a slot of the per-customer limit: a decision being sent or made, unless Stripe later failed
#: or cancelled it (no money went back, so the caller may ask again). 'refused' (Stripe said no) and
#: 'released' (known not to have reached Stripe) hold none.
_SLOTS_HELD = (
    "SELECT COUNT(*) AS n FROM gateway_refunds WHERE tenant_id = ? AND customer_id = ? AND created_at > ? "
    "AND op_key <> ? AND state IN ('sending', 'created') "
    "AND (refund_status IS NULL OR refund_status NOT IN ('failed', 'canceled'))"
)


@dataclass(frozen=True, slots=True)
class Reservation:
    #: The row to send: this request's new decision, or the one a retry with the same key had already made.
    row: dict[str, Any]
    #: True when ``row`` was written before this request (send it again, never re-decide).
    existing: bool


class LimitReached(Exception):
    def __init__(self, count: int) -> None:
        super().__init__("refund limit reached")
        self.count = count


async def reserve_refund(
    store: Store, *, tenant_id: str, row: dict[str, Any], limit: int, period_days: int, now: float | None = None
) -> Reservation:
    """Write the decision (state 'sending') if the customer is under the limit, atomically.

    ``row`` has op_key, customer_id, payment_intent_id, charge_id, amount, currency, reason, call_id. Raises
    :class:`LimitReached` (nothing written) when the customer already holds ``limit`` slots in the period.
    A row for the same op_key in 'sending' or 'created' is returned as is (a retry takes no second slot); one
    in 'refused' or 'released' (nothing happened at Stripe) is re-decided in place.
    """
    now = time.time() if now is None else now
    customer_id = row.get("customer_id")
    op_key = row["op_key"]
    async with store.transaction() as tx:
        if customer_id:
            await lock_subjects(store, tx, f"refunds-customer\x1f{tenant_id}\x1f{customer_id}")
        prior = await tx.fetchone(
            "SELECT * FROM gateway_refunds WHERE tenant_id = ? AND op_key = ?", tenant_id, op_key
        )
        if prior is not None and prior["state"] in ("sending", "created"):
            return Reservation(row=prior, existing=True)
        if customer_id:
            found = await tx.fetchone(
                _SLOTS_HELD,
                tenant_id,
                customer_id,
                now - period_days * DAY,
                op_key,
            )
            count = int(found["n"]) if found else 0
            if count >= limit:
                raise LimitReached(count)
        values = (
            customer_id,
            row["payment_intent_id"],
            row["charge_id"],
            row["amount"],
            row["currency"],
            row["reason"],
            row.get("call_id"),
        )
        if prior is None:
            await tx.execute(
                "INSERT INTO gateway_refunds (tenant_id, op_key, customer_id, payment_intent_id, charge_id, amount, "
                "currency, reason, state, call_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?)",
                tenant_id,
                op_key,
                *values,
                now,
                now,
            )
        else:
            await tx.execute(
                "UPDATE gateway_refunds SET customer_id = ?, payment_intent_id = ?, charge_id = ?, amount = ?, "
                "currency = ?, reason = ?, call_id = ?, state = 'sending', refund_id = NULL, refund_status = NULL, "
                "created_at = ?, updated_at = ? WHERE tenant_id = ? AND op_key = ?",
                *values,
                now,
                now,
                tenant_id,
                op_key,
            )
    return Reservation(row=dict(row), existing=False)


async def _verified(ctx: ActionContext, customer_id: str | None) -> bool:
    if not ctx.tenant.policy.require_verification_for_refunds:
        return True
    if ctx.operator is not None:
        # A console operator is an authenticated human (every other rule still applies to them).
        return True
    return customer_id is not None and await is_verified(ctx, customer_id)


@register
class RefundsCreate(Action):
    name = "refunds.create"
    description = (
        "Refund a payment, fully or partly, within the merchant's policy. Give the payment_id, or the customer "
        "(email, phone or customer_id) to refund their latest successful payment. Usually needs "
        "customers.verify on this call first. A disputed payment is handed to a human instead."
    )
    scopes = frozenset({"refunds:write"})
    writes = True
    Params = RefundParams
    Result = RefundResult

    async def run(self, ctx: ActionContext, params: RefundParams) -> ActionOutput:
        op_key = ctx.provider_key("refund")
        store = ctx.services.store
        prior = await store.fetchone(
            "SELECT * FROM gateway_refunds WHERE tenant_id = ? AND op_key = ?", ctx.tenant.id, op_key
        )
        if prior is not None and prior["state"] in ("sending", "created"):
            return await self._send(ctx, prior, payment=None)

        payment = await self._find_payment(ctx, params)
        customer_id = payment.customer_id
        verified = await _verified(ctx, customer_id)
        amount = await self._check_policy(ctx, params, payment, verified=verified)

        policy = ctx.tenant.policy
        row: dict[str, Any] = {
            "op_key": op_key,
            "customer_id": customer_id,
            "payment_intent_id": payment.payment_intent_id,
            "charge_id": None if payment.payment_intent_id else payment.charge_id,
            "amount": amount,
            "currency": payment.currency,
            "reason": params.reason,
            "call_id": ctx.call_id,
        }
        try:
            reserved = await reserve_refund(
                store,
                tenant_id=ctx.tenant.id,
                row=row,
                limit=policy.max_refunds_per_customer,
                period_days=policy.refund_period_days,
            )
        except LimitReached as exc:
            count = exc.count
            raise _refused(
                "The customer has had the maximum number of refunds in the period.",
                speech.say("refund.refused.limit_one" if count == 1 else "refund.refused.limit_many",
                           count=count, days=policy.refund_period_days),
                max_refunds_per_customer=policy.max_refunds_per_customer,
            ) from None
        return await self._send(ctx, reserved.row, payment=None if reserved.existing else payment)

    async def _find_payment(self, ctx: ActionContext, params: RefundParams) -> Payment:
        stripe = ctx.services.providers.stripe(ctx.tenant)
        if params.payment_id is not None:
            try:
                return await stripe.get_payment(params.payment_id)
            except ProviderNotFound:
                raise errors.NotFound(
                    "No such payment.", say=speech.say("payment.not_found")
                ) from None
        _, payments = await customer_and_payments(ctx, params, limit=10)
        succeeded = sorted((p for p in payments if p.status == "succeeded"), key=lambda p: -p.created)
        if not succeeded:
            raise _refused(
                "The customer has no successful payment to refund.",
                speech.say("refund.refused.nothing"),
            )
        return succeeded[0]

    async def _check_policy(
        self, ctx: ActionContext, params: RefundParams, payment: Payment, *, verified: bool
    ) -> int:
        """Every rule but the per-customer limit, which is checked atomically when the decision is written."""
        policy = ctx.tenant.policy
        money = speech.money
        if payment.status != "succeeded":
            raise _refused(
                "The payment did not succeed.",
                speech.say("refund.refused.not_succeeded"),
            )
        if payment.disputed:
            esc = await create_escalation(
                ctx,
                reason="dispute",
                summary=f"Refund requested for a disputed payment ({payment.id}); reason: {params.reason}.",
                customer_id=payment.customer_id,
                payment_ids=[payment.id],
                source_key=ctx.provider_key("escalation"),
            )
            raise errors.EscalationRequired(
                "The charge is disputed; a human must handle it.",
                say=speech.say(
                    "refund.disputed", reference=esc.reference, spelled=speech.spell(esc.reference.removeprefix("ESC-"))
                ),
                details={"reference": esc.reference, "provider_ids": {"payment": payment.id}},
            )
        if params.reason not in policy.allowed_refund_reasons:
            raise _refused(
                "The refund reason is not allowed by policy.",
                speech.say("refund.refused.reason"),
                reason=params.reason,
            )
        if not verified:
            raise errors.VerificationRequired()
        age_days = (time.time() - payment.created) / DAY
        if age_days > policy.max_charge_age_days:
            raise _refused(
                "The charge is older than policy allows.",
                speech.say("refund.refused.too_old", date=speech.day(payment.created), days=policy.max_charge_age_days),
                max_charge_age_days=policy.max_charge_age_days,
            )
        remaining = payment.amount_refundable
        if remaining <= 0:
            raise _refused(
                "The payment is already fully refunded.", speech.say("refund.refused.charge_already_refunded")
            )
        amount = params.amount if params.amount is not None else remaining
        if amount > remaining:
            raise _refused(
                "The amount is more than the refundable remainder.",
                speech.say("refund.refused.at_most", amount=money(remaining, payment.currency)),
                refundable=remaining,
            )
        # The cap is in the tenant currency's minor units; it is applied as is to a currency with the same
        # number of decimals (a pragmatic bound) and refuses outright across decimals (¥ vs £ differ 100x).
        if minor_digits(payment.currency) != minor_digits(ctx.tenant.currency) or (amount > policy.max_refund_amount):
            raise _refused(
                "The amount is above the limit for refunds without a human.",
                speech.say("refund.refused.needs_approval", amount=money(amount, payment.currency)),
                max_refund_amount=policy.max_refund_amount,
            )
        return amount

    async def _send(self, ctx: ActionContext, row: dict[str, Any], *, payment: Payment | None) -> ActionOutput:
        stripe = ctx.services.providers.stripe(ctx.tenant)
        store = ctx.services.store
        op_key = str(row["op_key"])
        try:
            refund = await stripe.create_refund(
                payment_intent=row["payment_intent_id"],
                charge=None if row["payment_intent_id"] else row["charge_id"],
                amount=int(row["amount"]),
                reason=row["reason"],
                metadata={"voicepay_tenant": ctx.tenant.id, "voicepay_op": op_key},
                idempotency_key=op_key,
            )
        except ProviderInvalidRequest as exc:
            # Stripe said no (already refunded meanwhile, disputed meanwhile, more than is left): nothing
            # happened, and this decision no longer counts against the customer.
            await store.execute(
                "UPDATE gateway_refunds SET state = 'refused', updated_at = ? WHERE tenant_id = ? AND op_key = ?",
                time.time(),
                ctx.tenant.id,
                op_key,
            )
            known = ("charge_already_refunded", "amount_too_large", "charge_disputed")
            code = exc.provider_code if exc.provider_code in known else "other"
            say = speech.say(f"refund.refused.{code}")
            raise _refused("Stripe refused the refund.", say, provider_code=exc.provider_code) from None
        except ProviderError as exc:
            # What happens to the slot this decision holds depends on whether money may have moved:
            # NOT_ATTEMPTED (never reached Stripe: breaker open, connection refused, a 4xx) and DECLINED
            # (Stripe answered no) mean no refund exists, so the slot is released: the row becomes 'released',
            # stops counting, and a retry with the same key re-decides from scratch. UNKNOWN (sent, answer lost)
            # keeps the row in 'sending' and the slot taken: the refund may exist at Stripe, and the retry with
            # the same key re-sends the identical request, which Stripe replays rather than repeats. Releasing it
            # there could let a caller past the limit with refunds that did happen.
            if exc.outcome in (Outcome.NOT_ATTEMPTED, Outcome.DECLINED):
                await store.execute(
                    "UPDATE gateway_refunds SET state = 'released', updated_at = ? "
                    "WHERE tenant_id = ? AND op_key = ? AND state = 'sending'",
                    time.time(),
                    ctx.tenant.id,
                    op_key,
                )
            raise
        await store.execute(
            "UPDATE gateway_refunds SET state = 'created', refund_id = ?, refund_status = ?, updated_at = ? "
            "WHERE tenant_id = ? AND op_key = ?",
            refund.id,
            refund.status,
            time.time(),
            ctx.tenant.id,
            op_key,
        )
        payment_id = refund.payment_intent_id or refund.charge_id or ""
        amount_text = format_money(refund.amount, refund.currency)
        arrival = arrival_words(refund)
        card = speech.card(payment.card_brand, payment.card_last4) if payment is not None else None
        spoken = {"amount": speech.money(refund.amount, refund.currency),
                  "to_card": speech.say("refund.to_card", card=card) if card else ""}
        reversal = refund.destination_type == "reversal"
        # Said as it is: only a `succeeded` refund is "refunded"; a pending one has only been started.
        if refund.status == "failed":
            reference = await open_refund_failure_case(
                ctx.services, ctx.tenant, refund.id, amount_text=amount_text
            )
            say = speech.say("refund.failed", amount=spoken["amount"])
            if reference is not None:
                say = speech.join(say, speech.say(
                    "refund.case", reference=reference, spelled=speech.spell(reference.removeprefix("ESC-"))
                ))
        elif refund.status == "requires_action":
            say = speech.say("refund.requires_action", **spoken)
        elif refund.status == "pending":
            say = speech.say("refund.pending_reversal" if reversal else "refund.pending", **spoken)
        else:
            say = speech.say("refund.done_reversal" if reversal else "refund.done", **spoken)
        return ActionOutput(
            result=RefundResult(
                refund_id=refund.id,
                status=refund.status,
                amount=refund.amount,
                currency=refund.currency,
                amount_text=amount_text,
                payment_id=payment_id,
                arrival=arrival,
            ),
            say=say,
            provider_ids={"refund": refund.id, "payment": payment_id},
            outcome="SUCCEEDED" if refund.status == "succeeded" else "PENDING",
        )
