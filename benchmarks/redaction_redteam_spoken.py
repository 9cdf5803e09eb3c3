"""Red-team generator: card numbers given by voice, with the repeats and confirmations of real calls.

This module is written independently of the detector and of the team's other corpora. It builds
synthetic call excerpts (contact-centre agents, IVR / voice bots, raw speech-recogniser output) in
which a caller gives a payment card number and then has to repeat, correct or confirm it, and it
measures where ``redaction.scan`` leaves card digits uncovered.

Behaviours modelled (from how card-taking calls actually go):

* Repeats on request.  The line drops or the agent mistypes, and the caller says the whole number
  again: the same way, or in another grouping (pairs, threes, eight and eight, one long run), in
  words the first time and digits the second (the recogniser's number formatting often flips
  between turns), faster (run together) or slower (digit by digit with pauses).
* Echoing.  Many agents echo each group as they type it ("4242, got it", "okay, five five five
  five", "and the next four?"), or echo only some groups and backchannel the rest ("mm-hmm",
  "yep", "uh-huh", "go on").  While the caller reads straight off the card, the agent's echoes
  land in chunks that do not line up with the caller's groups.
* Single-group repeats.  "Sorry, was the third group five five five five or five five five six?"
  The caller re-says that group only.  A group that is not only the last four is still card data.
* Read-backs.  The agent reads the whole number back and the caller confirms; or the read-back has
  one digit wrong and the caller corrects that group ("no, it's 5555, not 5556"), after which the
  agent reads the corrected number back again.  Agents also read back a partial number and ask
  for the rest ("I've got 4242 4242 4242, and then?").
* Self-corrections.  "four two four one, no sorry, four two four two"; restarts from the top
  ("I've lost my place, let me start again"); restarts from the group before; each group said
  twice as a habit; a partial number (eight digits) interrupted by the agent, then the whole.
* Split turns.  The caller gives one group per turn with the agent saying "okay", "next four",
  "go ahead" in between; someone else in the room reads the card and the caller relays it.
* Speech-recogniser artefacts.  Dropped groups that the agent has to ask for ("I've only got
  twelve digits"); digits merged into pairs ("forty two forty two"), thousands ("four thousand two
  hundred forty two"), prices, clock times and phone-number formatting from inverse text
  normalisation; "double five", "triple seven", "oh" / "o" / "nought" for zero; hesitations ("uh",
  "um", "let me see", "hang on"), cut-off words ("fo- four", "s- seven"), homophones ("for",
  "to", "ate", "won"), "[inaudible]" markers, timestamps and speaker labels cutting through a
  number ("spk_1:", "Speaker 0:", "[00:01:12]"), lowercase unpunctuated streams with no labels.
* Card details together.  Card number, expiry and security code in one breath, then the agent
  asks for the expiry or the code again, or for the long number once more.
* IVR and voice bots.  "Please say or key in your card number", re-prompts after no-match, "I
  heard ... is that right?", capture four digits at a time.

Card-free controls (``brand="decoy:<family>"``, ``pans=[]``) put the same repeat behaviours on
phone numbers, order and tracking numbers, bank sort codes and account numbers, member IDs,
one-time passcodes, amounts, and "card ending in ..." mentions, to show over-eager matching.

Span convention: a PAN span is every stretch that says card digits beyond the last four -- the
whole number each time it is said or read back (by caller, agent or bot, including a read-back with
a wrong digit) and any repeated or corrected fragment of four or more digits that is not only the
last four.  A span runs from the first card token to the last, including fillers in between; a
stretch is split where text between two card pieces carries other numbers (speaker labels such as
"spk_1", timestamps, "next four").  A mention of only the last four is not a span, and neither is a piece that says
only the last group when that group is within the last four (the caller's last group in its own
turn, the agent's echo of it): such a piece is left out at the edge of a span.

Run from the repository root::

    .venv/bin/python benchmarks/redaction_redteam_spoken.py [--per-family N] [--seed S] [--examples K]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

_ROOT = Path(__file__).resolve().parent.parent
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]
sys.path.insert(0, str(_ROOT))

T = TypeVar("T")


@dataclass
class Sample:
    text: str
    fmt: str  # family name, e.g. "repeat_whole_after_agent_asks"
    brand: str  # e.g. "visa16", "amex15"; "decoy:<family>" for card-free controls
    pans: list[tuple[int, int]]  # [start, end) of every stretch of text that carries card digits
    digits: str = ""  # the card number


# --------------------------------------------------------------------------------------------
# Token vocabulary
# --------------------------------------------------------------------------------------------

ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = {
    "2": "twenty",
    "3": "thirty",
    "4": "forty",
    "5": "fifty",
    "6": "sixty",
    "7": "seventy",
    "8": "eighty",
    "9": "ninety",
}
NUMBER_WORDS = (*ONES, *TEENS, *TENS.values(), "hundred", "thousand", "oh", "o", "double", "triple", "nought")
# Tokens that must be covered for a sample to count as recalled (the team's definition).
CARD_TOKEN_RE = re.compile(r"\d|\b(?:" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
# Also used to trim span edges: recogniser homophones of digits are card tokens too.
EDGE_TOKEN_RE = re.compile(
    r"\d|\b(?:" + "|".join((*NUMBER_WORDS, "for", "fore", "to", "too", "won", "ate")) + r")\b", re.I
)


# --------------------------------------------------------------------------------------------
# Synthetic card numbers
# --------------------------------------------------------------------------------------------


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def default_groups(length: int, brand: str) -> list[int]:
    if brand.startswith("amex"):
        return [4, 6, 5]
    if brand.startswith("diners"):
        return [4, 6, 4]
    groups = [4] * (length // 4)
    rest = length % 4
    if rest == 1:
        groups[-1] += 1
    elif rest:
        groups.append(rest)
    return groups


@dataclass
class Card:
    digits: str
    brand: str
    groups: list[int]

    def split(self, grouping: Sequence[int] | None = None) -> list[str]:
        out, i = [], 0
        for n in grouping or self.groups:
            out.append(self.digits[i : i + n])
            i += n
        if i < len(self.digits):
            out.append(self.digits[i:])
        return [g for g in out if g]

    def offsets(self) -> list[int]:
        out, i = [], 0
        for n in self.groups:
            out.append(i)
            i += n
        return out

    @property
    def last4(self) -> str:
        return self.digits[-4:]

    def fragment_is_span(self, start: int, end: int) -> bool:
        """A repeated fragment is card data when it has 4+ digits and reaches beyond the last four."""
        return end - start >= 4 and start < len(self.digits) - 4


def _brand_prefix(rng: random.Random, family: str) -> str:
    match family:
        case "visa":
            return "4"
        case "mc":
            return str(rng.randint(51, 55)) if rng.random() < 0.75 else str(rng.randint(2221, 2720))
        case "amex":
            return rng.choice(("34", "37"))
        case "discover":
            return "6011" if rng.random() < 0.5 else "65"
        case "jcb":
            return str(rng.randint(3528, 3589))
        case "diners":
            return "36"
        case "unionpay":
            return "62"
        case "maestro":
            return rng.choice(("6759", "5018"))
    raise ValueError(family)


BRAND_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("visa", 32),
    ("mc", 24),
    ("amex", 10),
    ("discover", 7),
    ("jcb", 5),
    ("diners", 4),
    ("unionpay", 9),
    ("maestro", 9),
)


def make_card(rng: random.Random, runny: bool = False) -> Card:
    fam = rng.choices([b for b, _ in BRAND_WEIGHTS], weights=[w for _, w in BRAND_WEIGHTS])[0]
    length = {
        "visa": 16,
        "mc": 16,
        "amex": 15,
        "discover": 16,
        "jcb": 16,
        "diners": 14,
        "unionpay": rng.choice((16, 16, 17, 18, 19, 19)),
        "maestro": rng.choice((12, 13, 16, 16, 18, 19)),
    }[fam]
    body = _brand_prefix(rng, fam)
    while len(body) < length - 1:
        if runny and body and rng.random() < 0.45:
            body += body[-1]
        else:
            body += str(rng.randint(0, 9))
    digits = body + luhn_check_digit(body)
    assert luhn_ok(digits)
    brand = f"{fam}{length}"
    return Card(digits, brand, default_groups(length, brand))


def _not_card_like(rng: random.Random, digits: str) -> str:
    """Make a decoy number fail Luhn if its length is card-like, so a hit on it is a false positive."""
    if 12 <= len(digits) <= 19 and luhn_ok(digits):
        last = (int(digits[-1]) + rng.randint(1, 9)) % 10
        digits = digits[:-1] + str(last)
    return digits


# --------------------------------------------------------------------------------------------
# Transcript styles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    name: str
    agent: str
    caller: str
    sep: str
    lower: bool = False
    strip: bool = False
    stamp: bool = False
    modes: tuple[tuple[str, float], ...] = (
        ("digits", 3),
        ("words", 3),
        ("spaced", 1),
        ("words_comma", 1),
        ("pairs", 1),
        ("mixed", 0.5),
    )
    joiners: tuple[str, ...] = (", ", " ", ". ", "... ", " - ", ", ")
    uk: bool = False


WORDY = (("words", 5), ("pairs", 2), ("runs", 1), ("mixed", 0.3))
DIGITY = (("digits", 6), ("spaced", 2), ("pairs_digits", 1), ("mixed", 1), ("words", 1))

STYLES: tuple[Style, ...] = (
    Style("agent_caller", "Agent: ", "Caller: ", "\n"),
    Style("rep_customer", "Representative: ", "Customer: ", "\n", uk=False),
    Style("agent_customer_uk", "Agent: ", "Customer: ", "\n", uk=True),
    Style("upper_labels", "AGENT: ", "CALLER: ", "\n", modes=DIGITY),
    Style("aws_spk", "spk_0: ", "spk_1: ", "\n", modes=DIGITY),
    Style("deepgram", "Speaker 0: ", "Speaker 1: ", "\n", modes=(("digits", 4), ("words", 2), ("spaced", 1))),
    Style("google_ccai", "AGENT: ", "END_USER: ", "\n", modes=DIGITY),
    Style("timestamped", "Agent: ", "Customer: ", "\n", stamp=True),
    Style(
        "whisper_plain",
        "",
        "",
        " ",
        modes=(("digits", 4), ("words", 2), ("pairs", 1), ("hyphen", 1), ("pairs_digits", 1)),
        joiners=(", ", " ", ". ", "-", "... "),
    ),
    Style("raw_asr", "", "", " ", lower=True, strip=True, modes=WORDY, joiners=(" ",)),
    Style("lower_labels_unpunct", "agent: ", "customer: ", "\n", lower=True, strip=True, modes=WORDY, joiners=(" ",)),
)
BOT_STYLES: tuple[Style, ...] = (
    Style("bot_user", "Bot: ", "User: ", "\n", modes=DIGITY),
    Style("ivr_lower", "bot: ", "user: ", "\n", lower=True, strip=True, modes=WORDY, joiners=(" ",)),
    Style("assistant_caller", "Assistant: ", "Caller: ", "\n"),
)


# --------------------------------------------------------------------------------------------
# Transcript builder
# --------------------------------------------------------------------------------------------


@dataclass
class C:
    """A piece of text that carries card digits.

    ``tail`` marks a piece that carries nothing beyond the last four digits (the last group said
    on its own, an echo of it): such pieces extend a span they sit inside but never start or end one.
    """

    text: str
    tail: bool = False


Part = str | C
_PUNCT = re.compile(r"[?!;\"]|(?<!\d)[.,:]|[.,:](?!\d)")  # keep "4,242" / "$31.40" / "10:45"


class Call:
    def __init__(self, rng: random.Random, style: Style) -> None:
        self.rng = rng
        self.style = style
        self.chunks: list[str] = []
        self.n = 0
        self.pieces: list[tuple[int, int, int, bool]] = []
        self.sid = 0
        self.clock = rng.randint(4, 70)
        self.last_label: str | None = None

    def _fmt(self, s: str) -> str:
        if self.style.lower:
            s = s.lower()
        if self.style.strip:
            s = _PUNCT.sub("", s)
            s = re.sub(r" {2,}", " ", s)
        return s

    def _emit(self, s: str, card: bool = False, tail: bool = False) -> None:
        if not s:
            return
        if card:
            self.pieces.append((self.n, self.n + len(s), self.sid, tail))
        self.chunks.append(s)
        self.n += len(s)

    def new(self) -> None:
        """Start a new stretch: card pieces of different stretches never share a span."""
        self.sid += 1

    def turn(self, label: str, parts: Sequence[Part]) -> None:
        if self.chunks and label == self.last_label:
            self._emit(" ")  # same speaker again: one turn
        else:
            if self.chunks:
                self._emit(self.style.sep)
            if self.style.stamp:
                self.clock += self.rng.randint(1, 7)
                self._emit(f"[00:{self.clock // 60:02d}:{self.clock % 60:02d}] ")
            self._emit(label)
        self.last_label = label
        for p in parts:
            is_card = isinstance(p, C)
            t = self._fmt(p.text if isinstance(p, C) else p)
            if self.style.strip and self.chunks and self.chunks[-1].endswith(" ") and t.startswith(" "):
                t = t[1:]  # stripping punctuation can leave doubled spaces across parts
            self._emit(t, is_card, isinstance(p, C) and p.tail)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def spans(self) -> list[tuple[int, int]]:
        text = self.text
        out: list[tuple[int, int]] = []
        by_sid: dict[int, list[tuple[int, int, bool]]] = {}
        for s, e, sid, tail in self.pieces:
            by_sid.setdefault(sid, []).append((s, e, tail))
        for pieces in by_sid.values():
            pieces.sort()
            groups: list[list[tuple[int, int, bool]]] = [[pieces[0]]]
            for piece in pieces[1:]:
                if CARD_TOKEN_RE.search(text[groups[-1][-1][1] : piece[0]]):
                    groups.append([piece])  # other numbers in between: a separate stretch
                else:
                    groups[-1].append(piece)
            for grp in groups:
                while grp and grp[-1][2]:
                    grp.pop()
                while grp and grp[0][2]:
                    grp.pop(0)
                if not grp:
                    continue
                toks = list(EDGE_TOKEN_RE.finditer(text, grp[0][0], grp[-1][1]))
                if toks:
                    out.append((toks[0].start(), toks[-1].end()))
        return sorted(out)


# --------------------------------------------------------------------------------------------
# Kit: what a family function works with
# --------------------------------------------------------------------------------------------


def _int_words(n: int, uk: bool) -> str:
    parts: list[str] = []
    if n >= 1000:
        parts.append(f"{ONES[n // 1000]} thousand")
        n %= 1000
    if n >= 100:
        parts.append(f"{ONES[n // 100]} hundred")
        n %= 100
    if n:
        if parts and uk:
            parts.append("and")
        if n < 10:
            parts.append(ONES[n])
        elif n < 20:
            parts.append(TEENS[n - 10])
        else:
            parts.append(TENS[str(n // 10)] + (f" {ONES[n % 10]}" if n % 10 else ""))
    return " ".join(parts) or "zero"


ORDINALS = ("first", "second", "third", "fourth", "fifth")


class Kit:
    def __init__(self, rng: random.Random, style: Style, card: Card | None) -> None:
        self.rng = rng
        self.style = style
        self.call = Call(rng, style)
        self.card = card or make_card(rng)
        zero_opts = (("nought", 3), ("oh", 4), ("zero", 3)) if style.uk else (("zero", 5), ("oh", 4), ("o", 0.4))
        self.zero = rng.choices([z for z, _ in zero_opts], weights=[w for _, w in zero_opts])[0]
        self.agent_name = rng.choice(("Dana", "Priya", "Tom", "Marcus", "Leanne", "Sofia", "Kwame", "Joe", "Aisha"))
        self.caller_name = rng.choice(
            ("Margaret Hale", "Daniel Okafor", "Sam Whitlock", "Rosa Delgado", "Neil Patterson", "Chen Wei")
        )
        self.company = rng.choice(
            ("Northway Energy", "Brightside Broadband", "Harbour Water", "CityLink Parking", "Fernhill Vets")
        )
        self.bot = style.name in {b.name for b in BOT_STYLES}
        self.did_expiry = False
        self.short = False

    # --- turns -------------------------------------------------------------------------------
    def a(self, *parts: Part) -> None:
        self.call.turn(self.style.agent, parts)

    def c(self, *parts: Part) -> None:
        self.call.turn(self.style.caller, parts)

    def new(self) -> None:
        self.call.new()

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- digits as spoken / transcribed --------------------------------------------------------
    def dw(self, d: str) -> str:
        if d == "0":
            return self.zero if self.rng.random() < 0.85 else self.pick(("zero", "oh"))
        return ONES[int(d)]

    def pair(self, p: str) -> str:
        if p == "00":
            return self.pick(("double " + self.zero, f"{self.zero} {self.zero}", "zero zero"))
        if p[0] == "0":
            return f"{self.dw('0')} {ONES[int(p[1])]}"
        if p[0] == "1":
            return TEENS[int(p) - 10]
        tens = TENS[p[0]]
        if p[1] == "0":
            return tens
        return f"{tens}{self.pick((' ', '-', ' '))}{ONES[int(p[1])]}"

    def pairs(self, s: str) -> str:
        if len(s) == 4 and s[2:] == "00" and s[0] != "0":
            return f"{self.pair(s[:2])} hundred"
        if len(s) % 2 and self.chance(0.5):
            return " ".join([self.dw(s[0]), *(self.pair(s[i : i + 2]) for i in range(1, len(s), 2))])
        out = [self.pair(s[i : i + 2]) for i in range(0, len(s) - 1, 2)]
        if len(s) % 2:
            out.append(self.dw(s[-1]))
        return " ".join(out)

    def runs(self, s: str) -> str:
        out: list[str] = []
        for m in re.finditer(r"(\d)\1*", s):
            run, d = m.group(0), m.group(1)
            n = len(run)
            w = self.dw(d)
            if n == 1:
                out.append(w)
            elif n == 2:
                out.append(f"double {w}" if self.chance(0.8) else f"{w} {w}")
            elif n == 3:
                out.append(f"triple {w}" if self.chance(0.7) else f"double {w} {w}")
            else:
                while n > 0:
                    take = 3 if n in (3, 5) else 2 if n >= 2 else 1
                    out.append({1: w, 2: f"double {w}", 3: f"triple {w}"}[take])
                    n -= take
        return " ".join(out)

    def mixed(self, s: str) -> str:
        out, i = [], 0
        while i < len(s):
            k = self.rng.randint(1, 3)
            chunk = s[i : i + k]
            out.append(chunk if self.chance(0.5) else " ".join(self.dw(d) for d in chunk))
            i += k
        return " ".join(out)

    def mode(self) -> str:
        modes = self.style.modes
        return self.rng.choices([m for m, _ in modes], weights=[w for _, w in modes])[0]

    def say(self, s: str, mode: str | None = None) -> str:
        mode = mode or self.mode()
        match mode:
            case "digits":
                return s
            case "spaced":
                return " ".join(s)
            case "hyphen":
                return "-".join(s)
            case "words":
                return " ".join(self.dw(d) for d in s)
            case "words_comma":
                return ", ".join(self.dw(d) for d in s)
            case "words_slow":
                return "... ".join(self.dw(d) for d in s)
            case "pairs":
                return self.pairs(s)
            case "pairs_digits":
                return " ".join(s[i : i + 2] for i in range(0, len(s), 2))
            case "runs":
                return self.runs(s)
            case "mixed":
                return self.mixed(s)
            case "thousands":
                if s[0] != "0" and len(s) <= 4:
                    return _int_words(int(s), self.style.uk)
                return self.pairs(s)
        raise ValueError(mode)

    def joiner(self) -> str:
        return self.pick(self.style.joiners)

    def num(
        self,
        grouping: Sequence[int] | None = None,
        mode: str | None = None,
        joiner: str | None = None,
        vary: float = 0.12,
        digits: str | None = None,
    ) -> str:
        card = self.card if digits is None else Card(digits, self.card.brand, self.card.groups)
        mode = mode or self.mode()
        joiner = joiner if joiner is not None else self.joiner()
        groups = card.split(grouping)
        return joiner.join(self.say(g, self.mode() if self.chance(vary) else mode) for g in groups)

    @property
    def groups(self) -> list[str]:
        return self.card.split()

    def g(self, i: int, mode: str | None = None) -> str:
        return self.say(self.groups[i], mode)

    def is_tail(self, start: int) -> bool:
        """Digits from ``start`` onwards are only (part of) the last four."""
        return start >= len(self.card.digits) - 4

    def gc(self, i: int, text: str) -> C:
        """Card piece for group ``i`` said on its own."""
        return C(text, tail=self.is_tail(self.card.offsets()[i]))

    def wrong_digit(self, s: str, pos: int | None = None) -> str:
        pos = self.rng.randrange(len(s)) if pos is None else pos
        d = str((int(s[pos]) + self.pick((1, 2, 3, 7, 8, 9))) % 10)
        return s[:pos] + d + s[pos + 1 :]

    def ending(self) -> str:
        return self.say(self.card.last4, self.pick(("digits", "words", "digits", "pairs")))

    def filler(self) -> str:
        return self.pick(("uh", "um", "erm", "sorry", "hang on", "let me see", "uh, sorry", "er"))


# --------------------------------------------------------------------------------------------
# Scaffolding around the card stretch
# --------------------------------------------------------------------------------------------


def _amount(k: Kit) -> str:
    cur = "£" if k.style.uk else "$"
    return f"{cur}{k.rng.randint(12, 480)}.{k.pick(('00', '50', '99', '26', '75', '40'))}"


def pre(k: Kit) -> None:
    if k.bot:
        k.a(
            k.pick(
                (
                    f"Welcome to {k.company}. To make a payment, say 'make a payment'.",
                    f"Thanks for calling {k.company}. I can help you pay a bill. What would you like to do?",
                    f"Hi, I'm the {k.company} virtual assistant. How can I help?",
                )
            )
        )
        k.c(k.pick(("Make a payment.", "Pay my bill", "I want to pay my bill please.", "payment")))
        if not k.short:
            k.a(
                k.pick(("Sure. Your balance is ", "Okay. The amount due is ")),
                _amount(k),
                ". ",
                "Shall I take that now?",
            )
            k.c(k.pick(("Yes.", "Yeah", "yes please")))
        k.a(
            k.pick(
                (
                    "Please say or key in your card number.",
                    "Okay. What's the long number on the front of your card?",
                    "Please say your card number, one digit at a time.",
                    "Go ahead and say the card number.",
                )
            )
        )
        return
    k.a(
        k.pick(
            (
                f"Thank you for calling {k.company}, this is {k.agent_name}, how can I help you today?",
                f"Hi, you're through to {k.company} payments, my name's {k.agent_name}.",
                f"Good morning, {k.company}, {k.agent_name} speaking.",
                f"Hello, {k.company} customer service, you're speaking with {k.agent_name}.",
            )
        )
    )
    k.c(
        k.pick(
            (
                "Hi, yeah, I'm calling to pay my bill.",
                "Hello, I need to make a payment on my account.",
                "Hi there, I got a letter saying my direct debit didn't go through, so I want to pay by card.",
                "Yeah hi, I want to renew my subscription over the phone.",
                "Hiya, I'd like to pay off what I owe if that's possible.",
            )
        )
    )
    if not k.short:
        q = k.rng.randrange(3)
        k.a(
            (
                "No problem. Can I take your full name and the first line of your address?",
                "Sure, I can help with that. Could I get your name and postcode please?",
                "Of course. Can you confirm your name and date of birth for me?",
            )[q]
        )
        street = k.pick(("Mill Lane", "Oak Road", "Station Street", "Elm Grove"))
        postcode = k.pick(("LS6 2QT", "BS3 4NF", "M14 7AP", "90210", "10027"))
        dob = k.pick(("fourth of March", "twelfth of June", "second of November", "March 3rd", "the 21st of July"))
        k.c(
            (
                f"It's {k.caller_name}, {k.rng.randint(2, 140)} {street}.",
                f"{k.caller_name}, and it's {postcode}.",
                f"Yeah, {k.caller_name}, {dob} {k.rng.randint(1950, 2001)}.",
            )[q]
        )
        k.a(
            k.pick(("Thanks. ", "Lovely, thank you. ", "Great, that's you verified. ")),
            k.pick(("The balance today is ", "I can see ", "So the amount due is ")),
            _amount(k),
            ". ",
            k.pick(("Would you like to pay that in full?", "Is that what you're paying today?", "Is that okay?")),
        )
        k.c(k.pick(("Yes please.", "Yeah, all of it.", "Yes, the full amount.", "Yep.")))
    k.a(
        k.pick(
            (
                "And what card would you like to use?",
                "Okay, whenever you're ready, go ahead with the long number on the front of the card.",
                "Can I get the card number please?",
                "Lovely. Could you read me the long card number?",
                "Please go ahead with the card number when you're ready.",
                "Okay, I'll just take the card details. What's the long number?",
            )
        )
    )


def expiry_cvv(k: Kit, repeat: bool = False) -> None:
    mm = k.rng.randint(1, 12)
    yy = k.rng.randint(25, 31)
    cvv_len = 4 if k.card.brand.startswith("amex") else 3
    cvv = "".join(str(k.rng.randint(0, 9)) for _ in range(cvv_len))
    exp = k.pick(
        (
            f"{mm:02d}/{yy}",
            f"{k.say(f'{mm:02d}', 'words')} {k.say(str(yy), 'pairs')}",
            f"{k.pick(('January', 'March', 'June', 'August', 'October', 'December'))} {2000 + yy}",
            f"{mm:02d} {yy}",
        )
    )
    k.a(k.pick(("And the expiry date?", "Thank you. And when does it expire?", "What's the expiry on the card?")))
    k.c(k.pick(("It's ", "", "Expires ", "Um, ")), exp, ".")
    if repeat:
        k.a(k.pick(("Sorry, was that ", "Just to confirm, ")), exp, "?")
        k.c(k.pick(("Yes.", "That's right.", "Yeah, ")), k.pick(("", f" {exp}.")))
    k.a(
        k.pick(
            (
                f"And the {'four' if cvv_len == 4 else 'three'} digit security code?",
                "And the security code on the back, please?",
                "Last thing, the CVV?",
            )
        )
    )
    k.c(k.say(cvv, k.pick(("digits", "words", "spaced"))), ".")
    if repeat:
        k.a(k.pick(("Sorry, you cut out, the security code again?", "Was that ", "Could you repeat the code?")))
        k.c(k.say(cvv, k.pick(("digits", "words", "spaced"))), ".")
    k.did_expiry = True


def post(k: Kit) -> None:
    if not k.did_expiry and not k.short:
        expiry_cvv(k)
    if k.bot:
        k.a(
            k.pick(("Thanks. Your payment of ", "Okay. A payment of ")),
            _amount(k),
            " has been made with the card ending ",
            k.ending(),
            ". ",
            k.pick(("Your reference number is ", "Your confirmation code is ")),
            k.say(str(k.rng.randint(100000, 999999)), "digits"),
            ". Is there anything else?",
        )
        k.c(k.pick(("No.", "no thanks", "That's all.")))
        return
    k.a(
        k.pick(
            (
                "Lovely, just putting that through now. ",
                "Thank you, bear with me one moment while that processes. ",
                "Okay, that's going through. ",
            )
        ),
        k.pick(("That's been approved. ", "That's gone through fine. ", "Okay, all done. ")),
        k.pick(("Your reference is ", "Your confirmation number is ", "Have you got a pen? The reference is ")),
        k.pick((f"{k.rng.choice('ABCDHKPRT')}{k.rng.randint(10000, 99999)}", str(k.rng.randint(100000, 9999999)))),
        ".",
    )
    if not k.short:
        k.c(k.pick(("Brilliant, thank you.", "Great, thanks so much.", "Okay, cheers.", "Thanks, that's everything.")))
        k.a(k.pick(("Is there anything else I can help with today?", "Anything else?")))
    k.c(k.pick(("No, that's all, thanks.", "No that's it, bye.", "Nope, thanks for your help.", "No, bye now.")))


# --------------------------------------------------------------------------------------------
# Card families
# --------------------------------------------------------------------------------------------

INTROS = ("Yeah, it's ", "Okay, so it's ", "Right, ", "Sure, ", "Got it here, ", "Okay. ", "Um, okay, ", "It's ", "")
ENDS = (".", "", ".", "?", ". That's it.")
REPEAT_ASKS = (
    "Sorry, you broke up a bit there, could you give me that again?",
    "I'm sorry, I didn't catch all of that, can you repeat the whole number for me?",
    "Sorry, the line's really bad, could you say the card number once more, nice and slowly?",
    "Apologies, the system timed out on me, could I take the number again from the start?",
    "Sorry, I typed that in wrong, can you go again from the top?",
    "It's not being accepted, can you read it out again for me please?",
)
ACKS = ("Mm-hmm.", "Yep.", "Okay.", "Uh-huh.", "Go on.", "Yeah.", "Go ahead.", "Got it.")


def fam_repeat_whole_after_agent_asks(k: Kit) -> None:
    m1 = k.mode()
    k.c(k.pick(INTROS), C(k.num(mode=m1)), k.pick(ENDS))
    for _ in range(2 if k.chance(0.25) else 1):
        k.a(k.pick(REPEAT_ASKS))
        k.new()
        m2 = m1 if k.chance(0.4) else k.mode()
        k.c(
            k.pick(("Sure, ", "Okay, from the start, ", "Yeah, ", "", "Right, so ", "Okay. It's ")),
            C(k.num(mode=m2)),
            ".",
        )
    k.a(k.pick(("Great, thank you.", "Perfect, that's worked.", "Okay, that's gone in now.")))


def _other_grouping(k: Kit) -> tuple[list[int], str]:
    n = len(k.card.digits)
    options: list[tuple[list[int], str]] = [
        ([2] * (n // 2) + ([1] if n % 2 else []), "pairs"),
        ([3] * (n // 3) + ([n % 3] if n % 3 else []), "threes"),
        ([n // 2, n - n // 2], "halves"),
        ([n], "run"),
        ([1] * n, "single"),
    ]
    if k.card.groups != [4] * (n // 4) and n > 8:
        options.append(([4] * (n // 4) + ([n % 4] if n % 4 else []), "fours"))
    return k.pick(options)


def fam_repeat_whole_different_grouping(k: Kit) -> None:
    k.c(k.pick(INTROS), C(k.num()), k.pick(ENDS))
    grouping, kind = _other_grouping(k)
    ask = {
        "pairs": "Sorry, can you give it to me again? Maybe in twos, it's easier for me.",
        "threes": "Sorry, can you say that again, a bit slower?",
        "halves": "I missed some of that, could you repeat it?",
        "run": "Sorry, could you read that out again?",
        "single": "Could you go through it digit by digit for me?",
        "fours": "Could you give me that again in fours?",
    }[kind]
    k.a(ask if k.chance(0.6) else k.pick(REPEAT_ASKS))
    k.new()
    mode = "pairs" if kind == "pairs" and k.chance(0.6) else k.mode()
    joiner = "" if kind == "run" and mode == "digits" else None
    k.c(k.pick(("Okay, ", "Yeah, ", "Sure. ", "")), C(k.num(grouping, mode=mode, joiner=joiner)), ".")
    k.a(k.pick(("Thank you.", "Perfect.", "That's the one, thanks.")))


def fam_repeat_whole_faster_or_slower(k: Kit) -> None:
    slow_first = k.chance(0.5)
    slow = C(k.num([1] * len(k.card.digits), mode=k.pick(("words", "digits")), joiner=k.pick(("... ", ", ", " ... "))))
    fast = C(k.num([len(k.card.digits)], mode="digits") if k.chance(0.5) else k.num(mode="words", joiner=" "))
    k.c(k.pick(INTROS), slow if slow_first else fast, ".")
    if slow_first:
        k.a(
            k.pick(
                (
                    "You can go a bit quicker if you like. Can I have it once more?",
                    "Okay, and once more at normal speed?",
                )
            )
        )
    else:
        k.a(
            k.pick(
                ("Woah, slow down for me, I didn't get any of that.", "Sorry, that was a bit quick, once more slowly?")
            )
        )
    k.new()
    k.c(k.pick(("Sorry! ", "Okay. ", "Ha, sorry. ", "")), fast if slow_first else slow, ".")


def _echo(k: Kit, i: int) -> list[Part]:
    grp = k.groups[i]
    e = k.gc(i, k.say(grp, k.pick(("digits", "digits", "words", k.mode()))))
    if i == len(k.groups) - 1:
        return k.pick(([e, ", perfect."], ["And ", e, ". Lovely."], [e, ", thank you."]))
    return k.pick(
        (
            [e, "."],
            [e, ", got it."],
            [e, ", yep."],
            ["Okay, ", e, "."],
            [e, "... and?"],
            [e, ", go on."],
            ["Okay, ", e, ", go ahead."],
            [e, ", and the next ones?"],
        )
    )


def fam_agent_echoes_every_group(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    for i, grp in enumerate(gs):
        lead = "" if i == 0 else k.pick(("", "", "Then ", "And ", "Next is ", "Okay, "))
        k.c(lead, k.gc(i, k.say(grp, mode)), k.pick((".", "", ",")))
        k.a(*_echo(k, i))


def fam_agent_echoes_some_groups(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    echoed = {i for i in range(len(gs)) if k.chance(0.45)} or {k.rng.randrange(len(gs))}
    for i, grp in enumerate(gs):
        k.c("" if i == 0 else k.pick(("", "", "then ", "and ")), k.gc(i, k.say(grp, mode)), k.pick((".", "", "...")))
        if i in echoed:
            k.a(*_echo(k, i))
        elif i < len(gs) - 1:
            k.a(k.pick(ACKS))
        else:
            k.a(k.pick(("Okay, thank you.", "Lovely.", "Great.")))


def fam_caller_repeats_one_group_on_request(k: Kit) -> None:
    k.c(k.pick(INTROS), C(k.num()), k.pick(ENDS))
    gs, offs = k.groups, k.card.offsets()
    j = k.rng.randrange(len(gs))
    ordinal = "last" if j == len(gs) - 1 else ORDINALS[j]
    span = k.card.fragment_is_span(offs[j], offs[j] + len(gs[j]))
    wrong = k.wrong_digit(gs[j])
    k.new()
    if k.chance(0.4):
        opt = [k.say(gs[j]), k.say(wrong)]
        k.rng.shuffle(opt)
        lead = k.pick((f"Sorry, was the {ordinal} group ", f"Sorry, the {ordinal} set, was that "))
        if span:
            k.a(lead, C(opt[0]), " or ", C(opt[1]), "?")
        else:
            k.a(lead, opt[0], " or ", opt[1], "?")
    else:
        k.a(
            k.pick(
                (
                    f"Sorry, I missed the {ordinal} group, what was that?",
                    f"Sorry, the {ordinal} set again?",
                    f"Can you just repeat the {ordinal} block for me?",
                )
            )
        )
        if j and k.chance(0.3):
            prev = k.say(gs[j - 1], "digits")
            k.call.last_label = None  # the follow-up question is its own line
            k.a("Sorry, what came after ", C(prev) if k.card.fragment_is_span(offs[j - 1], offs[j]) else prev, "?")
    k.new()
    rep = k.say(gs[j], k.pick(("words", "digits", "runs", k.mode())))
    lead = k.pick(("", "It's ", "That was ", "Yeah, ", f"The {ordinal} is "))
    k.c(lead, C(rep) if span else rep, k.pick((".", ", yeah.", ".")))
    k.a(k.pick(("Thank you.", "Got it, thanks.", "Okay, that's gone through now.")))


def fam_agent_readback_caller_confirms(k: Kit) -> None:
    k.c(k.pick(INTROS), C(k.num()), k.pick(ENDS))
    k.new()
    if k.chance(0.5):
        k.a(
            k.pick(("Let me read that back to you: ", "So that's ", "Okay, I have ", "Just to confirm, ")),
            C(k.num(mode=k.pick(("digits", "words", k.mode())))),
            k.pick(("?", ". Is that right?", ". Is that correct?")),
        )
        k.c(k.pick(("Yes, that's right.", "Yep.", "That's it.", "Correct.", "Yes.")))
    else:
        k.a(k.pick(("Let me read that back. ", "Okay, reading that back. ", "")), C(k.g(0, "digits")), "...")
        for i in range(1, len(k.groups)):
            k.c(k.pick(("Yep.", "Mm-hmm.", "Yes.", "Yeah.")))
            k.a(k.gc(i, k.g(i, k.pick(("digits", "words")))), "..." if i < len(k.groups) - 1 else "?")
        k.c(k.pick(("That's right.", "Yep, that's it.", "Correct.")))


def fam_agent_readback_wrong_digit_corrected(k: Kit) -> None:
    k.c(k.pick(INTROS), C(k.num()), k.pick(ENDS))
    gs, offs = k.groups, k.card.offsets()
    j = k.rng.randrange(len(gs))
    bad = k.wrong_digit(gs[j])
    bad_digits = k.card.digits[: offs[j]] + bad + k.card.digits[offs[j] + len(gs[j]) :]
    k.new()
    k.a(
        k.pick(("So I've got ", "Let me read that back: ", "Okay, that's ", "Just confirming, ")),
        C(k.num(mode=k.pick(("digits", "words", k.mode())), digits=bad_digits)),
        k.pick(("?", ", is that right?", ". Correct?")),
    )
    k.new()
    span = k.card.fragment_is_span(offs[j], offs[j] + len(gs[j]))
    good_s, bad_s = k.say(gs[j]), k.say(bad)
    ordinal = "last" if j == len(gs) - 1 else ORDINALS[j]
    form = k.rng.randrange(4)
    if form == 0:
        k.c(f"No, the {ordinal} group is ", C(good_s) if span else good_s, ", not ", C(bad_s) if span else bad_s, ".")
    elif form == 1:
        k.c("No, sorry, it's ", C(good_s) if span else good_s, ". ", C(good_s) if span else good_s, ".")
    elif form == 2:
        k.c("Not quite. ", C(bad_s) if span else bad_s, " should be ", C(good_s) if span else good_s, ".")
    else:
        pos = next(i for i in range(len(bad)) if bad[i] != gs[j][i])
        k.c(
            "Almost, there's a ",
            k.say(gs[j][pos], "words"),
            f" in the {ordinal} group, not a ",
            k.say(bad[pos], "words"),
            ".",
        )
    k.new()
    k.a(k.pick(("Sorry about that. So it's ", "Okay, so that's ", "My mistake. ")), C(k.num(mode="digits")), "?")
    k.c(k.pick(("Yes.", "That's it.", "Yep, that's right.")))


def fam_self_correction_mid_number(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    j = k.rng.randrange(len(gs))
    parts: list[Part] = [k.pick(INTROS)]
    for i, grp in enumerate(gs):
        if i:
            parts.append(k.joiner())
        if i == j:
            bad = k.wrong_digit(grp)
            fix = k.pick(
                (", no, sorry, ", "... no wait, ", ", I mean ", " - no - ", ", sorry, it's ", ", no, scratch that, ")
            )
            first = k.say(bad, mode) if k.chance(0.7) else k.say(grp[: k.rng.randint(1, 3)], mode)
            parts.append(C(first + fix + k.say(grp, mode)))
        else:
            parts.append(C(k.say(grp, mode)))
    parts.append(".")
    k.c(*parts)
    k.a(k.pick(("Okay, so the last bit?", "No worries. Got that.", "Okay.")))
    if k.chance(0.4):
        k.new()
        k.a("So that's ", C(k.num(mode="digits")), "?")
        k.c("Yes.")


def fam_restart_from_beginning(k: Kit) -> None:
    upto = k.rng.randint(2, max(2, len(k.groups) - 1))
    part = k.num(k.card.groups[:upto])
    if sum(k.card.groups[:upto]) >= len(k.card.digits):
        part = k.num(k.card.groups[:2])
    mode = k.mode()
    restart = k.pick(
        (
            "... sorry, I've lost my place, let me start again. ",
            " - hang on, my thumb was over it. From the start: ",
            "... no, sorry, I'll start again. ",
            ", um, wait, sorry, let me start over. ",
        )
    )
    if k.chance(0.5):
        k.c(k.pick(INTROS), C(part), restart, C(k.num(mode=mode)), ".")
    else:
        k.c(k.pick(INTROS), C(part), k.pick(("... sorry.", "... oh hang on.", " um...")))
        k.a(k.pick(("No worries, take your time.", "That's okay, from the beginning when you're ready.")))
        k.new()
        k.c(k.pick(("Okay. ", "Right, from the start. ", "")), C(k.num(mode=mode)), ".")
    k.a(k.pick(("Thank you.", "Lovely, got it.")))


def fam_restart_from_previous_group(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    j = k.rng.randint(1, len(gs) - 1)
    parts: list[Part] = [k.pick(INTROS)]
    said = [k.say(g, mode) for g in gs[:j]]
    stumble = k.say(gs[j][: k.rng.randint(1, len(gs[j]) - 1)], mode)
    back = k.pick((", sorry, let me go back. ", "... no, hang on. ", ", wait - ", " - sorry, going back a bit, "))
    text = k.joiner().join(said) + k.joiner() + stumble + back
    rest = k.joiner().join(k.say(g, mode) for g in gs[j - 1 :])
    parts.append(C(text + rest))
    parts.append(".")
    k.c(*parts)
    k.a(k.pick(("Okay, thanks.", "Got that.", "Lovely.")))


def fam_each_group_said_twice(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    parts: list[str] = []
    second = ""
    for i, g in enumerate(gs):
        first = k.say(g, mode)
        second = k.pick((", ", ". ", ", that's ", "... ", ", I'll say that again, ")) + k.say(
            g, mode if k.chance(0.6) else k.mode()
        )
        lead = "" if i == 0 else k.pick(("then ", "", "and ", "next, "))
        parts.append(f"{lead}{first}{second}")
    text = k.pick((". ", ", ", "... ")).join(parts)
    if k.is_tail(k.card.offsets()[-1]):
        # the second saying of the last group repeats only the last four: not part of the span
        k.c(k.pick(INTROS), C(text[: len(text) - len(second)]), text[len(text) - len(second) :], ".")
    else:
        k.c(k.pick(INTROS), C(text), ".")
    k.a(k.pick(("Thank you, that's really clear.", "Perfect, got it.", "Great.")))


def fam_partial_interrupted_then_whole(k: Kit) -> None:
    n8 = [4, 4] if k.card.groups[0] == 4 and k.card.groups[1] == 4 else k.card.groups[:2]
    k.c(k.pick(INTROS), C(k.num(n8)), k.pick(("-", " -", "...", " [crosstalk]")))
    k.a(
        k.pick(
            (
                "Sorry to interrupt, before you go on, is this a credit or a debit card?",
                "Hang on, sorry, the screen's just loading. Bear with me.",
                "Sorry, just before that, is the card in your name?",
                "Can I stop you there, I need to read you a short statement first.",
            )
        )
    )
    k.c(k.pick(("Debit.", "Yes, it is.", "Oh, okay.", "Sure.")))
    k.a(
        k.pick(
            ("Thanks. Okay, go ahead from the beginning please.", "Right, from the start please.", "Okay, go ahead.")
        )
    )
    k.new()
    k.c(k.pick(("So, ", "Okay, ", "")), C(k.num()), ".")


def fam_read_off_card_agent_chunks(k: Kit) -> None:
    d = k.card.digits
    n = len(d)
    cuts: list[int] = []
    i = 0
    while i < n:
        i += k.rng.randint(2, 6)
        cuts.append(min(i, n))
    prev = 0
    mode = k.mode()
    for idx, cut in enumerate(cuts):
        chunk = d[prev:cut]
        tail = k.is_tail(prev)
        k.c(C(k.say(chunk, mode), tail), k.pick(("", "...", ",")))
        if cut < n:
            if k.chance(0.55):
                echo = C(k.say(chunk, k.pick(("digits", "words", "pairs"))), tail)
                k.a(echo, k.pick(("", ", mm-hmm", ", yep", ", okay")))
            else:
                k.a(k.pick(("mm-hmm", "yep", "okay", "uh-huh", "yeah")))
        prev = cut
        if idx > 12:
            break
    k.a(k.pick(("Okay, got it, thank you.", "Lovely.", "Perfect.")))


def fam_split_over_caller_turns(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    k.c(k.pick(("Okay, the first lot is ", "Right, it starts ", "So it's ", "")), k.gc(0, k.say(gs[0], mode)), ".")
    for i in range(1, len(gs)):
        k.a(
            k.pick(
                (
                    "Okay.",
                    "Mm-hmm, next?",
                    "Yep, next four?",
                    "Go ahead.",
                    "Okay, and then?",
                    "Got it.",
                    "Yeah?",
                )
            )
        )
        k.c(
            k.pick(("", "Then ", "Next is ", "And ", "Okay, then ")),
            k.gc(i, k.say(gs[i], mode)),
            k.pick((".", "", ". That's it.")) if i == len(gs) - 1 else k.pick((".", "", "...")),
        )
    k.a(k.pick(("Lovely, thank you.", "Okay, that's all in.")))


def fam_asr_dropped_group_resaid(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    j = k.rng.randrange(1, len(gs) - 1) if len(gs) > 2 else 1
    variant = k.rng.randrange(3)
    missing = sum(k.card.groups) - len(gs[j])
    shown = [k.say(g, mode) for g in gs]
    if variant == 0:
        shown[j] = ""
        k.c(k.pick(INTROS), C(k.joiner().join(s for s in shown if s)), ".")
        k.a(
            k.pick(
                (
                    f"Sorry, I've only got {_int_words(missing, False)} digits there, I think I missed a set.",
                    "I think I missed some of that in the middle, can you give me that again?",
                    "That's not enough digits, I think a bit dropped out.",
                )
            )
        )
    elif variant == 1:
        shown[j] = k.pick(("[inaudible]", "[unintelligible]", "(inaudible)", "..."))
        k.c(k.pick(INTROS), C(k.joiner().join(shown)), ".")
        k.a(k.pick((f"Sorry, the {ORDINALS[j]} group cut out, what was it?", "You broke up in the middle there.")))
    else:
        shown[j] = k.say(gs[j][: len(gs[j]) // 2], mode)
        k.c(k.pick(INTROS), C(k.joiner().join(shown)), ".")
        k.a(
            k.pick(
                ("I've got a digit or two missing. Could I have the middle part again?", "Sorry, I'm short a couple.")
            )
        )
    k.new()
    offs = k.card.offsets()
    if k.chance(0.5):
        frag = k.joiner().join(k.say(g, mode) for g in gs[j - 1 : j + 1])
        k.c(k.pick(("Sorry, ", "Oh. ", "")), k.pick(("after ", "it's ")), C(frag), ".")
        assert k.card.fragment_is_span(offs[j - 1], offs[j] + len(gs[j]))
    else:
        k.c(k.pick(("Okay, the whole thing: ", "Right, from the top, ", "")), C(k.num(mode=mode)), ".")
    n_words = _int_words(len(k.card.digits), False)
    k.a(k.pick((f"That's it, {n_words} digits now. Thank you.", "Okay, that's gone in.", "Got it now, thanks.")))


def _itn(k: Kit, g: str) -> str:
    """Inverse-text-normalisation accidents on a 4-digit group."""
    if len(g) != 4:
        return k.say(g, "pairs")
    choices = [
        k.say(g, "pairs"),
        k.say(g, "pairs_digits"),
        f"{int(g):,}" if g[0] != "0" else g,
        f"${g[:2]}.{g[2:]}",
        f"{g[:2]}:{g[2:]}" if g[0] in "012" else g,
        k.say(g, "thousands"),
        k.say(g, "mixed"),
    ]
    return k.pick(choices)


def fam_asr_merged_pairs_and_itn(k: Kit) -> None:
    gs = k.groups
    variant = k.rng.randrange(3)
    if variant == 0:
        first = k.pick((", ", " ", ". ")).join(_itn(k, g) for g in gs)
    elif variant == 1:
        d = k.card.digits
        first = f"({d[:3]}) {d[3:6]}-{d[6:10]} " + k.say(d[10:], k.pick(("digits", "pairs")))
    else:
        first = " ".join(k.say(g, "pairs") for g in gs)
    k.c(k.pick(INTROS), C(first), ".")
    k.a(k.pick(REPEAT_ASKS))
    k.new()
    k.c(k.pick(("Sure, ", "Okay, ", "")), C(k.num(mode=k.pick(("digits", "words", "pairs", "thousands")))), ".")


def fam_double_triple_oh_nought(k: Kit) -> None:
    k.card = make_card(k.rng, runny=True)
    k.zero = k.pick(("oh", "nought", "o", "oh", "zero"))
    k.c(k.pick(INTROS), C(k.num(mode="runs", vary=0.0)), ".")
    k.a(k.pick((*REPEAT_ASKS, "Sorry, was that double or triple in the second set?")))
    k.new()
    k.c(k.pick(("Okay. ", "Sorry. ", "")), C(k.num(mode=k.pick(("runs", "words", "digits")), vary=0.0)), ".")
    k.a(k.pick(("Lovely, got it.", "Thank you.")))


def _cut(k: Kit, w: str) -> str:
    if w.isdigit() or len(w) < 3 or not k.chance(0.25):
        return w
    cut = w[: k.rng.randint(1, 2)]
    return w if cut.lower() in NUMBER_WORDS else f"{cut}- {w}"


def fam_hesitations_and_cutoffs(k: Kit) -> None:
    mode = k.pick(("words", "words", "words", "digits", "spaced", "pairs"))
    words: list[str] = []
    for i, g in enumerate(k.groups):
        toks = k.say(g, mode).split(" ")
        toks = [_cut(k, t) for t in toks]
        if i and k.chance(0.6):
            words.append(k.pick(("uh,", "um", "let me see,", "sorry,", "hang on,", "er,", "erm", "just a sec,")))
        if k.chance(0.3):
            toks.insert(k.rng.randrange(1, len(toks) + 1), k.pick(("uh", "um", "sorry", "er")))
        words.extend(toks)
    k.c(k.pick(("Um, okay, ", "Let me just find it. Right, ", "Uh, ")), C(" ".join(words)), ".")
    if k.chance(0.6):
        k.a(k.pick(("Sorry, can I just get that once more without the pauses?", "I think I lost a digit, once more?")))
        k.new()
        k.c(k.pick(("Sorry, ", "Okay. ", "")), C(k.num(mode=k.mode())), ".")
    k.a(k.pick(("Thank you.", "No rush, got it.")))


def fam_card_expiry_cvv_with_repeats(k: Kit) -> None:
    if k.chance(0.4):
        mm, yy = k.rng.randint(1, 12), k.rng.randint(25, 31)
        cvv = "".join(str(k.rng.randint(0, 9)) for _ in range(4 if k.card.brand.startswith("amex") else 3))
        k.c(
            k.pick(INTROS),
            C(k.num()),
            k.pick((", ", " ", ", expiry ", ", expires ")),
            k.say(f"{mm:02d}{yy}", k.pick(("digits", "words", "pairs"))),
            k.pick((", ", " ", ", and the code is ", ", security code ")),
            k.say(cvv, k.pick(("digits", "words"))),
            ".",
        )
        k.a(
            k.pick(
                (
                    "Woah, okay. Let me take those one at a time. The long number again?",
                    "Sorry, can I have the card number on its own first?",
                )
            )
        )
        k.new()
        k.c(k.pick(("Sorry. ", "Okay. ", "")), C(k.num()), ".")
        expiry_cvv(k, repeat=k.chance(0.5))
    else:
        k.c(k.pick(INTROS), C(k.num()), ".")
        expiry_cvv(k, repeat=True)
        k.a(
            k.pick(
                (
                    "It's been declined, I think I have a digit wrong. Could I take the long number again?",
                    "Can I just double check the long number once more?",
                )
            )
        )
        k.new()
        k.c(k.pick(("Sure, ", "Oh no. ", "Okay, ")), C(k.num()), ".")
        k.a("Thank you, trying again now.")


def fam_ivr_bot_reprompt_confirm(k: Kit) -> None:
    k.c(C(k.num(mode=k.mode())), k.pick(("", ".")))
    k.a(
        k.pick(
            (
                "Sorry, I didn't get that. Please say your card number again.",
                "I'm sorry, I didn't catch that. Please say or key in the card number.",
                "Hmm, that doesn't look right. Let's try again. What's the card number?",
            )
        )
    )
    k.new()
    k.c(C(k.num(mode=k.mode())), ".")
    k.new()
    heard = k.num(mode=k.pick(("spaced", "digits", "words")), joiner=k.pick((" ", ", ", "-")))
    k.a(
        k.pick(("I heard ", "I think you said ", "Got it: ")),
        C(heard),
        k.pick((". Is that correct?", ". Is that right? Say yes or no.")),
    )
    if k.chance(0.5):
        k.c(k.pick(("no", "No.", "no that's wrong")))
        k.a(
            k.pick(
                (
                    "Okay, let's try one more time. Say the card number one digit at a time.",
                    "Okay. Please say it again.",
                )
            )
        )
        k.new()
        k.c(C(k.num([1] * len(k.card.digits), mode=k.pick(("words", "digits")), joiner=k.pick((" ", ", ")))), ".")
        k.a("Thanks. That's the card ending in ", k.ending(), ".")
    else:
        k.c(k.pick(("yes", "Yes.", "yeah that's right")))


def fam_voicebot_chunked_capture(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    for i, g in enumerate(gs):
        if i:
            k.new()
            k.a(
                k.pick(("Thanks. ", "Okay. ", "")),
                k.pick(("Now the next digits.", "Next block, please.", "And the next group?")),
            )
        k.c(k.gc(i, k.say(g, mode)), k.pick(("", ".")))
        if k.chance(0.5):
            k.a("I heard ", k.gc(i, k.say(g, "spaced")), ". Is that right?")
            if k.chance(0.25):
                k.c("no")
                k.a("Sorry about that. Please say that group again.")
                k.c(k.gc(i, k.say(g, k.pick(("words", "digits")))), ".")
            else:
                k.c(k.pick(("yes", "Yes.", "yep")))
    k.new()
    k.a("Thanks. I have ", C(k.num(mode="spaced", joiner=", ")), ". Is that correct?")
    k.c(k.pick(("Yes.", "yes", "yeah")))


def fam_raw_asr_lowercase_repeat(k: Kit) -> None:
    k.c(k.pick(("yeah its ", "ok so its ", "um ", "right ")), C(k.num(mode=k.pick(("words", "pairs", "runs")))))
    k.a(
        k.pick(
            (
                "sorry could you repeat that",
                "sorry you cut out can you say it again",
                "can i get that one more time please",
            )
        )
    )
    k.new()
    k.c(k.pick(("yeah ", "ok ", "sure ")), C(k.num(mode=k.pick(("words", "pairs", "mixed", "runs")))))
    k.a(k.pick(("thank you", "perfect thanks", "lovely got that")))


def fam_relayed_by_third_party(k: Kit) -> None:
    who = k.pick(("my husband", "my wife", "my son", "my daughter", "my mum", "my partner"))
    k.c(
        k.pick(
            (
                f"Oh, hang on, {who} has the card. ",
                f"Just a sec, {who}'s going to read it out to me. ",
                f"I'll have to get {who} to read it, my eyes aren't great. ",
            )
        ),
        k.pick(("Can you read me the number? ", "What does it say? ", "The long one on the front. ")),
    )
    k.a(k.pick(("No problem.", "Sure, take your time.")))
    gs = k.groups
    mode = k.mode()
    bg = k.pick(("[background] ", "(background voice) ", "", "[other speaker] "))
    parts: list[Part] = []
    for i, g in enumerate(gs):
        said = k.say(g, mode)
        if i:
            parts.append(k.pick((" ", "... ", ", ")))
        if bg and k.chance(0.5):
            parts.append(C(f"{bg}{k.say(g, 'words')} - {said}"))
        elif k.chance(0.3):
            parts.append(C(f"{said}... what? {said}"))
        else:
            parts.append(C(said))
    k.c(k.pick(("Okay, it's ", "Right, ", "She says ", "He says ", "")), *parts, ".")
    k.a(k.pick(REPEAT_ASKS[:3]) if k.chance(0.4) else k.pick(("Okay, thank you.", "Lovely, got that.")))
    if k.chance(0.5):
        k.new()
        k.c(k.pick(("Okay. ", "Yep, ")), C(k.num(mode=mode)), ".")


def fam_agent_partial_readback_asks_rest(k: Kit) -> None:
    gs = k.groups
    m = k.rng.randint(2, len(gs) - 1) if len(gs) > 2 else 1
    mode = k.mode()
    k.c(k.pick(INTROS), C(k.joiner().join(k.say(g, mode) for g in gs[:m])), k.pick(("...", " -", ", um")))
    k.a(
        k.pick(("Okay, I've got ", "So far I have ", "That's ")),
        C(" ".join(k.say(g, "digits") for g in gs[:m])),
        k.pick((", and then?", "... and the rest?", ", go on.")),
    )
    rest = C(k.joiner().join(k.say(g, mode) for g in gs[m:]), k.is_tail(k.card.offsets()[m]))
    k.c(k.pick(("Then ", "And ", "")), rest, ".")
    if k.chance(0.6):
        k.new()
        k.a(k.pick(("So the full number is ", "Let me just read the whole thing: ")), C(k.num(mode="digits")), "?")
        k.c(k.pick(("Yes.", "That's right.")))


HOMOPHONES = {"four": ("for", "fore"), "two": ("to", "too"), "eight": ("ate",), "one": ("won",)}


def fam_asr_homophones_in_repeat(k: Kit) -> None:
    def homo(s: str) -> str:
        toks = k.say(s, "words").split(" ")
        return " ".join(k.pick(HOMOPHONES[t]) if t in HOMOPHONES and k.chance(0.35) else t for t in toks)

    k.c(k.pick(("yeah it's ", "so it's ", "")), C(k.pick((" ", ", ")).join(homo(g) for g in k.groups)), ".")
    k.a(k.pick(REPEAT_ASKS))
    k.new()
    k.c(k.pick(("okay ", "")), C(" ".join(homo(g) for g in k.groups)), ".")


def fam_timestamped_segments_split(k: Kit) -> None:
    gs = k.groups
    mode = k.mode()
    cut = k.rng.randint(1, len(gs) - 1)
    cut2 = k.rng.randint(cut, len(gs) - 1)
    segs = [gs[:cut], gs[cut:cut2], gs[cut2:]]
    start = 0
    for i, seg in enumerate(s for s in segs if s):
        if i and k.chance(0.5):
            k.a(k.pick(ACKS))
        k.call.last_label = None  # the recogniser cuts the caller's speech into separate segments
        k.c(C(k.joiner().join(k.say(g, mode) for g in seg), k.is_tail(start)), k.pick(("", ",", "...")))
        start += sum(len(g) for g in seg)
    k.a(k.pick(REPEAT_ASKS))
    k.new()
    k.c(C(k.num(mode=k.mode())), ".")


def fam_caller_self_checks_reads_again(k: Kit) -> None:
    k.c(k.pick(INTROS), C(k.num()), ".")
    k.new()
    k.c(
        k.pick(
            (
                "Actually, let me just check that, these numbers are tiny. ",
                "Hang on, I'll read it again to be sure. ",
                "Wait, let me put my glasses on. Yes, ",
            )
        ),
        C(k.num()),
        k.pick((". Yes, that's right.", ". Yeah.", ".")),
    )
    k.a(k.pick(("Thanks for double checking.", "Lovely, matches what I have.")))


FAMILIES: dict[str, Callable[[Kit], None]] = {
    "repeat_whole_after_agent_asks": fam_repeat_whole_after_agent_asks,
    "repeat_whole_different_grouping": fam_repeat_whole_different_grouping,
    "repeat_whole_faster_or_slower": fam_repeat_whole_faster_or_slower,
    "agent_echoes_every_group": fam_agent_echoes_every_group,
    "agent_echoes_some_groups": fam_agent_echoes_some_groups,
    "caller_repeats_one_group_on_request": fam_caller_repeats_one_group_on_request,
    "agent_readback_caller_confirms": fam_agent_readback_caller_confirms,
    "agent_readback_wrong_digit_corrected": fam_agent_readback_wrong_digit_corrected,
    "self_correction_mid_number": fam_self_correction_mid_number,
    "restart_from_beginning": fam_restart_from_beginning,
    "restart_from_previous_group": fam_restart_from_previous_group,
    "each_group_said_twice": fam_each_group_said_twice,
    "partial_interrupted_then_whole": fam_partial_interrupted_then_whole,
    "read_off_card_agent_chunks": fam_read_off_card_agent_chunks,
    "split_over_caller_turns": fam_split_over_caller_turns,
    "asr_dropped_group_resaid": fam_asr_dropped_group_resaid,
    "asr_merged_pairs_and_itn": fam_asr_merged_pairs_and_itn,
    "double_triple_oh_nought": fam_double_triple_oh_nought,
    "hesitations_and_cutoffs": fam_hesitations_and_cutoffs,
    "card_expiry_cvv_with_repeats": fam_card_expiry_cvv_with_repeats,
    "ivr_bot_reprompt_confirm": fam_ivr_bot_reprompt_confirm,
    "voicebot_chunked_capture": fam_voicebot_chunked_capture,
    "raw_asr_lowercase_repeat": fam_raw_asr_lowercase_repeat,
    "relayed_by_third_party": fam_relayed_by_third_party,
    "agent_partial_readback_asks_rest": fam_agent_partial_readback_asks_rest,
    "asr_homophones_in_repeat": fam_asr_homophones_in_repeat,
    "timestamped_segments_split": fam_timestamped_segments_split,
    "caller_self_checks_reads_again": fam_caller_self_checks_reads_again,
}
FORCED_STYLE: dict[str, Sequence[Style]] = {
    "ivr_bot_reprompt_confirm": BOT_STYLES,
    "voicebot_chunked_capture": BOT_STYLES,
    "raw_asr_lowercase_repeat": [s for s in STYLES if s.lower],
    "timestamped_segments_split": [s for s in STYLES if s.stamp or s.name in ("aws_spk", "deepgram")],
}


# --------------------------------------------------------------------------------------------
# Card-free controls
# --------------------------------------------------------------------------------------------


def _phone(k: Kit) -> tuple[str, list[int]]:
    if k.style.uk or k.chance(0.4):
        return "07700" + f"{k.rng.randint(900000, 900999)}", [5, 3, 3]
    return f"{k.rng.randint(201, 989)}555{k.rng.randint(100, 199):04d}", [3, 3, 4]


def ctl_phone_repeat(k: Kit) -> None:
    num, grp = _phone(k)
    k.a("Before we start, can I take a contact number in case we get cut off?")
    k.c(k.pick(INTROS), k.num(grp, digits=num), ".")
    k.a(k.pick((*REPEAT_ASKS[:2], "Sorry, the line cut out, that number again?")))
    k.c(k.pick(("Sure, ", "")), k.num(grp, digits=num, mode=k.mode()), ".")
    bad = k.wrong_digit(num, k.rng.randrange(3, len(num)))
    k.a("So that's ", k.num(grp, digits=bad, mode="digits"), "?")
    k.c("No, ", k.say(num[-4:], k.mode()), " at the end. ", k.num(grp, digits=num), ".")
    k.a("Got it, ", k.num(grp, digits=num, mode="digits"), ". Thank you.")


def ctl_order_number_echo(k: Kit) -> None:
    n = k.pick((10, 12, 12, 14, 16))
    num = _not_card_like(k.rng, str(k.rng.randint(1, 9)) + "".join(str(k.rng.randint(0, 9)) for _ in range(n - 1)))
    grp = [4] * (n // 4) + ([n % 4] if n % 4 else [])
    k.a(k.pick(("Have you got your order number there?", "Can I take the order reference?")))
    mode = k.mode()
    for i, g in enumerate(Card(num, "x", grp).split()):
        k.c("" if i == 0 else k.pick(("", "then ")), k.say(g, mode), ".")
        k.a(k.pick((f"{k.say(g, 'digits')}, got it.", "Mm-hmm.", f"Okay, {g}.")))
    k.a("So that's order ", k.num(grp, digits=num, mode="digits"), ", placed last Tuesday?")
    k.c("Yes, that's the one.")


def ctl_bank_sort_code_account(k: Kit) -> None:
    if k.style.uk or k.chance(0.5):
        sc = f"{k.rng.randint(10, 99)}{k.rng.randint(10, 99)}{k.rng.randint(10, 99)}"
        acct = "".join(str(k.rng.randint(0, 9)) for _ in range(8))
        k.a("For the refund, can I take the sort code and account number?")
        k.c("Sort code ", k.num([2, 2, 2], digits=sc, joiner="-"), ", account ", k.num([4, 4], digits=acct), ".")
        k.a("Sorry, the account number again?")
        k.c(k.num([4, 4], digits=acct, mode=k.mode()), ".")
        k.a(
            "So ",
            k.num([2, 2, 2], digits=sc, mode="digits", joiner="-"),
            " and ",
            k.num([8], digits=acct, mode="digits"),
            "?",
        )
    else:
        routing = "0" + "".join(str(k.rng.randint(0, 9)) for _ in range(8))
        acct = "".join(str(k.rng.randint(0, 9)) for _ in range(k.pick((10, 11, 12))))
        acct = _not_card_like(k.rng, acct)
        k.a("I can set that up as an e-check. What's the routing number and the account number?")
        k.c(
            "Routing is ",
            k.num([3, 3, 3], digits=routing),
            " and the account is ",
            k.num([len(acct)], digits=acct),
            ".",
        )
        k.a(
            "Let me read those back: ",
            k.num([9], digits=routing, mode="digits"),
            ", ",
            k.num([len(acct)], digits=acct, mode="digits"),
            "?",
        )
        k.c("No, the account is ", k.num([4, 4, len(acct) - 8], digits=acct), ".")
    k.c(k.pick(("Yes.", "That's right.")))


def ctl_amounts_repeat(k: Kit) -> None:
    big = k.rng.randint(1000, 9999)
    cents = k.rng.randint(0, 99)
    cur = "pounds" if k.style.uk else "dollars"
    k.a(f"Your outstanding balance is {big:,}.{cents:02d}.")
    k.c(f"Sorry, {_int_words(big, k.style.uk)} {cur}? That can't be right.")
    k.a(
        f"Yes, {_int_words(big, k.style.uk)} {cur} and {_int_words(cents, False)} cents, that's {big // 100} hundred and change."
    )
    part = k.rng.randint(100, 999)
    k.c(f"Can I pay {_int_words(part, k.style.uk)} today and {_int_words(part, k.style.uk)} next month?")
    k.a(
        f"So {part}.00 today, {part}.00 on the {k.pick(('first', 'fifteenth', 'twenty eighth'))}, leaving {big - 2 * part}.{cents:02d}."
    )
    k.c(f"Yes. {part} now, {part} next month.")


def ctl_card_last_four_only(k: Kit) -> None:
    last = k.card.last4
    k.a("I can see a card on file ending in ", k.say(last, "digits"), ". Would you like to use that one?")
    k.c("Ending ", k.say(last, k.mode()), "? ", k.pick(("Yes, that's the one.", "Yeah, that's my Visa.")))
    k.a("Sorry, was that ", k.say(last, "words"), "?")
    k.c("Yes, ", k.say(last, k.mode()), ", ", k.say(last, k.mode()), ".")
    k.a("Great, I'll use the card ending ", k.say(last, "digits"), ". And the security code?")
    k.c(k.say(f"{k.rng.randint(100, 999)}", k.mode()), ".")
    k.did_expiry = True


def ctl_tracking_number_repeat(k: Kit) -> None:
    n = k.pick((12, 15, 20, 22))
    head = {12: "7", 15: "6", 20: "92", 22: "9400"}[n]
    num = _not_card_like(k.rng, head + "".join(str(k.rng.randint(0, 9)) for _ in range(n - len(head))))
    grp = [4] * (n // 4) + ([n % 4] if n % 4 else [])
    k.a("Have you got the tracking number from the email?")
    k.c(k.pick(INTROS), k.num(grp, digits=num), ".")
    k.a(k.pick(REPEAT_ASKS[:2]))
    k.c(k.num(grp, digits=num, mode=k.mode()), ".")
    g = Card(num, "x", grp).split()
    k.a(f"Sorry, the {k.pick(ORDINALS[1:3])} group again?")
    k.c(k.say(g[k.rng.randint(1, 2)], k.mode()), ".")
    k.a("Thanks, I can see the parcel's at the depot.")


def ctl_member_id_echo(k: Kit) -> None:
    kind = k.pick(("NHS number", "policy number", "membership number", "customer account number"))
    n = {"NHS number": 10, "policy number": 12, "membership number": 11, "customer account number": 13}[kind]
    num = _not_card_like(k.rng, str(k.rng.randint(1, 9)) + "".join(str(k.rng.randint(0, 9)) for _ in range(n - 1)))
    grp = [3, 3, 4] if n == 10 else [4] * (n // 4) + ([n % 4] if n % 4 else [])
    k.a(f"Can I take your {kind}?")
    mode = k.mode()
    for i, g in enumerate(Card(num, "x", grp).split()):
        k.c(k.say(g, mode), ".")
        if i < len(grp) - 1:
            k.a(k.pick((f"{k.say(g, 'digits')}...", "Mm-hmm.", "Yep.")))
    k.a("Let me read that back, ", k.num(grp, digits=num, mode="digits"), "?")
    k.c("No, sorry, it's ", k.num(grp, digits=num, mode=k.mode()), ".")


def ctl_otp_and_dob(k: Kit) -> None:
    otp = f"{k.rng.randint(0, 999999):06d}"
    k.a("I've just sent a six digit code to your phone. Can you read it out?")
    k.c(k.say(otp, k.mode()), ".")
    k.a("Sorry, was that ", k.say(otp, "digits"), "?")
    k.c("Yes, ", k.say(otp, k.mode()), ". ", k.say(otp[:3], "words"), ", ", k.say(otp[3:], "words"), ".")
    dob = f"{k.rng.randint(1, 28):02d}{k.rng.randint(1, 12):02d}{k.rng.randint(1950, 2003)}"
    k.a("And your date of birth?")
    dob_mode = k.pick(("digits", "words", "pairs"))
    dob_join = k.pick((" ", "/", "-")) if dob_mode == "digits" else k.pick((" ", ", "))
    k.c(k.num([2, 2, 4], digits=dob, mode=dob_mode, joiner=dob_join), ".")
    k.a("Sorry, the year again?")
    k.c(k.say(dob[4:], k.pick(("pairs", "digits"))), ".")


def ctl_multiple_numbers_adjacent(k: Kit) -> None:
    phone, pg = _phone(k)
    acct = "".join(str(k.rng.randint(0, 9)) for _ in range(8))
    amt = k.rng.randint(20, 950)
    k.c(
        "My account number's ",
        k.num([4, 4], digits=acct),
        ", my phone is ",
        k.num(pg, digits=phone),
        ", and I want to pay ",
        k.pick((str(amt), _int_words(amt, k.style.uk))),
        ".",
    )
    k.a("Sorry, slow down, the account number first?")
    k.c(k.num([4, 4], digits=acct, mode=k.mode()), ", ", k.num([4, 4], digits=acct, mode=k.mode()), ".")
    k.a("And the phone number?")
    k.c(k.num(pg, digits=phone), " ", k.num(pg, digits=phone, mode=k.mode()), ".")


CONTROLS: dict[str, Callable[[Kit], None]] = {
    "decoy_phone_repeat": ctl_phone_repeat,
    "decoy_order_number_echo": ctl_order_number_echo,
    "decoy_bank_sort_code_account": ctl_bank_sort_code_account,
    "decoy_amounts_repeat": ctl_amounts_repeat,
    "decoy_card_last_four_only": ctl_card_last_four_only,
    "decoy_tracking_number_repeat": ctl_tracking_number_repeat,
    "decoy_member_id_echo": ctl_member_id_echo,
    "decoy_otp_and_dob": ctl_otp_and_dob,
    "decoy_multiple_numbers_adjacent": ctl_multiple_numbers_adjacent,
}


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------


def _control_pre(k: Kit) -> None:
    k.a(
        k.pick(
            (
                f"Thank you for calling {k.company}, this is {k.agent_name}, how can I help?",
                f"{k.company}, {k.agent_name} speaking.",
                f"Hi, you're through to {k.company}.",
            )
        )
    )
    k.c(
        k.pick(
            (
                "Hi, I'm calling about my account.",
                "Hello, I've got a question about a payment.",
                "Hi, it's about my order.",
            )
        )
    )
    if not k.short:
        k.a("No problem, can I take your name?")
        k.c(f"It's {k.caller_name}.")


def _control_post(k: Kit) -> None:
    k.a(
        k.pick(
            ("Okay, that's all updated for you.", "Lovely, I've made a note on the account.", "Right, that's sorted.")
        )
    )
    if not k.short:
        k.c(k.pick(("Great, thanks.", "Brilliant.", "Okay, thank you.")))
        k.a("Anything else I can help with?")
    k.c(k.pick(("No, that's all, thanks.", "No, bye.")))


def _one(seed: int, fam: str, i: int, control: bool) -> Sample:
    rng = random.Random(f"{seed}:{fam}:{i}")
    fn = CONTROLS[fam] if control else FAMILIES[fam]
    for attempt in range(40):
        styles = FORCED_STYLE.get(fam, STYLES)
        k = Kit(rng, rng.choice(styles), None)
        k.short = attempt >= 5 or rng.random() < 0.2
        if control:
            _control_pre(k)
            fn(k)
            _control_post(k)
        else:
            pre(k)
            fn(k)
            post(k)
        text = k.call.text
        if 300 <= len(text) <= 2000 or attempt == 39:
            if control:
                return Sample(text, fam, f"decoy:{fam}", [], "")
            spans = k.call.spans()
            return Sample(text, fam, k.card.brand, spans, k.card.digits)
    raise AssertionError("unreachable")


def corpus(seed: int, per_family: int) -> list[Sample]:
    out: list[Sample] = []
    for fam in FAMILIES:
        out.extend(_one(seed, fam, i, control=False) for i in range(per_family))
    for fam in CONTROLS:
        out.extend(_one(seed, fam, i, control=True) for i in range(per_family))
    return out


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def uncovered(sample: Sample, findings: Sequence[object]) -> list[tuple[int, int]]:
    """Card tokens inside the sample's spans that no finding covers."""
    ranges = [(int(f.start), int(f.end)) for f in findings]  # type: ignore[attr-defined]
    out: list[tuple[int, int]] = []
    for s, e in sample.pans:
        for m in CARD_TOKEN_RE.finditer(sample.text, s, e):
            if not any(fs <= m.start() and m.end() <= fe for fs, fe in ranges):
                out.append((m.start(), m.end()))
    return out


