"""Typed settings: a TOML file, then ``VOICEPAY_*`` environment overrides.

Environment overrides use ``__`` for nesting: ``VOICEPAY_SERVER__PORT=9000``, ``VOICEPAY_STORE__URL=...``,
and ``VOICEPAY_TENANTS__<tenant id>__<field>`` for a tenant's field (``...__POLICY__MAX_REFUND_AMOUNT=2000``).
Values are parsed as JSON when they parse (numbers, booleans, lists), else taken as strings.

Secret fields (API keys, signing secrets, client secrets) must be written ``enc:v1:...`` and are decrypted at
load time with the master keys (see :mod:`gateway.secrets`). Plaintext secrets are accepted only in sandbox
mode. Errors name the setting, never its value.

Every option is documented in ``deploy/config.example.toml``.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from adapters.stripe.versions import PINNED_API_VERSION
from gateway.secrets import MasterKeyRing, Secret, SecretError, is_encrypted

ENV_PREFIX = "VOICEPAY_"


class SettingsError(Exception):
    """The configuration is unusable. The message names the setting and never contains a secret value."""


def _to_secret(value: Any, info: ValidationInfo) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string")
    ctx = info.context or {}
    ring: MasterKeyRing | None = ctx.get("ring")
    if is_encrypted(value):
        if ring is None or not ring:
            raise ValueError("is encrypted but no master key is configured (VOICEPAY_MASTER_KEYS)")
        try:
            return Secret(ring.decrypt(value))
        except SecretError as exc:
            raise ValueError(str(exc)) from None
    if value and not ctx.get("sandbox", False):
        raise ValueError(
            "is a plaintext secret; encrypt it with `voicepay secrets encrypt` (plaintext is allowed in sandbox only)"
        )
    return Secret(value)


SecretStr = Annotated[
    Secret,
    BeforeValidator(_to_secret),
    PlainSerializer(lambda s: "***", return_type=str),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ServerSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    tls_cert: str | None = None
    tls_key: str | None = None
    #: Public URL of this gateway, used in callback URLs handed to PCI Pal.
    public_base_url: str | None = None
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: Seconds to let in-flight requests finish on SIGTERM before closing connections.
    shutdown_timeout: float = Field(15.0, ge=0)
    #: Upper bound on the time one action may take end to end (a caller is waiting on the phone).
    request_timeout: float = Field(20.0, gt=0)
    #: Addresses (CIDR) of the reverse proxy in front of the gateway. When set, the client address is taken
    #: from ``X-Forwarded-For`` as added by these proxies (so source-address allowlists, such as PCI Pal's
    #: ``ip_allowlist``, see the real caller), and requests from any other peer are refused, except the
    #: probes and metrics paths. Empty: the socket peer is the client.
    trusted_proxies: list[str] = []


class StoreSettings(_Model):
    #: ``sqlite:///path/to/file.sqlite3`` (relative paths are relative to the working directory) or
    #: ``postgresql://user@host:port/db``.
    url: str = "sqlite:///var/voicepay.sqlite3"
    pool_min_size: int = Field(1, ge=1)
    pool_max_size: int = Field(10, ge=1)
    #: Seconds to wait for the database on any one operation.
    command_timeout: float = Field(10.0, gt=0)


class IdempotencySettings(_Model):
    ttl_hours: float = Field(24.0, gt=0)
    #: An in-flight record older than this is taken to belong to a crashed process and may be taken over
    #: (the retry reuses the same provider idempotency key, so the provider replays rather than repeats).
    lease_seconds: float = Field(30.0, gt=0)
    prune_interval_seconds: float = Field(300.0, gt=0)


class RetentionSettings(_Model):
    """How long operational records are kept (pruned with the idempotency records, every
    ``idempotency.prune_interval_seconds``). The audit log, refunds, coupons, captures and escalations are
    never pruned here: they are the merchant's records."""

    #: Processed webhook events, finished notifications and their attempts, Stripe object states, PCI Pal
    #: callbacks. Stripe retries an event for up to 3 days, so keep well beyond that.
    operational_days: int = Field(30, ge=4)
    #: Caller verifications and verification attempts (personal data with a purpose of minutes).
    verification_days: int = Field(1, ge=1)


