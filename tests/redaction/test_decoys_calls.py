"""Precision on card-free calls, notes, logs and tables full of numbers (phone numbers read out and back, order
numbers, amounts, dates, ids; ``benchmarks/redaction_decoys_calls.py``): a text with a "pan" finding is a false
positive. A fixed sample (seed 2, 200 texts per kind, the benchmark's defaults) keeps the overall rate under a
ceiling and the kinds that are quiet today quiet.
"""

from __future__ import annotations

import pytest

import redaction
from benchmarks.redaction_decoys_calls import KINDS, samples

SEED = 2
PER_KIND = 200
MAX_OVERALL = 0.04  # measured 2.98% (298 of 10000 texts) in the third round, 2.40% in the fourth
MAX_QUIET = 0.02
# Kinds at 0-1% when MAX_OVERALL was measured.
QUIET_KINDS = [
    "address_spoken",
    "agent_dictates_callback",
    "agent_gives_hours_and_number",
    "agent_phone_then_case",
    "amounts_spoken",
    "callers_two_people",
    "chat_log",
    "confirmation_codes",
    "dob_zip",
    "flight_booking",
    "html_table",
    "ivr_dtmf",
    "multi_turn_short_numbers",
    "notes_phones",
    "pharmacy_ids",
    "phone_caller_then_agent_readback_then_zip",
    "phone_readback_uk",
    "phone_repeated",
    "phone_split_turns",
    "phone_then_birthday",
    "quantities_items",
    "speaker_ids",
    "srt_numbers",
    "ssn_last4_phone",
    "store_hours_prices",
    "timestamped_lines",
    "years_counts",
]


@pytest.fixture(scope="module")
def flagged() -> dict[str, list[str]]:
    """For every kind, its texts that have a "pan" finding."""
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for kind, _style, text in samples(SEED, PER_KIND):
        if any(f.kind == "pan" for f in redaction.scan(text)):
            out[kind].append(text)
    return out


def _shortest(texts: list[str], n: int = 3) -> str:
    return "\n---\n".join(sorted(texts, key=len)[:n])


def test_overall_false_positive_rate(flagged: dict[str, list[str]]) -> None:
    total = PER_KIND * len(KINDS)
    fps = sum(len(texts) for texts in flagged.values())
    worst = sorted(flagged, key=lambda k: -len(flagged[k]))[:5]
    assert fps / total <= MAX_OVERALL, f"{fps} of {total} flagged; worst kinds: " + ", ".join(
        f"{k} {len(flagged[k])}" for k in worst
    )


@pytest.mark.parametrize("kind", QUIET_KINDS)
def test_quiet_kind_stays_quiet(flagged: dict[str, list[str]], kind: str) -> None:
    texts = flagged[kind]
    assert len(texts) <= MAX_QUIET * PER_KIND, f"{len(texts)} of {PER_KIND} flagged:\n{_shortest(texts)}"
