"""Secure capture end to end: the real gateway, the Stripe sandbox and the PCI Pal emulator over real sockets on
127.0.0.1. The emulator plays the caller and confirms the PaymentIntent in the Stripe sandbox as PCI Pal would."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.pcipal.callbacks import sign_callback
from adapters.pcipal.emulator import DeliveryOptions, FlowConfig
from gateway import captures
from gateway.demo import DemoStack

PAN = "4242424242424242"  # Stripe's public test card number


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DemoStack]:
    async with DemoStack(tmp_path / "var") as s:
        yield s


async def eventually(check: Callable[[], Awaitable[bool]], tries: int = 200, delay: float = 0.05) -> None:
    """Bounded polling: no timing threshold, just a cap on how long a broken build can hang."""
    import asyncio

    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(delay)
    assert await check(), "condition not reached"


def _no_digits(text: str) -> str:
    # A run of digits in the key could pass as a card number and the card-data gate would refuse the request.
    return text.translate(str.maketrans("0123456789", "ghijklmnop"))


async def start(stack: DemoStack, amount: int = 2500, key: str | None = None) -> dict[str, Any]:
    status, body = await stack.action(
        "capture.start", {"amount": amount, "description": "Order 1042"},
        idempotency_key=key or f"start-{_no_digits(uuid.uuid4().hex)}",
    )
    assert status == 200, body
    assert body["result"]["state"] == "awaiting_caller"
    return dict(body["result"])


async def db_state(stack: DemoStack, capture_id: str) -> captures.Capture:
    found = await captures.get(stack.services.store, stack.tenant, capture_id)
    assert found is not None
    return found


async def status_of(stack: DemoStack, capture_id: str) -> dict[str, Any]:
    code, body = await stack.action("capture.status", {"capture_id": capture_id})
    assert code == 200, body
    return dict(body)


async def notifications(stack: DemoStack, capture_id: str) -> list[str]:
    rows = await stack.services.store.fetchall(
        "SELECT kind FROM notifications WHERE tenant_id = ? AND dedupe_key LIKE ?",
        stack.tenant, f"capture:{capture_id}:%",
    )
    return [str(r["kind"]) for r in rows]


async def test_success_is_reported_only_after_stripe_confirms(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    sim = await stack.pcipal.simulate(cap["pcipal_session_id"], "success", card="mastercard")
    assert sim.delivered
    body = await status_of(stack, cap["capture_id"])
    assert body["result"]["state"] == "succeeded"
    assert body["result"]["card_brand"] == "mastercard"
    assert body["result"]["card_last4"] == "4444"
    assert "25.00 British pounds" in body["say"]
    pi = await stack.services.providers.stripe(stack.services.settings.tenant(stack.tenant)).get_payment_intent(
        (await db_state(stack, cap["capture_id"])).payment_intent_id
    )
    assert pi.status == "succeeded"
    assert pi.metadata.get("voicepay_capture_id") == cap["capture_id"]
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]


async def test_success_callback_while_stripe_disagrees_stays_processing(stack: DemoStack) -> None:
    cap = await start(stack)
    capture = await db_state(stack, cap["capture_id"])
    # A genuine (signed) callback claiming SUCCESS, but nobody confirmed the PaymentIntent at Stripe.
    fields = {"transactionResult": "success", "orderReference": cap["capture_id"],
              "PCIPalSessionId": cap["pcipal_session_id"], "cardType": "visa", "cardLast4": "4242",
              "stripePaymentIntent": capture.payment_intent_id}
    raw = json.dumps(fields).encode()
    code, body = await stack.post_callback(raw, {
        "Content-Type": "application/json",
        "X-PCIPal-Signature": sign_callback(raw, stack.callback_secret, int(time.time())),
    })
    assert code == 200
    assert body["state"] == "processing"
    status = await status_of(stack, cap["capture_id"])
    assert status["result"]["state"] == "processing"
    assert "went through" not in status["say"]
    assert await notifications(stack, cap["capture_id"]) == []


async def test_decline_fails_with_plain_reason(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "decline")
    body = await status_of(stack, cap["capture_id"])
    assert body["result"]["state"] == "failed"
    assert body["result"]["failure_reason"] == "the card has insufficient funds"
    assert "enough funds on the card" in body["say"] and "not been charged" in body["say"]
    assert await notifications(stack, cap["capture_id"]) == ["capture.failed"]


async def test_caller_hang_up_cancels(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "hangup")
    body = await status_of(stack, cap["capture_id"])
    assert body["result"]["state"] == "canceled"
    assert body["result"]["failure_reason"] == "the call ended before the card details were entered"


async def test_timeout_callback_then_expired(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "timeout")
    body = await status_of(stack, cap["capture_id"])
    assert body["result"]["state"] == "expired"
    assert "timed out" in body["say"]


async def test_silent_session_expires_and_a_late_payment_cannot_revive_it(stack: DemoStack) -> None:
    cap = await start(stack)
    capture = await db_state(stack, cap["capture_id"])
    swept = await captures.sweep_expired(stack.services, now=capture.expires_at + 1)
    assert swept == 1
    assert (await db_state(stack, cap["capture_id"])).state == "expired"
    tenant = stack.services.settings.tenant(stack.tenant)
    assert capture.payment_intent_id is not None
    pi = await stack.services.providers.stripe(tenant).get_payment_intent(capture.payment_intent_id)
    assert pi.status == "canceled"  # a late PCI Pal confirmation cannot charge an abandoned order
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "success")
    assert (await status_of(stack, cap["capture_id"]))["result"]["state"] == "expired"


async def test_duplicate_callback_is_processed_once(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "success", delivery=DeliveryOptions(duplicates=2))
    oks = [d for d in stack.pcipal.deliveries if d.session_id == cap["pcipal_session_id"] and d.ok]
    assert len(oks) == 3
    rows = await stack.services.store.fetchall(
        "SELECT result FROM capture_callbacks WHERE capture_id = ?", cap["capture_id"]
    )
    assert [r["result"] for r in rows] == ["success"]
    assert (await db_state(stack, cap["capture_id"])).state == "succeeded"
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]


async def _webhook_processed(stack: DemoStack, pi_id: str) -> bool:
    row = await stack.services.store.fetchone(
        "SELECT status FROM webhook_events WHERE object_id = ? AND type = 'payment_intent.succeeded'", pi_id
    )
    return row is not None and row["status"] == "processed"


async def test_callback_then_webhook_reach_the_same_final_state(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "success")
    capture = await db_state(stack, cap["capture_id"])
    assert capture.state == "succeeded"
    assert capture.payment_intent_id is not None
    await stack.stripe.flush_webhooks()
    await eventually(lambda: _webhook_processed(stack, str(capture.payment_intent_id)))
    assert (await db_state(stack, cap["capture_id"])).state == "succeeded"
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]


async def test_webhook_then_callback_reach_the_same_final_state(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    # Every callback attempt is lost: only Stripe's webhook tells the gateway.
    sim = await stack.pcipal.simulate(
        cap["pcipal_session_id"], "success", delivery=DeliveryOptions(retries=0, fail_first=1)
    )
    assert not sim.delivered
    await stack.stripe.flush_webhooks()
    capture_id = cap["capture_id"]

    async def succeeded() -> bool:
        return (await db_state(stack, capture_id)).state == "succeeded"

    await eventually(succeeded)
    # PCI Pal's late (e-mailed, then replayed) callback changes nothing.
    raw = json.dumps(sim.fields).encode()
    code, body = await stack.post_callback(raw, {
        "Content-Type": "application/json",
        "X-PCIPal-Signature": sign_callback(raw, stack.callback_secret, int(time.time())),
    })
    assert code == 200
    assert body["state"] == "succeeded"
    result = (await status_of(stack, capture_id))["result"]
    assert result["state"] == "succeeded"
    assert result["card_last4"] == "4242"
    assert await notifications(stack, capture_id) == ["capture.succeeded"]


async def test_forged_callback_is_refused(stack: DemoStack) -> None:
    cap = await start(stack)
    raw = json.dumps({"transactionResult": "success", "orderReference": cap["capture_id"]}).encode()
    forged = {"Content-Type": "application/json",
              "X-PCIPal-Signature": sign_callback(raw, "not-the-secret", int(time.time()))}
    code, body = await stack.post_callback(raw, forged)
    assert code == 401
    code_unknown, body_unknown = await stack.post_callback(raw, forged, tenant="nobody")
    assert code_unknown == 401
    assert body_unknown["error"] == body["error"]  # an unknown tenant looks exactly like a bad signature
    assert (await db_state(stack, cap["capture_id"])).state == "awaiting_caller"


async def test_callback_with_full_pan_is_refused_and_the_pan_is_nowhere(
    stack: DemoStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cap = await start(stack)
    fields = {"transactionResult": "success", "orderReference": cap["capture_id"],
              "PCIPalSessionId": cap["pcipal_session_id"], "cardNumber": PAN, "cardLast4": "4242"}
    raw = json.dumps(fields).encode()
    headers = {"Content-Type": "application/json",
               "X-PCIPal-Signature": sign_callback(raw, stack.callback_secret, int(time.time()))}
    assert stack._http is not None
    async with stack._http.post(f"{stack.base_url}/v1/callbacks/pcipal/{stack.tenant}", data=raw,
                                headers=headers) as resp:
        text = await resp.text()
        assert resp.status == 422
        assert PAN not in text
        assert PAN not in str(dict(resp.headers))
    assert (await db_state(stack, cap["capture_id"])).state == "awaiting_caller"
    rows = await stack.services.store.fetchall("SELECT * FROM capture_callbacks")
    assert rows == []
    assert any("ALERT" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert PAN not in record.getMessage()
        assert PAN not in json.dumps(record.__dict__, default=str)
    await stack.services.store.execute("PRAGMA wal_checkpoint(FULL)")
    for path in stack.var_dir.iterdir():
        if path.is_file():
            assert PAN.encode() not in path.read_bytes(), path.name


async def test_authentication_required_fails_and_offers_a_payment_link(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "authentication_required")
    body = await status_of(stack, cap["capture_id"])
    assert body["result"]["state"] == "failed"
    assert "confirm this payment online" in body["result"]["failure_reason"]
    assert "payment link" in body["say"]
    code, link = await stack.action(
        "payments.send_link", {"capture_id": cap["capture_id"], "email": "jane.doe@example.com"},
        idempotency_key="link-1",
    )
    assert code == 200, link
    assert link["result"]["sent_to"] == "j***@example.com"
    assert link["result"]["amount"] == 2500
    assert "jane.doe" not in json.dumps(link)


async def test_start_retry_reuses_the_session(stack: DemoStack) -> None:
    first = await start(stack, key="same-key")
    assert stack.pcipal is not None
    launches = stack.pcipal.launch_requests
    # The stored idempotent response is replayed; even with it gone, the capture and session are reused.
    await stack.services.store.execute("DELETE FROM idempotency")
    second = await start(stack, key="same-key")
    assert second["capture_id"] == first["capture_id"]
    assert second["pcipal_session_id"] == first["pcipal_session_id"]
    assert stack.pcipal.launch_requests == launches


async def test_cancel_cancels_the_payment_intent(stack: DemoStack) -> None:
    cap = await start(stack)
    code, body = await stack.action("capture.cancel", {"capture_id": cap["capture_id"]}, idempotency_key="c1")
    assert code == 200, body
    assert body["result"]["state"] == "canceled"
    capture = await db_state(stack, cap["capture_id"])
    tenant = stack.services.settings.tenant(stack.tenant)
    assert capture.payment_intent_id is not None
    pi = await stack.services.providers.stripe(tenant).get_payment_intent(capture.payment_intent_id)
    assert pi.status == "canceled"
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "success")
    assert (await db_state(stack, cap["capture_id"])).state == "canceled"


async def test_hmcts_form_profile_with_bearer_auth(tmp_path: Path) -> None:
    flow = FlowConfig(profile="hmcts_form", callback_auth="bearer", callback_secret="s3cr3t-token",
                      retries=0, retry_backoff=0.01)
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"bearer_token": "s3cr3t-token"}) as s:
        cap = await start(s)
        assert s.pcipal is not None
        sim = await s.pcipal.simulate(cap["pcipal_session_id"], "success", card="amex")
        assert sim.delivered
        result = (await status_of(s, cap["capture_id"]))["result"]
        assert result["state"] == "succeeded"
        assert result["card_last4"] == "8431"


async def test_provider_metrics_cover_pci_pal_launches_and_stripe_calls(stack: DemoStack) -> None:
    await start(stack)
    text = stack.services.metrics.render().decode()
    assert 'voicepay_provider_calls_total{operation="session.launch",outcome="SUCCEEDED",provider="pcipal"} 1.0' in text
    assert 'provider="stripe"' in text
    assert 'voicepay_breaker_open{provider="pcipal",tenant="sandbox"} 0.0' in text


# --- issue 11.6: captures end only when Stripe agrees -------------------------------------------------------


async def stripe_post(stack: DemoStack, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Straight to the Stripe sandbox, as another party (PCI Pal's Stripe step) would call it."""
    from gateway.sandbox import SANDBOX_STRIPE_KEY

    assert stack._http is not None
    async with stack._http.post(f"{stack.stripe.base_url}{path}", data=form,
                                headers={"Authorization": f"Bearer {SANDBOX_STRIPE_KEY}"}) as resp:
        return resp.status, dict(await resp.json())


