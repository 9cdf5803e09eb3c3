"""Helpers shared by the voice actions: money and dates in words, plain-words statuses, easy-to-say codes and
their phonetic spelling, phone normalisation and customer resolution.

Everything here produces text a voice bot reads aloud, so the rule is "what a person would say on the phone":
"£42.50", "3 November", "went through", "K as in kilo". No function here ever formats card data beyond a
brand and the last four digits.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import phonenumbers
from pydantic import Field, model_validator

from adapters.outcomes import ProviderNotFound
from gateway import errors, speech
from gateway.actions.base import Params

if TYPE_CHECKING:
    from adapters.stripe.client import StripeAdapter
    from adapters.stripe.models import Customer, Payment
    from gateway.actions.base import ActionContext

# --------------------------------------------------------------------------------------------------- money

#: Stripe's zero-decimal currencies: the amount is already in whole units (¥1250 is sent as 1250).
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
#: Stripe's three-decimal currencies (amounts in thousandths).
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

_SYMBOLS = {
    "gbp": "£",
    "usd": "$",
    "eur": "€",
    "jpy": "¥",
    "krw": "₩",
    "inr": "₹",
    "aud": "A$",
    "cad": "CA$",
    "nzd": "NZ$",
    "chf": "CHF ",
}


def minor_digits(currency: str) -> int:
    cur = currency.lower()
    if cur in ZERO_DECIMAL:
        return 0
    if cur in THREE_DECIMAL:
        return 3
    return 2


def format_money(amount: int, currency: str) -> str:
    """An amount in minor units as a person says it: ``format_money(4250, "gbp") == "£42.50"``.

    Whole amounts drop the ``.00`` ("£12" reads better than "£12.00"); zero-decimal currencies (JPY, KRW...)
    are never divided; thousands get separators. Unknown currencies are written "12.50 SEK".
    """
    digits = minor_digits(currency)
    negative = amount < 0
    amount = abs(amount)
    major, minor = divmod(amount, 10**digits) if digits else (amount, 0)
    text = f"{major:,}"
    if digits and minor:
        text += f".{minor:0{digits}d}"
    symbol = _SYMBOLS.get(currency.lower())
    out = f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
    return f"-{out}" if negative else out


# ---------------------------------------------------------------------------------------------------- dates


def _now() -> datetime:
    return datetime.now(UTC)


def format_date(ts: int | float, *, now: datetime | None = None) -> str:
    """A unix time as "3 November" (this year) or "3 November 2024" (another year), in UTC.

    UTC rather than the caller's zone: the gateway does not know where the caller is, and a date off by one
    around midnight is a smaller problem than a wrong time zone stated confidently.
    """
    when = datetime.fromtimestamp(ts, UTC)
    now = now or _now()
    text = f"{when.day} {when:%B}"
    return text if when.year == now.year else f"{text} {when.year}"


def iso_date(ts: int | float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


# ------------------------------------------------------------------------------------ statuses in plain words

PAYMENT_STATUS_WORDS = {
    "succeeded": "went through",
    "pending": "is still being processed",
    "failed": "was declined",
    "incomplete": "wasn't completed",
    "canceled": "was cancelled",
}

#: Decline and failure codes in words a caller understands. Anything else: "the bank declined it".
FAILURE_WORDS = {
    "insufficient_funds": "there weren't enough funds on the card",
    "expired_card": "the card had expired",
    "incorrect_cvc": "the security code didn't match",
    "incorrect_number": "the card number wasn't right",
    "card_declined": "the bank declined it",
    "generic_decline": "the bank declined it",
    "do_not_honor": "the bank declined it",
    "lost_card": "the card was reported lost",
    "stolen_card": "the card was reported stolen",
    "card_velocity_exceeded": "the card's spending limit was reached",
    "processing_error": "of a processing error at the bank",
    "authentication_required": "the bank needed extra authentication that wasn't completed",
    "fraudulent": "the bank flagged it as suspicious",
    "pickup_card": "the bank declined it",
    "withdrawal_count_limit_exceeded": "the card's spending limit was reached",
}


def payment_status_words(status: str) -> str:
    return PAYMENT_STATUS_WORDS.get(status, "has an unusual status")


def failure_words(code: str | None) -> str | None:
    if code is None:
        return None
    return FAILURE_WORDS.get(code, "the bank declined it")


SUBSCRIPTION_STATUS_WORDS = {
    "active": "active",
    "trialing": "in its free trial",
    "past_due": "active, but the latest payment hasn't gone through",
    "unpaid": "on hold because payments haven't gone through",
    "canceled": "cancelled",
    "incomplete": "waiting for its first payment",
    "incomplete_expired": "not started, because the first payment never went through",
    "paused": "paused",
}


def subscription_status_words(status: str) -> str:
    return SUBSCRIPTION_STATUS_WORDS.get(status, "in an unusual state")


INTERVAL_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}


def interval_words(interval: str | None, count: int | None) -> str | None:
    if interval is None:
        return None
    if not count or count == 1:
        return INTERVAL_WORDS.get(interval, f"every {interval}")
    return f"every {count} {interval}s"


def card_words(brand: str | None, last4: str | None) -> str | None:
    """ "your Visa ending 4242" (brand and last 4 only; nothing else of a card is ever spoken)."""
    if not last4:
        return None
    names = {"amex": "American Express", "mastercard": "Mastercard", "visa": "Visa", "discover": "Discover"}
    name = names.get((brand or "").lower(), (brand or "card").title())
    return f"your {name} ending {last4}"


# -------------------------------------------------------------------------------------- easy-to-say codes

#: Letters and digits a caller can tell apart over a phone line: no 0/O, 1/I/L, 5/S, 2/Z, 8/B (and no U/V,
#: which are confused on poor lines). 23 symbols: 8 of them give ~3.8e10 codes.
CODE_ALPHABET = "ACDEFGHJKMNPQRTWXY34679"

NATO = {
    "A": "alpha", "B": "bravo", "C": "charlie", "D": "delta", "E": "echo", "F": "foxtrot", "G": "golf",
    "H": "hotel", "I": "india", "J": "juliett", "K": "kilo", "L": "lima", "M": "mike", "N": "november",
    "O": "oscar", "P": "papa", "Q": "quebec", "R": "romeo", "S": "sierra", "T": "tango", "U": "uniform",
    "V": "victor", "W": "whiskey", "X": "x-ray", "Y": "yankee", "Z": "zulu",
}  # fmt: skip
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def code_from_key(key: str, length: int = 8, *, group: int = 4) -> str:
    """A short code from ``CODE_ALPHABET``, derived deterministically from ``key`` (an idempotency key), so
    a retried request produces the same code. Grouped with dashes (``K7M4-PQ3R``) for reading out."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    chars = []
    base = len(CODE_ALPHABET)
    for _ in range(length):
        digest, idx = divmod(digest, base)
        chars.append(CODE_ALPHABET[idx])
    raw = "".join(chars)
    if group <= 0:
        return raw
    return "-".join(raw[i : i + group] for i in range(0, len(raw), group))


