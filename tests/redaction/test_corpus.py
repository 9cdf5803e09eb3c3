"""Recall and precision on the generated corpus: every format x brand, plus every decoy class."""

from __future__ import annotations

from collections import defaultdict

import pytest

import redaction
from benchmarks.redaction_corpus import BRAND_SPECS, DECOYS, FORMATS, Sample, corpus, covered, span_chars
from benchmarks.redaction_corpus_world import WORLD

_CORPUS = corpus(seed=11, per_cell=12)
_CARDS = [s for s in _CORPUS if s.fmt != "decoy"]
_DECOYS = [s for s in _CORPUS if s.fmt == "decoy"]


def _all_spans(s: Sample) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in redaction.scan(s.text)]


def _recall(key: str) -> dict[str, tuple[int, int, list[str]]]:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    for s in _CARDS:
        bucket = getattr(s, key)
        hits[bucket][1] += 1
        if covered(s, _all_spans(s)):
            hits[bucket][0] += 1
        else:
            misses[bucket].append(s.text)
    return {k: (v[0], v[1], misses[k]) for k, v in hits.items()}


_BY_FORMAT = _recall("fmt")
_BY_BRAND = _recall("brand")


# The second round's formats (``benchmarks/redaction_corpus_world.py``) hold cases a reader can get wrong
# without a mistake in the code: an agent reading back "6052" after the caller said "sixty five two" (65 2 or
# 60 5 2?), hesitations inside a phrase, interim results cut in the middle of a phrase ("six hundred" before
# "six hundred fifty eight"). Each must stay at 95% or more (the fourth round's work took interim results from 88%
# to 98% and tabular transcripts from 93% to 100%), the first round's at 99% (a reading that needs three second
# readings, "forty two hundred" as 40 + 2 hundred, is not tried), and all formats together at 99.7% (99.88%
# measured in the fourth round, 99.44% in the third).
_WORLD_FLOOR: dict[str, float] = {}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_card_digit_is_redacted_in_format(fmt: str) -> None:
    found, total, misses = _BY_FORMAT[fmt]
    assert total > 0
    if fmt in WORLD:
        assert found / total >= _WORLD_FLOOR.get(fmt, 0.95), misses[:5]
    else:
        assert found / total >= 0.99, misses[:5]


def test_recall_over_all_formats_is_at_least_997() -> None:
    found = sum(v[0] for v in _BY_FORMAT.values())
    total = sum(v[1] for v in _BY_FORMAT.values())
    assert found / total >= 0.997


@pytest.mark.parametrize("brand", [*BRAND_SPECS, "stripe_visa", "stripe_mastercard2", "stripe_unionpay"])
def test_every_card_digit_is_redacted_for_brand(brand: str) -> None:
    found, total, misses = _BY_BRAND[brand]
    assert total > 0
    assert found / total >= 0.97, misses[:5]


def test_pan_findings_report_the_brand_and_last4() -> None:
    wrong = []
    for s in _CARDS:
        if s.fmt not in ("plain", "spaced", "dashed", "json", "glued"):
            continue
        pans = [f for f in redaction.scan(s.text) if f.kind == "pan"]
        expected = BRAND_SPECS[s.brand][0] if s.brand in BRAND_SPECS else None
        if len(pans) != 1 or pans[0].last4 != s.digits[-4:] or (expected and pans[0].brand != expected):
            wrong.append((s.text, pans))
    assert wrong == []


def test_span_precision_of_pan_findings_is_at_least_095() -> None:
    inside = total = 0
    for s in _CARDS:
        a, b = span_chars(s, [(f.start, f.end) for f in redaction.scan(s.text) if f.kind == "pan"])
        inside += a
        total += b
    assert total > 0
    assert inside / total >= 0.95


def test_cvv_and_expiry_next_to_a_card_are_redacted() -> None:
    missed = []
    for s in _CARDS:
        findings = redaction.scan(s.text)
        for start, end, kind in s.extras:
            if not any(f.start <= start and f.end >= end for f in findings):
                missed.append((kind, s.text))
    assert sum(len(s.extras) for s in _CARDS) > 100
    assert missed == []


# Phone numbers, order numbers and amounts read out in a conversation: each reading is a digit string, and a
# few of the many readings of a long exchange pass Luhn and an issuer range. At most 2% may be flagged.
_SPOKEN_DECOY_FLOOR = {"world_conversation": 0.02}


@pytest.mark.parametrize("cls", list(DECOYS))
def test_no_false_positive_on_decoy_class(cls: str) -> None:
    samples = [s for s in _DECOYS if s.brand == f"decoy:{cls}"]
    assert len(samples) >= 50
    flagged = [(s.text, redaction.scan(s.text)) for s in samples if redaction.scan(s.text)]
    if cls in _SPOKEN_DECOY_FLOOR:
        assert len(flagged) <= _SPOKEN_DECOY_FLOOR[cls] * len(samples), flagged
        return
    assert flagged == []
    assert not any(redaction.contains_card_number(s.text) for s in samples)
