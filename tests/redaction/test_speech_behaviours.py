"""Regression tests for card numbers as callers say them: speaker labels, JSON transcripts, repeats and read-backs,
asides and lead-ins, digit text around cards, and look-alike numbers that must stay unflagged.

Card numbers are Stripe's public test numbers or synthetic (a brand prefix, random digits, a computed Luhn digit).
Texts are written with the card's pieces between « and »: ``_unmark`` strips the marks and keeps the spans, and
every digit and number word inside them must lie in a "pan" finding (``covered``).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from unittest import mock

import pytest

import redaction
from benchmarks.redaction_corpus import (
    DIGIT_WORDS,
    TENS_WORDS,
    Sample,
    covered,
    luhn_digit,
    spoken_digits,
    synth_pan,
)
from benchmarks.redaction_corpus_world import say

STRIPE_16 = ["4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222", "5200828282828210",
             "6011111111111117", "6011000990139424", "3056930009020004", "3566002020360505", "6200000000000005"]  # fmt: skip
STRIPE_ODD = ["378282246310005", "371449635398431", "36227206271667"]
LABELS = ["visa16", "mastercard", "mastercard2", "discover", "jcb", "unionpay", "mir", "amex", "diners", "maestro",
          "visa19", "visa13"]  # fmt: skip
AGENT_LINES = ["Okay.", "Go on.", "Got it. Next?", "Mm-hmm.", "Yes."]
CASES = 30

_MARK = re.compile("([«»])")


def _unmark(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without its « » marks, and the spans they enclosed."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = start = 0
    for part in _MARK.split(marked):
        if part == "«":
            start = pos
        elif part == "»":
            spans.append((start, pos))
        else:
            parts.append(part)
            pos += len(part)
    return "".join(parts), spans


def _pan_spans(text: str) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in redaction.scan(text) if f.kind == "pan"]


def _card_gone(marked: str) -> bool:
    text, spans = _unmark(marked)
    assert spans, marked
    return covered(Sample(text=text, fmt="speech", brand="card", pans=spans), _pan_spans(text))


def assert_card_gone(marked: str) -> None:
    """Every digit and number word between « » is inside a "pan" finding, and the request-body gate sees a card."""
    text, _spans = _unmark(marked)
    assert _card_gone(marked), f"{text!r}\n-> {redaction.redact(text)!r}"
    assert redaction.contains_card_number(text), text


def assert_no_card(text: str) -> None:
    assert _pan_spans(text) == [], f"{text!r}\n-> {redaction.redact(text)!r}"
    assert not redaction.contains_card_number(text), text


def _four_groups(pan: str) -> list[str]:
    """A card cut into four groups, one per caller turn (16 digits: 4-4-4-4; 15: 4-4-4-3; 19: 5-5-5-4)."""
    q, r = divmod(len(pan), 4)
    sizes = [q + 1 if k < r else q for k in range(4)]
    out, i = [], 0
    for n in sizes:
        out.append(pan[i : i + n])
        i += n
    return out


def _words(rng: random.Random, digits: str) -> str:
    return " ".join(spoken_digits(rng, digits, fancy=rng.random() < 0.6))


def _card(rng: random.Random, case: int) -> str:
    return synth_pan(rng, LABELS[case % len(LABELS)])


# --- transcript speaker labels -----------------------------------------------------------------------------

LabelFn = Callable[[bool, int], str]  # (is the caller, turn number) -> the line's prefix


def _pair(caller: str, agent: str) -> LabelFn:
    return lambda is_caller, _t: caller if is_caller else agent


def _clock(fmt: str) -> LabelFn:
    return lambda is_caller, t: fmt.format(who="Caller" if is_caller else "Agent", s=12 + 3 * t)


NO_COLON: dict[str, LabelFn] = {
    "upper": _pair("CALLER ", "AGENT "),
    "parenthesised": _pair("(caller) ", "(agent) "),
    "angle": _pair("C> ", "A> "),
    "tab": _pair("Caller\t", "Agent\t"),
    "clock": _clock("00:{s:02d} {who} "),
}
NAMES: dict[str, LabelFn] = {
    "full_name": _pair("John Smith: ", "Agent Kelly: "),
    "title": _pair("Mr. Jones: ", "Operator: "),
}
LINE_PREFIXES: dict[str, LabelFn] = {
    "seconds": _clock("({s}.3s) {who}: "),
    "iso_log": lambda c, t: f"2025-11-29T10:00:{t:02d}Z INFO {'caller' if c else 'agent'}: ",
    "python_log": lambda c, t: (
        f"2025-11-29 10:00:{t:02d},123 INFO [call CA9f] speaker={'caller' if c else 'agent'} text="
    ),
    "id": _pair("Customer (ID 48213): ", "Agent (ID 7): "),
    "diarised": _pair("S1: ", "S2: "),
    "abbreviated": _pair("Cust.: ", "Agt.: "),
    "clock_after": _clock("{who}, 00:{s:02d}: "),
}


def _dialogue(rng: random.Random, pan: str, label: LabelFn, spoken: bool = True) -> str:
    """The agent asks, the caller reads one group per turn, the agent answers between turns."""
    lines = [label(False, 0) + "Can I have the card number, please?"]
    groups = _four_groups(pan)
    for k, group in enumerate(groups):
        lines.append(label(True, 2 * k + 1) + "«" + (_words(rng, group) if spoken else say(rng, group)) + "»")
        if k < len(groups) - 1:
            lines.append(label(False, 2 * k + 2) + rng.choice(AGENT_LINES))
    lines.append(label(False, 9) + "Thank you.")
    return "\n".join(lines)


@pytest.mark.parametrize("style", sorted(NO_COLON))
def test_labels_without_a_colon(style: str) -> None:
    """ "CALLER fifty one forty-two" / "AGENT Okay.": a label with no colon still marks the turns."""
    rng = random.Random(style)
    for case in range(CASES):
        assert_card_gone(_dialogue(rng, _card(rng, case), NO_COLON[style]))


@pytest.mark.parametrize("style", sorted(NAMES))
def test_labels_of_several_words(style: str) -> None:
    rng = random.Random(style)
    for case in range(CASES):
        assert_card_gone(_dialogue(rng, _card(rng, case), NAMES[style]))


@pytest.mark.parametrize("style", sorted(LINE_PREFIXES))
def test_labels_inside_a_line_prefix(style: str) -> None:
    """Times, log levels, call ids and speaker ids around the label."""
    rng = random.Random(style)
    for case in range(CASES):
        assert_card_gone(_dialogue(rng, _card(rng, case), LINE_PREFIXES[style], spoken=case % 2 == 0))


def test_label_examples() -> None:
    pan = "514242424242424" + luhn_digit("514242424242424")  # synthetic Mastercard, Luhn digit computed
    last = " ".join(DIGIT_WORDS[int(d)] for d in pan[12:])
    for caller, agent in [("CALLER ", "AGENT "), ("(caller) ", "(agent) "), ("C> ", "A> "), ("Caller\t", "Agent\t"),
                          ("John Smith: ", "Agent Kelly: "), ("Cust.: ", "Agt.: ")]:  # fmt: skip
        assert_card_gone(f"{caller}«fifty one forty-two»\n{agent}Okay.\n{caller}«four two four two»\n{agent}Go on.\n"
                         f"{caller}«forty two forty two»\n{agent}Got it. Next?\n{caller}«{last}»")  # fmt: skip


# "C> 4242" on the caller's last line: shorthand labels are not label words, so a transcript written in digits
# with no number word is left to the digit path, which does not join turns.
_DIGIT_GAP = pytest.mark.xfail(strict=True, reason="engine gap: C>/A> shorthand with written digit groups")


@pytest.mark.parametrize(
    "style",
    [pytest.param(s, marks=_DIGIT_GAP) if s == "angle" else s for s in sorted(NO_COLON)],
)
def test_labels_without_a_colon_and_written_digits(style: str) -> None:
    """ "CALLER 4242" / "AGENT Okay.": the recogniser wrote the groups as digits ("Caller: 4242" works)."""
    rng = random.Random(style)
    for case in range(CASES):
        pan = _card(rng, case)
        lines = [NO_COLON[style](False, 0) + "Can I have the card number, please?"]
        for k, group in enumerate(_four_groups(pan)):
            lines.append(NO_COLON[style](True, 2 * k + 1) + f"«{group}»")
            if k < 3 or case % 2:  # half the transcripts end on the caller's last group
                lines.append(NO_COLON[style](False, 2 * k + 2) + AGENT_LINES[k])
        assert_card_gone("\n".join(lines))


# --- JSON transcripts --------------------------------------------------------------------------------------

TurnFn = Callable[[str, bool], dict[str, object]]  # (text, is the caller) -> a turn object

SCHEMAS: dict[str, TurnFn] = {
    "deepgram": lambda text, c: {"channel": 0, "transcript": text, "speaker": 0 if c else 1},
    "genesys": lambda text, c: {"participantPurpose": "external" if c else "internal", "phrases": [{"text": text}]},
    "livekit": lambda text, c: {"type": "user_input_transcribed" if c else "agent_speech", "transcript": text},
    "twilio": lambda text, c: (
        {"type": "prompt", "voicePrompt": text, "last": True} if c else {"type": "text", "token": text}
    ),
}


def _layout(items: list[dict[str, object]], layout: int) -> str:
    if layout == 0:
        return json.dumps(items, ensure_ascii=False)
    if layout == 1:
        return json.dumps(items, ensure_ascii=False, indent=2)
    return "\n".join(json.dumps(item, ensure_ascii=False) for item in items)


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
def test_json_transcripts_of_voice_platforms(schema: str) -> None:
    """A list of turn objects, as one-line JSON, pretty JSON and JSON lines; the caller reads a group per turn."""
    rng = random.Random(schema)
    turn = SCHEMAS[schema]
    for case in range(CASES):
        items = [turn("Can I have the card number please?", False)]
        for group in _four_groups(_card(rng, case)):
            items.append(turn("«" + say(rng, group) + "»", True))
            items.append(turn(rng.choice(AGENT_LINES), False))
        assert_card_gone(_layout(items, case % 3))


def test_deepgram_speaker_after_the_text() -> None:
    items: list[dict[str, object]] = [{"channel": 0, "transcript": text, "speaker": s} for text, s in [
        ("What's the card number?", 1), ("«four two four two»", 0), ("Okay.", 1), ("«forty two forty two»", 0),
        ("Go on.", 1), ("«four two four two»", 0), ("Got it. Next?", 1), ("«four thousand two hundred forty two»", 0),
    ]]  # fmt: skip
    for layout in range(3):
        assert_card_gone(_layout(items, layout))


ASIDES_WRITTEN = ["let me check", "hold on", "okay", "one sec", "sorry", "wait"]


@pytest.mark.parametrize(
    "marked",
    [
        '[{"role": "user", "content": "«4242 4242» let me check «4242 4242»"}]',
        '[{"speaker": "customer", "text": "«4242 4242» okay"}, {"speaker": "customer", "text": "so «4242 4242»"}]',
        '[{"role":"user","content":"«5555 5555» hold on «5555 4444»"}]',
        '[{"role": "assistant", "content": "Card number?"}, {"role": "user", "content": "«4000 0566» one sec '
        '«5566 5556»"}]',
        '[{"speaker": "agent", "text": "Go ahead."}, {"speaker": "customer", "text": "«6011 1111» okay"}, '
        '{"speaker": "customer", "text": "so «1111 1117»"}]',
    ],
)
def test_one_line_json_with_digits_and_an_aside(marked: str) -> None:
    assert_card_gone(marked)


def test_one_line_json_with_digits_and_an_aside_generated() -> None:
    rng = random.Random("json-aside")
    for case in range(CASES):
        pan = rng.choice(STRIPE_16) if case % 2 else synth_pan(rng, rng.choice(["visa16", "mastercard", "jcb"]))
        head, tail = f"«{pan[:4]} {pan[4:8]}»", f"«{pan[8:12]} {pan[12:]}»"
        aside = rng.choice(ASIDES_WRITTEN)
        if case % 3 == 0:
            items = [{"role": "user", "content": f"{head} {aside} {tail}"}]
        else:
            items = [{"speaker": "customer", "text": f"{head} {aside}"}, {"speaker": "customer", "text": f"so {tail}"}]
        assert_card_gone(json.dumps(items, ensure_ascii=False))


# --- repeats and read-backs --------------------------------------------------------------------------------


def test_a_group_said_twice_without_a_pause() -> None:
    """ "... oh three five four oh three five four ...": the doubled group is card data too."""
    rng = random.Random("group-twice")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        twice = rng.randrange(len(groups))
        words = [_words(rng, g) for g in groups]
        words[twice] = f"{words[twice]} {words[twice]}"
        assert_card_gone("Agent: The card number?\nCaller: «" + " ".join(words) + "»\nAgent: Thank you.")


def test_the_whole_number_said_twice_in_one_turn() -> None:
    rng = random.Random("number-twice")
    for case in range(CASES):
        pan = _card(rng, case)
        first = " ".join(say(rng, g) for g in _four_groups(pan))
        second = " ".join(say(rng, g) for g in _four_groups(pan))
        sep = rng.choice([" ", ", ", ". ", ", again, ", ", that's "])
        assert_card_gone(f"Caller: «{first}»{sep}«{second}»\nAgent: Thank you.")


def _by_digit(digits: str) -> str:
    return " ".join(DIGIT_WORDS[int(c)] for c in digits)


def test_interim_results_before_the_final_one() -> None:
    """A streaming recogniser's interim hypotheses grow word by word before the final one ("four hundred",
    "four hundred eighty three", ...): every one of them is redacted, however short, since each is worded as
    the card's first words (an earlier version missed the first two-word ones and the ones a tens word cut)."""
    rng = random.Random("interim")
    for case in range(CASES):
        words = " ".join(say(rng, g) for g in _four_groups(_card(rng, case))).split()
        cuts = sorted({2, 3, *rng.sample(range(4, len(words)), min(3, len(words) - 4))})
        lines = [f"00{10 + i}.{rng.randint(100, 999)} [interim] «{' '.join(words[:c])}»" for i, c in enumerate(cuts)]
        lines.append(f"00{10 + len(cuts)}.500 [final] «{' '.join(words)}»")
        assert_card_gone("\n".join(lines))