def spell_phonetic(code: str) -> str:
    """``"K7-M"`` -> ``"K as in kilo, seven, dash, M as in mike"``."""
    parts: list[str] = []
    for ch in code.upper():
        if ch.isdigit():
            parts.append(DIGIT_WORDS[int(ch)])
        elif ch in NATO:
            parts.append(f"{ch} as in {NATO[ch]}")
        elif ch == "-":
            parts.append("dash")
        elif ch.strip():
            parts.append(ch)
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------- phone numbers


def normalise_phone(raw: str, region: str) -> str:
    """A phone number as said by the caller or written by the bot, in E.164 (``+447700900123``).

    ``region`` (the tenant's ``phone_default_region``) applies to numbers given without a country code.
    An unparsable or impossible number is a validation error (422): searching Stripe for it is pointless.
    """
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise errors.ValidationFailed(
            "phone: not a valid phone number",
            say=speech.say("phone.unclear"),
            details={"errors": [{"field": "phone", "problem": "not a valid phone number"}]},
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise errors.ValidationFailed(
            "phone: not a valid phone number",
            say=speech.say("phone.unclear"),
            details={"errors": [{"field": "phone", "problem": "not a valid phone number"}]},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# -------------------------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------------------- customer resolution


class CustomerRef(Params):
    """Who the caller is: exactly one of email, phone or customer id (mixin for action params)."""

    email: str | None = Field(
        None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="The caller's email address, as they spelled it.",
    )
    phone: str | None = Field(
        None,
        max_length=32,
        description="The caller's phone number, with or without country code (the tenant's default region applies).",
    )
    customer_id: str | None = Field(
        None, max_length=64, pattern=r"^cus_[A-Za-z0-9]+$", description="The Stripe customer id (cus_...), if known."
    )

    def _customer_fields(self) -> int:
        return sum(v is not None for v in (self.email, self.phone, self.customer_id))


class RequiredCustomerRef(CustomerRef):
    exactly_one_of = ("email", "phone", "customer_id")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if self._customer_fields() != 1:
            raise ValueError("give exactly one of email, phone or customer_id")
        return self


async def find_customers(ctx: ActionContext, ref: CustomerRef) -> list[Customer]:
    """Customers matching the reference. Round trips: 1 (email: the consistent list filter; phone: search)."""
    stripe = ctx.services.providers.stripe(ctx.tenant)
    if ref.customer_id is not None:
        try:
            return [await stripe.get_customer(ref.customer_id)]
        except ProviderNotFound:
            return []
    if ref.email is not None:
        return await stripe.list_customers_by_email(ref.email)
    if ref.phone is not None:
        e164 = normalise_phone(ref.phone, ctx.tenant.phone_default_region)
        return await stripe.search_customers_by_phone(e164)
    return []


def one_customer(found: list[Customer]) -> Customer:
    """Exactly one match, else the error the bot says: several matches are never guessed between."""
    if not found:
        raise errors.CustomerNotFound()
    if len(found) > 1:
        raise errors.AmbiguousCustomer(details={"matches": len(found)})
    return found[0]


async def resolve_customer(ctx: ActionContext, ref: CustomerRef) -> Customer:
    return one_customer(await find_customers(ctx, ref))


async def customer_and_payments(
    ctx: ActionContext, ref: CustomerRef, *, limit: int = 10
) -> tuple[Customer, list[Payment]]:
    """The customer and their recent payments, newest first, in as few round trips as the reference allows.

    By customer id both calls run concurrently (one round trip of latency); by email or phone the customer
    lookup must come first (two). A missing customer raises ``CustomerNotFound``.
    """
    stripe: StripeAdapter = ctx.services.providers.stripe(ctx.tenant)
    if ref.customer_id is not None:
        cid = ref.customer_id

        async def customer() -> Customer:
            try:
                return await stripe.get_customer(cid)
            except ProviderNotFound:
                raise errors.CustomerNotFound() from None

        cus, payments = await asyncio.gather(customer(), stripe.list_payments(cid, limit=limit))
        return cus, payments
    cus = await resolve_customer(ctx, ref)
    return cus, await stripe.list_payments(cus.id, limit=limit)


def redact_ids(ids: dict[str, Any]) -> dict[str, Any]:
    """Provider ids for the audit log, without empty values."""
    return {k: v for k, v in ids.items() if v}
