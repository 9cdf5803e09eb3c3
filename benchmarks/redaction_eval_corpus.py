"""Independent EVALUATION corpus for the card-data detector (issue 10, point 5: two corpora, kept apart).

Written from the list of real-world behaviours below, without reading the detector or its tests. Never tune the
detector on this corpus: tune on ``benchmarks/redaction_corpus.py`` (development) and report both. Card numbers
are Stripe's public test numbers or synthetic (issuer prefix + random digits + Luhn check digit).

Same output interface as the development corpus: ``corpus(seed, per_cell) -> list[Sample]``; ``fmt`` names a
format class of this module, ``brand`` a brand / length bucket (``stripe_<name>`` for Stripe test numbers) or
``decoy:<class>`` for look-alikes that carry no card number.

Behaviours modelled
===================

Speech recognisers (how a spoken card number reaches a transcript)
  - Inverse text normalisation (Google STT, Azure display form, AWS Transcribe, Deepgram ``numerals`` /
    ``smart_format``, Whisper): digits come out as groups the way they were spoken ("4242 4242 4242 4242"), run
    together ("42424242 42424242"), dash- or comma-joined ("4242-4242-...", "4, 2, 4, 2"), one digit per token
    ("4 2 4 2"), or re-grouped as if they were a phone number ("(424) 242-4242 4242").
  - Without ITN (raw Deepgram / Transcribe lexical form, Whisper on slow speech) digits come out as words:
    "four two four two", zero as "zero", "oh", "o", "nought" (British), with the recogniser's capitalisation
    ("Four two...") and inserted punctuation (commas, full stops, "..." at pauses, a trailing "?").
  - People read groups as pairs ("forty-two forty-two", "forty two", "oh five", "ten"), hundreds ("five
    sixty-four", "five hundred sixty-four", "five hundred and four", "four oh two"), four-digit numbers
    ("forty-two hundred", "four thousand two hundred", "twenty twenty", "four thousand and twelve"), and runs
    with "double" / "triple" in any position, including across a group boundary ("double four", "triple oh",
    "four double two").
  - ITN applied to part of an utterance only: digit groups and words mixed, fillers kept ("4996 uh 9298 uh two
    one four four 4427").
  - Hesitations anywhere, between groups or inside a group: "uh", "um", "er", "erm", "hmm", "sorry", "okay",
    "let me see", "hang on", "wait", "...", "just a second", "one sec" (which holds a number word).
  - Self-corrections ("four two, no sorry, four three"), restarts of a group ("four two four... four two four
    two") and repeats of a group. The retracted words are NOT part of the true span (only the final reading is),
    so a detector that also hides them loses a little span precision and nothing else.
  - Turns: the number spread over 2-4 caller turns, agent interjections between them ("mm-hmm, go on", "yes",
    "got it", "and the next four?"), with the labels real transcripts use ("Caller:", "Agent:", "Customer:",
    "[customer]", "spk_0:", "Speaker 1:", "USER:" / "ASSISTANT:", a "[00:01:12]" timestamp before the label),
    or as JSON transcript segments one per line (AWS Transcribe items, Deepgram utterances, Whisper segments
    with start / end seconds, chat-style {"role": "user", "content": ...} messages with timestamps).
  - Expiry dates and security codes said or typed right after the number (recorded as ``extras``).

Logs and request dumps (how a typed card number reaches a log)
  - Python ``logging`` lines, structlog / logfmt key=value, pino / logstash / structlog JSON lines, syslog; a
    request body logged inside a JSON or logfmt string field arrives escaped (``{\\"cc_part1\\":...``, ``\\n``).
  - Cards inside a longer stretch of log or conversation that holds its own numbers (timestamps, sizes,
    amounts, phone numbers): about 30% of card samples.
  - nginx / apache combined access logs with the number in a query string: "+" or "%20" for spaces, "%2D" for
    dashes, and clients that percent-encode every character including digits ("%34%32...").
  - Request-body dumps: form-encoded (Stripe style ``card[number]=...``, ``card%5Bnumber%5D=...``, or split
    ``cc1=4242&cc2=4242...``), multipart form-data parts, JSON bodies with the number as one string, one
    integer, split over string fields ``{"cc_part1": "4242", ...}``, or over array items ``["4242", "4242",
    ...]`` / ``[4, 2, 4, 2, ...]``.
  - Java stack traces (NumberFormatException "For input string"), Python tracebacks (ValueError ``int()``),
    Node errors, each with line numbers and frame numbers around the card.
  - HTML: groups joined by ``&nbsp;``, digits as numeric entities ``&#52;`` / ``&#x34;``, groups in separate
    ``<td>`` or ``<span>`` elements, an ``<input value="...">``.
  - Separators: newline, tab, CRLF, many spaces, ", "; Unicode spaces and dashes: NBSP, narrow NBSP, thin
    space, figure space, zero-width space and word joiner (also between single digits, as copy-paste leaves
    them), soft hyphen, U+2010/2011/2012/2013 dashes, U+2212 minus, full-width hyphen.
  - Unicode decimal digits: full-width, Arabic-Indic, extended Arabic-Indic (Persian), Devanagari, Bengali,
    Thai, and mixes of ASCII and full-width (IME input).

Brands (public IIN table: Wikipedia "Payment card number" IIN ranges and braintree/credit-card-type)
  Visa 4 (13/16/19), Mastercard 51-55 and 2221-2720 (16), Amex 34/37 (15), Discover 6011/644-649/65
  (16-19), JCB 3528-3589 (16-19), Diners 300-305/36/38 (14-19), UnionPay 62 and 81 (16-19), Maestro 5018/5020/
  5038/500000-508999, 56-59 (incl. 5893), 63/67 (incl. 6304/6759/6761-6763) (12-19), Mir 2200-2204 (16-19),
  RuPay 60/65/81/82/508 (16), Verve 5060-5061/6500 (16-19), UATP 1 (15), Troy 9792 (16), Laser 6304/6706/
  6709/6771 (16-19). Buckets overlap the way the real table does (RuPay 65 vs Discover 65, ...): the bucket
  says what was generated, not what a detector must answer.

Decoys (must NOT be flagged; only what a careful human reading the text would say is not a card number)
  Phone numbers in national formats of several countries, E.164, spoken ("oh seven seven double oh nine double
  oh one two three"); order, invoice and tracking numbers (UPS, USPS 22-digit, FedEx); amounts written and
  spoken; dates and times written (ISO 8601, CLF, syslog, epoch s/ms/us/ns) and spoken ("January first two
  thousand twenty five"); counts ("I called four times"); UUIDs, W3C / B3 / X-Ray / Datadog trace and span ids;
  IPv4 / IPv6 addresses with ports; IBANs (valid checksums); UK sort code + account number; ISBNs; access-log
  lines with random status, size and durations (including the gateway's own shape
  ``"POST /v1/actions/refunds.create HTTP/1.1" 422 542 0.005000``); JSON and Python log lines with durations,
  sizes, pids, line numbers and ids; Luhn-valid identifiers that are not cards by prefix or length (IMEI,
  ICCID, Canadian SIN); "card ending 4242" (last four only); Stripe object ids; conversations that hold several
  short numbers (phone, amount, date, postcode) over turns.

  Decided ambiguous and therefore left out: a single digit string (after removing spaces or dashes inside it)
  that by itself has a card length, a card issuer prefix and a valid Luhn digit. PCI scanners treat such a
  string as a PAN whatever its label ("order_id=4...") and a human cannot tell it from one, so no decoy
  identifier is allowed to be one (they are regenerated). Several separate fields that only chain into such a
  run (status + size + duration, phone + amount over turns) are kept: that is the precision being measured.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.redaction_corpus import Sample, covered, luhn_digit, luhn_valid, span_chars

__all__ = [
    "BRAND_SPECS",
    "DECOYS",
    "FORMATS",
    "STRIPE_TEST_NUMBERS",
    "Sample",
    "card_like",
    "corpus",
    "covered",
    "describe",
    "luhn_digit",
    "luhn_valid",
    "per_cell_for_size",
    "read_digits",
    "span_chars",
    "synth_pan",
]

# --- brands ---------------------------------------------------------------------------------------------------

# Stripe's public test card numbers (docs.stripe.com/testing).
STRIPE_TEST_NUMBERS: dict[str, str] = {
    "visa": "4242424242424242",
    "visa_debit": "4000056655665556",
    "mastercard": "5555555555554444",
    "mastercard_2series": "2223003122003222",
    "mastercard_debit": "5200828282828210",
    "mastercard_prepaid": "5105105105105100",
    "amex": "378282246310005",
    "amex2": "371449635398431",
    "discover": "6011111111111117",
    "discover_debit": "6011981111111113",
    "diners": "3056930009020004",
    "diners14": "36227206271667",
    "jcb": "3566002020360505",
    "unionpay": "6200000000000005",
    "unionpay19": "6205500000000000004",
}

_ALL_LENGTHS = (12, 13, 14, 15, 16, 17, 18, 19)
# label -> (brand, inclusive prefix ranges (lo, hi) of equal length, card lengths)
BRAND_SPECS: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]]] = {
    "visa13": ("visa", (("4", "4"),), (13,)),
    "visa16": ("visa", (("4", "4"),), (16,)),
    "visa19": ("visa", (("4", "4"),), (19,)),
    "mastercard_51_55": ("mastercard", (("51", "55"),), (16,)),
    "mastercard_2221_2720": ("mastercard", (("2221", "2720"),), (16,)),
    "amex": ("amex", (("34", "34"), ("37", "37")), (15,)),
    "discover_6011": ("discover", (("6011", "6011"),), (16, 17, 18, 19)),
    "discover_644_649": ("discover", (("644", "649"),), (16, 17, 18, 19)),
    "discover_65": ("discover", (("65", "65"),), (16, 17, 18, 19)),
    "jcb": ("jcb", (("3528", "3589"),), (16, 17, 18, 19)),
    "diners_300_305": ("diners", (("300", "305"),), (14, 15, 16, 17, 18, 19)),
    "diners_36_38": ("diners", (("36", "36"), ("38", "38")), (14, 15, 16, 17, 18, 19)),
    "unionpay_62": ("unionpay", (("62", "62"),), (16, 17, 18, 19)),
    "unionpay_81": ("unionpay", (("81", "81"),), (16, 17, 18, 19)),
    "maestro_50": (
        "maestro",
        (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("500000", "504174"), ("504176", "506698"),
         ("506779", "508999")),
        _ALL_LENGTHS,
    ),
    "maestro_56_59": ("maestro", (("56", "59"), ("5893", "5893")), _ALL_LENGTHS),
    "maestro_63_67": (
        "maestro",
        (("63", "63"), ("67", "67"), ("6304", "6304"), ("6759", "6759"), ("6761", "6763")),
        _ALL_LENGTHS,
    ),
    "mir": ("mir", (("2200", "2204"),), (16, 17, 18, 19)),
    "rupay": ("rupay", (("60", "60"), ("65", "65"), ("81", "82"), ("508", "508")), (16,)),
    "verve": ("verve", (("5060", "5061"), ("6500", "6500")), (16, 17, 18, 19)),
    "uatp": ("uatp", (("1", "1"),), (15,)),
    "troy": ("troy", (("9792", "9792"),), (16,)),
    "laser": ("laser", (("6304", "6304"), ("6706", "6706"), ("6709", "6709"), ("6771", "6771")), (16, 17, 18, 19)),
}


def synth_pan(rng: random.Random, label: str) -> str:
    _brand, ranges, lengths = BRAND_SPECS[label]
    lo, hi = rng.choice(ranges)
    prefix = str(rng.randint(int(lo), int(hi))).zfill(len(lo))
    length = rng.choice(lengths)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def _in_ranges(digits: str) -> bool:
    for _brand, ranges, lengths in BRAND_SPECS.values():
        if len(digits) not in lengths:
            continue
        for lo, hi in ranges:
            if int(lo) <= int(digits[: len(lo)]) <= int(hi):
                return True
    return False


def card_like(digits: str) -> bool:
    """A digit string a PCI scan would call a PAN: card length, issuer prefix in the table, Luhn-valid."""
    return 12 <= len(digits) <= 19 and digits.isdigit() and luhn_valid(digits) and _in_ranges(digits)


# --- token model ----------------------------------------------------------------------------------------------
# A rendering is a list of (kind, text): "n" carries card digits, "s" separates card digits inside the number's
# rendering (space, dash, &nbsp;...), "g" is anything else (context, fillers, labels, JSON keys, retractions),
# "cvv" / "expiry" are extras. True PAN spans are runs of "n" tokens joined by "s" tokens without letters or
# digits; a separator that holds letters or digits (&nbsp;, %20, \n in JSON) splits the span, so recall never
# depends on hiding a separator.

Tok = tuple[str, str]


def _assemble(toks: list[Tok]) -> tuple[str, list[tuple[int, int]], list[tuple[int, int, str]]]:
    parts: list[str] = []
    pans: list[tuple[int, int]] = []
    extras: list[tuple[int, int, str]] = []
    pos = 0
    open_start = -1
    open_end = -1
    joinable = False  # only "s" tokens without alnum since the last "n"
    for kind, text in toks:
        start, end = pos, pos + len(text)
        if kind == "n":
            if open_start >= 0 and joinable:
                open_end = end
            else:
                if open_start >= 0:
                    pans.append((open_start, open_end))
                open_start, open_end = start, end
            joinable = True
        elif kind == "s":
            if any(c.isalnum() for c in text):
                joinable = False
        else:
            joinable = False
            if kind in ("cvv", "expiry"):
                extras.append((start, end, kind))
        parts.append(text)
        pos = end
    if open_start >= 0:
        pans.append((open_start, open_end))
    return "".join(parts), pans, extras


def _g(text: str) -> Tok:
    return ("g", text)


# --- reading spoken numbers (the generator's own self-check) --------------------------------------------------

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen"]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ZERO_WORDS = ("zero", "oh", "o", "nought")
_UNIT_VAL = {w: i for i, w in enumerate(_UNITS)} | {"oh": 0, "o": 0, "nought": 0}
_TEEN_VAL = {w: 10 + i for i, w in enumerate(_TEENS)}
_TENS_VAL = {w: i for i, w in enumerate(_TENS) if w}


def _words(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    for ch in text:
        if ch.isalpha():
            cur.append(ch.lower())
            continue
        if cur:
            out.append("".join(cur))
            cur = []
        if ch.isdigit():
            out.append(str(unicodedata.digit(ch)))
    if cur:
        out.append("".join(cur))
    return out


def read_digits(text: str) -> str:
    """Digits a listener reads from a card rendering: digits of any script, number words, double / triple."""
    ws = _words(text)
    out: list[str] = []
    i = 0
    while i < len(ws):
        w = ws[i]
        nxt = ws[i + 1] if i + 1 < len(ws) else ""
        if w.isdigit():
            out.append(w)
            i += 1
        elif w in ("double", "triple") and nxt in _UNIT_VAL:
            out.append(str(_UNIT_VAL[nxt]) * (2 if w == "double" else 3))
            i += 2
        elif w in _UNIT_VAL or w in _TEEN_VAL or w in _TENS_VAL:
            value, i = _read_phrase(ws, i)
            out.append(value)
        else:
            i += 1  # "and" and other glue
    return "".join(out)


def _read_small(ws: list[str], i: int) -> tuple[int, int, int]:
    """(value, width, next index) of a unit, a teen, or a tens word with an optional unit 1-9."""
    w = ws[i]
    if w in _UNIT_VAL:
        return _UNIT_VAL[w], 1, i + 1
    if w in _TEEN_VAL:
        return _TEEN_VAL[w], 2, i + 1
    val = _TENS_VAL[w] * 10
    if i + 1 < len(ws) and ws[i + 1] in _UNIT_VAL and _UNIT_VAL[ws[i + 1]] > 0 and ws[i + 1] not in ("o",):
        return val + _UNIT_VAL[ws[i + 1]], 2, i + 2
    return val, 2, i + 1


def _read_tail(ws: list[str], i: int) -> tuple[int, int]:
    """Optional "and" + a value below 100 after "hundred" / "thousand"."""
    j = i + 1 if i < len(ws) and ws[i] == "and" else i
    if j < len(ws) and (ws[j] in _TEEN_VAL or ws[j] in _TENS_VAL or (ws[j] in _UNIT_VAL and _UNIT_VAL[ws[j]] > 0)):
        if ws[j] in _UNIT_VAL and j + 1 < len(ws) and ws[j + 1] in ("hundred", "thousand"):
            return 0, i
        val, _w, k = _read_small(ws, j)
        return val, k
    return 0, i


def _read_phrase(ws: list[str], i: int) -> tuple[str, int]:
    val, width, i = _read_small(ws, i)
    if i < len(ws) and ws[i] == "thousand" and width == 1:
        total = val * 1000
        i += 1
        if i + 1 < len(ws) and ws[i] in _UNIT_VAL and _UNIT_VAL[ws[i]] > 0 and ws[i + 1] == "hundred":
            total += _UNIT_VAL[ws[i]] * 100
            i += 2
        tail, i = _read_tail(ws, i)
        return str(total + tail).zfill(4), i
    if i < len(ws) and ws[i] == "hundred" and val > 0:
        total = val * 100
        tail, i = _read_tail(ws, i + 1)
        return str(total + tail).zfill(3 if width == 1 else 4), i
    return str(val).zfill(width), i


# --- spoken renderings ----------------------------------------------------------------------------------------


class _Voice:
    """One speaker's habits: which zero word (or a mix), and whether the recogniser hyphenates "forty-two"."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.zero = rng.choices(_ZERO_WORDS, weights=(4, 5, 1, 1))[0]
        self.hyphen = rng.random() < 0.5
        self.mixed_zero = rng.random() < 0.15

    def z(self) -> str:
        return self.rng.choice(_ZERO_WORDS) if self.mixed_zero else self.zero

    def unit(self, d: str) -> str:
        return self.z() if d == "0" else _UNITS[int(d)]

    def tens_unit(self, t: int, u: int) -> str:
        if u == 0:
            return _TENS[t]
        return f"{_TENS[t]}{'-' if self.hyphen else ' '}{_UNITS[u]}"

    def pair(self, two: str) -> str:
        a, b = int(two[0]), int(two[1])
        if a == 0:
            return f"double {self.z()}" if b == 0 and self.rng.random() < 0.5 else f"{self.z()} {self.unit(two[1])}"
        if a == 1:
            return _TEENS[b]
        return self.tens_unit(a, b)

    def triple(self, three: str) -> str:
        if three[0] == "0":
            return f"{self.z()} {self.pair(three[1:])}"
        h = _UNITS[int(three[0])]
        rest = three[1:]
        if rest == "00":
            return f"{h} hundred"
        style = self.rng.random()
        if style < 0.45:
            return f"{h} {self.pair(rest)}"  # "five sixty-four", "four oh two"
        glue = " and " if style < 0.7 else " "
        if rest[0] == "0":
            return f"{h} hundred{glue}{_UNITS[int(rest[1])]}"
        return f"{h} hundred{glue}{self.pair(rest)}"

    def quad(self, four: str) -> str:
        if four[0] == "0":
            return f"{self.z()} {self.triple(four[1:])}"
        r = self.rng.random()
        if four[2:] == "00" and four[1] != "0" and r < 0.5:
            return f"{self.pair(four[:2])} hundred"  # "forty-two hundred"
        if r < 0.6:
            return f"{self.pair(four[:2])} {self.pair(four[2:])}"  # "twenty twenty"
        out = f"{_UNITS[int(four[0])]} thousand"
        if four[1] != "0":
            out += f" {_UNITS[int(four[1])]} hundred"
        last = four[2:]
        if last != "00":
            glue = " and " if self.rng.random() < 0.4 else " "
            out += glue + (_UNITS[int(last[1])] if last[0] == "0" else self.pair(last))
        return out

    def digit_words(self, digits: str, runs: float) -> str:
        words: list[str] = []
        i = 0
        while i < len(digits):
            j = i
            while j < len(digits) and digits[j] == digits[i]:
                j += 1
            n = j - i
            d = self.unit(digits[i])
            if n >= 3 and self.rng.random() < runs:
                words.append(f"triple {d}")
                i += 3
            elif n >= 2 and self.rng.random() < runs:
                words.append(f"double {d}")
                i += 2
            else:
                words.append(d)
                i += 1
        return " ".join(words)


