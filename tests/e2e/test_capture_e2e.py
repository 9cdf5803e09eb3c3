"""Secure capture end to end: the real gateway, the Stripe sandbox and the PCI Pal emulator over real sockets on
127.0.0.1. The emulator plays the caller and confirms the PaymentIntent in the Stripe sandbox as PCI Pal would."""

from __future__ import annotations

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


async def start(stack: DemoStack, amount: int = 2500, key: str | None = None) -> dict[str, Any]:
    status, body = await stack.action(
        "capture.start", {"amount": amount, "description": "Order 1042"},
        idempotency_key=key or f"start-{uuid.uuid4()}",  # not monotonic_ns: 13 digits from 4 look like a Visa PAN
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
    assert "£25.00" in body["say"]
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
    assert "insufficient funds" in body["say"]
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
