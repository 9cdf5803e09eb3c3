"""The detector: PANs (digits, separators, URL-encoding, spoken words, split turns), CVVs and expiry dates.

How a text is scanned:

1. A pre-check (``_triage``: bytes.translate passes, a set lookup, one regex over digits only) rules out a
   text with no run of 12+ digits that starts with an issuer prefix, no number word, no card keyword and no
   speaker label. Most log lines stop here.
2. Digit path: ``_DIGIT_RUN`` finds runs of 12+ digits joined by up to three separator characters (space,
   dash, dot, slash, underscore, plus, NBSP, dashes, ``%20``/``%2D``/``%2F``). A run is cut into groups;
   ``_select`` picks the group-aligned sub-sequences that pass brand + length + Luhn.
3. Word path (only when a number word or a speaker label is present): a tokenizer turns "four two", "oh",
   "double four", "forty two", "nineteen", "twelve hundred" into digit groups, skipping fillers ("um",
   "sorry", "let me see") and, across line breaks, whole agent lines, so a number read over several
   caller turns is one run. Only runs holding a number word or crossing a line are used (pure digit runs
   are the digit path's).
4. Anchors: after each PAN and after each card keyword ("cvv", "security code", "expires", ...) the next
   number within 80 characters is read as an expiry (MM/YY, MM/YYYY, "08 26", "oh eight twenty six",
   "August twenty six") and/or a CVV (3-4 digits, spoken or not).
5. Decoys: a run right after ``+`` (phone), after two capitals (IBAN), inside a UUID or a long hex id
   is dropped.

Locality (what ``StreamRedactor`` relies on): every structure links elements (digits, number words,
month names, keywords) at most ``MAX_GAP`` characters apart, and looks ahead at most ``_ANCHOR_REACH``
characters, so findings never cross a stretch of ``QUIET_SPAN`` characters without such material, and text
on one side of it never changes findings on the other.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from operator import add, sub
from typing import Final

try:
    import ahocorasick_rs
except ImportError:  # a dependency (pyproject.toml); without it ``_triage`` takes its exact test on every text
    ahocorasick_rs = None  # type: ignore[assignment]

from redaction._brands import pan_brand, prefix_min_lengths
from redaction._normalize import TAG_BREAK, OffsetMap, normalize_for_detection
from redaction._spoken import _AGENT_LABELS as SPOKEN_AGENT_LABELS
from redaction._spoken import _HESITATIONS as SPOKEN_HESITATIONS
from redaction._spoken import _TEENS as SPOKEN_TEENS
from redaction._spoken import _TENS as SPOKEN_TENS
from redaction._spoken import _UNITS as SPOKEN_UNITS
from redaction._spoken import FILLERS as SPOKEN_FILLERS
from redaction._spoken import LABELS as SPOKEN_LABELS
from redaction._spoken import MAX_LINK, one_off, spoken_pans
from redaction._views import TEXT_KEY_ALT, has_text_member_with_digit, json_transcript, segments

MAX_GAP: Final = 160
QUIET_SPAN: Final = 240
_ANCHOR_REACH: Final = 80


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of card data in a text: ``text[start:end]``."""

    start: int
    end: int
    kind: str  # "pan" | "cvv" | "expiry"
    brand: str | None = None
    last4: str | None = None


# --- vocabulary ---------------------------------------------------------------------------------------------

# The spoken reader's number words (English, and Spanish digits), less "nil" ("nil by mouth"), and, below,
# its multipliers less "treble": outside a transcript those are too often not a number.
_UNITS: Final = {w: d for w, d in SPOKEN_UNITS.items() if w != "nil"}
_TEENS: Final = SPOKEN_TEENS
_TENS: Final = SPOKEN_TENS
_REPEAT: Final = {"double": 2, "triple": 3}
_PLAIN_UNITS: Final = frozenset(_UNITS) - {"oh", "o"}
_NUMBER_WORDS: Final = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | frozenset(_REPEAT) | {"hundred"}
# Words a caller says between digits without ending the number: the spoken reader's fillers, less the ones
# that only make sense inside a transcript (acknowledgements, retractions, "go ahead"), which in plain text
# would join unrelated digit groups.
_FILLERS: Final = SPOKEN_FILLERS - frozenset(
    ["ahead", "all", "alright", "continue", "correction", "go", "hm", "huh", "mmm", "no", "please", "rather", "ready",
     "scratch", "yep", "yup"]
)
_AGENT_LABELS: Final = SPOKEN_AGENT_LABELS
_CALLER_LABELS: Final = frozenset(["caller", "customer", "user", "client", "human"])
_ALL_LABELS: Final = _AGENT_LABELS | _CALLER_LABELS
_MONTHS: Final = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip


