"""``customers.verify``: check what the caller says against Stripe before sensitive actions.

Factors (``REQUIRED_MATCHES``, 2, must match): the billing postal code, the last 4 digits of a card they paid
with, the email on file, and, where the tenant's ``policy.verification_identifier_counts`` allows it, the
email or phone the caller was found by. Why two: one factor is often guessable or public (a postcode from an
address, an email from a signature); two independent ones is the usual bar for phone banking. Why the
identifier counts only when the tenant says so: a caller found by email who is then asked for "the email on
file" repeats one piece of knowledge, which is a weaker bar than two independent facts; some merchants accept
it, others do not. Either way the rule is applied before anything is checked: a request that names fewer
than two countable factors is answered with what is still needed (``validation_failed``, no attempt counted,
no Stripe call), never with "those details don't match". So a caller who gives correct factors is never
refused, and the tool text names exactly what counts.

Anti-guessing: at most ``policy.verification_max_attempts`` failed attempts per call (X-Call-Id) and
``policy.verification_max_attempts_per_customer`` per customer across calls (a guesser can hang up and call
again), both within ``policy.verification_attempt_window_seconds`` (older failures stop counting). The limit
is checked and the attempt recorded in one transaction under a lock per call and per customer
(:mod:`gateway.actions._limits`): with a limit of 3, thirty guesses sent at once, to one instance or several,
get exactly three checked. A failure never says which factor failed, and every factor is compared in constant
time after normalising, all of them, so neither the answer nor its timing tells which one was wrong.

A success records a verification for (tenant, call, customer) lasting ``policy.verification_ttl_seconds``;
``refunds.create`` and ``coupons.create`` look for it (``is_verified``).

Round trips: by customer id 1 (2 concurrent calls when a card's last 4 is given); by email/phone 2.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Self

from pydantic import Field, model_validator

from adapters.stripe.models import Customer
from gateway import errors, speech
from gateway.actions._common import RequiredCustomerRef, customer_and_payments, normalise_phone, resolve_customer
from gateway.actions._limits import lock_subjects
from gateway.actions.base import Action, ActionContext, ActionOutput, Result, register
from gateway.settings import PolicySettings
from gateway.store import Store

REQUIRED_MATCHES = 2


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
    def _some_factor(self) -> Self:
        # How many are needed depends on the tenant's policy (see ``countable_factors``); none is never enough.
        if self.postal_code is None and self.card_last4 is None and self.email_on_file is None:
            raise ValueError("give the factors to check: postal_code, card_last4 and/or email_on_file")
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




def countable_factors(params: VerifyParams, policy: PolicySettings) -> list[str]:
    """The factor kinds this request can prove, by the tenant's rule (decided from the params alone)."""
    kinds: list[str] = []
    if params.postal_code is not None:
        kinds.append("postal_code")
    if params.card_last4 is not None:
        kinds.append("card_last4")
    identifier_counts = policy.verification_identifier_counts
    if params.email_on_file is not None and (params.email is None or identifier_counts):
        # Found by email and the identifier does not count: saying it again as "email on file" proves nothing.
        kinds.append("email")
    elif params.email is not None and identifier_counts:
        kinds.append("email")
    if params.phone is not None and identifier_counts:
        kinds.append("phone")
    return kinds


def matched_factors(
    params: VerifyParams, kinds: list[str], customer: Customer, card_last4s: set[str], region: str
) -> list[str]:
    """Which of ``kinds`` match the customer's record. Every given factor is compared, none stops early."""
    matched: list[str] = []
    if "postal_code" in kinds and params.postal_code is not None:
        on_file = _norm_postal(customer.postal_code or "")
        if _same(_norm_postal(params.postal_code), on_file) and on_file:
            matched.append("postal_code")
    if "card_last4" in kinds and params.card_last4 is not None:
        hits = [_same(params.card_last4, last4) for last4 in sorted(card_last4s)]
        if any(hits):
            matched.append("card_last4")
    if "email" in kinds:
        # The email said as "on file" if given, else the one the caller was found by (the tenant allows it).
        said = params.email_on_file if params.email_on_file is not None else params.email
        on_file = _norm_email(customer.email or "")
        if said is not None and _same(_norm_email(said), on_file) and on_file:
            matched.append("email")
    if "phone" in kinds and params.phone is not None:
        # Compared again, not inferred from the search having found them: the record is what counts.
        said_phone = normalise_phone(params.phone, region)
        on_file = _phone_or_raw(customer.phone or "", region)
        if _same(said_phone, on_file) and on_file:
            matched.append("phone")
    return matched


