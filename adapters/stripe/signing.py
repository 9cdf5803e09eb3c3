"""Stripe webhook signatures: produce and verify the ``Stripe-Signature`` header.

Stripe signs ``f"{t}.{raw_body}"`` with HMAC-SHA256 keyed by the endpoint secret (``whsec_...``) and sends
``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=<hex>]``: one ``v1`` per active secret, so during a
secret rotation the header carries several. This module is the single implementation used both by the
sandbox (to sign what it delivers) and by the gateway (to verify what it receives), and its output is checked
against the stripe SDK's own verifier in the tests.

Deliberate differences from ``stripe.WebhookSignature.verify_header``:

* several secrets are accepted (old + new during rotation), a match against any of them passes;
* the timestamp tolerance applies in *both* directions. The SDK only rejects timestamps that are too old;
  a timestamp far in the future is as suspicious as a stale one (a replayable signature minted ahead of
  time, or a badly skewed clock) so we refuse it too;
* ``tolerance <= 0`` is refused rather than meaning "no check": Stripe's docs say never to disable it.

Error messages name the reason only; they never contain the body, the header's signatures or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

__all__ = ["DEFAULT_TOLERANCE", "SignatureError", "compute_signature", "sign_header", "verify_header"]

#: Stripe's libraries default to five minutes; retries are re-signed with a fresh timestamp, so a larger
#: window buys nothing but a longer replay window.
DEFAULT_TOLERANCE = 300

#: The only scheme that counts. Stripe: "To prevent downgrade attacks, ignore all schemes that aren't v1".
_SCHEME = "v1"

#: Stripe's headers are a few hundred bytes (one ``v1`` per active secret); a header far larger is not one, and
#: refusing it early bounds the work a hostile header can cause.
MAX_HEADER_LENGTH = 4096
#: A Unix timestamp in seconds: ASCII digits only (``str.isdigit`` also accepts ``²`` or Arabic-Indic digits,
#: which ``int`` then refuses or reads), and short (``int`` of thousands of digits is slow, then refused).
_TIMESTAMP_MAX_DIGITS = 12


class SignatureError(Exception):
    """The header does not prove the payload came from Stripe. ``reason`` is a short stable slug."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``b"{timestamp}." + payload`` keyed by ``secret`` (Stripe's v1 scheme)."""
    signed = str(timestamp).encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_header(payload: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """Build a ``Stripe-Signature`` value: ``t=<timestamp>`` then one ``v1=`` per secret, in order."""
    if isinstance(secrets, str):
        # A bare string is a Sequence[str] too; signing with each character would be a silent disaster.
        raise TypeError("secrets must be a sequence of secrets, not a single string")
    if not secrets:
        raise ValueError("at least one secret is required")
    parts = [f"t={int(timestamp)}"]
    parts.extend(f"{_SCHEME}={compute_signature(payload, s, int(timestamp))}" for s in secrets)
    return ",".join(parts)


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            raise SignatureError("malformed_header")
        if key == "t":
            if (
                timestamp is not None
                or not value.isascii()
                or not value.isdigit()
                or len(value) > _TIMESTAMP_MAX_DIGITS
            ):
                raise SignatureError("malformed_header")
            timestamp = int(value)
        elif key == _SCHEME:
            signatures.append(value)
        # Other schemes (v0 test signatures, future ones) are ignored on purpose: see _SCHEME.
    if timestamp is None:
        raise SignatureError("malformed_header")
    return timestamp, signatures


def verify_header(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``payload`` and every secret in ``secrets``; return the signed timestamp.

    Raises :class:`SignatureError` with ``reason`` one of ``missing_header``, ``malformed_header``,
    ``no_v1_signature``, ``no_secret``, ``no_match``, ``timestamp_out_of_tolerance``.
    The signature is checked before the timestamp so a forger learns nothing about the clock window.
    """
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of secrets, not a single string")
    if not header or not header.strip():
        raise SignatureError("missing_header")
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError("malformed_header")
    usable = [s for s in secrets if s and s.strip()]
    if not usable:
        raise SignatureError("no_secret")
    if tolerance <= 0:
        raise ValueError("tolerance must be positive; Stripe advises never to disable the check")
    timestamp, signatures = _parse(header)
    if not signatures:
        raise SignatureError("no_v1_signature")
    matched = False
    for secret in usable:
        expected = compute_signature(payload, secret, timestamp)
        for candidate in signatures:
            # No early exit: every pair is compared so timing says nothing about which one matched.
            if hmac.compare_digest(expected.encode("ascii"), candidate.encode("utf-8", "replace")):
                matched = True
    if not matched:
        raise SignatureError("no_match")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp_out_of_tolerance")
    return timestamp
