"""Issue 12 points 6 and 7: every sentence the gateway says, in every supported locale, is fit for the ear.

Renders every catalogue message (each action's and notification's sentences, each error's default ``say``,
the validation sentences) in each locale with sample data, and checks what a TTS engine would read.
"""

from __future__ import annotations

import inspect
import re
import string
import unicodedata
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from string import Formatter

import pytest

from gateway import errors, speech
from gateway.speech_catalogue import CATALOGUE

SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
ID_LIKE = re.compile(r"\b(pi|cus|re|op|ch|cap|sub|in|esc|ntf|evt|cs|pm)_[A-Za-z0-9]+")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _sample(field: str) -> speech.Said | str:
    """Sample data per template field, rendered through the same helpers the actions use."""
    if field in ("amount", "amount_text", "outstanding", "limit"):
        return speech.money(1299, "gbp")
    if field in ("date", "when", "ends"):
        return speech.day(datetime(2026, 11, 3, tzinfo=UTC).timestamp(), now=NOW)
    if field in ("code", "reference"):
        return speech.spell("K7M4-PQ3R")
    if field == "digits":
        return speech.digits("0069")
    if field == "domain":
        return speech.domain_words("example.co.uk")
    if field == "count":
        return "3"
    if field in ("letter",):
        return "K"
    if field in ("word",):
        return "kilo"
    return speech.say("field.email")  # any other noun phrase


def _render(key: str) -> speech.Said:
    template = CATALOGUE["en-GB"].get(key) or CATALOGUE[speech.current()][key]
    fields = {f for _, f, _, _ in Formatter().parse(template) if f}
    localised = speech._lookup(CATALOGUE, key) or ""
    fields |= {f for _, f, _, _ in Formatter().parse(localised) if f}
    return speech.say(key, **{f: _sample(f) for f in fields})


def _check_for_the_ear(text: str, locale: str) -> None:
    bad = [
        ch for ch in text
        if not (unicodedata.category(ch).startswith("L") or ch.isdigit() or ch in speech.ALLOWED_PUNCTUATION)
    ]
    assert not bad, f"{locale}: symbols read aloud {bad!r} in {text!r}"
    assert not ID_LIKE.search(text), f"{locale}: id-like token in {text!r}"
    assert "{" not in text and "}" not in text
    for sym in ("£", "€", "$", "*", "@", "_", "#", "%", "&", "/"):
        assert sym not in text


def _check_ssml(doc: str, locale: str) -> None:
    root = ET.fromstring(doc)
    assert root.tag == f"{SSML_NS}speak"
    assert root.get("version") == "1.1"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == locale


ALL_KEYS = sorted(set().union(*(set(v) for v in CATALOGUE.values())))


@pytest.mark.parametrize("locale", speech.SUPPORTED)
def test_every_sentence_in_every_locale_is_plain_speech_and_valid_ssml(locale: str) -> None:
    rendered = 0
    with speech.using(locale):
        for key in ALL_KEYS:
            said = _render(key)
            _check_for_the_ear(said, locale)
            _check_ssml(speech.ssml(said), locale)
            rendered += 1
    assert rendered == len(ALL_KEYS) > 60


@pytest.mark.parametrize("locale", ["es-ES", "fr-FR", "de-DE"])
def test_every_message_is_translated_not_left_to_the_english_fallback(locale: str) -> None:
    missing = sorted(set(CATALOGUE["en-GB"]) - set(CATALOGUE[locale]))
    assert missing == []
    same = [k for k in CATALOGUE[locale] if CATALOGUE[locale][k] == CATALOGUE["en-GB"][k]]
    # Only pure templates ("{amount} {every}") and true cognates may coincide with English; sentences must not.
    cognates = {"sub.word.active"}
    words = [k for k in same if k not in cognates and re.search(r"[a-z]{4}", re.sub(r"\{[^}]*\}", "", CATALOGUE[locale][k]))]
    assert words == []


@pytest.mark.parametrize("locale", speech.SUPPORTED)
def test_every_error_default_say_is_catalogued_and_spoken_in_the_locale(locale: str) -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.GatewayError)]
    assert len(classes) > 25
    with speech.using(locale):
        for cls in classes:
            assert speech.has(f"error.{cls.__name__}"), cls.__name__
            err = cls()
            _check_for_the_ear(err.say, locale)
            body = err.to_dict()
            _check_ssml(body["say_ssml"], locale)
            assert body["say"] == str(speech.say(f"error.{cls.__name__}"))


