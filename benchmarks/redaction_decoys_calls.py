"""Development material: card-free calls, notes, logs and tables full of numbers (decoys for PAN precision).

Every text here is free of card numbers, so any "pan" finding of ``redaction.scan`` on it is a false positive.
Written from this list of real-world behaviours, not from what any evaluation corpus holds:

Phone numbers in calls
  * A callback number said in the chunks people use: digit by digit with "oh" or "zero", "double five",
    "triple seven", pairs ("forty two ninety"), "eight hundred"; or written by the recogniser as digits
    ("(555) 123-4567", "555-123-4567", "555.123.4567", "555 123 4567").
  * The agent reads the number back ("That's ...?", "Let me repeat that, ..."), or mishears a digit and the
    caller corrects the end ("No, ... at the end"); the caller says it twice ("..., yes, ...").
  * UK mobiles and landlines said digit by digit with doubles and triples ("oh seven seven double oh ...");
    international numbers with "plus" or "oh oh", a country code and groups of three.
  * A number over several turns (area code, exchange, line) with "Mm-hmm" between them, then the zip code.
  * Two numbers in one turn (home and cell), a relative's number after the caller's, a wrong area code
    corrected ("..., sorry, ..."), an extension after an office number, the best time to call back.
  * The agent dictates a toll-free number with a menu option and a reference, or with the opening hours.
Other numbers in calls
  * Order, case, confirmation and booking numbers said digit by digit, in pairs or in two chunks, and read
    back; the agent reads a list of recent orders; an order number and a phone number in one turn; a prompt
    that does not say which number comes next ("And the other one?", "And the number on the box?").
  * Amounts ("twenty nine ninety nine", "one hundred and five dollars", "$129.99"), dates of birth and
    appointments ("March third, nineteen eighty four", "oh three twelve ...", "03/12/1984"), times of day,
    years, counts and durations ("since twenty nineteen", "forty five minutes").
  * Verification in one breath: date of birth, last four of the social, zip code; member and group ids with a
    phone; account, customer and routing numbers; a UK sort code and account number.
  * Ids read from cards and labels: pharmacy insurance (BIN, group, member id), flight number, seat and
    booking reference, parcel tracking numbers (11, 12 and 22 digits, in groups of four), item numbers with
    quantities, house number, apartment and zip code, a form answered one number at a time.
Transcript formats (22 label styles)
  * Label pairs "Agent:"/"Caller:", "Rep:"/"Customer:", "Bot:"/"User:", "Assistant:"/"User:",
    "Operator:"/"Caller:", "AGENT:"/"CALLER:"; labels without a colon ("CALLER ..."), in parentheses
    ("(caller)"), names ("Maria Lopez:"), titles ("Mrs. Patel:"), "S1:"/"S2:", "SPEAKER_00:", "C:"/"A:".
  * Labels carrying digits: ids ("Customer (ID 48213):", "Customer 1 (ID 48213):", "Agent 212:"), line numbers
    ("3. Agent:"), timestamps ("[00:01:13] Caller:", "00:01:13.402 Caller:", "Speaker 1 (00:07):").
  * Turns as ISO log lines ("2025-11-29T10:00:03Z INFO caller: ..."), key=value log lines, all on one line,
    WebVTT cues with voice tags, JSON message lists ({"role": "user", "content": ...}), recogniser results with
    speaker, start and confidence, JSON-lines events ({"type": "user_input_transcribed", ...}, voice prompts).
Written numbers
  * Service logs with several numeric fields on every line (epoch and ISO times, order and user ids, amounts,
    latencies, glog lines, tab-separated rows, phones), and lines that end with a number before a line that
    starts with a timestamp or a number.
  * CSV rows (comma, semicolon, tab or pipe) of order ids, dates, phones, zips and totals; HTML tables; JSON
    request bodies and id lists (phones as strings, as parts, as "+1..."; call SIDs).
  * Chat logs with a clock time on every line; IVR logs of DTMF digits; CRM notes ("Tel ... / ...", "ref ..., cb
    ..."); SRT subtitles; voicemail transcriptions; notes with hesitations ("uh", "um", "[inaudible]").

No card number, by construction: every number is a phone number, an id, an amount, a date, a time or a count,
and a number of 12 to 19 digits (international phone numbers with their country code, parcel numbers) is
drawn again until it fails the Luhn check, so that none could be a card number whatever its prefix. A "pan"
finding can only come from gluing together numbers that a reader keeps apart.

    .venv/bin/python benchmarks/redaction_decoys_calls.py [--per-kind 200] [--seed 2] [--examples [N]]

prints the false-positive rate (texts with a "pan" finding) per kind, per style and overall, worst first.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

# Run as a script, sys.path[0] is benchmarks/, where benchmarks/redaction.py would shadow the ``redaction`` package.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(_ROOT))

import redaction
from benchmarks.redaction_corpus import DIGIT_WORDS, MONTHS, TEEN_WORDS, TENS_WORDS

Turn = tuple[str, str]  # (role: "caller" | "agent", what they say)
Decoy = tuple[str, str]  # (text, style)
Kind = Callable[[random.Random], Decoy]

DIGITS = "0123456789"
UNITS = DIGIT_WORDS
TEENS = TEEN_WORDS
TENS = TENS_WORDS
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
            9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth", 14: "fourteenth",
            15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth",
            20: "twentieth", 30: "thirtieth"}  # fmt: skip
FIRST = ["John", "Maria", "David", "Sarah", "Michael", "Linda", "James", "Priya", "Ahmed", "Chen", "Emily",
         "Robert", "Fatima", "Carlos", "Aisha", "Tom", "Grace"]  # fmt: skip
LAST = ["Smith", "Garcia", "Johnson", "Patel", "Nguyen", "Brown", "Jones", "Miller", "Davis", "Lopez", "Wilson",
        "Khan", "Okafor", "Murphy"]  # fmt: skip
STREETS = ["Main Street", "Oak Avenue", "Elm Street", "Maple Drive", "Cedar Lane", "Park Road", "Pine Street",
           "Washington Boulevard", "Lakeview Court"]  # fmt: skip
AGENT_NAMES = ["Sarah", "Kevin", "Monica", "Raj", "Tina"]

# (country code, length of the national number, its first digit)
INTL = [("44", 10, "7"), ("57", 10, "3"), ("58", 10, "4"), ("63", 10, "9"), ("62", 11, "8"), ("39", 10, "3"),
        ("52", 10, "5"), ("55", 11, "1"), ("91", 10, "9"), ("61", 9, "4"), ("353", 9, "8"), ("34", 9, "6"),
        ("49", 11, "1"), ("33", 9, "6"), ("351", 9, "9"), ("380", 9, "6"), ("86", 11, "1"), ("234", 10, "8"),
        ("27", 9, "8"), ("65", 8, "9"), ("60", 9, "1"), ("971", 9, "5"), ("966", 9, "5"), ("92", 10, "3")]  # fmt: skip


# --- numbers ------------------------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_free(number: str) -> bool:
    """A digit string that no card number could be: under 12 or over 19 digits, or failing the Luhn check."""
    return not (12 <= len(number) <= 19 and luhn_ok(number))


def rdigits(rng: random.Random, n: int, first: str = "123456789") -> str:
    """``n`` random digits, the first one from ``first``."""
    return rng.choice(first) + "".join(rng.choice(DIGITS) for _ in range(n - 1))


def us_phone(rng: random.Random) -> str:
    """A 10-digit US number (area code, exchange, line), the exchange "555" three times in ten."""
    area = rng.choice("23456789") + rng.choice(DIGITS) + rng.choice(DIGITS)
    exchange = rng.choice("23456789") + rdigits(rng, 2, DIGITS)
    line = rdigits(rng, 4, DIGITS)
    if rng.random() < 0.3:
        exchange = "555"
    return area + exchange + line


def us_tollfree(rng: random.Random) -> str:
    """An 11-digit toll-free number with its leading 1 (1 800 ...)."""
    prefix = rng.choice(["800", "888", "877", "866", "855"])
    return "1" + prefix + rdigits(rng, 3, "23456789") + rdigits(rng, 4, DIGITS)


def uk_mobile(rng: random.Random) -> str:
    prefix = rng.choice(["700", "712", "723", "734", "756", "777", "788", "799", "911", "958"])
    return "07" + prefix + rdigits(rng, 6, DIGITS)


def uk_landline(rng: random.Random) -> str:
    """An 11-digit UK landline number: area code, then a local number that starts with 2-8."""
    code = rng.choice(["020", "0161", "0121", "0113", "0131", "0141", "0117", "01632"])
    return code + rdigits(rng, 11 - len(code), "2345678")


def intl_phone(rng: random.Random) -> tuple[str, str]:
    """(country code, national number); with its country code the number (10-14 digits) is card_free."""
    while True:
        cc, n, lead = rng.choice(INTL)
        national = lead + rdigits(rng, n - 1, DIGITS)
        if card_free(cc + national):
            return cc, national


def tracking_no(rng: random.Random) -> str:
    """A parcel number: FedEx (12 digits, card_free), USPS (22), UPS (11) or a 9-digit shop reference."""
    carrier = rng.choice(["fedex", "usps", "ups", "shop"])
    if carrier == "usps":
        return "9" + rng.choice(["400", "205", "407", "300"]) + rdigits(rng, 18, DIGITS)
    if carrier == "ups":
        return rdigits(rng, 11)
    if carrier == "shop":
        return rdigits(rng, 9)
    while True:
        fedex = rdigits(rng, 12)
        if card_free(fedex):
            return fedex


def call_sid(rng: random.Random) -> str:
    """A Twilio-style call SID ("CA" and 32 hex digits) whose runs of decimal digits are all card_free."""
    while True:
        sid = "CA" + "".join(rng.choice("0123456789abcdef") for _ in range(32))
        if all(card_free(run) for run in re.findall(r"[0-9]+", sid)):
            return sid


def order_no(rng: random.Random) -> str:
    return rdigits(rng, rng.choice([6, 7, 8, 8, 9, 10]))


def zip5(rng: random.Random) -> str:
    return rdigits(rng, 5, DIGITS)


def acct_no(rng: random.Random) -> str:
    return rdigits(rng, rng.choice([8, 9, 10, 11]))


def short_id(rng: random.Random) -> str:
    return rdigits(rng, rng.choice([4, 5, 6]))


# --- spoken forms -------------------------------------------------------------------------------------------


def unit(d: str, rng: random.Random, zero: str | None = None) -> str:
    """One digit as a word; zero as ``zero`` if given, else "oh" (two times in three) or "zero"."""
    if d == "0":
        return zero or rng.choice(["oh", "oh", "zero"])
    return UNITS[int(d)]


def two(dd: str, rng: random.Random) -> str:
    """A two-digit group as a number word ("forty two", "forty-two", "oh five", "nineteen", "twenty")."""
    a, b = dd[0], dd[1]
    if a == "0":
        return f"{rng.choice(['oh', 'zero'])} {unit(b, rng)}"
    if a == "1":
        return TEENS[int(b)]
    if b == "0":
        return TENS[int(a)]
    return f"{TENS[int(a)]}{rng.choice([' ', '-'])}{UNITS[int(b)]}"


def small_number(n: int, rng: random.Random) -> str:
    """0-99 as words: a unit below ten, else ``two``."""
    return two(f"{n:02d}", rng) if n >= 10 else UNITS[n]


def ordinal(day: int) -> str:
    """1-31 as an ordinal word ("third", "twenty first")."""
    return ORDINALS.get(day) or f"{TENS[day // 10]} {ORDINALS[day % 10]}"


def say_units(s: str, rng: random.Random, doubles: float = 0.3, zero: str | None = None) -> str:
    """Digit by digit, with "double"/"triple" for repeats (each taken with probability ``doubles``)."""
    out = []
    i = 0
    z = zero or rng.choice(["oh", "zero"])
    while i < len(s):
        if i + 2 < len(s) and s[i] == s[i + 1] == s[i + 2] and rng.random() < doubles:
            out.append("triple " + unit(s[i], rng, z))
            i += 3
        elif i + 1 < len(s) and s[i] == s[i + 1] and rng.random() < doubles:
            out.append("double " + unit(s[i], rng, z))
            i += 2
        else:
            out.append(unit(s[i], rng, z))
            i += 1
    return " ".join(out)


def say_group(s: str, rng: random.Random) -> str:
    """A digit group said the way people say phone chunks: units, pairs, "eight hundred", doubles."""
    r = rng.random()
    if len(s) == 3 and s[1:] == "00" and r < 0.8:
        return f"{UNITS[int(s[0])]} hundred"
    if len(s) == 4 and r < 0.35 and s[0] != "0":
        return two(s[:2], rng) + " " + two(s[2:], rng)
    if len(s) == 4 and s[2:] == "00" and r < 0.6 and s[0] != "0":
        return two(s[:2], rng) + " hundred"
    if len(s) == 3 and r < 0.25 and s[1] != "0":
        return unit(s[0], rng) + " " + two(s[1:], rng)
    if len(s) == 2 and r < 0.5:
        return two(s, rng)
    return say_units(s, rng)


def split_chunks(s: str, chunks: list[int]) -> list[str]:
    """``s`` cut into pieces of the given lengths, the rest (if any) as a last piece."""
    parts = []
    i = 0
    for c in chunks:
        parts.append(s[i : i + c])
        i += c
    if i < len(s):
        parts.append(s[i:])
    return parts


def say_chunks(s: str, chunks: list[int], rng: random.Random, sep: str | None = None) -> str:
    """Spoken chunk by chunk, with a pause between chunks (", ", "... ", " - ")."""
    parts = split_chunks(s, chunks)
    sep = sep or rng.choice([", ", " ", ", ", "... ", " - "])
    return sep.join(say_group(p, rng) for p in parts)


def write_chunks(s: str, chunks: list[int], rng: random.Random, sep: str | None = None) -> str:
    """Written chunk by chunk, separated by a space, a hyphen or a dot."""
    parts = split_chunks(s, chunks)
    sep = sep if sep is not None else rng.choice([" ", "-", ".", " "])
    return sep.join(parts)


def phone_chunks(p: str) -> list[int]:
    """How a phone number is grouped: 3-3-4 (US), 1-3-3-4 (toll-free), 5-6 (UK mobile), 4-3-4 (UK landline)."""
    if len(p) == 10:
        return [3, 3, 4]
    if len(p) == 11 and p[0] == "1":
        return [1, 3, 3, 4]
    if len(p) == 11 and p.startswith("07"):
        return [5, 6]
    if len(p) == 11:
        return [4, 3, 4]
    return [3, 3, len(p) - 6]


def say_phone(p: str, rng: random.Random, spoken: bool | None = None) -> str:
    """A phone number in a transcript: spoken (seven times in ten) or written by the recogniser as digits."""
    if spoken is None:
        spoken = rng.random() < 0.7
    if spoken:
        return say_chunks(p, phone_chunks(p), rng)
    if len(p) == 10 and rng.random() < 0.3:
        return f"({p[:3]}) {p[3:6]}-{p[6:]}"
    return write_chunks(p, phone_chunks(p), rng)


def say_number(s: str, rng: random.Random, spoken: bool | None = None) -> str:
    """An id (order, account, zip) in a transcript: digits, digit words, two chunks, or pairs."""
    if spoken is None:
        spoken = rng.random() < 0.65
    if not spoken:
        if len(s) >= 8 and rng.random() < 0.4:
            return write_chunks(s, [len(s) // 2], rng, " ")
        return s
    r = rng.random()
    if r < 0.5:
        return say_units(s, rng)
    if r < 0.8 and len(s) >= 4:
        cut = rng.choice(range(2, len(s) - 1))
        return say_chunks(s, [cut], rng)
    out = []
    i = 0
    while i < len(s):
        if i + 1 < len(s) and s[i] != "0" and rng.random() < 0.6:
            out.append(two(s[i : i + 2], rng))
            i += 2
        else:
            out.append(unit(s[i], rng))
            i += 1
    return " ".join(out)


def say_dollars(dollars: int, rng: random.Random) -> str:
    """1-2500 as people say prices: "forty two", "three hundred and five", "three oh five", "twelve fifty"."""
    if dollars < 100:
        return small_number(dollars, rng)
    if dollars < 1000:
        hundreds, rest = divmod(dollars, 100)
        if rest == 0:
            return f"{UNITS[hundreds]} hundred"
        if rng.random() < 0.5:
            conj = "and " if rng.random() < 0.3 else ""
            return f"{UNITS[hundreds]} hundred {conj}{small_number(rest, rng)}"
        return f"{UNITS[hundreds]} {two(f'{rest:02d}', rng)}"
    d = str(dollars)
    return two(d[:2], rng) + " " + (two(d[2:], rng) if d[2:] != "00" else "hundred")


def say_amount(rng: random.Random) -> tuple[str, str]:
    """(spoken, written) for a dollar amount."""
    dollars = rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 2500)])
    cents = rng.choice([0, 50, 99, 95, 25, 49, rng.randint(1, 99)])
    dw = say_dollars(dollars, rng)
    if cents == 0:
        spoken = dw + rng.choice([" dollars", "", " even"])
    else:
        cw = two(f"{cents:02d}", rng)
        spoken = rng.choice([f"{dw} {cw}", f"{dw} dollars and {cw} cents", f"{dw}, {cw}"])
    return spoken, f"${dollars}.{cents:02d}"


def say_year(y: int, rng: random.Random) -> str:
    """A year: "nineteen eighty four", "twenty twenty five", "two thousand (and) six", "twenty oh six"."""
    if y == 2000:
        return rng.choice(["two thousand", "the year two thousand"])
    if 2000 <= y <= 2009:
        u = UNITS[y - 2000]
        return rng.choice([f"two thousand {u}", f"two thousand and {u}", f"twenty oh {u}"])
    s = str(y)
    return two(s[:2], rng) + " " + two(s[2:], rng)


def say_date(rng: random.Random) -> str:
    """A date (birthday, appointment, order date): "March third, ...", "oh three twelve ...", "03/12/1984"."""
    m = rng.randint(1, 12)
    d = rng.randint(1, 28)
    y = rng.choice([rng.randint(1945, 2005), rng.randint(2023, 2026)])
    r = rng.random()
    if r < 0.3:
        return f"{MONTHS[m - 1]} {ordinal(d)}, {say_year(y, rng)}"
    if r < 0.6:
        return f"{say_units(f'{m:02d}', rng)} {two(f'{d:02d}', rng)} {say_year(y, rng)}"
    if r < 0.8:
        return f"{m:02d}/{d:02d}/{y}"
    return f"{small_number(m, rng)} {small_number(d, rng)} {two(str(y)[2:], rng)}"


def say_time(rng: random.Random) -> str:
    """A time of day: "three o'clock", "eleven fifteen", "nine oh five"."""
    h = rng.randint(1, 12)
    mi = rng.choice([0, 15, 30, 45, 10, 20, 40, 50, 5])
    hour = UNITS[h] if h < 10 else TEENS[h - 10]
    if mi == 0:
        return f"{hour} o'clock"
    return f"{hour} {two(f'{mi:02d}', rng)}"


def filler(rng: random.Random) -> str:
    return rng.choice(["", "", "uh, ", "um, ", "yeah, ", "okay, ", "so ", "it's ", "sure, "])


def ack(rng: random.Random) -> str:
    return rng.choice(["Mm-hmm.", "Okay.", "Got it.", "Go ahead.", "Uh-huh.", "Alright.", "Okay, thank you.",
                       "Perfect.", "Sure."])  # fmt: skip


# --- transcripts --------------------------------------------------------------------------------------------

STYLES = ["colon", "bare", "paren", "names", "title", "s1", "isolog", "kv", "idlabel", "bracket_ts", "speaker_ts",
          "speaker_underscore", "oneline", "json_role", "json_speaker", "json_event", "json_voiceprompt", "numbered",
          "shorthand", "vtt", "ts_line", "customer_n"]  # fmt: skip
COLON_LABELS = [("Agent", "Caller"), ("Agent", "Customer"), ("Rep", "Customer"), ("AGENT", "CALLER"), ("Bot", "User"),
                ("Assistant", "User"), ("Operator", "Caller")]  # fmt: skip


def _clock(rng: random.Random, i: int) -> str:
    """The call clock at turn ``i`` (hh:mm:ss)."""
    return f"00:{i // 4:02d}:{(i * 13 + rng.randint(0, 9)) % 60:02d}"


def _fixed_labels(style: str, rng: random.Random) -> tuple[str, str] | None:
    """(caller, agent) line prefixes of the styles whose label is the same on every line, else None."""
    caller_name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    agent_name = rng.choice(AGENT_NAMES)
    title = f"{rng.choice(['Mr.', 'Mrs.', 'Ms.', 'Dr.'])} {rng.choice(LAST)}"
    cid = rng.randint(10000, 99999)
    aid = rng.randint(1, 999)
    if style == "colon":
        agent, caller = rng.choice(COLON_LABELS)
        return f"{caller}: ", f"{agent}: "
    fixed = {
        "bare": ("CALLER ", "AGENT "),
        "paren": ("(caller) ", "(agent) "),
        "names": (f"{caller_name}: ", f"{agent_name}: "),
        "title": (f"{title}: ", "Agent: "),
        "s1": ("S1: ", "S2: "),
        "idlabel": (f"Customer (ID {cid}): ", f"Agent (ID {aid}): "),
        "customer_n": (f"Customer 1 (ID {cid}): ", f"Agent {aid}: "),
        "speaker_underscore": ("SPEAKER_00: ", "SPEAKER_01: "),
        "shorthand": ("C: ", "A: "),
    }
    return fixed.get(style)


def _indexed_line(style: str, i: int, role: str, text: str, rng: random.Random) -> str:
    """A line of the styles whose label carries the turn's number or time."""
    label = role.title()
    if style == "isolog":
        return f"2025-11-29T10:{i // 60:02d}:{i % 60:02d}Z INFO {role}: {text}"
    if style == "kv":
        return f'ts=2025-11-29T10:00:{i:02d}Z speaker={role} text="{text}"'
    if style == "bracket_ts":
        return f"[{_clock(rng, i)}] {label}: {text}"
    if style == "ts_line":
        return f"{_clock(rng, i)}.{rng.randint(0, 999):03d} {label}: {text}"
    if style == "speaker_ts":
        return f"Speaker {1 if role == 'caller' else 2} ({i // 4:02d}:{(i * 7) % 60:02d}): {text}"
    if style == "numbered":
        return f"{i + 1}. {label}: {text}"
    raise ValueError(style)


