"""Secure card capture through PCI Pal, and the pay-by-link fallback.

``capture.start`` -> the bot transfers the caller -> PCI Pal calls back (gateway/callbacks.py) -> the
gateway confirms with Stripe -> ``capture.status`` (or a notification) tells the bot. The bot never sees or
says a card number: results carry brand and last4 only. State machine and Stripe confirmation live in
:mod:`gateway.captures`.
"""

from __future__ import annotations

import logging
import re

from pydantic import Field, field_validator, model_validator

from adapters.outcomes import ProviderError
from gateway import captures, errors, speech
from gateway.actions._common import normalise_phone
from gateway.actions.base import Action, ActionContext, ActionOutput, Params, Result, register
from gateway.captures import Capture
from gateway.senders import Channel, deliver_link, mask_destination, offers_link, senders_for
from gateway.settings import TenantSettings

log = logging.getLogger("voicepay.capture")

SCOPE = frozenset({"capture:write"})
CALLBACK_PATH = "/v1/callbacks/pcipal/{tenant}"
#: Largest single phone payment accepted, in minor units: a bound on a typo ("twelve thousand" for "twelve").
MAX_AMOUNT = 1_000_000
_CAPTURE_ID = r"^cap_[0-9a-f]{24}$"
PREPARE_SAY = (
    "I'll transfer you to our secure payment line. Please key in your card number on your phone's keypad; "
    "I won't hear the digits."
)


def _not_configured() -> errors.GatewayError:
    return errors.Unprocessable(
        "Secure card capture is not configured for this tenant (tenants.pcipal, server.public_base_url).",
        say=speech.say("capture.unavailable"),
    )


def _callback_url(ctx: ActionContext) -> str:
    base = ctx.services.settings.server.public_base_url
    if not base:
        raise _not_configured()
    return base.rstrip("/") + CALLBACK_PATH.format(tenant=ctx.tenant.id)


def _currency(value: str | None, tenant: TenantSettings) -> str:
    return (value or tenant.currency).lower()


class CaptureView(Result):
    capture_id: str
    state: str
    amount: int
    currency: str
    card_brand: str | None = None
    card_last4: str | None = None
    failure_reason: str | None = None
    link_id: str | None = None


def _view(c: Capture) -> CaptureView:
    return CaptureView(
        capture_id=c.id,
        state=c.state,
        amount=c.amount,
        currency=c.currency,
        card_brand=c.card_brand,
        card_last4=c.card_last4,
        failure_reason=c.failure_reason,
        link_id=c.pcipal_link_id,
    )


async def _load(ctx: ActionContext, capture_id: str) -> Capture:
    found = await captures.get(ctx.services.store, ctx.tenant.id, capture_id)
    if found is None:
        raise errors.NotFound("No such capture.", say=speech.say("capture.not_found"))
    return found


# ------------------------------------------------------------------------------------------- capture.start


def initial_values(tenant: TenantSettings, capture: Capture, callback_url: str) -> dict[str, str]:
    """The InitialValues the tenant's PCI Pal flow reads, rendered from its template (settings).

    Only confirm_ours hands PCI Pal our intent: in the other modes the flow's own Stripe step creates its
    intent (adopt_theirs) or only tokenises (token), so a key holding just ``{payment_intent_id}`` is left out.
    """
    assert tenant.pcipal is not None
    hand_over_intent = captures.capture_mode(tenant) == "confirm_ours" and capture.payment_intent_id is not None
    fields = {
        "amount_minor": str(capture.amount),
        "amount_major": captures.major_units(capture.amount, capture.currency),
        "currency_upper": capture.currency.upper(),
        "currency_lower": capture.currency.lower(),
        "capture_id": capture.id,
        "callback_url": callback_url,
        "payment_intent_id": capture.payment_intent_id if hand_over_intent else "",
        "tenant_id": tenant.id,
    }
    values: dict[str, str] = {}
    for key, template in tenant.pcipal.initial_values.items():
        if template.strip() == "{payment_intent_id}" and not hand_over_intent:
            continue
        values[key] = template.format(**fields)
    return values


