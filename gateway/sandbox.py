"""Sandbox mode: the gateway with SQLite under ``var/``, one sandbox tenant, and the built-in Stripe and
PCI Pal emulators on 127.0.0.1. ``make run`` runs exactly this.

It prints a dev agent key and an example ``curl``, and writes ``var/sandbox.json`` for scripts:
``base_url``, ``tenant``, ``agent_key``, ``stripe_base_url``, ``stripe_api_key``, ``stripe_webhook_url``,
``stripe_webhook_secret``, ``pcipal_base_url``, and where and how to scrape metrics: ``metrics_url``,
``metrics_token`` (sent as ``Authorization: Bearer <metrics_token>``), ``mcp_url`` (the MCP server, Streamable
HTTP, the agent key as bearer token) and ``redact_url`` (the scrubbing service). Pay-by-link senders go to local
endpoints: ``twilio_base_url``, ``twilio_account_sid``, ``twilio_auth_token``, ``twilio_messages_url``
(GET it with Basic auth to read the texts sent) and ``smtp_host``, ``smtp_port``, ``mail_dir``
(one ``.eml`` file per e-mail sent).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.auth import SCOPES, AgentKeys
from gateway.handlers import HANDLERS
from gateway.logs import configure_logging
from gateway.settings import Settings, build_settings

SANDBOX_TENANT = "sandbox"
SANDBOX_STRIPE_KEY = "sk_test_sandbox"
PCIPAL_FLOW_ID = "1055"


def sandbox_settings(
    *,
    var_dir: str,
    stripe_base_url: str,
    webhook_secret: str,
    pcipal: dict[str, Any] | None,
    public_base_url: str,
    environ: Mapping[str, str] | None = None,
    metrics_token: str | None = None,
    senders: dict[str, Any] | None = None,
) -> Settings:
    """The sandbox tenant's settings. ``environ``'s ``VOICEPAY_*`` overrides apply on top (for example
    ``VOICEPAY_STORE__URL=postgresql://...`` runs the sandbox on PostgreSQL)."""
    tenant: dict[str, Any] = {
        "id": SANDBOX_TENANT,
        "name": "Sandbox Ltd",
        "stripe_secret_key": SANDBOX_STRIPE_KEY,
        "stripe_api_base": stripe_base_url,
        "stripe_webhook_secrets": [webhook_secret],
        "currency": "gbp",
        "phone_default_region": "GB",
    }
    if pcipal is not None:
        tenant["pcipal"] = pcipal
    if senders is not None:
        tenant["senders"] = senders
    data: dict[str, Any] = {
        "sandbox": True,
        "var_dir": var_dir,
        "store": {"url": f"sqlite:///{var_dir}/voicepay-sandbox.sqlite3"},
        "server": {"public_base_url": public_base_url},
        "tenants": [tenant],
    }
    # The sandbox tenant's id says nothing about anyone: keep it readable in metric labels.
    data["metrics"] = {"tenant_labels": True}
    # The operator console, on plain http://127.0.0.1 here (hence no Secure cookie); off in production config.
    data["console"] = {"enabled": True, "secure_cookie": False}
    if metrics_token is not None:
        data["metrics"]["token"] = metrics_token
    return build_settings(data, environ=environ or {}, sandbox=True)


async def ensure_dev_key(keys: AgentKeys, var_dir: Path) -> str:
    """Reuse the key in var/sandbox.json while it still works; otherwise make one with every scope."""
    state = var_dir / "sandbox.json"
    if state.exists():
        try:
            old = json.loads(state.read_text())
            identity = await keys.authenticate(old["agent_key"]) if isinstance(old.get("agent_key"), str) else None
            # A key made before a scope existed (redact:use) is replaced, so the dev key can call everything.
            if identity is not None and SCOPES.keys() <= identity.scopes:
                return str(old["agent_key"])
        except (ValueError, OSError):
            pass
    _, key = await keys.create(SANDBOX_TENANT, SCOPES.keys(), label="sandbox dev key")
    return key


def write_state(var_dir: Path, state: dict[str, Any]) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = var_dir / ".sandbox.json.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a dev key
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=2)
    os.replace(tmp, var_dir / "sandbox.json")


def _metrics_state(settings: Settings, base_url: str) -> dict[str, Any]:
    """Where a scraper reads the metrics, and its bearer token (environment overrides may have moved them)."""
    cfg = settings.metrics
    url = f"http://{cfg.listen}/metrics" if cfg.listen else f"{base_url}/metrics"
    return {"metrics_url": url, "metrics_token": cfg.token.reveal() if cfg.token is not None else None}


SANDBOX_SMS_FROM = "+15005550006"


