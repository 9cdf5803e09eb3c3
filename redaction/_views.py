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
from typing import Final

_TEXT_KEYS: Final = frozenset(
    ["word", "punctuated_word", "punctuatedword", "content", "text", "transcript", "utterance", "message", "msg",
     "body", "caption", "display", "lexical", "displaytext", "sentence"]
)  # fmt: skip
_ROLE_KEYS: Final = frozenset(
    ["role", "speaker", "speaker_label", "speakerlabel", "speaker_tag", "speakertag", "participant",
     "participantid", "participant_id", "participant_role", "participantrole", "channel", "channel_tag", "from",
     "author", "party", "who", "sender", "spk", "side"]
)  # fmt: skip
_CALLER_ROLES: Final = frozenset(["user", "customer", "caller", "human", "client", "cust", "inbound", "external"])
_AGENT_ROLES: Final = frozenset(["assistant", "agent", "bot", "ai", "system", "operator", "rep", "ivr", "outbound"])
_MEMBER: Final = re.compile(
    r'"(?P<k>[A-Za-z_][A-Za-z0-9_\-]{0,40})"[ \t\r\n]*:[ \t\r\n]*'
    r'(?:"(?P<s>(?:[^"\\\n]|\\.){0,4000})"|(?P<n>-?[0-9]{1,6})(?![0-9.]))'
)
_HAS_TEXT_KEY: Final = re.compile(r'"(?i:' + "|".join(sorted(_TEXT_KEYS, key=len, reverse=True)) + r')"[ \t\r\n]*:')
_SAFE_ROLE: Final = re.compile(r"[^a-z0-9]+")


def _label(value: str) -> str:
    low = value.strip().lower()
    if low in _CALLER_ROLES:
        return "Caller"
    if low in _AGENT_ROLES:
        return "Agent"
    return "Speaker " + (_SAFE_ROLE.sub("", low) or "x")


def json_transcript(text: str) -> tuple[str, list[int]] | None:
    """(view, origin of each view character: an index of ``text``, or -1 for a label, space or line break),
    or None when ``text`` holds no JSON text member."""
    if _HAS_TEXT_KEY.search(text) is None:
        return None
    out: list[str] = []
    origin: list[int] = []
    role: str | None = None
    prev_end = -1
    object_has_text = False
    for m in _MEMBER.finditer(text):
        key = m.group("k").lower().replace("-", "_")
        between = text[prev_end : m.start()] if prev_end >= 0 else ""
        if "{" in between or "}" in between:
            object_has_text = False  # a new object
        prev_end = m.end()
        if key in _ROLE_KEYS:
            value = m.group("s") if m.group("s") is not None else m.group("n")
            if value:
                role = _label(value)
            continue
        if key not in _TEXT_KEYS or m.group("s") is None or object_has_text:
            continue  # (one text per object: "word" and "punctuated_word" are the same word)
        object_has_text = True
        if role is not None:
            sep = "\n" + role + ": "
            role = None
        else:
            sep = " "
        out.append(sep)
        origin.extend([-1] * len(sep))
        start = m.start("s")
        out.append(m.group("s"))
        origin.extend(range(start, m.end("s")))
    if not out:
        return None
    return "".join(out), origin


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
