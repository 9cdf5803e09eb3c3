"""Pluggable delivery of pay-by-link URLs to a caller (``payments.send_link``).

A sender gets the channel (``email`` or ``sms``), the full destination and the URL. Only the sender sees the
full address or number: everything the gateway logs or answers uses :func:`mask_destination`
(``j***@example.com``, ``+44*******123``) and, for the link, :func:`link_host` (the host only).

Senders are configured per tenant (``[tenants.senders]``): SMS through Twilio's Messaging API
(:class:`TwilioLinkSender`) and e-mail through SMTP (:class:`SmtpLinkSender`). ``Services.link_sender``, when
set, overrides them for every tenant (tests, ``voicepay demo``). A tenant with neither is never offered a link
(:func:`offers_link`).

Delivery (:func:`deliver_link`) is recorded in ``link_deliveries``: the first attempt runs inline; a failure
that a retry can help (Twilio 5xx/429, timeouts, SMTP 4xx) leaves it ``pending`` and the durable job queue
re-sends it on the notification retry schedule (``link_delivery`` jobs), then ``failed`` after the last try.
The full destination and URL are stored only while a retry may need them.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib

from adapters.twilio.client import TwilioClient, TwilioError
from gateway import jobs
from gateway.store import StoreConflict

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.settings import SmtpSenderSettings, TenantSettings, TwilioSenderSettings

log = logging.getLogger("voicepay.senders")

Channel = Literal["email", "sms"]

#: The job kind that re-sends a link the provider did not take.
LINK_JOB = "link_delivery"


class LinkSendError(Exception):
    """The sender could not deliver the link. The message never contains the destination or the link.

    ``retryable``: a later attempt may succeed (provider outage, timeout), so the job queue tries again.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class LinkSender(Protocol):
    """Sends one link; returns the provider's message id when there is one."""

    async def send(self, *, tenant_id: str, channel: Channel, destination: str, url: str) -> str | None: ...


def link_host(url: str) -> str:
    """What of a payment link may be logged: its host (the path is the bearer part)."""
    return urlsplit(url).hostname or "?"


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


# ------------------------------------------------------------------------------------------- providers


def link_text(tenant_name: str, url: str) -> str:
    return f"{tenant_name}: pay securely with this link (valid for 24 hours): {url}"


class TwilioLinkSender:
    """Text messages through Twilio's Messaging API."""

    def __init__(self, http: aiohttp.ClientSession, cfg: TwilioSenderSettings, tenant_name: str) -> None:
        self.cfg = cfg
        self.tenant_name = tenant_name
        self.client = TwilioClient(
            http,
            account_sid=cfg.account_sid,
            auth_token=cfg.auth_token.reveal(),
            api_base=cfg.api_base,
            timeout_seconds=cfg.timeout_seconds,
        )

    async def send(self, *, tenant_id: str, channel: Channel, destination: str, url: str) -> str | None:
        if channel != "sms":
            raise LinkSendError("the Twilio sender sends text messages only", retryable=False)
        try:
            message = await self.client.send_sms(
                to=destination,
                body=link_text(self.tenant_name, url),
                from_number=self.cfg.from_number,
                messaging_service_sid=self.cfg.messaging_service_sid,
            )
        except TwilioError as exc:
            raise LinkSendError(str(exc), retryable=exc.retryable) from None
        return message.sid


