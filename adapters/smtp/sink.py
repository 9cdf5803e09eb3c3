"""An SMTP server on 127.0.0.1 that keeps every message it accepts, in memory and as ``.eml`` files.

Sandbox mode points the tenant's e-mail sender at it, so ``payments.send_link`` by email performs a real SMTP
conversation; the messages are then read from :attr:`SmtpSink.messages` or from the ``.eml`` files in
``maildir`` (``var/mail/`` under ``make run``). Like a real relay it refuses a message without a sender,
without recipients, or larger than ``max_bytes``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class SunkMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return str(part.get_content()) if part is not None else ""


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if not envelope.mail_from or not envelope.rcpt_tos:
            return "554 5.5.1 Error: no valid recipients"
        msg = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.sink.store(SunkMessage(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), msg), content)
        return "250 2.0.0 OK: queued"


class SmtpSink:
    def __init__(self, *, maildir: Path | None = None, max_bytes: int = 1024 * 1024) -> None:
        self.maildir = maildir
        self.max_bytes = max_bytes
        self.messages: list[SunkMessage] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.Server | None = None

    def store(self, message: SunkMessage, raw: bytes) -> None:
        self.messages.append(message)
        if self.maildir is not None:
            self.maildir.mkdir(parents=True, exist_ok=True)
            (self.maildir / f"{len(self.messages):05d}.eml").write_bytes(raw)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        handler = _Handler(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(handler, data_size_limit=self.max_bytes, hostname="voicepay-sandbox", timeout=30),
            host,
            port,
        )
        self.host, self.port = host, int(self._server.sockets[0].getsockname()[1])
        return self.host, self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