def _alt(words: Sequence[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_NUMWORD_RE: Final = _alt(sorted(_NUMBER_WORDS))
_LABELS_RE: Final = _alt(sorted(_AGENT_LABELS | _CALLER_LABELS))
_CVV_KW: Final = (
    r"cvv2?|cvc2?|cv2|csc|cvn|cid|card\s+verification(?:\s+(?:code|value|number))?|verification\s+code"
    r"|sec(?:urity)?\s*code|(?:three|four|3|4)\s+digits?\s+on\s+the\s+(?:back|front)"
    r"|(?:digits?|numbers?|code)\s+on\s+the\s+back"
)
_EXP_KW: Final = (
    r"exp(?:iry|iration|ires|ire|ir|y)?(?:\s+date)?|expiration\s+date|valid\s+(?:thru|through|until|till)"
    r"|good\s+(?:thru|through)|expiring"
)
_KEYWORDS: Final = re.compile(rf"(?<![\[\w])(?:(?P<cvv>{_CVV_KW})|(?P<exp>{_EXP_KW}))(?!\w)", re.IGNORECASE)

# Separators between digit groups (on normalised text: every Unicode space is " ", every dash "-"): any run
# of whitespace, dashes, dots, slashes and commas ("4242\n4242", "4242, 4242"). Quoted pieces ('"4242",
# "4242"') are JSON values: ``_json_text_pans``.
# (and markdown's emphasis and code marks: "**4242** **4242**", "`4242 4242` *4242*")
# (">": the quote marks of an email reply, "2223 0031\n>> 2200 3222")
_SEP_CHARS: Final = r" \t\r\n\v\f\x00-\x08\x0e-\x1f\x7f\-./_+,;()\u00a0\u2013\u2014*`>"
_SEP: Final = rf"(?:[{_SEP_CHARS}]|%2[0dDfF])"
# The look-behind after the first digit (not before it) lets the regex engine skip to digits in C; the
# possessive repeats save backtracking state (separators and digits are disjoint: the match is the same).
_DIGIT_RUN: Final = re.compile(rf"[0-9](?<![0-9]{{2}})(?:{_SEP}{{0,16}}+[0-9]){{11,}}+")
_DIGIT_GROUP: Final = re.compile(r"%2[0dDfF]|[0-9]+")
_GROUP_SPLIT: Final = re.compile(r"([0-9]+)")
_LABEL_LINE: Final = re.compile(rf"\n[ \t]*(?:{_LABELS_RE})[ \t]*(?:\d+[ \t]*)?:", re.IGNORECASE)
# "Material": anything a finding can start at or a structure can link through (see the module docstring).
MATERIAL: Final = re.compile(
    rf"\d|[〇零一二三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖\u2460-\u24ff\u2776-\u2793\u00b2\u00b3\u00b9\u2070-\u2089"
    rf"\U000e0030-\U000e0039]|%[0-9A-Fa-f]{{2}}|&#?[0-9A-Za-z]+;|\b(?:{_NUMWORD_RE}|{_alt(sorted(_MONTHS))})\b"
    rf"|(?<![\[\w])(?:{_CVV_KW}|{_EXP_KW})(?!\w)"
    # a JSON text key: a transcript's turns are one stretch however much JSON lies between them
    rf"""|["'](?:{TEXT_KEY_ALT})["'][ \t\r\n]*:""",
    re.IGNORECASE,
)

_TOKEN: Final = re.compile(r"%[0-9A-Fa-f]{2}|[0-9]+|[A-Za-z]+(?:['’][A-Za-z]+)?|\n|[^\s0-9A-Za-z]")
# A token at this position that can open a number (``_is_number_tok``): digits or a number word.
_NUMBER_START: Final = re.compile(rf"[0-9]|(?:{_NUMWORD_RE})(?!(?-i:[A-Za-z]|['’][A-Za-z]))", re.IGNORECASE)
_NUMBER_WORD: Final = re.compile(rf"(?<!(?-i:[A-Za-z]))(?:{_NUMWORD_RE})(?!(?-i:[A-Za-z]))", re.IGNORECASE)
_GAP_PUNCT: Final = frozenset(",.;:-–—…!?/()\"'’_+*#" + TAG_BREAK)
# Case-sensitive twins of the IGNORECASE patterns, for ASCII text lower-cased once (``str.lower`` keeps ASCII
# offsets; every literal above is lower-case): the same matches, without per-character case folding.
_KEYWORDS_LC: Final = re.compile(_KEYWORDS.pattern)
_NUMBER_START_LC: Final = re.compile(_NUMBER_START.pattern)
_NUMBER_WORD_LC: Final = re.compile(_NUMBER_WORD.pattern)
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX: Final = frozenset("0123456789abcdefABCDEF")


# --- selecting PANs among digit groups ----------------------------------------------------------------------

# A group: (digits, start, end, separator text before it).
Group = tuple[str, int, int, str]


def _select(
    groups: Sequence[Group], spoken: bool = False, ends: frozenset[int] = frozenset()
) -> list[tuple[int, int, str, str]]:
    """Group-aligned PAN candidates in a run: (first group, last group, brand, digits), left to right.

    A candidate must start at the run's start or right after a previous PAN, or end at the run's end: a
    number buried inside a longer digit run (a spaced 22-digit tracking number) is not a card. Among valid
    lengths from one start the longest wins (over-redacting beats leaking), unless a shorter one is followed
    by a separator not used inside it ("4242424242424242 123": the 123 is not part of the card). Spoken
    runs have no reliable separators (pauses, fillers), so there the longest always wins. ``ends``: group
    indexes followed by an expiry ("... 5991 6/26"), also a natural end.
    """
    n = len(groups)
    out: list[tuple[int, int, str, str]] = []
    i = 0
    free_start = 0
    # a markup tag before a group: the number may start there, or end before it
    tagged = frozenset(k for k in range(1, n) if TAG_BREAK in groups[k][3]) if n > 1 else frozenset()
    tag_ends = frozenset(k - 1 for k in tagged)
    run_digits = "".join([g[0] for g in groups])
    off = list(accumulate([len(g[0]) for g in groups], initial=0))  # digits before group k
    total_digits = off[n]
    while i < n:
        base = off[i]
        if i in tagged:
            free_start = i
        if i != free_start and not tag_ends and (i + 1 >= n or _sep_kind(groups[i][3]) == _sep_kind(groups[i + 1][3])):
            # Not at a free start: only a candidate ending at the run's end can count (or one delimited by
            # other separators: see below).
            brand = pan_brand(run_digits[base:]) if 12 <= total_digits - base <= 19 else None
            if brand is None:
                i += 1
                continue
        valid: list[tuple[int, str, str]] = []
        crossed = False
        for j in range(i, n):
            total = off[j + 1] - base
            if total > 19:
                break
            if j > i and "\n" in groups[j][3]:
                crossed = True
            if crossed and j + 1 < n and "\n" not in groups[j + 1][3]:
                continue  # across lines, a card ends where a line does ("order 57985756\n91979492 61114": fields)
            if total >= 12:
                digits = run_digits[base : off[j + 1]]
                brand = pan_brand(digits)
                if brand is not None:
                    valid.append((j, brand, digits))
        if i != free_start:
            # Inside a longer run, a candidate still counts when it ends the run, or when separators of
            # another kind than its own delimit it on both sides: "#30621\t4860078399027785/2025-07-22",
            # "2025-06-06 - 1027 - 6799,5995,0723,2406, 0729" (a list of fields, one of them the card).
            before = _sep_kind(groups[i][3])
            valid = [
                v
                for v in valid
                if v[0] == n - 1
                or v[0] in tag_ends
                or _delimited(groups, i, v[0], before)
            ]
        if not valid:
            i += 1
            continue
        choice = valid[-1]
        at_end = [v for v in valid[:-1] if v[0] in ends]
        if at_end:
            choice = at_end[-1]
        for cand in [] if spoken or at_end else reversed(valid[:-1]):
            inner = {_sep_kind(groups[k][3]) for k in range(i + 1, cand[0] + 1)}
            # (mixed separators inside say nothing about where the number ends: the longest stays)
            # (and only a CVV-sized rest may be cut off: more digits after are likelier the number going on)
            if cand[0] in ends or (
                len(inner) <= 1
                and _sep_kind(groups[cand[0] + 1][3]) not in inner
                and off[choice[0] + 1] - off[cand[0] + 1] <= 4
            ):
                choice = cand
                break
        if not spoken and choice[0] != n - 1 and choice[0] not in ends and choice[0] not in tag_ends:
            # The same separator goes on past the candidate, into more than a CVV's worth of digits: the
            # candidate is a cut through a longer structure (two phone numbers, a list of ids), not a card.
            inner = {_sep_kind(groups[k][3]) for k in range(i + 1, choice[0] + 1)}
            if _sep_kind(groups[choice[0] + 1][3]) in inner and total_digits - off[choice[0] + 1] > 4:
                i += 1
                continue
        out.append((i, choice[0], choice[1], choice[2]))
        i = free_start = choice[0] + 1
    return out


def _delimited(groups: Sequence[Group], i: int, j: int, before: str) -> bool:
    """Groups i..j use one kind of separator inside (or none), and other kinds before and after them."""
    inner = {_sep_kind(groups[k][3]) for k in range(i + 1, j + 1)}
    return len(inner) <= 1 and before not in inner and _sep_kind(groups[j + 1][3]) not in inner


def _tail_before_tag(groups: list[Group], k: int) -> bool:
    """Group k is the short last group of a card in an element of its own ("<td>4291 1233 2342 1</td>")."""
    return (
        k >= 3
        and (k == len(groups) - 1 or TAG_BREAK in groups[k + 1][3])
        and all(len(g[0]) == 4 for g in groups[k - 3 : k])
        and TAG_BREAK not in "".join(g[3] for g in groups[k - 2 : k + 1])
    )


def _thousands(groups: list[Group], k: int) -> bool:
    """The "." before group k separates thousands: 1-3 digits (not a lone 0) before it, exactly 3 after, and the
    group after ends the number or a space follows it ("4.951 0810", not "0.005", "12.50" or "1.2.3")."""
    before, after = groups[k - 1][0], groups[k][0]
    return (
        1 <= len(before) <= 3
        and before != "0"
        and len(after) == 3
        and (k == 1 or groups[k - 1][3] != ".")
        and (k + 1 == len(groups) or groups[k + 1][3] not in (".", ","))
    )


def _short_tail(groups: list[Group], k: int) -> bool:
    """Group k (1-3 digits) follows four groups of four (a 17-19 digit card) or is one digit after three (13)."""
    size = len(groups[k][0])
    return (k >= 4 and all(len(g[0]) == 4 for g in groups[k - 4 : k])) or (
        size == 1 and k >= 3 and all(len(g[0]) == 4 for g in groups[k - 3 : k])
    )


def _card_tail(groups: list[Group], k: int) -> bool:
    """Group k is the short last group of a 4-4-4-4-3 (or 4-4-4-1) card, not a decimal fraction."""
    return k == len(groups) - 1 and k >= 3 and all(len(g[0]) == 4 for g in groups[:k])


def _sub_runs(groups: list[Group]) -> list[list[Group]]:
    """A digit run cut where its dots are decimal points or IP address dots, not group separators.

    In a run that also uses other separators, a "." next to a group shorter than four digits is a decimal
    point ("422 542 0.005000", "HTTP/1.1 200"): the decimal number is a piece of its own. A run of dotted
    groups of at most three digits each is an IP address.
    """
    seps = [g[3] for g in groups[1:]]
    if any("," in sep or ";" in sep for sep in seps):
        # A comma-separated list whose items are themselves grouped numbers ("415-555-0123, 415-555-0199") is
        # a list of numbers; a card read out with commas has one group per item ("4242, 4242, 4242, 4242").
        # (A grouped number next to a single group is one number read in two breaths: "435-166-5036, 337126".)
        # (A comma after a group begun and said again is a pause in one number: "3673 7, 7135 613 946".)
        items = [
            k
            for k, sep in enumerate(seps, 1)
            if ("," in sep or ";" in sep) and not _begun(groups[k - 1][0], groups[k][0], sep)
        ]
        bounds = [0, *items, len(groups)]
        # (Digits spelled one by one, "4 5 0 3, 5 8 7 2, ...", are one number read in groups.)
        def grouped(a: int, b: int) -> bool:
            return b - a > 1 and max(len(g[0]) for g in groups[a:b]) >= 2

        if any(grouped(a, b) and grouped(b, c) for a, b, c in zip(bounds, bounds[1:], bounds[2:], strict=False)):
            # (items of one card-sized group each stay one run: "4878, 5649, 5699, 8, 04/27, 755.46")
            spans: list[tuple[int, int, bool]] = []  # (first group, end, made of one-group items)
            for a, b in pairwise(bounds):
                one = b - a == 1 and len(groups[a][0]) <= 6
                if one and spans and spans[-1][2]:
                    spans[-1] = (spans[-1][0], b, True)
                else:
                    spans.append((a, b, one))
            return [piece for a, b, _ in spans for piece in _sub_runs(groups[a:b])]
    if "." not in seps:
        return [groups]
    if all(sep == "." for sep in seps):
        return [] if all(len(g[0]) <= 3 for g in groups) else [groups]
    if all(_thousands(groups, k) for k, sep in enumerate(seps, 1) if sep == "."):
        # every dot a thousands separator a recogniser wrote ("4.951 0810 6.300 8.511"): not a decimal point
        return [groups]
    cuts: set[int] = set()
    joined: set[int] = set()
    for k in range(1, len(groups)):
        if seps[k - 1] == "." and (len(groups[k - 1][0]) < 4 or len(groups[k][0]) < 4) and not _card_tail(groups, k):
            cuts.update((k - 1, k + 1))
            joined.add(k)
    cuts -= joined
    if cuts:
        # A row of measurements ("422 542 0.005000", "598 113222189 0.000000"): its short numbers are fields
        # of their own, not card groups (card groups are 4+ digits: "4242 4242 4242 4242 12.50" stays).
        for k, g in enumerate(groups):
            if len(g[0]) < 4 and k not in joined and k + 1 not in joined and not _tail_before_tag(groups, k):
                # (the short last group of a 4-4-4-4-3 or 4-4-4-1 card ends it: "... 7657 322 03/26 846.80")
                cuts.update((k + 1,) if _short_tail(groups, k) else (k, k + 1))
    out: list[list[Group]] = []
    start = 0
    for k in sorted(c for c in cuts if 0 < c < len(groups)):
        out.append(groups[start:k])
        start = k
    out.append(groups[start:])
    return out


def _sep_kind(sep: str) -> str:
    if TAG_BREAK in sep:
        return TAG_BREAK  # a markup tag (str.split counts U+001E as whitespace)
    if "\n" in sep and not sep.strip():
        return "\n"  # a line break: where a card ends before the lines of its expiry and CVV
    return " ".join(sep.split()) or " " if sep.strip() else " "


# --- digit path ---------------------------------------------------------------------------------------------


def _digit_pans(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _DIGIT_RUN.finditer(text):
        run = m.group()
        if run.isdigit():
            # One unseparated group (what ``_select`` does with a single group): a PAN if it is one whole.
            brand = pan_brand(run) if len(run) <= 19 else None
            if brand is not None:
                out.append(Finding(m.start(), m.end(), "pan", brand, run[-4:]))
            continue
        groups: list[Group]
        if "%" in run:
            groups = []
            prev_end = m.start()
            for g in _DIGIT_GROUP.finditer(text, m.start(), m.end()):
                if g.group()[0] == "%":
                    continue
                groups.append((g.group(), g.start(), g.end(), text[prev_end : g.start()]))
                prev_end = g.end()
        else:
            # Split into "", digits, separator, digits, ..., digits, "": offsets are running sums (in C).
            pieces = _GROUP_SPLIT.split(run)
            offs = list(accumulate(map(len, pieces), initial=m.start()))
            groups = list(zip(pieces[1::2], offs[1:-1:2], offs[2::2], pieces[0:-1:2], strict=True))
        # An expiry after an inner group ("... 5991 6/26") puts a "/" inside the run; only the last group's can
        # lie outside it.
        if "/" in run or "-" in run:
            ends = frozenset(k for k, g in enumerate(groups) if _EXP_AFTER.match(text, g[2]))
        else:
            ends = frozenset((len(groups) - 1,)) if groups and _EXP_AFTER.match(text, m.end()) else frozenset()
        tail = _expiry_tail(groups)
        if tail >= 0:
            ends |= {tail}
        for piece in _sub_runs(groups):
            if sum(len(g[0]) for g in piece) < 12:
                continue
            if piece is not groups:
                first = groups.index(piece[0])
                piece_ends = frozenset(k - first for k in ends if first <= k < first + len(piece))
            else:
                piece_ends = ends
            if len(piece) >= 6 and _every_group_twice(piece):
                # ("6011 6011 2930 2930 4241 4241 2325 2325": the card said group by group, each group twice;
                # other cuts of the run may pass Luhn by chance)
                rep = _repeated_groups(piece)
                if rep:
                    out.extend(rep)
                    continue
            if len(piece) >= 3 and any(_begun(a[0], b[0], b[3]) for a, b in pairwise(piece)):
                # a group begun and said again: read without it first (other cuts of the run may pass Luhn
                # by chance, "676 - 6767 6264 8376" as a Maestro number)
                rep = _repeated_groups(piece)
                if rep:
                    out.extend(rep)
                    continue
            found = _select(piece, ends=piece_ends)
            for i, j, brand, digits in found:
                # (from a group begun just before it: "23... 2300 8973 ...")
                start = piece[i - 1][1] if i and _begun(piece[i - 1][0], piece[i][0], piece[i][3]) else piece[i][1]
                out.append(Finding(start, piece[j][2], "pan", brand, digits[-4:]))
            if not found:
                out.extend(_repeated_groups(piece))
    return out


def _expiry_tail(groups: Sequence[Group]) -> int:
    """The index of the group a run's expiry (and CVV) fields follow, or -1: a row whose last groups are a
    month, a two-digit year and maybe a CVV ("6304<tab>3427<tab>6584<tab>9175<tab>10<tab>27<tab>653")."""
    n = len(groups)
    for size in (3, 2):
        k = n - size
        if k < 2:
            continue
        month, year = groups[k][0], groups[k + 1][0]
        cvv = groups[k + 2][0] if size == 3 else "000"
        if (
            len(month) == 2
            and 1 <= int(month) <= 12
            and len(year) == 2
            and 20 <= int(year) <= 49
            and len(cvv) in (3, 4)
            and sum(len(g[0]) for g in groups[:k]) >= 12
        ):
            return k - 1
    return -1


def _begun(group: str, after: str, sep: str) -> bool:
    """``group`` (one to three digits) is the start of the group ``after`` it, with a pause between (a comma,
    "...", " - ", a line break or a tab): a group begun and said again ("4480 77... 7798"), not a decimal
    ("0.03"), a time or a date."""
    return (
        len(group) <= 3
        and len(after) > len(group)
        and after.startswith(group)
        and _PAUSE_SEP.fullmatch(sep) is not None
    )


_PAUSE: Final = r"[^0-9A-Za-z]{0,6}(?:[,\t\n]|\.\.| - )[^0-9A-Za-z]{0,6}"
_PAUSE_SEP: Final = re.compile(_PAUSE)
# ... as the digit path's pre-check sees it: a group of 1-3 digits, a pause, a group that starts with it
_BEGUN: Final = re.compile(rb"(?<![0-9])([0-9]{1,3})" + _PAUSE.encode() + rb"\1[0-9]")


def _may_begin_again(raw: bytes) -> bool:
    """``_BEGUN.search(raw)``, skipped in C when ``raw`` holds none of the pauses it needs (most log lines)."""
    if 44 in raw or 9 in raw or 10 in raw or b".." in raw or b" - " in raw:
        return _BEGUN.search(_PCT_SEP.sub(b" ", raw) if 37 in raw else raw) is not None
    return False


def _every_group_twice(piece: Sequence[Group]) -> bool:
    return len(piece) % 2 == 0 and all(piece[k][0] == piece[k + 1][0] for k in range(0, len(piece), 2))


def _repeated_groups(piece: list[Group]) -> list[Finding]:
    """A card read out with each group said twice ("3435 3435 2947 2947 ..."), as a recogniser writes a
    caller who confirms each group: the run without its repeats (groups of three digits or more that equal
    the group before), if that is a card. The finding covers the repeats too."""
    if _every_group_twice(piece):
        keep = list(range(0, len(piece), 2))  # every group twice, a short last one too ("... 8399 8399 6 6")
    else:
        # (and a group begun and said again in full, "4480 77... 7798": the first digits said twice)
        keep = [
            k
            for k, g in enumerate(piece)
            if not (k and len(g[0]) >= 3 and g[0] == piece[k - 1][0])
            and not (k + 1 < len(piece) and _begun(g[0], piece[k + 1][0], piece[k + 1][3]))
        ]
    if len(keep) == len(piece) or sum(len(piece[k][0]) for k in keep) < 12:
        return []
    out: list[Finding] = []
    for i, j, brand, digits in _select([piece[k] for k in keep]):
        first, last = keep[i], keep[j]
        while first and _begun(piece[first - 1][0], piece[first][0], piece[first][3]):
            first -= 1  # (the group begun before the card's first)
        while last + 1 < len(piece) and last + 1 not in keep:
            last += 1  # the last group's repeat
        out.append(Finding(piece[first][1], piece[last][2], "pan", brand, digits[-4:]))
    return out


# --- digits split over JSON members inside text -------------------------------------------------------------

# A JSON member whose value is a short digit string or an integer: '"cc_part1": "4242"', "'a': 4242".
# ... or an array item ('["4242", "4242", ...]').
# ... or a tuple item, pretty-printed over lines too; or a form field ("cc1=4242&cc2=4242...").
_JSON_MEMBER: Final = re.compile(
    r"""(?:(?P<q>["'])(?:(?!(?P=q))[^\\\n]|\\.){0,60}(?P=q)[ \t]*(?:=>|[:=])[ \t]*|(?<=[\[,({])[ \t\r\n]*"""
    r"""|(?<![^&?;\s])(?P<fk>[A-Za-z_][A-Za-z0-9_.\-\[\]%]{0,40})=(?=[0-9]{1,19}(?:[&;\s]|$))"""
    r"""|(?<![^\s(])\[(?P<bk>[A-Za-z_][A-Za-z0-9_.\-]{0,40})\][ \t]*=>[ \t]*"""
    r"""|(?i:form-data;[ \t]*name=)(?P<mk>"[^"\r\n]{1,60}")[^\r\n]{0,100}\r?\n(?:[^\r\n]{1,100}\r?\n){0,3}\r?\n)"""
    r"""(?P<v>"[0-9][0-9 \-]{0,22}"|'[0-9][0-9 \-]{0,22}'|[0-9]{1,19}(?![0-9.eE]))(?=[ \t\r]*[,}\])\n&;]|[ \t]*$)"""
)
_KEY_STEM: Final = re.compile(r"[0-9\s\"':=_\-]+")
_MEMBER_GAP: Final = re.compile(r"[ \t\r\n\])}]*[,&;][ \t\r\n\[({]*")
_LINE_GAP: Final = re.compile(r"[ \t\r]*\n[ \t]*")
_PART_GAP: Final = re.compile(r"[ \t]*\r?\n--[^\r\n]{1,100}\r?\n(?i:content-disposition:)[ \t]*")


def same_number(prev_kind: str, kind: str) -> bool:
    """Two consecutive JSON values may be pieces of one number (see ``_json_text_pans``)."""
    return kind == prev_kind or "str" in (kind, prev_kind)


def key_kind(key: str | None, value: object) -> str:
    """"item" (array item), "str" (a quoted digit string) or "int:<key without digits>"."""
    if key is None:
        return "item"
    if isinstance(value, str):
        return "str"
    return "int:" + _KEY_STEM.sub("", key)


def _select_items(run: Sequence[Group]) -> list[tuple[int, int, str, str]]:
    """Cards over two or more consecutive items (JSON values, form fields): items are explicit pieces, so a
    card may start at any item ("[3, "4242", "4242", "4242", "4242", 2025]"); the longest from each start wins."""
    out: list[tuple[int, int, str, str]] = []
    n = len(run)
    i = 0
    while i < n:
        best: tuple[int, str, str] | None = None
        digits = run[i][0]
        for j in range(i + 1, n):
            digits += run[j][0]
            if len(digits) > 19:
                break
            if len(digits) >= 12:
                brand = pan_brand(digits)
                if brand is not None:
                    best = (j, brand, digits)
        if best is None:
            i += 1
            continue
        out.append((i, best[0], best[1], best[2]))
        i = best[0] + 1
    return out


def _json_text_pans(text: str) -> list[Finding]:
    """A card split over sibling JSON members inside text (a log line holding a request body)."""
    out: list[Finding] = []
    run: list[Group] = []
    prev_end = -1

    def flush() -> None:
        if len(run) >= 2:
            for i, j, brand, digits in _select_items(run):
                out.extend(Finding(g[1], g[2], "pan", brand, digits[-4:]) for g in run[i : j + 1])
        run.clear()

    prev_kind = ""
    for m in _JSON_MEMBER.finditer(text):
        v0, v1 = m.span("v")
        value = m.group("v")
        quoted = value[0] in "\"'"
        # Pieces of one number: array items, quoted digit strings, or integers under keys that differ only in
        # digits ("part1", "part2"); integers under unrelated keys ("status": 599, "size": 1000) are not.
        key = m.group(0)[: m.start("v") - m.start()]
        keyed = m.group("q") is not None or m.group("fk") is not None or m.group("bk") is not None
        if m.group("mk") is not None:
            key = m.group("mk")
            keyed = True
        kind = key_kind(key if keyed else None, "" if quoted else 0)
        # (PHP's print_r writes one "[key] => value" a line, with no comma between; a multipart body's parts are
        # between boundary lines)
        gap = _LINE_GAP if m.group("bk") is not None else _PART_GAP if m.group("mk") is not None else _MEMBER_GAP
        if run and (not gap.fullmatch(text, prev_end, m.start()) or not same_number(prev_kind, kind)):
            flush()
        prev_kind = kind
        if quoted:
            v0, v1 = v0 + 1, v1 - 1
        digits = "".join(ch for ch in text[v0:v1] if ch.isdigit())
        run.append((digits, v0, v1, ","))
        prev_end = m.end()
    flush()
    return out


# --- word path ----------------------------------------------------------------------------------------------


# Tokens are three parallel lists: lower-cased text, start, end (no object per token).
Tokens = tuple[list[str], list[int], list[int]]


# ``_TOKEN_WS``: the whitespace before a token, then the token. Its matches tile the text up to the last token
# (anything but non-newline whitespace is a token), so offsets are running sums, computed in C.
_TOKEN_WS: Final = re.compile(
    r"([^\S\n]*+)(%[0-9A-Fa-f]{2}|[0-9]++|[A-Za-z]++(?:['’][A-Za-z]++)?+|\n|[^\s0-9A-Za-z])"
)  # ``_TOKEN`` with possessive repeats (same matches: nothing after them could need a shorter one)


def _tokens(text: str, start: int = 0, end: int | None = None) -> Tokens:
    stop = len(text) if end is None else end
    piece = text[start:stop]
    ascii_text = piece.isascii()
    pairs = _TOKEN_WS.findall(piece.lower() if ascii_text else piece)
    if not pairs:
        return [], [], []
    spaces, toks = zip(*pairs, strict=True)
    tok_lens = list(map(len, toks))
    ends = list(accumulate(map(add, map(len, spaces), tok_lens), initial=start))
    del ends[0]
    starts = list(map(sub, ends, tok_lens))
    lows = list(toks) if ascii_text else [t.lower() for t in toks]
    return lows, starts, ends


def _is_number_tok(toks: Sequence[str], k: int) -> bool:
    low = toks[k]
    if low in ("oh", "o"):
        # "oh" is a zero next to another number ("four oh two", "forty one, oh, two"), not an interjection
        # ("oh, sorry").
        if _is_plain_number(toks, k + 1):
            return True
        j = k - 1
        while j >= 0 and k - j <= 8 and (toks[j] in _GAP_PUNCT or toks[j] in _FILLERS):
            j -= 1
        return j >= 0 and (toks[j][0].isdigit() or toks[j] in _NUMBER_WORDS)
    if low == "hundred":
        return False
    return low[0].isdigit() or low in _NUMBER_WORDS


def _is_plain_number(toks: Sequence[str], k: int) -> bool:
    if k < 0 or k >= len(toks):
        return False
    low = toks[k]
    return low[0].isdigit() or (low in _NUMBER_WORDS and low not in ("oh", "o", "hundred"))


def _small_value(toks: Sequence[str], k: int) -> tuple[str, int] | None:
    """A spoken value at k: unit, teen, tens (+unit), repeat; returns (digits, next index)."""
    if k >= len(toks):
        return None
    low = toks[k]
    if low in _UNITS:
        return _UNITS[low], k + 1
    if low in _TEENS:
        return _TEENS[low], k + 1
    if low in _TENS:
        nxt = k + 1
        if nxt + 1 < len(toks) and toks[nxt] == "-" and toks[nxt + 1] in _UNITS:
            nxt += 1
        if nxt < len(toks) and toks[nxt] in _UNITS and toks[nxt] not in ("zero", "oh", "o", "nought"):
            return _TENS[low] + _UNITS[toks[nxt]], nxt + 1
        return _TENS[low] + "0", k + 1
    if low in _REPEAT:
        nxt = k + 1
        if nxt < len(toks) and toks[nxt] == "-":
            nxt += 1
        if nxt < len(toks) and toks[nxt] in _UNITS:
            return _UNITS[toks[nxt]] * _REPEAT[low], nxt + 1
        return None
    return None


def _number_at(toks: Sequence[str], k: int) -> tuple[str, int] | None:
    """Parse one number expression at token k: digits, a spoken value, 'X hundred [and] Y'."""
    tok = toks[k]
    if tok[0].isdigit():
        return tok, k + 1
    got = _small_value(toks, k)
    if got is None:
        return None
    digits, nxt = got
    if nxt < len(toks) and toks[nxt] == "hundred" and len(digits) <= 2:
        nxt += 1
        after = nxt + 1 if nxt < len(toks) and toks[nxt] == "and" else nxt
        sub = _small_value(toks, after)
        if sub is not None and len(sub[0]) <= 2 and toks[after] not in _REPEAT:
            return digits + sub[0].rjust(2, "0"), sub[1]
        return digits + "00", nxt
    return digits, nxt


def _word_runs(text: str, start: int = 0, end: int | None = None) -> list[tuple[list[Group], bool]]:
    """Runs of number expressions; each with a flag: holds a word or crosses a line."""
    return _runs(text, _tokens(text, start, end))


def _window(text: str, full: Tokens, pos: int, stop: int) -> Tokens | None:
    """``_tokens(text, pos, stop)`` cut out of the whole text's tokens, or None if ``pos`` is inside a token.

    Tokenizing is left to right without look-behind, so from a token boundary (or inside whitespace) on, the
    window's tokens are the whole text's, except a token running past ``stop``, which is re-tokenized cut.
    """
    lows, starts, ends = full
    i = bisect_left(starts, pos)
    if i > 0 and ends[i - 1] > pos:
        return None
    j = bisect_left(starts, stop)
    if j > i and ends[j - 1] > stop:
        tail = _tokens(text, starts[j - 1], stop)
        return lows[i : j - 1] + tail[0], starts[i : j - 1] + tail[1], ends[i : j - 1] + tail[2]
    return lows[i:j], starts[i:j], ends[i:j]


def _runs(text: str, tokens: Tokens) -> list[tuple[list[Group], bool]]:
    toks, starts, ends = tokens
    runs: list[tuple[list[Group], bool]] = []
    cur: list[Group] = []
    wordy = False
    gap_start = 0
    fillers = 0
    k = 0
    n = len(toks)

    def close() -> None:
        nonlocal cur, wordy
        if cur:
            runs.append((cur, wordy))
        cur = []
        wordy = False

    while k < n:
        tok = toks[k]
        # Fast paths (same result as _is_number_tok + _number_at): a digit token, or a unit word that does
        # not start "X hundred" and is not "oh"/"o" (whose reading depends on its neighbours).
        if tok[0].isdigit():
            parsed: tuple[str, int] | None = (tok, k + 1)
        elif tok in _PLAIN_UNITS and (k + 1 == n or toks[k + 1] != "hundred"):
            parsed = (_UNITS[tok], k + 1)
        elif tok in _NUMBER_WORDS and _is_number_tok(toks, k):
            parsed = _number_at(toks, k)
        else:
            parsed = None
        if parsed is not None:
            digits, nxt = parsed
            s, e = starts[k], ends[nxt - 1]
            if cur and s - gap_start > MAX_GAP:
                close()
            sep = text[gap_start:s] if cur else ""
            if "\n" in sep or not tok[0].isdigit():
                wordy = True
            cur.append((digits, s, e, sep))
            gap_start = e
            fillers = 0
            k = nxt
            continue
        if not cur:
            k += 1
            continue
        if tok == "\n":
            # Across a line break a number continues only on a labelled line; agent lines are skipped whole.
            j = k + 1
            if j < n and toks[j] in _ALL_LABELS:
                lab = j + 1
                if lab < n and toks[lab].isdigit():
                    lab += 1
                if lab < n and toks[lab] == ":":
                    if toks[j] in _AGENT_LABELS:
                        while k + 1 < n and toks[k + 1] != "\n":
                            k += 1
                        k += 1
                        continue
                    k = lab + 1
                    continue
            close()
            k += 1
            continue
        if tok in _GAP_PUNCT or tok in _FILLERS or tok in ("oh", "o") or tok[0] == "%":
            if tok in _FILLERS or tok in ("oh", "o"):
                fillers += 1
                if fillers > 6:
                    close()
            k += 1
            continue
        close()
        k += 1
    close()
    return runs


def _word_pans(text: str, tokens: Tokens, speech: bool = False) -> list[Finding]:
    return [Finding(s, e, "pan", brand, last4) for s, e, brand, last4 in spoken_pans(text, tokens, speech)]


# --- decoys -------------------------------------------------------------------------------------------------


# A short number labelled as another kind of identifier is not a card: "FedEx 5956 2903 8695" (12 digits),
# "IMEI: 35..." (15), or a card-shaped tail of a longer labelled number ("USPS 9410 4783 2937 5166 1172 32").
# A whole 16-19 digit run stays a card whatever it is called ("ref=5191 7026 4329 2666" is a card someone
# tried to slip through).
_OTHER_LABEL: Final = re.compile(
    r"(?<![A-Za-z])(?:tracking|fedex|ups|usps|dhl|waybill|imei|imsi|iccid|meid|iban|isbn|ean|upc|gtin|phone|tel|"
    r"telephone|mobile|cell|fax|routing|sort[ _-]?code)"
    r"(?:[ _-]?(?:id|no|num|number|code|nr))?[\"']?[ \t]*(?:[:=#]|no\.?|number)?[ \t]*[:=#]?[ \t\"']*\+?$",
    re.IGNORECASE,
)


def _labelled_other(text: str, run: int) -> bool:
    return _OTHER_LABEL.search(text, max(0, run - 40), run) is not None


def _valid_phone(digits: str) -> bool:
    """True when ``+digits`` is a number some country's numbering plan assigns (libphonenumber's metadata, via
    ``phonenumbers``). A ``+`` glued to a card number ("+378282246310005") is a way to hide it, not a phone:
    only a valid number earns the phone exemption."""
    import phonenumbers  # only on this rare path: the import costs more than the scan of most texts

    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + "".join(c for c in digits if c.isdigit()))))
    except phonenumbers.NumberParseException:
        return False


