"""Twilio client against the Twilio emulator: the emulator refuses what Twilio refuses, in Twilio's error shape,
and the client splits errors into retryable (5xx, 429, timeouts) and final, never quoting the number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.twilio.client import TwilioClient, TwilioError
from adapters.twilio.emulator import TwilioEmulator

FROM = "+15005550006"
TO = "+447700900123"


@pytest.fixture
async def emulator() -> AsyncIterator[TwilioEmulator]:
    emu = TwilioEmulator(from_numbers=(FROM,), messaging_service_sids=("MG" + "a" * 32,))
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client(http: aiohttp.ClientSession, emu: TwilioEmulator, **kw: Any) -> TwilioClient:
    args: dict[str, Any] = {"account_sid": emu.account_sid, "auth_token": emu.auth_token,
                            "api_base": emu.base_url, "timeout_seconds": 5.0}
    args.update(kw)
    return TwilioClient(http, **args)


async def raw_post(http: aiohttp.ClientSession, emu: TwilioEmulator, form: dict[str, str] | None = None,
                   auth: tuple[str, str] | None = None, json_body: Any = None) -> tuple[int, dict[str, Any]]:
    user, password = auth or (emu.account_sid, emu.auth_token)
    headers = {"Authorization": aiohttp.encode_basic_auth(user, password)}
    async with http.post(emu.messages_url, data=form, json=json_body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_client_sends_and_the_emulator_keeps_the_message(http: aiohttp.ClientSession,
                                                             emulator: TwilioEmulator) -> None:
    msg = await client(http, emulator).send_sms(to=TO, body="pay here", from_number=FROM)
    assert msg.sid.startswith("SM") and len(msg.sid) == 34 and msg.status == "queued"
    assert [(m["to"], m["from"], m["body"]) for m in emulator.messages] == [(TO, FROM, "pay here")]
    # Readable back through the API, with the account's credentials only.
    async with http.get(emulator.messages_url,
                        headers={"Authorization": aiohttp.encode_basic_auth(emulator.account_sid,
                                                                            emulator.auth_token)}) as resp:
        listed = await resp.json()
    assert resp.status == 200 and listed["messages"][0]["sid"] == msg.sid
    async with http.get(emulator.messages_url) as resp:
        assert resp.status == 401


async def test_messaging_service_sid_is_accepted(http: aiohttp.ClientSession, emulator: TwilioEmulator) -> None:
    msg = await client(http, emulator).send_sms(to=TO, body="x", messaging_service_sid="MG" + "a" * 32)
    assert msg.status == "accepted"


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"Body": "x", "From": FROM}, 400, 21604),
        ({"To": "07700900123", "Body": "x", "From": FROM}, 400, 21211),
        ({"To": TO, "Body": "x"}, 400, 21603),
        ({"To": TO, "Body": "x", "From": "+15550001111"}, 400, 21606),
        ({"To": TO, "Body": "x", "From": "not-a-number"}, 400, 21212),
        ({"To": TO, "From": FROM}, 400, 21602),
        ({"To": TO, "Body": "x" * 1601, "From": FROM}, 400, 21617),
        ({"To": TO, "Body": "x", "MessagingServiceSid": "MG" + "b" * 32}, 400, 21705),
    ],
)
async def test_emulator_refuses_like_twilio(http: aiohttp.ClientSession, emulator: TwilioEmulator,
                                            form: dict[str, str], status: int, code: int) -> None:
    got_status, body = await raw_post(http, emulator, form)
    assert (got_status, body["code"], body["status"]) == (status, code, status)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}" and body["message"]
    assert emulator.messages == []


async def test_emulator_needs_the_right_credentials_and_account(http: aiohttp.ClientSession,
                                                                emulator: TwilioEmulator) -> None:
    form = {"To": TO, "Body": "x", "From": FROM}
    status, body = await raw_post(http, emulator, form, auth=(emulator.account_sid, "wrong"))
    assert (status, body["code"]) == (401, 20003)
    other = "AC" + "0" * 32
    status, body = await raw_post(http, emulator, form, auth=(other, emulator.auth_token))
    assert (status, body["code"]) == (401, 20003)
    async with http.post(emulator.messages_url, data=form) as resp:
        assert resp.status == 401 and (await resp.json())["code"] == 20003
    # A JSON body carries no form parameters: Twilio sees no To.
    status, body = await raw_post(http, emulator, json_body=form)
    assert (status, body["code"]) == (400, 21604)
    assert emulator.messages == []


async def test_client_errors_say_whether_a_retry_can_help(http: aiohttp.ClientSession,
                                                          emulator: TwilioEmulator) -> None:
    c = client(http, emulator)
    emulator.fail_next(1, status=500)
    with pytest.raises(TwilioError) as server_error:
        await c.send_sms(to=TO, body="x", from_number=FROM)
    assert server_error.value.retryable and server_error.value.status == 500
    emulator.fail_next(1, status=429)
    with pytest.raises(TwilioError) as throttled:
        await c.send_sms(to=TO, body="x", from_number=FROM)
    assert throttled.value.retryable
    with pytest.raises(TwilioError) as bad_number:
        await c.send_sms(to="+44123", body="x", from_number=FROM)
    assert not bad_number.value.retryable and bad_number.value.code == 21211
    assert "+44123" not in str(bad_number.value)  # Twilio's message quotes the number; ours does not
    with pytest.raises(TwilioError) as bad_auth:
        await client(http, emulator, auth_token="nope").send_sms(to=TO, body="x", from_number=FROM)
    assert not bad_auth.value.retryable and bad_auth.value.code == 20003
    # After the outage, the next send goes through.
    assert (await c.send_sms(to=TO, body="x", from_number=FROM)).sid.startswith("SM")


async def test_client_times_out_and_says_retry(http: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        c = TwilioClient(http, account_sid="AC" + "1" * 32, auth_token="t", api_base=base, timeout_seconds=0.3)
        with pytest.raises(TwilioError) as exc:
            await c.send_sms(to=TO, body="x", from_number=FROM)
        assert exc.value.retryable and exc.value.status is None
    finally:
        release.set()
        await runner.cleanup()