def _chunks(rng: random.Random, digits: str, sizes: tuple[int, ...]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(digits):
        n = min(rng.choice(sizes), len(digits) - i)
        out.append(digits[i : i + n])
        i += n
    return out


def _print_groups(rng: random.Random, pan: str) -> list[str]:
    """Groups as printed on the card / typed by people."""
    n = len(pan)
    if n == 15 and pan[0] == "3":
        sizes = [4, 6, 5]
    elif n == 15:
        sizes = [4, 5, 6]
    elif n == 14:
        sizes = [4, 6, 4]
    elif n == 13:
        sizes = rng.choice([[4, 4, 5], [4, 3, 3, 3]])
    elif n == 19:
        sizes = rng.choice([[4, 4, 4, 4, 3], [6, 13], [4, 4, 4, 7]])
    else:
        sizes = [4] * (n // 4) + ([n % 4] if n % 4 else [])
    out: list[str] = []
    i = 0
    for s in sizes:
        out.append(pan[i : i + s])
        i += s
    return out


def _render_chunk(voice: _Voice, chunk: str, style: str) -> str:
    rng = voice.rng
    if style == "ascii":
        return chunk
    if style == "digits":
        return voice.digit_words(chunk, runs=0.35)
    if style == "runs":
        return voice.digit_words(chunk, runs=0.95)
    parts: list[str] = []
    if style == "pairs":
        pieces = _chunks(rng, chunk, (2, 2, 2, 2, 1))  # a lone digit lets a retry avoid "forty" + "two"
    elif style == "hundreds":
        pieces = _chunks(rng, chunk, (3, 3, 1, 2)) if len(chunk) != 4 else rng.choice(
            [[chunk[0], chunk[1:]], [chunk[:3], chunk[3]], [chunk[:2], chunk[2:]]])
    else:  # "quads"
        pieces = _chunks(rng, chunk, (4, 4, 4, 2))
    for p in pieces:
        if len(p) == 1:
            parts.append(voice.unit(p))
        elif len(p) == 2:
            parts.append(voice.pair(p))
        elif len(p) == 3:
            parts.append(voice.triple(p))
        else:
            parts.append(voice.quad(p))
    return " ".join(parts)


_FILLERS = ("uh", "um", "er", "erm", "hmm", "sorry", "okay", "let me see", "hang on", "wait", "...", "uh, sorry",
            "um, okay", "just a second", "one sec", "right", "so", "let me just check")  # fmt: skip
_FILLER_W = (10, 10, 5, 3, 4, 3, 3, 3, 2, 2, 3, 1, 1, 1, 1, 1, 1, 1)
_PAUSES = (" ", " ", " ", ", ", ", ", ". ", "... ", " - ", "  ")


def _filler(rng: random.Random) -> str:
    return rng.choices(_FILLERS, weights=_FILLER_W)[0]


def _cap(rng: random.Random, text: str) -> str:
    return text[:1].upper() + text[1:] if text and rng.random() < 0.5 else text


def _speak(rng: random.Random, pan: str, styles: tuple[str, ...], *, flat: bool = False, fillers: float = 0.0,
           inner_fillers: float = 0.0) -> list[list[Tok]]:  # fmt: skip
    """Render ``pan`` as spoken chunks; returns one token list per printed group (the units turns are split on).

    Retries until the generator's own reading gives back the digits, so no rendering is ambiguous (a bare
    "forty" followed by "two" of the next group would read as 42).
    """
    for _attempt in range(30):
        voice = _Voice(rng)
        groups = [pan] if flat else _print_groups(rng, pan)
        out: list[list[Tok]] = []
        for gi, group in enumerate(groups):
            toks: list[Tok] = []
            sub = _chunks(rng, group, (2, 3, 4, 5)) if flat or (inner_fillers and len(group) > 3) else [group]
            for si, piece in enumerate(sub):
                toks.append(("n", _render_chunk(voice, piece, rng.choice(styles))))
                if si < len(sub) - 1:
                    if rng.random() < inner_fillers:
                        toks.append(_g(f"{rng.choice((' ', ', '))}{_filler(rng)}{rng.choice((' ', ', ', '... '))}"))
                    else:
                        toks.append(("s", rng.choice(_PAUSES)))
            if gi < len(groups) - 1:
                if rng.random() < fillers:
                    toks.append(_g(f"{rng.choice((' ', ', ', '... '))}{_filler(rng)}{rng.choice((' ', ', '))}"))
                else:
                    toks.append(("s", rng.choice(_PAUSES)))
            out.append(toks)
        sentence_start = True
        for g in out:
            for k, (kind, text) in enumerate(g):
                if kind == "n" and sentence_start:
                    g[k] = ("n", _cap(rng, text))
                sentence_start = kind != "n" and text.rstrip().endswith((".", "?", "!"))
        flat_toks = [t for g in out for t in g]
        text, pans, _ = _assemble(flat_toks)
        if "".join(read_digits(text[s:e]) for s, e in pans) == pan:
            return out
    voice = _Voice(rng)
    return [[("n", voice.digit_words(g, 0.0)), ("s", " ")] for g in _print_groups(rng, pan)]


def _flat(groups: list[list[Tok]]) -> list[Tok]:
    return [t for g in groups for t in g]


# --- transcript and log wrappers ------------------------------------------------------------------------------

_LEADS = ("my card number is ", "it's ", "okay so it's ", "the number is ", "yeah, it's ", "sure, ", "", "",
          "it's a visa, ", "card number ", "right, ", "I have it here, ")  # fmt: skip
_TRAILS = ("", ".", ". ", "?", " and that's it.", ", that's the long number.", ". Did you get that?", " okay?")
_AGENT_ASK = ("Could I take the long card number, please?", "Go ahead with the card number when you're ready.",
              "What's the number on the front of the card?", "Can you read me the card number?")  # fmt: skip
_INTERJECT = ("mm-hmm", "mm-hmm, go on", "yes", "got it", "okay", "uh-huh", "right", "go ahead",
              "and the next four?", "yep, keep going", "sorry, could you repeat that last part? okay, got it",
              "thank you", "one moment... okay")  # fmt: skip
_LABELS = (("Caller: ", "Agent: "), ("Customer: ", "Agent: "), ("[customer] ", "[agent] "), ("spk_0: ", "spk_1: "),
           ("Speaker 1: ", "Speaker 2: "), ("USER: ", "ASSISTANT: "), ("caller> ", "bot> "),
           ("CUSTOMER: ", "REP: "))  # fmt: skip


def _stamp(rng: random.Random, t: float) -> str:
    t = int(t)
    return f"[{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}] "


def _utterance(rng: random.Random, body: list[Tok]) -> list[Tok]:
    lead = rng.choice(_LEADS)
    if lead:
        lead = _cap(rng, lead)
    return [_g(lead), *body, _g(rng.choice(_TRAILS))]


def _transcript(rng: random.Random, turns: list[list[Tok]]) -> list[Tok]:
    """Caller turns with agent interjections between them, labelled as a real transcript would."""
    caller, agent = rng.choice(_LABELS)
    stamps = rng.random() < 0.3
    t = rng.uniform(20, 400)
    out: list[Tok] = []
    eol = "\r\n" if rng.random() < 0.1 else "\n"

    def line(label: str, toks: list[Tok]) -> None:
        nonlocal t
        out.append(_g((_stamp(rng, t) if stamps else "") + label))
        out.extend(toks)
        out.append(_g(eol))
        t += rng.uniform(1.5, 9)

    if rng.random() < 0.7:
        line(agent, [_g(rng.choice(_AGENT_ASK))])
    for i, turn in enumerate(turns):
        body = _utterance(rng, turn) if i == 0 else [*turn, _g(rng.choice(("", ".", ",", "...")))]
        line(caller, body)
        if i < len(turns) - 1:
            line(agent, [_g(_cap(rng, rng.choice(_INTERJECT)))])
    if rng.random() < 0.5:
        line(agent, [_g(rng.choice(("Thank you. And the expiry date?", "Thanks, I've got that.",
                                    "Perfect, thank you.")))])  # fmt: skip
    return out


def _split_turns(rng: random.Random, groups: list[list[Tok]], k: int) -> list[list[Tok]]:
    k = max(1, min(k, len(groups)))
    cuts = sorted(rng.sample(range(1, len(groups)), k - 1)) if k > 1 else []
    turns: list[list[Tok]] = []
    prev = 0
    for c in [*cuts, len(groups)]:
        toks = [t for g in groups[prev:c] for t in g]
        while toks and toks[-1][0] != "n":  # a turn ends on the number, not on a pause
            toks.pop()
        turns.append(toks)
        prev = c
    return turns


def _iso(rng: random.Random) -> str:
    return (f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z")  # fmt: skip


def _pylog_ts(rng: random.Random) -> str:
    return (f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d},{rng.randint(0, 999):03d}")  # fmt: skip


def _clf_ts(rng: random.Random) -> str:
    mon = rng.choice(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))
    return f"{rng.randint(1, 28):02d}/{mon}/2025:{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:" \
           f"{rng.randint(0, 59):02d} +0000"  # fmt: skip


def _ip(rng: random.Random) -> str:
    return f"{rng.choice((10, 172, 192, 203))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


_UAS = ('"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"',
        '"okhttp/4.12.0"', '"python-requests/2.31.0"', '"curl/8.4.0"', '"Stripe/1.0 (+https://stripe.com/docs/webhooks)"')  # fmt: skip


_JSON_ESC = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def _escaped(body: list[Tok]) -> list[Tok]:
    """The body as it appears inside a quoted JSON / logfmt string: quotes, backslashes, controls escaped."""
    return [(k, t.translate(_JSON_ESC)) for k, t in body]


def _log_line(rng: random.Random, body: list[Tok], key: str | None = None) -> list[Tok]:
    """Wrap a rendering in one line of a common logging framework."""
    key = key or rng.choice(("card", "card_number", "pan", "cc", "number", "cardNumber", "payment.card"))
    shape = rng.randrange(7)
    if shape in (2, 3, 4):
        body = _escaped(body)
    lvl = rng.choice(("INFO", "WARNING", "ERROR", "DEBUG"))
    if shape == 0:
        return [_g(f"{_pylog_ts(rng)} {lvl} payments.api: card validation failed for "), *body,
                _g(f" (attempt {rng.randint(1, 4)})")]  # fmt: skip
    if shape == 1:  # structlog console
        return [_g(f"{_iso(rng)} [{lvl.lower():<9}] charge_attempt                 {key}="), *body,
                _g(f" amount={rng.randint(100, 99999)} customer_id=cus_{_hex(rng, 14)}")]  # fmt: skip
    if shape == 2:  # logfmt
        return [_g(f'time="{_iso(rng)}" level={lvl.lower()} msg="tokenize request" {key}="'), *body,
                _g(f'" duration_ms={rng.randint(1, 900)}')]  # fmt: skip
    if shape == 3:  # pino
        return [_g(f'{{"level":{rng.choice((30, 40, 50))},"time":{rng.randint(1_700_000_000_000, 1_760_000_000_000)},'
                   f'"pid":{rng.randint(100, 65000)},"hostname":"api-{_hex(rng, 5)}","msg":"payment failed: card '),
                *body, _g('"}')]  # fmt: skip
    if shape == 4:  # logstash
        return [_g(f'{{"@timestamp":"{_iso(rng)}","@version":"1","message":"Declined card '), *body,
                _g(f'","logger_name":"com.acme.pay.ChargeService","thread_name":"http-nio-8080-exec-'
                   f'{rng.randint(1, 40)}","level":"{lvl}","level_value":{rng.choice((20000, 30000, 40000))}}}')]  # fmt: skip
    if shape == 5:  # syslog
        return [_g(f"<{rng.randint(0, 191)}>1 {_iso(rng)} host-{rng.randint(1, 30)} billing {rng.randint(100, 9999)}"
                   f" - - user entered "), *body]  # fmt: skip
    return [_g(f"[{_pylog_ts(rng)}] {lvl} in views: form data {key}="), *body]


# --- card format classes --------------------------------------------------------------------------------------

_UNICODE_SEPS = ("\u00a0", "\u202f", "\u2009", "\u2007", "\u200b", "\u2060", "\u00ad", "\u2010", "\u2011", "\u2012",
                 "\u2013", "\u2212", "\uff0d", " \u200b", "\u200b ")  # fmt: skip
_DIGIT_ZEROS = {"fullwidth": 0xFF10, "arabic_indic": 0x0660, "persian": 0x06F0, "devanagari": 0x0966,
                "bengali": 0x09E6, "thai": 0x0E50}  # fmt: skip


def _groups_toks(groups: list[str], seps: Callable[[], str]) -> list[Tok]:
    out: list[Tok] = []
    for i, g in enumerate(groups):
        out.append(("n", g))
        if i < len(groups) - 1:
            out.append(("s", seps()))
    return out


def _typed(rng: random.Random, pan: str) -> list[Tok]:
    r = rng.random()
    if r < 0.4:
        return [("n", pan)]
    sep = rng.choice((" ", "-", " ", ".", " - "))
    return _groups_toks(_print_groups(rng, pan), lambda: sep)


def f_log_plain(rng: random.Random, pan: str) -> list[Tok]:
    return _log_line(rng, [("n", pan)])


def f_log_grouped(rng: random.Random, pan: str) -> list[Tok]:
    sep = rng.choice((" ", "-", ".", " - ", "  ", "/", "_"))
    return _log_line(rng, _groups_toks(_print_groups(rng, pan), lambda: sep))


def _access(rng: random.Random, path_and_query: list[Tok], method: str = "GET") -> list[Tok]:
    return [_g(f'{_ip(rng)} - - [{_clf_ts(rng)}] "{method} '), *path_and_query,
            _g(f' HTTP/1.1" {rng.choice((200, 302, 400, 402, 422))} {rng.randint(0, 9000)} "-" {rng.choice(_UAS)}'
               f" rt={rng.randint(0, 2000) / 1000:.3f}")]  # fmt: skip


def f_access_log_query(rng: random.Random, pan: str) -> list[Tok]:
    key = rng.choice(("card", "cc", "card_number", "pan", "cardnumber", "ccnum", "number"))
    r = rng.random()
    if r < 0.3:
        num: list[Tok] = [("n", pan)]
    else:
        sep = rng.choice(("+", "%20", "-", "%2D", "%2d", "%C2%A0", "."))
        num = _groups_toks(_print_groups(rng, pan), lambda: sep)
    path = rng.choice(("/checkout", "/api/v2/pay", "/payments/confirm", "/donate", "/order/submit.php"))
    return _access(rng, [_g(f"{path}?amount={rng.randint(1, 500)}&{key}="), *num,
                         _g(f"&exp={rng.randint(1, 12):02d}%2F{rng.randint(26, 32)}")])  # fmt: skip


def f_url_pct_digits(rng: random.Random, pan: str) -> list[Tok]:
    enc = "".join(f"%{ord(c):02X}" for c in pan)
    if rng.random() < 0.5:
        groups = _print_groups(rng, pan)
        num = _groups_toks(["".join(f"%{ord(c):02X}" for c in g) for g in groups], lambda: "%20")
    else:
        num = [("n", enc)]
    if rng.random() < 0.5:
        return _access(rng, [_g("/pay?card_number="), *num, _g(f"&cur=usd&t={rng.randint(1, 9999)}")])
    return _log_line(rng, [_g("/pay?card_number="), *num], key="url")


def f_form_body(rng: random.Random, pan: str) -> list[Tok]:
    lead = _g(f"{_pylog_ts(rng)} DEBUG http.client: send: b'POST /v1/tokens HTTP/1.1\\r\\nHost: api.example.com"
              f"\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\nContent-Length: {rng.randint(80, 400)}"
              "\\r\\n\\r\\n")  # fmt: skip
    r = rng.random()
    tail = _g(f"&card[exp_month]={rng.randint(1, 12)}&card[exp_year]={rng.randint(2026, 2032)}'")
    if r < 0.35:
        sep = rng.choice(("+", "", "%20", "-"))
        num = _groups_toks(_print_groups(rng, pan), lambda: sep) if sep else [("n", pan)]
        key = rng.choice(("card[number]=", "card%5Bnumber%5D=", "payment_method_data[card][number]="))
        return [lead, _g(key), *num, tail]
    if r < 0.7:
        groups = _print_groups(rng, pan)
        keys = rng.choice((("cc1", "cc2", "cc3", "cc4", "cc5"), ("card_1", "card_2", "card_3", "card_4", "card_5"),
                           ("ccnum%5B0%5D", "ccnum%5B1%5D", "ccnum%5B2%5D", "ccnum%5B3%5D", "ccnum%5B4%5D")))  # fmt: skip
        out: list[Tok] = [lead]
        for i, g in enumerate(groups):
            out += [_g(("&" if i else "") + keys[i] + "="), ("n", g)]
        return [*out, tail]
    # multipart dump
    return [_g(f"--boundary{_hex(rng, 8)}\r\nContent-Disposition: form-data; name=\"card_number\"\r\n\r\n"),
            *_typed(rng, pan), _g(f"\r\n--boundary{_hex(rng, 8)}--")]  # fmt: skip


def f_json_field(rng: random.Random, pan: str) -> list[Tok]:
    key = rng.choice(("number", "card_number", "pan", "cardNumber", "primary_account_number"))
    sp = rng.choice(("", " "))
    if rng.random() < 0.3 and pan[0] != "0":
        val: list[Tok] = [_g(f'"{key}":{sp}'), ("n", pan)]
    else:
        val = [_g(f'"{key}":{sp}"'), *_typed(rng, pan), _g('"')]
    body = [_g(f'{{"amount":{sp}{rng.randint(100, 99999)},{sp}"currency":{sp}"usd",{sp}"card":{sp}{{'), *val,
            _g(f',{sp}"exp_month":{sp}{rng.randint(1, 12)}}}}}')]  # fmt: skip
    if rng.random() < 0.5:
        return [_g(f"{_pylog_ts(rng)} DEBUG request body: "), *body]
    return [_g(f'{{"ts":"{_iso(rng)}","level":"debug","event":"request","body":'), *body, _g("}")]


def f_json_split_fields(rng: random.Random, pan: str) -> list[Tok]:
    groups = _print_groups(rng, pan)
    names = rng.choice((["cc_part1", "cc_part2", "cc_part3", "cc_part4", "cc_part5"],
                        ["card_1", "card_2", "card_3", "card_4", "card_5"],
                        ["pan1", "pan2", "pan3", "pan4", "pan5"],
                        ["number_a", "number_b", "number_c", "number_d", "number_e"],
                        ["ccFirst", "ccSecond", "ccThird", "ccFourth", "ccFifth"]))  # fmt: skip
    sp = rng.choice(("", " "))
    out: list[Tok] = [_g("{")]
    for i, g in enumerate(groups):
        out += [_g(f'{"," + sp if i else ""}"{names[i]}":{sp}"'), ("n", g), _g('"')]
    out.append(_g(f',{sp}"exp":{sp}"{rng.randint(1, 12):02d}/{rng.randint(26, 32)}"}}'))
    return _log_line(rng, out, key="body") if rng.random() < 0.5 else [_g("request payload: "), *out]


def f_json_array(rng: random.Random, pan: str) -> list[Tok]:
    sp = rng.choice(("", " "))
    r = rng.random()
    if r < 0.25:
        items = list(pan)
        quoted = rng.random() < 0.4
    else:
        items = _print_groups(rng, pan)
        quoted = rng.random() < 0.7 or any(g[0] == "0" for g in items)
    q = '"' if quoted else ""
    out: list[Tok] = [_g(f'"{rng.choice(("card_number", "cc", "digits", "pan_parts"))}":{sp}[{q}')]
    for i, it in enumerate(items):
        if i:
            out.append(("s", f"{q},{sp}{q}"))
        out.append(("n", it))
    out.append(_g(q + "]"))
    return [_g(f"{_pylog_ts(rng)} INFO checkout: payload={{"), *out, _g("}")]


def f_stack_trace(rng: random.Random, pan: str) -> list[Tok]:
    num = _typed(rng, pan)
    r = rng.randrange(3)
    if r == 0:
        return [_g(f"{_pylog_ts(rng)} ERROR [http-nio-8080-exec-{rng.randint(1, 40)}] c.a.p.CardParser - parse failed\n"
                   'java.lang.NumberFormatException: For input string: "'), *num,
                _g('"\n\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)\n'
                   "\tat java.base/java.lang.Long.parseLong(Long.java:711)\n"
                   f"\tat com.acme.pay.CardParser.parse(CardParser.java:{rng.randint(20, 400)})\n"
                   f"\tat com.acme.pay.ChargeController.create(ChargeController.java:{rng.randint(20, 400)})\n"
                   f"\t... {rng.randint(10, 90)} common frames omitted")]  # fmt: skip
    if r == 1:
        return [_g("Traceback (most recent call last):\n"
                   f'  File "/srv/app/payments/views.py", line {rng.randint(10, 900)}, in create_charge\n'
                   "    number = int(form['card'])\n"
                   "ValueError: invalid literal for int() with base 10: '"), *num, _g("'")]  # fmt: skip
    return [_g("Error: Invalid card number \""), *num,
            _g(f'"\n    at validateCard (/app/src/checkout.js:{rng.randint(10, 300)}:{rng.randint(1, 40)})\n'
               f"    at processTicksAndRejections (node:internal/process/task_queues:{rng.randint(60, 99)}:5)")]  # fmt: skip


def f_html(rng: random.Random, pan: str) -> list[Tok]:
    groups = _print_groups(rng, pan)
    r = rng.randrange(4)
    if r == 0:
        num = _groups_toks(groups, lambda: rng.choice(("&nbsp;", "&#160;", "&#xa0;", " &nbsp;")))
        return [_g("<p>Card: "), *num, _g("</p>")]
    if r == 1:
        enc: list[Tok] = []
        for i, g in enumerate(groups):
            form = rng.choice(("&#{};", "&#x{:x};"))
            enc.append(("n", "".join(form.format(ord(c)) for c in g)))
            if i < len(groups) - 1:
                enc.append(("s", " "))
        return [_g('<div class="card-number">'), *enc, _g("</div>")]
    if r == 2:
        tag = rng.choice(("td", "span"))
        out: list[Tok] = [_g("<tr>" if tag == "td" else "<div>")]
        for g in groups:
            out += [_g(f"<{tag}>"), ("n", g), _g(f"</{tag}>")]
        return [*out, _g("</tr>" if tag == "td" else "</div>")]
    return [_g('<input type="text" name="cardnumber" autocomplete="cc-number" value="'), *_typed(rng, pan),
            _g('">')]


def f_ws_separators(rng: random.Random, pan: str) -> list[Tok]:
    seps = rng.choice(("\n", "\t", "\r\n", "   ", "    ", ", ", " ,", "\n\n", " \n"))
    num = _groups_toks(_print_groups(rng, pan), lambda: seps)
    r = rng.randrange(3)
    if r == 0:
        return [_g("Note from customer (pasted):\n"), *num, _g("\nexp " + f"{rng.randint(1, 12):02d}/{rng.randint(26, 32)}")]
    if r == 1:
        return [_g(f"{_pylog_ts(rng)} INFO support: ticket {rng.randint(1000, 99999)} body: "), *num]
    return [_g("card\t"), *num, _g(f"\tholder\tJ SMITH\t{rng.randint(1, 12):02d}/{rng.randint(26, 32)}")]


def f_unicode_separators(rng: random.Random, pan: str) -> list[Tok]:
    if rng.random() < 0.25:
        inv = rng.choice(("\u200b", "\u2060", "\u00ad", "\ufeff"))
        toks: list[Tok] = []
        for i, c in enumerate(pan):
            toks.append(("n", c))
            if i < len(pan) - 1:
                toks.append(("s", inv if rng.random() < 0.5 else ""))
        body = toks
    else:
        sep = rng.choice(_UNICODE_SEPS)
        body = _groups_toks(_print_groups(rng, pan), lambda: sep)
    return _log_line(rng, body) if rng.random() < 0.5 else [_g("Card number: "), *body, _g(" (from web form)")]


_SCRIPT_LEADS = {"fullwidth": "カード番号：", "arabic_indic": "رقم البطاقة: ", "persian": "شماره کارت: ",
                 "devanagari": "कार्ड नंबर: ", "bengali": "কার্ড নম্বর: ", "thai": "หมายเลขบัตร: "}  # fmt: skip


def _to_script(s: str, script: str, rng: random.Random, mix: bool) -> str:
    zero = _DIGIT_ZEROS[script]
    return "".join(c if mix and rng.random() < 0.5 else chr(zero + int(c)) for c in s)


def f_unicode_digits(rng: random.Random, pan: str) -> list[Tok]:
    script = rng.choice(list(_DIGIT_ZEROS))
    mix = script == "fullwidth" and rng.random() < 0.3
    sep = rng.choice(("", " ", "-", "\u3000" if script == "fullwidth" else "\u00a0"))
    groups = [_to_script(g, script, rng, mix) for g in _print_groups(rng, pan)]
    body = _groups_toks(groups, lambda: sep) if sep else [("n", "".join(groups))]
    lead = rng.choice(("Card number: ", "card=", _SCRIPT_LEADS[script]))
    return [_g(lead), *body] if rng.random() < 0.5 else _log_line(rng, body)


def f_asr_phone_shaped(rng: random.Random, pan: str) -> list[Tok]:
    # ITN that mistakes the start of the number for a phone number: "(424) 242-4242 4242"
    head, rest = pan[:10], pan[10:]
    if rng.random() < 0.5:
        num: list[Tok] = [_g("("), ("n", head[:3]), _g(") "), ("n", head[3:6]), ("s", "-"), ("n", head[6:])]
    else:
        num = [("n", head[:3]), ("s", "-"), ("n", head[3:6]), ("s", "-"), ("n", head[6:])]
    num += [("s", rng.choice((" ", ", ", " - "))), ("n", rest)]
    return _transcript(rng, [num])


def f_asr_digits(rng: random.Random, pan: str) -> list[Tok]:
    r = rng.random()
    if r < 0.2:
        body: list[Tok] = [("n", pan)]
    else:
        groups = _print_groups(rng, pan) if r < 0.75 else _chunks(rng, pan, (2, 3, 4, 5, 6, 8))
        sep = rng.choice((" ", " ", ", ", "-", ". ", "... ", " - "))
        body = _groups_toks(groups, lambda: sep)
    return _transcript(rng, [body])


def f_asr_single_digits(rng: random.Random, pan: str) -> list[Tok]:
    sep = rng.choice((" ", ", ", "-", " - ", ". "))
    grp = rng.choice((" ", ", ", "... ", ". "))
    toks: list[Tok] = []
    for gi, g in enumerate(_print_groups(rng, pan)):
        if gi:
            toks.append(("s", grp))
        toks += _groups_toks(list(g), lambda: sep)
    return _transcript(rng, [toks])


def _spoken_fmt(styles: tuple[str, ...], fillers: float = 0.15, inner: float = 0.0) -> Callable[
        [random.Random, str], list[Tok]]:  # fmt: skip
    def gen(rng: random.Random, pan: str) -> list[Tok]:
        return _transcript(rng, [_flat(_speak(rng, pan, styles, fillers=fillers, inner_fillers=inner))])

    return gen


def f_spoken_double_triple(rng: random.Random, pan: str) -> list[Tok]:
    flat = rng.random() < 0.5
    return _transcript(rng, [_flat(_speak(rng, pan, ("runs",), flat=flat, fillers=0.1))])


def f_asr_mixed(rng: random.Random, pan: str) -> list[Tok]:
    groups = _speak(rng, pan, ("ascii", "ascii", "digits", "pairs"), fillers=0.6, inner_fillers=0.2)
    return _transcript(rng, [_flat(groups)])


def f_spoken_hesitations(rng: random.Random, pan: str) -> list[Tok]:
    groups = _speak(rng, pan, ("digits", "digits", "pairs", "ascii"), fillers=0.8, inner_fillers=0.5)
    return _transcript(rng, [_flat(groups)])


def _group_digits(group: list[Tok]) -> str:
    return "".join(read_digits(t) for k, t in group if k == "n")


def _mutate(rng: random.Random, digits: str) -> str:
    i = rng.randrange(len(digits))
    d = str((int(digits[i]) + rng.choice((1, 2, 8, 9))) % 10)
    return digits[:i] + d + digits[i + 1 :]


_CORRECTIONS = (", no sorry, ", ", no wait, ", "... sorry, I mean ", ", no, ", " - scratch that - ", ", actually ",
                ", no no, ", ", sorry, that's ")  # fmt: skip


def f_spoken_self_correction(rng: random.Random, pan: str) -> list[Tok]:
    groups = _speak(rng, pan, ("digits", "digits", "pairs"), fillers=0.1)
    voice = _Voice(rng)
    idx = rng.sample(range(len(groups)), k=min(len(groups), rng.choice((1, 1, 2))))
    out: list[list[Tok]] = []
    for gi, g in enumerate(groups):
        said = _group_digits(g)
        if gi in idx and len(said) >= 2:
            # the retracted reading is said as words, then the corrected group follows
            wrong = _mutate(rng, said[: rng.randint(2, len(said))])
            g = [_g(voice.digit_words(wrong, 0.0) + rng.choice(_CORRECTIONS)), *g]
        out.append(g)
    return _transcript(rng, [_flat(out)])


def f_spoken_repeats(rng: random.Random, pan: str) -> list[Tok]:
    groups = _speak(rng, pan, ("digits", "pairs", "ascii"), fillers=0.1)
    voice = _Voice(rng)
    gi = rng.randrange(len(groups))
    part = _group_digits(groups[gi]) or pan[:4]
    restart = part[: rng.randint(1, len(part))]
    said = voice.digit_words(restart, 0.0) if rng.random() < 0.6 else restart
    phrase = rng.choice(("... ", "... sorry, let me start that again, ", ", hang on, ", "-- ", ", I'll say that again, "))
    groups[gi] = [_g(said + phrase), *groups[gi]]
    return _transcript(rng, [_flat(groups)])


def f_turns_labelled(rng: random.Random, pan: str) -> list[Tok]:
    styles = rng.choice((("digits",), ("pairs", "digits"), ("ascii",), ("hundreds", "pairs"), ("ascii", "digits")))
    groups = _speak(rng, pan, styles, fillers=0.1)
    return _transcript(rng, _split_turns(rng, groups, rng.choice((2, 2, 3, 4))))


def f_turns_json(rng: random.Random, pan: str) -> list[Tok]:
    styles = rng.choice((("digits",), ("pairs", "digits"), ("ascii",)))
    turns = _split_turns(rng, _speak(rng, pan, styles, fillers=0.1), rng.choice((1, 2, 3, 4)))
    shape = rng.randrange(4)
    t = rng.uniform(10, 300)
    seg_id = rng.randint(0, 300)
    out: list[Tok] = []
    lines: list[tuple[str, list[Tok]]] = []
    for i, turn in enumerate(turns):
        lines.append(("caller", turn))
        if i < len(turns) - 1:
            lines.append(("agent", [_g(rng.choice(_INTERJECT))]))
    for who, toks in lines:
        end = t + rng.uniform(0.5, 6)
        if shape == 0:  # Whisper segments
            seg_id += 1
            head = f'{{"id":{seg_id},"start":{t:.2f},"end":{end:.2f},"text":" '
            tail = '"}\n'
        elif shape == 1:  # Deepgram utterances
            head = f'{{"speaker":{0 if who == "caller" else 1},"start":{t:.3f},"end":{end:.3f},"transcript":"'
            tail = f'","confidence":0.{rng.randint(80, 99)}}}\n'
        elif shape == 2:  # AWS Transcribe
            head = f'{{"speaker_label":"spk_{0 if who == "caller" else 1}","start_time":"{t:.2f}","content":"'
            tail = '"}\n'
        else:  # chat-style bot log
            head = f'{{"role":"{"user" if who == "caller" else "assistant"}","time":{int(t * 1000) + 1_730_000_000_000},' \
                   f'"secondsFromStart":{t:.1f},"content":"'  # fmt: skip
            tail = '"}\n'
        out += [_g(head), *toks, _g(tail)]
        t = end + rng.uniform(0.2, 2)
    return out


def f_card_with_expiry_cvv(rng: random.Random, pan: str) -> list[Tok]:
    amex = len(pan) == 15 and pan[0] == "3"
    cvv = "".join(rng.choice("0123456789") for _ in range(4 if amex else 3))
    mm, yy = rng.randint(1, 12), rng.randint(26, 32)
    if rng.random() < 0.5:
        return _log_line(rng, [*_typed(rng, pan), _g(" exp="), ("expiry", f"{mm:02d}/{yy}"), _g(" cvc="),
                               ("cvv", cvv)])  # fmt: skip
    voice = _Voice(rng)
    groups = _speak(rng, pan, ("digits", "pairs", "ascii"), fillers=0.1)
    exp_words = f"{voice.pair(f'{mm:02d}')} {voice.pair(str(yy))}"
    cvv_words = voice.digit_words(cvv, 0.0)
    extra_turn: list[Tok] = [_g("expiry "), ("expiry", exp_words), _g(", and the code on the back is "),
                             ("cvv", cvv_words)]  # fmt: skip
    return _transcript(rng, [_flat(groups), extra_turn])


FORMAT_FUNCS: dict[str, Callable[[random.Random, str], list[Tok]]] = {
    "log_plain": f_log_plain,
    "log_grouped": f_log_grouped,
    "access_log_query": f_access_log_query,
    "url_pct_digits": f_url_pct_digits,
    "form_body": f_form_body,
    "json_field": f_json_field,
    "json_split_fields": f_json_split_fields,
    "json_array": f_json_array,
    "stack_trace": f_stack_trace,
    "html": f_html,
    "ws_separators": f_ws_separators,
    "unicode_separators": f_unicode_separators,
    "unicode_digits": f_unicode_digits,
    "asr_digits": f_asr_digits,
    "asr_single_digits": f_asr_single_digits,
    "asr_phone_shaped": f_asr_phone_shaped,
    "asr_mixed": f_asr_mixed,
    "spoken_digit_words": _spoken_fmt(("digits",)),
    "spoken_pairs": _spoken_fmt(("pairs", "pairs", "pairs", "digits")),
    "spoken_hundreds": _spoken_fmt(("hundreds", "hundreds", "pairs")),
    "spoken_thousands": _spoken_fmt(("quads", "quads", "pairs")),
    "spoken_double_triple": f_spoken_double_triple,
    "spoken_hesitations": f_spoken_hesitations,
    "spoken_self_correction": f_spoken_self_correction,
    "spoken_repeats": f_spoken_repeats,
    "turns_labelled": f_turns_labelled,
    "turns_json": f_turns_json,
    "card_with_expiry_cvv": f_card_with_expiry_cvv,
}
FORMATS: list[str] = list(FORMAT_FUNCS)


def _runs_pan(rng: random.Random, label: str) -> str:
    """A synthetic PAN with runs of equal digits, so "double" / "triple" have something to say."""
    pan = synth_pan(rng, label)
    body = list(pan[:-1])
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(3, max(4, len(body) - 2))
        n = rng.choice((2, 2, 3))
        for k in range(i, min(i + n, len(body))):
            body[k] = body[i]
    s = "".join(body)
    return s + luhn_digit(s)


_SPEECH_FORMATS = frozenset(("asr_digits", "asr_single_digits", "asr_phone_shaped", "asr_mixed", "spoken_digit_words",
                             "spoken_pairs", "spoken_hundreds", "spoken_thousands", "spoken_double_triple",
                             "spoken_hesitations", "spoken_self_correction", "spoken_repeats", "turns_labelled",
                             "card_with_expiry_cvv"))  # fmt: skip


def _context_line(rng: random.Random, speech: bool) -> str:
    if speech:
        return rng.choice((_amount_spoken, _date_spoken, _count_spoken, _phone_spoken, _last_four))(rng)
    return rng.choice((_access_log, _json_log, _python_log, _date_time_written, _uuid, _trace_ids))(rng)


def card_sample(rng: random.Random, pan: str, fmt: str, brand: str) -> Sample:
    toks = FORMAT_FUNCS[fmt](rng, pan)
    if rng.random() < 0.3:  # a stretch of real text around the card, with its own numbers
        speech = fmt in _SPEECH_FORMATS
        before = [_context_line(rng, speech) for _ in range(rng.randint(0, 2))]
        after = [_context_line(rng, speech) for _ in range(rng.randint(1, 2))]
        text_before = "".join(line + "\n" for line in before)
        sep_after = "" if toks and toks[-1][1].endswith("\n") else "\n"
        toks = [_g(text_before), *toks, _g(sep_after + "\n".join(after))]
    text, pans, extras = _assemble(toks)
    return Sample(text, fmt, brand, pans, extras, pan)


# --- decoys ---------------------------------------------------------------------------------------------------


def _digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _not_card(rng: random.Random, make: Callable[[], str]) -> str:
    """Regenerate an identifier until its own digits (spaces and dashes removed) are not a PAN (see docstring)."""
    for _ in range(100):
        s = make()
        d = "".join(c for c in s if c.isdigit())
        if not card_like(d):
            return s
    raise RuntimeError("could not draw a non-card identifier")


def _words_num(n: int, rng: random.Random) -> str:
    """0..9999 in words, as said in amounts and counts."""
    if n < 10:
        return _UNITS[n]
    if n < 20:
        return _TEENS[n - 10]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else rng.choice(("-", " ")) + _UNITS[n % 10])
    if n < 1000:
        rest = n % 100
        return f"{_UNITS[n // 100]} hundred" + ("" if rest == 0 else rng.choice((" and ", " ")) + _words_num(rest, rng))
    rest = n % 1000
    glue = " " if rest >= 100 else rng.choice((" and ", " "))
    return f"{_words_num(n // 1000, rng)} thousand" + ("" if rest == 0 else glue + _words_num(rest, rng))


def _phone_written(rng: random.Random) -> str:
    shapes: list[Callable[[], str]] = [
        lambda: f"07{_digits(rng, 3)} {_digits(rng, 6)}",
        lambda: f"020 {_digits(rng, 4, '3789')} {_digits(rng, 4)}",
        lambda: f"({_digits(rng, 3, '2345678')}) {_digits(rng, 3, '2345678')}-{_digits(rng, 4)}",
        lambda: f"{_digits(rng, 3, '2345678')}-{_digits(rng, 3)}-{_digits(rng, 4)}",
        lambda: f"+1 {_digits(rng, 3, '2345678')}-555-0{_digits(rng, 3)}",
        lambda: f"0{rng.choice('67')} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}",
        lambda: f"+49 30 {_digits(rng, 6)}",
        lambda: f"+91 9{_digits(rng, 4)} {_digits(rng, 5)}",
        lambda: f"+55 11 9{_digits(rng, 4)}-{_digits(rng, 4)}",
        lambda: f"04{_digits(rng, 2)} {_digits(rng, 3)} {_digits(rng, 3)}",
        lambda: f"090-{_digits(rng, 4)}-{_digits(rng, 4)}",
        lambda: f"+44 (0) 20 {_digits(rng, 4)} {_digits(rng, 4)}",
        lambda: f"+63 917 {_digits(rng, 3)} {_digits(rng, 4)}",
    ]
    num = _not_card(rng, rng.choice(shapes))
    return rng.choice((f"Caller: you can reach me on {num}", f"phone={num}", f"contact number {num}, thanks",
                       f'{{"customer":{{"phone":"{num}"}}}}', f"Callback requested to {num}."))  # fmt: skip


def _phone_e164(rng: random.Random) -> str:
    num = _not_card(rng, lambda: "+" + rng.choice(("44", "1", "49", "33", "91", "61", "81", "55", "63", "234"))
                    + _digits(rng, rng.randint(8, 11)))  # fmt: skip
    return rng.choice((f'{{"From":"{num}","To":"+1{_digits(rng, 10)}","CallStatus":"ringing"}}',
                       f"twilio inbound call from={num} sid=CA{_hex(rng, 32)}",
                       f"{_pylog_ts(rng)} INFO sms: sent OTP to {num}"))  # fmt: skip


def _phone_spoken(rng: random.Random) -> str:
    voice = _Voice(rng)
    if rng.random() < 0.5:
        num = "07" + _digits(rng, 9, "0123456789")
        parts = [num[:5], num[5:8], num[8:]]
    else:
        num = _digits(rng, 3, "2345678") + _digits(rng, 3, "2345678") + _digits(rng, 4, "0123456789")
        parts = [num[:3], num[3:6], num[6:]]
    said = rng.choice((", ", " ", "... ")).join(voice.digit_words(p, 0.6) for p in parts)
    if rng.random() < 0.25:  # French habit, said in English: "zero six, twelve, thirty-four, ..."
        num = "0" + rng.choice("67") + _digits(rng, 8, "0123456789")
        said = ", ".join([voice.pair(num[:2])] + [voice.pair(num[i : i + 2]) for i in range(2, 10, 2)])
    return rng.choice((f"Caller: my number is {said}", f"Agent: and a phone number?\nCaller: yeah it's {said}",
                       f"Caller: {_cap(rng, said)}, that's my mobile"))  # fmt: skip


def _order_number(rng: random.Random) -> str:
    shapes: list[Callable[[], str]] = [
        lambda: f"order #{_digits(rng, rng.randint(6, 11))}",
        lambda: f"order number {rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}-{_digits(rng, 5)}-{_digits(rng, 5)}",
        lambda: f"invoice INV-2025-{_digits(rng, 6, '0123456789')}",
        lambda: f"order_id={_digits(rng, rng.randint(8, 19))}",
        lambda: f"Your reference is {_digits(rng, 3)}-{_digits(rng, 7)}-{_digits(rng, 7)}",
        lambda: f"PO {_digits(rng, 10)}",
    ]
    return _not_card(rng, rng.choice(shapes))


def _tracking(rng: random.Random) -> str:
    shapes: list[Callable[[], str]] = [
        lambda: f"UPS tracking 1Z{_hex(rng, 6).upper()}{_digits(rng, 10, '0123456789')}",
        lambda: "USPS tracking " + " ".join(("9400" + _digits(rng, 18, "0123456789"))[i : i + 4] for i in range(0, 22, 4)),
        lambda: f"FedEx tracking number 7{_digits(rng, 11, '0123456789')}",
        lambda: f"tracking_number=9{_digits(rng, 21, '0123456789')}",
        lambda: f"Royal Mail {rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}{_digits(rng, 9)}GB",
    ]
    return _not_card(rng, rng.choice(shapes))


def _amount_written(rng: random.Random) -> str:
    v = rng.randint(1, 9_999_999)
    c = rng.randint(0, 99)
    return rng.choice((f"charged £{v:,}.{c:02d}", f"amount: ${v:,}.{c:02d} USD", f"EUR {v:,}.{c:02d}".replace(",", "."),
                       f'{{"amount":{v * 100 + c},"currency":"usd"}}', f"refund of {v}.{c:02d} processed",
                       f"total={v:,}.{c:02d} tax={c}.{rng.randint(0, 99):02d}"))  # fmt: skip


def _amount_spoken(rng: random.Random) -> str:
    d, c = rng.randint(1, 9999), rng.randint(1, 99)
    cur = rng.choice((("dollars", "cents"), ("pounds", "pence"), ("euros", "cents")))
    said = rng.choice((f"{_words_num(d, rng)} {cur[0]} and {_words_num(c, rng)} {cur[1]}",
                       f"{_words_num(d, rng)} {cur[0]} {_words_num(c, rng)}",
                       f"{_words_num(d % 100 or 42, rng)} {_words_num(c, rng)}"))  # fmt: skip
    return rng.choice((f"Caller: I was charged {said} twice", f"Agent: that's {said}, is that right?\nCaller: yes",
                       f"Caller: the bill says {said}"))  # fmt: skip


def _date_time_written(rng: random.Random) -> str:
    return rng.choice((_iso(rng), _pylog_ts(rng), f"[{_clf_ts(rng)}]", f"ts={rng.randint(1_500_000_000, 1_900_000_000)}",
                       f"ts_ms={rng.randint(1_500_000_000_000, 1_900_000_000_000)}",
                       f"time_us={rng.randint(1_500_000_000_000_000, 1_900_000_000_000_000)}",
                       f'"timestamp_ns":{rng.randint(1_500_000_000_000_000_000, 1_900_000_000_000_000_000)}',
                       f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(1990, 2030)} {rng.randint(0, 23)}:"
                       f"{rng.randint(0, 59):02d}"))  # fmt: skip


