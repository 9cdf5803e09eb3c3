"""Errors, auth, idempotency, faults, webhook delivery, the control API and the CLI."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import stripe
from aiohttp import web

from adapters.stripe.sandbox import StripeSandbox
from adapters.stripe.signing import verify_header

from .conftest import API_KEY, make_client


async def _paid(client: stripe.StripeClient, amount: int = 3000) -> Any:
    return await client.v1.payment_intents.create_async(
        params={"amount": amount, "currency": "gbp", "payment_method": "pm_card_visa", "confirm": True}
    )


# --- errors and auth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["sk_test_wrong_key_123456", None])
async def test_wrong_or_missing_key_is_401(sandbox: StripeSandbox, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as s, s.get(f"{sandbox.base_url}/v1/customers", headers=headers) as r:
        body = await r.json()
        assert r.status == 401
        assert r.headers["Request-Id"].startswith("req_")
        assert body["error"]["type"] == "invalid_request_error"
        assert "sk_test_wrong_key_123456" not in json.dumps(body)  # the key is masked
    if key:
        c, http = make_client(sandbox.base_url, key)
        with pytest.raises(stripe.AuthenticationError) as info:
            await c.v1.customers.list_async()
        assert info.value.http_status == 401
        await http.close_async()


async def test_missing_object_is_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.charges.retrieve_async("ch_doesnotexist")
    err = info.value
    assert err.http_status == 404
    assert err.code == "resource_missing"
    assert err.param == "id"
    body = err.json_body["error"]
    assert body["message"] == "No such charge: 'ch_doesnotexist'"
    assert body["doc_url"]
    assert body["request_log_url"]
    assert err.request_id == err.headers["Request-Id"]


async def test_unknown_parameter_names_the_param(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.customers.create_async(params={"email": "a@example.com", "shoe_size": "9"})  # type: ignore[typeddict-unknown-key]
    assert info.value.code == "parameter_unknown"
    assert info.value.param == "shoe_size"
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.customers.create_async(params={"address": {"planet": "Mars"}})  # type: ignore[typeddict-unknown-key]
    assert info.value.param == "address[planet]"


async def test_unknown_url_is_404(sandbox: StripeSandbox) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{sandbox.base_url}/v1/teapots", headers={"Authorization": f"Bearer {API_KEY}"}) as r,
    ):
        body = await r.json()
    assert r.status == 404
    assert "Unrecognized request URL" in body["error"]["message"]


async def test_form_arrays_both_styles(sandbox: StripeSandbox, client: stripe.StripeClient) -> None:
    pi = await _paid(client)
    async with (
        aiohttp.ClientSession() as s,
        s.get(
            f"{sandbox.base_url}/v1/payment_intents/{pi.id}?expand[]=latest_charge&expand[]=customer",
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as r,
    ):
        body = await r.json()
    assert r.status == 200
    assert body["latest_charge"]["object"] == "charge"


@pytest.mark.parametrize("field", ["card[number]", "payment_method_data[card][number]", "card[cvc]"])
async def test_raw_card_data_refused_and_not_kept(sandbox: StripeSandbox, field: str) -> None:
    pan = "4242424242424242"
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{sandbox.base_url}/v1/payment_intents",
            data={"amount": "100", "currency": "usd", field: pan},
            headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "card-1"},
        ) as r,
    ):
        text = await r.text()
    assert r.status == 400
    assert json.loads(text)["error"]["type"] == "invalid_request_error"
    assert pan not in text
    assert sandbox.count("payment_intent") == 0
    assert pan not in repr(sandbox.state.store)
    assert pan not in repr(sandbox.request_log)
    assert pan not in repr(sandbox._idem)  # nothing stored under the key either


# --- idempotency ---------------------------------------------------------------------------------------


async def test_replay_returns_first_response(client: stripe.StripeClient, sandbox: StripeSandbox) -> None:
    pi = await _paid(client)
    params = {"payment_intent": pi.id, "amount": 500}
    first = await client.v1.refunds.create_async(params=params, options={"idempotency_key": "r-1"})  # type: ignore[arg-type]
    second = await client.v1.refunds.create_async(params=params, options={"idempotency_key": "r-1"})  # type: ignore[arg-type]
    assert first.id == second.id
    assert sandbox.count("refund") == 1
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers


async def test_replay_of_an_error_replays_the_error(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    for _ in range(2):
        with pytest.raises(stripe.CardError) as info:
            await client.v1.payment_intents.create_async(
                params={
                    "amount": 1000,
                    "currency": "gbp",
                    "payment_method": "pm_card_chargeDeclined",
                    "confirm": True,
                },
                options={"idempotency_key": "decl-1"},
            )
    assert info.value.headers["Idempotent-Replayed"] == "true"
    assert sandbox.count("payment_intent") == 1


async def test_same_key_different_params_is_idempotency_error(client: stripe.StripeClient) -> None:
    pi = await _paid(client)
    await client.v1.refunds.create_async(
        params={"payment_intent": pi.id, "amount": 500}, options={"idempotency_key": "r-2"}
    )
    with pytest.raises(stripe.IdempotencyError) as info:
        await client.v1.refunds.create_async(
            params={"payment_intent": pi.id, "amount": 600}, options={"idempotency_key": "r-2"}
        )
    assert info.value.http_status == 400
    assert info.value.json_body["error"]["type"] == "idempotency_error"
    with pytest.raises(stripe.IdempotencyError):
        await client.v1.customers.create_async(options={"idempotency_key": "r-2"})


async def test_validation_failure_is_not_stored(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.customers.create_async(params={"emale": "x"}, options={"idempotency_key": "v-1"})  # type: ignore[typeddict-unknown-key]
    cus = await client.v1.customers.create_async(
        params={"email": "x@example.com"}, options={"idempotency_key": "v-1"}
    )
    assert cus.email == "x@example.com"


async def test_concurrent_same_key_gets_409(sandbox: StripeSandbox, client: stripe.StripeClient) -> None:
    pi = await _paid(client)
    sandbox.faults.add(kind="latency", path_prefix="/v1/refunds", method="POST", count=1, latency_ms=1000)
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "race-1"}
    url, data = f"{sandbox.base_url}/v1/refunds", {"payment_intent": pi.id}
    async with aiohttp.ClientSession() as s:
        first = asyncio.create_task(s.post(url, data=data, headers=headers))
        # Wait (no timing assumption) until the first request holds the key inside its latency fault.
        while not any(r.path == "/v1/refunds" for r in sandbox.request_log):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        async with s.post(url, data=data, headers=headers) as r:
            body = await r.json()
            assert r.status == 409
            assert body["error"]["type"] == "idempotency_error"
            assert body["error"]["code"] == "idempotency_key_in_use"
        resp = await first
        assert resp.status == 200
        resp.release()
    assert sandbox.count("refund") == 1


async def test_keys_expire_after_24_hours() -> None:
    now = [1_750_000_000.0]
    sb = StripeSandbox(clock=lambda: now[0])
    await sb.start()
    c, http = make_client(sb.base_url)
    try:
        await c.v1.customers.create_async(
            params={"email": "a@example.com"}, options={"idempotency_key": "ttl"}
        )
        now[0] += 23 * 3600
        with pytest.raises(stripe.IdempotencyError):
            await c.v1.customers.create_async(
                params={"email": "b@example.com"}, options={"idempotency_key": "ttl"}
            )
        now[0] += 3600
        cus = await c.v1.customers.create_async(
            params={"email": "b@example.com"}, options={"idempotency_key": "ttl"}
        )
        assert cus.email == "b@example.com"
        assert sb.count("customer") == 2
    finally:
        await http.close_async()
        await sb.stop()


async def test_overlong_key_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        await client.v1.customers.create_async(options={"idempotency_key": "k" * 256})
    assert info.value.http_status == 400


# --- faults --------------------------------------------------------------------------------------------


async def test_500_fault_then_sdk_retry_with_same_key_succeeds(sandbox: StripeSandbox) -> None:
    c, http = make_client(sandbox.base_url, max_network_retries=1)
    pi = await _paid(c)
    sandbox.faults.add(kind="500", path_prefix="/v1/refunds", method="POST", count=1)
    refund = await c.v1.refunds.create_async(params={"payment_intent": pi.id})
    await http.close_async()
    posts = [r for r in sandbox.request_log if r.path == "/v1/refunds"]
    assert [r.status for r in posts] == [500, 200]
    assert posts[0].idempotency_key == posts[1].idempotency_key  # the SDK reused its key
    assert refund.status == "succeeded"
    assert sandbox.count("refund") == 1


async def test_500_fault_surfaces_as_api_error(sandbox: StripeSandbox, client: stripe.StripeClient) -> None:
    sandbox.faults.add(kind="500", count=1)
    with pytest.raises(stripe.APIError) as info:
        await client.v1.customers.list_async()
    assert info.value.http_status == 500
    assert info.value.headers["Stripe-Should-Retry"] == "true"


async def test_stored_500_is_replayed(sandbox: StripeSandbox, client: stripe.StripeClient) -> None:
    sandbox.faults.add(kind="500_stored", path_prefix="/v1/customers", count=1)
    for _ in range(2):
        with pytest.raises(stripe.APIError) as info:
            await client.v1.customers.create_async(options={"idempotency_key": "s500"})
    assert info.value.headers["Idempotent-Replayed"] == "true"
    assert sandbox.count("customer") == 0


async def test_429_fault_is_rate_limit_error(sandbox: StripeSandbox, client: stripe.StripeClient) -> None:
    sandbox.faults.add(kind="429", count=1, retry_after=2)
    with pytest.raises(stripe.RateLimitError) as info:
        await client.v1.customers.list_async()
    assert info.value.json_body["error"]["code"] == "rate_limit"
    assert info.value.headers["Retry-After"] == "2"
    assert (await client.v1.customers.list_async()).object == "list"  # count=1: only once


async def test_timeout_fault_is_a_connection_error(sandbox: StripeSandbox) -> None:
    sandbox.faults.add(kind="timeout", path_prefix="/v1/customers", count=1, latency_ms=60_000)
    c, http = make_client(sandbox.base_url, timeout=0.3)
    with pytest.raises(stripe.APIConnectionError):
        await c.v1.customers.create_async()
    await http.close_async()
    assert sandbox.count("customer") == 0


async def test_drop_after_commit_then_retry_same_key_refunds_once(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> None:
    pi = await _paid(client)
    sandbox.faults.add(kind="drop_after_commit", path_prefix="/v1/refunds", method="POST", count=1)
    params = {"payment_intent": pi.id, "amount": 1000}
    with pytest.raises(stripe.APIConnectionError):
        await client.v1.refunds.create_async(params=params, options={"idempotency_key": "drop-1"})  # type: ignore[arg-type]
    assert sandbox.count("refund") == 1  # it happened, the client just never heard
    refund = await client.v1.refunds.create_async(params=params, options={"idempotency_key": "drop-1"})  # type: ignore[arg-type]
    assert refund.last_response.headers["Idempotent-Replayed"] == "true"
    assert sandbox.count("refund") == 1
    charge = await client.v1.charges.retrieve_async(pi.latest_charge)
    assert charge.amount_refunded == 1000


async def test_request_log_counts_round_trips(sandbox: StripeSandbox, client: stripe.StripeClient) -> None:
    await client.v1.customers.list_async(params={"email": "x@example.com"})
    await client.v1.customers.create_async()
    assert [(r.method, r.path) for r in sandbox.request_log] == [
        ("GET", "/v1/customers"),
        ("POST", "/v1/customers"),
    ]
    assert all(r.status == 200 for r in sandbox.request_log)


# --- webhooks --------------------------------------------------------------------------------------------


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[bytes, str | None]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), request.headers.get("Stripe-Signature")))
        if len(self.received) <= self.fail_first:
            return web.Response(status=503)
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield rec
    await runner.cleanup()


async def test_events_are_delivered_signed(
    sandbox: StripeSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    sandbox.add_webhook_endpoint(
        receiver.url, "whsec_receiver", enabled_events=["refund.created", "charge.refunded"]
    )
    pi = await _paid(client)
    refund = await client.v1.refunds.create_async(params={"payment_intent": pi.id})
    await sandbox.flush_webhooks()
    events = [stripe.Webhook.construct_event(body, sig, "whsec_receiver") for body, sig in receiver.received]
    assert sorted(e.type for e in events) == ["charge.refunded", "refund.created"]
    created = next(e for e in events if e.type == "refund.created")
    assert created.data.object.id == refund.id
    assert created.data.object.status == "succeeded"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(receiver.received[0][0], receiver.received[0][1], "whsec_other")
    stored = await client.v1.events.retrieve_async(created.id)
    assert stored.pending_webhooks == 0


async def test_rotated_secrets_sign_twice(
    sandbox: StripeSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    sandbox.add_webhook_endpoint(receiver.url, ["whsec_old", "whsec_new"])
    await client.v1.customers.create_async()
    await sandbox.flush_webhooks()
    body, sig = receiver.received[0]
    assert sig is not None
    assert sig.count("v1=") == 2
    stripe.Webhook.construct_event(body, sig, "whsec_old")
    stripe.Webhook.construct_event(body, sig, "whsec_new")
    assert verify_header(body, sig, ["whsec_new"]) > 0


async def test_failed_deliveries_are_retried_then_succeed(
    sandbox: StripeSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    sandbox.add_webhook_endpoint(receiver.url, "whsec_r")
    await client.v1.customers.create_async()
    await sandbox.flush_webhooks()
    assert [d.status for d in sandbox.webhook_deliveries] == [503, 503, 200]
    assert len({body for body, _ in receiver.received}) == 1  # the same event each time
    assert len({sig for _, sig in receiver.received}) >= 1


async def test_delivery_gives_up_after_bounded_attempts(
    sandbox: StripeSandbox, client: stripe.StripeClient, receiver: Receiver
) -> None:
    receiver.fail_first = 100
    sandbox.add_webhook_endpoint(receiver.url, "whsec_r")
    await client.v1.customers.create_async()
    await sandbox.flush_webhooks()
    assert len(sandbox.webhook_deliveries) == 1 + len(sandbox.webhook_retry_delays)
    assert sandbox.events()[0]["pending_webhooks"] == 1


async def test_unreachable_endpoint_does_not_block_the_api(
    sandbox: StripeSandbox, client: stripe.StripeClient
) -> None:
    sandbox.add_webhook_endpoint("http://127.0.0.1:9/unreachable", "whsec_r")
    cus = await client.v1.customers.create_async()
    assert cus.id.startswith("cus_")
    await sandbox.flush_webhooks()
    assert all(d.error for d in sandbox.webhook_deliveries)


# --- control API and CLI ----------------------------------------------------------------------------------


async def test_control_api(sandbox: StripeSandbox, receiver: Receiver) -> None:
    base = sandbox.base_url
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/_sandbox/reset", json={"seed": True}) as r:
            seed = (await r.json())["seed"]
        sub = seed["subscriptions"]["ada_active"]["id"]
        async with s.post(
            f"{base}/_sandbox/webhook_endpoints", json={"url": receiver.url, "secret": "whsec_c"}
        ) as r:
            assert r.status == 200
        async with s.post(
            f"{base}/_sandbox/faults", json={"kind": "429", "path_prefix": "/v1/customers", "count": 1}
        ) as r:
            assert (await r.json())["kind"] == "429"
        async with s.post(f"{base}/_sandbox/faults", json={"kind": "nope"}) as r:
            assert r.status == 400
        async with s.get(f"{base}/v1/customers", headers={"Authorization": f"Bearer {API_KEY}"}) as r:
            assert r.status == 429
        async with s.get(f"{base}/_sandbox/requests") as r:
            assert [(x["method"], x["path"], x["status"]) for x in await r.json()] == [
                ("GET", "/v1/customers", 429)
            ]
        async with s.post(f"{base}/_sandbox/subscriptions/{sub}/past_due") as r:
            assert (await r.json())["status"] == "past_due"
        await sandbox.flush_webhooks()
        async with s.get(f"{base}/_sandbox/webhook_deliveries") as r:
            types = sorted(d["event_type"] for d in await r.json())
        assert types == ["customer.subscription.updated", "invoice.payment_failed"]
        async with s.post(f"{base}/_sandbox/subscriptions/sub_nope/past_due") as r:
            assert r.status == 404


async def test_cli_serves_seeded_sandbox() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.stripe.sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--seed",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        info = json.loads(line)
        c, http = make_client(info["base_url"])
        found = await c.v1.customers.list_async(params={"email": "ada@example.com"})
        assert [x.id for x in found.data] == [info["seed"]["customers"]["ada"]["id"]]
        await http.close_async()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=30)
    assert proc.returncode == 0
