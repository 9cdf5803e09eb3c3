"""``POST /v1/callbacks/pcipal/{tenant}``: PCI Pal's capture result (DESIGN.md section 3.2).

raw body (size + time limits) -> verify (the tenant's checks: IP allowlist, mTLS fingerprint from a trusted
proxy, header key, static bearer, a bearer from our token endpoint, HMAC) -> card-data gate -> parse ->
correlate (order reference = capture id, else PCI Pal session id) -> dedupe + persist + move to ``processing``
in one transaction -> act per capture mode and settle with Stripe (:func:`gateway.captures.after_callback`) ->
final state -> notify -> 2xx. A result word the flow's vocabulary lacks is recorded, acknowledged and sent to a
case, never guessed at.

``POST /v1/callbacks/pcipal/{tenant}/token`` is the token endpoint PCI Pal may be set up to call first.

Answers are deliberately uniform: an unknown tenant, a tenant without PCI Pal and a bad signature all get the
same 401, so a prober cannot enumerate tenants. A body carrying a full card number or a CVV is refused with
422 before anything of it is stored, and the alert logged names the tenant and the field *names* only.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import ipaddress
import logging
import secrets
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adapters.pcipal.callbacks import (
    CallbackCardDataError,
    CallbackParseError,
    CallbackVerificationError,
    CallbackVerifier,
    FieldMapping,
    body_contains_card_data,
    parse_callback,
)
from gateway import captures, errors, speech
from gateway.bodies import check_json_depth, read_body
from gateway.logs import tenant_var
from gateway.middlewares import REQUEST_ID, json_ok
from gateway.services import Services
from gateway.settings import Settings, SettingsError, TenantSettings

log = logging.getLogger("voicepay.callbacks")

#: Real callbacks are a few hundred bytes of result fields; anything near this is not one.
MAX_CALLBACK_BYTES: Final = 16 * 1024
#: A client-credentials form is a few short fields.
MAX_TOKEN_REQUEST_BYTES: Final = 4 * 1024


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
            signature_header=auth.signature_header,
            bearer_tokens=[auth.bearer_token.reveal()] if auth.bearer_token is not None else [],
            ip_allowlist=auth.ip_allowlist,
            header_name=auth.header_name,
            header_keys=[k.reveal() for k in auth.header_keys],
            mtls_fingerprints=auth.mtls_fingerprints,
            token_validator=(lambda token: token_valid(tenant, token)) if auth.token_client_id else None,
        )
    except ValueError:
        # No mode configured (sandbox only) or an empty secret: refusing everything is the only safe reading.
        return None


# ------------------------------------------------------------------------------- callback token endpoint
#
# PCI Pal obtains a short-lived bearer first (client-credentials style), as some public integrations do with
# the merchant's own token endpoint. The token is a Fernet token (authenticated encryption with its issue
# time) under a key derived from the tenant's client secret: any gateway instance can check it without shared
# state, it expires after token_ttl_seconds, and rotating the secret revokes every token issued under it.

_TOKEN_PURPOSE: Final = b"voicepay pcipal callback token v1"


def _token_key(tenant: TenantSettings) -> Fernet | None:
    cfg = tenant.pcipal
    if cfg is None or cfg.callback_auth.token_client_secret is None:
        return None
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=_TOKEN_PURPOSE + b"\x1f" + tenant.id.encode()).derive(
        cfg.callback_auth.token_client_secret.reveal().encode())
    return Fernet(base64.urlsafe_b64encode(material))


def issue_token(tenant: TenantSettings) -> tuple[str, int]:
    key = _token_key(tenant)
    assert key is not None
    assert tenant.pcipal is not None
    token = key.encrypt(b"pcipal-callback\x1f" + tenant.id.encode()).decode()
    return token, tenant.pcipal.callback_auth.token_ttl_seconds


def token_valid(tenant: TenantSettings, token: str) -> bool:
    key = _token_key(tenant)
    if key is None or tenant.pcipal is None or len(token) > 512:
        return False
    try:
        payload = key.decrypt(token.encode(), ttl=tenant.pcipal.callback_auth.token_ttl_seconds)
    except (InvalidToken, ValueError):
        return False
    return hmac.compare_digest(payload, b"pcipal-callback\x1f" + tenant.id.encode())


def _credentials(raw: bytes, authorization: str) -> tuple[str, str, str]:
    form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "basic" and value:
        # RFC 6749 2.3.1: client credentials may come as HTTP Basic instead of form fields.
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            client_id, client_secret = unquote(user), unquote(password)
    return form.get("grant_type", ""), client_id, client_secret


async def handle_pcipal_token(request: web.Request, services: Services) -> web.Response:
    """``POST /v1/callbacks/pcipal/{tenant}/token``: client credentials -> a short-lived callback bearer."""
    rid = request[REQUEST_ID]
    tenant = services.settings.tenant(request.match_info["tenant"])
    raw = await read_body(request, MAX_TOKEN_REQUEST_BYTES)
    grant, client_id, client_secret = _credentials(raw, request.headers.get("Authorization", ""))
    auth = tenant.pcipal.callback_auth if tenant is not None and tenant.pcipal is not None else None
    expected_id = (auth.token_client_id or "") if auth is not None else ""
    expected_secret = auth.token_client_secret.reveal() if auth is not None and auth.token_client_secret else ""
    # Both compared whatever the first says, against a throwaway when unconfigured: no tenant probing by timing.
    ok = hmac.compare_digest(client_id.encode(), (expected_id or secrets.token_hex(16)).encode())
    ok &= hmac.compare_digest(client_secret.encode(), (expected_secret or secrets.token_hex(16)).encode())
    if tenant is not None and auth is not None and auth.ip_allowlist:
        try:
            CallbackVerifier(ip_allowlist=auth.ip_allowlist).verify(raw, request.headers, request.remote)
        except CallbackVerificationError:
            ok = False
    if not ok or grant != "client_credentials" or tenant is None or not expected_id:
        log.warning("PCI Pal callback token refused", extra={"tenant": request.match_info["tenant"]})
        raise _unauthorized()
    token, ttl = issue_token(tenant)
    return json_ok({"access_token": token, "token_type": "bearer", "expires_in": ttl}, rid)


# --------------------------------------------------------------------------------------------- startup


def callback_auth_summary(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Which callback checks are on, per tenant with PCI Pal."""
    return {t.id: t.pcipal.callback_auth.checks for t in settings.tenants if t.pcipal is not None}