class RateLimitSettings(_Model):
    #: Sustained requests per second per agent key, and the burst allowed above it.
    per_key_rate: float = Field(20.0, gt=0)
    burst: int = Field(40, ge=1)
    #: Sustained requests per second per tenant (every key and every instance together), and its burst. Sized
    #: for concurrent phone calls: one merchant key is usually shared by all of them, and one call makes a
    #: few actions a minute, in bursts of 2-4 (lookup, verify, refund). 100/s with a 300 burst carries
    #: hundreds of concurrent calls; a runaway bot loop is still stopped by ``per_key_rate``.
    per_tenant_rate: float = Field(100.0, gt=0)
    per_tenant_burst: int = Field(300, ge=1)
    #: ``redis://host:port/db``: the limits are shared by every instance (one atomic GCRA script per check).
    #: Unset: each instance limits on its own, in memory (with N instances the ceiling is N times the rate).
    redis_url: str | None = None
    #: Seconds to wait for Redis on one check.
    redis_timeout_seconds: float = Field(0.25, gt=0, le=5)
    #: When Redis cannot be reached: "open" lets the request through and counts it
    #: (``voicepay_ratelimit_backend_errors_total``), falling back to the in-memory limiter of this instance;
    #: "closed" refuses it with 503. Open is the default: a payment call must not fail because the limiter's
    #: cache is down, and the per-instance fallback still stops a runaway loop.
    on_redis_error: Literal["open", "closed"] = "open"


class ReconcileSettings(_Model):
    """The reconciler: settles writes left in doubt (a refund, coupon or capture launch whose answer was lost
    and that no retry from the bot finished) with the same provider idempotency keys."""

    enabled: bool = True
    #: A write is in doubt once its idempotency lease has passed by this many seconds with no answer stored:
    #: long enough for the bot's own retry (the normal path) to come first.
    grace_seconds: float = Field(120.0, ge=0)
    #: Seconds between scans for records in doubt (every instance scans; the claim is atomic).
    interval_seconds: float = Field(30.0, gt=0)
    #: Attempts to settle one record (exponential backoff) before it becomes an escalation.
    max_attempts: int = Field(6, ge=1)
    retry_base_seconds: float = Field(30.0, gt=0)
    retry_max_seconds: float = Field(1800.0, gt=0)


class LoggingSettings(_Model):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = True


class PolicySettings(_Model):
    """What the bot may do without a human. Amounts in the tenant currency's minor units."""

    max_refund_amount: int = Field(5000, ge=0)
    max_charge_age_days: int = Field(90, ge=0)
    allowed_refund_reasons: list[Literal["requested_by_customer", "duplicate", "fraudulent"]] = [
        "requested_by_customer",
        "duplicate",
    ]
    max_refunds_per_customer: int = Field(2, ge=0)
    refund_period_days: int = Field(30, ge=1)
    require_verification_for_refunds: bool = True
    max_coupon_percent: float = Field(20.0, ge=0, le=100)
    max_coupon_amount: int = Field(1000, ge=0)
    coupon_expiry_days: int = Field(30, ge=1, le=365)
    require_verification_for_coupons: bool = False
    #: How long a successful caller verification lasts within a call.
    verification_ttl_seconds: int = Field(900, ge=60)
    #: Failed verification attempts allowed per call (X-Call-Id) within the window.
    verification_max_attempts: int = Field(3, ge=1)
    #: This tenant's own rate limit (requests per second over all its keys and instances) and burst, sized
    #: for its concurrent calls; unset: ``rate_limit.per_tenant_rate`` / ``per_tenant_burst``.
    rate_limit_per_second: float | None = Field(None, gt=0)
    rate_limit_burst: int | None = Field(None, ge=1)
    #: Failed verification attempts allowed per customer within the window, across calls (a guesser can redial).
    verification_max_attempts_per_customer: int = Field(3, ge=1)
    #: How long a failed attempt counts against the call and the customer. At most a day: verification
    #: attempts are kept ``retention.verification_days`` (at least 1).
    verification_attempt_window_seconds: int = Field(3600, ge=60, le=86400)
    #: Whether the email or phone the caller was found by counts as one verification factor (off: it proved
    #: only that the caller knows how they are looked up, and two further factors are asked for).
    verification_identifier_counts: bool = False


