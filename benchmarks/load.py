"""Load benchmark: N concurrent simulated phone calls against a running gateway in sandbox mode.

Each simulated call is one caller's conversation: payments.lookup, subscriptions.lookup, customers.verify,
refunds.create, coupons.create (one customer each, created in the Stripe sandbox beforehand). The gateway runs
in sandbox mode (`sandbox = true`, test secrets) as its own process, on SQLite and on PostgreSQL; the Stripe
sandbox runs in another process (as real Stripe is remote) and delivers its webhooks back to the gateway.

Printed per store: throughput (actions/s), p50/p95/p99 of client latency and of *gateway overhead* (client
latency minus the provider time the gateway reports in its Server-Timing header), and the gateway process's
peak RSS. Baseline, same run, same client: a bare aiohttp app doing the same JSON round trip (no auth, no
store, no provider), at the same concurrency. Ratios: gateway throughput / bare throughput, overhead p99.

    .venv/bin/python benchmarks/load.py [--calls 200] [--stores sqlite,postgres]

Targets (issue 7): overhead p99 under 10 ms at 200 concurrent calls; throughput at least half the bare
baseline. The machine is shared and has 2 cores: the load generator, the gateway and the emulators share them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

# Run as a script, this folder comes first on sys.path, and benchmarks/redaction.py would shadow the
# redaction package: resolve imports from the repository root instead.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 10
PG_ADMIN = os.environ.get("VOICEPAY_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")

BARE_APP = r"""
import sys
from aiohttp import web

async def echo(request):
    body = await request.json()
    return web.json_response({"ok": True, "action": request.match_info["name"], "result": body, "say": "ok"})

app = web.Application()
app.router.add_post("/v1/actions/{name}", echo)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def wait_http(url: str, seconds: float = 30.0) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
        for _ in range(int(seconds * 20)):
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with s.get(url) as r:
                    if r.status < 500:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def start_stripe_sandbox(webhook_url: str, webhook_secret: str) -> tuple[asyncio.subprocess.Process, str]:
    """The Stripe emulator in its own process: its CPU is not the gateway's (real Stripe is remote too).

    Its webhook endpoint subscribes to the event types the gateway handles, as a production endpoint should
    (Stripe: "only subscribe to the events you need")."""
    from gateway.handlers import HANDLERS

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.stripe.sandbox", "--port", "0",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    base = str(json.loads(line)["base_url"])
    endpoint = {"url": webhook_url, "secret": webhook_secret, "enabled_events": sorted(HANDLERS)}
    async with aiohttp.ClientSession() as s, s.post(f"{base}/_sandbox/webhook_endpoints", json=endpoint) as r:
        assert r.status == 200, await r.text()
    return proc, base


async def webhooks_settled(stripe_url: str, within: float = 30.0) -> None:
    """Wait until the sandbox has stopped delivering (the set-up's events must not land in the measurement)."""
    last = -1
    async with aiohttp.ClientSession() as s:
        for _ in range(int(within / 0.5)):
            async with s.get(f"{stripe_url}/_sandbox/webhook_deliveries") as r:
                count = len(await r.json())
            if count == last:
                return
            last = count
            await asyncio.sleep(0.5)