class Transfer(Result):
    """How to move the caller: dial ``target`` and link the call as ``carry`` says."""

    target: str
    target_type: str  # "ddi", "sip_uri" or "link_id"
    carry: str  # "none", "dtmf", "sip_header", "caller_pin"
    dtmf: str | None = None
    sip_headers: dict[str, str] | None = None
    pin: str | None = None


_DTMF = re.compile(r"^[0-9*#wW,]{1,64}$")


def render_transfer(tenant: TenantSettings, capture: Capture) -> tuple[Transfer, str]:
    """The transfer target and the sentence to say, from the tenant's transfer template."""
    assert tenant.pcipal is not None
    assert capture.pcipal_link_id is not None
    cfg = tenant.pcipal.transfer
    fields = {"link_id": capture.pcipal_link_id, "session_id": capture.pcipal_session_id or "",
              "capture_id": capture.id}
    target = cfg.target.format(**fields) if cfg.target else capture.pcipal_link_id
    target_type = "sip_uri" if target.lower().startswith(("sip:", "sips:")) else (
        "ddi" if cfg.target else "link_id")
    dtmf: str | None = None
    sip_headers: dict[str, str] | None = None
    pin: str | None = None
    pin_words = ""
    if cfg.carry == "dtmf":
        dtmf = cfg.dtmf.format(**fields)
        if not _DTMF.match(dtmf):
            raise errors.Unprocessable("The transfer template's DTMF digits are not dialable.",
                                       say=speech.say("capture.unavailable"))
    elif cfg.carry == "sip_header":
        sip_headers = {cfg.sip_header: cfg.sip_header_value.format(**fields)}
    elif cfg.carry == "caller_pin":
        pin = capture.pcipal_link_id
        pin_words = " ".join(pin)
    transfer = Transfer(target=target, target_type=target_type, carry=cfg.carry, dtmf=dtmf,
                        sip_headers=sip_headers, pin=pin)
    if cfg.say is not None:
        say = cfg.say.format(**fields, pin=pin_words)
    elif cfg.carry == "caller_pin":
        say = speech.say("capture.prepare_pin", pin=pin_words)
    else:
        say = speech.say("capture.prepare")
    return transfer, say


class StartParams(Params):
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="Amount in minor units (pence, cents).")
    currency: str | None = Field(
        None, pattern=r"^[A-Za-z]{3}$", description="ISO code; the tenant's default if omitted."
    )
    description: str = Field(min_length=1, max_length=200, description="What the payment is for.")
    customer_id: str | None = Field(
        None, pattern=r"^cus_[A-Za-z0-9]{1,64}$", description="Stripe customer id, if known."
    )


class StartResult(Result):
    capture_id: str
    state: str
    amount: int
    currency: str
    #: What to transfer the caller to (the tenant's transfer template; the bare LinkId if none is set).
    transfer_target: str
    link_id: str
    pcipal_session_id: str
    #: The whole transfer: target, its type, and how the call is linked to the session (DTMF digits after
    #: answer, SIP headers, a PIN the caller keys, or nothing).
    transfer: Transfer


