"""HTTP-level hardening (issue 11, "HTTP errors in the documented shape"), over real sockets against the real
listener (``gateway.server.serve_app``): malformed requests, the ``Server`` header, the header read timeout,
idle connections, the connection cap, deep JSON and odd signature headers. No timing thresholds: a closed
connection is waited for with a generous bound only."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from adapters.pcipal.callbacks import sign_callback
from adapters.stripe.signing import sign_header
from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.routes import SERVICES
from gateway.server import serve_app
from tests.gateway.conftest import Client, new_key
from tests.gateway.helpers import auth, make_registry

CARD = "4000056655665556"  # Stripe's public Visa debit test number
BOUND = 30.0  # generous upper bound for "eventually": never a pass/fail timing threshold

Served = Callable[..., Awaitable[tuple[str, int, web.Application]]]


@pytest.fixture
def log_stream() -> AsyncIterator[io.StringIO] | Any:
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.fixture
async def served(settings_factory: Any, sqlite_url: str) -> AsyncIterator[Served]:
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(**sections: Any) -> tuple[str, int, web.Application]:
        settings = settings_factory(sqlite_url, **sections)
        app = create_app(settings, registry=make_registry())
        stop = asyncio.Event()
        started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def on_started(url: str) -> None:
            started.set_result(url)

        task = asyncio.create_task(serve_app(app, "127.0.0.1", 0, shutdown_timeout=2, stop=stop,
                                             on_started=on_started))
        running.append((stop, task))
        url = await asyncio.wait_for(started, BOUND)
        return url, int(url.rsplit(":", 1)[1]), app

    yield start
    for stop, task in running:
        stop.set()
        await asyncio.wait_for(task, BOUND)


async def exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), BOUND)
    finally:
        writer.close()


def parse(answer: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body) if body else None


def assert_documented_shape(payload: Any) -> None:
    assert payload["ok"] is False
    assert set(payload["error"]) >= {"code", "message", "say", "retryable"}
    assert payload["request_id"].startswith("req_")


def assert_clean_log(text: str) -> None:
    assert "Traceback" not in text
    assert CARD not in text
    for line in text.splitlines():
        json.loads(line)  # every line is one JSON object: nothing half-written or raw


MALFORMED: dict[str, bytes] = {
    "junk after the version": f"GET /{CARD} HTTP/1.1 x\r\nHost: a\r\n\r\n".encode(),
    "control character in a header": f"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Note: {CARD}\x01\r\n\r\n".encode(),
    "NUL in the request line": f"GET /{CARD}\x00 HTTP/1.1\r\nHost: a\r\n\r\n".encode(),
    "space in a header name": f"GET / HTTP/1.1\r\nHost: a\r\nX Card: {CARD}\r\n\r\n".encode(),
    "header line without a colon": f"GET / HTTP/1.1\r\nHost: a\r\n{CARD}\r\n\r\n".encode(),
    "unknown HTTP version": f"GET /{CARD} HTTP/7.3\r\nHost: a\r\n\r\n".encode(),
    "not HTTP at all (TLS hello)": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + CARD.encode() + b"\r\n\r\n",
    "bad method": f"G\x7fT /{CARD} HTTP/1.1\r\nHost: a\r\n\r\n".encode(),
    "non-numeric Content-Length": f"POST /v1/actions/x HTTP/1.1\r\nHost: a\r\nContent-Length: {CARD}x\r\n\r\n".encode(),
    "Content-Length and chunked": b"POST /v1/actions/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "oversized request line": b"GET /" + CARD.encode() * 1000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    "oversized header": b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + CARD.encode() * 1000 + b"\r\n\r\n",
    "too many headers": b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(200)) + b"\r\n",
    "invalid UTF-8 in a header": b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Call-Id: \xff\xfe"
    + CARD.encode() + b"\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_requests_get_the_json_error_shape_without_echo(
    served: Served, log_stream: io.StringIO, case: str
) -> None:
    _, port, _ = await served()
    answer = await exchange(port, MALFORMED[case])
    status, headers, payload = parse(answer)
    if case == "invalid UTF-8 in a header":
        # Bytes that are not UTF-8 are legal in a header value; the request is served normally.
        assert status in (200, 404)
    else:
        assert 400 <= status < 500
        assert payload["error"]["code"] in {"malformed_request", "headers_too_large", "bad_request", "not_found"}
        assert headers["content-type"].startswith("application/json")
    assert_documented_shape(payload) if status >= 400 else None
    # Nothing of the request comes back, and no version is announced.
    assert CARD.encode() not in answer
    assert headers["server"] == "voicepay-gateway"
    assert "python" not in answer.decode("latin-1").lower() and "aiohttp" not in answer.decode("latin-1").lower()
    assert_clean_log(log_stream.getvalue())


async def test_oversized_headers_are_431(served: Served) -> None:
    _, port, _ = await served()
    status, _, payload = parse(await exchange(port, MALFORMED["oversized header"]))
    assert status == 431 and payload["error"]["code"] == "headers_too_large"


async def test_normal_and_error_answers_name_no_version(served: Served) -> None:
    _, port, _ = await served()
    for target in ("/healthz", "/nope", "/v1/actions"):
        answer = await exchange(port, f"GET {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
        _, headers, _ = parse(answer)
        assert headers["server"] == "voicepay-gateway", target


async def test_trickled_headers_are_cut_off_with_408(served: Served, log_stream: io.StringIO) -> None:
    _, port, _ = await served(http={"header_read_timeout": 0.5, "keepalive_timeout": 600})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: a\r\n")

    async def trickle() -> None:
        # One header line at a time, never the blank line that ends the head.
        for i in range(10_000):
            writer.write(b"X-Slow-%d: 1\r\n" % i)
            await writer.drain()
            await asyncio.sleep(0.1)

    dripping = asyncio.create_task(trickle())
    try:
        answer = await asyncio.wait_for(reader.read(), BOUND)
    finally:
        dripping.cancel()
        writer.close()
    status, headers, payload = parse(answer)
    assert status == 408 and payload["error"]["code"] == "request_timeout"
    assert headers["connection"] == "close" and headers["server"] == "voicepay-gateway"
    assert_clean_log(log_stream.getvalue())


async def test_a_slow_request_handler_is_not_mistaken_for_slow_headers(served: Served) -> None:
    from tests.gateway.helpers import Echo

    _, port, app = await served(http={"header_read_timeout": 0.3})
    _, key = await app[SERVICES].keys.create("acme", ["refunds:write"])
    Echo.delay = 1.0  # the handler takes longer than the header timeout
    try:
        body = b'{"text": "slow"}'
        raw = (f"POST /v1/actions/test.echo HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {key}\r\n"
               f"Content-Type: application/json\r\nIdempotency-Key: k1\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body
        status, _, payload = parse(await exchange(port, raw))
    finally:
        Echo.delay = 0.0
    assert status == 200 and payload["result"]["text"] == "slow"


async def test_a_connection_that_sends_nothing_is_closed(served: Served) -> None:
    _, port, _ = await served(http={"keepalive_timeout": 0.5})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        assert await asyncio.wait_for(reader.read(), BOUND) == b""
    finally:
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed(served: Served) -> None:
    _, port, _ = await served(http={"keepalive_timeout": 0.5})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), BOUND)  # the answer, then EOF when idle too long
    finally:
        writer.close()
    status, headers, _ = parse(answer)
    assert status == 200 and headers.get("connection", "keep-alive") != "close"


async def test_connections_beyond_the_cap_get_503_and_are_closed(served: Served, log_stream: io.StringIO) -> None:
    _, port, _ = await served(http={"max_connections": 3, "keepalive_timeout": 300, "header_read_timeout": 300})
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    try:
        # Make sure the three are registered before the fourth arrives (one request each, kept alive).
        for reader, writer in held:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            await writer.drain()
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND)).startswith(b"HTTP/1.1 200")
        refused = [await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n") for _ in range(5)]
        for answer in refused:
            status, headers, payload = parse(answer)
            assert status == 503 and payload["error"]["code"] == "service_unavailable"
            assert headers["retry-after"] == "1" and headers["server"] == "voicepay-gateway"
    finally:
        for _, writer in held:
            writer.close()
    # Once the held connections are gone, new ones are served again.
    deadline = time.monotonic() + BOUND
    while True:
        status, _, _ = parse(await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        if status == 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert status == 200
    log = log_stream.getvalue()
    assert log.count("connection limit reached") == 1  # a flood of refusals is one log line, not five
    assert_clean_log(log)


# --- deep JSON -------------------------------------------------------------------------------------------------

DEEP = 25_000


def deep(n: int = DEEP) -> bytes:
    return b'{"text": ' + b"[" * n + b"]" * n + b"}"


async def test_deeply_nested_action_body_is_422_not_500(make_client: Any, sqlite_url: str,
                                                        log_stream: io.StringIO) -> None:
    client: Client = await make_client(sqlite_url, server={"max_body_bytes": 1024 * 1024})
    key = await new_key(client)
    for raw in (deep(), b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP, b"[" * DEEP):
        resp = await client.post("/v1/actions/test.echo", data=raw,
                                 headers=auth(key, **{"Content-Type": "application/json", "X-Call-Id": "c1"}))
        payload = await resp.json()
        assert resp.status == 422 and payload["error"]["code"] == "json_too_deep", payload
    assert_clean_log(log_stream.getvalue())


async def test_nesting_within_the_limit_still_works(make_client: Any, sqlite_url: str) -> None:
    client: Client = await make_client(sqlite_url)
    key = await new_key(client)
    resp = await client.post("/v1/actions/test.echo", data=b'{"text": "a ] [ { \\" brackets in a string"}',
                             headers=auth(key, **{"Content-Type": "application/json", "X-Call-Id": "c2"}))
    assert resp.status == 200


async def test_deeply_nested_signed_webhook_is_refused_cleanly(make_client: Any, sqlite_url: str,
                                                               log_stream: io.StringIO) -> None:
    client: Client = await make_client(sqlite_url)
    raw = b'{"id": "evt_1", "type": "x", "created": 1, "data": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    header = sign_header(raw, ["whsec_acme"], int(time.time()))
    resp = await client.post("/v1/webhooks/stripe/acme", data=raw, headers={"Stripe-Signature": header})
    payload = await resp.json()
    assert resp.status == 422 and payload["error"]["code"] == "json_too_deep"
    assert_clean_log(log_stream.getvalue())


def _pcipal_tenant(ring: Any) -> dict[str, Any]:
    return {
        "id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("sk_test_acme"),
        "stripe_api_base": "http://127.0.0.1:9", "currency": "gbp",
        "pcipal": {
            "base_url": "http://127.0.0.1:9", "tenant_name": "acme", "tenant_number": "1000",
            "client_id": "id", "client_secret": ring.encrypt("secret"), "flow_id": "1055",
            "callback_auth": {"hmac_secrets": [ring.encrypt("cb-secret")]},
        },
    }


async def test_deeply_nested_signed_callback_is_refused_cleanly(make_client: Any, sqlite_url: str,
                                                                settings_factory: Any,
                                                                log_stream: io.StringIO) -> None:
    client: Client = await make_client(sqlite_url, tenants=[_pcipal_tenant(settings_factory.ring)])
    n = 8000  # the callback body limit is 16 KB
    raw = b'{"transactionResult": "declined", "x": ' + b"[" * n + b"]" * n + b"}"
    headers = {"Content-Type": "application/json",
               "X-PCIPal-Signature": sign_callback(raw, "cb-secret", int(time.time()))}
    resp = await client.post("/v1/callbacks/pcipal/acme", data=raw, headers=headers)
    payload = await resp.json()
    assert resp.status == 422 and payload["error"]["code"] == "json_too_deep"
    assert_clean_log(log_stream.getvalue())


# --- odd signature headers -------------------------------------------------------------------------------------

ODD_SIGNATURES = [
    "t=²,v1=00",
    "t=١٧٠٠٠٠٠٠٠٠,v1=00",  # Arabic-Indic digits
    "t=１７００００００００,v1=00",  # full-width digits
    "t=,v1=00",
    "v1=00",
    "t=1700000000",
    "t=1700000000,v1=",
    "t=1,t=2,v1=00",
    "=,=,=",
    ",,,",
    "t=" + "9" * 5000 + ",v1=00",
    "t=1700000000," + ",".join(["v1=" + "ab" * 32] * 100),
    "t=1700000000,v1=" + "é" * 64,
    "t=-1,v1=00",
    "t=1e9,v1=00",
]


@pytest.mark.parametrize("header", ODD_SIGNATURES)
async def test_odd_stripe_signature_headers_are_400_never_500(make_client: Any, sqlite_url: str,
                                                              log_stream: io.StringIO, header: str) -> None:
    client: Client = await make_client(sqlite_url)
    resp = await client.post("/v1/webhooks/stripe/acme", data=b'{"id": "evt_1"}',
                             headers={"Stripe-Signature": header})
    payload = await resp.json()
    assert resp.status == 400 and payload["error"]["code"] == "invalid_signature", payload
    assert_clean_log(log_stream.getvalue())


@pytest.mark.parametrize("header", ODD_SIGNATURES)
async def test_odd_pcipal_signature_headers_are_401_never_500(make_client: Any, sqlite_url: str,
                                                              settings_factory: Any, log_stream: io.StringIO,
                                                              header: str) -> None:
    client: Client = await make_client(sqlite_url, tenants=[_pcipal_tenant(settings_factory.ring)])
    resp = await client.post("/v1/callbacks/pcipal/acme", data=b'{"transactionResult": "declined"}',
                             headers={"Content-Type": "application/json", "X-PCIPal-Signature": header})
    payload = await resp.json()
    assert resp.status == 401 and payload["error"]["code"] == "unauthorized", payload
    assert_clean_log(log_stream.getvalue())


async def test_undecodable_bytes_in_signature_and_auth_headers_are_refused_cleanly(
    served: Served, settings_factory: Any, log_stream: io.StringIO
) -> None:
    _, port, _ = await served(tenants=[_pcipal_tenant(settings_factory.ring)])
    body = b'{"transactionResult": "declined"}'
    for target, header in (
        ("/v1/webhooks/stripe/acme", b"Stripe-Signature: t=1700000000,v1=\xff\xfe\xfd"),
        ("/v1/webhooks/stripe/acme", b"Stripe-Signature: t=\xb2,v1=00"),
        ("/v1/callbacks/pcipal/acme", b"X-PCIPal-Signature: t=1700000000,v1=\xff\xfe"),
        ("/v1/callbacks/pcipal/acme", b"X-PCIPal-Signature: t=\xc2\xb2,v1=00"),
        ("/v1/actions/gateway.ping", b"Authorization: Bearer vpk_\xff\xfe"),
        ("/metrics", b"Authorization: Bearer \xff\xfe"),
    ):
        raw = (f"POST {target} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n").encode() + header + b"\r\n\r\n" + body
        status, _, payload = parse(await exchange(port, raw))
        assert status in (400, 401, 404, 405), (target, status)
        assert_documented_shape(payload)
    assert_clean_log(log_stream.getvalue())
