"""Behaviour of the public API: markers, keywords, JSON, the gate, tokens, the logging filter, the CLI."""

from __future__ import annotations

import io
import logging
import sys

import pytest

import redaction
from redaction.cli import main
from redaction.logging import RedactingFilter

VISA = "4242424242424242"
MC2 = "2223003122003222"
AMEX = "378282246310005"


def test_redact_keeps_only_brand_and_last4() -> None:
    assert redaction.redact(f"card {VISA} ok") == "card [card visa ••4242] ok"
    assert redaction.redact("pay 2223 0031 2200 3222") == "pay [card mastercard ••3222]"
    assert redaction.redact("amex 3782-822463-10005") == "amex [card amex ••0005]"


def test_when_card_has_expiry_and_cvv_then_all_three_are_redacted() -> None:
    out = redaction.redact("4242 4242 4242 4242 exp 08/26 cvc 123, thanks")
    assert out == "[card visa ••4242] exp [expiry] cvc [cvv], thanks"


def test_when_keywords_without_card_then_cvv_and_expiry_still_redacted() -> None:
    assert redaction.redact("security code is 987") == "security code is [cvv]"
    assert redaction.redact("the three digits on the back are four five six") == (
        "the three digits on the back are [cvv]"
    )
    assert redaction.redact("it expires August twenty six") == "it expires [expiry]"
    assert redaction.redact("exp 08 26") == "exp [expiry]"
    assert redaction.redact("expires oh eight twenty six") == "expires [expiry]"


def test_spoken_number_with_fillers_and_tens_is_redacted() -> None:
    text = "it's double five double five, um, fifty five fifty five, sorry, triple five five, double four forty four"
    # every digit goes; the words between the groups stay (they are not card data)
    assert redaction.redact(text) == (
        "it's [card mastercard ••4444], um, [card mastercard ••4444], sorry, [card mastercard ••4444]"
    )


def test_number_split_over_caller_turns_is_redacted_per_turn() -> None:
    text = "Caller: four two four two four two\nAgent: go on\nCaller: four two four two four two four two four two"
    out = redaction.redact(text)
    assert "two" not in out
    assert "Agent: go on" in out


def test_scan_reports_offsets_kind_brand_last4() -> None:
    text = f"x {MC2} y"
    [f] = redaction.scan(text)
    assert (text[f.start : f.end], f.kind, f.brand, f.last4) == (MC2, "pan", "mastercard", "3222")


@pytest.mark.parametrize(
    "text",
    [
        "card **** **** **** 4242",
        "pan 424242******4242",
        "ts 1717171717171 and 1717171717171717",
        "imei 490154203237518",
        "call +44 20 7946 0958",
        "IBAN DE89 3704 0044 0532 0130 00",
        "id 550e8400-e29b-41d4-a716-446655440000",
        "card 4242424242424241",
        "total $1,234,567.89 on 2024-05-01",
    ],
)
def test_decoys_are_left_alone(text: str) -> None:
    assert redaction.scan(text) == []
    assert redaction.redact(text) == text


def test_redact_json_by_key_by_content_and_across_siblings() -> None:
    value = {
        "card": {"number": VISA, "cvc": "123", "exp_month": 8, "exp_year": 2026},
        "note": f"customer read {AMEX}",
        "parts": ["4242", "4242", "4242", "4242"],
        "split": {"a": "5555", "b": "5555", "c": "5555", "d": "4444", "amount": 100},
        "amount": 1200,
        "raw": int(VISA),
    }
    out = redaction.redact_json(value)
    assert out["card"] == {
        "number": "[card visa ••4242]",
        "cvc": "[cvv]",
        "exp_month": "[expiry]",
        "exp_year": "[expiry]",
    }
    assert out["note"] == "customer read [card amex ••0005]"
    assert out["parts"] == ["[card]"] * 4
    assert out["split"] == {"a": "[card]", "b": "[card]", "c": "[card]", "d": "[card]", "amount": 100}
    assert out["amount"] == 1200
    assert out["raw"] == "[card visa ••4242]"
    assert value["card"]["number"] == VISA  # the input is not modified


def test_contains_card_number_gate() -> None:
    assert redaction.contains_card_number(f'{{"pan": "{VISA}"}}')
    assert redaction.contains_card_number('{"a": "4242", "b": "4242", "c": "4242", "d": "4242"}')
    assert redaction.contains_card_number("four two four two four two four two four two four two four two four two")
    assert not redaction.contains_card_number('{"amount": 1200, "ts": 1717171717171, "order": "ord_123"}')
    assert not redaction.contains_card_number("")


def test_tokenizer_is_keyed_deterministic_and_hides_the_pan() -> None:
    tok = redaction.Tokenizer(b"k" * 32)
    a = tok.tokenize("4242 4242 4242 4242")
    assert a == tok.tokenize(VISA)
    assert a.token.startswith("tok_") and a.brand == "visa" and a.last4 == "4242"
    assert "4242" not in a.token
    assert redaction.Tokenizer(b"x" * 32).tokenize(VISA).token != a.token
    assert tok.tokenize(MC2).token != a.token
    assert "k" * 32 not in repr(tok)
    with pytest.raises(ValueError):
        tok.tokenize("1234")
    with pytest.raises(ValueError):
        redaction.Tokenizer(b"short")


def _logger(stream: io.StringIO) -> logging.Logger:
    logger = logging.getLogger(f"test.redaction.{id(stream)}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    return logger


def test_logging_filter_redacts_args_tracebacks_and_stack_info() -> None:
    stream = io.StringIO()
    log = _logger(stream)
    log.info("card %s", VISA)
    log.info("dict %r", {"pan": "5555 5555 5555 4444"})
    try:
        raise ValueError(f"bad card {VISA}")
    except ValueError:
        log.exception("failed")
    log.info("stack", stack_info=True, extra={})
    out = stream.getvalue()
    assert "424242424242" not in out and "5555 5555 5555" not in out
    assert "[card visa ••4242]" in out and "ValueError: bad card [card visa ••4242]" in out


def test_logging_filter_never_raises_and_clears_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d %d", ("one",), None)
    assert RedactingFilter().filter(record) is True
    assert record.args is None
    assert isinstance(record.msg, str)


def test_cli_streams_stdin_to_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"a {VISA}\nplain line\ncvv 123\n"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main([]) == 0
    assert out.getvalue() == "a [card visa ••4242]\nplain line\ncvv [cvv]\n"


def test_stream_redactor_catches_a_card_split_across_chunks() -> None:
    s = redaction.StreamRedactor()
    out = s.feed("Caller: four two four two ") + s.feed("4242 four two four two 42") + s.feed("42 ok\n")
    out += s.flush()
    assert out == "Caller: [card visa ••4242] ok\n"


def test_stream_redactor_releases_quiet_text_immediately() -> None:
    s = redaction.StreamRedactor()
    assert s.feed("hello there, general ") == "hello there, general "
    assert s.feed("kenobi 4242") == "kenobi "
    assert s.flush() == "4242"
