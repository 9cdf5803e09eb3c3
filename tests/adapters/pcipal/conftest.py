"""Fixtures: a controllable clock, the PCI Pal emulator, a callback receiver and a Stripe stub, all on
127.0.0.1 over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from adapters.pcipal.client import PciPalClient
from adapters.pcipal.emulator import FlowConfig, PciPalEmulator
from adapters.resilience import RetryPolicy

# No waiting between retries in tests; the number of attempts is what is asserted, never a duration.
FAST_RETRY = RetryPolicy(max_attempts=3, deadline=30.0, base_backoff=0.0, max_backoff=0.0, jitter=0.0)
START = 1_800_000_000.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------------------------------- receiver


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    content_type: str
    remote: str | None


@dataclass
class CallbackReceiver:
    """The merchant's callback endpoint. ``statuses`` are answered in order, then ``default_status``."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 204

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(
            Received(body, dict(request.headers), request.headers.get("Content-Type", ""), request.remote)
        )
        status = self.statuses.pop(0) if self.statuses else self.default_status
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    rec = CallbackReceiver()
    app = web.Application()
    app.router.add_post("/callbacks/pcipal", rec.handle)
    runner, base = await _serve(app)
    rec.url = f"{base}/callbacks/pcipal"
    yield rec
    await runner.cleanup()


# ------------------------------------------------------------------------------------- stripe stub


@dataclass
class StripeStub:
    """Answers like Stripe for the test PaymentMethods the emulator uses; records every request."""

    base_url: str = ""
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    counter: int = 0

    def _answer(self, pi_id: str, form: dict[str, str]) -> web.Response:
        pm = form.get("payment_method", "")
        if pm == "pm_card_chargeDeclinedInsufficientFunds":
            return web.json_response(
                {"error": {"type": "card_error", "code": "card_declined",
                           "decline_code": "insufficient_funds",
                           "message": "Your card has insufficient funds.",
                           "payment_intent": {"id": pi_id, "status": "requires_payment_method"}}},
                status=402,
            )
        if pm == "pm_card_authenticationRequired":
            return web.json_response(
                {"error": {"type": "card_error", "code": "authentication_required",
                           "decline_code": "authentication_required",
                           "payment_intent": {"id": pi_id, "status": "requires_payment_method"}}},
                status=402,
            )
        return web.json_response({"id": pi_id, "object": "payment_intent", "status": "succeeded",
                                  "amount": int(form.get("amount", "0") or 0)})

    async def create(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append((request.path, form, dict(request.headers)))
        self.counter += 1
        return self._answer(f"pi_stub{self.counter}", form)

    async def confirm(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append((request.path, form, dict(request.headers)))
        return self._answer(request.match_info["id"], form)


@pytest.fixture
async def stripe_stub() -> AsyncIterator[StripeStub]:
    stub = StripeStub()
    app = web.Application()
    app.router.add_post("/v1/payment_intents", stub.create)
    app.router.add_post("/v1/payment_intents/{id}/confirm", stub.confirm)
    runner, stub.base_url = await _serve(app)
    yield stub
    await runner.cleanup()


# ---------------------------------------------------------------------------------------- emulator

EmulatorFactory = Callable[..., Any]


@pytest.fixture
async def make_emulator(clock: FakeClock) -> AsyncIterator[Callable[..., Any]]:
    started: list[PciPalEmulator] = []

    async def factory(**kwargs: Any) -> PciPalEmulator:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("flows", {"1055": FlowConfig(retry_backoff=0.0)})
        emulator = PciPalEmulator(**kwargs)
        await emulator.start()
        started.append(emulator)
        return emulator

    yield factory
    for emulator in started:
        await emulator.stop()


@pytest.fixture
async def emulator(make_emulator: Callable[..., Any]) -> PciPalEmulator:
    result: PciPalEmulator = await make_emulator()
    return result


def client_for(emulator: PciPalEmulator, clock: FakeClock, **overrides: Any) -> PciPalClient:
    assert emulator.base_url is not None
    kwargs: dict[str, Any] = {
        "flow_id": 1055,
        "clock": clock,
        "retry": FAST_RETRY,
        "timeout": 5.0,
    }
    kwargs.update(overrides)
    return PciPalClient(
        kwargs.pop("base_url", emulator.base_url),
        kwargs.pop("tenant_name", emulator.tenant_name),
        kwargs.pop("tenant_number", emulator.tenant_number),
        kwargs.pop("username", emulator.username),
        kwargs.pop("client_id", emulator.client_id),
        kwargs.pop("client_secret", "sandbox-client-secret"),
        **kwargs,
    )