def test_a_tens_word_said_twice() -> None:
    """ "four hundred sixty sixty eight": the caller stumbles on the last word of a hundreds phrase and says it
    again with the rest (468)."""
    rng = random.Random("tens-twice")
    found = 0
    for case in range(CASES * 2):
        pan = _card(rng, case)
        m = re.search(r"[1-9][2-9][1-9]", pan[4:12])
        if m is None:
            continue
        at = 4 + m.start()
        h, t, u = (int(c) for c in pan[at : at + 3])
        tens = TENS_WORDS[t]
        said = (
            f"{_by_digit(pan[:at])} {DIGIT_WORDS[h]} hundred {tens} {tens} {DIGIT_WORDS[u]} {_by_digit(pan[at + 3 :])}"
        )
        assert_card_gone(f"Caller: my card is «{said}».\nAgent: Thank you.")
        found += 1
    assert found >= CASES


def test_labels_with_a_spaced_dash_before_a_digit_group() -> None:
    """ "Caller - 4157": a label, a dash and the caller's four digits (not a speaker number, "Speaker-2")."""
    rng = random.Random("dash-label")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        lines = []
        for i, g in enumerate(groups):
            lines.append(f"Caller - «{g if i % 2 else _by_digit(g)}»")
            lines.append(f"Agent - {AGENT_LINES[i % len(AGENT_LINES)]}")
        assert_card_gone("\n".join(lines))


