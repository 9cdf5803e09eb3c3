"""Red-team generator, round two: card numbers in speech-recogniser output and in disfluent, overlapping calls.

Written independently of the detector and of the team's other corpora (only the earlier red team's
``redaction_redteam_spoken.py`` was read, for its output interface and to avoid repeating its families).
It builds synthetic call material in which a payment card number is spoken, and labels every stretch of
text that states the card's digits.  It does not import or run the detector.

Real-world behaviours modelled (and where each comes from)
----------------------------------------------------------

The earlier generator covers repeats, echoes, read-backs, simple self-corrections, restarts, split turns,
dropped groups, merged pairs / "thousands" / prices, "double" / "triple" / "oh", homophones, hesitations,
timestamps and speaker labels cutting a number, IVR re-prompts and voice-bot chunked capture, all in
plain "Label: text" transcripts.  This module adds what that one does not:

1. Recogniser output as structured data, where one utterance's number appears several times:
   * Amazon Transcribe batch JSON: the ``transcripts[].transcript`` string plus per-word ``items`` with
     ``alternatives[{confidence, content}]``, ``type`` pronunciation/punctuation and start/end times, and
     (with ShowAlternatives) segment-level alternative transcripts (AWS Transcribe developer guide,
     "Alternative transcriptions"; API reference ``Item``).
   * Deepgram pre-recorded JSON: ``channels[].alternatives[].transcript`` plus ``words[]`` with both
     ``word`` and ``punctuated_word`` per word, ``speaker``, and a ``paragraphs.transcript`` that repeats
     the text with "Speaker N:" prefixes (Deepgram SDK ``LiveTranscriptionEvent`` type; docs on Smart Format,
     Numerals -- "nine hundred" becomes "900", and converted numbers carry no thousands punctuation).
   * Azure Speech "detailed" output: ``DisplayText`` and ``NBest[]`` entries each with ``Lexical`` (spoken
     words), ``ITN`` (inverse-text-normalised digits), ``MaskedITN`` and ``Display`` -- four renderings of
     the same number, and a lower-confidence NBest alternative that differs by a digit (Microsoft Q&A on
     the detailed output format; "display text format" docs).
   * Google Speech-to-Text ``results[].alternatives[]`` with ``words[]`` start/end offsets ("3.400s"); a
     number is split across two results at a pause (Cloud STT ``WordInfo`` reference).
   * Lex V2 Lambda events (``inputTranscript``, ``transcriptions[].transcriptionConfidence``, slot
     ``originalValue`` / ``interpretedValue`` / ``resolvedValues``) and Dialogflow CX webhook requests
     (``transcript``, ``sessionInfo.parameters``): the slot-filling logs of voice bots (AWS Lex V2 "Lambda
     input event format"; Lex grammar slot type example that captures card numbers; Dialogflow CX
     ``WebhookRequest``).
2. Streaming recognisers: interim results that grow word by word, each repeating the prefix of the number
   said so far before one ``is_final`` result (Deepgram "Using interim results" example output; Google
   streaming ``stability``; Amazon Transcribe streaming ``IsPartial``/``Stable``); Twilio ``<Gather>``
   ``partialResultCallback`` webhooks with ``StableSpeechResult`` / ``UnstableSpeechResult`` and a final
   ``SpeechResult`` (Twilio TwiML ``<Gather>`` reference; Bandwidth "partialGather" event); OpenAI
   Realtime API event logs for an AI voice agent: ``conversation.item.input_audio_transcription.delta`` /
   ``.completed``, ``response.audio_transcript.delta`` and ``response.function_call_arguments.delta`` where
   deltas cut a number (and even a group) into fragments (Realtime API server-event reference).
3. Recogniser-specific number formatting: Whisper's inconsistent formatting inside one number
   ("4242-4242, 42 42, four two four two", "4,242") with segment timestamps and an occasional repeated
   (hallucinated) segment (Whisper has no numeric-format parameter; it writes "1,200" or "1200"
   depending on context); thousands separators from inverse text normalisation, including
   European "4.242.424" style; hyphenated telephone-style words "four-two-four-two"; caller cardinal
   styles "four thousand two hundred and forty-two", "forty-two hundred", "three seventy-eight",
   "nine oh five" (Voci ``numtrans`` and VoiceBase number-formatting docs describe digit-sequence and
   phone-number reformatting).
4. Time-aligned text: per-word timestamps inline ("four[12.31] two[12.55]", "<|12.34|>", CTM lines
   ``utt A 12.31 0.19 four 0.98``) and WebVTT caption cues with ``<v Caller>`` voice tags that split a
   number across cues (W3C WebVTT spec examples).
5. Disfluencies from the disfluency literature (Shriberg's reparandum / interruption point /
   interregnum / repair scheme; repetition, substitution, insertion, deletion repairs; Heeman & Allen's
   fresh starts and modification repairs): a digit replaced, a digit inserted or skipped and noticed, two
   digits transposed, a group cut off and repeated; interregna of many kinds ("no wait", "I mean",
   "scratch that", "sorry, I'm reading it without my glasses"); false starts abandoned, including
   starting to read an OLD card and switching to a new one; mid-number questions and asides ("can you
   hear me?", "is this line secure?", "hang on, my kid's shouting") after which the caller resumes,
   repeats the group or starts over.
6. Overlap and diarisation: agent backchannels landing mid-group so a group is split across two caller
   turns; Rev/TranscribeMe-style transcripts with ``[crosstalk 00:01:14]``, em-dash cut-offs and
   ``[inaudible 00:01:16]`` markers (Rev style guide; TranscribeMe clean-verbatim guide; GoTranscript's
   ``[OVERLAP]`` / ``[UNKNOWN SPEAKER]`` tags); diarisation errors that put some of the caller's groups
   under the agent's label, split a group between speakers or invent a third speaker (GoTranscript on
   crosstalk causing diarisation failure).
7. Card formats: Amex read 4-6-5 and Diners 14-digit 4-6-4 with the six-digit middle said as "822 463" or
   "eighty-two twenty-four sixty-three"; 19-digit cards (UnionPay, Maestro, Discover, JCB, Visa) read
   4-4-4-4-3 with the agent querying the extra digits; reading in chunks of two with pauses.
8. Language and region: Spanish/English code-switching (digits in Spanish singles or pairs "cuarenta y
   dos", switching language between groups; bilingual service-workplace studies, e.g. Callahan on Spanish
   and English in New York service encounters); UK/Irish/Indian English "treble", "naught", "nought",
   "double nought", "o", and "zed" appearing in a spelled name or reference (it is not a digit).
9. Platform redaction already applied to part of the call: Amazon Transcribe / Contact Lens ``[PII]``
   and entity-label masks, AssemblyAI ``####`` (hash substitution) and ``[CREDIT_CARD_NUMBER]``-style
   labels, Deepgram/Telnyx ``[REDACTED]``; the mask catches one reading but the number leaks in a
   repeat, a read-back in words or an unmasked tail.
10. Contact-centre card-taking practice: agents are told to ask for the whole number again rather than
    repeat it, and to pause recording (e.g. "*123" / "#123") around card capture -- which callers and
    agents get wrong (published PCI telephone-payment guidance for agents).

Card-free controls (``brand="decoy:<family>"``, ``pans=[]``) put the same formats and behaviours on phone
numbers, order and tracking numbers, policy / account / membership numbers, IMEIs (15 digits that DO
pass Luhn but match no card brand), amounts with thousands separators, dates and times, one-time codes and
confirmation codes, card mentions by last four only, and fully masked card numbers.

Labelling conventions
---------------------

* ``pans`` lists ``[start, end)`` character spans.  Every stretch that states digits of the card number,
  in digits or words (English or Spanish), is covered wherever it appears: caller readings, agent
  read-backs, every recogniser rendering (transcript, per-word item, NBest form, interim result, partial
  callback, delta, caption cue, timestamped word), slot values, and the wrong or variant readings of a
  repair or a recognition alternative.  An abandoned partial reading (false start) is marked too, even
  when it was the caller's old card.
* Spans are split around anything that is not part of the number: fillers, interregna, questions,
  markers, timestamps, JSON syntax, speaker labels.  Pieces separated only by spaces, commas, full stops,
  hyphens, dashes or slashes are merged into one span (unless the merged text would read as other
  digits, e.g. "forty, two" for 4-0-2).  A span starts and ends on a digit or a number word, and can
  be a single word: one per-word JSON item, one timestamped word, one streaming delta.
* A partly masked rendering is marked wherever it still shows digits beyond the last four: "4242 [PII]
  [PII] 4444" gives two spans, and a first-six/last-four truncation "424242******4242" is one span.
* The last group is marked whenever it is said as part of giving, repeating, echoing or rendering the
  number.  A reference to the card by its last four alone ("the card ending 4444", "yes, 4444", a masked
  number whose only visible digits are the last four) is not a span.
* ``Sample.digits`` holds the card number ("" for controls).  ``self_check`` re-reads each span with this
  module's own number-word parser and requires the card's digits, in order, in the concatenation.

Run from the repository root::

    .venv/bin/python benchmarks/redaction_redteam_spoken2.py [--per-family N] [--seed S] [--examples K]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Sample:
    text: str
    fmt: str  # family name
    brand: str  # e.g. "visa16", "amex15"; "decoy:<family>" for card-free controls
    pans: list[tuple[int, int]]  # [start, end) of every stretch of text that states card digits
    digits: str = ""  # the card number ("" for controls)


# ============================================================================================
# Number words and a small parser (used to verify labels; independent of the detector)
# ============================================================================================

ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ES_ONES = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")
ES_TEENS = {
    10: "diez",
    12: "doce",
    13: "trece",
    14: "catorce",
    15: "quince",
    16: "dieciséis",
    17: "diecisiete",
    18: "dieciocho",
    19: "diecinueve",
}
ES_TENS = ("", "", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa")
ES_VEINTI = {
    21: "veintiuno",
    22: "veintidós",
    23: "veintitrés",
    24: "veinticuatro",
    25: "veinticinco",
    26: "veintiséis",
    27: "veintisiete",
    28: "veintiocho",
    29: "veintinueve",
}

ZERO_WORDS = frozenset({"zero", "oh", "o", "nought", "naught", "cero"})
UNIT_VALUES: dict[str, int] = {w: i for i, w in enumerate(ONES) if i} | {w: i for i, w in enumerate(ES_ONES) if i}
TEEN_VALUES: dict[str, int] = {w: 10 + i for i, w in enumerate(TEENS)} | {w: v for v, w in ES_TEENS.items()}
TENS_VALUES: dict[str, int] = {w: 10 * i for i, w in enumerate(TENS) if w} | {
    w: 10 * i for i, w in enumerate(ES_TENS) if w
}
COMPOUND_VALUES: dict[str, int] = {w: v for v, w in ES_VEINTI.items()}
MULTIPLIERS = {"double": 2, "triple": 3, "treble": 3, "doble": 2}
PHRASE_WORDS = frozenset(
    {*UNIT_VALUES, *TEEN_VALUES, *TENS_VALUES, *COMPOUND_VALUES, "hundred", "thousand", "and", "y"}
)
NUMBERISH = frozenset({*ZERO_WORDS, *UNIT_VALUES, *TEEN_VALUES, *TENS_VALUES, *COMPOUND_VALUES, *MULTIPLIERS})

_TOKEN = re.compile(r"\d(?:[\d,.]*\d)?|[^\W\d_]+")
_OPEN = ("", "hundred", "and", "thousand")


class _Phrase:
    """One cardinal phrase ("four thousand two hundred and forty-two", "forty-two", "seven")."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.hund = 0
        self.cur = 0
        self.state = ""
        self.ntok = 0

    def feed(self, w: str) -> bool:
        st = self.state
        if w in UNIT_VALUES:
            if st in _OPEN:
                self.cur, self.state = UNIT_VALUES[w], "unit"
            elif st in ("tens", "tens_y"):
                self.cur, self.state = self.cur + UNIT_VALUES[w], "tensunit"
            else:
                return False
        elif w in TEEN_VALUES or w in TENS_VALUES or w in COMPOUND_VALUES:
            if st not in _OPEN:
                return False
            if w in TEEN_VALUES:
                self.cur, self.state = TEEN_VALUES[w], "teen"
            elif w in TENS_VALUES:
                self.cur, self.state = TENS_VALUES[w], "tens"
            else:
                self.cur, self.state = COMPOUND_VALUES[w], "tensunit"
        elif w == "hundred":
            if st not in ("unit", "teen", "tens", "tensunit") or self.hund:
                return False
            self.hund, self.cur, self.state = self.cur * 100, 0, "hundred"
        elif w == "thousand":
            if st not in ("unit", "teen", "tens", "tensunit", "hundred") or self.total:
                return False
            self.total, self.hund, self.cur, self.state = (self.hund + self.cur) * 1000, 0, 0, "thousand"
        elif w in ("and", "y"):
            if st in ("hundred", "thousand"):
                self.state = "and"
            elif st == "tens" and w == "y":
                self.state = "tens_y"
            else:
                return False
        else:
            return False
        self.ntok += 1
        return True

    def value(self) -> str:
        return str(self.total + self.hund + self.cur)


