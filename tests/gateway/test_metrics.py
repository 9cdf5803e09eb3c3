from __future__ import annotations

from tests.gateway.conftest import new_key
from tests.gateway.helpers import auth

STRIPE_VISA = "4242424242424242"
METRICS_TOKEN = "metrics-token-for-tests"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def metrics_section(settings_factory, **extra):
    return {"token": settings_factory.ring.encrypt(METRICS_TOKEN), **extra}


async def test_metrics_count_actions_by_outcome_and_routes_by_template(make_client, sqlite_url, settings_factory):
    client = await make_client(sqlite_url, metrics=metrics_section(settings_factory))
    key = await new_key(client)
    await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))
    await client.post("/v1/actions/test.echo", json={"text": "x"}, headers=auth(key, **{"X-Call-Id": "c"}))
    await client.post("/v1/actions/gateway.ping", json={}, headers=auth("vpk_bad"))
    await client.post(f"/v1/actions/test.echo?card={STRIPE_VISA}", json={}, headers=auth(key))
    await client.get(f"/nope/{STRIPE_VISA}")
    resp = await client.get("/metrics", headers=SCRAPE)
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert 'voicepay_requests_total{action="gateway.ping",outcome="SUCCEEDED"} 1.0' in text
    assert 'voicepay_requests_total{action="test.echo",outcome="SUCCEEDED"} 1.0' in text
    assert 'voicepay_request_duration_seconds_count{action="gateway.ping"} 1.0' in text
    assert 'voicepay_http_responses_total{route="/v1/actions/{name}",status="401"} 1.0' in text
    assert 'voicepay_http_responses_total{route="unmatched",status="404"} 1.0' in text
    # Labels are templates and closed sets: nothing from the request content gets in.
    assert STRIPE_VISA not in text and "/nope" not in text


async def test_action_responses_report_provider_time_in_server_timing(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    resp = await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))
    timing = dict(part.strip().split(";dur=") for part in resp.headers["Server-Timing"].split(","))
    assert set(timing) == {"action", "provider"}
    assert float(timing["provider"]) == 0.0  # ping calls no provider
    assert float(timing["action"]) >= 0.0


async def test_refused_webhooks_are_counted_per_configured_tenant_only(make_client, sqlite_url, settings_factory):
    client = await make_client(sqlite_url, metrics=metrics_section(settings_factory, tenant_labels=True))
    await client.post("/v1/webhooks/stripe/acme", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    await client.post("/v1/webhooks/stripe/no-such-tenant-4242", data=b"{}")
    text = await (await client.get("/metrics", headers=SCRAPE)).text()
    assert 'voicepay_webhook_verification_failures_total{tenant="acme"} 1.0' in text
    assert 'voicepay_webhook_verification_failures_total{tenant="unknown"} 1.0' in text
    assert "no-such-tenant" not in text


async def test_queue_stats_report_depth_and_oldest_age(store_url):
    from gateway import jobs
    from gateway.store import open_store

    store = await open_store(store_url)
    try:
        await store.migrate()
        assert await jobs.queue_stats(store) == (0, 0.0)
        await jobs.enqueue(store, "stripe_event", "acme", "1")
        await store.execute("UPDATE jobs SET created_at = created_at - 100")
        await jobs.enqueue(store, "stripe_event", "acme", "2")
        n, age = await jobs.queue_stats(store)
        assert n == 2 and 100 <= age < 200
    finally:
        await store.close()
