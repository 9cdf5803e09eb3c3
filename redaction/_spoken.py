"""The spoken-number reader: card numbers read aloud, as a speech recogniser writes them down.

A transcript is read as tokens (``_engine._tokens``): digit groups, number words, multipliers, fillers,
punctuation, line breaks and speaker labels. Each number phrase has a digit reading ("forty two" -> 42,
"five sixty-four" -> 5 + 64, "four hundred and five" -> 405, "double oh" -> 00, "two thousand twenty" ->
2020); a phrase of several number words may also be read as a sequence of smaller phrases ("four hundred,
twenty" -> 400 + 20). Between phrases, fillers ("uh", "sorry", "let me see"), punctuation, caller line breaks,
labels and whole agent lines ("Agent: mm-hmm, go on") are skipped; any other word ends the run.

The search is a depth-first walk (``_best_path``) over the lattice of readings from a run's start: every path is a digit
string, and the paths of 12-19 digits that pass Luhn and an issuer range are candidates. After a
self-correction ("no, sorry", "I mean", "wait", "actually", "scratch that") a path may also drop the last
one to six digits before it (the caller restating a group), so "four two four one, sorry, four two four two"
reads 4242 and the retracted digits are redacted with the card. Among candidates from one start, the path
that goes furthest wins (over-redacting beats leaking). A candidate must start at the run's start or right
after a previous card, or end at the run's end: a card is never cut out of the middle of a longer number.

Precision comes from the same rules: amounts, dates, counts and phone numbers are short (under 12 digits)
or broken by words that are not fillers ("dollars", "times", "first", "order").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from redaction._brands import _VIABLE, pan_brand, viable_prefix

_UNITS: Final = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "naught": "0", "nil": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_TEENS: Final = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}  # fmt: skip
_TENS: Final = {
    "twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
    "eighty": "8", "ninety": "9",
}  # fmt: skip
_REPEAT: Final = {"double": 2, "triple": 3, "treble": 3}
_ZERO_WORDS: Final = frozenset(["oh", "o"])
NUMBER_WORDS: Final = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | frozenset(_REPEAT)

# Said between digits without ending the number: hesitations, back-channels, discourse words.
FILLERS: Final = frozenset(
    [
        "um",
        "umm",
        "uh",
        "uhh",
        "uhm",
        "er",
        "erm",
        "ah",
        "ahh",
        "hmm",
        "hm",
        "mm",
        "mmm",
        "mhm",
        "huh",
        "okay",
        "ok",
        "so",
        "and",
        "then",
        "yeah",
        "yes",
        "yep",
        "yup",
        "right",
        "alright",
        "all",
        "the",
        "next",
        "let",
        "me",
        "see",
        "is",
        "it",
        "it's",
        "its",
        "that's",
        "thats",
        "like",
        "i",
        "think",
        "mean",
        "actually",
        "oops",
        "hold",
        "on",
        "sec",
        "second",
        "just",
        "a",
        "moment",
        "hang",
        "got",
        "again",
        "repeat",
        "that",
        "was",
        "go",
        "ahead",
        "continue",
        "please",
        "ready",
        "sorry",
        "no",
        "wait",
        "scratch",
        "correction",
        "rather",
    ]
)
# A retraction: the digits just before may be replaced by the ones after.
_CORRECTION: Final = frozenset(["no", "sorry", "wait", "mean", "actually", "scratch", "correction", "oops", "rather"])
_AGENT_LABELS: Final = frozenset(
    ["agent", "bot", "assistant", "ai", "operator", "rep", "representative", "system", "ivr"]
)
_CALLER_LABELS: Final = frozenset(["caller", "customer", "user", "client", "human", "speaker", "spk", "cust"])
LABELS: Final = _AGENT_LABELS | _CALLER_LABELS
_GAP_PUNCT: Final = frozenset(",.;:-–—…!?/()\"'’_+*#[]")
_MAX_FILLERS: Final = 8  # consecutive filler words before a run ends
_BUDGET: Final = 20000  # lattice paths per run start (the walk is depth-first; see ``_walk``)

Tokens = tuple[list[str], list[int], list[int]]
# The phrases a path used, newest first: (first token, next token, rest).
Chain = tuple[int, int, "Chain"] | None
Finding_t = tuple[int, int, str, str]  # start, end, brand, last4


def _is_number(toks: Sequence[str], k: int) -> bool:
    t = toks[k]
    if t[0].isdigit():
        # not the number of a speaker label ("SPEAKER_00:", "Caller 2:")
        return not (
            k + 1 < len(toks)
            and toks[k + 1] in (":", "]")
            and k >= 1
            and (toks[k - 1] in LABELS or (k >= 2 and toks[k - 1] in ("_", "-", "#") and toks[k - 2] in LABELS))
        )
    if t in _ZERO_WORDS:
        # "oh" is a zero next to another number ("four oh two"), not an interjection ("oh, sorry").
        return _plain(toks, k + 1) or _plain_before(toks, k)
    if t in _REPEAT:
        j = k + 1
        if j < len(toks) and toks[j] == "-":
            j += 1
        return j < len(toks) and toks[j] in _UNITS
    return t in NUMBER_WORDS


def _plain(toks: Sequence[str], k: int) -> bool:
    """A number (other than a lone "oh") at k, after at most a few fillers or punctuation tokens."""
    j = k
    while j < len(toks) and j - k < 8 and (toks[j] in _GAP_PUNCT or (toks[j] in FILLERS and toks[j] != "no")):
        j += 1
    if j >= len(toks):
        return False
    t = toks[j]
    return t[0].isdigit() or (t in NUMBER_WORDS and t not in _ZERO_WORDS) or (j == k and t in _ZERO_WORDS)


def _plain_before(toks: Sequence[str], k: int) -> bool:
    j = k - 1
    while j >= 0 and k - j <= 8 and (toks[j] in _GAP_PUNCT or toks[j] in FILLERS):
        j -= 1
    return j >= 0 and (toks[j][0].isdigit() or toks[j] in NUMBER_WORDS)


def _skip_dash(toks: Sequence[str], k: int) -> int:
    return k + 1 if k < len(toks) and toks[k] == "-" and k + 1 < len(toks) else k


def _small(toks: Sequence[str], k: int) -> list[tuple[str, int]]:
    """Values under 100 at k: unit, teen, tens(+unit), double/triple unit; [(digits, next index)], the most
    likely reading first ("ninety four" is 94, or 90 then 4 when the caller read "9045" as "ninety, four five")."""
    if k >= len(toks):
        return []
    t = toks[k]
    if t in _UNITS:
        return [(_UNITS[t], k + 1)]
    if t in _TEENS:
        return [(_TEENS[t], k + 1)]
    if t in _TENS:
        j = _skip_dash(toks, k + 1)
        if j < len(toks) and toks[j] in _UNITS and _UNITS[toks[j]] != "0":
            return [(_TENS[t] + _UNITS[toks[j]], j + 1), (_TENS[t] + "0", k + 1)]
        return [(_TENS[t] + "0", k + 1)]
    if t in _REPEAT:
        j = _skip_dash(toks, k + 1)
        if j < len(toks) and toks[j] in _UNITS:
            return [(_UNITS[toks[j]] * _REPEAT[t], j + 1)]
    return []


def readings(toks: Sequence[str], k: int) -> list[tuple[str, int]]:
    """Digit readings of the number phrase starting at token k: (digits, next token index), likeliest first."""
    t = toks[k]
    if t[0].isdigit():
        return [(t, k + 1)] if t.isdigit() else []
    out: list[tuple[str, int]] = []
    n = len(toks)
    for digits, nxt in _small(toks, k):
        if nxt < n and toks[nxt] == "hundred" and t not in _REPEAT:
            after = nxt + 1
            if after < n and toks[after] == "and":
                after += 1
            for sub, snext in _small(toks, after):
                if len(sub) <= 2 and toks[after] not in _REPEAT:
                    out.append((digits + sub.rjust(2, "0"), snext))
            out.append((digits + "00", nxt + 1))
        elif nxt < n and toks[nxt] == "thousand" and t not in _REPEAT:
            after = nxt + 1
            if after < n and toks[after] == "and":
                after += 1
            if after < n and not toks[after][0].isdigit() and toks[after] not in _REPEAT:
                for sub, snext in readings(toks, after):
                    if len(sub) <= 3:
                        out.append((digits + sub.rjust(3, "0"), snext))
            out.append((digits + "000", nxt + 1))
        else:
            out.append((digits, nxt))
    return out


class _Run:
    """Where the walk may go from a token: the next number token after a gap, and what the gap held."""

    __slots__ = ("_gaps", "_readings", "labelled", "toks", "transcript")

    def __init__(self, toks: Sequence[str]) -> None:
        self.toks = toks
        self.labelled = False
        self._gaps: dict[int, tuple[int, bool, bool]] = {}
        self._readings: dict[int, list[tuple[str, int]]] = {}
        # Lines and speaker labels: a transcript, where digit groups with fillers between are one number. (The
        # pre-check flags the word path for label words in multi-line text: a superset-safe decision.)
        self.transcript = "\n" in toks and not LABELS.isdisjoint(toks)

    def readings(self, k: int) -> list[tuple[str, int]]:
        got = self._readings.get(k)
        if got is None:
            got = self._readings[k] = readings(self.toks, k)
        return got

    def gap(self, k: int) -> tuple[int, bool, bool]:
        got = self._gaps.get(k)
        if got is None:
            got = self._gaps[k] = self._gap(k)
        return got

    def _gap(self, k: int) -> tuple[int, bool, bool]:
        """From token k (after a number): (index of the next number token or -1, correction seen, newline seen).

        -1: the run ends here (a word that is not a filler, too many fillers, an unlabelled line that does not
        go on with a number, or the end).
        """
        toks = self.toks
        n = len(toks)
        fillers = 0
        correction = False
        newline = False
        while k < n:
            t = toks[k]
            if t == "\n":
                k = self._after_break(k + 1)
                # a pure-digit number crossing an unlabelled line is the digit path's (same rules there)
                newline = newline or self.labelled
                if k < 0:
                    return -1, correction, newline
                continue
            if _is_number(toks, k) or t in _ZERO_WORDS:  # mid-number, "oh" is a zero
                return k, correction, newline
            if t in FILLERS:
                # a word between digit groups: the digit path cannot see this number (counted in transcripts)
                newline = newline or self.transcript
                fillers += 1
                if fillers > _MAX_FILLERS:
                    return -1, correction, newline
                if t in _CORRECTION:
                    correction = True
                k += 1
                continue
            if t in _GAP_PUNCT or t[0] == "%":
                k += 1
                continue
            return -1, correction, newline
        return -1, correction, newline

    def _after_break(self, k: int) -> int:
        self.labelled = False
        """After a line break: skip a leading timestamp and a speaker label; skip agent lines whole."""
        toks = self.toks
        n = len(toks)
        while True:
            j = k
            if j < n and toks[j] == "[":
                j += 1
            # a timestamp "00:01:23" or "12:03" at the start of the line
            if j + 2 < n and toks[j].isdigit() and toks[j + 1] == ":" and toks[j + 2].isdigit():
                j += 3
                while j + 1 < n and toks[j] in (":", ".") and toks[j + 1].isdigit():
                    j += 2
                if j < n and toks[j] == "]":
                    j += 1
                k = j
            label = k
            if label < n and toks[label] == "[":
                label += 1
            if label < n and (toks[label] in _AGENT_LABELS or toks[label] in _CALLER_LABELS):
                who = toks[label]
                m = label + 1
                while m < n and m - label <= 3 and (toks[m] in ("_", "-", "]", "#") or toks[m].isdigit()):
                    m += 1
                if m < n and toks[m] in (":", "]"):
                    m += 1
                    if m < n and toks[m] == ":":
                        m += 1
                    if who in _AGENT_LABELS:
                        while m < n and toks[m] != "\n":
                            m += 1
                        if m >= n:
                            return -1
                        k = m + 1
                        self.labelled = True
                        continue
                    self.labelled = True
                    end = m
                    while end < n and toks[end] != "\n" and (toks[end] in FILLERS or toks[end] in _GAP_PUNCT):
                        end += 1
                    if end < n and toks[end] == "\n" and end > m:
                        k = end + 1  # a back-channel line ("SPEAKER_01: uh-huh"): skipped like an agent line
                        continue
                    return m if self._goes_on(m) else -1
            return k if self._goes_on(k) else -1

    def _goes_on(self, k: int) -> bool:
        """A new caller line continues a number only if it starts (after fillers) with one."""
        toks = self.toks
        j = k
        while j < len(toks) and j - k < 8 and (toks[j] in FILLERS or toks[j] in _GAP_PUNCT):
            j += 1
        return j < len(toks) and (_is_number(toks, j) or toks[j] in _ZERO_WORDS)


def spoken_pans(text: str, tokens: Tokens) -> list[Finding_t]:
    """Card numbers read aloud: (start, end, brand, last4) per caller line the number covers."""
    toks, starts, ends = tokens
    n = len(toks)
    run = _Run(toks)
    out: list[Finding_t] = []
    k = 0
    while k < n:
        if not _is_number(toks, k):
            k += 1
            continue
        positions, run_end = _positions(run, toks, k)
        i = 0
        free = True  # a free start: the run's start, or right after a card
        while i < len(positions):
            best = _best_path(run, toks, positions[i], must_end=not free)
            if best is not None and best[3]:
                end_tok, digits, brand, _wordy, used = best
                out.extend(_pieces(toks, starts, ends, used, brand, digits[-4:]))
                run_end = max(run_end, end_tok)
                i = next((m for m, p in enumerate(positions) if p >= end_tok), len(positions))
                free = True
                continue
            i += 1
            free = False
        k = max(run_end, k + 1)
    return out


def _positions(run: _Run, toks: Sequence[str], k: int) -> tuple[list[int], int]:
    """The number tokens of the run starting at k (along the first reading), and the index after the run."""
    positions = [k]
    p = k
    while True:
        alts = run.readings(p)
        if not alts:
            return positions, p + 1
        q, _corr, _nl = run.gap(alts[0][1])
        if q < 0:
            return positions, alts[0][1]
        positions.append(q)
        p = q


def _best_path(
    run: _Run, toks: Sequence[str], k0: int, must_end: bool = False
) -> tuple[int, str, str, bool, list[int]] | None:
    """The furthest-reaching card path from number token k0: (end token, digits, brand, wordy, used tokens)."""
    # best: (end token, digits, brand, wordy, chain, cost); cost counts the less likely choices a path made
    # (a second reading, dropped digits): among paths that reach as far (the same span), the likeliest wins.
    best: tuple[int, str, str, bool, Chain, int] | None = None
    budget = _BUDGET
    # Hot loop: bound lookups, the caches of ``run`` read directly, and ``viable_prefix`` inlined on its memo.
    read_memo, gap_memo, vget = run._readings, run._gaps, _VIABLE.get
    stack: list[tuple[int, str, bool, Chain, bool, int]] = [(k0, "", False, None, False, 0)]
    push, pop = stack.append, stack.pop
    best_end, best_cost, best_len = -1, 0, 0
    # stack: (token index of a number, digits so far, wordy, chain of phrases used, correction just before, cost)
    while stack and budget > 0:
        k, digits, wordy, chain, corrected, cost = pop()
        budget -= 1
        if corrected and digits:
            bases = [digits] + [digits[:-j] for j in range(1, min(6, len(digits)) + 1)]
        else:
            bases = [digits]
        alts = read_memo.get(k)
        if alts is None:
            alts = run.readings(k)
        w = wordy or not toks[k][0].isdigit()
        # pushed in reverse, so the likeliest reading (and keeping every digit) is walked first
        for rank in range(len(alts) - 1, -1, -1):
            reading, nxt = alts[rank]
            g = gap_memo.get(nxt)
            q, corr, newline = g if g is not None else run.gap(nxt)
            link: Chain = (k, nxt, chain)
            wn = w or newline
            for drop in range(len(bases) - 1, -1, -1):
                base = bases[drop]
                d = base + reading
                n = len(d)
                if n > 19:
                    continue
                # a pushed base passed this test, so do its prefixes: from 6 digits on, d's verdict is the base's
                if len(base) < 6:
                    ok = vget(d[:6])
                    if ok is None:
                        ok = viable_prefix(d)
                    if not ok:
                        continue
                c = cost + rank + drop
                if n >= 12 and (
                    nxt > best_end or (nxt == best_end and (c < best_cost or (c == best_cost and n > best_len)))
                ):
                    brand = pan_brand(d)
                    if brand is not None and (not must_end or q < 0):
                        best = (nxt, d, brand, wn, link, c)
                        best_end, best_cost, best_len = nxt, c, n
                if q >= 0 and (n < 19 or corr):
                    push((q, d, wn, link, corr, c))
    if best is None:
        return None
    used: list[int] = []
    node = best[4]
    while node is not None:
        used[:0] = range(node[0], node[1])
        node = node[2]
    return best[0], best[1], best[2], best[3], used


def _pieces(
    toks: Sequence[str], starts: Sequence[int], ends: Sequence[int], used: list[int], brand: str, last4: str
) -> list[Finding_t]:
    """The card's span, cut at line breaks so agent lines between caller turns stay readable."""
    first, last = used[0], used[-1]
    used_set = frozenset(used)
    out: list[Finding_t] = []
    piece_start = starts[first]
    prev_end = ends[first]
    for k in range(first + 1, last + 1):
        if toks[k] == "\n":
            if piece_start >= 0:
                out.append((piece_start, prev_end, brand, last4))
            piece_start = -1
        elif k in used_set:
            if piece_start < 0:
                piece_start = starts[k]
            prev_end = ends[k]
    if piece_start >= 0:
        out.append((piece_start, ends[last], brand, last4))
    return out
