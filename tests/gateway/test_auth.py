from __future__ import annotations

from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import auth


async def test_when_no_key_then_401_with_json_error(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    resp = await client.post("/v1/actions/gateway.ping", json={})
    assert resp.status == 401
    body = await resp.json()
    assert body["ok"] is False and body["error"]["code"] == "unauthorized"
    assert body["error"]["say"]
    assert resp.headers["X-Request-Id"] == body["request_id"]


async def test_when_key_is_malformed_or_unknown_then_401(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    real = await new_key(client)
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for bad in ["nonsense", "vpk_000000000000_" + "x" * 43, forged]:
        resp = await client.post("/v1/actions/gateway.ping", json={}, headers=auth(bad))
        assert resp.status == 401, bad


async def test_when_key_is_revoked_then_401(make_client, sqlite_url, monkeypatch):
    monkeypatch.setattr("gateway.auth.CACHE_SECONDS", 0.0)
    client = await make_client(sqlite_url)
    key = await new_key(client)
    assert (await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))).status == 200
    key_id = key.split("_")[1]
    assert await services(client).keys.revoke(key_id)
    resp = await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))
    assert resp.status == 401


async def test_when_action_outside_scopes_then_403(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client, scopes=("payments:read",))
    resp = await client.post(
        "/v1/actions/test.echo", json={"text": "hi"}, headers=auth(key, **{"Idempotency-Key": "k1"})
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"


async def test_keys_are_bound_to_their_tenant(make_client, store_url):
    client = await make_client(store_url)
    acme = await new_key(client, "acme")
    globex = await new_key(client, "globex")
    a = await (await client.post("/v1/actions/gateway.ping", json={}, headers=auth(acme))).json()
    g = await (await client.post("/v1/actions/gateway.ping", json={}, headers=auth(globex))).json()
    assert a["result"]["tenant"] == "acme" and g["result"]["tenant"] == "globex"
    # The same idempotency key in another tenant is a different record: no cross-tenant replay.
    h = {"Idempotency-Key": "shared-key"}
    r1 = await (await client.post("/v1/actions/test.echo", json={"text": "a"}, headers=auth(acme, **h))).json()
    r2 = await client.post("/v1/actions/test.echo", json={"text": "b"}, headers=auth(globex, **h))
    assert r2.status == 200 and "Idempotent-Replayed" not in r2.headers
    assert (await r2.json())["result"]["text"] == "b" and r1["result"]["text"] == "a"


async def test_stored_key_is_a_hash_not_the_key(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    rows = await services(client).store.fetchall("SELECT * FROM agent_keys")
    assert rows and all(key not in str(v) for r in rows for v in r.values())
    # The secret is everything after the key id: it may itself contain "_" (token_urlsafe).
    assert all(key.split("_", 2)[2] not in str(v) for r in rows for v in r.values())


async def test_when_tenant_removed_from_config_its_keys_stop_working(make_client, sqlite_url, settings_factory):
    client = await make_client(sqlite_url)
    key = await new_key(client, "globex")
    await client.close()
    only_acme = settings_factory(sqlite_url).tenants[:1]
    client2 = await make_client(sqlite_url, tenants=[t.model_dump() | {
        "stripe_secret_key": settings_factory.ring.encrypt("sk_test_acme"),
        "stripe_webhook_secrets": [],
    } for t in only_acme])
    resp = await client2.post("/v1/actions/gateway.ping", json={}, headers=auth(key))
    assert resp.status == 401