def _date_spoken(rng: random.Random) -> str:
    months = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")  # fmt: skip
    ordinals = ("first", "second", "third", "fourth", "fifth", "tenth", "twelfth", "twentieth", "twenty first",
                "twenty third", "thirtieth")  # fmt: skip
    year = rng.choice(("two thousand twenty five", "twenty twenty four", "nineteen eighty seven",
                       "two thousand and nine", "twenty twenty-six"))  # fmt: skip
    m = rng.choice(months)
    return rng.choice((f"Caller: it was {m} {rng.choice(ordinals)} {year}",
                       f"Caller: my date of birth is the {rng.choice(ordinals)} of {m} {year}",
                       f"Caller: since {m} {year}", f"Agent: on {m} {rng.choice(ordinals)}?\nCaller: yes, {year}"))  # fmt: skip


def _count_spoken(rng: random.Random) -> str:
    n = _words_num(rng.randint(2, 30), rng)
    return rng.choice((f"Caller: I called {n} times", f"Caller: I've been on hold for {n} minutes",
                       f"Caller: it's been {n} days and {_words_num(rng.randint(2, 12), rng)} hours",
                       f"Caller: we have two cards, one for me and one for my wife, and {n} transactions",
                       f"Caller: three or four times, maybe {n}"))  # fmt: skip


