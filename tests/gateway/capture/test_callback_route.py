"""``POST /v1/callbacks/pcipal/{tenant}`` through the real app: every verification mode, the card-data gate,
dedupe, and the uniform refusal for unknown tenants."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.pcipal.callbacks import sign_callback
from gateway import captures
from tests.gateway.conftest import Client, services

SECRET = "cb-secret-1"
TOKEN = "cb-token-1"
CID = "cap_0123456789abcdef01234567"
PAN = "4242424242424242"


def tenant(ring: Any, callback_auth: dict[str, Any] | None) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("sk_test_acme"),
        "stripe_api_base": "http://127.0.0.1:9", "currency": "gbp",
    }
    if callback_auth is not None:
        t["pcipal"] = {
            "base_url": "http://127.0.0.1:9", "tenant_name": "acme", "tenant_number": "1000",
            "client_id": "id", "client_secret": ring.encrypt("secret"), "flow_id": "1055",
            "callback_auth": callback_auth,
        }
    return t


@pytest.fixture
def make(
    make_client: Callable[..., Awaitable[Client]], settings_factory: Any, sqlite_url: str
) -> Callable[[dict[str, Any] | None], Awaitable[Client]]:
    ring = settings_factory.ring

    async def build(auth: dict[str, Any] | None) -> Client:
        enc: dict[str, Any] | None = None
        if auth is not None:
            enc = {
                "hmac_secrets": [ring.encrypt(s) for s in auth.get("hmac_secrets", [])],
                "ip_allowlist": auth.get("ip_allowlist", []),
            }
            if "bearer_token" in auth:
                enc["bearer_token"] = ring.encrypt(auth["bearer_token"])
        client = await make_client(sqlite_url, tenants=[tenant(ring, enc)],
                                   server={"public_base_url": "http://127.0.0.1:1"})
        store = services(client).store
        await captures.create(store, capture_id=CID, tenant_id="acme", amount=1200, currency="gbp",
                              description="Order", customer_id=None, ttl_seconds=900)
        await captures.transition(store, "acme", CID, "awaiting_caller", pcipal_session_id="sess-1",
                                  pcipal_link_id="1234")
        return client

    return build


def body(result: str = "declined", **extra: str) -> bytes:
    fields = {"transactionResult": result, "orderReference": CID, "PCIPalSessionId": "sess-1",
              "cardLast4": "4242", "cardType": "visa", **extra}
    return json.dumps(fields).encode()


def signed(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-PCIPal-Signature": sign_callback(raw, secret, int(time.time()))}


async def post(client: Client, raw: bytes, headers: dict[str, str], tenant_id: str = "acme") -> tuple[int, Any]:
    resp = await client.post(f"/v1/callbacks/pcipal/{tenant_id}", data=raw, headers=headers)
    return resp.status, await resp.json()


async def state(client: Client) -> str:
    c = await captures.get(services(client).store, "acme", CID)
    assert c is not None
    return c.state


async def test_hmac_good_is_processed(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = body("declined", declineCode="insufficient_funds")
    status, payload = await post(client, raw, signed(raw))
    assert status == 200
    assert payload["state"] == "failed"
    c = await captures.get(services(client).store, "acme", CID)
    assert c is not None
    assert c.failure_reason == "the card has insufficient funds"


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json"},
    {"Content-Type": "application/json", "X-PCIPal-Signature": "t=1,v1=00"},
    {"Content-Type": "application/json", "X-PCIPal-Signature": "garbage"},
])
async def test_hmac_missing_or_bad_is_refused(make: Any, headers: dict[str, str]) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    status, payload = await post(client, body(), headers)
    assert status == 401
    assert payload["error"]["code"] == "unauthorized"
    assert await state(client) == "awaiting_caller"


async def test_hmac_signed_with_another_secret_is_refused(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = body()
    status, _ = await post(client, raw, signed(raw, "other"))
    assert status == 401


async def test_unknown_tenant_gets_the_same_answer_as_a_bad_signature(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = body()
    s1, bad = await post(client, raw, signed(raw, "other"))
    s2, unknown = await post(client, raw, signed(raw), tenant_id="nobody")
    s3, other = await post(client, raw, signed(raw), tenant_id="globex")
    assert s1 == s2 == s3 == 401
    assert bad["error"] == unknown["error"] == other["error"]


async def test_tenant_without_pcipal_refuses_everything(make: Any) -> None:
    client = await make(None)
    raw = body()
    status, _ = await post(client, raw, signed(raw))
    assert status == 401


@pytest.mark.parametrize(("header", "expected"), [
    ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ({"Authorization": "Bearer wrong"}, 401),
    ({}, 401),
])
async def test_bearer_mode(make: Any, header: dict[str, str], expected: int) -> None:
    client = await make({"bearer_token": TOKEN})
    status, _ = await post(client, body(), {"Content-Type": "application/json", **header})
    assert status == expected


@pytest.mark.parametrize(("allow", "expected"), [(["127.0.0.1/32"], 200), (["10.0.0.0/8"], 401)])
async def test_ip_allowlist_mode(make: Any, allow: list[str], expected: int) -> None:
    client = await make({"ip_allowlist": allow})
    status, _ = await post(client, body(), {"Content-Type": "application/json"})
    assert status == expected


async def test_every_configured_mode_must_pass(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET], "bearer_token": TOKEN})
    raw = body()
    status, _ = await post(client, raw, signed(raw))  # hmac good, bearer missing
    assert status == 401
    status, _ = await post(client, raw, {**signed(raw), "Authorization": f"Bearer {TOKEN}"})
    assert status == 200


@pytest.mark.parametrize("raw_fields", [
    {"cardNumber": PAN},
    {"cardNumber": "4242 4242 4242 4242"},
    {"cvv": "123"},
])
async def test_card_data_is_refused_and_nothing_is_stored(
    make: Any, raw_fields: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = body("success", **raw_fields)
    resp = await client.post("/v1/callbacks/pcipal/acme", data=raw, headers=signed(raw))
    text = await resp.text()
    assert resp.status == 422
    assert PAN not in text and "4242 4242 4242 4242" not in text
    assert await services(client).store.fetchall("SELECT * FROM capture_callbacks") == []
    assert await state(client) == "awaiting_caller"
    alerts = [r for r in caplog.records if "ALERT" in r.getMessage()]
    assert alerts
    for r in caplog.records:
        assert PAN not in r.getMessage()


async def test_form_encoded_pan_is_refused(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = urlencode({"transactionResult": "SUCCESS", "orderReference": CID, "cardNumber": PAN}).encode()
    headers = {**signed(raw), "Content-Type": "application/x-www-form-urlencoded"}
    status, _ = await post(client, raw, headers)
    assert status == 422


async def test_duplicate_is_acknowledged_and_not_processed_again(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = body("hangup")
    s1, first = await post(client, raw, signed(raw))
    s2, second = await post(client, raw, signed(raw))
    assert (s1, s2) == (200, 200)
    assert first["state"] == "canceled"
    assert second == {"ok": True, "duplicate": True}
    rows = await services(client).store.fetchall("SELECT * FROM capture_callbacks")
    assert len(rows) == 1
    notes = await services(client).store.fetchall("SELECT kind FROM notifications")
    assert [n["kind"] for n in notes] == ["capture.canceled"]


async def test_success_callback_without_stripe_confirmation_is_not_paid(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    raw = body("success")
    status, payload = await post(client, raw, signed(raw))
    assert status == 200
    assert payload["state"] == "processing"


async def test_oversized_unparseable_and_unknown_capture(make: Any) -> None:
    client = await make({"hmac_secrets": [SECRET]})
    big = b"{" + b" " * (20 * 1024) + b"}"
    status, _ = await post(client, big, signed(big))
    assert status == 413
    junk = b'{"nothing": "here"}'
    status, _ = await post(client, junk, signed(junk))
    assert status == 400
    other = json.dumps({"transactionResult": "success", "orderReference": "cap_ffffffffffffffffffffffff"}).encode()
    status, _ = await post(client, other, signed(other))
    assert status == 404


async def test_a_tenant_field_mapping_decides_which_fields_are_read(
    make_client: Callable[..., Awaitable[Client]], settings_factory: Any, sqlite_url: str
) -> None:
    ring = settings_factory.ring
    t = tenant(ring, {"hmac_secrets": [ring.encrypt(SECRET)]})
    t["pcipal"]["callback_fields"] = {"result": "customData2", "order_reference": "customData1"}
    client = await make_client(sqlite_url, tenants=[t], server={"public_base_url": "http://127.0.0.1:1"})
    store = services(client).store
    await captures.create(store, capture_id=CID, tenant_id="acme", amount=1200, currency="gbp",
                          description="Order", customer_id=None, ttl_seconds=900)
    await captures.transition(store, "acme", CID, "awaiting_caller", pcipal_session_id="sess-1", pcipal_link_id="1")
    # The flow's lossy transactionResult says DECLINE; the mapped field says what really happened.
    raw = json.dumps({"transactionResult": "DECLINE", "customData2": "CANCELLED", "customData1": CID}).encode()
    status, payload = await post(client, raw, signed(raw))
    assert status == 200, payload
    assert await state(client) == "canceled"


def test_an_unknown_callback_field_key_is_a_configuration_error(settings_factory: Any, sqlite_url: str) -> None:
    from gateway.settings import SettingsError

    ring = settings_factory.ring
    t = tenant(ring, {"hmac_secrets": [ring.encrypt(SECRET)]})
    t["pcipal"]["callback_fields"] = {"paymnet_intent_id": "customData1"}
    with pytest.raises(SettingsError, match="paymnet_intent_id"):
        settings_factory(sqlite_url, tenants=[t])


@pytest.mark.parametrize(("forwarded_for", "expected"), [("203.0.113.5", 200), ("198.51.100.7", 401)])
async def test_behind_a_trusted_proxy_the_allowlist_sees_the_forwarded_client(
    make_client: Callable[..., Awaitable[Client]], settings_factory: Any, sqlite_url: str,
    forwarded_for: str, expected: int,
) -> None:
    ring = settings_factory.ring
    t = tenant(ring, {"hmac_secrets": [ring.encrypt(SECRET)], "ip_allowlist": ["203.0.113.0/24"]})
    client = await make_client(
        sqlite_url, tenants=[t],
        server={"public_base_url": "http://127.0.0.1:1", "trusted_proxies": ["127.0.0.0/8"]},
    )
    store = services(client).store
    await captures.create(store, capture_id=CID, tenant_id="acme", amount=1200, currency="gbp",
                          description="Order", customer_id=None, ttl_seconds=900)
    await captures.transition(store, "acme", CID, "awaiting_caller", pcipal_session_id="sess-1", pcipal_link_id="1")
    raw = body("declined")
    status, _ = await post(client, raw, {**signed(raw), "X-Forwarded-For": forwarded_for})
    assert status == expected
    assert (await client.get("/healthz")).status == 200  # probes need no proxy


async def test_with_trusted_proxies_set_a_direct_peer_is_refused_with_a_json_error(
    make_client: Callable[..., Awaitable[Client]], sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, server={"trusted_proxies": ["10.0.0.0/8"]})
    resp = await client.post("/v1/actions/gateway.ping", json={})
    assert resp.status == 400
    assert (await resp.json())["ok"] is False and resp.headers["X-Request-Id"]