async def confirm_at_stripe(stack: DemoStack, pi_id: str) -> tuple[int, dict[str, Any]]:
    return await stripe_post(stack, f"/v1/payment_intents/{pi_id}/confirm", {
        "payment_method": "pm_card_visa", "payment_method_options[card][moto]": "true"})


async def signed_callback(stack: DemoStack, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(fields).encode()
    return await stack.post_callback(raw, {
        "Content-Type": "application/json",
        "X-PCIPal-Signature": sign_callback(raw, stack.callback_secret, int(time.time())),
    })


async def cases(stack: DemoStack) -> list[dict[str, Any]]:
    return [dict(r) for r in await stack.services.store.fetchall(
        "SELECT reference, source_key, summary, payment_ids FROM escalations WHERE tenant_id = ?", stack.tenant)]


async def test_decline_cancels_the_payment_intent_before_the_capture_is_final(stack: DemoStack) -> None:
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "decline")
    capture = await db_state(stack, cap["capture_id"])
    assert capture.state == "failed"
    assert capture.payment_intent_id is not None
    tenant = stack.services.settings.tenant(stack.tenant)
    pi = await stack.services.providers.stripe(tenant).get_payment_intent(capture.payment_intent_id)
    assert pi.status == "canceled"
    # PCI Pal's flow retrying the card later can no longer charge the order the caller was told failed.
    code, _ = await confirm_at_stripe(stack, capture.payment_intent_id)
    assert code == 400
    body = await status_of(stack, cap["capture_id"])
    assert body["result"]["state"] == "failed"
    assert "not been charged" in body["say"]