def _phone_or_raw(value: str, region: str) -> str:
    try:
        return normalise_phone(value, region) if value else ""
    except errors.ValidationFailed:
        return value


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


_CALL_FAILURES = (
    "SELECT COUNT(*) AS n FROM verification_attempts WHERE tenant_id = ? AND call_id = ? AND succeeded = 0 "
    "AND created_at > ?"
)
_CUSTOMER_FAILURES = (
    "SELECT COUNT(*) AS n FROM verification_attempts WHERE tenant_id = ? AND customer_id = ? AND succeeded = 0 "
    "AND created_at > ?"
)


async def call_failures(store: Store, tenant_id: str, call_id: str, window: float) -> int:
    row = await store.fetchone(_CALL_FAILURES, tenant_id, call_id, time.time() - window)
    return int(row["n"]) if row else 0


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    #: False: a limit was already reached; nothing was checked or recorded.
    checked: bool
    verified: bool
    #: Failed attempts still allowed after this one (the smaller of the per-call and per-customer budgets).
    attempts_left: int
    factors: tuple[str, ...] = ()
    #: Unix time the verification stops counting (when ``verified``).
    expires_at: float = 0.0


async def check_attempt(
    store: Store,
    *,
    tenant_id: str,
    call_id: str,
    customer_id: str,
    policy: PolicySettings,
    match: list[str],
    now: float | None = None,
) -> AttemptOutcome:
    """Check one verification attempt against both limits and record it, atomically.

    ``match`` is the list of matched factor kinds; it is acted on (and the attempt recorded) only if the call
    and the customer are both under their failed-attempt limits, counted inside the same locked transaction.
    """
    now = time.time() if now is None else now
    since = now - policy.verification_attempt_window_seconds
    per_call, per_customer = policy.verification_max_attempts, policy.verification_max_attempts_per_customer
    async with store.transaction() as tx:
        await lock_subjects(store, tx, f"verify-call\x1f{tenant_id}\x1f{call_id}",
                            f"verify-customer\x1f{tenant_id}\x1f{customer_id}")
        row = await tx.fetchone(_CALL_FAILURES, tenant_id, call_id, since)
        by_call = int(row["n"]) if row else 0
        row = await tx.fetchone(_CUSTOMER_FAILURES, tenant_id, customer_id, since)
        by_customer = int(row["n"]) if row else 0
        if by_call >= per_call or by_customer >= per_customer:
            return AttemptOutcome(checked=False, verified=False, attempts_left=0)
        ok = len(match) >= REQUIRED_MATCHES
        await tx.execute(
            "INSERT INTO verification_attempts (tenant_id, call_id, customer_id, succeeded, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            tenant_id,
            call_id,
            customer_id,
            1 if ok else 0,
            now,
        )
        if ok:
            await tx.execute(
                "INSERT INTO caller_verifications (tenant_id, call_id, customer_id, factors, verified_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                tenant_id,
                call_id,
                customer_id,
                json.dumps(sorted(match)),
                now,
                now + policy.verification_ttl_seconds,
            )
            left = min(per_call - by_call, per_customer - by_customer)
        else:
            left = max(0, min(per_call - by_call - 1, per_customer - by_customer - 1))
    return AttemptOutcome(
        checked=True,
        verified=ok,
        attempts_left=left,
        factors=tuple(sorted(match)),
        expires_at=now + policy.verification_ttl_seconds if ok else 0.0,
    )




