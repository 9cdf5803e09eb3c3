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
import re
from typing import Any, Final

from redaction import contains_card_number, redact, redact_json, scan

log = logging.getLogger("voicepay.store")

#: Shorter than the shortest card number (12 digits): nothing to find.
MIN_LENGTH: Final = 12
#: What a value becomes when redacting it in place did not remove the card number (the detector's scan and
#: its redactor disagree, e.g. a number split over sibling JSON values that ``redact`` cannot pin down).
WITHHELD: Final = "[card data removed]"


_DIGIT: Final = re.compile(r"[^\W_a-zA-Z]")  # a decimal digit of any script
_SEPARATORS: Final = re.compile(r"[\s\-./_]+")
_BIG: Final = 10**11  # an integer this size could be a card number on its own


_ASCII_DIGITS: Final = frozenset("0123456789")


#: Six digits, up to three separators between each: what a piece of a number split over fields must hold to
#: be read with the others. Fewer would join amounts ("£12.99"), last fours and ids with a scattered digit or
#: two (``pi_sinks12``) into chance card numbers; a split leaving both halves under six digits is not caught
#: here (the request gate joins every string).
_PIECE_OF_CARD: Final = re.compile(r"\d(?:[\W_]{0,3}\d){5}")
#: ISO dates and times are not pieces (three of them in a row read as a chance Mastercard 2-series number).
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def _has_digit(text: str) -> bool:
    # C-speed for the common ASCII case; the regex only for text with other scripts.
    return not _ASCII_DIGITS.isdisjoint(text) or (not text.isascii() and _DIGIT.search(text) is not None)


def _piece(text: str) -> bool:
    return _has_digit(text) and _PIECE_OF_CARD.search(_DATE.sub(" ", text)) is not None


def _walk(value: Any, strings: list[tuple[Any, Any, str]], runs: list[str]) -> None:
    """Collect (container, key, text) of every string with a piece of six digits or more, in document order
    (keys as (None, None, key)), and the digits of every run of 2+ digit-only sibling values (a number split
    over siblings)."""
    items: Any = value.items() if type(value) is dict else enumerate(value)
    run: list[str] = []
    for k, v in items:
        if type(k) is str and _piece(k):
            strings.append((None, None, k))
        piece: str | None = None
        tv = type(v)
        if tv is str:
            if _has_digit(v):
                if _PIECE_OF_CARD.search(_DATE.sub(" ", v)):
                    strings.append((value, k, v))
                bare = _SEPARATORS.sub("", v)
                piece = bare if bare.isdigit() else None
        elif tv is int and v >= 0:
            piece = str(v)
            if v >= _BIG:
                runs.append(piece)
        elif tv is dict or tv is list:
            _walk(v, strings, runs)
        if piece is not None:
            run.append(piece)
        elif run:
            if len(run) > 1:
                runs.append(" ".join(run))
            run = []
    if len(run) > 1:
        runs.append(" ".join(run))


#: Up to this many pieces, every ordered pair of them is also read as one text: a stored document may list
#: its fields in another order than they were sent (``sort_keys``), so the second half can come first.
MAX_PAIRED_PIECES: Final = 6


_ENDS_WITH_DIGIT: Final = re.compile(r"\d[\W_]{0,3}$")
_STARTS_WITH_DIGIT: Final = re.compile(r"^[\W_]{0,3}\d")


def _orders(pieces: list[str], pairs: bool) -> list[tuple[int, ...]]:
    """The sequences of pieces read as one text: all of them in document order and, with ``pairs``, every
    other ordered pair that could join (the first ends with a digit, the second starts with one)."""
    count = len(pieces)
    orders: list[tuple[int, ...]] = [tuple(range(count))]
    if pairs and 1 < count <= MAX_PAIRED_PIECES:
        tails = [i for i, p in enumerate(pieces) if _ENDS_WITH_DIGIT.search(p)]
        heads = [j for j, p in enumerate(pieces) if _STARTS_WITH_DIGIT.search(p)]
        orders += [(i, j) for i in tails for j in heads if i != j and j != i + 1]
    return orders


def value_has_card(value: Any, *, pairs: bool = False) -> bool:
    """True if a decoded JSON value holds a card number: in a string (escapes already decoded), in an integer,
    split over digit-only siblings, or split over string values anywhere in the document (``{"summary": "card
    4242 4242", "ids": ["4242 4242"]}``): the strings with six digits or more are read as one text, in order
    and, with ``pairs`` (stored documents, whose keys may have been sorted), two by two in the other order
    too (up to ``MAX_PAIRED_PIECES`` of them)."""
    if type(value) is not dict and type(value) is not list:
        return isinstance(value, str) and len(value) >= MIN_LENGTH and contains_card_number(value)
    strings: list[tuple[Any, Any, str]] = []
    runs: list[str] = []
    _walk(value, strings, runs)
    # One detector call per document: a word between two readings keeps their digits apart.
    texts = [r for r in runs if len(r) >= MIN_LENGTH]
    if strings:
        pieces = [text for _, _, text in strings]
        texts += [" ".join(pieces[k] for k in order) for order in _orders(pieces, pairs)]
    joined = " qq ".join(dict.fromkeys(texts))
    return len(joined) >= MIN_LENGTH and contains_card_number(joined)


def redact_value(value: Any, *, pairs: bool = False) -> Any:
    """A copy of a decoded JSON value without card data: ``redact_json`` (by key, by content, across
    siblings), then the slices of a number split over string values masked (read as ``value_has_card``
    reads them)."""
    value = redact_json(value)
    if type(value) is not dict and type(value) is not list:
        return value
    strings: list[tuple[Any, Any, str]] = []
    _walk(value, strings, [])
    parts = [p for p in strings if p[0] is not None]
    if len(parts) < 2:
        return value
    cuts: dict[int, list[tuple[int, int]]] = {}
    for order in _orders([text for _, _, text in parts], pairs):
        starts, pos = [], 0
        for k in order:
            starts.append(pos)
            pos += len(parts[k][2]) + 1
        joined = " ".join(parts[k][2] for k in order)
        if not contains_card_number(joined):
            continue
        for f in scan(joined):
            if f.kind != "pan":
                continue
            for n, k in enumerate(order):
                lo, hi = max(f.start, starts[n]), min(f.end, starts[n] + len(parts[k][2]))
                if lo < hi:
                    cuts.setdefault(k, []).append((lo - starts[n], hi - starts[n]))
    for k, spans in cuts.items():
        container, key, text = parts[k]
        merged: list[list[int]] = []
        for lo, hi in sorted(spans):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        for lo, hi in reversed(merged):
            text = text[:lo] + "[card]" + text[hi:]
        container[key] = text
    return value


def _json(text: str) -> Any:
    """The decoded document if ``text`` is a JSON object or array, else ``None``."""
    if text[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def needs_guard(text: str) -> bool:
    if len(text) < MIN_LENGTH:
        return False
    value = _json(text)
    return value_has_card(value, pairs=True) if value is not None else contains_card_number(text)


def _redact_text(text: str) -> str:
    value = _json(text)
    if value is not None:
        clean = redact_value(value, pairs=True)
        if value_has_card(clean, pairs=True):
            clean = WITHHELD
        return json.dumps(clean, separators=(",", ":"), ensure_ascii=False)
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