def test_a_restart_without_a_marker() -> None:
    """ "3528 3148 ... 3528 3148 ...": the caller starts over after two groups, no "sorry", no "again"."""
    rng = random.Random("restart")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        cut = rng.randint(1, 2)
        spoken = [_words(rng, g) for g in groups]
        assert_card_gone("Caller: «" + " ".join(spoken[:cut] + spoken) + "»\nAgent: Okay, thank you.")


@pytest.mark.parametrize("pan", [*STRIPE_16[:6], "378282246310005"])
def test_digit_groups_said_twice(pan: str) -> None:
    """ "Caller: 3435 3435 2947 2947 ...": each written group doubled."""
    doubled = " ".join(f"{g} {g}" for g in _four_groups(pan))
    assert_card_gone(f"Caller: «{doubled}»\nAgent: Thanks.")


def test_digit_groups_said_twice_generated() -> None:
    rng = random.Random("digits-twice")
    for case in range(CASES):
        doubled = " ".join(f"{g} {g}" for g in _four_groups(_card(rng, case)))
        assert_card_gone(f"Caller: «{doubled}»\nAgent: Thanks.")
        # on one line, or with no label at all (the digit path's pre-check saw no 12 digits passing Luhn)
        assert_card_gone(f"Customer: it's «{doubled}».")
        assert_card_gone(f"«{doubled}»")


def _mishear(rng: random.Random, digits: str, k: int) -> str:
    return digits[:k] + rng.choice([d for d in "0123456789" if d != digits[k]]) + digits[k + 1 :]


def _read_back(rng: random.Random, pan: str, k: int, written: bool) -> str:
    """A dialogue where the agent reads the card back with digit ``k`` misheard: the wrong digit is no card data,
    so it stays outside the marks; every other digit of the read-back is inside them."""
    lines = ["Agent: Can I have the card number?"]
    for j, group in enumerate(_four_groups(pan)):
        lines.append(f"Caller: «{_words(rng, group)}»")
        lines.append("Agent: " + ("Okay, let me read that back." if j == 3 else rng.choice(AGENT_LINES)))
    heard, i = [], 0
    for group in _four_groups(_mishear(rng, pan, k)):
        words = []
        for d in group:
            word = d if written else DIGIT_WORDS[int(d)]
            words.append(f"»{word}«" if i == k else word)
            i += 1
        heard.append(("" if written else " ").join(words))
    lines.append(
        ("Agent: So that's «" + (" " if written else ", ").join(heard) + "». Is that right?").replace("«»", "")
    )
    lines.append("Caller: Yes.")
    return "\n".join(lines)


def test_a_read_back_with_one_digit_misheard() -> None:
    """The agent reads the number back digit by digit in their own turn, one digit wrong: the read-back is redacted
    too (all but the wrong digit; a wrong second digit is ``test_a_read_back_with_the_second_digit_misheard``)."""
    rng = random.Random("misheard")
    for case in range(CASES):
        pan = _card(rng, case)
        k = rng.choice([0, *range(2, len(pan) - 4)])
        assert_card_gone(_read_back(rng, pan, k, written=False))


def test_a_read_back_with_the_second_digit_misheard() -> None:
    """ "Agent: So that's two five two three, zero zero three one, ..." (2223 0031 2200 3222 said by the caller):
    the true first digit before the wrong one is redacted too."""
    rng = random.Random("misheard-second")
    for case in range(CASES):
        assert_card_gone(_read_back(rng, _card(rng, case), 1, written=False))


@pytest.mark.parametrize(
    ("pan", "k"), [("4000056655665556", 8), ("5555555555554444", 8), ("6011000990139424", 8), ("4000056655665556", 2)]
)
def test_a_written_read_back_with_one_digit_misheard(pan: str, k: int) -> None:
    """The caller says the card, the agent's turn writes it back in digits with one wrong ("Agent: So that's 4000
    0566 8566 5556."): the whole read-back is redacted."""
    assert_card_gone(_read_back(random.Random(pan), pan, k, written=True))


def test_was_that_this_group_or_that_group() -> None:
    """ "Was that four eight four one or five eight four one?": both guesses are redacted."""
    rng = random.Random("or")
    for case in range(CASES):
        pan = _card(rng, case)
        groups = _four_groups(pan if len(pan) >= 13 else synth_pan(rng, "visa16"))
        k = rng.choice([j for j, g in enumerate(groups) if len(g) >= 4])
        wrong = _mishear(rng, groups[k], rng.randrange(len(groups[k])))
        guesses = [groups[k], wrong] if rng.random() < 0.5 else [wrong, groups[k]]
        lines = ["Agent: The card number please?"]
        for j, group in enumerate(groups):
            lines.append(f"Caller: «{_words(rng, group)}»")
            if j == k:
                a, b = (" ".join(DIGIT_WORDS[int(d)] for d in g) for g in guesses)
                lines.append(f"Agent: Was that «{a}» or «{b}»?")
                lines.append(f"Caller: «{' '.join(DIGIT_WORDS[int(d)] for d in groups[k])}»")
            if j < 3:
                lines.append("Agent: " + rng.choice(AGENT_LINES))
        assert_card_gone("\n".join(lines))