def _json_transcript(style: str, turns: list[Turn], rng: random.Random) -> str:
    """Transcripts as JSON: a message list, recogniser results, or JSON-lines events."""
    if style == "json_role":
        return json.dumps([{"role": "user" if r == "caller" else "assistant", "content": t} for r, t in turns])
    if style == "json_speaker":
        results = [
            {"transcript": t, "speaker": 0 if r == "caller" else 1, "start": round(i * 2.1, 2),
             "confidence": round(rng.uniform(0.8, 0.99), 2)}
            for i, (r, t) in enumerate(turns)
        ]  # fmt: skip
        return json.dumps({"results": results})
    if style == "json_event":
        events = [{"type": "user_input_transcribed" if r == "caller" else "agent_speech", "transcript": t,
                   "is_final": True} for r, t in turns]  # fmt: skip
        return "\n".join(json.dumps(e) for e in events)
    if style == "json_voiceprompt":
        lines = []
        for r, t in turns:
            if r == "caller":
                lines.append(json.dumps({"type": "prompt", "voicePrompt": t, "lang": "en-US", "last": True}))
            else:
                lines.append(json.dumps({"type": "text", "token": t, "last": True}))
        return "\n".join(lines)
    raise ValueError(style)


def render(turns: list[Turn], rng: random.Random, style: str | None = None) -> Decoy:
    """A transcript of ``turns`` in one of the 22 label styles (plain text or JSON), and the style."""
    style = style or rng.choice(STYLES)
    fixed = _fixed_labels(style, rng)
    if fixed is not None:
        caller, agent = fixed
        return "\n".join((caller if r == "caller" else agent) + t for r, t in turns), style
    if style == "vtt":
        cues = ["WEBVTT", ""]
        for i, (r, t) in enumerate(turns):
            cues += [f"00:00:{i * 3:02d}.000 --> 00:00:{i * 3 + 3:02d}.000", f"<v {r.title()}>{t}", ""]
        return "\n".join(cues), style
    if style == "oneline":
        return " ".join(f"{'Customer' if r == 'caller' else 'Agent'}: {t}" for r, t in turns), style
    if style.startswith("json_"):
        return _json_transcript(style, turns, rng), style
    return "\n".join(_indexed_line(style, i, r, t, rng) for i, (r, t) in enumerate(turns)), style


