"""Prometheus metrics, one registry per app (no process globals, so tests and several apps never collide).

Label values come only from closed sets: registered action names, outcome names, route templates, fixed
provider operation names, configured tenant ids. Never from request content, so no label can carry card data
or free text. The names below are the contract with ``deploy/prometheus/alerts.yaml``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Phone-call scale: most actions finish well under a second; the tail matters up to the bot's patience.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 20.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Seconds spent waiting on providers during the current request. A one-element list, so that tasks spawned
#: by an action (asyncio.gather copies the context) add to the same total. Reported in ``Server-Timing`` so
#: operators and benchmarks can split latency into gateway overhead and provider time.
provider_seconds: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "provider_seconds", default=None
)


class _BreakerCollector(Collector):
    def __init__(self, read: Callable[[], Iterable[tuple[str, str, bool]]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "voicepay_breaker_open",
            "1 while the provider circuit breaker of a tenant is open or half-open (failing fast).",
            labels=["tenant", "provider"],
        )
        for tenant, provider, is_open in self._read():
            family.add_metric([tenant, provider], 1.0 if is_open else 0.0)
        yield family


class Metrics:
    def __init__(self) -> None:
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
        self.webhook_verification_failures = Counter(
            "voicepay_webhook_verification_failures",
            "Webhooks and callbacks refused for a bad or missing signature.",
            ["tenant"],
            registry=r,
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
        self.registry.register(_BreakerCollector(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