def _uuid(rng: random.Random) -> str:
    u = uuid.UUID(int=rng.getrandbits(128), version=4)
    return rng.choice((f"request_id={u}", f'{{"idempotency_key":"{u}"}}', f"X-Request-Id: {u}", str(u).upper()))


def _trace_ids(rng: random.Random) -> str:
    return rng.choice((
        f"traceparent: 00-{_hex(rng, 32)}-{_hex(rng, 16)}-01",
        f"X-B3-TraceId: {_hex(rng, 16)} X-B3-SpanId: {_hex(rng, 16)}",
        f"X-Amzn-Trace-Id: Root=1-{_hex(rng, 8)}-{_hex(rng, 24)}",
        f"dd.trace_id={_not_card(rng, lambda: _digits(rng, rng.randint(17, 19)))} "
        f"dd.span_id={_not_card(rng, lambda: _digits(rng, 15))}",
        f'{{"trace_id":"{_hex(rng, 32)}","span_id":"{_hex(rng, 16)}"}}',
    ))


def _ip_address(rng: random.Random) -> str:
    v6 = ":".join(_hex(rng, 4) for _ in range(8))
    return rng.choice((f"client={_ip(rng)}:{rng.randint(1024, 65535)}", f"upstream {_ip(rng)}:{rng.randint(80, 9999)}",
                       f"remote_addr=[{v6}]", f"X-Forwarded-For: {_ip(rng)}, {_ip(rng)}, {_ip(rng)}"))  # fmt: skip


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice((("GB", "WEST" + _digits(rng, 14, "0123456789")), ("DE", _digits(rng, 18, "0123456789")),
                                ("FR", _digits(rng, 23, "0123456789")), ("NL", "ABNA" + _digits(rng, 10, "0123456789"))))  # fmt: skip
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    iban = f"{country}{check:02d}{bban}"
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return rng.choice((f"IBAN {spaced}", f"iban={iban}", f"Please pay to {spaced}"))


