"""Card-data detection and removal: PAN / CVV / expiry in text, JSON, spoken digits, streams; keyed tokens.

Public API (stable)::

    scan(text) -> list[Finding]         every card-data span (start, end, kind, brand, last4)
    redact(text) -> str                 findings replaced by markers: [card visa ••4242], [cvv], [expiry]
    redact_json(value) -> Any           dicts/lists: by key name, by content, across sibling fields
    contains_card_number(text) -> bool  the card-data gate for request bodies
    normalize_for_detection(text)       (normalised text, OffsetMap | None): what every detector reads
    fold_digits(text) -> str            the ASCII digits of the normalised text (for sink checks)
    StreamRedactor                      feed(chunk) -> str, flush() -> str
    Tokenizer(key).tokenize(pan)        HMAC-SHA-256 token tok_... with brand and last4
    redaction.logging.RedactingFilter   logging.Filter for the root logger
    redaction.cli.main(argv)            python -m redaction: stdin -> stdout

Pure library: no I/O (except the CLI), no import of gateway or adapters.
"""

from __future__ import annotations

import json
import re
from typing import Final

from redaction._brands import BRANDS, luhn_ok, pan_brand
from redaction._engine import _PAN_PATHS, _WORDS, Finding, _scan_pans, _triage, redact, scan
from redaction._json import json_has_pan, redact_json
from redaction._normalize import OffsetMap, fold_digits, normalize_for_detection
from redaction.stream import StreamRedactor
from redaction.tokens import CardToken, Tokenizer

__all__ = [
    "BRANDS",
    "CardToken",
    "Finding",
    "OffsetMap",
    "StreamRedactor",
    "Tokenizer",
    "contains_card_number",
    "fold_digits",
    "luhn_ok",
    "normalize_for_detection",
    "pan_brand",
    "redact",
    "redact_json",
    "scan",
]


def contains_card_number(text: str) -> bool:
    """True if ``text`` holds a card number: brand + length + Luhn valid, in any supported format (separated,
    URL-encoded, spoken, split over turns) or, when ``text`` is a JSON document, split across sibling fields.

    A C-speed pre-check (``_triage``) rules out ordinary text; JSON is only decoded when it could hold a card
    the raw scan cannot see (see ``_json_may_hide_pan``).
    """
    norm, _omap = normalize_for_detection(text)
    flags = _triage(norm)
    if flags & _PAN_PATHS and _scan_pans(norm, flags):
        return True
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and _json_may_hide_pan(text, flags) and (_MANY_DIGITS(norm) or flags & _WORDS):
        try:
            value = json.loads(text)
        except ValueError:
            return False
        return json_has_pan(value)
    return False


_NOT_DIGITS: Final = bytes(b for b in range(256) if not 48 <= b <= 57)


def _MANY_DIGITS(text: str) -> bool:
    return len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_DIGITS)) >= 12


# A JSON value that ``_json._digit_piece`` may accept: an integer, or a string of digits and separators (a value
# follows ":", "," or "[").
_JSON_PIECE: Final = re.compile(r'[:,\[]\s*(?:-?[0-9]+(?![0-9.eE])|"[\s\-./_]*[0-9][0-9\s\-./_]*")')


def _json_may_hide_pan(text: str, flags: int) -> bool:
    """False only if decoding ``text`` cannot reveal a PAN (``json_has_pan``) beyond the raw scan's reach.

    Without a backslash, every decoded string (key or value) is a verbatim slice of ``text`` between quotes
    (raw control characters make ``json.loads`` fail), so a string holding a PAN, and an integer that is one,
    would have set ``_DIGITS`` / ``_WORDS`` in the raw text's triage. What is left is a PAN split over sibling
    values: that needs two digit-only values with 12+ characters between them.
    """
    if "\\" in text or flags & _PAN_PATHS:
        return True
    pieces = _JSON_PIECE.findall(text)
    return len(pieces) >= 2 and sum(map(len, pieces)) >= 12
