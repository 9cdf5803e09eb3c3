"""A grammar of spoken numbers for property tests: cards, and look-alikes (phones, amounts, dates, counts).

Written from how people read numbers aloud and how speech recognisers transcribe them, not from the
detector's code: per group a reading is chosen (digits as written, single words, pairs, hundreds,
double/triple, "oh"/"zero"), fillers may sit between any two tokens, a group may be said wrong and corrected,
and the number may be split over caller turns with agent back-channels between.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st

UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
FILLERS = ["uh", "um", "er", "hmm", "sorry", "okay", "let me see", "...", "and", "uh,", "so", "right"]
BACKCHANNELS = ["mm-hmm, go on", "okay", "got it", "yes", "uh-huh", "go ahead", "mm-hmm"]
OPENERS = ["sure, it's", "my card number is", "okay so", "the number is", "yeah it's", "", "it is"]
CONVERSATION = [
    "Agent: Thanks for calling, how can I help?",
    "Caller: I want to pay my bill.",
    "Agent: Of course. Can you confirm your name?",
    "Caller: It's Sam Jones.",
    "Agent: Thank you, Sam.",
    "Caller: Great, thanks a lot.",
]


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


PREFIXES = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
            ("37", 15), ("6011", 16), ("65", 16), ("3528", 16), ("3589", 19), ("36", 14), ("62", 16), ("62", 19),
            ("5018", 12), ("5600", 16), ("5641", 16), ("6771", 16), ("6799", 19), ("63", 16), ("2200", 16)]  # fmt: skip


def random_pan(rng: random.Random) -> str:
    prefix, length = rng.choice(PREFIXES)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def _pair(rng: random.Random, two: str) -> list[str] | None:
    if two[0] == "0":
        return [rng.choice(["oh", "zero", "o"]), UNITS[int(two[1])]]
    n = int(two)
    if 10 <= n <= 19:
        return [TEENS[n - 10]]
    if n % 10 == 0:
        return [TENS[n // 10]]
    return [TENS[n // 10] + rng.choice([" ", "-"]) + UNITS[n % 10]]


def _unit(rng: random.Random, d: str) -> str:
    return rng.choice(["oh", "zero"]) if d == "0" else UNITS[int(d)]


def speak_group(rng: random.Random, group: str) -> list[str]:
    """Tokens for one digit group, in one of several readings (mixed within the group too)."""
    style = rng.choice(["digits", "words", "pairs", "hundreds", "mixed"])
    if style == "digits":
        return [group]
    out: list[str] = []
    i = 0
    while i < len(group):
        rest = group[i:]
        roll = rng.random()
        if len(rest) >= 3 and rest[0] == rest[1] == rest[2] and roll < 0.5:
            out.append("triple " + _unit(rng, rest[0]))
            i += 3
            continue
        if len(rest) >= 2 and rest[0] == rest[1] and roll < 0.5:
            out.append("double " + _unit(rng, rest[0]))
            i += 2
            continue
        if style in ("hundreds", "mixed") and len(rest) >= 3 and rest[0] != "0" and (len(rest) == 3 or roll < 0.4):
            head = UNITS[int(rest[0])]
            if rest[1:3] == "00":
                out.append(f"{head} hundred")
            elif rng.random() < 0.5 and rest[1] != "0":
                pair = _pair(rng, rest[1:3])
                assert pair is not None
                out.append(" ".join([head, *pair]))  # "five sixty-four"
            else:
                pair = _pair(rng, rest[1:3]) if rest[1] != "0" else [UNITS[int(rest[2])]]
                assert pair is not None
                out.append(" ".join([head, "hundred", *(["and"] if rng.random() < 0.3 else []), *pair]))
            i += 3
            continue
        if style in ("pairs", "mixed", "hundreds") and len(rest) >= 2 and (len(rest) == 2 or roll < 0.7):
            pair = _pair(rng, rest[:2])
            if pair is not None:
                out.extend(pair)
                i += 2
                continue
        if style == "mixed" and roll < 0.2 and rest[0] != "0":
            out.append(rest[0])  # a recogniser writing one digit as a digit
        else:
            out.append(_unit(rng, rest[0]))
        i += 1
    return out


def _groups(rng: random.Random, pan: str) -> list[str]:
    layout = rng.choice(["fours", "amex", "random"])
    if layout == "amex" and len(pan) == 15:
        return [pan[:4], pan[4:10], pan[10:]]
    if layout == "fours":
        return [pan[i : i + 4] for i in range(0, len(pan), 4)]
    out, i = [], 0
    while i < len(pan):
        size = rng.randint(2, 4)
        out.append(pan[i : i + size])
        i += size
    return out


def _wrong(rng: random.Random, group: str) -> str:
    k = rng.randrange(len(group))
    return group[:k] + str((int(group[k]) + rng.randint(1, 9)) % 10) + group[k + 1 :]


def speak_card(rng: random.Random, pan: str) -> str:
    """A caller reading ``pan``, as transcript lines."""
    groups = _groups(rng, pan)
    turns = 1 if rng.random() < 0.6 else rng.randint(2, min(3, len(groups)))
    cuts = sorted(rng.sample(range(1, len(groups)), turns - 1)) if turns > 1 else []
    lines: list[str] = []
    cur: list[str] = [rng.choice(OPENERS)]
    for k, group in enumerate(groups):
        if k in cuts:
            lines.append("Caller: " + " ".join(t for t in cur if t))
            lines.append("Agent: " + rng.choice(BACKCHANNELS))
            cur = []
        if rng.random() < 0.08:
            # self-correction: a wrong group, a correction word, then the right one
            cur.extend(speak_group(rng, _wrong(rng, group)))
            cur.append(rng.choice(["no sorry,", "sorry, I mean", "no wait,", "actually,", "scratch that,"]))
        tokens = speak_group(rng, group)
        for tok in tokens:
            if rng.random() < 0.12:
                cur.append(rng.choice(FILLERS))
            cur.append(tok)
        if rng.random() < 0.3:
            cur[-1] += rng.choice([",", ".", "...", " -"])
    lines.append("Caller: " + " ".join(t for t in cur if t))
    return "\n".join(lines)


def embed(rng: random.Random, speech: str) -> str:
    before = rng.sample(CONVERSATION, rng.randint(0, 3))
    after = rng.sample(CONVERSATION, rng.randint(0, 2))
    return "\n".join([*before, "Agent: Please read me the long number on the card.", speech, *after])


# --- look-alikes: spoken the same way, never cards ---------------------------------------------------------


def _say_number(rng: random.Random, n: int) -> str:
    """0-9999 in words, the way amounts and counts are said."""
    if n < 10:
        return UNITS[n]
    if n < 20:
        return TEENS[n - 10]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else rng.choice([" ", "-"]) + UNITS[n % 10])
    if n < 1000:
        rest = n % 100
        return UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + _say_number(rng, rest))
    rest = n % 1000
    return _say_number(rng, n // 1000) + " thousand" + ("" if rest == 0 else " " + _say_number(rng, rest))


def speak_phone(rng: random.Random) -> str:
    digits = str(rng.randint(2, 9)) + "".join(rng.choice("0123456789") for _ in range(9))
    parts = [digits[:3], digits[3:6], digits[6:]]
    spoken = [" ".join(_unit(rng, d) for d in p) if rng.random() < 0.7 else p for p in parts]
    lead = rng.choice(["my phone number is", "you can call me back on", "call me at", "the number is"])
    return f"Caller: {lead} {', '.join(spoken)}."


def speak_amount(rng: random.Random) -> str:
    dollars, cents = rng.randint(1, 9999), rng.randint(1, 99)
    return (
        f"Caller: I was charged {_say_number(rng, dollars)} dollars and {_say_number(rng, cents)} cents, "
        f"and then {_say_number(rng, rng.randint(1, 999))} dollars again."
    )


def speak_date(rng: random.Random) -> str:
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September"]
    year = rng.randint(2019, 2030)
    say_year = rng.choice([f"two thousand {_say_number(rng, year - 2000)}", f"twenty {_say_number(rng, year - 2000)}"])
    day = rng.choice(["first", "second", "third", "fourth", "twelfth", "twentieth"])
    return f"Caller: it was on {rng.choice(months)} {day} {say_year}, around {_say_number(rng, rng.randint(1, 12))}."


def speak_count(rng: random.Random) -> str:
    return (
        f"Caller: I called {_say_number(rng, rng.randint(2, 9))} times, waited {_say_number(rng, rng.randint(5, 59))} "
        f"minutes, and I have {_say_number(rng, rng.randint(1, 9))} orders."
    )


def speak_order(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 10)))
    return f"Caller: my order number is {' '.join(_unit(rng, d) for d in digits)}."


LOOKALIKES = [speak_phone, speak_amount, speak_date, speak_count, speak_order]


@st.composite
def spoken_card(draw: st.DrawFn) -> tuple[str, str]:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    pan = random_pan(rng)
    return embed(rng, speak_card(rng, pan)), pan


@st.composite
def spoken_lookalike(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    lines = [rng.choice(LOOKALIKES)(rng) for _ in range(rng.randint(1, 3))]
    return "\n".join([*rng.sample(CONVERSATION, 2), *lines])
