"""CallbackVerifier: hmac, bearer, ip_allowlist, combined."""

from __future__ import annotations

import pytest

from adapters.pcipal.callbacks import CallbackVerificationError, CallbackVerifier, sign_callback

BODY = b"transactionResult=SUCCESS&cardLast4=4242"
NOW = 1_800_000_000
SECRET = "whsec_pcipal_test_current"
OLD_SECRET = "whsec_pcipal_test_previous"


def hmac_verifier(*secrets: str, tolerance: float = 300) -> CallbackVerifier:
    return CallbackVerifier(hmac_secrets=secrets, tolerance_seconds=tolerance, clock=lambda: NOW)


def reason(
    verifier: CallbackVerifier, headers: dict[str, str], body: bytes = BODY, ip: str | None = None
) -> str:
    with pytest.raises(CallbackVerificationError) as info:
        verifier.verify(body, headers, ip)
    return info.value.reason


# ----------------------------------------------------------------------------------------------- hmac


def test_when_hmac_signature_good_then_accepted() -> None:
    hmac_verifier(SECRET).verify(BODY, {"X-PCIPal-Signature": sign_callback(BODY, SECRET, NOW)}, None)


def test_when_header_name_lower_case_then_accepted() -> None:
    hmac_verifier(SECRET).verify(BODY, {"x-pcipal-signature": sign_callback(BODY, SECRET, NOW)}, None)


def test_when_hmac_signed_with_wrong_secret_then_bad_signature() -> None:
    headers = {"X-PCIPal-Signature": sign_callback(BODY, "not-the-secret", NOW)}
    assert reason(hmac_verifier(SECRET), headers) == "bad_signature"


def test_when_body_tampered_then_bad_signature() -> None:
    headers = {"X-PCIPal-Signature": sign_callback(BODY, SECRET, NOW)}
    tampered = BODY.replace(b"SUCCESS", b"DECLINE")
    assert reason(hmac_verifier(SECRET), headers, body=tampered) == "bad_signature"


def test_when_signature_missing_then_missing_signature() -> None:
    assert reason(hmac_verifier(SECRET), {}) == "missing_signature"


@pytest.mark.parametrize("value", ["garbage", "t=abc,v1=00", f"t={NOW}", "v1=abcd"])
def test_when_signature_malformed_then_malformed(value: str) -> None:
    assert reason(hmac_verifier(SECRET), {"X-PCIPal-Signature": value}) == "malformed_signature"


def test_when_timestamp_outside_tolerance_then_refused() -> None:
    headers = {"X-PCIPal-Signature": sign_callback(BODY, SECRET, NOW - 301)}
    assert reason(hmac_verifier(SECRET, tolerance=300), headers) == "timestamp_out_of_tolerance"


def test_when_secret_rotated_then_old_and_new_both_accepted_during_overlap() -> None:
    verifier = hmac_verifier(SECRET, OLD_SECRET)
    verifier.verify(BODY, {"X-PCIPal-Signature": sign_callback(BODY, OLD_SECRET, NOW)}, None)
    verifier.verify(BODY, {"X-PCIPal-Signature": sign_callback(BODY, SECRET, NOW)}, None)


def test_when_old_secret_removed_after_rotation_then_refused() -> None:
    headers = {"X-PCIPal-Signature": sign_callback(BODY, OLD_SECRET, NOW)}
    assert reason(hmac_verifier(SECRET), headers) == "bad_signature"


def test_when_header_carries_several_v1_then_any_valid_one_is_enough() -> None:
    good = sign_callback(BODY, SECRET, NOW).split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{good}"
    hmac_verifier(SECRET).verify(BODY, {"X-PCIPal-Signature": header}, None)


def test_error_message_has_neither_body_nor_secret() -> None:
    headers = {"X-PCIPal-Signature": sign_callback(BODY, "wrong", NOW)}
    with pytest.raises(CallbackVerificationError) as info:
        hmac_verifier(SECRET).verify(BODY, headers, None)
    text = str(info.value) + repr(info.value) + repr(hmac_verifier(SECRET))
    assert SECRET not in text
    assert "4242" not in text
    assert "bad_signature" in text