class PciPalCallbackAuth(_Model):
    """How PCI Pal's callbacks are authenticated. Any combination; each configured check must pass. Outside
    sandbox mode a tenant with PCI Pal and none of them is refused at startup."""

    #: HMAC-SHA256 over ``{t}.{body}`` in ``signature_header`` (only for flows that sign; PCI Pal has no
    #: public signing scheme).
    hmac_secrets: list[SecretStr] = []
    signature_header: str = Field("X-PCIPal-Signature", pattern=r"^[A-Za-z0-9-]{1,64}$")
    #: A static token in ``Authorization: Bearer <token>``.
    bearer_token: SecretStr | None = None
    #: A static key in a header of the tenant's choosing (HMCTS: APIM's ``Ocp-Apim-Subscription-Key``);
    #: several during a rotation.
    header_name: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    header_keys: list[SecretStr] = []
    #: Source addresses (CIDR) PCI Pal calls from (behind a proxy see server.trusted_proxies).
    ip_allowlist: list[str] = []
    #: SHA-256 fingerprints (hex, colons allowed) of PCI Pal's TLS client certificate. The TLS-terminating
    #: proxy checks the certificate and passes its fingerprint in ``mtls_header``; the header is believed
    #: only on connections from server.trusted_proxies.
    mtls_fingerprints: list[str] = []
    mtls_header: str = Field("X-Client-Cert-Sha256", pattern=r"^[A-Za-z0-9-]{1,64}$")
    #: Client credentials PCI Pal uses at ``POST /v1/callbacks/pcipal/{tenant}/token`` to get a short-lived
    #: bearer token (``token_ttl_seconds``) it then sends with each callback.
    token_client_id: str | None = Field(None, min_length=1, max_length=128)
    token_client_secret: SecretStr | None = None
    token_ttl_seconds: int = Field(300, ge=30, le=3600)

    @field_validator("mtls_fingerprints")
    @classmethod
    def _fingerprints(cls, v: list[str]) -> list[str]:
        out = [f.replace(":", "").strip().lower() for f in v]
        if any(len(f) != 64 or any(c not in "0123456789abcdef" for c in f) for f in out):
            raise ValueError("must be SHA-256 fingerprints (64 hex digits, colons allowed)")
        return out

    @model_validator(mode="after")
    def _consistent(self) -> PciPalCallbackAuth:
        if bool(self.header_keys) != (self.header_name is not None):
            raise ValueError("header_name and header_keys go together")
        has_id, has_secret = self.token_client_id is not None, self.token_client_secret is not None
        if has_id ^ has_secret:
            raise ValueError("token_client_id and token_client_secret go together")
        if self.token_client_id is not None and self.bearer_token is not None:
            raise ValueError("bearer_token and the token endpoint both use the Authorization header; pick one")
        return self

    @property
    def checks(self) -> tuple[str, ...]:
        """The checks that are on, in the order they run."""
        on = [
            ("ip_allowlist", bool(self.ip_allowlist)),
            ("mtls", bool(self.mtls_fingerprints)),
            ("header_key", bool(self.header_keys)),
            ("bearer", self.bearer_token is not None),
            ("token", self.token_client_id is not None),
            ("hmac", bool(self.hmac_secrets)),
        ]
        return tuple(name for name, enabled in on if enabled)


#: Placeholders a flow's InitialValues template may use (nothing free-text from the caller or bot: a
#: description could carry card digits, so it never goes to PCI Pal).
INITIAL_VALUE_FIELDS = frozenset(
    {"amount_minor", "amount_major", "currency_upper", "currency_lower", "capture_id", "callback_url",
     "payment_intent_id", "tenant_id"}
)
#: Placeholders a transfer template may use.
TRANSFER_FIELDS = frozenset({"link_id", "session_id", "capture_id"})


def _placeholders(template: str) -> set[str]:
    import string

    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        raise ValueError("is not a valid template (unbalanced braces)") from None


