"""``subscriptions.lookup``: "is my subscription still active?".

Round trips: by customer id 2 (subscriptions with their latest invoice expanded, then one products.list for
every product name: Stripe's 4-level expansion limit keeps names out of the first call); by email or phone
3 (the customer first). A customer id with no subscriptions answers "none found" rather than spending a
round trip proving the customer exists.
"""

from __future__ import annotations

from pydantic import Field

from adapters.stripe.models import Subscription
from gateway import speech
from gateway.actions._common import (
    RequiredCustomerRef,
    format_money,
    interval_words,
    iso_date,
    resolve_customer,
    subscription_status_words,
)
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register

SAY_AT_MOST = 3


class SubsParams(RequiredCustomerRef):
    pass


class SubscriptionSummary(Result):
    id: str
    status: str
    status_words: str = Field(description="The status in plain words.")
    product_name: str | None
    price_name: str | None
    amount: int | None = Field(description="Price per interval in minor units.")
    currency: str
    amount_text: str | None
    interval: str | None = Field(description="'monthly', 'yearly', 'every 3 months'...")
    current_period_end: str | None = Field(description="ISO date the current period ends (renewal date).")
    renews: bool = Field(description="Whether it renews at the end of the period.")
    cancel_at_period_end: bool
    trial_end: str | None
    amount_past_due: int | None = Field(description="What the latest invoice still owes, in minor units.")


class SubsResult(Result):
    customer_id: str
    subscriptions: list[SubscriptionSummary] = Field(description="Newest first, cancelled ones included.")


def _renews(s: Subscription) -> bool:
    return s.status in ("active", "trialing", "past_due") and not s.cancel_at_period_end and s.cancel_at is None


def summarise(s: Subscription) -> SubscriptionSummary:
    return SubscriptionSummary(
        id=s.id,
        status=s.status,
        status_words=subscription_status_words(s.status),
        product_name=s.product_name,
        price_name=s.price_nickname,
        amount=s.unit_amount,
        currency=s.currency,
        amount_text=format_money(s.unit_amount, s.currency) if s.unit_amount is not None else None,
        interval=interval_words(s.interval, s.interval_count),
        current_period_end=iso_date(s.current_period_end),
        renews=_renews(s),
        cancel_at_period_end=s.cancel_at_period_end,
        trial_end=iso_date(s.trial_end),
        amount_past_due=s.amount_past_due,
    )


def _every(interval: str | None, count: int | None) -> str | None:
    if interval not in ("day", "week", "month", "year"):
        return None
    if not count or count == 1:
        return speech.say(f"sub.every.{interval}")
    return speech.say(f"sub.every_n.{interval}", count=count)


def say_subscription(s: Subscription) -> str:
    name = s.product_name or s.price_nickname or speech.say("sub.default_name")
    intro: str = speech.say("sub.intro", name=name)
    if s.unit_amount is not None:
        amount = speech.money(s.unit_amount, s.currency)
        every = _every(s.interval, s.interval_count)
        price = speech.say("sub.price_every", amount=amount, every=every) if every else amount
        intro = speech.say("sub.intro_price", name=name, price=price)
    known = ("active", "trialing", "past_due", "unpaid", "canceled", "incomplete", "incomplete_expired", "paused")
    status = speech.say(f"sub.word.{s.status if s.status in known else 'unusual'}")
    end = speech.day(s.current_period_end) if s.current_period_end else None
    if s.status == "trialing" and s.trial_end:
        key = "sub.trial_until_stop" if s.cancel_at_period_end else "sub.trial_until"
        text = speech.say(key, intro=intro, date=speech.day(s.trial_end))
    elif s.status == "canceled" and s.canceled_at:
        text = speech.say("sub.canceled_since", intro=intro, date=speech.day(s.canceled_at))
    elif s.status != "canceled" and (s.cancel_at_period_end or s.cancel_at):
        ends = speech.day(s.cancel_at) if s.cancel_at else end
        text = (speech.say("sub.ends_on", intro=intro, status=status, date=ends) if ends
                else speech.say("sub.ends", intro=intro, status=status))
    elif end and s.status == "active":
        text = speech.say("sub.renews", intro=intro, date=end)
    else:
        text = speech.say("sub.plain", intro=intro, status=status)
    if s.status in ("past_due", "unpaid") and s.amount_past_due:
        text = speech.join(text, speech.say("sub.outstanding", amount=speech.money(s.amount_past_due, s.currency)))
    return text


@register
class SubscriptionsLookup(Action):
    name = "subscriptions.lookup"
    description = (
        "Check a caller's subscriptions: status in plain words, plan, price and interval, renewal or end date, "
        "trial end and anything past due. Identify the caller by email, phone or customer_id."
    )
    scopes = frozenset({"subscriptions:read"})
    Params = SubsParams
    Result = SubsResult

    async def run(self, ctx: ActionContext, params: SubsParams) -> ActionOutput:
        stripe = ctx.services.providers.stripe(ctx.tenant)
        customer_id = params.customer_id or (await resolve_customer(ctx, params)).id
        subs = await stripe.list_subscriptions(customer_id)
        subs.sort(key=lambda s: s.created, reverse=True)
        if not subs:
            say: str = speech.say("subscription.none")
        else:
            # Live ones first: "is my subscription active?" is about those; cancelled ones only if nothing else.
            live = [s for s in subs if s.status not in ("canceled", "incomplete_expired")]
            spoken = (live or subs)[:SAY_AT_MOST]
            say = speech.join(*(say_subscription(s) for s in spoken))
        return ActionOutput(
            result=SubsResult(customer_id=customer_id, subscriptions=[summarise(s) for s in subs]),
            say=say,
            provider_ids={"customer": customer_id, "subscriptions": [s.id for s in subs]},
        )