@pytest.mark.parametrize("result", ["DECLINE", "HANGUP", "TIMEOUT", "ERROR"])
async def test_failure_callback_while_stripe_cannot_cancel_stays_open_then_settles(
    stack: DemoStack, result: str
) -> None:
    cap = await start(stack)
    fault = stack.stripe.faults.add(kind="500", path_prefix="/v1/payment_intents/", method="POST")
    code, body = await signed_callback(stack, {"transactionResult": result, "orderReference": cap["capture_id"],
                                               "PCIPalSessionId": cap["pcipal_session_id"]})
    assert code == 200
    assert body["state"] == "processing"  # not final: Stripe has not agreed the intent is dead
    assert await notifications(stack, cap["capture_id"]) == []
    stack.stripe.faults.remove(fault.id)
    capture = await db_state(stack, cap["capture_id"])
    await captures.sweep_expired(stack.services, now=capture.updated_at + captures.PROCESSING_RECHECK_SECONDS + 1)
    after = await db_state(stack, cap["capture_id"])
    assert after.state in ("failed", "canceled", "expired")
    assert len(await notifications(stack, cap["capture_id"])) == 1


async def test_error_callback_for_an_intent_that_was_charged_is_a_success(stack: DemoStack) -> None:
    cap = await start(stack)
    capture = await db_state(stack, cap["capture_id"])
    assert capture.payment_intent_id is not None
    # PCI Pal's Stripe step charged, but its reply was lost: the flow reports ERROR.
    code, _ = await confirm_at_stripe(stack, capture.payment_intent_id)
    assert code == 200
    code, body = await signed_callback(stack, {"transactionResult": "ERROR", "orderReference": cap["capture_id"],
                                               "PCIPalSessionId": cap["pcipal_session_id"]})
    assert code == 200
    assert body["state"] == "succeeded"
    status = await status_of(stack, cap["capture_id"])
    assert "went through" in status["say"]
    assert "not been charged" not in status["say"]
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]


async def _end_without_cancel(stack: DemoStack, capture_id: str) -> None:
    # A capture closed "not charged" by an earlier version (before failures cancelled at Stripe).
    assert await captures.move(stack.services.store, stack.tenant, capture_id, "failed",
                               failure_code="card_declined")


