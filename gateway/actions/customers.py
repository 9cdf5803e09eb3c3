"""``customers.verify``: check what the caller says against Stripe before sensitive actions.

Factors: the billing postal code, the last 4 digits of a card they paid with, the email on file. At least
``REQUIRED_MATCHES`` (2) must match. Why two: one factor is often guessable or public (a postcode from an
address, an email from a signature); two independent ones is the usual bar for phone banking. The detail that
identified the customer (their email, if they were found by email) cannot also count as a factor: it proved
nothing beyond being asked.

Anti-guessing: at most ``policy.verification_max_attempts`` failed attempts per call (X-Call-Id), and the same
number per customer within ``CUSTOMER_ATTEMPT_WINDOW`` across calls (a guesser can hang up and call again).
A failure never says which factor failed, and every factor is compared in constant time after normalising,
all of them, so neither the answer nor its timing tells which one was wrong.

A success records a verification for (tenant, call, customer) lasting ``policy.verification_ttl_seconds``;
``refunds.create`` and ``coupons.create`` look for it (``is_verified``).

Round trips: by customer id 1 (2 concurrent calls when a card's last 4 is given); by email/phone 2.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from typing import Self

from pydantic import Field, model_validator

from gateway import errors
from gateway.actions._common import RequiredCustomerRef, customer_and_payments, resolve_customer
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register

REQUIRED_MATCHES = 2
#: Failed attempts against one customer count for an hour across calls.
CUSTOMER_ATTEMPT_WINDOW = 3600.0


class VerifyParams(RequiredCustomerRef):
    postal_code: str | None = Field(
        None, max_length=16, description="The billing postal code (postcode / ZIP) the caller says."
    )
    card_last4: str | None = Field(
        None,
        pattern=r"^[0-9]{4}$",
        description="The last 4 digits of a card the caller paid with (never ask for more than these 4).",
    )
    email_on_file: str | None = Field(
        None, max_length=254, description="The email address the caller says is on their account."
    )

    @model_validator(mode="after")
    def _enough_factors(self) -> Self:
        given = sum(v is not None for v in (self.postal_code, self.card_last4, self.email_on_file))
        if given < REQUIRED_MATCHES:
            raise ValueError(f"give at least {REQUIRED_MATCHES} of postal_code, card_last4, email_on_file")
        return self


class VerifyResult(Result):
    verified: bool
    customer_id: str
    expires_at: int = Field(description="Unix time when this verification stops counting.")


def _norm_postal(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def _norm_email(value: str) -> str:
    return value.strip().lower()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def is_verified(ctx: ActionContext, customer_id: str) -> bool:
    """Has this call (X-Call-Id) verified this customer, and is it still valid?"""
    if ctx.call_id is None:
        return False
    row = await ctx.services.store.fetchone(
        "SELECT id FROM caller_verifications WHERE tenant_id = ? AND call_id = ? AND customer_id = ? "
        "AND expires_at > ?",
        ctx.tenant.id,
        ctx.call_id,
        customer_id,
        time.time(),
    )
    return row is not None


async def _failed_attempts(ctx: ActionContext, *, call_id: str, customer_id: str | None) -> int:
    store = ctx.services.store
    if customer_id is None:
        row = await store.fetchone(
            "SELECT COUNT(*) AS n FROM verification_attempts WHERE tenant_id = ? AND call_id = ? AND succeeded = 0",
            ctx.tenant.id,
            call_id,
        )
    else:
        row = await store.fetchone(
            "SELECT COUNT(*) AS n FROM verification_attempts WHERE tenant_id = ? AND customer_id = ? "
            "AND succeeded = 0 AND created_at > ?",
            ctx.tenant.id,
            customer_id,
            time.time() - CUSTOMER_ATTEMPT_WINDOW,
        )
    return int(row["n"]) if row else 0


_LOCKED_SAY = (
    "I'm sorry, I can't verify your details over the phone right now. I can pass you to one of my colleagues instead."
)


@register
class CustomersVerify(Action):
    name = "customers.verify"
    description = (
        "Verify the caller before a refund or discount: identify them (email, phone or customer_id) and pass "
        "at least two of: billing postal code, last 4 digits of a card they paid with, email on file. "
        "Needs the X-Call-Id header; the verification lasts for this call only."
    )
    scopes = frozenset({"customers:verify"})
    Params = VerifyParams
    Result = VerifyResult

    async def run(self, ctx: ActionContext, params: VerifyParams) -> ActionOutput:
        if ctx.call_id is None:
            raise errors.BadRequest("customers.verify needs the X-Call-Id header (verification is per call).")
        call_id = ctx.call_id
        limit = ctx.tenant.policy.verification_max_attempts
        # Checked before Stripe is asked anything: a locked-out guesser costs no round trips.
        if await _failed_attempts(ctx, call_id=call_id, customer_id=None) >= limit:
            raise errors.VerificationFailed("Too many failed attempts on this call.", say=_LOCKED_SAY)

        if params.card_last4 is not None:
            customer, payments = await customer_and_payments(ctx, params, limit=20)
            card_last4s = {p.card_last4 for p in payments if p.card_last4 and p.status == "succeeded"}
        else:
            customer = await resolve_customer(ctx, params)
            card_last4s = set()

        if await _failed_attempts(ctx, call_id=call_id, customer_id=customer.id) >= limit:
            raise errors.VerificationFailed("Too many failed attempts for this customer.", say=_LOCKED_SAY)

        matched: list[str] = []
        if params.postal_code is not None:
            on_file = _norm_postal(customer.postal_code or "")
            if _same(_norm_postal(params.postal_code), on_file) and on_file:
                matched.append("postal_code")
        if params.card_last4 is not None:
            # Compare with every card, without stopping early.
            hits = [_same(params.card_last4, last4) for last4 in sorted(card_last4s)]
            if any(hits):
                matched.append("card_last4")
        if params.email_on_file is not None and params.email is None:
            on_file = _norm_email(customer.email or "")
            if _same(_norm_email(params.email_on_file), on_file) and on_file:
                matched.append("email")

        now = time.time()
        ok = len(matched) >= REQUIRED_MATCHES
        expires = now + ctx.tenant.policy.verification_ttl_seconds
        async with ctx.services.store.transaction() as tx:
            await tx.execute(
                "INSERT INTO verification_attempts (tenant_id, call_id, customer_id, succeeded, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                ctx.tenant.id,
                call_id,
                customer.id,
                1 if ok else 0,
                now,
            )
            if ok:
                await tx.execute(
                    "INSERT INTO caller_verifications (tenant_id, call_id, customer_id, factors, verified_at, "
                    "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                    ctx.tenant.id,
                    call_id,
                    customer.id,
                    json.dumps(sorted(matched)),
                    now,
                    expires,
                )
        if not ok:
            used = max(
                await _failed_attempts(ctx, call_id=call_id, customer_id=None),
                await _failed_attempts(ctx, call_id=call_id, customer_id=customer.id),
            )
            left = max(0, limit - used)
            say = "Sorry, those details don't match what we have on file."
            say += " Could you check them and try again?" if left else " " + _LOCKED_SAY
            # Which factor failed is deliberately absent, from the say and from the details.
            raise errors.VerificationFailed(details={"attempts_left": left}, say=say)
        return ActionOutput(
            result=VerifyResult(verified=True, customer_id=customer.id, expires_at=int(expires)),
            say="Thank you, you're verified.",
            provider_ids={"customer": customer.id},
        )