# --- kinds: phone numbers in calls --------------------------------------------------------------------------


def k_phone_readback_us(rng: random.Random) -> Decoy:
    p = us_phone(rng)
    said = say_phone(p, rng)
    back = say_phone(p, rng)
    turns = [("agent", rng.choice(["Can I get a good callback number?", "What's the best number to reach you?",
                                    "And a phone number on the account?"])),
             ("caller", f"{filler(rng)}{said}"),
             ("agent", rng.choice([f"That's {back}?", f"I have {back}, correct?", f"Let me repeat that, {back}."])),
             ("caller", rng.choice(["Yes.", "Yes, that's right.", "Correct.", "Yep."]))]  # fmt: skip
    return render(turns, rng)


def k_phone_readback_uk(rng: random.Random) -> Decoy:
    p = rng.choice([uk_mobile, uk_landline])(rng)
    digit_by_digit = rng.random() < 0.7
    said = say_units(p, rng, doubles=0.7, zero="oh") if digit_by_digit else say_chunks(p, phone_chunks(p), rng)
    back = say_units(p, rng, doubles=0.7, zero="oh")
    turns = [("agent", "And could I take a contact number, please?"),
             ("caller", f"{filler(rng)}{said}"),
             ("agent", f"So that's {back}."),
             ("caller", rng.choice(["That's it.", "Yes.", "Lovely, yes."]))]  # fmt: skip
    return render(turns, rng)