# IBAN lengths by country (the SWIFT IBAN registry): "CC 4111..." or "MC5555..." is a card with a note before
# it, not an IBAN, unless the country, the length or the check digits say otherwise.
_IBAN_LENGTHS: Final = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SD": 18,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22,
    "VG": 24, "XK": 20,
}  # fmt: skip


def _iban(country: str, text: str, run: int) -> bool:
    """The letters before a digit run and the run read as an IBAN: a registry country, and its IBAN length or
    valid check digits (ISO 13616, mod 97)."""
    if country not in _IBAN_LENGTHS:
        return False
    end = run
    while end < len(text) and end - run < 48 and (text[end].isalnum() or text[end] == " "):
        end += 1
    body = text[run:end].replace(" ", "").upper()
    if len(body) + 2 == _IBAN_LENGTHS[country]:
        return True
    if not body[:2].isdigit() or len(body) < 13:
        return False
    moved = body[2:] + country + body[:2]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _is_decoy(text: str, f: Finding) -> bool:
    s, e = f.start, f.end
    run = s  # start of the digit run the finding sits in
    while run > 0 and s - run < 40 and text[run - 1] in "0123456789 -.":
        run -= 1
    while run < s and not text[run].isdigit():
        run += 1
    if (
        run >= 1
        and not text[run - 1].isdigit()
        and (s != run or sum(c.isdigit() for c in text[s:e]) <= 15)
        and _labelled_other(text, run)
    ):
        return True
    if run >= 1 and text[run - 1] == "+" and sum(c.isdigit() for c in text[run:e]) <= 15 and _valid_phone(text[run:e]):
        return True  # +44 ...: an international phone number (E.164: at most 15 digits, a real numbering plan)
    two = text[max(0, run - 2) : run]
    if (
        two.isalpha()
        and two.isupper()
        and two.isascii()
        and len(two) == 2
        and not text[max(0, run - 3) : run - 2].isalnum()
        and _iban(two, text, run)
    ):
        return True  # DE89 3704 ...: an IBAN
    left = s
    while left > 0 and (text[left - 1] in _HEX or text[left - 1] == "-") and s - left < 40:
        left -= 1
    right = e
    while right < len(text) and (text[right] in _HEX or text[right] == "-") and right - e < 40:
        right += 1
    if right - left >= 36 and _UUID.search(text, left, right):
        return True
    left, right = s, e
    while left > 0 and text[left - 1].isalnum() and s - left < 64:
        left -= 1
    while right < len(text) and text[right].isalnum() and right - e < 64:
        right += 1
    token = text[left:right]
    # inside a hex id / hash
    if len(token) >= 20 and all(c in _HEX for c in token) and not token.isdigit():
        return True
    # ... or glued on both sides to the hex letters of a long hex run that other letters follow, as fields of a
    # record lie side by side in a database page ("call_af53...c5337818286689235a98c6ab8c5done")
    if s > 0 and e < len(text) and text[s - 1] in _HEX_LETTERS and text[e] in _HEX_LETTERS:
        left, right = s - 1, e + 1
        while left > 0 and text[left - 1] in _HEX and s - left < 64:
            left -= 1
        while right < len(text) and text[right] in _HEX and right - e < 64:
            right += 1
        return right - left >= 20
    return False


