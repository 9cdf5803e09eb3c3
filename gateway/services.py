"""The gateway's long-lived collaborators, built once per app and stored under one ``web.AppKey``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from gateway.actions.base import ActionRegistry
from gateway.auth import AgentKeys
from gateway.idempotency import IdempotencyStore
from gateway.ratelimit import TokenBucketLimiter
from gateway.settings import Settings, TenantSettings
from gateway.store import Store

if TYPE_CHECKING:
    from adapters.stripe.client import StripeAdapter


@dataclass
class Providers:
    """Per-tenant provider clients, created on first use and closed on shutdown.

    One Stripe client per tenant (its own key, base URL, retry deadline and circuit breaker), so one
    tenant's outage or rate limit never trips another's breaker.
    """

    settings: Settings
    http: aiohttp.ClientSession
    _stripe: dict[str, StripeAdapter] = field(default_factory=dict)

    def stripe(self, tenant: TenantSettings) -> StripeAdapter:
        adapter = self._stripe.get(tenant.id)
        if adapter is None:
            from adapters.stripe.client import StripeAdapter

            adapter = StripeAdapter(
                tenant.stripe_secret_key.reveal(),
                base_url=tenant.stripe_api_base,
                session=self.http,
            )
            self._stripe[tenant.id] = adapter
        return adapter

    async def close(self) -> None:
        adapters = list(self._stripe.values())
        self._stripe.clear()
        await asyncio.gather(*(a.close() for a in adapters), return_exceptions=True)


@dataclass
class Services:
    settings: Settings
    store: Store
    registry: ActionRegistry
    keys: AgentKeys
    idempotency: IdempotencyStore
    limiter: TokenBucketLimiter
    http: aiohttp.ClientSession
    providers: Providers
    #: Background tasks owned by the app (pruning, job workers); cancelled on shutdown.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