def test_four_identical_groups_said_digit_by_digit() -> None:
    """Stripe's 4242 4242 4242 4242 read one group per turn as "four two four two": its two halves are the same,
    but over turns it is a card, not a number confirmed."""
    turns = "\nAgent: Go on.\n".join(["Caller: «four two four two»"] * 4)
    assert_card_gone(f"Agent: Can I have the card number?\n{turns}\nAgent: Thank you.")


# --- asides and lead-ins -----------------------------------------------------------------------------------

ASIDES = ["let me just grab my card", "can you hear me?", "the next four are", "it says", "followed by",
          "hang on, my glasses", "sorry, my glasses"]  # fmt: skip
LEAD_INS = ["then ", "the next four are ", "and then ", "next ", "after that "]


def test_an_aside_between_groups_in_one_turn() -> None:
    rng = random.Random("aside")
    for case in range(CASES):
        groups = [_words(rng, g) for g in _four_groups(_card(rng, case))]
        at = rng.randint(1, 3)
        aside = ASIDES[case % len(ASIDES)]
        assert_card_gone(f"Caller: «{' '.join(groups[:at])}», {aside}, «{' '.join(groups[at:])}»\nAgent: Thank you.")


def test_a_caller_turn_opening_with_a_lead_in() -> None:
    """ "Caller: then ...", "Caller: the next four are ...", "Caller: and it ends with ..."."""
    rng = random.Random("lead-in")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        lines = ["Agent: What's the card number?"]
        for k, group in enumerate(groups):
            lead = "" if k == 0 else "and it ends with " if k == 3 else rng.choice(LEAD_INS)
            lines.append(f"Caller: {lead}«{say(rng, group)}»")
            lines.append("Agent: " + ("Thank you." if k == 3 else rng.choice(AGENT_LINES)))
        assert_card_gone("\n".join(lines))


# --- digit text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pan", [*STRIPE_16, *STRIPE_ODD])
@pytest.mark.parametrize("per_line", [False, True], ids=["one_line", "group_per_line"])
def test_a_card_above_expiry_and_cvv_lines(pan: str, per_line: bool) -> None:
    """ "4242 4242 4242 4242\\n12/27\\n123", and one group per line: the card, the expiry and the CVV go."""
    groups = _four_groups(pan) if len(pan) == 16 else [pan[:4], pan[4:10], pan[10:]]
    card = "\n".join(groups) if per_line else " ".join(groups)
    cvv = "1234" if len(pan) == 15 else "123"
    assert_card_gone(f"«{card}»\n12/27\n{cvv}")
    assert (
        redaction.redact(f"{card}\n12/27\n{cvv}") == f"[card {redaction.pan_brand(pan)} ••{pan[-4:]}]\n[expiry]\n[cvv]"
    )


@pytest.mark.parametrize(
    "template",
    ["#30621\t{pan}/2025-07-22", "#30621\t{pan}/2025-07-22\t12.00", "row 30621|{pan}|2025-07-22", "30621;{pan};22.07.2025",
     "ref#30621\t{pan}\\2025-07-22", "[30621]{pan}/2025/07/22"],
)  # fmt: skip
@pytest.mark.parametrize("pan", ["4242424242424242", "5555555555554444", "378282246310005", "6011000990139424"])
def test_a_card_between_other_separators_in_a_longer_run(template: str, pan: str) -> None:
    assert_card_gone(template.format(pan=f"«{pan}»"))


# --- precision: numbers that are not cards -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # a phone number said twice with a word between
        "Caller: four two six five five five one one one four, yes, four twenty six five five five double one one four",
        # two phone numbers with "or"
        "Caller: call me on four one five, six six eight, eighty-nine seventy-seven or zero seven seven, six hundred "
        "forty five, one zero zero two",
        # two people's numbers across an agent question for another item
        "Caller: 572 240 6979\nAgent: And your husband's?\nCaller: 866 428 3704",
        "Caller: 572 240 6979\nAgent: And the other one?\nCaller: 866 428 3704",
        "Caller: 572 240 6979\nAgent: And an alternate?\nCaller: 866 428 3704",
        # two long numbers on two lines of a log
        "sms sent to 8695558722 order 57985756\n91979492\t61114\t309.41",
        # an IVR option dictated and repeated
        "Agent: You can call 1 800 990 7393, option one, and quote reference 428337.\n"
        "Caller: 1 800 990 7393, option one, 428337. Thanks.",
        "You can call 1 800 990 7393, option one, and quote reference 428337.",
    ],
)
def test_numbers_that_are_not_cards(text: str) -> None:
    assert_no_card(text)


def _uatp_tail(rng: random.Random) -> str:
    """14 digits that make a Luhn-valid 15-digit UATP number after a "1" but are no card on their own."""
    while True:
        body = "1" + rng.choice("79") + "".join(rng.choice("0123456789") for _ in range(12))
        tail = (body + luhn_digit(body))[1:]
        if redaction.pan_brand(tail) is None:
            return tail


def test_an_agent_question_for_a_new_number_between() -> None:
    """ "one please" then the order number: glued, the digits would make a UATP card; the question keeps them apart."""
    rng = random.Random("new-number")
    for _ in range(CASES):
        tail = _uatp_tail(rng)
        spoken = ", ".join(" ".join(DIGIT_WORDS[int(d)] for d in tail[i : i + 3]) for i in range(0, len(tail), 3))
        glued = f"Caller: one {' '.join(DIGIT_WORDS[int(d)] for d in tail)}"
        assert redaction.contains_card_number(glued), glued  # the control: these digits do glue into a card
        assert_no_card(f"Caller: one please.\nAgent: Can I have the order number please?\nCaller: {spoken}")
        assert_no_card(f"Caller: 1 please.\nAgent: Can I have the order number please?\nCaller: {tail}")


def _say_phone(rng: random.Random, digits: str) -> str:
    return ", ".join(_words(rng, digits[i:j]) for i, j in ((0, 3), (3, 6), (6, 10)))


def _phone(rng: random.Random) -> str:
    return str(rng.randint(2, 9)) + "".join(rng.choice("0123456789") for _ in range(9))


def test_a_phone_number_said_twice_generated() -> None:
    """A random 20-digit run passes Luhn one time in ten: allow a small rate, not zero."""
    rng = random.Random("phone-twice")
    texts = []
    for _ in range(50):
        phone = _phone(rng)
        word = rng.choice(["yes", "that's right", "I'll repeat", "again"])
        texts.append(f"Caller: {_say_phone(rng, phone)}, {word}, {_say_phone(rng, phone)}\nAgent: Thanks.")
    flagged = [t for t in texts if _pan_spans(t)]
    assert len(flagged) <= 2, flagged


