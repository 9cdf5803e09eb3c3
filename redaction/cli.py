"""``python -m redaction`` / ``voicepay redact``: stdin to stdout, line by line, streaming."""

from __future__ import annotations

import argparse
import sys

from redaction.stream import StreamRedactor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="redaction", description="Remove card numbers, CVVs and expiry dates from text on stdin."
    )
    parser.parse_args(argv)
    stream = StreamRedactor()
    out = sys.stdout
    try:
        for line in sys.stdin:
            text = stream.feed(line)
            if text:
                out.write(text)
                out.flush()
        out.write(stream.flush())
        out.flush()
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