@register
class CaptureStart(Action):
    name = "capture.start"
    description = (
        "Start a secure card payment: the caller keys the card on the phone keypad on PCI Pal's secure line, "
        "never aloud. Returns a capture_id and the transfer target. Never ask the caller to read card details."
    )
    scopes = SCOPE
    writes = True
    Params = StartParams
    Result = StartResult

    async def run(self, ctx: ActionContext, params: StartParams) -> ActionOutput:
        tenant = ctx.tenant
        client = ctx.services.providers.pcipal(tenant)
        if client is None or tenant.pcipal is None:
            raise _not_configured()
        callback_url = _callback_url(ctx)
        store = ctx.services.store
        pi_key = ctx.provider_key("pi")
        capture_id = captures.capture_id_for(pi_key)
        currency = _currency(params.currency, tenant)
        capture = await captures.create(
            store,
            capture_id=capture_id,
            tenant_id=tenant.id,
            amount=params.amount,
            currency=currency,
            description=params.description,
            customer_id=params.customer_id,
            ttl_seconds=tenant.pcipal.session_ttl_minutes * 60,
            call_id=ctx.call_id,
        )
        if capture.pcipal_session_id is None and capture.final:
            # A retry of a start whose capture was already canceled or expired: nothing to relaunch.
            raise errors.Conflict("This capture is already closed.", say=captures.say_for(capture))
        if capture.payment_intent_id is None:
            pi = await ctx.services.providers.stripe(tenant).create_payment_intent(
                amount=params.amount,
                currency=currency,
                customer=params.customer_id,
                # The capture id in the description too: Stripe's Dashboard and any intent PCI Pal's flow
                # creates from InitialValues carry it, so a webhook matches either way.
                description=f"{params.description} [{capture_id}]",
                metadata={"voicepay_capture_id": capture_id, "voicepay_tenant": tenant.id},
                idempotency_key=pi_key,
            )
            await captures.set_payment_intent(store, tenant.id, capture_id, pi.id)
            capture = await _load(ctx, capture_id)
        assert capture.payment_intent_id is not None
        if capture.pcipal_session_id is None:
            # PCI Pal launches are not idempotent: launch only while this capture has no session. A retry
            # after a stored launch reuses it; a retry after an UNKNOWN launch may leave an orphan session at
            # PCI Pal, which costs nothing (the caller is transferred to this one only).
            launched = await client.launch(initial_values=initial_values(tenant, capture, callback_url))
            await captures.transition(
                store, tenant.id, capture.id, "awaiting_caller",
                pcipal_session_id=launched.session_id, pcipal_link_id=launched.link_id,
            )
            capture = await _load(ctx, capture_id)
        assert capture.pcipal_session_id is not None
        assert capture.pcipal_link_id is not None
        transfer, say = render_transfer(tenant, capture)
        return ActionOutput(
            result=StartResult(
                capture_id=capture.id,
                state=capture.state,
                amount=capture.amount,
                currency=capture.currency,
                transfer_target=transfer.target,
                link_id=capture.pcipal_link_id,
                pcipal_session_id=capture.pcipal_session_id,
                transfer=transfer,
            ),
            say=say,
            provider_ids={
                "capture_id": capture.id,
                "payment_intent": capture.payment_intent_id,
                "pcipal_session": capture.pcipal_session_id,
            },
            outcome="PENDING",
        )


# ------------------------------------------------------------------------------------------ capture.status


class CaptureRef(Params):
    capture_id: str = Field(pattern=_CAPTURE_ID, description="The capture_id that capture_start returned.")


@register
class CaptureStatus(Action):
    name = "capture.status"
    description = (
        "Where a secure card payment stands: awaiting_caller, processing, succeeded, failed, canceled, "
        "expired or late_succeeded (it ended unpaid but Stripe then took the payment: say so, never ask "
        "again), with the amount, card brand and last 4 digits and a sentence to say."
    )
    scopes = SCOPE
    Params = CaptureRef
    Result = CaptureView

    async def run(self, ctx: ActionContext, params: CaptureRef) -> ActionOutput:
        capture = await _load(ctx, params.capture_id)
        if not capture.final:
            capture = await captures.expire_if_due(ctx.services, ctx.tenant, capture)
        if not capture.final:
            # A callback can be lost (PCI Pal falls back to e-mail) and a webhook delayed: Stripe is the truth.
            capture = await captures.settle(ctx.services, ctx.tenant, capture)
        if capture.state in captures.NOT_CHARGED_STATES:
            # Before saying "not charged" again, ask Stripe: an intent may have succeeded after the capture ended.
            capture = await captures.reconcile_ended(ctx.services, ctx.tenant, capture)
        if capture.state in ("succeeded", "late_succeeded") and capture.card_last4 is None:
            # Settled by the webhook alone (the callback was lost): Stripe's charge knows brand and last4.
            pi = await captures.fetch_pi(ctx.services, ctx.tenant, capture.payment_intent_id)
            if pi is not None:
                await captures.fill_card(ctx.services.store, ctx.tenant.id, capture.id, pi.card_brand, pi.card_last4)
                capture = await _load(ctx, capture.id)
        return ActionOutput(
            result=_view(capture),
            say=captures.say_for(capture, link_offer=offers_link(ctx.services, ctx.tenant)),
            provider_ids={"capture_id": capture.id, "payment_intent": capture.payment_intent_id},
            outcome="SUCCEEDED" if capture.final else "PENDING",
        )


