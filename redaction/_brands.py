"""Card brands (issuer prefix ranges and lengths) and the Luhn check.

A digit string is a PAN only if it passes Luhn *and* starts with a known issuer prefix that allows its length.
The brand check is what keeps IMEIs (15 digits, TAC 35/01/86: no brand issues 15-digit numbers there), epoch
timestamps (leading 1: only UATP, and only at 15 digits) and most tracking numbers out.
"""

from __future__ import annotations

from typing import Final

# (low, high, prefix length, brand, allowed lengths); longest prefixes are tried first so that, e.g., Mir
# (2200-2204) and Verve (506099-506198) win over broader ranges.
#
# Source: the issuer tables of braintree/credit-card-type (lib/card-types.ts, MIT; the table behind
# Braintree's and many checkout forms' card detection) and Wikipedia "Payment card number", section "Issuer
# identification number (IIN)" (Maestro, Laser, Dankort, Verve, RuPay, Troy, UATP, BORICA, Humo, UzCard,
# InterPayment, InstaPayment). Where the two differ, the union is kept: over-redacting a look-alike beats
# leaking a card. Braintree's last-resort Maestro prefix "6" is left out: it would make every 6-led Luhn-valid
# 12-19 digit id a card.
_RANGES: Final[tuple[tuple[int, int, int, str, frozenset[int]], ...]] = tuple(
    sorted(
        (
            (4, 4, 1, "visa", frozenset({13, 16, 18, 19})),
            (51, 55, 2, "mastercard", frozenset({16})),
            (2221, 2720, 4, "mastercard", frozenset({16})),
            (34, 34, 2, "amex", frozenset({15})),
            (37, 37, 2, "amex", frozenset({15})),
            (6011, 6011, 4, "discover", frozenset(range(16, 20))),
            (644, 649, 3, "discover", frozenset(range(16, 20))),
            (65, 65, 2, "discover", frozenset(range(16, 20))),
            (3528, 3589, 4, "jcb", frozenset(range(16, 20))),
            (2131, 2131, 4, "jcb", frozenset(range(15, 20))),
            (1800, 1800, 4, "jcb", frozenset(range(15, 20))),
            (300, 305, 3, "diners", frozenset(range(14, 20))),
            (3095, 3095, 4, "diners", frozenset(range(14, 20))),
            (36, 36, 2, "diners", frozenset(range(14, 20))),
            (38, 39, 2, "diners", frozenset(range(14, 20))),
            (62, 62, 2, "unionpay", frozenset(range(14, 20))),
            (81, 81, 2, "unionpay", frozenset(range(16, 20))),
            # Maestro: braintree's 50xxxx ranges (500000-508999 less Verve/Dankort, which win as longer
            # prefixes), 56-59, 63, 67, and the Wikipedia list (5018, 5020, 5038, 5893, 6304, 6759, 6761-6763).
            (50, 50, 2, "maestro", frozenset(range(12, 20))),
            (56, 59, 2, "maestro", frozenset(range(12, 20))),
            (63, 63, 2, "maestro", frozenset(range(12, 20))),
            (67, 67, 2, "maestro", frozenset(range(12, 20))),
            (493698, 493698, 6, "maestro", frozenset(range(12, 20))),
            (5018, 5018, 4, "maestro", frozenset(range(12, 20))),
            (5020, 5020, 4, "maestro", frozenset(range(12, 20))),
            (5038, 5038, 4, "maestro", frozenset(range(12, 20))),
            (5893, 5893, 4, "maestro", frozenset(range(12, 20))),
            (6304, 6304, 4, "maestro", frozenset(range(12, 20))),
            (6759, 6759, 4, "maestro", frozenset(range(12, 20))),
            (6761, 6763, 4, "maestro", frozenset(range(12, 20))),
            # Laser (Ireland, withdrawn 2014; old records): 6706, 6709, 6771 (6304 is reported as Maestro).
            (6706, 6706, 4, "laser", frozenset(range(16, 20))),
            (6709, 6709, 4, "laser", frozenset(range(16, 20))),
            (6771, 6771, 4, "laser", frozenset(range(16, 20))),
            (1, 1, 1, "uatp", frozenset({15})),
            (2200, 2204, 4, "mir", frozenset(range(16, 20))),
            (2205, 2205, 4, "borica", frozenset({16})),
            (60, 60, 2, "rupay", frozenset({16})),
            (82, 82, 2, "rupay", frozenset({16})),
            (508, 508, 3, "rupay", frozenset({16})),
            (636, 636, 3, "interpayment", frozenset(range(16, 20))),
            (637, 639, 3, "instapayment", frozenset({16})),
            (506099, 506198, 6, "verve", frozenset({16, 18, 19})),
            (507865, 507964, 6, "verve", frozenset({16, 18, 19})),
            (650002, 650027, 6, "verve", frozenset({16, 18, 19})),
            (5019, 5019, 4, "dankort", frozenset({16})),
            (9792, 9792, 4, "troy", frozenset({16})),
            (9860, 9860, 4, "humo", frozenset({16})),
            (8600, 8600, 4, "uzcard", frozenset({16})),
            (357111, 357111, 6, "lankapay", frozenset({16})),
        ),
        key=lambda r: -r[2],
    )
)