async def test_intent_confirmed_after_a_declined_capture_ended_is_a_late_success(stack: DemoStack) -> None:
    cap = await start(stack)
    await _end_without_cancel(stack, cap["capture_id"])
    capture = await db_state(stack, cap["capture_id"])
    assert capture.payment_intent_id is not None
    code, _ = await confirm_at_stripe(stack, capture.payment_intent_id)
    assert code == 200
    await stack.stripe.flush_webhooks()

    async def late() -> bool:
        return (await db_state(stack, cap["capture_id"])).state == "late_succeeded"

    await eventually(late)
    assert await notifications(stack, cap["capture_id"]) == ["capture.failed", "capture.late_succeeded"]

    async def case_opened() -> bool:
        return any(c["source_key"] == f"capture-late-success:{cap['capture_id']}" for c in await cases(stack))

    await eventually(case_opened)
    status = await status_of(stack, cap["capture_id"])
    assert status["result"]["state"] == "late_succeeded"
    assert "did go through" in status["say"]
    assert "not been charged" not in status["say"]
    code, link = await stack.action("payments.send_link", {"capture_id": cap["capture_id"],
                                                           "email": "jane.doe@example.com"}, idempotency_key="l2")
    assert code == 409, link  # never a second payment offer


async def test_capture_status_finds_a_late_success_without_a_webhook(tmp_path: Path) -> None:
    async with DemoStack(tmp_path / "var", webhooks=False) as s:
        cap = await start(s)
        await _end_without_cancel(s, cap["capture_id"])
        capture = await db_state(s, cap["capture_id"])
        assert capture.payment_intent_id is not None
        code, _ = await confirm_at_stripe(s, capture.payment_intent_id)
        assert code == 200
        status = await status_of(s, cap["capture_id"])
        assert status["result"]["state"] == "late_succeeded"
        assert "not been charged" not in status["say"]
        assert await notifications(s, cap["capture_id"]) == ["capture.failed", "capture.late_succeeded"]
        assert [c["source_key"] for c in await cases(s)] == [f"capture-late-success:{cap['capture_id']}"]


# --- issue 16.1: capture modes, each against the emulator and the Stripe sandbox ---------------------------

MODES = ["confirm_ours", "adopt_theirs", "token"]


@pytest.fixture(params=MODES)
async def mode_stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DemoStack]:
    mode = str(request.param)
    secret = "mode-secret-" + mode
    flow = FlowConfig(callback_auth="hmac", callback_secret=secret, retries=1, retry_backoff=0.01,
                      stripe_step="tokenisation" if mode == "token" else "payment")
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"capture_mode": mode}) as s:
        s.callback_secret = secret
        yield s


def mode_of(stack: DemoStack) -> str:
    tenant = stack.services.settings.tenant(stack.tenant)
    assert tenant is not None and tenant.pcipal is not None
    return str(tenant.pcipal.capture_mode)


def intents_of(stack: DemoStack, capture_id: str) -> dict[str, str]:
    """Every PaymentIntent at the Stripe sandbox that belongs to this capture -> its status."""
    return {pi_id: str(pi["status"]) for pi_id, pi in stack.stripe.state.store.get("payment_intent", {}).items()
            if (pi.get("metadata") or {}).get("voicepay_capture_id") == capture_id}


async def assert_never_not_charged_while_paid(stack: DemoStack, capture_id: str) -> dict[str, Any]:
    body = await status_of(stack, capture_id)
    if "succeeded" in intents_of(stack, capture_id).values():
        assert "not been charged" not in body["say"]
        assert body["result"]["state"] in ("succeeded", "late_succeeded", "processing")
    return body


async def test_mode_success_leaves_exactly_one_paid_intent(mode_stack: DemoStack) -> None:
    stack = mode_stack
    cap = await start(stack)
    assert stack.pcipal is not None
    sim = await stack.pcipal.simulate(cap["pcipal_session_id"], "success", card="mastercard")
    assert sim.delivered
    body = await assert_never_not_charged_while_paid(stack, cap["capture_id"])
    assert body["result"]["state"] == "succeeded"
    assert body["result"]["card_last4"] == "4444"
    statuses = intents_of(stack, cap["capture_id"])
    assert list(statuses.values()).count("succeeded") == 1
    capture = await db_state(stack, cap["capture_id"])
    assert statuses[str(capture.payment_intent_id)] == "succeeded"
    if mode_of(stack) == "adopt_theirs":
        assert capture.payment_intent_id != capture.own_payment_intent_id
        assert statuses[str(capture.own_payment_intent_id)] == "canceled"  # the gateway's own, unused
        assert len(statuses) == 2
    else:
        assert capture.payment_intent_id == capture.own_payment_intent_id
        assert len(statuses) == 1
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]


async def test_mode_decline_fails_with_no_chargeable_intent_left(mode_stack: DemoStack) -> None:
    stack = mode_stack
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "decline")
    body = await assert_never_not_charged_while_paid(stack, cap["capture_id"])
    assert body["result"]["state"] == "failed"
    assert body["result"]["failure_reason"] == "the card has insufficient funds"
    assert set(intents_of(stack, cap["capture_id"]).values()) == {"canceled"}
    assert "not been charged" in body["say"]


@pytest.mark.parametrize(("scenario", "state"), [("hangup", "canceled"), ("timeout", "expired")])
async def test_mode_hang_up_and_timeout_cancel_every_intent(mode_stack: DemoStack, scenario: str, state: str) -> None:
    stack = mode_stack
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], scenario)
    body = await assert_never_not_charged_while_paid(stack, cap["capture_id"])
    assert body["result"]["state"] == state
    assert set(intents_of(stack, cap["capture_id"]).values()) == {"canceled"}


