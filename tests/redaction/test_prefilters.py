"""The fast paths only skip work: results equal the full paths' on any text (pre-filters are supersets)."""

from __future__ import annotations

import json
import random
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import redaction
from benchmarks.redaction_corpus import BRAND_SPECS, FORMATS, card_sample, synth_pan
from redaction import _engine
from redaction._json import json_has_pan

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_PIECES = [
    "4242", "4242 4242", "5555", "2223", "0031", "378282", "6011", "3056", "1", "12", "123", "08/26", "0.0283",
    " ", "  ", "-", ".", "/", "%20", "%2D", "%2f", "+", "\n", ",", ":", "=", "#",
    "four", "two", "oh", "o", "double", "triple", "forty", "nineteen", "hundred", "and", "um", "sorry",
    "cvv", "security code", "expires", "exp", "August", "caller:", "agent:", "Caller 2:", "DE", "card=", "x",
]  # fmt: skip
_SOUP = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@st.composite
def _card_in_soup(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    label = draw(st.sampled_from(sorted(BRAND_SPECS)))
    sample = card_sample(rng, synth_pan(rng, label), draw(st.sampled_from(FORMATS)), label)
    return draw(_SOUP) + draw(st.sampled_from(["", " ", "\n"])) + sample.text + draw(_SOUP)


_TEXTS = st.one_of(_SOUP, _card_in_soup())


def _all_paths(text: str) -> int:
    return _engine._DIGITS | _engine._WORDS | _engine._KWS | _engine._JSON


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_triage_never_rules_out_a_finding(text: str) -> None:
    fast = redaction.scan(text)
    with mock.patch.object(_engine, "_triage", _all_paths):
        full = redaction.scan(text)
        full_pans = _engine.scan_pans(text)
    assert fast == full
    assert _engine.scan_pans(text) == full_pans


@_SETTINGS
@given(_TEXTS, st.integers(0, 200), st.integers(1, 160))
def test_anchor_windows_cut_from_whole_text_tokens_equal_fresh_tokens(text: str, pos: int, width: int) -> None:
    pos = min(pos, len(text))
    stop = min(len(text), pos + width)
    window = _engine._window(text, _engine._tokens(text), pos, stop)
    if window is not None:
        assert window == _engine._tokens(text, pos, stop)
        assert _engine._runs(text, window) == _engine._word_runs(text, pos, stop)


def _reference_luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@_SETTINGS
@given(st.text(alphabet="0123456789", max_size=24) | st.text(max_size=8))
def test_luhn_fast_path_equals_reference(digits: str) -> None:
    assert redaction.luhn_ok(digits) == _reference_luhn(digits)


def test_url_encoded_dash_and_slash_separators_are_caught() -> None:
    for sep in ("%2D", "%2d", "%2F", "%20"):
        text = f"card={sep.join(['4242', '4242', '4242', '4242'])}&x=1"
        assert [f.kind for f in redaction.scan(text)] == ["pan"], sep
        assert redaction.contains_card_number(text)


_BODY_VALUES = st.one_of(
    st.integers(0, 10**6),
    st.sampled_from(["4242", "4242 4242", "424242", "42424242", "0031", "requested_by_customer", "x@y.z", "08/26"]),
    st.text(alphabet="0123456789 -/abc", max_size=12),
)


@_SETTINGS
@given(
    st.one_of(st.dictionaries(st.sampled_from(["a", "b", "n", "amount", "pan"]), _BODY_VALUES, max_size=6),
              st.lists(_BODY_VALUES, max_size=6)),
    st.booleans(),
)  # fmt: skip
def test_contains_card_number_json_gate_equals_decoding_every_body(value: object, escape: bool) -> None:
    text = json.dumps(value)
    if escape:
        text = text.replace("/", "\\/")
    expected = bool(_engine.scan_pans(text)) or (
        sum(ch.isdigit() and ch.isascii() for ch in text) >= 12 and json_has_pan(json.loads(text))
    )
    assert redaction.contains_card_number(text) == expected


def test_contains_card_number_on_ordinary_action_bodies_and_split_fields() -> None:
    assert not redaction.contains_card_number(
        '{"email": "a@example.com", "amount": 1250, "reason": "requested_by_customer"}'
    )
    assert redaction.contains_card_number('{"a": "4242", "b": "4242", "c": "4242", "d": "4242"}')
    assert redaction.contains_card_number('{"n": ["4242\\/4242\\/4242\\/4242"]}')
    assert redaction.contains_card_number('{"n": "\\u0034242424242424242"}')