def test_a_phone_number_asked_again_and_read_back_generated() -> None:
    """A callback number said, asked for again, said again and read back (a digit misheard, then corrected):
    the same 10 digits in several turns are one number repeated, never the pieces of a card. Before this was
    read, half of such calls had a "card" found across the turns."""
    rng = random.Random("phone-again")
    texts = []
    for _ in range(60):
        phone = _phone(rng)
        k = rng.randrange(6, 10)
        wrong = phone[:k] + str((int(phone[k]) + rng.randint(1, 9)) % 10) + phone[k + 1 :]
        asked = rng.choice(["Sorry, the line cut out, that number again?", "You broke up, can you repeat that?"])
        written = f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"
        texts.append(
            "Agent: Can I take a contact number in case we get cut off?\n"
            f"Caller: Um, okay, {_say_phone(rng, phone)}.\nAgent: {asked}\nCaller: {written}.\n"
            f"Agent: So that's {wrong[:3]} {wrong[3:6]} {wrong[6:]}?\n"
            f"Caller: No, {phone[6:]} at the end. {_say_phone(rng, phone)}.\nAgent: Got it, thank you."
        )
    flagged = [t for t in texts if _pan_spans(t)]
    assert len(flagged) <= 2, flagged


def test_a_card_begun_read_back_and_finished() -> None:
    """ "That's 5018 1695... and the rest?": the agent reads back the first groups and asks for more; the
    caller's pieces are one card (not a number said twice, although the first eight digits are)."""
    rng = random.Random("begun-read-back")
    for case in range(CASES):
        pan = _card(rng, case)
        cut = rng.choice([8, 10])
        first = f"{pan[:4]} {pan[4:cut]}"
        said = first if rng.random() < 0.5 else _by_digit(pan[:cut])
        assert_card_gone(
            f"Agent: The card number please.\nCaller: It's «{said}», um\n"
            f"Agent: That's «{first}»... and the rest?\nCaller: Then «{_words(rng, pan[cut:])}».\nAgent: Thanks."
        )


def test_two_peoples_numbers_generated() -> None:
    rng = random.Random("two-people")
    texts = []
    for case in range(50):
        question = ["And your husband's?", "And the other one?", "And an alternate?"][case % 3]
        a, b = _phone(rng), _phone(rng)
        first = f"{a[:3]} {a[3:6]} {a[6:]}" if case % 2 else _say_phone(rng, a)
        second = f"{b[:3]} {b[3:6]} {b[6:]}" if case % 2 else _say_phone(rng, b)
        texts.append(f"Caller: {first}\nAgent: {question}\nCaller: {second}")
    flagged = [t for t in texts if _pan_spans(t)]
    assert len(flagged) <= 2, flagged


# --- later in the round: hesitations inside a group, corrections, rows, quantities -------------------------


def test_an_aside_inside_a_group_after_six_digits() -> None:
    """ "four two four two four two, hang on, four two ...": an aside after six digits, inside a group."""
    rng = random.Random("inside")
    for case in range(CASES):
        pan = _card(rng, case)
        at = rng.randint(6, min(10, len(pan) - 2))
        aside = rng.choice(["hang on", "ugh", "oops", "you know what", "sorry what was that", "where was I"])
        head = " ".join(DIGIT_WORDS[int(d)] for d in pan[:at])
        tail = " ".join(DIGIT_WORDS[int(d)] for d in pan[at:])
        assert_card_gone(f"Caller: «{head}» {aside} «{tail}».")


@pytest.mark.parametrize(
    "phrase", ["strike that,", "my mistake,", "make that", "or rather", "that should be", "let me correct that"]
)
def test_a_correction_phrase_takes_digits_back(phrase: str) -> None:
    """ "... three one two three, strike that, three one two four ...": the retracted group and the card."""
    rng = random.Random(phrase)
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        k = rng.randrange(4)
        digits = list(groups[k])
        j = rng.randrange(len(digits))
        digits[j] = str((int(digits[j]) + rng.randint(1, 9)) % 10)
        said = [_words(rng, g) for g in groups]
        said[k] = f"{' '.join(DIGIT_WORDS[int(d)] for d in digits)} {phrase} {said[k]}"
        assert_card_gone(f"Customer: «{' '.join(said)}».")


@pytest.mark.parametrize("sep", ["\t", ",", ";", " ", "\u200b"])
def test_a_row_of_card_month_year_cvv(sep: str) -> None:
    """A row exported with the card's groups, then month, year and CVV, all with one separator."""
    for pan in ("4242424242424242", "5555555555554444", "6011111111111117", "378282246310005"):
        groups = [pan[i : i + 4] for i in range(0, len(pan), 4)]
        row = sep.join(["J Smith", *groups, "08", "27", "123"])
        out = redaction.redact(row)
        assert not any(g in out.replace(pan[-4:], "") for g in groups[:-1]), (row, out)


def test_quantities_are_not_card_digits() -> None:
    """ "I ordered four of item 26164, no wait, two of 26164 and five of 465907" is an order, not a card."""
    text = (
        "Caller: I ordered four of item two six one six four, no wait, two of two six one six four and five of four"
        " six, five nine zero seven\nAgent: So two six one six four and 465907.\nCaller: Yes."
    )
    assert _pan_spans(text) == [], redaction.redact(text)


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
def test_json_transcripts_stream_like_redact(schema: str) -> None:
    """Pretty-printed, a transcript's turns lie far apart in JSON: the stream redactor, fed in small chunks, gives
    what ``redact`` gives on the whole text (JSON text keys are material, so the stream holds the turns)."""
    rng = random.Random("stream " + schema)
    turn = SCHEMAS[schema]
    for case in range(10):
        items = [turn("Can I have the card number please?", False)]
        for group in _four_groups(_card(rng, case)):
            items.append(turn(say(rng, group), True))
            items.append(turn(rng.choice(AGENT_LINES), False))
        text = _layout(items, 1)
        stream = redaction.StreamRedactor()
        size = rng.randint(5, 60)
        out = "".join(stream.feed(text[i : i + size]) for i in range(0, len(text), size)) + stream.flush()
        assert out == redaction.redact(text)
        assert "[card" in out


@pytest.mark.parametrize("between", [", um, ", " let me check ", ", ", " uh "])
def test_a_card_whose_halves_are_the_same_is_not_a_number_said_twice(between: str) -> None:
    """Stripe's 4242 4242 4242 4242 read with a hesitation between its halves is a card; only a confirmation
    ("yes", "I said") between two equal halves marks a short number said twice."""
    half = "four two four two four two four two"
    assert_card_gone(f"Caller: «{half}»{between}«{half}».")
    pairs = "forty two forty two forty two forty two"
    assert_card_gone(f"Caller: «{pairs}»{between}«{pairs}».")


SPANISH_DIGITS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