_HEX_LETTERS: Final = frozenset("abcdefABCDEF")


# --- anchors: CVV and expiry --------------------------------------------------------------------------------

_SKIP_PUNCT: Final = r"[\s,.;:=!?\-–—()\"'’#*\[\]]"
_SKIP: Final = re.compile(
    rf"(?:{_SKIP_PUNCT}+|(?<![\w])(?:is|it's|its|the|my|and|date|code|number|no|exp\w*|cvv2?|"
    r"cvc2?|cv2|csc|security|sec|verification|card|on|back|of|with|valid|thru|through|until|um|uh|er|erm|"
    r"sorry|okay|ok|so|let|me|see|yeah|then|that's|it|was|are|digits?|value|would|be|please|sure|here)"
    rf"(?!\w)|\n[ \t]*(?:{_alt(sorted(_AGENT_LABELS))})[ \t]*:[^\n]*|(?:{_LABELS_RE})[ \t]*:)*",
    re.IGNORECASE,
)
_YEAR2 = r"(?:[2-4][0-9])"
_EXP_NUMERIC: Final = re.compile(
    rf"(?<![0-9])(?P<m>0?[1-9]|1[0-2])[ \t]?[/\-.][ \t]?(?P<y>20{_YEAR2}|{_YEAR2})(?![0-9])"
    rf"|(?<![0-9])(?P<m2>0[1-9]|1[0-2])[ \t]+(?P<y2>20{_YEAR2}|{_YEAR2})(?![0-9]|[ \t]*[/\-.:][0-9])"
    rf"|(?<![0-9])(?P<m3>0[1-9]|1[0-2])(?P<y3>{_YEAR2})(?![0-9])"
)
_EXP_MONTH: Final = re.compile(
    rf"(?P<mon>{_alt(sorted(_MONTHS))})\.?(?:[ \t]*(?:of|,|/|-)?[ \t]*)"
    rf"(?:(?P<y>20{_YEAR2}|'?{_YEAR2})(?![0-9]))?",
    re.IGNORECASE,
)
# Possessive: greedy with nothing after it, the same match, without backtracking state.
_SKIP_LC: Final = re.compile(
    _SKIP.pattern.replace(f"{_SKIP_PUNCT}+|", f"{_SKIP_PUNCT}++|", 1).removesuffix(")*") + ")*+"
)
_EXP_MONTH_LC: Final = re.compile(_EXP_MONTH.pattern)
# (skip, month expiry, number word, number start): for any text, or for lower-cased ASCII text.
_Pats = tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]
_PATS_CI: Final[_Pats] = (_SKIP, _EXP_MONTH, _NUMBER_WORD, _NUMBER_START)
_PATS_LC: Final[_Pats] = (_SKIP_LC, _EXP_MONTH_LC, _NUMBER_WORD_LC, _NUMBER_START_LC)
# What an expiry or CVV can start with (digits, month names, number words), in lower-cased text.
_ANCHOR_START_LC: Final = frozenset("0123456789") | {w[0] for w in _MONTHS} | {w[0] for w in _NUMBER_WORDS}
_EXP_AFTER: Final = re.compile(
    r"[\s\u200b-\u200d\u2060\ufeff]+(?:0?[1-9]|1[0-2])[/-](?:20)?[2-4][0-9](?![0-9])"
)  # (a line below too; invisible separators as well)
_CLOCK: Final = re.compile(r"[0-9]{1,2}:[0-9]{2}(?![0-9])")
_CVV_DIGITS: Final = re.compile(r"(?<![0-9])[0-9]{3,4}(?![0-9]|[ \t]*[/.:,\-%][ \t]*[0-9]|[ \t]*%)")


