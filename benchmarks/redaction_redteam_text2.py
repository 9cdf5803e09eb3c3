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
number exactly; no unlabelled copy of the card is left outside the spans; every 13-19 digit run of
a control (and of chunk-joined runs across short separators) fails Luhn.  Failing draws are redrawn.

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
        return [" ".join(g[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    s = p.plain()
    cut = sorted(r.sample(range(1, len(s)), min(k, len(s)) - 1))
    bounds = [0, *cut, len(s)]
    return [s[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


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
    if "".join(got) != p.digits:
        return f"spans spell {''.join(got)} not {p.digits}"
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