class PciPalTransfer(_Model):
    """What the bot gets to move the caller to PCI Pal (the flow's telephony set-up, agreed with PCI Pal).

    ``target``: a DDI (``+441632960123``) or SIP URI (``sip:secure@pcipal.example``), may use {link_id},
    {session_id}, {capture_id}; unset means the bare LinkId (what PCI Pal's launch returns; not dialable on its
    own). ``carry``: how the call is linked to the session: ``dtmf`` (digits played after PCI Pal answers,
    ``dtmf``), ``sip_header`` (``sip_header`` name with ``sip_header_value``), ``caller_pin`` (the caller keys
    the PIN, told in ``say``) or ``none``. ``say``: what the bot says before transferring (may use {pin},
    spelled digit by digit)."""

    target: str | None = Field(None, max_length=200)
    carry: Literal["none", "dtmf", "sip_header", "caller_pin"] = "none"
    dtmf: str = Field("{link_id}#", max_length=64)
    sip_header: str = Field("X-PCIPal-LinkId", pattern=r"^X-[A-Za-z0-9-]{1,62}$")
    sip_header_value: str = Field("{link_id}", max_length=200)
    say: str | None = Field(None, max_length=500)

    @field_validator("target", "dtmf", "sip_header_value", "say")
    @classmethod
    def _known_placeholders(cls, v: str | None) -> str | None:
        if v is not None:
            unknown = _placeholders(v) - TRANSFER_FIELDS - {"pin"}
            if unknown:
                raise ValueError(f"unknown placeholder(s): {', '.join(sorted(unknown))}")
        return v