def number_runs(text: str) -> list[str]:
    """Digit strings of the runs of number tokens in ``text`` (a run ends at any other word)."""
    runs: list[str] = []
    run: list[str] = []
    ph = _Phrase()
    mult = 0

    def flush() -> None:
        if ph.ntok:
            run.append(ph.value())
            ph.reset()

    def brk() -> None:
        flush()
        if run:
            runs.append("".join(run))
            run.clear()

    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        w = tok.lower()
        if tok[0].isdigit():
            flush()
            run.append(re.sub(r"\D", "", tok))
            mult = 0
            continue
        if w in MULTIPLIERS:
            flush()
            mult = MULTIPLIERS[w]
            continue
        if w in ZERO_WORDS:
            flush()
            run.append("0" * (mult or 1))
            mult = 0
            continue
        if mult and w in UNIT_VALUES:
            flush()
            run.append(str(UNIT_VALUES[w]) * mult)
            mult = 0
            continue
        mult = 0
        if w in PHRASE_WORDS:
            if ph.feed(w):
                continue
            flush()
            if ph.feed(w):
                continue
        brk()
    brk()
    return runs


def spoken_digits(text: str) -> str:
    """All digits stated in ``text`` (digits, English or Spanish number words), in order."""
    return "".join(number_runs(text))


def _edge_tokens_ok(span_text: str) -> bool:
    toks = [m.group(0).lower() for m in _TOKEN.finditer(span_text)]
    if not toks:
        return False

    def ok(t: str) -> bool:
        return t[0].isdigit() or t in NUMBERISH or t == "hundred" or t == "thousand"

    return ok(toks[0]) and ok(toks[-1])


# ============================================================================================
# Card numbers
# ============================================================================================


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
    return len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


# Stripe's public test numbers (https://docs.stripe.com/testing).
STRIPE_TEST_CARDS: tuple[tuple[str, str], ...] = (
    ("4242424242424242", "visa16"),
    ("4000056655665556", "visa16"),
    ("5555555555554444", "mc16"),
    ("2223003122003222", "mc16"),
    ("5200828282828210", "mc16"),
    ("378282246310005", "amex15"),
    ("371449635398431", "amex15"),
    ("6011111111111117", "discover16"),
    ("3056930009020004", "diners16"),
    ("36227206271667", "diners14"),
    ("3566002020360505", "jcb16"),
    ("6200000000000005", "unionpay16"),
)

# (brand, prefixes, lengths) used to decide whether a digit run LOOKS like a card (for the controls).
CARD_RULES: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("visa", ("4",), (13, 16, 19)),
    ("mc", (*(str(p) for p in range(51, 56)), *(str(p) for p in range(2221, 2721))), (16,)),
    ("amex", ("34", "37"), (15,)),
    ("discover", ("6011", *(str(p) for p in range(644, 650)), "65"), (16, 17, 18, 19)),
    ("jcb", tuple(str(p) for p in range(3528, 3590)), (16, 17, 18, 19)),
    ("diners", ("36", "38", "39", *(str(p) for p in range(300, 306))), (14, 15, 16, 17, 18, 19)),
    ("unionpay", ("62",), (16, 17, 18, 19)),
    ("maestro", ("50", *(str(p) for p in range(56, 70))), tuple(range(12, 20))),
    ("mir", tuple(str(p) for p in range(2200, 2205)), (16, 17, 18, 19)),
)


def looks_like_card(digits: str) -> bool:
    if not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    return any(digits.startswith(p) and len(digits) in lens for _, prefs, lens in CARD_RULES for p in prefs)


GEN_BRANDS: tuple[tuple[str, float], ...] = (
    ("visa", 30),
    ("mc", 22),
    ("amex", 10),
    ("discover", 7),
    ("jcb", 5),
    ("diners", 5),
    ("unionpay", 8),
    ("maestro", 8),
    ("mir", 5),
)


def _prefix_and_length(rng: random.Random, fam: str) -> tuple[str, int]:
    match fam:
        case "visa":
            return "4", rng.choice((16, 16, 16, 16, 13, 19))
        case "mc":
            return (str(rng.randint(51, 55)) if rng.random() < 0.7 else str(rng.randint(2221, 2720))), 16
        case "amex":
            return rng.choice(("34", "37")), 15
        case "discover":
            return rng.choice(("6011", str(rng.randint(644, 649)), "65")), rng.choice((16, 16, 16, 19))
        case "jcb":
            return str(rng.randint(3528, 3589)), rng.choice((16, 16, 16, 19))
        case "diners":
            return rng.choice(("36", str(rng.randint(300, 305)))), 14
        case "unionpay":
            return "62", rng.choice((16, 16, 17, 18, 19, 19))
        case "maestro":
            return rng.choice(("50", "56", "57", "58", "63", "67")), rng.choice((12, 13, 16, 16, 18, 19))
        case "mir":
            return str(rng.randint(2200, 2204)), 16
    raise ValueError(fam)


def synth_card(rng: random.Random, fam: str | None = None) -> tuple[str, str]:
    fam = fam or rng.choices([b for b, _ in GEN_BRANDS], weights=[w for _, w in GEN_BRANDS])[0]
    prefix, length = _prefix_and_length(rng, fam)
    body = prefix
    while len(body) < length - 1:
        body += str(rng.randint(0, 9))
    digits = body + luhn_check_digit(body)
    return digits, f"{fam}{length}"


def card_groups(n: int, brand: str) -> tuple[int, ...]:
    if brand.startswith("amex"):
        return (4, 6, 5)
    if brand.startswith("diners") and n == 14:
        return (4, 6, 4)
    return {
        12: (4, 4, 4),
        13: (4, 4, 5),
        15: (4, 4, 4, 3),
        16: (4, 4, 4, 4),
        17: (4, 4, 4, 5),
        18: (4, 4, 4, 4, 2),
        19: (4, 4, 4, 4, 3),
    }[n]


def make_card(rng: random.Random, want: Callable[[str, str], bool] | None = None) -> tuple[str, str]:
    for _ in range(500):
        if rng.random() < 0.35:
            digits, brand = rng.choice(STRIPE_TEST_CARDS)
        else:
            digits, brand = synth_card(rng)
        if want is None or want(digits, brand):
            return digits, brand
    raise RuntimeError("no card matched the filter")


# ============================================================================================
# Targets, text builder, speech rendering
# ============================================================================================


@dataclass
class Target:
    digits: str
    groups: tuple[int, ...]
    noun: str  # "card number", "phone number", ...
    brand: str

    def split(self, grouping: Sequence[int] | None = None, digits: str | None = None) -> list[str]:
        s = self.digits if digits is None else digits
        out: list[str] = []
        i = 0
        for n in grouping or self.groups:
            if i >= len(s):
                break
            out.append(s[i : i + n])
            i += n
        if i < len(s):
            out.append(s[i:])
        return out

    @property
    def last4(self) -> str:
        return self.digits[-4:]


def card_target(digits: str, brand: str) -> Target:
    return Target(digits, card_groups(len(digits), brand), "card number", brand)


@dataclass
class C:
    """A piece of text that states digits of the target number; ``expect`` is what it states."""

    text: str
    expect: str


Part = str | C
_JOIN_GAP = re.compile(r"[ ,.\-–—/…]*")


class Doc:
    def __init__(self, record: bool) -> None:
        self.record = record
        self.buf: list[str] = []
        self.n = 0
        self.pieces: list[tuple[int, int, str]] = []

    def add(self, *parts: Part) -> None:
        for p in parts:
            if isinstance(p, C):
                if self.record and p.text:
                    self.pieces.append((self.n, self.n + len(p.text), p.expect))
                s = p.text
            else:
                s = p
            self.buf.append(s)
            self.n += len(s)

    @property
    def text(self) -> str:
        return "".join(self.buf)

    def spans(self) -> list[tuple[int, int]]:
        """Pieces merged where only separators lie between them and the merged reading still parses."""
        text = self.text
        out: list[tuple[int, int]] = []
        cur: list[int] = []
        cur_exp = ""
        for s, e, exp in sorted(self.pieces):
            if cur:
                gap = text[cur[1] : s]
                if _JOIN_GAP.fullmatch(gap) and spoken_digits(text[cur[0] : e]) == cur_exp + exp:
                    cur[1] = e
                    cur_exp += exp
                    continue
                out.append((cur[0], cur[1]))
            cur, cur_exp = [s, e], exp
        if cur:
            out.append((cur[0], cur[1]))
        return out