def check_callback_auth(settings: Settings) -> None:
    """Log each tenant's callback checks; refuse what cannot work. Raises :class:`SettingsError` (one line).

    The settings already refuse a tenant with no checks outside sandbox mode; mTLS additionally needs a
    trusted proxy, because only a proxy that terminated TLS can vouch for a client certificate."""
    for tenant_id, checks in callback_auth_summary(settings).items():
        if "mtls" in checks and not settings.server.trusted_proxies:
            raise SettingsError(
                f"tenants.{tenant_id}.pcipal.callback_auth.mtls_fingerprints needs server.trusted_proxies (the "
                "TLS-terminating proxy that passes the client certificate fingerprint)"
            )
        if checks:
            log.info("PCI Pal callback authentication for tenant %s: %s", tenant_id, ", ".join(checks))
        else:
            log.warning("PCI Pal callbacks for tenant %s are NOT authenticated (sandbox mode only)", tenant_id)


def client_cert_fingerprint(request: web.Request, tenant: TenantSettings, settings: Settings) -> str | None:
    """The client certificate fingerprint a trusted proxy passed on; None from any other peer."""
    if tenant.pcipal is None or not tenant.pcipal.callback_auth.mtls_fingerprints:
        return None
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    host = peer[0] if isinstance(peer, tuple) and peer else None
    if host is None or not _is_trusted_proxy(str(host), settings.server.trusted_proxies):
        return None
    return request.headers.get(tenant.pcipal.callback_auth.mtls_header)


def _is_trusted_proxy(host: str, proxies: list[str]) -> bool:
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr in ipaddress.ip_network(p, strict=False) for p in proxies
               if ipaddress.ip_network(p, strict=False).version == addr.version)


def field_mapping(tenant: TenantSettings) -> FieldMapping | None:
    """The tenant's callback field names (None: the parser's default aliases, both key casings)."""
    cfg = tenant.pcipal
    if cfg is None or (
        not cfg.callback_fields and cfg.callback_amount_unit == "auto" and not cfg.callback_result_values
    ):
        return None
    names: dict[str, Any] = dict(cfg.callback_fields)  # keys validated against FieldMapping's in settings
    return FieldMapping(**names, amount_unit=cfg.callback_amount_unit,
                        result_values=dict(cfg.callback_result_values))


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
    if tenant is not None:
        # PCI Pal calls back without the caller's locale: the capture notification speaks the tenant's.
        speech.set_locale(tenant.locale)
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
        verifier.verify(raw, request.headers, request.remote,
                        client_cert_fingerprint=client_cert_fingerprint(request, tenant, services.settings))
    except CallbackVerificationError as exc:
        log.warning("PCI Pal callback refused", extra={"tenant": tenant_id, "reason": exc.reason})
        services.metrics.webhook_verification_failures.labels(tenant.id).inc()
        raise _unauthorized() from None
    tenant_var.set(tenant.id)

    check_json_depth(raw, services.settings.http.max_json_depth)
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

    if result.result == "unknown":
        # A result word this flow's vocabulary lacks: recorded, acknowledged (PCI Pal would only retry, then
        # e-mail it) and handed to a human; the capture is not moved on a guess.
        async with store.transaction() as tx:
            fresh = await captures.record_callback(tx, tenant.id, capture.id, result)
        if fresh:
            log.warning("PCI Pal callback with an unknown result", extra={"capture_id": capture.id})
            await captures.open_case(
                services, tenant, capture, "unknown-result",
                f"Capture {capture.id}: PCI Pal reported the result {result.raw_result!r}, which this tenant's flow "
                "vocabulary does not define (tenants.pcipal.callback_result_values). The capture was left as it "
                "was; check the payment at Stripe and PCI Pal.",
            )
        return json_ok({"ok": True, "capture_id": capture.id, "state": capture.state, "result": "unknown",
                        "duplicate": not fresh}, rid)

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
