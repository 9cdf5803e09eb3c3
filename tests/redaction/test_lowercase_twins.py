"""The anchors' case-sensitive regex twins, run on ASCII text lower-cased once, match exactly where the
IGNORECASE originals match on the text itself (every literal in them is lower-case)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redaction import _engine

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_PIECES = [
    "CVV", "cvc2", "Security Code", "sec code", "Expires", "EXP", "exp date", "Valid Thru", "good through",
    "three digits on the back", "code on the back", "it's", "IT'S", "That's", "Um", "sorry", "Okay", "the",
    "FOUR", "Two", "oh", "O", "Double", "triple", "Forty", "nineteen", "Hundred", "AUGUST", "sept", "Dec.",
    "Agent:", "CALLER:", "caller 2:", "bot:", "\n", " ", "  ", ",", ".", "-", "/", ":", "'", "’", "[", "x",
    "08/26", "0826", "08 2026", "123", "4242", "1", "20", "é",
]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join).filter(str.isascii)

_TWINS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (_engine._KEYWORDS, _engine._KEYWORDS_LC),
    (_engine._SKIP, _engine._SKIP_LC),
    (_engine._EXP_MONTH, _engine._EXP_MONTH_LC),
    (_engine._NUMBER_WORD, _engine._NUMBER_WORD_LC),
    (_engine._NUMBER_START, _engine._NUMBER_START_LC),
]


@_SETTINGS
@given(_TEXT)
def test_twins_match_alike(text: str) -> None:
    low = text.lower()
    for ci, lc in _TWINS:
        assert [m.span() for m in ci.finditer(text)] == [m.span() for m in lc.finditer(low)]
        for pos in range(len(text) + 1):
            a, b = ci.match(text, pos), lc.match(low, pos)
            assert (a.span() if a else None) == (b.span() if b else None)


@_SETTINGS
@given(_TEXT)
def test_anchor_start_set_is_necessary(text: str) -> None:
    """Where an expiry or CVV can start in lower-cased text, its first character is in ``_ANCHOR_START_LC``."""
    low = text.lower()
    for pos in range(len(low)):
        if low[pos] in _engine._ANCHOR_START_LC:
            continue
        assert _engine._match_expiry(low, pos, True, None, _engine._PATS_LC) is None
        assert _engine._match_cvv(low, pos, None, _engine._PATS_LC) is None
