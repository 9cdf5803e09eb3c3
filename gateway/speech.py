"""Everything the gateway says aloud, in the caller's language: one catalogue, one set of formatters.

``say(message_id, **fields)`` renders a sentence from ``gateway/speech_catalogue.py`` in the current locale
(a context variable set per call by ``gateway.dispatch`` and per webhook by the handlers; asyncio tasks copy
it, so deadline-mode work in the background keeps the caller's language). The result is a ``Said``: a plain
``str`` (what TTS reads) that also carries its SSML rendering, in which codes are ``say-as characters``,
card endings ``say-as digits`` and dates ``say-as date``.

Rules for the ear (issue 12): no symbol is ever read aloud (money in words, "12.99 British pounds", through
Babel/CLDR, the same form everywhere), masked values are said in words ("the email ending in example dot
com"), digits of card endings and codes are spaced or spelled with the language's phonetic alphabet.
"""

from __future__ import annotations

import contextlib
import re
import string
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_skeleton
from babel.numbers import format_currency

from gateway.speech_catalogue import CATALOGUE, DIGITS, FALLBACK, PHONETIC, WORDS

#: The per-call override of the tenant's locale (``Accept-Language`` is the other way).
LOCALE_HEADER = "X-Caller-Locale"
SUPPORTED: tuple[str, ...] = ("en-GB", "en-US", "es-ES", "fr-FR", "de-DE")
DEFAULT = "en-GB"

_current: ContextVar[str] = ContextVar("speech_locale", default=DEFAULT)

_ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


# ------------------------------------------------------------------------------------------ locale choice


def _match(tag: str) -> str | None:
    """A supported locale for one language tag (``fr``, ``fr-CA``, ``de_DE``), or None."""
    try:
        loc = Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    exact = f"{loc.language}-{loc.territory}" if loc.territory else None
    if exact in SUPPORTED:
        return exact
    for sup in SUPPORTED:  # same language, another region: the first supported region of that language
        if sup.split("-")[0] == loc.language:
            return sup
    return None


def _accept_language(header: str) -> list[str]:
    """RFC 9110 ``Accept-Language`` tags by preference (q=0 dropped, ``*`` ignored)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q\s*=\s*([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                continue
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag))
    return [t for _, _, t in sorted(ranked)]


def choose_locale(caller_locale: str | None, accept_language: str | None, tenant_locale: str | None) -> str:
    """``X-Caller-Locale``, else ``Accept-Language``, else the tenant's, else English (en-GB)."""
    candidates: list[str] = []
    if caller_locale:
        candidates.append(caller_locale[:35])
    if accept_language:
        candidates.extend(_accept_language(accept_language[:512]))
    if tenant_locale:
        candidates.append(tenant_locale)
    for tag in candidates:
        found = _match(tag)
        if found is not None:
            return found
    return DEFAULT


def current() -> str:
    return _current.get()


def set_locale(tag: str) -> None:
    _current.set(tag if tag in SUPPORTED else choose_locale(None, None, tag))


@contextlib.contextmanager
def using(tag: str) -> Iterator[None]:
    token = _current.set(tag if tag in SUPPORTED else choose_locale(None, None, tag))
    try:
        yield
    finally:
        _current.reset(token)


def _babel(tag: str) -> str:
    return tag.replace("-", "_")


# ------------------------------------------------------------------------------------- spoken fragments


class Said(str):
    """Text for TTS that also knows its SSML body (without the ``<speak>`` wrapper)."""

    ssml_body: str

    def __new__(cls, text: str, ssml_body: str | None = None) -> Said:
        obj = super().__new__(cls, text)
        obj.ssml_body = ssml_body if ssml_body is not None else escape(text)
        return obj


def _body(value: object) -> str:
    return value.ssml_body if isinstance(value, Said) else escape(str(value))


def word(key: str) -> str:
    """A single catalogue word (status words, brand names...), in the current locale."""
    return _lookup(WORDS, key) or key


def _lookup(table: Mapping[str, Mapping[str, str]], key: str) -> str | None:
    tag = current()
    for loc in (tag, FALLBACK.get(tag, DEFAULT), DEFAULT):
        text = table.get(loc, {}).get(key)
        if text is not None:
            return text
    return None


def has(message_id: str) -> bool:
    return _lookup(CATALOGUE, message_id) is not None


def say(message_id: str, /, **fields: Any) -> Said:
    """A catalogue sentence in the current locale; ``fields`` may be ``Said`` fragments (codes, dates)."""
    template = _lookup(CATALOGUE, message_id)
    if template is None:
        raise KeyError(message_id)
    text = template.format_map({k: str(v) for k, v in fields.items()})
    ssml = escape(template).format_map({k: _body(v) for k, v in fields.items()})
    return Said(text, ssml)


def join(*parts: str) -> Said:
    """Sentences said one after the other (empty parts skipped)."""
    kept = [p for p in parts if p]
    return Said(" ".join(kept), " ".join(_body(p) for p in kept))


def money(amount: int, currency: str) -> Said:
    """Minor units in words, by CLDR: "12.99 British pounds", "12,99 libras esterlinas" (never a symbol)."""
    cur = currency.lower()
    digits = 0 if cur in _ZERO_DECIMAL else 3 if cur in _THREE_DECIMAL else 2
    value = Decimal(amount).scaleb(-digits)
    return Said(format_currency(value, cur.upper(), locale=_babel(current()), format_type="name"))