class PciPalSettings(_Model):
    base_url: str
    tenant_name: str
    tenant_number: str
    username: str = "APIUser"
    client_id: str
    client_secret: SecretStr
    flow_id: str
    callback_auth: PciPalCallbackAuth = PciPalCallbackAuth()
    #: Minutes a capture session may wait for the caller before it expires.
    session_ttl_minutes: int = Field(15, ge=1)
    #: Which callback field carries each value, for flows whose field names differ from the defaults
    #: (e.g. ``{ payment_intent_id = "customData1", result = "customData2" }``). Keys: result, session_id,
    #: order_reference, payment_intent_id, payment_method_id, transaction_id, card_brand, card_last4,
    #: card_expiry, card_exp_month, card_exp_year, amount, currency, auth_code, message, decline_code.
    callback_fields: dict[str, str] = {}
    #: How the flow writes ``amount``: "minor" (pence), "major" (pounds, 488.50) or "auto" (a decimal point
    #: means major units).
    callback_amount_unit: Literal["auto", "minor", "major"] = "auto"
    #: Who charges at Stripe, as the merchant's PCI Pal flow is built: "confirm_ours" (the flow confirms the
    #: PaymentIntent the gateway created, named in InitialValues), "adopt_theirs" (the flow's Stripe "Payment"
    #: step creates and confirms its own intent and the callback names it: the gateway checks and adopts it and
    #: cancels its own), "token" (the flow's "Tokenisation" step returns a ``pm_``/``tok_`` and the gateway
    #: confirms its own intent with it).
    capture_mode: Literal["confirm_ours", "adopt_theirs", "token"] = "confirm_ours"
    #: The flow template. InitialValues sent at launch: key -> value template, with placeholders
    #: {amount_minor} (2500), {amount_major} (25.00), {currency_upper} (GBP), {currency_lower} (gbp),
    #: {capture_id} (the order reference callbacks are matched by), {callback_url}, {payment_intent_id} (only
    #: in confirm_ours; a key whose value is exactly that placeholder is left out in other modes),
    #: {tenant_id}; any other text is sent as is (fixed keys such as return or finish URLs).
    initial_values: dict[str, str] = {
        "amount": "{amount_minor}",
        "currency": "{currency_upper}",
        "orderReference": "{capture_id}",
        "callbackURL": "{callback_url}",
        "paymentIntentId": "{payment_intent_id}",
    }
    #: Separate URLs when PCI Pal's hosts differ (templates may use {tenant_number}; view also {session_id}).
    #: Unset: ``{base_url}/api/v1/token``, ``{base_url}/api/v1/session/{tenant_number}/launch``,
    #: ``{base_url}/session/{tenant_number}/view/{session_id}/framed``.
    token_url: str | None = None
    launch_url: str | None = None
    view_url: str | None = None
    #: Use the refresh_token grant before authenticating again (off if the flow's API user may not refresh).
    refresh_token_grant: bool = True
    #: Extra callback result words for this flow -> what they mean (success, declined, error, cancelled,
    #: hangup, timeout, too_many_attempts, authentication_required). A word neither here nor in the built-in
    #: vocabulary is recorded and sent to a case, never taken as success or failure.
    callback_result_values: dict[
        str,
        Literal["success", "declined", "error", "cancelled", "hangup", "timeout", "too_many_attempts",
                "authentication_required"],
    ] = {}
    #: How the bot moves the caller to PCI Pal.
    transfer: PciPalTransfer = PciPalTransfer()

    @field_validator("initial_values")
    @classmethod
    def _initial_value_placeholders(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("needs at least one key")
        for key, template in v.items():
            unknown = _placeholders(template) - INITIAL_VALUE_FIELDS
            if unknown:
                raise ValueError(f"{key}: unknown placeholder(s): {', '.join(sorted(unknown))}")
        if not any("{capture_id}" in t for t in v.values()):
            raise ValueError("must carry {capture_id} in some key (callbacks are matched by it)")
        return v

    @model_validator(mode="after")
    def _callback_auth_required(self, info: ValidationInfo) -> PciPalSettings:
        if not self.callback_auth.checks and not (info.context or {}).get("sandbox", False):
            raise ValueError(
                "no callback authentication configured (set callback_auth ip_allowlist, header_name + "
                "header_keys, mtls_fingerprints, token_client_id + token_client_secret, bearer_token or "
                "hmac_secrets); only sandbox mode may run without"
            )
        return self

    @field_validator("callback_fields")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        known = {
            "result", "session_id", "order_reference", "payment_intent_id", "payment_method_id", "transaction_id",
            "card_brand", "card_last4", "card_expiry", "card_exp_month", "card_exp_year", "amount", "currency",
            "auth_code", "message", "decline_code",
        }  # fmt: skip
        unknown = sorted(set(v) - known)
        if unknown:
            raise ValueError(f"unknown callback field key(s): {', '.join(unknown)}")
        return v


class WebhookSettings(_Model):
    """Stripe webhook ingestion and the durable job queue that processes events."""

    #: Seconds a ``Stripe-Signature`` timestamp may differ from our clock, in either direction. Stripe
    #: re-signs every retry, so a wider window only lengthens the replay window.
    tolerance_seconds: int = Field(300, ge=1, le=3600)
    #: Largest webhook body accepted (Stripe events are usually a few KB); larger gets 413.
    max_body_bytes: int = Field(512 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: Run the job workers in this process. Off only for a process that ingests while others process.
    worker_enabled: bool = True
    #: Seconds an idle worker waits before looking for due jobs (it is also woken by local enqueues).
    poll_interval_seconds: float = Field(1.0, gt=0)
    #: Jobs one worker runs at once.
    worker_concurrency: int = Field(4, ge=1, le=256)
    #: Attempts of an event handler before the event is dead-lettered (``voicepay webhooks replay``).
    job_max_attempts: int = Field(8, ge=1)
    #: Exponential backoff between handler attempts: base * 2^(attempt-1), capped.
    retry_base_seconds: float = Field(2.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    #: A job claimed longer ago than this is taken to belong to a crashed worker and is claimed again; a
    #: handler is cut off at half of it, so a live worker never loses its job to another.
    job_lease_seconds: float = Field(300.0, ge=1)
    #: On shutdown, how long running jobs may take to finish before they are handed back to the queue.
    stop_timeout_seconds: float = Field(10.0, ge=0)


class NotificationSettings(_Model):
    """Outbound, signed agent notifications (``notification_url`` / ``notification_secret`` per tenant)."""

    #: Delays before each retry of a failed delivery; after the last one the notification is marked failed
    #: (``voicepay notifications replay`` sends it again).
    retry_schedule_seconds: list[float] = [5.0, 30.0, 120.0, 600.0, 3600.0, 21600.0]
    #: Seconds to wait for the receiver on one attempt.
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    #: Deliveries in flight at once (separate from event processing, so a slow receiver never delays it).
    worker_concurrency: int = Field(4, ge=1, le=256)


class ProviderSettings(_Model):
    """Resilience of provider calls (Stripe): the per-tenant circuit breaker."""

    #: Consecutive provider-side failures (unavailable, timeout, 5xx, 429; after retries) that open a tenant's
    #: breaker. While open, calls fail at once with ``provider_unavailable`` and Stripe is not called.
    breaker_failure_threshold: int = Field(5, ge=1, le=1000)
    #: Seconds an open breaker waits before letting one probe call through (success closes it again). Short,
    #: so service resumes within seconds of the provider recovering (issue 12).
    breaker_reset_seconds: float = Field(2.0, ge=0, le=3600)
    #: Each failed probe doubles the wait before the next one, up to this (a long outage is probed less often).
    breaker_max_reset_seconds: float = Field(10.0, ge=0, le=3600)


class TenantSettings(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str
    stripe_secret_key: SecretStr
    #: Real Stripe by default; the sandbox or a test server otherwise.
    stripe_api_base: str = "https://api.stripe.com"
    #: Several during a rotation; a webhook verifying against any of them is accepted.
    stripe_webhook_secrets: list[SecretStr] = []
    currency: str = Field("usd", pattern=r"^[a-z]{3}$")
    phone_default_region: str = Field("US", pattern=r"^[A-Z]{2}$")
    notification_url: str | None = None
    notification_secret: SecretStr | None = None
    ops_url: str | None = None
    pcipal: PciPalSettings | None = None
    policy: PolicySettings = PolicySettings()
    #: Deadline mode: the caller's turn budget in milliseconds when the bot sends no ``X-Deadline-Ms``. An
    #: action not finished by then answers ``pending`` and finishes in the background. None: wait for it.
    default_deadline_ms: int | None = Field(None, ge=1, le=600_000)
    #: Pay-by-link senders (``payments.send_link``); a tenant without them is never offered a link.
    senders: SenderSettings | None = None
    #: The language callers hear (gateway/speech.py): en-GB, en-US, es-ES, fr-FR or de-DE. A call may
    #: override it with ``X-Caller-Locale`` or ``Accept-Language``; anything unsupported falls back to this.
    locale: Literal["en-GB", "en-US", "es-ES", "fr-FR", "de-DE"] = "en-GB"


class HttpSettings(_Model):
    """HTTP-level limits of the listener (the agent, Stripe and PCI Pal all connect to it)."""

    #: Seconds a client has, from the first byte of a request, to finish its request line and headers; a
    #: connection that trickles them in (slowloris) is answered 408 and closed.
    header_read_timeout: float = Field(10.0, gt=0, le=300)
    #: Seconds an idle keep-alive connection (and a connection that never sends a request) is kept open. Keep
    #: it above the reverse proxy's upstream idle timeout (nginx-ingress 60 s; deploy/Caddyfile 60 s): a proxy
    #: that reuses a connection the gateway just closed fails that request.
    keepalive_timeout: float = Field(75.0, gt=0, le=3600)
    #: Open connections per gateway process; a connection beyond it is answered 503 and closed at once.
    max_connections: int = Field(1024, ge=1, le=1_000_000)
    #: Longest request line and longest single header line, in bytes (431 above); headers per request.
    max_line_bytes: int = Field(8190, ge=1024, le=65536)
    max_field_bytes: int = Field(8190, ge=1024, le=65536)
    max_headers: int = Field(64, ge=8, le=1024)
    #: Deepest JSON nesting accepted in any body (actions, webhooks, callbacks); deeper is 422 json_too_deep.
    max_json_depth: int = Field(32, ge=4, le=512)


class MetricsSettings(_Model):
    """Who may read ``/metrics`` and what its labels may say."""

    #: Scrapers send ``Authorization: Bearer <token>``. Required unless ``listen`` moves /metrics to a separate
    #: listener; with neither, /metrics answers 404 (sandbox mode makes a token and writes it to sandbox.json).
    token: SecretStr | None = None
    #: ``host:port`` of a separate plain-HTTP listener serving only /metrics (e.g. ``127.0.0.1:9102`` or a pod
    #: address only the scraper reaches). When set, the main listener does not serve /metrics.
    listen: str | None = Field(None, pattern=r"^[^\s:]+:[0-9]{1,5}$|^\[[0-9a-fA-F:.]+\]:[0-9]{1,5}$")
    #: Put tenant ids in labels. Off: labels carry ``tenant-<n>`` (n = the tenant's position in the config),
    #: stable and meaningful to the operator, not to whoever reads the metrics.
    tenant_labels: bool = False


class RedactServiceSettings(_Model):
    """The transcript scrubbing service (``POST /v1/redact``, ``/v1/redact/stream``; gateway/redact_service.py)."""

    #: Largest ``POST /v1/redact`` body.
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: Largest WebSocket frame, and largest stream (the text between two flushes; what is held back grows
    #: with it, so this bounds memory and CPU per connection).
    max_frame_bytes: int = Field(16 * 1024, ge=256, le=1024 * 1024)
    max_stream_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: Stream frames per second per agent key, and the burst above it (the request itself and the WebSocket
    #: upgrade count against ``[rate_limit]`` like an action).
    frames_per_second: float = Field(50.0, gt=0)
    frames_burst: int = Field(200, ge=1)
    #: A stream with no frame for this long is closed.
    idle_timeout_seconds: float = Field(120.0, gt=0, le=3600)


class Settings(_Model):
    sandbox: bool = False
    #: Directory for local state (SQLite file, sandbox.json).
    var_dir: str = "var"
    master_key_file: str | None = None
    server: ServerSettings = ServerSettings()
    store: StoreSettings = StoreSettings()
    idempotency: IdempotencySettings = IdempotencySettings()
    retention: RetentionSettings = RetentionSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    logging: LoggingSettings = LoggingSettings()
    webhooks: WebhookSettings = WebhookSettings()
    notifications: NotificationSettings = NotificationSettings()
    providers: ProviderSettings = ProviderSettings()
    http: HttpSettings = HttpSettings()
    metrics: MetricsSettings = MetricsSettings()
    stripe: StripeSettings = Field(default_factory=lambda: StripeSettings())
    redact: RedactServiceSettings = RedactServiceSettings()
    console: ConsoleSettings = Field(default_factory=lambda: ConsoleSettings())
    live: LiveEventSettings = Field(default_factory=lambda: LiveEventSettings())
    tenants: list[TenantSettings] = []

    @field_validator("tenants")
    @classmethod
    def _unique_tenants(cls, v: list[TenantSettings]) -> list[TenantSettings]:
        ids = [t.id for t in v]
        if len(ids) != len(set(ids)):
            raise ValueError("tenant ids must be unique")
        return v

    def tenant(self, tenant_id: str) -> TenantSettings | None:
        for t in self.tenants:
            if t.id == tenant_id:
                return t
        return None


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Merge ``VOICEPAY_A__B__C=value`` into ``data`` (returns a new dict)."""
    out: dict[str, Any] = json.loads(json.dumps(data))
    skip = {"VOICEPAY_MASTER_KEYS", "VOICEPAY_MASTER_KEY_FILE", "VOICEPAY_CONFIG"}  # VOICEPAY_CONFIG: gateway.cli
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in skip:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not path:
            continue
        if path[0] == "tenants" and len(path) >= 3:
            tenants = out.setdefault("tenants", [])
            tenant = next((t for t in tenants if t.get("id") == path[1]), None)
            if tenant is None:
                tenant = {"id": path[1]}
                tenants.append(tenant)
            node, rest = tenant, path[2:]
        else:
            node, rest = out, path
        for part in rest[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise SettingsError(f"{name}: {part} is not a table")
            node = nxt
        node[rest[-1]] = _parse_env_value(raw)
    return out


def _describe(err: ValidationError) -> str:
    # Render pydantic's errors without ``input_value``: a rejected value may be a secret.
    lines = []
    for e in err.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        lines.append(f"  {loc}: {e['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)


def build_settings(
    data: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    ring: MasterKeyRing | None = None,
    sandbox: bool | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    merged = apply_env_overrides(dict(data), env)
    if sandbox is not None:
        merged["sandbox"] = sandbox
    if ring is None:
        try:
            ring = MasterKeyRing.from_environment(env, merged.get("master_key_file"))
        except SecretError as exc:
            raise SettingsError(f"master keys: {exc}") from None
    try:
        return Settings.model_validate(
            merged, context={"ring": ring, "sandbox": bool(merged.get("sandbox", False))}
        )
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def load_settings(
    path: str | Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    ring: MasterKeyRing | None = None,
    sandbox: bool | None = None,
) -> Settings:
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    return build_settings(data, environ=environ, ring=ring, sandbox=sandbox)


class StripeSettings(_Model):
    """The Stripe API version, chosen on purpose (see adapters/stripe/versions.py and the README)."""

    #: Sent as ``Stripe-Version`` on every request, and the version every tenant's webhook endpoint must be
    #: created with (Stripe renders an event in its endpoint's version). Default: the version the installed
    #: SDK's types describe. An event of another version of the same release is handled (counted, logged);
    #: one of another release is stored, dead-lettered and not processed.
    api_version: str = Field(PINNED_API_VERSION, pattern=r"^\d{4}-\d{2}-\d{2}\.[a-z]+$")


class ConsoleSettings(_Model):
    """The operator console at ``/console`` (gateway/console/). Off unless enabled; sandbox mode enables it."""

    enabled: bool = False
    #: A console session ends this long after login (no sliding renewal).
    session_ttl_seconds: int = Field(8 * 3600, ge=60, le=7 * 24 * 3600)
    #: Cookies marked ``Secure`` (named ``__Host-...``). Only the sandbox, on plain http://127.0.0.1, turns it off.
    secure_cookie: bool = True
    #: Login attempts allowed per username within the window (a success clears the username's count).
    login_attempts: int = Field(5, ge=1, le=1000)
    #: Login attempts allowed per client address within the window (successes count too: an office behind
    #: one address needs room; one valid account must not reset the count for guessing others).
    login_attempts_per_address: int = Field(50, ge=1, le=100000)
    login_window_seconds: int = Field(900, ge=1)


class TwilioSenderSettings(_Model):
    """Text messages through Twilio's Messaging API (REST, Basic auth with the account SID and auth token)."""

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr
    #: Exactly one of a sending number (E.164) and a Messaging Service SID.
    from_number: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$")
    messaging_service_sid: str | None = Field(None, pattern=r"^MG[0-9a-fA-F]{32}$")
    api_base: str = "https://api.twilio.com"
    #: Seconds for one request to Twilio (connect + answer); a timeout is retried on the job queue.
    timeout_seconds: float = Field(10.0, gt=0, le=60)

    @model_validator(mode="after")
    def _one_sender(self) -> TwilioSenderSettings:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("give exactly one of from_number or messaging_service_sid")
        return self


class SmtpSenderSettings(_Model):
    """E-mail through an SMTP relay (``aiosmtplib``)."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    #: ``starttls`` (submission, port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a local relay only).
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = Field(pattern=r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}$")
    #: Seconds for the whole SMTP conversation; a timeout is retried on the job queue.
    timeout_seconds: float = Field(15.0, gt=0, le=120)


class SenderSettings(_Model):
    """``[tenants.senders]``: how this tenant's payment links reach callers. Each channel is optional."""

    sms: TwilioSenderSettings | None = None
    email: SmtpSenderSettings | None = None


class LiveEventSettings(_Model):
    """Live call events (``/v1/events``, ``/v1/calls/{call_id}/events``; gateway/live.py)."""

    #: How often a stream polls the ``notifications`` table: the latency from commit to frame.
    poll_interval_seconds: float = Field(1.0, gt=0, le=60)
    #: A heartbeat frame (and a WebSocket ping) after this long without a frame.
    heartbeat_seconds: float = Field(15.0, gt=0, le=600)
    #: A send stalled this long (the client does not read) closes the stream.
    send_timeout_seconds: float = Field(10.0, gt=0, le=600)
    #: Open streams per agent key on each instance; a further upgrade answers 429.
    max_connections_per_key: int = Field(4, ge=1, le=1000)


TenantSettings.model_rebuild()  # TenantSettings names SenderSettings, defined after it (appended section)
Settings.model_rebuild()  # Settings names StripeSettings, defined after it (appended section)