def k_phone_intl(rng: random.Random) -> Decoy:
    cc, nat = intl_phone(rng)
    lead = rng.choice(["plus ", "plus ", "", "oh oh "])
    said = lead + say_units(cc, rng) + ", " + say_chunks(nat, [3, 3], rng)
    if rng.random() < 0.3:
        said = ("+" if rng.random() < 0.5 else "") + cc + " " + write_chunks(nat, [3, 3], rng, " ")
    back = say_units(cc, rng) + " " + say_units(nat, rng)
    turns = [("agent", "What number can we reach you on while you're abroad?"),
             ("caller", f"{filler(rng)}it's {said}"),
             ("agent", rng.choice([f"Okay, {back}.", "Okay, and that's with the country code?", ack(rng)])),
             ("caller", "Yes, with the country code.")]  # fmt: skip
    return render(turns, rng)


def k_phone_split_turns(rng: random.Random) -> Decoy:
    """A phone number over three turns with acknowledgements between, then the zip code."""
    p = us_phone(rng)
    turns = [("agent", "What's your phone number?")]
    for i, chunk in enumerate([p[:3], p[3:6], p[6:]]):
        turns.append(("caller", say_number(chunk, rng)))
        if i < 2:
            turns.append(("agent", ack(rng)))
    z = zip5(rng)
    turns.append(("agent", rng.choice(["And the billing zip?", "And what's your zip code?", "Zip code?"])))
    turns.append(("caller", say_number(z, rng)))
    return render(turns, rng)


def k_phone_then_untopical(rng: random.Random) -> Decoy:
    """A phone number, then the agent asks for another number without saying which kind ("and the other one?")."""
    p = us_phone(rng)
    o = order_no(rng)
    q = rng.choice(["And the number on your receipt?", "And the one on the letter?", "Okay, and the other one?",
                    "And the number at the top of the email?", "What's the number on the box?",
                    "And your wife's?", "And the number it says on the screen?", "And the second one?"])  # fmt: skip
    turns = [("agent", "What's the best number to reach you?"), ("caller", say_phone(p, rng)),
             ("agent", q), ("caller", f"{filler(rng)}{say_number(o, rng)}")]  # fmt: skip
    return render(turns, rng)


def k_two_phones(rng: random.Random) -> Decoy:
    p1, p2 = us_phone(rng), us_phone(rng)
    conj = rng.choice([", or my cell is ", ". My cell, ", ", and the cell is ", ". Or ", ", and work is ",
                       ". The other one is ", ", ", "... and "])  # fmt: skip
    turns = [("agent", "What's a good number for you?"),
             ("caller", f"{filler(rng)}home is {say_phone(p1, rng)}{conj}{say_phone(p2, rng)}"),
             ("agent", ack(rng))]  # fmt: skip
    return render(turns, rng)


def k_callers_two_people(rng: random.Random) -> Decoy:
    """Two people's phone numbers in the caller's turns (the caller's, then a relative's)."""
    p1, p2 = us_phone(rng), us_phone(rng)
    first = say_phone(p1, rng)
    q = rng.choice(["And your husband's?", "And for your son?", "And an alternate?", "And the second contact?"])
    turns = [("agent", "Best number for you?"), ("caller", first),
             ("agent", q), ("caller", f"{filler(rng)}{say_phone(p2, rng)}")]  # fmt: skip
    return render(turns, rng)


def k_readback_misheard(rng: random.Random) -> Decoy:
    """The agent reads the number back with one digit wrong; the caller corrects the end."""
    p = us_phone(rng)
    wrong = list(p)
    i = rng.randrange(3, 10)
    wrong[i] = str((int(wrong[i]) + rng.randint(1, 9)) % 10)
    turns = [("agent", "And your phone number?"), ("caller", say_phone(p, rng, True)),
             ("agent", f"I have {say_phone(''.join(wrong), rng, True)}."),
             ("caller", f"No, {say_number(p[6:], rng)} at the end."),
             ("agent", f"Sorry, {say_phone(p, rng)}.")]  # fmt: skip
    return render(turns, rng)


def k_phone_repeated(rng: random.Random) -> Decoy:
    """The caller says the number twice in one turn."""
    p = us_phone(rng)
    again = f"{say_phone(p, rng, True)}, {rng.choice(['yes', 'yeah', 'I said'])}, {say_phone(p, rng, True)}"
    turns = [("agent", "What number are you calling from?"), ("caller", again), ("agent", ack(rng))]
    return render(turns, rng)


def k_phone_extension(rng: random.Random) -> Decoy:
    p = rng.choice([us_phone, us_tollfree])(rng)
    ext = rdigits(rng, rng.choice([3, 4, 5]))
    form = rng.random()
    if form < 0.4:
        s = f"{write_chunks(p, phone_chunks(p), rng, '-')}, {ext}"
    elif form < 0.7:
        s = f"{say_phone(p, rng)}, {rng.choice(['extension', 'ext', 'x'])} {say_number(ext, rng)}"
    else:
        s = f"{say_phone(p, rng)}, then {say_number(ext, rng)}"
    turns = [("agent", "Where can the manager call you back?"), ("caller", f"My office, {s}."), ("agent", ack(rng))]
    return render(turns, rng)


def k_phone_caller_then_agent_readback_then_zip(rng: random.Random) -> Decoy:
    p, z = us_phone(rng), zip5(rng)
    turns = [("agent", "Phone number?"), ("caller", say_phone(p, rng)),
             ("agent", f"{say_phone(p, rng)}. And zip?"), ("caller", say_number(z, rng)),
             ("agent", say_number(z, rng) + ".")]  # fmt: skip
    return render(turns, rng)


def k_caller_corrects_area_code(rng: random.Random) -> Decoy:
    """A wrong area code, a correction word, then the whole number."""
    p = us_phone(rng)
    wrong = say_number(rdigits(rng, 3, "23456789"), rng, True)
    oops = rng.choice(["sorry", "no wait", "I mean", "actually"])
    turns = [("agent", "Callback number?"),
             ("caller", f"{wrong}, {oops}, {say_phone(p, rng, True)}"),
             ("agent", f"{say_phone(p, rng)}?"), ("caller", "Yes.")]  # fmt: skip
    return render(turns, rng)


def k_phone_then_time(rng: random.Random) -> Decoy:
    """A phone number, then the best time to call back."""
    p = us_phone(rng)
    t = say_time(rng)
    q = rng.choice(["And what's a good time to call?", "When's best to reach you?", "Morning or afternoon?",
                    "And what time works for the callback?"])  # fmt: skip
    ans = rng.choice([f"after {t}", f"{t}", f"around {t}", f"{t} or so", f"{t} is fine"])
    turns = [("agent", "And a callback number?"), ("caller", say_phone(p, rng)), ("agent", q),
             ("caller", f"{filler(rng)}{ans}")]  # fmt: skip
    return render(turns, rng)


