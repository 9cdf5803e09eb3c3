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

Round trips: by payment id 2 (payment, refund); by customer id 2 (customer and charges concurrently, then the
refund); by email or phone 3.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from adapters.outcomes import ProviderInvalidRequest, ProviderNotFound
from adapters.stripe.models import Payment, Refund
from gateway import errors
from gateway.actions._common import (
    CustomerRef,
    card_words,
    customer_and_payments,
    format_date,
    format_money,
    minor_digits,
)
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register
from gateway.actions.customers import is_verified
from gateway.actions.escalations import create_escalation, open_refund_failure_case, reference_words

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


async def _refund_count(ctx: ActionContext, customer_id: str, op_key: str) -> int:
    since = time.time() - ctx.tenant.policy.refund_period_days * DAY
    row = await ctx.services.store.fetchone(
        "SELECT COUNT(*) AS n FROM gateway_refunds WHERE tenant_id = ? AND customer_id = ? AND created_at > ? "
        "AND state <> 'refused' AND op_key <> ?",
        ctx.tenant.id,
        customer_id,
        since,
        op_key,
    )
    return int(row["n"]) if row else 0


async def _verified(ctx: ActionContext, customer_id: str | None) -> bool:
    if not ctx.tenant.policy.require_verification_for_refunds:
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
        verified, count = await asyncio.gather(
            _verified(ctx, customer_id),
            _refund_count(ctx, customer_id, op_key) if customer_id else asyncio.sleep(0, 0),
        )
        amount = await self._check_policy(ctx, params, payment, verified=verified, count=count)

        now = time.time()
        row: dict[str, Any] = {
            "op_key": op_key,
            "customer_id": customer_id,
            "payment_intent_id": payment.payment_intent_id,
            "charge_id": None if payment.payment_intent_id else payment.charge_id,
            "amount": amount,
            "currency": payment.currency,
            "reason": params.reason,
        }
        await store.execute(
            "INSERT INTO gateway_refunds (tenant_id, op_key, customer_id, payment_intent_id, charge_id, amount, "
            "currency, reason, state, call_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?)",
            ctx.tenant.id,
            op_key,
            customer_id,
            row["payment_intent_id"],
            row["charge_id"],
            amount,
            payment.currency,
            params.reason,
            ctx.call_id,
            now,
            now,
        )
        return await self._send(ctx, row, payment=payment)

    async def _find_payment(self, ctx: ActionContext, params: RefundParams) -> Payment:
        stripe = ctx.services.providers.stripe(ctx.tenant)
        if params.payment_id is not None:
            try:
                return await stripe.get_payment(params.payment_id)
            except ProviderNotFound:
                raise errors.NotFound(
                    "No such payment.", say="I couldn't find a payment with that reference."
                ) from None
        _, payments = await customer_and_payments(ctx, params, limit=10)
        succeeded = sorted((p for p in payments if p.status == "succeeded"), key=lambda p: -p.created)
        if not succeeded:
            raise _refused(
                "The customer has no successful payment to refund.",
                "I can't see a completed payment on your account that I could refund.",
            )
        return succeeded[0]

    async def _check_policy(
        self, ctx: ActionContext, params: RefundParams, payment: Payment, *, verified: bool, count: int
    ) -> int:
        """The amount to refund, or the refusal (with its reason in ``say``)."""
        policy = ctx.tenant.policy
        money = format_money
        if payment.status != "succeeded":
            raise _refused(
                "The payment did not succeed.",
                "That payment didn't go through, so there's nothing to refund.",
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
                say=(
                    "That payment is under dispute with your bank, so I can't refund it myself. I've passed it to "
                    f"a colleague. Your reference is {esc.reference}: that's {reference_words(esc.reference)}."
                ),
                details={"reference": esc.reference, "provider_ids": {"payment": payment.id}},
            )
        if params.reason not in policy.allowed_refund_reasons:
            raise _refused(
                "The refund reason is not allowed by policy.",
                "I'm not able to make a refund for that reason myself, but a colleague can look into it.",
                reason=params.reason,
            )
        if not verified:
            raise errors.VerificationRequired()
        age_days = (time.time() - payment.created) / DAY
        if age_days > policy.max_charge_age_days:
            raise _refused(
                "The charge is older than policy allows.",
                f"That payment was made on {format_date(payment.created)}, which is more than "
                f"{policy.max_charge_age_days} days ago, so I can't refund it myself.",
                max_charge_age_days=policy.max_charge_age_days,
            )
        remaining = payment.amount_refundable
        if remaining <= 0:
            raise _refused("The payment is already fully refunded.", "That payment has already been fully refunded.")
        amount = params.amount if params.amount is not None else remaining
        if amount > remaining:
            raise _refused(
                "The amount is more than the refundable remainder.",
                f"I can refund at most {money(remaining, payment.currency)} on that payment.",
                refundable=remaining,
            )
        # The cap is in the tenant currency's minor units; it is applied as is to a currency with the same
        # number of decimals (a pragmatic bound) and refuses outright across decimals (¥ vs £ differ 100x).
        if minor_digits(payment.currency) != minor_digits(ctx.tenant.currency) or (amount > policy.max_refund_amount):
            raise _refused(
                "The amount is above the limit for refunds without a human.",
                f"A refund of {money(amount, payment.currency)} needs one of my colleagues to approve it. "
                "I can pass it on to them.",
                max_refund_amount=policy.max_refund_amount,
            )
        if count >= policy.max_refunds_per_customer:
            raise _refused(
                "The customer has had the maximum number of refunds in the period.",
                f"I can see you've already had {count} refund{'s' if count != 1 else ''} in the last "
                f"{policy.refund_period_days} days, so a colleague will need to look at this one.",
                max_refunds_per_customer=policy.max_refunds_per_customer,
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
            say = {
                "charge_already_refunded": "That payment has already been fully refunded.",
                "amount_too_large": "That's more than is left to refund on that payment.",
                "charge_disputed": "That payment is under dispute, so one of my colleagues needs to handle it.",
            }.get(exc.provider_code or "", "Sorry, I wasn't able to make that refund.")
            raise _refused("Stripe refused the refund.", say, provider_code=exc.provider_code) from None
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
        card = card_words(payment.card_brand, payment.card_last4) if payment is not None else None
        to_card = f" to {card}" if card else ""
        # Said as it is: only a `succeeded` refund is "refunded"; a pending one has only been started.
        if refund.status == "failed":
            reference = await open_refund_failure_case(
                ctx.services, ctx.tenant, refund.id, amount_text=amount_text
            )
            say = f"I'm sorry, the refund of {amount_text} couldn't be completed."
            if reference is not None:
                say += (
                    " I've passed it to a colleague, who will follow up. "
                    f"Your reference is {reference}: that's {reference_words(reference)}."
                )
        elif refund.status == "requires_action":
            say = f"I've started a refund of {amount_text}{to_card}. However, {arrival}."
        elif refund.status == "pending":
            say = (
                f"I've started a refund of {amount_text}{to_card}. It isn't complete yet; once it is, "
                + ("the original charge will be cancelled." if refund.destination_type == "reversal"
                   else f"the money should be back {arrival}.")
            )
        else:
            say = f"I've refunded {amount_text}{to_card}."
            if refund.destination_type == "reversal":
                say += f" Because it was so recent, {arrival}."
            else:
                say += f" The money should be back {arrival}."
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