# ------------------------------------------------------------------------------------------ capture.cancel


@register
class CaptureCancel(Action):
    name = "capture.cancel"
    description = "Cancel a secure card payment that has not completed (the caller changed their mind)."
    scopes = SCOPE
    writes = True
    Params = CaptureRef
    Result = CaptureView

    async def run(self, ctx: ActionContext, params: CaptureRef) -> ActionOutput:
        capture = await _load(ctx, params.capture_id)
        if not capture.final:
            # Every intent of the capture (PCI Pal's too, in adopt_theirs) is cancelled before "cancelled" is
            # said; Stripe refusing because one already succeeded means the caller has paid.
            stopped, charged = await captures.ensure_not_chargeable(
                ctx.services, ctx.tenant, capture, reason="requested_by_customer")
            if charged is not None:
                capture = await captures.settle(ctx.services, ctx.tenant, capture, pi=charged, fetch=False)
            elif not stopped:
                raise errors.ProviderUnavailable(
                    "Stripe could not confirm the payment was stopped.",
                    say=speech.say("capture.cancel_failed"),
                )
        if not capture.final:
            # Canceling the PaymentIntent is what stops the money: PCI Pal has no public session-cancel call,
            # and any late confirmation of a canceled intent fails at Stripe.
            await captures.move(
                ctx.services.store, ctx.tenant.id, capture.id, "canceled", failure_code="canceled_by_agent"
            )
            capture = await _load(ctx, capture.id)
        if capture.state in ("succeeded", "late_succeeded"):
            say: str = speech.say("capture.already_paid_cancel")
        else:
            say = captures.say_for(capture)
        return ActionOutput(
            result=_view(capture),
            say=say,
            provider_ids={"capture_id": capture.id, "payment_intent": capture.payment_intent_id},
        )


# --------------------------------------------------------------------------------------- payments.send_link

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_PHONE = re.compile(r"^\+?[0-9][0-9\s().-]{5,30}$")


class SendLinkParams(Params):
    exactly_one_of = ("email", "phone")

    capture_id: str | None = Field(None, pattern=_CAPTURE_ID, description="Pay the amount of this capture.")
    amount: int | None = Field(None, gt=0, le=MAX_AMOUNT, description="Minor units, if no capture_id.")
    currency: str | None = Field(
        None,
        pattern=r"^[A-Za-z]{3}$",
        description="ISO currency code, if no capture_id; the merchant's default if omitted.",
    )
    description: str | None = Field(
        None, min_length=1, max_length=200, description="What the payment is for, if no capture_id."
    )
    email: str | None = Field(None, max_length=254, description="The caller's email address to send the link to.")
    phone: str | None = Field(
        None,
        max_length=32,
        description="The caller's mobile number, with or without country code (the tenant's default region "
        "applies), e.g. +447700900123 or 07700 900123.",
    )

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError("is not an email address")
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        # The tenant's region is applied (and the number checked) in run(), as in every other action.
        if v is not None and not _PHONE.match(v.strip()):
            raise ValueError("is not a phone number")
        return v

    @model_validator(mode="after")
    def _one_destination(self) -> SendLinkParams:
        if (self.email is None) == (self.phone is None):
            raise ValueError("give exactly one of email or phone")
        if self.capture_id is None and (self.amount is None or self.description is None):
            raise ValueError("give capture_id, or amount and description")
        return self


class SendLinkResult(Result):
    checkout_session_id: str
    channel: str
    sent_to: str
    amount: int
    currency: str
    expires_at: int | None = None
    delivery_state: str = Field("sent", description="'sent', or 'pending' while the provider is retried.")


