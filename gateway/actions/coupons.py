"""``coupons.create``: "I was promised a discount": a one-time code the caller can write down.

A coupon (``duration=once``, one redemption, expiring) plus a promotion code on it, optionally restricted to
the customer. The code is short, uses only characters that are hard to mishear (``CODE_ALPHABET``), and is
derived from the request's idempotency key, so a retried request yields the same code; ``say`` spells it
phonetically.

The decision (code, expiry, discount) is written to ``coupons_issued`` before Stripe is called, and a retry
re-sends exactly those requests under the same Stripe idempotency keys: an expiry recomputed from "now" on
a retry would change the parameters and Stripe would refuse the key's reuse.

Round trips: 2 (coupon, then its promotion code: the second needs the first's id); 3 when the customer is
identified by email or phone.
"""

from __future__ import annotations

import time
from typing import Any, Self

from pydantic import Field, model_validator

from adapters.outcomes import ProviderNotFound
from gateway import errors, speech
from gateway.actions._common import (
    CustomerRef,
    code_from_key,
    format_money,
    resolve_customer,
)
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register
from gateway.actions.customers import is_verified

DAY = 86400


class CouponParams(CustomerRef):
    exactly_one_of = ("percent_off", "amount_off")

    percent_off: float | None = Field(
        None, gt=0, le=100, description="Percentage off (e.g. 10 for 10%). Give this or amount_off."
    )
    amount_off: int | None = Field(
        None, gt=0, description="Fixed amount off in the merchant currency's minor units (e.g. 500 = £5)."
    )
    expires_in_days: int | None = Field(
        None, ge=1, le=365, description="Days until the code expires (default and maximum: the merchant's policy)."
    )

    @model_validator(mode="after")
    def _one_discount(self) -> Self:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give exactly one of percent_off or amount_off")
        if self._customer_fields() > 1:
            raise ValueError("give at most one of email, phone or customer_id")
        return self


class CouponResult(Result):
    code: str = Field(description="The discount code, e.g. 'K7M4-PQ3R'.")
    code_spelled: str = Field(description="The code spelled phonetically, for reading out.")
    coupon_id: str
    promotion_code_id: str
    percent_off: float | None
    amount_off: int | None
    currency: str | None
    expires_at: int = Field(description="Unix time the code expires.")
    expires_on: str = Field(description="Expiry date in words.")
    customer_id: str | None = Field(description="The only customer who can use it, if restricted.")


def spoken_discount(percent_off: float | None, amount_off: int | None, currency: str | None) -> str:
    """The discount as said: "10 percent off", "5.00 British pounds off" (no % or currency sign)."""
    if percent_off is not None:
        pct = int(percent_off) if float(percent_off).is_integer() else percent_off
        return str(speech.say("discount.percent", pct=pct))
    return str(speech.say("discount.amount", amount=speech.money(amount_off or 0, currency or "usd")))


def discount_words(percent_off: float | None, amount_off: int | None, currency: str | None) -> str:
    if percent_off is not None:
        pct = int(percent_off) if float(percent_off).is_integer() else percent_off
        return f"{pct}% off"
    return f"{format_money(amount_off or 0, currency or 'usd')} off"