def _valid_expiry_digits(d: str) -> bool:
    if len(d) == 3:
        return d[0] != "0" and 20 <= int(d[1:]) <= 49
    if len(d) == 4:
        return 1 <= int(d[:2]) <= 12 and 20 <= int(d[2:]) <= 49
    if len(d) == 6:
        return 1 <= int(d[:2]) <= 12 and 2020 <= int(d[2:]) <= 2049
    return False


def _spoken_groups(text: str, pos: int, full: Tokens | None, pats: _Pats = _PATS_CI) -> list[Group]:
    if not pats[3].match(text, pos):
        return []  # the first token is not a number: no run can start here
    stop = min(len(text), pos + 120)
    window = _window(text, full, pos, stop) if full is not None else None
    runs = _runs(text, window if window is not None else _tokens(text, pos, stop))
    if not runs or runs[0][0][0][1] != pos:
        return []
    return runs[0][0]


def _match_expiry(
    text: str, pos: int, keyword: bool, full: Tokens | None, pats: _Pats = _PATS_CI, words: bool = True
) -> tuple[int, int] | None:
    m = _EXP_NUMERIC.match(text, pos)
    if m is not None and (keyword or m.group("m3") is None):
        return m.start(), m.end()
    m = pats[1].match(text, pos)
    if m is not None:
        if m.group("y"):
            return m.start(), m.end()
        groups = _spoken_groups(text, m.end(), full, pats)
        digits = ""
        for g in groups[:3]:
            digits += g[0]
            if digits in ("20",):
                continue
            if (len(digits) == 2 and 20 <= int(digits) <= 49) or (len(digits) == 4 and 2020 <= int(digits) <= 2049):
                return m.start(), g[2]
        return (m.start(), m.end()) if keyword else None
    if not words or not pats[2].search(text, pos, pos + 120):
        return None  # only digit-written groups could follow: not a spoken expiry (below)
    groups = _spoken_groups(text, pos, full, pats)
    if not groups or all(g[0].isdigit() and text[g[1]].isdigit() for g in groups[:2]):
        return None
    digits = ""
    best: tuple[int, int] | None = None
    for g in groups[:4]:
        digits += g[0]
        if _valid_expiry_digits(digits):
            best = (groups[0][1], g[2])
        if len(digits) >= 6:
            break
    return best


_DECIMAL_AT: Final = re.compile(r"[0-9]+[.,][0-9]")  # an amount ("846.80"), never a CVV


def _match_cvv(text: str, pos: int, full: Tokens | None, pats: _Pats = _PATS_CI) -> tuple[int, int] | None:
    m = _CVV_DIGITS.match(text, pos)
    if m is not None:
        return m.start(), m.end()
    if _DECIMAL_AT.match(text, pos):
        return None
    groups = _spoken_groups(text, pos, full, pats)
    digits = ""
    # By index, not ``g is groups[-1]``: compiled (mypyc) code unboxes tuples, so identity is not preserved.
    last = len(groups) - 1
    for k, g in enumerate(groups):
        digits += g[0]
        if len(digits) > 4:
            return None
        if len(digits) >= 3 and (k == last or len(digits) + len(groups[k + 1][0]) > 4):
            return groups[0][1], g[2]
    return None


def _anchored(
    text: str,
    pos: int,
    kinds: set[str],
    keyword: bool,
    full: Tokens | None = None,
    pats: _Pats = _PATS_CI,
    words: bool = True,
) -> list[Finding]:
    """CVV / expiry right after ``pos``. ``pats``: ``_PATS_LC`` when ``text`` is lower-cased ASCII; ``words``:
    False only when ``text`` is known to hold no number word (then no spoken expiry can follow)."""
    out: list[Finding] = []
    p = pos
    while kinds:
        m = pats[0].match(text, p)
        q = m.end() if m is not None else p
        if q - pos > _ANCHOR_REACH or q >= len(text):
            break
        if pats is _PATS_LC and text[q] not in _ANCHOR_START_LC:
            break  # neither a digit nor a month or number word starts here: nothing below can match
        if _CLOCK.match(text, q):
            break  # a time of day ("[00:01:23] Caller:"), not an expiry or a CVV
        if "expiry" in kinds:
            span = _match_expiry(text, q, keyword, full, pats, words)
            if span is not None:
                out.append(Finding(span[0], span[1], "expiry"))
                kinds.discard("expiry")
                p = span[1]
                continue
        if "cvv" in kinds:
            span = _match_cvv(text, q, full, pats)
            if span is not None:
                out.append(Finding(span[0], span[1], "cvv"))
                kinds.discard("cvv")
                p = span[1]
                continue
        break
    return out


# --- triage: the fast rule-out -------------------------------------------------------------------------------

# bytes.translate runs at memory speed: digits -> "d", separators (and non-ASCII bytes) deleted, anything else
# -> "x". Twelve "d"s in a row is necessary for a digit-written PAN (a superset of ``_DIGIT_RUN``).
_DIG_TABLE: Final = bytes((ord("d") if 48 <= i <= 57 else ord("x")) for i in range(256))
_DIG_DELETE: Final = (
    b" \t\r\n\v\f-./_+,;%()*`>" + bytes(range(0, 9)) + bytes(range(14, 32)) + b"\x7f" + bytes(range(128, 256))
)
_TWELVE: Final = b"d" * 12
# Words: letters lower-cased, everything else a space; then a set lookup on the split words.
_WORD_TABLE: Final = bytes((i + 32 if 65 <= i <= 90 else i if 97 <= i <= 122 else 32) for i in range(256))
# (and hesitations: "4242 uh 4242 ..." is speech, read by the spoken reader)
# (and the words of a caller taking digits back or stopping mid-group, "4480 77, sorry, 7798", "44, hang on,
# 4403": digit groups the digit path cannot join, read by the spoken reader)
_TRIGGER_WORDS: Final = frozenset(
    w.encode()
    for w in _NUMBER_WORDS | {"oh", "o"} | SPOKEN_HESITATIONS | {"sorry", "mean", "hang", "actually", "scratch"}
)
_KEYWORD_WORDS: Final = frozenset(
    w.encode()
    for w in [
        "cvv",
        "cvc",
        "cv",
        "csc",
        "cvn",
        "cid",
        "verification",
        "sec",
        "security",
        "seccode",
        "securitycode",
        "back",
        "exp",
        "expiry",
        "expiration",
        "expires",
        "expire",
        "expir",
        "expy",
        "expiring",
        "valid",
        "good",
    ]
)
_LABEL_WORDS: Final = frozenset(w.encode() for w in _AGENT_LABELS | _CALLER_LABELS | SPOKEN_LABELS)
# Telephony logs of keypad tones, one event per line (FreeSWITCH "RECV DTMF 4:1280", Asterisk "Event: DTMFEnd"
# blocks with "Digit: 4", "DTMF end '4' received"): ``_dtmf_pans``
_DTMF_WORDS: Final = frozenset([b"dtmf", b"dtmfend", b"dtmfbegin", b"dtmfreceived", b"dtmfdigit"])
_ANY_WORDS: Final = _TRIGGER_WORDS | _KEYWORD_WORDS | _LABEL_WORDS | _DTMF_WORDS
_LINE_WORDS: Final = _TRIGGER_WORDS | _KEYWORD_WORDS  # what counts in a single line
_DIGITS: Final = 1
_WORDS: Final = 2
_KWS: Final = 4
_JSON: Final = 8  # quoted keys and 12+ digits: a card may be split over JSON members (``_json_text_pans``)
_DTMF: Final = 16  # keypad tone events over several lines (``_dtmf_pans``)


