"""The PCI Pal emulator end to end over real sockets on 127.0.0.1: launch, the caller's scenarios, the
Stripe MOTO confirmation, callback formats, auth, retries, duplicates, email fallback, expiry."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from adapters.pcipal.callbacks import (
    CallbackVerifier,
    FieldMapping,
    parse_callback,
)
from adapters.pcipal.client import LaunchResult
from adapters.pcipal.emulator import DeliveryOptions, FlowConfig, PciPalEmulator
from adapters.stripe.sandbox import StripeSandbox
from redaction import contains_card_number

from .conftest import CallbackReceiver, FakeClock, StripeStub, client_for

SECRET = "pcipal-callback-hmac-secret"
STRIPE_KEY = "sk_test_pcipal_emulator"


@pytest.fixture
async def stripe_sandbox() -> AsyncIterator[StripeSandbox]:
    sandbox = StripeSandbox(api_key=STRIPE_KEY)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


async def launch(
    emulator: PciPalEmulator, clock: FakeClock, receiver: CallbackReceiver, flow_id: str = "1055",
    **extra: str,
) -> LaunchResult:
    values = {"orderId": "ord-77", "amount": "1299", "currencyCode": "GBP", "callbackURL": receiver.url}
    values.update(extra)
    async with client_for(emulator, clock, flow_id=flow_id) as client:
        return await client.launch(initial_values=values)


def assert_no_card_numbers(receiver: CallbackReceiver, emulator: PciPalEmulator) -> None:
    for received in receiver.received:
        assert not contains_card_number(received.body.decode())
    for session in emulator.sessions.values():
        assert not contains_card_number(json.dumps(session.callback_fields or {}))


async def stripe_get(sandbox: StripeSandbox, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(
        f"{sandbox.base_url}{path}", headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    ) as resp:
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        return data


async def stripe_post(sandbox: StripeSandbox, path: str, form: dict[str, str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(
        f"{sandbox.base_url}{path}", data=form, headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    ) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == 200, data
        return data


# ------------------------------------------------------------------------- with the Stripe sandbox


async def test_success_creates_moto_payment_intent_and_delivers_signed_rich_callback(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver,
    stripe_sandbox: StripeSandbox,
) -> None:
    flow = FlowConfig(profile="stripe_rich", callback_auth="hmac", callback_secret=SECRET, retry_backoff=0)
    emulator: PciPalEmulator = await make_emulator(
        flows={"1055": flow}, stripe_base_url=stripe_sandbox.base_url, stripe_api_key=STRIPE_KEY
    )
    session = await launch(emulator, clock, receiver)

    outcome = await emulator.simulate(session.session_id, "success", card="mastercard")

    assert outcome.delivered
    assert outcome.result == "success"
    [received] = receiver.received
    CallbackVerifier(hmac_secrets=[SECRET], ip_allowlist=["127.0.0.1/32"], clock=clock).verify(
        received.body, received.headers, received.remote
    )
    result = parse_callback(received.body, received.content_type)
    assert result.result == "success"
    assert result.session_id == session.session_id
    assert result.order_reference == "ord-77"
    assert (result.amount, result.currency) == (1299, "gbp")
    assert (result.card_brand, result.card_last4) == ("mastercard", "4444")
    assert result.payment_intent_id is not None
    assert result.payment_intent_id.startswith("pi_")
    assert result.payment_method_id is not None
    # The callback reports the card as Stripe recorded it.
    pm = await stripe_get(stripe_sandbox, f"/v1/payment_methods/{result.payment_method_id}")
    assert (result.card_exp_month, result.card_exp_year) == (pm["card"]["exp_month"], pm["card"]["exp_year"])
    assert result.card_last4 == pm["card"]["last4"]
    pi = await stripe_get(stripe_sandbox, f"/v1/payment_intents/{result.payment_intent_id}")
    assert pi["status"] == "succeeded"
    assert pi["amount"] == 1299
    assert pi["payment_method_options"]["card"]["moto"] is True
    assert pi["metadata"]["pcipal_session_id"] == session.session_id
    assert_no_card_numbers(receiver, emulator)


async def test_success_confirms_the_gateways_payment_intent_when_its_id_is_passed(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver,
    stripe_sandbox: StripeSandbox,
) -> None:
    pi = await stripe_post(
        stripe_sandbox, "/v1/payment_intents",
        {"amount": "2500", "currency": "gbp", "allowed_payment_method_types[]": "card",
         "payment_method_options[card][moto]": "true"},
    )
    emulator: PciPalEmulator = await make_emulator(
        stripe_base_url=stripe_sandbox.base_url, stripe_api_key=STRIPE_KEY
    )
    session = await launch(emulator, clock, receiver, PaymentIntentId=pi["id"], amount="2500")

    outcome = await emulator.simulate(session.session_id, "success")

    assert outcome.payment_intent_id == pi["id"]
    confirmed = await stripe_get(stripe_sandbox, f"/v1/payment_intents/{pi['id']}")
    assert confirmed["status"] == "succeeded"
    result = parse_callback(receiver.received[0].body, receiver.received[0].content_type)
    assert (result.result, result.payment_intent_id, result.card_last4) == ("success", pi["id"], "4242")


async def test_decline_reports_insufficient_funds_in_hmcts_form(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver,
    stripe_sandbox: StripeSandbox,
) -> None:
    flow = FlowConfig(profile="hmcts_form", retry_backoff=0)
    emulator: PciPalEmulator = await make_emulator(
        flows={"1055": flow}, stripe_base_url=stripe_sandbox.base_url, stripe_api_key=STRIPE_KEY
    )
    session = await launch(emulator, clock, receiver)

    await emulator.simulate(session.session_id, "decline")

    [received] = receiver.received
    assert received.content_type.startswith("application/x-www-form-urlencoded")
    result = parse_callback(received.body, received.content_type)
    assert result.result == "declined"
    assert result.message == "Insufficient Funds"
    assert result.card_last4 == "9995"
    assert result.payment_intent_id is not None
    pi = await stripe_get(stripe_sandbox, f"/v1/payment_intents/{result.payment_intent_id}")
    assert pi["status"] == "requires_payment_method"


async def test_authentication_required_is_reported_from_stripes_answer(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver,
    stripe_sandbox: StripeSandbox,
) -> None:
    emulator: PciPalEmulator = await make_emulator(
        flows={"1055": FlowConfig(profile="hmcts_form", retry_backoff=0)},
        stripe_base_url=stripe_sandbox.base_url, stripe_api_key=STRIPE_KEY,
    )
    session = await launch(emulator, clock, receiver)

    outcome = await emulator.simulate(session.session_id, "authentication_required")

    assert outcome.result == "authentication_required"
    # HMCTS-shaped flows only say DECLINE; the parser lifts it from the response message.
    result = parse_callback(receiver.received[0].body, receiver.received[0].content_type)
    assert result.result == "authentication_required"


# ------------------------------------------------------------------------------- with the Stripe stub


async def test_emulator_sends_moto_flag_and_one_idempotency_key_per_session(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver, stripe_stub: StripeStub
) -> None:
    emulator: PciPalEmulator = await make_emulator(
        stripe_base_url=stripe_stub.base_url, stripe_api_key="sk_x"
    )
    session = await launch(emulator, clock, receiver)

    await emulator.simulate(session.session_id, "success")

    [(path, form, headers)] = stripe_stub.requests
    assert path == "/v1/payment_intents"
    assert form["payment_method_options[card][moto]"] == "true"
    assert form["confirm"] == "true"
    assert form["payment_method"] == "pm_card_visa"
    assert form["amount"] == "1299"
    assert headers["Authorization"] == "Bearer sk_x"
    assert headers["Idempotency-Key"] == f"pcipal-emulator-{session.session_id}"


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [("cancel", "cancelled"), ("hangup", "hangup"), ("too_many_attempts", "too_many_attempts"),
     ("error", "error")],
)
async def test_non_card_scenarios_never_call_stripe(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver, stripe_stub: StripeStub,
    scenario: str, expected: str,
) -> None:
    emulator: PciPalEmulator = await make_emulator(
        stripe_base_url=stripe_stub.base_url, stripe_api_key="sk_x"
    )
    session = await launch(emulator, clock, receiver)

    await emulator.simulate(session.session_id, scenario)

    assert stripe_stub.requests == []
    result = parse_callback(receiver.received[0].body, receiver.received[0].content_type)
    assert result.result == expected
    assert result.card_last4 is None


async def test_hmcts_hangup_detail_reaches_the_gateway_through_a_field_mapping(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator(
        flows={"1055": FlowConfig(profile="hmcts_form", retry_backoff=0)}
    )
    session = await launch(emulator, clock, receiver)
    await emulator.simulate(session.session_id, "hangup")
    body, ctype = receiver.received[0].body, receiver.received[0].content_type

    assert parse_callback(body, ctype).result == "cancelled"  # HMCTS vocabulary is lossy
    mapped = parse_callback(body, ctype, FieldMapping(result="customData2", session_id="customData1"))
    assert (mapped.result, mapped.session_id) == ("hangup", session.session_id)


async def test_hmrc_json_profile(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator(
        flows={"1055": FlowConfig(profile="hmrc_json", retry_backoff=0)}
    )
    session = await launch(emulator, clock, receiver)
    await emulator.simulate(session.session_id, "success", card="amex")

    data = json.loads(receiver.received[0].body)
    assert data["Status"] == "validated"
    assert data["Amount"] == 12.99
    result = parse_callback(receiver.received[0].body, receiver.received[0].content_type)
    assert (result.result, result.session_id, result.amount, result.card_last4) == (
        "success", session.session_id, 1299, "8431",
    )


# ----------------------------------------------------------------------------------------- delivery


async def test_bearer_auth_is_sent_and_verifiable(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    flow = FlowConfig(callback_auth="bearer", callback_secret="static-token", retry_backoff=0)
    emulator: PciPalEmulator = await make_emulator(flows={"1055": flow})
    session = await launch(emulator, clock, receiver)
    await emulator.simulate(session.session_id, "success")

    received = receiver.received[0]
    CallbackVerifier(bearer_tokens=["static-token"]).verify(received.body, received.headers, received.remote)


async def test_failed_deliveries_are_retried_until_accepted(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator(flows={"1055": FlowConfig(retries=3, retry_backoff=0)})
    receiver.statuses = [500, 503]
    session = await launch(emulator, clock, receiver)

    outcome = await emulator.simulate(session.session_id, "success")

    assert outcome.delivered
    assert outcome.attempts == 3
    assert [d.status for d in emulator.deliveries] == [500, 503, 204]
    assert len({r.body for r in receiver.received}) == 1  # the same result every time
    assert emulator.emails == []


async def test_duplicates_are_delivered_after_success(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator()
    session = await launch(emulator, clock, receiver)

    await emulator.simulate(session.session_id, "success", delivery=DeliveryOptions(duplicates=2))

    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1
    assert [d.duplicate for d in emulator.deliveries] == [False, True, True]


async def test_when_every_attempt_fails_then_result_is_emailed(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator()
    session = await launch(emulator, clock, receiver)

    outcome = await emulator.simulate(
        session.session_id, "decline", delivery=DeliveryOptions(retries=2, fail_first=1)
    )
    assert receiver.received  # attempt 2 and 3 reached the receiver...
    receiver.received.clear()
    session2 = await launch(emulator, clock, receiver)
    receiver.default_status = 500
    outcome2 = await emulator.simulate(session2.session_id, "decline", delivery=DeliveryOptions(retries=2))

    assert outcome.delivered
    assert not outcome.emailed
    assert not outcome2.delivered
    assert outcome2.emailed
    assert outcome2.attempts == 3
    [email] = emulator.emails
    assert email.session_id == session2.session_id
    assert email.fields["transactionResult"] == "declined"
    assert len(receiver.received) == 3


async def test_when_fail_first_exceeds_retries_then_nothing_sent_and_emailed(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator()
    session = await launch(emulator, clock, receiver)

    outcome = await emulator.simulate(
        session.session_id, "success", delivery=DeliveryOptions(retries=1, fail_first=5)
    )

    assert receiver.received == []
    assert outcome.emailed
    assert len(emulator.emails) == 1


# ------------------------------------------------------------------------------------ expiry/timeout


async def test_unused_session_expires_with_timeout_callback(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    flow = FlowConfig(session_ttl=600, retry_backoff=0)
    emulator: PciPalEmulator = await make_emulator(flows={"1055": flow})
    session = await launch(emulator, clock, receiver)

    assert await emulator.expire_due_sessions() == []
    clock.advance(601)
    assert await emulator.expire_due_sessions() == [session.session_id]

    result = parse_callback(receiver.received[0].body, receiver.received[0].content_type)
    assert result.result == "timeout"
    assert emulator.sessions[session.session_id].status == "expired"
    with pytest.raises(ValueError, match="expired"):
        await emulator.simulate(session.session_id, "success")


async def test_timeout_scenario_can_be_silent(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator(
        flows={"1055": FlowConfig(timeout_sends_callback=False, retry_backoff=0)}
    )
    session = await launch(emulator, clock, receiver)

    outcome = await emulator.simulate(session.session_id, "timeout")

    assert outcome.result == "timeout"
    assert not outcome.delivered
    assert not outcome.emailed
    assert receiver.received == []
    assert emulator.sessions[session.session_id].status == "expired"


async def test_a_session_is_played_once(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator()
    session = await launch(emulator, clock, receiver)
    await emulator.simulate(session.session_id, "success")
    with pytest.raises(ValueError, match="completed"):
        await emulator.simulate(session.session_id, "success")


# ------------------------------------------------------------------------------------ HTTP surface


async def test_control_api_over_http(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator()
    session = await launch(emulator, clock, receiver)
    base = emulator.base_url
    async with aiohttp.ClientSession() as http:
        url = f"{base}/_emulator/sessions/{session.session_id}/simulate"
        async with http.post(url, json={"scenario": "success", "card": "4242424242424242"}) as resp:
            assert resp.status == 400  # never a card number, even from the test harness
            assert "4242424242424242" not in await resp.text()
        async with http.post(url, json={"scenario": "bogus"}) as resp:
            assert resp.status == 400
        async with http.post(f"{base}/_emulator/sessions/nope/simulate", json={}) as resp:
            assert resp.status == 404
        async with http.post(url, json={"scenario": "success", "card": "visa",
                                        "delivery": {"duplicates": 1}}) as resp:
            assert resp.status == 200
            body = await resp.json()
            assert body["result"] == "success"
            assert body["delivered"] is True
        async with http.post(url, json={"scenario": "success"}) as resp:
            assert resp.status == 409
        async with http.get(f"{base}/_emulator/sessions/{session.session_id}") as resp:
            state = await resp.json()
            assert state["status"] == "completed"
            assert len(state["deliveries"]) == 2
        view = f"{base}/session/{emulator.tenant_number}/view/{session.session_id}/framed"
        async with http.get(view) as resp:
            assert resp.status == 200
            assert session.link_id in await resp.text()
        async with http.get(f"{base}/_emulator/emails") as resp:
            assert await resp.json() == []
    assert len(receiver.received) == 2


async def test_control_api_background_simulation(
    make_emulator: Callable[..., Any], clock: FakeClock, receiver: CallbackReceiver
) -> None:
    emulator: PciPalEmulator = await make_emulator()
    session = await launch(emulator, clock, receiver)
    async with aiohttp.ClientSession() as http:
        url = f"{emulator.base_url}/_emulator/sessions/{session.session_id}/simulate"
        async with http.post(url, json={"scenario": "cancel", "wait": False}) as resp:
            assert resp.status == 202
    await emulator.wait_idle()
    assert parse_callback(receiver.received[0].body, receiver.received[0].content_type).result == "cancelled"


async def test_token_endpoint_shapes(emulator: PciPalEmulator, clock: FakeClock) -> None:
    token_url = f"{emulator.base_url}/api/v1/token"
    good = {"grant_type": "client_credentials", "tenantname": "sandbox", "username": "APIUser",
            "client_id": emulator.client_id, "client_secret": "sandbox-client-secret"}
    async with aiohttp.ClientSession() as http:
        async with http.post(token_url, data={**good, "client_secret": "nope"}) as resp:
            assert resp.status == 400
            assert await resp.json() == {"error": "invalid_client"}
        async with http.post(token_url, data=good) as resp:
            data = await resp.json()
        assert set(data) >= {"access_token", "token_type", "expires_in", "refresh_token", "client_id",
                             "tenantName", ".issued", ".expires"}
        assert data["token_type"] == "bearer"
        assert data["expires_in"] == 299
        launch_url = f"{emulator.base_url}/api/v1/session/1000/launch"
        headers = {"Authorization": f"Bearer {data['access_token']}"}
        camel = {"flowId": "1055", "initialValues": {}}
        async with http.post(launch_url, json=camel, headers=headers) as resp:
            assert resp.status == 200  # camelCase accepted as well as PascalCase
        clock.advance(300)
        async with http.post(launch_url, json={"FlowId": 1055, "InitialValues": {}}, headers=headers) as resp:
            assert resp.status == 401  # expired
        async with http.post(token_url, data={"grant_type": "refresh_token", "client_id": emulator.client_id,
                                              "client_secret": "sandbox-client-secret",
                                              "refresh_token": data["refresh_token"]}) as resp:
            assert resp.status == 200
        async with http.post(token_url, data={"grant_type": "refresh_token", "client_id": emulator.client_id,
                                              "client_secret": "sandbox-client-secret",
                                              "refresh_token": data["refresh_token"]}) as resp:
            assert resp.status == 400  # refresh tokens are single use


async def test_cli_starts_and_serves_tokens() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.pcipal.emulator", "--port", "0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        base = line.strip().rsplit(" ", 1)[-1]
        assert base.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/v1/token",
            data={"grant_type": "client_credentials", "tenantname": "sandbox", "username": "APIUser",
                  "client_id": "voicepay-sandbox", "client_secret": "sandbox-client-secret"},
        ) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        await proc.wait()