def test_a_card_said_digit_by_digit_in_spanish() -> None:
    """ "Sí, es el cinco cinco tres uno, eh, ocho nueve ...": a Spanish-speaking caller reads the digits one by
    one (the digit words only; Spanish teens and tens are not read)."""
    rng = random.Random("spanish")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        said = ", eh, ".join(" ".join(SPANISH_DIGITS[int(c)] for c in g) for g in groups)
        assert_card_gone(f"Rep: Thank you, and can I take the card number?\nCustomer: Sí, es el «{said}».")
        assert_card_gone(json.dumps({"inputTranscript": f"el número es «{said}»"}, ensure_ascii=False))


def test_going_back_a_group_after_a_correction() -> None:
    """ "3487 - 625337, 10, sorry, let me go back. 625337... 10386": the caller takes back the group before the
    one they were saying (eight digits or more) and says both again."""
    rng = random.Random("go-back")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        part = groups[2][: rng.randint(1, len(groups[2]) - 1)]
        back = rng.choice([", sorry, let me go back. ", " - sorry, going back a bit, ", ", no wait, "])
        said = f"{groups[0]} {groups[1]}, {part}{back}{groups[1]}... {groups[2]} {groups[3]}"
        if rng.random() < 0.5:
            said = " ".join(_words(rng, w) if w.isdigit() else w for w in said.split(" "))
        assert_card_gone(f"Agent: The card number?\nCustomer: Yeah, it's «{said}».\nAgent: Thanks.")


def test_a_card_asked_for_after_another_number() -> None:
    """After the account number, the agent asks for the card ("And the long number on the card?", a question
    with no "can" or "what"): the account number's digits and the card's are not one number."""
    rng = random.Random("card-after-account")
    for case in range(CASES):
        account = "".join(rng.choice("0123456789") for _ in range(8))
        pan = _card(rng, case)
        said = ", ".join(_words(rng, g) for g in _four_groups(pan))
        assert_card_gone(
            f"Agent: Can I take your account number?\nCustomer: {_words(rng, account)}\n"
            f"Agent: Thanks. And the long number on the card?\nCustomer: «{said}»\nAgent: Thank you."
        )


def test_a_number_word_between_two_statements_of_the_card() -> None:
    """ "... four two. Oh, sorry, four two ...": a number word on the line between two readings of the same card
    is redacted with them (it may be a digit of it said on its own)."""
    rng = random.Random("between")
    for case in range(CASES):
        pan = _card(rng, case)
        first = " ".join(say(rng, g) for g in _four_groups(pan))
        second = " ".join(say(rng, g) for g in _four_groups(pan))
        word = rng.choice(["Oh", "oh", "Double", "One"])
        rest = rng.choice([", sorry, ", ", hang on, I'll check, ", " check, that's "])
        assert_card_gone(f"Caller: «{first}. {word}{rest}{second}»\nAgent: Thank you.")


@pytest.mark.parametrize("pause", [", uh, ", " - um - ", "... ", ", hang on, ", ", I mean ", ", sorry, ", " uh "])
def test_a_group_begun_and_said_again(pause: str) -> None:
    """A repetition repair: "4128, 657 - um - 6570, 7049 ...", "six five, uh, six five seven zero": a group (the
    first too) begun, a hesitation, then said from its start in full, in digits, words or both. The digits
    begun are card digits said twice, redacted with the card."""
    rng = random.Random("begun " + pause)
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        k = rng.randrange(len(groups))
        begun = groups[k][: rng.randint(1, len(groups[k]) - 1)]
        digits = case % 3 == 0
        said = [g if digits else _words(rng, g) for g in groups]
        first = begun if digits or case % 3 == 1 else " ".join(DIGIT_WORDS[int(d)] for d in begun)
        said[k] = f"{first}{pause}{said[k]}"
        assert_card_gone(f"Agent: The card number please?\nCaller: Yeah, it's «{', '.join(said)}».")


def test_a_group_begun_again_in_written_digits_on_one_line() -> None:
    """Chat or a recogniser's one-line output: "my card is 6520, 4480 77... 7798 5913 119" (the digit path reads
    the run without the group begun) and "5576. 568, sorry, 5686, ..." (a correction word between digits)."""
    rng = random.Random("begun digits")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        k = rng.randrange(len(groups))
        begun = groups[k][: rng.randint(1, min(3, len(groups[k]) - 1))]
        pause = rng.choice(["... ", ", ", " - ", ", sorry, ", ", I mean ", ", hang on, "])
        said = list(groups)
        said[k] = f"{begun}{pause}{groups[k]}"
        assert_card_gone(f"User: my card number is «{' '.join(said)}».")


def test_numbers_with_a_repeated_start_are_not_cards() -> None:
    """Decimals, times and dates whose parts start alike ("0.03", "12:12", "2025-05-05") are not a group begun
    again: card-free log lines stay unflagged."""
    rng = random.Random("begun decoys")
    for _ in range(300):
        line = (
            f"2025-05-05T12:12:{rng.randint(10, 59)}Z INFO took 0.0{rng.randint(1, 9)}{rng.randint(0, 999):03d}s "
            f"rows={rng.randint(1, 9)} {rng.randint(100, 999)}, {rng.randint(1000, 99999)} bytes"
        )
        assert _pan_spans(line) == [], line


ASIDES_BEFORE_AGAIN = [", sorry, I'll say those four again, ", "... no, from the top of that group, ",
                       ", let me do that one again, ", ", hold on, one second, ", ", I mean, the second four are ",
                       ", oops, let me redo those four, ", ", wait, I can't read it, "]  # fmt: skip


@pytest.mark.parametrize("aside", ASIDES_BEFORE_AGAIN)
def test_an_aside_between_a_group_begun_and_the_group(aside: str) -> None:
    """ "4744, 1, sorry, I'll say those four again, 1598 ...": words that are not fillers (and counts, "those
    four", "that one") between a group begun and the group said from its start are stepped over, as the digits
    begun are: the card is read whole, in digits or words."""
    rng = random.Random("aside " + aside)
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        k = rng.randrange(1, len(groups))
        begun = groups[k][: rng.randint(1, len(groups[k]) - 1)]
        digits = case % 2 == 0
        said = [g if digits else " ".join(DIGIT_WORDS[int(d)] for d in g) for g in groups]
        first = begun if digits else " ".join(DIGIT_WORDS[int(d)] for d in begun)
        said[k] = f"{first}{aside}{said[k]}"
        head = ", ".join(said[:k])
        marked = f"«{head}, {said[k][: len(first)]}»{aside}«{said[k][len(first) + len(aside):]}"
        marked += "".join(f", {g}" for g in said[k + 1 :]) + "»"
        assert_card_gone(f"Agent: The card number please?\nCaller: Yeah, it's {marked}.")


