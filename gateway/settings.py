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
)

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
    #: Failed verification attempts allowed per customer within the window, across calls (a guesser can redial).
    verification_max_attempts_per_customer: int = Field(3, ge=1)
    #: How long a failed attempt counts against the call and the customer. At most a day: verification
    #: attempts are kept ``retention.verification_days`` (at least 1).
    verification_attempt_window_seconds: int = Field(3600, ge=60, le=86400)
    #: Whether the email or phone the caller was found by counts as one verification factor (off: it proved
    #: only that the caller knows how they are looked up, and two further factors are asked for).
    verification_identifier_counts: bool = False


class PciPalCallbackAuth(_Model):
    #: Any combination; each configured one must pass.
    hmac_secrets: list[SecretStr] = []
    bearer_token: SecretStr | None = None
    ip_allowlist: list[str] = []


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
    #: Seconds an open breaker waits before letting one probe call through (success closes it again).
    breaker_reset_seconds: float = Field(30.0, ge=0, le=3600)


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
    logging: LoggingSettings = LoggingSettings()
    webhooks: WebhookSettings = WebhookSettings()
    notifications: NotificationSettings = NotificationSettings()
    providers: ProviderSettings = ProviderSettings()
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
    skip = {"VOICEPAY_MASTER_KEYS", "VOICEPAY_MASTER_KEY_FILE"}
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
