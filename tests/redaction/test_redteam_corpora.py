"""Floors on the four red-team generators (development material, written by sessions that never read the
detector): ``benchmarks/redaction_redteam_spoken.py`` (card numbers repeated, read back, corrected over a call)
and ``benchmarks/redaction_redteam_text.py`` (cards in logs, markup, JSON exports, keypad tones), and the fifth
round's ``redaction_redteam_spoken2.py`` (recogniser output formats, disfluencies) and ``redaction_redteam_text2.py``
(separators, encodings, log and message formats). A fixed sample
keeps overall recall above a floor, the families that are whole today whole, and the card-free controls under a
ceiling.

Recall here is the generators' own: every digit and number word of every marked stretch inside a finding.
"""

from __future__ import annotations

from collections import Counter

import pytest

import redaction
from benchmarks import redaction_redteam_spoken as spoken
from benchmarks import redaction_redteam_spoken2 as spoken2
from benchmarks import redaction_redteam_text as text
from benchmarks import redaction_redteam_text2 as text2
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


@pytest.fixture(scope="module")
def spoken2_results() -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    return _results(list(spoken2.corpus(SEED, PER_FAMILY)))


@pytest.fixture(scope="module")
def text2_results() -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    return _results(list(text2.corpus(SEED, PER_FAMILY)))


# Families whole (100%) when the floors were set; the others are reported, with the overall floor.
SPOKEN_WHOLE = ["agent_echoes_every_group", "agent_echoes_some_groups", "agent_partial_readback_asks_rest",
                "agent_readback_caller_confirms", "caller_repeats_one_group_on_request", "caller_self_checks_reads_again",
                "card_expiry_cvv_with_repeats", "double_triple_oh_nought", "each_group_said_twice",
                "ivr_bot_reprompt_confirm", "partial_interrupted_then_whole", "raw_asr_lowercase_repeat",
                "read_off_card_agent_chunks", "repeat_whole_after_agent_asks", "repeat_whole_different_grouping",
                "repeat_whole_faster_or_slower", "restart_from_beginning", "restart_from_previous_group",
                "self_correction_mid_number", "split_over_caller_turns", "timestamped_segments_split",
                "voicebot_chunked_capture"]  # fmt: skip
TEXT_WHOLE = ["access_log", "angle_bracket_reprs", "bot_slots", "chat_markdown", "csv_tsv", "dtmf_events",
              "email_text", "form_split_fields", "html_digit_entities", "html_markup_inside", "json_double_encoded",
              "json_in_log", "json_split_fields", "kv_logfmt", "other_lang_dumps", "python_repr", "sep_ascii_ws",
              "sep_html_entity", "sep_unicode_space", "session_replay_input", "sql_log", "stack_trace",
              "syslog_journald", "track_iso8583", "transcript_alternatives", "transcript_events_jsonl",
              "transcript_messages", "transcript_segments", "transcript_spoken", "transcript_words_digit",
              "transcript_words_group", "unicode_digits", "url_encoded", "wrapped_lines", "xml_split", "yaml_doc"]  # fmt: skip
SPOKEN2_WHOLE = ["amex_diners_grouping", "aws_transcribe_items_json", "azure_nbest_four_forms",
                 "backchannel_splits_group", "caller_cardinal_groupings", "deepgram_words_json", "disfluency_repairs",
                 "google_results_split", "hyphenated_digit_words", "itn_thousands_separators",
                 "mid_number_interjection", "nineteen_digit_card", "read_in_pairs", "realtime_api_deltas",
                 "regional_treble_naught_zed", "slot_filling_logs", "spanish_english_code_switching",
                 "webvtt_cues"]  # fmt: skip
TEXT2_WHOLE = ["csv_tsv_quoted", "curl_httpie", "escaped_seps_in_logs", "graphql_requests", "har_entries",
               "html_entity_seps", "script_digits_mixed", "sep_invisible_format", "sep_line_controls",
               "sep_unicode_spaces", "spreadsheet_cells", "url_encoded_seps", "xml_soap"]  # fmt: skip


def _floor(results: tuple[Counter[str], ...], floor: float, whole: list[str]) -> None:
    hit, total, _flagged, _controls = results
    assert sum(hit.values()) / sum(total.values()) >= floor, {f: f"{hit[f]}/{total[f]}" for f in total}
    lost = [f for f in whole if hit[f] < total[f]]
    assert not lost, lost


def test_spoken_red_team_recall(spoken_results: tuple[Counter[str], ...]) -> None:
    """Measured 95.7% (seed 7, 15 per family; 89.8% before the fourth round, 92.9% after it)."""
    _floor(spoken_results, 0.94, SPOKEN_WHOLE)


def test_text_red_team_recall(text_results: tuple[Counter[str], ...]) -> None:
    """Measured 95.5% (seed 7, 15 per family; 82.3% before the fourth round, 92.7% after it)."""
    _floor(text_results, 0.93, TEXT_WHOLE)


def test_second_spoken_red_team_recall(spoken2_results: tuple[Counter[str], ...]) -> None:
    """The fifth round's spoken generator (recogniser formats, disfluencies): 90.3% (seed 7, 15 per family; 77.0%
    when it arrived)."""
    _floor(spoken2_results, 0.88, SPOKEN2_WHOLE)


def test_second_text_red_team_recall(text2_results: tuple[Counter[str], ...]) -> None:
    """The fifth round's written generator (separators, encodings, log and message formats): 87.7% (seed 7, 15
    per family; 79.7% when it arrived)."""
    _floor(text2_results, 0.85, TEXT2_WHOLE)


def test_red_team_controls_stay_quiet(
    spoken_results: tuple[Counter[str], ...],
    text_results: tuple[Counter[str], ...],
    spoken2_results: tuple[Counter[str], ...],
    text2_results: tuple[Counter[str], ...],
) -> None:
    """Card-free look-alikes: a phone number asked for again and read back was flagged in half the calls before
    the fourth round (now about 1 in 20). Measured: 12.6% of the first spoken generator's controls here (ids
    echoed group by group and read back, several numbers in one turn); 2.8% of the first written one's; 1.3% and
    1.2% of the second generators' (15-digit order numbers that pass Luhn with a UATP "1" are cards by any
    test)."""
    for results, ceiling in ((spoken_results, 0.16), (text_results, 0.05), (spoken2_results, 0.05), (text2_results, 0.05)):
        _hit, _total, flagged, controls = results
        rate = sum(flagged.values()) / sum(controls.values())
        assert rate <= ceiling, {f: f"{flagged[f]}/{controls[f]}" for f in controls if flagged[f]}
    _h, _t, flagged, controls = spoken_results
    assert flagged["decoy_phone_repeat"] / controls["decoy_phone_repeat"] <= 0.15