def k_phone_then_birthday(rng: random.Random) -> Decoy:
    """A phone number, then the date of birth or the last four of the social."""
    p = us_phone(rng)
    ans = say_date(rng)
    q = rng.choice(["And your birthday?", "And when were you born?", "And your DOB?",
                    "Okay, and your birthday, please?", "And your last four?",
                    "And the last four of your social?"])  # fmt: skip
    if "last four" in q:
        ans = say_number(rdigits(rng, 4, DIGITS), rng)
    turns = [("agent", "Can I get the phone number on file?"), ("caller", say_phone(p, rng)), ("agent", q),
             ("caller", f"{filler(rng)}{ans}")]  # fmt: skip
    return render(turns, rng)


def k_ssn_last4_phone(rng: random.Random) -> Decoy:
    l4, p = rdigits(rng, 4, DIGITS), us_phone(rng)
    turns = [("agent", "Last four of your social?"), ("caller", say_number(l4, rng)),
             ("agent", ack(rng)), ("caller", f"and my phone's {say_phone(p, rng)}")]  # fmt: skip
    return render(turns, rng)


def k_agent_dictates_callback(rng: random.Random) -> Decoy:
    """The agent gives the caller numbers: a toll-free line, a menu option and a reference."""
    tf = us_tollfree(rng)
    ref = rdigits(rng, rng.choice([6, 7, 8]))
    opt = UNITS[rng.randint(1, 9)]
    turns = [("caller", "What number do I call if it happens again?"),
             ("agent", f"You can call {say_phone(tf, rng)}, option {opt}, and quote reference {say_number(ref, rng)}."),
             ("caller", f"{say_phone(tf, rng)}, option {opt}, {say_number(ref, rng)}. Thanks.")]  # fmt: skip
    return render(turns, rng)


def k_agent_gives_hours_and_number(rng: random.Random) -> Decoy:
    p = us_tollfree(rng)
    hours = rng.choice(["eight to eight", "nine to five", "seven thirty to six"])
    turns = [("caller", "When are you open?"),
             ("agent", f"We're open {hours} Monday to Friday, and the number is {say_phone(p, rng)}."),
             ("caller", "Thanks.")]  # fmt: skip
    return render(turns, rng)


# --- kinds: other numbers in calls --------------------------------------------------------------------------


def k_amounts_spoken(rng: random.Random) -> Decoy:
    a1, a2, a3 = say_amount(rng), say_amount(rng), say_amount(rng)
    turns = [("agent", "I see a few charges on the statement."),
             ("caller", f"Yeah, there's one for {a1[0]}, then {a2[0]}, and another {a3[0]} I don't recognize."),
             ("agent", f"Okay, so {a1[1]}, {a2[1]} and {a3[1]}."),
             ("caller", "Right.")]  # fmt: skip
    return render(turns, rng)


def k_store_hours_prices(rng: random.Random) -> Decoy:
    """Prices and hours: "nine to five", "twenty nine ninety nine"."""
    monthly, yearly = say_amount(rng)[0], say_amount(rng)[0]
    hours = rng.choice(["nine to five", "eight to eight", "ten till six"])
    turns = [("caller", "What time are you open till?"),
             ("agent", f"We're open {hours} weekdays. The plan is {monthly} a month, or {yearly} for the year."),
             ("caller", f"So {monthly} a month?"),
             ("agent", "Yes.")]  # fmt: skip
    return render(turns, rng)


def k_dates_times(rng: random.Random) -> Decoy:
    d1, t1 = say_date(rng), say_time(rng)
    d2, t2 = say_date(rng), say_time(rng)
    turns = [("agent", "When would you like the appointment?"),
             ("caller", f"Could we do {d1} at {t1}?"),
             ("agent", f"I have {d2} at {t2} available."),
             ("caller", f"Okay, {d2}, {t2} works.")]  # fmt: skip
    return render(turns, rng)


def k_years_counts(rng: random.Random) -> Decoy:
    """Years, counts, durations: "since twenty nineteen", "three times", "forty five minutes"."""
    y1, y2 = rng.randint(1995, 2025), rng.randint(1995, 2025)
    since = f"since {say_year(y1, rng)}, {rng.choice(['twelve', 'fifteen', 'three'])} years"
    times = rng.choice(["two", "three", "four"])
    turns = [("caller", f"I've been a member {since}, and I called {times} times."),
             ("agent", f"I see, since {say_year(y1, rng)}. Your last call was in {say_year(y2, rng)}, "
                       f"for {rng.choice(['forty five', 'twenty', 'thirty'])} minutes."),
             ("caller", f"{say_year(y2, rng)}, yes, {say_year(y2, rng)}.")]  # fmt: skip
    return render(turns, rng)


def k_dob_zip(rng: random.Random) -> Decoy:
    d = say_date(rng)
    z = zip5(rng)
    turns = [("agent", "For verification, your date of birth and zip code?"),
             ("caller", f"{d}, and the zip is {say_number(z, rng)}"),
             ("agent", f"Thank you, {say_number(z, rng)}."),
             ("caller", "Yes.")]  # fmt: skip
    return render(turns, rng)


def k_verification_combo(rng: random.Random) -> Decoy:
    """Date of birth, last four of the social and zip code in one breath (a verification answer)."""
    d = say_date(rng)
    l4, z = rdigits(rng, 4, DIGITS), zip5(rng)
    orders = [(d, say_number(l4, rng), say_number(z, rng)), (say_number(z, rng), d, say_number(l4, rng))]
    answer = rng.choice(orders)
    sep = rng.choice([", ", ". ", "... ", ", and ", " and "])
    turns = [("agent", "To verify, I need your date of birth, last four of your social and zip."),
             ("caller", f"{filler(rng)}{sep.join(answer)}"), ("agent", "Thank you, you're verified.")]  # fmt: skip
    return render(turns, rng)


def k_account_labelled(rng: random.Random) -> Decoy:
    """An account number, a customer/member/branch number and a routing number."""
    a = acct_no(rng)
    routing = rdigits(rng, 9, "0123")
    s = short_id(rng)
    account = f"{filler(rng)}account {say_number(a, rng)}"
    other = rng.choice(["and the customer number", "member", "and the branch"])
    turns = [("agent", "Can you read me the account number from the statement?"),
             ("caller", f"{account}, {other} {say_number(s, rng)}"),
             ("agent", f"{say_number(a, rng)}, thank you."),
             ("caller", f"And the routing is {say_number(routing, rng)}.")]  # fmt: skip
    return render(turns, rng)


def k_uk_bank_details(rng: random.Random) -> Decoy:
    """A UK sort code in pairs and an account number, read back written."""
    sc = rdigits(rng, 6, DIGITS)
    acc = rdigits(rng, 8, DIGITS)
    pairs = [sc[i : i + 2] for i in (0, 2, 4)]
    sc_said = ", ".join(two(p, rng) if rng.random() < 0.5 else say_units(p, rng, zero="oh") for p in pairs)
    lead = filler(rng)
    then = rng.choice(["and the account is", "account", "then"])
    turns = [("agent", "For the refund, can I take your bank details?"),
             ("caller", f"{lead}sort code {sc_said}, {then} {say_number(acc, rng)}"),
             ("agent", f"So {'-'.join(pairs)}, and {acc}."),
             ("caller", "That's right.")]  # fmt: skip
    return render(turns, rng)


def k_confirmation_codes(rng: random.Random) -> Decoy:
    c1 = rdigits(rng, rng.choice([6, 7, 8]))
    c2 = rdigits(rng, rng.choice([5, 6]))
    turns = [("agent", f"Your confirmation number is {say_number(c1, rng)}."),
             ("caller", f"{say_number(c1, rng)}?"),
             ("agent", f"Yes. And your case number is {say_number(c2, rng)}."),
             ("caller", f"Okay, {say_number(c2, rng)}. Got it.")]  # fmt: skip
    return render(turns, rng)


def k_agent_phone_then_case(rng: random.Random) -> Decoy:
    """The caller's number read back by the agent with a case number in the same turn."""
    p = us_phone(rng)
    c = rdigits(rng, rng.choice([6, 7, 8]))
    turns = [("caller", f"You can reach me at {say_phone(p, rng)}."),
             ("agent", f"{say_phone(p, rng)}, and your case number is {say_number(c, rng)}."),
             ("caller", f"{say_number(c, rng)}, thanks.")]  # fmt: skip
    return render(turns, rng)


