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

import re
from collections.abc import Sequence
from typing import Final

from redaction._brands import _VIABLE, pan_brand, viable_prefix

_UNITS: Final = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "naught": "0", "nil": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    # Spanish digits, said one by one (US and UK contact centres take calls in Spanish): "cinco cinco tres uno"
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
    "ocho": "8", "nueve": "9",
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
        "ugh",
        "oops",
        "whoops",
        "ahem",
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
        "correct",
        "confirm",
        "confirming",
        "repeating",
        "exactly",
        "perfect",
        "great",
        "good",
        "sure",
        "eh",
        "ehm",
        "well",
        "basically",
        "let's",
        "lemme",
        "okey",
    ]
)
# A retraction: the digits just before may be replaced by the ones after.
_CORRECTION: Final = frozenset(["no", "sorry", "wait", "mean", "actually", "scratch", "correction", "oops", "rather"])
# ... and in filler phrases ("strike that", "my mistake", "make that", "that should be", "let me correct that")
_CORRECTION_WORDS: Final = _CORRECTION | frozenset(["strike", "mistake", "bad", "wrong", "make", "should", "correct"])
_AGENT_LABELS: Final = frozenset(
    ["agent", "bot", "assistant", "ai", "operator", "rep", "representative", "system", "ivr", "csr", "support",
     "advisor", "adviser", "associate", "specialist", "teller", "interviewer", "va", "voicebot", "chatbot",
     "receptionist", "staff", "host", "service"]
)  # fmt: skip
_ANON_LABELS: Final = frozenset(["speaker", "spk", "person", "participant", "voice", "party"])  # who is who: unsaid
_CALLER_LABELS: Final = frozenset(
    ["caller", "customer", "user", "client", "human", "cust", "cardholder", "guest", "patient", "payer", "visitor",
     "respondent", "shopper", "buyer", "holder"]
) | _ANON_LABELS  # fmt: skip
LABELS: Final = _AGENT_LABELS | _CALLER_LABELS
# (U+001E: ``_normalize.TAG_BREAK``, a markup tag; not imported: ``_normalize`` imports this module)
_GAP_PUNCT: Final = frozenset(",.;:-–—…!?/()\"'’_+*#[]<>{}|~=\x1e")
# What recognisers write for sounds that are not words ("[inaudible]", "<hesitation>", "%HESITATION").
_NOISE: Final = frozenset(
    ["hesitation", "pause", "inaudible", "unintelligible", "indiscernible", "noise", "crosstalk", "unk", "silence",
     "laughter", "laughs", "laugh", "cough", "coughs", "music", "background", "blank", "audio", "long", "brief",
     "short", "sighs", "sigh", "breath", "breathes", "breathing", "clears", "throat", "static", "beep", "beeps",
     "tone", "dtmf", "typing", "rustling", "overtalk", "unclear", "garbled", "hes"]
)  # fmt: skip
# Hesitations: in any text (not only a labelled transcript), digit groups with these between are speech.
_HESITATIONS: Final = _NOISE | frozenset(
    ["um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "hmm", "mhm", "ugh", "oops", "whoops", "ahem"]
)
# Filler phrases whose words are not all fillers on their own ("you know", "bear with me", "one sec").
_PHRASES: Final = {
    "bear": (("bear", "with", "me"),),
    "where": (("where", "was", "i", "at"), ("where", "was", "i")),
    "let": (
        ("let", "me", "correct", "that"),
        ("let", "me", "check"),
        ("let", "me", "find", "it"),
        ("let", "me", "get", "it"),
        ("let", "me", "repeat"),
    ),
    # taking digits back ("... strike that, ..."): a correction, see ``_CORRECTION_WORDS``
    "or": (("or", "rather"),),
    "strike": (("strike", "that"),),
    "my": (("my", "mistake"), ("my", "bad")),
    "wrong": (("wrong", "one", "it's"), ("wrong", "one")),
    "make": (("make", "that"),),
    "that": (("that", "should", "be"), ("that's", "wrong")),
    "that's": (("that's", "wrong"),),
    "give": (("give", "me", "a", "second"), ("give", "me", "a", "sec"), ("give", "me", "a", "moment")),
    "i'll": (("i'll", "repeat", "that"), ("i'll", "repeat", "it"), ("i'll", "repeat")),
    "sorry": (("sorry", "about", "that"),),
    "say": (("say", "that", "again"), ("say", "it", "again"), ("say", "again")),
    "to": (("to", "confirm"), ("to", "repeat")),
    "just": (("just", "to", "confirm"),),
    "once": (("once", "more"), ("once", "again")),
    # "one sec", "one more time": not a digit
    "one": (
        ("one", "more", "time"),
        ("one", "more"),
        ("one", "sec"),
        ("one", "second"),
        ("one", "moment"),
        ("one", "minute"),
        ("one", "mo"),
    ),
    "thank": (("thank", "you"),),
    "did": (("did", "you", "get", "that"),),
    # starting over: "let me start again", "from the top"
    "start": (("start", "again"), ("start", "over"), ("start", "from", "the", "beginning")),
    "from": (("from", "the", "top"), ("from", "the", "beginning"), ("from", "the", "start")),
    "try": (("try", "again"), ("try", "that", "again")),
    "lost": (("lost", "my", "place"),),
    "hold": (("hold", "on"),),
    "you": (("you", "know"), ("you", "got", "that")),
}
_PHRASE_START: Final = frozenset(_PHRASES)
_MARKUP: Final = frozenset(["*", "_", "#", ">", "|"])  # before a label at a line start
# "C:", "A:", "Q:" at a line start: call-centre shorthand (caller, agent) or Q&A (question, answer), so who is
# the agent is not said; a number still goes on only across the same speaker's turns.
_SHORT_LABELS: Final = {"c": "unknown", "u": "unknown", "a": "unknown", "b": "unknown", "q": "unknown"}

# Hesitations drawn out ("ummm", "uhhh", "hmmm", "errr", "mmm", "ahhh").
_DRAWN_OUT: Final = re.compile(r"(?:u+[hm]+|h+m+|e+r+m*|a+h+|m+h*m+|e+h+m*|a+h*m+|o+k+a*y*|s+o+)")
# Longest link (characters) between two pieces of one number: under ``_engine.QUIET_SPAN``, so a number never
# bridges a stretch the stream redactor may already have let through.
MAX_LINK: Final = 200
_MAX_NEAR: Final = 3000  # how far interim results and repeats around a card are looked for
# A path's cost: second readings ("sixty two" as 60 + 2, "four hundred fifteen" as 400 + 15) weigh ``_ALT``
# each, a dropped or repeated digit group 1. More than two second readings: not how a card is read.
_ALT: Final = 1000
_MAX_ALT_COST: Final = 3 * _ALT
# Words of another speaker's turn that open a new item: the number before it and the one after are not one.
_TOPIC_WORDS: Final = frozenset(
    ["phone", "telephone", "mobile", "zip", "postcode", "postal", "order", "account", "birth", "expiry",
     "expiration", "expires", "security", "cvv", "cvc", "address", "member", "reference", "confirmation", "date",
     "amount", "email", "ssn", "social", "pin", "id", "policy", "invoice", "tracking"]
)  # fmt: skip
# Words before a colon at a line start that are not speakers (log levels, fields).
_NOT_NAMES: Final = frozenset(
    ["error", "warning", "warn", "info", "debug", "trace", "fatal", "critical", "note", "id", "ref", "date", "time",
     "subject", "from", "to", "re", "card", "number", "total", "amount", "status", "http", "https", "pan", "cvv"]
)  # fmt: skip
_MAX_FILLERS: Final = 8  # consecutive filler words before a run ends
_MAX_BRIDGE: Final = 6  # ordinary words an aside between two digit groups may have
_FIELD_MARKS: Final = frozenset(["=", "&", "{", "}", '"'])
# Number words the pre-check reads words for (``_engine._TRIGGER_WORDS``), but for the ones that stand for
# something else just as often ("o" in an id, "oh" the interjection).
_SURE_NUMBER_WORDS: Final = NUMBER_WORDS - frozenset(["nil", "treble", "o", "oh", "double", "triple"])
_ORDINAL_BEFORE: Final = frozenset(
    ["next", "last", "first", "final", "remaining", "other", "middle", "initial", "following", "group", "part", "set",
     "block", "section"]
)  # fmt: skip
# Words before "one" as a pronoun ("the one on file", "that one again", "which one?")
_ONE_BEFORE: Final = frozenset(["the", "that", "this", "which", "each", "every", "another", "any", "no", "a"])
# Words that say a number is a quantity, not digits read out: an aside holding one ends the number.
_UNIT_WORDS: Final = frozenset(
    ["dollars", "dollar", "cents", "cent", "pounds", "euros", "bucks", "times", "years", "year", "months", "days",
     "weeks", "hours", "minutes", "percent", "am", "pm", "o'clock", "st", "nd", "rd", "th", "street", "avenue",
     "road", "apartment", "apt", "suite", "floor", "room", "extension", "ext", "zip", "code", "ticket", "case",
     "claim", "booking", "flight", "seat", "gate", "bus", "route", "born", "age", "old", "option", "press",
     "item", "items", "units", "pieces", "qty", "quantity", "each", "copies", "boxes", "bottles", "sku",
     # ... or that a second number comes: "call me on X or Y"
     "or", "either", "also", "plus", "another", "alternatively", "instead", "otherwise", "versus", "vs", "else",
     "landline", "home", "work", "office", "cell", "fax", "between",
     # ... or a date: "it was on August second two thousand twenty two"
     "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "yesterday",
     "today", "tomorrow", "ago", "since", "until", "around", "about", "approximately"]
)  # fmt: skip
# Words of another speaker's turn that ask for another item ("And the other one?", "And your husband's?"): the
# caller's numbers before and after it are not one number.
_NEW_ITEM_WORDS: Final = frozenset(
    ["other", "another", "else", "alternate", "alternative", "backup", "contact", "husband", "husband's",
     "wife", "wife's", "partner", "partner's", "spouse", "spouse's", "son", "son's", "daughter", "daughter's",
     "mother", "mother's", "father", "father's", "mom", "mom's", "dad", "dad's", "also", "too", "dob", "birthday",
     "born", "mileage", "case", "reach", "callback", "option", "extension", "ext", "press", "zip", "street",
     "apartment"]
)  # fmt: skip
_BUDGET: Final = 20000  # lattice paths per run start (the walk is depth-first; see ``_walk``)

Tokens = tuple[list[str], list[int], list[int]]
# The phrases a path used, newest first: (first token, next token, rest).
Chain = tuple[int, int, "Chain"] | None
Finding_t = tuple[int, int, str, str]  # start, end, brand, last4
# (token starts, token ends), to tell "2:40" from "2: 40"
Pos = tuple[Sequence[int], Sequence[int]] | None


# Words a recogniser writes for a digit word that sounds the same ("four two for two", "won", "ate"): a digit only
# inside a number read digit by digit (``_homophone_digit``), where nothing else is said that way.
_HOMOPHONES: Final = {"for": "4", "fore": "4", "to": "2", "too": "2", "ate": "8", "won": "1"}


def _unit_at(toks: Sequence[str], k: int) -> bool:
    return 0 <= k < len(toks) and toks[k] in _UNITS and toks[k] not in _ZERO_WORDS


def _homophone_digit(toks: Sequence[str], k: int) -> bool:
    """The homophone at k stands for a digit in a number read digit by digit: digit words (or more homophones)
    on both sides of it, next to it or across a comma, two or more on one side, none starting "hundred" or
    "thousand" ("four three four to, seven", "eight to too four"; not "one for three hundred"); or three digit
    words after it at a turn's start ("Caller: for six oh oh") or before it at a number's end ("seven nine to.")."""
    n = len(toks)

    def units(j: int, step: int) -> int:
        count, last = 0, j + 8 * step  # (at most 8 tokens away)
        while 0 <= j < n and count < 3 and j != last:
            if toks[j] in (",", "."):
                j += step  # (a comma between groups)
                continue
            if not (_unit_at(toks, j) or toks[j] in _HOMOPHONES):
                break
            if j + 1 < n and toks[j + 1] in ("hundred", "thousand"):
                return 0
            count += _unit_at(toks, j)
            j += step
        return count

    left, right = units(k - 1, -1), units(k + 1, 1)
    if left and right:
        return left + right >= 3
    if left >= 3:
        return k + 1 >= n or toks[k + 1] in (".", ",", "\n")  # the number's last digit
    return right >= 3 and (k == 0 or toks[k - 1] in (":", "\n"))


def _is_number(toks: Sequence[str], k: int) -> bool:
    t = toks[k]
    if t in _HOMOPHONES:
        return _homophone_digit(toks, k)
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
    if (
        k
        and toks[k - 1] in _ORDINAL_BEFORE
        and t in ("one", "two", "three", "four", "five", "six")
        and not (k + 1 < len(toks) and (toks[k + 1] in NUMBER_WORDS or toks[k + 1][0].isdigit()))
    ):
        return False  # "the next four are", "the last four:", "the first one?": how many, not a digit
    if (
        t == "one"
        and k
        and toks[k - 1] in _ONE_BEFORE
        and not (k + 1 < len(toks) and (toks[k + 1] in NUMBER_WORDS or toks[k + 1][0].isdigit()))
    ):
        return False  # "5693 is the one on file", "that one again": a pronoun
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
    if t in _HOMOPHONES:
        return [(_HOMOPHONES[t], k + 1)] if _homophone_digit(toks, k) else []
    if t in _TEENS:
        return [(_TEENS[t], k + 1)]
    if t in _TENS:
        j = _skip_dash(toks, k + 1)
        if j + 2 < len(toks) and _cut_off(toks, j):
            j += 2  # "twenty e- eight"
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
        h = nxt
        while h < n and h - nxt < 3 and toks[h] in _HESITATIONS:
            h += 1  # "one, uh, hundred"
        if h < n and toks[h] == "hundred" and t not in _REPEAT:
            nxt = h
            after = nxt + 1
            if after < n and toks[after] == "and":
                after += 1
            if after + 2 < n and _cut_off(toks, after):
                after += 2  # "one hundred t- thirty six"
            if after + 1 < n and toks[after] in _ZERO_WORDS and toks[after + 1] in _UNITS:
                out.append((digits + "0" + _UNITS[toks[after + 1]], after + 2))  # "one hundred oh four": 104
            before = len(out)
            for sub, snext in _small(toks, after):
                if len(sub) <= 2 and toks[after] not in _REPEAT:
                    out.append((digits + sub.rjust(2, "0"), snext))
            if len(out) == before or (after < n and toks[after] in _UNITS):
                # "four hundred" then a pause or a word: 400; "one hundred zero five" or "six hundred eight six"
                # may be 100 05 or 600 8 6 too. (Not before a teen or a tens word: "four hundred fifteen" is 415,
                # never 400 15, which would turn a phone number into 12+ digits.)
                out.append((digits + "00", nxt + 1))
        elif nxt < n and toks[nxt] == "thousand" and t not in _REPEAT:
            after = nxt + 1
            if after < n and toks[after] == "and":
                after += 1
            before = len(out)
            if after < n and not toks[after][0].isdigit() and toks[after] not in _REPEAT:
                for sub, snext in readings(toks, after):
                    if len(sub) <= 3:
                        out.append((digits + sub.rjust(3, "0"), snext))
            if len(out) == before:
                out.append((digits + "000", nxt + 1))
        else:
            out.append((digits, nxt))
    return out


# Words of an aside that name another number: what follows is not the group begun said again
_OTHER_ITEM: Final = frozenset(["option", "extension", "ext", "press", "ref", "case", "ticket", "then", "and"])
# Words before a count in an aside ("those four", "that one", "the second four")
_COUNT_BEFORE: Final = _ORDINAL_BEFORE | frozenset(
    ["those", "these", "that", "this", "the", "second", "third", "fourth"]
)
_ASIDE_TOKENS: Final = 14  # the longest aside (tokens, punctuation included) a restart may step over


def _phrase_digits(toks: Sequence[str], k: int, stop: int) -> str:
    """The likeliest digit reading of the number tokens ``toks[k:stop]``."""
    out = []
    while k < stop:
        got = readings(toks, k)
        if not got:
            k += 1  # a "-" inside the phrase
            continue
        digits, nxt = got[0]
        out.append(digits)
        k = max(nxt, k + 1)
    return "".join(out)


def _restart_asides(toks: Sequence[str], header: frozenset[int]) -> frozenset[int]:
    """The tokens of asides a caller makes between a group begun and the same group said again from its start
    ("4744, 1, sorry, I'll say those four again, 1598", "nine nine, no, from the top of that group, nine nine
    four three"): on one line, at most ``_ASIDE_TOKENS`` tokens with a word that is not a filler (or says
    "again", or takes digits back), no number but a count ("those four"), no question and no new topic
    ("phone", "option"); and the number after it starts with the last digits before it (fewer digits than
    it). The walk steps over them as a pause; whether the digits begun are dropped is the walk's choice
    (``_best_path``: a restart)."""
    out: set[int] = set()
    n = len(toks)
    num = [_is_number(toks, i) for i in range(n)]

    def stop(i: int) -> int:
        """The end of the number phrase at token i (number tokens, \"-\" between them)."""
        while i < n and (num[i] or (toks[i] == "-" and i + 1 < n and num[i + 1])):
            i += 1
        return i

    k = 0
    while k < n:
        if not num[k] or k in header:
            k += 1
            continue
        a = stop(k)
        j, words = a, False
        while j < n and j - a <= _ASIDE_TOKENS:
            t = toks[j]
            if t in ("\n", "?") or t in _TOPIC_WORDS or t in _OTHER_ITEM or j in header:
                break
            if num[j]:
                b = stop(j)
                if b - j == 1 and not t[0].isdigit() and toks[j - 1] in _COUNT_BEFORE:
                    j = b  # (a number word of the aside: "that one again", "those four")
                    continue
                if words:  # (no aside, only fillers: the walk reads it as it is)
                    said = _phrase_digits(toks, j, b)
                    # the digits begun: the phrase's last tokens, two digits or more, or all of it (one digit
                    # said last matches the next number's first by chance too often)
                    for i in range(max(k, a - 11), a):  # (six digits at most: eleven tokens with dashes)
                        d = _phrase_digits(toks, i, a) if toks[i] != "-" else ""
                        if d and len(d) <= 6 and (len(d) >= 2 or i == k) and len(said) > len(d) and said.startswith(d):
                            out.update(range(a, j))
                            break
                break
            if t[0].isalpha() and (
                (t not in FILLERS and t not in _HESITATIONS) or t in _AGAIN_WORDS or t in _CORRECTION_WORDS
            ):
                words = True
            j += 1
        k = a
    return frozenset(out)


class _Run:
    """Where the walk may go from a token: the next number token after a gap, and what the gap held.

    In a transcript (speaker labels or subtitle cues) it also knows the turns: each turn's header (timestamp,
    label, cue number and timing line: never digits of a number), its speaker, and whether that speaker is
    an agent. A number goes on across turns of the same speaker; another speaker's turns in between (an
    agent's "mm-hmm", or reading a group back) are stepped over.
    """

    __slots__ = (
        "_bridges", "_corr_soon", "_gaps", "_readings", "agent", "blocked", "decimals", "ends", "header", "skip",
        "speaker", "spoken",
        "starts", "toks", "transcript", "turn_at",
    )  # fmt: skip

    def __init__(self, toks: Sequence[str], starts: Sequence[int], ends: Sequence[int], speech: bool = False) -> None:
        self.toks = toks
        self.starts = starts
        self.ends = ends
        self._gaps: dict[int, tuple[int, bool, bool, bool]] = {}
        self._bridges: set[int] = set()  # tokens whose gap crosses ordinary words (``_bridge``)
        self._readings: dict[int, list[tuple[str, int]]] = {}
        self._corr_soon: dict[int, bool] = {}
        self.blocked: set[int] = set()  # tokens of a short number said again in another turn (``_said_again``)
        # token index of a turn header -> (first token after it, speaker id); header tokens; speaker per token
        self.turn_at: dict[int, tuple[int, int]] = {}
        self.header: frozenset[int] = frozenset()
        self.speaker: list[int] = []
        self.agent: set[int] = set()
        self.transcript = False
        if not LABELS.isdisjoint(toks) or ">" in toks or ("\n" in toks and ":" in toks):
            self._find_turns()
        # Lines and speaker labels: a transcript, where digit groups with fillers between are one number. (The
        # pre-check flags the word path for label words in multi-line text: a superset-safe decision.)
        # Known speech: a labelled transcript of several lines (what the pre-check flags: ``_engine._triage``), or
        # the texts of a JSON transcript (``speech``).
        lines = speech or ("\n" in toks and not LABELS.isdisjoint(toks))
        # a number word anywhere (what makes the pre-check read words in any text): digits in this text may be
        # speech too, so an aside may sit between two digit groups
        self.spoken = lines or not _SURE_NUMBER_WORDS.isdisjoint(toks)
        self.transcript = bool(self.turn_at) or lines
        # Decimal numbers written glued ("0059.911", "12.50"): times and amounts, not digits read out. They end
        # a spoken number and never start one.
        self.decimals: frozenset[int] = frozenset()
        if "." in toks:
            self.decimals = frozenset(
                j
                for i in range(1, len(toks) - 1)
                if toks[i] == "."
                and toks[i - 1].isdigit()
                and toks[i + 1].isdigit()
                and ends[i - 1] == starts[i]
                and ends[i] == starts[i + 1]
                for j in (i - 1, i, i + 1)
            )
        # Digits glued to letters ("a04320d2-0b73-4b8e", "v3", "pi_3Nx"): a piece of an id or a name, not a
        # number read out. They too end a spoken number and never start one.
        n = len(toks)
        glued = [
            k for k in range(n)
            if toks[k][0].isdigit()
            and (
                (k > 0 and ends[k - 1] == starts[k] and toks[k - 1][0].isalpha())
                or (k + 1 < n and ends[k] == starts[k + 1] and toks[k + 1][0].isalpha())
            )
        ]  # fmt: skip
        if glued:
            self.decimals = self.decimals | frozenset(glued)
        # Words between a group begun and the group said again ("1, sorry, I'll say those four again, 1598"): a
        # pause, whatever they hold (``_restart_asides``)
        self.skip = _restart_asides(toks, self.header) if self.spoken else frozenset()

    def _find_turns(self) -> None:
        toks = self.toks
        n = len(toks)
        ids: dict[str, int] = {}
        pos = (self.starts, self.ends)
        names, bare, loose = _line_labels(toks, pos)
        header: set[int] = set()
        speaker = [0] * n
        cur = 0
        sticky = 0  # the speaker of a label on a line of its own ("Speaker 1  0:03"), for the lines below it
        k = 0
        line_start = True
        while k < n:
            t = toks[k]
            if t == "\n":
                speaker[k] = cur
                cur = sticky  # an unlabelled line: the speaker of a label line above it, or none known
                line_start = True
                k += 1
                continue
            if line_start:
                line_start = False
                cue = _cue_line(toks, k, pos)
                if cue > k:
                    header.update(range(k, cue))
                    k = cue
                    continue
            got = None
            if (
                t in LABELS
                or t in ("[", "<", "(")
                or t[0].isdigit()
                or t in names
                or (t in _SHORT_LABELS and (k == 0 or toks[k - 1] == "\n"))
            ):
                got = _header_at(toks, k, names, pos, bare)
            if k in loose and (got is None or loose[k][0] > got[0]):
                got = loose[k]  # ("Agent (ID 7): ...": the label's colon, not where a bare label would end)
            if got is not None:
                end, key, role = got
                sid = ids.setdefault(key, len(ids) + 1)
                if role == "agent":
                    self.agent.add(sid)
                self.turn_at[k] = (end, sid)
                header.update(range(k, end))
                cur = sid
                sticky = sid if end >= n or toks[end] == "\n" else 0
                for j in range(k, end):
                    speaker[j] = cur
                k = end
                continue
            if t == "<" and k + 3 < n and toks[k + 1] == "/" and toks[k + 2] in LABELS and toks[k + 3] == ">":
                header.update(range(k, k + 4))  # "</Caller>"
                for j in range(k, k + 4):
                    speaker[j] = cur
                k += 4
                continue
            if t in ("[", "(", "<") or (t[0].isdigit() and len(t) <= 2):
                clock = _clock_end(toks, k, pos)
                if clock > k and (t in ("[", "(", "<") or clock - k >= 5):
                    # a bracketed time or one with seconds, inside a turn: "[00:01:23]", "00:01:23.450"
                    header.update(range(k, clock))
                    for j in range(k, clock):
                        speaker[j] = cur
                    k = clock
                    continue
            speaker[k] = cur
            k += 1
        self.header = frozenset(header)
        self.speaker = speaker

    def is_num(self, k: int) -> bool:
        return _is_number(self.toks, k) and k not in self.header and k not in self.decimals and k not in self.skip

    def readings(self, k: int) -> list[tuple[str, int]]:
        got = self._readings.get(k)
        if got is None:
            got = readings(self.toks, k)
            toks, starts, ends = self.toks, self.starts, self.ends
            if (
                len(got) == 2
                and toks[k] in _TENS
                and k + 2 < len(toks)
                and toks[k + 1] == "-"
                and ends[k] == starts[k + 1]
                and ends[k + 1] == starts[k + 2]
            ):
                got = got[:1]  # "seventy-eight", written as one word: 78 (not "twenty - four", a pause)
            self._readings[k] = got
        return got

    def corr_soon(self, k: int) -> bool:
        """A retraction ("sorry", "scratch that") comes within the next four phrases after token k: the digits
        until then may be ones the caller takes back, so they need not begin a card."""
        got = self._corr_soon.get(k)
        if got is None:
            got = False
            p = k
            for _ in range(4):
                q, corr, _nl, _pause = self.gap(p)
                if corr:
                    got = True
                    break
                alts = self.readings(q) if q >= 0 else []
                if not alts:
                    break
                p = alts[0][1]
            self._corr_soon[k] = got
        return got

    def gap(self, k: int) -> tuple[int, bool, bool, bool]:
        got = self._gaps.get(k)
        if got is None:
            got = self._gaps[k] = self._gap(k)
        return got

    def _gap(self, k: int) -> tuple[int, bool, bool, bool]:
        """From token k (after a number): (index of the next number token or -1, correction seen, newline
        seen, pause seen).

        -1: the run ends here (a word that is not a filler, too many fillers, a line or turn that does not go
        on with a number, a link longer than ``MAX_LINK`` characters, or the end). A pause is punctuation, a
        filler or a turn between the two numbers: where a caller's digit group ends.
        """
        toks = self.toks
        n = len(toks)
        start = k
        fillers = 0
        correction = False
        newline = False
        pause = False
        here = self.speaker[k - 1] if self.speaker and k > 0 else 0
        last = self.ends[k - 1] if k > 0 else 0
        turn_at = self.turn_at
        while k < n:
            t = toks[k]
            if t == "\n" or k in turn_at:
                k, crossed = self._next_turn(k, here)
                # a pure-digit number crossing an unlabelled line is the digit path's (same rules there)
                newline = newline or crossed
                pause = True
                if k < 0:
                    return -1, correction, newline, pause
                continue
            if t in _ZERO_WORDS and _cut_off(toks, k):
                pause = True  # "o- oh": a cut-off, not a zero
                k += 2
                continue
            if k in self.header or k in self.skip:
                pause = True  # a closing "</Caller>", a bracketed time inside a turn, a restart's aside
                if k in self.header:
                    # (in a transcript, a bracketed time or a tag: the digit path cannot see a number through it)
                    newline = newline or (self.transcript and t in ("[", "]", "(", ")", "<", ">", "|"))
                elif t[0].isalpha():
                    correction = correction or t in _CORRECTION_WORDS
                    newline = True  # (the digit path cannot see a number with words inside)
                k += 1
                continue
            if k in self.decimals:
                return -1, correction, newline, pause  # "0059.911": a time or an amount ends the number
            if _is_number(toks, k) or t in _ZERO_WORDS:  # mid-number, "oh" is a zero
                m = _phrase_end(toks, k) if t == "one" else k
                if m > k:
                    fillers += 1  # "one sec", "one more time": a filler, not a digit
                    newline = newline or self.transcript
                    pause = True
                    k = m
                    continue
                break
            if t in _PHRASE_START:
                m = _phrase_end(toks, k)
                if m > k:
                    fillers += 1
                    newline = newline or self.transcript
                    pause = True
                    if not _CORRECTION_WORDS.isdisjoint(toks[k:m]):
                        correction = True  # "strike that", "my mistake", "make that", "or rather"
                    k = m
                    continue
            if t in FILLERS or t in _NOISE or (t.isalpha() and _DRAWN_OUT.fullmatch(t) is not None):
                # a word between digit groups: the digit path cannot see this number (counted in transcripts)
                # (and a correction, "3701, no, sorry, 3709": speech however it is written)
                newline = newline or self.transcript or t in _HESITATIONS or t in _CORRECTION
                pause = True
                fillers += 1
                if fillers > _MAX_FILLERS:
                    return -1, correction, newline, pause
                if t in _CORRECTION:
                    correction = True
                k += 1
                continue
            if t in _GAP_PUNCT or t[0] == "%":
                pause = pause or t != "-"
                k += 1
                continue
            if _cut_off(toks, k):
                pause = True
                k += 2
                continue
            j = self._bridge(k)
            if (
                j >= 0
                and start > 0
                and toks[start - 1][0].isdigit()
                and (toks[j][0].isdigit() or toks[j] == "\n" or j in turn_at)
                and not self.spoken
            ):
                j = -1  # (digits on both sides in text with no number word: log text, where words join nothing)
            if j < 0:
                return -1, correction, newline, pause
            self._bridges.add(start)
            k = j
            pause = newline = True  # (the digit path cannot see a number with words inside)
            if toks[j] == "\n" or j in turn_at:
                continue  # words that end the turn ("4315 let me just grab my card"): the next turn may go on
            break
        if k >= n or self.starts[k] - last > MAX_LINK:
            return -1, correction, newline, pause
        return k, correction, newline, pause

    def _bridge(self, k: int) -> int:
        """From an ordinary word at k: the number token after a short aside in the same line ("let me just
        grab my card", "the next four are", "can you hear me?"), or the line break or turn header after the
        words that end a transcript turn, or -1. At most ``_MAX_BRIDGE`` words, none
        that names another kind of number ("phone", "dollars", "times") or takes the digits back; the walk
        only crosses it after a digit group of three or more, at a cost (``_best_path``). (Not between two
        numbers written in digits: see ``_gap``.)"""
        toks = self.toks
        n = len(toks)
        words = 0
        j = k
        while j < n and toks[j] != "\n" and j not in self.turn_at and j not in self.header:
            t = toks[j]
            if t in _PHRASE_START:
                m = _phrase_end(toks, j)
                if m > j:
                    words += m - j  # "let me say that one more time"
                    if words > _MAX_BRIDGE:
                        return -1
                    j = m
                    continue
            if t[0].isdigit() or (t in NUMBER_WORDS and _is_number(toks, j)):
                return j if words else -1
            if t in _TOPIC_WORDS or t in _UNIT_WORDS or t in _CORRECTION or t in _FIELD_MARKS:
                return -1  # (or a field's syntax: "status=503 bytes=71" are fields, not an aside)
            if j == k and t in ("of", "x", "times", "per"):
                return -1  # a quantity: "two of 26164", "five of them"
            if t.isalpha() or "'" in t or "’" in t:
                words += 1
                if words > _MAX_BRIDGE:
                    return -1
            elif t not in _GAP_PUNCT:
                return -1
            j += 1
        if words and self.transcript and j < n and (toks[j] == "\n" or j in self.turn_at):
            return j  # the words end the turn: the number may go on in the caller's next one (``_gap``)
        return -1

    def _next_turn(self, k: int, here: int) -> tuple[int, bool]:
        """From a line break or turn header at k: the number token the run goes on with (or -1), and whether
        a label or cue was crossed. Blank lines, subtitle timing lines, other speakers' turns and
        back-channel turns ("SPEAKER_01: uh-huh") are stepped over."""
        toks = self.toks
        n = len(toks)
        crossed = False
        while k < n:
            if toks[k] == "\n" or (k in self.header and k not in self.turn_at):
                crossed = crossed or k in self.header
                k += 1
                continue
            j = k
            while (
                j < n
                and j - k < 3
                and (
                    toks[j] in _MARKUP
                    or (toks[j].isalpha() and toks[j] not in NUMBER_WORDS)
                    or (len(toks[j]) == 1 and not toks[j].isalnum() and toks[j] != "\n")
                )
            ):
                j += 1
                if j in self.turn_at:
                    k = j  # "**Agent:**", "> Caller:", "Virtual Assistant:", "Card Holder:"
                    break
            turn = self.turn_at.get(k)
            if turn is None:
                sid = self.speaker[k] if self.speaker else 0
                if sid == 0:
                    return (k if self._goes_on(k) else -1), crossed
                content = k  # a line under a label line of its own: that label's turn
            else:
                content, sid = turn
            crossed = True
            other = sid != here and (here != 0 or sid in self.agent)
            end = content
            while (
                end < n
                and toks[end] != "\n"
                and end not in self.turn_at
                and (toks[end] in FILLERS or toks[end] in _GAP_PUNCT or toks[end] in _NOISE)
            ):
                end += 1
            if other or end >= n or toks[end] == "\n" or end in self.turn_at:
                k = self._turn_end(content)  # another speaker's turn, or a back-channel: stepped over
                if any(toks[j] in _TOPIC_WORDS for j in range(content, k)) or (other and _asks_new(toks, content, k)):
                    return -1, crossed  # "And a phone number?", "And the other one?": another number follows
                continue
            return (content if self._goes_on(content, lead_in=True) else -1), crossed
        return -1, crossed

    def _turn_end(self, k: int) -> int:
        toks = self.toks
        n = len(toks)
        while k < n and toks[k] != "\n" and k not in self.turn_at:
            k += 1
        return k

    def _goes_on(self, k: int, lead_in: bool = False) -> bool:
        """A new caller line continues a number only if it starts with one, after fillers or, in a labelled
        turn of the same speaker (``lead_in``), a short lead-in ("then", "the next four are": ``_bridge``)."""
        toks = self.toks
        j = k
        while j < len(toks) and j - k < 8 and (toks[j] in FILLERS or toks[j] in _GAP_PUNCT or toks[j] in _NOISE):
            j += 1
        if j >= len(toks) or j in self.header:
            return False
        if _is_number(toks, j) or toks[j] in _ZERO_WORDS:
            return True
        if not lead_in:
            return False
        # a lead-in that says the number goes on ("then", "the next four are", "and it ends with")
        m = self._bridge(j)
        return m >= 0 and any(toks[i] in _LEAD_IN_WORDS for i in range(k, m))


# A request for a number ("Can I have the card number, please?", "What's the best number to reach you?"), or for
# the rest of one ("And the rest of the number?", "The next four digits of the card?").
_REQUEST_WORDS: Final = frozenset(["can", "could", "what", "what's", "whats", "may", "give", "read", "tell", "provide"])
_ASKED_WORDS: Final = frozenset(["number", "card", "details"])
_GO_ON_WORDS: Final = frozenset(
    ["next", "rest", "remaining", "continue", "more", "last", "then", "after", "following", "again", "repeat",
     "go", "keep", "carry", "finish", "digits", "part", "group", "bit"]
)  # fmt: skip


_LEAD_IN_WORDS: Final = _GO_ON_WORDS | frozenset(["finally", "ending", "ends", "end", "continues", "goes", "final"])


def _asks_new(toks: Sequence[str], start: int, end: int) -> bool:
    """Another speaker's turn ``toks[start:end]`` asks for another item: a word of ``_NEW_ITEM_WORDS``, or a
    request for a number that is not for the rest of the one being read."""
    words = set(toks[start:end])
    if not words.isdisjoint(_NEW_ITEM_WORDS):
        return True
    # (a request, or a question: "And the long number on the card?")
    asks = (not words.isdisjoint(_REQUEST_WORDS) or "?" in words) and not words.isdisjoint(_ASKED_WORDS)
    if asks and words.isdisjoint(_GO_ON_WORDS):
        return True
    # "Sorry, the line cut out, that number again?", "You broke up, can you repeat that?": the whole number said
    # again (not "the last group again?", "repeat the next four?": a piece of it)
    return not words.isdisjoint(_AGAIN_WORDS) and words.isdisjoint(_PART_WORDS)


_AGAIN_WORDS: Final = frozenset(["again", "repeat", "catch", "cut", "broke", "breaking", "lost"])
_PART_WORDS: Final = _GO_ON_WORDS - frozenset(["again", "repeat", "digits"]) | frozenset(
    ["first", "second", "third", "fourth", "one", "two", "three", "four", "five", "six", "set", "chunk", "bit",
     "end", "middle", "that's"]
)  # fmt: skip


def _clock_end(toks: Sequence[str], k: int, pos: Pos = None) -> int:
    """After a clock time at k ("00:01:23", "12:03.450", "01:23,450", optionally in brackets), or k."""
    n = len(toks)
    j = k
    if (  # Whisper's timestamp token: "<|24.98|>"
        j + 6 < n
        and toks[j] == "<"
        and toks[j + 1] == "|"
        and toks[j + 2].isdigit()
        and toks[j + 3] == "."
        and toks[j + 4].isdigit()
        and toks[j + 5] == "|"
        and toks[j + 6] == ">"
    ):
        return j + 7
    bracket = j < n and toks[j] in ("[", "(")
    if bracket:
        j += 1
        if (
            j + 3 < n
            and toks[j].isdigit()
            and len(toks[j]) <= 5
            and toks[j + 1] == "."
            and toks[j + 2].isdigit()
            and len(toks[j + 2]) <= 3
            and toks[j + 3] in ("]", ")")
        ):
            return j + 4  # a word's time in seconds before it: "[55.97]2272"
    if not (
        j + 2 < n
        and toks[j].isdigit()
        and len(toks[j]) <= 2
        and toks[j + 1] == ":"
        and len(toks[j + 2]) == 2
        and toks[j + 2].isdigit()
    ):
        return k
    if pos is not None and not (pos[0][j + 1] == pos[1][j] and pos[0][j + 2] == pos[1][j + 1]):
        return k  # "Speaker 2: 40": a label's number, a colon and a space are not a time
    j += 3
    while (
        j + 1 < n
        and toks[j] in (":", ".", ",")
        and toks[j + 1].isdigit()
        and (len(toks[j + 1]) == 2 if toks[j] == ":" else len(toks[j + 1]) <= 3)
    ):
        j += 2
    if j < n and toks[j] in ("am", "pm"):
        j += 1  # "10:23 AM"
    if bracket:
        if j < n and toks[j] in ("]", ")"):
            return j + 1
        return k
    return j


def _date_end(toks: Sequence[str], k: int, pos: Pos) -> int:
    """After a date at k ("2025-03-01", "03/01/2025", written glued), or k."""
    if k + 4 >= len(toks) or not toks[k].isdigit() or pos is None:
        return k
    a, s1, b, s2, c = toks[k : k + 5]
    if s1 != s2 or s1 not in ("-", "/") or not (b.isdigit() and c.isdigit()):
        return k
    if any(pos[0][i + 1] != pos[1][i] for i in range(k, k + 4)):
        return k
    if (len(a) == 4 and len(b) <= 2 and len(c) <= 2) or (len(a) <= 2 and len(b) <= 2 and len(c) == 4):
        return k + 5
    return k


_TITLES: Final = frozenset(["mr", "mrs", "ms", "miss", "dr", "prof", "sir"])


def _name_end(toks: Sequence[str], k: int) -> int:
    """After a name of one to three words ("John", "John Smith", "Mr. Jones") at k, or k."""
    j = k
    while j < len(toks) and j - k < 4 and toks[j].isalpha() and toks[j] not in NUMBER_WORDS:
        j += 1
        if j < len(toks) and toks[j] == "." and toks[j - 1] in _TITLES:
            j += 1
    return j


# Keys of a logged turn's text ("speaker=caller text=four two", 'msg="four two"').
_TEXT_FIELDS: Final = frozenset(["text", "msg", "message", "transcript", "utterance", "content", "said", "speech"])


def _loose_header(toks: Sequence[str], k: int, names: frozenset[str], pos: Pos) -> tuple[int, str, str] | None:
    """A turn header in a line's prefix that ``_header_at`` does not read: a known label or name anywhere before
    the first ":" that is not a clock's, with anything but number words around it ("(12.3s) Caller:",
    "2025-11-29T10:00:01Z INFO caller:", "Customer (+1 415 555 0100):", "Caller, 00:12:"), or before a text field
    ("speaker=caller text=", 'speaker=caller msg="'). Returns what ``_header_at`` does."""
    n = len(toks)
    label, lab_at = "", -1
    j = k
    limit = pos[0][k] + 160 if pos is not None else 0
    while j < n and toks[j] != "\n" and j - k < 48 and (pos is None or pos[0][j] < limit):
        t = toks[j]
        if t in LABELS or t in names:
            label, lab_at = t, j
        elif t in NUMBER_WORDS and t not in ("a", "o"):
            return None  # the turn's words began before any header ended
        elif t == ":" and label:
            if (
                j > 0
                and toks[j - 1].isdigit()
                and j + 1 < n
                and toks[j + 1].isdigit()
                and (pos is None or (pos[1][j - 1] == pos[0][j] and pos[1][j] == pos[0][j + 1]))
            ):
                j += 1  # a clock's colon ("Caller, 00:12:"), not the label's ("Caller, 00:12: 0195")
                continue
            key = label
            if lab_at + 1 < j and toks[lab_at + 1].isdigit():
                key += toks[lab_at + 1]  # "Customer 1 (ID 48213):"
            return _header_tail(toks, j + 1, pos), key, _role(label)
        elif t == "=" and label and lab_at < j - 1 and toks[j - 1] in _TEXT_FIELDS:
            m = j + 1
            if m < n and toks[m] in ('"', "'"):
                m += 1
            return m, label, _role(label)
        j += 1
    return None


def _line_labels(
    toks: Sequence[str], pos: Pos
) -> tuple[frozenset[str], frozenset[str], dict[int, tuple[int, str, str]]]:
    """What opens the lines of a transcript whose labels are not known words, or not where labels go.

    names: named speakers ("Sarah: ...", "John Smith: ...", "Mr. Jones: ..."): a name of one to three words
    before ":" that opens two or more lines (the first word is the key).
    bare: known labels written with no colon ("CALLER four two", "(caller) four two", "00:12 Caller four two"),
    when two or more different ones open three or more lines: a dialogue, not a line that starts with the word.
    loose: line start -> header (``_loose_header``), when three or more lines have one, of two or more speakers."""
    n = len(toks)
    opens: dict[str, int] = {}
    bare_opens: dict[str, int] = {}
    for k in range(n):
        if k and toks[k - 1] != "\n":
            continue
        t = toks[k]
        if t.isalpha() and t not in _NOT_NAMES and t not in NUMBER_WORDS:
            e = _name_end(toks, k)
            if e + 1 < n and (toks[e].isdigit() or toks[e] == "."):
                e += 1  # "S1:", "Agt.:"
            if e < n and toks[e] == ":":
                opens[t] = opens.get(t, 0) + 1
        j = _clock_end(toks, k, pos)
        if j < n and toks[j] in ("(", "["):
            j += 1
        if (
            j + 1 < n
            and toks[j] in LABELS
            and toks[j + 1] not in (":", "_", "-", "#")
            # (digits after the label: the caller's, "CALLER 4172"; not a speaker's number, "Caller 2:")
            and (not toks[j + 1].isdigit() or len(toks[j + 1]) >= 4 or j + 2 >= n or toks[j + 2] == "\n")
        ):
            bare_opens[toks[j]] = bare_opens.get(toks[j], 0) + 1
    names = frozenset(w for w, c in opens.items() if c >= 2)
    bare = frozenset(bare_opens) if len(bare_opens) >= 2 and sum(bare_opens.values()) >= 3 else frozenset()
    loose: dict[int, tuple[int, str, str]] = {}
    for k in range(n):
        if (k == 0 or toks[k - 1] == "\n") and toks[k] != "\n":
            got = _loose_header(toks, k, names, pos)
            if got is not None:
                loose[k] = got
    if len(loose) < 3 or len({key for _e, key, _r in loose.values()}) < 2:
        loose = {}
    return names, bare, loose


def _header_at(
    toks: Sequence[str],
    k: int,
    names: frozenset[str] = frozenset(),
    pos: Pos = None,
    bare: frozenset[str] = frozenset(),
) -> tuple[int, str, str] | None:
    """A turn header at k: [timestamp] label [number] [(timestamp)] ":" (or "<v Label>", "[Label]", "(Label)",
    or a label of ``bare`` with nothing after it at a line start).
    Returns (first token after it, speaker key, role: "agent" | "caller" | "unknown")."""
    n = len(toks)
    start = k
    if (k == 0 or toks[k - 1] == "\n") and toks[k].isdigit() and len(toks[k]) <= 4:
        # a numbered line ("12 Caller:", "12. Caller:"), when a label follows
        nxt = k + 2 if k + 1 < n and toks[k + 1] == "." else k + 1
        if nxt < n and (toks[nxt] in LABELS or toks[nxt] in names or toks[nxt] in _SHORT_LABELS):
            k = nxt
    date = _date_end(toks, k, pos)
    j = _clock_end(toks, date, pos)
    if j > k and j < n and toks[j] in (",", "|"):
        j += 1  # "00:01:23,Caller,..." (CSV), "| 00:01 | Caller | ..." (a table)
    voice = j + 1 < n and toks[j] == "<" and toks[j + 1] == "v"
    if voice:
        j += 2
        if j < n and toks[j] not in LABELS and toks[j] not in names:
            # a WebVTT voice tag names its speaker, whoever it is: "<v Neil Patterson>"
            m = j
            while m < n and m - j < 6 and (toks[m].replace("'", "").isalpha() or toks[m] in (".", "-", "'")):
                m += 1
            if m == j or m >= n or toks[m] != ">":
                return None
            who = [t for t in toks[j:m] if t[0].isalpha()]
            role = "agent" if any(w in _AGENT_LABELS for w in who) else "unknown"
            return _header_tail(toks, m + 1, pos), "v:" + " ".join(who), role
    tag = not voice and j + 1 < n and toks[j] == "<" and toks[j + 1] in LABELS  # "<Caller>four two</Caller>"
    if tag:
        j += 1
        voice = True  # ends with ">" like a voice tag
    closing = {"[": "]", "(": ")"}.get(toks[j]) if not voice and j < n else None
    bracket = closing is not None
    if bracket:
        j += 1
    line_start = start == 0 or toks[start - 1] == "\n"
    if j + 1 < n and line_start and toks[j] in _SHORT_LABELS and toks[j + 1] in (":", ">"):
        # call-centre shorthand at a line start: "C: four two", "A: okay", "C> four two"
        return _header_tail(toks, j + 2, pos), toks[j], _SHORT_LABELS[toks[j]]
    if j >= n or (toks[j] not in LABELS and toks[j] not in names):
        return None
    word = toks[j]
    key = word
    m = j + 1
    # a label of several words ("Customer Service:", "Support Agent:"): the last word must end in ":"
    extra = _name_end(toks, j) if word in names else m
    while extra < n and extra - j <= 2 and toks[extra].isalpha() and toks[extra] not in NUMBER_WORDS:
        extra += 1
    if extra > m and extra < n and toks[extra] == ":" and all(t not in FILLERS or t in LABELS for t in toks[m:extra]):
        words = toks[j:extra]
        key = " ".join(words)
        role = "agent" if any(w in _AGENT_LABELS for w in words) else _role(word)
        return _header_tail(toks, extra + 1, pos), key, role
    while (
        m < n
        and m - j <= 3
        and (
            # ("Speaker-2", "SPEAKER_00", "Agent#3": written as one word; "Caller - 415" is the caller's digits)
            (
                toks[m] in ("_", "-", "#")
                and m + 1 < n
                and toks[m + 1].isdigit()
                and len(toks[m + 1]) <= 3
                and (pos is None or (pos[1][m - 1] == pos[0][m] and pos[1][m] == pos[0][m + 1]))
            )
            # a speaker's number ("Speaker 2:"), not a caller's digits after a bare label ("Caller 6637", "Caller 8")
            or (toks[m].isdigit() and len(toks[m]) <= 3 and m + 1 < n and toks[m + 1] != "\n")
        )
        and _clock_end(toks, m, pos) == m
    ):
        key += toks[m] if toks[m].isdigit() else ""
        m += 1
    if word in _ANON_LABELS and m < n and len(toks[m]) == 1 and toks[m].isalpha():
        key += toks[m]  # "Speaker A"
        m += 1
    elif m + 1 < n and toks[m] == "_" and toks[m + 1].isalpha() and toks[m + 1] not in NUMBER_WORDS:
        key += "_" + toks[m + 1]  # "AGENT_SMITH"
        m += 2
    if m + 2 < n and toks[m] in ("(", "[") and toks[m + 1].isalpha() and toks[m + 2] in (")", "]"):
        m += 3  # "Agent (Sarah):", "Speaker 1 [Agent]:"
        if word in _ANON_LABELS and toks[m - 2] in LABELS:
            word = toks[m - 2]  # the role in brackets says who the diarised speaker is
    clock = _clock_end(toks, m, pos)
    if clock > m and not voice and not bracket:
        if clock < n and toks[clock] == ":":
            clock += 1
        # "Speaker 1  0:03" on a line of its own (the text is below), or with the text after it on the line
        return clock, key, _role(word)
    m = clock
    if voice:
        if m < n and toks[m] == ">":
            m += 1
        else:
            return None
    elif bracket:
        if m < n and toks[m] == closing:
            m += 1
            if m < n and toks[m] in (":", ">", "-"):
                m += 1
        else:
            return None
    elif m < n and toks[m] in (":", "|"):
        m += 1
    elif m < n and toks[m] == "," and ((k > 0 and toks[k - 1] == ",") or j > k):
        m += 1  # a CSV field: "...,Caller,four two"
    elif m < n and toks[m] in ("-", ">") and (k == 0 or toks[k - 1] == "\n") and j == k:
        m += 1  # "Caller - four two", "CALLER > four two" at a line start
    elif not (word in bare and line_start and m == j + 1):
        return None  # (else "CALLER four two", "00:12 Caller four two": a known label, no colon, in a dialogue)
    return _header_tail(toks, m, pos), key, _role(word)


def _header_tail(toks: Sequence[str], m: int, pos: Pos) -> int:
    """After a label's colon: a timestamp ("Caller: [00:01:23] four two"), markdown ("**Agent:**")."""
    m = _clock_end(toks, m, pos)
    while m < len(toks) and toks[m] == "*":
        m += 1
    return m


def _role(word: str) -> str:
    return "agent" if word in _AGENT_LABELS else "unknown" if word in _ANON_LABELS else "caller"


def _cue_line(toks: Sequence[str], k: int, pos: Pos = None) -> int:
    """A subtitle cue's number and timing lines at k ("12\n00:00:01,000 --> 00:00:03,500\n"), or a WEBVTT
    header line: the token after them, or k."""
    n = len(toks)
    j = k
    if j < n and toks[j] == "webvtt":
        while j < n and toks[j] != "\n":
            j += 1
        return j
    if j + 1 < n and toks[j].isdigit() and toks[j + 1] == "\n" and _timing_end(toks, j + 2, pos) > j + 2:
        return _timing_end(toks, j + 2, pos)
    if j < n and toks[j] == "[":
        # a segment's timing in brackets before its text, as Whisper writes it: "[00:21.268 --> 00:22.660]  ..."
        a = _clock_end(toks, j + 1, pos)
        if a > j + 1 and a + 2 < n and toks[a] == "-" and toks[a + 1] == "-" and toks[a + 2] == ">":
            b = _clock_end(toks, a + 3, pos)
            if a + 3 < b < n and toks[b] == "]":
                return b + 1
    return _timing_end(toks, j, pos)


def _timing_end(toks: Sequence[str], k: int, pos: Pos = None) -> int:
    j = _clock_end(toks, k, pos)
    n = len(toks)
    if j == k or not (j + 2 < n and toks[j] == "-" and toks[j + 1] == "-" and toks[j + 2] == ">"):
        return k
    j += 3
    while j < n and toks[j] != "\n":
        j += 1
    return j


def _phrase_end(toks: Sequence[str], k: int) -> int:
    for phrase in _PHRASES.get(toks[k], ()):
        if tuple(toks[k : k + len(phrase)]) == phrase:
            return k + len(phrase)
    return k


def _cut_off(toks: Sequence[str], k: int) -> bool:
    """A word cut off and restarted: "f- four", "s- sixty" (a short fragment, a dash, a word it starts)."""
    t = toks[k]
    return (
        len(t) <= 3
        and t.isalpha()
        and k + 2 < len(toks)
        and toks[k + 1] == "-"
        and toks[k + 2] != t
        and toks[k + 2].startswith(t)
    )


def spoken_pans(text: str, tokens: Tokens, speech: bool = False) -> list[Finding_t]:
    """Card numbers read aloud: (start, end, brand, last4) per caller line the number covers."""
    toks, starts, ends = tokens
    n = len(toks)
    run = _Run(toks, starts, ends, speech)
    if run.turn_at or "\n" in toks:
        run.blocked = _said_again(run)
    out: list[Finding_t] = []
    k = 0
    while k < n:
        if not run.is_num(k):
            k += 1
            continue
        positions, run_end = _positions(run, k)
        if _said_twice(run, positions):
            k = max(run_end, k + 1)
            continue
        if run.blocked:
            positions = [p for p in positions if p not in run.blocked]
            if not positions:
                k = max(run_end, k + 1)
                continue
        i = 0
        free = True  # a free start: the run's start, or right after a card
        while i < len(positions):
            # The plain walk first; the walk that also reads repeats, restarts and stutters (many more paths
            # where digits repeat, as in "four two four two ...") only when the plain one stops short.
            best = _best_path(run, toks, positions[i], must_end=not free, repeats=False)
            if best is None or best[0] <= positions[-1]:
                again = _best_path(run, toks, positions[i], must_end=not free, repeats=True)
                if again is not None and (best is None or again[0] > best[0]):
                    best = again
            if best is not None and best[3] and not _periodic(best[1]):
                end_tok, digits, brand, _wordy, used = best
                out.extend(_pieces(run, used, brand, digits))
                run_end = max(run_end, end_tok)
                i = next((m for m, p in enumerate(positions) if p >= end_tok), len(positions))
                free = True
                continue
            i += 1
            free = False
            # a card read out starts where a group starts: after a pause, or at a digit group written as one
            while i < len(positions) and not _group_start(run, positions[i]):
                i += 1
        k = max(run_end, k + 1)
    return out


# Words a caller confirms a number with before saying it again ("..., yes, ...", "that's right, ...").
_CONFIRM_WORDS: Final = frozenset(
    [
        "yes",
        "yeah",
        "yep",
        "yup",
        "correct",
        "right",
        "exactly",
        "that's",
        "again",
        "repeat",
        "repeating",
        "confirm",
        "said",
    ]
)


def _said_twice(run: _Run, positions: list[int]) -> bool:
    """The run is one short number said twice, with a confirmation between ("four two six five five five one one
    one four, yes, four twenty six five five five double one one four"): a phone number confirmed, never a card
    (a card is 12 digits or more; seven to eleven said twice would read as one)."""
    if not 4 <= len(positions) <= 60:
        return False
    toks = run.toks
    said: list[str] = []
    nexts: list[int] = []
    for p in positions:
        alts = run.readings(p)
        said.append(alts[0][0] if alts else "")
        nexts.append(alts[0][1] if alts else p + 1)
    digits = "".join(said)
    if not 14 <= len(digits) <= 22:
        return False
    half = 0
    for i in range(1, len(positions)):
        half += len(said[i - 1])
        if half * 2 == len(digits) and digits[:half] == digits[half:] and 7 <= half <= 11:
            # the second half follows a word in the same turn ("yes", "that's"), not only punctuation (nor another
            # turn: "4242" read in four turns is a card whose halves are the same)
            between = range(nexts[i - 1], positions[i])
            return any(toks[j] in _CONFIRM_WORDS for j in between) and not any(
                toks[j] == "\n" or j in run.header for j in between
            )
    return False


def _said_again(run: _Run) -> set[int]:
    """The tokens of short numbers (7 to 11 digits: phone, account, order numbers) said whole in two lines or
    turns, the second time the same or one digit off ("5365550121" ... "Sorry, that number again?" ...
    "536-555-0121", "So that's 536-555-0221?"): a number repeated and read back, not the pieces of a card (a
    card over several turns says each piece once; "4242 4242" twice is Stripe's test card, a period of 2).
    A number here is number phrases with only punctuation and fillers between, on one line."""
    toks = run.toks
    n = len(toks)
    said: list[tuple[str, list[int], int]] = []  # (digits, tokens, line)
    # lines that ask for more or say more comes ("That's 5018 1695... and the rest?", "then 4242"): a card's
    # first groups read back, not a number said whole
    going_on: set[int] = set()
    line = 0
    for t in toks:
        if t == "\n":
            line += 1
        elif t in _GO_ON_WORDS and t not in ("again", "repeat"):
            going_on.add(line)
    line = 0
    k = 0
    while k < n:
        if toks[k] == "\n":
            line += 1
        if not run.is_num(k) or not run.readings(k):
            k += 1
            continue
        digits, used = "", list[int]()
        while True:
            reading, nxt = run.readings(k)[0]
            digits += reading
            used.extend(range(k, nxt))
            j = nxt
            while j < n and toks[j] != "\n" and j not in run.header and (toks[j] in _GAP_PUNCT or toks[j] in FILLERS):
                j += 1
            if j < n and run.is_num(j) and run.readings(j):
                k = j
                continue
            k = max(j, k + 1)
            break
        if line in going_on:
            continue
        if 7 <= len(digits) <= 11 and not any(digits[q:] == digits[:-q] for q in (1, 2, 4)):
            said.append((digits, used, line))
    # said again by the same speaker (an agent reading back a caller's ten digits is how a card's first
    # groups are confirmed too), then every read-back of it as well
    speaker = run.speaker or [0] * n
    out: set[int] = set()
    for i, (a, ta, la) in enumerate(said):
        same = [
            tb for b, tb, lb in said[i + 1 :]
            if lb != la and len(b) == len(a) and speaker[tb[0]] == speaker[ta[0]] and one_off(b, a)
        ]  # fmt: skip
        if same:
            out.update(ta)
            for b, tb, lb in said:
                if lb != la and len(b) == len(a) and one_off(b, a):
                    out.update(tb)
    return out


def _periodic(digits: str) -> bool:
    """The digits repeat with a period of 3 to 11 ("536555012 1536555..."): a phone number, a code or a last four
    said again and again, not a card (a card repeats itself by chance one time in 10^5 or less; Stripe's
    4242 4242 4242 4242 has a period of 2)."""
    n = len(digits)
    for p in range(1, min(11, n - 4) + 1):
        if digits[p:] == digits[: n - p]:
            return p >= 3
    return False


def _group_start(run: _Run, k: int) -> bool:
    """Number token k starts a group: a pause before it, or a written digit group after another."""
    j = k - 1
    while j >= 0 and not run.is_num(j) and j not in run.header and run.toks[j] != "\n" and k - j < 64:
        j -= 1
    if j < 0 or (run.toks[j][0].isdigit() and run.toks[k][0].isdigit()) or _cut_off(run.toks, j):
        return True  # (or after a word cut off: "o- one zero four")
    # the phrase that ends at j: its first token is the one whose readings reach past j
    for p in range(max(0, j - 3), j + 1):
        if run.is_num(p):
            for _reading, nxt in run.readings(p):
                if nxt == j + 1:
                    q, _corr, _nl, pause = run.gap(nxt)
                    return q != k or pause
    return True


def _positions(run: _Run, k: int) -> tuple[list[int], int]:
    """The number tokens of the run starting at k (along the first reading), and the index after the run."""
    positions = [k]
    p = k
    while True:
        alts = run.readings(p)
        if not alts:
            return positions, p + 1
        q = run.gap(alts[0][1])[0]
        if q < 0:
            return positions, alts[0][1]
        positions.append(q)
        p = q


def _best_path(
    run: _Run, toks: Sequence[str], k0: int, must_end: bool = False, repeats: bool = True
) -> tuple[int, str, str, bool, list[int]] | None:
    """The furthest-reaching card path from number token k0: (end token, digits, brand, wordy, used tokens).

    ``repeats``: also walk groups said again, restarts and stutters (see below)."""
    # best: (end token, digits, brand, wordy, chain, cost); cost counts the less likely choices a path made
    # (a second reading, dropped digits, a repeated group): among paths that reach as far (the same span), the
    # likeliest wins.
    best: tuple[int, str, str, bool, Chain, int] | None = None
    budget = _BUDGET
    # Hot loop: bound lookups, the caches of ``run`` read directly, and ``viable_prefix`` inlined on its memo.
    read_memo, gap_memo, vget, bridges, blocked = run._readings, run._gaps, _VIABLE.get, run._bridges, run.blocked
    # stack: (token index of a number, digits so far, wordy, chain of phrases used, correction just before,
    # cost, where the current digit group starts in digits, the group before it, digits of a repeat still to
    # come). A repeat: right after a pause, the previous group said again ("four two four two, yes, four two
    # four two"): its tokens are walked without adding digits.
    stack: list[tuple[int, str, bool, Chain, bool, int, int, str, str]] = [(k0, "", False, None, False, 0, 0, "", "")]
    push, pop = stack.append, stack.pop
    seen: dict[tuple[int, str, bool, int, str, str, bool], int] = {}
    best_end, best_cost, best_len = -1, 0, 0
    while stack and budget > 0:
        k, digits, wordy, chain, corrected, cost, gstart, prev, echo = pop()
        # The same place in the text with the same digits and the same state is walked once, at its lowest cost
        # (what follows depends only on these; the path's tokens only on which of them got there).
        key = (k, digits, corrected, gstart, prev, echo, wordy)
        seen_cost = seen.get(key)
        if seen_cost is not None and seen_cost <= cost:
            continue
        seen[key] = cost
        budget -= 1
        if k in blocked:
            continue
        # After a retraction, or a stutter (the phrase starts with the word the last one started with, or with
        # its last tens word: "four four two", "fifty fifty six", "four hundred sixty sixty-eight"), the digits
        # just said may be replaced by what follows.
        if digits and corrected:
            bases = [digits] + [digits[:-j] for j in range(1, min(10, len(digits)) + 1)]
        elif (
            repeats
            and digits
            and chain is not None
            and (toks[k] == toks[chain[0]] or (toks[k] == toks[chain[1] - 1] and toks[k] in _TENS))
            and not toks[k][0].isdigit()
        ):
            bases = [digits, digits[:-1], digits[:-2]]  # a stutter: one word ("four four two") or two digits
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
            q, corr, newline, pause = g if g is not None else run.gap(nxt)
            bridged = q >= 0 and nxt in bridges
            # A card may end here if the run does, or (from a free start) at a pause or between written digit
            # groups: not inside a group that goes on ("... five zero five | six": a longer number cut).
            end_ok = q < 0 or (not must_end and (pause or (toks[q][0].isdigit() and toks[k][0].isdigit())))
            link: Chain = (k, nxt, chain)
            wn = w or newline
            straddle = False
            if echo and not echo.startswith(reading):
                if len(reading) > len(echo) and reading.startswith(echo):
                    # a phrase that ends the repeat and goes on with new digits: after "three fifty two
                    # eighty-three one four" said again, "eighty-two" is the repeat's 8 and a new 2
                    reading = reading[len(echo) :]
                    straddle = True
                else:
                    continue
            elif echo:
                # inside a repeated group: the reading must go on repeating it
                rest = echo[len(reading) :]
                if not rest and len(digits) >= 12 and (nxt > best_end or (nxt == best_end and cost < best_cost)):
                    brand = pan_brand(digits)
                    if brand is not None and end_ok:
                        best = (nxt, digits, brand, wn, link, cost)
                        best_end, best_cost, best_len = nxt, cost, len(digits)
                if q >= 0 and not bridged:
                    push((q, digits, wn, link, corr, cost, len(digits), prev, rest))
                    if rest and pause:
                        # a repeat cut off and begun again ("seventy-two, um, two four, um, twenty four seventy-two")
                        push((q, digits, wn, link, corr, cost + 1, len(digits), prev, ""))
                continue
            if repeats and digits and not straddle:
                # the group just said (since the last pause), or the one before a pause, said again
                cur = digits[gstart:]
                # (the whole or the last digits of it, said again starting with a phrase of two digits or more:
                # "three three five nine nine one three one ninety-one thirty-one"; one-digit words repeat by
                # chance too often to be read as a repeat without a pause)
                # (a repeat that starts with a one-digit word needs four digits: "oh three five four oh three
                # five four", a group said twice, or stitched twice by a streaming recogniser)
                targets = [cur[j:] for j in range(len(cur) - (2 if len(reading) >= 2 else 3))]
                if len(digits) >= 12 and len(cur) < len(digits):
                    targets.append(digits)  # the whole number said again, with no pause before it
                if gstart == len(digits) and prev:
                    # (or its last digits: "... five oh two one six two, yes, one six two"; or the whole number so
                    # far: the caller starting over)
                    targets.append(prev)
                    targets.extend(prev[j:] for j in range(1, len(prev) - 1))
                    if chain is not None and len(toks[chain[0]]) == 1 and toks[chain[0]].isdigit():
                        targets.append(toks[chain[0]])  # one written digit begun again ("8 uh eight seven")
                    # (or from a little before the group: a group begun over a pause, "zero nine, uh, one, um,
                    # zero nine one seven", or the caller going back to the group before, "4652 four three, uh,
                    # 4652 four three zero")
                    targets.extend(digits[-j:] for j in range(len(prev) + 1, min(len(digits) - 1, len(prev) + 8) + 1))
                    if len(digits) > len(prev):
                        targets.append(digits)
                for target in targets:
                    if target.startswith(reading):
                        rest = target[len(reading) :]
                        further = nxt > best_end or (nxt == best_end and cost + 1 < best_cost)
                        if not rest and len(digits) >= 12 and further:
                            brand = pan_brand(digits)
                            if brand is not None and end_ok:
                                best = (nxt, digits, brand, wn, link, cost + 1)
                                best_end, best_cost, best_len = nxt, cost + 1, len(digits)
                        if q >= 0 and not bridged:
                            push((q, digits, wn, link, corr, cost + 1, len(digits), target, rest))
            here = bases
            if repeats and prev and gstart == len(digits) and len(reading) > 1 and not straddle:
                # a restart: a group begun, a pause, the group said again from its start ("840, uh, 8409",
                # "one three six - um - 136628"): the digits begun (two or more, or one digit said alone) are the
                # first of the new phrase, said twice (a repetition repair)
                top = min(len(digits), len(prev) + 8, len(reading) - 1)
                cuts = [j for j in range(top, 1, -1) if reading.startswith(digits[-j:])]
                one = toks[chain[0]] if chain is not None and chain[1] == chain[0] + 1 else ""
                if one and reading[0] == _UNITS.get(one, one):
                    cuts.append(1)  # one digit begun ("eight, uh, 8173", "5... 5686")
                if cuts:
                    here = [*bases, *(digits[:-j] for j in cuts)]
            for drop in range(len(here) - 1, -1, -1):
                base = here[drop]
                d = base + reading
                n = len(d)
                if n > 19:
                    continue
                # a pushed base passed this test, so do its prefixes: from 6 digits on, d's verdict is the base's
                if len(base) < 6 and not (corr or run.corr_soon(nxt)):
                    ok = vget(d[:6])
                    if ok is None:
                        ok = viable_prefix(d)
                    if not ok:
                        continue
                c = cost + rank * _ALT + drop
                if c >= _MAX_ALT_COST:
                    continue  # too many unlikely readings: phone numbers and amounts read as something else
                if n >= 12 and (
                    nxt > best_end or (nxt == best_end and (c < best_cost or (c == best_cost and n > best_len)))
                ):
                    brand = pan_brand(d)
                    if brand is not None and end_ok:
                        best = (nxt, d, brand, wn, link, c)
                        best_end, best_cost, best_len = nxt, c, n
                if q >= 0:
                    gs = min(gstart, len(base))
                    if bridged:
                        # an aside between groups: after a group of three digits or more, or six digits in all (a
                        # caller hesitating inside a group), at a cost
                        if n - gs < 3 and n < 6:
                            continue
                        c += 1
                    if pause:
                        push((q, d, wn, link, corr, c, n, d[gs:], ""))
                    else:
                        push((q, d, wn, link, corr, c, gs, prev, ""))
    if best is None:
        return None
    used: list[int] = []
    node = best[4]
    while node is not None:
        used[:0] = range(node[0], node[1])
        node = node[2]
    return best[0], best[1], best[2], best[3], used


def _pieces(run: _Run, used: list[int], brand: str, digits: str) -> list[Finding_t]:
    """The card's span, cut at line breaks and turn headers (agent turns between caller turns stay
    readable), plus the groups another speaker read back in between or right after ("Agent: four two four
    two, got it"): those are card digits too."""
    toks, starts, ends = run.toks, run.starts, run.ends
    last4 = digits[-4:]
    first, last = used[0], used[-1]
    used_set = frozenset(used)
    header = run.header
    out: list[Finding_t] = []
    piece_start = starts[first]
    prev_end = ends[first]
    skipped: list[int] = []
    for k in range(first + 1, last + 1):
        if toks[k] == "\n" or k in header or (k not in used_set and toks[k][0].isalpha() and not _is_number(toks, k)):
            # (a word between the groups, "uh", "sorry", "I'll repeat that", stays: the card is what is cut out;
            # a number word the card's reading left out stays in it, like a digit group: digits taken back
            # ("four two four one, no, four two four two"), an "oh" said as "oh, sorry")
            if piece_start >= 0:
                out.append((piece_start, prev_end, brand, last4))
            piece_start = -1
            if toks[k] == "\n" or k in header:
                continue
            skipped.append(k)
        elif k in used_set:
            if piece_start < 0:
                piece_start = starts[k]
            prev_end = ends[k]
        elif piece_start < 0:
            skipped.append(k)
    if piece_start >= 0:
        out.append((piece_start, ends[last], brand, last4))
    if run.turn_at:
        # the turns right after the card, when another speaker's (a read-back of the last group, or of the whole
        # number after "Okay, let me read that back."): up to three, until the card's speaker speaks again
        k = last + 1
        edge = ends[last]
        while k < len(toks) and toks[k] != "\n" and k not in run.turn_at:
            k += 1  # the rest of the card's turn ("... two five one eight. That's it.")
        for _ in range(3):
            while k < len(toks) and (toks[k] == "\n" or (k in header and k not in run.turn_at)):
                k += 1
            turn = run.turn_at.get(k)
            # (each turn within ``MAX_LINK`` of the one before: the stream redactor still holds them)
            if turn is None or starts[k] - edge > MAX_LINK:
                break
            end = run._turn_end(turn[0])
            if turn[1] == run.speaker[last] and _FIX_WORDS.isdisjoint(toks[turn[0] : end]):
                break
            # (the card's speaker again only to set a read-back right: "No, the second group is 5925, not
            # 5923", the misheard digits said again)
            k = end
            skipped.extend(range(turn[0], k))
            edge = ends[k - 1] if k > turn[0] else starts[k] if k < len(toks) else edge
    # (against the digits as first said too, when a correction changed them: a read-back may be of either)
    said, k = "", first
    while k <= last:
        alts = run.readings(k) if k in used_set and run.is_num(k) else None
        if alts:
            said += alts[0][0]
            k = alts[0][1]
        else:
            k += 1
    out.extend((s, e, brand, last4) for s, e in _echoes(run, skipped, digits))
    if said != digits and skipped:
        out.extend((s, e, brand, last4) for s, e in _echoes(run, skipped, said))
    # Just before or after the card, outside it: a try the caller gave up on ("four two four two four two, oh
    # no, I need to start again: ...") or a group said again ("... that's it, the last four were four two four
    # two"): four or more of the card's digits in a row are redacted with it.
    # The stretch reaches on through number material no more than ``MAX_LINK`` characters apart, so interim
    # results a recogniser wrote before its final one ("four two four" ... "four two four two five five") are
    # found however many there were; a piece the card begins with counts from two digits.
    near: list[int] = []
    k, edge = first - 1, starts[first]
    while k >= 0 and edge - ends[k] <= MAX_LINK and starts[first] - starts[k] <= _MAX_NEAR:
        if toks[k][0].isdigit() or toks[k] in NUMBER_WORDS:
            edge = starts[k]
        k -= 1
    near.extend(j for j in range(k + 1, first) if j not in used_set)
    k, edge = last + 1, ends[last]
    while k < len(toks) and starts[k] - edge <= MAX_LINK and ends[k] - ends[last] <= _MAX_NEAR:
        if toks[k][0].isdigit() or toks[k] in NUMBER_WORDS:
            edge = ends[k]
        k += 1
    near.extend(j for j in range(last + 1, k))
    out.extend((s, e, brand, last4) for s, e in _echoes(run, near, digits, min_len=4, turns=False, prefix_len=2))
    out.extend((s, e, brand, last4) for s, e in _same_start(run, near, first))
    return out


def _same_start(run: _Run, near: list[int], first: int) -> list[tuple[int, int]]:
    """Number stretches among ``near`` worded as the card's first words ("four hundred" before "four hundred
    eighty three ..."): a recogniser's first interim results, the caller starting and stopping. Two words or
    more, up to where the stretch ends."""
    toks, starts, ends = run.toks, run.starts, run.ends
    out: list[tuple[int, int]] = []
    near_set = set(near)
    for k in near:
        if not run.is_num(k) or (k - 1 in near_set and run.is_num(k - 1)):
            continue
        i = 0
        while (
            k + i in near_set
            and first + i < len(toks)
            and toks[k + i] == toks[first + i]
            and (run.is_num(k + i) or toks[k + i] in ("-", "hundred", "thousand"))
        ):
            i += 1
        if i >= 2 and not (k + i in near_set and run.is_num(k + i)):
            out.append((starts[k], ends[k + i - 1]))
    return out


_FIX_WORDS: Final = frozenset(["no", "not", "nope", "sorry", "should", "actually", "wrong", "correction"])


def _echoes(
    run: _Run, candidates: list[int], digits: str, min_len: int = 3, turns: bool = True, prefix_len: int = 3
) -> list[tuple[int, int]]:
    """Spans of number phrases among ``candidates`` (tokens in order, another speaker's turns) that read as
    the card's digits: three or more of them in a row, or a turn whose only number is a shorter piece."""
    toks, starts, ends = run.toks, run.starts, run.ends
    n = len(toks)
    cand = set(candidates)
    # Every number token is a node: a phrase's readings end at different tokens ("seventy three" is 73, or 70
    # then 3), and the walk goes on from where the reading it took ends. Phrases start at ``heads`` only (the
    # likeliest reading's phrases), not inside one.
    alts_at: dict[int, list[tuple[str, int]]] = {}
    heads: list[int] = []
    head_end = -1
    for k in candidates:
        if k in run.header or k in run.decimals or not _is_number(toks, k):
            continue
        if toks[k] == "one" and _phrase_end(toks, k) > k:
            continue  # "one moment", "one more time": not a digit
        alts = run.readings(k)
        if not alts:
            continue
        alts_at[k] = alts
        if k >= head_end:
            heads.append(k)
            head_end = alts[0][1]

    def follow(p: int, tight: bool = False) -> int:
        """The number token a phrase ending before token p goes on with: only punctuation and fillers (only a
        comma or a dash when ``tight``) between, no line break; -1 if none."""
        while p < n and p not in alts_at:
            t = toks[p]
            if p not in cand or t == "\n" or not (t in (",", "-") if tight else t in _GAP_PUNCT or t in FILLERS):
                return -1
            p += 1
        return p if p < n else -1

    out: list[tuple[int, int]] = []
    h = 0
    while h < len(heads):
        first = heads[h]
        # the furthest token reachable from ``first`` with every reading so far a piece of the card's digits
        best_last, best_len, best_prefix = -1, 0, False
        stack = [(first, "")]
        seen = 0
        while stack and seen < 256:
            k, got = stack.pop()
            seen += 1
            for reading, nxt in alts_at[k]:
                d = got + reading
                if d not in digits:
                    # a phrase cut short ("... oh four six hundred" before "six hundred fifty eight"): its first
                    # digit goes on with the card, and nothing after it is read
                    last = alts_at[k][0][1] - 1
                    if len(got) >= 2 and got + reading[0] in digits and last > best_last:
                        best_last, best_len, best_prefix = last, len(got) + 1, digits.startswith(got + reading[0])
                    continue
                if nxt - 1 > best_last or (nxt - 1 == best_last and len(d) > best_len):
                    best_last, best_len, best_prefix = nxt - 1, len(d), digits.startswith(d)
                m = follow(nxt)
                if m >= 0:
                    stack.append((m, d))
        # A read-back with one digit misheard ("I have five eight forty one", "was that 4841 or 5841?"): the
        # likeliest readings, four digits or more in a turn of another speaker, all but one of them the card's
        # at one place.
        k, got, far = first, "", -1
        while turns and len(got) < 19:
            got += alts_at[k][0][0]
            if len(got) >= 4 and one_off(got, digits):
                far = alts_at[k][0][1] - 1
            k = follow(alts_at[k][0][1], tight=True)
            if k < 0:
                break
        if (
            far <= best_last
            and best_last >= 0
            and (
                best_len >= min_len
                or (best_len >= prefix_len and best_prefix)
                or (turns and _whole_turn(run, first, best_last + 1))
            )
        ):
            out.append((starts[first], ends[best_last]))
            edge = best_last
        elif far >= 0:
            out.append((starts[first], ends[far]))
            edge = far
        else:
            h += 1
            continue
        while h < len(heads) and heads[h] <= edge:
            h += 1
    return out


def one_off(got: str, digits: str) -> bool:
    """``got`` is ``digits[i : i + len(got)]`` for some i, but for one digit."""
    n = len(got)
    for i in range(len(digits) - n + 1):
        misses = 0
        for a, b in zip(got, digits[i : i + n], strict=True):
            if a != b:
                misses += 1
                if misses > 1:
                    break
        if misses <= 1:
            return True
    return False


def _whole_turn(run: _Run, first: int, after: int) -> bool:
    """The number phrases from token ``first`` to before ``after`` are the only numbers of their turn ("bot:
    So 4.")."""
    toks = run.toks
    k = first - 1
    while k >= 0 and toks[k] != "\n" and k not in run.header:
        if _is_number(toks, k):
            return False
        k -= 1
    k = after
    while k < len(toks) and toks[k] != "\n" and k not in run.turn_at:
        if _is_number(toks, k):
            return False
        k += 1
    return True
