"""The sinks matrix again, with a folding front-end put in front of the detector: proves the plumbing.

The detector now normalises (percent-decoding, decimal digits of any script, format characters, separator
runs) itself; this module was written before it did, to prove the boundaries independently of it, and still
does: it
wraps the current detector's public functions in a folding front-end (a test double of the coming
normalisation, nothing more: it maps every folded character back to its original span, so ``redact`` removes
the caller's original text) and installs it wherever the gateway and adapters call the detector. Then every
cell of the matrix, for every brand the current detector knows (Maestro 5600/5641 and Laser 6771/6799 are
brand-table gaps this double does not cover), must leave no trace: a failure here is a plumbing gap.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import redaction
from redaction import Finding
from tests.security.conftest import LiveStack, LogCapture
from tests.security.test_sinks_matrix import _BRAND, CELLS, Outcome, make_pan, run_matrix

_ccn: Callable[[str], bool] = redaction.contains_card_number
_scan: Callable[[str], list[Finding]] = redaction.scan
_redact: Callable[[str], str] = redaction.redact

_SEPARATOR = re.compile(r"[\s,\-+\u00ad\u2010-\u2015\u2212]")
_PERCENT_DIGIT = re.compile(r"%3([0-9])")


def fold(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The folded text and, for each of its characters, the span of the original it came from."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        m = _PERCENT_DIGIT.match(text, i) if ch == "%" else None
        if m:
            out.append(m.group(1))
            spans.append((i, i + 3))
            i += 3
            continue
        if ch.isdigit() and unicodedata.digit(ch, None) is not None:
            out.append(str(unicodedata.digit(ch)))
        elif unicodedata.category(ch) == "Cf":
            i += 1
            continue
        elif _SEPARATOR.match(ch):
            if out and out[-1] == " ":  # a run of separators is one
                spans[-1] = (spans[-1][0], i + 1)
                i += 1
                continue
            out.append(" ")
        else:
            out.append(ch)
        spans.append((i, i + 1))
        i += 1
    return "".join(out), spans


def contains_card_number(text: str) -> bool:
    return _ccn(text) or _ccn(fold(text)[0])


def scan(text: str) -> list[Finding]:
    found = list(_scan(text))
    folded, spans = fold(text)
    for f in _scan(folded):
        if f.kind == "pan" and f.end > f.start:
            found.append(Finding(spans[f.start][0], spans[f.end - 1][1], f.kind, f.brand, f.last4))
    return found


def redact(text: str) -> str:
    folded, spans = fold(text)
    pans = [f for f in _scan(folded) if f.kind == "pan" and f.end > f.start]
    for f in sorted(pans, key=lambda f: f.start, reverse=True):
        lo, hi = spans[f.start][0], spans[f.end - 1][1]
        text = text[:lo] + f"[card {f.brand or 'card'} ••{f.last4 or ''}]" + text[hi:]
    return _redact(text)


#: Every place the gateway, the adapters and the log filter call the detector (the front-end goes in each).
_CALLERS: dict[str, tuple[str, ...]] = {
    "gateway.dispatch": ("contains_card_number",),
    "gateway.store.guard": ("contains_card_number", "redact", "scan"),
    "adapters.stripe.models": ("contains_card_number", "redact"),
    "adapters.pcipal.callbacks": ("contains_card_number",),
    "gateway.webhooks": ("redact",),
    "gateway.actions.escalations": ("redact",),
    "gateway.logs": ("redact",),
    "redaction.logging": ("redact",),
    "redaction._json": ("redact",),
}
_DOUBLES: dict[str, Any] = {"contains_card_number": contains_card_number, "redact": redact, "scan": scan}


@pytest.fixture(scope="module")
def folding_detector() -> Iterator[None]:
    import importlib

    with pytest.MonkeyPatch.context() as mp:
        for module, names in _CALLERS.items():
            mod = importlib.import_module(module)
            for name in names:
                assert hasattr(mod, name), (module, name)  # a caller renamed: this list must follow
                mp.setattr(mod, name, _DOUBLES[name])
        yield


KNOWN_BRANDS = [b for b, (prefix, length) in _BRAND.items() if _ccn(make_pan(prefix, length, b))]
PLUMBING_CELLS = [c for c in CELLS if c[0] in KNOWN_BRANDS]


@pytest.fixture(scope="module")
def outcome(folding_detector: None, live: LiveStack, captured_logs: LogCapture) -> Outcome:
    return run_matrix(live, captured_logs, PLUMBING_CELLS)


def test_the_double_folds_every_encoding_of_the_matrix() -> None:
    from tests.security.test_sinks_matrix import ENCODINGS

    pan = "4242424242424242"
    for name, encode in ENCODINGS.items():
        text = f"card {encode(pan)} ok"
        assert contains_card_number(text), name
        assert "4242424242" not in fold(redact(text))[0].replace(" ", ""), name


def test_the_detector_knows_every_brand_of_the_matrix() -> None:
    # Maestro 5600/5641 and Laser 6771/6799 were brand-table gaps before the issuer table was rebuilt.
    assert sorted(set(_BRAND) - set(KNOWN_BRANDS)) == []


@pytest.mark.parametrize(("brand", "encoding", "sink"), PLUMBING_CELLS,
                         ids=[f"{s}-{b}-{e}" for b, e, s in PLUMBING_CELLS])
def test_no_trace_once_the_detector_sees_it(outcome: Outcome, brand: str, encoding: str, sink: str) -> None:
    cell = outcome.cells[f"{sink}-{brand}-{encoding}"]
    where = outcome.places[cell.id]
    assert not where, f"plumbing gap: {cell.id}: card digits in {', '.join(where)} (status {cell.status})"
