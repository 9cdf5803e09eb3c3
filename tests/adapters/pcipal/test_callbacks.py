"""Callback parsing and the card-data check."""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

import pytest

from adapters.pcipal.callbacks import (
    CallbackCardDataError,
    CallbackParseError,
    FieldMapping,
    body_contains_card_data,
    card_data_fields,
    contains_card_data,
    parse_callback,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json; charset=utf-8"


def synthetic_pan(prefix: str = "4", length: int = 16, seed: int = 7) -> str:
    """A Luhn-valid number generated here (not a real card)."""
    rng = random.Random(seed)
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


HMCTS_FIELDS = {
    "orderCurrency": "GBP",
    "orderAmount": "48850",
    "orderReference": "RC-1234-5678",
    "ppAccountID": "1210",
    "transactionResult": "SUCCESS",
    "transactionAuthCode": "test123",
    "transactionID": "pi_3Abc",
    "cardExpiry": "1228",
    "cardLast4": "4242",
    "cardType": "VISA",
    "ppCallID": "820782890",
    "customData1": "0f2c-session",
}


def test_when_hmcts_form_callback_then_fields_are_typed() -> None:
    result = parse_callback(urlencode(HMCTS_FIELDS).encode(), FORM)

    assert result.result == "success"
    assert result.succeeded
    assert result.order_reference == "RC-1234-5678"
    assert result.amount == 48850
    assert result.currency == "gbp"
    assert result.card_last4 == "4242"
    assert result.card_brand == "visa"
    assert (result.card_exp_month, result.card_exp_year) == (12, 2028)
    assert result.auth_code == "test123"
    assert result.transaction_id == "pi_3Abc"
    # HMCTS-style flows put the gateway id in transactionID; a pi_ there is the PaymentIntent.
    assert result.payment_intent_id == "pi_3Abc"
    assert result.session_id is None


def test_when_json_callback_with_pascal_case_then_same_result_as_camel_case() -> None:
    msg = "Insufficient Funds"
    camel = {"transactionResult": "DECLINE", "cardLast4": "0002", "transactionResponseMsg": msg}
    pascal = {"TransactionResult": "DECLINE", "CardLast4": "0002", "TransactionResponseMsg": msg}
    snake = {"transaction_result": "DECLINE", "card_last4": "0002", "transaction_response_msg": msg}

    results = [parse_callback(json.dumps(f).encode(), JSON) for f in (camel, pascal, snake)]

    assert {r.result for r in results} == {"declined"}
    assert {r.card_last4 for r in results} == {"0002"}
    assert {r.message for r in results} == {"Insufficient Funds"}


def test_when_hmrc_json_callback_then_session_and_major_amount_parsed() -> None:
    body = {
        "HoD": "A", "TaxReference": "1234567890K", "Amount": 12.5, "Commission": 0, "CardType": "VISA",
        "Status": "validated", "PCIPalSessionId": "5f0c-aa", "TransactionReference": "pi_9",
        "ChargeReference": "XQ00", "CardLast4": "4444",
    }

    result = parse_callback(json.dumps(body).encode(), "application/json")

    assert result.result == "success"
    assert result.session_id == "5f0c-aa"
    assert result.amount == 1250
    assert result.payment_intent_id == "pi_9"
    assert result.card_last4 == "4444"


def test_when_hmrc_status_failed_then_declined() -> None:
    result = parse_callback(b'{"Status": "failed", "PCIPalSessionId": "s1"}', "application/json")
    assert result.result == "declined"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SUCCESS", "success"),
        ("DECLINE", "declined"),
        ("ERROR", "error"),
        ("CANCELLED", "cancelled"),
        ("caller-hung-up", "hangup"),
        ("hangup", "hangup"),
        ("timeout", "timeout"),
        ("too-many-failed-attempts", "too_many_attempts"),
        ("authentication_required", "authentication_required"),
    ],
)
def test_result_vocabulary(value: str, expected: str) -> None:
    assert parse_callback(urlencode({"transactionResult": value}).encode(), FORM).result == expected


def test_when_decline_says_authentication_required_then_status_is_authentication_required() -> None:
    body = urlencode({"transactionResult": "DECLINE", "transactionResponseMsg": "authentication_required"})
    assert parse_callback(body.encode(), FORM).result == "authentication_required"


def test_when_tenant_mapping_names_custom_fields_then_they_are_used() -> None:
    body = urlencode(
        {
            "transactionResult": "CANCELLED",
            "customData1": "sess-42",
            "customData2": "hangup",
            "customData3": "pi_777",
            "transactionID": "pi_WRONG",
            "orderAmount": "10.00",
        }
    ).encode()
    mapping = FieldMapping(
        result="customData2", session_id="customData1", payment_intent_id="custom_data_3", amount_unit="major"
    )

    result = parse_callback(body, FORM, mapping)

    assert result.result == "hangup"
    assert result.session_id == "sess-42"
    assert result.payment_intent_id == "pi_777"
    assert result.amount == 1000