def test_a_number_after_an_option_is_not_a_group_begun_again() -> None:
    """ "call 1 800 298 8585, option nine, and quote reference 5639 1648": the aside names another number
    ("option", "extension", "reference"), so the numbers around it stay apart (no card by Luhn chance)."""
    rng = random.Random("option")
    flagged = 0
    for _ in range(300):
        phone = "".join(rng.choice("0123456789") for _ in range(7))
        ref = phone[-1] + "".join(rng.choice("0123456789") for _ in range(7))
        words = " ".join(DIGIT_WORDS[int(d)] for d in phone)
        text = (
            f"Caller: one eight hundred {words}, {rng.choice(['option', 'extension', 'press'])} "
            f"{DIGIT_WORDS[rng.randint(1, 9)]}, {' '.join(DIGIT_WORDS[int(d)] for d in ref)}. Thanks."
        )
        flagged += bool(_pan_spans(text))
    assert flagged == 0


HOMOPHONE_OF = {"4": ["for", "fore"], "2": ["to", "too"], "8": ["ate"], "1": ["won"]}


def test_homophones_of_digit_words_in_a_number_read_digit_by_digit() -> None:
    """A recogniser without number formatting writes "for", "to", "too", "ate", "won" for digits ("four three
    four to, seven six three five"): between digit words of a number read digit by digit they are digits."""
    rng = random.Random("homophones")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        said = []
        for g in groups:
            words = [DIGIT_WORDS[int(d)] for d in g]
            k = rng.randrange(len(g))
            if g[k] in HOMOPHONE_OF:
                words[k] = rng.choice(HOMOPHONE_OF[g[k]])
            said.append(" ".join(words))
        assert_card_gone(f"Agent: The card number?\nCaller: «{', '.join(said)}».")


@pytest.mark.parametrize(
    "text",
    [
        "Caller: there's one for three hundred twenty-seven fifty, then twenty two ninety four twenty-one.",
        "Caller: it takes two to three days, four to five at most, and I ate four for breakfast.",
        "Caller: my order was one for two people, seven to eight pm, one to one five two three.",
    ],
)
def test_homophones_in_ordinary_speech_are_words(text: str) -> None:
    assert_no_card(text)


@pytest.mark.parametrize("fix", [", no, sorry, ", ", I mean ", ", sorry, it's ", "... no, "])
def test_a_correction_in_a_number_written_in_digits_on_one_line(fix: str) -> None:
    """A recogniser's one-line output with digits and no speaker labels: "5397. 9852, 2442, 3701, no, sorry,
    3709." The digit path cannot read across words, the spoken reader does; and a first group said wrong and
    taken back ("4735, I mean 4935, ...") is redacted with the card."""
    rng = random.Random("one line " + fix)
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        k = rng.randrange(len(groups))
        wrong = list(groups[k])
        j = rng.randrange(len(wrong))
        wrong[j] = str((int(wrong[j]) + rng.randint(1, 9)) % 10)
        said = list(groups)
        said[k] = f"{''.join(wrong)}{fix}{groups[k]}"
        assert_card_gone(f"What's the long number? Yeah, it's «{', '.join(said)}». Okay.")


def test_a_streaming_transcript_cut_into_deltas() -> None:
    """A realtime API logs the caller's transcript as deltas cut anywhere, even inside a group ({"delta": " 0677
    4"}, {"delta": "472"}): the deltas are one text."""
    rng = random.Random("deltas")
    for case in range(CASES):
        pan = _card(rng, case)
        said = " ".join(_four_groups(pan))
        cuts = sorted(rng.sample(range(1, len(said)), 3))
        pieces = [said[a:b] for a, b in zip([0, *cuts], [*cuts, len(said)], strict=True)]
        events = [{"type": "conversation.item.input_audio_transcription.delta", "item_id": "item_1", "delta": "So "}]
        events += [{"type": "conversation.item.input_audio_transcription.delta", "item_id": "item_1", "delta": p}
                   for p in pieces]  # fmt: skip
        text = "\n".join(json.dumps(e) for e in events)
        out = redaction.redact(text)
        left = "".join(json.loads(line)["delta"] for line in out.splitlines())
        assert "[card" in left, text
        assert not re.search(r"\d", re.sub(r"\[card [^\]]*\]", "", left)), (text, out)


def test_a_card_split_over_two_recogniser_results() -> None:
    """Google's results list: the caller's number split over two results ("okay so it's 3622 72" and "0627
    1667 thanks."), each with its word list: one number with a pause in it, not a list of two numbers."""
    rng = random.Random("results")
    for case in range(CASES):
        pan = _card(rng, case)
        at = rng.randint(5, len(pan) - 5)
        head, tail = pan[:at], pan[at:]
        results = [
            {"alternatives": [{"transcript": f"okay so it's {' '.join(_four_groups(head))}", "confidence": 0.86,
                               "words": [{"startOffset": "41.6s", "word": w} for w in head.split()]}]},
            {"alternatives": [{"transcript": f"{' '.join(_four_groups(tail))} thanks.", "confidence": 0.88}]},
        ]  # fmt: skip
        text = json.dumps({"results": results})
        out = redaction.redact(text)
        transcripts = [r["alternatives"][0]["transcript"] for r in json.loads(out)["results"]]
        left = re.sub(r"\[card [^\]]*\]", "", " ".join(transcripts))
        assert "[card" in out, text
        assert not re.search(r"\d", left), (text, out)


@pytest.mark.parametrize("name", ["Neil", "Neil Patterson", "Dr. O'Neil"])
def test_webvtt_voice_tags_with_people_s_names(name: str) -> None:
    """WebVTT captions name speakers in voice tags ("<v Neil Patterson>"), whoever they are: each names a
    speaker, and the card read over several cues of one speaker is one number."""
    rng = random.Random("vtt " + name)
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        cues = ["WEBVTT", "", "1", "00:01:27.308 --> 00:01:29.170", "<v Dana>Okay, go ahead with the card number.", ""]
        for i, g in enumerate(groups):
            cues += [str(i + 2), f"00:01:{30 + 2 * i}.000 --> 00:01:{31 + 2 * i}.500", f"<v {name}>«{_words(rng, g)}»", ""]
        assert_card_gone("\n".join(cues))


def test_whisper_segments_with_their_timings_in_brackets() -> None:
    """Whisper's text output: each segment on its own line after "[00:21.268 --> 00:22.660]"; a card read over
    two segments is one number (the timings are not digits of it)."""
    rng = random.Random("whisper")
    for case in range(CASES):
        pan = _card(rng, case)
        at = rng.randint(4, len(pan) - 4)
        text = (
            "[00:14.499 --> 00:18.438]  Thank you for calling, how can I help?\n"
            f"[00:21.268 --> 00:22.660]  Yeah, it's «{_words(rng, pan[:at])}»\n"
            f"[00:22.660 --> 00:25.071]  «{_words(rng, pan[at:])}».\n"
        )
        assert_card_gone(text)


