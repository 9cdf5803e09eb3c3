"""Second independent red-team corpus: card numbers in the text formats payment services really emit.

Written without looking at the redaction engine or the team's corpora (only the earlier red-team
generator ``redaction_redteam_text.py`` was read, for its interface and to avoid repeating its
families).  Standard library only; no detector is imported or run here.

Real-world formats and behaviours modelled (one-line source each)
------------------------------------------------------------------
Separators between digit groups
  * Unicode spaces: NBSP U+00A0, narrow NBSP U+202F (ICU / CLDR number formatting in fr, de-CH),
    thin U+2009, hair U+200A, figure U+2007, punctuation U+2008, en/em/four-per-em spaces, medium
    math space U+205F, ogham space U+1680, ideographic space U+3000 (CJK IMEs) -- Unicode Zs class.
  * Invisible format characters: ZWSP U+200B, ZWNJ/ZWJ, word joiner U+2060, BOM U+FEFF, soft
    hyphen U+00AD, invisible separator U+2063, LRM/RLM/ALM bidi marks and LRE/PDF, LRI/PDI
    isolates that phones wrap around copied numbers -- Unicode Cf class, UAX #9.
  * Line controls: tab, CR, LF, CRLF (RFC 5322 / HTML textarea submission), VT, FF, NEL U+0085,
    LINE SEPARATOR U+2028 and PARAGRAPH SEPARATOR U+2029 (Word / iOS Notes copy-paste).
  * The same escaped: JSON ``\\u00a0`` ``\\n`` ``\\t`` ``\\r\\n`` (RFC 8259), Python repr ``\\xa0``,
    Java properties ``\\u00A0`` (java.util.Properties), YAML double-quoted ``\\_`` ``\\L`` ``\\P``
    ``\\N`` (YAML 1.2 section 5.7), HTML named/numeric references ``&nbsp;`` ``&#x202F;``
    ``&ZeroWidthSpace;`` ``&shy;`` (WHATWG named character references), URL encodings ``%20``
    ``+`` ``%C2%A0`` ``%E2%80%AF`` ``%0D%0A`` and double encoding ``%25C2%25A0`` (RFC 3986,
    application/x-www-form-urlencoded).
Chat / transcript turns stored as JSON
  * OpenAI Chat Completions ``messages`` and Responses ``input`` arrays, Anthropic Messages API
    content blocks and ``tool_use`` inputs -- the vendors' API references.
  * Dialogflow CX WebhookRequest, Amazon Lex V2 Lambda input event, Twilio Conversations webhook,
    Vonage Messages API inbound, Genesys Cloud Open Messaging, Amazon Connect chat transcript
    (``Transcript[].Content``) -- the vendors' event payload docs.
  * JSON Lines (jsonlines.org), pretty-printed JSON, double/triple encoded JSON strings (AWS API
    Gateway proxy ``body``, SNS-to-SQS envelopes, Logstash ``message``); the card's groups sit in
    separate turns, separate events or separate fields.
Structured logging
  * logfmt (brandur/logfmt), GELF 1.1 (Graylog docs), Elastic Common Schema, Datadog JSON logs,
    RFC 5424 syslog with STRUCTURED-DATA escapes, CloudWatch Logs Lambda lines and subscription
    payloads, systemd journal export format (systemd.io/JOURNAL_EXPORT_FORMATS).
Configuration and API bodies
  * YAML 1.2 (plain, quoted, block scalars, YAML 1.1 ``_`` digit separators), TOML 1.0 (line-ending
    backslash, ``_`` in integers, arrays), INI / configparser continuation lines, Java .properties.
  * XML and SOAP 1.1 envelopes (W3C), CDATA, character references; GraphQL over HTTP (variables,
    inline literals, graphql-js "got invalid value" errors); HAR 1.2 (W3C web-perf draft);
    cURL command lines (curl man page, Chrome "Copy as cURL" ``$'...'``, Windows ``^``) and
    HTTPie request items (``=`` / ``:=``).
Data stores and exports
  * SQL INSERT/UPDATE statements, string concatenation, N'' literals, PostgreSQL / MySQL
    general query logs, COPY FROM stdin rows (PostgreSQL and MySQL manuals).
  * CSV / TSV (RFC 4180 quoting, embedded newlines and quotes, semicolon dialect, BOM).
  * Spreadsheet cells: leading apostrophe, ``="..."`` and CONCATENATE / ``&`` formulas,
    SpreadsheetML ``<Data ss:Type="String">``, xlsx sharedStrings, Google Sheets API values.
Human messages
  * E-mail bodies with ``>`` / ``> >`` quoted replies, "On ... wrote:", Outlook headers,
    format=flowed trailing-space soft breaks (RFC 3676), signatures.
  * Slack mrkdwn and Block Kit rich_text, Microsoft Teams chatMessage HTML (Graph API),
    Markdown code spans, fenced blocks, block quotes and pipe tables, Discord spoilers.
  * Stack traces with local variables: rich / pytest --showlocals, Sentry frame ``vars``,
    Node util.inspect, PHP stack frames with arguments.
Digits and glyphs
  * Decimal digits of other scripts (Unicode Nd): Arabic-Indic, Extended Arabic-Indic
    (Persian), Devanagari, Bengali, Thai, full-width (CJK IMEs), mathematical bold / monospace /
    double-struck / sans-serif digits ("fancy text" generators), mixed within one number.
  * OCR of card photos (Google Vision, AWS Textract, Tesseract TSV / hOCR): O for 0, l or I for 1,
    S for 5, B for 8.
  * Fixed-column wrapping: ``fold -w``, 80-column card images with sequence numbers in columns
    73-80, terminal soft wraps, SMS concatenation segments (3GPP TS 23.040, 153 characters);
    fixed-width record layouts where the PAN field is glued to neighbouring numeric fields.

Labels
------
Each sample has ``text``, ``fmt`` (family name), ``brand`` (card brand, or ``decoy:<control>``)
and ``pans``: [start, end) spans covering every character that stands for a card digit.  A span may
contain separators (spaces, escapes, entities, newlines) between digits, but is split around
other text or markup (JSON quotes, other turns, tags, ``> `` prefixes, sequence numbers).  Masked
cards (first six / last four) are never spans.  Control samples have ``pans == []``.

Self-check: the characters inside the spans, after undoing backslash escapes, HTML references and
percent-encoding, and mapping other-script digits and OCR look-alikes to ASCII, spell the card
number exactly, once per occurrence (a text may hold the card several times, e.g. a HAR entry's
``text`` and ``params``); no unlabelled copy of the card is left outside the spans; every 13-19 digit run of
a control (and of chunk-joined runs across short separators) fails Luhn.  Failing draws are redrawn.

Interface
---------
``corpus(seed, per_family)`` returns ``per_family`` samples of every card family, then of every control
family (deterministic for a seed).  ``FAMILIES`` maps a family name to its template ``(rng, payload) ->
marked text``; ``CONTROLS`` maps a control name to a decoy maker ``(rng) -> payload`` whose look-alike is
rendered through a randomly chosen template (recorded in ``Sample.template``).  ``Sample.digits`` holds
the card number of card samples.  ``self_check(samples)`` re-verifies labels.  Card numbers are Stripe's
public test numbers or synthetic Luhn-valid numbers with real issuer prefixes and random bodies.

Run from the repository root::

    .venv/bin/python benchmarks/redaction_redteam_text2.py [--per-family N] [--seed S] [--examples K]
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import random
import re
import string
import sys
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from urllib.parse import quote, unquote

# ---------------------------------------------------------------------------------------------
# Public sample type


@dataclass
class Sample:
    text: str
    fmt: str  # family name (card family or control family)
    brand: str  # "visa", "mastercard", ... or "decoy:<control family>"
    pans: list[tuple[int, int]]  # [start, end) spans of card characters
    digits: str = ""  # the card number (ASCII) for card samples
    template: str = ""  # the format template used (== fmt for card samples)


# ---------------------------------------------------------------------------------------------
# Span markers: generators write card stretches between M0 and M1 (private-use characters that
# survive json.dumps(ensure_ascii=False), html.escape, csv and our own encoders).

M0, M1 = "\ue000", "\ue001"
MARKS = (M0, M1)


def C(s: str) -> str:
    """Mark ``s`` as one stretch of card characters."""
    return f"{M0}{s}{M1}" if s else s


def unmark(s: str) -> str:
    return s.replace(M0, "").replace(M1, "")


def finalize(marked: str) -> tuple[str, list[tuple[int, int]]]:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    start: int | None = None
    pos = 0
    for ch in marked:
        if ch == M0:
            if start is not None:
                raise ValueError("nested span marker")
            start = pos
        elif ch == M1:
            if start is None:
                raise ValueError("unbalanced span marker")
            if pos > start:
                spans.append((start, pos))
            start = None
        else:
            out.append(ch)
            pos += 1
    if start is not None:
        raise ValueError("unclosed span marker")
    return "".join(out), spans


# ---------------------------------------------------------------------------------------------
# Marker-safe encoders


def esc_ascii(s: str, upper: bool = False) -> str:
    """\\uXXXX-escape every non-ASCII character except the span markers (JSON ensure_ascii)."""
    out: list[str] = []
    for ch in s:
        o = ord(ch)
        if o < 128 or ch in MARKS:
            out.append(ch)
            continue
        if o > 0xFFFF:
            o -= 0x10000
            units = [0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF)]
        else:
            units = [o]
        for u in units:
            out.append(f"\\u{u:04X}" if upper else f"\\u{u:04x}")
    return "".join(out)


def jd(obj: object, *, indent: int | None = None, ascii_: bool = False, compact: bool = False) -> str:
    seps = (",", ":") if compact else ((",", ": ") if indent is not None else (", ", ": "))
    s = json.dumps(obj, ensure_ascii=False, indent=indent, separators=seps)
    return esc_ascii(s) if ascii_ else s


def pyrepr(s: str) -> str:
    """Python repr() of a str, keeping markers raw."""
    parts = re.split(f"([{M0}{M1}])", s)
    body = "".join(p if p in MARKS else repr(p)[1:-1] for p in parts)
    return "'" + body.replace("'", "\\'") + "'" if "'" in unmark(s) else "'" + body + "'"


def pct(s: str, safe: str = "", plus: bool = False, lower: bool = False) -> str:
    out: list[str] = []
    for ch in s:
        if ch in MARKS:
            out.append(ch)
        elif plus and ch == " ":
            out.append("+")
        else:
            q = quote(ch, safe=safe)
            out.append(q.lower() if lower and q.startswith("%") else q)
    return "".join(out)


def xesc(s: str) -> str:
    return html.escape(s, quote=True)


# ---------------------------------------------------------------------------------------------
# Decoding used by the self-check

_BSLASH = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[\\\"'/bfnrtv_NLP])")
_SURR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "_": "\u00a0", "N": "\u0085", "L": "\u2028", "P": "\u2029"}


def _bs(m: re.Match[str]) -> str:
    g = m.group(1)
    if g[0] in "uUx":
        return chr(int(g[1:], 16))
    return _SIMPLE.get(g, g)


def _pair(m: re.Match[str]) -> str:
    hi, lo = ord(m.group()[0]), ord(m.group()[1])
    return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))


def decode_layers(s: str) -> str:
    """Undo backslash escapes, HTML references and percent-encoding, repeatedly."""
    for _ in range(6):
        t = _SURR.sub(_pair, _BSLASH.sub(_bs, s))
        t = html.unescape(t)
        t = unquote(t)
        if t == s:
            break
        s = t
    return s


OCR_BACK = {"O": "0", "o": "0", "l": "1", "I": "1", "S": "5", "B": "8"}


def spelled_digits(seg: str) -> tuple[str, str]:
    """(ASCII digits spelled by a decoded span, stray letters found)."""
    digits: list[str] = []
    stray: list[str] = []
    for ch in seg:
        if ch.isdecimal():
            digits.append(str(unicodedata.decimal(ch)))
        elif ch in OCR_BACK:
            digits.append(OCR_BACK[ch])
        elif ch.isalpha() or ch.isnumeric():
            stray.append(ch)
    return "".join(digits), "".join(stray)


def luhn_ok(d: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError("unreachable")


def _is_sep(ch: str) -> bool:
    return ch in "\t\r\n\x0b\x0c-.\u2011\u2012\u2013\u2014\u2212\u00ad" or unicodedata.category(ch) in (
        "Zs", "Zl", "Zp", "Cf")


def digit_chunks(text: str) -> list[list[str]]:
    """Runs of digit chunks joined by at most 3 separator characters."""
    runs: list[list[str]] = []
    cur: list[str] = []
    chunk: list[str] = []
    gap = 0
    for ch in text + "\x00":
        if ch.isdecimal():
            if not chunk and cur and gap > 3:
                runs.append(cur)
                cur = []
            chunk.append(str(unicodedata.decimal(ch)))
            gap = 0
            continue
        if chunk:
            cur.append("".join(chunk))
            chunk = []
        if cur and _is_sep(ch):
            gap += 1
            continue
        if cur:
            runs.append(cur)
            cur = []
        gap = 0
    return runs


def luhn_trouble(text: str) -> str | None:
    """A Luhn-valid 13-19 digit number formed by whole consecutive chunks, if any."""
    for run in digit_chunks(text):
        for i in range(len(run)):
            acc = ""
            for j in range(i, len(run)):
                acc += run[j]
                if len(acc) > 19:
                    break
                if len(acc) >= 13 and luhn_ok(acc):
                    return acc
    return None


# ---------------------------------------------------------------------------------------------
# Payloads: cards and decoys

STRIPE_TEST: list[tuple[str, str]] = [
    ("4242424242424242", "visa"), ("4000056655665556", "visa"), ("5555555555554444", "mastercard"),
    ("2223003122003222", "mastercard"), ("5200828282828210", "mastercard"), ("378282246310005", "amex"),
    ("371449635398431", "amex"), ("6011111111111117", "discover"), ("3056930009020004", "diners"),
    ("36227206271667", "diners"), ("3566002020360505", "jcb"), ("6200000000000005", "unionpay"),
]

CARD_KEYS = ["card_number", "cardNumber", "pan", "number", "cc_number", "ccnum", "card", "account_number",
             "CardNumber", "card-number"]
CARD_NOUNS = ["card number", "card", "credit card", "card no.", "debit card", "card #", "visa", "number"]


@dataclass
class Payload:
    digits: str  # ASCII digits of the card ("" is allowed for decoys)
    groups: list[str]  # how it is grouped when written
    brand: str
    is_card: bool
    key: str  # a field name
    noun: str  # a phrase for prose
    native: str | None = None  # rigid decoys: the one way they are written
    meta: dict[str, str] = field(default_factory=dict)

    def plain(self) -> str:
        return self.native if self.native is not None else "".join(self.groups)

    def spaced(self, sep: str = " ") -> str:
        return self.native if self.native is not None else sep.join(self.groups)


def _rand_digits(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.digits) for _ in range(n))


def _synthetic(r: random.Random) -> tuple[str, str]:
    brand = r.choices(["visa", "mastercard", "amex", "discover", "jcb", "diners", "unionpay", "maestro", "mir"],
                      weights=[30, 22, 10, 8, 6, 5, 7, 7, 5])[0]
    if brand == "visa":
        pre, n = "4", r.choice([16] * 9 + [19])
    elif brand == "mastercard":
        pre = str(r.randint(51, 55)) if r.random() < 0.6 else str(r.randint(2221, 2720))
        n = 16
    elif brand == "amex":
        pre, n = r.choice(["34", "37"]), 15
    elif brand == "discover":
        pre, n = r.choice(["6011", str(r.randint(644, 649)), "65"]), 16
    elif brand == "jcb":
        pre, n = str(r.randint(3528, 3589)), 16
    elif brand == "diners":
        pre, n = r.choice(["36", str(r.randint(300, 305))]), 14
    elif brand == "unionpay":
        pre, n = "62", r.choice([16, 16, 19])
    elif brand == "maestro":
        pre, n = r.choice(["50", "56", "57", "58", "63", "67"]), r.choice([16, 16, 19])
    else:
        pre, n = str(r.randint(2200, 2204)), 16
    return luhn_complete(pre + _rand_digits(r, n - len(pre) - 1)), brand


def card_groups(d: str) -> list[str]:
    n = len(d)
    if n == 15:
        cuts = [4, 6, 5]
    elif n == 14:
        cuts = [4, 6, 4]
    else:
        cuts = [4] * (n // 4) + ([n % 4] if n % 4 else [])
    out: list[str] = []
    i = 0
    for c in cuts:
        out.append(d[i:i + c])
        i += c
    return out


def make_card(r: random.Random) -> Payload:
    if r.random() < 0.35:
        d, brand = r.choice(STRIPE_TEST)
    else:
        d, brand = _synthetic(r)
    return Payload(d, card_groups(d), brand, True, r.choice(CARD_KEYS), r.choice(CARD_NOUNS))


# ---------------------------------------------------------------------------------------------
# Shared context

NAMES = ["Maria Garcia", "James O'Connor", "Aisha Khan", "Wei Zhang", "Olga Petrova", "Kwame Mensah",
         "Sofia Rossi", "Hiro Tanaka", "Priya Nair", "Lucas Martin", "Fatima Haddad", "Noah Becker"]
HOSTS = ["pay-api-7c9f8", "gw-eu-2", "ip-10-0-3-17", "checkout-5d8b7", "voicebot-1", "ledger-worker-3"]
SERVICES = ["checkout", "payments-api", "voice-bot", "support-chat", "billing-worker", "ivr-gateway"]
T0 = datetime(2024, 1, 2, tzinfo=UTC)


def when(r: random.Random) -> datetime:
    return T0 + timedelta(seconds=r.randint(0, 600 * 86400), microseconds=r.randint(0, 999999))


def iso(r: random.Random, dt: datetime | None = None) -> str:
    dt = dt or when(r)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def hexid(r: random.Random, n: int = 16) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def uid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def name(r: random.Random) -> str:
    return r.choice(NAMES)


def interleave(parts: list[str], seps: list[str]) -> str:
    out = [parts[0]]
    for s, p in zip(seps, parts[1:], strict=False):
        out += [s, p]
    return "".join(out)


def joined(p: Payload, seps: list[str] | str) -> str:
    """The payload written with the given separators between groups, marked as one span."""
    if p.native is not None:
        return C(p.native)
    if isinstance(seps, str):
        seps = [seps] * (len(p.groups) - 1)
    return C(interleave(p.groups, seps))


def pieces(p: Payload, r: random.Random, k: int) -> list[str]:
    """Split the written form into k consecutive pieces (at group boundaries when possible)."""
    if p.native is not None:
        return [p.native]
    g = p.groups
    if len(g) >= k:
        cut = sorted(r.sample(range(1, len(g)), k - 1))
        bounds = [0, *cut, len(g)]
        return [" ".join(g[a:b]) for a, b in pairwise(bounds)]
    s = p.plain()
    cut = sorted(r.sample(range(1, len(s)), min(k, len(s)) - 1))
    bounds = [0, *cut, len(s)]
    return [s[a:b] for a, b in pairwise(bounds)]


def say(r: random.Random, p: Payload, x: str) -> str:
    """A short human sentence carrying ``x`` (already marked)."""
    n = p.noun
    if not p.is_card:
        return r.choice([f"my {n} is {x}", f"{n}: {x}", f"{x}", f"it's {x} thanks", f"the {n} is {x}",
                         f"Hi, {n} {x}. Can you check?", f"sure - {x}"])
    return r.choice([
        f"my {n} is {x}", f"{n}: {x}", f"ok here it is {x}", f"{x}", f"it's {x} thanks",
        f"Please use {x} for the payment", f"the {n} is {x}, expiry 0{r.randint(1, 9)}/{r.randint(26, 31)}",
        f"{x} is the one on file", f"sure - {x}", f"Hi, {n} {x}. Can you retry?",
    ])


def ack(r: random.Random) -> str:
    return r.choice(["Got it.", "Thanks, and the next digits?", "Okay, go on.", "Mm-hmm.", "Could you repeat that?",
                     "Thank you. Continue when ready.", "Noted.", "Great, keep going."])


# ---------------------------------------------------------------------------------------------
# Card families
# Each family: (r, payload) -> marked text.  The payload may be a card or a decoy (controls reuse
# the same templates), so families never assume the digits are a card.

Family = Callable[[random.Random, Payload], str]
FAMILIES: dict[str, Family] = {}


def family(fn: Family) -> Family:
    FAMILIES[fn.__name__.removeprefix("f_")] = fn
    return fn


UNI_SPACES = ["\u00a0", "\u202f", "\u2009", "\u200a", "\u2007", "\u3000", "\u2002", "\u2003", "\u2008", "\u205f",
              "\u2004", "\u2005", "\u2006", "\u1680"]


def _context_line(r: random.Random, p: Payload, x: str) -> str:
    kind = r.randrange(6)
    if kind == 0:
        return f"SMS from +1415555{r.randint(1000, 9999)}: {say(r, p, x)}"
    if kind == 1:
        return f"[{iso(r)}] {r.choice(SERVICES)} chat.message user={hexid(r, 8)} text={say(r, p, x)}"
    if kind == 2:
        return f"Customer note ({name(r)}): {say(r, p, x)}\nAgent: {ack(r)}"
    if kind == 3:
        return f"Ticket #{r.randint(10000, 99999)} - {say(r, p, x)}"
    if kind == 4:
        return f"{say(r, p, x)}"
    return f"From: {name(r)}\nSubject: payment\n\n{say(r, p, x)}\n"


@family
def f_sep_unicode_spaces(r: random.Random, p: Payload) -> str:
    mode = r.randrange(5)
    k = max(1, len(p.groups) - 1)
    if mode == 0:
        seps: list[str] = [r.choice(UNI_SPACES)] * k
    elif mode == 1:
        seps = [r.choice(UNI_SPACES) for _ in range(k)]
    elif mode == 2:
        seps = [" " + r.choice(UNI_SPACES) for _ in range(k)]
    elif mode == 3:
        sp = r.choice(UNI_SPACES)
        seps = [sp * r.randint(1, 3) for _ in range(k)]
    else:
        seps = [r.choice(["\u00a0", "\u202f"]) + r.choice(["", "\u200b"]) for _ in range(k)]
    return _context_line(r, p, joined(p, seps))


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2063", "\u200e", "\u200f", "\u061c",
             "\u034f", "\u180e"]


def _every_char(s: str, r: random.Random, pool: list[str], prob: float) -> str:
    out: list[str] = []
    for i, ch in enumerate(s):
        out.append(ch)
        if i < len(s) - 1 and r.random() < prob:
            out.append(r.choice(pool))
    return "".join(out)


@family
def f_sep_invisible_format(r: random.Random, p: Payload) -> str:
    mode = r.randrange(5)
    k = max(1, len(p.groups) - 1)
    if mode == 0:  # glued visually, invisible char between groups
        x = joined(p, [r.choice(INVISIBLE) for _ in range(k)])
    elif mode == 1:  # space plus invisible
        inv = r.choice(INVISIBLE)
        x = joined(p, [r.choice([" " + inv, inv + " ", inv + " " + inv]) for _ in range(k)])
    elif mode == 2:  # after (almost) every digit
        x = C(_every_char(p.spaced(r.choice([" ", ""])), r, [r.choice(INVISIBLE)], 0.9))
    elif mode == 3:  # random sprinkling of mixed kinds
        x = C(_every_char(p.spaced(" "), r, INVISIBLE, 0.3))
    else:  # phone-style bidi wrapping around each group (LRE/PDF, LRI/PDI) outside the digits
        o, c = r.choice([("\u202a", "\u202c"), ("\u2066", "\u2069"), ("\u2068", "\u2069")])
        if p.native is not None:
            x = o + C(p.native) + c
        else:
            x = C(interleave(p.groups, [c + " " + o] * k))
            x = o + x + c
    return _context_line(r, p, x)


LINE_SEPS = ["\t", "\r\n", "\n", "\r", "\x0b", "\x0c", "\u0085", "\u2028", "\u2029", "\t\t", " \r\n", "  \n"]


@family
def f_sep_line_controls(r: random.Random, p: Payload) -> str:
    mode = r.randrange(4)
    k = max(1, len(p.groups) - 1)
    if mode == 0:  # one group per textarea line
        nl = r.choice(["\n", "\r\n"])
        x = joined(p, nl)
    elif mode == 1:
        x = joined(p, [r.choice(LINE_SEPS) for _ in range(k)])
    elif mode == 2:
        x = joined(p, r.choice(["\t", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\r"]))
    else:
        x = joined(p, [r.choice([" ", "  ", "\t", " \t"]) for _ in range(k)])
    ctx = r.randrange(4)
    if ctx == 0:
        return (f"{iso(r)} INFO contact-form received fields:\n---- message ----\nHello,\r\n{say(r, p, x)}\r\n"
                f"Regards\r\n{name(r)}\n---- end ----")
    if ctx == 1:
        return f"Notes:\t{x}\tupdated_by\t{name(r)}"
    return _context_line(r, p, x)


def goq(s: str) -> str:
    """Go strconv.Quote-style quoting (markers kept raw)."""
    out = ['"']
    for ch in s:
        if ch in MARKS:
            out.append(ch)
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[ch])
        elif ch == " " or (ch.isprintable() and unicodedata.category(ch) not in ("Zs", "Zl", "Zp", "Cf")):
            out.append(ch)
        elif ord(ch) > 0xFFFF:
            out.append(f"\\U{ord(ch):08x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    out.append('"')
    return "".join(out)


ESCAPABLE = ["\u00a0", "\u202f", "\u200b", "\n", "\t", "\r\n", "\u2028", "\u2009", "\u00ad", "\u3000", "\ufeff"]


@family
def f_escaped_seps_in_logs(r: random.Random, p: Payload) -> str:
    k = max(1, len(p.groups) - 1)
    sep = r.choice(ESCAPABLE)
    x = joined(p, [sep if r.random() < 0.8 else r.choice(ESCAPABLE) for _ in range(k)])
    text = say(r, p, x)
    style = r.randrange(5)
    ts = iso(r)
    if style == 0:  # JSON log line, ensure_ascii
        obj = {"ts": ts, "level": "info", "logger": "chat.turn", "session": uid(r), "text": text}
        return jd(obj, ascii_=True, compact=r.random() < 0.5)
    if style == 1:  # Jackson / Java with upper-case escapes
        body = esc_ascii(jd({"utterance": text, "channel": "web"}), upper=True)
        return f"{ts} DEBUG [http-nio-8080-exec-{r.randint(1, 9)}] c.e.p.ChatController - payload={body}"
    if style == 2:  # Python logging of a dict
        return f"{ts} WARNING payments.intake: unparsed input {{'text': {pyrepr(text)}, 'lang': 'en'}}"
    if style == 3:  # Go logfmt / slog text handler
        return f"time={ts} level=INFO msg=\"transcript turn\" svc={r.choice(SERVICES)} text={goq(text)}"
    # escaped line break inside an escaped string inside a CSV-ish line
    return f"{ts}|{hexid(r, 12)}|user|{jd(text, ascii_=True)}"


HTML_SEP_ENTS = ["&nbsp;", "&#160;", "&#xA0;", "&#xa0;", "&NonBreakingSpace;", "&#x202F;", "&#8239;", "&thinsp;",
                 "&ThinSpace;", "&hairsp;", "&numsp;", "&puncsp;", "&ensp;", "&emsp;", "&emsp13;", "&ZeroWidthSpace;",
                 "&#8203;", "&shy;", "&#173;", "&NoBreak;", "&#x2060;", "&NewLine;", "&#10;", "&#13;&#10;", "&Tab;",
                 "&#9;", "&#32;", "&#x20;", "&ic;", "&#xFEFF;", " &nbsp;", "&nbsp; "]


@family
def f_html_entity_seps(r: random.Random, p: Payload) -> str:
    k = max(1, len(p.groups) - 1)
    ent = r.choice(HTML_SEP_ENTS)
    x = joined(p, [ent if r.random() < 0.7 else r.choice(HTML_SEP_ENTS) for _ in range(k)])
    style = r.randrange(5)
    if style == 0:
        return (f'<div dir="ltr"><p>Hi team,</p><p>{say(r, p, x)}</p><p>Best,<br>{xesc(name(r))}</p></div>')
    if style == 1:
        return f'<input type="text" name="{p.key}" value="{x}" autocomplete="off">'
    if style == 2:
        return f'<textarea name="comments" rows="4">{say(r, p, x)}</textarea>'
    if style == 3:  # HTML escaped again inside an XML/RSS element
        inner = f"<p>{say(r, p, x)}</p>"
        return f"<item><title>Ticket {r.randint(1000, 9999)}</title><description>{xesc(inner)}</description></item>"
    obj = {"id": uid(r), "body_html": f"<p>{say(r, p, x)}</p>", "author": name(r)}
    return f"{iso(r)} cms.save " + jd(obj)


URL_SEPS = [" ", "\u00a0", "\u202f", "\u2009", "\u200b", "\t", "\r\n", "\n", "\u00ad", "\u3000", "-"]


@family
def f_url_encoded_seps(r: random.Random, p: Payload) -> str:
    k = max(1, len(p.groups) - 1)
    sep = r.choice(URL_SEPS)
    raw = joined(p, [sep if r.random() < 0.8 else r.choice(URL_SEPS) for _ in range(k)])
    plus, lower = r.random() < 0.5, r.random() < 0.3
    enc = pct(raw, plus=plus, lower=lower)
    if r.random() < 0.2:
        enc = pct(enc)  # double-encoded
    style = r.randrange(4)
    ip = f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if style == 0:
        dt = when(r)
        return (f'{ip} - - [{dt.strftime("%d/%b/%Y:%H:%M:%S")} +0000] "GET /pay/confirm?{p.key}={enc}'
                f'&amount={r.randint(1, 500)}.{r.randint(10, 99)} HTTP/1.1" 302 0 "-" "Mozilla/5.0"')
    if style == 1:
        return (f"{iso(r)} POST /checkout form body: cardholder={pct(name(r), plus=True)}&{pct(p.key)}={enc}"
                f"&exp=12%2F{r.randint(26, 31)}")
    if style == 2:  # the value sits in a URL that is itself a query parameter
        inner = f"https://pay.example.com/cb?{p.key}={pct(raw, lower=lower)}&s={hexid(r, 8)}"
        return f"HTTP/1.1 302 Found\r\nLocation: https://shop.example.com/return?next={pct(inner)}\r\n\r\n"
    return (f"Twilio webhook: ToCountry=US&SmsMessageSid=SM{hexid(r, 32)}&Body={pct(say(r, p, raw), plus=True)}"
            f"&NumSegments=1&ApiVersion=2010-04-01")


SYSTEM_PROMPTS = ["You are a payment assistant. Never repeat card numbers back.",
                  "You help callers pay their bills. Collect the card number, then the expiry.",
                  "Role: billing agent. Be brief."]


def _turn_texts(r: random.Random, p: Payload) -> list[str]:
    k = r.choice([1, 2, 2, 3, 4])
    ps = pieces(p, r, k)
    out: list[str] = []
    for i, pc in enumerate(ps):
        x = C(pc)
        out.append(say(r, p, x) if i == 0 else r.choice([x, f"{x}", f"then {x}", f"and {x}", f"{x} that's all"]))
    return out


@family
def f_llm_chat_messages(r: random.Random, p: Payload) -> str:
    turns = _turn_texts(r, p)
    style = r.randrange(4)
    if style == 0:
        msgs: list[dict[str, object]] = [{"role": "system", "content": r.choice(SYSTEM_PROMPTS)}]
        for t in turns:
            msgs += [{"role": "user", "content": t}, {"role": "assistant", "content": ack(r)}]
        obj: dict[str, object] = {"model": "gpt-4o-mini", "messages": msgs[:-1], "temperature": 0.2}
    elif style == 1:
        amsgs: list[dict[str, object]] = []
        for t in turns:
            amsgs += [{"role": "user", "content": [{"type": "text", "text": t}]},
                      {"role": "assistant", "content": [{"type": "text", "text": ack(r)}]}]
        obj = {"model": "claude-3-5-sonnet-20241022", "max_tokens": 1024, "system": r.choice(SYSTEM_PROMPTS),
               "messages": amsgs[:-1]}
    elif style == 2:
        tid = "toolu_01" + "".join(r.choice(string.ascii_letters) for _ in range(22))
        amsgs = [{"role": "user", "content": [{"type": "text", "text": "I'd like to pay my bill"}]},
                 {"role": "assistant", "content": [
                     {"type": "text", "text": "Charging the card now."},
                     {"type": "tool_use", "id": tid, "name": "charge_card",
                      "input": {p.key: C(p.spaced(r.choice([" ", "", "-"]))), "amount_cents": r.randint(100, 99999)}}]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid, "content": "declined"}]}]
        obj = {"model": "claude-3-5-haiku-20241022", "max_tokens": 512, "messages": amsgs}
    else:
        items: list[dict[str, object]] = []
        for t in turns:
            items += [{"role": "user", "content": [{"type": "input_text", "text": t}]},
                      {"role": "assistant", "content": [{"type": "output_text", "text": ack(r)}]}]
        obj = {"model": "gpt-4.1", "input": items[:-1], "store": False}
    how = r.randrange(3)
    if how == 0:
        return f"{iso(r)} DEBUG llm.client request " + jd(obj, compact=True, ascii_=r.random() < 0.3)
    if how == 1:
        return f"{iso(r)} DEBUG llm.client request body:\n" + jd(obj, indent=2)
    return jd({"timestamp": iso(r), "level": "debug", "event": "llm_request", "payload": obj})


def _turn_pieces(r: random.Random, p: Payload, kmax: int = 4) -> list[str]:
    """Marked customer turns carrying the payload in 1..kmax pieces (groups kept together)."""
    k = r.randint(1, kmax)
    out: list[str] = []
    for i, pc in enumerate(pieces(p, r, k)):
        sep = r.choice([" ", " ", "-", "\u00a0", ""]) if p.native is None else " "
        x = C(pc.replace(" ", sep))
        out.append(say(r, p, x) if i == 0 else r.choice([x, f"then {x}", f"{x} that's it", f"and {x}"]))
    return out


@family
def f_contact_center_events(r: random.Random, p: Payload) -> str:
    style = r.randrange(6)
    proj = f"projects/pay-{hexid(r, 6)}/locations/global/agents/{uid(r)}"
    if style == 0:  # Dialogflow CX WebhookRequest
        val = C(p.plain())
        obj: dict[str, object] = {
            "detectIntentResponseId": uid(r),
            "intentInfo": {"lastMatchedIntent": f"{proj}/intents/{uid(r)}", "displayName": "provide.card",
                           "confidence": round(r.uniform(0.6, 0.99), 2)},
            "pageInfo": {"currentPage": f"{proj}/flows/00000000-0000-0000-0000-000000000000/pages/{uid(r)}",
                         "formInfo": {"parameterInfo": [{"displayName": p.key, "required": True, "state": "FILLED",
                                                         "value": val}]}},
            "sessionInfo": {"session": f"{proj}/sessions/{hexid(r, 20)}", "parameters": {p.key: val}},
            "fulfillmentInfo": {"tag": "validate-card"}, "text": say(r, p, joined(p, " ")), "languageCode": "en"}
        return f"{iso(r)} INFO webhook request " + jd(obj, compact=r.random() < 0.5)
    if style == 1:  # Amazon Lex V2 Lambda input event
        orig = joined(p, r.choice([" ", "-", ""]))
        obj = {"messageVersion": "1.0", "invocationSource": "DialogCodeHook", "inputMode": "Text",
               "responseContentType": "text/plain; charset=utf-8", "sessionId": hexid(r, 24),
               "inputTranscript": say(r, p, joined(p, " ")),
               "bot": {"id": "".join(r.choice(string.ascii_uppercase) for _ in range(10)), "name": "PayBot",
                       "aliasId": "TSTALIASID", "localeId": "en_US", "version": "DRAFT"},
               "interpretations": [{"intent": {"name": "MakePayment", "state": "InProgress",
                                               "confirmationState": "None",
                                               "slots": {"CardNumber": {"shape": "Scalar", "value": {
                                                   "originalValue": orig, "interpretedValue": C(p.plain()),
                                                   "resolvedValues": [C(p.plain())]}}}},
                                    "nluConfidence": {"score": 0.91}}]}
        return jd(obj, indent=2 if r.random() < 0.5 else None)
    turns = _turn_pieces(r, p)
    lines: list[str] = []
    dt = when(r)
    for i, t in enumerate(turns):
        dt += timedelta(seconds=r.randint(2, 20))
        if style == 2:  # Twilio Conversations onMessageAdded (form-encoded)
            lines.append(f"{iso(r, dt)} twilio-webhook EventType=onMessageAdded&ConversationSid=CH{hexid(r, 32)}"
                         f"&Body={pct(t, plus=True)}&Author=whatsapp%3A%2B4477009{r.randint(10000, 99999)}"
                         f"&Index={2 * i + 1}&Source=WHATSAPP")
        elif style == 3:  # Vonage Messages API inbound
            lines.append(jd({"channel": "whatsapp", "message_uuid": uid(r), "to": "14155550100",
                             "from": f"4477009{r.randint(10000, 99999)}", "timestamp": iso(r, dt),
                             "message_type": "text", "text": t}, compact=True))
        elif style == 4:  # Genesys Cloud Open Messaging inbound
            lines.append(jd({"id": hexid(r, 32), "channel": {
                "id": uid(r), "platform": "Open", "type": "Private", "messageId": uid(r), "time": iso(r, dt),
                "from": {"nickname": name(r), "id": hexid(r, 12), "idType": "Opaque"}},
                "type": "Text", "text": t, "direction": "Inbound"}))
        else:
            lines.append(t)
        if style != 5 and r.random() < 0.5:
            lines.append(f"{iso(r, dt)} bot reply: {ack(r)}")
    if style != 5:
        return "\n".join(lines)
    cust, agent = uid(r), uid(r)
    items: list[dict[str, object]] = []
    for t in lines:
        dt += timedelta(seconds=r.randint(2, 20))
        items.append({"AbsoluteTime": iso(r, dt), "Content": t, "ContentType": "text/plain", "Id": uid(r),
                      "Type": "MESSAGE", "ParticipantId": cust, "DisplayName": "Customer",
                      "ParticipantRole": "CUSTOMER"})
        items.append({"AbsoluteTime": iso(r, dt), "Content": ack(r), "ContentType": "text/plain", "Id": uid(r),
                      "Type": "MESSAGE", "ParticipantId": agent, "DisplayName": "Agent", "ParticipantRole": "AGENT"})
    obj = {"Version": "2019-08-26", "AWSAccountId": _rand_digits(r, 12), "InstanceId": uid(r),
           "InitialContactId": uid(r), "ContactId": uid(r), "Participants": [{"ParticipantId": cust},
                                                                           {"ParticipantId": agent}],
           "Transcript": items}
    return jd(obj, indent=2 if r.random() < 0.6 else None)


@family
def f_transcript_jsonl_turns(r: random.Random, p: Payload) -> str:
    turns = _turn_pieces(r, p)
    style = r.randrange(4)
    dt = when(r)
    call = uid(r)
    recs: list[dict[str, object]] = [{"call_id": call, "ts": iso(r, dt), "speaker": "agent",
                                      "text": "Can I take the long number on the card?"}]
    for t in turns:
        dt += timedelta(seconds=r.randint(1, 9))
        recs.append({"call_id": call, "ts": iso(r, dt), "speaker": "customer", "text": t})
        dt += timedelta(seconds=r.randint(1, 9))
        recs.append({"call_id": call, "ts": iso(r, dt), "speaker": "agent", "text": ack(r)})
    if style == 0:  # plain JSON Lines
        return "\n".join(jd(x, compact=True) for x in recs)
    if style == 1:  # container runtime (CRI) log lines wrapping JSON
        return "\n".join(f"{x['ts']} stdout F {jd(x)}" for x in recs)
    if style == 2:  # fluent-bit stdout output: the record's "log" field holds the JSON as a string
        return "\n".join(f"[{i}] tail.0: [{1704150000 + i}.{r.randint(100, 999)}, {jd({'log': jd(x)})}]"
                         for i, x in enumerate(recs))
    return jd({"call_id": call, "turns": [{k: v for k, v in x.items() if k != "call_id"} for x in recs]}, indent=2)


def _inner_body(r: random.Random, p: Payload) -> dict[str, object]:
    sep = r.choice([" ", "", "-", "\u00a0", "\u202f", "\n"])
    return {"card": {p.key: joined(p, sep), "exp_month": r.randint(1, 12), "exp_year": r.randint(2026, 2031)},
            "amount": r.randint(100, 99999), "currency": r.choice(["usd", "eur", "gbp"])}


@family
def f_nested_json_strings(r: random.Random, p: Payload) -> str:
    inner = _inner_body(r, p)
    asc = r.random() < 0.4
    style = r.randrange(4)
    if style == 0:  # API Gateway proxy event
        obj: dict[str, object] = {
            "resource": "/pay", "path": "/pay", "httpMethod": "POST",
            "headers": {"content-type": "application/json", "x-amzn-trace-id": f"Root=1-{hexid(r, 8)}-{hexid(r, 24)}"},
            "requestContext": {"requestId": uid(r), "stage": "prod"}, "body": jd(inner, ascii_=asc),
            "isBase64Encoded": False}
        return f"{iso(r)}\t{uid(r)}\tINFO\tevent: " + jd(obj)
    if style == 1:  # SNS notification delivered to SQS (triple encoded at the log line)
        sns = {"Type": "Notification", "MessageId": uid(r),
               "TopicArn": f"arn:aws:sns:eu-west-1:{_rand_digits(r, 12)}:payments", "Message": jd(inner, ascii_=asc),
               "Timestamp": iso(r), "SignatureVersion": "1"}
        rec = {"messageId": uid(r), "receiptHandle": "AQEB" + hexid(r, 40), "body": jd(sns),
               "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs"}
        return "received record " + jd(rec) if r.random() < 0.5 else jd({"level": "info", "msg": jd(rec)})
    if style == 2:  # Logstash event whose message is an application JSON log line
        app = {"ts": iso(r), "level": "DEBUG", "msg": "request body", "body": jd(inner, ascii_=asc)}
        return jd({"@timestamp": iso(r), "@version": "1", "host": r.choice(HOSTS), "message": jd(app)})
    ce = {"specversion": "1.0", "type": "com.example.payment.created", "source": "/checkout", "id": uid(r),
          "time": iso(r), "datacontenttype": "application/json", "data": jd(inner, ascii_=asc)}
    return jd(ce, indent=2)


@family
def f_json_log_platforms(r: random.Random, p: Payload) -> str:
    style = r.randrange(4)
    x = joined(p, r.choice([" ", "", "-", "\u00a0"]))
    host, svc = r.choice(HOSTS), r.choice(SERVICES)
    if style == 0:  # GELF 1.1
        obj: dict[str, object] = {
            "version": "1.1", "host": host, "short_message": "payment validation failed",
            "full_message": f"ValidationError: {p.key}={x} rejected by issuer\n  at validate (card.js:42:11)",
            "timestamp": round(when(r).timestamp(), 3), "level": 3, "_service": svc, "_request_id": uid(r)}
        return jd(obj, compact=True)
    if style == 1:  # Elastic Common Schema
        y = joined(p, r.choice([" ", ""]))
        obj = {"@timestamp": iso(r), "log.level": "error", "message": say(r, p, x), "ecs.version": "8.11.0",
               "service.name": svc, "http.request.method": "POST",
               "http.request.body.content": jd({p.key: y}), "url.query": f"{p.key}={pct(joined(p, ' '), plus=True)}",
               "trace.id": hexid(r, 32)}
        return jd(obj)
    if style == 2:  # Datadog JSON log
        obj = {"date": iso(r), "status": "info", "service": svc, "ddsource": "python", "host": host,
               "message": say(r, p, x), "attributes": {"http": {"method": "GET", "url_details": {
                   "path": "/v1/lookup", "queryString": {p.key: joined(p, "")}}}},
               "dd": {"trace_id": _rand_digits(r, 19), "span_id": _rand_digits(r, 19)}}
        return jd(obj)
    # CloudWatch Logs subscription payload (decompressed), the card spread over several events
    dt = when(r)
    events: list[dict[str, object]] = []
    req = uid(r)
    for t in _turn_pieces(r, p, 3):
        dt += timedelta(milliseconds=r.randint(5, 900))
        events.append({"id": _rand_digits(r, 56), "timestamp": int(dt.timestamp() * 1000),
                       "message": f"{iso(r, dt)}\t{req}\tINFO\tutterance: {t}\n"})
    obj = {"messageType": "DATA_MESSAGE", "owner": _rand_digits(r, 12), "logGroup": f"/aws/lambda/{svc}",
           "logStream": f"{dt:%Y/%m/%d}/[$LATEST]{hexid(r, 32)}", "subscriptionFilters": ["all"],
           "logEvents": events}
    return jd(obj)


def _sd_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


@family
def f_syslog_journald_logfmt(r: random.Random, p: Payload) -> str:
    style = r.randrange(4)
    host, svc = r.choice(HOSTS), r.choice(SERVICES)
    x = joined(p, r.choice([" ", "", "-"]))
    if style == 0:  # RFC 5424 with structured data
        msg = say(r, p, joined(p, " ")) if r.random() < 0.5 else "card captured"
        note = _sd_escape('[ok] "C:\\pay" done')
        sd = f'[pay@32473 requestId="{hexid(r, 12)}" {p.key}="{_sd_escape(x)}" note="{note}"]'
        return f"<134>1 {iso(r)} {host} {svc} {r.randint(100, 65000)} PAYMENT {sd} \ufeff{msg}"
    if style == 1:  # journald export format
        dt = when(r)
        us = int(dt.timestamp() * 1_000_000)
        msg = "Traceback ...\n" + say(r, p, x) if r.random() < 0.4 else say(r, p, x)
        fields = [f"__CURSOR=s={hexid(r, 32)};i={r.randint(1000, 99999):x};b={hexid(r, 32)};m={r.randint(1, 99999):x}",
                  f"__REALTIME_TIMESTAMP={us}", f"__MONOTONIC_TIMESTAMP={r.randint(10**8, 10**11)}",
                  f"_BOOT_ID={hexid(r, 32)}", "PRIORITY=6", f"_PID={r.randint(100, 65000)}", "_COMM=python3",
                  f"SYSLOG_IDENTIFIER={svc}"]
        if "\n" in msg:
            n = len(unmark(msg).encode())
            fields.append("MESSAGE\n" + "".join(chr(b) for b in n.to_bytes(8, "little")) + msg)
        else:
            fields.append(f"MESSAGE={msg}")
        return "\n".join(fields) + "\n\n"
    if style == 2:  # logfmt
        if p.native is None and r.random() < 0.4:
            parts = " ".join(f"{p.key}{i + 1}={C(g)}" for i, g in enumerate(p.groups))
            return f"ts={iso(r)} level=warn msg=\"split card fields\" {parts} attempt={r.randint(1, 3)}"
        v = f'"{x}"' if " " in unmark(x) else x
        return f"ts={iso(r)} level=warn caller=pay.go:{r.randint(10, 400)} msg=\"card rejected\" {p.key}={v} attempt=2"
    req = uid(r)
    return (f"START RequestId: {req} Version: $LATEST\n{iso(r)}\t{req}\tINFO\t{say(r, p, x)}\n"
            f"END RequestId: {req}\nREPORT RequestId: {req}\tDuration: {r.uniform(1, 900):.2f} ms\t"
            f"Billed Duration: {r.randint(2, 900)} ms\tMemory Size: 128 MB\tMax Memory Used: {r.randint(40, 120)} MB")


def _yaml_dq(s: str) -> str:
    """YAML 1.2 double-quoted scalar body (markers kept raw)."""
    table = {"\u00a0": "\\_", "\u2028": "\\L", "\u2029": "\\P", "\u0085": "\\N", "\t": "\\t", "\n": "\\n",
             '"': '\\"', "\\": "\\\\"}
    out: list[str] = []
    for ch in s:
        if ch in table:
            out.append(table[ch])
        elif ch in MARKS or ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def _lines_of(p: Payload, r: random.Random) -> list[str]:
    """The payload broken over 2..3 lines (each a marked span)."""
    return [C(x) for x in pieces(p, r, r.choice([2, 2, 3]))]


@family
def f_yaml_toml_ini(r: random.Random, p: Payload) -> str:
    style = r.randrange(4)
    k = r.randrange(5)
    ind = " " * r.choice([2, 4])
    if style == 0:  # YAML
        head = f"# exported {iso(r)}\npayment:\n{ind}method: card\n{ind}holder: {name(r)!r}\n"
        if k == 0:
            body = f"{ind}{p.key}: {joined(p, ' ')}\n"
        elif k == 1:
            sep = r.choice(["\u00a0", "\u2028", "\u2029", "\u0085", "\t", "\u202f"])
            body = f'{ind}{p.key}: "{_yaml_dq(joined(p, sep))}"\n'
        elif k == 2:
            body = f"{ind}{p.key}: |\n" + "".join(f"{ind}{ind}{x}\n" for x in _lines_of(p, r))
        elif k == 3 and p.native is None:
            body = f"{ind}{p.key}: {joined(p, '_')}\n"
        else:
            body = f"{ind}parts: [{', '.join(C(g) for g in (p.groups if p.native is None else [p.native]))}]\n"
        return head + body + f"{ind}amount: {r.randint(1, 900)}.{r.randint(10, 99)}\n"
    if style == 1:  # TOML
        head = f'[payment]\nholder = "{name(r)}"\n'
        if k == 0:
            body = f'{p.key} = "{joined(p, " ")}"\n'
        elif k == 1 and p.native is None and len(p.digits) <= 18:
            body = f"{p.key} = {joined(p, '_')}\n"
        elif k == 2:
            ls = _lines_of(p, r)
            body = f'{p.key} = """\n' + " \\\n    ".join(ls) + '"""\n'
        elif k == 3:
            body = f"parts = [{', '.join(jd(C(g)) for g in (p.groups if p.native is None else [p.native]))}]\n"
        else:
            body = f"card = {{ {p.key} = '{joined(p, '-')}', exp = \"0{r.randint(1, 9)}/{r.randint(26, 31)}\" }}\n"
        return head + body + f"updated = {iso(r)}\n"
    if style == 2:  # INI / configparser
        head = f"[payment]\r\nholder = {name(r)}\r\n" if r.random() < 0.4 else f"[payment]\nholder = {name(r)}\n"
        nl = "\r\n" if "\r\n" in head else "\n"
        if k < 3:
            body = f"{p.key} = {joined(p, r.choice([' ', '', '-']))}{nl}"
        else:
            body = f"notes = customer called,{nl}" + "".join(f"{ind}{x}{nl}" for x in _lines_of(p, r))
        return head + body + f"; last edited {iso(r)}{nl}"
    # Java .properties
    sep = r.choice([" ", "\u00a0", "\u202f", "\t"])
    v = esc_ascii(joined(p, sep), upper=True).replace(" ", "\\ ") if k < 3 else " \\\n    ".join(_lines_of(p, r))
    return f"# {iso(r)}\npayment.holder={name(r)}\npayment.{p.key}={v}\npayment.currency=EUR\n"


@family
def f_xml_soap(r: random.Random, p: Payload) -> str:
    style = r.randrange(5)
    x = joined(p, r.choice([" ", "", "-"]))
    env_open = ('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv='
                '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:pay="urn:example:payments:v2">\n')
    hdr = ("  <soapenv:Header>\n    <wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/"
           "oasis-200401-wss-wssecurity-secext-1.0.xsd\">\n      <wsse:UsernameToken><wsse:Username>api_user"
           "</wsse:Username><wsse:Password>********</wsse:Password></wsse:UsernameToken>\n    </wsse:Security>\n"
           "  </soapenv:Header>\n")
    if style == 0:
        body = (f"  <soapenv:Body>\n    <pay:Authorize>\n      <pay:Card>\n        <pay:Number>{x}</pay:Number>\n"
                f"        <pay:Expiry>20{r.randint(26, 31)}-0{r.randint(1, 9)}</pay:Expiry>\n      </pay:Card>\n"
                f"      <pay:Amount currency=\"EUR\">{r.randint(1, 900)}.{r.randint(10, 99)}</pay:Amount>\n"
                "    </pay:Authorize>\n  </soapenv:Body>\n")
        return env_open + hdr + body + "</soapenv:Envelope>"
    if style == 1:
        body = (f"  <soapenv:Body>\n    <soapenv:Fault>\n      <faultcode>soapenv:Client</faultcode>\n"
                f"      <faultstring>Invalid {xesc(p.noun)} '{x}'</faultstring>\n      <detail><pay:ValidationError>"
                f"<pay:Field>Number</pay:Field><pay:Value>{joined(p, '')}</pay:Value></pay:ValidationError></detail>\n"
                "    </soapenv:Fault>\n  </soapenv:Body>\n")
        return env_open + body + "</soapenv:Envelope>"
    if style == 2:
        gs = p.groups if p.native is None else [p.native]
        parts = "".join(f'\n    <Part seq="{i + 1}">{C(g)}</Part>' for i, g in enumerate(gs))
        return f"<PaymentRequest id=\"{uid(r)}\">\n  <CardNumber>{parts}\n  </CardNumber>\n</PaymentRequest>"
    if style == 3:
        ref = r.choice(["&#x20;", "&#160;", "&#32;", "&#xA0;", "&#x202F;"])
        return (f"<Order ref=\"{r.randint(10000, 99999)}\">\n  <Card number=\"{joined(p, ref)}\" holder=\"{xesc(name(r))}\"/>"
                f"\n  <Notes><![CDATA[{say(r, p, joined(p, ' '))} <urgent>]]></Notes>\n</Order>")
    ls = _lines_of(p, r)
    return ('<Note xml:space="preserve">\nCustomer read out:\n' + "\n".join(ls) + "\n</Note>")


@family
def f_graphql_requests(r: random.Random, p: Payload) -> str:
    style = r.randrange(5)
    x = joined(p, r.choice([" ", "", "-"]))
    q = "mutation AddCard($input: CardInput!) {\n  addCard(input: $input) {\n    id\n    last4\n  }\n}"
    variables: dict[str, object] = {"input": {"number": x, "expMonth": r.randint(1, 12), "expYear": r.randint(2026, 2031)}}
    if style == 0:
        return f"{iso(r)} graphql POST /graphql " + jd({"operationName": "AddCard", "query": q, "variables": variables})
    if style == 1:
        inline = f'mutation {{ addCard(number: "{x}", expMonth: {r.randint(1, 12)}) {{ id }} }}'
        return jd({"query": inline}, indent=2 if r.random() < 0.4 else None)
    if style == 2:
        return (f"GET /graphql?query={pct(q)}&variables={pct(jd(variables, compact=True))}&operationName=AddCard "
                "HTTP/1.1")
    if style == 3:
        msg = (f'Variable "$input" got invalid value {{ number: "{x}", expMonth: 13 }} at "input.expMonth"; '
               "Int cannot represent non 32-bit signed integer value: 13")
        return jd({"errors": [{"message": msg, "locations": [{"line": 1, "column": 17}],
                               "extensions": {"code": "BAD_USER_INPUT"}}]})
    batch = [{"operationName": "Me", "query": "query Me { me { id } }", "variables": {}},
             {"operationName": "AddCard", "query": q, "variables": variables,
              "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hexid(r, 64)}}}]
    return jd(batch, indent=2)


@family
def f_har_entries(r: random.Random, p: Payload) -> str:
    raw_sp = joined(p, " ")
    form = r.random() < 0.5
    if form:
        text = f"{pct(p.key)}={pct(raw_sp, plus=True)}&exp_month={r.randint(1, 12)}&cvc_check=1"
        post: dict[str, object] = {"mimeType": "application/x-www-form-urlencoded", "text": text,
                                   "params": [{"name": p.key, "value": raw_sp}]}
    else:
        post = {"mimeType": "application/json", "text": jd({p.key: joined(p, r.choice(["", " "])), "save": True})}
    dt = when(r)
    entry = {
        "startedDateTime": iso(r, dt), "time": round(r.uniform(20, 900), 3),
        "request": {"method": "POST", "url": "https://checkout.example.com/api/v1/payment_methods",
                    "httpVersion": "HTTP/2", "headers": [{"name": "content-type", "value": post["mimeType"]},
                                                         {"name": "x-request-id", "value": uid(r)}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": r.randint(60, 400),
                    "postData": post},
        "response": {"status": 402, "statusText": "", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                     "content": {"size": 61, "mimeType": "application/json",
                                 "text": jd({"error": {"code": "card_declined", "last4": p.plain()[-4:]}})},
                     "redirectURL": "", "headersSize": -1, "bodySize": 61},
        "cache": {}, "timings": {"send": 0.1, "wait": round(r.uniform(10, 500), 3), "receive": 0.4}}
    if r.random() < 0.3:
        entry["request"] = {**entry["request"], "method": "GET",  # type: ignore[dict-item]
                            "url": f"https://checkout.example.com/verify?{p.key}={pct(raw_sp)}",
                            "queryString": [{"name": p.key, "value": raw_sp}]}
    har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [],
                   "entries": [entry]}}
    return jd(har, indent=r.choice([2, 2, 4]))


@family
def f_curl_httpie(r: random.Random, p: Payload) -> str:
    style = r.randrange(6)
    url = r.choice(["https://api.example.com/v1/payment_methods", "http://localhost:8080/api/cards"])
    if style == 0:
        return (f"curl {url} \\\n  -u \"$API_KEY:\" \\\n  -d type=card \\\n  -d \"card[number]={joined(p, '')}\" \\\n"
                f"  -d card[exp_month]={r.randint(1, 12)} \\\n  -d card[exp_year]={r.randint(2026, 2031)}")
    if style == 1:
        return f"curl -sS -X POST {url} --data-urlencode '{p.key}={joined(p, ' ')}' -H 'Accept: application/json'"
    if style == 2:  # Chrome "Copy as cURL (bash)" with ANSI-C quoting
        body = esc_ascii(jd({p.key: joined(p, r.choice(["\u00a0", "\u202f", " "])), "save": True}, compact=True))
        return (f"curl '{url}' \\\n  -H 'accept: */*' \\\n  -H 'content-type: application/json' \\\n"
                f"  --data-raw $'{body}' \\\n  --compressed")
    if style == 3:  # Windows cmd
        body = jd({p.key: joined(p, " ")}, compact=True).replace('"', '\\"')
        return f'curl "{url}" ^\n  -H "Content-Type: application/json" ^\n  --data-raw "{body}"'
    if style == 4:  # HTTPie
        item = r.choice([f"{p.key}={joined(p, '')}", f"{p.key}:={joined(p, '')}" if p.native is None else
                         f"{p.key}={joined(p, '')}", f"card[number]='{joined(p, ' ')}'"])
        return f"$ http {r.choice(['', '-f '])}POST {url} {item} exp_month:={r.randint(1, 12)} Authorization:'Bearer $TOKEN'"
    return (f"Invoke-RestMethod -Uri '{url}' -Method Post `\n  -ContentType 'application/json' `\n"
            f"  -Body (@{{ {p.key} = '{joined(p, ' ')}'; exp = '0{r.randint(1, 9)}/{r.randint(26, 31)}' }} | ConvertTo-Json)")


@family
def f_sql_statements(r: random.Random, p: Payload) -> str:
    style = r.randrange(6)
    x = joined(p, r.choice([" ", "", "-"]))
    cid = r.randint(1, 99999)
    if style == 0:
        rows = [f"('{uid(r)}', {cid}, '{x}', '20{r.randint(26, 31)}-0{r.randint(1, 9)}', '{iso(r)}')"]
        if r.random() < 0.5:
            rows.append(f"('{uid(r)}', {cid + 1}, NULL, NULL, '{iso(r)}')")
        return ("INSERT INTO payment_methods (id, customer_id, pan, expiry, created_at) VALUES\n  "
                + ",\n  ".join(rows) + ";")
    if style == 1:
        return f"UPDATE cards SET {p.key.lower()} = '{x}', updated_at = now() WHERE customer_id = {cid};"
    if style == 2:
        gs = p.groups if p.native is None else [p.native]
        cols = ", ".join(f"part{i + 1}" for i in range(len(gs)))
        vals = ", ".join(f"'{C(g)}'" if r.random() < 0.7 else C(g) for g in gs)
        return f"INSERT INTO card_parts (customer_id, {cols}) VALUES ({cid}, {vals});"
    if style == 3:
        ps = pieces(p, r, 2)
        if r.random() < 0.5:
            expr = " || ".join(f"'{C(s)}'" for s in ps)
        else:
            expr = "CONCAT(" + ", ".join(f"'{C(s)}'" for s in ps) + ")"
        return f"SELECT id FROM cards WHERE pan = {expr} AND deleted_at IS NULL;"
    if style == 4:
        dt = when(r)
        stmt = f"INSERT INTO cards (pan, holder) VALUES (N'{x}', N'{name(r).replace(chr(39), chr(39) * 2)}')"
        if r.random() < 0.5:
            return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond:06d}Z\t   {r.randint(5, 900)} Query\t{stmt}"
        return (f"{dt:%Y-%m-%d %H:%M:%S}.{dt.microsecond // 1000:03d} UTC [{r.randint(100, 60000)}] app@payments "
                f"LOG:  statement: {stmt}")
    lines = [f"COPY payments (id, {p.key.lower()}, amount) FROM stdin;"]
    for i in range(r.randint(1, 3)):
        lines.append(f"{i + 1}\t\\N\t{r.randint(1, 900)}.{r.randint(10, 99)}")
    lines.append(f"{len(lines)}\t{x}\t{r.randint(1, 900)}.{r.randint(10, 99)}")
    return "\n".join([*lines, "\\."])


def _csv(rows: list[list[str]], **kw: object) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, **kw)  # type: ignore[arg-type]
    w.writerows(rows)
    return buf.getvalue()


@family
def f_csv_tsv_quoted(r: random.Random, p: Payload) -> str:
    style = r.randrange(6)
    nm = r.choice(["Garcia, Maria", "O'Connor, James", 'Khan "AK", Aisha', name(r)])
    amt = f"{r.randint(1, 900)}.{r.randint(10, 99)}"
    x = joined(p, r.choice([" ", "", "-"]))
    head = ["customer", p.key, "amount", "note"]
    if style == 0:
        note = f'said "card is {x}" on the phone'
        return _csv([head, [nm, x, amt, note], [name(r), "", "0.00", ""]])
    if style == 1:  # newline inside a quoted cell
        ls = _lines_of(p, r)
        return _csv([head, [nm, "\n".join(ls), amt, "pasted from chat"]])
    if style == 2:
        return _csv([head, [nm, x, amt, "tab-separated export"]], dialect="excel-tab")
    if style == 3:
        return "\ufeff" + _csv([head, [nm, x, amt.replace(".", ","), "Überweisung"]], delimiter=";")
    if style == 4:
        gs = p.groups if p.native is None else [p.native]
        cols = [f"{p.key}_{i + 1}" for i in range(len(gs))]
        return _csv([["customer", *cols, "amount"], [nm, *[C(g) for g in gs], amt]])
    return _csv([head, [nm, x, amt, "quoted"]], quoting=csv.QUOTE_ALL)


@family
def f_spreadsheet_cells(r: random.Random, p: Payload) -> str:
    style = r.randrange(7)
    nm = name(r)
    gs = p.groups if p.native is None else [p.native]
    if style == 0:
        return _csv([["Name", "Card", "Amount"], [nm, "'" + joined(p, ""), "12.50"]])
    if style == 1:
        return _csv([["Name", "Card"], [nm, f'="{joined(p, r.choice(["", " "]))}"']])
    if style == 2:
        if r.random() < 0.5:
            f = "=CONCATENATE(" + ",".join(f'"{C(g)}"' for g in gs) + ")"
        else:
            f = "=" + "&".join(f'"{C(g)} "' for g in gs)
        return f"Sheet1!B{r.randint(2, 400)}\t{f}"
    if style == 3:
        return ('<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
                'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">\n <Worksheet ss:Name="Payments">\n  <Table>\n'
                f'   <Row><Cell><Data ss:Type="String">{xesc(nm)}</Data></Cell><Cell><Data ss:Type="String">'
                f'{joined(p, " ")}</Data></Cell><Cell><Data ss:Type="Number">12.5</Data></Cell></Row>\n'
                "  </Table>\n </Worksheet>\n</Workbook>")
    if style == 4:
        return ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
                f'<si><t>Name</t></si><si><t>{xesc(nm)}</t></si><si><t xml:space="preserve">{joined(p, " ")} </t></si>'
                "</sst>")
    if style == 5:
        return jd({"range": "Payments!A1:C3", "majorDimension": "ROWS",
                   "values": [["Name", "Card", "Amount"], [nm, "'" + joined(p, " "), "12.50"]]})
    fmt = " ".join("0" * len(g) for g in gs)
    return f'B{r.randint(2, 99)}: =TEXT({joined(p, "")},"{fmt}")'


def _rfc2822(r: random.Random) -> str:
    return when(r).strftime("%a, %d %b %Y %H:%M:%S +0000")


@family
def f_email_quoted_reply(r: random.Random, p: Payload) -> str:
    a, b = name(r), name(r)
    style = r.randrange(4)
    hdr = (f"From: {a} <{a.split()[0].lower()}@example.com>\nTo: billing@example.net\nSubject: Re: Re: your payment\n"
           f"Date: {_rfc2822(r)}\nMessage-ID: <{hexid(r, 20)}@mail.example.com>\n\n")
    sig = r.choice(["-- \n" + a + "\nSent from my iPhone\n", "Thanks,\n" + a + "\n", f"-- \n{a}\nMobile +44 7700 900{r.randint(100, 999)}\n"])
    if style == 0:  # number broken across quoted lines
        pre = r.choice(["> ", ">", "> > ", ">> "])
        ls = _lines_of(p, r)
        quoted = "\n".join(f"{pre}{'my card is ' if i == 0 else ''}{x}" for i, x in enumerate(ls))
        return (hdr + "Hi, did this go through?\n\n" + sig + f"\nOn {_rfc2822(r)}, {b} wrote:\n{pre}Please send the"
                f" card again.\n{pre}\n" + quoted + f"\n{pre}\n{pre}Regards\n")
    if style == 1:  # Outlook header block, unquoted original
        return (hdr + "Please see below.\n\n" + sig + "\n-----Original Message-----\n"
                f"From: {b}\nSent: {when(r):%A, %B %d, %Y %I:%M %p}\nTo: billing@example.net\nSubject: payment\n\n"
                f"{say(r, p, joined(p, ' '))}\n")
    if style == 2:  # format=flowed soft break (trailing space) inside the number
        ps = pieces(p, r, 2)
        body = f"Hello,\r\nmy card number is {C(ps[0] + ' ' + chr(13) + chr(10) + ps[-1]) if len(ps) > 1 else C(ps[0])}" \
               " and it expires soon.\r\n"
        return hdr.replace("\n\n", "\nContent-Type: text/plain; charset=utf-8; format=flowed\n\n") + body + sig
    # nested quotes: the number is quoted twice
    return (hdr + "Forwarding as requested.\n\n" + f"On {_rfc2822(r)}, {b} wrote:\n> Can you check this?\n>\n"
            f"> On {_rfc2822(r)}, {a} wrote:\n> > {say(r, p, joined(p, ' '))}\n> >\n> > {a}\n")


@family
def f_slack_teams_markdown(r: random.Random, p: Payload) -> str:
    style = r.randrange(7)
    gs = p.groups if p.native is None else [p.native]
    if style == 0:
        return f"<@U0{hexid(r, 8).upper()}> can you refund `{joined(p, ' ')}`? customer says it was charged twice"
    if style == 1:
        return "```\n" + "\n".join(_lines_of(p, r)) + "\n```\nfrom the call notes"
    if style == 2:
        return "Customer wrote:\n" + "\n".join(f"> {x}" for x in _lines_of(p, r)) + "\nwhat should I do?"
    if style == 3:
        return "card " + " ".join(f"*{C(g)}*" for g in gs) + " declined :thinking_face:"
    if style == 4:
        ps = pieces(p, r, 2)
        elems: list[dict[str, object]] = [{"type": "text", "text": "card "},
                                          {"type": "text", "text": C(ps[0]), "style": {"code": True}}]
        if len(ps) > 1:
            elems.append({"type": "text", "text": " " + C(ps[1])})
        return jd({"type": "message", "ts": f"{int(when(r).timestamp())}.{_rand_digits(r, 6)}",
                   "user": "U0" + hexid(r, 8).upper(), "blocks": [{"type": "rich_text", "block_id": hexid(r, 5),
                   "elements": [{"type": "rich_text_section", "elements": elems}]}]})
    if style == 5:
        ps = pieces(p, r, 2)
        content = f"<p>card <code>{C(ps[0].replace(' ', '&nbsp;'))}</code>"
        content += f" {C(ps[1])}</p>" if len(ps) > 1 else "</p>"
        return jd({"id": str(int(when(r).timestamp() * 1000)), "messageType": "message",
                   "createdDateTime": iso(r), "from": {"user": {"displayName": name(r), "id": uid(r)}},
                   "body": {"contentType": "html", "content": content}}, indent=2)
    if r.random() < 0.5:
        return (f"| Customer | {p.noun} | Amount |\n|---|---|---|\n| {name(r)} | {joined(p, ' ')} | "
                f"{r.randint(1, 900)}.00 |\n| {name(r)} | n/a | 0.00 |")
    return ("| " + " | ".join(f"g{i + 1}" for i in range(len(gs))) + " |\n|" + "---|" * len(gs) + "\n| "
            + " | ".join(C(g) for g in gs) + " |\n\n||spoiler: " + joined(p, " ") + "||")


@family
def f_stack_trace_locals(r: random.Random, p: Payload) -> str:
    style = r.randrange(6)
    sep = r.choice([" ", "", "-", "\u00a0"])
    x = joined(p, sep)
    gs = p.groups if p.native is None else [p.native]
    parts_repr = "[" + ", ".join(f"'{C(g)}'" for g in gs) + "]"
    amt = r.randint(100, 99999)
    if style == 0:  # rich traceback with locals panel
        inner = [f"  amount = {amt}", f"  number = {pyrepr(x)}", f"   parts = {parts_repr}", "retries = 2"]
        code = ["/app/payments/charge.py:88 in charge", "", "   85 │   parts = number.split()",
                " ❱ 88 │   raise CardError(\"declined\")", ""]
        w = max(len(unmark(s)) for s in inner) + 2
        width = max(w + 2, *(len(s) for s in code))
        pad = " " * (width - w - 2)
        lines = ["╭" + " Traceback (most recent call last) ".center(width + 2, "─") + "╮",
                 *[f"│ {s.ljust(width)} │" for s in code],
                 "│ ╭" + " locals ".center(w, "─") + "╮" + pad + " │",
                 *[f"│ │ {s}{' ' * (w - 1 - len(unmark(s)))}│{pad} │" for s in inner],
                 "│ ╰" + "─" * w + "╯" + pad + " │", "╰" + "─" * (width + 2) + "╯", "CardError: declined"]
        return "\n".join(lines)
    if style == 1:  # pytest --showlocals
        return ("    def test_charge(gateway):\n>       gateway.charge(number, amount)\nE       CardError: declined\n\n"
                f"amount     = {amt}\ngateway    = <FakeGateway id=0x7f{hexid(r, 10)}>\nnumber     = {pyrepr(x)}\n"
                f"parts      = {parts_repr}\n\ntests/test_charge.py:{r.randint(10, 300)}: CardError")
    if style == 2:  # Sentry event frame vars (reprs stored as strings)
        ev = {"event_id": hexid(r, 32), "timestamp": iso(r), "platform": "python", "exception": {"values": [
            {"type": "CardError", "value": "declined", "stacktrace": {"frames": [
                {"filename": "payments/charge.py", "function": "charge", "lineno": 88, "in_app": True,
                 "vars": {"number": pyrepr(x), "parts": [f"'{C(g)}'" for g in gs], "amount": str(amt)}}]}}]}}
        return jd(ev, indent=2 if r.random() < 0.5 else None)
    if style == 3:  # Node
        return (f"TypeError: Cannot read properties of undefined (reading 'id')\n    at charge (/app/src/pay.js:42:17)\n"
                f"    at process.processTicks (node:internal/process/task_queues:95:5)\nrequest: {{\n"
                f"  card: {{ number: '{x}', exp: '0{r.randint(1, 9)}/{r.randint(26, 31)}' }},\n  amount: {amt}\n}}")
    if style == 4:  # PHP trace with arguments
        return (f"PHP Fatal error:  Uncaught App\\Exceptions\\CardDeclined: declined in /var/www/app/Services/"
                f"Gateway.php:{r.randint(20, 300)}\nStack trace:\n#0 /var/www/app/Services/Payment.php(88): "
                f"App\\Services\\Gateway->charge('{x}', {amt}, 'EUR')\n#1 /var/www/app/Http/Controllers/"
                "PayController.php(41): App\\Services\\Payment->run(Object(App\\Models\\Order))\n#2 {main}\n  thrown")
    return (f"Traceback (most recent call last):\n  File \"/app/payments/intake.py\", line {r.randint(10, 400)}, in parse\n"
            f"    return normalize(raw)\nValueError: invalid literal for int() with base 10: {pyrepr(x)}\n\nDuring "
            "handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n"
            f"  File \"/app/payments/api.py\", line 51, in post\npayments.errors.BadCard: {pyrepr(x)}")


SCRIPT_ZERO = {"arabic_indic": 0x0660, "ext_arabic_indic": 0x06F0, "devanagari": 0x0966, "bengali": 0x09E6,
               "thai": 0x0E50, "fullwidth": 0xFF10, "math_bold": 0x1D7CE, "math_double": 0x1D7D8,
               "math_sans": 0x1D7E2, "math_sans_bold": 0x1D7EC, "math_mono": 0x1D7F6}
SCRIPT_CONTEXT = {"arabic_indic": "رقم البطاقة: {x} شكرا", "ext_arabic_indic": "شماره کارت من {x} است",
                  "devanagari": "मेरा कार्ड नंबर {x} है", "bengali": "আমার কার্ড নম্বর {x}",
                  "thai": "หมายเลขบัตรของฉันคือ {x} ค่ะ", "fullwidth": "カード番号は{x}です。"}


def to_script(s: str, zero: int) -> str:
    return "".join(chr(zero + ord(ch) - 48) if "0" <= ch <= "9" else ch for ch in s)


@family
def f_script_digits_mixed(r: random.Random, p: Payload) -> str:
    script = r.choice(sorted(SCRIPT_ZERO))
    zero = SCRIPT_ZERO[script]
    mode = r.randrange(5)
    gs = p.groups if p.native is None else [p.native]
    if mode == 0:  # whole number in one script
        sep = {"fullwidth": r.choice(["\u3000", "\uff0d", " "]), "arabic_indic": r.choice([" ", "\u066c", "-"])}.get(
            script, " ")
        x = C(sep.join(to_script(g, zero) for g in gs))
    elif mode == 1:  # alternate scripts per group
        other = SCRIPT_ZERO[r.choice(sorted(SCRIPT_ZERO))]
        x = C(" ".join(to_script(g, zero if i % 2 == 0 else r.choice([other, 48])) for i, g in enumerate(gs)))
    elif mode == 2:  # per-digit mix with ASCII (keyboard layout switching mid-number)
        x = C(" ".join("".join(to_script(ch, zero) if r.random() < 0.5 else ch for ch in g) for g in gs))
    elif mode == 3:  # bidi marks around each group
        mark = r.choice(["\u200f", "\u200e", "\u061c"])
        x = C((mark + " ").join(mark + to_script(g, zero) for g in gs) + mark)
    else:
        x = C(" ".join(to_script(g, zero) for g in gs))
    tmpl = SCRIPT_CONTEXT.get(script, r.choice(["💳 {x} ✨", "𝓬𝓪𝓻𝓭 {x}", "card → {x}"]))
    text = tmpl.replace("{x}", x)
    how = r.randrange(3)
    if how == 0:
        return text
    if how == 1:
        return f"{iso(r)} INFO whatsapp.inbound " + jd({"from": f"9715{_rand_digits(r, 8)}", "text": text},
                                                       ascii_=r.random() < 0.5)
    return f"Agent note: customer typed {text}"


OCR_SWAP = {"0": ["O", "o"], "1": ["l", "I"], "5": ["S"], "8": ["B"]}


def ocr_garble(s: str, r: random.Random) -> str:
    cand = [i for i, ch in enumerate(s) if ch in OCR_SWAP]
    if not cand:
        return s
    pick = {i for i in cand if r.random() < 0.35} or {r.choice(cand)}
    return "".join(r.choice(OCR_SWAP[ch]) if i in pick else ch for i, ch in enumerate(s))


@family
def f_ocr_card_photo(r: random.Random, p: Payload) -> str:
    gs = [ocr_garble(g, r) for g in (p.groups if p.native is None else [p.native])]
    line = " ".join(gs)
    holder = name(r).upper()
    exp = f"{r.randint(1, 12):02d}/{r.randint(26, 31)}"
    style = r.randrange(5)
    if style == 0:
        return f"{r.choice(['VISA', 'DEBIT', 'mastercard', 'BANK'])}\n{C(line)}\nVALID THRU {exp}\n{holder}\n"
    x0, y0 = r.randint(40, 90), r.randint(250, 320)

    def box(i: int) -> dict[str, object]:
        return {"vertices": [{"x": x0 + 110 * i, "y": y0}, {"x": x0 + 110 * i + 96, "y": y0},
                             {"x": x0 + 110 * i + 96, "y": y0 + 38}, {"x": x0 + 110 * i, "y": y0 + 38}]}
    if style == 1:  # Google Vision
        desc = f"BANK\n{C(line)}\nVALID\nTHRU {exp}\n{holder}\n"
        anns: list[dict[str, object]] = [{"locale": "en", "description": desc, "boundingPoly": box(0)}]
        anns += [{"description": C(g), "boundingPoly": box(i)} for i, g in enumerate(gs)]
        return jd({"responses": [{"textAnnotations": anns, "fullTextAnnotation": {"text": desc}}]},
                  indent=2 if r.random() < 0.5 else None)
    if style == 2:  # AWS Textract
        blocks: list[dict[str, object]] = [{"BlockType": "LINE", "Confidence": round(r.uniform(80, 99), 3),
                                            "Text": C(line), "Id": uid(r)}]
        blocks += [{"BlockType": "WORD", "Confidence": round(r.uniform(60, 99), 3), "Text": C(g), "TextType": "PRINTED",
                    "Geometry": {"BoundingBox": {"Width": 0.11, "Height": 0.05, "Left": round(0.08 + 0.13 * i, 4),
                                                 "Top": 0.52}}, "Id": uid(r)} for i, g in enumerate(gs)]
        return jd({"DocumentMetadata": {"Pages": 1}, "Blocks": blocks})
    if style == 3:  # Tesseract TSV
        rows = ["level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"]
        rows += [f"5\t1\t1\t1\t2\t{i + 1}\t{x0 + 110 * i}\t{y0}\t96\t38\t{r.uniform(40, 96):.6f}\t{C(g)}"
                 for i, g in enumerate(gs)]
        return "\n".join(rows)
    spans = "\n".join(f"  <span class='ocrx_word' id='word_1_{i + 3}' title='bbox {x0 + 110 * i} {y0} "
                      f"{x0 + 110 * i + 96} {y0 + 38}; x_wconf {r.randint(40, 96)}'>{C(g)}</span>" for i, g in enumerate(gs))
    return f"<span class='ocr_line' id='line_1_2' title='bbox {x0} {y0} 560 {y0 + 38}'>\n{spans}\n</span>"


def wrap_marked(marked: str, width: int, prefix: str = "", tail: Callable[[int], str] | None = None) -> str:
    """Hard-wrap at ``width`` visible columns; a break inside a span keeps the newline inside it unless a
    prefix or tail (other text) sits at the break, in which case the span is split."""
    out: list[str] = []
    col = 0
    inside = False
    line = 0
    vis = [ch for ch in marked if ch not in MARKS]
    seen = 0
    for ch in marked:
        if ch == M0:
            inside = True
            out.append(ch)
            continue
        if ch == M1:
            inside = False
            out.append(ch)
            continue
        if col == width and seen < len(vis):
            t = tail(line) if tail else ""
            if inside and (prefix or t):
                out += [M1, t, "\n", prefix, M0]
            else:
                out += [t, "\n", prefix]
            col = 0
            line += 1
        out.append(ch)
        col += 1
        seen += 1
    return "".join(out)


FILLER = ("customer confirmed the details over the phone and asked us to retry the payment today, "
          "reference noted in the ticket; ") * 3


@family
def f_fixed_column_wrap(r: random.Random, p: Payload) -> str:
    x = joined(p, r.choice([" ", "", "-"]))
    style = r.randrange(4)
    width = r.choice([40, 60, 64, 72, 76, 80]) if style != 1 else 72
    base = f"{iso(r)} INFO note: " if style != 1 else "NOTE  "
    card_len = len(unmark(x))
    b = r.randint(1, max(1, card_len - 1))
    m = (-(len(base) + b)) % width
    lead = base + (FILLER[: m - 1] + " " if m else "")
    text = lead + x + " " + FILLER[: r.randint(10, 60)]
    if style == 0:  # fold -w
        return wrap_marked(text, width)
    if style == 1:  # 80-column card images: sequence numbers in columns 73-80
        seq0 = r.choice([100, 1000, 10])
        body = wrap_marked(text, 72, tail=lambda i: f"{(i + 1) * seq0:08d}")
        last = unmark(body).split("\n")[-1]
        return body + " " * (72 - len(last)) + f"{(body.count(chr(10)) + 1) * seq0:08d}"
    if style == 2:  # per-line log prefix (kubectl logs --prefix, docker compose)
        pre = f"[pod/{r.choice(HOSTS)}/app] "
        return pre + wrap_marked(text, width, prefix=pre)
    # PDF text extraction: hyphen added at the break inside the number
    body = wrap_marked(text, width)
    return body.replace("\n", "-\n", 1) if r.random() < 0.5 else body


@family
def f_fixed_width_records(r: random.Random, p: Payload) -> str:
    d = p.plain()
    style = r.randrange(3)
    amt = r.randint(100, 9_999_999)
    exp = f"{r.randint(26, 31)}{r.randint(1, 12):02d}"
    seq = r.randint(1, 999999)
    if style == 0:  # PAN left-justified, space padded, glued to the sequence number
        rec = f"D{seq:06d}{C(d)}{' ' * (19 - len(d))}{exp}{amt:012d}EUR{hexid(r, 6).upper()}"
        hdr = f"H{_rand_digits(r, 8)}BATCH{r.randint(1, 99):03d}"
        return f"{hdr}\n{rec}\nT{seq:06d}{1:08d}{amt:014d}"
    if style == 1:  # right-justified, zero padded (n19 field)
        pad = "0" * (19 - len(d))
        return (f"# layout: type(1) seq(6) pan(19, zero-filled) exp(4) amount(12)\n"
                f"R{seq:06d}{pad}{C(d)}{exp}{amt:012d}\nR{seq + 1:06d}{'0' * 19}{exp}{0:012d}")
    return (f"01 CARD-REC.\n   05 CR-ID    PIC 9(6)  VALUE {seq:06d}.\n   05 CR-PAN   PIC X(19) VALUE '{C(d)}"
            f"{' ' * (19 - len(d))}'.\n   05 CR-AMT   PIC 9(12) VALUE {amt:012d}.")


# ---------------------------------------------------------------------------------------------
# Control families: card-free look-alikes rendered through the same templates

Decoy = Callable[[random.Random], Payload]
CONTROLS: dict[str, Decoy] = {}


def control(fn: Decoy) -> Decoy:
    CONTROLS[fn.__name__.removeprefix("d_")] = fn
    return fn


def _decoy(groups: list[str], kind: str, key: str, noun: str, native: str | None = None) -> Payload:
    digits = "".join(ch for ch in "".join(groups) if ch.isdigit())
    return Payload(digits, groups, f"decoy:{kind}", False, key, noun, native)


@control
def d_ctl_phone(r: random.Random) -> Payload:
    k = r.randrange(6)
    if k == 0:
        g = ["+1", f"{r.randint(201, 989)}", f"{r.randint(200, 999)}", f"{r.randint(0, 9999):04d}"]
    elif k == 1:
        g = ["+44", "20", f"{r.randint(7000, 8999)}", f"{r.randint(0, 9999):04d}"]
    elif k == 2:
        g = ["+49", f"{r.randint(30, 89)}", f"{r.randint(1000000, 99999999)}"]
    elif k == 3:
        g = ["+33", str(r.randint(1, 7))] + [f"{r.randint(0, 99):02d}" for _ in range(4)]
    elif k == 4:
        g = ["+91", f"{r.randint(70000, 99999)}", f"{r.randint(0, 99999):05d}"]
    else:
        g = ["0" + str(r.randint(7400, 7999)), f"{r.randint(100000, 999999)}"]
    return _decoy(g, "ctl_phone", r.choice(["phone", "msisdn", "caller_id", "From"]), "phone number")


def _mod97(s: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in s)) % 97


@control
def d_ctl_iban(r: random.Random) -> Payload:
    cc, bban = r.choice([
        ("DE", _rand_digits(r, 18)),
        ("GB", "".join(r.choice(string.ascii_uppercase) for _ in range(4)) + _rand_digits(r, 14)),
        ("FR", _rand_digits(r, 10) + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(11))
         + _rand_digits(r, 2)),
        ("NL", "".join(r.choice(string.ascii_uppercase) for _ in range(4)) + _rand_digits(r, 10)),
        ("ES", _rand_digits(r, 20)),
        ("BE", _rand_digits(r, 12)),
    ])
    check = 98 - _mod97(bban + cc + "00")
    iban = f"{cc}{check:02d}{bban}"
    return _decoy([iban[i:i + 4] for i in range(0, len(iban), 4)], "ctl_iban", r.choice(["iban", "IBAN", "account"]),
                  "IBAN")


@control
def d_ctl_tracking(r: random.Random) -> Payload:
    k = r.randrange(4)
    if k == 0:
        s = "1Z" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(6)) + _rand_digits(r, 10)
        g = [s[:2], s[2:5], s[5:8], s[8:10], s[10:14], s[14:]]
    elif k == 1:
        s = _rand_digits(r, 12)
        g = [s[:4], s[4:8], s[8:]]
    elif k == 2:
        s = "9400" + _rand_digits(r, 18)
        g = [s[i:i + 4] for i in range(0, 22, 4)]
    else:
        g = [r.choice(["RR", "LX", "CP"]) + _rand_digits(r, 9) + r.choice(["GB", "DE", "CN"])]
    return _decoy(g, "ctl_tracking", r.choice(["tracking", "tracking_number", "awb"]), "tracking number")


@control
def d_ctl_masked_card(r: random.Random) -> Payload:
    d, _ = _synthetic(r)
    first6, last4, n = d[:6], d[-4:], len(d)
    m = r.choice(["*", "X", "x", "\u2022", "#"])
    k = r.randrange(4)
    if k == 0:
        return _decoy([first6 + m * (n - 10) + last4], "ctl_masked_card", "masked_pan", "card", native=first6 + m
                      * (n - 10) + last4)
    if k == 1:
        full = first6 + m * (n - 10) + last4
        return _decoy(card_groups(full), "ctl_masked_card", "card", "card")
    if k == 2:
        return _decoy([m * 4] * ((n - 4) // 4) + [last4], "ctl_masked_card", "card_last4", "card")
    return _decoy([f"{m * (n - 4)}{last4}"], "ctl_masked_card", "pan", "card", native=f"{m * (n - 4)}{last4}")


@control
def d_ctl_order_id(r: random.Random) -> Payload:
    k = r.randrange(5)
    if k == 0:
        g = [_rand_digits(r, 3), _rand_digits(r, 7), _rand_digits(r, 7)]
        return _decoy(g, "ctl_order_id", "order_id", "order number", native="-".join(g))
    if k == 1:
        s = f"ORD-{r.randint(2019, 2025)}-{_rand_digits(r, 9)}"
    elif k == 2:
        s = f"{_rand_digits(r, 2)}-{_rand_digits(r, 5)}-{_rand_digits(r, 5)}"
    elif k == 3:
        s = "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(17))
    else:
        return _decoy([_rand_digits(r, 4), _rand_digits(r, 4), _rand_digits(r, 4)], "ctl_order_id", "reference",
                      "booking reference")
    return _decoy([s], "ctl_order_id", r.choice(["order_id", "orderId", "invoice"]), "order number", native=s)


@control
def d_ctl_timestamp(r: random.Random) -> Payload:
    dt = when(r)
    k = r.randrange(6)
    us = int(dt.timestamp() * 1_000_000)
    s = [str(us // 1000), str(us), dt.strftime("%Y%m%d%H%M%S") + f"{dt.microsecond // 1000:03d}", iso(r, dt),
         dt.strftime("%Y-%m-%d %H:%M:%S"), str(us * 1000)][k]
    return _decoy([s], "ctl_timestamp", r.choice(["ts", "created", "timestamp"]), "timestamp", native=s)


@control
def d_ctl_uuid_ids(r: random.Random) -> Payload:
    k = r.randrange(5)
    if k == 0:
        s = uid(r)
    elif k == 1:
        s = "".join(r.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(26))
    elif k == 2:
        s = str(r.randint(10**17, 2 * 10**18))
    elif k == 3:
        s = "CA" + hexid(r, 32)
    else:
        s = "pi_3" + "".join(r.choice(string.ascii_letters + string.digits) for _ in range(23))
    return _decoy([s], "ctl_uuid_ids", r.choice(["id", "call_sid", "request_id", "ref"]), "reference", native=s)


@control
def d_ctl_amount(r: random.Random) -> Payload:
    k = r.randrange(4)
    v = r.randint(100, 9_999_999_99)
    whole, cents = divmod(v, 100)
    g = f"{whole:,}".split(",")
    if k == 0:
        g[-1] += f".{cents:02d}"
        return _decoy(g, "ctl_amount", "amount", "amount")
    if k == 1:
        g[-1] += f",{cents:02d}"
        g[-1] += r.choice([" €", " EUR", ""])
        return _decoy(g, "ctl_amount", "montant", "amount")
    if k == 2:
        return _decoy([str(v)], "ctl_amount", "amount_cents", "amount", native=str(v))
    s = f"USD {whole:,}.{cents:02d}"
    return _decoy([s], "ctl_amount", "total", "total", native=s)


@control
def d_ctl_ip(r: random.Random) -> Payload:
    k = r.randrange(3)
    if k == 0:
        s = ".".join(str(r.randint(1, 254)) for _ in range(4))
    elif k == 1:
        s = "2001:db8:" + ":".join(f"{r.randint(0, 65535):x}" for _ in range(6))
    else:
        s = ".".join(str(r.randint(1, 254)) for _ in range(4)) + f":{r.randint(1024, 65535)}"
    return _decoy([s], "ctl_ip", r.choice(["client_ip", "remote_addr", "ip"]), "IP address", native=s)


@control
def d_ctl_version(r: random.Random) -> Payload:
    k = r.randrange(4)
    if k == 0:
        s = f"10.0.{r.randint(17000, 26100)}.{r.randint(1, 5000)}"
    elif k == 1:
        s = f"{r.randint(100, 130)}.0.{r.randint(4000, 7000)}.{r.randint(1, 300)}"
    elif k == 2:
        s = f"v{r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 30)}-rc.{r.randint(1, 9)}+build.{r.randint(1, 9999)}"
    else:
        s = "1.2.840.113549.1.1." + str(r.randint(1, 14))
    return _decoy([s], "ctl_version", r.choice(["version", "build", "oid"]), "version", native=s)


@control
def d_ctl_luhn_fail(r: random.Random) -> Payload:
    d, _ = _synthetic(r)
    bad = d[:-1] + str((int(d[-1]) + r.randint(1, 9)) % 10)
    return _decoy(card_groups(bad), "ctl_luhn_fail", r.choice(CARD_KEYS), r.choice(CARD_NOUNS))


# ---------------------------------------------------------------------------------------------
# Sample construction and self-check


def check_sample(text: str, spans: list[tuple[int, int]], p: Payload) -> str | None:
    if not p.is_card:
        t = luhn_trouble(decode_layers(text))
        return f"control holds Luhn-valid run {t}" if t else None
    if not spans:
        return "no spans"
    last = 0
    got: list[str] = []
    for a, b in spans:
        if a < last or b <= a or b > len(text):
            return f"bad span {(a, b)}"
        last = b
        d, stray = spelled_digits(decode_layers(text[a:b]))
        if stray:
            return f"stray characters {stray!r} in span {text[a:b]!r}"
        got.append(d)
    spelled = "".join(got)
    times = len(spelled) // max(1, len(p.digits))
    if times < 1 or spelled != p.digits * times:
        return f"spans spell {spelled} not {p.digits} (once per occurrence)"
    # no unlabelled copy of the card outside the spans
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            chars[i] = "|"
    rest = decode_layers("".join(chars))
    for run in digit_chunks(rest):
        if p.digits in "".join(run):
            return "unlabelled copy of the card outside the spans"
    return None


def _control_templates() -> list[str]:
    return sorted(FAMILIES)


def make_sample(seed: int, fam: str, i: int, is_card: bool) -> Sample:
    problems: list[str] = []
    for attempt in range(80):
        r = random.Random(f"rt2:{seed}:{fam}:{i}:{int(is_card)}:{attempt}")
        if is_card:
            p = make_card(r)
            tmpl = fam
        else:
            p = CONTROLS[fam](r)
            tmpl = r.choice(_control_templates())
        marked = FAMILIES[tmpl](r, p)
        text, spans = finalize(marked)
        problem = check_sample(text, spans, p)
        if problem is None:
            if is_card:
                return Sample(text, fam, p.brand, spans, p.digits, tmpl)
            return Sample(text, fam, f"decoy:{fam}", [], "", tmpl)
        problems.append(f"{tmpl}: {problem}")
    raise RuntimeError(f"{fam} #{i}: could not draw a valid sample: {problems[-3:]}")


def corpus(seed: int, per_family: int) -> list[Sample]:
    """``per_family`` samples of every card family, then of every control family (deterministic)."""
    out: list[Sample] = []
    for fam in FAMILIES:
        out += [make_sample(seed, fam, i, True) for i in range(per_family)]
    for fam in CONTROLS:
        out += [make_sample(seed, fam, i, False) for i in range(per_family)]
    return out


def self_check(samples: list[Sample]) -> list[str]:
    """Re-verify finished samples (labels against text); returns the problems found."""
    bad: list[str] = []
    for s in samples:
        if s.pans:
            p = Payload(s.digits, [s.digits], s.brand, True, "", "")
        else:
            p = Payload("", [], s.brand, False, "", "")
            if s.digits:
                bad.append(f"{s.fmt}: control carries digits")
        problem = check_sample(s.text, s.pans, p)
        if problem:
            bad.append(f"{s.fmt}: {problem}")
    for d, _ in STRIPE_TEST:
        if not luhn_ok(d):
            bad.append(f"Stripe test number {d} fails Luhn")
    return bad


# ---------------------------------------------------------------------------------------------
# CLI


def _vis(ch: str) -> str:
    if ch == "\n":
        return "↵\n"
    if ch == "\r":
        return "␍"
    if ch == "\t":
        return "⇥"
    if ch != " " and unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cf", "Cc"):
        return f"\\u{ord(ch):04x}"
    return ch


def render(s: Sample, limit: int = 1600) -> str:
    inside = {i for a, b in s.pans for i in range(a, b)}
    out: list[str] = []
    prev = False
    for i, ch in enumerate(s.text[:limit]):
        cur = i in inside
        if cur and not prev:
            out.append("⟦")
        if prev and not cur:
            out.append("⟧")
        out.append(_vis(ch))
        prev = cur
    if prev:
        out.append("⟧")
    return "".join(out) + (" […]" if len(s.text) > limit else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Second red-team text corpus for card redaction (labels only).")
    ap.add_argument("--per-family", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--examples", type=int, default=1, help="examples shown per family")
    ap.add_argument("--jsonl", action="store_true", help="print the samples as JSON lines instead")
    args = ap.parse_args(argv)
    samples = corpus(args.seed, args.per_family)
    problems = self_check(samples)
    if args.jsonl:
        for s in samples:
            print(json.dumps({"text": s.text, "fmt": s.fmt, "brand": s.brand, "pans": s.pans, "digits": s.digits,
                              "template": s.template}, ensure_ascii=False))
        return 1 if problems else 0
    by: dict[str, list[Sample]] = {}
    for s in samples:
        by.setdefault(s.fmt, []).append(s)
    print(f"seed={args.seed} per_family={args.per_family} card families={len(FAMILIES)} "
          f"controls={len(CONTROLS)} samples={len(samples)} self-check problems={len(problems)}")
    for fam, ss in by.items():
        kind = "control" if fam in CONTROLS else "card"
        avg = sum(len(s.text) for s in ss) // max(1, len(ss))
        spans = sum(len(s.pans) for s in ss) / max(1, len(ss))
        print(f"  {kind:<8}{fam:<28}n={len(ss):<4} avg_len={avg:<6} spans/sample={spans:.1f}")
    for pr in problems[:20]:
        print("PROBLEM", pr)
    if args.examples > 0:
        for fam, ss in by.items():
            for s in ss[: args.examples]:
                print("\n" + "=" * 100)
                print(f"{fam} [{s.brand}] template={s.template} digits={s.digits or '-'} spans={s.pans}")
                print(render(s))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
