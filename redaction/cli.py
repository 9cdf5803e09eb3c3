"""``python -m redaction`` / ``voicepay redact [FILE ...]``: files (or stdin) to stdout, line by line, streaming."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from redaction.stream import StreamRedactor


def _redact_lines(lines: Iterable[str]) -> None:
    stream = StreamRedactor()
    out = sys.stdout
    for line in lines:
        text = stream.feed(line)
        if text:
            out.write(text)
            out.flush()
    out.write(stream.flush())
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="redaction",
        description="Remove card numbers, CVVs and expiry dates from text files (or stdin) to stdout.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="files to redact ('-' or none: stdin)")
    args = parser.parse_args(argv)
    try:
        for name in args.files or ["-"]:
            if name == "-":
                _redact_lines(sys.stdin)
                continue
            try:
                with open(name, encoding="utf-8", errors="surrogateescape", newline="") as fh:
                    _redact_lines(fh)
            except OSError as exc:
                print(f"redaction: {name}: {exc.strerror or 'cannot read'}", file=sys.stderr)
                return 2
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
