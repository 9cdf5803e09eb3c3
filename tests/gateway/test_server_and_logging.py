from __future__ import annotations

import asyncio
import io
import json
import logging
import socket

import aiohttp

from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.routes import SERVICES
from gateway.server import serve_app
from tests.gateway.helpers import Echo, auth, make_registry

STRIPE_VISA = "4242424242424242"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_graceful_shutdown_finishes_in_flight_requests(settings_factory, sqlite_url):
    settings = settings_factory(sqlite_url)
    app = create_app(settings, registry=make_registry())
    stop = asyncio.Event()
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def on_started(url: str) -> None:
        started.set_result(url)

    server = asyncio.create_task(
        serve_app(app, "127.0.0.1", _free_port(), shutdown_timeout=5, stop=stop, on_started=on_started)
    )
    url = await asyncio.wait_for(started, 10)
    _, key = await app[SERVICES].keys.create("acme", ["refunds:write"])
    Echo.delay = 0.8
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        slow = asyncio.create_task(
            session.post(f"{url}/v1/actions/test.echo", json={"text": "slow"}, headers=auth(key, **{"Idempotency-Key": "s"}))
        )
        await asyncio.sleep(0.3)
        stop.set()  # what SIGTERM does
        resp = await slow
        assert resp.status == 200
        assert (await resp.json())["result"]["text"] == "slow"
        await asyncio.wait_for(server, 10)
        # The listener is closed once shutdown is done.
        try:
            await session.get(f"{url}/healthz")
            raise AssertionError("server still accepting after shutdown")
        except aiohttp.ClientConnectionError:
            pass
    Echo.delay = 0.0


async def test_card_number_never_reaches_any_log_output(make_client, sqlite_url):
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream)
    try:
        client = await make_client(sqlite_url)
        # 1. aiohttp's access log: a card number in the request path
        await client.get(f"/healthz?ref={STRIPE_VISA}")
        # 2. a library's logger
        logging.getLogger("stripe").warning("card on file 4242-4242-4242-4242")
        # 3. an exception traceback
        try:
            raise ValueError(f"bad card {STRIPE_VISA}")
        except ValueError:
            logging.getLogger("voicepay.test").exception("failed")
        # 4. %-style args and extra fields
        logging.getLogger("voicepay.test").info("%s", STRIPE_VISA, extra={"note": STRIPE_VISA})
        await client.close()
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    text = stream.getvalue()
    assert any(line["logger"] == "aiohttp.access" for line in lines)
    assert any("Traceback" in line.get("exc", "") for line in lines)
    for needle in (STRIPE_VISA, "4242-4242-4242-4242", "424242424242"):
        assert needle not in text