def _need_more(kinds: list[str], params: VerifyParams) -> errors.ValidationFailed:
    missing = [k for k in ("postal_code", "card_last4", "email") if k not in kinds]
    if "email" in missing and params.email is not None:
        # Found by email and the tenant does not count it: asking for the email again would not help.
        missing.remove("email")
    words = [str(speech.say(f"factor.{k}")) for k in missing]
    ask = speech.either(words) if words else str(speech.say("factor.another"))
    need = REQUIRED_MATCHES - len(kinds)
    fields = [{"postal_code": "postal_code", "card_last4": "card_last4", "email": "email_on_file"}[k] for k in missing]
    return errors.ValidationFailed(
        f"Verification needs {REQUIRED_MATCHES} factors that count; {len(kinds)} given. "
        f"Add {need} of: {', '.join(fields)}.",
        say=speech.say("verify.need", ask=ask),
        details={
            "errors": [
                {"field": " or ".join(fields) or "(body)", "problem": f"{need} more verification factor needed"}
            ],
            "factors_counted": kinds,
        },
    )


@register
class CustomersVerify(Action):
    name = "customers.verify"
    description = (
        "Verify the caller before a refund or discount. Identify them by exactly one of email, phone or "
        "customer_id, and give what the caller says for at least two factors. The factors that count are: "
        "postal_code (billing postal code), card_last4 (last 4 digits of a card they paid with) and "
        "email_on_file (the email on their account). If the merchant allows it, the email or phone you "
        "identified them by also counts as one factor; if not, repeating it as email_on_file does not count, "
        "and the answer says which factor to ask for next (nothing is checked or counted against the caller). "
        "Wrong details count towards a small limit of failed attempts per call and per customer. "
        "The verification lasts for this call only."
    )
    scopes = frozenset({"customers:verify"})
    Params = VerifyParams
    Result = VerifyResult

    async def run(self, ctx: ActionContext, params: VerifyParams) -> ActionOutput:
        if ctx.call_id is None:
            raise errors.BadRequest("customers.verify needs the X-Call-Id header (verification is per call).")
        call_id = ctx.call_id
        policy = ctx.tenant.policy
        kinds = countable_factors(params, policy)
        if len(kinds) < REQUIRED_MATCHES:
            raise _need_more(kinds, params)
        # A cheap early answer for a call already locked out: it costs no Stripe round trips. Not the limit
        # itself (that is ``check_attempt``, atomic): a stale read here only means a lookup that is then refused.
        window = policy.verification_attempt_window_seconds
        if await call_failures(ctx.services.store, ctx.tenant.id, call_id, window) >= policy.verification_max_attempts:
            raise errors.VerificationFailed("Too many failed attempts on this call.", say=speech.say("verify.locked"))

        if params.card_last4 is not None:
            customer, payments = await customer_and_payments(ctx, params, limit=20)
            card_last4s = {p.card_last4 for p in payments if p.card_last4 and p.status == "succeeded"}
        else:
            customer = await resolve_customer(ctx, params)
            card_last4s = set()

        match = matched_factors(params, kinds, customer, card_last4s, ctx.tenant.phone_default_region)
        outcome = await check_attempt(
            ctx.services.store,
            tenant_id=ctx.tenant.id,
            call_id=call_id,
            customer_id=customer.id,
            policy=policy,
            match=match,
        )
        if not outcome.checked:
            raise errors.VerificationFailed(
                "Too many failed attempts for this call or customer.", say=speech.say("verify.locked")
            )
        if not outcome.verified:
            left = outcome.attempts_left
            say = speech.join(
                speech.say("verify.mismatch"), speech.say("verify.retry" if left else "verify.locked")
            )
            # Which factor failed is deliberately absent, from the say and from the details.
            raise errors.VerificationFailed(details={"attempts_left": left}, say=say)
        return ActionOutput(
            result=VerifyResult(verified=True, customer_id=customer.id, expires_at=int(outcome.expires_at)),
            say=speech.say("verify.ok"),
            provider_ids={"customer": customer.id},
        )