async def start_gateway(
    workdir: Path, store_url: str | None
) -> tuple[list[asyncio.subprocess.Process], dict[str, str]]:
    """A sandbox-mode gateway (plaintext test secrets, SQLite under workdir or the given PostgreSQL) in one
    process, talking to the Stripe sandbox in another."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    secret = "whsec_" + secrets.token_hex(16)
    stripe_proc, stripe_url = await start_stripe_sandbox(f"{base_url}/v1/webhooks/stripe/bench", secret)
    config = workdir / "config.toml"
    config.write_text(
        "sandbox = true\n"
        f'var_dir = "{workdir / "var"}"\n'
        f'[store]\nurl = "{store_url or f"sqlite:///{workdir}/var/voicepay.sqlite3"}"\n'
        # The benchmark measures the gateway, not its per-key limiter: lift it.
        "[rate_limit]\nper_key_rate = 1000000.0\nburst = 1000000\nper_tenant_rate = 1000000.0\nper_tenant_burst = 1000000\n"
        '[[tenants]]\nid = "bench"\nname = "Bench Ltd"\nstripe_secret_key = "sk_test_sandbox"\n'
        f'stripe_api_base = "{stripe_url}"\nstripe_webhook_secrets = ["{secret}"]\ncurrency = "gbp"\n'
        'phone_default_region = "GB"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    keys = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "keys", "create", "--config", str(config), "--tenant", "bench",
        "--scopes", "payments:read,refunds:write,coupons:write,subscriptions:read,customers:verify",
        cwd=workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await keys.communicate()
    agent_key = out.decode().strip()
    gateway = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port", str(port),
        cwd=workdir, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await wait_http(f"{base_url}/healthz")
    state = {"base_url": base_url, "agent_key": agent_key, "stripe_base_url": stripe_url,
             "stripe_api_key": "sk_test_sandbox"}  # fmt: skip
    return [gateway, stripe_proc], state


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def make_customers(state: dict[str, str], n: int) -> list[dict[str, str]]:
    """One customer with a postal code and a succeeded card payment per simulated call."""
    base, key = state["stripe_base_url"], state["stripe_api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    out: list[dict[str, str]] = []
    sem = asyncio.Semaphore(20)

    async def one(i: int, s: aiohttp.ClientSession) -> None:
        async with sem:
            email = f"load{i}-{secrets.token_hex(3)}@example.com"
            data = {"email": email, "name": f"Load {i}", "address[postal_code]": "SW1A 1AA"}
            async with s.post(f"{base}/v1/customers", data=data, headers=headers) as r:
                cus = await r.json()
            pi = {
                "amount": "2000", "currency": "gbp", "customer": cus["id"],
                "payment_method": "pm_card_visa", "confirm": "true", "description": "Load test order",
            }  # fmt: skip
            async with s.post(f"{base}/v1/payment_intents", data=pi, headers=headers) as r:
                assert r.status == 200, await r.text()
            out.append({"customer_id": cus["id"], "email": email})

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as s:
        await asyncio.gather(*(one(i, s) for i in range(n)))
    return out


def conversation(c: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    cid = c["customer_id"]
    return [
        ("payments.lookup", {"customer_id": cid}),
        ("subscriptions.lookup", {"customer_id": cid}),
        ("customers.verify", {"customer_id": cid, "postal_code": "SW1A 1AA", "email_on_file": c["email"]}),
        ("refunds.create", {"customer_id": cid, "amount": 100}),
        ("coupons.create", {"customer_id": cid, "percent_off": 10}),
    ]


async def drive(
    base_url: str, key: str | None, customers: list[dict[str, str]], think_ms: float = 0.0
) -> dict[str, Any]:
    latencies: list[float] = []
    overheads: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    conn = aiohttp.TCPConnector(limit=len(customers))
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=60)) as s:

        async def call(c: dict[str, str]) -> None:
            call_id = "CA" + secrets.token_hex(8)
            headers = {"X-Call-Id": call_id}
            if key:
                headers["Authorization"] = f"Bearer {key}"
            rng = random.Random(call_id)
            if think_ms:
                # Calls start at different moments, as real ones do (not 200 first questions in one instant).
                await asyncio.sleep(rng.uniform(0, 2 * think_ms / 1000))
            for action, params in conversation(c):
                if think_ms:
                    # The caller talks and the bot's model thinks between two tool calls.
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)
                t0 = time.perf_counter()
                async with s.post(f"{base_url}/v1/actions/{action}", json=params, headers=headers) as r:
                    body = await r.read()
                    elapsed = time.perf_counter() - t0
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if r.status >= 400 and key:
                        code = json.loads(body).get("error", {}).get("code", "?")
                        errors[f"{action}:{code}"] = errors.get(f"{action}:{code}", 0) + 1
                    timing = r.headers.get("Server-Timing", "")
                provider = 0.0
                for part in timing.split(","):
                    name, _, dur = part.strip().partition(";dur=")
                    if name == "provider" and dur:
                        provider = float(dur) / 1000
                latencies.append(elapsed)
                overheads.append(max(0.0, elapsed - provider))

        t0 = time.perf_counter()
        await asyncio.gather(*(call(c) for c in customers))
        wall = time.perf_counter() - t0
    n = len(latencies)
    return {
        "requests": n,
        "wall_s": wall,
        "throughput": n / wall,
        "lat_p50": pct(latencies, 0.50) * 1000,
        "lat_p95": pct(latencies, 0.95) * 1000,
        "lat_p99": pct(latencies, 0.99) * 1000,
        "ovh_p50": pct(overheads, 0.50) * 1000,
        "ovh_p95": pct(overheads, 0.95) * 1000,
        "ovh_p99": pct(overheads, 0.99) * 1000,
        "statuses": statuses,
        "errors": errors,
    }


async def run_bare(customers: list[dict[str, str]], think_ms: float) -> dict[str, Any]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BARE_APP, str(port), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await wait_http(f"http://127.0.0.1:{port}/")
        result = await drive(f"http://127.0.0.1:{port}", None, customers, think_ms)
        result["rss_mb"] = peak_rss_mb(proc.pid)
        return result
    finally:
        await stop(proc)


async def pg_database() -> str:
    import asyncpg

    name = f"voicepay_load_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


async def drop_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def run_store(store: str, calls: int, think_ms: float) -> tuple[dict[str, Any], dict[str, Any]]:
    store_url = await pg_database() if store == "postgres" else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            procs, state = await start_gateway(Path(tmp), store_url)
            try:
                customers = await make_customers(state, calls)
                await webhooks_settled(state["stripe_base_url"])
                # Warm-up: a few conversations, so first-use costs (lazy SDK imports, connections) are not
                # measured.
                await drive(state["base_url"], state["agent_key"], customers[:WARMUP])
                gw = await drive(state["base_url"], state["agent_key"], customers[WARMUP:], think_ms)
                gw["rss_mb"] = peak_rss_mb(procs[0].pid)
            finally:
                for proc in procs:
                    await stop(proc)
        bare = await run_bare(customers[WARMUP:], think_ms)
        return gw, bare
    finally:
        if store_url:
            await drop_pg(store_url)


def report(store: str, calls: int, think_ms: float, gw: dict[str, Any], bare: dict[str, Any]) -> None:
    pacing = f"think time ~{think_ms:.0f} ms between actions" if think_ms else "no think time (saturating)"
    print(f"\n== {store}: {calls - WARMUP} concurrent simulated calls, {gw['requests']} actions, {pacing} ==")
    print(f"{'':22}{'gateway':>12}{'bare aiohttp':>14}")
    print(f"{'throughput (req/s)':22}{gw['throughput']:12.1f}{bare['throughput']:14.1f}")
    for q in ("p50", "p95", "p99"):
        print(f"{'latency ' + q + ' (ms)':22}{gw['lat_' + q]:12.1f}{bare['lat_' + q]:14.1f}")
    for q in ("p50", "p95", "p99"):
        print(f"{'overhead ' + q + ' (ms)':22}{gw['ovh_' + q]:12.1f}{'':>14}")
    print(f"{'peak RSS (MB)':22}{gw['rss_mb']:12.1f}{bare['rss_mb']:14.1f}")
    print(f"statuses: {gw['statuses']}" + (f"; errors: {gw['errors']}" if gw["errors"] else ""))
    ratio = gw["throughput"] / bare["throughput"]
    print(f"ratio throughput gateway/bare: {ratio:.2f} (target >= 0.5)")
    print(f"overhead p99: {gw['ovh_p99']:.1f} ms (target < 10 ms); gateway latency p99 / bare p99: "
          f"{gw['lat_p99'] / bare['lat_p99']:.1f}x")  # fmt: skip


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200, help="concurrent simulated calls (default 200)")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument(
        "--think-ms",
        default="0,1000,5000",
        help="comma-separated pacing runs: mean pause between a call's actions (0 = back to back, which measures "
        "capacity; ~1000 ms is a brisk phone conversation)",
    )
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    for store in args.stores.split(","):
        for think in (float(t) for t in args.think_ms.split(",")):
            gw, bare = await run_store(store.strip(), args.calls + WARMUP, think)
            report(store.strip(), args.calls + WARMUP, think, gw, bare)


if __name__ == "__main__":
    asyncio.run(main())