# --------------------------------------------------------------------------------------------- bearer


def test_when_bearer_token_good_then_accepted() -> None:
    CallbackVerifier(bearer_tokens=["tok-a"]).verify(BODY, {"Authorization": "Bearer tok-a"}, None)


def test_when_bearer_token_wrong_then_bad_token() -> None:
    assert reason(CallbackVerifier(bearer_tokens=["tok-a"]), {"Authorization": "Bearer tok-b"}) == "bad_token"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dG9rLWE="}, {"Authorization": "Bearer "}])
def test_when_bearer_missing_then_missing_token(headers: dict[str, str]) -> None:
    assert reason(CallbackVerifier(bearer_tokens=["tok-a"]), headers) == "missing_token"


def test_when_bearer_in_custom_header_then_raw_value_compared() -> None:
    verifier = CallbackVerifier(
        bearer_tokens=["sub-key-1", "sub-key-2"], bearer_header="Ocp-Apim-Subscription-Key"
    )
    verifier.verify(BODY, {"ocp-apim-subscription-key": "sub-key-2"}, None)
    assert reason(verifier, {"Ocp-Apim-Subscription-Key": "sub-key-3"}) == "bad_token"
    assert reason(verifier, {"Authorization": "Bearer sub-key-1"}) == "missing_token"


# ----------------------------------------------------------------------------------------------- ip


def test_when_peer_in_allowlist_then_accepted() -> None:
    verifier = CallbackVerifier(ip_allowlist=["203.0.113.0/24", "2001:db8::/32"])
    verifier.verify(BODY, {}, "203.0.113.7")
    verifier.verify(BODY, {}, "2001:db8::5")
    verifier.verify(BODY, {}, "::ffff:203.0.113.9")  # IPv4 peer on a dual-stack socket


def test_when_peer_outside_allowlist_then_denied() -> None:
    verifier = CallbackVerifier(ip_allowlist=["203.0.113.0/24"])
    assert reason(verifier, {}, ip="198.51.100.1") == "ip_not_allowed"
    assert reason(verifier, {}, ip=None) == "missing_remote_ip"
    assert reason(verifier, {}, ip="not-an-ip") == "malformed_remote_ip"


# ------------------------------------------------------------------------------------------ combined


def test_when_modes_combined_then_every_mode_must_pass() -> None:
    verifier = CallbackVerifier(
        hmac_secrets=[SECRET], bearer_tokens=["tok-a"], ip_allowlist=["127.0.0.1/32"], clock=lambda: NOW
    )
    good = {"X-PCIPal-Signature": sign_callback(BODY, SECRET, NOW), "Authorization": "Bearer tok-a"}
    verifier.verify(BODY, good, "127.0.0.1")
    assert verifier.modes == ("ip_allowlist", "bearer", "hmac")  # the order they run: cheapest first
    assert reason(verifier, good, ip="10.0.0.1") == "ip_not_allowed"
    assert reason(verifier, {**good, "Authorization": "Bearer x"}, ip="127.0.0.1") == "bad_token"
    assert reason(verifier, {"Authorization": "Bearer tok-a"}, ip="127.0.0.1") == "missing_signature"


def test_when_no_mode_configured_then_construction_refused_unless_explicit() -> None:
    with pytest.raises(ValueError, match="at least one mode"):
        CallbackVerifier()
    CallbackVerifier(allow_unauthenticated=True).verify(BODY, {}, None)


def test_when_empty_secret_configured_then_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        CallbackVerifier(hmac_secrets=[""])


class _Wrapped:
    """Shaped like the gateway's Secret: the value only through reveal()."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"


def test_secret_wrappers_are_accepted() -> None:
    verifier = CallbackVerifier(
        hmac_secrets=[_Wrapped(SECRET)], bearer_tokens=[_Wrapped("tok")], clock=lambda: NOW
    )
    headers = {"X-PCIPal-Signature": sign_callback(BODY, SECRET, NOW), "Authorization": "Bearer tok"}
    verifier.verify(BODY, headers, None)