def test_thousands_separators_a_recogniser_wrote() -> None:
    """Inverse text normalisation writes groups as numbers with thousands separators: "4.951 0810 6.300 8.511"
    (a dot, as in much of Europe) or "4,951, 0810" (a comma). Decimals stay decimals ("0.005", "12.50")."""
    rng = random.Random("thousands")
    for case in range(CASES):
        pan = _card(rng, case)
        if len(pan) != 16 or "0" in (pan[0], pan[4], pan[8], pan[12]):
            continue
        groups = _four_groups(pan)
        dotted = " ".join(f"{g[0]}.{g[1:]}" if rng.random() < 0.7 else g for g in groups)
        assert_card_gone(f"Caller: Right, «{dotted}».")
    for _ in range(200):
        row = " ".join(f"{rng.randint(0, 9)}.{rng.randint(0, 999):03d}" for _ in range(5)) + " ms"
        if any(part.startswith("0.") for part in row.split()):
            assert_no_card(f"latency p50..p99 {row}")


@pytest.mark.parametrize("mark", ["[{t:.2f}]", "<|{t:.2f}|>"])
def test_word_times_written_inline(mark: str) -> None:
    """Word-level times written before or after each word ("[55.97]2272", Whisper's "<|25.28|>"): times, not
    digits of the card, and no break in it."""
    rng = random.Random("inline " + mark)
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        t = rng.uniform(10, 90)
        parts = ["Cust:"]
        for w in ["okay", "so", "it's", *groups, "thanks"]:
            t += rng.uniform(0.1, 0.4)
            stamp = mark.format(t=t)
            parts.append(f"{stamp}«{w}»" if w[0].isdigit() else f"{stamp}{w}")
        assert_card_gone(" ".join(parts))


def test_a_card_over_the_messages_of_an_llm_request() -> None:
    """An LLM request body logged with a system prompt and the caller's messages as content parts: each message
    with a role is a turn of its own (not another rendering of the system prompt), so the card read over them is
    one number. And "the one on file" is not a digit."""
    rng = random.Random("llm request")
    for case in range(CASES):
        groups = _four_groups(_card(rng, case))
        leads = ["my visa is ", "and ", "then ", ""]
        msgs: list[dict[str, object]] = []
        for i, g in enumerate(groups):
            tail = " is the one on file" if i == 0 else ""
            msgs.append({"role": "user", "content": [{"type": "text", "text": f"{leads[i]}{g}{tail}"}]})
            msgs.append({"role": "assistant", "content": [{"type": "text", "text": "Got it."}]})
        text = json.dumps({"model": "m", "system": "Role: billing agent. Be brief.", "messages": msgs}, indent=2)
        out = redaction.redact(text)
        said = [p["text"] for m in json.loads(out)["messages"] for p in m["content"] if m["role"] == "user"]
        assert not re.search(r"\d", re.sub(r"\[card [^\]]*\]", "", " ".join(said))), (text, out)


def test_a_slack_message_with_a_user_id_and_rich_text_runs() -> None:
    """A Slack message names its author by id ({"user": "U095C3DF32"}: not a turn the user said) and splits
    its text into rich-text runs (the card's groups in a code run and a plain one): the runs are read."""
    for pan in STRIPE_16:
        groups = _four_groups(pan)
        runs = [{"type": "text", "text": "card "}, {"type": "text", "text": " ".join(groups[:3]), "style": {"code": True}},
                {"type": "text", "text": " " + groups[3]}]  # fmt: skip
        msg = {"type": "message", "user": "U095C3DF32", "blocks": [{"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": runs}]}]}  # fmt: skip
        out = redaction.redact(json.dumps(msg))
        texts = [e["text"] for e in json.loads(out)["blocks"][0]["elements"][0]["elements"]]
        assert not re.search(r"\d", re.sub(r"\[card [^\]]*\]", "", "".join(texts))), out


def test_json_inside_json_inside_json() -> None:
    """A request body logged as a string inside a log record that is itself a string inside another ("\\\\n"
    between the groups after two levels of escaping)."""
    for pan in STRIPE_16:
        body = json.dumps({"card": {"number": "\n".join(_four_groups(pan)), "exp_month": 8}})
        record = json.dumps({"msg": "request body", "body": body})
        text = json.dumps({"host": "gw-1", "message": record})
        assert pan[:-4] not in re.sub(r"\D", "", re.sub(r"\[card [^\]]*\]", "", redaction.redact(text))), text


def test_a_long_number_phrase_before_an_aside_is_read_in_linear_work() -> None:
    """Hostile input: thousands of number words, an aside, a number. Looking for a group begun again reads at
    most the phrase's last eleven tokens (six digits), not every suffix of it: work grows with the text, not
    with its square (the first version read every suffix, 2 s for 3,000 words)."""
    from redaction import _spoken

    calls = 0
    real = _spoken._phrase_digits

    def counting(toks: list[str], k: int, stop: int) -> str:
        nonlocal calls
        calls += stop - k
        return real(toks, k, stop)

    text = "Caller: " + "one " * 3000 + ", hello there, one two"
    with mock.patch.object(_spoken, "_phrase_digits", counting):
        redaction.redact(text)
    assert calls < 200, calls


@pytest.mark.parametrize("labels", [("Speaker 1", "Speaker 0"), ("CUSTOMER", "UNKNOWN"), ("Caller", "Agent")])
def test_a_group_the_diariser_gave_to_the_other_speaker(labels: tuple[str, str]) -> None:
    """Diarisation errors: a group of the caller's card lands in a turn of its own under the other speaker's
    label, between two of the caller's pieces; with the card read back whole, that turn is card data too."""
    caller, other = labels
    rng = random.Random("diariser " + other)
    for case in range(CASES):
        pan = _card(rng, case)
        a, b = sorted(rng.sample(range(3, len(pan) - 3), 2))
        if b - a < 2:
            continue
        words = [DIGIT_WORDS[int(d)] for d in pan]
        text = (
            f"{other}: Whenever you're ready, the long number on the card.\n"
            f"{caller}: It's «{' '.join(words[:a])}»\n{other}: «{' '.join(words[a:b])}»\n"
            f"{caller}: «{' '.join(words[b:])}».\n{other}: Let me read that back. «{' '.join(_four_groups(pan))}»?\n"
            f"{caller}: Yes."
        )
        assert_card_gone(text)


def test_a_number_turn_between_two_other_numbers_stays() -> None:
    """A turn of digits between two numbers that are not one card (a phone and an order number) is not made card
    data by this rule: it needs two pieces of one card around it."""
    text = (
        "Agent: Your phone number?\nCaller: four one five, five five five\nAgent: two three\n"
        "Caller: sorry, it's one two three four, and the order is 8812 7734."
    )
    assert_no_card(text)


def test_a_long_digit_run_in_a_turn_between_two_pieces_of_a_card() -> None:
    """Hostile input for the diarisation rule: a line of many digits and then a letter, between two statements of
    one card. The test of "digits only" fails in one pass (the first version tried every way to cut the run,
    doubling its work per digit: 1.4 s at 22 digits; this line has 400)."""
    text = "Caller: 4242 4242 4242 4242\nAgent: " + "1" * 400 + "x\nCaller: 4242 4242 4242 4242"
    out = redaction.redact(text)
    assert out.count("[card visa ••4242]") == 2
    assert "1" * 400 + "x" in out
