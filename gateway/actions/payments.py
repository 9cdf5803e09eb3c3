"""``payments.lookup``: "did my payment go through?" in one call.

Round trips: by payment id 1; by customer id 2 concurrent (customer + charges, one round trip of latency);
by email or phone 2 sequential (the customer first, then their charges).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from adapters.outcomes import ProviderNotFound
from adapters.stripe.models import Payment
from gateway import errors, speech
from gateway.actions._common import (
    CustomerRef,
    customer_and_payments,
    failure_words,
    format_date,
    format_money,
    iso_date,
    payment_status_words,
)
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register

MAX_PAYMENTS = 10


class LookupParams(CustomerRef):
    exactly_one_of = ("email", "phone", "customer_id", "payment_id")

    payment_id: str | None = Field(
        None,
        max_length=64,
        pattern=r"^(pi|ch|py)_[A-Za-z0-9]+$",
        description="A payment id (pi_... or ch_...) if the caller has one, e.g. from a receipt.",
    )
    limit: int = Field(5, ge=1, le=MAX_PAYMENTS, description="How many recent payments to return.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if self._customer_fields() + (self.payment_id is not None) != 1:
            raise ValueError("give exactly one of email, phone, customer_id or payment_id")
        return self


class PaymentSummary(Result):
    id: str = Field(description="Payment id (pi_... or ch_...).")
    amount: int = Field(description="Amount in the currency's minor units (pence, cents; yen as is).")
    currency: str = Field(description="ISO currency code, lower case.")
    amount_text: str = Field(description="The amount as it is said, e.g. '£42.50'.")
    status: Literal["succeeded", "pending", "failed", "incomplete", "canceled"]
    status_words: str = Field(description="The status in plain words, e.g. 'went through'.")
    date: str | None = Field(description="ISO date of the payment (UTC).")
    date_words: str = Field(description="The date as it is said, e.g. '3 November'.")
    description: str | None
    card_brand: str | None
    card_last4: str | None
    amount_refunded: int = Field(description="Already refunded, in minor units.")
    disputed: bool
    failure_reason: str | None = Field(description="Why it failed, in plain words (None unless it failed).")


class LookupResult(Result):
    customer_id: str | None
    payments: list[PaymentSummary] = Field(description="Recent payments, newest first.")


def summarise(p: Payment) -> PaymentSummary:
    return PaymentSummary(
        id=p.id,
        amount=p.amount,
        currency=p.currency,
        amount_text=format_money(p.amount, p.currency),
        status=p.status,
        status_words=payment_status_words(p.status),
        date=iso_date(p.created),
        date_words=format_date(p.created),
        description=p.description,
        card_brand=p.card_brand,
        card_last4=p.card_last4,
        amount_refunded=p.amount_refunded,
        disputed=p.disputed,
        failure_reason=failure_words(p.failure_code) if p.status == "failed" else None,
    )


def say_payment(p: Payment, merchant: str) -> str:
    """ "Your payment of £42.50 on 3 November to Acme went through." and what the caller asks next."""
    head = {"amount": speech.money(p.amount, p.currency), "date": speech.day(p.created), "merchant": merchant}
    card = speech.card(p.card_brand, p.card_last4)
    if p.status == "failed":
        because = speech.decline(p.failure_code)
        if card:
            return speech.say("payment.failed_card", **head, card=card, because=because)
        return speech.say("payment.failed", **head, because=because)
    known = ("succeeded", "pending", "incomplete", "canceled")
    parts = [speech.say(f"payment.{p.status if p.status in known else 'unusual'}", **head)]
    if p.status == "succeeded":
        if p.refunded:
            parts.append(speech.say("payment.fully_refunded"))
        elif p.amount_refunded:
            parts.append(speech.say("payment.part_refunded", amount=speech.money(p.amount_refunded, p.currency)))
        if p.disputed:
            parts.append(speech.say("payment.disputed"))
    return speech.join(*parts)


@register
class PaymentsLookup(Action):
    name = "payments.lookup"
    description = (
        "Find a caller's recent payments and whether they went through. Identify the caller by exactly one "
        "of email, phone, customer_id, or give a payment_id. Returns payments newest first and a sentence "
        "to say about the latest one."
    )
    scopes = frozenset({"payments:read"})
    Params = LookupParams
    Result = LookupResult

    async def run(self, ctx: ActionContext, params: LookupParams) -> ActionOutput:
        stripe = ctx.services.providers.stripe(ctx.tenant)
        customer_id: str | None
        if params.payment_id is not None:
            try:
                payments = [await stripe.get_payment(params.payment_id)]
            except ProviderNotFound:
                raise errors.NotFound(
                    "No such payment.", say=speech.say("payment.not_found")
                ) from None
            customer_id = payments[0].customer_id
        else:
            customer, payments = await customer_and_payments(ctx, params, limit=params.limit)
            customer_id = customer.id
        payments.sort(key=lambda p: p.created, reverse=True)
        payments = payments[: params.limit]
        if not payments:
            say: str = speech.say("payment.none")
        else:
            say = say_payment(payments[0], ctx.tenant.name)
            if len(payments) == 2:
                say = speech.join(say, speech.say("payment.earlier_one"))
            elif len(payments) > 2:
                say = speech.join(say, speech.say("payment.earlier_many", count=len(payments) - 1))
        return ActionOutput(
            result=LookupResult(customer_id=customer_id, payments=[summarise(p) for p in payments]),
            say=say,
            provider_ids={"customer": customer_id, "payments": [p.id for p in payments]},
        )
