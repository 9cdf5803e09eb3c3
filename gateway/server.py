"""Running the app: listen, handle SIGTERM/SIGINT, shut down gracefully (in-flight requests finish)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import uvloop
from aiohttp import web

log = logging.getLogger("voicepay.server")

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf'
_T = TypeVar("_T")
#: Allocations between young-generation collections (CPython's default is 700: tuned for short scripts).
GC_GEN0_THRESHOLD = 50_000


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """Run the server's main coroutine on uvloop: the same asyncio API with a faster event loop, which
    ``benchmarks/load.py`` shows in throughput and tail latency (the loop is a large share of per-request CPU)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise ValueError("server.tls_cert and server.tls_key must be set together")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


async def serve_app(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = 15.0,
    ssl_context: ssl.SSLContext | None = None,
    stop: asyncio.Event | None = None,
    on_started: Callable[[str], Awaitable[None]] | None = None,
    access_log: bool = True,
    reuse_port: bool = False,
) -> None:
    """Serve until ``stop`` is set (or SIGTERM/SIGINT), then stop accepting, let in-flight requests finish
    within ``shutdown_timeout``, and run the app's cleanup (store, HTTP sessions, workers)."""
    stop = stop or asyncio.Event()
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=shutdown_timeout,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        access_log_format=ACCESS_LOG_FORMAT,
    )
    await runner.setup()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests)
            loop.add_signal_handler(sig, stop.set)
    try:
        # reuse_port: several worker processes listen on one port (``voicepay serve --workers``, gateway/workers.py).
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_port=reuse_port or None)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        scheme = "https" if ssl_context else "http"
        url = f"{scheme}://{host}:{bound}"
        log.info("listening", extra={"url": url})
        if on_started is not None:
            await on_started(url)
        # Everything allocated at start-up (modules, settings, the SDK's tables) lives as long as the process:
        # move it out of the collector's view, and collect the young generation less often. Full collections
        # over hundreds of thousands of long-lived objects are what puts 10-50 ms stalls into the latency tail.
        gc.freeze()
        gc.set_threshold(GC_GEN0_THRESHOLD, 20, 20)
        await stop.wait()
        log.info("shutting down: finishing in-flight requests", extra={"timeout_s": shutdown_timeout})
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await runner.cleanup()
        log.info("stopped")
