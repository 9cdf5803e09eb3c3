"""Card-data detection and removal: PAN / CVV / expiry in text, JSON, spoken digits, streams; keyed tokens.

Public API (stable)::

    scan(text) -> list[Finding]         every card-data span (start, end, kind, brand, last4)
    redact(text) -> str                 findings replaced by markers: [card visa ••4242], [cvv], [expiry]
    redact_json(value) -> Any           dicts/lists: by key name, by content, across sibling fields
    contains_card_number(text) -> bool  the card-data gate for request bodies
    StreamRedactor                      feed(chunk) -> str, flush() -> str
    Tokenizer(key).tokenize(pan)        HMAC-SHA-256 token tok_... with brand and last4
    redaction.logging.RedactingFilter   logging.Filter for the root logger
    redaction.cli.main(argv)            python -m redaction: stdin -> stdout

Pure library: no I/O (except the CLI), no import of gateway or adapters.
"""

from __future__ import annotations

import json

from redaction._brands import BRANDS, luhn_ok, pan_brand
from redaction._engine import Finding, redact, scan, scan_pans
from redaction._json import json_has_pan, redact_json
from redaction.stream import StreamRedactor
from redaction.tokens import CardToken, Tokenizer

__all__ = [
    "BRANDS",
    "CardToken",
    "Finding",
    "StreamRedactor",
    "Tokenizer",
    "contains_card_number",
    "luhn_ok",
    "pan_brand",
    "redact",
    "redact_json",
    "scan",
]


def contains_card_number(text: str) -> bool:
    """True if ``text`` holds a card number: brand + length + Luhn valid, in any supported format (separated,
    URL-encoded, spoken, split over turns) or, when ``text`` is a JSON document, split across sibling fields.

    One precompiled regex search rules out ordinary text; JSON is only decoded when it holds 12+ digits.
    """
    if scan_pans(text):
        return True
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and _MANY_DIGITS(text):
        try:
            value = json.loads(text)
        except ValueError:
            return False
        return json_has_pan(value)
    return False


def _MANY_DIGITS(text: str) -> bool:
    return sum(text.count(d) for d in "0123456789") >= 12
