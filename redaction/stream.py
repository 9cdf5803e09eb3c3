"""Streaming redaction: chunks in, redacted text out, same result as ``redact`` on the whole text."""

from __future__ import annotations

from redaction._engine import MATERIAL, QUIET_SPAN, redact


class StreamRedactor:
    """Feed text chunks (interim transcripts, log streams); get redacted text back.

    Holds back only what a later chunk could still change: everything from the first "material" character
    (digit, number word, month name, card keyword) that is not yet followed by a quiet stretch of
    ``QUIET_SPAN`` characters, plus a trailing partial word. Findings never cross such a stretch (see
    ``redaction._engine``), so ``"".join(feed(c) for c in chunks) + flush() == redact("".join(chunks))``.
    """

    __slots__ = ("_buf", "_emitted")

    def __init__(self) -> None:
        self._buf = ""  # text since the last cut point
        self._emitted = 0  # leading characters of _buf already returned verbatim (quiet text)

    def feed(self, chunk: str) -> str:
        if not chunk:
            return ""
        self._buf += chunk
        out: list[str] = []
        cut = self._cut_point()
        if cut > 0:
            out.append(redact(self._buf[:cut])[self._emitted :])
            self._buf = self._buf[cut:]
            self._emitted = 0
        safe = self._quiet_prefix()
        if safe > self._emitted:
            out.append(self._buf[self._emitted : safe])
            self._emitted = safe
        return "".join(out)

    def flush(self) -> str:
        out = redact(self._buf)[self._emitted :]
        self._buf = ""
        self._emitted = 0
        return out

    def _cut_point(self) -> int:
        """Last whitespace position preceded by QUIET_SPAN characters without material, or 0."""
        buf = self._buf
        last = None
        for m in MATERIAL.finditer(buf):
            last = m
        if last is None:
            return 0
        start = last.end() + QUIET_SPAN
        end = len(buf) - 1  # the character after a cut must be known
        for i in range(end, start - 1, -1):
            if buf[i].isspace():
                return i
        return 0

    def _quiet_prefix(self) -> int:
        """Length of the leading text that can never become part of a finding."""
        buf = self._buf
        m = MATERIAL.search(buf)
        limit = m.start() if m is not None else len(buf)
        # A trailing word may still grow into a number word ("fo" + "ur"): keep it back.
        i = limit
        if i == len(buf):
            while i > 0 and (buf[i - 1].isalnum() or buf[i - 1] in "'’%"):
                i -= 1
        # Keep the word directly before the first material too: it decides decoys (IBAN letters, hex ids).
        while i > 0 and not buf[i - 1].isspace():
            i -= 1
        return i
