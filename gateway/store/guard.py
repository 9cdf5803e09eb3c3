"""The store's card-data guard: every text value bound into a statement passes here, on both backends.

Why at the execute layer: a gate at the front door only sees what it knows about. Values reach the store from
many places (action params, headers, provider text, webhook payloads, callbacks) and the next column someone
adds would be one more place to remember. Every ``str`` parameter of every statement (``INSERT``, ``UPDATE``,
and lookups alike, so an equality lookup of a value that was redacted on insert still finds its row) goes
through :func:`guard_args`; nothing reaches SQLite or PostgreSQL without it.

Cost: a text shorter than any card number is passed as is; anything else gets the detector's C-speed
pre-check (``contains_card_number``), which rules out ids, hashes, timestamps and ordinary prose. Only a hit
pays for redaction. JSON documents (stored payloads, responses, params) are redacted as JSON, so the column
stays valid JSON and numbers or escaped digits inside it are found too.

The function is idempotent (a redacted value holds no card number), so a caller that redacts first, for
example the audit log, which hashes what it stores, gets exactly what it hashed.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from redaction import contains_card_number, redact, redact_json

log = logging.getLogger("voicepay.store")

#: Shorter than the shortest card number (12 digits): nothing to find.
MIN_LENGTH: Final = 12
#: What a value becomes when redacting it in place did not remove the card number (the detector's scan and
#: its redactor disagree, e.g. a number split over sibling JSON values that ``redact`` cannot pin down).
WITHHELD: Final = "[card data removed]"


def needs_guard(text: str) -> bool:
    return len(text) >= MIN_LENGTH and contains_card_number(text)


def _redact_text(text: str) -> str:
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        else:
            out = json.dumps(redact_json(value), separators=(",", ":"), ensure_ascii=False)
            return out if not contains_card_number(out) else json.dumps(WITHHELD)
    out = redact(text)
    return out if not contains_card_number(out) else WITHHELD


def guard_text(text: str) -> str:
    """``text`` without card data (unchanged, the same object, when it holds none)."""
    if not needs_guard(text):
        return text
    return _redact_text(text)


def guard_args(args: tuple[Any, ...], sql: str = "") -> tuple[Any, ...]:
    """The statement's parameters with card data removed from every text value.

    The common case (nothing to remove) returns ``args`` itself: one pre-check per text value, no copy.
    """
    if not any(isinstance(arg, str) and needs_guard(arg) for arg in args):
        return args
    # Names the statement (its first words: verb and table), never a value.
    log.warning("card data removed from a value bound to: %s", " ".join(sql.split()[:3])[:60])
    return tuple(guard_text(a) if isinstance(a, str) else a for a in args)