# Brand pre-filter (on the text translated by ``_KEEP_TABLE``: digits kept, separators deleted, anything else
# "x"): an issuer prefix (cut to 4 digits) followed by enough digits for the shortest length its brands allow.
# Every PAN the digit path can report matches (a superset of ``brand_of``, starting at any digit), so most
# 12+ digit runs of ordinary text (``200 2038 0.0283``, timestamps, ids) are ruled out in C.
_KEEP_TABLE: Final = bytes((i if 48 <= i <= 57 else ord("x")) for i in range(256))
_PCT_SEP: Final = re.compile(rb"%2[0dDfF]")


def _hint_pattern(table: dict[str, int], prefix: str = "") -> str:
    if prefix in table:
        shortest = min(v for k, v in table.items() if k.startswith(prefix))
        return f"[0-9]{{{shortest - len(prefix)}}}"
    alts: dict[str, list[str]] = {}
    for d in sorted({k[len(prefix)] for k in table if k.startswith(prefix) and len(k) > len(prefix)}):
        alts.setdefault(_hint_pattern(table, prefix + d), []).append(d)
    return "(?:" + "|".join((ds[0] if len(ds) == 1 else f"[{''.join(ds)}]") + p for p, ds in alts.items()) + ")"



_NON_DIGITS: Final = bytes(b for b in range(256) if not 48 <= b <= 57)
# A quoted key or value followed by a digit value, or an array opening on one: a JSON piece (``_JSON_MEMBER``).
# (as one translate and four substring tests: quotes -> '"', ":=," -> ":", digits -> "0", blanks deleted)
_JSON_TABLE: Final = bytes(
    34 if i in (34, 39) else 58 if i in (58, 61, 44) else i if i in (91, 40, 123) else 48 if 48 <= i <= 57 else 120
    for i in range(256)
)


# A speaker label used as a turn header on one line ("Cust:", "Speaker 2 (01:17):", "[Caller]").
_LINE_LABEL: Final = re.compile(
    rf"(?<![A-Za-z])(?:{_alt(sorted(_AGENT_LABELS | _CALLER_LABELS | SPOKEN_LABELS))})[ \t_#-]*[0-9]*[ \t]*"
    r"(?:\([^()\n]{0,20}\)[ \t]*)?[:\]>]".encode(),
    re.IGNORECASE,
)
# The labels that send a single line to the exact test (``_LINE_LABEL``): not the ones log lines are full of
# ("user", "system", "service", "client", "host", "bot" as in bot.example.com; "customer", a key of most action
# bodies), so most log lines and bodies stay on the fast path. (A one-line transcript has two labels: "Customer:
# ... Agent: ...".) A one-line
# transcript labelled with those alone ("User: ... System: ...") is read when it holds a number word.
_LINE_LABEL_WORDS: Final = frozenset(
    w.encode()
    for w in ["caller", "cust", "agent", "speaker", "spk", "assistant", "human", "cardholder", "csr", "ivr",
              "operator", "representative", "rep", "ai"]
)  # fmt: skip

# The rule-out, in one pass of an Aho-Corasick automaton (Rust, ``ahocorasick-rs``) over one translation of the
# text (``_FAST_TABLE``): letters lower-cased; digits, the separators ``_DIG_DELETE`` removes (but "%") and
# non-ASCII bytes "0"; quotes, "[" and "{" '"'; "%" kept; anything else " ". Then, with the text padded by a
# space each side:
# - a word (maximal run of letters) of a set occurs iff "<b>word<b>" does, for boundary bytes <b> in " 0\"";
# - 12 digits joined by separators only (``_TWELVE`` in ``_DIG_TABLE``'s translation) leave 12 "0"s in a row.
# No match and no quote: ``_triage_exact`` would find no digit run, no JSON piece and no word: 0. Only 12-runs
# of "0"s: no word, the digit test decides (and the JSON one, on a quote or a form). A word, or a "%"
# (URL-encoded separators such as "%2D" hold letters): the exact test decides. Subtitles ("-->") always go to
# the exact test.
_FAST_TABLE: Final = bytes(
    i + 32 if 65 <= i <= 90
    else i if 97 <= i <= 122 or i == 37
    else 48 if 48 <= i <= 57 or i in _DIG_DELETE
    else 34 if i in (34, 39, 91, 123)
    else 32
    for i in range(256)
)  # fmt: skip
_BOUNDS: Final = (b" ", b"0", b'"')
_PAD: Final = b" "


def _finder(words: frozenset[bytes]) -> ahocorasick_rs.BytesAhoCorasick | None:
    """An automaton whose pattern 0 is the 12-digit run, and every other one a "%" or a word between bounds."""
    if ahocorasick_rs is None:
        return None
    patterns = [b + w + e for w in sorted(words) for b in _BOUNDS for e in _BOUNDS]
    return ahocorasick_rs.BytesAhoCorasick(
        [b"0" * 12, b"%", *patterns], implementation=ahocorasick_rs.Implementation.DFA
    )


_LINE_FINDER: Final = _finder(_LINE_WORDS | _LINE_LABEL_WORDS)  # one line: only transcript labels count
_ANY_FINDER: Final = _finder(_ANY_WORDS)


def _triage(text: str) -> int:
    """Which paths can find anything in ``text`` (0: nothing can). A superset test, never a decision."""
    raw = text.encode() if text.isascii() else text.encode("utf-8", "surrogatepass")
    finder = _ANY_FINDER if 10 in raw else _LINE_FINDER
    if finder is None or (10 in raw and b"-->" in raw):
        return _triage_exact(raw)
    fast = raw.translate(_FAST_TABLE)
    # (overlapping: a word sharing its bound with a digit run is reported too)
    hits = finder.find_matches_as_indexes(_PAD.join((b"", fast, b"")), overlapping=True)
    if hits and max(hits)[0]:
        return _triage_exact(raw)  # a word or a "%"
    flags = _digit_flags(raw) if hits else 0
    return flags | _json_flags(raw) if 34 in fast or (38 in raw and 61 in raw) else flags


# The issuer-prefix regex (``_hint_pattern``; kept in tests/redaction/test_precheck.py as the reference) as a
# table: an issuer prefix (cut to 4 digits) -> the digits a match starting with it needs (the
# shortest length among the prefixes it begins). The regex matches at a digit iff the first of these prefixes
# that the digits there begin with allows the digits left in the run.
_HINT_NEED: Final = {
    k.encode(): min(v for p, v in prefix_min_lengths().items() if p.startswith(k)) for k in prefix_min_lengths()
}


def _hint_in_run(keep: bytes, pos: int, end: int) -> bool:
    """``_PAN_HINT.search(keep, pos, end)`` for a run of digits ``keep[pos:end]`` (without the regex's cost)."""
    for s in range(pos, end - 11):
        for k in range(s + 1, s + 5):
            need = _HINT_NEED.get(keep[s:k])
            if need is not None:
                if end - s >= need:
                    return True
                break
    return False


def _digit_flags(digits: bytes) -> int:
    """``_DIGITS`` if ``digits`` (the encoded text, ``%2x`` separators removed) has an issuer prefix followed by
    enough digits for its shortest brand, joined by separators only."""
    marks = digits.translate(_DIG_TABLE, _DIG_DELETE)
    pos = marks.find(_TWELVE)
    if pos < 0:
        return 0
    keep = digits.translate(_KEEP_TABLE, _DIG_DELETE)  # the same positions as ``marks``
    # Every prefix match spans 12+ digits: it lies in a run of 12+ "d"s, so only those runs are visited.
    while pos >= 0:
        end = marks.find(b"x", pos)
        if end < 0:
            end = len(marks)
        if _hint_in_run(keep, pos, end):
            return _DIGITS
        pos = marks.find(_TWELVE, end)
    return 0


# '":' in ``_JSON_TABLE``'s translation: a quote, blanks, then ":", "=" or ",". Each counted piece holds it, a
# "[", or a form field ("cc1=4242&cc2=...": "=" -> ":" with "&" in the text).
_QUOTE_SEP: Final = re.compile(rb"[\"'][ \t\r\n]*[:=,]")


# A digit value after "=>": PHP's print_r ("[cc1] => 4242") and Ruby hashes ('"cc1" => "4242"').
_ARROW_MEMBER: Final = re.compile(rb"""[\]"'][ \t]*=>[ \t]*["']?[0-9]""")
# A multipart form part whose value starts with a digit.
_FORM_PART: Final = re.compile(
    rb"""(?i:form-data;)[ \t]*(?i:name=)"[^"\r\n]{1,60}"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n){0,3}\r?\n[0-9]"""
)


def _json_flags(raw: bytes) -> int:
    """``_JSON`` if ``raw`` holds two or more digit values (a number may be split over them), else 0."""
    form = 38 in raw and 61 in raw
    if 91 not in raw and not form and not _QUOTE_SEP.search(raw) and b"form-data" not in raw:
        return 0  # no piece: a quoted log field ('"POST /v1/... HTTP/1.1" 200')
    jt = raw.translate(_JSON_TABLE, b" \t\r\n")
    if len(raw.translate(None, _NON_DIGITS)) < 12:
        return 0
    if (
        jt.count(b'":0') + jt.count(b'":"0') + jt.count(b"[0") + jt.count(b'["0') + jt.count(b"(0")
        + jt.count(b'("0') + jt.count(b"{0") >= 2
        or (form and jt.count(b":0") >= 2)
        or len(_ARROW_MEMBER.findall(raw)) >= 2
        or len(_FORM_PART.findall(raw)) >= 2
    ):
        return _JSON
    # a transcript kept as JSON, digits in a text member: its view is read as speech (``_json_view_pans``)
    return _JSON if has_text_member_with_digit(raw) else 0