BRANDS: Final[frozenset[str]] = frozenset(r[3] for r in _RANGES)


_DOUBLED: Final = bytes.maketrans(b"0123456789", b"0246813579")  # 2d, minus 9 when over 9, as a digit


def luhn_ok(digits: str) -> bool:
    """True if the ASCII digit string passes the Luhn (mod 10) check."""
    if digits.isascii() and digits.isdigit():
        raw = digits.encode()
        return (sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_DOUBLED)) - 48 * len(raw)) % 10 == 0
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# prefix length -> {prefix: (brand, lengths)}, built once from _RANGES (longest prefix first).
_BY_PREFIX: Final[tuple[tuple[int, dict[str, tuple[str, frozenset[int]]]], ...]] = tuple(
    (plen, {str(v): (r[3], r[4]) for r in _RANGES if r[2] == plen for v in range(r[0], r[1] + 1)})
    for plen in sorted({r[2] for r in _RANGES}, reverse=True)
)


_LONG_STARTS: Final = frozenset(str(v)[:4] for plen, table in _BY_PREFIX if plen > 4 for v in table)
_SHORT_PREFIX: Final = tuple((plen, table) for plen, table in _BY_PREFIX if plen <= 4)
# 4-digit start -> brand per length (index 0-19), filled on first use; () where a 6-digit prefix decides.
_BY_FIRST4: Final[dict[str, tuple[str | None, ...]]] = {}


def _first4_row(key: str) -> tuple[str | None, ...]:
    if not (key.isascii() and key.isdigit()):
        return ()  # not cached: at most the 10,000 digit keys are
    if key in _LONG_STARTS:
        row: tuple[str | None, ...] = ()
    else:
        hits = [hit for plen, table in _SHORT_PREFIX if (hit := table.get(key[:plen])) is not None]
        row = (None,) * 12 + tuple(next((b for b, lengths in hits if n in lengths), None) for n in range(12, 20))
    _BY_FIRST4[key] = row
    return row


def brand_of(digits: str) -> str | None:
    """The brand whose prefix range and length admit ``digits``, or None (no Luhn check here)."""
    n = len(digits)
    if n < 12 or n > 19:
        return None
    key = digits[:4]
    row = _BY_FIRST4.get(key)
    if row is None:
        row = _first4_row(key)
    if row:
        return row[n]
    for plen, table in _BY_PREFIX:
        hit = table.get(digits[:plen])
        if hit is not None and n in hit[1]:
            return hit[0]
    return None


def pan_brand(digits: str) -> str | None:
    """The brand if ``digits`` is a plausible PAN (brand prefix + length + Luhn), else None."""
    brand = brand_of(digits)
    if brand is not None and luhn_ok(digits):
        return brand
    return None


def prefix_min_lengths(width: int = 4) -> dict[str, int]:
    """Every issuer prefix cut to ``width`` digits -> the shortest PAN length a brand allows after it.

    A superset description of ``brand_of``: a digit string it accepts starts with one of these prefixes and is
    at least that long (used to build the engine's regex pre-filter).
    """
    out: dict[str, int] = {}
    for low, high, _plen, _brand, lengths in _RANGES:
        for v in range(low, high + 1):
            key = str(v)[:width]
            out[key] = min(out.get(key, 99), min(lengths))
    return out


_FULL_PREFIXES: Final = frozenset(str(v) for r in _RANGES for v in range(r[0], r[1] + 1))
_PARTIAL_PREFIXES: Final = frozenset(p[:i] for p in _FULL_PREFIXES for i in range(1, len(p)))
_VIABLE: Final[dict[str, bool]] = {}


def viable_prefix(digits: str) -> bool:
    """True if some card number could start with ``digits`` (an issuer prefix is, or may become, its start)."""
    key = digits[:6]
    got = _VIABLE.get(key)
    if got is None:
        got = any(key[:i] in _FULL_PREFIXES for i in range(1, len(key) + 1)) or key in _PARTIAL_PREFIXES
        _VIABLE[key] = got
    return got
