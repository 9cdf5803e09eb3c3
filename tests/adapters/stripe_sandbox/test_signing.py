from __future__ import annotations

import json
import time

import pytest
import stripe

from adapters.stripe.signing import SignatureError, compute_signature, sign_header, verify_header

BODY = json.dumps({"id": "evt_1", "object": "event", "type": "refund.created"}).encode()
SECRET = "whsec_test_secret_one"
OTHER = "whsec_test_secret_two"
NOW = 1_750_000_000


def test_round_trip_returns_the_signed_timestamp() -> None:
    header = sign_header(BODY, [SECRET], NOW)
    assert header.startswith(f"t={NOW},v1=")
    assert verify_header(BODY, header, [SECRET], now=NOW) == NOW


def test_header_format_is_t_then_one_v1_per_secret() -> None:
    header = sign_header(BODY, [SECRET, OTHER], NOW)
    parts = header.split(",")
    assert parts == [
        f"t={NOW}",
        f"v1={compute_signature(BODY, SECRET, NOW)}",
        f"v1={compute_signature(BODY, OTHER, NOW)}",
    ]


def test_our_signature_is_accepted_by_the_stripe_sdk() -> None:
    now = int(time.time())
    header = sign_header(BODY, [SECRET], now)
    event = stripe.Webhook.construct_event(BODY, header, SECRET)
    assert event.id == "evt_1"
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET) is True


def test_sdk_signature_is_accepted_by_ours() -> None:
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET, timestamp=NOW)
    assert header == sign_header(BODY, [SECRET], NOW)
    assert verify_header(BODY, header, [SECRET], now=NOW + 10) == NOW


def test_rotation_header_is_accepted_by_the_sdk_for_either_secret() -> None:
    now = int(time.time())
    header = sign_header(BODY, [SECRET, OTHER], now)
    stripe.WebhookSignature.verify_header(BODY, header, SECRET)
    stripe.WebhookSignature.verify_header(BODY, header, OTHER)


@pytest.mark.parametrize("configured", [[SECRET, OTHER], [OTHER, SECRET]])
def test_rotated_secrets_both_accepted(configured: list[str]) -> None:
    assert verify_header(BODY, sign_header(BODY, [SECRET], NOW), configured, now=NOW) == NOW
    assert verify_header(BODY, sign_header(BODY, [OTHER], NOW), configured, now=NOW) == NOW


def _reason(body: bytes, header: str | None, secrets: list[str], now: float = NOW) -> str:
    with pytest.raises(SignatureError) as info:
        verify_header(body, header, secrets, now=now)
    return info.value.reason


def test_forged_body_rejected() -> None:
    header = sign_header(BODY, [SECRET], NOW)
    assert _reason(BODY.replace(b"refund", b"refunx"), header, [SECRET]) == "no_match"


def test_forged_signature_rejected() -> None:
    assert _reason(BODY, f"t={NOW},v1={'0' * 64}", [SECRET]) == "no_match"


def test_wrong_secret_rejected() -> None:
    assert _reason(BODY, sign_header(BODY, [OTHER], NOW), [SECRET]) == "no_match"


def test_stale_timestamp_rejected() -> None:
    header = sign_header(BODY, [SECRET], NOW - 301)
    assert _reason(BODY, header, [SECRET]) == "timestamp_out_of_tolerance"
    assert verify_header(BODY, sign_header(BODY, [SECRET], NOW - 300), [SECRET], now=NOW) == NOW - 300


def test_future_timestamp_rejected_unlike_the_sdk() -> None:
    header = sign_header(BODY, [SECRET], NOW + 3600)
    assert _reason(BODY, header, [SECRET]) == "timestamp_out_of_tolerance"
    # The SDK only checks the past, which is why we do not rely on it for this.
    future = sign_header(BODY, [SECRET], int(time.time()) + 3600)
    assert stripe.WebhookSignature.verify_header(BODY, future, SECRET) is True


def test_custom_tolerance() -> None:
    header = sign_header(BODY, [SECRET], NOW - 100)
    with pytest.raises(SignatureError):
        verify_header(BODY, header, [SECRET], tolerance=60, now=NOW)
    assert verify_header(BODY, header, [SECRET], tolerance=120, now=NOW) == NOW - 100


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_rejected(header: str | None) -> None:
    assert _reason(BODY, header, [SECRET]) == "missing_header"


@pytest.mark.parametrize(
    "header",
    ["garbage", "v1=abc", f"t=abc,v1={'0' * 64}", "t=,v1=x", f"t={NOW},t={NOW},v1=x", f"t={NOW},=x", "t"],
)
def test_malformed_header_rejected(header: str) -> None:
    assert _reason(BODY, header, [SECRET]) == "malformed_header"


def test_v0_only_rejected_even_when_v0_is_a_valid_hmac() -> None:
    v0 = compute_signature(BODY, SECRET, NOW)
    assert _reason(BODY, f"t={NOW},v0={v0}", [SECRET]) == "no_v1_signature"


def test_v0_next_to_a_valid_v1_is_ignored() -> None:
    header = sign_header(BODY, [SECRET], NOW) + ",v0=deadbeef"
    assert verify_header(BODY, header, [SECRET], now=NOW) == NOW


def test_no_usable_secret_rejected() -> None:
    assert _reason(BODY, sign_header(BODY, [SECRET], NOW), ["", " "]) == "no_secret"


def test_error_messages_never_contain_body_or_secret() -> None:
    body = b'{"card": "4242424242424242"}'
    for header, secrets in [
        (sign_header(body, [SECRET], NOW), [OTHER]),
        (sign_header(body, [SECRET], NOW - 10_000), [SECRET]),
        ("t=1", [SECRET]),
    ]:
        with pytest.raises(SignatureError) as info:
            verify_header(body, header, secrets, now=NOW)
        text = str(info.value) + repr(info.value)
        assert "4242" not in text
        assert SECRET not in text
        assert OTHER not in text


def test_a_single_string_is_not_taken_for_a_list_of_secrets() -> None:
    with pytest.raises(TypeError):
        sign_header(BODY, SECRET, NOW)
    with pytest.raises(TypeError):
        verify_header(BODY, sign_header(BODY, [SECRET], NOW), SECRET, now=NOW)