LABELS: tuple[tuple[str, str], ...] = (
    ("Agent: ", "Caller: "),
    ("Agent: ", "Customer: "),
    ("AGENT: ", "CUSTOMER: "),
    ("Rep: ", "Cust: "),
    ("Speaker 1: ", "Speaker 2: "),
    ("spk_0: ", "spk_1: "),
    ("A: ", "C: "),
)
COMPANIES = ("Northway Energy", "Brightside Broadband", "Harbour Water", "Kestrel Insurance", "Fernhill Vets")
AGENTS = ("Dana", "Priya", "Tom", "Marcus", "Leanne", "Sofia", "Kwame", "Joe", "Aisha", "Rhys")
CALLERS = ("Margaret Hale", "Daniel Okafor", "Sam Whitlock", "Rosa Delgado", "Neil Patterson", "Aoife Brennan")
CALLER_MODES: tuple[tuple[str, float], ...] = (
    ("words", 5),
    ("digits", 3),
    ("spaced", 1),
    ("pairs", 1.5),
    ("words_comma", 1),
    ("mixed", 0.7),
)
JOINERS = (", ", " ", ". ", "... ", " - ", ", ")


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
            parts.append(TENS[n // 10] + (f"-{ONES[n % 10]}" if n % 10 else ""))
    return " ".join(parts) or "zero"


class Kit:
    """What a family function works with: the random source, the target number and the text builder."""

    def __init__(self, rng: random.Random, tgt: Target, record: bool, alt: Callable[[random.Random], Target]) -> None:
        self.rng = rng
        self.tgt = tgt
        self.doc = Doc(record)
        self.is_card = record
        self.alt = alt
        self.uk = rng.random() < 0.3
        zeros = (("nought", 3), ("oh", 4), ("zero", 3)) if self.uk else (("zero", 5), ("oh", 4), ("o", 0.5))
        self.zero = rng.choices([z for z, _ in zeros], weights=[w for _, w in zeros])[0]
        self.labels = rng.choice(LABELS)
        self.agent_name = rng.choice(AGENTS)
        self.caller_name = rng.choice(CALLERS)
        self.company = rng.choice(COMPANIES)
        self.clock = rng.uniform(4.0, 60.0)
        self.cur = "£" if self.uk else "$"

    # --- randomness ---------------------------------------------------------------------------
    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def uuid(self) -> str:
        return f"{self.hexid(8)}-{self.hexid(4)}-{self.hexid(4)}-{self.hexid(4)}-{self.hexid(12)}"

    def tick(self, lo: float = 0.15, hi: float = 0.6) -> float:
        self.clock += self.rng.uniform(lo, hi)
        return self.clock

    def word_time(self) -> tuple[float, float]:
        """Start and end of the next word; words never overlap."""
        start = self.clock + self.rng.uniform(0.02, 0.25)
        self.clock = start + self.rng.uniform(0.12, 0.42)
        return start, self.clock

    def chunks(self, a: int, b: int) -> list[str]:
        """Digits ``a:b`` of the target, cut at the number's own group boundaries."""
        out: list[str] = []
        acc = 0
        for g in self.tgt.split():
            lo, hi = acc, acc + len(g)
            acc = hi
            if hi > a and lo < b:
                out.append(self.tgt.digits[max(lo, a) : min(hi, b)])
        return out

    def amount(self) -> str:
        return f"{self.cur}{self.rng.randint(12, 480)}.{self.pick(('00', '50', '99', '26', '75', '40'))}"

    @property
    def noun(self) -> str:
        return self.tgt.noun

    # --- digits as spoken -----------------------------------------------------------------------
    def dw(self, d: str) -> str:
        if d == "0":
            return self.zero if self.chance(0.85) else self.pick(("zero", "oh"))
        return ONES[int(d)]

    def pair(self, p: str) -> str:
        if p == "00":
            return self.pick((f"double {self.zero}", f"{self.zero} {self.zero}"))
        if p[0] == "0":
            return f"{self.dw('0')} {ONES[int(p[1])]}"
        if p[0] == "1":
            return TEENS[int(p[1])]
        if p[1] == "0":
            return TENS[int(p[0])]
        return f"{TENS[int(p[0])]}{self.pick(('-', ' ', '-'))}{ONES[int(p[1])]}"

    def pairs(self, s: str, spanish: bool = False) -> str:
        say_pair = self.es_pair if spanish else self.pair
        say_one = (lambda d: ES_ONES[int(d)]) if spanish else self.dw
        if len(s) % 2:
            # a single digit goes first: a bare tens word followed by a unit would read as one number
            return " ".join([say_one(s[0]), *(say_pair(s[i : i + 2]) for i in range(1, len(s), 2))])
        return " ".join(say_pair(s[i : i + 2]) for i in range(0, len(s), 2))

    def es_pair(self, p: str) -> str:
        n = int(p)
        if p[0] == "0" or n == 11:
            return f"{ES_ONES[int(p[0])]} {ES_ONES[int(p[1])]}"
        if n < 20:
            return ES_TEENS[n]
        if n in ES_VEINTI:
            return ES_VEINTI[n]
        if n % 10 == 0:
            return ES_TENS[n // 10]
        return f"{ES_TENS[n // 10]} y {ES_ONES[n % 10]}"

    def runs(self, s: str) -> str:
        out: list[str] = []
        for m in re.finditer(r"(\d)\1*", s):
            d, n = m.group(1), len(m.group(0))
            w = self.dw(d)
            tri = "treble" if self.uk else "triple"
            while n > 0:
                take = 3 if n in (3, 5) else 2 if n >= 2 else 1
                out.append({1: w, 2: f"double {w}", 3: f"{tri} {w}"}[take])
                n -= take
        return " ".join(out)

    def thousands(self, s: str) -> str:
        if len(s) == 4 and s[0] != "0" and not (s[3] == "0" and s[2] not in "01"):
            return _int_words(int(s), self.uk)
        return self.pairs(s)

    def cardinal(self, s: str) -> str:
        """Chunks of one to three digits said as numbers: "three seventy-eight", "forty-two hundred"."""
        if len(s) == 4 and s[2:] == "00" and s[0] != "0":
            return f"{self.pair(s[:2])} hundred"
        if len(s) == 4 and s[0] != "0" and self.chance(0.3):
            return self.thousands(s)
        out: list[str] = []
        i = 0
        while i < len(s):
            n = min(len(s) - i, self.rng.choice((1, 2, 2, 3, 3)))
            ch = s[i : i + n]
            if n == 1:
                out.append(self.dw(ch))
            elif n == 2:
                out.append(self.pair(ch))
            elif ch[0] != "0" and self.chance(0.5):
                rest = ch[1:]
                tail = "" if rest == "00" else ONES[int(rest[1])] if rest[0] == "0" else self.pair(rest)
                joint = " and " if self.uk else " "
                out.append(f"{ONES[int(ch[0])]} hundred" + (f"{joint}{tail}" if tail else ""))
            else:
                out.append(f"{self.dw(ch[0])} {self.pair(ch[1:])}")
            i += n
        return " ".join(out)

    def commas(self, s: str, sep: str) -> str:
        if s[0] == "0" or len(s) < 4:
            return s
        return f"{int(s):,}".replace(",", sep)

    def mixed(self, s: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(s):
            n = self.rng.randint(1, 3)
            ch = s[i : i + n]
            out.append(ch if self.chance(0.5) else " ".join(self.dw(d) for d in ch))
            i += n
        return " ".join(out)

    def say(self, s: str, mode: str) -> str:
        match mode:
            case "digits":
                return s
            case "spaced":
                return " ".join(s)
            case "hyphen_digits":
                return "-".join(s)
            case "pairs_digits":
                return " ".join(s[i : i + 2] for i in range(0, len(s), 2))
            case "words":
                return " ".join(self.dw(d) for d in s)
            case "words_comma":
                return ", ".join(self.dw(d) for d in s)
            case "words_slow":
                return "... ".join(self.dw(d) for d in s)
            case "hyphen_words":
                return "-".join(self.dw(d) for d in s)
            case "pairs":
                return self.pairs(s)
            case "runs":
                return self.runs(s)
            case "thousands":
                return self.thousands(s)
            case "cardinal":
                return self.cardinal(s)
            case "commas":
                return self.commas(s, ",")
            case "dots":
                return self.commas(s, ".")
            case "spanish":
                return " ".join(ES_ONES[int(d)] for d in s)
            case "spanish_pairs":
                return self.pairs(s, spanish=True)
            case "mixed":
                return self.mixed(s)
        raise ValueError(mode)

    def c(self, s: str, mode: str | None = None) -> C:
        """A piece stating ``s``; falls back to digit words if the chosen rendering would misread."""
        text = self.say(s, mode or self.mode())
        if spoken_digits(text) != s:
            text = self.say(s, "words")
        return C(text, s)

    def mode(self, modes: Sequence[tuple[str, float]] = CALLER_MODES) -> str:
        return self.rng.choices([m for m, _ in modes], weights=[w for _, w in modes])[0]

    def joiner(self) -> str:
        return self.pick(JOINERS)

    def read(
        self,
        mode: str | None = None,
        grouping: Sequence[int] | None = None,
        joiner: str | None = None,
        digits: str | None = None,
        vary: float = 0.0,
    ) -> list[Part]:
        """A whole reading of the number, one piece per group."""
        mode = mode or self.mode()
        joiner = self.joiner() if joiner is None else joiner
        out: list[Part] = []
        for i, g in enumerate(self.tgt.split(grouping, digits)):
            if i:
                out.append(joiner)
            out.append(self.c(g, self.mode() if self.chance(vary) else mode))
        return out

    def variant(self, s: str) -> str:
        """``s`` with one digit replaced (a misrecognition or a slip of the tongue)."""
        pos = self.rng.randrange(len(s))
        d = str((int(s[pos]) + self.pick((1, 2, 3, 7, 8, 9))) % 10)
        return s[:pos] + d + s[pos + 1 :]

    # --- dialogue ---------------------------------------------------------------------------------
    def line(self, label: str, *parts: Part) -> None:
        if self.doc.n:
            self.doc.add("\n")
        self.doc.add(label, *parts)

    def agent(self, *parts: Part) -> None:
        self.line(self.labels[0], *parts)

    def caller(self, *parts: Part) -> None:
        self.line(self.labels[1], *parts)

    def intro(self) -> str:
        return self.pick(("Yeah, it's ", "Okay, so it's ", "Right, ", "Sure, ", "It's ", "Um, okay, ", ""))

    def filler(self) -> str:
        return self.pick(("uh", "um", "erm", "er", "let me see"))


def _tpl_target(rng: random.Random) -> Target:
    digits, brand = synth_card(rng)
    return card_target(digits, brand)


# ============================================================================================
# Call scaffolding
# ============================================================================================


def open_call(k: Kit) -> None:
    k.agent(
        k.pick(
            (
                f"Thank you for calling {k.company}, this is {k.agent_name}, how can I help?",
                f"{k.company} payments, {k.agent_name} speaking.",
                f"Hi, you're through to {k.company}, my name's {k.agent_name}.",
            )
        )
    )
    if k.is_card:
        k.caller(
            k.pick(
                (
                    "Hi, I need to pay my bill.",
                    "Hello, I got a letter saying my payment failed, so I want to pay by card.",
                    "Hiya, I'd like to pay the deposit over the phone.",
                )
            )
        )
        k.agent(
            k.pick(("No problem. ", "Sure. ", "Okay. ")),
            k.pick(("The balance is ", "That'll be ", "The amount due is ")),
            k.amount(),
            ". ",
            k.pick(
                (
                    "Whenever you're ready, the long number on the front of the card.",
                    "Can I take the card number please?",
                    "I'll just pause the recording. Okay, go ahead with the card number.",
                )
            ),
        )
    else:
        k.caller(k.pick(("Hi, I'm calling about my account.", "Hello, it's about an order.", "Hi, quick question.")))
        k.agent(k.pick(("Sure, ", "No problem, ", "Okay, ")), f"can I take your {k.noun}?")


def close_call(k: Kit) -> None:
    if k.is_card:
        mm, yy = k.rng.randint(1, 12), k.rng.randint(25, 31)
        exp = k.pick((f"{mm:02d}/{yy}", f"{k.say(f'{mm:02d}', 'words')} {k.pair(str(yy))}", f"{mm:02d} {yy}"))
        k.agent(k.pick(("And the expiry date?", "Thanks. When does it expire?", "And the expiry?")))
        k.caller(k.pick(("It's ", "", "Expires ")), exp, ".")
        if k.chance(0.5):
            cvv = "".join(str(k.rng.randint(0, 9)) for _ in range(4 if k.tgt.brand.startswith("amex") else 3))
            k.agent("And the security code on the back?")
            k.caller(k.say(cvv, k.pick(("digits", "words"))), ".")
        k.agent(
            k.pick(("Lovely, that's gone through", "Okay, that's approved", "Thanks, all done")),
            k.pick((f" on the card ending {k.tgt.last4}.", ".", f", card ending {k.say(k.tgt.last4, 'words')}.")),
        )
        k.caller(k.pick(("Great, thanks.", "Brilliant, bye.", "Thank you.")))
    else:
        k.agent(k.pick(("Thanks, I've found that.", "Lovely, that's all updated.", "Great, I can see it now.")))
        k.caller(k.pick(("Great, thanks.", "Okay, thank you.", "Cheers, bye.")))


def lead_words(k: Kit) -> list[str]:
    if k.is_card:
        return k.pick(
            (["yeah", "it's"], ["my", "card", "number", "is"], ["okay", "so", "it's"], ["the", "long", "number's"])
        )
    return ["my", *k.noun.split(), "is"]


# ============================================================================================
# Card families
# ============================================================================================


def _tokens(k: Kit, split: str) -> list[tuple[str, str]]:
    """The number as recogniser tokens: (content, digits stated)."""
    out: list[tuple[str, str]] = []
    for g in k.tgt.split():
        if split == "group":
            out.append((g, g))
        elif split == "digit":
            out.extend((x, x) for x in g)
        else:
            out.extend((k.dw(x), x) for x in g)
    return out


def fam_aws_transcribe_items(k: Kit) -> None:
    """Amazon Transcribe batch JSON: transcript, per-word items and (sometimes) segment alternatives."""
    d = k.doc
    split = k.pick(("group", "digit", "word"))
    lead = lead_words(k)
    toks = _tokens(k, split)
    tail = k.pick((["thanks"], ["is", "that", "right"], ["that's", "it"]))
    sep = "\n    " if k.chance(0.5) else ""
    d.add(
        '{"jobName":"', k.pick(("pay-line", "cc-inbound", "ivr-capture")), "-", k.hexid(10), '","status":"COMPLETED",'
    )
    d.add('"results":{"language_code":"en-US","transcripts":[{"transcript":"', " ".join(lead).capitalize(), " ")
    for i, (t, e) in enumerate(toks):
        d.add(" " if i else "", C(t, e))
    d.add(", ", " ".join(tail), '."}],', sep, '"items":[')
    first = True

    def item(content: Part, conf: float) -> None:
        nonlocal first
        s, e = k.word_time()
        d.add("" if first else ",", sep, f'{{"start_time":"{s:.2f}","end_time":"{e:.2f}",')
        d.add(f'"alternatives":[{{"confidence":"{conf:.4f}","content":"', content, '"}],"type":"pronunciation"}')
        first = False

    for w in lead:
        item(w, k.rng.uniform(0.8, 1.0))
    for t, e in toks:
        item(C(t, e), k.rng.uniform(0.6, 1.0))
    d.add(",", sep, '{"alternatives":[{"confidence":"0.0","content":","}],"type":"punctuation"}')
    for w in tail:
        item(w, k.rng.uniform(0.8, 1.0))
    d.add("]")
    if k.chance(0.5):
        d.add(",", sep, f'"segments":[{{"start_time":"{k.clock - 6:.2f}","end_time":"{k.clock:.2f}","alternatives":[')
        d.add('{"transcript":"', " ".join(lead).capitalize(), " ", *k.read("digits", joiner=" "), '."},')
        bad = k.variant(k.tgt.digits)
        d.add('{"transcript":"', " ".join(lead).capitalize(), " ", *k.read("digits", joiner=" ", digits=bad), '."}')
        d.add("]}]")
    d.add("}}")


def fam_deepgram_words(k: Kit) -> None:
    """Deepgram JSON: transcript, words[] with word and punctuated_word, and paragraphs' transcript."""
    d = k.doc
    style = k.pick(("smart", "numerals", "raw"))
    lead = lead_words(k)
    spk = k.rng.randint(0, 1)
    groups = k.tgt.split()
    toks = _tokens(k, "word") if style == "raw" else [(g, g) for g in groups]

    def transcript() -> list[Part]:
        out: list[Part] = [" ".join(lead).capitalize(), " "]
        if style == "numerals":
            out.append(C(k.tgt.digits, k.tgt.digits))
        else:
            for i, (t, e) in enumerate(toks):
                out += [" " if i else "", C(t, e)]
        out.append(".")
        return out

    d.add('{"metadata":{"request_id":"', k.uuid(), '","channels":1,"models":["', k.uuid(), '"]},')
    d.add('"results":{"channels":[{"alternatives":[{"transcript":"', *transcript(), '",')
    d.add(f'"confidence":{k.rng.uniform(0.8, 0.99):.4f},"words":[')
    words: list[tuple[str, str]] = [(w, "") for w in lead] + toks
    for i, (w, e) in enumerate(words):
        s, end = k.word_time()
        last = i == len(words) - 1
        d.add("," if i else "", '{"word":"', C(w.lower(), e) if e else w, f'","start":{s:.3f},"end":{end:.3f},')
        d.add(f'"confidence":{k.rng.uniform(0.55, 1.0):.4f},"speaker":{spk},"punctuated_word":"')
        pw: Part = C(w, e) if e else (w.capitalize() if i == 0 else w)
        d.add(pw, "." if last else ("," if e and k.chance(0.3) else ""), '"}')
    d.add("]")
    if k.chance(0.6):
        d.add(',"paragraphs":{"transcript":"\\nSpeaker ', str(spk), ": ", *transcript(), '\\n"}')
    d.add("}]}]}}")


def fam_azure_nbest(k: Kit) -> None:
    """Azure detailed output: DisplayText and NBest Lexical / ITN / MaskedITN / Display, plus an alternative."""
    d = k.doc
    lead = " ".join(lead_words(k))
    grouped = k.chance(0.5)

    def forms(digits: str) -> dict[str, list[Part]]:
        lex: list[Part] = [lead, " ", *k.read("words", joiner=" ", digits=digits)]
        if grouped:
            itn: list[Part] = [lead, " ", *k.read("digits", joiner=" ", digits=digits)]
        else:
            itn = [lead, " ", C(digits, digits)]
        disp: list[Part] = [lead.capitalize(), " ", *k.read("digits", joiner=" ", digits=digits), "."]
        return {"Lexical": lex, "ITN": itn, "MaskedITN": list(itn), "Display": disp}

    off = int(k.clock * 10_000_000)
    d.add(
        '{"Id":"',
        k.hexid(32),
        '","RecognitionStatus":"Success",',
        f'"Offset":{off},"Duration":{k.rng.randint(30, 90)}00000,',
    )
    best = forms(k.tgt.digits)
    d.add('"Channel":0,"DisplayText":"', *best["Display"], '","NBest":[')
    for j, digits in enumerate((k.tgt.digits, k.variant(k.tgt.digits))[: 2 if k.chance(0.7) else 1]):
        f = best if j == 0 else forms(digits)
        d.add("," if j else "", f'{{"Confidence":{0.93 - 0.25 * j:.4f}')
        for key in ("Lexical", "ITN", "MaskedITN", "Display"):
            d.add(f',"{key}":"', *f[key], '"')
        d.add("}")
    d.add("]}")


def fam_google_results_split(k: Kit) -> None:
    """Google STT response: the number split across two results at a pause, with word offsets."""
    d = k.doc
    digits = k.tgt.digits
    groups = k.tgt.split()
    cut = k.rng.randint(1, len(groups) - 1)
    head = "".join(groups[:cut])
    if k.chance(0.4) and len(groups[cut]) > 2:  # the pause falls inside a group
        head = digits[: len(head) + k.rng.randint(1, len(groups[cut]) - 1)]
    lead = lead_words(k)

    def result(words: list[tuple[str, str]], tail: str) -> None:
        d.add('{"alternatives":[{"transcript":"')
        for i, (w, e) in enumerate(words):
            d.add(" " if i else "", C(w, e) if e else w)
        d.add(tail, f'","confidence":{k.rng.uniform(0.7, 0.97):.6f},"words":[')
        for i, (w, e) in enumerate(words):
            s, end = k.word_time()
            d.add("," if i else "", f'{{"startOffset":"{s:.3f}s","endOffset":"{end:.3f}s","word":"')
            d.add(C(w, e) if e else w, '"}')
        d.add(f']}}],"resultEndOffset":"{k.tick():.3f}s","languageCode":"en-us"}}')

    words_mode = k.chance(0.3)

    def chunks(a: int, b: int) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for piece in k.chunks(a, b):
            if words_mode:
                out.extend((ONES[int(x)], x) for x in piece)
            else:
                out.append((piece, piece))
        return out

    d.add('{"results":[')
    result([(w, "") for w in lead] + chunks(0, len(head)), "")
    d.add(",")
    result([*chunks(len(head), len(digits)), ("thanks", "")], ".")
    d.add(f'],"totalBilledTime":"{k.rng.randint(8, 40)}s","requestId":"{k.rng.randint(10**17, 10**18 - 1)}"}}')


def _prefix_cuts(k: Kit, n: int) -> list[int]:
    cuts = sorted(k.rng.sample(range(3, n), min(k.rng.randint(2, 5), n - 3)))
    return [*cuts, n]


def _prefix_reading(k: Kit, upto: int, mode: str) -> list[Part]:
    """The first ``upto`` digits as the recogniser shows them mid-utterance."""
    out: list[Part] = []
    for chunk in k.chunks(0, upto):
        out += [" " if out else "", C(chunk if mode == "digits" else k.say(chunk, "words"), chunk)]
    return out


def fam_streaming_interims(k: Kit) -> None:
    """Interim results that repeat a growing prefix of the number (Deepgram / Google / AWS streaming)."""
    d = k.doc
    n = len(k.tgt.digits)
    mode = k.pick(("words", "digits"))
    lead = " ".join(lead_words(k))
    fmt = k.pick(("deepgram", "google", "aws"))
    cuts = _prefix_cuts(k, n)
    for j, upto in enumerate(cuts):
        final = j == len(cuts) - 1
        t = k.tick(0.8, 1.3)
        body: list[Part] = [lead, " ", *_prefix_reading(k, upto, mode)]
        if fmt == "deepgram":
            flag = "true" if final else "false"
            d.add(f'{j + 1:>3} 0.000-{t:.3f} ["is_final": {flag}] ', *body, "\n")
        elif fmt == "google":
            d.add('results {\n  alternatives {\n    transcript: "', *body, '"\n')
            if final:
                d.add(f"    confidence: {k.rng.uniform(0.8, 0.97):.6f}\n  }}\n  is_final: true\n")
            else:
                d.add(f"  }}\n  stability: {k.rng.choice((0.01, 0.09, 0.8, 0.9))}\n")
            d.add(f"  result_end_time {{\n    seconds: {int(t)}\n    nanos: {int((t % 1) * 1e9)}\n  }}\n}}\n")
        else:
            part = "false" if final else "true"
            d.add('{"Transcript":{"Results":[{"Alternatives":[{"Transcript":"', *body, '"}],')
            d.add(f'"EndTime":{t:.3f},"IsPartial":{part},"ResultId":"{k.uuid()}","StartTime":0.21}}]}}}}\n')


def fam_twilio_partial_callbacks(k: Kit) -> None:
    """Twilio <Gather> partialResultCallback webhooks (Stable/UnstableSpeechResult) and the final action."""
    d = k.doc
    digits = k.tgt.digits
    n = len(digits)
    words = k.chance(0.5)
    acct, call = "AC" + k.hexid(32), "CA" + k.hexid(32)

    def enc(a: int, b: int) -> C:
        s = digits[a:b]
        if words:
            return C("+".join(k.dw(x) for x in s), s)
        return C("+".join(k.chunks(a, b)), s)

    def when() -> str:
        t = k.tick(0.6, 1.4)
        return f"2025-03-14T16:{int(t) // 60 % 60:02d}:{int(t) % 60:02d}.{int(t * 1000) % 1000:03d}Z"

    stable = 0
    seq = 0
    path = k.pick(("/voice/pay/partial", "/ivr/card-partial", "/gather/partial"))
    while stable < n:
        seq += 1
        unstable = min(n, stable + k.rng.randint(2, 6))
        d.add(f"{when()} POST {path} AccountSid={acct}&CallSid={call}&SequenceNumber={seq}&StableSpeechResult=")
        if stable:
            d.add(enc(0, stable))
        d.add("&UnstableSpeechResult=", enc(stable, unstable), f"&Stability={k.rng.uniform(0.01, 0.9):.2f}\n")
        stable = unstable if k.chance(0.7) else max(stable, unstable - 2)
    conf = k.rng.uniform(0.7, 0.98)
    d.add(f"{when()} POST {path.replace('partial', 'done')} AccountSid={acct}")
    d.add(f"&CallSid={call}&Confidence={conf:.7f}&Language=en-US&SpeechResult=", enc(0, n), "\n")
    what = "a card" if k.is_card else "a number"
    d.add(
        f"<Response><Say>Thanks. I heard {what} ending in ", " ".join(k.tgt.last4), ". Is that right?</Say></Response>"
    )


def _whisper_group(k: Kit, g: str) -> str:
    form = k.pick(("digits", "digits", "pairs_digits", "words", "commas", "hyphen_digits"))
    return k.say(g, form)


def fam_whisper_segments(k: Kit) -> None:
    """Whisper output: mixed formatting inside one number, segment timestamps, a repeated segment."""
    d = k.doc
    srt = k.chance(0.4)
    digits = k.tgt.digits
    n = len(digits)
    # one or two segment boundaries, anywhere (also inside a group), at least four digits apart
    bounds = sorted(k.rng.sample(range(4, n - 3), k.rng.randint(0, 2)))
    if len(bounds) == 2 and bounds[1] - bounds[0] < 4:
        bounds = bounds[:1]
    segs: list[list[Part]] = [[k.pick(("Yeah, it's ", f"Okay, so the {k.noun} is ", "It's "))]]
    for a, b in itertools.pairwise([0, *bounds, n]):
        if a:
            segs.append([])
        for i, chunk in enumerate(k.chunks(a, b)):
            if i:
                segs[-1].append(k.pick(("-", ", ", " ", " ")))
            segs[-1].append(C(_whisper_group(k, chunk), chunk))
    segs[-1].append(".")
    if k.chance(0.35):
        segs.append(list(segs[-1]))  # Whisper repeating the previous segment
    if k.is_card:
        segs.append([k.pick(("And the expiry is ", "Expiry ")), f"{k.rng.randint(1, 12):02d}/{k.rng.randint(25, 31)}."])
    ask = (
        "I'd like to pay my bill by card please."
        if k.is_card
        else f"I'm calling about my phone. Do you need the {k.noun}?"
    )
    head: list[list[Part]] = [["Thank you for calling, how can I help?"], [ask]]
    start = k.rng.uniform(1, 20)
    for idx, seg in enumerate(head + segs):
        end = start + k.rng.uniform(1.0, 4.0)
        if srt:
            d.add(f"{idx + 1}\n{_srt(start)} --> {_srt(end)}\n", *seg, "\n\n")
        else:
            d.add(f"[{_mmss(start)} --> {_mmss(end)}]  ", *seg, "\n")
        start = end


def _mmss(t: float) -> str:
    return f"{int(t) // 60:02d}:{t % 60:06.3f}"


def _srt(t: float) -> str:
    return f"00:{int(t) // 60:02d}:{int(t) % 60:02d},{int(t * 1000) % 1000:03d}"


def fam_itn_thousands_separators(k: Kit) -> None:
    """Inverse text normalisation inserting thousands separators ("4,242,424,242" / "4.242.424")."""
    open_call(k)
    digits = k.tgt.digits
    style = k.pick(("whole", "groups", "eights", "dots"))
    if style == "whole" and digits[0] != "0":
        first: list[Part] = [k.c(digits, "commas")]
    elif style == "dots":
        first = k.read("dots", joiner=" ")
    elif style == "eights":
        first = k.read("commas", grouping=(8, 8, 8), joiner=" ")
    else:
        first = k.read("commas", joiner=" ")
    k.caller(k.intro(), *first, ".")
    k.agent(
        k.pick(
            (
                "Sorry, my screen's turned that into one big number. Can you read it again, slowly?",
                "Hmm, that's come through with commas in it. One more time, digit by digit?",
                "Sorry, could you repeat that? It's not taking it.",
            )
        )
    )
    k.caller(*k.read(k.pick(("words_comma", "words", "words_slow"))), ".")
    k.agent("Thanks. So ", *k.read(k.pick(("digits", "commas", "words")), joiner=k.pick((", ", " "))), "?")
    k.caller(k.pick(("Yes.", "That's it.", "Yep, that's right.")))
    close_call(k)


def fam_caller_cardinal_groupings(k: Kit) -> None:
    """Groups said as numbers: "four thousand two hundred and forty-two", "forty-two hundred", "three seventy-eight"."""
    open_call(k)
    k.caller(k.intro(), *k.read("cardinal", joiner=k.pick((", ", "... ", ". "))), ".")
    k.agent(
        k.pick(
            (
                "Sorry, can you do that one digit at a time?",
                "Okay, and digit by digit?",
                "Sorry, I didn't get all that.",
            )
        )
    )
    if k.chance(0.5):
        k.caller(*k.read("words", joiner=", "), ".")
    else:
        k.caller("Sure. ", *k.read("cardinal", joiner=", "), ".")
    k.agent("Let me read that back: ", *k.read(k.pick(("digits", "cardinal")), joiner=", "), ".")
    k.caller(k.pick(("Yes, that's right.", "Yep.", "Correct.")))
    close_call(k)


def fam_hyphenated_digit_words(k: Kit) -> None:
    """Telephone-style hyphenated words ("four-two-four-two") and recogniser hyphen runs ("4-2-4-2")."""
    open_call(k)
    style = k.pick(("groups", "run", "digits", "dash_word"))
    if style == "groups":
        k.caller(k.intro(), *k.read("hyphen_words", joiner=k.pick((", ", " ", " – "))), ".")
    elif style == "run":
        k.caller(k.intro(), k.c(k.tgt.digits, "hyphen_words"), ".")
    elif style == "digits":
        k.caller(k.intro(), *k.read("hyphen_digits", joiner=k.pick(("-", " ", "--"))), ".")
    else:
        k.caller(k.intro(), *k.read(k.pick(("words", "hyphen_words")), joiner=" dash "), ".")
    k.agent("That's ", *k.read(k.pick(("hyphen_digits", "digits")), joiner="-"), "?")
    k.caller(k.pick(("Yeah.", "Yes, that's it.", "Mm-hmm.")))
    close_call(k)


def fam_amex_diners_grouping(k: Kit) -> None:
    """Amex read 4-6-5 and Diners (14 digits) read 4-6-4, the six-digit middle said in several ways."""
    open_call(k)
    g = k.tgt.split()
    mid = g[1]
    mid_form = k.pick(("threes", "pairs", "words", "digits", "cardinal"))
    if mid_form == "threes":
        mid_parts: list[Part] = [k.c(mid[:3], k.pick(("digits", "words", "cardinal"))), ", ", k.c(mid[3:])]
    else:
        mid_parts = [k.c(mid, mid_form)]
    mode = k.mode()
    k.caller(k.intro(), k.c(g[0], mode), ", ", *mid_parts, ", ", k.c(g[2], mode), ".")
    which = "Amex" if k.tgt.brand.startswith("amex") else "Diners"
    k.agent(
        k.pick(
            (
                f"Is that {'an Amex' if which == 'Amex' else 'a Diners card'}? So four, then six, then {len(g[2])}?",
                "Sorry, the middle bit, was that six digits?",
                "Hang on, I've typed it in fours and it doesn't fit.",
            )
        )
    )
    k.caller(k.pick(("Yeah, the middle's six: ", "Six in the middle, yes: ", "Yes: ")), k.c(mid, k.mode()), ".")
    k.agent("Okay, so ", *k.read(k.pick(("digits", "words")), joiner=", "), ".")
    k.caller(k.pick(("That's right.", "Yes.", "Yep.")))
    close_call(k)


def fam_nineteen_digit_card(k: Kit) -> None:
    """19-digit cards read 4-4-4-4-3, the agent questioning the extra digits."""
    open_call(k)
    g = k.tgt.split()
    k.caller(
        k.pick(("It's one of the long ones. ", "There's a lot of numbers on this one. ", "")), k.intro(), *k.read(), "."
    )
    k.agent(
        k.pick(
            (
                f"Sorry, I've got sixteen and then {k.say(g[-1], 'words')} extra, is that right?",
                "That's more than sixteen digits, are you sure?",
                "Our system usually takes sixteen. Can you read it again?",
            )
        )
    )
    k.caller(
        k.pick(("Yes, it's nineteen. ", "Yeah, it's a UnionPay card, they're longer. ", "Yes. Again: ")),
        *k.read(k.mode(), joiner=k.pick((", ", "... "))),
        ".",
    )
    k.agent("Okay, so ", *k.read("digits", grouping=k.pick(((4, 4, 4, 4, 3), (6, 13), (19,))), joiner=" "), ".")
    k.caller(k.pick(("Yes.", "That's it.", "Yep, nineteen.")))
    close_call(k)


def fam_read_in_pairs(k: Kit) -> None:
    """The caller reads in chunks of two with pauses; the agent prompts for the next two."""
    open_call(k)
    digits = k.tgt.digits
    pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    k.caller(k.pick(("I'll do it in twos, it's easier. ", "Okay, in pairs: ", "")), k.c(pairs[0], "pairs"), "...")
    i = 1
    while i < len(pairs):
        take = k.rng.randint(1, 3)
        chunk: list[Part] = []
        for p in pairs[i : i + take]:
            if chunk:
                chunk.append(k.pick(("... ", ", ", " ")))
            chunk.append(k.c(p, k.pick(("pairs", "pairs", "digits", "words"))))
        if k.chance(0.5):
            k.agent(k.pick(("Mm-hmm.", "Yep.", "Next two?", "Go on.", "Okay.")))
        k.caller(*chunk, k.pick(("...", ".", ",")))
        i += take
    k.agent("Thanks. I've got ", *k.read("digits", joiner=" "), ".")
    k.caller(k.pick(("Perfect.", "Yes.", "That's it.")))
    close_call(k)


INTERREGNA = (
    " - no wait - ",
    ", no, sorry, ",
    ", I mean ",
    "... uh, scratch that, ",
    ", sorry, no, ",
    " - hang on, that's wrong - ",
    "... sorry, I'm reading it without my glasses... ",
    ", oops, ",
    " - no - ",
    ", let me do that bit again, ",
)


def _disfluent_variant(k: Kit, g: str, kind: str) -> str:
    if kind == "substitution" or len(g) < 2:
        return k.variant(g)
    if kind == "insertion":
        pos = k.rng.randrange(len(g))
        return g[: pos + 1] + g[pos] + g[pos + 1 :]
    if kind == "deletion":
        pos = k.rng.randrange(len(g))
        return g[:pos] + g[pos + 1 :]
    if kind == "transposition":
        for _ in range(10):
            pos = k.rng.randrange(len(g) - 1)
            if g[pos] != g[pos + 1]:
                return g[:pos] + g[pos + 1] + g[pos] + g[pos + 2 :]
        return k.variant(g)
    return g[: k.rng.randint(1, max(1, len(g) - 1))]  # repetition: cut off and repeated


def fam_disfluency_repairs(k: Kit) -> None:
    """Repairs: a digit substituted, inserted, skipped, transposed, or a group cut off and repeated."""
    open_call(k)
    groups = k.tgt.split()
    where = set(k.rng.sample(range(len(groups)), k.rng.randint(1, min(2, len(groups)))))
    mode = k.mode()
    parts: list[Part] = [k.intro()]
    for j, g in enumerate(groups):
        if j:
            parts.append(k.joiner())
        if j in where:
            kind = k.pick(("substitution", "insertion", "deletion", "transposition", "repetition"))
            bad = _disfluent_variant(k, g, kind)
            inter = " - " if kind == "repetition" else k.pick(INTERREGNA)
            if kind == "deletion":
                inter = k.pick(
                    (" - oh, I missed one - ", ", no wait, I skipped a number, ", "... sorry, that's only three, ")
                )
            parts += [k.c(bad, mode), inter, k.c(g, mode)]
        else:
            parts.append(k.c(g, mode))
    k.caller(*parts, ".")
    k.agent(k.pick(("Okay, let me read that back: ", "So that's ", "I've got ")), *k.read("digits", joiner=" "), "?")
    k.caller(k.pick(("Yes.", "Yeah, that's right.", "Yep.")))
    close_call(k)


def fam_false_start_abandoned(k: Kit) -> None:
    """False starts: an old card abandoned, an interrupted start, or a restart after losing the place."""
    open_call(k)
    kind = k.pick(("old_card", "interrupted", "lost_place", "not_now"))
    digits = k.tgt.digits
    mode = k.mode()
    if kind == "old_card":
        old = k.alt(k.rng)
        m = k.rng.randint(4, min(10, len(old.digits) - 2))
        k.caller(k.intro(), *_partial(k, old, m, mode), " - ", k.pick(("oh wait", "hang on", "no")), ", ")
        k.doc.add(k.pick(("that's my old one, it's expired.", f"that's the old {k.noun}, sorry.", "wrong one, sorry.")))
        k.agent(k.pick(("No problem, take your time.", "That's fine.", "Okay, no worries.")))
        k.caller(k.pick(("Right, here's the new one: ", "Okay, this one: ", "Got it. ")), *k.read(mode), ".")
    elif kind == "interrupted":
        m = k.rng.randint(2, min(9, len(digits) - 3))
        k.caller(k.intro(), *_partial(k, k.tgt, m, mode), " -")
        k.agent(
            k.pick(
                (
                    "Sorry to stop you, is this a debit or a credit card?"
                    if k.is_card
                    else "Sorry, is that the new one?",
                    "Sorry, before you go on, are you the account holder?",
                    "Just a sec, my screen's frozen. Okay, from the start please.",
                )
            )
        )
        k.caller(k.pick(("Yes. So, ", "It is. Okay, from the top: ", "Okay. ")), *k.read(mode), ".")
    elif kind == "lost_place":
        m = k.rng.randint(5, len(digits) - 2)
        k.caller(
            k.intro(),
            *_partial(k, k.tgt, m, mode),
            k.pick(
                (" - ugh, I've lost my place. ", "... sorry, where was I. ", " - hang on, I'm reading it upside down. ")
            ),
            k.pick(("From the top: ", "Again: ", "Okay: ")),
            *k.read(mode),
            ".",
        )
    else:
        m = k.rng.randint(4, min(8, len(digits) - 2))
        k.caller(k.intro(), *_partial(k, k.tgt, m, mode), "... actually, can I call back with it later?")
        k.agent("You can, but I can take it now if that's easier.")
        k.caller("No, go on then. ", *k.read(k.mode()), ".")
    k.agent(k.pick(("Thanks, that's ", "So ", "Lovely, ")), *k.read("digits", joiner=" "), ".")
    k.caller(k.pick(("Yes.", "That's it.")))
    close_call(k)


def _partial(k: Kit, tgt: Target, m: int, mode: str) -> list[Part]:
    """The first ``m`` digits of ``tgt`` read group by group (a reading that gets abandoned)."""
    out: list[Part] = []
    i = 0
    for g in tgt.split():
        if i >= m:
            break
        chunk = g[: m - i]
        if out:
            out.append(k.joiner())
        out.append(k.c(chunk, mode))
        i += len(g)
    return out


INTERJECTIONS = (
    ("Sorry, can you hear me?", "Yes, I can hear you fine."),
    ("Are you still there?", "Still here, go ahead."),
    ("Did you get that?", "I did, keep going."),
    ("Sorry, is this line secure?", "It is, and the recording's paused."),
    ("Wait, is this being recorded?", "I've paused the recording for the card details."),
    ("Hang on, my kid's shouting. Sorry.", "No problem."),
    ("Hello? Hello?", "I'm here."),
    ("Sorry, the dog. One sec.", "Take your time."),
    ("Is it all of them, or just the long number?", "Just the long number on the front for now."),
)


def _rest_pieces(tgt: Target, start: int) -> list[str]:
    """The digits from ``start`` on, cut at the number's own group boundaries."""
    out: list[str] = []
    acc = 0
    for g in tgt.split():
        lo, hi = acc, acc + len(g)
        acc = hi
        if hi > start:
            out.append(tgt.digits[max(lo, start) : hi])
    return out


def _group_start(tgt: Target, pos: int) -> int:
    acc = 0
    for g in tgt.split():
        if acc + len(g) > pos:
            return acc
        acc += len(g)
    return acc


def fam_mid_number_interjection(k: Kit) -> None:
    """A question or aside mid-number; the caller then resumes, repeats the group, or starts over."""
    open_call(k)
    digits = k.tgt.digits
    mode = k.mode()
    cut = k.rng.randint(3, len(digits) - 3)
    q, ans = k.pick(INTERJECTIONS if k.is_card else INTERJECTIONS[:3])
    k.caller(k.intro(), *_partial(k, k.tgt, cut, mode), k.pick((" - ", "... ", ", ")), q)
    k.agent(ans)
    how = k.pick(("resume", "repeat_group", "restart"))
    if how == "restart":
        k.caller(k.pick(("Okay, I'll start again. ", "From the beginning: ")), *k.read(mode), ".")
    else:
        start = cut if how == "resume" else _group_start(k.tgt, cut)
        parts: list[Part] = []
        for g in _rest_pieces(k.tgt, start):
            if parts:
                parts.append(k.joiner())
            parts.append(k.c(g, mode))
        k.caller(k.pick(("Okay. ", "Right, so ", "Where was I. ", "")), *parts, ".")
    k.agent("So that's ", *k.read("digits", joiner=" "), "?")
    k.caller(k.pick(("Yes.", "Yep.", "That's right.")))
    close_call(k)


def fam_backchannel_splits_group(k: Kit) -> None:
    """Agent backchannels land mid-group, so one group is split across two caller turns."""
    open_call(k)
    digits = k.tgt.digits
    n = len(digits)
    mode = k.mode(CALLER_MODES[:3])
    cuts: list[int] = []
    for c in sorted(k.rng.sample(range(3, n - 2), min(n - 5, k.rng.randint(2, 4)))):
        if not cuts or c - cuts[-1] >= 3:
            cuts.append(c)
    bounds = [0, *cuts, n]
    for a, b in itertools.pairwise(bounds):
        parts: list[Part] = []
        for chunk in k.chunks(a, b):
            if parts:
                parts.append(k.pick((", ", " ", ", ")))
            parts.append(k.c(chunk, mode))
        k.caller(k.intro() if a == 0 else "", *parts)
        if b < n:
            k.agent(k.pick(("Mm-hmm.", "Yep.", "Okay.", "Uh-huh.", "Yeah.", "Got it.")))
    k.agent(k.pick(("And that's everything?", "Is that all of it?")))
    k.caller(k.pick(("Yes.", "That's the lot.")))
    if k.chance(0.6):
        k.agent("Okay, ", *k.read("digits", joiner=" "), ".")
    close_call(k)


def _inaudible(sep: str, stamp: Callable[[int, int], str]) -> Callable[[], str]:
    def marker() -> str:
        return f"{sep}[inaudible {stamp(1, 2)}]"

    return marker


def fam_crosstalk_rev_style(k: Kit) -> None:
    """Rev/TranscribeMe style: timestamped speakers, [crosstalk], em-dash cut-offs and [inaudible] markers."""
    d = k.doc
    clock = [k.rng.randint(30, 300)]

    def stamp(lo: int = 2, hi: int = 6) -> str:
        clock[0] += k.rng.randint(lo, hi)
        t = clock[0]
        return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"

    names = k.pick((("Speaker 1", "Speaker 2"), (k.agent_name, k.caller_name.split()[0]), ("Agent", "Caller")))

    def say(who: int, *parts: Part | Callable[[], str]) -> None:
        if d.n:
            d.add("\n\n")
        d.add(f"{names[who]} ({stamp()}): ")
        for p in parts:
            d.add(p() if callable(p) else p)  # markers are stamped after the line's own time

    groups = k.tgt.split()
    mode = k.mode()
    say(0, f"Okay, go ahead with the {k.noun}.")
    cut = k.rng.randint(1, len(groups) - 1)
    lost = k.rng.randint(cut, len(groups) - 1)
    first: list[Part] = [k.intro()]
    for j in range(cut):
        first += [", " if j else "", k.c(groups[j], mode)]
    say(1, *first, "—")
    marker = k.pick(("[crosstalk {}] ", "[crosstalk] ", "[OVERLAP] "))
    say(0, lambda: marker.format(stamp(0, 1)), "Sorry, sorry, go ahead.")
    rest: list[Part | Callable[[], str]] = ["—"]
    for j in range(cut, len(groups)):
        if j == lost:
            rest.append(_inaudible(", " if j > cut else "", stamp))
        else:
            rest += [", " if j > cut else "", k.c(groups[j], mode)]
    say(1, *rest, ". Did you get that?")
    heard: list[Part] = []
    for j in range(lost):
        heard += [" " if j else "", k.c(groups[j], "digits")]
    if heard:
        say(0, "I got ", *heard, " and then you broke up. What came after that?")
    else:
        say(0, "Sorry, I lost all of that. Can you start again?")
    again: list[Part] = []
    for j in range(lost, len(groups)):
        again += [", " if j > lost else "", k.c(groups[j], mode)]
    say(1, *again, ".")
    say(0, "Thank you. So, ", *k.read("digits", joiner=" "), "?")
    say(1, k.pick(("Yes.", "Yeah, that's right.")))


def fam_diarization_misattribution(k: Kit) -> None:
    """Diarisation errors: caller's groups under the agent's label, a group split between speakers, a phantom speaker."""
    labels = k.pick(
        (
            ("spk_0: ", "spk_1: ", "spk_2: "),
            ("Speaker 0: ", "Speaker 1: ", "Speaker 2: "),
            ("AGENT: ", "CUSTOMER: ", "UNKNOWN: "),
        )
    )
    k.labels = (labels[0], labels[1])
    open_call(k)
    digits = k.tgt.digits
    groups = k.tgt.split()
    mode = k.mode(CALLER_MODES[:3])

    def pieces(seq: Sequence[str]) -> list[Part]:
        out: list[Part] = []
        for g in seq:
            out += [" " if out else "", k.c(g, mode)]
        return out

    kind = k.pick(("head_to_agent", "mid_group", "phantom"))
    if kind == "head_to_agent":
        n = k.rng.randint(1, len(groups) - 1)
        k.agent(k.pick(("Go ahead. ", "Okay, ready. ", "")), *pieces(groups[:n]))
        k.caller(*pieces(groups[n:]), ".")
    elif kind == "mid_group":
        cut = k.rng.randint(2, len(digits) - 4)
        n = k.rng.randint(1, 3)
        k.caller(k.intro(), *_partial(k, k.tgt, cut, mode))
        k.agent(k.c(digits[cut : cut + n], mode))
        k.caller(*pieces(_rest_pieces(k.tgt, cut + n)), ".")
    else:
        cut = k.rng.randint(4, len(digits) - 5)
        k.caller(k.intro(), *_partial(k, k.tgt, cut, mode))
        k.line(labels[2], k.c(digits[cut : cut + 4], mode))
        k.caller(*pieces(_rest_pieces(k.tgt, cut + 4)), ".")
    k.agent(k.pick(("Let me read that back. ", "So, ")), *k.read("digits", joiner=" "), "?")
    k.caller(k.pick(("Yes.", "Correct.")))
    close_call(k)


MASKS = ("[PII]", "####", "[CREDIT_CARD_NUMBER]", "[REDACTED]", "[CREDIT_DEBIT_NUMBER]", "[PCI]", "*****")


def fam_platform_partial_redaction(k: Kit) -> None:
    """The platform masked one reading but the number leaks elsewhere (repeat, words read-back, tail)."""
    open_call(k)
    mask = k.pick(MASKS)
    groups = k.tgt.split()
    kind = k.pick(("words_readback", "repeat_unmasked", "partial_mask", "middle_masked", "bin_last4"))
    k.caller(k.intro(), " ".join(mask for _ in groups) if k.chance(0.5) else mask, ".")
    if kind == "middle_masked":  # the masker caught the middle groups only
        k.agent(
            "I have ",
            k.c(groups[0], "digits"),
            " ",
            " ".join(mask for _ in groups[1:-1]),
            " ",
            k.c(groups[-1], "digits"),
            ". Sorry, can you give me the middle again?",
        )
        k.caller(*[p for j, g in enumerate(groups[1:-1]) for p in (", " if j else "", k.c(g, k.mode()))], ".")
        k.agent("Thanks, so all together ", *k.read(k.pick(("words", "digits")), joiner=", "), ".")
    elif kind == "bin_last4":  # first six and last four left visible by the platform's truncation
        digits = k.tgt.digits
        stars = k.pick(("*", "X", "#")) * (len(digits) - 10)
        k.agent(
            "The system's showing ",
            C(f"{digits[:6]}{stars}{digits[-4:]}", digits[:6] + digits[-4:]),
            ". Can you confirm the full number for me?",
        )
        k.caller(*k.read(k.pick(("words", "digits", "pairs"))), ".")
    elif kind == "words_readback":
        k.agent(k.pick(("Thank you, so that's ", "Let me repeat that: ")), *k.read("words", joiner=", "), "?")
        k.caller("Yes.")
    elif kind == "repeat_unmasked":
        k.agent(k.pick(("Sorry, I missed the middle, can you go again, slowly?", "Once more please?")))
        k.caller(*k.read(k.pick(("words_slow", "words", "pairs"))), ".")
        k.agent("Thanks, ", " ".join(mask for _ in groups), ".")
    else:
        n = k.rng.randint(1, len(groups) - 2)
        shown = groups[n:]
        k.agent(
            "I've got ",
            " ".join(mask for _ in groups[:n]),
            " ",
            *[p for j, g in enumerate(shown) for p in (" " if j else "", k.c(g, "digits"))],
            ", is that right?",
        )
        k.caller("Yes. The whole thing is ", *k.read(k.pick(("words", "pairs", "digits"))), ".")
    close_call(k)


def fam_spanish_english_code_switching(k: Kit) -> None:
    """Spanish/English code-switching: Spanish singles or pairs, or a switch of language between groups."""
    open_call(k)
    style = k.pick(("spanish", "spanish_pairs", "alternate", "relative"))
    if style == "alternate":
        parts: list[Part] = []
        for j, g in enumerate(k.tgt.split()):
            if j:
                parts.append(", ")
            parts.append(k.c(g, k.pick(("spanish", "words")) if j % 2 else k.pick(("words", "digits"))))
        k.caller("Okay, es ", *parts, ".")
    elif style == "relative":
        k.caller(f"Hold on, my mum has the {k.noun}. ", k.pick(("Mamá, ¿cuáles son los números?", "Mamá, léemelos.")))
        k.line(k.pick(("[background] ", "Speaker 3: ")), *k.read("spanish", joiner=", "), ".")
        k.caller("So, ", *k.read("words"), ".")
    else:
        k.caller(k.pick(("Sí, es ", "Okay, son ", "Es ")), *k.read(style, joiner=k.pick((", ", " "))), ".")
    k.agent(
        k.pick(("Sorry, in English please? ", "Okay, let me check I have it: ")), *k.read("digits", joiner=" "), "?"
    )
    if k.chance(0.4):
        groups = k.tgt.split()
        j = k.rng.randrange(len(groups) - 1)  # never only the last four: that would be a mere mention
        which = ("El primer grupo", "El segundo grupo", "El tercer grupo", "El cuarto grupo")[j]
        k.caller(f"Sí. {which}, ", k.c(groups[j], "spanish"), ", yes.")
    else:
        k.caller(k.pick(("Sí, correcto.", "Yes, eso es.", "Sí.")))
    close_call(k)


def fam_regional_treble_naught_zed(k: Kit) -> None:
    """UK/Irish/Indian English: "treble", "double nought", "naught", "o"; "zed" in a spelled name (not a digit)."""
    k.uk = True
    k.zero = k.pick(("nought", "naught", "o", "oh"))
    k.agent(f"{k.company}, {k.agent_name} speaking. Can I take your surname?")
    k.caller(k.pick(("Mackenzie, that's M-A-C-K-E-N-zed-I-E.", "Lopez, L-O-P-E-zed.", "Zane, zed-A-N-E.")))
    k.agent(
        f"Thanks, I've found the account, reference zed {k.say(str(k.rng.randint(100, 999)), 'words')}. ",
        f"The balance is {k.amount()}. And the long number on the card?",
    )
    k.caller(k.intro(), *k.read(k.pick(("runs", "runs", "words"))), ".")
    k.agent("That's ", *k.read(k.pick(("digits", "runs"))), "?")
    k.caller(k.pick(("Yes.", "Correct.", "That's it, yeah.")))
    close_call(k)


def fam_inline_word_timestamps(k: Kit) -> None:
    """Per-word timestamps inline: "four[12.31]", "<|12.34|>", or CTM lines "utt A 12.31 0.19 four 0.98"."""
    d = k.doc
    style = k.pick(("after", "before", "whisper", "ctm"))
    words: list[tuple[str, str]] = [(w, "") for w in lead_words(k)]
    digit_words = k.chance(0.7)
    for g in k.tgt.split():
        if digit_words:
            words.extend((k.dw(x), x) for x in g)
        else:
            words.append((g, g))
    words += [(w, "") for w in k.pick((["thanks"], ["is", "that", "okay"], ["that's", "it"]))]
    utt = f"call{k.rng.randint(100, 999)}_ch1"
    if style != "ctm":
        d.add(k.labels[1])
    for i, (w, e) in enumerate(words):
        s = k.tick(0.12, 0.4)
        tok: Part = C(w, e) if e else w
        if style == "after":
            d.add(" " if i else "", tok, f"[{s:.2f}]")
        elif style == "before":
            d.add(" " if i else "", f"[{s:.2f}]", tok)
        elif style == "whisper":
            d.add(f"<|{s:.2f}|>", " ", tok)
        else:
            d.add(f"{utt} A {s:.2f} {k.rng.uniform(0.1, 0.4):.2f} ", tok, f" {k.rng.uniform(0.5, 1.0):.2f}\n")
    if style == "whisper":
        d.add(f"<|{k.tick():.2f}|>")


def fam_slot_filling_logs(k: Kit) -> None:
    """Voice-bot slot-filling logs: Lex V2 Lambda events or Dialogflow CX webhook requests."""
    d = k.doc
    slot = {"card number": "CardNumber"}.get(k.noun, "".join(w.capitalize() for w in k.noun.split()))
    words: list[Part] = [*k.read("words", joiner=" ")]
    if k.chance(0.5):
        d.add('{"messageVersion":"1.0","invocationSource":"DialogCodeHook","inputMode":"Speech",')
        d.add('"sessionId":"', k.uuid(), '","inputTranscript":"', *words, '",')
        d.add('"bot":{"name":"PaymentsBot","localeId":"en_US","version":"DRAFT"},"interpretations":[{"intent":')
        d.add('{"name":"MakePayment","slots":{"', slot, '":{"value":{"originalValue":"')
        d.add(
            *(k.read("words", joiner=" ") if k.chance(0.5) else k.read("digits", joiner=" ")), '","interpretedValue":"'
        )
        d.add(C(k.tgt.digits, k.tgt.digits), '","resolvedValues":["', C(k.tgt.digits, k.tgt.digits), '"]}}},')
        d.add('"state":"InProgress","confirmationState":"None"},"nluConfidence":0.92}],"transcriptions":[')
        conf = k.rng.uniform(0.8, 0.95)
        d.add('{"transcription":"', *k.read("words", joiner=" "), f'","transcriptionConfidence":{conf:.2f}}},')
        alt = k.variant(k.tgt.digits)
        d.add('{"transcription":"', *k.read("words", joiner=" ", digits=alt), '","transcriptionConfidence":0.41}]}')
    else:
        d.add('{"detectIntentResponseId":"', k.uuid(), '","intentInfo":{"lastMatchedIntent":"projects/pay-bot/')
        d.add(
            "locations/global/agents/",
            k.uuid(),
            "/intents/",
            k.uuid(),
            '","displayName":"provide.',
            slot.lower(),
            '"},',
        )
        d.add(
            '"pageInfo":{"currentPage":"projects/pay-bot/locations/global/agents/a/flows/f/pages/Collect', slot, '"},'
        )
        d.add('"sessionInfo":{"session":"projects/pay-bot/sessions/', k.hexid(16), '","parameters":{"')
        val = k.read("digits", joiner=k.pick((" ", "")))
        d.add(re.sub(r"(?<!^)([A-Z])", r"_\1", slot).lower(), '":"', *val, f'","amount":{k.rng.randint(10, 400)}')
        d.add('}},"fulfillmentInfo":{"tag":"validate-input"},"transcript":"', *words, '","languageCode":"en"}')


def fam_webvtt_cues(k: Kit) -> None:
    """WebVTT captions with <v Speaker> voice tags; the number split across cues."""
    d = k.doc
    who = k.pick((("Agent", "Caller"), (k.agent_name, k.caller_name), ("Speaker 1", "Speaker 2")))
    cues: list[tuple[int, list[Part]]] = [(0, [f"Okay, go ahead with the {k.noun}."])]
    pieces: list[Part] = []
    mode = k.mode(CALLER_MODES[:3])
    for j, g in enumerate(k.tgt.split()):
        if j and k.chance(0.45):
            cues.append((1, pieces))
            pieces = []
        if k.chance(0.2) and len(g) > 2:
            m = k.rng.randint(1, len(g) - 1)
            pieces += [" " if pieces else "", k.c(g[:m], mode)]
            cues.append((1, pieces))
            pieces = [k.c(g[m:], mode)]
        else:
            pieces += [" " if pieces else "", k.c(g, mode)]
    cues.append((1, [*pieces, "."]))
    cues.append((0, ["Thanks, and the ", "expiry?" if k.is_card else "postcode?"]))
    d.add("WEBVTT", k.pick(("", " - call recording captions")), "\n\n")
    t = k.rng.uniform(5, 90)
    numbered = k.chance(0.6)
    for n, (spk, parts) in enumerate(cues):
        end = t + k.rng.uniform(0.8, 3.0)
        d.add(f"{n + 1}\n" if numbered else "", f"{_vtt(t)} --> {_vtt(end)}\n<v {who[spk]}>", *parts, "\n\n")
        t = end


def _vtt(t: float) -> str:
    return f"00:{int(t) // 60:02d}:{t % 60:06.3f}"


def fam_realtime_api_deltas(k: Kit) -> None:
    """OpenAI Realtime API log of an AI voice agent: transcription deltas, audio-transcript deltas, tool-call args."""
    d = k.doc
    user_item, bot_item, resp = "item_" + k.hexid(20), "item_" + k.hexid(20), "resp_" + k.hexid(20)
    digits = k.tgt.digits

    def ev(kind: str, item: str, body: list[Part], key: str = "delta", extra: str = "") -> None:
        d.add(f'{{"type":"{kind}","event_id":"event_{k.hexid(20)}"{extra},"item_id":"{item}","content_index":0,')
        d.add(f'"{key}":"', *body, '"}\n')

    def fragments(text_mode: str) -> list[list[Part]]:
        """The number as the model streams it, cut into deltas (digits anywhere, words between words)."""
        if text_mode == "words":
            toks = [k.dw(x) for x in digits]
            out: list[list[Part]] = []
            i = 0
            while i < len(toks):
                n = k.rng.randint(1, 4)
                out.append([" ", C(" ".join(toks[i : i + n]), digits[i : i + n])])
                i += n
            return out
        rendered = " " + " ".join(k.tgt.split())
        cuts = sorted(k.rng.sample(range(2, len(rendered)), k.rng.randint(2, 5)))
        out = []
        for a, b in itertools.pairwise([0, *cuts, len(rendered)]):
            frag = rendered[a:b]
            core = frag.strip()
            if not core:
                out.append([frag])
                continue
            lead = frag[: len(frag) - len(frag.lstrip())]
            trail = frag[len(frag.rstrip()) :]
            out.append([lead, C(core, re.sub(r"\D", "", core)), trail])
        return out

    mode = k.pick(("digits", "words"))
    intro = k.pick(("Yeah it's", "It's", "Okay so"))
    delta = "conversation.item.input_audio_transcription.delta"
    ev(delta, user_item, [intro])
    for frag in fragments(mode):
        ev(delta, user_item, frag)
    done = "conversation.item.input_audio_transcription.completed"
    ev(done, user_item, [intro, " ", *k.read(mode, joiner=" "), "."], "transcript")
    extra = f',"response_id":"{resp}","output_index":0'
    said = "response.audio_transcript.delta"
    ev(said, bot_item, [k.pick(("Thanks! Just to confirm, that's", "Got it, I have"))], extra=extra)
    for frag in fragments(k.pick(("digits", "words"))):
        ev(said, bot_item, frag, extra=extra)
    ev(said, bot_item, ["? Is that correct?"], extra=extra)
    if k.chance(0.7):
        key = "card_number" if k.is_card else k.noun.replace(" ", "_")
        call = f'"response_id":"{resp}","item_id":"item_{k.hexid(20)}","call_id":"call_{k.hexid(12)}"'
        d.add(f'{{"type":"response.function_call_arguments.delta",{call},"delta":"{{\\"{key}\\":\\"')
        d.add(C(digits[:6], digits[:6]), '"}\n')
        d.add(f'{{"type":"response.function_call_arguments.delta",{call},"delta":"', C(digits[6:], digits[6:]))
        d.add('\\"}"}\n')


FAMILIES: dict[str, Callable[[Kit], None]] = {
    "aws_transcribe_items_json": fam_aws_transcribe_items,
    "deepgram_words_json": fam_deepgram_words,
    "azure_nbest_four_forms": fam_azure_nbest,
    "google_results_split": fam_google_results_split,
    "streaming_interim_prefixes": fam_streaming_interims,
    "twilio_partial_callbacks": fam_twilio_partial_callbacks,
    "whisper_segments_mixed_format": fam_whisper_segments,
    "itn_thousands_separators": fam_itn_thousands_separators,
    "caller_cardinal_groupings": fam_caller_cardinal_groupings,
    "hyphenated_digit_words": fam_hyphenated_digit_words,
    "amex_diners_grouping": fam_amex_diners_grouping,
    "nineteen_digit_card": fam_nineteen_digit_card,
    "read_in_pairs": fam_read_in_pairs,
    "disfluency_repairs": fam_disfluency_repairs,
    "false_start_abandoned": fam_false_start_abandoned,
    "mid_number_interjection": fam_mid_number_interjection,
    "backchannel_splits_group": fam_backchannel_splits_group,
    "crosstalk_rev_style": fam_crosstalk_rev_style,
    "diarization_misattribution": fam_diarization_misattribution,
    "platform_partial_redaction": fam_platform_partial_redaction,
    "spanish_english_code_switching": fam_spanish_english_code_switching,
    "regional_treble_naught_zed": fam_regional_treble_naught_zed,
    "inline_word_timestamps": fam_inline_word_timestamps,
    "slot_filling_logs": fam_slot_filling_logs,
    "webvtt_cues": fam_webvtt_cues,
    "realtime_api_deltas": fam_realtime_api_deltas,
}
CARD_FILTER: dict[str, Callable[[str, str], bool]] = {
    "amex_diners_grouping": lambda d, b: b == "amex15" or b == "diners14",
    "nineteen_digit_card": lambda d, b: len(d) == 19,
    "regional_treble_naught_zed": lambda d, b: re.search(r"(\d)\1", d) is not None,
}


# ============================================================================================
# Card-free controls: the same formats and behaviours on numbers that are not card numbers
# ============================================================================================


def _rand_digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))


def _not_card_like(digits: str) -> str:
    """Make a 12-19 digit decoy fail Luhn, so a PAN finding on it is a false positive."""
    if 12 <= len(digits) <= 19 and luhn_ok(digits):
        digits = digits[:-1] + str((int(digits[-1]) + 5) % 10)
    return digits


def phone_target(rng: random.Random) -> Target:
    if rng.random() < 0.4:
        return Target("07700900" + f"{rng.randint(0, 999):03d}", (5, 3, 3), "phone number", "phone")
    return Target(f"{rng.randint(201, 989)}555{rng.randint(100, 199):04d}", (3, 3, 4), "phone number", "phone")


def order_target(rng: random.Random) -> Target:
    noun = rng.choice(("order number", "booking reference", "invoice number"))
    return Target(_not_card_like(_rand_digits(rng, 16, "19")), (4, 4, 4, 4), noun, "order")


def policy_target(rng: random.Random) -> Target:
    noun, n = rng.choice(
        (("policy number", 10), ("account number", 12), ("membership number", 11), ("policy number", 13))
    )
    groups = {10: (3, 3, 4), 11: (4, 4, 3), 12: (4, 4, 4), 13: (4, 4, 5)}[n]
    return Target(_not_card_like(_rand_digits(rng, n, "1789")), groups, noun, "policy")


def tracking_target(rng: random.Random) -> Target:
    head = rng.choice(("9400", "9205", "9361"))
    return Target(
        _not_card_like(head + _rand_digits(rng, 18, "0123456789")), (4, 4, 4, 4, 4, 2), "tracking number", "tracking"
    )


def imei_target(rng: random.Random) -> Target:
    """IMEIs pass Luhn (15 digits) but no card brand uses their prefixes at that length."""
    body = rng.choice(("35", "86", "01")) + _rand_digits(rng, 12, "0123456789")
    return Target(body + luhn_check_digit(body), (2, 6, 6, 1), "IMEI number", "imei")


def otp_target(rng: random.Random) -> Target:
    return Target(f"{rng.randint(0, 999999):06d}", (3, 3), "verification code", "otp")


def slot_target(rng: random.Random) -> Target:
    f = rng.choice((phone_target, policy_target, otp_target))
    return f(rng)


def _with(factory: Callable[[random.Random], Target], *builders: Callable[[Kit], None]) -> Callable[[Kit], None]:
    def control(k: Kit) -> None:
        k.tgt = factory(k.rng)
        k.alt = factory
        k.pick(builders)(k)

    return control


def ctl_amounts_thousands(k: Kit) -> None:
    """Amounts said and written with thousands separators and cardinal styles."""
    big, cents = k.rng.randint(1200, 9899), k.rng.randint(1, 99)
    part = k.rng.randint(300, big // 2)
    unit = "pounds" if k.uk else "dollars"
    inv = f"INV-{k.rng.randint(2023, 2026)}-{k.rng.randint(1000, 99999):05d}"
    k.agent(f"{k.company}, {k.agent_name} speaking.")
    k.caller("Hi, I've got a bill here and it looks wrong.")
    k.agent(f"Let me have a look. The balance is {k.cur}{big:,}.{cents:02d}, that's invoice {inv}.")
    k.caller(f"{_int_words(big, k.uk).capitalize()} {unit}? {k.cardinal(str(big)).capitalize()}? That can't be right.")
    k.agent(
        f"I know. It's {k.cur}{big - big % 100:,} for the annual renewal and {big % 100} {unit} and {cents} cents in fees."
    )
    k.caller(f"Can I pay {k.say(str(part), k.pick(('thousands', 'cardinal')))} now and the rest next month?")
    k.agent(f"Yes: {k.cur}{part:,}.00 today, then {k.cur}{big - part:,}.{cents:02d} on the {k.rng.randint(1, 28)}th.")
    k.caller(f"Okay. {k.commas(str(part), ',')} now.")


def _timestamped(k: Kit, turns: list[tuple[int, str]]) -> None:
    style = k.pick(("after", "ctm", "vtt"))
    if style == "vtt":
        k.doc.add("WEBVTT\n\n")
    t = k.rng.uniform(3, 50)
    for who, text in turns:
        name = ("Agent", "Caller")[who]
        if style == "vtt":
            end = t + k.rng.uniform(1, 3)
            k.doc.add(f"{_vtt(t)} --> {_vtt(end)}\n<v {name}>{text}\n\n")
            t = end
            continue
        if style == "after":
            k.doc.add(f"{name}: ")
        for i, w in enumerate(text.split()):
            t += k.rng.uniform(0.12, 0.45)
            if style == "after":
                k.doc.add(" " if i else "", f"{w}[{t:.2f}]")
            else:
                k.doc.add(f"call_{who} {'AB'[who]} {t:.2f} 0.21 {w} {k.rng.uniform(0.6, 1):.2f}\n")
        if style == "after":
            k.doc.add("\n")


def ctl_dates_times_timestamped(k: Kit) -> None:
    """Dates of birth, appointment times and an expiry date alone, with per-word timestamps or captions."""
    day, month, year = k.rng.randint(1, 28), k.rng.randint(1, 12), k.rng.randint(1950, 2004)
    hh, mm = k.rng.randint(8, 17), k.pick((0, 15, 30, 45))
    dob = k.pick(
        (
            f"{day:02d}/{month:02d}/{year}",
            f"the {day}th of {('January', 'March', 'May', 'July', 'October', 'December')[month % 6]} {k.pairs(str(year))}",
            f"{k.say(f'{day:02d}', 'words')} {k.say(f'{month:02d}', 'words')} {k.pairs(str(year))}",
        )
    )
    turns = [
        (0, "Can I take your date of birth please?"),
        (1, f"It's {dob}."),
        (0, f"Thanks. I can move the appointment to Tuesday at {hh}:{mm:02d}."),
        (
            1,
            f"{k.pair(str(hh)) if hh >= 10 else ONES[hh]} {'o clock' if mm == 0 else k.pair(str(mm))}, yes that works.",
        ),
        (0, "And the card on file expires when?"),
        (1, f"{k.say(f'{month:02d}', 'words')} {k.pair(str(k.rng.randint(25, 31)))}."),
    ]
    _timestamped(k, turns)


def ctl_codes_spanish(k: Kit) -> None:
    """One-time codes and confirmation codes in Spanish/English, with a "zed" in an alphanumeric code."""
    code = f"{k.rng.randint(0, 999999):06d}"
    conf = f"{k.pick('ABKMRZ')}{k.rng.randint(0, 9)}{k.rng.randint(0, 9)}Z{k.rng.randint(0, 9)}"
    k.agent("I've sent a six-digit code to your phone. Can you read it to me?")
    k.caller("Sí, un momento. El código es ", k.say(code[:3], "spanish"), ", ", k.say(code[3:], "spanish"), ".")
    k.agent(f"Sorry, was that {k.say(code, 'spaced')}?")
    k.caller("Yes, ", k.say(code, k.pick(("words", "spanish_pairs"))), ".")
    k.agent("Thanks. Your confirmation code is ", " ".join(conf), ", that's ", k.say(conf[1:3], "words"), " and zed.")
    k.caller(f"Okay, {' '.join('zed' if ch == 'Z' else ch for ch in conf)}. ¿Crédito o débito? No, I already paid.")


def ctl_card_masked_last_four(k: Kit) -> None:
    """A card referred to by its last four only, and a card number fully masked by the platform."""
    digits, brand = make_card(k.rng)
    last = digits[-4:]
    name = {"visa": "Visa", "mc": "Mastercard", "amex": "Amex"}.get(re.sub(r"\d", "", brand), "card")
    mask = k.pick(MASKS)
    k.agent(f"I can see a {name} on file ending in {k.say(last, k.pick(('digits', 'spaced')))}. Shall I use that?")
    k.caller(f"Ending {k.say(last, k.pick(('words', 'pairs')))}? No, that one's expired. I'll give you the new one.")
    k.agent("Go ahead.")
    masked = k.pick((mask, " ".join(mask for _ in range(4)), "#### #### #### " + last, "************" + last))
    k.caller(masked, ".")
    k.agent(f"Thanks, so the card ending {last}, and the expiry?")
    k.caller(f"{k.rng.randint(1, 12):02d}/{k.rng.randint(25, 31)}. And yes, {k.say(last, 'words')} is right.")


CONTROLS: dict[str, Callable[[Kit], None]] = {
    "decoy_phone_recogniser_json": _with(
        phone_target, fam_aws_transcribe_items, fam_deepgram_words, fam_azure_nbest, fam_google_results_split
    ),
    "decoy_order_number_streaming": _with(
        order_target, fam_streaming_interims, fam_twilio_partial_callbacks, fam_realtime_api_deltas
    ),
    "decoy_policy_number_disfluent": _with(
        policy_target,
        fam_disfluency_repairs,
        fam_false_start_abandoned,
        fam_mid_number_interjection,
        fam_backchannel_splits_group,
    ),
    "decoy_amounts_thousands": ctl_amounts_thousands,
    "decoy_dates_times_timestamped": ctl_dates_times_timestamped,
    "decoy_codes_spanish": ctl_codes_spanish,
    "decoy_card_masked_last_four": ctl_card_masked_last_four,
    "decoy_slot_logs_non_card": _with(slot_target, fam_slot_filling_logs),
    "decoy_imei_crosstalk": _with(
        imei_target,
        fam_crosstalk_rev_style,
        fam_diarization_misattribution,
        fam_whisper_segments,
        fam_inline_word_timestamps,
    ),
    "decoy_tracking_captions": _with(
        tracking_target, fam_webvtt_cues, fam_backchannel_splits_group, fam_caller_cardinal_groupings
    ),
}


# ============================================================================================
# Corpus and self-check
# ============================================================================================

RETRIES: Counter[str] = Counter()


def _old_card(rng: random.Random) -> Target:
    digits, brand = synth_card(rng)
    return card_target(digits, brand)


def _card_like_runs(text: str) -> list[str]:
    found = [r for r in number_runs(text) if looks_like_card(r)]
    found += [r for m in re.finditer(r"\d[\d ,.\-]*\d", text) if looks_like_card(r := re.sub(r"\D", "", m.group(0)))]
    return found


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


def sample_problems(smp: Sample) -> list[str]:
    """Label checks for one sample, using only the sample itself and this module's number parser."""
    out: list[str] = []
    text = smp.text
    prev = 0
    for s, e in smp.pans:
        if not (prev <= s < e <= len(text)):
            out.append(f"bad span order/bounds {(s, e)}")
        prev = e
    if smp.brand.startswith("decoy:"):
        if smp.pans:
            out.append("control with spans")
        out += [f"card-like number in control: {r}" for r in _card_like_runs(text)]
        return out
    card = smp.digits
    if not looks_like_card(card):
        out.append(f"not a valid card number: {card}")
    if not smp.pans:
        out.append("card sample without spans")
    stated = ""
    for s, e in smp.pans:
        got = spoken_digits(text[s:e])
        if not got or not _edge_tokens_ok(text[s:e]):
            out.append(f"span {(s, e)} does not start and end on number tokens: {text[s:e]!r}")
        stated += got
    if not _is_subsequence(card, stated):
        out.append("span digits do not contain the card number in order")
    outside: list[str] = []
    pos = 0
    for s, e in smp.pans:
        outside += [text[pos:s], " SPAN "]
        pos = e
    outside.append(text[pos:])
    for run in number_runs("".join(outside)):
        for j in range(len(card) - 5):
            if card[j : j + 6] in run:
                out.append(f"unmarked card digits outside spans: {card[j : j + 6]} in run {run}")
                break
    return out


def self_check(samples: Sequence[Sample]) -> list[str]:
    problems = [f"stripe test card fails Luhn: {d}" for d, _ in STRIPE_TEST_CARDS if not luhn_ok(d)]
    for i, smp in enumerate(samples):
        problems += [f"#{i} {smp.fmt}: {p}" for p in sample_problems(smp)]
    return problems


def _one(seed: int, fam: str, i: int, control: bool) -> Sample:
    for attempt in range(80):
        rng = random.Random(f"{seed}:{fam}:{i}:{attempt}")
        if control:
            k = Kit(rng, _tpl_target(rng), record=False, alt=_tpl_target)
            CONTROLS[fam](k)
            smp = Sample(k.doc.text, fam, f"decoy:{fam}", [], "")
        else:
            digits, brand = make_card(rng, CARD_FILTER.get(fam))
            k = Kit(rng, card_target(digits, brand), record=True, alt=_old_card)
            FAMILIES[fam](k)
            text = k.doc.text
            if any(spoken_digits(text[s:e]) != exp for s, e, exp in k.doc.pieces):
                RETRIES[fam] += 1
                continue
            smp = Sample(text, fam, brand, k.doc.spans(), digits)
        if not sample_problems(smp):
            return smp
        RETRIES[fam] += 1
    raise RuntimeError(f"could not build a clean sample for {fam} #{i}")


def corpus(seed: int, per_family: int) -> list[Sample]:
    """Card samples for every family, then card-free controls; deterministic for a seed."""
    out: list[Sample] = []
    for fam in FAMILIES:
        out.extend(_one(seed, fam, i, control=False) for i in range(per_family))
    for fam in CONTROLS:
        out.extend(_one(seed, fam, i, control=True) for i in range(per_family))
    return out


# ============================================================================================
# CLI
# ============================================================================================


def show(smp: Sample, width: int = 6000) -> str:
    out: list[str] = []
    pos = 0
    for s, e in smp.pans:
        out += [smp.text[pos:s], "⟦", smp.text[s:e], "⟧"]
        pos = e
    out.append(smp.text[pos:])
    text = "".join(out)
    return text if len(text) <= width else text[:width] + " ..."


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--per-family", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--examples", type=int, default=1, help="print K samples per family with spans in ⟦ ⟧")
    args = ap.parse_args(argv)

    samples = corpus(args.seed, args.per_family)
    by_fam: dict[str, list[Sample]] = {}
    for smp in samples:
        by_fam.setdefault(smp.fmt, []).append(smp)
    print(f"{len(FAMILIES)} card families, {len(CONTROLS)} control families, {len(samples)} samples")
    print(f"{'family':36} {'n':>4} {'chars':>6} {'spans':>6} {'retries':>8}")
    for fam, group in by_fam.items():
        chars = sum(len(s.text) for s in group) / len(group)
        spans = sum(len(s.pans) for s in group) / len(group)
        print(f"{fam:36} {len(group):>4} {chars:>6.0f} {spans:>6.1f} {RETRIES[fam]:>8}")
    if args.examples:
        for fam, group in by_fam.items():
            for smp in group[: args.examples]:
                print(f"\n=== {fam} ({smp.brand}{', ' + smp.digits if smp.digits else ''}) ===")
                print(show(smp))
    problems = self_check(samples)
    print(f"\nself-check: {'OK' if not problems else f'{len(problems)} problems'} over {len(samples)} samples")
    for p in problems[:50]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
