"""Pay-by-link senders end to end in sandbox mode: ``payments.send_link`` goes through the real gateway to the
Twilio emulator (SMS) and the aiosmtpd sink (e-mail) over sockets on 127.0.0.1; a Twilio outage is retried by the
durable job queue; a tenant without senders is never offered a link; the link is never logged in full."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.demo import DemoStack

FAST_RETRY = {"VOICEPAY_NOTIFICATIONS__RETRY_SCHEDULE_SECONDS": "[0.2, 0.2]",
              "VOICEPAY_WEBHOOKS__POLL_INTERVAL_SECONDS": "0.1"}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DemoStack]:
    async with DemoStack(tmp_path / "var", environ=FAST_RETRY) as s:
        yield s


async def eventually(check: Callable[[], Awaitable[bool]], tries: int = 600, delay: float = 0.05) -> None:
    """Bounded polling: no timing threshold, just a cap on how long a broken build can hang."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(delay)
    assert await check(), "condition not reached"


def _key() -> str:
    # Digits in a key could pass as a card number at the card-data gate.
    return "link-" + uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))


async def send_link(stack: DemoStack, **dest: str) -> tuple[int, dict[str, Any]]:
    return await stack.action("payments.send_link", {"amount": 4250, "description": "Order 7", **dest},
                              idempotency_key=_key())


async def delivery(stack: DemoStack, session_id: str) -> dict[str, Any]:
    row = await stack.services.store.fetchone(
        "SELECT * FROM link_deliveries WHERE tenant_id = ? AND checkout_session_id = ?", stack.tenant, session_id
    )
    assert row is not None
    return dict(row)


async def checkout_url(stack: DemoStack, session_id: str) -> str:
    """The session's URL, read straight from the Stripe sandbox."""
    from gateway.sandbox import SANDBOX_STRIPE_KEY

    assert stack._http is not None
    async with stack._http.get(f"{stack.stripe.base_url}/v1/checkout/sessions/{session_id}",
                               headers={"Authorization": f"Bearer {SANDBOX_STRIPE_KEY}"}) as resp:
        assert resp.status == 200
        return str((await resp.json())["url"])


async def test_sms_in_national_form_reaches_the_twilio_emulator(stack: DemoStack,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert stack.senders is not None
    code, body = await send_link(stack, phone="07700 900123")  # the sandbox tenant's region is GB
    assert code == 200, body
    result = body["result"]
    assert result["channel"] == "sms" and result["delivery_state"] == "sent"
    assert result["sent_to"] == "+44*******123"
    [message] = stack.senders.twilio.messages
    assert message["to"] == "+447700900123" and message["from"] == "+15005550006"
    url = await checkout_url(stack, result["checkout_session_id"])
    assert url in message["body"] and "Sandbox Ltd" in message["body"]
    row = await delivery(stack, result["checkout_session_id"])
    assert (row["state"], row["attempts"], row["provider_message_id"]) == ("sent", 1, message["sid"])
    assert row["destination"] is None and row["url"] is None  # not kept once sent
    assert "07700" not in json.dumps(body) and "900123" not in json.dumps(body)
    # The stripe SDK's own logger is held at WARNING by gateway.logs.configure_logging: not the gateway's output.
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("stripe"))
    assert "payment link sent" in logged
    assert urlsplit(url).path not in logged and "+447700900123" not in logged


async def test_email_reaches_the_smtp_sink(stack: DemoStack) -> None:
    assert stack.senders is not None
    code, body = await send_link(stack, email="jane.doe@example.com")
    assert code == 200, body
    assert body["result"]["sent_to"] == "j***@example.com" and body["result"]["delivery_state"] == "sent"
    [mail] = stack.senders.smtp.messages
    assert mail.rcpt_tos == ("jane.doe@example.com",) and mail.mail_from == "payments@sandbox.example"
    assert mail.message["To"] == "jane.doe@example.com"
    assert "payment link" in mail.message["Subject"]
    assert await checkout_url(stack, body["result"]["checkout_session_id"]) in mail.text
    row = await delivery(stack, body["result"]["checkout_session_id"])
    assert row["state"] == "sent" and row["provider_message_id"] == mail.message["Message-ID"]


@pytest.fixture
async def any_store_stack(tmp_path: Path, store_url: str) -> AsyncIterator[DemoStack]:
    """The stack on SQLite and on PostgreSQL (the delivery row, its job and the retry on both stores)."""
    env = dict(FAST_RETRY)
    if store_url.startswith("postgresql"):
        env["VOICEPAY_STORE__URL"] = store_url
    async with DemoStack(tmp_path / "var", environ=env) as s:
        assert s.services.settings.store.url.split(":")[0] == store_url.split(":")[0]
        yield s


async def test_a_twilio_500_is_retried_by_the_job_queue(any_store_stack: DemoStack) -> None:
    stack = any_store_stack
    assert stack.senders is not None
    twilio = stack.senders.twilio
    twilio.fail_next(2, status=500)  # the inline attempt and the first job attempt
    code, body = await send_link(stack, phone="+447700900123")
    assert code == 200, body
    assert body["result"]["delivery_state"] == "pending"
    assert "may take a few minutes" in body["say"]
    session_id = body["result"]["checkout_session_id"]
    assert (await delivery(stack, session_id))["state"] == "pending"

    async def sent() -> bool:
        return (await delivery(stack, session_id))["state"] == "sent"

    await eventually(sent)
    row = await delivery(stack, session_id)
    assert row["attempts"] == 3 and row["url"] is None
    assert [s for s, _ in twilio.attempts] == [500, 500, 201]
    assert len(twilio.messages) == 1 and twilio.messages[0]["to"] == "+447700900123"
    jobs = await stack.services.store.fetchall("SELECT * FROM jobs WHERE kind = 'link_delivery'")
    assert jobs == []  # done jobs are deleted