async def test_mode_duplicate_callbacks_settle_once(mode_stack: DemoStack) -> None:
    stack = mode_stack
    cap = await start(stack)
    assert stack.pcipal is not None
    await stack.pcipal.simulate(cap["pcipal_session_id"], "success", delivery=DeliveryOptions(duplicates=2))
    assert (await db_state(stack, cap["capture_id"])).state == "succeeded"
    assert list(intents_of(stack, cap["capture_id"]).values()).count("succeeded") == 1
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]


async def test_mode_late_success_callback_after_the_capture_expired(mode_stack: DemoStack) -> None:
    stack = mode_stack
    cap = await start(stack)
    capture = await db_state(stack, cap["capture_id"])
    await captures.sweep_expired(stack.services, now=capture.expires_at + 1)
    assert (await db_state(stack, cap["capture_id"])).state == "expired"
    assert stack.pcipal is not None
    # The caller keys the card after the gateway gave up on the session.
    await stack.pcipal.simulate(cap["pcipal_session_id"], "success")
    body = await assert_never_not_charged_while_paid(stack, cap["capture_id"])
    paid = "succeeded" in intents_of(stack, cap["capture_id"]).values()
    if mode_of(stack) == "adopt_theirs":
        # PCI Pal's own intent could still charge: the record is corrected, the bot told, a case opened.
        assert paid
        assert body["result"]["state"] == "late_succeeded"
        assert await notifications(stack, cap["capture_id"]) == ["capture.expired", "capture.late_succeeded"]
        assert [c["source_key"] for c in await cases(stack)] == [f"capture-late-success:{cap['capture_id']}"]
    else:
        # The gateway's own intent was cancelled before "expired" was said: nothing could charge.
        assert not paid
        assert body["result"]["state"] == "expired"


async def test_adopt_theirs_intent_found_only_by_its_metadata_is_a_late_success(tmp_path: Path) -> None:
    secret = "adopt-secret"
    flow = FlowConfig(callback_auth="hmac", callback_secret=secret, retries=0)
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"capture_mode": "adopt_theirs"}) as s:
        s.callback_secret = secret
        cap = await start(s)
        # PCI Pal's Stripe step made its intent (with the order reference in its metadata) ...
        code, theirs = await stripe_post(s, "/v1/payment_intents", {
            "amount": "2500", "currency": "gbp", "allowed_payment_method_types[]": "card",
            "metadata[voicepay_capture_id]": cap["capture_id"]})
        assert code == 200
        # ... the flow reported DECLINE without naming it, and the capture ended "not charged".
        code, body = await signed_callback(s, {"transactionResult": "DECLINE", "orderReference": cap["capture_id"],
                                               "PCIPalSessionId": cap["pcipal_session_id"]})
        assert code == 200 and body["state"] == "failed"
        # Then PCI Pal's intent is confirmed at Stripe.
        code, _ = await confirm_at_stripe(s, str(theirs["id"]))
        assert code == 200
        await s.stripe.flush_webhooks()

        async def late() -> bool:
            return (await db_state(s, cap["capture_id"])).state == "late_succeeded"

        await eventually(late)
        capture = await db_state(s, cap["capture_id"])
        assert capture.payment_intent_id == theirs["id"]
        status = await status_of(s, cap["capture_id"])
        assert "did go through" in status["say"]

        async def case_opened() -> bool:
            return bool(await cases(s))

        await eventually(case_opened)
        assert await notifications(s, cap["capture_id"]) == ["capture.failed", "capture.late_succeeded"]


async def test_adopt_theirs_refuses_an_intent_for_another_amount_and_opens_a_case(tmp_path: Path) -> None:
    secret = "adopt-secret"
    flow = FlowConfig(callback_auth="hmac", callback_secret=secret, retries=0)
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"capture_mode": "adopt_theirs"}) as s:
        s.callback_secret = secret
        cap = await start(s)
        code, other = await stripe_post(s, "/v1/payment_intents", {
            "amount": "100", "currency": "gbp", "allowed_payment_method_types[]": "card", "confirm": "true",
            "payment_method": "pm_card_visa", "payment_method_options[card][moto]": "true"})
        assert code == 200 and other["status"] == "succeeded"
        code, body = await signed_callback(s, {"transactionResult": "SUCCESS", "orderReference": cap["capture_id"],
                                               "stripePaymentIntent": str(other["id"])})
        assert code == 200
        assert body["state"] == "processing"
        status = await status_of(s, cap["capture_id"])
        assert status["result"]["state"] == "processing"
        assert "not been charged" not in status["say"] and "went through" not in status["say"]
        assert [c["source_key"] for c in await cases(s)] == [f"capture-unmatched:{cap['capture_id']}"]
        code, _ = await s.action("payments.send_link", {"capture_id": cap["capture_id"],
                                                        "email": "jane.doe@example.com"}, idempotency_key="l3")
        assert code == 409  # no second payment offer while PCI Pal says paid


async def test_success_without_a_matching_paid_intent_is_a_case_never_not_charged(tmp_path: Path) -> None:
    secret = "token-secret"
    flow = FlowConfig(callback_auth="hmac", callback_secret=secret, retries=0, stripe_step="tokenisation")
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"capture_mode": "token"}) as s:
        s.callback_secret = secret
        cap = await start(s)
        code, body = await signed_callback(s, {"transactionResult": "SUCCESS", "orderReference": cap["capture_id"]})
        assert code == 200 and body["state"] == "processing"
        capture = await db_state(s, cap["capture_id"])
        await captures.sweep_expired(s.services, now=capture.expires_at + 1)
        status = await status_of(s, cap["capture_id"])
        assert status["result"]["state"] == "processing"
        assert "not been charged" not in status["say"]
        assert [c["source_key"] for c in await cases(s)] == [f"capture-unmatched:{cap['capture_id']}"]