def _marked(text: str, spans: list[tuple[int, int]], miss: list[tuple[int, int]], width: int = 900) -> str:
    lo = max(0, min(s for s, _ in spans) - 60)
    hi = min(len(text), max(e for _, e in spans) + 40)
    out, pos = [], lo
    for s, e in sorted(miss):
        out.append(text[pos:s])
        out.append(f"[[{text[s:e]}]]")
        pos = e
    out.append(text[pos:hi])
    snippet = "".join(out).replace("\n", " / ")
    if len(snippet) > width:
        snippet = snippet[:width] + " ..."
    return ("... " if lo else "") + snippet


@dataclass
class _Stats:
    n: int = 0
    hit: int = 0
    toks: int = 0
    toks_missed: int = 0
    misses: list[str] = field(default_factory=list)


def main(argv: Sequence[str] | None = None) -> int:
    import redaction

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--per-family", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--examples", type=int, default=2)
    args = ap.parse_args(argv)

    samples = corpus(args.seed, args.per_family)
    card: dict[str, _Stats] = {}
    ctl: dict[str, _Stats] = {}
    for smp in samples:
        findings = redaction.scan(smp.text)
        if smp.brand.startswith("decoy:"):
            st = ctl.setdefault(smp.fmt, _Stats())
            st.n += 1
            pan = [f for f in findings if f.kind == "pan"]
            if pan:
                st.hit += 1
                if len(st.misses) < args.examples:
                    st.misses.append(
                        _marked(smp.text, [(f.start, f.end) for f in pan], [(f.start, f.end) for f in pan])
                    )
            continue
        st = card.setdefault(smp.fmt, _Stats())
        st.n += 1
        miss = uncovered(smp, findings)
        st.toks += sum(len(list(CARD_TOKEN_RE.finditer(smp.text, s, e))) for s, e in smp.pans)
        st.toks_missed += len(miss)
        if not miss:
            st.hit += 1
        elif len(st.misses) < args.examples:
            st.misses.append(f"({smp.brand}) " + _marked(smp.text, smp.pans, miss))

    total_n = sum(s.n for s in card.values())
    total_hit = sum(s.hit for s in card.values())
    print(f"card families: {len(card)}  samples: {total_n}  overall recall: {total_hit / max(total_n, 1):.1%}")
    print(f"{'family':42} {'n':>4} {'recall':>7} {'token cov':>9}")
    order = sorted(card.items(), key=lambda kv: (kv[1].hit / kv[1].n, kv[0]))
    for fam, st in order:
        cov = 1 - st.toks_missed / max(st.toks, 1)
        print(f"{fam:42} {st.n:>4} {st.hit / st.n:>7.1%} {cov:>9.1%}")
    print()
    print(f"{'control family (share with any pan finding)':42} {'n':>4} {'fp':>7}")
    for fam, st in sorted(ctl.items(), key=lambda kv: (-kv[1].hit / kv[1].n, kv[0])):
        print(f"{fam:42} {st.n:>4} {st.hit / st.n:>7.1%}")
    if args.examples:
        print("\n=== missed examples (uncovered card tokens in [[ ]]) ===")
        for fam, st in order:
            for ex in st.misses:
                print(f"- {fam}: {ex}")
        print("\n=== control false positives (pan findings in [[ ]]) ===")
        for fam, st in ctl.items():
            for ex in st.misses:
                print(f"- {fam}: {ex}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