async def test_an_outage_past_every_retry_ends_failed(stack: DemoStack) -> None:
    assert stack.senders is not None
    stack.senders.twilio.fail_next(10, status=503)
    code, body = await send_link(stack, phone="+447700900123")
    assert code == 200 and body["result"]["delivery_state"] == "pending"
    session_id = body["result"]["checkout_session_id"]

    async def failed() -> bool:
        return (await delivery(stack, session_id))["state"] == "failed"

    await eventually(failed)
    row = await delivery(stack, session_id)
    # One inline attempt, then the job: a try and one per delay of the schedule ([0.2, 0.2]).
    assert row["attempts"] == 4 and row["destination"] is None and row["url"] is None
    assert stack.senders.twilio.messages == []


async def test_a_final_refusal_is_not_retried(stack: DemoStack) -> None:
    assert stack.senders is not None
    stack.senders.twilio.fail_next(1, status=400)
    code, body = await send_link(stack, phone="+447700900123")
    assert code == 422, body
    assert "the number ending in 1 2 3" in body["error"]["say"] and "*" not in body["error"]["say"]
    rows = await stack.services.store.fetchall("SELECT state, attempts FROM link_deliveries")
    assert [(r["state"], r["attempts"]) for r in rows] == [("failed", 1)]
    await asyncio.sleep(0.5)  # the queued job, if any ran, must not have sent anything
    assert stack.senders.twilio.messages == []


async def test_a_retried_request_does_not_send_twice(stack: DemoStack) -> None:
    assert stack.senders is not None
    key = _key()
    params = {"amount": 4250, "description": "Order 7", "phone": "+447700900123"}
    first = await stack.action("payments.send_link", params, idempotency_key=key)
    await stack.services.store.execute("DELETE FROM idempotency")  # the stored answer gone: the row still guards
    second = await stack.action("payments.send_link", params, idempotency_key=key)
    assert first[0] == second[0] == 200
    assert len(stack.senders.twilio.messages) == 1


async def test_a_request_retried_seconds_later_gets_the_same_link(
    stack: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot retries after a timeout, a few seconds later, with the same idempotency key, and the gateway's
    stored answer is gone: the Checkout Session is asked for again with the same parameters, so Stripe answers
    with the same session instead of an idempotency error (the link's expiry used to be computed from the clock,
    and a retry in another second was refused: 422 ``provider_idempotency_error``)."""
    assert stack.senders is not None
    key = _key()
    params = {"amount": 4250, "description": "Order 7", "phone": "+447700900123"}
    first = await stack.action("payments.send_link", params, idempotency_key=key)
    await stack.services.store.execute("DELETE FROM idempotency")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 5)  # the retry, five seconds on
    second = await stack.action("payments.send_link", params, idempotency_key=key)
    assert first[0] == second[0] == 200, second
    assert len(stack.senders.twilio.messages) == 1


async def test_a_bad_phone_number_is_refused_before_anything_is_sent(stack: DemoStack) -> None:
    assert stack.senders is not None
    code, body = await send_link(stack, phone="12")
    assert code == 422, body
    assert stack.senders.twilio.messages == []


async def test_a_tenant_without_senders_is_never_offered_a_link(tmp_path: Path) -> None:
    async with DemoStack(tmp_path / "var", link_senders=False) as s:
        code, body = await s.action("capture.start", {"amount": 2500, "description": "Order 1042"},
                                    idempotency_key=_key())
        assert code == 200, body
        assert s.pcipal is not None
        await s.pcipal.simulate(body["result"]["pcipal_session_id"], "authentication_required")
        code, status = await s.action("capture.status", {"capture_id": body["result"]["capture_id"]})
        assert code == 200 and status["result"]["state"] == "failed"
        assert "confirm it online" in status["say"] and "link" not in status["say"]
        code, refused = await send_link(s, email="jane.doe@example.com")
        assert code == 422, refused
        assert "can't send payment links" in refused["error"]["say"]


async def test_make_run_sends_links_to_local_endpoints_named_in_sandbox_json(tmp_path: Path) -> None:
    """``voicepay serve --sandbox`` as a real process: the texts are read back from the Twilio emulator's API and
    the e-mails from var/mail/, both found through var/sandbox.json."""
    import os
    import signal
    import sys

    import aiohttp

    from tests.e2e.test_sandbox_mode import _free_port, _wait_for

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--sandbox", "--port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        state = await _wait_for(tmp_path / "var" / "sandbox.json", proc)
        auth = {"Authorization": f"Bearer {state['agent_key']}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            for dest in ({"phone": "07700 900123"}, {"email": "jane.doe@example.com"}):
                resp = await http.post(f"{state['base_url']}/v1/actions/payments.send_link",
                                       json={"amount": 1000, "description": "Order 9", **dest},
                                       headers={**auth, "Idempotency-Key": _key()})
                body = await resp.json()
                assert resp.status == 200 and body["result"]["delivery_state"] == "sent", body
            twilio_auth = aiohttp.encode_basic_auth(str(state["twilio_account_sid"]), str(state["twilio_auth_token"]))
            resp = await http.get(str(state["twilio_messages_url"]), headers={"Authorization": twilio_auth})
            texts = (await resp.json())["messages"]
        assert [m["to"] for m in texts] == ["+447700900123"] and "/_sandbox/checkout/" in texts[0]["body"]
        mails = sorted(Path(str(state["mail_dir"])).glob("*.eml"))
        assert len(mails) == 1 and b"To: jane.doe@example.com" in mails[0].read_bytes()
        assert int(state["smtp_port"]) > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