def k_order_and_phone_same_turn(rng: random.Random) -> Decoy:
    o, p = order_no(rng), us_phone(rng)
    a, b = say_number(o, rng), say_phone(p, rng)
    line = rng.choice([f"{a}, and {b}", f"it's {a}... {b} is my number", f"{a}. {b}", f"order {a}, phone {b}",
                       f"{a}, uh, {b}"])  # fmt: skip
    turns = [("agent", "Can I have the order number and your phone?"), ("caller", line), ("agent", ack(rng))]
    return render(turns, rng)


def k_agent_reads_list(rng: random.Random) -> Decoy:
    """The agent reads a list of numbers (recent orders, claim numbers) back to the caller."""
    ids = [rdigits(rng, rng.choice([5, 6, 7])) for _ in range(rng.randint(3, 4))]
    listed = ", ".join(say_number(i, rng) for i in ids[:-1])
    turns = [("caller", "What were my last few orders?"),
             ("agent", f"I see {listed} and {say_number(ids[-1], rng)}."),
             ("caller", f"{say_number(ids[0], rng)} is the one.")]  # fmt: skip
    return render(turns, rng)


def k_multi_numbers_one_turn(rng: random.Random) -> Decoy:
    """Member id, group number and phone number in one turn, in any order."""
    m, g, p = short_id(rng), rdigits(rng, 4), us_phone(rng)
    parts = [f"member ID {say_number(m, rng)}", f"group {say_number(g, rng)}", f"phone {say_phone(p, rng)}"]
    rng.shuffle(parts)
    answer = filler(rng) + rng.choice([", ", ", and ", ", then "]).join(parts)
    turns = [("agent", "Can I get your details?"), ("caller", answer), ("agent", ack(rng))]
    return render(turns, rng)


def k_address_spoken(rng: random.Random) -> Decoy:
    house = str(rng.randint(10, 9999))
    apt = str(rng.randint(100, 999))
    z = zip5(rng)
    p = us_phone(rng)
    turns = [("agent", "And the shipping address?"),
             ("caller", f"{say_number(house, rng)} {rng.choice(STREETS)}, apartment {say_number(apt, rng)}, "
                        f"{say_number(z, rng)}"),
             ("agent", f"{house} {rng.choice(STREETS)}, unit {apt}, {z}?"),
             ("caller", f"Yes. Phone is {say_phone(p, rng)}.")]  # fmt: skip
    return render(turns, rng)


def k_quantities_items(rng: random.Random) -> Decoy:
    """Item numbers with quantities, a correction, and the agent's read-back."""
    i1, i2 = rdigits(rng, 5), rdigits(rng, 6)
    said = (f"I ordered {rng.choice(['two', 'three', 'four'])} of item {say_number(i1, rng)}, "
            f"no wait, {rng.choice(['one', 'two'])} of {say_number(i1, rng)} "
            f"and {rng.choice(['one', 'five'])} of {say_number(i2, rng)}")  # fmt: skip
    turns = [("caller", said), ("agent", f"So {say_number(i1, rng)} and {say_number(i2, rng)}."), ("caller", "Yes.")]
    return render(turns, rng)