def _sort_code(rng: random.Random) -> str:
    sc = f"{rng.randint(10, 99)}-{rng.randint(0, 99):02d}-{rng.randint(0, 99):02d}"
    acct = _digits(rng, 8, "0123456789")
    return rng.choice((f"sort code {sc}, account number {acct}", f"sort_code={sc.replace('-', '')} account={acct}",
                       f"Caller: sort code {sc}, account {acct}"))  # fmt: skip


def _isbn(rng: random.Random) -> str:
    body = "978" + _digits(rng, 9, "0123456789")
    check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body)) % 10) % 10
    isbn = body + str(check)
    return rng.choice((f"ISBN {isbn}", f"ISBN-13: {isbn[:3]}-{isbn[3]}-{isbn[4:7]}-{isbn[7:12]}-{isbn[12]}",
                       f"isbn={isbn}"))  # fmt: skip


def _access_log(rng: random.Random) -> str:
    status = rng.choice((200, 201, 204, 301, 302, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503))
    size = rng.randint(0, 99999)
    dur = rng.randint(0, 9_999_999) / 1_000_000
    path = rng.choice(("/v1/actions/refunds.create", "/v1/actions/charges.capture", "/healthz", "/v1/calls/"
                       + _hex(rng, 12), "/metrics", "/v1/webhooks/stripe", "/api/orders?page=" + str(rng.randint(1, 500))))  # fmt: skip
    method = rng.choice(("GET", "POST", "PUT", "DELETE"))
    if rng.random() < 0.5:
        return f'{_ip(rng)} - - [{_clf_ts(rng)}] "{method} {path} HTTP/1.1" {status} {size} {dur:.6f}'
    return (f'{_ip(rng)} - - [{_clf_ts(rng)}] "{method} {path} HTTP/1.1" {status} {size} "-" {rng.choice(_UAS)} '
            f"{dur:.3f} {rng.randint(0, 999) / 1000:.3f}")  # fmt: skip


