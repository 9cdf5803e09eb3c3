"""The gateway's long-lived collaborators, built once per app and stored under one ``web.AppKey``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from adapters.pcipal.client import PciPalClient
from adapters.resilience import CircuitBreaker
from adapters.stripe.client import StripeAdapter
from gateway.actions.base import ActionRegistry
from gateway.audit import AuditWriter
from gateway.auth import AgentKeys
from gateway.idempotency import IdempotencyStore
from gateway.metrics import Metrics
from gateway.operations import Operations
from gateway.ratelimit import Limiter
from gateway.senders import LinkSender
from gateway.settings import Settings, TenantSettings
from gateway.store import Store


@dataclass
class Providers:
    """Per-tenant provider clients, created on first use and closed on shutdown.

    One Stripe client per tenant (its own key, base URL, retry deadline and circuit breaker), so one
    tenant's outage or rate limit never trips another's breaker.
    """

    settings: Settings
    http: aiohttp.ClientSession
    metrics: Metrics | None = None
    _stripe: dict[str, StripeAdapter] = field(default_factory=dict)
    _pcipal: dict[str, PciPalClient] = field(default_factory=dict)

    def stripe(self, tenant: TenantSettings) -> StripeAdapter:
        adapter = self._stripe.get(tenant.id)
        if adapter is None:
            adapter = StripeAdapter(
                tenant.stripe_secret_key.reveal(),
                base_url=tenant.stripe_api_base,
                session=self.http,
                breaker=self._breaker(),
                observer=self.metrics.observe_provider_call if self.metrics else None,
                api_version=self.settings.stripe.api_version,
            )
            self._stripe[tenant.id] = adapter
        return adapter

    def _breaker(self) -> CircuitBreaker:
        """One breaker per tenant and provider: one tenant's outage never fails another's calls fast."""
        cfg = self.settings.providers
        return CircuitBreaker(
            cfg.breaker_failure_threshold, cfg.breaker_reset_seconds, max_reset_timeout=cfg.breaker_max_reset_seconds
        )

    def pcipal(self, tenant: TenantSettings) -> PciPalClient | None:
        """The tenant's PCI Pal client (one token cache per tenant), or None if capture isn't configured."""
        if tenant.pcipal is None:
            return None
        client = self._pcipal.get(tenant.id)
        if client is None:
            cfg = tenant.pcipal
            client = PciPalClient(
                cfg.base_url,
                cfg.tenant_name,
                cfg.tenant_number,
                cfg.username,
                cfg.client_id,
                cfg.client_secret.reveal(),
                flow_id=cfg.flow_id,
                session=self.http,
                breaker=self._breaker(),
                observer=self.metrics.observe_provider_call if self.metrics else None,
                token_url=cfg.token_url,
                launch_url=cfg.launch_url,
                view_url=cfg.view_url,
                refresh_grant=cfg.refresh_token_grant,
            )
            self._pcipal[tenant.id] = client
        return client

    def breaker_states(self) -> list[tuple[str, str, bool]]:
        """(tenant, provider, open?) for every provider client created so far."""
        states = [(tid, "stripe", a.breaker.state != "closed") for tid, a in self._stripe.items()]
        states += [(tid, "pcipal", c.breaker_open) for tid, c in self._pcipal.items()]
        return states

    async def close(self) -> None:
        adapters = list(self._stripe.values())
        self._stripe.clear()
        pcipal = list(self._pcipal.values())
        self._pcipal.clear()
        await asyncio.gather(*(a.close() for a in adapters), *(c.close() for c in pcipal), return_exceptions=True)


@dataclass
class Services:
    settings: Settings
    store: Store
    registry: ActionRegistry
    keys: AgentKeys
    idempotency: IdempotencyStore
    limiter: Limiter
    http: aiohttp.ClientSession
    providers: Providers
    metrics: Metrics
    audit: AuditWriter
    #: Delivers pay-by-link URLs to callers (payments.send_link); None when no sender is configured.
    link_sender: LinkSender | None = None
    #: Background tasks owned by the app (pruning, job workers); cancelled on shutdown.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    #: Actions still running after their caller was answered ``pending`` (deadline mode); drained on shutdown.
    operations: Operations = field(default_factory=Operations)


#: Where the app keeps its services: ``request.app[SERVICES]``.
SERVICES = web.AppKey("services", Services)
