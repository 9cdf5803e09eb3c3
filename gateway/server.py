"""Running the app: listen, handle SIGTERM/SIGINT, shut down gracefully (in-flight requests finish).

The listener is aiohttp's own protocol (:class:`aiohttp.web.RequestHandler`), made stricter at the HTTP level
(issue 11, DESIGN.md section 5 "the bot never receives a bare 500"):

* a request aiohttp's parser refuses (malformed request line, control character in a header, a header too
  long) gets the gateway's JSON error shape, never aiohttp's plain-text answer that echoes the raw bytes, and
  one log line without a traceback;
* no ``Server`` header names Python or aiohttp (:data:`gateway.middlewares.SERVER_NAME` instead);
* a client has ``[http] header_read_timeout`` seconds from the first byte of a request to finish its headers
  (408, then closed); an idle keep-alive connection is closed after ``keepalive_timeout``; beyond
  ``max_connections`` open connections, a new one is answered 503 and closed;
* ``/metrics`` may be served on a separate listener (``[metrics] listen``).

The seam: the listening socket is created here with ``loop.create_server`` and a protocol factory that builds
our :class:`RequestHandler` subclass around the runner's public ``server`` (the same object aiohttp's
``TCPSite`` hands to ``create_server``); the runner still owns the app's start-up, graceful shutdown and
cleanup. ``handle_error`` and ``data_received`` are the overridden methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import signal
import ssl
import time
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import unquote, unquote_plus

import uvloop
from aiohttp import http_exceptions, web
from aiohttp.abc import AbstractAccessLogger

from gateway import errors
from gateway.middlewares import REQUEST_ID, SERVER_NAME, error_response, new_request_id
from gateway.services import SERVICES
from gateway.settings import HttpSettings
from redaction import redact

log = logging.getLogger("voicepay.server")

_T = TypeVar("_T")
#: Allocations between young-generation collections (CPython's default is 700: tuned for short scripts).
GC_GEN0_THRESHOLD = 50_000
#: Refusals at the connection level (cap reached) are logged at most this often: a flood must not flood the log.
_REFUSAL_LOG_INTERVAL = 10.0


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




# --- the access log -----------------------------------------------------------------------------------------

#: Characters that would forge a log line or drive a terminal: C0/C1 controls and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Longest request target written to the access log (after redaction, so a cut never splits a card number).
ACCESS_LOG_TARGET_CHARS = 1024


def _fold(text: str) -> str:
    """NFKC (full-width digits and the like become ASCII), decimal digits of any script as ASCII, format
    characters (zero-width space, soft hyphen) removed: the form a reader of the log would see a number in."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
        elif ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif unicodedata.category(ch) != "Cf":
            out.append(ch)
    return "".join(out)


def loggable_target(raw: str) -> str:
    """The request target as the access log shows it: percent-decoded (repeatedly, so ``%2534`` cannot hide
    a digit), ``+`` read as a space in the query, Unicode-normalised, controls replaced, then passed through
    the card-data redactor, then cut to a bounded length. The raw target is never logged."""
    # The parser keeps undecodable bytes as surrogates; make them visible replacement characters.
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    path, sep, query = text.partition("?")
    for _ in range(3):
        new_path, new_query = unquote(path, errors="replace"), unquote_plus(query, errors="replace")
        if (new_path, new_query) == (path, query):
            break
        path, query = new_path, new_query
    text = _CONTROL.sub("\ufffd", _fold(path + sep + query))
    text = redact(text)
    if len(text) > ACCESS_LOG_TARGET_CHARS:
        text = text[:ACCESS_LOG_TARGET_CHARS] + "..."
    return text