def test_money_and_dates_are_formatted_by_the_locale() -> None:
    nov3 = datetime(2026, 11, 3, tzinfo=UTC).timestamp()
    expected = {
        "en-GB": ("12.99 British pounds", "3 November", "3 November 2024"),
        "en-US": ("12.99 British pounds", "November 3", "November 3, 2024"),
        "es-ES": ("12,99 libras esterlinas", "3 de noviembre", "3 de noviembre de 2024"),
        "fr-FR": ("12,99 livres sterling", "3 novembre", "3 novembre 2024"),
        "de-DE": ("12,99 Britische Pfund", "3. November", "3. November 2024"),
    }
    for locale, (money, day, old_day) in expected.items():
        with speech.using(locale):
            assert speech.money(1299, "gbp") == money
            assert speech.day(nov3, now=NOW) == day
            assert speech.day(datetime(2024, 11, 3, tzinfo=UTC).timestamp(), now=NOW) == old_day
    with speech.using("en-GB"):
        assert speech.money(2000, "gbp") == "20.00 British pounds"  # one form everywhere, never "£20"
        assert speech.money(1250, "jpy") == "1,250 Japanese yen"  # zero-decimal currencies are not divided


def test_codes_are_spelled_with_each_languages_alphabet_and_marked_as_characters() -> None:
    spelled = {
        "en-GB": "K as in kilo, seven, M as in mike",
        "es-ES": "K de Kilo, siete, M de Madrid",
        "fr-FR": "K comme Kléber, sept, M comme Marcel",
        "de-DE": "K wie Köln, sieben, M wie München",
    }
    for locale, text in spelled.items():
        with speech.using(locale):
            code = speech.spell("K7-M")
            assert code == text
            ref = speech.say("reference.is", reference=code)
            root = ET.fromstring(speech.ssml(ref))
            say_as = root.find(f"{SSML_NS}say-as")
            assert say_as is not None and say_as.get("interpret-as") == "characters" and say_as.text == "K7M"
    with speech.using("en-GB"):
        ending = speech.say("card.ending", brand="Visa", digits=speech.digits("0069"))
        assert ending == "your Visa ending 0 0 6 9"
        say_as = ET.fromstring(speech.ssml(ending)).find(f"{SSML_NS}say-as")
        assert say_as is not None and say_as.get("interpret-as") == "digits" and say_as.text == "0069"


def test_masked_emails_are_said_in_words() -> None:
    with speech.using("en-GB"):
        assert speech.email_words("a***@example.com") == "the email ending in example dot com"
    with speech.using("de-DE"):
        assert speech.email_words("a***@shop.example.de") == "die E-Mail-Adresse, die auf shop Punkt example Punkt de endet"


def test_validation_say_names_what_is_missing_in_the_callers_words() -> None:
    exactly_one = [{"field": "(body)", "problem": "Value error, give exactly one of email, phone or customer_id"}]
    with speech.using("en-GB"):
        assert speech.validation_say(exactly_one) == "I still need the customer's email or phone number."
        two = [{"field": "amount", "problem": "Field required"}, {"field": "reason", "problem": "Field required"}]
        assert speech.validation_say(two) == "I still need the amount and the reason."
        assert speech.validation_say([{"field": "postal_code", "problem": "String should have at most 16 characters"}]) == (
            "Sorry, I didn't catch the postcode properly. Could you say it again?"
        )
    with speech.using("fr-FR"):
        assert speech.validation_say(exactly_one) == (
            "Il me faut encore l'adresse e-mail ou le numéro de téléphone du client."
        )


@pytest.mark.parametrize(
    ("caller", "accept", "tenant", "expected"),
    [
        ("es-ES", None, "en-GB", "es-ES"),
        (None, "fr-CA;q=0.9, de;q=0.95", "en-GB", "de-DE"),
        (None, "pt-BR, fr;q=0.5", "en-GB", "fr-FR"),
        ("xx-unknown", "*", "de-DE", "de-DE"),
        ("not a tag!!", "zz", None, "en-GB"),
        (None, "en-US,en;q=0.8", "fr-FR", "en-US"),
        (None, "en-AU", "fr-FR", "en-GB"),
        (None, "es;q=0", "fr-FR", "fr-FR"),
    ],
)
def test_locale_choice_caller_then_accept_language_then_tenant_then_english(
    caller: str | None, accept: str | None, tenant: str | None, expected: str
) -> None:
    assert speech.choose_locale(caller, accept, tenant) == expected


def test_allowed_punctuation_has_no_symbol_a_tts_reads_aloud() -> None:
    assert not (set("*@_#£€$%&/<>{}[]|\\~^`+=") & speech.ALLOWED_PUNCTUATION)
    assert set(string.ascii_letters).isdisjoint(speech.ALLOWED_PUNCTUATION)