def _json_log(rng: random.Random) -> str:
    rec = {
        "ts": _iso(rng), "level": rng.choice(("info", "warning")), "event": rng.choice(("http.request", "db.query")),
        "status": rng.choice((200, 201, 400, 402, 422, 500)), "duration_ms": round(rng.uniform(0, 9000), 3),
        "bytes": rng.randint(0, 10_000_000), "rows": rng.randint(0, 100000), "pid": rng.randint(100, 99999),
        "request_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "attempt": rng.randint(1, 5),
        "elapsed": rng.randint(0, 10**9) / 10**6, "port": rng.randint(1024, 65535),
    }  # fmt: skip
    keys = rng.sample(list(rec), k=rng.randint(5, len(rec)))
    return json.dumps({k: rec[k] for k in keys}, separators=rng.choice(((",", ":"), (", ", ": "))))


def _python_log(rng: random.Random) -> str:
    return rng.choice((
        f"{_pylog_ts(rng)} INFO [worker-{rng.randint(1, 16)}] processed {rng.randint(1, 99999)} rows in "
        f"{rng.randint(0, 9_999_999) / 1_000_000:.6f}s",
        f"{_pylog_ts(rng)} WARNING pid={rng.randint(100, 99999)} tid={_not_card(rng, lambda: str(rng.randint(10**14, 10**15)))} retry "
        f"{rng.randint(1, 5)}/{rng.randint(5, 9)} after {rng.randint(100, 9999)}ms",
        f'  File "/srv/app/gateway/handlers.py", line {rng.randint(1, 2000)}, in handle\n    await self.run({rng.randint(0, 99)})',
        f"{_pylog_ts(rng)} DEBUG pool size={rng.randint(1, 64)} in_use={rng.randint(0, 64)} waited="
        f"{rng.randint(0, 99999)}us queue={rng.randint(0, 999)}",
    ))  # fmt: skip


