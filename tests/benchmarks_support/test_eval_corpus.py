"""Integrity of the evaluation corpus generator (benchmarks/redaction_eval_corpus.py), not of any detector.

The reading of spoken numbers here is written separately from the generator's own self-check: if the two
disagree on a rendering, the rendering is ambiguous and this test fails.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections import Counter
from urllib.parse import unquote

import pytest

from benchmarks.redaction_corpus import covered, luhn_valid, span_chars
from benchmarks.redaction_eval_corpus import BRAND_SPECS, DECOYS, FORMATS, STRIPE_TEST_NUMBERS, Sample, corpus

ONES = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9}  # fmt: skip
TEENS = {w: 10 + i for i, w in enumerate(("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                          "seventeen", "eighteen", "nineteen"))}  # fmt: skip
TENS = {w: 10 * (i + 2) for i, w in enumerate(("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
                                               "ninety"))}  # fmt: skip
REPEAT = {"double": 2, "triple": 3}
VOCAB = set(ONES) | set(TEENS) | set(TENS) | set(REPEAT) | {"hundred", "thousand", "and"}
TOKEN = re.compile(r"[^\W\d_]+|\d")


def _below_100(ws: list[str], i: int) -> tuple[int | None, int]:
    """A value 1..99 said as words starting at ws[i], or None."""
    if i >= len(ws):
        return None, i
    w = ws[i]
    if w in TEENS:
        return TEENS[w], i + 1
    if w in TENS:
        if i + 1 < len(ws) and ws[i + 1] in ONES and ONES[ws[i + 1]] > 0:
            return TENS[w] + ONES[ws[i + 1]], i + 2
        return TENS[w], i + 1
    if w in ONES and ONES[w] > 0 and not (i + 1 < len(ws) and ws[i + 1] in ("hundred", "thousand")):
        return ONES[w], i + 1
    return None, i


def _after_and(ws: list[str], i: int) -> tuple[int, int]:
    j = i + 1 if i < len(ws) and ws[i] == "and" else i
    v, k = _below_100(ws, j)
    return (v, k) if v is not None else (0, i)


def read(span_text: str) -> str:
    """Digits a listener hears in one true span: any script's digits, entities, %-escapes, number words."""
    ws = [t.lower() for t in TOKEN.findall(unquote(html.unescape(span_text)))]
    assert all(w in VOCAB for w in ws if not w.isdigit()), f"non-number word inside a card span: {span_text!r}"
    out = ""
    i = 0
    while i < len(ws):
        w = ws[i]
        if w.isdigit():
            out += str(unicodedata.digit(w))
            i += 1
        elif w in REPEAT:
            out += str(ONES[ws[i + 1]]) * REPEAT[w]
            i += 2
        elif w == "and":
            i += 1
        elif w in ONES and i + 1 < len(ws) and ws[i + 1] == "thousand":
            value = ONES[w] * 1000
            i += 2
            if i + 1 < len(ws) and ws[i] in ONES and ws[i + 1] == "hundred":
                value += ONES[ws[i]] * 100
                i += 2
            rest, i = _after_and(ws, i)
            out += f"{value + rest:04d}"
        else:
            small, j = _below_100(ws, i)
            if small is None:  # a zero word, or a unit before "hundred"
                small, j = ONES[w], i + 1
            if j < len(ws) and ws[j] == "hundred":
                rest, j = _after_and(ws, j + 1)
                width = 4 if small >= 10 else 3
                out += f"{small * 100 + rest:0{width}d}"
            else:
                out += f"{small:0{2 if w in TEENS or w in TENS else 1}d}"
            i = j
    return out


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return corpus(seed=11, per_cell=20)


def test_pan_spans_read_back_as_a_luhn_valid_card_of_12_to_19_digits(samples: list[Sample]) -> None:
    cards = [s for s in samples if s.pans]
    assert cards
    for s in cards:
        heard = "".join(read(s.text[a:b]) for a, b in s.pans)
        assert heard == s.digits, (s.fmt, s.brand, s.text)
        assert 12 <= len(heard) <= 19
        assert luhn_valid(heard)
        for a, b in s.pans:
            assert 0 <= a < b <= len(s.text)
            assert not s.text[a].isspace() and not s.text[b - 1].isspace(), repr(s.text[a:b])


def test_spans_are_ordered_disjoint_and_extras_lie_outside_them(samples: list[Sample]) -> None:
    for s in samples:
        spans = sorted(s.pans)
        assert spans == s.pans
        assert all(e1 <= a2 for (_a1, e1), (a2, _e2) in itertools.pairwise(spans))
        for a, b, kind in s.extras:
            assert kind in ("cvv", "expiry")
            assert all(b <= pa or a >= pb for pa, pb in s.pans)


def test_synthetic_numbers_lie_in_their_bucket_and_stripe_numbers_are_stripes(samples: list[Sample]) -> None:
    for s in samples:
        if not s.pans:
            continue
        if s.brand.startswith("stripe_"):
            assert STRIPE_TEST_NUMBERS[s.brand.removeprefix("stripe_")] == s.digits
            continue
        _brand, ranges, lengths = BRAND_SPECS[s.brand]
        assert len(s.digits) in lengths
        assert any(int(lo) <= int(s.digits[: len(lo)]) <= int(hi) for lo, hi in ranges), (s.brand, s.digits)


def test_decoys_carry_no_card_and_no_standalone_card_like_run(samples: list[Sample]) -> None:
    decoys = [s for s in samples if s.brand.startswith("decoy:")]
    assert decoys
    for s in decoys:
        assert s.pans == [] and s.digits == "" and s.extras == []
        for run in re.findall(r"(?<![0-9A-Za-z])\d{12,19}(?![0-9A-Za-z])", s.text):
            issuer = any(
                len(run) in lengths and any(int(lo) <= int(run[: len(lo)]) <= int(hi) for lo, hi in ranges)
                for _b, ranges, lengths in BRAND_SPECS.values()
            )
            assert not (issuer and luhn_valid(run)), (s.brand, s.text)


def test_every_format_brand_and_decoy_class_is_present(samples: list[Sample]) -> None:
    fmts = Counter(s.fmt for s in samples if s.pans)
    brands = Counter(s.brand for s in samples if s.pans)
    decoys = Counter(s.brand for s in samples if not s.pans)
    assert set(fmts) == set(FORMATS)
    assert set(brands) == set(BRAND_SPECS) | {f"stripe_{n}" for n in STRIPE_TEST_NUMBERS}
    assert set(decoys) == {f"decoy:{c}" for c in DECOYS}
    assert 5_000 <= len(samples) <= 16_000
    assert {len(s.digits) for s in samples if s.pans} == set(range(12, 20))


def test_a_seed_gives_the_same_corpus_and_another_seed_another(samples: list[Sample]) -> None:
    again = corpus(seed=11, per_cell=20)
    assert again == samples
    assert corpus(seed=12, per_cell=2) != corpus(seed=11, per_cell=2)


def test_the_shared_metrics_accept_the_true_spans(samples: list[Sample]) -> None:
    s = next(x for x in samples if len(x.pans) > 1)
    assert covered(s, s.pans)
    inside, total = span_chars(s, s.pans)
    assert inside == total > 0
    assert not covered(s, s.pans[:-1])
