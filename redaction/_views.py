"""Views: a text rebuilt for detection, with each character's origin, so findings map back to the original.

``json_transcript``: a transcript kept as JSON (chat messages ``{"role": "user", "content": ...}``, turn lists
``{"speaker": "customer", "text": ...}``, contact-centre segments ``{"ParticipantId": "CUSTOMER", "Content":
...}``, word-level recogniser output ``{"word": "four", "start": 1.23, ...}``) read as the labelled transcript
it stands for: one line per turn, "Caller:"/"Agent:"/"Speaker N:" labels from the role values, words of a
word-level list joined by spaces. Keys, timings, confidences and ids are left out, so the spoken reader sees
the digits the way the caller said them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

# (compared without "_" and "-": "punctuated_word", "DisplayText", "masked-itn")
_TEXT_KEYS: Final = frozenset(
    ["word", "punctuatedword", "content", "text", "transcript", "utterance", "message", "msg", "body", "caption",
     "display", "lexical", "displaytext", "sentence", "itn", "maskeditn", "normalized", "normalizedtext",
     "utterancetext", "transcription", "speech", "said", "phrase", "transcripttext", "spoken", "recognized",
     "recognizedtext", "usertext", "callertext", "customertext", "agenttext", "bottext", "reply", "response",
     "voiceprompt", "delta"]
)  # fmt: skip
_ROLE_KEYS: Final = frozenset(
    ["role", "speaker", "speakerlabel", "speakertag", "participant", "participantid", "participantrole", "channel",
     "channeltag", "mediachannel", "channelindex", "speakerid", "from", "author", "party", "who", "sender", "spk",
     "side", "participantpurpose", "purpose"]
)  # fmt: skip
_CALLER_ROLES: Final = frozenset(
    ["user", "customer", "caller", "human", "client", "cust", "inbound", "external", "enduser", "contact"]
)
_AGENT_ROLES: Final = frozenset(
    ["assistant", "agent", "bot", "ai", "system", "operator", "rep", "ivr", "outbound", "internal", "humanagent",
     "automatedagent", "virtualagent", "acd"]
)  # fmt: skip
# Role keys that only number a recording channel: a speaker key in the same object says more.
_CHANNEL_KEYS: Final = frozenset(["channel", "channeltag", "mediachannel", "channelindex"])
# Event types that may name a role ("user_input_transcribed", "agent_speech"); other values say nothing.
_EVENT_KEYS: Final = frozenset(["type", "event", "eventtype", "kind", "source"])
# Text keys that say whose words they hold (ConversationRelay's "voicePrompt": the caller's speech).
_KEY_ROLES: Final = {
    "usertext": "Caller", "callertext": "Caller", "customertext": "Caller", "voiceprompt": "Caller",
    "agenttext": "Agent", "bottext": "Agent",
}  # fmt: skip
_MEMBER: Final = re.compile(
    r"""(?P<qk>["'])(?P<k>[A-Za-z_][A-Za-z0-9_\-]{0,40})(?P=qk)[ \t\r\n]*:[ \t\r\n]*"""
    r"""(?:"(?P<s>(?:[^"\\\n]|\\.){0,4000})"|'(?P<s1>(?:[^'\\\n]|\\.){0,4000})'|(?P<n>-?[0-9]{1,6})(?![0-9.]))"""
)
TEXT_KEY_ALT: Final = "|".join(
    sorted(
        _TEXT_KEYS | _CALLER_ROLES | _AGENT_ROLES
        | {"punctuated_word", "display_text", "masked_itn", "normalized_text", "utterance_text", "voice_prompt"},
        key=len,
        reverse=True,
    )
)
HAS_TEXT_KEY: Final = re.compile(r"""["'](?i:""" + TEXT_KEY_ALT + r""")["'][ \t\r\n]*:""")
# A text member whose string holds a digit ("text": "4242 4242 ..."): what the pre-check reads as a JSON transcript.
# (The reference for ``has_text_member_with_digit``, which is the same test at a fraction of the cost.)
TEXT_MEMBER_WITH_DIGIT: Final = re.compile(
    r"""["'](?i:""" + TEXT_KEY_ALT + r""")["'][ \t\r\n]*:[ \t\r\n]*(?:"[^"\n]*?|'[^'\n]*?)[0-9]"""
)
_TEXT_KEY_SET: Final = frozenset(k.encode() for k in TEXT_KEY_ALT.split("|"))
_KEY_BEFORE_STRING: Final = re.compile(rb"""["']([A-Za-z_][A-Za-z0-9_\-]{0,40})["'][ \t\r\n]*:[ \t\r\n]*(?=["'])""")
_DIGIT_B: Final = re.compile(rb"[0-9]")


def has_text_member_with_digit(raw: bytes) -> bool:
    """``TEXT_MEMBER_WITH_DIGIT.search`` on the decoded ``raw``: a known text key whose string value holds a digit
    before its closing quote or a line break."""
    for m in _KEY_BEFORE_STRING.finditer(raw):
        if m.group(1).lower() not in _TEXT_KEY_SET:
            continue
        quote = raw[m.end() : m.end() + 1]
        stop = len(raw)
        for mark in (quote, b"\n"):
            at = raw.find(mark, m.end() + 1)
            if 0 <= at < stop:
                stop = at
        if _DIGIT_B.search(raw, m.end() + 1, stop) is not None:
            return True
    return False


_SAFE_ROLE: Final = re.compile(r"[^a-z0-9]+")
# A value that could hold card digits: a digit or a number word.
_NUMBERISH: Final = re.compile(
    r"[0-9]|(?i:\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
    r"|hundred|double|triple)\b)"
)


def _label(value: str, strict: bool = False) -> str | None:
    """The view's label for a role value; with ``strict`` (an event type), only when a word of it names a
    role ("user_input_transcribed", "agent_speech"), else None."""
    low = value.strip().lower()
    if low in _CALLER_ROLES or _SAFE_ROLE.sub("", low) in _CALLER_ROLES:
        return "Caller"
    if low in _AGENT_ROLES or _SAFE_ROLE.sub("", low) in _AGENT_ROLES:
        return "Agent"
    words = _SAFE_ROLE.split(low)
    if any(w in _CALLER_ROLES for w in words):
        return "Caller"
    if any(w in _AGENT_ROLES for w in words):
        return "Agent"
    if strict:
        return None
    return "Speaker " + (_SAFE_ROLE.sub("", low) or "x")


# One text member the view holds: (view start, view end, other renderings of it: original spans).
Member = tuple[int, int, list[tuple[int, int]]]


def json_transcript(
    text: str, quiet: Callable[[int, int], bool] | None = None
) -> tuple[str, list[int], list[Member]] | None:
    """(view, origin of each view character: an index of ``text``, or -1 for a label, space or line break,
    the members read), or None when ``text`` holds no JSON text member.

    One text per object: a second text member of the same object ("punctuated_word" after "word", "Display"
    after "Lexical") or a text inside an object that already gave one (an utterance's word list) is another
    rendering of the same words. It is not read again, but it is redacted with the text it renders.

    ``quiet(a, b)``: ``text[a:b]`` holds a stretch the stream redactor may release before what follows arrives
    (``_engine``). Texts with such a stretch between them are kept apart in the view (a line "~~~" between them
    ends any number), so ``redact`` finds what ``StreamRedactor`` finds.

    A text's speaker is its object's (or the nearest enclosing object's) role member, before or after the text
    ({"transcript": ..., "speaker": 0}, as Deepgram writes utterances); a speaker key ("speaker", "role", ...)
    over a channel number. With neither, a role member just before the text, in an object of its own.
    """
    pairs = _pairs_view(text) if "[" in text else None
    if pairs is not None:
        return pairs
    if HAS_TEXT_KEY.search(text) is None:
        return None
    # Pass 1: each member's object (an index into ``parent``), and each object's role: (rank, label).
    parent: list[int] = [-1]
    roles: dict[int, tuple[int, str]] = {}
    texts: list[tuple[re.Match[str], str, int, str | None]] = []  # (match, group, object, role set loosely)
    loose: str | None = None  # a role member seen since the last text, for a text whose objects name none
    stack = [0]
    prev_end = 0
    for m in _MEMBER.finditer(text):
        for ch in text[prev_end : m.start()]:
            if ch == "{":
                parent.append(stack[-1])
                stack.append(len(parent) - 1)
            elif ch == "}" and len(stack) > 1:
                stack.pop()
        prev_end = m.end()
        obj = stack[-1]
        key = m.group("k").lower().replace("-", "").replace("_", "")
        group = "s" if m.group("s") is not None else "s1" if m.group("s1") is not None else None
        if key in _ROLE_KEYS or key in _EVENT_KEYS:
            value = m.group(group) if group is not None else m.group("n")
            label = _label(value, strict=key in _EVENT_KEYS) if value else None
            if label is not None:
                rank = 1 if key in _CHANNEL_KEYS or key in _EVENT_KEYS else 2
                if roles.get(obj, (0, ""))[0] < rank:
                    roles[obj] = (rank, label)
                loose = label
            continue
        if group is None:
            continue
        if key in _CALLER_ROLES or key in _AGENT_ROLES:
            word = m.group(group).strip()
            if " " not in word and not word.isdigit() and not _NUMBERISH.fullmatch(word.lower().strip(".,!?")):
                continue  # an id or a name ({"user": "U095C3DF32"}), not what the user said
            # a turn keyed by its speaker: {"caller": "four two"}
            texts.append((m, group, obj, "Caller" if key in _CALLER_ROLES else "Agent"))
        elif key in _TEXT_KEYS:
            texts.append((m, group, obj, _KEY_ROLES.get(key)))
        else:
            continue
        if texts[-1][3] is None and loose is not None:
            texts[-1] = (m, group, obj, "?" + loose)
        loose = None
    # Pass 2: the view.
    out: list[str] = []
    origin: list[int] = []
    members: list[Member] = []
    gave: dict[int, int] = {}  # object -> index in ``members`` of the text it gave
    view_len = 0
    prev_end = -1
    prev_delta = False
    for m, group, obj, own in texts:
        value = m.group(group)
        owner, o = -1, obj
        while o >= 0:
            if o in gave:
                owner = gave[o]
                break
            if o != obj and o in roles:
                break  # (a message with a role of its own inside a request that gave a text: a turn, not a rendering)
            o = parent[o]
        if owner >= 0:
            # another rendering of a text already read (same object, or inside the object that gave it)
            if _NUMBERISH.search(value):
                members[owner][2].append((m.start(group), m.end(group)))
            continue
        role = own if own is not None and not own.startswith("?") else None
        o = obj
        while role is None and o >= 0:
            got = roles.get(o)
            role = got[1] if got is not None else None
            o = parent[o]
        if role is None and own is not None:
            role = own[1:]
        # (no speaker: words of a word-level list run on; segments, results, utterances, with a pause between;
        # a streaming transcript's deltas, {"delta": " 0677 4"}, {"delta": "472"}, are one text cut anywhere)
        run_on = not out or len(value.split(None, 1)) < 2
        delta = m.group("k").lower() == "delta"
        sep = "" if delta and prev_delta else f"\n{role}: " if role is not None else " " if run_on else "... "
        prev_delta = delta
        if quiet is not None and prev_end >= 0 and quiet(prev_end, m.start(group)):
            sep = "\n~~~" + (sep if sep.startswith("\n") else "\n")
        prev_end = m.end(group)
        out.append(sep)
        origin.extend([-1] * len(sep))
        view_len += len(sep)
        out.append(value)
        origin.extend(range(m.start(group), m.end(group)))
        members.append((view_len, view_len + len(value), []))
        view_len += len(value)
        gave[obj] = len(members) - 1
    if not out:
        return None
    return "".join(out), origin, members


# A turn as a pair: ["caller", "four two"] (a list of pairs, or tuples in a Python repr).
_PAIR: Final = re.compile(
    r"""[\[(][ \t\r\n]*(?P<q>["'])(?P<role>[A-Za-z_][A-Za-z0-9_ \-]{0,30})(?P=q)[ \t\r\n]*,[ \t\r\n]*"""
    r"""(?P<q2>["'])(?P<s>(?:(?!(?P=q2))[^\\\n]|\\.){0,4000})(?P=q2)[ \t\r\n]*[\])]"""
)


def _pairs_view(text: str) -> tuple[str, list[int], list[Member]] | None:
    """The view of a turn list written as pairs, when two or more of them name a speaker role."""
    found = [
        m for m in _PAIR.finditer(text) if m.group("role").strip().lower() in _CALLER_ROLES | _AGENT_ROLES
    ]
    if len(found) < 2:
        return None
    out: list[str] = []
    origin: list[int] = []
    members: list[Member] = []
    for m in found:
        sep = f"\n{_label(m.group('role'))}: "
        out.append(sep)
        origin.extend([-1] * len(sep))
        start = sum(map(len, out))
        out.append(m.group("s"))
        origin.extend(range(m.start("s"), m.end("s")))
        members.append((start, start + len(m.group("s")), []))
    return "".join(out), origin, members


def segments(origin: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """The original spans of view characters ``[start, end)``: one per stretch of consecutive originals."""
    out: list[tuple[int, int]] = []
    seg_start = seg_end = -1
    for i in range(start, end):
        o = origin[i]
        if o < 0:
            continue
        if seg_start >= 0 and o == seg_end:
            seg_end = o + 1
            continue
        if seg_start >= 0:
            out.append((seg_start, seg_end))
        seg_start, seg_end = o, o + 1
    if seg_start >= 0:
        out.append((seg_start, seg_end))
    return out
