"""Card numbers in written forms a red-team generator (``benchmarks/redaction_redteam_text.py``, written without
reading the detector) found missed: keypad tones logged one per line, HTML spelt by JSON escapes, Python
reprs, comments between groups, a Japanese long-vowel mark used as a dash.

Card numbers are Stripe's public test numbers or synthetic (a brand prefix, random digits, a Luhn digit).
"""

from __future__ import annotations

import json
import random
import re

import pytest

from benchmarks.redaction_corpus import luhn_digit
from redaction import contains_card_number, redact, scan

STRIPE = ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117", "3566002020360505"]


def _left(text: str) -> str:
    """The redacted text without its markers ("[card visa ••4242]" keeps the last four, as it should)."""
    return re.sub(r"\[(?:card|cvv|expiry)[^\]]*\]", "", redact(text))


def _groups(digits: str) -> list[str]:
    return [digits[i : i + 4] for i in range(0, len(digits), 4)]


def _freeswitch(keys: str) -> str:
    return "".join(
        f"2024-11-01 19:49:{10 + i:02d}.121988 [DEBUG] switch_rtp.c:7831 RFC2833 RECV DTMF {k}:{800 + 160 * (i % 4)}\n"
        for i, k in enumerate(keys)
    )


def _asterisk(keys: str) -> str:
    return "".join(
        f"Event: DTMFEnd\r\nChannel: PJSIP/trunk-000000{i:02x}\r\nUniqueid: 1705844177.100\r\nDigit: {k}\r\n"
        f"DurationMs: 120\r\nDirection: Received\r\n\r\n"
        for i, k in enumerate(keys)
    )


def _twilio(keys: str) -> str:
    return "".join(
        json.dumps(
            {
                "event": "dtmf",
                "streamSid": "MZ669f9f0292d2a8c48e902cc76f4d08c0",
                "sequenceNumber": str(40 + 7 * i),
                "dtmf": {"track": "inbound_track", "digit": k},
            }
        )
        + "\n"
        for i, k in enumerate(keys)
    )


def _console(keys: str) -> str:
    return "".join(
        f"[Nov 29 10:00:{i:02d}] DTMF end '{k}' received on PJSIP/trunk-00000043\n" for i, k in enumerate(keys)
    )


LOGS = {
    "freeswitch": _freeswitch,
    "asterisk_ami": _asterisk,
    "twilio_media_stream": _twilio,
    "asterisk_console": _console,
}


@pytest.mark.parametrize("log", sorted(LOGS))
@pytest.mark.parametrize("pan", STRIPE)
@pytest.mark.parametrize("after", ["", "#", "0827#", "123"])
def test_a_card_keyed_on_the_keypad_and_logged_one_tone_per_line(log: str, pan: str, after: str) -> None:
    """Each tone event is a line (or a block); the card is the keys in a row, maybe followed by "#", an expiry or
    a CVV. Every key of the card is redacted."""
    text = LOGS[log](pan + after)
    found = [f for f in scan(text) if f.kind == "pan"]
    assert len(found) == len(pan), redact(text)
    assert all(text[f.start : f.end] in "0123456789" for f in found)
    assert pan[:-4] not in "".join(c for c in _left(text) if c.isdigit())
    assert contains_card_number(text)


def test_keypad_ids_that_are_not_cards_are_left_alone() -> None:
    """Account numbers and long ids keyed as tones: only all the keys, or a card's length before 3-7 more keys,
    are read as a card, so a 16-digit id failing Luhn keeps every key (no window of it passes by chance)."""
    rng = random.Random("dtmf-ids")
    flagged = 0
    for _ in range(200):
        while True:
            body = "".join(rng.choice("0123456789") for _ in range(rng.choice([10, 14, 16, 17, 18])))
            if luhn_digit(body[:-1]) != body[-1]:
                break
        for log in LOGS.values():
            flagged += any(f.kind == "pan" for f in scan(log(body)))
    assert flagged <= 8, (
        flagged
    )  # (a 12-19 digit id whose every window fails: only the whole may pass, 1 in 10 x brand)


@pytest.mark.parametrize("pan", STRIPE)
@pytest.mark.parametrize(
    "between",
    ["\\u0026nbsp;", "\\u0026#x20;", "\\u0026#160;", "\\u003cbr\\u003e", "\\u0026NonBreakingSpace;"],
)
def test_html_spelt_by_json_escapes_between_groups(pan: str, between: str) -> None:
    """A help-desk export: an HTML body inside a JSON string, "\\u0026nbsp;" between the groups."""
    groups = _groups(pan)
    body = f"\\u003cp\\u003eplease use my card\\u0026nbsp;{between.join(groups)} thanks\\u003c/p\\u003e"
    text = '{"ticket_id": 567655, "html_body": "' + body + '"}'
    assert [f.kind for f in scan(text)].count("pan") >= 1, text
    left = _left(text)
    assert not any(g in left for g in groups[:-1]), redact(text)


@pytest.mark.parametrize("pan", STRIPE)
def test_a_python_repr_with_escaped_no_break_spaces(pan: str) -> None:
    spaced = "\\xa0".join(pan[i : i + 4] for i in range(0, len(pan), 4))
    text = f"WARNING [checkout] card field failed validation; raw value '{spaced}' len={len(pan) + 3}"
    assert any(f.kind == "pan" for f in scan(text)), text
    assert not any(g in _left(text) for g in _groups(pan)[:-1]), redact(text)


@pytest.mark.parametrize("pan", STRIPE)
@pytest.mark.parametrize("comment", ["<!-- grp -->", "<!---->", "<!-- x -->"])
def test_comments_without_digits_between_groups(pan: str, comment: str) -> None:
    html = f"<p>Please update the card on file to: {comment.join(pan[i : i + 4] for i in range(0, len(pan), 4))}</p>"
    assert any(f.kind == "pan" for f in scan(html)), html
    assert not any(g in _left(html) for g in _groups(pan)[:-1]), redact(html)


@pytest.mark.parametrize("pan", STRIPE)
def test_full_width_digits_with_long_vowel_marks_as_dashes(pan: str) -> None:
    """ "カード番号は ４２４２ー４２４２ー...": full-width digits, the katakana long-vowel mark between groups."""
    wide = "".join(chr(ord(c) + 0xFEE0) for c in pan)
    text = "カード番号は " + "ー".join(wide[i : i + 4] for i in range(0, len(wide), 4)) + " です"
    assert any(f.kind == "pan" for f in scan(text)), text
    assert not any(g in _left(text) for g in _groups(wide)[:-1]), redact(text)