def _luhn_ids(rng: random.Random) -> str:
    def imei() -> str:
        body = rng.choice(("35", "86", "01", "99")) + _digits(rng, 12, "0123456789")
        return body + luhn_digit(body)

    def iccid() -> str:
        body = "89" + rng.choice(("44", "01", "49", "33")) + _digits(rng, 14, "0123456789")
        return body + luhn_digit(body)

    def sin() -> str:
        body = _digits(rng, 8, "1234567")
        d = body + luhn_digit(body)
        return f"{d[:3]} {d[3:6]} {d[6:]}"

    return rng.choice((
        lambda: f"device IMEI {_not_card(rng, imei)}",
        lambda: f'{{"imei":"{_not_card(rng, imei)}","model":"SM-G991B"}}',
        lambda: f"SIM ICCID {_not_card(rng, iccid)}",
        lambda: f"SIN {sin()}",
    ))()


def _last_four(rng: random.Random) -> str:
    l4 = _digits(rng, 4, "0123456789")
    voice = _Voice(rng)
    return rng.choice((f"card ending {l4}", f"Agent: is that the card ending in {voice.digit_words(l4, 0.3)}?",
                       f"last4={l4} brand=visa exp_month={rng.randint(1, 12)} exp_year={rng.randint(2026, 2032)}",
                       f"•••• •••• •••• {l4}", f"Caller: the last four are {voice.digit_words(l4, 0.3)}",
                       f"**** **** **** {l4}", f"XXXXXXXXXXXX{l4}"))  # fmt: skip