@register
class SendLink(Action):
    name = "payments.send_link"
    description = (
        "Send the caller a secure payment link by email or text, for when phone payment isn't possible "
        "(for example the bank asked for online verification). Pays the amount of a capture or a given amount."
    )
    scopes = SCOPE
    writes = True
    Params = SendLinkParams
    Result = SendLinkResult

    async def run(self, ctx: ActionContext, params: SendLinkParams) -> ActionOutput:
        channel: Channel = "email" if params.email is not None else "sms"
        available = senders_for(ctx.services, ctx.tenant)
        if channel not in available:
            other = "link.by_email" if "email" in available else "link.by_text" if "sms" in available else None
            raise errors.Unprocessable(
                "No payment-link sender is configured for this channel.",
                say=speech.say("link.unavailable_channel", other=speech.say(other))
                if other else speech.say("link.unavailable"),
            )
        destination = (
            params.email if params.email is not None
            else normalise_phone(params.phone or "", ctx.tenant.phone_default_region)
        )
        customer: str | None = None
        metadata = {"voicepay_tenant": ctx.tenant.id}
        if params.capture_id is not None:
            capture = await _load(ctx, params.capture_id)
            if capture.state in ("succeeded", "late_succeeded"):
                raise errors.Conflict("This capture is already paid.", say=speech.say("capture.already_paid"))
            if capture.state == "processing" and capture.callback_result == "success":
                # PCI Pal says paid and Stripe has not settled it: a second offer could charge twice.
                raise errors.Conflict(
                    "This capture is being confirmed.",
                    say=speech.say("capture.confirming"),
                )
            amount, currency, description = capture.amount, capture.currency, capture.description
            customer = capture.customer_id
            metadata["voicepay_capture_id"] = capture.id
        else:
            assert params.amount is not None
            assert params.description is not None
            amount, currency = params.amount, _currency(params.currency, ctx.tenant)
            description = params.description
        session = await ctx.services.providers.stripe(ctx.tenant).create_checkout_session(
            amount=amount,
            currency=currency,
            description=description,
            customer=customer,
            # Stripe takes a customer or a prefilled e-mail, not both.
            customer_email=params.email if customer is None else None,
            metadata=metadata,
            # (no expires_at: the link lives 24 hours, Stripe's default and longest, which lets the caller pay after
            # hanging up without leaving a link usable for ever; a time computed here would differ on a retry a
            # second later, and Stripe refuses an idempotency key reused with other parameters)
            idempotency_key=ctx.provider_key("link"),
        )
        if not session.url:
            raise errors.ProviderUnavailable("Stripe returned a checkout session without a URL.")
        masked = mask_destination(channel, destination)
        try:
            delivery = await deliver_link(
                ctx.services, ctx.tenant, source_key=ctx.provider_key("link-send"), call_id=ctx.call_id,
                checkout_session_id=session.id, channel=channel, destination=destination, url=session.url,
                amount=amount, currency=currency,
            )
        except ProviderError:
            log.warning("payment link could not be sent", extra={"channel": channel, "sent_to": masked})
            raise errors.ProviderUnavailable(
                "The payment link could not be delivered.",
                say=speech.say("link.failed"),
            ) from None
        # Said in words, never the masked form: "a***@example.com" would be read with its asterisks.
        dest = (speech.email_words(masked) if channel == "email"
                else speech.say("phone.ending", digits=speech.digits(masked[-3:])))
        if delivery.state == "failed":
            # Refused for good (an unreachable number, a rejected address): retrying the same cannot help.
            raise errors.Unprocessable(
                "The payment link could not be delivered to that destination.",
                say=speech.say("link.undeliverable_email" if channel == "email" else "link.undeliverable_phone",
                               dest=dest),
            )
        where = speech.say("link.by_email" if channel == "email" else "link.by_text")
        return ActionOutput(
            result=SendLinkResult(
                checkout_session_id=session.id,
                channel=channel,
                sent_to=masked,
                amount=amount,
                currency=currency,
                expires_at=session.expires_at,
                delivery_state=delivery.state,
            ),
            say=speech.say("link.sent" if delivery.state == "sent" else "link.sending",
                           amount=speech.money(amount, currency), where=where, dest=dest),
            provider_ids={"checkout_session": session.id},
        )