class AccessLogger(AbstractAccessLogger):
    """One line per answered request, with labelled fields so no number is read as part of another:
    ``method=POST path="/v1/actions/refunds.create" status=422 bytes=542 duration_ms=5.0``.

    (The old ``"POST /x HTTP/1.1" 422 542 0.005000`` put status, size and duration side by side, and the
    three together sometimes formed a Luhn-valid run the card detector rightly flagged.)"""

    @property
    def enabled(self) -> bool:
        # aiohttp asks once per connection; skip the per-request work when INFO is off for this logger.
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        try:
            method = request.method if _METHOD.fullmatch(request.method or "") else "-"
            self.logger.info(
                "method=%s path=%s status=%d bytes=%d duration_ms=%.1f",
                method,
                # Quoted (logfmt style): a decoded path may hold spaces and quotes.
                json.dumps(loggable_target(request.raw_path), ensure_ascii=False),
                response.status,
                response.body_length,
                time * 1000.0,
                extra={"request_id": request.get(REQUEST_ID), "remote": request.remote or "-"},
            )
        except Exception:  # the access log must never break a response; say so without the detail
            self.logger.warning("access log line could not be written")


_METHOD = re.compile(r"[A-Z]{1,16}")


# --- the connection protocol --------------------------------------------------------------------------------


def _error_for(status: int, exc: BaseException | None) -> errors.GatewayError:
    if isinstance(exc, http_exceptions.LineTooLong) or status == 431:
        return errors.HeadersTooLarge()
    if status == 413:
        return errors.PayloadTooLarge()
    if 400 <= status < 500:
        return errors.MalformedRequest()
    if status == 504:
        return errors.ServiceUnavailable()
    return errors.GatewayError()