def _stripe_ids(rng: random.Random) -> str:
    alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    def sid(p: str) -> str:
        return p + "".join(rng.choice(alnum) for _ in range(24))

    return rng.choice((f"payment_intent={sid('pi_3')}", f"charge {sid('ch_3')} refunded via {sid('re_3')}",
                       f'{{"customer":"{sid("cus_")}","payment_method":"{sid("pm_1")}"}}',
                       f"evt_id={sid('evt_1')}"))  # fmt: skip


def _conversation_numbers(rng: random.Random) -> str:
    voice = _Voice(rng)
    parts = [
        f"Agent: can I take a phone number?\nCaller: {voice.digit_words('07' + _digits(rng, 9, '0123456789'), 0.5)}",
        f"Agent: and the postcode?\nCaller: S W one A, {voice.digit_words(_digits(rng, 1), 0)} A A",
        f"Agent: how much was it?\nCaller: {_words_num(rng.randint(10, 999), rng)} {_words_num(rng.randint(10, 99), rng)}",
        f"Agent: when was that?\nCaller: the {rng.choice(('third', 'twelfth', 'twenty first'))}, about "
        f"{_words_num(rng.randint(1, 12), rng)} {_words_num(rng.randint(10, 59), rng)}",
        f"Agent: the last four of the card?\nCaller: {voice.digit_words(_digits(rng, 4, '0123456789'), 0.3)}",
        f"Caller: my order number is {voice.digit_words(_digits(rng, 8), 0.4)}",
        f"Caller: it's flat {_words_num(rng.randint(1, 40), rng)}, {_words_num(rng.randint(1, 300), rng)} High Street",
    ]
    return "\n".join(rng.sample(parts, k=rng.randint(3, 5)))


DECOYS: dict[str, Callable[[random.Random], str]] = {
    "phone_written": _phone_written,
    "phone_e164": _phone_e164,
    "phone_spoken": _phone_spoken,
    "order_number": _order_number,
    "tracking_number": _tracking,
    "amount_written": _amount_written,
    "amount_spoken": _amount_spoken,
    "date_time_written": _date_time_written,
    "date_spoken": _date_spoken,
    "count_spoken": _count_spoken,
    "uuid": _uuid,
    "trace_ids": _trace_ids,
    "ip_address": _ip_address,
    "iban": _iban,
    "sort_code_account": _sort_code,
    "isbn": _isbn,
    "access_log": _access_log,
    "json_log": _json_log,
    "python_log": _python_log,
    "luhn_valid_ids": _luhn_ids,
    "last_four": _last_four,
    "stripe_ids": _stripe_ids,
    "conversation_numbers": _conversation_numbers,
}


def decoy_sample(rng: random.Random, cls: str) -> Sample:
    return Sample(DECOYS[cls](rng), "decoy", f"decoy:{cls}")


# --- corpus ---------------------------------------------------------------------------------------------------


def corpus(seed: int = 11, per_cell: int = 20) -> list[Sample]:
    """Every format x every brand bucket, ``per_cell`` each; each Stripe test number once per format; decoys."""
    rng = random.Random(seed)
    out: list[Sample] = []
    for fmt in FORMATS:
        make = _runs_pan if fmt == "spoken_double_triple" else synth_pan
        for label in BRAND_SPECS:
            for _ in range(per_cell):
                out.append(card_sample(rng, make(rng, label), fmt, label))
        for name, pan in STRIPE_TEST_NUMBERS.items():
            out.append(card_sample(rng, pan, fmt, f"stripe_{name}"))
    for cls in DECOYS:
        for _ in range(per_cell * 5):
            out.append(decoy_sample(rng, cls))
    return out


def per_cell_for_size(size_mb: float, seed: int = 11) -> int:
    """The ``per_cell`` that gives about ``size_mb`` MB of text (UTF-8)."""
    # Stripe numbers are a fixed part (once per format): fit size = fixed + slope * per_cell on two probes
    one, two = (sum(len(s.text.encode()) for s in corpus(seed, n)) for n in (1, 2))
    slope = two - one
    return max(1, round((size_mb * 1e6 - (one - slope)) / slope))


def describe(samples: list[Sample], examples: int = 0, out: Callable[[str], None] = print) -> None:
    cards = [s for s in samples if s.pans]
    decoys = [s for s in samples if not s.pans]
    size = sum(len(s.text.encode()) for s in samples)
    out(f"{len(samples)} samples ({len(cards)} card, {len(decoys)} decoy), {size / 1e6:.2f} MB of text")
    out("\nformat classes:")
    for k, v in sorted(Counter(s.fmt for s in cards).items()):
        out(f"  {k:<24} {v:>6}")
    out("\nbrand buckets:")
    for k, v in sorted(Counter(s.brand for s in cards).items()):
        out(f"  {k:<24} {v:>6}")
    lengths = Counter(len(s.digits) for s in cards)
    out("\ncard lengths: " + ", ".join(f"{k}: {lengths[k]}" for k in sorted(lengths)))
    out("\ndecoy classes:")
    for k, v in sorted(Counter(s.brand for s in decoys).items()):
        out(f"  {k:<32} {v:>6}")
    if examples:
        rng = random.Random(0)
        by_fmt: dict[str, list[Sample]] = {}
        for s in samples:
            by_fmt.setdefault(s.brand if not s.pans else s.fmt, []).append(s)
        for k in sorted(by_fmt):
            out(f"\n== {k}")
            for s in rng.sample(by_fmt[k], k=min(examples, len(by_fmt[k]))):
                marked = s.text
                for a, b in reversed(s.pans):
                    marked = f"{marked[:a]}⟦{marked[a:b]}⟧{marked[b:]}"
                out("  " + repr(marked)[1:-1][:400])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--per-cell", type=int, default=20)
    ap.add_argument("--size-mb", type=float, default=None, help="scale per_cell to about this much text (stats only)")
    ap.add_argument("--examples", type=int, default=None, help="examples printed per class (default 2, 0 with --size-mb)")
    args = ap.parse_args(argv)
    per_cell = args.per_cell
    if args.size_mb is not None:
        per_cell = per_cell_for_size(args.size_mb, args.seed)
    examples = args.examples if args.examples is not None else (0 if args.size_mb is not None else 2)
    samples = corpus(args.seed, per_cell)
    print(f"per_cell={per_cell} seed={args.seed}")
    describe(samples, examples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
