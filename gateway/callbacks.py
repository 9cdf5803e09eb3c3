"""``POST /v1/callbacks/pcipal/{tenant}``: PCI Pal's capture result (DESIGN.md section 3.2).

raw body (size + time limits) -> verify (the tenant's hmac / bearer / IP allowlist) -> card-data gate ->
parse -> correlate (order reference = capture id, else PCI Pal session id) -> dedupe + persist + move to
``processing`` in one transaction -> confirm with Stripe (retrieve the PaymentIntent) -> final state ->
notify -> 2xx.

Answers are deliberately uniform: an unknown tenant, a tenant without PCI Pal and a bad signature all get the
same 401, so a prober cannot enumerate tenants. A body carrying a full card number or a CVV is refused with
422 before anything of it is stored, and the alert logged names the tenant and the field *names* only.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any, Final

from aiohttp import web

from adapters.pcipal.callbacks import (
    CallbackCardDataError,
    CallbackParseError,
    CallbackVerificationError,
    CallbackVerifier,
    FieldMapping,
    body_contains_card_data,
    parse_callback,
)
from gateway import captures, errors
from gateway.bodies import read_body
from gateway.logs import tenant_var
from gateway.middlewares import REQUEST_ID, json_ok
from gateway.services import Services
from gateway.settings import TenantSettings

log = logging.getLogger("voicepay.callbacks")

#: Real callbacks are a few hundred bytes of result fields; anything near this is not one.
MAX_CALLBACK_BYTES: Final = 16 * 1024


def _unauthorized() -> errors.GatewayError:
    return errors.Unauthorized("The callback could not be authenticated.")


def verifier_for(tenant: TenantSettings | None) -> CallbackVerifier | None:
    """The tenant's verifier, or None when the tenant has no PCI Pal callback authentication configured."""
    if tenant is None or tenant.pcipal is None:
        return None
    auth = tenant.pcipal.callback_auth
    try:
        return CallbackVerifier(
            hmac_secrets=[s.reveal() for s in auth.hmac_secrets],
            bearer_tokens=[auth.bearer_token.reveal()] if auth.bearer_token is not None else [],
            ip_allowlist=auth.ip_allowlist,
        )
    except ValueError:
        # No mode configured (or an empty secret): refusing everything is the only safe reading.
        return None


def field_mapping(tenant: TenantSettings) -> FieldMapping | None:
    """The tenant's callback field names (None: the parser's default aliases, both key casings)."""
    cfg = tenant.pcipal
    if cfg is None or (not cfg.callback_fields and cfg.callback_amount_unit == "auto"):
        return None
    names: dict[str, Any] = dict(cfg.callback_fields)  # keys validated against FieldMapping's in settings
    return FieldMapping(**names, amount_unit=cfg.callback_amount_unit)


def _card_data_refused(tenant_id: str, fields: tuple[str, ...] = ()) -> errors.GatewayError:
    # An alert for ops: the PCI Pal flow is misconfigured and is sending card data. Never the body.
    log.error(
        "ALERT: PCI Pal callback carried card data; refused and not stored",
        extra={"tenant": tenant_id, "alert": "pcipal_callback_card_data", "fields": ",".join(fields)},
    )
    return errors.CardDataNotAccepted("Callbacks must not carry card numbers or security codes.")


async def handle_pcipal_callback(request: web.Request, services: Services) -> web.Response:
    rid = request[REQUEST_ID]
    tenant_id = request.match_info["tenant"]
    tenant = services.settings.tenant(tenant_id)
    raw = await read_body(request, MAX_CALLBACK_BYTES)
    verifier = verifier_for(tenant)
    if verifier is None or tenant is None:
        # Do the same HMAC work against a throwaway secret, so neither the answer nor its timing tells a
        # prober which tenant ids exist (as the Stripe webhook route does).
        with contextlib.suppress(CallbackVerificationError):
            CallbackVerifier(hmac_secrets=[secrets.token_hex(16)]).verify(raw, request.headers, request.remote)
        services.metrics.webhook_verification_failures.labels("unknown").inc()
        raise _unauthorized()
    try:
        verifier.verify(raw, request.headers, request.remote)
    except CallbackVerificationError as exc:
        log.warning("PCI Pal callback refused", extra={"tenant": tenant_id, "reason": exc.reason})
        services.metrics.webhook_verification_failures.labels(tenant.id).inc()
        raise _unauthorized() from None
    tenant_var.set(tenant.id)

    content_type = request.headers.get("Content-Type", "")
    if body_contains_card_data(raw, content_type):
        raise _card_data_refused(tenant.id)
    try:
        result = parse_callback(raw, content_type, field_mapping(tenant))
    except CallbackCardDataError as exc:
        raise _card_data_refused(tenant.id, exc.fields) from None
    except CallbackParseError as exc:
        log.warning("PCI Pal callback not understood", extra={"tenant": tenant.id, "problem": str(exc)})
        raise errors.BadRequest("The callback could not be parsed.") from None

    store = services.store
    capture = await captures.find_for_callback(store, tenant.id, result)
    if capture is None:
        log.warning("PCI Pal callback for an unknown capture", extra={"tenant": tenant.id})
        raise errors.NotFound("No capture matches this callback.")

    # Persist before acknowledging, and dedupe in the same transaction: a repeat is acknowledged only.
    async with store.transaction() as tx:
        fresh = await captures.record_callback(tx, tenant.id, capture.id, result)
        if fresh:
            # Only brand and last4 of the card: the parser never yields more, the columns hold no more.
            moved = await captures.transition(
                tx, tenant.id, capture.id, "processing",
                callback_result=result.result,
                card_brand=result.card_brand,
                card_last4=result.card_last4,
                failure_code=result.decline_code if result.result != "success" else None,
            )
            if not moved and result.succeeded:
                await captures.fill_card(tx, tenant.id, capture.id, result.card_brand, result.card_last4)
    if not fresh:
        log.info("duplicate PCI Pal callback acknowledged", extra={"capture_id": capture.id})
        return json_ok({"ok": True, "duplicate": True}, rid)

    current = await captures.get(store, tenant.id, capture.id)
    assert current is not None
    settled = await captures.after_callback(services, tenant, current, result)
    log.info("PCI Pal callback processed",
             extra={"capture_id": capture.id, "result": result.result, "state": settled.state})
    return json_ok({"ok": True, "capture_id": capture.id, "state": settled.state}, rid)
