"""Redaction of decoded JSON values: by key name, by content, and across sibling fields / array items."""

from __future__ import annotations

import re
from typing import Any, Final

from redaction._brands import pan_brand
from redaction._engine import Finding, Group, _select, key_kind, marker, redact, same_number
from redaction._normalize import normalize_for_detection

_PAN_KEYS: Final = frozenset(
    "cardnumber pan number ccnumber ccnum cardnum cardno creditcard creditcardnumber accountnumber "
    "primaryaccountnumber card_pan".replace("_", "").split()
)
_CVV_KEYS: Final = frozenset(
    ["cvc", "cvv", "cvv2", "cvc2", "cv2", "csc", "cvn", "cid", "securitycode", "cardsecuritycode", "cardcvc"]
)
_EXP_KEYS: Final = frozenset(
    [
        "expmonth",
        "expyear",
        "expiry",
        "expiration",
        "expirationdate",
        "expirydate",
        "expdate",
        "exp",
        "cardexpiry",
        "expirationmonth",
        "expirationyear",
        "expiremonth",
        "expireyear",
    ]
)
_SEPARATORS: Final = re.compile(r"[\s\-./_]+")
_PIECE: Final = re.compile(r"[0-9]{1,19}")


def _norm_key(key: object) -> str:
    return "".join(ch for ch in str(key).lower() if ch.isalnum())


def _key_marker(key: str, value: Any) -> str | None:
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        return None
    text = str(value)
    if key in _PAN_KEYS:
        digits = "".join(ch for ch in text if ch.isdigit())
        if not digits:
            return None
        brand = pan_brand(digits)
        return marker(Finding(0, 0, "pan", brand, digits[-4:] if brand else None))
    if key in _CVV_KEYS:
        return "[cvv]" if text else None
    if key in _EXP_KEYS:
        return "[expiry]" if text else None
    return None


def _digit_piece(value: Any) -> str | None:
    """The digits of a value that is nothing but a short digit group (a fragment of a split number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value) if value >= 0 else ""
    elif isinstance(value, str):
        text = _SEPARATORS.sub("", normalize_for_detection(value)[0] if not value.isascii() or "&" in value else value)
    else:
        return None
    return text if _PIECE.fullmatch(text) else None


def _split_pans(values: list[Any], keys: list[Any] | None = None) -> set[int]:
    """Indexes of values that together form a PAN (consecutive digit-only siblings: array items, digit
    strings, or integers under keys that differ only in digits; see ``_engine.same_number``)."""
    hit: set[int] = set()
    run: list[Group] = []
    idx: list[int] = []
    prev_kind = ""

    def flush() -> None:
        if len(run) >= 2:
            for i, j, _brand, _digits in _select(run):
                if j > i:
                    hit.update(idx[i : j + 1])
        run.clear()
        idx.clear()

    for n, value in enumerate(values):
        piece = _digit_piece(value)
        if piece is None:
            flush()
            continue
        kind = key_kind(None if keys is None else str(keys[n]), value)
        if run and not same_number(prev_kind, kind):
            flush()
        prev_kind = kind
        run.append((piece, n, n + 1, " "))
        idx.append(n)
    flush()
    return hit


def redact_json(value: Any) -> Any:
    """A copy of a decoded JSON value with card data replaced by markers."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        items = list(value.items())
        split = _split_pans([v for _, v in items], [k for k, _ in items])
        out: dict[Any, Any] = {}
        for n, (k, v) in enumerate(items):
            key = redact(k) if isinstance(k, str) else k
            mark = _key_marker(_norm_key(k), v)
            if mark is not None:
                out[key] = mark
            elif n in split:
                out[key] = "[card]"
            else:
                out[key] = redact_json(v)
        return out
    if isinstance(value, (list, tuple)):
        split = _split_pans(list(value))
        return ["[card]" if n in split else redact_json(v) for n, v in enumerate(value)]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**11:
        text = str(value)
        brand = pan_brand(text)
        if brand is not None:
            return marker(Finding(0, len(text), "pan", brand, text[-4:]))
    return value


def json_has_pan(value: Any) -> bool:
    """True if a decoded JSON value holds a PAN anywhere: in a string, a number, or split across siblings."""
    from redaction._engine import scan_pans

    if isinstance(value, str):
        return bool(scan_pans(value))
    if isinstance(value, dict):
        if _split_pans(list(value.values()), list(value.keys())):
            return True
        return any(json_has_pan(v) or json_has_pan(k) for k, v in value.items())
    if isinstance(value, list):
        return bool(_split_pans(value)) or any(json_has_pan(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**11:
        return pan_brand(str(value)) is not None
    return False
