"""The security pass's stack: the real gateway with the Stripe sandbox and the PCI Pal emulator (``DemoStack``),
served on 127.0.0.1 from a background thread with its own event loop, so synchronous property-based tests
(hypothesis, schemathesis over ``requests``) can drive it over a real socket.

Log output of every logger goes through ``configure_logging("DEBUG", stream)`` into a ``StringIO`` the tests
scan; the database is the sandbox SQLite file (plus its ``-wal``), scanned table by table and byte by byte.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sqlite3
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from gateway.demo import DemoStack
from gateway.logs import configure_logging
from gateway.ratelimit import TokenBucketLimiter
from redaction.logging import RedactingFilter

T = TypeVar("T")


class LiveStack:
    """DemoStack on a private loop in a daemon thread; ``run(coro)`` executes a coroutine on that loop."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="security-stack", daemon=True)
        self.stack = DemoStack(var_dir)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> LiveStack:
        self.thread.start()
        self.run(self.stack.start())
        # Fuzzing sends hundreds of requests on one key: lift the per-key rate limit so actions really run
        # (a 429 is correct behaviour, but it would stop the fuzzer from reaching the action code).
        self.stack.services.limiter = TokenBucketLimiter(1_000_000.0, 1_000_000)
        return self

    def stop(self) -> None:
        try:
            self.run(self.stack.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    @property
    def agent_key(self) -> str:
        return self.stack.agent_key

    @property
    def db_path(self) -> Path:
        return self.stack.db_path

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agent_key}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    stack = LiveStack(tmp_path_factory.mktemp("security") / "var").start()
    try:
        yield stack
    finally:
        stack.stop()


class LogCapture:
    """Everything every logger writes, as the production JSON handler renders it."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self._lock = threading.Lock()

    def text(self) -> str:
        with self._lock:
            return self.stream.getvalue()


@pytest.fixture(scope="module")
def captured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", capture.stream)
    try:
        yield capture
    finally:
        root.removeHandler(handler)
        for f in list(root.filters):
            if isinstance(f, RedactingFilter):
                root.removeFilter(f)
        root.setLevel(level)


# --- scanning for leaked digits ----------------------------------------------------------------------------

_SEP = r"[\s\-./_:,\u00a0\u2010-\u2015]{0,3}"


def pan_fragment_pattern(pan: str, longer_than: int = 4) -> re.Pattern[str]:
    """A pattern for any run of more than ``longer_than`` consecutive digits of ``pan``, whatever sits between
    the digits (spaces, dashes, dots, up to three of them): the last four alone are allowed, more is a leak."""
    n = longer_than + 1
    alts = {pan[i : i + n] for i in range(len(pan) - n + 1)}
    body = "|".join(_SEP.join(re.escape(d) for d in run) for run in sorted(alts))
    return re.compile(rf"(?<!\d)(?:{body})")


def leaks(text: str, pans: list[str]) -> list[str]:
    """The PANs with a fragment (> 4 consecutive digits, separators allowed) in ``text``."""
    return [p for p in pans if pan_fragment_pattern(p).search(text)]


def database_text(db_path: Path) -> str:
    """Every text (and blob) value of every table of the SQLite database, newline separated."""
    values: list[str] = []
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, str):
                        values.append(value)
                    elif isinstance(value, bytes):
                        values.append(value.decode("latin-1"))
    finally:
        conn.close()
    return "\n".join(values)


def database_files_text(db_path: Path) -> str:
    """The raw bytes of the database file and its WAL / journal, as latin-1 text."""
    parts = []
    for suffix in ("", "-wal", "-journal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            parts.append(p.read_bytes().decode("latin-1"))
    return "\n".join(parts)
