"""The pre-check (``_triage``) and the digit-path check ``scan`` adds: fast forms equal their exact forms.

- ``_triage`` (Aho-Corasick rule-out, then exact tests) returns the very flags of the pre-check as it was
  written before it (``_reference_triage`` below, verbatim but for its name), on any text.
- Its parts equal what they replace (``_hint_in_run`` is ``_PAN_HINT.search`` on a digit run).
- When the pre-check and ``_digit_pan_possible`` rule a path out, the full path (every flag) finds nothing:
  ``scan`` equals ``scan`` with both forced open.
"""

from __future__ import annotations

import random
import re
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import redaction
from benchmarks.redaction_corpus import BRAND_SPECS, FORMATS, card_sample, synth_pan
from redaction import _engine
from redaction._views import TEXT_MEMBER_WITH_DIGIT

# The issuer-prefix regex the table lookup (``_hint_in_run``) replaced: the reference for it.
_PAN_HINT = re.compile(_engine._hint_pattern(_engine.prefix_min_lengths()).encode())

_SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference_triage(text: str) -> int:
    """The pre-check without the automaton, written plainly: the reference for the flags. (The rules of commit
    80c056e, plus the second round's: form fields and tuple/set openers as JSON pieces, subtitle timings and
    one-line turn headers as reasons to read words; the third's: a JSON text key.)"""
    e = _engine
    raw = text.encode() if text.isascii() else text.encode("utf-8", "surrogatepass")
    digits = e._PCT_SEP.sub(b"", raw) if 37 in raw else raw
    flags = (
        e._DIGITS
        if digits.translate(e._DIG_TABLE, e._DIG_DELETE).find(e._TWELVE) >= 0
        and _PAN_HINT.search(digits.translate(e._KEEP_TABLE, e._DIG_DELETE))
        else 0
    )
    form = b"&" in raw and b"=" in raw
    jt = raw.translate(e._JSON_TABLE, b" \t\r\n") if 34 in raw or 39 in raw or 91 in raw or form else b""
    pieces = sum(jt.count(p) for p in (b'":0', b'":"0', b"[0", b'["0', b"(0", b'("0', b"{0"))
    # (a piece holds a quote followed by ":", "=" or ",", a "[", or a form field)
    has_piece = 91 in raw or form or e._QUOTE_SEP.search(raw) is not None or b"form-data" in raw
    many_digits = len(raw.translate(None, e._NON_DIGITS)) >= 12
    # (this round: a JSON text member with a digit, "text": "4242 ...", and 12+ digits: a transcript kept as JSON)
    text_key = TEXT_MEMBER_WITH_DIGIT.search(text) is not None
    # (this session: "=>" members, PHP's print_r "[cc1] => 4242" and Ruby's '"cc1" => "4242"')
    arrows = len(re.findall(rb"""[\]"'][ \t]*=>[ \t]*["']?[0-9]""", raw))
    # (and multipart form parts whose value starts with a digit)
    part = rb'form-data;[ \t]*name="[^"\r\n]{1,60}"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n){0,3}\r?\n[0-9]'
    parts = len(re.findall(part, raw, re.IGNORECASE))
    if has_piece and (pieces >= 2 or (form and jt.count(b":0") >= 2) or text_key or arrows >= 2 or parts >= 2) and many_digits:
        flags |= e._JSON
    words = raw.translate(e._WORD_TABLE).split()
    if 10 in raw:
        if b"-->" in raw and many_digits:
            flags |= e._WORDS
        elif e._ANY_WORDS.isdisjoint(words):
            return flags
        if not e._TRIGGER_WORDS.isdisjoint(words) or not e._LABEL_WORDS.isdisjoint(words):
            flags |= e._WORDS
        # (this session: keypad tone events, "RECV DTMF 4:1280", over several lines)
        if not e._DTMF_WORDS.isdisjoint(words) and many_digits:
            flags |= e._DTMF
    else:
        if not e._LINE_LABEL_WORDS.isdisjoint(words) and many_digits and e._LINE_LABEL.search(raw):
            flags |= e._WORDS
        elif e._LINE_WORDS.isdisjoint(words):
            return flags
        if not e._TRIGGER_WORDS.isdisjoint(words):
            flags |= e._WORDS
    if not e._KEYWORD_WORDS.isdisjoint(words):
        flags |= e._KWS
    return flags


