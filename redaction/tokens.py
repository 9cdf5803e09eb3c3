"""Keyed, irreversible card tokens (PCI DSS 3.5.1.1: a keyed cryptographic hash, never a bare hash)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from redaction._brands import pan_brand


@dataclass(frozen=True, slots=True)
class CardToken:
    token: str
    brand: str | None
    last4: str

    def __str__(self) -> str:
        return self.token


class Tokenizer:
    """``tokenize(pan)`` -> deterministic ``tok_...`` under a secret key (HMAC-SHA-256), with brand and last4.

    The same PAN under the same key always gives the same token, so two captures of one card can be matched
    without storing the card; without the key a token cannot be recomputed or brute-forced from a PAN list.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes | str) -> None:
        raw = key.encode() if isinstance(key, str) else bytes(key)
        if len(raw) < 16:
            raise ValueError("tokenizer key must be at least 16 bytes")
        self._key = raw

    def __repr__(self) -> str:
        return "Tokenizer(key=***)"

    def tokenize(self, pan: str) -> CardToken:
        digits = "".join(ch for ch in pan if ch.isdigit() and ch.isascii())
        if not 12 <= len(digits) <= 19:
            raise ValueError("not a card number: expected 12-19 digits")
        mac = hmac.new(self._key, b"voicepay-pan-v1:" + digits.encode(), hashlib.sha256).digest()
        token = "tok_" + base64.b32encode(mac[:20]).decode().lower().rstrip("=")
        return CardToken(token, pan_brand(digits), digits[-4:])
