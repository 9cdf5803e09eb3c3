"""Independent red-team corpus: payment card numbers written into realistic service text.

This module is deliberately written without looking at the redaction engine or at the
team's own corpora.  It generates texts of the kinds real payment / voice / web services
emit, with synthetic Luhn-valid card numbers (correct issuer prefix and length, random
body, never a real account) embedded the way they really turn up, plus card-free control
texts in the same formats carrying look-alike numbers that all FAIL Luhn.

Behaviours of real systems this corpus reproduces (from experience with the platforms):

Whitespace and separators
  * Customers paste numbers copied from PDFs, banking apps, iOS/Android share sheets and
    web pages: the group separators become NBSP (U+00A0), narrow NBSP (U+202F, which ICU
    and French-locale formatters emit), thin / hair / figure / en / em spaces, ideographic
    space, zero-width space, word joiner, ZWNJ, soft hyphen or a BOM; sometimes several
    kinds within one number.
  * Textareas and SMS/chat bodies keep the newline (LF or CRLF), tabs and runs of spaces
    typed between groups; WYSIWYG editors (CKEditor, TinyMCE, Quill, Outlook) store
    ``&nbsp;``, ``&#160;``, ``&#32;``, ``&#x20;``, ``&thinsp;``; Go's encoding/json turns
    ``&`` into ``\\u0026`` so stored HTML shows ``\\u0026nbsp;``; Python's json.dumps
    (ensure_ascii) shows ``\\u00a0`` / ``\\u202f`` between the groups.
  * Fixed-width text: psql / MySQL client tables, Unicode box tables (tabulate, rich),
    Markdown pipe tables, cells that wrap a long value onto a second row; e-mail bodies
    hard-wrapped at 72-78 columns, quoted-printable soft breaks (``=\\r\\n``) and
    ``=C2=A0`` for NBSP, quoted replies (``> ``) splitting a number across quoted lines,
    containerd/CRI partial-line records (``P``/``F`` tags) and terminal folds.
Voice platforms and bots (exported JSON, pretty and single-line)
  * Word-level arrays (Deepgram-, AWS Transcribe-, Google STT-, AssemblyAI-, Whisper-,
    Azure-batch-shaped) where ITN emits each group, or each single digit, as its own word
    object with start/end/confidence/speaker, plus the full transcript string.
  * Segment / utterance / sentence arrays (Whisper verbose_json with token ids, Amazon
    Connect Contact Lens, Twilio Voice Intelligence, AssemblyAI utterances, WebVTT) where
    the caller's pauses split the number across segments with agent back-channels between.
  * Lexical (spoken-word) forms: "four one one one, double two ..." next to the ITN/display
    form (Azure nBest lexical/itn/display, Lex V2 originalValue vs interpretedValue,
    Spanish-language calls), n-best alternatives arrays where some hypotheses misrecognise
    a digit (no longer Luhn-valid but still 15 of 16 card digits), streaming JSON-lines
    events with growing interim transcripts, chat ``messages`` (role/content) including
    LLM tool-call ``arguments`` that are JSON inside a JSON string, Dialogflow parameters
    sent as JSON doubles (``4111111111111111.0``), DTMF events (Twilio media-stream
    ``dtmf`` messages, Asterisk AMI ``DTMFEnd``, FreeSWITCH RTP logs) with one digit each,
    Twilio ``<Gather>`` callbacks (``Digits=...``).
Structured payloads split apart
  * Split-field card forms (``cc1..cc4``) as JSON objects, arrays of strings or numbers,
    digit arrays, urlencoded and multipart/form-data bodies, HTML ``<input>`` values and
    ``<td>`` cells, XML/SOAP elements, session-replay (rrweb) input snapshots.
  * HTML e-mails with each group in its own ``<span>``/``<td>``, formatting tags or
    comments between digits, ``<br>``/``<wbr>`` between groups, numeric character
    references for digits (``&#52;``, ``&#x34;``, ``&#0052;``).
  * Percent-encoding (``%20``, ``+``, ``%2D``, fully encoded digits ``%34%31``, double
    encoding ``%2520``), PHP-style escaped slashes in logged URLs.
  * Decimal digits of other scripts: Arabic-Indic, Extended Arabic-Indic (Persian keyboards),
    Devanagari, Bengali, Thai, full-width (Japanese IMEs, with full-width hyphens),
    mathematical bold/monospace digits from "fancy text" generators, mixed with ASCII,
    and the same inside ensure_ascii JSON as ``\\u0664`` escapes.
Logs of every kind
  * Tracebacks and exception messages embedding the request (Python, pydantic v2
    ``input_value=``, Jackson ``InvalidFormatException``, ``NumberFormatException: For input
    string``, Node/Joi, Go panics, .NET FormatException), Python reprs (dicts, dataclasses,
    QueryDict, bytes, Celery task args with Decimal/datetime), Rails/Phoenix parameter
    dumps, PHP print_r/var_dump, Go ``%+v``, Lombok toString, and reprs that wrap the number in
    angle brackets without being markup (Ruby ``#<Payment ...>``, Werkzeug ``<Request '...'>``,
    Ecto ``#Ecto.Changeset<...>``, Django ``<QueryDict: ...>``, SQL ``a<b ... c>d``).
  * SQL in logs (PostgreSQL ``DETAIL: parameters:``, MySQL general log, SQLAlchemy echo,
    Hibernate binders, Django debug), CSV/TSV exports (quoted, semicolon, Excel ``="..."``),
    YAML (fixtures, OpenAPI examples, folded scalars, flow sequences), logfmt / key=value,
    RFC 3164 / RFC 5424 syslog, journald short and JSON export, nginx / Apache / ALB /
    CloudFront / IIS access logs with query strings, curl ``--trace-ascii`` (64-byte lines
    with hex offsets), HTTP dumps with headers and cookies, hexdump -C / xxd / tcpdump -X
    dumps (the card spread over the ASCII column of consecutive rows), ISO 8583 field
    dumps, raw ISO 8583 messages with the LLVAR length prefix glued to the PAN, magnetic
    stripe Track 1 / Track 2 data, Slack/Jira/Markdown chat exports.

Controls use the same templates with the card replaced by a look-alike (Luhn-failing
card-shaped ids with issuer prefixes, IBANs with valid mod-97 check digits, phone numbers,
parcel tracking numbers, order numbers, UUIDs); every 12-19 digit run of a control (after
unescaping HTML entities and percent-encoding, and across short separator runs) is checked
to fail Luhn, and the sample is redrawn otherwise.

Run from the repository root::

    .venv/bin/python benchmarks/redaction_redteam_text.py [--per-family N] [--seed S] [--examples K]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import html
import io
import json
import os
import random
import re
import sys
import textwrap
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

# ---------------------------------------------------------------------------------------
# Public interface


@dataclass
class Sample:
    text: str
    fmt: str  # family name
    brand: str  # "visa16", ... or "decoy:<family>"
    pans: list[tuple[int, int]]  # spans [start, end) of every stretch carrying card digits
    digits: str = ""


# ---------------------------------------------------------------------------------------
# Span markers: families write card stretches between M0 and M1 (private-use characters
# that survive json.dumps, html.escape, csv and text wrapping); _finalize strips them.

M0, M1 = "\ue000", "\ue001"


def C(s: str) -> str:
    """Mark ``s`` as a stretch carrying card digits."""
    return f"{M0}{s}{M1}" if s else s


def vlen(s: str) -> int:
    return len(s) - s.count(M0) - s.count(M1)


def unmark(s: str) -> str:
    return s.replace(M0, "").replace(M1, "")


def _finalize(marked: str) -> tuple[str, list[tuple[int, int]]]:
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


def jd(obj: Any, *, indent: int | None = None, ascii_: bool = False, compact: bool = False,
       go: bool = False, sort: bool = False) -> str:
    """json.dumps keeping span markers intact (also under ensure_ascii)."""
    if compact:
        seps: tuple[str, str] = (",", ":")
    elif indent is None:
        seps = (", ", ": ")
    else:
        seps = (",", ": ")
    s = json.dumps(obj, indent=indent, ensure_ascii=ascii_, separators=seps, sort_keys=sort)
    s = s.replace("\\ue000", M0).replace("\\ue001", M1)
    if go:  # Go encoding/json HTML-safe escaping
        s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return s


def jfit(obj: Any, r: random.Random, limit: int = 2700, allow_pretty: bool = True) -> str:
    """Dump as a real exporter would: pretty (2/4) or single-line; fall back to compact if long."""
    x = r.random()
    ascii_ = r.random() < 0.35
    if allow_pretty and x < 0.5:
        s = jd(obj, indent=r.choice([2, 2, 4]), ascii_=ascii_)
        if vlen(s) <= limit:
            return s
    if x < 0.75:
        s = jd(obj, ascii_=ascii_)
        if vlen(s) <= limit:
            return s
    return jd(obj, compact=True, ascii_=ascii_)


def hard_wrap(marked: str, width: int, brk: str = "\n", prefix: str = "",
              atom: str | None = None) -> str:
    """Break every line after ``width`` visible characters (terminal folds, QP soft breaks)."""
    toks = re.findall(atom, marked, re.S) if atom else list(marked)
    out: list[str] = []
    col = 0
    inside = False
    for t in toks:
        if t == M0:
            inside = True
            out.append(t)
            continue
        if t == M1:
            inside = False
            out.append(t)
            continue
        if t == "\n":
            col = 0
            out.append(t)
            continue
        w = 0 if t == "\r" else len(t)
        if col + w > width and col > len(prefix):
            out.append((M1 + brk + prefix + M0) if inside else (brk + prefix))
            col = len(prefix)
        out.append(t)
        col += w
    return "".join(out)


# ---------------------------------------------------------------------------------------
# Luhn, cards, decoys


def luhn_ok(d: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(d)):
        x = int(ch)
        if i % 2:
            x *= 2
            if x > 9:
                x -= 9
        total += x
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError


GROUPING: dict[int, list[int]] = {12: [4, 4, 4], 13: [4, 4, 5], 14: [4, 6, 4], 15: [4, 6, 5],
                                  16: [4, 4, 4, 4], 17: [4, 4, 4, 5], 18: [4, 4, 4, 6],
                                  19: [4, 4, 4, 4, 3]}


def _mc(r: random.Random) -> str:
    return str(r.randint(51, 55)) if r.random() < 0.7 else str(r.randint(2221, 2720))


def _disc(r: random.Random) -> str:
    x = r.random()
    return "6011" if x < 0.45 else ("65" if x < 0.85 else str(r.randint(644, 649)))


BRANDS: list[tuple[str, float, Callable[[random.Random], str], tuple[int, ...]]] = [
    ("visa", 28, lambda r: "4", (16, 16, 16, 16, 16, 16, 16, 19)),
    ("mc", 22, _mc, (16,)),
    ("amex", 12, lambda r: r.choice(["34", "37"]), (15,)),
    ("discover", 8, _disc, (16,)),
    ("jcb", 6, lambda r: str(r.randint(3528, 3589)), (16,)),
    ("diners", 5, lambda r: "36", (14,)),
    ("unionpay", 8, lambda r: "62", (16, 16, 19)),
    ("maestro", 6, lambda r: r.choice(["6759", "5018"]), (12, 13, 16, 19)),
]


def split_groups(digits: str, brand: str, r: random.Random) -> list[str]:
    n = len(digits)
    sizes = list(GROUPING.get(n, [4] * (n // 4) + ([n % 4] if n % 4 else [])))
    if n == 19 and brand == "unionpay" and r.random() < 0.3:
        sizes = [6, 13]
    out, i = [], 0
    for s in sizes:
        out.append(digits[i:i + s])
        i += s
    return out


@dataclass
class Payload:
    digits: str  # ASCII characters of the number (decoys may contain letters)
    groups: list[str]  # how it is printed
    brand: str
    is_card: bool
    kind: str = "card"
    natural_sep: str = " "

    def j(self, sep: str = " ") -> str:
        return sep.join(self.groups)

    def chars(self) -> str:
        return "".join(self.groups)

    def natural(self) -> str:
        return self.j(self.natural_sep)

    def fmt(self, r: random.Random) -> str:
        """The ways apps print the number: grouped with spaces, bare, dashed."""
        if self.kind not in ("card", "luhnfail"):
            return self.natural()
        x = r.random()
        return self.j(" ") if x < 0.42 else (self.chars() if x < 0.8 else self.j("-"))


def make_card(r: random.Random) -> Payload:
    name, _, pfx, lens = r.choices(BRANDS, weights=[b[1] for b in BRANDS])[0]
    n = r.choice(lens)
    prefix = pfx(r)
    body = prefix + "".join(r.choice("0123456789") for _ in range(n - 1 - len(prefix)))
    digits = luhn_complete(body)
    return Payload(digits, split_groups(digits, name, r), f"{name}{n}", True)


def _iban(r: random.Random) -> tuple[str, list[str]]:
    cc, bban = r.choice([
        ("DE", lambda: "".join(r.choice("0123456789") for _ in range(18))),
        ("FR", lambda: "".join(r.choice("0123456789") for _ in range(20)) + "".join(r.choice("0123456789") for _ in range(3))),
        ("GB", lambda: r.choice(["NWBK", "BARC", "MIDL", "LOYD"]) + "".join(r.choice("0123456789") for _ in range(14))),
        ("NL", lambda: r.choice(["ABNA", "INGB", "RABO"]) + "".join(r.choice("0123456789") for _ in range(10))),
        ("ES", lambda: "".join(r.choice("0123456789") for _ in range(20))),
    ])
    b = bban()
    num = "".join(str(int(c, 36)) for c in b + cc + "00")
    chk = 98 - int(num) % 97
    s = f"{cc}{chk:02d}{b}"
    return s, [s[i:i + 4] for i in range(0, len(s), 4)]


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789") for _ in range(n))


def make_decoy(r: random.Random) -> Payload:
    kind = r.choices(["luhnfail", "iban", "phone", "tracking", "order", "uuid", "account"],
                     weights=[46, 10, 10, 10, 10, 5, 9])[0]
    for _ in range(200):
        if kind == "luhnfail":
            c = make_card(r)
            d = c.digits[:-1] + str((int(c.digits[-1]) + r.randint(1, 9)) % 10)
            if r.random() < 0.25:  # non-issuer prefix ids (internal reference numbers)
                d = r.choice("789") + _digits(r, len(d) - 1)
            if luhn_ok(d):
                continue
            return Payload(d, split_groups(d, c.brand.rstrip("0123456789"), r), "decoy", False, kind)
        if kind == "iban":
            s, g = _iban(r)
            return Payload(s, g, "decoy", False, kind)
        if kind == "phone":
            g = r.choice([
                ["+1", "415", "555", "01" + _digits(r, 2)], ["+44", "20", "7946", "0" + _digits(r, 3)],
                ["+49", "30", _digits(r, 8)], ["+33", "6", _digits(r, 2), _digits(r, 2), _digits(r, 2), _digits(r, 2)],
                ["+86", "138", _digits(r, 4), _digits(r, 4)], ["+91", "98" + _digits(r, 3), _digits(r, 5)],
                ["(212)", "555-01" + _digits(r, 2)], ["+61", "4" + _digits(r, 2), _digits(r, 3), _digits(r, 3)]])
            d = "".join(ch for ch in "".join(g) if ch.isdigit())
            if 12 <= len(d) <= 19 and luhn_ok(d):
                continue
            return Payload(d, g, "decoy", False, kind)
        if kind == "tracking":
            t = r.random()
            if t < 0.35:
                g = ["1Z", _digits(r, 3) if r.random() < .5 else "999", "AA1", _digits(r, 2), _digits(r, 4), _digits(r, 3), _digits(r, 1)]
            elif t < 0.7:
                g = ["9400", _digits(r, 4), _digits(r, 4), _digits(r, 4), _digits(r, 4), _digits(r, 2)]
            else:
                g = [_digits(r, 4), _digits(r, 4), _digits(r, 4)]  # FedEx 12-digit
            d = "".join(g)
            dd = "".join(ch for ch in d if ch.isdigit())
            if 12 <= len(dd) <= 19 and luhn_ok(dd):
                continue
            return Payload(d, g, "decoy", False, kind)
        if kind == "order":
            g = r.choice([[_digits(r, 3), _digits(r, 7), _digits(r, 7)],
                          ["2024" + _digits(r, 4), _digits(r, 6)],
                          ["INV", "2024", _digits(r, 4), _digits(r, 4)]])
            dd = "".join(ch for ch in "".join(g) if ch.isdigit())
            if 12 <= len(dd) <= 19 and luhn_ok(dd):
                continue
            return Payload("".join(g), g, "decoy", False, kind, "-")
        if kind == "uuid":
            u = str(uuid.UUID(int=r.getrandbits(128), version=4))
            return Payload(u.replace("-", ""), u.split("-"), "decoy", False, kind, "-")
        if kind == "account":  # bank account / customer reference printed in 4s
            d = _digits(r, r.choice([12, 13, 14, 16, 18]))
            if luhn_ok(d):
                continue
            return Payload(d, [d[i:i + 4] for i in range(0, len(d), 4)], "decoy", False, "luhnfail")
    raise RuntimeError("could not draw decoy")


# ---------------------------------------------------------------------------------------
# Realistic noise

FIRST = ["James", "Maria", "Wei", "Aisha", "Lucas", "Sofia", "Omar", "Priya", "Liam", "Chloe",
         "Mateo", "Hana", "Noah", "Fatima", "Ethan", "Yuki", "Olivia", "Diego", "Amara", "Jonas"]
LAST = ["Smith", "Garcia", "Chen", "Khan", "Muller", "Rossi", "Okafor", "Nguyen", "Patel",
        "Johnson", "Kowalski", "Silva", "Dubois", "Tanaka", "Brown", "Haddad", "Novak", "Larsen"]
MERCHANTS = ["Northwind Outfitters", "Blue Fern Pharmacy", "Cobalt Air", "Harbor Street Deli",
             "Lumen Streaming", "Pine & Co. Hardware", "Quickcab", "Urban Grocer", "Atlas Hotels",
             "Kite Telecom"]
SERVICES = ["payments-api", "checkout", "ivr-bridge", "card-intake", "billing-worker",
            "voice-agent", "order-service", "gateway-edge", "fraud-scorer", "notification-svc"]
HOSTS = ["ip-10-0-12-34", "pay-prod-7f9c", "web-03", "k8s-node-5", "ivr-euw1-b", "app-server-12"]
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
       "okhttp/4.12.0", "python-requests/2.31.0", "curl/8.4.0", "Go-http-client/1.1",
       "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"]
AGENT_LINES = ["mm-hmm", "okay", "go ahead", "yes", "got it", "right", "uh-huh", "sure, continue"]
PRE_CARD = ["sure the card number is", "okay it's", "yeah so it's", "the long number is",
            "um it's", "okay ready it's", "my card number is", "alright", "so that's"]
POST_CARD = ["and the expiry is", "that's it", "did you get that", "expiration is next",
             "and then the three digits on the back", "yep that's the one"]


class Noise:
    def __init__(self, r: random.Random) -> None:
        self.r = r
        self.t = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
            seconds=r.randint(0, 400 * 86400), microseconds=r.randint(0, 999999))

    def tick(self, lo: float = 0.001, hi: float = 2.5) -> datetime:
        self.t += timedelta(seconds=self.r.uniform(lo, hi))
        return self.t

    def iso(self, ms: bool = True, z: bool = True) -> str:
        t = self.tick()
        return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond // 1000:03d}" if ms else "") + ("Z" if z else "+00:00")

    def iso_us(self) -> str:
        t = self.tick()
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"

    def logts(self, sep: str = ",") -> str:
        t = self.tick()
        return t.strftime("%Y-%m-%d %H:%M:%S") + f"{sep}{t.microsecond // 1000:03d}"

    def syslog_ts(self) -> str:
        t = self.tick()
        return t.strftime("%b ") + f"{t.day:>2}" + t.strftime(" %H:%M:%S")

    def clf(self) -> str:
        return self.tick().strftime("%d/%b/%Y:%H:%M:%S +0000")

    def hms(self) -> str:
        return self.tick(1, 20).strftime("%H:%M:%S")

    def epoch(self) -> int:
        return int(self.tick().timestamp())

    def epoch_ms(self) -> int:
        return int(self.tick().timestamp() * 1000)

    def epoch_us(self) -> int:
        t = self.tick()
        return int(t.timestamp()) * 1_000_000 + t.microsecond

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def hex(self, n: int) -> str:
        return "".join(self.r.choice("0123456789abcdef") for _ in range(n))

    def b62(self, n: int) -> str:
        return "".join(self.r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

    def ip(self) -> str:
        r = self.r
        return r.choice([f"203.0.113.{r.randint(1, 254)}", f"198.51.100.{r.randint(1, 254)}",
                         f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
                         f"192.0.2.{r.randint(1, 254)}"])

    def name(self) -> tuple[str, str]:
        return self.r.choice(FIRST), self.r.choice(LAST)

    def email(self, first: str, last: str) -> str:
        return f"{first.lower()}.{last.lower()}{self.r.choice(['', str(self.r.randint(1, 99))])}@" + \
            self.r.choice(["gmail.com", "outlook.com", "example.com", "yahoo.co.uk", "proton.me"])

    def phone(self) -> str:
        return f"+1 415 555 01{self.r.randint(0, 99):02d}"

    def amount(self) -> str:
        return f"{self.r.randint(3, 900)}.{self.r.randint(0, 99):02d}"

    def cents(self) -> int:
        return self.r.randint(300, 90000)

    def exp(self) -> str:
        return f"{self.r.randint(1, 12):02d}/{self.r.randint(25, 31)}"

    def cvv(self, p: Payload) -> str:
        return _digits(self.r, 4 if p.brand.startswith("amex") else 3)

    def order(self) -> str:
        return self.r.choice([f"ORD-{self.r.randint(100000, 999999)}", f"#{self.r.randint(10000, 99999)}",
                              f"A{self.r.randint(1000000, 9999999)}"])

    def pick(self, seq: list[str]) -> str:
        return self.r.choice(seq)

    def svc(self) -> str:
        return self.r.choice(SERVICES)

    def host(self) -> str:
        return self.r.choice(HOSTS)

    def ua(self) -> str:
        return self.r.choice(UAS)

    def masked(self) -> str:
        return self.r.choice([f"{self.r.randint(400000, 559999)}******{_digits(self.r, 4)}",
                              f"************{_digits(self.r, 4)}", f"**** **** **** {_digits(self.r, 4)}",
                              f"XXXX-XXXX-XXXX-{_digits(self.r, 4)}"])


EN_D = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ES_D = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
NUMBER_WORDS = frozenset(EN_D + ES_D + ["oh", "o", "double", "triple", "niner", "doble", "triple"])


def spoken_groups(p: Payload, r: random.Random, lang: str = "en") -> list[str]:
    """Each printed group said aloud, as ASR lexical output renders it."""
    names = EN_D if lang == "en" else ES_D
    out = []
    for g in p.groups:
        ws: list[str] = []
        i = 0
        while i < len(g):
            ch = g[i]
            if not ch.isdigit():
                ws.append(ch.lower())
                i += 1
                continue
            d = int(ch)
            word = "oh" if (lang == "en" and d == 0 and r.random() < 0.4) else names[d]
            if lang == "en" and i + 1 < len(g) and g[i + 1] == ch and r.random() < 0.35:
                if i + 2 < len(g) and g[i + 2] == ch and r.random() < 0.5:
                    ws.append(f"triple {names[d]}")
                    i += 3
                    continue
                ws.append(f"double {names[d]}")
                i += 2
                continue
            ws.append(word)
            i += 1
        out.append(" ".join(ws))
    return out


def spoken(p: Payload, r: random.Random, lang: str = "en") -> str:
    gs = spoken_groups(p, r, lang)
    seps = [", ", " ", " ... ", ". ", ", uh, "] if lang == "en" else [", ", " ", " ... ", ", eh, "]
    out = gs[0]
    for g in gs[1:]:
        out += r.choice(seps) + g
    return out


# ---------------------------------------------------------------------------------------
# Families.  Each returns marked text: card stretches wrapped with C().

Fam = Callable[[random.Random, Noise, Payload], str]


def _join_mixed(groups: list[str], seps: list[str], r: random.Random) -> str:
    out = groups[0]
    for g in groups[1:]:
        out += r.choice(seps) + g
    return out


def f_sep_ascii_ws(r: random.Random, n: Noise, p: Payload) -> str:
    seps = ["\n", "\r\n", "\t", "  ", "   ", "    ", "\t\t", " \r\n", "\n\n", " \t", "\x0b"]
    card = (r.choice(seps)).join(p.groups) if r.random() < 0.65 else _join_mixed(p.groups, seps, r)
    a, ag = n.name(), n.name()
    v = r.randrange(5)
    if v == 0:
        return (f"Ticket #{r.randint(100000, 999999)} | channel: email | priority: normal\r\n"
                f"From: {a[0]} {a[1]} <{n.email(*a)}>\r\nSubject: Re: payment failed for order {n.order()}\r\n\r\n"
                f"Hi team,\r\nthe checkout keeps rejecting my card, the number is\r\n{C(card)}\r\n"
                f"expiry {n.exp()}. I was charged {n.amount()} twice last month as well.\r\n\r\nRegards,\r\n{a[0]}\r\n")
    if v == 1:
        return (f"[{n.hms()}] {ag[0]} (agent): Please type the long number on the front of the card.\n"
                f"[{n.hms()}] {a[0]}: {C(card)}\n[{n.hms()}] {ag[0]} (agent): Thanks! And the expiry date?\n"
                f"[{n.hms()}] {a[0]}: {n.exp()}\n[{n.hms()}] System: Chat transferred to queue 'billing'\n")
    if v == 2:
        rows = [f"{r.randint(10000, 99999)}\t{n.iso(ms=False)}\t{x[0]} {x[1]}\t{note}" for x, note in [
            (n.name(), "called about late delivery"), (a, C(card) + "\tcust read card out, asked to store it"),
            (n.name(), f"refund {n.amount()} approved")]]
        return "case_id\tcreated\tcustomer\tnotes\n" + "\n".join(rows) + "\n"
    if v == 3:
        return (f"{n.logts()} INFO  [{n.svc()}] inbound SMS from={n.phone()} to=+1 555 0100 sid=SM{n.hex(32)} body:\n"
                f"{C(card)}\n{n.exp()} {n.cvv(p)}\n"
                f"{n.logts()} INFO  [{n.svc()}] routed message to workflow=collect_payment\n")
    return (f"Customer notes (free text) - {a[0]} {a[1]}\n---------------------------------\n"
            f"Pay with:  {C(card)}\n   exp {n.exp()}   zip {r.randint(10000, 99999)}\n"
            f"Delivery: leave at back door. Tel {n.phone()}\n")


UNI_SEPS = {"nbsp": "\u00a0", "nnbsp": "\u202f", "thin": "\u2009", "figure": "\u2007", "en": "\u2002",
            "em": "\u2003", "ideo": "\u3000", "hair": "\u200a", "zwsp": "\u200b", "wj": "\u2060",
            "zwnj": "\u200c", "shy": "\u00ad", "bom": "\ufeff", "punct": "\u2008", "nbsp+zwsp": "\u00a0\u200b",
            "space+zwsp": " \u200b", "lrm": "\u200e", "three-per-em": "\u2004"}


def f_sep_unicode_space(r: random.Random, n: Noise, p: Payload) -> str:
    if r.random() < 0.6:
        card = UNI_SEPS[r.choice(list(UNI_SEPS))].join(p.groups)
    else:
        card = _join_mixed(p.groups, [*list(UNI_SEPS.values()), " "], r)
    if r.random() < 0.2:  # zero-width characters between every digit (copy from some web pages)
        zw = r.choice(["\u200b", "\u2060", "\u200c"])
        card = zw.join(p.chars())
    a = n.name()
    v = r.randrange(4)
    if v == 0:  # chat webhook as stored JSON (Python json.dumps -> \u00a0 escapes when ascii)
        msg = {"id": n.uuid(), "conversation_id": n.uuid(), "author": {"type": "user", "name": f"{a[0]} {a[1]}"},
               "created_at": n.iso(), "body": f"here you go {C(card)} exp {n.exp()}",
               "channel": r.choice(["web_widget", "whatsapp", "messenger", "ios_sdk"])}
        return jfit({"event": "message.created", "data": msg}, r)
    if v == 1:  # pasted from a PDF statement into a web form, logged by the app
        return (f"{n.logts()} WARNING [{n.svc()}] card field failed client validation; raw value "
                f"'{C(repr(card)[1:-1])}' len={len(card)} user_id={r.randint(10000, 999999)} ua=\"{n.ua()}\"\n")
    if v == 2:  # e-mail text part
        return (f"Hello,\n\nPlease charge the balance of {n.amount()} EUR to my card\n{C(card)}\n"
                f"valid until {n.exp()}.\n\nMit freundlichen Grüßen\n{a[0]} {a[1]}\n")
    return (f"{a[0]} {a[1]}\u2009·\u2009{n.phone()}\nCard\u00a0number: {C(card)}\nExpiry: {n.exp()}\u2003CVC: {n.cvv(p)}\n"
            f"Order {n.order()} — total {n.amount()}\u00a0€\n")


ENT_SEPS = ["&nbsp;", "&#32;", "&#x20;", "&#160;", "&#xa0;", "&#xA0;", "&thinsp;", "&#8201;", "&#8203;",
            "&ensp;", "&#8239;", "&NonBreakingSpace;", " &nbsp;", "&nbsp; ", "&nbsp;&nbsp;", "&#x200B;"]


def f_sep_html_entity(r: random.Random, n: Noise, p: Payload) -> str:
    card = r.choice(ENT_SEPS).join(p.groups) if r.random() < 0.7 else _join_mixed(p.groups, [*ENT_SEPS, " "], r)
    a = n.name()
    body = (f"<p>Hi,</p><p>please use my card&nbsp;{C(card)} (exp&nbsp;{n.exp()}) for order {n.order()}.</p>"
            f"<p>Thanks,<br>{a[0]}</p>")
    v = r.randrange(4)
    if v == 0:  # helpdesk comment JSON as produced by a Go service (HTML-safe escaping)
        obj = {"ticket_id": r.randint(100000, 999999), "comment": {"id": r.randint(10**9, 2 * 10**9),
               "author_id": r.randint(10**6, 10**7), "html_body": body, "public": True, "created_at": n.iso(ms=False)}}
        return jd(obj, go=True, compact=r.random() < 0.5)
    if v == 1:
        return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Message from {a[0]}</title></head>"
                f"<body style=\"font-family:Arial,sans-serif;font-size:14px\">{body}"
                f"<p style=\"color:#888\">Sent from my iPhone</p></body></html>")
    if v == 2:  # rich-text editor content saved in a DB dump
        return (f"INSERT INTO `notes` (`id`,`customer_id`,`content`,`created_at`) VALUES "
                f"({r.randint(1000, 99999)},{r.randint(1000, 99999)},'{body}','{n.logts(sep='.')}');\n")
    return jfit({"type": "note", "format": "html", "editor": r.choice(["ckeditor5", "tinymce", "quill"]),
                 "value": body, "updatedAt": n.iso()}, r)


MIXED_SEPS = [" ", "-", ".", " - ", "/", "\u2010", "\u2013", "\u2011", "\u2212", "_", "\u00a0", "--", " . ", ",", "\u2014", "·"]


def f_sep_mixed(r: random.Random, n: Noise, p: Payload) -> str:
    card = _join_mixed(p.groups, MIXED_SEPS, r) if r.random() < 0.5 else r.choice(MIXED_SEPS).join(p.groups)
    a = n.name()
    v = r.randrange(4)
    if v == 0:
        return (f"{n.logts()} INFO  [{n.svc()}] note added by agent {a[0].lower()}: "
                f"\"cust gave card {C(card)} exp {n.exp()}, pls retry charge of {n.amount()}\"\n")
    if v == 1:
        return (f"From: {a[0]} {a[1]}\nTo: billing@{n.pick(['northwind.example', 'kite-telecom.example'])}\n"
                f"Date: {n.tick().strftime('%a, %d %b %Y %H:%M:%S +0000')}\n\n"
                f"Card: {C(card)}\nName on card: {a[0].upper()} {a[1].upper()}\nExp: {n.exp()}\n")
    if v == 2:
        return jfit({"customer": {"name": f"{a[0]} {a[1]}", "phone": n.phone()},
                     "comment": f"pay by card {C(card)}", "submitted": n.iso()}, r)
    return (f"- [{n.hms()}] Caller verified, DOB ok.\n- [{n.hms()}] card # {C(card)} / {n.exp()}\n"
            f"- [{n.hms()}] charge {n.amount()} declined (05 do not honor), advised to call bank\n")


def _table(headers: list[str], rows: list[list[str]], style: str) -> str:
    w = [max(vlen(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]

    def pad(s: str, i: int) -> str:
        return s + " " * (w[i] - vlen(s))
    if style == "psql":
        out = [" " + " | ".join(pad(h, i) for i, h in enumerate(headers))]
        out.append("-" + "-+-".join("-" * x for x in w) + "-")
        out += [" " + " | ".join(pad(c, i) for i, c in enumerate(row)) for row in rows]
        out.append(f"({len(rows)} rows)")
    elif style == "mysql":
        line = "+" + "+".join("-" * (x + 2) for x in w) + "+"
        out = [line, "| " + " | ".join(pad(h, i) for i, h in enumerate(headers)) + " |", line]
        out += ["| " + " | ".join(pad(c, i) for i, c in enumerate(row)) + " |" for row in rows]
        out += [line, f"{len(rows)} rows in set (0.00 sec)"]
    elif style == "box":
        out = ["┌" + "┬".join("─" * (x + 2) for x in w) + "┐",
               "│ " + " │ ".join(pad(h, i) for i, h in enumerate(headers)) + " │",
               "├" + "┼".join("─" * (x + 2) for x in w) + "┤"]
        out += ["│ " + " │ ".join(pad(c, i) for i, c in enumerate(row)) + " │" for row in rows]
        out.append("└" + "┴".join("─" * (x + 2) for x in w) + "┘")
    elif style == "md":
        out = ["| " + " | ".join(pad(h, i) for i, h in enumerate(headers)) + " |",
               "|" + "|".join("-" * (x + 2) for x in w) + "|"]
        out += ["| " + " | ".join(pad(c, i) for i, c in enumerate(row)) + " |" for row in rows]
    else:  # column -t
        out = ["  ".join(pad(h, i) for i, h in enumerate(headers))]
        out += ["  ".join(pad(c, i) for i, c in enumerate(row)) for row in rows]
    return "\n".join(out) + "\n"


def f_text_table(r: random.Random, n: Noise, p: Payload) -> str:
    style = r.choice(["psql", "mysql", "box", "md", "column"])
    headers = ["id", "customer", "card_number", "exp", "amount", "status"]
    rows = []
    k = r.randint(2, 5)
    target = r.randrange(k)
    wrap = style in ("mysql", "box", "md") and r.random() < 0.35
    for i in range(k):
        a = n.name()
        if i == target:
            card = p.fmt(r) if not wrap else p.j(" ")
            rows.append([str(r.randint(100, 9999)), f"{a[0]} {a[1]}", C(card), n.exp(), n.amount(), "failed"])
        else:
            rows.append([str(r.randint(100, 9999)), f"{a[0]} {a[1]}", n.masked(), n.exp(), n.amount(),
                         r.choice(["captured", "refunded", "authorized"])])
    if wrap:  # the cell wraps onto a continuation row (tabulate maxcolwidths, rich)
        row = rows[target]
        parts = textwrap.wrap(unmark(row[2]), width=r.choice([9, 10, 12, 14]))
        rows[target] = [*row[:2], C(parts[0]), *row[3:]]
        for extra in parts[1:]:
            rows.insert(target + 1, ["", "", C(extra), "", "", ""])
            target += 1
    pre = r.choice([f"payments=> SELECT id, customer, card_number, exp, amount, status FROM attempts WHERE created_at > '{n.iso(ms=False)}';\n",
                    f"mysql> select * from card_attempts where merchant_id = {r.randint(100, 999)} limit {k};\n",
                    f"Reconciliation report {n.tick().date()} (exceptions)\n\n", ""])
    return pre + _table(headers, rows, style)


def _qp(marked: str) -> str:
    out = []
    for ch in marked:
        if ch in (M0, M1, "\r", "\n") or (32 <= ord(ch) < 127 and ch != "="):
            out.append(ch)
        else:
            out.append("".join(f"={b:02X}" for b in ch.encode()))
    return hard_wrap("".join(out), 75, brk="=\r\n", atom=r"=[0-9A-F]{2}|.")


def f_wrapped_lines(r: random.Random, n: Noise, p: Payload) -> str:
    a = n.name()
    v = r.randrange(5)
    card = p.fmt(r)
    if v == 0:  # quoted-printable e-mail body, soft line breaks inside the number
        if r.random() < 0.3:
            card = "\u00a0".join(p.groups)
        body = (f"Hello {n.pick(MERCHANTS)} support,\r\n\r\nI tried to pay invoice {n.order()} online three times today and every time the page says "
                f"\"card declined\". The card is {C(card)}, expiry {n.exp()}. Could you please try it manually?\r\n\r\nBest wishes,\r\n{a[0]} {a[1]}\r\n")
        return ("Content-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + _qp(body))
    if v == 1:  # hard-wrapped plain text mail (72 columns) - breaks at spaces
        body = (f"Hi, following up on my call this morning about the failed payment for booking {n.order()}. The agent asked me "
                f"to send the card details by email so here they are: {C(p.j(' '))} expiring {n.exp()}, name {a[0]} {a[1]}.")
        return "\n".join(textwrap.wrap(body, width=r.choice([66, 70, 72, 76]))) + f"\n\n--\n{a[0]}\nSent from Outlook\n"
    if v == 2:  # terminal fold of a long log line (fold -w / copy from a narrow window)
        line = (f"{n.iso()} {n.host()} {n.svc()}[{r.randint(100, 32000)}]: level=debug msg=\"tokenize request\" "
                f"request_id={n.uuid()} merchant=mrc_{n.hex(10)} body={{\"number\":\"{C(card)}\",\"exp\":\"{n.exp()}\"}}")
        return hard_wrap(line, r.choice([80, 100, 120])) + "\n"
    if v == 3:  # containerd / CRI partial records
        msg = (f"{{\"level\":\"info\",\"ts\":{n.epoch()}.{r.randint(100000, 999999)},\"caller\":\"charge/handler.go:{r.randint(40, 400)}\","
               f"\"msg\":\"upstream request\",\"payload\":\"pan={C(card)}&exp={n.exp()}&amount={n.cents()}\"}}")
        cut = r.randint(vlen(msg) // 2, vlen(msg) - 10)
        # find the cut position within the marked string
        pos = 0
        vis = 0
        while vis < cut:
            if msg[pos] not in (M0, M1):
                vis += 1
            pos += 1
        first, second = msg[:pos], msg[pos:]
        if first.count(M0) > first.count(M1):
            first, second = first + M1, M0 + second
        ts1, ts2 = n.iso_us(), n.iso_us()
        return f"{ts1} stdout P {first}\n{ts2} stdout F {second}\n"
    quoted = textwrap.wrap(f"On the phone you asked for the card again so it is {C(p.j(' '))} and the expiry date {n.exp()}, "
                           f"sorry for the delay.", width=r.choice([40, 46, 52]))
    return (f"Thanks {a[0]}, I have passed this to billing.\n\nOn {n.tick().strftime('%a, %b %d, %Y at %I:%M %p')} "
            f"{a[0]} {a[1]} <{n.email(*a)}> wrote:\n" + "\n".join("> " + q for q in quoted) + "\n>\n> Regards\n")


# ---------------------------------------------------------------------------------------
# Voice transcripts

Word = tuple[str, bool]  # (token, carries card digits)


def _ctx_words(r: random.Random, lo: int, hi: int, pool: list[str]) -> list[Word]:
    return [(w, False) for w in " ".join(r.choice(pool) for _ in range(r.randint(lo, hi))).split()][: hi * 3]


def _card_words(p: Payload, r: random.Random, mode: str) -> list[Word]:
    if mode == "digit":
        return [(ch, True) for ch in p.chars()]
    if mode == "group":
        return [(g, True) for g in p.groups]
    if mode == "spoken":
        return [(w.strip(",."), True) for w in spoken(p, r).replace("...", " ").split() if w.strip(",.")]
    return [(p.chars(), True)]


def _join_words(words: list[Word], sep: str = " ") -> str:
    out: list[str] = []
    buf: list[str] = []
    for w, card in words:
        if card:
            buf.append(w)
            continue
        if buf:
            out.append(C(sep.join(buf)))
            buf = []
        out.append(w)
    if buf:
        out.append(C(sep.join(buf)))
    return sep.join(out)


def _mk(w: str, card: bool) -> str:
    return C(w) if card else w


def _utterance(r: random.Random, p: Payload, mode: str) -> list[Word]:
    pre = [(w, False) for w in r.choice(PRE_CARD).split()]
    post = [(w, False) for w in r.choice(POST_CARD).split()]
    return pre + _card_words(p, r, mode) + post


def _words_deepgram(r: random.Random, n: Noise, words: list[Word]) -> dict[str, Any]:
    t = r.uniform(3, 90)
    items = []
    for w, card in words:
        d = r.uniform(0.12, 0.5)
        items.append({"word": _mk(w.lower(), card), "start": round(t, 2), "end": round(t + d, 2),
                      "confidence": round(r.uniform(0.55, 1.0), 4), "speaker": 1, "punctuated_word": _mk(w, card)})
        t += d + r.uniform(0, 0.3)
    return {"metadata": {"request_id": n.uuid(), "created": n.iso(), "duration": round(t + 4, 3), "channels": 1,
                         "models": [n.uuid()]},
            "results": {"channels": [{"alternatives": [{"transcript": _join_words(words),
                                                        "confidence": round(r.uniform(0.8, 1), 4), "words": items}]}]}}


def _words_aws(r: random.Random, n: Noise, words: list[Word]) -> dict[str, Any]:
    t = r.uniform(3, 90)
    items = []
    for i, (w, card) in enumerate(words):
        d = r.uniform(0.12, 0.5)
        items.append({"id": i, "type": "pronunciation", "alternatives": [{"confidence": f"{r.uniform(0.5, 1):.3f}", "content": _mk(w, card)}],
                      "start_time": f"{t:.3f}", "end_time": f"{t + d:.3f}", "speaker_label": "spk_1"})
        t += d + r.uniform(0, 0.3)
    return {"jobName": f"call-{n.hex(12)}", "accountId": "1" + _digits(r, 11), "status": "COMPLETED",
            "results": {"transcripts": [{"transcript": _join_words(words)}], "items": items}}


def _words_google(r: random.Random, n: Noise, words: list[Word]) -> dict[str, Any]:
    t = r.uniform(3, 90)
    items = []
    for w, card in words:
        d = r.uniform(0.12, 0.5)
        items.append({"startOffset": f"{t:.3f}s", "endOffset": f"{t + d:.3f}s", "word": _mk(w, card)})
        t += d + r.uniform(0, 0.3)
    return {"results": [{"alternatives": [{"transcript": _join_words(words), "confidence": round(r.uniform(0.8, 1), 6),
                                           "words": items}], "channelTag": 1, "resultEndOffset": f"{t:.3f}s",
                         "languageCode": "en-us"}], "totalBilledDuration": f"{int(t) + 5}s"}


def _words_assembly(r: random.Random, n: Noise, words: list[Word]) -> dict[str, Any]:
    t = r.randint(3000, 90000)
    items = []
    for w, card in words:
        d = r.randint(120, 500)
        items.append({"text": _mk(w, card), "start": t, "end": t + d, "confidence": round(r.uniform(0.5, 1), 5), "speaker": "B"})
        t += d + r.randint(0, 300)
    return {"id": n.uuid(), "status": "completed", "language_code": "en_us", "text": _join_words(words),
            "words": items, "confidence": round(r.uniform(0.8, 1), 6), "audio_duration": t // 1000 + 5}


def _words_whisper(r: random.Random, n: Noise, words: list[Word]) -> dict[str, Any]:
    t = r.uniform(3, 90)
    items = []
    for w, card in words:
        d = r.uniform(0.12, 0.5)
        items.append({"word": _mk(w, card), "start": round(t, 2), "end": round(t + d, 2)})
        t += d + r.uniform(0, 0.3)
    return {"task": "transcribe", "language": "english", "duration": round(t + 3, 2),
            "text": " " + _join_words(words), "words": items}


def _words_azure(r: random.Random, n: Noise, words: list[Word]) -> dict[str, Any]:
    t = r.randint(3, 90) * 10_000_000
    items = []
    for w, card in words:
        d = r.randint(12, 50) * 100_000
        items.append({"word": _mk(w, card), "offsetInTicks": float(t), "durationInTicks": float(d),
                      "confidence": round(r.uniform(0.5, 1), 7)})
        t += d + r.randint(0, 3) * 100_000
    disp = _join_words(words)
    return {"recognizedPhrases": [{"recognitionStatus": "Success", "channel": 0, "speaker": 2,
                                   "offsetInTicks": float(items[0]["offsetInTicks"]),
                                   "nBest": [{"confidence": round(r.uniform(0.8, 1), 7), "itn": disp, "display": disp, "words": items}]}]}


WORD_SHAPES = [_words_deepgram, _words_aws, _words_google, _words_assembly, _words_whisper, _words_azure]


def f_transcript_words_group(r: random.Random, n: Noise, p: Payload) -> str:
    mode = "group" if r.random() < 0.75 else "whole"
    words = _ctx_words(r, 0, 2, ["yeah", "okay", "so"]) + _utterance(r, p, mode)
    return jfit(r.choice(WORD_SHAPES)(r, n, words), r)


def f_transcript_words_digit(r: random.Random, n: Noise, p: Payload) -> str:
    words = _utterance(r, p, "digit")[-24:] if r.random() < 0.5 else _card_words(p, r, "digit")
    shape = r.choice([_words_whisper, _words_google, _words_deepgram, _words_assembly])
    obj = shape(r, n, words)
    if shape is _words_deepgram:  # keep the export under the size budget
        obj["results"]["channels"][0]["alternatives"][0]["words"] = [
            {k: v for k, v in w.items() if k not in ("speaker", "punctuated_word")}
            for w in obj["results"]["channels"][0]["alternatives"][0]["words"]]
    return jfit(obj, r, limit=2900, allow_pretty=r.random() < 0.3)


def _split_points(p: Payload, r: random.Random, parts: int) -> list[str]:
    """Split the printed number into pieces the caller said with pauses between."""
    gs = list(p.groups)
    if len(gs) >= parts and r.random() < 0.7:
        cuts = sorted(r.sample(range(1, len(gs)), parts - 1))
        out, last = [], 0
        for c in [*cuts, len(gs)]:
            out.append(" ".join(gs[last:c]))
            last = c
        return out
    s = p.chars()
    cuts = sorted(r.sample(range(2, len(s) - 1), parts - 1))
    out, last = [], 0
    for c in [*cuts, len(s)]:
        out.append(s[last:c])
        last = c
    return out


def f_transcript_segments(r: random.Random, n: Noise, p: Payload) -> str:
    pieces = _split_points(p, r, r.choice([2, 2, 3]))
    segs: list[tuple[str, str]] = [("agent", "Can I have the long card number please?")]
    for i, piece in enumerate(pieces):
        lead = r.choice(PRE_CARD) + " " if i == 0 else r.choice(["", "then ", "uh ", "and "])
        segs.append(("customer", f"{lead}{C(piece)}"))
        if i < len(pieces) - 1:
            segs.append(("agent", r.choice(AGENT_LINES).capitalize() + "."))
    segs.append(("customer", r.choice(POST_CARD).capitalize() + " " + n.exp().replace("/", " ")))
    full = " ".join(s for _, s in segs)
    shape = r.randrange(5)
    t = r.uniform(20, 200)
    if shape == 0:  # Whisper verbose_json
        out = []
        for i, (_, s) in enumerate(segs):
            d = r.uniform(1.0, 4.5)
            out.append({"id": i, "seek": int(t // 30) * 3000, "start": round(t, 2), "end": round(t + d, 2), "text": " " + s,
                        "tokens": [r.randint(220, 50256) for _ in range(r.randint(3, 9))], "temperature": 0.0,
                        "avg_logprob": round(-r.uniform(0.1, 0.6), 8), "compression_ratio": round(r.uniform(1, 1.8), 8),
                        "no_speech_prob": round(r.uniform(0, 0.05), 8)})
            t += d
        return jfit({"task": "transcribe", "language": "english", "duration": round(t, 2), "text": full, "segments": out}, r)
    if shape == 1:  # Amazon Connect Contact Lens
        tr = []
        for who, s in segs:
            d = r.randint(800, 4000)
            tr.append({"BeginOffsetMillis": int(t * 1000), "Content": s, "EndOffsetMillis": int(t * 1000) + d, "Id": n.uuid(),
                       "ParticipantId": who.upper(), "Sentiment": "NEUTRAL", "LoudnessScore": [round(r.uniform(60, 85), 2)]})
            t += d / 1000
        return jfit({"Version": "1.1.0", "AccountId": "1" + _digits(r, 11), "Channel": "VOICE", "ContentMetadata": {"Output": "Raw"},
                     "JobStatus": "COMPLETED", "LanguageCode": "en-US",
                     "Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}, {"ParticipantId": "AGENT", "ParticipantRole": "AGENT"}],
                     "Transcript": tr}, r)
    if shape == 2:  # Twilio Voice Intelligence sentences
        sents = []
        for i, (who, s) in enumerate(segs):
            d = r.uniform(0.8, 4)
            sents.append({"media_channel": 1 if who == "customer" else 2, "sentence_index": i, "start_time": f"{t:.2f}",
                          "end_time": f"{t + d:.2f}", "transcript": s, "sid": "GX" + n.hex(32), "confidence": f"{r.uniform(0.7, 1):.2f}"})
            t += d
        return jfit({"sentences": sents, "meta": {"page": 0, "page_size": 50, "key": "sentences"}}, r)
    if shape == 3:  # AssemblyAI utterances
        utt = []
        for who, s in segs:
            d = r.randint(800, 4000)
            utt.append({"speaker": "B" if who == "customer" else "A", "text": s, "start": int(t * 1000),
                        "end": int(t * 1000) + d, "confidence": round(r.uniform(0.7, 1), 5)})
            t += d / 1000
        return jfit({"id": n.uuid(), "status": "completed", "text": full, "utterances": utt}, r)
    lines = ["WEBVTT", ""]
    for i, (who, s) in enumerate(segs):
        d = r.uniform(0.8, 4)
        a, b = timedelta(seconds=t), timedelta(seconds=t + d)
        def f(x):
            return f"{int(x.total_seconds()) // 3600:02d}:{int(x.total_seconds()) % 3600 // 60:02d}:{x.total_seconds() % 60:06.3f}"
        lines += [str(i + 1), f"{f(a)} --> {f(b)}", f"<v {who.capitalize()}>{s}", ""]
        t += d
    return "\n".join(lines)


def f_transcript_spoken(r: random.Random, n: Noise, p: Payload) -> str:
    lang = "es" if r.random() < 0.2 else "en"
    sp = spoken(p, r, lang)
    v = r.randrange(4)
    if v == 0:  # Azure batch transcription nBest: lexical next to itn / display
        disp = p.j(" ")
        lex = f"{r.choice(PRE_CARD)} {C(sp.replace(',', '').replace('.', ''))}"
        words = [{"word": _mk(w, w in NUMBER_WORDS), "offsetInTicks": float(r.randint(10, 900) * 10**6),
                  "durationInTicks": float(r.randint(2, 6) * 10**6)} for w in unmark(lex).split()][:24]
        obj = {"source": f"https://blob.example.net/calls/{n.uuid()}.wav", "timestamp": n.iso(ms=False),
               "recognizedPhrases": [{"recognitionStatus": "Success", "channel": 1, "offset": "PT41.2S",
                                      "nBest": [{"confidence": round(r.uniform(0.7, 1), 7), "lexical": lex,
                                                 "itn": f"{r.choice(PRE_CARD)} {C(p.chars())}", "display": f"My card number is {C(disp)}.",
                                                 "words": words}]}]}
        return jfit(obj, r, limit=2900)
    if v == 1:  # plain text call transcript
        ag, cu = r.choice(["Agent", "AGENT", "Rep"]), r.choice(["Customer", "CALLER", "Cust"])
        return (f"Call {n.uuid()} recorded {n.iso(ms=False)}\n\n{ag}: Thank you, and can I take the card number?\n"
                f"{cu}: {'Sí, es el' if lang == 'es' else 'Yeah it is'} {C(sp)}.\n{ag}: And the expiry?\n{cu}: {n.exp()}\n")
    if v == 2:  # AWS items with spoken digit words (no ITN)
        words = _utterance(r, p, "spoken")
        return jfit(_words_aws(r, n, words), r, limit=2900, allow_pretty=False)
    # Lex V2 conversation log: originalValue (spoken) vs interpretedValue
    slot = {"shape": "Scalar", "value": {"originalValue": C(sp), "interpretedValue": C(p.chars()), "resolvedValues": [C(p.chars())]}}
    obj = {"timestamp": n.iso(), "sessionId": n.uuid(), "inputTranscript": f"{r.choice(PRE_CARD)} {C(sp)}",
           "bot": {"name": "PaymentBot", "version": "3", "localeId": "en_US" if lang == "en" else "es_US"},
           "sessionState": {"intent": {"name": "MakePayment", "state": "InProgress",
                                       "slots": {"CardNumber": slot, "Expiry": None}}, "dialogAction": {"type": "ElicitSlot", "slotToElicit": "Expiry"}},
           "inputMode": "Speech", "requestId": n.uuid()}
    return jfit(obj, r)


def f_transcript_messages(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(3)
    if v == 0:  # LLM voice agent log: card split over user turns, tool call arguments double-encoded
        pieces = _split_points(p, r, r.choice([1, 2, 3])) if r.random() < 0.6 else [p.fmt(r)]
        msgs: list[dict[str, Any]] = [{"role": "system", "content": "You are a payments assistant for " + n.pick(MERCHANTS) + ". Collect card details."},
                                      {"role": "assistant", "content": "Sure, what's the card number?"}]
        for i, piece in enumerate(pieces):
            msgs.append({"role": "user", "content": (r.choice(PRE_CARD) + " " if i == 0 else "") + C(piece)})
            if i < len(pieces) - 1:
                msgs.append({"role": "assistant", "content": "Got it, please continue."})
        if r.random() < 0.6:
            args = jd({"card_number": C(p.chars()), "exp": n.exp(), "amount": n.amount()}, compact=r.random() < 0.5)
            msgs.append({"role": "assistant", "content": None, "tool_calls": [{"id": "call_" + n.b62(24), "type": "function",
                                                                               "function": {"name": "charge_card", "arguments": args}}]})
        return jfit({"conversation_id": n.uuid(), "model": r.choice(["gpt-4o-2024-05-13", "claude-3-5-sonnet", "llama-3-70b"]),
                     "messages": msgs, "created": n.epoch()}, r)
    if v == 1:  # Rasa tracker store events
        t = float(n.epoch())
        text = f"{r.choice(PRE_CARD)} {C(p.fmt(r))}"
        ev = [{"event": "bot", "timestamp": t, "text": "Please tell me your card number."},
              {"event": "user", "timestamp": t + 4.2, "text": text,
               "parse_data": {"intent": {"name": "inform", "confidence": 0.97},
                              "entities": [{"entity": "card_number", "start": 5, "end": 24, "value": C(p.chars()), "extractor": "RegexEntityExtractor"}]}},
              {"event": "slot", "timestamp": t + 4.3, "name": "card_number", "value": C(p.chars())}]
        return jfit({"sender_id": n.hex(32), "events": ev}, r)
    # support chat export: card split over consecutive messages
    pieces = _split_points(p, r, r.choice([2, 3, 4])) if r.random() < 0.7 else [p.fmt(r)]
    a = n.name()
    msgs = [{"id": r.randint(10**8, 10**9), "author": "agent", "text": "Could you confirm the card number?", "ts": n.iso()}]
    for piece in pieces:
        msgs.append({"id": r.randint(10**8, 10**9), "author": f"{a[0]} {a[1]}", "text": C(piece), "ts": n.iso()})
    return jfit({"chat": {"id": n.uuid(), "channel": "web", "messages": msgs}}, r)


def f_transcript_events_jsonl(r: random.Random, n: Noise, p: Payload) -> str:
    cw = _card_words(p, r, r.choice(["group", "group", "digit"]))
    pre = [(w, False) for w in r.choice(PRE_CARD).split()]
    shape = r.randrange(3)
    lines = []
    step = r.choice([1, 2]) if len(cw) <= 5 else r.choice([3, 4, 5])
    stops = [*list(range(step, len(cw), step)), len(cw)]
    for j, stop in enumerate(stops):
        words = pre + cw[:stop]
        final = j == len(stops) - 1
        tr = _join_words(words)
        if shape == 0:
            lines.append(jd({"type": "Results", "channel_index": [0, 1], "duration": round(r.uniform(0.5, 3), 2),
                             "start": round(r.uniform(10, 90), 2), "is_final": final, "speech_final": final,
                             "channel": {"alternatives": [{"transcript": tr, "confidence": round(r.uniform(0.6, 1), 3), "words": []}]}},
                            compact=True))
        elif shape == 1:
            lines.append(jd({"Transcript": {"Results": [{"Alternatives": [{"Transcript": tr}], "EndTime": round(r.uniform(10, 90), 3),
                                                         "IsPartial": not final, "ResultId": n.uuid(), "StartTime": round(r.uniform(1, 9), 3)}]}}))
        else:
            lines.append(n.iso() + " ws recv " + jd({"message_type": "FinalTranscript" if final else "PartialTranscript",
                                                     "audio_start": r.randint(1000, 9000), "audio_end": r.randint(9000, 20000),
                                                     "confidence": round(r.uniform(0.6, 1), 3), "text": tr, "created": n.iso_us()}))
    return "\n".join(lines[-8:]) + "\n"


def f_transcript_alternatives(r: random.Random, n: Noise, p: Payload) -> str:
    alts = []
    k = r.randint(2, 4)
    for i in range(k):
        s = list(p.chars())
        if i > 0 and r.random() < 0.6:  # n-best hypotheses that misheard one digit
            j = r.randrange(len(s))
            if s[j].isdigit():
                s[j] = str((int(s[j]) + r.choice([1, 3, 5])) % 10)
        digits = "".join(s)
        gs, q = [], 0
        for g in p.groups:
            gs.append(digits[q:q + len(g)])
            q += len(g)
        card = r.choice([" ".join(gs), digits, " ".join(digits)]) if i else " ".join(gs)
        alts.append({"transcript": f"{r.choice(PRE_CARD)} {C(card)}", "confidence": round(r.uniform(0.3, 0.95) / (i + 1), 6)})
    shape = r.randrange(3)
    if shape == 0:
        return jfit({"results": [{"alternatives": alts, "resultEndTime": f"{r.uniform(5, 30):.3f}s", "languageCode": "en-us"}]}, r)
    if shape == 1:
        return jfit({"results": {"channels": [{"alternatives": alts}]}, "metadata": {"request_id": n.uuid()}}, r)
    return jfit({"RecognitionStatus": "Success", "Offset": r.randint(10**6, 10**8), "Duration": r.randint(10**6, 10**8),
                 "NBest": [{"Confidence": a["confidence"], "Lexical": a["transcript"].lower(), "ITN": a["transcript"],
                            "Display": a["transcript"] + "."} for a in alts]}, r)


def f_bot_slots(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(3)
    if v == 0 and len(p.chars()) <= 16 and p.chars().isdigit():  # Dialogflow CX: @sys.number parameter as JSON double
        obj = {"detectIntentResponseId": n.uuid(), "intentInfo": {"lastMatchedIntent": f"projects/pay-bot/locations/global/agents/{n.uuid()}/intents/{n.uuid()}",
                                                                  "displayName": "provide.card", "confidence": round(r.uniform(0.7, 1), 3)},
               "pageInfo": {"currentPage": "Collect Card", "formInfo": {"parameterInfo": [{"displayName": "card_number", "required": True, "state": "FILLED"}]}},
               "sessionInfo": {"session": f"projects/pay-bot/locations/global/agents/x/sessions/{n.hex(24)}",
                               "parameters": {"card_number": float(int(p.chars())), "amount": float(n.amount())}},
               "text": f"{r.choice(PRE_CARD)} {C(p.fmt(r))}", "languageCode": "en"}
        s = jfit(obj, r)
        num = json.dumps(float(int(p.chars())))
        return s.replace(num, C(num[:-2]) + ".0", 1)
    if v == 1:  # Twilio <Gather> action callback (form body, as logged)
        body = (f"AccountSid=AC{n.hex(32)}&ApiVersion=2010-04-01&CallSid=CA{n.hex(32)}&CallStatus=in-progress&Called=%2B1555010{r.randint(1000, 9999)}"
                f"&Caller=%2B1415555{r.randint(1000, 9999)}&Digits={C(p.chars())}&Direction=inbound&FinishedOnKey=%23&FromCountry=US&msg=Gather+End")
        return f"{n.logts()} INFO [{n.svc()}] POST /twilio/gather/card 200 params: {body}\n"
    # Amazon Connect contact flow -> Lambda event with stored customer input
    obj = {"Details": {"ContactData": {"Attributes": {"card_input": C(p.chars()), "lang": "en-US"}, "Channel": "VOICE",
                                       "ContactId": n.uuid(), "CustomerEndpoint": {"Address": n.phone().replace(" ", ""), "Type": "TELEPHONE_NUMBER"},
                                       "InitiationMethod": "INBOUND", "InstanceARN": f"arn:aws:connect:us-east-1:{'1' + _digits(r, 11)}:instance/{n.uuid()}"},
                       "Parameters": {"cardNumber": C(p.chars()), "action": "authorize"}}, "Name": "ContactFlowEvent"}
    return jfit(obj, r)


# ---------------------------------------------------------------------------------------
# Payloads split over fields, markup, encodings


def f_json_split_fields(r: random.Random, n: Noise, p: Payload) -> str:
    gs = p.groups
    v = r.randrange(6)
    if v == 0:
        card: Any = {f"cc{i + 1}": C(g) for i, g in enumerate(gs)}
    elif v == 1:
        card = [C(g) for g in gs]
    elif v == 2:
        card = {"part1": C(gs[0]), "part2": C(gs[1]), "rest": C("".join(gs[2:]))}
    elif v == 3:  # digit array from a PIN-pad style widget
        card = [C(ch) for ch in p.chars()]
    elif v == 4:  # numbers, not strings (leading zeros would be lost, so only if none)
        card = [int(g) if g.isdigit() and not g.startswith("0") else g for g in gs]
        card = [C(str(x)) if isinstance(x, str) else x for x in card]
    else:
        card = {"first6": C(p.chars()[:6]), "middle": C(p.chars()[6:-4]), "last4": C(p.chars()[-4:])}
    obj = {"order_id": n.order(), "amount": {"value": n.cents(), "currency": r.choice(["USD", "EUR", "GBP"])},
           "payment_method": {"type": "card", "card_number": card, "expiry": {"month": r.randint(1, 12), "year": r.randint(2025, 2031)},
                              "holder": " ".join(n.name())}, "metadata": {"channel": "ivr", "session": n.uuid()}}
    s = jfit(obj, r)
    if v == 4:  # mark bare JSON numbers
        for g in sorted({str(x) for x in card if isinstance(x, int)}, key=len, reverse=True):
            s = re.sub(rf"(?<=[\[,\s]){g}(?=[,\]\s])", C(g), s)
    if r.random() < 0.3:
        s = f"{n.logts()} DEBUG [{n.svc()}] POST /api/v2/payments body=" + s.replace("\n", " ") if "\n" not in s else s
    return s


def f_form_split_fields(r: random.Random, n: Noise, p: Payload) -> str:
    gs = p.groups
    names = r.choice([[f"cc{i + 1}" for i in range(len(gs))], [f"card_number_{i}" for i in range(len(gs))],
                      [f"ccnum[{i}]" for i in range(len(gs))], [f"pan_part{i + 1}" for i in range(len(gs))]])
    v = r.randrange(3)
    if v == 0:
        fields = [f"{quote_plus(k)}={C(g)}" for k, g in zip(names, gs, strict=False)]
        body = "&".join([f"csrf_token={n.b62(32)}", f"amount={n.amount()}", *fields, f"exp_month={r.randint(1, 12):02d}", f"exp_year={r.randint(2025, 2031)}", f"name={quote_plus(' '.join(n.name()))}"])
        return (f"{n.logts()} DEBUG [{n.svc()}] POST /checkout/pay HTTP/1.1 Content-Type: application/x-www-form-urlencoded "
                f"Content-Length: {vlen(body)}\n{body}\n")
    if v == 1:
        b = "----WebKitFormBoundary" + n.b62(16)
        parts = "".join(f"--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{C(g)}\r\n" for k, g in zip(names, gs, strict=False))
        return (f"POST /payments/manual-entry HTTP/1.1\r\nHost: pay.example.com\r\nContent-Type: multipart/form-data; boundary={b}\r\n\r\n"
                f"--{b}\r\nContent-Disposition: form-data; name=\"order\"\r\n\r\n{n.order()}\r\n{parts}--{b}--\r\n")
    # PHP $_POST dump
    items = "".join(f"    [{k}] => {C(g)}\n" for k, g in zip(names, gs, strict=False))
    return (f"[{n.tick().strftime('%d-%b-%Y %H:%M:%S')} UTC] PHP Notice:  Undefined index: exp_year in /var/www/html/pay/process.php on line {r.randint(20, 300)}\n"
            f"[{n.tick().strftime('%d-%b-%Y %H:%M:%S')} UTC] POST data: Array\n(\n    [amount] => {n.amount()}\n{items}    [exp_month] => {r.randint(1, 12):02d}\n)\n")


def f_html_split_inputs(r: random.Random, n: Noise, p: Payload) -> str:
    gs = p.groups
    v = r.randrange(3)
    if v == 0:
        inputs = "\n    ".join(f'<input type="text" name="cc{i + 1}" inputmode="numeric" maxlength="{len(g)}" size="{len(g)}" value="{C(g)}" autocomplete="off">'
                                 for i, g in enumerate(gs))
        return (f"<!-- DOM snapshot captured by error reporter {n.iso()} -->\n<form id=\"pay\" action=\"/pay\" method=\"post\">\n"
                f"  <label for=\"cc1\">Card number</label>\n  <div class=\"cc-split\">\n    {inputs}\n  </div>\n"
                f"  <input type=\"text\" name=\"exp\" value=\"{n.exp()}\">\n  <button type=\"submit\">Pay {n.amount()}</button>\n</form>\n")
    if v == 1:
        cells = "".join(f"<td class=\"pan\">{C(g)}</td>" for g in gs)
        a = n.name()
        return (f"<table border=\"1\" cellpadding=\"4\"><thead><tr><th>Customer</th><th colspan=\"{len(gs)}\">Card</th><th>Exp</th><th>Amount</th></tr></thead>"
                f"<tbody><tr><td>{a[0]} {a[1]}</td>{cells}<td>{n.exp()}</td><td>{n.amount()}</td></tr>"
                f"<tr><td>{' '.join(n.name())}</td><td colspan=\"{len(gs)}\">{n.masked()}</td><td>{n.exp()}</td><td>{n.amount()}</td></tr></tbody></table>\n")
    rows = "".join(f"<dt>Part {i + 1}</dt><dd>{C(g)}</dd>" for i, g in enumerate(gs))
    return f"<section class=\"review\"><h3>Review your payment</h3><dl>{rows}<dt>Expiry</dt><dd>{n.exp()}</dd></dl><p>Order {n.order()}</p></section>\n"


def f_xml_split(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(4)
    if v == 0:
        parts = "".join(f"<Part seq=\"{i + 1}\">{C(g)}</Part>" for i, g in enumerate(p.groups))
        card = f"<CardNumber>{parts}</CardNumber>"
    elif v == 1:  # pretty-printed element content with indentation newline
        card = f"<CardNumber>\n          {C(p.fmt(r))}\n        </CardNumber>"
    elif v == 2:
        card = f"<CardNumber><![CDATA[{C(p.fmt(r))}]]></CardNumber>"
    else:
        card = f"<PAN>{C(p.chars())}</PAN>"
    return (f"{n.logts()} TRACE [soap-client] outbound message:\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:pay=\"urn:example:payments:v3\">\n"
            f"  <soapenv:Header><pay:MessageId>{n.uuid()}</pay:MessageId></soapenv:Header>\n  <soapenv:Body>\n    <pay:AuthorizeRequest>\n"
            f"      <MerchantId>{r.randint(100000, 999999)}</MerchantId>\n      <Amount currency=\"EUR\">{n.amount()}</Amount>\n"
            f"      <Card>\n        {card}\n        <ExpiryDate>{n.exp()}</ExpiryDate>\n        <HolderName>{' '.join(n.name()).upper()}</HolderName>\n      </Card>\n"
            f"    </pay:AuthorizeRequest>\n  </soapenv:Body>\n</soapenv:Envelope>\n")


def f_html_markup_inside(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(5)
    gs = p.groups
    if v == 0:
        card = "".join(f'<span class="cc-group" style="letter-spacing:1px">{C(g)}</span>' for g in gs)
    elif v == 1:
        card = "<br>".join(C(g) for g in gs) if r.random() < 0.5 else "<br/>\n".join(C(g) for g in gs)
    elif v == 2:  # tags between individual digits (emphasis / autolink splitters)
        s = p.chars()
        cut = sorted(r.sample(range(1, len(s)), r.randint(2, 5)))
        bits, last = [], 0
        for c in [*cut, len(s)]:
            bits.append(s[last:c])
            last = c
        tags = ["</b><b>", "<wbr>", "</span><span>", "<!-- -->", "<span></span>", "<font face=\"Arial\"></font>"]
        card = r.choice(tags).join(C(b) for b in bits)
    elif v == 3:
        card = "<!-- grp -->".join(C(g) for g in gs) if r.random() < 0.5 else "<wbr>".join(C(g) for g in gs)
    else:  # Outlook/Word generated HTML
        card = "".join(f'<span style=\'font-size:11.0pt;font-family:"Calibri",sans-serif\'>{C(g)}<o:p></o:p></span>'
                       + ("<span style='mso-spacerun:yes'>&nbsp;</span>" if i < len(gs) - 1 else "") for i, g in enumerate(gs))
    a = n.name()
    return (f"<html><body><table width=\"600\" style=\"border-collapse:collapse\"><tr><td style=\"padding:16px\">"
            f"<p class=\"MsoNormal\">Dear {n.pick(MERCHANTS)} team,</p><p class=\"MsoNormal\">Please update the card on file for account "
            f"{r.randint(100000, 999999)} to: {card} expiring {n.exp()}.</p><p class=\"MsoNormal\">Kind regards,<br>{a[0]} {a[1]}</p>"
            f"</td></tr></table></body></html>\n")


def _ent(ch: str, r: random.Random) -> str:
    x = r.random()
    if not ch.isdigit():
        return ch
    if x < 0.45:
        return f"&#{ord(ch)};"
    if x < 0.75:
        return f"&#x{ord(ch):x};" if r.random() < 0.5 else f"&#x{ord(ch):X};"
    if x < 0.85:
        return f"&#00{ord(ch)};"
    return ch


def f_html_digit_entities(r: random.Random, n: Noise, p: Payload) -> str:
    mode = r.random()
    parts = []
    for g in p.groups:
        if mode < 0.6:
            parts.append("".join(_ent(ch, r) for ch in g))
        else:  # only some groups encoded (anti-scraping templates)
            parts.append("".join(_ent(ch, r) for ch in g) if r.random() < 0.5 else g)
    card = r.choice([" ", "&nbsp;", "-", ""]).join(parts)
    a = n.name()
    v = r.randrange(3)
    if v == 0:
        return (f"<div class=\"receipt\"><h2>Payment details</h2><p>Cardholder: {a[0]} {a[1]}</p>"
                f"<p>Card number: <span class=\"pan\">{C(card)}</span></p><p>Expires: {n.exp()}</p><p>Amount: ${n.amount()}</p></div>\n")
    if v == 1:
        return jfit({"template": "payment_confirmation", "to": n.email(*a), "html": f"<p>Card: {C(card)}</p><p>Total {n.amount()}</p>",
                     "sent_at": n.iso()}, r)
    return f"<?xml version=\"1.0\"?>\n<note><from>{a[0]}</from><body>card {C(card)} exp {n.exp()}</body></note>\n"


def _pct_digits(s: str, r: random.Random, every: bool) -> str:
    return "".join((f"%{ord(ch):02X}" if (ch.isdigit() and (every or r.random() < 0.5)) else quote(ch, safe="")) for ch in s)


def f_url_encoded(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(6)
    card = p.fmt(r)
    if v == 0:
        enc = quote(card, safe="")
    elif v == 1:
        enc = quote_plus(card)
    elif v == 2:
        enc = _pct_digits(card, r, every=True)
    elif v == 3:
        enc = _pct_digits(card, r, every=False)
    elif v == 4:  # double encoded (a URL carried in another URL's query)
        enc = quote(quote(p.j(r.choice([" ", "-"])), safe=""), safe="")
    else:
        enc = quote(p.j("\u00a0"), safe="")
    key = r.choice(["card_number", "cc", "pan", "card%5Bnumber%5D", "cardNo", "ccnum"])
    qs = f"order={r.randint(10000, 99999)}&{key}={C(enc)}&exp={quote(n.exp(), safe='')}&amt={n.amount()}"
    w = r.randrange(3)
    if w == 0:
        return (f"{n.logts()} INFO [{n.svc()}] redirecting to 3DS return url "
                f"https://shop.example.com/checkout/return?{qs}&sig={n.hex(40)}\n")
    if w == 1:  # PHP json_encode with escaped slashes
        url = f"https:\\/\\/pay.example.com\\/callback?{qs}"
        return f'{{"event":"redirect","url":"{url}","ip":"{n.ip()}","time":{n.epoch()}}}\n'
    return jfit({"request": {"method": "GET", "url": f"/v1/confirm?{qs}", "headers": {"user-agent": n.ua()}},
                 "response": {"status": 302}, "latency_ms": r.randint(3, 900)}, r)


SCRIPTS = {"arabic_indic": 0x0660, "ext_arabic_indic": 0x06F0, "devanagari": 0x0966, "bengali": 0x09E6,
           "fullwidth": 0xFF10, "thai": 0x0E50, "math_bold": 0x1D7CE, "math_mono": 0x1D7F6, "tamil": 0x0BE6,
           "gujarati": 0x0AE6, "myanmar": 0x1040}


def _conv(s: str, base: int) -> str:
    return "".join(chr(base + int(ch)) if ch.isdigit() and ch.isascii() else ch for ch in s)


def f_unicode_digits(r: random.Random, n: Noise, p: Payload) -> str:
    script = r.choice(list(SCRIPTS))
    base = SCRIPTS[script]
    x = r.random()
    if x < 0.6:
        gs = [_conv(g, base) for g in p.groups]
    elif x < 0.8:  # mixed with ASCII digit by digit (mixed keyboards / autocorrect)
        gs = ["".join(_conv(ch, base) if r.random() < 0.5 else ch for ch in g) for g in p.groups]
    else:  # mixed scripts group by group
        gs = [_conv(g, SCRIPTS[r.choice(list(SCRIPTS))]) for g in p.groups]
    sep = {"fullwidth": r.choice(["－", "ー", "　", " ", ""]), "arabic_indic": r.choice([" ", "\u200f ", "-", " "])}.get(script, r.choice([" ", "", "-"]))
    card = sep.join(gs)
    lead = {"arabic_indic": "رقم البطاقة", "ext_arabic_indic": "شماره کارت من", "devanagari": "मेरा कार्ड नंबर",
            "bengali": "আমার কার্ড নম্বর", "fullwidth": "カード番号は", "thai": "หมายเลขบัตรของฉันคือ", "tamil": "என் அட்டை எண்",
            "gujarati": "મારો કાર્ડ નંબર"}.get(script, "card no.")
    v = r.randrange(3)
    if v == 0:  # WhatsApp Business webhook
        obj = {"object": "whatsapp_business_account", "entry": [{"id": _digits(r, 15), "changes": [{"value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555010" + _digits(r, 4), "phone_number_id": _digits(r, 15)},
            "contacts": [{"profile": {"name": " ".join(n.name())}, "wa_id": "4915" + _digits(r, 9)}],
            "messages": [{"from": "4915" + _digits(r, 9), "id": "wamid." + n.b62(40), "timestamp": str(n.epoch()),
                          "text": {"body": f"{lead} {C(card)}"}, "type": "text"}]}, "field": "messages"}]}]}
        return jfit(obj, r)
    if v == 1:
        return f"{n.logts()} INFO [{n.svc()}] chat msg conv={n.uuid()} lang={script} text=\"{lead} {C(card)} {_conv(n.exp(), base)}\"\n"
    return (f"From: {' '.join(n.name())} <{n.email(*n.name())}>\nSubject: {lead}\nContent-Type: text/plain; charset=UTF-8\n\n"
            f"{lead}: {C(card)}\n{_conv(n.exp(), base)}\n")


# ---------------------------------------------------------------------------------------
# JSON nested in strings and in log lines


def _inner_payload(r: random.Random, n: Noise, p: Payload) -> dict[str, Any]:
    return r.choice([
        {"transcript": f"{r.choice(PRE_CARD)} {C(p.fmt(r))}", "call_sid": "CA" + n.hex(32), "confidence": round(r.uniform(0.7, 1), 3)},
        {"card": {"number": C(p.fmt(r)), "exp_month": r.randint(1, 12), "exp_year": r.randint(2025, 2031)}, "amount": n.cents()},
        {"event": "payment.failed", "data": {"pan": C(p.chars()), "reason": "do_not_honor", "order": n.order()}},
    ])


def f_json_double_encoded(r: random.Random, n: Noise, p: Payload) -> str:
    inner = jd(_inner_payload(r, n, p), compact=r.random() < 0.6, ascii_=r.random() < 0.3)
    v = r.randrange(4)
    if v == 0:  # SNS notification delivered to SQS
        obj = {"Type": "Notification", "MessageId": n.uuid(), "TopicArn": f"arn:aws:sns:us-east-1:{'1' + _digits(r, 11)}:payments-events",
               "Message": inner, "Timestamp": n.iso(), "SignatureVersion": "1", "Signature": base64.b64encode(r.randbytes(48)).decode(),
               "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:x:payments-events:{n.uuid()}"}
        body = jd(obj, compact=True)
        return jfit({"Records": [{"messageId": n.uuid(), "receiptHandle": n.b62(60), "body": body, "eventSource": "aws:sqs"}]}, r)
    if v == 1:  # CloudWatch Logs export / subscription (message is a JSON string)
        return jfit({"messageType": "DATA_MESSAGE", "owner": "1" + _digits(r, 11), "logGroup": f"/ecs/{n.svc()}", "logStream": f"ecs/app/{n.hex(32)}",
                     "logEvents": [{"id": _digits(r, 56), "timestamp": n.epoch_ms(), "message": inner}]}, r)
    if v == 2:  # triple: a queue message whose body is an event whose detail is a string
        mid = jd({"detail-type": "TranscriptReady", "source": "voice.pipeline", "detail": inner}, compact=True)
        return jd({"topic": "voice.transcripts", "partition": r.randint(0, 11), "offset": r.randint(10**5, 10**7), "value": mid}, compact=r.random() < 0.5)
    return jfit({"webhook": {"id": "evt_" + n.b62(24), "attempt": r.randint(1, 5), "raw_body": inner, "received_at": n.iso()}}, r)


def f_json_in_log(r: random.Random, n: Noise, p: Payload) -> str:
    inner = _inner_payload(r, n, p)
    v = r.randrange(5)
    if v == 0:
        return f"{n.logts()} INFO [{n.svc()}] request body: {jd(inner)}\n"
    if v == 1:  # Spring Boot CommonsRequestLoggingFilter
        return (f"{n.logts(sep='.')}  DEBUG {r.randint(1, 99)} --- [nio-8080-exec-{r.randint(1, 10)}] o.s.w.f.CommonsRequestLoggingFilter : "
                f"After request [POST /api/payments, client={n.ip()}, payload={jd(inner, compact=True)}]\n")
    if v == 2:  # Go zap JSON logger with the body as an escaped string field
        return jd({"level": "debug", "ts": float(f"{n.epoch()}.{r.randint(100000, 999999)}"), "caller": f"http/middleware.go:{r.randint(30, 300)}",
                   "msg": "incoming request", "method": "POST", "path": "/v1/charges", "body": jd(inner, compact=True)}, compact=True) + "\n"
    if v == 3:  # pino
        return jd({"level": 30, "time": n.epoch_ms(), "pid": r.randint(10, 9999), "hostname": n.host(),
                   "req": {"id": r.randint(1, 9999), "method": "POST", "url": "/checkout"}, "body": inner, "msg": "request received"}, compact=True) + "\n"
    return f"[{n.iso()}] production.ERROR: Gateway rejected payload {jd(inner, ascii_=True)} {{\"exception\":\"[object] (GuzzleHttp\\\\Exception\\\\ClientException(code: 402))\"}}\n"


# ---------------------------------------------------------------------------------------
# Language-level dumps and traces


def f_stack_trace(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    v = r.randrange(6)
    if v == 0:
        return (f"{n.logts()} ERROR [payments.views] Unhandled exception in POST /v1/charges\nTraceback (most recent call last):\n"
                f"  File \"/app/payments/views.py\", line {r.randint(40, 400)}, in create_charge\n"
                f"    charge = gateway.charge(payload[\"card\"], amount=Decimal(payload[\"amount\"]))\n"
                f"  File \"/app/payments/gateway.py\", line {r.randint(40, 400)}, in charge\n"
                f"    raise CardValidationError(f\"card rejected by processor: {{card!r}}\")\n"
                f"payments.gateway.CardValidationError: card rejected by processor: {{'number': '{C(card)}', 'exp_month': {r.randint(1, 12)}, "
                f"'exp_year': {r.randint(2025, 2031)}, 'cvc': '{n.cvv(p)}'}}\n")
    if v == 1:
        return (f"{n.logts(sep='.')} ERROR 1 --- [nio-8080-exec-{r.randint(1, 9)}] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] "
                f"threw exception [Request processing failed; nested exception is org.springframework.http.converter.HttpMessageNotReadableException: "
                f"JSON parse error: Cannot deserialize value of type `java.lang.Long` from String \"{C(card)}\": not a valid `java.lang.Long` value]\n"
                f"com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize value of type `java.lang.Long` from String \"{C(card)}\": not a valid `java.lang.Long` value\n"
                f" at [Source: (org.springframework.util.StreamUtils$NonClosingInputStream); line: 1, column: {r.randint(10, 90)}] (through reference chain: com.acme.pay.ChargeRequest[\"card\"]->com.acme.pay.Card[\"number\"])\n"
                f"\tat com.fasterxml.jackson.databind.exc.InvalidFormatException.from(InvalidFormatException.java:67)\n"
                f"\tat com.fasterxml.jackson.databind.DeserializationContext.weirdStringException(DeserializationContext.java:1991)\n")
    if v == 2:
        return (f"{n.logts(sep='.')} WARN  c.a.p.CardService - could not parse card\njava.lang.NumberFormatException: For input string: \"{C(p.chars())}\"\n"
                f"\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)\n"
                f"\tat java.base/java.lang.Integer.parseInt(Integer.java:662)\n\tat com.acme.pay.CardService.normalize(CardService.java:{r.randint(20, 300)})\n"
                f"\tat com.acme.pay.PaymentController.authorize(PaymentController.java:{r.randint(20, 300)})\n")
    if v == 3:
        return (f"ValidationError: \"card.number\" must be a credit card\n    at Object.exports.process (/srv/app/node_modules/joi/lib/errors.js:193:16)\n"
                f"    at Object.internals.entry (/srv/app/node_modules/joi/lib/validator.js:153:26) {{\n  _original: {{\n    card: {{ number: '{C(card)}', exp: '{n.exp()}' }},\n"
                f"    amount: {n.cents()}\n  }},\n  details: [ {{ message: '\"card.number\" must be a credit card', path: [Array], type: 'string.creditCard' }} ]\n}}\n")
    if v == 4:
        return (f"panic: strconv.ParseUint: parsing \"{C(card)}\": invalid syntax\n\ngoroutine {r.randint(10, 900)} [running]:\n"
                f"main.(*Handler).parseCard(0xc000{n.hex(6)}, {{0xc000{n.hex(6)}, 0x{len(card):x}}})\n\t/src/pay/card.go:{r.randint(20, 200)} +0x{n.hex(3)}\n"
                f"main.(*Handler).ServeHTTP(0xc000{n.hex(6)}, {{0x{n.hex(7)}, 0xc000{n.hex(6)}}}, 0xc000{n.hex(6)})\n\t/src/pay/handler.go:{r.randint(20, 200)} +0x{n.hex(3)}\n")
    return (f"System.FormatException: The input string '{C(card)}' was not in a correct format.\n   at System.Number.ThrowFormatException[TChar](ReadOnlySpan`1 value)\n"
            f"   at System.Int64.Parse(String s)\n   at Acme.Payments.CardParser.Parse(String raw) in /src/Acme.Payments/CardParser.cs:line {r.randint(10, 200)}\n"
            f"   at Acme.Payments.Api.ChargeController.Post(ChargeDto dto) in /src/Acme.Payments.Api/ChargeController.cs:line {r.randint(10, 200)}\n")


def f_python_repr(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    t = n.tick()
    dt = f"datetime.datetime({t.year}, {t.month}, {t.day}, {t.hour}, {t.minute}, {t.second}, {t.microsecond}, tzinfo=datetime.timezone.utc)"
    v = r.randrange(6)
    if v == 0:
        return (f"[{n.logts()}: INFO/MainProcess] Task payments.tasks.charge[{n.uuid()}] received\n"
                f"[{n.logts()}: DEBUG/ForkPoolWorker-{r.randint(1, 8)}] args=('cus_{n.b62(14)}', {{'card_number': '{C(card)}', "
                f"'amount': Decimal('{n.amount()}'), 'created': {dt}}}) kwargs={{}}\n")
    if v == 1:
        return (f"{n.logts()} DEBUG django.request POST /checkout/ data=<QueryDict: {{'csrfmiddlewaretoken': ['{n.b62(64)}'], "
                f"'cc_number': ['{C(card)}'], 'cc_exp': ['{n.exp()}'], 'amount': ['{n.amount()}']}}>\n")
    if v == 2:
        return f"{n.logts()} DEBUG urllib3.connectionpool sending body=b'{{\"pan\": \"{C(p.chars())}\", \"amount\": {n.cents()}}}' to https://api.psp.example:443\n"
    if v == 3:
        return (f"{n.logts()} INFO [{n.svc()}] built request CardInput(number='{C(card)}', exp_month={r.randint(1, 12)}, exp_year={r.randint(2025, 2031)}, "
                f"holder='{' '.join(n.name()).upper()}', captured_at={dt})\n")
    if v == 4:  # pydantic v2 validation error
        return (f"{n.logts()} WARNING [{n.svc()}] 1 validation error for ChargeRequest\ncard.number\n  Value error, card number failed issuer check "
                f"[type=value_error, input_value='{C(card)}', input_type=str]\n    For further information visit https://errors.pydantic.dev/2.7/v/value_error\n")
    if v == 5 and card.isdigit():
        return f"{n.logts()} DEBUG [{n.svc()}] parsed form: {{'pan': {C(card)}, 'exp': '{n.exp()}', 'amount': {n.amount()}, 'attempt': {r.randint(1, 3)}}}\n"
    return f"{n.logts()} DEBUG [{n.svc()}] state={{'step': 'collect_card', 'buffer': ['{C(card)}'], 'retries': 0}}\n"


def f_other_lang_dumps(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    v = r.randrange(7)
    if v == 0:
        return (f"Started POST \"/payments\" for {n.ip()} at {n.tick().strftime('%Y-%m-%d %H:%M:%S +0000')}\nProcessing by PaymentsController#create as HTML\n"
                f"  Parameters: {{\"authenticity_token\"=>\"[FILTERED]\", \"payment\"=>{{\"card_number\"=>\"{C(card)}\", \"exp\"=>\"{n.exp()}\", "
                f"\"amount\"=>\"{n.amount()}\"}}, \"commit\"=>\"Pay\"}}\nCompleted 422 Unprocessable Entity in {r.randint(5, 300)}ms\n")
    if v == 1:
        return (f"[info] POST /api/charges\n[debug] Processing with PayWeb.ChargeController.create/2\n  Parameters: %{{\"card\" => %{{\"exp\" => \"{n.exp()}\", "
                f"\"number\" => \"{C(card)}\"}}, \"amount\" => \"{n.amount()}\"}}\n  Pipelines: [:api]\n[info] Sent 402 in {r.randint(1, 90)}ms\n")
    if v == 2:
        return (f"Array\n(\n    [order_id] => {r.randint(1000, 99999)}\n    [card] => Array\n        (\n            [number] => {C(card)}\n"
                f"            [exp] => {n.exp()}\n            [cvv] => {n.cvv(p)}\n        )\n\n    [amount] => {n.amount()}\n)\n")
    if v == 3:
        return (f"array(3) {{\n  [\"order\"]=>\n  int({r.randint(1000, 99999)})\n  [\"pan\"]=>\n  string({len(card)}) \"{C(card)}\"\n"
                f"  [\"exp\"]=>\n  string(5) \"{n.exp()}\"\n}}\n")
    if v == 4:
        num = C(p.chars()) if p.chars().isdigit() else f"\"{C(card)}\""
        return (f"{n.tick().strftime('%Y/%m/%d %H:%M:%S')} charge.go:{r.randint(30, 300)}: request: &{{OrderID:{r.randint(1000, 99999)} Card:{{Number:{num} "
                f"ExpMonth:{r.randint(1, 12)} ExpYear:{r.randint(2025, 2031)} CVC:{n.cvv(p)}}} Amount:{n.cents()} Currency:usd Metadata:map[channel:ivr]}}\n")
    if v == 5:
        return (f"{n.logts(sep='.')} DEBUG [http-nio-8080-exec-{r.randint(1, 9)}] c.a.p.PaymentService - authorize ChargeRequest(orderId={n.order()}, "
                f"card=Card(number={C(card)}, expMonth={r.randint(1, 12)}, expYear={r.randint(2025, 2031)}, holder={' '.join(n.name())}), amount={n.amount()}, currency=EUR)\n")
    return (f"{n.logts(sep='.')} [DBG] Authorize called with ChargeDto {{ CardNumber = {C(card)}, Expiry = {n.exp()}, Amount = {n.amount()}, "
            f"CorrelationId = {n.uuid()} }}\n")


def f_sql_log(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    v = r.randrange(5)
    pid = r.randint(1000, 60000)
    if v == 0:
        return (f"{n.logts(sep='.')} UTC [{pid}] app@payments LOG:  execute <unnamed>: INSERT INTO card_attempts (order_id, pan, exp, amount_cents, created_at) "
                f"VALUES ($1, $2, $3, $4, now())\n{n.logts(sep='.')} UTC [{pid}] app@payments DETAIL:  parameters: $1 = '{r.randint(1000, 99999)}', "
                f"$2 = '{C(card)}', $3 = '{n.exp()}', $4 = '{n.cents()}'\n")
    if v == 1:
        return (f"{n.iso_us()}\t   {r.randint(10, 999)} Query\tUPDATE customers SET card_no='{C(card)}', card_exp='{n.exp()}' WHERE id={r.randint(1, 99999)}\n"
                f"{n.iso_us()}\t   {r.randint(10, 999)} Query\tCOMMIT\n")
    if v == 2:
        return (f"{n.logts()} INFO sqlalchemy.engine.Engine INSERT INTO payments (pan, exp, amount, status) VALUES (?, ?, ?, ?)\n"
                f"{n.logts()} INFO sqlalchemy.engine.Engine [generated in 0.000{r.randint(10, 99)}s] ('{C(card)}', '{n.exp()}', {n.amount()}, 'pending')\n")
    if v == 3:
        return (f"{n.logts(sep='.')} DEBUG org.hibernate.SQL - insert into card_token (pan, expiry, created) values (?, ?, ?)\n"
                f"{n.logts(sep='.')} TRACE o.h.type.descriptor.sql.BasicBinder - binding parameter [1] as [VARCHAR] - [{C(card)}]\n"
                f"{n.logts(sep='.')} TRACE o.h.type.descriptor.sql.BasicBinder - binding parameter [2] as [VARCHAR] - [{n.exp()}]\n")
    return (f"({r.uniform(0, 0.01):.3f}) SELECT \"payments_card\".\"id\", \"payments_card\".\"pan\" FROM \"payments_card\" WHERE \"payments_card\".\"pan\" = "
            f"'{C(card)}' LIMIT 21; args=('{C(card)}',); alias=default\n")


def f_csv_tsv(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(4)
    delim = {0: ",", 1: "\t", 2: ";", 3: ","}[v]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\r\n" if r.random() < 0.5 else "\n",
                   quoting=csv.QUOTE_ALL if r.random() < 0.3 else csv.QUOTE_MINIMAL)
    w.writerow(["transaction_id", "created_at", "customer_email", "card_number", "exp", "amount", "currency", "status"])
    k = r.randint(2, 6)
    tgt = r.randrange(k)
    for i in range(k):
        a = n.name()
        amt = n.amount().replace(".", ",") if v == 2 else n.amount()
        if i == tgt:
            card = p.fmt(r)
            cell = f'="{C(card)}"' if v == 3 else (("'" + C(card)) if r.random() < 0.2 else C(card))
        else:
            cell = n.masked()
        w.writerow([f"txn_{n.b62(12)}", n.iso(ms=False), n.email(*a), cell, n.exp(), amt, "EUR" if v == 2 else "USD",
                    r.choice(["succeeded", "failed", "refunded"])])
    return buf.getvalue()


def f_yaml_doc(r: random.Random, n: Noise, p: Payload) -> str:
    v = r.randrange(4)
    if v == 0:
        card = p.fmt(r)
        val = C(card) if card.isdigit() else f"\"{C(card)}\""
        return (f"# fixtures/payments.yml\n- model: payments.card\n  pk: {r.randint(1, 999)}\n  fields:\n    holder: {' '.join(n.name())}\n"
                f"    number: {val}\n    exp: \"{n.exp()}\"\n    created: {n.iso(ms=False)}\n")
    if v == 1:
        return (f"paths:\n  /v1/charges:\n    post:\n      summary: Create a charge\n      requestBody:\n        content:\n          application/json:\n"
                f"            example:\n              amount: {n.cents()}\n              card:\n                number: '{C(p.fmt(r))}'\n"
                f"                exp_month: {r.randint(1, 12)}\n                exp_year: {r.randint(2025, 2031)}\n")
    if v == 2:  # folded block scalar with the number across lines
        gs = p.groups
        cut = r.randint(1, len(gs) - 1)
        return (f"call_notes:\n  id: {n.uuid()}\n  agent: {n.name()[0].lower()}\n  text: >-\n    caller read the card as\n"
                f"    {C(' '.join(gs[:cut]))}\n    {C(' '.join(gs[cut:]))}\n    and expiry {n.exp()}\n  recorded_at: {n.iso()}\n")
    flow = ", ".join(C(g) for g in p.groups)
    return f"test_card:\n  parts: [{flow}]\n  exp: {n.exp()}\n  amount: {n.amount()}\n  merchant: {n.pick(MERCHANTS)!r}\n"


def f_kv_logfmt(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    q = f"\"{C(card)}\"" if " " in card else C(card)
    v = r.randrange(4)
    if v == 0:
        return (f"time=\"{n.iso(ms=False)}\" level=info msg=\"charge attempt\" card={q} amount={n.amount()} currency=usd "
                f"merchant=mrc_{n.hex(8)} request_id={n.uuid()} latency_ms={r.randint(3, 800)}\n")
    if v == 1:
        return f"{n.logts()} [info     ] charge_attempt                 pan='{C(card)}' order={n.order()!r} attempt={r.randint(1, 3)} duration={r.uniform(0, 2):.4f}\n"
    if v == 2:
        return (f"at=info method=POST path=\"/pay?x={r.randint(1, 9)}\" host=shop.example.com request_id={n.uuid()} fwd=\"{n.ip()}\" dyno=web.{r.randint(1, 4)} "
                f"connect=0ms service={r.randint(5, 900)}ms status=200 bytes={r.randint(100, 9000)}\nsource=app dyno=web.1 card_number={q} exp={n.exp()}\n")
    return f"{n.iso()} {n.svc()} event=ivr.dtmf.collected session={n.uuid()} field=card value={q} digits={len(p.chars())} ok=true\n"


def f_syslog_journald(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    msg = f"DTMF capture complete session={n.hex(16)} card={C(card)} exp={n.exp()}"
    app, host, pid = n.svc(), n.host(), r.randint(100, 65000)
    v = r.randrange(4)
    if v == 0:
        return f"<{r.choice([134, 142, 14, 30])}>{n.syslog_ts()} {host} {app}[{pid}]: {msg}\n<134>{n.syslog_ts()} {host} {app}[{pid}]: session closed\n"
    if v == 1:
        return (f"<{r.choice([134, 165])}>1 {n.iso()} {host} {app} {pid} ID{r.randint(1, 99)} [meta@32473 requestId=\"{n.uuid()}\" "
                f"tenant=\"{r.randint(100, 999)}\"] {msg}\n")
    if v == 2:
        return (f"{n.syslog_ts()} {host} systemd[1]: Started {app}.service.\n{n.syslog_ts()} {host} {app}[{pid}]: {msg}\n"
                f"{n.syslog_ts()} {host} {app}[{pid}]: upstream responded 402\n")
    rt = n.epoch_us()
    return jfit({"__CURSOR": f"s={n.hex(32)};i={r.randint(1, 99999):x};b={n.hex(32)};m={r.randint(1, 10**8):x};t={rt:x};x={n.hex(16)}",
                 "__REALTIME_TIMESTAMP": str(rt), "__MONOTONIC_TIMESTAMP": str(r.randint(10**9, 10**12)), "_BOOT_ID": n.hex(32),
                 "PRIORITY": "6", "SYSLOG_FACILITY": "3", "SYSLOG_IDENTIFIER": app, "_PID": str(pid), "_HOSTNAME": host,
                 "_SYSTEMD_UNIT": f"{app}.service", "MESSAGE": msg,
                 "_SOURCE_REALTIME_TIMESTAMP": str(rt - r.randint(5, 900))}, r)


def f_access_log(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    enc = r.choice([quote(card, safe=""), quote_plus(card), card.replace(" ", "%20")])
    path = f"/checkout/confirm?order={r.randint(10000, 99999)}&cc={C(enc)}&exp={quote(n.exp(), safe='')}&amt={n.amount()}"
    ua = n.ua()
    v = r.randrange(5)
    if v == 0:
        return (f"{n.ip()} - - [{n.clf()}] \"GET {path} HTTP/1.1\" 302 0 \"https://shop.example.com/pay?step=2\" \"{ua}\" "
                f"rt={r.uniform(0, 1):.3f} uct=\"0.001\" uht=\"{r.uniform(0, 1):.3f}\"\n")
    if v == 1:
        return f"{n.ip()} - - [{n.clf()}] \"GET /favicon.ico HTTP/1.1\" 404 196\n{n.ip()} - - [{n.clf()}] \"GET {path} HTTP/1.1\" 200 5120\n"
    if v == 2:  # ALB
        return (f"https {n.iso_us()} app/pay-alb/{n.hex(16)} {n.ip()}:{r.randint(1024, 65535)} 10.0.{r.randint(0, 255)}.{r.randint(1, 254)}:8080 "
                f"0.000 {r.uniform(0, 1):.3f} 0.000 200 200 {r.randint(100, 999)} {r.randint(100, 9999)} \"GET https://pay.example.com:443{path} HTTP/1.1\" "
                f"\"{ua}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:{'1' + _digits(r, 11)}:targetgroup/pay/{n.hex(16)} "
                f"\"Root=1-{n.hex(8)}-{n.hex(24)}\" \"pay.example.com\"\n")
    if v == 3:  # CloudFront (tab separated)
        t = n.tick()
        q = path.split("?", 1)[1]
        return ("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query\n"
                + "\t".join([t.strftime("%Y-%m-%d"), t.strftime("%H:%M:%S"), "FRA56-C1", str(r.randint(200, 9000)), n.ip(), "GET",
                             f"d{n.hex(12)}.cloudfront.net", "/checkout/confirm", "200", "-", quote(ua, safe=""), q]) + "\n")
    t = n.tick()
    q = path.split("?", 1)[1]
    return ("#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs(User-Agent) sc-status time-taken\n"
            f"{t.strftime('%Y-%m-%d %H:%M:%S')} 10.0.0.{r.randint(2, 250)} GET /checkout/confirm {q} 443 {n.ip()} {ua.replace(' ', '+')} 200 {r.randint(1, 900)}\n")


def f_http_dump(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    body = jd({"amount": n.cents(), "currency": "usd", "card": {"number": C(card), "exp": n.exp()}}, compact=True)
    v = r.randrange(3)
    if v == 0:  # curl --trace-ascii: 64 bytes per line with hex offsets
        raw = unmark(body)
        lines, _pos, off = [], 0, 0
        # re-walk the marked body so that marks are preserved per chunk
        toks = list(body)
        chunk, cnt, inside = "", 0, False
        for t in toks:
            if t in (M0, M1):
                inside = t == M0
                chunk += t
                continue
            chunk += t
            cnt += 1
            if cnt == 64:
                if inside:
                    chunk += M1
                lines.append(f"{off:04x}: {chunk}")
                off += 64
                chunk, cnt = (M0 if inside else ""), 0
        if cnt or chunk:
            lines.append(f"{off:04x}: {chunk}")
        return (f"== Info: Connected to api.psp.example (203.0.113.{r.randint(1, 254)}) port 443\n=> Send header, {r.randint(120, 200)} bytes\n"
                f"0000: POST /v1/charges HTTP/2\n001a: Host: api.psp.example\n0031: user-agent: curl/8.4.0\n0049: content-type: application/json\n"
                f"=> Send data, {len(raw)} bytes (0x{len(raw):x})\n" + "\n".join(lines) + "\n== Info: We are completely uploaded and fine\n")
    if v == 1:
        return (f"POST /api/payments HTTP/1.1\r\nHost: pay.example.com\r\nUser-Agent: {n.ua()}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {vlen(body)}\r\nX-Request-Id: {n.uuid()}\r\nX-Card-Number: {C(card)}\r\n"
                f"Cookie: _ga=GA1.2.{r.randint(10**8, 10**9)}.{n.epoch()}; session={n.b62(32)}\r\n\r\n{body}\r\n")
    return (f"{n.logts()} DEBUG [{n.svc()}] outgoing headers: {{'Host': 'api.psp.example', 'Content-Type': 'application/json', "
            f"'Authorization': 'Basic {base64.b64encode(('pk_' + n.b62(20)).encode()).decode()}', 'X-Last-Card': '{C(card)}', "
            f"'Idempotency-Key': '{n.uuid()}'}}\n")


# ---------------------------------------------------------------------------------------
# Mail, dumps, telephony, chat tools, analytics


def f_email_text(r: random.Random, n: Noise, p: Payload) -> str:
    a, ag = n.name(), n.name()
    gs = p.groups
    v = r.randrange(3)
    exp = n.exp()
    hdr = (f"Message-ID: <CA+{n.b62(20)}={n.b62(12)}@mail.gmail.com>\nDate: {n.tick().strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
           f"From: {a[0]} {a[1]} <{n.email(*a)}>\nTo: support@{n.pick(['kite-telecom.example', 'atlas-hotels.example'])}\n"
           f"Subject: Re: [Case {r.randint(10**6, 10**7)}] Update payment method\nMIME-Version: 1.0\n")
    if v == 0:  # number split over two quoted lines
        cut = r.randint(1, len(gs) - 1)
        return (hdr + f"Content-Type: text/plain; charset=\"UTF-8\"\n\nDone, thanks!\n\nOn {n.tick().strftime('%a, %b %d, %Y at %I:%M %p')} {ag[0]} wrote:\n"
                f"> Hi {a[0]}, to update the card please reply with\n> the number. Customer reply below:\n>> my new card is {C(' '.join(gs[:cut]))}\n"
                f">> {C(' '.join(gs[cut:]))} exp {exp}\n>\n> Best, {ag[0]}\n")
    if v == 1:  # signature block noise plus card on its own line
        return (hdr + f"Content-Type: text/plain; charset=\"UTF-8\"\n\nHello,\n\nNew card below.\n\n    {C(p.fmt(r))}\n    {exp}\n\n{a[0]} {a[1]}\n"
                f"Mobile: {n.phone()}\nRef: {n.order()}\n")
    html_part = f"<div dir=\"ltr\">New card: {C(p.j('&nbsp;'))}<br>exp {exp}</div>"
    b = "000000000000" + n.hex(16)
    return (hdr + f"Content-Type: multipart/alternative; boundary=\"{b}\"\n\n--{b}\nContent-Type: text/plain; charset=\"UTF-8\"\n\n"
            f"New card: {C(p.j(' '))}\nexp {exp}\n\n--{b}\nContent-Type: text/html; charset=\"UTF-8\"\n\n{html_part}\n\n--{b}--\n")


def _hexdump(marked: str, style: str, r: random.Random) -> str:
    data: list[int] = []
    flags: list[bool] = []
    inside = False
    for ch in marked:
        if ch in (M0, M1):
            inside = ch == M0
            continue
        for b in ch.encode():
            data.append(b)
            flags.append(inside)
    lines = []
    base = r.choice([0, 0, 0x40, 0x1a0])
    for off in range(0, len(data), 16):
        chunk, fl = data[off:off + 16], flags[off:off + 16]
        asc = ""
        prev = False
        for b, f in zip(chunk, fl, strict=False):
            if f and not prev:
                asc += M0
            if not f and prev:
                asc += M1
            asc += chr(b) if 32 <= b < 127 else "."
            prev = f
        if prev:
            asc += M1
        if style == "hexdump":
            hx = " ".join(f"{b:02x}" for b in chunk[:8]) + "  " + " ".join(f"{b:02x}" for b in chunk[8:])
            lines.append(f"{off + base:08x}  {hx:<48}  |{asc}|")
        elif style == "xxd":
            hx = " ".join("".join(f"{b:02x}" for b in chunk[i:i + 2]) for i in range(0, len(chunk), 2))
            lines.append(f"{off + base:08x}: {hx:<39}  {asc}")
        else:  # tcpdump -X
            hx = " ".join("".join(f"{b:02x}" for b in chunk[i:i + 2]) for i in range(0, len(chunk), 2))
            lines.append(f"\t0x{off + base:04x}:  {hx:<39}  {asc}")
    return "\n".join(lines)


def f_hexdump(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    payload = r.choice([
        f"POST /v1/auth HTTP/1.1\r\nHost: psp\r\nContent-Type: application/json\r\n\r\n{{\"pan\":\"{C(card)}\",\"exp\":\"{n.exp()}\"}}",
        f"pan={C(card)}&exp={n.exp().replace('/', '')}&amt={n.cents()}",
        f"0200{n.hex(16).upper()}{len(p.chars()):02d}{C(p.chars())}000000{n.cents():012d}",
    ])
    style = r.choice(["hexdump", "xxd", "tcpdump"])
    head = {"hexdump": f"{n.logts()} DEBUG [{n.svc()}] wire dump ({vlen(payload)} bytes):\n",
            "xxd": f"$ xxd /var/spool/{n.svc()}/failed/{n.uuid()}.bin\n",
            "tcpdump": f"{n.tick().strftime('%H:%M:%S.%f')} IP 10.0.1.{r.randint(2, 250)}.{r.randint(30000, 60000)} > 10.0.2.{r.randint(2, 250)}.8080: "
                       f"Flags [P.], seq {r.randint(1, 10**6)}:{r.randint(10**6, 2 * 10**6)}, ack 1, win 502, length {vlen(payload)}\n"}[style]
    return head + _hexdump(payload, style, r) + "\n"


def f_track_iso8583(r: random.Random, n: Noise, p: Payload) -> str:
    d = p.chars()
    exp = f"{r.randint(25, 31)}{r.randint(1, 12):02d}"
    a = n.name()
    v = r.randrange(4)
    if v == 0:
        return (f"{n.logts()} DEBUG [iso-switch] >> MTI=0100\n  DE002 PAN ............ [{C(d)}]\n  DE003 PROC CODE ...... [000000]\n"
                f"  DE004 AMOUNT ......... [{n.cents():012d}]\n  DE007 TRANSMIT DT .... [{n.tick().strftime('%m%d%H%M%S')}]\n"
                f"  DE011 STAN ........... [{r.randint(0, 999999):06d}]\n  DE014 EXPIRY ......... [{exp}]\n  DE022 POS ENTRY ...... [012]\n"
                f"  DE041 TERMINAL ID .... [TRM{r.randint(10000, 99999)}]\n  DE049 CURRENCY ....... [840]\n")
    if v == 1:  # raw ASCII ISO 8583 message: LLVAR length glued to the PAN
        raw = f"0200{n.hex(16).upper()}{len(d):02d}{C(d)}000000{n.cents():012d}{n.tick().strftime('%m%d%H%M%S')}{r.randint(0, 999999):06d}{exp}"
        return f"{n.logts()} TRACE [iso-switch] raw out: {raw}\n{n.logts()} TRACE [iso-switch] raw in: 0210{n.hex(16).upper()}00\n"
    if v == 2:  # Track 2 equivalent data
        t2 = f";{C(d)}={exp}{r.choice(['101', '201', '121'])}{_digits(r, 12)}?"
        return (f"{n.logts()} DEBUG [pos-gw] card read mode=swipe track2={t2} terminal=TRM{r.randint(10000, 99999)}\n"
                f"{n.logts()} DEBUG [pos-gw] DE035 (track 2 equivalent): {C(d)}D{exp}{_digits(r, 8)}\n")
    return (f"{n.logts()} WARN [pos-gw] track1 parse error: %B{C(d)}^{a[1].upper()}/{a[0].upper()}^{exp}101{_digits(r, 12)}?  "
            f"lrc mismatch, retry swipe (reader SN {r.randint(10**7, 10**8)})\n")


def f_dtmf_events(r: random.Random, n: Noise, p: Payload) -> str:
    digits = [ch for ch in p.chars() if ch.isdigit()]
    v = r.randrange(3)
    if v == 0:  # Twilio media stream messages
        sid = "MZ" + n.hex(32)
        lines, seq = [], r.randint(2, 40)
        for ch in digits:
            lines.append(jd({"event": "dtmf", "streamSid": sid, "sequenceNumber": str(seq), "dtmf": {"track": "inbound_track", "digit": C(ch)}}, compact=True))
            seq += r.randint(1, 30)
        lines.append(jd({"event": "dtmf", "streamSid": sid, "sequenceNumber": str(seq), "dtmf": {"track": "inbound_track", "digit": "#"}}, compact=True))
        return "\n".join(lines) + "\n"
    if v == 1:  # FreeSWITCH debug log
        uid = n.uuid()
        return "".join(f"{n.logts(sep='.')}{r.randint(100, 999)} [DEBUG] switch_rtp.c:{r.choice([7823, 7831])} RFC2833 RECV DTMF {C(ch)}:{r.choice([800, 960, 1280, 1600])}\n"
                       for ch in digits) + f"{n.logts(sep='.')}000 [INFO] {uid} collected {len(digits)} digits\n"
    uid = f"{n.epoch()}.{r.randint(1, 999)}"
    return "".join(f"Event: DTMFEnd\r\nChannel: PJSIP/trunk-{r.randint(0, 255):08x}\r\nUniqueid: {uid}\r\nDigit: {C(ch)}\r\nDurationMs: {r.choice([80, 120, 160])}\r\nDirection: Received\r\n\r\n"
                   for ch in digits)


def f_chat_markdown(r: random.Random, n: Noise, p: Payload) -> str:
    card = p.fmt(r)
    v = r.randrange(4)
    if v == 0:  # Slack export: text plus rich_text blocks where style splits the number
        gs = p.groups
        cut = r.randint(1, len(gs) - 1)
        els = [{"type": "text", "text": "customer card is "}, {"type": "text", "text": C(" ".join(gs[:cut]) + " "), "style": {"code": True}},
               {"type": "text", "text": C(" ".join(gs[cut:])), "style": {"bold": True}}]
        return jfit([{"type": "message", "user": "U0" + n.b62(9).upper(), "text": f"customer card is `{C(' '.join(gs[:cut]))} `*{C(' '.join(gs[cut:]))}*",
                      "ts": f"{n.epoch()}.{r.randint(100000, 999999)}", "blocks": [{"type": "rich_text", "block_id": n.b62(5),
                                                                                   "elements": [{"type": "rich_text_section", "elements": els}]}]}], r)
    if v == 1:
        return (f"h3. Incident PAY-{r.randint(100, 9999)}\n\nCustomer reports double charge. Card used:\n{{noformat}}\n{C(card)}\n{{noformat}}\n"
                f"Amount {n.amount()} on {n.tick().date()}. Assigning to [~{n.name()[0].lower()}].\n")
    if v == 2:
        return (f"### Repro steps\n\n1. Go to `/checkout`\n2. Enter card `{C(card)}` exp `{n.exp()}`\n3. Click **Pay {n.amount()}**\n\n"
                f"Expected: success. Actual: `HTTP 502` (request id `{n.uuid()}`)\n")
    gs = p.groups
    bold = " ".join(f"*{C(g)}*" for g in gs) if r.random() < 0.5 else " ".join(f"**{C(g)}**" for g in gs)
    return f"**{n.name()[0]}** — {n.hms()}\n> card: {bold}\n> exp {n.exp()}\n\n_{n.name()[0]}_ — {n.hms()}\nthanks, trying now\n"


def f_session_replay_input(r: random.Random, n: Noise, p: Payload) -> str:
    gs = p.groups
    snaps = [" ".join(gs[:i]) for i in range(1, len(gs) + 1)]
    v = r.randrange(3)
    t = n.epoch_ms()
    if v == 0:  # rrweb incremental snapshots (source 5 = Input)
        nid = r.randint(20, 400)
        ev = []
        for s in snaps:
            t += r.randint(300, 2500)
            ev.append({"type": 3, "data": {"source": 5, "text": C(s), "isChecked": False, "id": nid}, "timestamp": t})
        ev.append({"type": 3, "data": {"source": 2, "type": 6, "id": nid}, "timestamp": t + 40})
        return jfit({"sessionId": n.uuid(), "events": ev}, r)
    if v == 1:  # product analytics track call with the field value
        return jfit({"type": "track", "event": "Checkout Field Completed", "userId": f"u_{r.randint(10000, 99999)}",
                     "properties": {"field": "card_number", "value": C(p.fmt(r)), "form": "checkout_v3", "valid": True},
                     "context": {"page": {"path": "/checkout"}, "userAgent": n.ua()}, "messageId": n.uuid(), "timestamp": n.iso()}, r)
    return "\n".join(f"{n.iso()} keystroke-logger field=#card-number value=\"{C(s)}\" len={len(s)}" for s in snaps) + "\n"


def f_angle_bracket_reprs(r: random.Random, n: Noise, p: Payload) -> str:
    """Object reprs and expressions that put the number between ``<`` and ``>`` without being HTML."""
    card = p.fmt(r)
    v = r.randrange(6)
    if v == 0:  # Ruby ActiveRecord #inspect
        return (f"{n.logts()} DEBUG -- : saving #<Payment id: {r.randint(1, 99999)}, order_id: {r.randint(1000, 99999)}, card_number: \"{C(card)}\", "
                f"exp: \"{n.exp()}\", amount_cents: {n.cents()}, created_at: \"{n.tick().strftime('%Y-%m-%d %H:%M:%S.%f')}000 +0000\">\n")
    if v == 1:  # Werkzeug / Flask request repr
        return (f"{n.logts()} ERROR in app: Exception on /pay [GET]\nrequest=<Request 'https://shop.example.com/pay?order={r.randint(1000, 99999)}&cc={C(quote_plus(card))}"
                f"&exp={quote(n.exp(), safe='')}' [GET]>\nTraceback (most recent call last):\n  File \"/app/views.py\", line {r.randint(10, 300)}, in pay\n"
                f"    raise DeclinedError(resp.json())\nviews.DeclinedError: {{'code': 'card_declined'}}\n")
    if v == 2:  # Elixir Ecto changeset
        return (f"[warning] invalid payment: #Ecto.Changeset<action: :insert, changes: %{{card_number: \"{C(card)}\", exp: \"{n.exp()}\", "
                f"amount: {n.cents()}}}, errors: [exp: {{\"is expired\", [validation: :expiry]}}], data: #PayApp.Payments.Card<>, valid?: false>\n")
    if v == 3:  # SQLAlchemy model with a custom __repr__
        return (f"{n.logts()} INFO [{n.svc()}] created <CardAttempt(id={r.randint(1, 99999)}, pan='{C(card)}', exp='{n.exp()}', "
                f"status='pending', created={n.iso(ms=False)!r})>\n")
    if v == 4:  # SQL comparisons without spaces around < and >
        return (f"{n.logts(sep='.')} UTC [{r.randint(1000, 60000)}] app@payments LOG:  duration: {r.uniform(0, 40):.3f} ms  statement: "
                f"SELECT id FROM attempts a WHERE a.amount<a.limit_cents AND a.pan='{C(card)}' AND a.created_at>now()-interval '1 day'\n")
    return (f"{n.logts()} DEBUG [{n.svc()}] form state <MultiValueDict: {{'cc_number': ['{C(card)}'], 'cc_exp': ['{n.exp()}'], "
            f"'amount': ['{n.amount()}']}}>\n")


# ---------------------------------------------------------------------------------------
# Registry

FAMILIES: dict[str, Fam] = {
    "sep_ascii_ws": f_sep_ascii_ws,
    "sep_unicode_space": f_sep_unicode_space,
    "sep_html_entity": f_sep_html_entity,
    "sep_mixed": f_sep_mixed,
    "text_table": f_text_table,
    "wrapped_lines": f_wrapped_lines,
    "transcript_words_group": f_transcript_words_group,
    "transcript_words_digit": f_transcript_words_digit,
    "transcript_segments": f_transcript_segments,
    "transcript_spoken": f_transcript_spoken,
    "transcript_messages": f_transcript_messages,
    "transcript_events_jsonl": f_transcript_events_jsonl,
    "transcript_alternatives": f_transcript_alternatives,
    "bot_slots": f_bot_slots,
    "json_split_fields": f_json_split_fields,
    "form_split_fields": f_form_split_fields,
    "html_split_inputs": f_html_split_inputs,
    "xml_split": f_xml_split,
    "html_markup_inside": f_html_markup_inside,
    "html_digit_entities": f_html_digit_entities,
    "url_encoded": f_url_encoded,
    "unicode_digits": f_unicode_digits,
    "json_double_encoded": f_json_double_encoded,
    "json_in_log": f_json_in_log,
    "stack_trace": f_stack_trace,
    "python_repr": f_python_repr,
    "other_lang_dumps": f_other_lang_dumps,
    "sql_log": f_sql_log,
    "csv_tsv": f_csv_tsv,
    "yaml_doc": f_yaml_doc,
    "kv_logfmt": f_kv_logfmt,
    "syslog_journald": f_syslog_journald,
    "access_log": f_access_log,
    "http_dump": f_http_dump,
    "email_text": f_email_text,
    "hexdump": f_hexdump,
    "track_iso8583": f_track_iso8583,
    "dtmf_events": f_dtmf_events,
    "chat_markdown": f_chat_markdown,
    "session_replay_input": f_session_replay_input,
    "angle_bracket_reprs": f_angle_bracket_reprs,
}


# ---------------------------------------------------------------------------------------
# Control hygiene: no 12-19 digit run of a control may pass Luhn

_SEP = r"(?:[ \t\-./:_,\u00a0\u202f\u2009\u2007\u2002\u2003\u200a\u200b\u2060\u3000]|\r?\n|=\r?\n)"
_TOKENS = re.compile(rf"\d+(?:{_SEP}{{1,3}}\d+)*")


def _views(text: str) -> list[str]:
    v = [text, html.unescape(text)]
    with contextlib.suppress(Exception):
        v.append(unquote(unquote(text)))
    v.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    v.append(re.sub(r"<[^>]*>", "", html.unescape(text)))
    return v


def control_clean(text: str) -> bool:
    for view in _views(text):
        for m in _TOKENS.finditer(view):
            toks = re.findall(r"\d+", m.group())
            for i in range(len(toks)):
                total = ""
                for j in range(i, min(len(toks), i + 5)):
                    total += toks[j]
                    if len(total) > 19:
                        break
                    if len(total) >= 12 and luhn_ok(total):
                        return False
            for t in toks:  # long bare runs: every 12-19 window aligned to the run start/end
                if len(t) > 19:
                    for L in range(12, 20):
                        if luhn_ok(t[:L]) and t[:L][0] in "3456":
                            return False
        # digits separated one by one (DTMF, per-digit words): check the whole sequence
        solo = re.findall(r"(?<![\d])\d(?![\d])", view)
        if 12 <= len(solo) <= 19 and luhn_ok("".join(solo)):
            return False
    return True


def _has_needed(text: str, a: int, b: int) -> bool:
    seg = text[a:b]
    return any(ch.isdecimal() for ch in seg) or any(w.lower() in NUMBER_WORDS for w in _WORD.findall(seg))


_WORD = re.compile(r"[^\W\d_]+")


def _make(seed: int, fam: str, fn: Fam, i: int, card: bool) -> Sample:
    for attempt in range(600):
        r = random.Random(f"{seed}:{fam}:{i}:{'card' if card else 'decoy'}:{attempt}")
        n = Noise(r)
        p = make_card(r) if card else make_decoy(r)
        text, spans = _finalize(fn(r, n, p))
        if not (100 <= len(text) <= 3000):
            continue
        if card:
            spans = [s for s in spans if _has_needed(text, *s)]
            if not spans:
                raise AssertionError(f"{fam}: card sample without spans")
            return Sample(text, fam, p.brand, spans, p.digits)
        if control_clean(text):
            return Sample(text, fam, f"decoy:{fam}", [], "")
    raise RuntimeError(f"{fam}: could not draw a valid {'card' if card else 'control'} sample")


def corpus(seed: int, per_family: int) -> list[Sample]:
    """``per_family`` card samples and ``per_family`` card-free controls for every family."""
    out: list[Sample] = []
    for fam, fn in FAMILIES.items():
        out += [_make(seed, fam, fn, i, True) for i in range(per_family)]
        out += [_make(seed, fam, fn, i, False) for i in range(per_family)]
    return out


# ---------------------------------------------------------------------------------------
# Evaluation (black box)


def needed_positions(s: Sample) -> list[int]:
    """Every decimal digit and every number word ("four", "double", "cinco") inside the spans."""
    pos: set[int] = set()
    for a, b in s.pans:
        seg = s.text[a:b]
        pos.update(a + i for i, ch in enumerate(seg) if ch.isdecimal())
        for m in _WORD.finditer(seg):
            if m.group().lower() in NUMBER_WORDS:
                pos.update(range(a + m.start(), a + m.end()))
    return sorted(pos)


def _covered(findings: list[Any], kinds: tuple[str, ...] | None = None) -> list[tuple[int, int]]:
    return sorted((f.start, f.end) for f in findings if kinds is None or f.kind in kinds)


def _uncovered(pos: list[int], iv: list[tuple[int, int]]) -> list[int]:
    return [i for i in pos if not any(a <= i < b for a, b in iv)]


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


def render(text: str, marks: set[int], lo: int, hi: int, o: str = "⟦", c: str = "⟧") -> str:
    out = []
    inside = False
    for i in range(lo, hi):
        m = i in marks
        if m and not inside:
            out.append(o)
        if not m and inside:
            out.append(c)
        inside = m
        out.append(_vis(text[i]))
    if inside:
        out.append(c)
    return ("…" if lo > 0 else "") + "".join(out) + ("…" if hi < len(text) else "")


def _excerpt(text: str, marks: set[int], width: int = 160) -> str:
    if not marks:
        return render(text, marks, 0, min(len(text), 2 * width))
    lo, hi = min(marks), max(marks) + 1
    if hi - lo <= 3 * width:
        return render(text, marks, max(0, lo - width), min(len(text), hi + width))
    return (render(text, marks, max(0, lo - width), min(len(text), lo + width)) + "\n      [...]\n      "
            + render(text, marks, max(0, hi - width), min(len(text), hi + width)))


def _indent(s: str, pad: str = "      ") -> str:
    return pad + s.replace("\n", "\n" + pad)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-family", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--examples", type=int, default=2)
    ap.add_argument("--family", action="append", default=None, help="only these families (repeatable)")
    args = ap.parse_args(argv)

    here = Path(__file__).resolve().parent
    root = here.parent
    sys.path[:] = [x for x in sys.path if Path(x or os.getcwd()).resolve() != here]
    sys.path.insert(0, str(root))
    import redaction

    samples = corpus(args.seed, args.per_family)
    if args.family:
        samples = [s for s in samples if s.fmt in set(args.family)]
    stats: dict[str, dict[str, Any]] = {}
    for s in samples:
        st = stats.setdefault(s.fmt, {"n": 0, "ok": 0, "ok_pan": 0, "miss": [], "cn": 0, "fp": 0, "fps": [], "chars": 0})
        findings = list(redaction.scan(s.text))
        if s.pans:
            pos = needed_positions(s)
            un = _uncovered(pos, _covered(findings))
            un_pan = _uncovered(pos, _covered(findings, ("pan",)))
            st["n"] += 1
            st["chars"] += len(s.text)
            st["ok"] += not un
            st["ok_pan"] += not un_pan
            if un:
                st["miss"].append((s, un, len(un) / max(1, len(pos))))
        else:
            st["cn"] += 1
            pans = [f for f in findings if f.kind == "pan"]
            if pans:
                st["fp"] += 1
                joined = "".join(ch for f in sorted(pans, key=lambda f: f.start) for ch in s.text[f.start:f.end] if ch.isdecimal())
                lv = bool(joined) and luhn_ok(joined)
                st["fp_luhn"] = st.get("fp_luhn", 0) + lv
                st["fps"].append((s, pans, lv, len(joined)))

    fams = sorted(stats, key=lambda f: (stats[f]["ok"] / max(1, stats[f]["n"]), f))
    tot_n = sum(v["n"] for v in stats.values())
    tot_ok = sum(v["ok"] for v in stats.values())
    print(f"Red-team text corpus: seed={args.seed} per_family={args.per_family} families={len(stats)} card samples={tot_n}")
    print(f"Overall recall {tot_ok}/{tot_n} = {tot_ok / max(1, tot_n):.1%}\n")
    print(f"{'family':<26}{'n':>5}{'recall':>9}{'pan-only':>10}{'miss-digits':>13}{'avg len':>9}")
    for f in fams:
        v = stats[f]
        md = sum(x[2] for x in v["miss"]) / max(1, v["n"])
        print(f"{f:<26}{v['n']:>5}{v['ok'] / max(1, v['n']):>9.1%}{v['ok_pan'] / max(1, v['n']):>10.1%}{md:>13.1%}{v['chars'] // max(1, v['n']):>9}")
    print("\n  recall: every card digit / number word in every span covered by some finding;"
          "\n  pan-only: same, counting only kind='pan' findings; miss-digits: mean share of card characters left uncovered.\n")

    print("Controls (card-free look-alikes): share with a 'pan' finding")
    print(f"{'family':<26}{'n':>5}{'pan FP':>9}{'of which Luhn-valid':>21}")
    for f in sorted(stats, key=lambda f: (-stats[f]["fp"] / max(1, stats[f]["cn"]), f)):
        v = stats[f]
        lv = f"{v.get('fp_luhn', 0)}/{v['fp']}" if v["fp"] else "-"
        print(f"{f:<26}{v['cn']:>5}{v['fp'] / max(1, v['cn']):>9.1%}{lv:>21}")
    tot_c = sum(v["cn"] for v in stats.values())
    print(f"{'ALL':<26}{tot_c:>5}{sum(v['fp'] for v in stats.values()) / max(1, tot_c):>9.1%}")
    print("  Luhn-valid: the digits of the sample's pan findings, joined in order, pass Luhn (the detector assembled a"
          "\n  Luhn-valid number out of look-alike pieces or noise); otherwise it flagged a Luhn-failing stretch.\n")

    if args.examples > 0:
        print("=" * 100)
        print("Missed examples (uncovered card characters in ⟦ ⟧; invisible characters shown as \\uXXXX, ↵ ␍ ⇥)")
        for f in fams:
            v = stats[f]
            if not v["miss"]:
                continue
            print(f"\n--- {f}: {len(v['miss'])}/{v['n']} missed")
            for s, un, _ in v["miss"][: args.examples]:
                print(f"  [{s.brand} {s.digits}] {len(un)} char(s) uncovered")
                print(_indent(_excerpt(s.text, set(un))))
        print("\n" + "=" * 100)
        print("Control false positives (pan finding in ⟪ ⟫)")
        for f in sorted(stats):
            v = stats[f]
            for s, pans, lv, nd in v["fps"][: args.examples]:
                marks = {i for x in pans for i in range(x.start, x.end)}
                print(f"\n--- {f} [{s.brand}] pan findings hold {nd} digit(s), joined Luhn-{'valid' if lv else 'failing'}")
                print(_indent(_excerpt(s.text, marks).replace("⟦", "⟪").replace("⟧", "⟫")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