# Pieces that reach every branch: digits and separators of every kind (ASCII, NBSP, dashes, URL-encoded), number
# words, keywords and labels in any case and glued to digits or punctuation, quotes and brackets (JSON pieces),
# line breaks, non-ASCII letters and digits, and ordinary log words.
_WORDS = sorted(w.decode() for w in _engine._ANY_WORDS)
_PIECES = [
    "4242", "4242 4242", "5555", "2223", "0031", "378282", "6011", "3056", "1", "12", "123", "0", "9", "08/26",
    "0.0283", "502 2438 0.3967s", "10.0.63.114", "2025-07-14T02:15:35.434Z", "1e27a1c0-8a6a-43ec", "pi_3fa2b9c1",
    " ", "  ", "-", ".", "/", "_", "+", ",", ":", "=", "#", "\t", "\n", "\r\n", "%20", "%2D", "%2f", "%41", "%",
    "\u00a0", "\u2013", "\u2014", "\u0664", "\uff14", "é", "Straße", "\ud800",
    '"', "'", "[", "]", "{", "}", '":', '": "', "': ", "=[", '["', ", ",
    "x", "tenant", "phone", "done", "often", "Oh", "O", "ONE", "Caller:", "agent:", "Caller 2:", "DE", "card=",
    "&", "cc1=", "(", ")", "-->", "Cust:", "Speaker 2 (01:17):", "uh", "um", "\x1e", ";",
    "=>", " => ", "[cc1] => ", '"cc1" => "', "DTMF ", "Digit: ", 'form-data; name="cc1"', "\r\n\r\n",
    # (this session: groups begun again, "77... 7798"; track data, ISO 8583 and EMV TLV fields)
    "...", " - ", "77", "7798", "sorry", "hang on", "%B", "^", "D", "=2512101", "5A08", "0200", "7234054128C28805",
]  # fmt: skip
_TOKEN = st.one_of(st.sampled_from(_PIECES), st.sampled_from(_WORDS), st.sampled_from(_WORDS).map(str.upper))
_SOUP = st.lists(_TOKEN, max_size=40).map("".join)


@st.composite
def _card_in_soup(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    label = draw(st.sampled_from(sorted(BRAND_SPECS)))
    sample = card_sample(rng, synth_pan(rng, label), draw(st.sampled_from(FORMATS)), label)
    return draw(_SOUP) + draw(st.sampled_from(["", " ", "\n", '"', "0"])) + sample.text + draw(_SOUP)


_TEXTS = st.one_of(_SOUP, _card_in_soup(), st.text(max_size=60))


@_SETTINGS
@given(_TEXTS)
def test_triage_equals_the_reference_flags(text: str) -> None:
    assert _engine._triage(text) == _reference_triage(text)


@_SETTINGS
@given(_TEXTS)
def test_triage_without_the_automaton_equals_the_reference_flags(text: str) -> None:
    with mock.patch.object(_engine, "_LINE_FINDER", None), mock.patch.object(_engine, "_ANY_FINDER", None):
        assert _engine._triage(text) == _reference_triage(text)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=12, max_size=40), st.sampled_from(["", "x", "xx1x"]))
def test_hint_in_run_equals_the_prefix_regex(run: str, before: str) -> None:
    keep = (before + run + "x").encode()
    pos, end = len(before), len(before) + len(run)
    assert _engine._hint_in_run(keep, pos, end) == bool(_PAN_HINT.search(keep, pos, end))


def _open(text: str) -> int:
    return _engine._DIGITS | _engine._WORDS | _engine._KWS | _engine._JSON


@_SETTINGS
@given(_TEXTS)
def test_what_the_checks_rule_out_the_full_paths_do_not_find(text: str) -> None:
    fast = redaction.scan(text)
    norm, _omap = redaction.normalize_for_detection(text)  # what ``scan`` checks
    if not _engine._triage(norm):
        assert fast == []
    with (
        mock.patch.object(_engine, "_triage", _open),
        mock.patch.object(_engine, "_digit_pan_possible", return_value=True),
    ):
        assert redaction.scan(text) == fast
        if not _engine._digit_pan_possible(norm):
            assert _engine._digit_pans(norm) == []


def test_ordinary_log_lines_are_ruled_out_by_the_automaton_alone() -> None:
    lines = [
        "2025-04-02T17:54Z INFO gateway.actions tenant=acme action=refund.create "
        "request_id=1e27a1c0-8a6a-43ec-a4ed-e6a46b4cb242 amount=74930 currency=usd outcome=SUCCEEDED duration_ms=316",
        "2025-04-02T17:54Z WARNING gateway.notify delivery to https://bot.example.com/hooks failed: timeout after "
        "12s, retry 3 of 8 scheduled in 345s",
    ]
    for line in lines:
        assert _engine._LINE_FINDER is not None
        padded = b" " + line.encode().translate(_engine._FAST_TABLE) + b" "
        assert _engine._LINE_FINDER.find_matches_as_indexes(padded) == []
        assert _engine._triage(line) == 0


def test_words_glued_to_digits_or_quotes_and_labels_on_many_lines_are_seen() -> None:
    assert _engine._triage("card 4one2") & _engine._WORDS
    assert _engine._triage('"four"') & _engine._WORDS
    assert _engine._triage("Oh") & _engine._WORDS
    assert _engine._triage("cvv:") & _engine._KWS
    assert not _engine._triage("agent: hello")  # one line: labels do not count
    assert _engine._triage("hello\nagent: hi") & _engine._WORDS
    assert _engine._triage("4242%2D4242%2D4242%2D4242") & _engine._DIGITS
