"""Prometheus metrics, one registry per app (no process globals, so tests and several apps never collide).

Label values come only from closed sets: registered action names, outcome names, route templates, fixed
provider operation names, configured tenants. Never from request content, so no label can carry card data
or free text. The names below are the contract with ``deploy/prometheus/alerts.yaml``.

Tenant labels carry the tenant id only when the operator allows it (``[metrics] tenant_labels``); otherwise
``tenant-<n>``, the tenant's 1-based position in the configuration: stable, and meaningful to whoever has the
configuration, not to whoever reads the metrics. Reading ``/metrics`` needs ``Authorization: Bearer <[metrics]
token>`` (compared in constant time), or happens on a separate listener (``[metrics] listen``); with neither
configured the endpoint does not exist (404).
"""

from __future__ import annotations

import contextvars
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.settings import Settings

# Phone-call scale: most actions finish well under a second; the tail matters up to the bot's patience.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 20.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Seconds spent waiting on providers during the current request. A one-element list, so that tasks spawned
#: by an action (asyncio.gather copies the context) add to the same total. Reported in ``Server-Timing`` so
#: operators and benchmarks can split latency into gateway overhead and provider time.
provider_seconds: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "provider_seconds", default=None
)


TenantLabel = Callable[[str], str]


def tenant_labeller(tenant_ids: Sequence[str], *, show_ids: bool) -> TenantLabel:
    """Tenant id -> label value: the id itself when allowed, else ``tenant-<n>``; ``unknown`` stays as is."""
    if show_ids:
        return lambda tenant_id: tenant_id
    aliases = {tid: f"tenant-{n}" for n, tid in enumerate(tenant_ids, start=1)}
    return lambda tenant_id: aliases.get(tenant_id, "unknown")


class _TenantCounter:
    """A counter whose one label is a tenant, mapped through the labeller at every use, so a call site that
    passes ``tenant.id`` cannot put an id in a label the operator did not allow."""

    def __init__(self, counter: Counter, label: TenantLabel) -> None:
        self._counter = counter
        self._label = label

    def labels(self, tenant_id: str) -> Any:
        return self._counter.labels(self._label(tenant_id))


class _BreakerCollector(Collector):
    def __init__(self, read: Callable[[], Iterable[tuple[str, str, bool]]], label: TenantLabel) -> None:
        self._read = read
        self._label = label

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "voicepay_breaker_open",
            "1 while the provider circuit breaker of a tenant is open or half-open (failing fast).",
            labels=["tenant", "provider"],
        )
        for tenant, provider, is_open in self._read():
            family.add_metric([self._label(tenant), provider], 1.0 if is_open else 0.0)
        yield family


class Metrics:
    def __init__(self, tenant_label: TenantLabel | None = None) -> None:
        self.tenant_label: TenantLabel = tenant_label or (lambda tenant_id: tenant_id)
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "voicepay_requests", "Action calls by action and outcome.", ["action", "outcome"], registry=r
        )
        self.request_duration = Histogram(
            "voicepay_request_duration_seconds",
            "Action latency, end to end inside the gateway.",
            ["action"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.http_responses = Counter(
            "voicepay_http_responses", "HTTP responses by route template and status.", ["route", "status"], registry=r
        )
        self.provider_calls = Counter(
            "voicepay_provider_calls",
            "Logical provider calls (retries included) by outcome.",
            ["provider", "operation", "outcome"],
            registry=r,
        )
        self.provider_duration = Histogram(
            "voicepay_provider_call_duration_seconds",
            "Provider call latency including retries.",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.jobs_queued = Gauge("voicepay_jobs_queued", "Jobs waiting in the durable queue.", registry=r)
        self.jobs_oldest_age = Gauge(
            "voicepay_jobs_oldest_age_seconds", "Age of the oldest waiting job.", registry=r
        )
        self.webhook_verification_failures = _TenantCounter(
            Counter(
                "voicepay_webhook_verification_failures",
                "Webhooks and callbacks refused for a bad or missing signature.",
                ["tenant"],
                registry=r,
            ),
            self.tenant_label,
        )
        self.notifications = Counter(
            "voicepay_notifications", "Agent notification delivery attempts by outcome.", ["outcome"], registry=r
        )
        self.webhook_api_version_mismatch = Counter(
            "voicepay_webhook_api_version_mismatch",
            "Stripe events rendered in another API version than [stripe] api_version, by decision.",
            ["tenant", "decision"],
            registry=r,
        )

    def observe_provider_call(self, provider: str, operation: str, outcome: str, seconds: float) -> None:
        self.provider_calls.labels(provider, operation, outcome).inc()
        self.provider_duration.labels(provider).observe(seconds)
        acc = provider_seconds.get()
        if acc is not None:
            acc[0] += seconds

    def watch_breakers(self, read: Callable[[], Iterable[tuple[str, str, bool]]]) -> None:
        self.registry.register(_BreakerCollector(read, self.tenant_label))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def for_settings(settings: Settings) -> Metrics:
    return Metrics(tenant_labeller([t.id for t in settings.tenants], show_ids=settings.metrics.tenant_labels))


def scrape_allowed(request: web.BaseRequest, settings: Settings, *, separate_listener: bool) -> bool:
    """May this request read the metrics? On the main listener only with the configured token (and only when
    no separate listener is configured); on the separate listener with the token if one is set."""
    cfg = settings.metrics
    if cfg.listen and not separate_listener:
        return False
    token = cfg.token.reveal() if cfg.token is not None else ""
    if not token:
        return separate_listener
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    # Constant time, over bytes (a header may hold undecodable bytes as surrogates).
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    )


def metrics_response(metrics: Metrics) -> web.Response:
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})


async def start_metrics_listener(services: Services) -> tuple[web.BaseRunner, str]:
    """The separate ``/metrics`` listener (``[metrics] listen``): GET /metrics only, nothing else."""
    settings = services.settings
    assert settings.metrics.listen
    host, _, port = settings.metrics.listen.rpartition(":")
    host = host.strip("[]")

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.method != "GET" or request.path != "/metrics":
            return web.Response(status=404, headers={"Server": "voicepay-gateway"})
        if not scrape_allowed(request, settings, separate_listener=True):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"',
                                                     "Server": "voicepay-gateway"})
        resp = metrics_response(services.metrics)
        resp.headers["Server"] = "voicepay-gateway"
        return resp

    runner = web.ServerRunner(web.Server(handle), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, int(port))
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else int(port)
    return runner, f"http://{settings.metrics.listen.rpartition(':')[0]}:{bound}/metrics"
