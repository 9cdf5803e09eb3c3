"""Generated card-data corpus for the redaction tests and benchmark (no real card numbers).

Card numbers are Stripe's public test numbers or synthetic: a brand prefix, random digits and a computed Luhn
check digit. Each sample records the true spans of its card data so recall and span precision can be measured.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

STRIPE_TEST_NUMBERS = {
    "visa": "4242424242424242",
    "mastercard": "5555555555554444",
    "mastercard2": "2223003122003222",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "diners": "3056930009020004",
    "jcb": "3566002020360505",
    "unionpay": "6200000000000005",
}

# brand label -> (prefixes, lengths); labels are reporting buckets, values are what the engine should report.
BRAND_SPECS: dict[str, tuple[str, tuple[str, ...], tuple[int, ...]]] = {
    "visa16": ("visa", ("4",), (16,)),
    "visa13": ("visa", ("4",), (13,)),
    "visa19": ("visa", ("4",), (19,)),
    "mastercard": ("mastercard", ("51", "52", "53", "54", "55"), (16,)),
    "mastercard2": ("mastercard", ("2221", "2300", "2500", "2720"), (16,)),
    "amex": ("amex", ("34", "37"), (15,)),
    "discover": ("discover", ("6011", "644", "65"), (16, 19)),
    "jcb": ("jcb", ("3528", "3566", "3589"), (16, 19)),
    "diners": ("diners", ("300", "305", "36", "38"), (14, 16)),
    "unionpay": ("unionpay", ("62",), (16, 17, 18, 19)),
    "maestro": (
        "maestro",
        ("5018", "5020", "6304", "6759", "6761", "5600", "5641", "5890", "6320", "6799"),
        (12, 13, 15, 16, 19),
    ),
    "uatp": ("uatp", ("1",), (15,)),
    "mir": ("mir", ("2200", "2204"), (16,)),
}

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEEN_WORDS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
              "nineteen"]  # fmt: skip
TENS_WORDS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip


def luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(digits: str) -> bool:
    return luhn_digit(digits[:-1]) == digits[-1]


def synth_pan(rng: random.Random, brand_label: str) -> str:
    _brand, prefixes, lengths = BRAND_SPECS[brand_label]
    prefix = rng.choice(prefixes)
    length = rng.choice(lengths)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


@dataclass
class Sample:
    text: str
    fmt: str
    brand: str  # reporting label ("visa16", ...); "decoy:<class>" for decoys
    pans: list[tuple[int, int]] = field(default_factory=list)  # true PAN spans (a split PAN has several)
    extras: list[tuple[int, int, str]] = field(default_factory=list)  # true cvv / expiry spans
    digits: str = ""


class _Builder:
    """Concatenates text pieces while remembering where the card data went."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.pans: list[tuple[int, int]] = []
        self.extras: list[tuple[int, int, str]] = []

    def add(self, text: str, kind: str | None = None) -> None:
        if kind == "pan":
            self.pans.append((self.pos, self.pos + len(text)))
        elif kind is not None:
            self.extras.append((self.pos, self.pos + len(text), kind))
        self.parts.append(text)
        self.pos += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def add_items(b: _Builder, pieces: list[str], before: str, after: str, sep: str = ", ") -> None:
    """Card pieces as items of a list: ``sep`` between them, each between ``before`` and ``after``."""
    for k, piece in enumerate(pieces):
        b.add((sep if k else "") + before)
        b.add(piece, "pan")
        b.add(after)


# --- formatting a PAN ---------------------------------------------------------------------------------------


def _groups(pan: str) -> list[str]:
    if len(pan) == 15:
        return [pan[:4], pan[4:10], pan[10:]]
    if len(pan) == 14:
        return [pan[:4], pan[4:10], pan[10:]]
    return [pan[i : i + 4] for i in range(0, len(pan), 4)]


def _irregular(rng: random.Random, pan: str) -> list[str]:
    out, i = [], 0
    while i < len(pan):
        size = rng.randint(2, 6)
        out.append(pan[i : i + size])
        i += size
    return out