@register
class CouponsCreate(Action):
    name = "coupons.create"
    description = (
        "Give the caller a one-time discount code (percent or amount off, within the merchant's limits), "
        "optionally only usable by this customer. Returns the code and how to spell it out loud."
    )
    scopes = frozenset({"coupons:write"})
    writes = True
    Params = CouponParams
    Result = CouponResult

    async def run(self, ctx: ActionContext, params: CouponParams) -> ActionOutput:
        op_key = ctx.provider_key("coupon")
        store = ctx.services.store
        row = await store.fetchone(
            "SELECT * FROM coupons_issued WHERE tenant_id = ? AND op_key = ?", ctx.tenant.id, op_key
        )
        if row is None:
            row = await self._decide(ctx, params, op_key)
        return await self._send(ctx, row)

    async def _decide(self, ctx: ActionContext, params: CouponParams, op_key: str) -> dict[str, Any]:
        policy = ctx.tenant.policy
        currency = ctx.tenant.currency
        if params.percent_off is not None and params.percent_off > policy.max_coupon_percent:
            raise errors.PolicyRefused(
                "The discount is above the policy cap.",
                say=speech.say("coupon.cap", what=spoken_discount(policy.max_coupon_percent, None, None)),
                details={"max_coupon_percent": policy.max_coupon_percent},
            )
        if params.amount_off is not None and params.amount_off > policy.max_coupon_amount:
            raise errors.PolicyRefused(
                "The discount is above the policy cap.",
                say=speech.say(
                    "coupon.cap", what=spoken_discount(None, policy.max_coupon_amount, currency)
                ),
                details={"max_coupon_amount": policy.max_coupon_amount},
            )
        customer_id: str | None = params.customer_id
        if params.email is not None or params.phone is not None:
            customer_id = (await resolve_customer(ctx, params)).id
        if policy.require_verification_for_coupons and (customer_id is None or not await is_verified(ctx, customer_id)):
            raise errors.VerificationRequired()
        days = min(params.expires_in_days or policy.coupon_expiry_days, policy.coupon_expiry_days)
        row: dict[str, Any] = {
            "op_key": op_key,
            "code": code_from_key(ctx.provider_key("code")),
            "customer_id": customer_id,
            "percent_off": params.percent_off,
            "amount_off": params.amount_off,
            "currency": currency if params.amount_off is not None else None,
            "expires_at": int(time.time()) + days * DAY,
            "coupon_id": None,
            "promotion_code_id": None,
        }
        await ctx.services.store.execute(
            "INSERT INTO coupons_issued (tenant_id, op_key, state, code, customer_id, percent_off, amount_off, "
            "currency, expires_at, call_id, created_at) VALUES (?, ?, 'sending', ?, ?, ?, ?, ?, ?, ?, ?)",
            ctx.tenant.id,
            op_key,
            row["code"],
            customer_id,
            params.percent_off,
            params.amount_off,
            row["currency"],
            row["expires_at"],
            ctx.call_id,
            time.time(),
        )
        return row

    async def _send(self, ctx: ActionContext, row: dict[str, Any]) -> ActionOutput:
        stripe = ctx.services.providers.stripe(ctx.tenant)
        op_key = str(row["op_key"])
        expires_at = int(row["expires_at"])
        percent_off = float(row["percent_off"]) if row["percent_off"] is not None else None
        amount_off = int(row["amount_off"]) if row["amount_off"] is not None else None
        currency = row["currency"]
        customer_id = row["customer_id"]
        coupon = await stripe.create_coupon(
            percent_off=percent_off,
            amount_off=amount_off,
            currency=currency,
            duration="once",
            max_redemptions=1,
            redeem_by=expires_at,
            name=f"Voice discount {discount_words(percent_off, amount_off, currency)}",
            metadata={"voicepay_tenant": ctx.tenant.id, "voicepay_op": op_key},
            idempotency_key=op_key,
        )
        try:
            promo = await stripe.create_promotion_code(
                coupon.id,
                str(row["code"]),
                customer=customer_id,
                max_redemptions=1,
                expires_at=expires_at,
                metadata={"voicepay_tenant": ctx.tenant.id, "voicepay_op": op_key},
                idempotency_key=ctx.provider_key("promotion_code"),
            )
        except ProviderNotFound:
            raise errors.CustomerNotFound() from None
        await ctx.services.store.execute(
            "UPDATE coupons_issued SET state = 'created', coupon_id = ?, promotion_code_id = ? "
            "WHERE tenant_id = ? AND op_key = ?",
            coupon.id,
            promo.id,
            ctx.tenant.id,
            op_key,
        )
        spelled = str(speech.spell(promo.code))
        what = spoken_discount(percent_off, amount_off, currency)
        until = speech.day(expires_at)
        return ActionOutput(
            result=CouponResult(
                code=promo.code,
                code_spelled=spelled,
                coupon_id=coupon.id,
                promotion_code_id=promo.id,
                percent_off=percent_off,
                amount_off=amount_off,
                currency=currency,
                expires_at=expires_at,
                expires_on=until,
                customer_id=customer_id,
            ),
            say=speech.say("coupon.created", code=promo.code, spelled=speech.spell(promo.code), what=what, date=until),
            provider_ids={"coupon": coupon.id, "promotion_code": promo.id},
        )