def raw_error_response(err: errors.GatewayError) -> bytes:
    """A complete HTTP/1.1 answer in the documented shape, for the cases where no request object exists
    (a connection past the cap, headers that never finished)."""
    rid = new_request_id()
    body = json.dumps({"ok": False, "error": err.to_dict(), "request_id": rid}).encode()
    reason = _REASONS.get(err.status, "Error")
    head = (
        f"HTTP/1.1 {err.status} {reason}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Server: {SERVER_NAME}\r\n"
        f"X-Request-Id: {rid}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in err.headers.items())
        + "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_REASONS = {408: "Request Timeout", 503: "Service Unavailable"}


class GatewayRequestHandler(web.RequestHandler):
    """aiohttp's protocol with the gateway's answers to malformed requests and a header read timeout."""

    def __init__(self, manager: web.Server, *, header_read_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_read_timeout = header_read_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_request = False

    # The middleware (gateway.middlewares.request_context) marks the span in which a request is being handled:
    # the header clock only runs while the connection waits for a request head.
    def request_started(self) -> None:
        self._in_request = True
        self._cancel_head_timer()

    def request_finished(self) -> None:
        self._in_request = False

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if data and self._head_timer is None and not self._in_request:
            self._head_timer = asyncio.get_running_loop().call_later(
                self._header_read_timeout, self._head_timed_out
            )
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        # A complete head already queued behind the current request (pipelining) is not a slow client.
        if self._in_request or getattr(self, "_messages", None) or self.transport is None:
            return
        log.warning("closed a connection whose request headers arrived too slowly",
                    extra={"timeout_s": self._header_read_timeout})
        with contextlib.suppress(Exception):
            self.transport.write(raw_error_response(errors.RequestTimeout()))
        self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The documented error shape, never the parser's message (it quotes the raw request bytes), and one
        log line with the kind of problem only; a traceback only for a real fault (5xx)."""
        self._cancel_head_timer()
        err = _error_for(status, exc)
        if err.status >= 500 and exc is not None:
            log.error("error outside the request pipeline", exc_info=exc)
        else:
            log.warning("refused a malformed HTTP request",
                        extra={"status": err.status, "problem": type(exc).__name__ if exc else "-"})
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; closing the connection")
        rid = new_request_id()
        request[REQUEST_ID] = rid
        resp = error_response(err, rid)
        resp.headers["X-Request-Id"] = rid
        resp.headers["Server"] = SERVER_NAME
        resp.force_close()
        return resp


class _Refuse(asyncio.Protocol):
    """A connection past the cap: answered 503 in the documented shape and closed, never handed to aiohttp."""

    def __init__(self, answer: bytes) -> None:
        self._answer = answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        with contextlib.suppress(Exception):
            transport.write(self._answer)
        transport.close()


class _ProtocolFactory:
    def __init__(self, server: web.Server, http: HttpSettings, handler_kwargs: dict[str, Any]) -> None:
        self._server = server
        self._http = http
        self._kwargs = handler_kwargs
        self._last_refusal_log = 0.0
        self.refused = 0

    def __call__(self) -> asyncio.Protocol:
        if len(self._server.connections) >= self._http.max_connections:
            self.refused += 1
            now = time.monotonic()
            if now - self._last_refusal_log > _REFUSAL_LOG_INTERVAL:
                self._last_refusal_log = now
                log.warning("connection limit reached; refusing new connections",
                            extra={"max_connections": self._http.max_connections, "refused": self.refused})
            return _Refuse(raw_error_response(errors.ServiceUnavailable(headers={"Retry-After": "1"})))
        return GatewayRequestHandler(
            self._server,
            loop=asyncio.get_running_loop(),
            header_read_timeout=self._http.header_read_timeout,
            **self._kwargs,
        )


async def _listen(
    server: web.Server,
    host: str,
    port: int,
    http: HttpSettings,
    *,
    ssl_context: ssl.SSLContext | None,
    access_log: logging.Logger | None,
    reuse_port: bool = False,
) -> asyncio.Server:
    factory = _ProtocolFactory(
        server,
        http,
        {
            "keepalive_timeout": http.keepalive_timeout,
            "max_line_size": http.max_line_bytes,
            "max_field_size": http.max_field_bytes,
            "max_headers": http.max_headers,
            "access_log_class": AccessLogger,
            "access_log": access_log,
        },
    )
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        factory,
        host,
        port,
        ssl=ssl_context,
        # A TLS handshake is part of "sending the request head": the same clock.
        ssl_handshake_timeout=http.header_read_timeout if ssl_context else None,
        backlog=128,
        reuse_address=True,
        reuse_port=reuse_port or None,
    )


def _bound_port(listener: asyncio.Server, fallback: int) -> int:
    for sock in listener.sockets:
        return int(sock.getsockname()[1])
    return fallback


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
    within ``shutdown_timeout``, and run the app's cleanup (store, HTTP sessions, workers).

    HTTP limits come from the app's settings (``[http]``); ``[metrics] listen`` adds the metrics listener."""
    stop = stop or asyncio.Event()
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout)
    await runner.setup()  # runs the app's start-up: the services (and their settings) exist after it
    services = app.get(SERVICES)
    http = services.settings.http if services is not None else HttpSettings()
    server = runner.server
    assert server is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests)
            loop.add_signal_handler(sig, stop.set)
    listener: asyncio.Server | None = None
    metrics_runner: web.BaseRunner | None = None
    try:
        # reuse_port: several worker processes listen on one port (``voicepay serve --workers``, gateway/workers.py).
        listener = await _listen(
            server, host, port, http, ssl_context=ssl_context, reuse_port=reuse_port,
            access_log=logging.getLogger("aiohttp.access") if access_log else None,
        )
        bound = _bound_port(listener, port)
        scheme = "https" if ssl_context else "http"
        url = f"{scheme}://{host}:{bound}"
        log.info("listening", extra={"url": url})
        if services is not None and services.settings.metrics.listen:
            from gateway.metrics import start_metrics_listener

            metrics_runner, metrics_url = await start_metrics_listener(services)
            log.info("metrics listening", extra={"url": metrics_url})
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
        if listener is not None:
            listener.close()  # stop accepting; open connections finish in runner.cleanup()
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await runner.cleanup()
        if listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.wait_closed(), 1.0)
        log.info("stopped")
