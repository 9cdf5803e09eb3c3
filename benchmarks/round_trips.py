"""Stripe round trips per voice action, and action latency with 50 ms injected per Stripe call.

Runs the e2e scenarios in-process: the Stripe sandbox and the real gateway app, both on 127.0.0.1. Prints

1. round trips per action (counted in the sandbox's request log) against the issue's targets;
2. p50 action latency with ``latency`` faults of 50 ms on every Stripe call, next to a sequential baseline:
   the same number of Stripe calls made one after the other through the same adapter (what the action would
   cost without concurrency), and the ratio baseline / action.

Usage: ``.venv/bin/python -m benchmarks.round_trips [--runs 15] [--latency-ms 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

# Run as a script, this folder comes first on sys.path, and benchmarks/redaction.py would shadow the
# redaction package: resolve imports from the repository root instead.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from adapters.stripe.sandbox import StripeSandbox
from gateway.app import create_app
from gateway.routes import SERVICES
from gateway.services import Services
from gateway.settings import build_settings

KEY = "sk_test_bench"
SCOPES = (
    "payments:read",
    "refunds:write",
    "coupons:write",
    "subscriptions:read",
    "customers:verify",
    "escalations:write",
)


def _app(client: TestClient[Any, Any]) -> web.Application:
    server = client.server
    assert isinstance(server, TestServer)
    return server.app


@dataclass
class Scenario:
    label: str
    action: str
    target: int | None
    body: Callable[[int], Awaitable[dict[str, Any]]]
    call_id: Callable[[int], str] | None = None


class Bench:
    def __init__(self, client: TestClient[Any, Any], sandbox: StripeSandbox, key: str) -> None:
        self.client, self.sandbox, self.key = client, sandbox, key

    @property
    def services(self) -> Services:
        return _app(self.client)[SERVICES]

    async def call(
        self, action: str, body: dict[str, Any], call_id: str | None = None, idem: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if call_id:
            headers["X-Call-Id"] = call_id
        if idem:
            # One logical operation per run: without it, identical bodies in one call would be replays.
            headers["Idempotency-Key"] = idem
        resp = await self.client.post(f"/v1/actions/{action}", json=body, headers=headers)
        payload: dict[str, Any] = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"{action}: {resp.status} {payload.get('error', {}).get('code')}")
        return payload

    def new_payment(self, customer: str) -> str:
        """A fresh successful payment to refund (made directly in the sandbox's state: not counted)."""
        pi = self.sandbox.state.pi_create(
            {
                "amount": "1500",
                "currency": "gbp",
                "customer": customer,
                "payment_method": "pm_card_visa",
                "confirm": "true",
            },
            {},
        )
        return str(pi["id"])


async def start() -> tuple[Bench, StripeSandbox, TestClient[Any, Any]]:
    sandbox = StripeSandbox(api_key=KEY, seed=True)
    await sandbox.start("127.0.0.1", 0)
    tmp = tempfile.mkdtemp(prefix="voicepay-bench-")
    settings = build_settings(
        {
            "var_dir": tmp,
            "store": {"url": f"sqlite:///{tmp}/bench.sqlite3"},
            "rate_limit": {"per_key_rate": 10000, "burst": 10000},
            "tenants": [
                {
                    "id": "acme",
                    "name": "Acme",
                    "stripe_secret_key": KEY,
                    "stripe_api_base": sandbox.base_url,
                    "currency": "gbp",
                    "phone_default_region": "GB",
                    "policy": {"max_refunds_per_customer": 100000, "max_refund_amount": 100000},
                }
            ],
        },
        environ={},
        sandbox=True,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    _, key = await _app(client)[SERVICES].keys.create("acme", SCOPES)
    return Bench(client, sandbox, key), sandbox, client


def scenarios(b: Bench) -> list[Scenario]:
    seed = b.sandbox.seed_data or {}
    ada = seed["customers"]["ada"]
    grace = seed["customers"]["grace"]

    async def const(body: dict[str, Any]) -> dict[str, Any]:
        return body

    async def refund_body(_: int) -> dict[str, Any]:
        return {"payment_id": b.new_payment(ada["id"])}

    async def refund_by_email(_: int) -> dict[str, Any]:
        b.new_payment(ada["id"])
        return {"email": ada["email"]}

    return [
        Scenario("payments.lookup by email", "payments.lookup", 2, lambda _: const({"email": ada["email"]})),
        Scenario("payments.lookup by phone", "payments.lookup", 2, lambda _: const({"phone": "07700 900123"})),
        Scenario("payments.lookup by customer id", "payments.lookup", 2, lambda _: const({"customer_id": ada["id"]})),
        Scenario(
            "payments.lookup by payment id",
            "payments.lookup",
            2,
            lambda _: const({"payment_id": seed["payments"]["ada_latest"]["payment_intent"]}),
        ),
        Scenario("refunds.create by payment id", "refunds.create", 3, refund_body, lambda i: "bench-call"),
        Scenario("refunds.create by email", "refunds.create", 3, refund_by_email, lambda i: "bench-call"),
        Scenario(
            "coupons.create (customer id)",
            "coupons.create",
            2,
            lambda i: const({"customer_id": ada["id"], "percent_off": 10 + (i % 5)}),
            lambda i: f"bench-coupon-{i}",
        ),
        Scenario(
            "subscriptions.lookup by customer id",
            "subscriptions.lookup",
            2,
            lambda _: const({"customer_id": grace["id"]}),
        ),
        Scenario(
            "subscriptions.lookup by email", "subscriptions.lookup", None, lambda _: const({"email": grace["email"]})
        ),
        Scenario(
            "customers.verify by customer id",
            "customers.verify",
            None,
            lambda _: const({"customer_id": ada["id"], "postal_code": "SW1A 1AA", "card_last4": "4242"}),
            lambda i: f"bench-verify-{i}",
        ),
    ]


async def one_stripe_call_ms(b: Bench, runs: int) -> float:
    """p50 of a single Stripe read through the tenant's adapter (the unit of the sequential baseline)."""
    tenant = b.services.settings.tenant("acme")
    assert tenant is not None
    stripe = b.services.providers.stripe(tenant)
    cid = (b.sandbox.seed_data or {})["customers"]["ada"]["id"]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await stripe.get_customer(cid)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def main(runs: int, latency_ms: int) -> None:
    b, sandbox, client = await start()
    try:
        ada = (sandbox.seed_data or {})["customers"]["ada"]
        await b.call(
            "customers.verify",
            {"customer_id": ada["id"], "postal_code": "SW1A 1AA", "card_last4": "4242"},
            call_id="bench-call",
        )
        print("Stripe round trips per action (sandbox request log)")
        print(f"{'scenario':40} {'round trips':>11} {'target':>7}  ok")
        rts: dict[str, int] = {}
        for sc in scenarios(b):
            body = await sc.body(0)
            before = len(sandbox.request_log)
            await b.call(
                sc.action, body, sc.call_id(10_000) if sc.call_id else None, "rt-" + sc.label.replace(" ", "_")
            )
            n = len(sandbox.request_log) - before
            rts[sc.label] = n
            target = "-" if sc.target is None else str(sc.target)
            ok = "" if sc.target is None else ("yes" if n <= sc.target else "NO")
            print(f"{sc.label:40} {n:>11} {target:>7}  {ok}")

        sandbox.faults.add(kind="latency", path_prefix="/v1/", latency_ms=latency_ms)
        unit = await one_stripe_call_ms(b, runs)
        print()
        print(f"Latency with {latency_ms} ms injected per Stripe call, {runs} runs each (p50, ms)")
        print(f"single Stripe call through the adapter: {unit:.1f} ms")
        print(f"{'scenario':40} {'action p50':>10} {'sequential':>10} {'ratio':>6}")
        for sc in scenarios(b):
            times = []
            for i in range(runs):
                body = await sc.body(i + 1)
                t0 = time.perf_counter()
                await b.call(
                    sc.action, body, sc.call_id(i + 1) if sc.call_id else None, f"lat-{i}-" + sc.label.replace(" ", "_")
                )
                times.append((time.perf_counter() - t0) * 1000)
            p50 = statistics.median(times)
            # Baseline: the same number of Stripe calls, one after the other.
            baseline = rts[sc.label] * unit
            print(f"{sc.label:40} {p50:>10.1f} {baseline:>10.1f} {baseline / p50:>6.2f}")
    finally:
        await client.close()
        await sandbox.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.latency_ms))
