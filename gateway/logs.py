"""JSON-lines logging with request context, every record passed through the card-data redactor.

The redacting filter sits on the root logger *and* on its handler: a filter on a logger only sees records
logged to that very logger, while the handler sees the records of every logger that propagates (aiohttp's
access log, asyncio, the stripe SDK, tracebacks). Formatting happens after the filter, so a traceback is
rendered, redacted, then written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import IO, Any

from redaction import redact
from redaction.logging import RedactingFilter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)

_STD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, tenant, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        tenant = getattr(record, "tenant", None) or tenant_var.get()
        if rid:
            out["request_id"] = rid
        if tenant:
            out["tenant"] = tenant
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and key not in out and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False)


class _ExtraRedactingFilter(RedactingFilter):
    """Also redacts string ``extra=`` fields, which the base filter does not know about."""

    def filter(self, record: logging.LogRecord) -> bool:
        result = super().filter(record)
        for key, value in list(record.__dict__.items()):
            if key not in _STD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        return result


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Install the JSON handler and the redacting filter on the root logger (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_voicepay", False):
            root.removeHandler(h)
    for f in list(root.filters):
        if isinstance(f, RedactingFilter):
            root.removeFilter(f)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._voicepay = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter())
    redacting = _ExtraRedactingFilter()
    handler.addFilter(redacting)
    root.addFilter(redacting)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    # The stripe SDK logs every request at INFO ("Request to Stripe api ..."); the gateway records provider
    # calls itself (metrics, audit), so keep only its warnings: less noise, and a measurable cost per call.
    logging.getLogger("stripe").setLevel(logging.WARNING)
    return handler
