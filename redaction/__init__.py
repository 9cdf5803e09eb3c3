"""Card-data detection and removal (interim implementation; the redaction engine issue replaces it).

Public API: scan, redact, redact_json, contains_card_number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "contains_card_number", "redact", "redact_json", "scan"]

_RUN = re.compile(r"(?<![0-9])[0-9](?:[ \-.]?[0-9]){11,18}(?![0-9])")


@dataclass(frozen=True, slots=True)
class Finding:
    start: int
    end: int
    kind: str
    brand: str | None = None
    last4: str | None = None


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def scan(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _RUN.finditer(text):
        digits = re.sub(r"[^0-9]", "", m.group())
        if 12 <= len(digits) <= 19 and _luhn(digits):
            out.append(Finding(m.start(), m.end(), "pan", None, digits[-4:]))
    return out


def contains_card_number(text: str) -> bool:
    return bool(scan(text))


def redact(text: str) -> str:
    findings = scan(text)
    if not findings:
        return text
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(f"[card ••{f.last4}]")
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_json(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value