def k_tracking(rng: random.Random) -> Decoy:
    """A parcel number read from the label, as it is or in groups of four, then the zip code."""
    t = tracking_no(rng)
    label = rng.choice(["The package number is", "It says", "The number on the label is", "Shipment",
                        "The reference on the slip is"])  # fmt: skip
    written = write_chunks(t, [4] * (len(t) // 4), rng, " ") if rng.random() < 0.5 else t
    turns = [("caller", f"My parcel hasn't arrived. {label} {written}."),
             ("agent", rng.choice(["Let me look that up.", "One moment.", "Thanks, and your zip code?"])),
             ("caller", f"{say_number(zip5(rng), rng)}")]  # fmt: skip
    return render(turns, rng)


def k_pharmacy_ids(rng: random.Random) -> Decoy:
    """Insurance card numbers read for a prescription: BIN, group, member id."""
    b = rng.choice(["610014", "004336", "610020", "003858", "610502"])
    g, m = rdigits(rng, rng.choice([5, 6, 7])), rdigits(rng, 9)
    turns = [("agent", "Can you read me the numbers on your insurance card?"),
             ("caller", f"RX BIN {say_number(b, rng)}, group {say_number(g, rng)}, "
                        f"and the member number is {say_number(m, rng)}"),
             ("agent", f"BIN {b}, group {g}, ID {m}."), ("caller", "Yes.")]  # fmt: skip
    return render(turns, rng)


def k_flight_booking(rng: random.Random) -> Decoy:
    fl = str(rng.randint(100, 2999))
    seat = f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}"
    d = say_date(rng)
    conf = rdigits(rng, 6)
    turns = [("caller", f"I'm on flight {say_number(fl, rng)} on {d}, seat {seat}."),
             ("agent", "Can I have the booking reference?"),
             ("caller", f"{say_number(conf, rng)}"),
             ("agent", f"Flight {fl}, booking {conf}. One moment.")]  # fmt: skip
    return render(turns, rng)


def k_multi_turn_short_numbers(rng: random.Random) -> Decoy:
    """Many short numeric answers in a row (a caller answering a form: household, vehicle year, mileage)."""
    qs = [("How many people in the household?", str(rng.randint(1, 6))),
          ("Year of the vehicle?", str(rng.randint(1998, 2025))),
          ("Mileage?", str(rng.randint(10000, 150000))),
          ("How many claims in the last five years?", str(rng.randint(0, 3))),
          ("Square footage?", str(rng.randint(800, 4000))),
          ("Year built?", str(rng.randint(1950, 2020)))]  # fmt: skip
    rng.shuffle(qs)
    turns = []
    for q, a in qs[: rng.randint(3, 5)]:
        turns.append(("agent", q))
        if len(a) != 4 or rng.random() < 0.5:
            turns.append(("caller", say_number(a, rng)))
        else:
            turns.append(("caller", say_year(int(a), rng) if 1900 < int(a) < 2100 else a))
    return render(turns, rng)


# --- kinds: transcripts in their own formats ----------------------------------------------------------------


def k_speaker_ids(rng: random.Random) -> Decoy:
    """Labels carrying ids or digits ("Customer #48213:", "caller[48213]:"), short turns of numbers."""
    cid, aid = rng.randint(10000, 99999), rng.randint(100, 9999)
    o, z = order_no(rng), zip5(rng)
    labels = [(f"Customer (ID {cid})", f"Agent (ID {aid})"), (f"Caller {rng.randint(1, 9)}", f"Agent {aid}"),
              (f"Customer #{cid}", f"Agent #{aid}"), (f"caller[{cid}]", f"agent[{aid}]"),
              (f"Customer 1 (ID {cid})", f"Agent 2 (ID {aid})"), (f"User {cid}", f"Agent {aid}")]  # fmt: skip
    caller, agent = rng.choice(labels)
    turns = [("agent", "Order number?"), ("caller", say_number(o, rng)), ("agent", "And the zip?"),
             ("caller", say_number(z, rng))]  # fmt: skip
    return "\n".join(f"{caller if r == 'caller' else agent}: {t}" for r, t in turns), "idlabels"


def k_timestamped_lines(rng: random.Random) -> Decoy:
    """A clock, date-time or epoch before the label on every line."""
    o, p = order_no(rng), us_phone(rng)
    turns = [("agent", "Order number please."), ("caller", say_number(o, rng, spoken=rng.random() < 0.5)),
             ("agent", "Thanks, and a phone number?"), ("caller", say_phone(p, rng))]  # fmt: skip
    fmt = rng.choice(["{h:02d}:{m:02d}:{s:02d}", "[{h:02d}:{m:02d}:{s:02d}.{ms:03d}]", "{m:02d}:{s:02d}",
                      "2025-11-29 {h:02d}:{m:02d}:{s:02d}", "({m}:{s:02d})", "{e}"])  # fmt: skip
    lines = []
    t0 = rng.randint(0, 3000)
    for i, (r, t) in enumerate(turns):
        sec = t0 + i * rng.randint(2, 9)
        stamp = fmt.format(h=10 + sec // 3600, m=(sec // 60) % 60, s=sec % 60, ms=rng.randint(0, 999),
                           e=1764410400 + sec)  # fmt: skip
        lines.append(f"{stamp} {r.title()}: {t}")
    return "\n".join(lines), "ts_each_line"


def k_srt_numbers(rng: random.Random) -> Decoy:
    o, p = order_no(rng), us_phone(rng)
    texts = [f"My order number is {say_number(o, rng)}", f"and my number is {say_phone(p, rng)}", "thank you"]
    cues = [f"{i + 1}\n00:00:{i * 4:02d},000 --> 00:00:{i * 4 + 3:02d},500\n{t}\n" for i, t in enumerate(texts)]
    return "\n".join(cues), "srt"


def k_voicemail_plain(rng: random.Random) -> Decoy:
    """A voicemail transcription: no speaker labels, one caller, several numbers with hesitations."""
    o, p = order_no(rng), us_phone(rng)
    variants = [
        f"Hi, this is {rng.choice(FIRST)}, calling about order {say_number(o, rng)}, um, "
        f"you can call me back at {say_phone(p, rng)}. Thanks.",
        f"Hey it's {rng.choice(FIRST)}, uh, my account is {say_number(o, rng)}, uh, "
        f"and my number is {say_phone(p, rng)}, bye.",
        f"Hi, um, {say_number(o, rng)} is the reference, uh, {say_phone(p, rng)}, thank you.",
        f"This message is for {rng.choice(FIRST)}. Please call {say_phone(p, rng)} regarding claim "
        f"{say_number(o, rng)}.",
        f"Hi, it's about the delivery, uh, {say_number(o, rng)}, my cell is {say_phone(p, rng)}.",
    ]
    return rng.choice(variants), "voicemail"


def k_ivr_dtmf(rng: random.Random) -> Decoy:
    """An IVR log: account number and PIN as DTMF tones, the callback number read by the IVR."""
    acct, pin, p = acct_no(rng), rdigits(rng, 4, DIGITS), us_phone(rng)
    spaced = " ".join(acct)
    lines = ["IVR: Please enter your account number followed by pound.",
             f"Caller: [DTMF {spaced} #]" if rng.random() < 0.5 else f"DTMF: {spaced}",
             "IVR: Please enter your four digit PIN.",
             f"Caller: [DTMF {' '.join(pin)}]",
             f"IVR: Your callback number is {say_phone(p, rng, True)}. Press one to confirm.",
             "Caller: [DTMF 1]"]  # fmt: skip
    return "\n".join(lines), "ivr"


def k_chat_log(rng: random.Random) -> Decoy:
    """A customer chat log with names and clock times on every line."""
    customer = rng.choice(FIRST)
    agent = rng.choice(AGENT_NAMES)
    o, p = order_no(rng), us_phone(rng)
    phone = rng.choice([p, write_chunks(p, [3, 3, 4], rng, "-"), f"({p[:3]}) {p[3:6]}-{p[6:]}"])
    msgs = [(agent, "Hi! How can I help today?"), (customer, f"hi my order {o} hasn't shipped"),
            (agent, "Sorry about that! Can you confirm the phone on the order?"), (customer, phone),
            (agent, f"Thanks! I see order {o}, it ships tomorrow.")]  # fmt: skip
    h, m = rng.randint(8, 20), rng.randint(0, 50)
    line = rng.choice(["[{h}:{m:02d}] {n}: {t}", "{h}:{m:02d} {n}: {t}", "{n} ({h}:{m:02d}): {t}",
                       "{n} [{h}:{m:02d} PM]: {t}"])  # fmt: skip
    return "\n".join(line.format(h=h, m=m + i, n=n, t=t) for i, (n, t) in enumerate(msgs)), "chat"


# --- kinds: written numbers ---------------------------------------------------------------------------------


def k_hesitation_plain(rng: random.Random) -> Decoy:
    """Plain sentences (notes, emails) with hesitations next to numbers."""
    o, p = order_no(rng), us_phone(rng)
    variants = [
        f"Customer called about order {o} uh {write_chunks(p, [3, 3, 4], rng, '-')} is the callback",
        f"ticket {o}, um, {p[:3]} {p[3:6]} {p[6:]} left voicemail",
        f"Note: cust said {o} hmm then {say_phone(p, rng, False)}",
        f"[inaudible] {o} [inaudible] {p}",
        f"voicemail: hi it's about order {o} uh call me back at {write_chunks(p, [3, 3, 4], rng, ' ')} thanks",
    ]
    return rng.choice(variants), "plain"


def k_notes_phones(rng: random.Random) -> Decoy:
    """CRM notes: several phone numbers or ids on one line with / ; , separators."""
    p1, p2, o = us_phone(rng), us_phone(rng), order_no(rng)

    def w(p: str) -> str:
        return rng.choice([write_chunks(p, [3, 3, 4], rng, "-"), p, f"({p[:3]}) {p[3:6]}-{p[6:]}",
                           write_chunks(p, [3, 3, 4], rng, ".")])  # fmt: skip

    variants = [f"Tel {w(p1)} / {w(p2)}", f"phones: {w(p1)}; {w(p2)}", f"cust {o} - {w(p1)}",
                f"Contact: {w(p1)}, alt {w(p2)}", f"{o} / {w(p1)}", f"#{o} {w(p1)}",
                f"Called {w(p1)} (no answer), then {w(p2)}", f"ref {o}, cb {w(p1)}"]  # fmt: skip
    return rng.choice(variants), "notes"


def k_log_lines(rng: random.Random) -> Decoy:
    """Service logs: several numeric fields per line, numbers on every line."""
    lines = []
    t = 1764410400 + rng.randint(0, 100000)
    for i in range(rng.randint(3, 7)):
        oid, uid, ms = order_no(rng), rdigits(rng, rng.choice([5, 6, 7])), rng.randint(3, 2500)
        amt = f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}"
        phone = us_phone(rng)
        variants = [
            f"2025-11-29 10:{i:02d}:{rng.randint(0, 59):02d},{rng.randint(0, 999):03d} INFO order={oid} user={uid} "
            f"amount={amt} took {ms}ms",
            f"{t + i} {oid} {uid} {amt} {ms}",
            f"[{t + i}] POST /api/orders/{oid}/items/{uid} 200 {ms}",
            f"I1129 10:{i:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d} {rng.randint(1000, 99999)} "
            f"handler.go:{rng.randint(10, 999)}] order {oid} user {uid}",
            f"{oid}\t{uid}\t{amt}",
            f"sms sent to {phone} order {oid}",
            f"callback {write_chunks(phone, [3, 3, 4], rng, '-')} queued id {uid}",
            f"{i + 1} {oid} {phone}",
        ]
        lines.append(rng.choice(variants))
    return "\n".join(lines), "log"


def k_log_line_end_numbers(rng: random.Random) -> Decoy:
    """Log lines that end with a number (an id, a phone, a duration), each followed by a line that starts with a
    timestamp or a number: only a line break between them."""
    lines = []
    t = 1764410400 + rng.randint(0, 100000)
    start = rng.choice(["iso", "epoch", "date", "seq", "clock"])
    for i in range(rng.randint(3, 6)):
        x = rng.choice([order_no(rng), us_phone(rng), str(rng.randint(3, 9999)), rdigits(rng, 6)])
        stamps = {"iso": f"2025-11-29T10:{i:02d}:{rng.randint(0, 59):02d}Z",
                  "epoch": f"{t + i * 7}",
                  "date": f"2025-11-29 10:{i:02d}:{rng.randint(0, 59):02d}",
                  "seq": f"{i + 1}",
                  "clock": f"10:{i:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}"}  # fmt: skip
        msg = rng.choice([f"INFO queued callback to {x}", f"WARN retry order_id {x}", f"INFO sms delivered {x}",
                          f"DEBUG latency_ms {x}", f"INFO ticket closed #{x}", f"INFO user {x}"])  # fmt: skip
        lines.append(f"{stamps[start]} {msg}")
    return "\n".join(lines), "log_eol"


def k_csv_rows(rng: random.Random) -> Decoy:
    head = rng.choice(["order_id,date,phone,zip,total", "id,customer_phone,amount,qty", "ticket,opened,phone,agent_id"])
    rows = [head]
    for _ in range(rng.randint(3, 8)):
        oid, p, z = order_no(rng), us_phone(rng), zip5(rng)
        amt = f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}"
        pw = rng.choice([p, write_chunks(p, [3, 3, 4], rng, "-"), f"({p[:3]}) {p[3:6]}-{p[6:]}", "+1" + p])
        if head.startswith("order"):
            rows.append(f"{oid},2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{pw},{z},{amt}")
        elif head.startswith("id"):
            rows.append(f"{oid},{pw},{amt},{rng.randint(1, 9)}")
        else:
            opened = f"2025-11-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
            rows.append(f"{oid},{opened},{pw},{rng.randint(100, 999)}")
    sep = rng.choice([",", ";", "\t", "|"])
    return "\n".join(r.replace(",", sep) for r in rows), "csv"