class SmtpLinkSender:
    """E-mail through an SMTP relay."""

    def __init__(self, cfg: SmtpSenderSettings, tenant_name: str) -> None:
        self.cfg = cfg
        self.tenant_name = tenant_name

    async def send(self, *, tenant_id: str, channel: Channel, destination: str, url: str) -> str | None:
        if channel != "email":
            raise LinkSendError("the SMTP sender sends e-mail only", retryable=False)
        cfg = self.cfg
        msg = EmailMessage()
        msg["From"] = cfg.from_address
        msg["To"] = destination
        msg["Subject"] = f"Your secure payment link from {self.tenant_name}"
        # Our own id, random hex: ``email.utils.make_msgid`` puts a time stamp and a 19-digit random number in
        # it, which can pass Luhn with an issuer prefix and be redacted as a card where the id is stored.
        message_id = f"<{uuid.uuid4().hex}@{cfg.from_address.rpartition('@')[2]}>"
        msg["Message-ID"] = message_id
        msg.set_content(link_text(self.tenant_name, url) + "\n")
        try:
            await aiosmtplib.send(
                msg,
                hostname=cfg.host,
                port=cfg.port,
                username=cfg.username,
                password=cfg.password.reveal() if cfg.password is not None else None,
                use_tls=cfg.security == "tls",
                start_tls=cfg.security == "starttls",
                timeout=cfg.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise LinkSendError(f"SMTP refused the recipient ({codes})",
                                retryable=all(400 <= c < 500 for c in codes)) from None
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx is "try again later" in SMTP; 5xx is final (bad address, authentication refused).
            raise LinkSendError(f"SMTP error {exc.code}", retryable=400 <= exc.code < 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise LinkSendError(f"SMTP unreachable ({type(exc).__name__})", retryable=True) from None
        return message_id


def senders_for(services: Services, tenant: TenantSettings) -> dict[Channel, LinkSender]:
    """The channels this tenant can send links on, each with its sender."""
    if services.link_sender is not None:
        return {"email": services.link_sender, "sms": services.link_sender}
    out: dict[Channel, LinkSender] = {}
    cfg = tenant.senders
    if cfg is not None:
        if cfg.sms is not None:
            out["sms"] = TwilioLinkSender(services.http, cfg.sms, tenant.name)
        if cfg.email is not None:
            out["email"] = SmtpLinkSender(cfg.email, tenant.name)
    return out


def offers_link(services: Services, tenant: TenantSettings) -> bool:
    """Whether a reply may offer the caller a payment link: only if something can send one."""
    return bool(senders_for(services, tenant))


# ------------------------------------------------------------------------------------------- delivery


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    state: str  # pending, sent, failed
    destination_masked: str
    attempts: int


async def _attempt(services: Services, tenant: TenantSettings, row: Mapping[str, Any]) -> str:
    """One send of a stored delivery; records the outcome. Returns the new state."""
    channel: Channel = "email" if row["channel"] == "email" else "sms"
    sender = senders_for(services, tenant).get(channel)
    now = time.time()
    if sender is None:
        state, error, provider_id = "failed", "no sender configured for this channel", None
    else:
        try:
            provider_id = await sender.send(
                tenant_id=tenant.id, channel=channel, destination=row["destination"], url=row["url"]
            )
            state, error = "sent", None
        except LinkSendError as exc:
            state, error, provider_id = ("pending" if exc.retryable else "failed"), str(exc)[:300], None
    if state == "sent":
        log.info("payment link sent", extra={"channel": channel, "sent_to": row["destination_masked"],
                                             "link_host": link_host(row["url"]), "delivery_id": row["id"]})
    else:
        log.warning("payment link not delivered (%s); %s", error,
                    "will retry" if state == "pending" else "giving up",
                    extra={"channel": channel, "sent_to": row["destination_masked"], "delivery_id": row["id"]})
    final = state != "pending"
    await services.store.execute(
        # Once nothing will be re-sent, the address and the link are no longer needed.
        "UPDATE link_deliveries SET state = ?, attempts = attempts + 1, provider_message_id = ?, last_error = ?, "
        "updated_at = ?, sent_at = ?, destination = CASE WHEN ? = 1 THEN NULL ELSE destination END, "
        "url = CASE WHEN ? = 1 THEN NULL ELSE url END WHERE id = ? AND state = 'pending'",
        state,
        provider_id,
        error,
        now,
        now if state == "sent" else None,
        int(final),
        int(final),
        row["id"],
    )
    return state


async def deliver_link(
    services: Services,
    tenant: TenantSettings,
    *,
    source_key: str,
    call_id: str | None,
    checkout_session_id: str,
    channel: Channel,
    destination: str,
    url: str,
    amount: int,
    currency: str,
) -> Delivery:
    """Record and send a link once per ``source_key`` (a retried request finds its first delivery)."""
    store = services.store
    select = "SELECT * FROM link_deliveries WHERE tenant_id = ? AND source_key = ?"
    row = await store.fetchone(select, tenant.id, source_key)
    if row is None:
        now = time.time()
        inserted = True
        try:
            # The retry job is written with the row: a crash right after this still re-sends the link (the job
            # finds the row ``sent`` and does nothing when the inline attempt below succeeds).
            async with store.transaction() as tx:
                got = await tx.fetchone(
                    "INSERT INTO link_deliveries (tenant_id, source_key, call_id, checkout_session_id, channel, "
                    "destination_masked, destination, url, amount, currency, state, attempts, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) RETURNING id",
                    tenant.id, source_key, call_id, checkout_session_id, channel,
                    mask_destination(channel, destination), destination, url, amount, currency, now, now,
                )
                assert got is not None
                run_at = now + max(_first_retry(services), _inline_budget(tenant, channel) + 1.0)
                await jobs.enqueue(tx, LINK_JOB, tenant.id, str(got["id"]), run_at=run_at)
        except StoreConflict:
            inserted = False  # the same request racing itself: the other attempt sends
        row = await store.fetchone(select, tenant.id, source_key)
        assert row is not None
        if inserted:
            try:
                # Never run into the job's first retry: past the budget the job queue takes over.
                async with asyncio.timeout(_inline_budget(tenant, channel)):
                    await _attempt(services, tenant, row)
            except TimeoutError:
                log.warning("payment link send timed out; the job queue will retry", extra={"channel": channel})
            row = await store.fetchone(select, tenant.id, source_key)
            assert row is not None
    return Delivery(int(row["id"]), str(row["state"]), str(row["destination_masked"]), int(row["attempts"]))


def _inline_budget(tenant: TenantSettings, channel: Channel) -> float:
    cfg = tenant.senders
    if cfg is not None and channel == "sms" and cfg.sms is not None:
        return cfg.sms.timeout_seconds
    if cfg is not None and channel == "email" and cfg.email is not None:
        return cfg.email.timeout_seconds
    return 10.0


def _first_retry(services: Services) -> float:
    schedule = services.settings.notifications.retry_schedule_seconds
    return schedule[0] if schedule else 5.0


class LinkNotDelivered(Exception):
    """The provider did not take the link this time: the job queue retries it."""


def make_link_delivery_job(services: Services) -> jobs.JobHandler:
    async def deliver(job: jobs.Job) -> None:
        row = await services.store.fetchone(
            "SELECT * FROM link_deliveries WHERE tenant_id = ? AND id = ?", job.tenant_id, int(job.ref)
        )
        tenant = services.settings.tenant(job.tenant_id)
        if row is None or row["state"] != "pending" or row["url"] is None:
            return
        if tenant is None:
            raise jobs.PermanentJobError("tenant no longer configured")
        state = await _attempt(services, tenant, row)
        if state == "pending":
            raise LinkNotDelivered("provider did not accept the link")

    return deliver


def make_link_failure_hook(services: Services) -> jobs.FailureHook:
    async def hook(job: jobs.Job, error: str, dead: bool) -> None:
        if dead:
            await services.store.execute(
                "UPDATE link_deliveries SET state = 'failed', destination = NULL, url = NULL, updated_at = ? "
                "WHERE tenant_id = ? AND id = ? AND state = 'pending'",
                time.time(),
                job.tenant_id,
                int(job.ref),
            )
            log.error("payment link delivery %s failed after every retry", job.ref)

    return hook
