"""Card numbers for the security pass, and the leak detector its tests assert with.

Card numbers: Stripe's public test numbers, and synthetic Luhn-valid numbers built from brand prefixes, each
in several spellings (plain, spaced, dashed, dotted, JSON unicode escapes).

Leak: more than the last four digits of a PAN anywhere. The detector splits the text into digit groups
(digits joined by at most three separators: spaces, dashes, dots, slashes), after decoding ``\\u003N`` JSON
escapes and ``%3N`` percent escapes, and reports a PAN when a group

* shares a run of 9 or more consecutive digits with it (a full, truncated or partly masked PAN, wherever it
  sits, even glued to other digits), or
* consists of 6 to 8 consecutive digits of it and stands alone, not inside a hex token (a BIN, a middle
  block, ``424242******4242``). Request ids and hashes are hex, so a digit group inside one is chance.

Chance matches are negligible at these lengths; the last four digits alone (``card_last4``, ``••4242``) are
allowed, as PCI DSS allows them.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

#: Stripe's documented public test card numbers (https://docs.stripe.com/testing).
PUBLIC_TEST_PANS = (
    "4242424242424242",  # Visa
    "4000056655665556",  # Visa debit
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # American Express
    "6011111111111117",  # Discover
    "3056930009020004",  # Diners Club
    "3566002020360505",  # JCB
)

#: (prefix, length) per brand, for synthetic numbers.
BRANDS = (
    ("4", 16),
    ("4", 19),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("65", 16),
    ("3528", 16),
)


def luhn_check_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


@st.composite
def synthetic_pans(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(BRANDS))
    body = draw(st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1))
    partial = prefix + body
    return partial + luhn_check_digit(partial)


pans = st.one_of(st.sampled_from(PUBLIC_TEST_PANS), synthetic_pans())


def _groups(pan: str, sizes: tuple[int, ...]) -> list[str]:
    out, i = [], 0
    for n in sizes:
        out.append(pan[i : i + n])
        i += n
    if i < len(pan):
        out.append(pan[i:])
    return [g for g in out if g]


def spellings(pan: str) -> dict[str, str]:
    """The ways a caller, a bot or a careless integration writes a card number (as text)."""
    fours = _groups(pan, (4,) * 5)
    amex = _groups(pan, (4, 6, 5))
    return {
        "plain": pan,
        "spaced": " ".join(fours),
        "dashed": "-".join(fours),
        "dotted": ".".join(fours),
        "amex_spaced": " ".join(amex),
        "nbsp": "\u00a0".join(fours),
    }


def json_unicode_escaped(pan: str) -> str:
    """The JSON source text of a string holding ``pan`` with every digit written as ``\\u003N``."""
    return '"' + "".join(f"\\u{ord(c):04x}" for c in pan) + '"'


# --- leak detection ----------------------------------------------------------------------------------------

_DIGIT_GROUP = re.compile(r"\d(?:[ \-./\u00a0\u2010-\u2015]{0,3}\d)*")
_HEX = set("0123456789abcdefABCDEF")
_UNICODE_ESCAPE = re.compile(r"\\u00(3[0-9])")
_PERCENT = re.compile(r"%(3[0-9])")


def _normalise(text: str) -> str:
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), text)


def _windows(pan: str, n: int) -> set[str]:
    return {pan[i : i + n] for i in range(len(pan) - n + 1)}


def _candidates(pan: str) -> re.Pattern[str]:
    """Any 6 consecutive digits of ``pan``, separators allowed between them: a cheap C-speed pre-filter."""
    sep = r"[ \-./\u00a0\u2010-\u2015]{0,3}"
    alts = sorted({sep.join(w) for w in _windows(pan, 6)})
    return re.compile("|".join(alts))


def find_leaks(
    text: str, pan_list: list[str] | set[str] | tuple[str, ...], *, short_runs: bool = True
) -> list[str]:
    """Each ``pan`` of which ``text`` holds more than the last four digits, with the offending excerpt.
    ``short_runs=False`` drops the 6-8 digit rule: for scans against hundreds of numbers at once, where a
    6-digit amount would match one of them by chance (each example's own scan keeps the rule)."""
    text = _normalise(text)
    found: list[str] = []
    for pan in pan_list:
        nines = _windows(pan, 9)
        seen: set[int] = set()
        for c in _candidates(pan).finditer(text):
            # Look at the whole digit group around the candidate.
            lo = max(0, c.start() - 80)
            window = text[lo : c.end() + 80]
            for m in _DIGIT_GROUP.finditer(window):
                if not (m.start() <= c.start() - lo < m.end()) or lo + m.start() in seen:
                    continue
                seen.add(lo + m.start())
                digits = re.sub(r"\D", "", m.group())
                before = window[m.start() - 1] if m.start() > 0 else " "
                after = window[m.end()] if m.end() < len(window) else " "
                standalone = before not in _HEX and after not in _HEX
                if any(w in digits for w in nines) or (short_runs and standalone and 6 <= len(digits) <= 8 and digits in pan):
                    found.append(f"{pan}: ...{window}...")
    return found