def k_html_table(rng: random.Random) -> Decoy:
    rows = []
    for _ in range(rng.randint(2, 5)):
        o, p = order_no(rng), us_phone(rng)
        amt = f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}"
        phone = write_chunks(p, [3, 3, 4], rng, rng.choice([" ", "-"]))
        rows.append(f"<tr><td>{o}</td><td>{phone}</td><td>{amt}</td></tr>")
    return "<table>" + "".join(rows) + "</table>", "html"


def k_json_bodies(rng: random.Random) -> Decoy:
    """API bodies and events with several numeric fields, sometimes inside a log line."""
    o, p, z, u = order_no(rng), us_phone(rng), zip5(rng), rdigits(rng, 6)
    bodies: list[dict[str, object]] = [
        {"order_id": int(o), "customer": {"phone": p, "zip": z},
         "items": [int(rdigits(rng, 5)), int(rdigits(rng, 5))]},
        {"user_id": u, "phone": write_chunks(p, [3, 3, 4], rng, "-"), "order": o, "qty": rng.randint(1, 9)},
        {"ids": [int(order_no(rng)) for _ in range(4)]},
        {"phone_parts": [p[:3], p[3:6], p[6:]], "ext": rdigits(rng, 4)},
        {"part1": int(o), "part2": int(z), "part3": int(u)},
        {"from": "+1" + p, "to": "+1" + us_phone(rng), "account": o, "callSid": call_sid(rng)},
    ]  # fmt: skip
    s = json.dumps(rng.choice(bodies), indent=rng.choice([None, 2]))
    if rng.random() < 0.4:
        s = f"2025-11-29T10:00:0{rng.randint(0, 9)}Z DEBUG request body={s}"
    return s, "json_body"


def k_json_ids_list(rng: random.Random) -> Decoy:
    """JSON arrays and objects with several numeric ids (orders, SKUs, user ids, phones)."""
    ids = [int(rdigits(rng, rng.choice([6, 7, 8, 9]))) for _ in range(rng.randint(2, 6))]
    values: list[object] = [
        {"order_ids": ids}, {"skus": [str(i) for i in ids]}, {"user_id": ids[0], "order_id": ids[1]},
        [{"id": i, "qty": rng.randint(1, 5)} for i in ids], {"phones": [us_phone(rng), us_phone(rng)]},
        {"phone1": us_phone(rng), "phone2": us_phone(rng)}, {"line1": ids[0], "line2": ids[1]},
    ]  # fmt: skip
    return json.dumps(rng.choice(values)), "json_ids"


KINDS: dict[str, Kind] = {
    "phone_readback_us": k_phone_readback_us,
    "phone_readback_uk": k_phone_readback_uk,
    "phone_intl": k_phone_intl,
    "phone_split_turns": k_phone_split_turns,
    "phone_then_untopical": k_phone_then_untopical,
    "two_phones": k_two_phones,
    "amounts_spoken": k_amounts_spoken,
    "dates_times": k_dates_times,
    "dob_zip": k_dob_zip,
    "account_labelled": k_account_labelled,
    "confirmation_codes": k_confirmation_codes,
    "tracking": k_tracking,
    "readback_misheard": k_readback_misheard,
    "phone_repeated": k_phone_repeated,
    "phone_extension": k_phone_extension,
    "agent_phone_then_case": k_agent_phone_then_case,
    "multi_numbers_one_turn": k_multi_numbers_one_turn,
    "ssn_last4_phone": k_ssn_last4_phone,
    "address_spoken": k_address_spoken,
    "quantities_items": k_quantities_items,
    "speaker_ids": k_speaker_ids,
    "timestamped_lines": k_timestamped_lines,
    "log_lines": k_log_lines,
    "csv_rows": k_csv_rows,
    "json_bodies": k_json_bodies,
    "chat_log": k_chat_log,
    "ivr_dtmf": k_ivr_dtmf,
    "hesitation_plain": k_hesitation_plain,
    "srt_numbers": k_srt_numbers,
    "html_table": k_html_table,
    "callers_two_people": k_callers_two_people,
    "order_and_phone_same_turn": k_order_and_phone_same_turn,
    "agent_reads_list": k_agent_reads_list,
    "store_hours_prices": k_store_hours_prices,
    "phone_caller_then_agent_readback_then_zip": k_phone_caller_then_agent_readback_then_zip,
    "years_counts": k_years_counts,
    "phone_then_time": k_phone_then_time,
    "phone_then_birthday": k_phone_then_birthday,
    "verification_combo": k_verification_combo,
    "uk_bank_details": k_uk_bank_details,
    "log_line_end_numbers": k_log_line_end_numbers,
    "voicemail_plain": k_voicemail_plain,
    "agent_dictates_callback": k_agent_dictates_callback,
    "pharmacy_ids": k_pharmacy_ids,
    "flight_booking": k_flight_booking,
    "caller_corrects_area_code": k_caller_corrects_area_code,
    "notes_phones": k_notes_phones,
    "json_ids_list": k_json_ids_list,
    "agent_gives_hours_and_number": k_agent_gives_hours_and_number,
    "multi_turn_short_numbers": k_multi_turn_short_numbers,
}


def samples(seed: int, per_kind: int) -> list[tuple[str, str, str]]:
    """``per_kind`` texts of every kind as (kind, style, text); each kind draws from its own ``seed:kind`` stream,
    so a kind's texts do not change when kinds are added or removed."""
    out = []
    for kind, make in KINDS.items():
        rng = random.Random(f"{seed}:{kind}")
        for _ in range(per_kind):
            text, style = make(rng)
            # (a generator bug, not a detector result)
            assert all(card_free(run) for run in re.findall(r"[0-9]+", text)), f"{kind}: a Luhn-valid run in {text!r}"
            out.append((kind, style, text))
    return out


# --- benchmark ----------------------------------------------------------------------------------------------


def pan_spans(text: str) -> list[str]:
    """The parts of ``text`` that ``redaction.scan`` reports as card numbers."""
    return [text[f.start : f.end] for f in redaction.scan(text) if f.kind == "pan"]


def _table(title: str, flagged: Counter[str], total: Counter[str]) -> list[str]:
    width = max(len(title), *(len(k) for k in total))
    lines = [f"{title:{width}} {'FP':>5} {'N':>6} {'rate':>7}"]
    for key in sorted(total, key=lambda k: (-flagged[k] / total[k], k)):
        lines.append(f"{key:{width}} {flagged[key]:5d} {total[key]:6d} {100 * flagged[key] / total[key]:6.2f}%")
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--per-kind", type=int, default=200, help="texts per kind (default 200)")
    ap.add_argument("--seed", type=int, default=2, help="seed (default 2)")
    ap.add_argument("--examples", type=int, nargs="?", const=3, default=0, metavar="N",
                    help="also print the N shortest flagged texts of each kind (3 if N is left out)")  # fmt: skip
    args = ap.parse_args(argv)

    by_kind: Counter[str] = Counter()
    by_style: Counter[str] = Counter()
    kind_fp: Counter[str] = Counter()
    style_fp: Counter[str] = Counter()
    examples: dict[str, list[tuple[str, list[str]]]] = {}
    for kind, style, text in samples(args.seed, args.per_kind):
        spans = pan_spans(text)
        by_kind[kind] += 1
        by_style[style] += 1
        if spans:
            kind_fp[kind] += 1
            style_fp[style] += 1
            examples.setdefault(kind, []).append((text, spans))

    total, fps = by_kind.total(), kind_fp.total()
    print(f"redaction decoys (calls): {total} card-free texts, seed {args.seed}, {args.per_kind} per kind")
    print(f"overall: {fps} with a pan finding, FP rate {100 * fps / total:.2f}%\n")
    print("\n".join(_table("kind", kind_fp, by_kind)))
    print()
    print("\n".join(_table("style", style_fp, by_style)))
    if args.examples:
        for kind in sorted(examples, key=lambda k: -kind_fp[k]):
            print(f"\n=== {kind}: {kind_fp[kind]} flagged, the {args.examples} shortest")
            for text, spans in sorted(examples[kind], key=lambda e: len(e[0]))[: args.examples]:
                print(f"--- pan: {spans}\n{text}")


if __name__ == "__main__":
    main()
