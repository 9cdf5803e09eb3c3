"""Hypothesis properties: no card digits survive, redact is idempotent, streaming equals whole-text redaction."""

from __future__ import annotations

import itertools
import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import redaction
from benchmarks.redaction_corpus import BRAND_SPECS, FORMATS, card_sample, synth_pan

_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_FILLER = st.text(alphabet="abcdefghij klmnopqrstuvwxyz.,:;=!?\n", max_size=60)


@st.composite
def embedded_card(draw: st.DrawFn) -> tuple[str, str]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    label = draw(st.sampled_from(sorted(BRAND_SPECS)))
    fmt = draw(st.sampled_from(FORMATS))
    pan = synth_pan(rng, label)
    sample = card_sample(rng, pan, fmt, label)
    before, after = draw(_FILLER) + " ", " " + draw(_FILLER)
    text = before + sample.text + after
    # the digits of the text around the card (timestamps, cue numbers, JSON timings), the card cut out
    cut, pos = [], 0
    for start, end in sorted(sample.pans):
        cut.append(sample.text[pos:start] + "|")
        pos = max(pos, end)
    cut.append(sample.text[pos:])
    _BACKGROUND[text] = re.sub(r"[^0-9|]", "", before + "".join(cut) + after)
    return text, pan


# text -> digits of everything but the card ("|" where it was): a window found there proves nothing
_BACKGROUND: dict[str, str] = {}


def _digit_windows(pan: str) -> list[str]:
    n = 5  # any run of the card's digits longer than the last four
    return [pan[i : i + n] for i in range(len(pan) - n + 1)]


@_SETTINGS
@given(embedded_card())
def test_no_card_digit_sequence_longer_than_last4_survives(case: tuple[str, str]) -> None:
    text, pan = case
    out = redaction.redact(text)
    digits_only = re.sub(r"[^0-9]", "", re.sub(r"\[card[^\]]*\]", "|", out))
    background = _BACKGROUND.get(text, "")
    for window in _digit_windows(pan):
        assert window not in digits_only or window in background.replace("|", ""), (text, out)


@_SETTINGS
@given(embedded_card())
def test_redact_is_idempotent_on_cards(case: tuple[str, str]) -> None:
    once = redaction.redact(case[0])
    assert redaction.redact(once) == once


@_SETTINGS
@given(st.text(alphabet="0123456789 -./abc four two oh\n", max_size=120))
def test_redact_is_idempotent_on_digit_soup(text: str) -> None:
    once = redaction.redact(text)
    assert redaction.redact(once) == once


@st.composite
def chunked(draw: st.DrawFn) -> tuple[str, list[str]]:
    pieces = draw(st.lists(st.one_of(embedded_card().map(lambda c: c[0]), _FILLER, st.just(" " * 300)), max_size=4))
    text = "".join(pieces)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds)]


@_SETTINGS
@given(chunked())
def test_stream_redactor_equals_redact_for_any_chunking(case: tuple[str, list[str]]) -> None:
    text, chunks = case
    stream = redaction.StreamRedactor()
    out = "".join(stream.feed(c) for c in chunks) + stream.flush()
    assert out == redaction.redact(text)
