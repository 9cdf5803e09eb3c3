"""Pluggable delivery of pay-by-link URLs to a caller (``payments.send_link``).

A sender gets the channel (``email`` or ``sms``), the full destination and the URL. Only the sender sees the
full address or number: everything the gateway logs, stores or answers uses :func:`mask_destination`
(``j***@example.com``, ``+44*******123``). In sandbox mode :class:`LogLinkSender` stands in for an email/SMS
provider and logs only the masked destination, never the address or the link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal, Protocol

log = logging.getLogger("voicepay.senders")

Channel = Literal["email", "sms"]


class LinkSendError(Exception):
    """The sender could not deliver the link. The message never contains the destination."""


class LinkSender(Protocol):
    async def send(self, *, tenant_id: str, channel: Channel, destination: str, url: str) -> None: ...


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(number: str) -> str:
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= 3:
        return "***"
    prefix = "+" if number.startswith("+") else ""
    # Keep the country code's first digits and the last three: enough for the caller to recognise it.
    head = digits[:2] if prefix else []
    return prefix + "".join(head) + "*" * (len(digits) - len(head) - 3) + "".join(digits[-3:])


def mask_destination(channel: Channel, destination: str) -> str:
    return mask_email(destination) if channel == "email" else mask_phone(destination)


class LogLinkSender:
    """Sandbox sender: logs that a link was sent, to a masked destination. Sends nothing."""

    async def send(self, *, tenant_id: str, channel: Channel, destination: str, url: str) -> None:
        masked = mask_destination(channel, destination)
        log.info("payment link sent to %s", masked, extra={"channel": channel, "tenant": tenant_id})


@dataclass
class RecordingLinkSender:
    """Keeps what it was asked to send in memory (tests and ``voicepay demo``)."""

    sent: list[tuple[str, Channel, str, str]] = field(default_factory=list)

    async def send(self, *, tenant_id: str, channel: Channel, destination: str, url: str) -> None:
        self.sent.append((tenant_id, channel, destination, url))
        log.info("payment link sent to %s", mask_destination(channel, destination), extra={"channel": channel})
