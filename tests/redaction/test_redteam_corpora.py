"""Floors on the two red-team generators (development material, written by sessions that never read the
detector): ``benchmarks/redaction_redteam_spoken.py`` (card numbers repeated, read back, corrected over a call)
and ``benchmarks/redaction_redteam_text.py`` (cards in logs, markup, JSON exports, keypad tones). A fixed sample
keeps overall recall above a floor, the families that are whole today whole, and the card-free controls under a
ceiling.

Recall here is the generators' own: every digit and number word of every marked stretch inside a finding.
"""

from __future__ import annotations

from collections import Counter

import pytest

import redaction
from benchmarks import redaction_redteam_spoken as spoken
from benchmarks import redaction_redteam_text as text
from benchmarks.redaction_corpus import Sample, covered

PER_FAMILY = 15
SEED = 7


def _results(samples: list[object]) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    controls: Counter[str] = Counter()
    for s in samples:
        fmt, body, pans = s.fmt, s.text, s.pans  # type: ignore[attr-defined]
        found = redaction.scan(body)
        if not pans:
            controls[fmt] += 1
            flagged[fmt] += any(f.kind == "pan" for f in found)
            continue
        total[fmt] += 1
        hit[fmt] += covered(Sample(text=body, fmt=fmt, brand="", pans=pans), [(f.start, f.end) for f in found])
    return hit, total, flagged, controls


@pytest.fixture(scope="module")
def spoken_results() -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    return _results(list(spoken.corpus(SEED, PER_FAMILY)))


@pytest.fixture(scope="module")
def text_results() -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    return _results(list(text.corpus(SEED, PER_FAMILY)))


# Families whole (100%) when the floors were set; the others are reported, with the overall floor.
SPOKEN_WHOLE = ["agent_readback_caller_confirms", "caller_repeats_one_group_on_request", "each_group_said_twice",
                "partial_interrupted_then_whole", "repeat_whole_after_agent_asks", "restart_from_beginning",
                "self_correction_mid_number", "voicebot_chunked_capture"]  # fmt: skip
TEXT_WHOLE = ["access_log", "angle_bracket_reprs", "dtmf_events", "html_digit_entities", "json_split_fields",
              "sep_html_entity", "session_replay_input", "stack_trace", "transcript_alternatives",
              "url_encoded", "xml_split"]  # fmt: skip


def test_spoken_red_team_recall(spoken_results: tuple[Counter[str], ...]) -> None:
    """Measured 92.9% (seed 7, 15 per family; 89.8% before this round's repeat work)."""
    hit, total, _flagged, _controls = spoken_results
    assert sum(hit.values()) / sum(total.values()) >= 0.90, {f: f"{hit[f]}/{total[f]}" for f in total}
    lost = [f for f in SPOKEN_WHOLE if hit[f] < total[f]]
    assert not lost, lost


def test_text_red_team_recall(text_results: tuple[Counter[str], ...]) -> None:
    """Measured 92.7% (seed 7, 15 per family; 82.3% before this round)."""
    hit, total, _flagged, _controls = text_results
    assert sum(hit.values()) / sum(total.values()) >= 0.90, {f: f"{hit[f]}/{total[f]}" for f in total}
    lost = [f for f in TEXT_WHOLE if hit[f] < total[f]]
    assert not lost, lost


def test_red_team_controls_stay_quiet(
    spoken_results: tuple[Counter[str], ...], text_results: tuple[Counter[str], ...]
) -> None:
    """Card-free look-alikes: a phone number asked for again and read back was flagged in half the calls before
    this round (now about 1 in 20). Measured: 11.1% of the spoken controls here, 12% at 40 a family (ids echoed
    group by group and read back, several numbers in one turn); 2.4% of the written ones."""
    for results, ceiling in ((spoken_results, 0.16), (text_results, 0.05)):
        _hit, _total, flagged, controls = results
        rate = sum(flagged.values()) / sum(controls.values())
        assert rate <= ceiling, {f: f"{flagged[f]}/{controls[f]}" for f in controls if flagged[f]}
    _h, _t, flagged, controls = spoken_results
    assert flagged["decoy_phone_repeat"] / controls["decoy_phone_repeat"] <= 0.15