def spoken_digits(rng: random.Random, digits: str, fancy: bool) -> list[str]:
    """Words for a digit string, each element one spoken chunk ("four", "forty two", "double five")."""
    out: list[str] = []
    i = 0
    while i < len(digits):
        d = digits[i]
        rest = digits[i:]
        if fancy:
            roll = rng.random()
            if roll < 0.15 and len(rest) >= 3 and rest[0] == rest[1] == rest[2]:
                out.append(f"triple {DIGIT_WORDS[int(d)]}")
                i += 3
                continue
            if roll < 0.35 and len(rest) >= 2 and rest[0] == rest[1]:
                out.append(f"double {'oh' if d == '0' else DIGIT_WORDS[int(d)]}")
                i += 2
                continue
            if roll < 0.6 and len(rest) >= 2 and rest[0] != "0":
                two = int(rest[:2])
                if 10 <= two <= 19:
                    out.append(TEEN_WORDS[two - 10])
                    i += 2
                    continue
                if two >= 20 and rest[1] != "0":
                    out.append(f"{TENS_WORDS[two // 10]}{rng.choice([' ', '-'])}{DIGIT_WORDS[two % 10]}")
                    i += 2
                    continue
            if d == "0" and roll < 0.8:
                out.append("oh")
                i += 1
                continue
        out.append(DIGIT_WORDS[int(d)])
        i += 1
    return out


FILLERS = ["um", "uh", "sorry", "let me see", "hmm", "okay", "er"]

CONTEXTS = [
    ("my card number is ", " thanks"),
    ("2024-05-01T12:00:00Z INFO payment attempt card=", " amount=12.00 currency=usd"),
    ("Customer says: it's ", ", can you charge it?"),
    ("", ""),
    ("ERROR stripe: card ", " was declined (insufficient_funds)"),
    ("note: ", ""),
]


def _digit_format(rng: random.Random, pan: str, fmt: str) -> str:
    g = _groups(pan)
    if fmt == "plain":
        return pan
    if fmt == "spaced":
        return " ".join(g)
    if fmt == "dashed":
        return "-".join(g)
    if fmt == "dotted":
        return ".".join(g)
    if fmt == "slashed":
        return "/".join(g)
    if fmt == "mixed":
        return "".join(
            p + (rng.choice([" ", "-", ".", " - ", "  "]) if k < len(g) - 1 else "") for k, p in enumerate(g)
        )
    if fmt == "irregular":
        return rng.choice([" ", "-"]).join(_irregular(rng, pan))
    if fmt == "urlencoded":
        return "%20".join(g)
    raise ValueError(fmt)


DIGIT_FORMATS = ["plain", "spaced", "dashed", "dotted", "slashed", "mixed", "irregular", "urlencoded"]
FORMATS = [*DIGIT_FORMATS, "json", "query", "glued", "spoken", "spoken_fancy", "mixed_words", "split_turns",
           "with_cvv_expiry", "spoken_cvv_expiry", "odd_separators", "unicode_digits", "json_in_text",
           "spoken_pairs"]  # fmt: skip

# Separators a text picks up on its way through editors, chat tools, HTML and speech recognisers.
ODD_SEPARATORS = ["\n", "\r\n", "\t", "\u00a0", "&nbsp;", "\u2009", "\u202f", "\u200b", "\u00ad", "\u2010",
                  "\u2212", ", ", "    "]  # fmt: skip
# Zero of a few decimal-digit scripts: full-width, Arabic-Indic, Devanagari, mathematical bold.
DIGIT_ZEROS = [0xFF10, 0x0660, 0x0966, 0x1D7CE]


def _pairs_words(rng: random.Random, digits: str) -> str:
    """A group read in pairs and hundreds: "forty-seven forty-seven", "five sixty-four", "four hundred"."""
    out: list[str] = []
    i = 0
    while i < len(digits):
        rest = digits[i:]
        if len(rest) >= 3 and rest[0] != "0" and rest[1] != "0" and rng.random() < 0.3:
            out.append(f"{DIGIT_WORDS[int(rest[0])]} hundred {_two_words(int(rest[1:3]))}")
            i += 3
        elif len(rest) >= 2 and rest[0] != "0" and rng.random() < 0.8:
            out.append(_two_words(int(rest[:2])).replace(" ", rng.choice([" ", "-"])))
            i += 2
        else:
            out.append("oh" if rest[0] == "0" else DIGIT_WORDS[int(rest[0])])
            i += 1
    return " ".join(out)