class SandboxSenders:
    """The Twilio emulator and the SMTP sink the sandbox tenant's pay-by-link senders point at."""

    def __init__(self, maildir: Path | None = None) -> None:
        from adapters.smtp.sink import SmtpSink
        from adapters.twilio.emulator import TwilioEmulator

        self.twilio = TwilioEmulator(from_numbers=(SANDBOX_SMS_FROM,))
        self.smtp = SmtpSink(maildir=maildir)

    async def start(self) -> None:
        await self.twilio.start("127.0.0.1", 0)
        await self.smtp.start("127.0.0.1", 0)

    async def stop(self) -> None:
        await self.twilio.stop()
        await self.smtp.stop()

    def settings(self, *, timeout_seconds: float = 10.0) -> dict[str, Any]:
        return {
            "sms": {
                "account_sid": self.twilio.account_sid,
                "auth_token": self.twilio.auth_token,
                "from_number": SANDBOX_SMS_FROM,
                "api_base": self.twilio.base_url,
                "timeout_seconds": timeout_seconds,
            },
            "email": {
                "host": self.smtp.host,
                "port": self.smtp.port,
                "security": "none",  # a sink on 127.0.0.1; real relays use starttls or tls
                "from_address": "payments@sandbox.example",
                "timeout_seconds": timeout_seconds,
            },
        }

    def state(self) -> dict[str, Any]:
        return {
            "twilio_base_url": self.twilio.base_url,
            "twilio_account_sid": self.twilio.account_sid,
            "twilio_auth_token": self.twilio.auth_token,
            "twilio_messages_url": self.twilio.messages_url,
            "smtp_host": self.smtp.host,
            "smtp_port": self.smtp.port,
            "mail_dir": str(self.smtp.maildir.resolve()) if self.smtp.maildir is not None else None,
        }


async def run_sandbox(*, config: str | None = None, host: str | None = None, port: int | None = None) -> int:
    from adapters.pcipal.emulator import FlowConfig, PciPalEmulator
    from adapters.stripe.sandbox import StripeSandbox
    from gateway.app import create_app
    from gateway.routes import SERVICES
    from gateway.server import serve_app

    host = host or "127.0.0.1"
    port = 8080 if port is None else port
    var_dir = Path(os.environ.get("VOICEPAY_VAR_DIR", "var"))
    configure_logging(os.environ.get("VOICEPAY_LOGGING__LEVEL", "INFO"))

    webhook_secret = "whsec_" + secrets.token_hex(16)
    callback_secret = secrets.token_hex(16)
    pcipal_client_secret = secrets.token_hex(16)
    metrics_token = secrets.token_urlsafe(24)
    stripe = StripeSandbox(api_key=SANDBOX_STRIPE_KEY, seed=True)
    stripe_url = await stripe.start("127.0.0.1", 0)
    pcipal = PciPalEmulator(
        flows={PCIPAL_FLOW_ID: FlowConfig(callback_auth="hmac", callback_secret=callback_secret)},
        stripe_base_url=stripe_url,
        stripe_api_key=SANDBOX_STRIPE_KEY,
        client_secret=pcipal_client_secret,
    )
    pcipal_url = await pcipal.start("127.0.0.1", 0)
    senders = SandboxSenders(maildir=var_dir / "mail")
    await senders.start()
    base_url = f"http://{host}:{port}"
    settings = sandbox_settings(
        var_dir=str(var_dir),
        stripe_base_url=stripe_url,
        webhook_secret=webhook_secret,
        public_base_url=base_url,
        environ=os.environ,
        metrics_token=metrics_token,
        senders=senders.settings(),
        pcipal={
            "base_url": pcipal_url,
            "tenant_name": pcipal.tenant_name,
            "tenant_number": pcipal.tenant_number,
            "username": pcipal.username,
            "client_id": pcipal.client_id,
            "client_secret": pcipal_client_secret,
            "flow_id": PCIPAL_FLOW_ID,
            "callback_auth": {"hmac_secrets": [callback_secret]},
        },
    )
    app = create_app(settings)

    async def on_started(url: str) -> None:
        services = app[SERVICES]
        key = await ensure_dev_key(services.keys, var_dir)
        webhook_url = f"{url}/v1/webhooks/stripe/{SANDBOX_TENANT}"
        # Subscribe to the event types the gateway handles, created at the configured API version, as a
        # production endpoint should be.
        stripe.add_webhook_endpoint(webhook_url, webhook_secret, enabled_events=sorted(HANDLERS),
                                    api_version=settings.stripe.api_version)
        write_state(
            var_dir,
            {
                "base_url": url,
                "tenant": SANDBOX_TENANT,
                "agent_key": key,
                "stripe_base_url": stripe_url,
                "stripe_api_key": SANDBOX_STRIPE_KEY,
                "stripe_webhook_url": webhook_url,
                "stripe_webhook_secret": webhook_secret,
                "pcipal_base_url": pcipal_url,
                **_metrics_state(settings, url),
                # The MCP face (gateway/mcp_server.py), same agent key as a bearer token.
                "mcp_url": f"{url}/mcp",
                "redact_url": f"{url}/v1/redact",
                **senders.state(),
            },
        )
        print(
            f"\nvoicepay sandbox is running at {url}  (tenant {SANDBOX_TENANT!r})\n"
            f"  dev agent key: {key}\n"
            f"  Stripe sandbox: {stripe_url}   PCI Pal emulator: {pcipal_url}\n"
            f"  details for scripts: {var_dir / 'sandbox.json'}\n"
            f"  operator console: {url}/console  (add an operator, password on stdin:\n"
            f"    voicepay operators create --sandbox --username NAME --grant {SANDBOX_TENANT}:admin)\n\n"
            f"  try:\n"
            f"    curl -s -X POST {url}/v1/actions/gateway.ping \\\n"
            f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' -d '{{}}'\n",
            file=sys.stderr,
            flush=True,
        )

    try:
        await serve_app(
            app, host, port, shutdown_timeout=settings.server.shutdown_timeout, on_started=on_started
        )
    finally:
        await senders.stop()
        await pcipal.stop()
        await stripe.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(asyncio.run(run_sandbox()))