def test_when_mapping_adds_result_values_then_they_are_recognised() -> None:
    mapping = FieldMapping(result_values={"PAID_OK": "success"})
    assert parse_callback(b"transactionResult=PAID_OK", FORM, mapping).result == "success"


def test_when_result_missing_then_parse_error() -> None:
    with pytest.raises(CallbackParseError, match="no result"):
        parse_callback(b"cardLast4=4242", FORM)


@pytest.mark.parametrize("word", ["MAYBE", "sent", "Pending"])
def test_when_result_unknown_then_unknown_with_the_word_kept(word: str) -> None:
    result = parse_callback(f"transactionResult={word}".encode(), FORM)
    assert result.result == "unknown"
    assert not result.succeeded
    assert result.raw_result == word


@pytest.mark.parametrize("word", ["validated", "complete", "AUTHORISED", "SUCCESS"])
def test_result_words_seen_in_public_code_mean_success(word: str) -> None:
    assert parse_callback(f"Status={word}".encode(), FORM).result == "success"


def test_when_two_casings_disagree_then_refused() -> None:
    with pytest.raises(CallbackParseError, match="conflicting"):
        parse_callback(b"transactionResult=SUCCESS&TransactionResult=DECLINE", FORM)


def test_when_body_is_not_json_then_parse_error() -> None:
    with pytest.raises(CallbackParseError):
        parse_callback(b"{not json", "application/json")


def test_when_separate_expiry_fields_then_month_and_year() -> None:
    body = {"transactionResult": "success", "cardExpMonth": "3", "cardExpYear": "2031"}
    result = parse_callback(json.dumps(body).encode(), JSON)
    assert (result.card_exp_month, result.card_exp_year) == (3, 2031)


def test_when_masked_twilio_style_number_then_last4_only() -> None:
    body = {"Result": "success", "PaymentCardNumber": "xxxx-xxxxxx-x4001", "PaymentToken": "tok_1"}
    result = parse_callback(json.dumps(body).encode(), JSON)
    assert result.card_last4 == "4001"
    # A single-use card Token confirms an intent as a PaymentMethod does (token capture mode).
    assert result.payment_method_id == "tok_1"


def test_a_token_field_that_is_not_a_stripe_token_is_ignored() -> None:
    body = {"Result": "success", "PaymentToken": "abc123", "cardLast4": "4242"}
    assert parse_callback(json.dumps(body).encode(), JSON).payment_method_id is None


def test_raw_fields_redacted_hides_expiry() -> None:
    result = parse_callback(urlencode(HMCTS_FIELDS).encode(), FORM)
    assert result.raw_fields_redacted["cardExpiry"] == "[redacted]"
    assert result.raw_fields_redacted["cardLast4"] == "4242"


# ------------------------------------------------------------------------------------------- card data


def test_when_callback_carries_full_pan_then_refused_and_pan_not_in_error() -> None:
    pan = synthetic_pan()
    body = urlencode({"transactionResult": "SUCCESS", "cardNumber": pan}).encode()

    with pytest.raises(CallbackCardDataError) as info:
        parse_callback(body, FORM)

    assert pan not in str(info.value)
    assert "cardNumber" in str(info.value)
    assert body_contains_card_data(body, FORM)


def test_when_stripe_test_pan_spaced_in_any_field_then_detected() -> None:
    assert contains_card_data({"customData4": "4242 4242 4242 4242"})
    assert contains_card_data({"note": "card 4000-0000-0000-0002 used"})


def test_when_pan_is_nested_in_json_then_detected() -> None:
    assert contains_card_data({"data": {"card": {"n": synthetic_pan("5", 16, 3)}}})


@pytest.mark.parametrize("name", ["cvv", "CVC", "cv2", "securityCode", "security_code", "CardCVV"])
def test_when_cvv_named_field_has_digits_then_detected(name: str) -> None:
    assert contains_card_data({name: "123"})
    assert contains_card_data({name: "1234"})
    assert card_data_fields({name: "123", "cardLast4": "4242"}) == [name]


def test_when_cvv_masked_or_clean_callback_then_not_card_data() -> None:
    assert not contains_card_data({"SecurityCode": "***", "cardLast4": "4242", "orderAmount": "1299"})
    assert not contains_card_data(HMCTS_FIELDS)


def test_when_pan_split_by_form_encoding_then_raw_body_gate_detects_it() -> None:
    pan = synthetic_pan(seed=11)
    spaced = " ".join(pan[i : i + 4] for i in range(0, 16, 4))
    body = urlencode({"x": spaced}).encode()  # spaces become '+'
    assert body_contains_card_data(body, FORM)


def test_when_cvv_in_json_callback_then_parse_refuses() -> None:
    with pytest.raises(CallbackCardDataError):
        parse_callback(b'{"transactionResult": "SUCCESS", "cvv": "737"}', JSON)
