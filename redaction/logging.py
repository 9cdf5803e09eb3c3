"""``RedactingFilter``: a logging.Filter that removes card data from every record."""

from __future__ import annotations

import logging
import traceback

from redaction._engine import redact

_FALLBACK = "[unformattable log record redacted]"


class RedactingFilter(logging.Filter):
    """Redacts message + args, exception text and stack info; never raises; always lets the record through.

    The message is rendered (``getMessage``) and redacted, then ``args`` is cleared so no handler can
    re-render the raw arguments. The exception is formatted and redacted into ``exc_text`` and ``exc_info`` is
    cleared: a formatter would otherwise re-format the traceback, card numbers in exception messages included.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            try:
                message = record.getMessage()
            except Exception:
                message = f"{record.msg!s} {record.args!r}"
            record.msg = redact(message)
            record.args = None
        except Exception:
            record.msg = _FALLBACK
            record.args = None
        try:
            if record.exc_info:
                text = record.exc_text or "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
                record.exc_text = redact(text)
                record.exc_info = None
            elif record.exc_text:
                record.exc_text = redact(record.exc_text)
        except Exception:
            record.exc_text = "[exception text redacted]"
            record.exc_info = None
        try:
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        except Exception:
            record.stack_info = "[stack redacted]"
        return True