def card_sample(rng: random.Random, pan: str, fmt: str, brand: str) -> Sample:
    b = _Builder()
    if fmt in DIGIT_FORMATS:
        before, after = rng.choice(CONTEXTS)
        if fmt == "urlencoded":
            before, after = "GET /pay?card=", "&amount=1200 HTTP/1.1"
        b.add(before)
        b.add(_digit_format(rng, pan, fmt), "pan")
        b.add(after)
    elif fmt == "json":
        b.add('{"customer": "cus_123", "card": "')
        b.add(rng.choice([pan, " ".join(_groups(pan))]), "pan")
        b.add('", "amount": 1200}')
    elif fmt == "query":
        b.add("POST /v1/charge?tenant=acme&pan=")
        b.add(pan, "pan")
        b.add("&amount=1200")
    elif fmt == "glued":
        b.add(rng.choice(["card=", "pan:", "cc#", "number=", "card_number:"]))
        b.add(pan, "pan")
        b.add(rng.choice(["", ";", ",exp=soon"]))
    elif fmt in ("spoken", "spoken_fancy", "mixed_words"):
        b.add(rng.choice(["Caller: sure, it's ", "Caller: my card is ", "Caller: okay so "]))
        words = spoken_digits(rng, pan, fancy=fmt != "spoken")
        if fmt == "mixed_words":
            words = [w if rng.random() < 0.5 else _as_digits(w) for w in words]
        chunks: list[str] = []
        for k, w in enumerate(words):
            chunks.append(w)
            if k < len(words) - 1:
                r = rng.random()
                if r < 0.1:
                    chunks.append(f", {rng.choice(FILLERS)}, ")
                elif r < 0.25:
                    chunks.append(", ")
                else:
                    chunks.append(" ")
        b.add("".join(chunks), "pan")
        b.add(rng.choice([".", ", got that?", ""]))
    elif fmt == "split_turns":
        parts = _split(rng, pan, rng.randint(2, 4))
        b.add("Agent: Please read me the card number.\n")
        for k, part in enumerate(parts):
            b.add("Caller: ")
            words = spoken_digits(rng, part, fancy=False) if rng.random() < 0.7 else [" ".join(_groups(part))]
            b.add(" ".join(words), "pan")
            b.add("\n")
            if k < len(parts) - 1:
                b.add(rng.choice(["Agent: Okay, go on.\n", "Agent: Got it.\n", "Agent: Mm-hmm, and then?\n"]))
        b.add("Agent: Thank you.")
    elif fmt == "with_cvv_expiry":
        b.add("card ")
        b.add(" ".join(_groups(pan)), "pan")
        month, year = rng.randint(1, 12), rng.randint(25, 35)
        exp = rng.choice([f"{month:02d}/{year}", f"{month:02d}/20{year}", f"{month}/{year}", f"{month:02d}-{year}"])
        layout = rng.choice(["labels", "bare"])
        if layout == "labels":
            b.add(" exp ")
            b.add(exp, "expiry")
            b.add(rng.choice([" cvv ", " cvc: ", ", security code "]))
        else:
            b.add(" ")
            b.add(exp, "expiry")
            b.add(" ")
        b.add(f"{rng.randint(0, 9999 if brand == 'amex' else 999):0{4 if brand == 'amex' else 3}d}", "cvv")
        b.add(" ok")
    elif fmt == "spoken_cvv_expiry":
        b.add("Caller: it's ")
        b.add(" ".join(spoken_digits(rng, pan, fancy=True)), "pan")
        month, year = rng.randint(1, 12), rng.randint(25, 35)
        b.add(". Agent: and the expiry date? Caller: ")
        if rng.random() < 0.5:
            b.add(
                f"{MONTHS[month - 1]} twenty {DIGIT_WORDS[year % 10]}"
                if year < 30
                else f"{MONTHS[month - 1]} 20{year}",
                "expiry",
            )
        else:
            mm = f"{month:02d}"
            b.add(
                " ".join(spoken_digits(rng, mm, fancy=False)).replace("zero", "oh") + " " + _two_words(year),
                "expiry",
            )
        b.add(". Agent: and the security code on the back? Caller: ")
        cvv = f"{rng.randint(100, 999)}"
        b.add(" ".join(DIGIT_WORDS[int(c)] for c in cvv), "cvv")
        b.add(".")
    elif fmt == "odd_separators":
        b.add(rng.choice(["note: ", "<p>card ", "chat: my card is ", ""]))
        sep = rng.choice(ODD_SEPARATORS)
        b.add(sep.join(_groups(pan)), "pan")
        b.add(rng.choice([" thanks", "</p>", "", " ok"]))
    elif fmt == "unicode_digits":
        zero = rng.choice(DIGIT_ZEROS)
        b.add(rng.choice(["card ", "رقم البطاقة ", "कार्ड ", ""]))
        b.add(rng.choice([" ", ""]).join("".join(chr(zero + int(c)) for c in g) for g in _groups(pan)), "pan")
        b.add(rng.choice([" ok", ""]))
    elif fmt == "json_in_text":
        pieces = _groups(pan)
        b.add("2025-01-01T00:00:00Z INFO request body=")
        if rng.random() < 0.5:
            b.add("{")
            for k, piece in enumerate(pieces):
                b.add(f'"cc_part{k + 1}": "')
                b.add(piece, "pan")
                b.add('"' + (", " if k < len(pieces) - 1 else ""))
            b.add(', "amount": 1200}')
        else:
            b.add('{"card": [')
            add_items(b, pieces, '"', '"')
            b.add("]}")
        b.add(" status=422")
    elif fmt == "spoken_pairs":
        b.add(rng.choice(["Caller: sure, it's ", "Caller: my card number is ", "Caller: okay so "]))
        groups = _groups(pan)
        b.add(
            rng.choice([" ", ", ", ", uh, ", " um "]).join(_pairs_words(rng, g) for g in groups),
            "pan",
        )
        b.add(rng.choice([".", ", got that?", ""]))
    elif fmt in WORLD:
        return world_card_sample(rng, pan, fmt, brand)
    else:
        raise ValueError(fmt)
    return Sample(b.text(), fmt, brand, b.pans, b.extras, pan)


