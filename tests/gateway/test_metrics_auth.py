"""``/metrics`` behind a bearer token or a separate listener, and tenant ids in labels only when allowed
(issue 11 point 7)."""

from __future__ import annotations

from typing import Any

import aiohttp

from gateway.metrics import for_settings, start_metrics_listener
from gateway.sandbox import _metrics_state, sandbox_settings
from tests.gateway.conftest import services

TOKEN = "scrape-token-0123456789"


def section(settings_factory: Any, **extra: Any) -> dict[str, Any]:
    return {"token": settings_factory.ring.encrypt(TOKEN), **extra}


async def test_without_token_or_listener_there_is_no_metrics_endpoint(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url)
    resp = await client.get("/metrics")
    payload = await resp.json()
    assert resp.status == 404 and payload["error"]["code"] == "not_found"


async def test_metrics_need_the_bearer_token(make_client: Any, sqlite_url: str, settings_factory: Any) -> None:
    client = await make_client(sqlite_url, metrics=section(settings_factory))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer"}):
        resp = await client.get("/metrics", headers=headers)
        payload = await resp.json()
        assert resp.status == 401 and payload["error"]["code"] == "unauthorized", headers
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200 and "voicepay_http_responses_total" in await resp.text()


async def test_tenant_ids_are_aliased_unless_the_operator_allows_them(
    make_client: Any, sqlite_url: str, settings_factory: Any
) -> None:
    client = await make_client(sqlite_url, metrics=section(settings_factory))
    await client.post("/v1/webhooks/stripe/acme", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    await client.post("/v1/webhooks/stripe/globex", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    await client.post("/v1/webhooks/stripe/nobody", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    services(client).metrics.watch_breakers(lambda: [("acme", "stripe", True), ("globex", "stripe", False)])
    text = await (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text()
    assert 'voicepay_webhook_verification_failures_total{tenant="tenant-1"} 1.0' in text
    assert 'voicepay_webhook_verification_failures_total{tenant="tenant-2"} 1.0' in text
    assert 'voicepay_webhook_verification_failures_total{tenant="unknown"} 1.0' in text
    assert 'voicepay_breaker_open{provider="stripe",tenant="tenant-1"} 1.0' in text
    assert "acme" not in text and "globex" not in text and "nobody" not in text


def test_tenant_labels_on_shows_ids(settings_factory: Any, sqlite_url: str) -> None:
    metrics = for_settings(settings_factory(sqlite_url, metrics={"tenant_labels": True}))
    metrics.webhook_verification_failures.labels("acme").inc()
    metrics.watch_breakers(lambda: [("globex", "stripe", False)])
    text = metrics.render().decode()
    assert 'tenant="acme"' in text and 'tenant="globex"' in text


async def test_a_separate_listener_serves_metrics_and_the_main_one_does_not(
    make_client: Any, sqlite_url: str, settings_factory: Any
) -> None:
    client = await make_client(sqlite_url, metrics=section(settings_factory, listen="127.0.0.1:0"))
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status == 404
    runner, url = await start_metrics_listener(services(client))
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.get(url) as resp:
                assert resp.status == 401
            async with session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
                assert resp.status == 200 and "voicepay_requests" in await resp.text()
                assert resp.headers["Server"] == "voicepay-gateway"
            async with session.get(url.replace("/metrics", "/healthz"),
                                   headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
                assert resp.status == 404  # nothing but /metrics on this listener
    finally:
        await runner.cleanup()


async def test_separate_listener_without_token_is_open_to_its_network(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, metrics={"listen": "127.0.0.1:0"})
    runner, url = await start_metrics_listener(services(client))
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session, \
                session.get(url) as resp:
            assert resp.status == 200
    finally:
        await runner.cleanup()


def test_sandbox_writes_where_and_how_to_scrape(tmp_path: Any) -> None:
    settings = sandbox_settings(var_dir=str(tmp_path), stripe_base_url="http://127.0.0.1:9",
                                webhook_secret="whsec_x", pcipal=None, public_base_url="http://127.0.0.1:8080",
                                metrics_token="tok-123")
    assert _metrics_state(settings, "http://127.0.0.1:8080") == {
        "metrics_url": "http://127.0.0.1:8080/metrics", "metrics_token": "tok-123"}