# --- issue 16.2: callback authentication options, each end to end with the emulator ------------------------

PROXY_ENV = {"VOICEPAY_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]'}
BOT_VIA_PROXY = {"X-Forwarded-For": "198.51.100.7"}
PCIPAL_FP = "ab" * 32


def _flow(**kw: Any) -> FlowConfig:
    return FlowConfig(retries=0, retry_backoff=0.01, **kw)


async def _one_capture(s: DemoStack) -> tuple[dict[str, Any], list[int | None]]:
    cap = await start(s)
    assert s.pcipal is not None
    await s.pcipal.simulate(cap["pcipal_session_id"], "success")
    statuses = [d.status for d in s.pcipal.deliveries if d.session_id == cap["pcipal_session_id"]]
    return cap, statuses


async def test_auth_static_header_key(tmp_path: Path) -> None:
    auth = {"header_name": "Ocp-Apim-Subscription-Key", "header_keys": ["k-right-0123456789"]}
    good = _flow(callback_auth="header_key", bearer_header="Ocp-Apim-Subscription-Key",
                 callback_secret="k-right-0123456789")
    async with DemoStack(tmp_path / "a", flow=good, callback_auth=auth) as s:
        cap, statuses = await _one_capture(s)
        assert statuses == [200]
        assert (await db_state(s, cap["capture_id"])).state == "succeeded"
        raw = json.dumps({"transactionResult": "DECLINE", "orderReference": cap["capture_id"]}).encode()
        for headers in ({}, {"Ocp-Apim-Subscription-Key": "k-wrong"}, {"Authorization": "Bearer k-right-0123456789"}):
            code, _ = await s.post_callback(raw, {"Content-Type": "application/json", **headers})
            assert code == 401, headers
    bad = _flow(callback_auth="header_key", bearer_header="Ocp-Apim-Subscription-Key", callback_secret="k-wrong")
    async with DemoStack(tmp_path / "b", flow=bad, callback_auth=auth) as s:
        cap, statuses = await _one_capture(s)
        assert statuses == [401]
        assert (await db_state(s, cap["capture_id"])).state == "awaiting_caller"


async def test_auth_ip_allowlist_behind_the_trusted_proxy(tmp_path: Path) -> None:
    auth = {"ip_allowlist": ["203.0.113.0/24"]}
    for source, expected in (("203.0.113.10", 200), ("198.51.100.9", 401)):
        flow = _flow(via_proxy=True, source_ip=source)
        async with DemoStack(tmp_path / source, flow=flow, callback_auth=auth, environ=PROXY_ENV,
                             client_headers=BOT_VIA_PROXY) as s:
            _, statuses = await _one_capture(s)
            assert statuses == [expected]


async def test_auth_mtls_fingerprint_from_the_trusted_proxy(tmp_path: Path) -> None:
    auth = {"mtls_fingerprints": [":".join([PCIPAL_FP[i:i + 2] for i in range(0, 64, 2)]).upper()]}
    for fingerprint, expected in ((PCIPAL_FP, 200), ("cd" * 32, 401), (None, 401)):
        flow = _flow(via_proxy=True, client_cert_fingerprint=fingerprint)
        async with DemoStack(tmp_path / str(fingerprint), flow=flow, callback_auth=auth, environ=PROXY_ENV,
                             client_headers=BOT_VIA_PROXY) as s:
            cap, statuses = await _one_capture(s)
            assert statuses == [expected]
            assert (await db_state(s, cap["capture_id"])).state == ("succeeded" if expected == 200
                                                                      else "awaiting_caller")


async def test_auth_token_endpoint_issues_short_lived_bearers(tmp_path: Path) -> None:
    from gateway.callbacks import issue_token

    auth = {"token_client_id": "pcipal-sandbox", "token_client_secret": "token-secret-0123456789",
            "token_ttl_seconds": 60}
    placeholder = "http://127.0.0.1:9/unused"  # replaced once the gateway's URL is known
    flow = _flow(callback_auth="token", token_url=placeholder, token_client_id="pcipal-sandbox",
                 callback_secret="token-secret-0123456789")
    async with DemoStack(tmp_path / "t", flow=flow, callback_auth=auth) as s:
        assert s.pcipal is not None
        token_url = f"{s.base_url}/v1/callbacks/pcipal/{s.tenant}/token"
        s.pcipal.flows = {k: dataclasses.replace(v, token_url=token_url) for k, v in s.pcipal.flows.items()}
        cap, statuses = await _one_capture(s)
        assert statuses == [200]
        assert s.pcipal.merchant_token_requests == 1
        assert (await db_state(s, cap["capture_id"])).state == "succeeded"
        assert s._http is not None
        # Wrong client credentials get no token.
        for form in ({"grant_type": "client_credentials", "client_id": "pcipal-sandbox", "client_secret": "nope"},
                     {"grant_type": "client_credentials", "client_id": "other", "client_secret": "token-secret-0123456789"},
                     {"grant_type": "password", "client_id": "pcipal-sandbox", "client_secret": "token-secret-0123456789"}):
            async with s._http.post(token_url, data=form) as resp:
                assert resp.status == 401
                assert "access_token" not in await resp.text()
        async with s._http.post(f"{s.base_url}/v1/callbacks/pcipal/nobody/token", data={
                "grant_type": "client_credentials", "client_id": "pcipal-sandbox",
                "client_secret": "token-secret-0123456789"}) as resp:
            assert resp.status == 401
        # A forged, an expired and another tenant's token are refused.
        raw = json.dumps({"transactionResult": "DECLINE", "orderReference": cap["capture_id"]}).encode()
        tenant = s.services.settings.tenant(s.tenant)
        good, _ = issue_token(tenant)
        from gateway.callbacks import _token_key

        key = _token_key(tenant)
        assert key is not None
        expired = key.encrypt_at_time(b"pcipal-callback\x1f" + s.tenant.encode(), int(time.time()) - 120).decode()
        other = key.encrypt(b"pcipal-callback\x1fother").decode()
        for token in ("forged-token", expired, other, good[:-4] + "AAAA"):
            code, _ = await s.post_callback(raw, {"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {token}"})
            assert code == 401
        code, _ = await s.post_callback(raw, {"Content-Type": "application/json", "Authorization": f"Bearer {good}"})
        assert code == 200  # accepted (a late decline for a paid capture changes nothing)
        assert (await db_state(s, cap["capture_id"])).state == "succeeded"


async def test_auth_combination_hmcts_style_every_check_must_pass(tmp_path: Path) -> None:
    auth = {"ip_allowlist": ["203.0.113.0/24"], "mtls_fingerprints": [PCIPAL_FP],
            "header_name": "Ocp-Apim-Subscription-Key", "header_keys": ["sub-key-0123456789"]}
    cases_: list[tuple[dict[str, Any], int]] = [
        ({}, 200),
        ({"source_ip": "198.51.100.9"}, 401),
        ({"client_cert_fingerprint": "cd" * 32}, 401),
        ({"callback_secret": "sub-key-wrong"}, 401),
    ]
    for i, (override, expected) in enumerate(cases_):
        kw: dict[str, Any] = {"via_proxy": True, "source_ip": "203.0.113.10", "client_cert_fingerprint": PCIPAL_FP,
                              "callback_auth": "header_key", "bearer_header": "Ocp-Apim-Subscription-Key",
                              "callback_secret": "sub-key-0123456789", **override}
        async with DemoStack(tmp_path / str(i), flow=_flow(**kw), callback_auth=auth, environ=PROXY_ENV,
                             client_headers=BOT_VIA_PROXY) as s:
            _, statuses = await _one_capture(s)
            assert statuses == [expected], override


def test_a_tenant_without_callback_auth_is_refused_outside_sandbox_mode() -> None:
    from gateway.secrets import MasterKeyRing
    from gateway.settings import SettingsError, build_settings

    tenant = {"id": "acme", "name": "Acme", "stripe_secret_key": "", "pcipal": {
        "base_url": "https://pcipal.invalid", "tenant_name": "acme", "tenant_number": "1", "client_id": "c",
        "client_secret": "", "flow_id": "1"}}
    with pytest.raises(SettingsError) as exc:
        build_settings({"tenants": [tenant]}, environ={}, ring=MasterKeyRing([]), sandbox=False)
    message = str(exc.value)
    assert "tenants.0.pcipal" in message
    assert "no callback authentication configured" in message
    assert all("\n" not in line for line in message.splitlines()[1:])
    # The same tenant runs in sandbox mode (and the startup log says its callbacks are unauthenticated).
    assert build_settings({"tenants": [tenant]}, environ={}, ring=MasterKeyRing([]), sandbox=True).tenants


async def test_startup_logs_the_checks_and_refuses_mtls_without_a_trusted_proxy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.app import create_app
    from gateway.sandbox import sandbox_settings
    from gateway.settings import SettingsError

    def settings(auth: dict[str, Any], environ: dict[str, str]) -> Any:
        return sandbox_settings(var_dir=str(tmp_path), stripe_base_url="http://127.0.0.1:9", webhook_secret="whsec_x",
                                public_base_url="http://127.0.0.1:9", environ=environ, pcipal={
                                    "base_url": "http://127.0.0.1:9", "tenant_name": "t", "tenant_number": "1",
                                    "client_id": "c", "client_secret": "s", "flow_id": "1", "callback_auth": auth})

    caplog.set_level(logging.INFO, logger="voicepay.callbacks")
    create_app(settings({"ip_allowlist": ["203.0.113.0/24"], "hmac_secrets": ["x"]}, {}))
    assert any("sandbox: ip_allowlist, hmac" in r.getMessage() for r in caplog.records)
    with pytest.raises(SettingsError) as exc:
        create_app(settings({"mtls_fingerprints": [PCIPAL_FP]}, {}))
    assert "server.trusted_proxies" in str(exc.value)
    create_app(settings({"mtls_fingerprints": [PCIPAL_FP]}, PROXY_ENV))


# --- issue 16.3 / 16.4: flow and transfer templates end to end ---------------------------------------------

HMRC_STYLE = {
    "Amount_1": "{amount_major}", "ChargeReference_1": "{capture_id}", "currencyCode": "{currency_lower}",
    "callbackUrl": "{callback_url}", "finishURL": "https://merchant.example/finish", "LanguageFlag": "E",
}


def _template_flow(secret: str, **kw: Any) -> FlowConfig:
    return FlowConfig(callback_auth="hmac", callback_secret=secret, retries=0, amount_key="Amount_1",
                      amount_unit="major", currency_key="currencyCode", reference_key="ChargeReference_1",
                      callback_key="callbackUrl",
                      required_values=("Amount_1", "ChargeReference_1", "callbackUrl", "finishURL"), **kw)


async def test_flow_template_drives_the_launch_and_its_result_words(tmp_path: Path) -> None:
    secret = "tpl-secret"
    flow = _template_flow(secret, result_words={"success": "AUTHORISED"})
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"capture_mode": "adopt_theirs", "initial_values": HMRC_STYLE}) as s:
        cap = await start(s, amount=48850)
        assert s.pcipal is not None
        session = s.pcipal.sessions[cap["pcipal_session_id"]]
        assert session.initial_values == {
            "Amount_1": "488.50", "ChargeReference_1": cap["capture_id"], "currencyCode": "gbp",
            "callbackUrl": f"{s.base_url}/v1/callbacks/pcipal/{s.tenant}",
            "finishURL": "https://merchant.example/finish", "LanguageFlag": "E"}
        sim = await s.pcipal.simulate(cap["pcipal_session_id"], "success")
        assert sim.fields["transactionResult"] == "AUTHORISED"
        body = await status_of(s, cap["capture_id"])
        assert body["result"]["state"] == "succeeded"
        assert "488.50 British pounds" in body["say"]


