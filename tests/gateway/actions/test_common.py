"""Unit tests of the voice actions' helpers: money, dates, statuses, codes, phonetics, phone numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway import errors
from gateway.actions._common import (
    CODE_ALPHABET,
    card_words,
    code_from_key,
    failure_words,
    format_date,
    format_money,
    interval_words,
    normalise_phone,
    payment_status_words,
    spell_phonetic,
    subscription_status_words,
)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1250, "gbp", "£12.50"),
        (1250, "usd", "$12.50"),
        (1250, "eur", "€12.50"),
        (1250, "jpy", "¥1,250"),
        (50000, "krw", "₩50,000"),
        (4205, "GBP", "£42.05"),
        (1200, "gbp", "£12"),
        (5, "usd", "$0.05"),
        (123456789, "usd", "$1,234,567.89"),
        (1250, "sek", "12.50 SEK"),
        (1234, "kwd", "1.234 KWD"),
        (-500, "gbp", "-£5"),
    ],
)
def test_money_is_formatted_per_currency(amount: int, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_dates_are_said_as_day_and_month_with_the_year_only_when_another_year() -> None:
    now = datetime(2025, 11, 20, tzinfo=UTC)
    assert format_date(datetime(2025, 11, 3, 12, tzinfo=UTC).timestamp(), now=now) == "3 November"
    assert format_date(datetime(2024, 12, 31, 12, tzinfo=UTC).timestamp(), now=now) == "31 December 2024"


def test_statuses_in_plain_words() -> None:
    assert payment_status_words("succeeded") == "went through"
    assert payment_status_words("failed") == "was declined"
    assert payment_status_words("something_new") == "has an unusual status"
    assert failure_words("insufficient_funds") == "there weren't enough funds on the card"
    assert failure_words("some_new_code") == "the bank declined it"
    assert failure_words(None) is None
    assert subscription_status_words("trialing") == "in its free trial"
    assert subscription_status_words("canceled") == "cancelled"
    assert interval_words("month", 1) == "monthly"
    assert interval_words("month", 3) == "every 3 months"
    assert card_words("amex", "8431") == "your American Express ending 8431"
    assert card_words("visa", None) is None


def test_code_alphabet_has_no_ambiguous_characters() -> None:
    for ch in "0O1IL5S2Z8B":
        assert ch not in CODE_ALPHABET
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)


def test_codes_are_short_deterministic_and_from_the_alphabet() -> None:
    a = code_from_key("vp_abc")
    assert a == code_from_key("vp_abc")
    assert a != code_from_key("vp_abd")
    assert len(a) == 9 and a[4] == "-"
    assert set(a.replace("-", "")) <= set(CODE_ALPHABET)
    assert code_from_key("vp_abc", 4, group=0) == a.replace("-", "")[:4]
    codes = {code_from_key(f"key-{i}") for i in range(2000)}
    assert len(codes) == 2000


def test_phonetic_spelling() -> None:
    assert spell_phonetic("K7-M") == "K as in kilo, seven, dash, M as in mike"
    assert spell_phonetic("x9") == "X as in x-ray, nine"


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 7700 900123", "US", "+447700900123"),
        ("(212) 555-0147", "US", "+12125550147"),
        ("0044 7700 900123", "GB", "+447700900123"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, region: str, e164: str) -> None:
    assert normalise_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["12", "not a number", "+44 12"])
def test_invalid_phone_numbers_are_validation_errors(raw: str) -> None:
    with pytest.raises(errors.ValidationFailed) as info:
        normalise_phone(raw, "GB")
    assert info.value.details == {"errors": [{"field": "phone", "problem": "not a valid phone number"}]}
