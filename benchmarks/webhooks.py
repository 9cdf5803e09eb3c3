"""Webhook ingestion benchmark: sustained events/s and p50/p99 acknowledgement latency.

Targets, all served on 127.0.0.1 in this process and driven by the same closed-loop client (``--concurrency``
requests in flight, each a freshly signed, unique Stripe event):

* ``baseline``: a bare aiohttp handler that reads the body and answers 200 JSON (the HTTP round trip alone);
* ``sqlite``: the real gateway (verify, redact, insert + enqueue in one transaction, 200) on a temporary file;
* ``postgres``: the same on a database this script creates and drops (``--pg-dsn``, admin connection).

The queue workers run during the measurement (as in production), processing what is ingested; events are
``refund.created`` so each one also emits a (skipped: no URL configured) notification.

    .venv/bin/python benchmarks/webhooks.py [--seconds 8] [--concurrency 16] [--no-postgres]

Bounded: about ``3 * (seconds + 1)`` seconds plus setup (under a minute by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

# Run as a script, this folder comes first on sys.path, and benchmarks/redaction.py would shadow the
# redaction package: resolve imports from the repository root instead.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from adapters.stripe.signing import sign_header
from adapters.stripe.versions import PINNED_API_VERSION
from gateway.app import create_app
from gateway.settings import build_settings

SECRET = "whsec_bench"


def _event(i: int) -> bytes:
    event = {
        "id": f"evt_bench{i}_{secrets.token_hex(6)}",
        "object": "event",
        "api_version": PINNED_API_VERSION,  # as the endpoint is created at the configured version
        "created": int(time.time()),
        "type": "refund.created",
        "livemode": False,
        "pending_webhooks": 1,
        "data": {
            "object": {
                "id": f"re_bench{i}_{secrets.token_hex(4)}",
                "object": "refund",
                "amount": 1299,
                "currency": "gbp",
                "charge": "ch_bench",
                "payment_intent": "pi_bench",
                "status": "succeeded",
                "metadata": {"call_id": "call-bench"},
            }
        },
    }
    return json.dumps(event, indent=2).encode()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def _drive(url: str, seconds: float, concurrency: int) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    counter = 0
    errors = 0
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:

        async def one_loop(stop_at: float, record: bool) -> None:
            nonlocal counter, errors
            while time.perf_counter() < stop_at:
                counter += 1
                body = _event(counter)
                headers = {
                    "Content-Type": "application/json",
                    "Stripe-Signature": sign_header(body, [SECRET], int(time.time())),
                }
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == 200
                elapsed = time.perf_counter() - t0
                if not ok:
                    errors += 1
                elif record:
                    latencies.append(elapsed)

        warm_until = time.perf_counter() + min(1.0, seconds / 4)
        await asyncio.gather(*(one_loop(warm_until, False) for _ in range(concurrency)))
        start = time.perf_counter()
        await asyncio.gather(*(one_loop(start + seconds, True) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    if errors:
        print(f"  ({errors} non-200 answers)", file=sys.stderr)
    return len(latencies), wall, latencies


def _summary(name: str, n: int, wall: float, lat: list[float]) -> dict[str, float | str]:
    lat_ms = sorted(x * 1000 for x in lat)
    p99 = lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))] if lat_ms else float("nan")
    return {
        "target": name,
        "events": n,
        "rate": n / wall if wall else 0.0,
        "p50": statistics.median(lat_ms) if lat_ms else float("nan"),
        "p99": p99,
    }


async def baseline(seconds: float, concurrency: int) -> dict[str, float | str]:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True, "received": True, "duplicate": False})

    app = web.Application()
    app.router.add_post("/v1/webhooks/stripe/{tenant}", handle)
    runner, base = await _serve(app)
    try:
        n, wall, lat = await _drive(f"{base}/v1/webhooks/stripe/bench", seconds, concurrency)
    finally:
        await runner.cleanup()
    return _summary("baseline (bare aiohttp)", n, wall, lat)


async def gateway(name: str, store_url: str, var_dir: str, seconds: float, concurrency: int) -> dict[str, Any]:
    settings = build_settings(
        {
            "sandbox": True,  # plaintext secrets below; benchmark only
            "var_dir": var_dir,
            "store": {"url": store_url, "pool_max_size": 20},
            "logging": {"level": "WARNING", "access_log": False},
            "tenants": [
                {
                    "id": "bench",
                    "name": "Bench",
                    "stripe_secret_key": "sk_test_bench",
                    "stripe_api_base": "http://127.0.0.1:9",
                    "stripe_webhook_secrets": [SECRET],
                }
            ],
        },
        environ={},
        sandbox=True,
    )
    runner, base = await _serve(create_app(settings))
    try:
        n, wall, lat = await _drive(f"{base}/v1/webhooks/stripe/bench", seconds, concurrency)
    finally:
        await runner.cleanup()
    return _summary(name, n, wall, lat)


async def _with_pg(dsn: str, fn: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any] | None:
    name = f"voicepay_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL not reachable at {dsn}: {type(exc).__name__}; skipping it", file=sys.stderr)
        return None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        return await fn(dsn.rsplit("/", 1)[0] + "/" + name)
    finally:
        admin = await asyncpg.connect(dsn, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=8.0, help="measured seconds per target")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--pg-dsn", default=os.environ.get("VOICEPAY_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--no-postgres", action="store_true")
    args = p.parse_args()

    import logging

    logging.disable(logging.WARNING)  # the gateway's info logs would measure the terminal
    results = [await baseline(args.seconds, args.concurrency)]
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            await gateway("gateway sqlite", f"sqlite:///{tmp}/bench.sqlite3", tmp, args.seconds, args.concurrency)
        )
        if not args.no_postgres:
            pg = await _with_pg(
                args.pg_dsn,
                lambda url: gateway("gateway postgres", url, tmp, args.seconds, args.concurrency),
            )
            if pg is not None:
                results.append(pg)

    base = results[0]
    print(f"\nwebhook ingestion, {args.concurrency} in flight, {args.seconds:.0f} s per target (after warm-up)\n")
    print(f"{'target':<26}{'events':>8}{'events/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'rate vs base':>14}{'p50 vs base':>13}")
    for r in results:
        print(
            f"{r['target']:<26}{r['events']:>8}{r['rate']:>11.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
            f"{float(r['rate']) / float(base['rate']):>14.2f}{float(r['p50']) / float(base['p50']):>13.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
