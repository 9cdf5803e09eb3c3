"""Spoken numbers (``spoken_grammar``): no card digit beyond the last four survives; look-alikes are left alone."""

from __future__ import annotations

import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import redaction
from tests.redaction.spoken_grammar import TEENS, TENS, UNITS, spoken_card, spoken_lookalike

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SKIP = frozenset(
    [
        "uh",
        "um",
        "er",
        "hmm",
        "sorry",
        "okay",
        "let",
        "me",
        "see",
        "and",
        "so",
        "right",
        "caller",
        "agent",
        "mm",
        "hmm",
        "go",
        "on",
        "got",
        "it",
        "yes",
        "huh",
        "ahead",
        "no",
        "wait",
        "i",
        "mean",
        "actually",
        "scratch",
        "that",
    ]
)
_MARKER = re.compile(r"\[(?:card[^\]]*|cvv|expiry)\]")


def fold_spoken(text: str) -> str:
    """The digits a reader could still recover from ``text``, "|" where a number clearly ends."""
    toks = re.findall(r"[a-z]+|[0-9]+|\|", _MARKER.sub(" | ", text.lower()))
    out: list[str] = []
    k = 0
    while k < len(toks):
        t = toks[k]
        nxt = toks[k + 1] if k + 1 < len(toks) else ""
        if t.isdigit():
            out.append(t)
        elif t in UNITS or t in ("oh", "o"):
            out.append("0" if t in ("oh", "o") else str(UNITS.index(t)))
        elif t in TEENS:
            out.append(str(10 + TEENS.index(t)))
        elif t in TENS and t:
            out.append(str(TENS.index(t)) if nxt in UNITS[1:] else str(TENS.index(t)) + "0")
        elif t in ("double", "triple") and nxt in [*UNITS, "oh", "o"]:
            d = "0" if nxt in ("oh", "o") else str(UNITS.index(nxt))
            out.append(d * (2 if t == "double" else 3))
            k += 1
        elif t == "hundred":
            out.append("" if nxt and nxt in UNITS + TEENS + TENS + ["and"] else "00")
        elif t in _SKIP:
            pass
        else:
            out.append("|")
        k += 1
    return "".join(out)


def _leaks(pan: str, text: str) -> list[str]:
    folded = fold_spoken(text)
    body = pan[:-4]
    # any 5 consecutive digits of the card that reach into its first len-4 digits
    return [pan[i : i + 5] for i in range(len(body)) if i + 5 <= len(pan) and pan[i : i + 5] in folded]


@_SETTINGS
@given(spoken_card())
def test_no_spoken_card_digits_survive_redact(case: tuple[str, str]) -> None:
    text, pan = case
    out = redaction.redact(text)
    assert not _leaks(pan, out), (text, out)


@_SETTINGS
@given(spoken_card())
def test_gate_refuses_every_spoken_card(case: tuple[str, str]) -> None:
    text, _pan = case
    assert redaction.contains_card_number(text), text
    assert redaction.contains_card_number(json.dumps({"summary": text}))


@_SETTINGS
@given(spoken_lookalike())
def test_phones_amounts_dates_counts_are_not_cards(text: str) -> None:
    assert [f for f in redaction.scan(text) if f.kind == "pan"] == [], text
    assert not redaction.contains_card_number(text)


@_SETTINGS
@given(spoken_card(), st.lists(st.integers(0, 10_000), max_size=10))
def test_stream_equals_redact_on_spoken_transcripts(case: tuple[str, str], cuts: list[int]) -> None:
    text = case[0]
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    stream = redaction.StreamRedactor()
    out = "".join(stream.feed(text[a:b]) for a, b in itertools.pairwise(bounds)) + stream.flush()
    assert out == redaction.redact(text)


def test_fold_spoken_reads_the_grammar() -> None:
    assert fold_spoken("four two, uh, forty-two double oh five hundred") == "424200500"
    assert fold_spoken("[card visa ••4242] four") == "|4"


def test_recogniser_shapes_from_the_issue() -> None:
    # 4996 9298 2144 4427 (Luhn-valid, synthetic)
    cases = [
        "Caller: it is 4996 uh 9298 uh two one four four 4427",
        "Caller: forty-nine ninety-six, ninety-two ninety-eight, twenty-one forty-four, forty-four two seven",
        "Customer: 4996 9298\nAgent: mm-hmm, go on\nCustomer: 2144 4427",
        "SPEAKER_00: four nine nine six\nSPEAKER_01: uh-huh\nSPEAKER_00: nine two nine eight two one four four four four two seven",
        "Caller: four nine nine six nine two nine eight two one four four four four two one, sorry, four four two seven",
    ]
    for text in cases:
        out = redaction.redact(text)
        assert "[card visa ••4427]" in out, (text, out)
        assert not _leaks("4996929821444427", out), (text, out)
        assert redaction.contains_card_number(text)


def test_spoken_lookalikes_from_the_issue() -> None:
    for text in [
        "I called four times and paid seventy eight dollars and eighteen cents",
        "it was January first two thousand twenty five",
        "my number is five five five, one two three, four five six seven, and my zip is nine oh two one oh",
    ]:
        assert redaction.redact(text) == text