def _two_words(n: int) -> str:
    if 10 <= n <= 19:
        return TEEN_WORDS[n - 10]
    return TENS_WORDS[n // 10] + ("" if n % 10 == 0 else " " + DIGIT_WORDS[n % 10])


def _as_digits(words: str) -> str:
    out = []
    for w in words.replace("-", " ").split():
        if w in DIGIT_WORDS:
            out.append(str(DIGIT_WORDS.index(w)))
        elif w == "oh":
            out.append("0")
        else:
            return words
    return "".join(out)


def _split(rng: random.Random, pan: str, n: int) -> list[str]:
    cuts = sorted(rng.sample(range(2, len(pan) - 1), n - 1))
    return [pan[a:b] for a, b in zip([0, *cuts], [*cuts, len(pan)], strict=True)]


# --- decoys -------------------------------------------------------------------------------------------------


def _luhn_fix(body: str) -> str:
    return body + luhn_digit(body)


def _rand_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


# Real IBANs: the registry's length for the country, digits only after the check digits (as DE, FR, ES and
# IT allow), check digits computed (ISO 13616: the number with the country moved to the end, mod 97, is 1).
_IBAN_LENGTHS = {"DE": 22, "FR": 27, "ES": 24, "IT": 27, "BE": 16, "AT": 20, "PT": 25}


def _iban(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_LENGTHS))
    bban = _rand_digits(rng, _IBAN_LENGTHS[country] - 4)
    number = int(bban + "".join(str(int(c, 36)) for c in country) + "00")
    return f"{country}{98 - number % 97:02d}{bban}"