async def test_a_template_missing_what_the_flow_reads_fails_the_launch(tmp_path: Path) -> None:
    secret = "tpl-secret"
    template = {k: v for k, v in HMRC_STYLE.items() if k != "finishURL"}
    async with DemoStack(tmp_path / "var", flow=_template_flow(secret), callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"capture_mode": "adopt_theirs", "initial_values": template}) as s:
        code, body = await s.action("capture.start", {"amount": 2500, "description": "Order"}, idempotency_key="k")
        assert code >= 400
        assert "capture_id" not in body.get("result", {})


async def test_unknown_result_word_is_recorded_and_sent_to_a_case_not_refused(tmp_path: Path) -> None:
    secret = "tpl-secret"
    flow = FlowConfig(callback_auth="hmac", callback_secret=secret, retries=0, result_words={"hangup": "sent"})
    async with DemoStack(tmp_path / "a", flow=flow, callback_auth={"hmac_secrets": [secret]}) as s:
        cap = await start(s)
        assert s.pcipal is not None
        sim = await s.pcipal.simulate(cap["pcipal_session_id"], "hangup")
        assert sim.delivered  # acknowledged, so PCI Pal does not retry and e-mail it
        assert (await db_state(s, cap["capture_id"])).state == "awaiting_caller"
        rows = await s.services.store.fetchall("SELECT result FROM capture_callbacks WHERE capture_id = ?",
                                               cap["capture_id"])
        assert [r["result"] for r in rows] == ["unknown"]
        assert [c["source_key"] for c in await cases(s)] == [f"capture-unknown-result:{cap['capture_id']}"]
        assert "sent" in (await cases(s))[0]["summary"]
    # The tenant teaches the gateway the word: the same flow now settles.
    async with DemoStack(tmp_path / "b", flow=flow, callback_auth={"hmac_secrets": [secret]},
                         pcipal_settings={"callback_result_values": {"sent": "hangup"}}) as s:
        cap = await start(s)
        assert s.pcipal is not None
        await s.pcipal.simulate(cap["pcipal_session_id"], "hangup")
        assert (await status_of(s, cap["capture_id"]))["result"]["state"] == "canceled"