def day(ts: int | float, *, now: datetime | None = None) -> Said:
    """A unix time as a date said in the locale ("3 November", "3 de noviembre"), with the year when not
    this year. UTC: the gateway does not know the caller's zone (see actions._common.format_date)."""
    when = datetime.fromtimestamp(ts, UTC)
    now = now or datetime.now(UTC)
    loc = _babel(current())
    if when.year == now.year:
        text = format_skeleton("MMMMd", when, locale=loc)
    else:
        text = _babel_date(when.date(), format="long", locale=loc)
    return Said(text)


def iso_day(d: date) -> Said:
    text = _babel_date(d, format="long", locale=_babel(current()))
    return Said(text, f'<say-as interpret-as="date" format="ymd">{d.isoformat()}</say-as>')


def digits(value: str) -> Said:
    """Digits one by one: "0069" -> "0 0 6 9" (a card ending is never "sixty-nine")."""
    only = "".join(ch for ch in value if ch.isdigit())
    return Said(" ".join(only), f'<say-as interpret-as="digits">{escape(only)}</say-as>')


def spell(code: str) -> Said:
    """A code or reference spelled with the locale's phonetic alphabet: "K7-M" -> "K as in kilo, 7, M as in
    Mike" (en); dashes are not said. SSML: ``say-as characters``."""
    letter_form = _lookup(CATALOGUE, "spell.letter") or "{letter} as in {word}"
    names = PHONETIC.get(current().split("-")[0], PHONETIC["en"])
    digit_names = DIGITS.get(current().split("-")[0], DIGITS["en"])
    parts: list[str] = []
    for ch in code.upper():
        if ch.isdigit():
            parts.append(digit_names[int(ch)])
        elif ch in names:
            parts.append(letter_form.format(letter=ch, word=names[ch]))
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return Said(", ".join(parts), f'<say-as interpret-as="characters">{escape(raw)}</say-as>')


def characters(code: str) -> Said:
    """A short code said character by character, letters and digits spaced: "K7M4" -> "K 7 M 4"."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return Said(" ".join(raw), f'<say-as interpret-as="characters">{escape(raw)}</say-as>')


_BRANDS = {"amex": "American Express", "mastercard": "Mastercard", "visa": "Visa", "discover": "Discover"}


def card(brand: str | None, last4: str | None) -> Said | None:
    """ "your Visa ending 4 2 4 2": brand and the last four digits, each digit said (never "forty-two...")."""
    if not last4:
        return None
    name = _BRANDS.get((brand or "").lower()) or (brand.title() if brand else word("card"))
    return say("card.ending", brand=name, digits=digits(last4))


_DECLINES = {
    "insufficient_funds": "insufficient_funds", "expired_card": "expired_card", "incorrect_cvc": "incorrect_cvc",
    "incorrect_number": "incorrect_number", "lost_card": "lost_card", "stolen_card": "stolen_card",
    "card_velocity_exceeded": "limit", "withdrawal_count_limit_exceeded": "limit",
    "processing_error": "processing_error", "authentication_required": "authentication_required",
    "fraudulent": "fraudulent",
}


def decline(code: str | None) -> Said:
    """Why a card was declined, in the caller's words; any code not listed is "the bank declined it"."""
    return say(f"decline.{_DECLINES.get(code or '', 'generic')}")


_DOT_WORD = {"en": "dot", "es": "punto", "fr": "point", "de": "Punkt"}


def domain_words(domain: str) -> str:
    """``example.co.uk`` -> "example dot co dot uk" (in the locale's word for the dot)."""
    dot = _DOT_WORD.get(current().split("-")[0], "dot")
    clean = "".join(ch if ch.isalnum() or ch in ".-" else " " for ch in domain.lower())
    return f" {dot} ".join(p.replace("-", " ") for p in clean.split(".") if p)


def email_words(email_or_masked: str) -> Said:
    """A masked or full email said without its local part: "the email ending in example dot com"."""
    domain = email_or_masked.rpartition("@")[2]
    return say("email.ending", domain=domain_words(domain))


def either(words: list[str], joiner: str = "validation.or") -> str:
    """ "a, b or c" the locale's way (the joiner sentence nests: "a or b or c" reads fine aloud)."""
    if not words:
        return ""
    out = words[-1]
    for w in reversed(words[:-1]):
        out = str(say(joiner, a=w, b=out))
    return out


def validation_say(details: list[dict[str, str]]) -> Said:
    """What a caller is still asked for, from validation details (``field``/``problem``), in words: "I still
    need the customer's email or phone number." Never a field name or a schema word."""
    need: list[str] = []
    wrong: list[str] = []
    for d in details:
        field, problem = d.get("field", ""), d.get("problem", "").lower()
        if "exactly one of" in problem and "email" in problem:
            key = "field.customer"
        else:
            key = f"field.{field.split('.')[0]}"
            if not has(key):
                key = "field.other"
        text = str(say(key))
        target = need if "required" in problem or "exactly one of" in problem else wrong
        if text not in target:
            target.append(text)
    if need:
        return say("validation.need", things=either(need, "validation.and"))
    if wrong:
        return say("validation.wrong", things=either(wrong, "validation.and"))
    return say("error.ValidationFailed")


def ssml(text: str, locale: str | None = None) -> str:
    """The SSML 1.1 document for a ``say``: ``Said`` keeps its ``say-as`` markup, plain text is escaped."""
    lang = locale or current()
    return (
        f'<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="{lang}">'
        f"{_body(text)}</speak>"
    )


#: Characters a ``say`` may contain besides letters and digits (tests/gateway/test_speech_catalogue.py).
ALLOWED_PUNCTUATION = frozenset(" .,;:?!'’-()¿¡«»\u00a0\u202f") | frozenset(string.whitespace)