def _triage_exact(raw: bytes) -> int:
    """``_triage`` of the text encoded as ``raw`` (UTF-8, surrogates passed), without the automaton."""
    flags = _digit_flags(_PCT_SEP.sub(b"", raw) if 37 in raw else raw)  # %20 / %2D / %2F join digit groups
    # Each JSON piece holds a quote, a "[" or a form field: without one (most log lines), skip the counts.
    if 34 in raw or 39 in raw or 91 in raw or (38 in raw and 61 in raw):
        flags |= _json_flags(raw)
    words = raw.translate(_WORD_TABLE).split()
    if 10 in raw:  # a line break: speaker labels count, and subtitle timings ("00:00:01,000 --> ...")
        if b"-->" in raw and len(raw.translate(None, _NON_DIGITS)) >= 12:
            flags |= _WORDS
        elif _ANY_WORDS.isdisjoint(words):
            return flags
        if not _TRIGGER_WORDS.isdisjoint(words) or not _LABEL_WORDS.isdisjoint(words):
            flags |= _WORDS
        if not _DTMF_WORDS.isdisjoint(words) and len(raw.translate(None, _NON_DIGITS)) >= 12:
            flags |= _DTMF
    else:
        # On one line, labels count only as turn headers ("Cust: 2300 7377 Rep: yes Cust: 0146"), with 12+
        # digits in the line: the reader bridges digit groups over turns (``_spoken._Run.transcript``).
        if (
            not _LINE_LABEL_WORDS.isdisjoint(words)
            and len(raw.translate(None, _NON_DIGITS)) >= 12
            and _LINE_LABEL.search(raw) is not None
        ):
            flags |= _WORDS
        elif _LINE_WORDS.isdisjoint(words):
            return flags
        if not _TRIGGER_WORDS.isdisjoint(words):
            flags |= _WORDS
    if not _KEYWORD_WORDS.isdisjoint(words):
        flags |= _KWS
    return flags


_TWICE: Final = re.compile(r"([0-9]{3,6})\1")  # a group said twice, "4512 4512"


# Every PAN the digit path reports (``_digit_pans``) is a run of 12-19 digits that ``pan_brand`` accepts (issuer
# prefix, length, Luhn) and whose digits follow one another in the text joined by separators only: a
# stretch of a 12+ digit run of ``_KEEP_TABLE``'s translation. ``scan`` checks that before the digit path
# runs: most 12+ digit runs of ordinary text (``502 2438 0.3967s``) fail Luhn or the length test.
def _digit_pan_possible(text: str) -> bool:
    """False only if the digit path cannot report a PAN in ``text`` (no stretch of digits passes ``pan_brand``)."""
    raw = text.encode() if text.isascii() else text.encode("utf-8", "surrogatepass")
    keep = (_PCT_SEP.sub(b"", raw) if 37 in raw else raw).translate(_KEEP_TABLE, _DIG_DELETE)
    marks = keep.translate(_DIG_TABLE)  # digits "d", anything else "x"
    pos = marks.find(_TWELVE)
    longest = 0
    while pos >= 0:
        end = marks.find(b"x", pos)
        if end < 0:
            end = len(marks)
        run = keep[pos:end].decode()
        n = len(run)
        longest = max(longest, n)
        if n >= 24 and _TWICE.search(run):
            return True  # groups said twice ("4512 4512 0820 0820 ..."): ``_repeated_groups`` decides
        for s in range(n - 11):
            for e in range(s + 12, min(n, s + 19) + 1):
                if pan_brand(run[s:e]) is not None:
                    return True
        pos = marks.find(_TWELVE, end)
    # a group begun and said again ("4480 77... 7798"): ``_repeated_groups`` reads the run without it (a card
    # and the digits begun: 13 digits or more in one run)
    return longest >= 13 and _may_begin_again(raw)


# --- scan ---------------------------------------------------------------------------------------------------


_PAN_PATHS: Final = _DIGITS | _WORDS | _JSON | _DTMF


def _mapped(findings: list[Finding], omap: OffsetMap | None, text: str = "") -> list[Finding]:
    """Findings on the normalised ``text``, as spans of the original (cut around markup tags; a piece between
    two tags with no letter or digit, " - ", is not kept)."""
    if omap is None or not findings:
        return findings
    out: list[Finding] = []
    breaks = omap.breaks
    for f in findings:
        cuts = [i for i in range(f.start, f.end) if i in breaks] if breaks else []
        # a markup tag between two groups ("4242</td><td>4242") stays: the finding is cut around it
        for a, b in zip([f.start, *(c + 1 for c in cuts)], [*cuts, f.end], strict=True):
            if b > a and (not cuts or any(ch.isalnum() for ch in text[a:b])):
                s, e = omap.span(a, b)
                out.append(Finding(s, e, f.kind, f.brand, f.last4))
    return out


def scan_pans(text: str) -> list[Finding]:
    """PAN findings only (the card-data gate uses this), as spans of ``text``."""
    norm, omap = normalize_for_detection(text)
    return _mapped(_scan_pans(norm, _triage(norm)), omap, norm)


def _scan_pans(text: str, flags: int) -> list[Finding]:
    if not flags & _PAN_PATHS:
        return []
    return _pans(text, flags, _tokens(text) if flags & _WORDS else None)


def _pans(text: str, flags: int, tokens: Tokens | None) -> list[Finding]:
    found = _digit_pans(text) if flags & _DIGITS else []
    if tokens is not None:
        found.extend(_word_pans(text, tokens))
    if flags & _JSON:
        found.extend(_json_text_pans(text))
    if flags & (_WORDS | _JSON) and ('"' in text or "'" in text):
        found.extend(_json_view_pans(text))
    if flags & _DTMF:
        found.extend(_dtmf_pans(text))
    found = [f for f in found if not _is_decoy(text, f)]
    if flags & _DIGITS:
        # (payment messages are hex and digits, like the ids the decoy test rules out: their fields are known)
        found.extend(_message_pans(text))
    return _merge(found)


# --- card data in payment message formats -------------------------------------------------------------------

# Magnetic-stripe track data (ISO/IEC 7813) and the EMV track 2 equivalent (tag 57, "D" for "="): the PAN, the
# expiry (YYMM), then the service code and discretionary data (where CVV1/iCVV and the PIN verification value
# live). All of it is card data: PCI DSS 3.3.1 forbids keeping full track data after authorisation.
_TRACK: Final = re.compile(
    r"%?B(?P<p1>[0-9]{12,19})\^[^^\r\n]{0,26}\^(?P<e1>[0-9]{2}(?:0[1-9]|1[0-2]))(?P<d1>[0-9][^?\r\n]{2,79})\??"
    r"|(?:(?<=;)|(?<=57[0-9A-Fa-f]{2})|(?<![0-9]))(?P<p2>[0-9]{12,19})[=Dd](?P<e2>[0-9]{2}(?:0[1-9]|1[0-2]))"
    r"(?P<d2>[0-9]{3}[0-9]{0,40})(?:[?Ff]+|(?![0-9A-Za-z]))"
)
# An ISO 8583 message in ASCII (switch and acquirer logs): the type indicator (version, class, function, origin),
# the primary bitmap (and the secondary one when its first bit is set), then, when bit 2 is set, field 2: the
# PAN, its length in two digits before it.
_ISO8583: Final = re.compile(r"(?<![0-9A-Za-z])[0-2][1-8][0-4][0-5](?P<bm>[0-9A-Fa-f]{16})")
# EMV tag 5A (the PAN, BCD, padded with "F" to whole bytes) in a hex dump of TLV data: "5A08" + 16 digits.
_EMV_PAN: Final = re.compile(r"5[Aa](?P<n>0[6-9Aa])(?P<v>[0-9]{11,20}[Ff]?)")


def _message_pans(text: str) -> list[Finding]:
    """Card data in track data, ISO 8583 messages and EMV TLV hex (see above): each field where the format puts
    it, validated as a card (issuer, length, Luhn)."""
    out: list[Finding] = []
    if "^" in text or "=" in text or "D" in text or "d" in text:
        for m in _TRACK.finditer(text):
            p = "p1" if m.group("p1") is not None else "p2"
            n = p[1]
            brand = pan_brand(m.group(p))
            if brand is None:
                continue
            last4 = m.group(p)[-4:]
            out.append(Finding(m.start(p), m.end(p), "pan", brand, last4))
            out.append(Finding(m.start("e" + n), m.end("e" + n), "expiry"))
            out.append(Finding(m.start("d" + n), m.end("d" + n), "cvv"))
    for m in _ISO8583.finditer(text):
        # (field 2 right after the primary bitmap, or after a secondary one; whatever the bitmap's bits say, as
        # logs of test tools and hand-built messages do not always keep them right: the length prefix, issuer,
        # length and Luhn check the PAN)
        for at in (m.end(), m.end() + 16):
            if at > m.end() and not all(c in _HEX for c in text[m.end() : at]):
                break
            size = text[at : at + 2]
            if not (size.isdigit() and size.isascii() and 12 <= int(size) <= 19):
                continue
            pan = text[at + 2 : at + 2 + int(size)]
            brand = pan_brand(pan) if len(pan) == int(size) and pan.isascii() and pan.isdigit() else None
            if brand is not None:
                out.append(Finding(at + 2, at + 2 + len(pan), "pan", brand, pan[-4:]))
                break
    if "5A" in text or "5a" in text:
        for m in _EMV_PAN.finditer(text):
            value = m.group("v")[: 2 * int(m.group("n"), 16)]
            pan = value.rstrip("Ff")
            if len(value) != 2 * int(m.group("n"), 16) or not 12 <= len(pan) <= 19:
                continue
            brand = pan_brand(pan)
            if brand is not None:
                at = m.start("v")
                out.append(Finding(at, at + len(pan), "pan", brand, pan[-4:]))
    return out


# The key of one tone event: the first lone digit after "DTMF" on its line, or an Asterisk "Digit: 4" line. A
# "#" or "*" key ends what was keyed before it.
_DTMF_KEY: Final = re.compile(
    r"(?im)\bdtmf\w*\b[^\n0-9#*]{0,40}?(?<![0-9A-Za-z])([0-9#*])(?![0-9A-Za-z])"
    r"|^[ \t]*digit[ \t]*[:=][ \t]*([0-9#*])[ \t]*\r?$"
)


def _dtmf_pans(text: str) -> list[Finding]:
    """Card numbers keyed on a phone's keypad and logged one tone per line: each key of the card is a finding."""
    keys = [(m.group(1) or m.group(2), m.start(1) if m.group(1) else m.start(2)) for m in _DTMF_KEY.finditer(text)]
    out: list[Finding] = []
    i = 0
    while i < len(keys):
        if not keys[i][0].isdigit():
            i += 1
            continue
        j = i
        while j < len(keys) and keys[j][0].isdigit():
            j += 1
        # The card is all that was keyed, or its first 15, 16 or 19 keys before an expiry or a CVV (3 to 7 keys):
        # not any stretch of a long sequence, where one passes Luhn by chance.
        digits = "".join(k for k, _ in keys[i:j])
        n = len(digits)
        spans = [(0, n)] if 12 <= n <= 19 else []
        spans += [(0, e) for e in (19, 16, 15) if 3 <= n - e <= 7]
        for s, e in spans:
            brand = pan_brand(digits[s:e])
            if brand is not None:
                out.extend(Finding(pos, pos + 1, "pan", brand, digits[e - 4 : e]) for _, pos in keys[i + s : i + e])
                break
        i = j
    return out


