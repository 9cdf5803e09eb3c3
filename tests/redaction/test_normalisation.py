"""One normalisation for detection: every encoding of a card is found, and the ORIGINAL span is redacted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from redaction import contains_card_number, fold_digits, normalize_for_detection, redact, scan
from redaction import redact_json as redaction_json

VISA = "4242424242424242"
MC = "5555555555554444"
GROUPS = [VISA[i : i + 4] for i in range(0, 16, 4)]


def _digits_of(text: str) -> str:
    return fold_digits(text)


ENCODINGS = {
    "newline": "\n".join(GROUPS),
    "crlf": "\r\n".join(GROUPS),
    "tab": "\t".join(GROUPS),
    "comma_space": ", ".join(GROUPS),
    "four_spaces": "    ".join(GROUPS),
    "nbsp": "\u00a0".join(GROUPS),
    "nbsp_entity": "&nbsp;".join(GROUPS),
    "thin_space": "\u2009".join(GROUPS),
    "narrow_nbsp": "\u202f".join(GROUPS),
    "zero_width": "\u200b".join(GROUPS),
    "zwj_inside": "\u200d".join(VISA),
    "soft_hyphen": "\u00ad".join(GROUPS),
    "hyphen_u2010": "\u2010".join(GROUPS),
    "minus_u2212": "\u2212".join(GROUPS),
    "fullwidth": "".join(chr(0xFF10 + int(c)) for c in VISA),
    "arabic_indic": " ".join("".join(chr(0x0660 + int(c)) for c in g) for g in GROUPS),
    "devanagari": "".join(chr(0x0966 + int(c)) for c in VISA),
    "math_bold": "".join(chr(0x1D7CE + int(c)) for c in VISA),
    "percent_every_digit": "".join(f"%{ord(c):02X}" for c in VISA),
    "percent_zwsp": "%E2%80%8B".join(GROUPS),
    "html_decimal": "".join(f"&#{ord(c)};" for c in VISA),
    "html_hex": "".join(f"&#x{ord(c):x};" for c in VISA),
    "plus_glued": "+" + VISA,
    "letters_glued": "abc" + VISA,
    "json_array": json.dumps(GROUPS),
    "json_int_array": "[" + ", ".join(GROUPS) + "]",
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_every_encoding_is_found_and_redacted_in_the_original(name: str) -> None:
    form = ENCODINGS[name]
    text = f"note: {form} thanks"
    found = [f for f in scan(text) if f.kind == "pan"]
    assert found, text
    out = redact(text)
    assert "[card" in out
    digits = _digits_of(out.replace("••4242", ""))
    assert "424242" not in digits, out
    assert out.startswith("note: ") and out.endswith(" thanks")
    assert contains_card_number(text)
    assert contains_card_number(json.dumps({"summary": text}))


def test_plus_glued_card_in_a_body_is_still_refused_when_labelled() -> None:
    assert contains_card_number(f"card: {VISA}")


def test_findings_are_spans_of_the_original_text() -> None:
    text = "pay " + "".join(f"&#{ord(c)};" for c in MC) + " now"
    (f,) = scan(text)
    assert text[f.start : f.end] == "".join(f"&#{ord(c)};" for c in MC)
    assert f.brand == "mastercard" and f.last4 == "4444"
    assert redact(text) == "pay [card mastercard ••4444] now"


def test_normalize_for_detection_maps_back() -> None:
    text = "a\u00ad４%32&nbsp;x"
    norm, omap = normalize_for_detection(text)
    assert norm == "a42 x"
    assert omap is not None
    assert omap.span(1, 3) == (2, 6)  # "４%32" after the removed soft hyphen
    assert omap.span(3, 4) == (6, 12)  # &nbsp;


def test_zero_width_spaces_separate() -> None:
    """A zero-width space or word joiner separates what it sits between: a name, the card, its expiry and CVV
    in a row written with them are fields, not one run of digits."""
    assert normalize_for_detection("a\u200b4\u20602")[0] == "a 4 2"
    row = "J Smith\u200b4242\u200b4242\u200b4242\u200b4242\u200b08/26\u200b155"
    assert redact(row) == "J Smith\u200b[card visa ••4242]\u200b[expiry]\u200b[cvv]"


def test_plain_ascii_is_not_copied() -> None:
    text = "GET /healthz 200"
    norm, omap = normalize_for_detection(text)
    assert norm is text and omap is None


def test_card_split_over_json_fields_inside_log_text() -> None:
    body = {"cc_part1": "4242", "cc_part2": "4242", "cc_part3": "4242", "cc_part4": "4242", "amount": 100}
    line = f"2025-01-01T00:00:00Z INFO request body={json.dumps(body)} status=422"
    out = redact(line)
    assert "4242" not in out.replace("••4242", ""), out
    assert '"amount": 100' in out
    assert contains_card_number(line)
    single = "{'a': '5555', 'b': '5555', 'c': '5555', 'd': '4444'}"
    assert contains_card_number(single)


def test_card_split_over_fields_with_other_members_between_is_not_joined() -> None:
    text = '{"a": "4242", "name": "x", "b": "4242"}'
    assert not contains_card_number(text)


def test_voicepay_redact_file_argument(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text(f"card {VISA}\nsecond line\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "redaction", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "card [card visa ••4242]\nsecond line\n"
    missing = subprocess.run(
        [sys.executable, "-m", "redaction", str(tmp_path / "nope.txt")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "nope.txt" in missing.stderr


def test_gateway_cli_redact_accepts_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    path = tmp_path / "x.txt"
    path.write_text(f"pan={MC}\n", encoding="utf-8")
    assert main(["redact", str(path)]) == 0
    assert capsys.readouterr().out == "pan=[card mastercard ••4444]\n"


def test_redact_json_joins_unicode_digit_pieces_across_fields() -> None:
    value = {"a": "４２４２", "b": "４２４２", "c": "４２４２", "d": "４２４２", "note": "ok"}
    out = redaction_json(value)
    assert out == {"a": "[card]", "b": "[card]", "c": "[card]", "d": "[card]", "note": "ok"}
    assert contains_card_number(json.dumps(value)) and contains_card_number(json.dumps(value, ensure_ascii=False))


def test_unrelated_integer_fields_are_not_joined() -> None:
    record = {"status": 599, "size": 100000000, "duration_ms": 12}
    assert not contains_card_number(json.dumps(record))
    assert scan(json.dumps(record)) == []


@pytest.mark.parametrize(
    "template",
    [
        "x <QueryDict: {card}> y",  # Django's repr of a request's form data
        "if a<b then card {card} and c>d",  # comparisons around a card, not a tag
        "#<Payment id: 5, card {card} amount: 100>",  # a Ruby object's inspect
        "<Order #1187 paid with {card}>",
        '<input name="cc" value="{card}">',  # an attribute value (as before)
    ],
)
@pytest.mark.parametrize("pan", ["4111 1111 1111 1111", "4242424242424242", "3782-822463-10005"])
def test_a_card_between_angle_brackets_that_are_not_markup(template: str, pan: str) -> None:
    """Text between "<" and ">" that reads like a tag is still text where it holds digits with no attribute
    value: an earlier version dropped it as markup, and "x <QueryDict: 4111 1111 1111 1111> y" kept its card."""
    text = template.format(card=pan)
    found = [(f.start, f.end) for f in scan(text) if f.kind == "pan"]
    start = text.index(pan)
    assert found == [(start, start + len(pan))], text
    assert pan not in redact(text)
