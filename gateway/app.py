"""The application factory: ``create_app(settings) -> web.Application``. No globals: every collaborator is
opened in ``cleanup_ctx`` and reachable through ``app[SERVICES]``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import aiohttp_remotes
from aiohttp import web

from gateway import captures, jobs, retention
from gateway.actions import ActionRegistry, load_builtin_actions
from gateway.audit import AuditWriter
from gateway.auth import AgentKeys
from gateway.callbacks import check_callback_auth
from gateway.console import setup_console
from gateway.idempotency import IdempotencyStore
from gateway.metrics import for_settings as metrics_for_settings
from gateway.middlewares import request_context
from gateway.ratelimit import RateLimiter
from gateway.reconciler import reconciler_ctx
from gateway.routes import SERVICES, setup_routes
from gateway.services import Providers, Services
from gateway.settings import Settings
from gateway.store import Store, StoreError, open_store
from gateway.webhooks import webhooks_ctx

log = logging.getLogger("voicepay.app")

#: Outbound HTTP (providers, notifications): never wait forever on the network.
OUTBOUND_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5, sock_read=10)


async def sync_tenants(store: Store, settings: Settings) -> None:
    for t in settings.tenants:
        await store.execute(
            "INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            t.id,
            t.name,
            time.time(),
        )


async def _prune_loop(services: Services) -> None:
    interval = services.settings.idempotency.prune_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await services.idempotency.prune()
            if removed:
                log.info("pruned expired idempotency records", extra={"count": removed})
            expired = await retention.prune(services.store, services.settings.retention)
            if expired:
                log.info("pruned expired operational records", extra=expired)
        except StoreError:
            log.warning("pruning failed; will retry", exc_info=True)


async def _queue_metrics_loop(services: Services, interval: float = 15.0) -> None:
    """Refresh the queue gauges from the store (shared by every instance, so any instance can report)."""
    while True:
        try:
            queued, age = await jobs.queue_stats(services.store)
            services.metrics.jobs_queued.set(queued)
            services.metrics.jobs_oldest_age.set(age)
        except StoreError:
            log.warning("queue metrics refresh failed; will retry", exc_info=True)
        await asyncio.sleep(interval)


def create_app(settings: Settings, *, registry: ActionRegistry | None = None) -> web.Application:
    app = web.Application(
        middlewares=[request_context],
        client_max_size=settings.server.max_body_bytes,
    )
    actions = registry if registry is not None else load_builtin_actions()
    check_callback_auth(settings)  # logs each tenant's PCI Pal callback checks; refuses what cannot work

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        store = await open_store(
            settings.store.url,
            pool_min_size=settings.store.pool_min_size,
            pool_max_size=settings.store.pool_max_size,
            command_timeout=settings.store.command_timeout,
        )
        http = aiohttp.ClientSession(timeout=OUTBOUND_TIMEOUT)
        metrics = metrics_for_settings(settings)
        services: Services | None = None
        try:
            await store.migrate()
            await sync_tenants(store, settings)
            services = Services(
                settings=settings,
                store=store,
                registry=actions,
                keys=AgentKeys(store),
                idempotency=IdempotencyStore(
                    store,
                    ttl_seconds=settings.idempotency.ttl_hours * 3600,
                    lease_seconds=settings.idempotency.lease_seconds,
                ),
                limiter=RateLimiter(
                    settings.rate_limit,
                    tenants={
                        t.id: (t.policy.rate_limit_per_second, t.policy.rate_limit_burst) for t in settings.tenants
                    },
                    registry=metrics.registry,
                ),
                http=http,
                providers=Providers(settings, http, metrics=metrics),
                metrics=metrics,
                audit=AuditWriter(store),
            )
            # Pay-by-link senders are per tenant ([tenants.senders]; sandbox mode points them at its local Twilio
            # emulator and SMTP sink): no global fallback, so a tenant without senders is never offered a link.
            app[SERVICES] = services
            services.audit.start()
            metrics.watch_breakers(services.providers.breaker_states)
            services.tasks.append(asyncio.create_task(_prune_loop(services), name="idempotency-prune"))
            services.tasks.append(asyncio.create_task(_queue_metrics_loop(services), name="queue-metrics"))
            services.tasks.append(asyncio.create_task(captures.sweep_loop(services), name="capture-expiry"))
            yield
        finally:
            if services is not None:
                # Work answered `pending` is owed to a caller: let it finish (its own limit is request_timeout).
                await services.operations.drain(settings.server.request_timeout + 5.0)
                await services.audit.close()  # commit queued entries before the store closes
                for task in services.tasks:
                    task.cancel()
                for task in services.tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                await services.providers.close()
                await services.limiter.close()
            await http.close()
            await store.close()

    if settings.server.trusted_proxies:
        # One hop of trusted proxies; the library validates the X-Forwarded-For chain (hand-parsing it is a
        # classic spoofing hole). Probes and metrics come from the platform, not through the proxy.
        # After request_context, so a refused request still gets a JSON error and a request id.
        app.middlewares.append(
            aiohttp_remotes.XForwardedStrict(
                [settings.server.trusted_proxies], white_paths=["/healthz", "/readyz", "/metrics"]
            ).middleware
        )
    app.cleanup_ctx.append(services_ctx)
    # After services_ctx, so the queue workers stop (gracefully) before the store and HTTP session close.
    app.cleanup_ctx.append(webhooks_ctx)
    # Settles writes left in doubt (gateway/reconciler.py); stops before the store closes, like the workers.
    app.cleanup_ctx.append(reconciler_ctx)
    setup_routes(app)
    setup_console(app, settings)  # /console, only when [console] enabled
    return app