def _has_quiet_stretch(text: str, a: int, b: int) -> bool:
    """``text[a:b]`` holds ``MAX_LINK`` characters or more without material (see ``StreamRedactor``)."""
    if b - a < MAX_LINK:
        return False
    last = a
    for m in MATERIAL.finditer(text, a, b):
        if m.start() - last >= MAX_LINK:
            return True
        last = m.end()
    return b - last >= MAX_LINK


def _json_view_pans(text: str) -> list[Finding]:
    """A transcript kept as JSON, read as the labelled transcript it stands for (``_views.json_transcript``)."""
    # (from ``MAX_LINK`` before the previous text's end: the stretch may have begun in it or before it)
    got = json_transcript(text, lambda a, b: _has_quiet_stretch(text, max(0, a - MAX_LINK), b))
    if got is None:
        return []
    view, origin, members = got
    out: list[Finding] = []
    for f in _word_pans(view, _tokens(view), speech=True) + _digit_pans(view):
        out.extend(Finding(s, e, "pan", f.brand, f.last4) for s, e in segments(origin, f.start, f.end))
        # the other renderings of the texts the card was read from ("ITN": "4242", an utterance's words)
        for v0, v1, alts in members:
            if alts and v0 < f.end and f.start < v1:
                out.extend(Finding(s, e, "pan", f.brand, f.last4) for s, e in alts)
    return out


def scan(text: str) -> list[Finding]:
    """Every card-data span in ``text``, sorted, non-overlapping.

    Detection runs on ``normalize_for_detection(text)``; the spans returned are spans of ``text`` itself.
    """
    if text.isascii() and "%" not in text and "&" not in text and "\\" not in text and "<" not in text:
        # normalize_for_detection's no-change case, inlined: most log lines end at the pre-check
        flags = _triage(text)
        return _scan_normalised(text, flags) if flags else []
    norm, omap = normalize_for_detection(text)
    return _mapped(_scan_normalised(norm), omap, norm)


def _scan_normalised(text: str, flags: int = -1) -> list[Finding]:
    if flags < 0:
        flags = _triage(text)
    if flags & _DIGITS and not _digit_pan_possible(text):
        flags &= ~_DIGITS  # (the digit path would run and find nothing)
    if not flags:
        return []
    # The whole text's tokens when the word path needs them anyway; anchors then cut their windows from them.
    tokens = _tokens(text) if flags & _WORDS else None
    pans = _pans(text, flags, tokens) if flags & _PAN_PATHS else []
    if pans:
        echoes = _digit_echoes(text, pans) + _words_between(text, pans)
        if echoes:
            pans = _merge(pans + echoes)
    found = list(pans)
    # Anchors only need offsets: on ASCII text they run case-sensitively over the text lower-cased once, and
    # skip the spoken-expiry search when the pre-check saw no number word (exact on ASCII: same word split).
    if text.isascii():
        low, pats, words = text.lower(), _PATS_LC, bool(flags & _WORDS)
        keywords = _KEYWORDS_LC
    else:
        low, pats, words = text, _PATS_CI, True
        keywords = _KEYWORDS
    for i, f in enumerate(pans):
        if i + 1 < len(pans) and pans[i + 1].start - f.end <= _ANCHOR_REACH and pans[i + 1].brand == f.brand:
            continue  # a piece of a card that goes on ("four two, uh, four two"): its groups are not a CVV
        found.extend(_anchored(low, f.end, {"expiry", "cvv"}, False, tokens, pats, words))
    if flags & _KWS:
        for m in keywords.finditer(low):
            kinds = {"cvv"} if m.group("cvv") is not None else {"expiry"}
            found.extend(_anchored(low, m.end(), kinds, True, tokens, pats, words))
    return _merge(found)


# Digits written near a card found in the text: a group or more of it ("2296", "2296 6870": a form's value as
# it was typed, in a session recording), or the whole number with one digit changed (a recogniser's other
# hypotheses): card data too.
_ECHO_RUN: Final = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){3,18}(?![0-9])")


def _digit_echoes(text: str, pans: list[Finding]) -> list[Finding]:
    """Runs of 4 to 19 digits that repeat a card written in digits in ``text``: its first 4+ digits, 8+ of its
    digits in a row, or all of them but one; within the stretch the stream redactor holds with the card (no
    ``MAX_LINK`` characters without material between)."""
    cards: list[tuple[str, Finding]] = []
    for f in pans:
        digits = "".join(c for c in text[f.start : f.end] if "0" <= c <= "9")
        if 12 <= len(digits) <= 19 and f.last4 is not None and digits.endswith(f.last4):
            cards.append((digits, f))
    if not cards:
        return []
    out: list[Finding] = []
    for m in _ECHO_RUN.finditer(text):
        if any(f.start <= m.start() and m.end() <= f.end for f in pans):
            continue  # (found already; a run found in part is looked at whole)
        run = m.group().replace(" ", "").replace("-", "")
        for digits, f in cards:
            if not (
                (len(run) >= 4 and digits.startswith(run))
                or (len(run) >= 8 and run in digits)
                or (len(run) == len(digits) and one_off(run, digits))
                or _taken_back(text, m, f, run, digits)
            ):
                continue
            a, b = (m.end(), f.start) if m.end() <= f.start else (f.end, m.start())
            if not _has_quiet_stretch(text, a, b):
                out.append(Finding(m.start(), m.end(), "pan", f.brand, f.last4))
                break
    return out


_TAKEN_BACK: Final = re.compile(r"(?i)\b(?:no|sorry|i mean|actually|wait|correction|rather)\b")


def _taken_back(text: str, m: re.Match[str], f: Finding, run: str, digits: str) -> bool:
    """``run`` (4-6 digits) is the card's first group said with a digit wrong and taken back just before it:
    "4735, I mean 4935 2890 ...": card digits said wrong, redacted with the card."""
    return (
        4 <= len(run) <= 6
        and m.end() <= f.start
        and f.start - m.end() <= 24
        and _TAKEN_BACK.search(text, m.end(), f.start) is not None
        and one_off(run, digits[: len(run)])
    )


def _words_between(text: str, pans: list[Finding]) -> list[Finding]:
    """Number words on a line between two findings of one card, a short phrase apart ("four two four two ...
    oh, sorry, four two four two ..."): a stray digit of the card said twice, redacted with it (as the number
    words a card's reading leaves out inside it are)."""
    out: list[Finding] = []
    for a, b in pairwise(pans):
        if a.last4 != b.last4 or a.brand != b.brand or not 0 < b.start - a.end <= 160:
            continue
        if "\n" not in text[a.end : b.start]:
            if b.start - a.end <= 80:
                out.extend(
                    Finding(m.start(), m.end(), "pan", a.brand, a.last4)
                    for m in _NUMBER_WORD.finditer(text, a.end, b.start)
                )
            continue
        # Whole turns between two pieces of one card that say nothing but digits ("Speaker 1: three seven
        # eight / Speaker 0: two eight two / Speaker 1: two four six ..."): a diariser gave a group of the card to
        # the other speaker, or the agent echoed one; card data either way.
        first = text.index("\n", a.end) + 1
        last = text.rindex("\n", a.end, b.start)
        for line in _LINE_SPLIT.finditer(text, first, last):
            if _DIGITS_ONLY_TURN.fullmatch(line.group("body")) is None:
                break
        else:
            for line in _LINE_SPLIT.finditer(text, first, last):
                out.extend(
                    Finding(m.start(), m.end(), "pan", a.brand, a.last4)
                    for m in _NUMBER_OR_DIGITS.finditer(text, line.start("body"), line.end("body"))
                )
    return out


# A line: an optional speaker label ("Speaker 0:", "AGENT:", "Rep (01:12):") and its body.
_LINE_SPLIT: Final = re.compile(r"(?m)^[ \t]*(?:[A-Za-z][A-Za-z0-9 _#.'()-]{0,30}:[ \t]*)?(?P<body>[^\n]*)$")
_NUMBER_OR_DIGITS: Final = re.compile(rf"[0-9]++|{_NUMBER_WORD.pattern}", re.IGNORECASE)
# A body of digits and number words only (and the punctuation between them): at least one of them. (Possessive:
# "1111...1x" must fail in one pass, not by trying every way to cut the digits into runs.)
_DIGITS_ONLY_TURN: Final = re.compile(
    rf"[ \t,.;!?-]*+(?:(?:{_NUMBER_OR_DIGITS.pattern})[ \t,.;!?-]*+)++", re.IGNORECASE
)


_PRIORITY: Final = {"pan": 0, "cvv": 1, "expiry": 2}


def _merge(found: list[Finding]) -> list[Finding]:
    if len(found) <= 1:
        return found
    found.sort(key=lambda f: (f.start, -f.end, _PRIORITY[f.kind]))
    out: list[Finding] = []
    for f in found:
        if out and f.start < out[-1].end:
            last = out[-1]
            if f.end > last.end:
                keep = last if _PRIORITY[last.kind] <= _PRIORITY[f.kind] else f
                out[-1] = Finding(last.start, f.end, keep.kind, keep.brand, keep.last4)
            continue
        out.append(f)
    return out


# --- rendering ----------------------------------------------------------------------------------------------


def marker(f: Finding) -> str:
    if f.kind == "pan":
        brand = f" {f.brand}" if f.brand else ""
        last4 = f" ••{f.last4}" if f.last4 else ""
        return f"[card{brand}{last4}]"
    return f"[{f.kind}]"


def apply(text: str, findings: Sequence[Finding]) -> str:
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(marker(f))
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


# A marker ``apply`` wrote: its last four digits are not text to read again.
_MARKER: Final = re.compile(r"\[card(?: [a-z_]+)?(?: ••[0-9]{4})?\]")


def _masked(text: str) -> str:
    """``text`` with the digits inside markers replaced by "x" (same length, same offsets)."""
    if "••" not in text:
        return text
    return _MARKER.sub(lambda m: m.group().translate(_MASK_DIGITS), text)


_MASK_DIGITS: Final = str.maketrans("0123456789", "xxxxxxxxxx")


def redact(text: str) -> str:
    """Replace every finding; repeat until nothing is found, so ``redact`` is idempotent by construction.

    Later passes read the text with the markers' last four digits masked: "[card visa ••4242], uh, [card visa
    ••4242]" holds no card number, and must not be read as one."""
    for _ in range(8):
        findings = scan(_masked(text))
        if not findings:
            return text
        text = apply(text, findings)
    return text