@pytest.mark.parametrize(("transfer", "expected"), [
    ({}, {"target_type": "link_id", "carry": "none"}),
    ({"target": "+441632960123", "carry": "dtmf", "dtmf": "ww{link_id}#"},
     {"target": "+441632960123", "target_type": "ddi", "carry": "dtmf"}),
    ({"target": "sip:secure@pcipal.example", "carry": "sip_header", "sip_header": "X-PCIPal-LinkId"},
     {"target": "sip:secure@pcipal.example", "target_type": "sip_uri", "carry": "sip_header"}),
    ({"target": "+441632960123", "carry": "caller_pin"}, {"target_type": "ddi", "carry": "caller_pin"}),
])
async def test_transfer_template_reaches_capture_start(tmp_path: Path, transfer: dict[str, str],
                                                       expected: dict[str, str]) -> None:
    async with DemoStack(tmp_path / "var", pcipal_settings={"transfer": transfer}) as s:
        code, body = await s.action("capture.start", {"amount": 2500, "description": "Order"}, idempotency_key="t")
        assert code == 200, body
        result = body["result"]
        link = result["link_id"]
        for key, value in expected.items():
            assert result["transfer"][key] == value
        assert result["transfer_target"] == result["transfer"]["target"]
        if transfer.get("carry") == "dtmf":
            assert result["transfer"]["dtmf"] == f"ww{link}#"
        if transfer.get("carry") == "sip_header":
            assert result["transfer"]["sip_headers"] == {"X-PCIPal-LinkId": link}
        if transfer.get("carry") == "caller_pin":
            assert result["transfer"]["pin"] == link
            assert " ".join(link) in body["say"]
        if not transfer:
            assert result["transfer_target"] == link


@pytest.mark.parametrize(("sent", "expected"), [("s3cr3t-token", 200), ("wrong-token", 401)])
async def test_auth_static_bearer_right_and_wrong(tmp_path: Path, sent: str, expected: int) -> None:
    flow = _flow(callback_auth="bearer", callback_secret=sent)
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"bearer_token": "s3cr3t-token"}) as s:
        _, statuses = await _one_capture(s)
        assert statuses == [expected]


@pytest.mark.parametrize(("sent", "expected"), [("hmac-right", 200), ("hmac-wrong", 401)])
async def test_auth_hmac_right_and_wrong(tmp_path: Path, sent: str, expected: int) -> None:
    flow = _flow(callback_auth="hmac", callback_secret=sent)
    async with DemoStack(tmp_path / "var", flow=flow, callback_auth={"hmac_secrets": ["hmac-right"]}) as s:
        _, statuses = await _one_capture(s)
        assert statuses == [expected]


async def test_cancel_of_an_intent_already_charged_reports_paid_not_cancelled(stack: DemoStack) -> None:
    cap = await start(stack)
    capture = await db_state(stack, cap["capture_id"])
    code, _ = await confirm_at_stripe(stack, str(capture.payment_intent_id))
    assert code == 200
    code, body = await stack.action("capture.cancel", {"capture_id": cap["capture_id"]}, idempotency_key="cx")
    assert code == 200, body
    assert body["result"]["state"] == "succeeded"
    assert "already gone through" in body["say"]
    assert await notifications(stack, cap["capture_id"]) == ["capture.succeeded"]
