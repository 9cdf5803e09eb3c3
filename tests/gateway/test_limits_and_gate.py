from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from gateway.logs import configure_logging
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import Echo, auth

# Stripe's documented test card numbers, and one synthetic Luhn-valid number made here.
STRIPE_VISA = "4242424242424242"
STRIPE_AMEX = "378282246310005"


def _luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "7" * (length - len(prefix) - 1)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


SYNTHETIC = _luhn_complete("51", 16)


async def test_body_over_the_limit_is_refused_with_413(make_client, sqlite_url):
    client = await make_client(sqlite_url, server={"max_body_bytes": 2048})
    key = await new_key(client)
    resp = await client.post(
        "/v1/actions/test.echo", json={"text": "x" * 5000}, headers=auth(key, **{"Idempotency-Key": "big"})
    )
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"
    assert Echo.runs == 0


async def test_rate_limit_answers_429_with_retry_after(make_client, sqlite_url):
    client = await make_client(sqlite_url, rate_limit={"per_key_rate": 0.5, "burst": 3})
    key = await new_key(client)
    statuses = [(await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))) for _ in range(5)]
    codes = [r.status for r in statuses]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert int(statuses[3].headers["Retry-After"]) >= 1
    # Another key has its own bucket.
    other = await new_key(client)
    assert (await client.post("/v1/actions/gateway.ping", json={}, headers=auth(other))).status == 200


async def test_validation_error_names_the_field_and_never_echoes_input(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    resp = await client.post(
        "/v1/actions/test.echo",
        json={"text": ["secret-looking-value"], "amount": "lots", "extra": 1},
        headers=auth(key, **{"Idempotency-Key": "v"}),
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["error"]["code"] == "validation_failed"
    fields = {e["field"] for e in body["error"]["details"]["errors"]}
    # An unknown key is named as such, never echoed: the bot may have put card digits in a key.
    assert fields == {"text", "amount", "(unknown field)"}
    assert "secret-looking-value" not in json.dumps(body) and "lots" not in json.dumps(body)
    assert "extra" not in json.dumps(body)


async def test_bad_json_and_wrong_content_type_are_clear_errors(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    bad = await client.post("/v1/actions/gateway.ping", data=b"{nope", headers=auth(key, **{"Content-Type": "application/json"}))
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_json"
    form = await client.post("/v1/actions/gateway.ping", data=b"a=b", headers=auth(key, **{"Content-Type": "application/x-www-form-urlencoded"}))
    assert form.status == 415
    arr = await client.post("/v1/actions/gateway.ping", json=[1, 2], headers=auth(key))
    assert arr.status == 400


async def test_unknown_action_and_unknown_route_are_json_404s(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    r1 = await client.post("/v1/actions/nope.nothing", json={}, headers=auth(key))
    r2 = await client.get("/no/such/path")
    assert r1.status == r2.status == 404
    assert (await r1.json())["error"]["code"] == "unknown_action"
    assert (await r2.json())["ok"] is False


async def test_unexpected_exception_is_a_json_500_without_a_stack_trace(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    Echo.fail_with = ZeroDivisionError("boom-detail")
    resp = await client.post("/v1/actions/test.echo", json={"text": "x"}, headers=auth(key, **{"Idempotency-Key": "z"}))
    Echo.fail_with = None
    text = await resp.text()
    assert resp.status == 500 and json.loads(text)["error"]["code"] == "internal_error"
    assert "Traceback" not in text and "boom-detail" not in text


async def test_card_number_in_body_is_refused_and_appears_nowhere(make_client, sqlite_url, tmp_path: Path):
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream)
    try:
        client = await make_client(sqlite_url)
        key = await new_key(client)
        bodies = [
            {"text": f"my card is {STRIPE_VISA}"},
            {"text": "4242 4242 4242 4242"},
            {"text": "x", "amount": int(SYNTHETIC)},
            {"text": "3782-822463-10005"},
        ]
        for i, body in enumerate(bodies):
            resp = await client.post(
                "/v1/actions/test.echo?note=1", json=body, headers=auth(key, **{"Idempotency-Key": f"card{i}"})
            )
            text = await resp.text()
            assert resp.status == 422, body
            payload = json.loads(text)
            assert payload["error"]["code"] == "card_data_not_accepted"
            assert "secure" in payload["error"]["say"]
            for pan in (STRIPE_VISA, SYNTHETIC, STRIPE_AMEX, "4242 4242 4242 4242"):
                assert pan not in text
        # Also refused in the query string.
        q = await client.post(f"/v1/actions/gateway.ping?c={STRIPE_VISA}", json={}, headers=auth(key))
        assert q.status == 422
        logging.getLogger("some.library").info("card %s", STRIPE_VISA)
        assert Echo.runs == 0
        await client.close()
    finally:
        logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert logged  # the access log and the library line were written...
    for pan in (STRIPE_VISA, SYNTHETIC, STRIPE_AMEX, "3782-822463-10005"):
        assert pan not in logged  # ...without any card number
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    for pan in (STRIPE_VISA, SYNTHETIC, STRIPE_AMEX):
        assert pan.encode() not in raw


async def test_every_response_carries_a_request_id(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    for resp in [await client.get("/healthz"), await client.get("/readyz"), await client.get("/nope")]:
        assert resp.headers["X-Request-Id"].startswith("req_")


async def test_readyz_reports_store_and_migrations(make_client, store_url):
    client = await make_client(store_url)
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["migrations"] is True
    await services(client).store.execute("DELETE FROM schema_migrations")
    resp = await client.get("/readyz")
    assert resp.status == 503


async def test_a_body_arriving_in_many_chunks_is_read_whole(make_client, sqlite_url):
    client = await make_client(sqlite_url, server={"max_body_bytes": 200_000})
    key = await new_key(client)
    text = "y" * 150_000  # several TCP segments / stream chunks

    async def gen():
        body = json.dumps({"text": text}).encode()
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    resp = await client.post(
        "/v1/actions/test.echo", data=gen(), headers=auth(key, **{"Idempotency-Key": "chunks", "Content-Type": "application/json"})
    )
    assert resp.status == 200
    assert (await resp.json())["result"]["text"] == text
