"""``voicepay serve --workers N``: several gateway processes on one port, under a pre-fork parent.

One gateway process is CPU-bound on one core (the event loop, JSON, the card-data gate, TLS). The parent
checks the address once (a taken port is one clear error, before anything starts), then forks N workers.
Each worker builds its own app (its own event loop, store pool, HTTP session, job workers) and listens on the
same address with ``SO_REUSEPORT``, so the kernel spreads connections over them. The parent does nothing
else: it restarts a worker that dies (with a growing delay if they keep dying at start-up), and on SIGTERM or
SIGINT passes SIGTERM to every worker (each finishes its in-flight requests, as a single process would) and
waits for them.

Several processes share state only through the store, so this needs PostgreSQL (``voicepay serve`` refuses
``--workers`` > 1 with SQLite and with ``--sandbox``): the job queue, idempotency, audit chain, the
reconciler's claims and the limits per customer are already safe across instances. Rate limits are per
process unless ``rate_limit.redis_url`` is set (then they are shared by every worker and every host).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("voicepay.workers")

#: A worker that dies sooner than this after its start counts as a start-up failure: the next restart waits
#: longer (1 s, 2 s, 4 s... up to MAX_RESTART_DELAY), so a broken configuration does not fork in a tight loop.
FAST_EXIT_SECONDS = 5.0
MAX_RESTART_DELAY = 30.0


def check_address(host: str, port: int) -> int:
    """Bind the address once without SO_REUSEPORT (so a port held by anyone else fails here, clearly), and
    return the port (the one chosen by the OS when ``port`` is 0, so every worker uses the same)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        return int(s.getsockname()[1])


def serve_workers(
    n: int, host: str, port: int, child: Callable[[], int], *, check: Callable[[str, int], int] = check_address
) -> int:
    """Run ``child()`` in ``n`` forked processes until SIGTERM/SIGINT; returns the exit code."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError("SO_REUSEPORT is not available on this platform: run one process per port")
    bound = check(host, port)
    if bound != port:
        raise OSError("--workers needs a fixed --port (0 would give every worker a different one)")
    children: dict[int, float] = {}
    stopping = False
    failures = 0

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                code = child()
            except BaseException:
                log.exception("worker failed")
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        children[pid] = time.monotonic()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"voicepay serve: {n} workers on {host}:{port} (parent pid {os.getpid()}; SO_REUSEPORT)",
          file=sys.stderr, flush=True)
    try:
        for _ in range(n):
            spawn()
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            started = children.pop(pid, None)
            if started is None or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            failures = failures + 1 if time.monotonic() - started < FAST_EXIT_SECONDS else 0
            delay = min(MAX_RESTART_DELAY, 2.0 ** (failures - 1)) if failures else 0.0
            log.error("worker exited; starting another", extra={"pid": pid, "exit_code": code, "delay_s": delay})
            if delay:
                time.sleep(delay)
            if not stopping:
                spawn()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
