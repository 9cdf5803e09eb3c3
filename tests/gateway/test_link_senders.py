"""The SMTP link sender against local SMTP servers (the sandbox sink, and ones that refuse), and the per-tenant
sender settings."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from adapters.smtp.sink import SmtpSink
from gateway.senders import LinkSendError, SmtpLinkSender, link_host
from gateway.settings import SettingsError, build_settings

URL = "https://checkout.stripe.com/c/pay/cs_test_secretpart"


def smtp_settings(port: int, **kw: Any) -> Any:
    tenant = {"id": "acme", "name": "Acme", "stripe_secret_key": "sk_test_x",
              "senders": {"email": {"host": "127.0.0.1", "port": port, "security": "none",
                                    "from_address": "pay@acme.example", "timeout_seconds": 5.0, **kw}}}
    settings = build_settings({"tenants": [tenant]}, environ={}, sandbox=True)
    cfg = settings.tenants[0].senders
    assert cfg is not None and cfg.email is not None
    return cfg.email


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = SmtpSink()
    await s.start()
    yield s
    await s.stop()


async def test_smtp_sender_delivers_to_the_sink(sink: SmtpSink) -> None:
    message_id = await SmtpLinkSender(smtp_settings(sink.port), "Acme").send(
        tenant_id="acme", channel="email", destination="jane@example.com", url=URL)
    [mail] = sink.messages
    assert mail.rcpt_tos == ("jane@example.com",) and mail.message["Message-ID"] == message_id
    assert URL in mail.text and "Acme" in mail.message["Subject"]


class _Refuse:
    def __init__(self, code: str) -> None:
        self.code = code

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        return self.code


async def _refusing_server(code: str) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(_Refuse(code)), "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


@pytest.mark.parametrize(("reply", "retryable"), [("550 5.1.1 no such user", False), ("451 4.3.0 try later", True)])
async def test_a_refused_recipient_is_final_on_5xx_and_retried_on_4xx(reply: str, retryable: bool) -> None:
    server, port = await _refusing_server(reply)
    try:
        with pytest.raises(LinkSendError) as exc:
            await SmtpLinkSender(smtp_settings(port), "Acme").send(
                tenant_id="acme", channel="email", destination="jane@example.com", url=URL)
        assert exc.value.retryable is retryable
        assert "jane" not in str(exc.value) and "cs_test" not in str(exc.value)
    finally:
        server.close()
        await server.wait_closed()


async def test_an_unreachable_relay_is_retried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(LinkSendError) as exc:
        await SmtpLinkSender(smtp_settings(port), "Acme").send(
            tenant_id="acme", channel="email", destination="jane@example.com", url=URL)
    assert exc.value.retryable


def test_twilio_settings_need_exactly_one_sender() -> None:
    base = {"account_sid": "AC" + "1" * 32, "auth_token": "t"}
    for sms in (base, {**base, "from_number": "+15005550006", "messaging_service_sid": "MG" + "2" * 32}):
        tenant = {"id": "acme", "name": "Acme", "stripe_secret_key": "sk_test_x", "senders": {"sms": sms}}
        with pytest.raises(SettingsError):
            build_settings({"tenants": [tenant]}, environ={}, sandbox=True)


def test_only_the_host_of_a_link_is_loggable() -> None:
    assert link_host(URL) == "checkout.stripe.com"
