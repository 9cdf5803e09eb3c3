"""The secret type shared by the gateway and the adapters (DESIGN.md: secrets are types, not strings).

It lives here, the lowest layer that needs it, so both ``gateway`` and the adapters use one class.
"""

from __future__ import annotations

import secrets
from typing import Protocol, runtime_checkable


@runtime_checkable
class SupportsReveal(Protocol):
    """Anything that gives its secret value only through ``reveal()``."""

    def reveal(self) -> str: ...


class Secret:
    """A secret string. ``str()``/``repr()`` give ``***``; only :meth:`reveal` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return secrets.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def reveal(value: str | SupportsReveal) -> str:
    return value if isinstance(value, str) else value.reveal()
