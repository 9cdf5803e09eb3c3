"""The second round's formats (transcripts, subtitles, JSON transcripts, forms, HTML, arrays) through every face
of the detector: the request-body gate, the stream redactor and ``redact`` agree on them.

Texts come from ``benchmarks/redaction_corpus_world.py`` (development material written from a list of real-world
behaviours); card numbers are synthetic (a brand prefix, random digits, a computed Luhn digit).
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import redaction
from benchmarks.redaction_corpus import BRAND_SPECS, card_sample, covered, synth_pan
from benchmarks.redaction_corpus_world import WORLD, WORLD_DECOYS

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def world_card(draw: st.DrawFn) -> tuple[str, str, str]:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    label = draw(st.sampled_from(sorted(BRAND_SPECS)))
    fmt = draw(st.sampled_from(sorted(WORLD)))
    pan = synth_pan(rng, label)
    sample = card_sample(rng, pan, fmt, label)
    return sample.text, pan, fmt


@_SETTINGS
@given(world_card(), st.lists(st.integers(0, 10_000), max_size=8))
def test_stream_equals_redact_on_every_second_round_format(case: tuple[str, str, str], cuts: list[int]) -> None:
    text = case[0]
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    stream = redaction.StreamRedactor()
    out = "".join(stream.feed(text[a:b]) for a, b in itertools.pairwise(bounds)) + stream.flush()
    assert out == redaction.redact(text)


@_SETTINGS
@given(world_card())
def test_redact_is_idempotent_on_every_second_round_format(case: tuple[str, str, str]) -> None:
    once = redaction.redact(case[0])
    assert redaction.redact(once) == once


@pytest.mark.parametrize("fmt", sorted(WORLD))
def test_the_gate_refuses_what_scan_finds_in_format(fmt: str) -> None:
    """``contains_card_number`` (the action-body gate) sees every card ``scan`` redacts, in every format."""
    rng = random.Random(fmt)
    checked = 0
    for label in sorted(BRAND_SPECS):
        for _ in range(4):
            sample = card_sample(rng, synth_pan(rng, label), fmt, label)
            if covered(sample, [(f.start, f.end) for f in redaction.scan(sample.text)]):
                checked += 1
                assert redaction.contains_card_number(sample.text), sample.text
    assert checked >= 0.9 * 4 * len(BRAND_SPECS)


@pytest.mark.parametrize("cls", sorted(WORLD_DECOYS))
def test_second_round_decoys_pass_the_gate(cls: str) -> None:
    rng = random.Random(cls)
    texts = [WORLD_DECOYS[cls](rng) for _ in range(60)]
    flagged = [t for t in texts if redaction.contains_card_number(t)]
    assert len(flagged) <= (1 if cls == "conversation" else 0), flagged


def test_two_letters_before_a_card_are_not_an_iban() -> None:
    assert redaction.redact("CC4242424242424242") == "CC[card visa ••4242]"
    assert redaction.redact("MC5555555555554444") == "MC[card mastercard ••4444]"
    # IBANs (the registry's length for the country, or valid ISO 13616 check digits) stay as written
    for iban in ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "NL91ABNA0417164300"):
        assert redaction.scan(iban) == []


def test_a_card_in_invisible_tag_characters_is_found() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "4242 4242 4242 4242")
    out = redaction.redact(f"note{hidden} end")
    assert out == "note[card visa ••4242] end"
    assert redaction.contains_card_number(f"note{hidden} end")
