"""gateway.client against sandbox mode (the real gateway on a socket, the Stripe sandbox, the PCI Pal emulator),
plus a scripted server for what the gateway only does under conditions a test cannot cheaply cause (a pending
answer from deadline mode, a Retry-After that never ends)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.stripe.signing import sign_header
from gateway.actions import load_builtin_actions
from gateway.client import (
    NotificationSignatureError,
    PendingTimeout,
    VoicepayClient,
    VoicepayError,
    verify_notification,
)
from gateway.demo import DemoStack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DemoStack]:
    async with DemoStack(tmp_path / "var") as s:
        yield s


@pytest.fixture
async def vp(stack: DemoStack) -> AsyncIterator[VoicepayClient]:
    async with VoicepayClient(stack.base_url, stack.agent_key, timeout_seconds=20) as client:
        yield client


def _call_id() -> str:
    return "call-" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))


def refunds_at_stripe(stack: DemoStack) -> int:
    return sum(1 for r in stack.stripe.request_log if r.method == "POST" and r.path == "/v1/refunds")


def test_every_builtin_action_has_a_typed_method() -> None:
    for action in load_builtin_actions().all():
        method = getattr(VoicepayClient, action.tool_name(), None)
        if action.name == "gateway.ping":
            method = VoicepayClient.ping
        assert callable(method), f"no client method for {action.name}"


async def test_a_refund_conversation_with_the_client(stack: DemoStack, vp: VoicepayClient) -> None:
    ada = stack.stripe.seed_data["customers"]["ada"]
    call = vp.for_call(_call_id())
    found = await call.payments_lookup(phone="07700 900123")
    assert found.result["customer_id"] == ada["id"] and "went through" in found.say
    verified = await call.customers_verify(email=ada["email"], postal_code="SW1A 1AA", card_last4="4242")
    assert verified.result
    before = refunds_at_stripe(stack)
    refund = await call.refunds_create(email=ada["email"])
    # The LLM repeats the tool call in the same phone call: the gateway's call-derived key makes it a replay.
    again = await call.refunds_create(email=ada["email"])
    assert again.result["refund_id"] == refund.result["refund_id"]
    assert refunds_at_stripe(stack) - before == 1


async def test_errors_carry_code_and_say(vp: VoicepayClient) -> None:
    with pytest.raises(VoicepayError) as exc:
        await vp.refunds_create(email="ada@example.com", idempotency_key="refund-unverified")
    assert exc.value.code == "verification_required" and exc.value.status == 422 and exc.value.say
    assert exc.value.request_id


async def test_a_write_without_call_id_gets_one_key_per_operation(stack: DemoStack, vp: VoicepayClient) -> None:
    first = await vp.capture_start(amount=1500, description="Order 77")
    second = await vp.capture_start(amount=1500, description="Order 77")
    assert first.idempotency_key and second.idempotency_key and first.idempotency_key != second.idempotency_key
    assert first.result["capture_id"] != second.result["capture_id"]  # two operations, two captures
    # An explicit key is one logical operation, however often it is sent.
    a = await vp.capture_start(amount=1500, description="Order 78", idempotency_key="order-seventy-eight")
    b = await vp.capture_start(amount=1500, description="Order 78", idempotency_key="order-seventy-eight")
    assert a.result["capture_id"] == b.result["capture_id"]


async def test_rate_limited_calls_are_retried_with_the_same_key(tmp_path: Path) -> None:
    # Ten requests a second per key with a burst of 1: a second call at once is answered 429 with Retry-After.
    env = {"VOICEPAY_RATE_LIMIT__PER_KEY_RATE": "10", "VOICEPAY_RATE_LIMIT__BURST": "1"}
    async with DemoStack(tmp_path / "var", environ=env) as s:
        async with VoicepayClient(s.base_url, s.agent_key, max_retries=0) as strict:
            await strict.ping()
            with pytest.raises(VoicepayError) as exc:
                await strict.ping()
            assert exc.value.code == "rate_limited" and exc.value.status == 429
        async with VoicepayClient(s.base_url, s.agent_key, max_retries=3, max_retry_after=0.2) as patient:
            # Back to back, as the strict client did: the second one waits out Retry-After and goes through.
            assert (await patient.ping()).result["tenant"] == "sandbox"
            assert (await patient.ping()).result["tenant"] == "sandbox"


async def test_openai_style_tools_round_trip(vp: VoicepayClient, stack: DemoStack) -> None:
    tools = await vp.openai_tools()
    names = {t["function"]["name"] for t in tools}
    assert {"payments_lookup", "refunds_create", "payments_send_link"} <= names
    catalogue = await vp.list_actions()
    assert {a["name"] for a in catalogue} >= {"payments.lookup", "refunds.create", "payments.send_link"}
    got = await vp.call_tool("payments_lookup", json.dumps({"email": "ada@example.com"}), call_id=_call_id())
    assert got.action == "payments.lookup" and got.result["payments"]


async def test_notifications_from_the_gateway_verify(tmp_path: Path) -> None:
    received: list[tuple[bytes, str | None]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers.get("Voicepay-Signature")))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    secret = "nsec-" + uuid.uuid4().hex
    env = {"VOICEPAY_TENANTS__SANDBOX__NOTIFICATION_URL": f"http://127.0.0.1:{runner.addresses[0][1]}/hook",
           "VOICEPAY_TENANTS__SANDBOX__NOTIFICATION_SECRET": secret,
           "VOICEPAY_WEBHOOKS__POLL_INTERVAL_SECONDS": "0.1"}
    try:
        async with DemoStack(tmp_path / "var", environ=env) as s, VoicepayClient(s.base_url, s.agent_key) as vp:
            cap = await vp.capture_start(amount=2500, description="Order 1042")
            assert s.pcipal is not None
            await s.pcipal.simulate(cap.result["pcipal_session_id"], "success")
            for _ in range(400):
                if received:
                    break
                await asyncio.sleep(0.05)
        body, header = received[0]
        event = verify_notification(body, header, secret)
        assert event["type"] == "capture.succeeded" and event["data"]["capture_id"] == cap.result["capture_id"]
        with pytest.raises(NotificationSignatureError) as wrong:
            verify_notification(body, header, "another-secret")
        assert wrong.value.reason == "no_match"
        with pytest.raises(NotificationSignatureError):
            verify_notification(body.replace(b"capture", b"kapture"), header, secret)
        with pytest.raises(NotificationSignatureError) as missing:
            verify_notification(body, None, secret)
        assert missing.value.reason == "missing_header"
        # A replay an hour later is refused by the tolerance, even with a valid signature.
        with pytest.raises(NotificationSignatureError) as stale:
            verify_notification(body, header, secret, now=time.time() + 3600)
        assert stale.value.reason == "timestamp_out_of_tolerance"
    finally:
        await runner.cleanup()


def test_verify_notification_accepts_any_secret_of_a_rotation() -> None:
    body = b'{"id":"ntf_1","type":"refund.succeeded"}'
    header = sign_header(body, ["new-secret"], int(time.time()))
    assert verify_notification(body, header, ["old-secret", "new-secret"])["id"] == "ntf_1"


# ------------------------------------------------------------------- scripted server: pending and Retry-After


class Scripted:
    """Answers /v1/actions/* from a script of (status, headers, body), recording each request's headers."""

    def __init__(self, script: list[tuple[int, dict[str, str], dict[str, Any]]]) -> None:
        self.script = script
        self.seen: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        status, headers, body = self.script[min(len(self.seen), len(self.script)) - 1]
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, str]]:
    server = Scripted([])
    app = web.Application()
    app.router.add_post("/v1/actions/{name}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield server, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


PENDING = {"ok": True, "pending": True, "operation_id": "op_1", "say": "One moment."}
DONE = {"ok": True, "action": "refunds.create", "result": {"refund_id": "re_1"}, "say": "Refunded."}
BUSY = {"ok": False, "error": {"code": "provider_unavailable", "message": "x", "say": "y", "retryable": True}}


async def test_pending_is_followed_with_the_same_key(scripted: tuple[Scripted, str]) -> None:
    server, url = scripted
    server.script = [(202, {"Retry-After": "0"}, PENDING), (202, {}, PENDING), (200, {}, DONE)]
    async with VoicepayClient(url, "vpk_x", pending_poll_seconds=0.01) as vp:
        got = await vp.refunds_create(payment_id="pi_1")
    assert got.result == {"refund_id": "re_1"}
    keys = {h["Idempotency-Key"] for h in server.seen}
    assert len(server.seen) == 3 and len(keys) == 1


async def test_pending_is_followed_for_a_bounded_time(scripted: tuple[Scripted, str]) -> None:
    server, url = scripted
    server.script = [(202, {}, PENDING)]
    async with VoicepayClient(url, "vpk_x", pending_poll_seconds=0.01, max_pending_seconds=0.1) as vp:
        with pytest.raises(PendingTimeout) as exc:
            await vp.refunds_create(payment_id="pi_1", idempotency_key="refund-1")
    assert exc.value.operation_id == "op_1" and exc.value.idempotency_key == "refund-1"


async def test_retry_after_is_honoured_with_the_same_key_and_bounded(scripted: tuple[Scripted, str]) -> None:
    server, url = scripted
    server.script = [(503, {"Retry-After": "0.01"}, BUSY), (200, {}, DONE)]
    async with VoicepayClient(url, "vpk_x") as vp:
        assert (await vp.refunds_create(payment_id="pi_1")).result["refund_id"] == "re_1"
    assert len({h["Idempotency-Key"] for h in server.seen}) == 1 and len(server.seen) == 2
    server.seen.clear()
    server.script = [(503, {"Retry-After": "0.01"}, BUSY)]
    async with VoicepayClient(url, "vpk_x", max_retries=2) as vp:
        with pytest.raises(VoicepayError) as exc:
            await vp.refunds_create(payment_id="pi_1")
    assert exc.value.code == "provider_unavailable" and len(server.seen) == 3
    # A call id is sent as X-Call-Id and the key is left to the gateway to derive.
    server.seen.clear()
    server.script = [(200, {}, DONE)]
    async with VoicepayClient(url, "vpk_x", call_id="call-abc") as vp:
        await vp.refunds_create(payment_id="pi_1")
    assert server.seen[0]["X-Call-Id"] == "call-abc" and "Idempotency-Key" not in server.seen[0]