def _grouped(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _bad_luhn(rng: random.Random) -> str:
    pan = synth_pan(rng, rng.choice(list(BRAND_SPECS)))
    return pan[:-1] + str((int(pan[-1]) + rng.randint(1, 9)) % 10)


DECOYS: dict[str, Callable[[random.Random], str]] = {
    "epoch_ms": lambda r: f"ts={r.randint(1_500_000_000_000, 1_900_000_000_000)} level=info",
    "epoch_us": lambda r: f"event at {r.randint(1_500_000_000_000_000, 1_900_000_000_000_000)}us",
    "uuid": lambda r: f"request_id={uuid.UUID(int=r.getrandbits(128), version=4)}",
    "uuid_digits": lambda r: "id " + "-".join(_rand_digits(r, n) for n in (8, 4, 4, 4, 12)),
    "imei": lambda r: "device IMEI " + _luhn_fix(r.choice(["35", "86", "01", "99"]) + _rand_digits(r, 12)),
    "phone": lambda r: r.choice(
        [
            f"call +44 20 {_rand_digits(r, 4)} {_rand_digits(r, 4)}",
            f"phone +1-415-{_rand_digits(r, 3)}-{_rand_digits(r, 4)}",
            f"tel (415) {_rand_digits(r, 3)}-{_rand_digits(r, 4)}",
            f"+{r.choice(['33', '49', '61', '91'])} {_rand_digits(r, 3)} {_rand_digits(r, 3)} {_rand_digits(r, 4)}",
            # E.164 mobile numbers in ranges their plans assign (a "+" before digits that are not a phone
            # number earns no exemption: "+378282246310005" is a card someone tried to hide)
            r.choice(["+4479", "+55119", "+4917"]) + _rand_digits(r, 8),
        ]
    ),
    "iban": lambda r: "IBAN " + _grouped(_iban(r)),
    "iban_compact": lambda r: "iban=" + _iban(r),
    "tracking": lambda r: r.choice(
        [
            "USPS " + " ".join(("94" + _rand_digits(r, 20))[i : i + 4] for i in range(0, 22, 4)),
            "USPS 92" + _rand_digits(r, 20),
            "UPS 1Z" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
            "FedEx " + _rand_digits(r, 12),
            "DHL " + _rand_digits(r, 10),
        ]
    ),
    "amount": lambda r: r.choice(
        [
            f"amount ${r.randint(1, 999)},{r.randint(0, 999):03d}.{r.randint(0, 99):02d}",
            f"total EUR {r.randint(1, 99)} {r.randint(0, 999):03d} {r.randint(0, 999):03d},{r.randint(0, 99):02d}",
            f"amount_cents={r.randint(100, 10_000_000)}",
        ]
    ),
    "date": lambda r: (
        f"{r.randint(2020, 2030)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} "
        f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
    ),
    "masked": lambda r: r.choice(
        [
            f"card **** **** **** {_rand_digits(r, 4)}",
            f"pan 424242******{_rand_digits(r, 4)}",
            f"XXXX-XXXX-XXXX-{_rand_digits(r, 4)}",
            f"card ending {_rand_digits(r, 4)}",
        ]
    ),
    "bad_luhn": lambda r: f"card {_bad_luhn(r)}",
    "no_brand": lambda r: "ref " + _luhn_fix(r.choice(["7", "99", "0"]) + _rand_digits(r, 13)),
    "hex_id": lambda r: "sha " + "".join(r.choice("0123456789abcdef") for _ in range(64)),
    "order_words": lambda r: "I'd like one refund for two orders please, thanks",
}


def decoy_sample(rng: random.Random, cls: str) -> Sample:
    return Sample(DECOYS[cls](rng), "decoy", f"decoy:{cls}")


def corpus(seed: int = 7, per_cell: int = 20) -> list[Sample]:
    """Every format x every brand label, ``per_cell`` each, plus Stripe test numbers, plus decoys."""
    rng = random.Random(seed)
    out: list[Sample] = []
    for fmt in FORMATS:
        for label in BRAND_SPECS:
            for _ in range(per_cell):
                out.append(card_sample(rng, synth_pan(rng, label), fmt, label))
        for name, pan in STRIPE_TEST_NUMBERS.items():
            out.append(card_sample(rng, pan, fmt, f"stripe_{name}"))
    for cls in DECOYS:
        for _ in range(per_cell * 5):
            out.append(decoy_sample(rng, cls))
    return out


# --- metrics ------------------------------------------------------------------------------------------------

Span = tuple[int, int]


# The words of a spoken card: number words and multipliers. A filler inside a card's stretch ("uh", "sorry")
# is not card data, so a finding need not cover it.
_CARD_WORDS = frozenset(
    [*DIGIT_WORDS, *TEEN_WORDS, *TENS_WORDS[2:], "oh", "o", "nought", "naught", "double", "triple", "treble",
     "hundred", "thousand", "fourty"]
)  # fmt: skip
_WORD_OR_CHAR = re.compile(r"[^\W\d_]+|\S")


def covered(sample: Sample, found: list[Span]) -> bool:
    """Every digit and every number word of every true PAN span lies inside a found span (the other words of a
    spoken stretch, "uh", "sorry", need not)."""
    mask = [False] * len(sample.text)
    for s, e in found:
        for i in range(max(0, s), min(e, len(mask))):
            mask[i] = True
    for s, e in sample.pans:
        for m in _WORD_OR_CHAR.finditer(sample.text, s, e):
            tok = m.group()
            if not tok[0].isalnum():
                continue
            if tok[0].isalpha() and tok.lower() not in _CARD_WORDS:
                continue
            after = sample.text[m.end() : m.end() + 8].lower()
            if tok[0].isalpha() and (after.startswith("- ") or re.match(r" (?:sec|second|moment|more)\b", after)):
                continue  # a cut-off start ("o- oh"), "one sec": not a digit
            if not all(mask[i] for i in range(m.start(), m.end())):
                return False
    return True


def span_chars(sample: Sample, found: list[Span]) -> tuple[int, int]:
    """(found characters inside true PAN spans, found characters in total)."""
    inside = total = 0
    for s, e in found:
        for i in range(s, e):
            total += 1
            if any(a <= i < b for a, b in sample.pans):
                inside += 1
    return inside, total


# --- second-round development material (``benchmarks/redaction_corpus_world.py``) ----------------------------

from benchmarks.redaction_corpus_world import WORLD, WORLD_DECOYS, world_card_sample

FORMATS.extend(WORLD)
DECOYS.update({f"world_{k}": v for k, v in WORLD_DECOYS.items()})
