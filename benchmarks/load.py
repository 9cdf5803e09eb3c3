"""Load benchmark: N concurrent simulated phone calls against a running gateway in sandbox mode.

Each simulated call is one caller's conversation: payments.lookup, subscriptions.lookup, customers.verify,
refunds.create, coupons.create (one customer each, created in the Stripe sandbox beforehand). The gateway runs
in sandbox mode (`sandbox = true`, test secrets) as its own process, on SQLite and on PostgreSQL; the Stripe
sandbox runs in another process (as real Stripe is remote) and delivers its webhooks back to the gateway.

Printed per store: throughput (actions/s), p50/p95/p99 of client latency and of *gateway overhead* (client
latency minus the provider time the gateway reports in its Server-Timing header), and the gateway process's
peak RSS. Baseline, same run, same client: a bare aiohttp app doing the same JSON round trip (no auth, no
store, no provider), at the same concurrency. Ratios: gateway throughput / bare throughput, overhead p99.

Issue 13 adds: the gateway with ``voicepay serve --workers N`` (PostgreSQL) next to one process, the scaling
ratio, and the baseline a user would otherwise pick: the bot calling Stripe itself, i.e. the same Stripe
requests per action (checked against the sandbox's request log and printed) made directly with the official
SDK from one process against the same sandbox, with no auth, store or audit. gateway / direct-SDK throughput
is the cost of everything the gateway adds (goal >= 0.7 at saturation with N workers).

    .venv/bin/python benchmarks/load.py [--calls 200] [--stores sqlite,postgres] [--workers 1,2]
                                        [--think-ms 0,1000] [--repeat 3]

Targets: overhead p99 under 10 ms at conversational pacing; throughput at least half the bare baseline. The
machine is shared and has 2 cores: the load generator, the gateway and the emulators share them.
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


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its current children (the workers)."""
    total = 0.0
    for p in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def self_cpu_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb(pid: int) -> float:
    """Peak RSS of the process, plus its children's (the workers of ``serve --workers``)."""
    return _peak_rss_one(pid) + sum(_peak_rss_one(c) for c in children(pid))


def _peak_rss_one(pid: int) -> float:
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
    workdir: Path, store_url: str | None, workers: int = 1
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
        "--workers", str(workers),
        cwd=workdir, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await wait_http(f"{base_url}/healthz")
    if workers > 1:  # every worker up (each migrates and opens its pools), not just the first
        for _ in range(600):
            if len(children(gateway.pid)) == workers:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
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


async def direct_conversation(client: Any, c: dict[str, str], call_id: str) -> Any:
    """The same Stripe requests the gateway sends for each action of :func:`conversation` (checked against the
    sandbox's request log by :func:`stripe_requests_per_conversation`), made with the official SDK directly:
    what a bot calling Stripe itself would do, with no auth, store, audit, policy or idempotency records."""
    import hashlib

    cid = c["customer_id"]
    v1 = client.v1

    def key(op: str) -> str:
        return "vp_" + hashlib.sha256(f"{call_id}:{op}".encode()).hexdigest()[:48]

    async def payments_lookup() -> None:
        await asyncio.gather(v1.customers.retrieve_async(cid, params={}),
                             v1.charges.list_async(params={"customer": cid, "limit": 10}))

    async def subscriptions_lookup() -> None:
        await v1.subscriptions.list_async(params={"customer": cid, "status": "all", "limit": 10,
                                                  "expand": ["data.latest_invoice"]})

    async def customers_verify() -> None:
        await v1.customers.retrieve_async(cid, params={})

    async def refunds_create() -> None:
        _, charges = await asyncio.gather(v1.customers.retrieve_async(cid, params={}),
                                          v1.charges.list_async(params={"customer": cid, "limit": 10}))
        charge = charges.data[0]
        await v1.refunds.create_async(
            params={"payment_intent": charge.payment_intent, "amount": 100, "reason": "requested_by_customer",
                    "metadata": {"voicepay_op": key("refund")}},
            options={"idempotency_key": key("refund")},
        )

    async def coupons_create() -> None:
        expires = int(time.time()) + 30 * 86400
        coupon = await v1.coupons.create_async(
            params={"duration": "once", "percent_off": 10, "max_redemptions": 1,
                    "redeem_by": expires, "name": "Voice discount 10% off",
                    "metadata": {"voicepay_op": key("coupon")}},
            options={"idempotency_key": key("coupon")},
        )
        await v1.promotion_codes.create_async(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "D" + secrets.token_hex(4).upper(),
                    "customer": cid, "max_redemptions": 1, "expires_at": expires},
            options={"idempotency_key": key("promotion_code")},
        )

    return {
        "payments.lookup": payments_lookup,
        "subscriptions.lookup": subscriptions_lookup,
        "customers.verify": customers_verify,
        "refunds.create": refunds_create,
        "coupons.create": coupons_create,
    }


def sdk_client(state: dict[str, str]) -> Any:
    import stripe

    return stripe.StripeClient(
        state["stripe_api_key"],
        base_addresses={"api": state["stripe_base_url"]},
        http_client=stripe.AIOHTTPClient(),
        max_network_retries=0,
    )


async def drive_direct(state: dict[str, str], customers: list[dict[str, str]], think_ms: float = 0.0) -> dict[str, Any]:
    """:func:`drive`'s calls and pacing, but each action is its Stripe requests made with the SDK directly."""
    latencies: list[float] = []
    client = sdk_client(state)
    try:
        async def call(c: dict[str, str]) -> None:
            call_id = "CA" + secrets.token_hex(8)
            rng = random.Random(call_id)
            steps = await direct_conversation(client, c, call_id)
            if think_ms:
                await asyncio.sleep(rng.uniform(0, 2 * think_ms / 1000))
            for action, _ in conversation(c):
                if think_ms:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)
                t0 = time.perf_counter()
                await steps[action]()
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(call(c) for c in customers))
        wall = time.perf_counter() - t0
    finally:
        await client._requestor._client.close_async()
    return {"requests": len(latencies), "wall_s": wall, "throughput": len(latencies) / wall,
            "lat_p50": pct(latencies, 0.50) * 1000, "lat_p99": pct(latencies, 0.99) * 1000}


async def sandbox_log(state: dict[str, str], clear: bool = False) -> list[str]:
    async with aiohttp.ClientSession() as s:
        if clear:
            async with s.delete(state["stripe_base_url"] + "/_sandbox/requests") as r:
                assert r.status == 200
            return []
        async with s.get(state["stripe_base_url"] + "/_sandbox/requests?path_prefix=/v1/") as r:
            records = await r.json()
    return sorted(f"{rec['method']} {'/'.join('{id}' if '_' in seg else seg for seg in rec['path'].split('/'))}"
                  for rec in records)


async def stripe_requests_per_conversation(state: dict[str, str], customers: list[dict[str, str]]) -> tuple[
        list[str], list[str]]:
    """The Stripe requests of one conversation through the gateway and through the direct SDK baseline."""
    await sandbox_log(state, clear=True)
    await drive(state["base_url"], state["agent_key"], customers[:1])
    via_gateway = await sandbox_log(state)
    await sandbox_log(state, clear=True)
    await drive_direct(state, customers[1:2])
    direct = await sandbox_log(state)
    return via_gateway, direct


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


async def run_gateway(store: str, calls: int, think_ms: float, workers: int, *,
                      with_direct: bool) -> dict[str, Any]:
    """One gateway (``workers`` processes) on a fresh database and sandbox; optionally, on the same sandbox
    after the gateway has stopped, the direct-SDK baseline with the same calls and pacing."""
    store_url = await pg_database() if store == "postgres" else None
    out: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            procs, state = await start_gateway(Path(tmp), store_url, workers)
            try:
                customers = await make_customers(state, calls)
                await webhooks_settled(state["stripe_base_url"])
                # Warm-up: a few conversations, so first-use costs (lazy SDK imports, connections) are not
                # measured (with several workers, spread over them by the kernel).
                await drive(state["base_url"], state["agent_key"], customers[:WARMUP])
                if with_direct:
                    out["requests"] = await stripe_requests_per_conversation(state, customers)
                cpu0 = (cpu_seconds(procs[0].pid), cpu_seconds(procs[1].pid), self_cpu_seconds(), time.perf_counter())
                out["gw"] = await drive(state["base_url"], state["agent_key"], customers[WARMUP:], think_ms)
                wall = time.perf_counter() - cpu0[3]
                # Where the machine's cores went during the measurement (cores busy, 1.0 = one core).
                out["gw"]["cpu_gateway"] = (cpu_seconds(procs[0].pid) - cpu0[0]) / wall
                out["gw"]["cpu_sandbox"] = (cpu_seconds(procs[1].pid) - cpu0[1]) / wall
                out["gw"]["cpu_client"] = (self_cpu_seconds() - cpu0[2]) / wall
                out["gw"]["rss_mb"] = peak_rss_mb(procs[0].pid)
                await stop(procs[0])
                if with_direct:
                    await webhooks_settled(state["stripe_base_url"])
                    await drive_direct(state, customers[:WARMUP])
                    out["direct"] = await drive_direct(state, customers[WARMUP:], think_ms)
            finally:
                for proc in procs:
                    await stop(proc)
        if with_direct:
            out["bare"] = await run_bare(customers[WARMUP:], think_ms)
        return out
    finally:
        if store_url:
            await drop_pg(store_url)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field by field median of numeric results (the machine is shared and noisy: one run proves little)."""
    import statistics

    out = dict(runs[-1])
    for k, v in runs[0].items():
        if isinstance(v, int | float):
            out[k] = statistics.median(float(r[k]) for r in runs)
    return out


def report(store: str, calls: int, think_ms: float, gws: dict[int, dict[str, Any]], direct: dict[str, Any],
           bare: dict[str, Any], repeat: int) -> None:
    pacing = f"think time ~{think_ms:.0f} ms between actions" if think_ms else "no think time (saturating)"
    first = gws[min(gws)]
    print(f"\n== {store}: {calls - WARMUP} concurrent simulated calls, {first['requests']} actions, {pacing}; "
          f"median of {repeat} run(s) ==")
    cols = [f"gateway x{w}" for w in gws] + ["direct SDK", "bare aiohttp"]
    rows = [*gws.values(), direct, bare]
    print(f"{'':22}" + "".join(f"{c:>14}" for c in cols))
    print(f"{'throughput (req/s)':22}" + "".join(f"{r['throughput']:14.1f}" for r in rows))
    for q in ("p50", "p99"):
        print(f"{'latency ' + q + ' (ms)':22}" + "".join(f"{r['lat_' + q]:14.1f}" for r in rows))
    for q in ("p50", "p95", "p99"):
        print(f"{'overhead ' + q + ' (ms)':22}" + "".join(f"{r['ovh_' + q]:14.1f}" for r in gws.values()))
    print(f"{'peak RSS (MB)':22}" + "".join(f"{r['rss_mb']:14.1f}" for r in gws.values()))
    for who in ("gateway", "sandbox", "client"):
        print(f"{'cores busy: ' + who:22}" + "".join(f"{r['cpu_' + who]:14.2f}" for r in gws.values()))
    for w, r in gws.items():
        print(f"x{w} statuses: {r['statuses']}" + (f"; errors: {r['errors']}" if r["errors"] else ""))
    if len(gws) > 1:
        n = max(gws)
        print(f"scaling: throughput x{n} / x1 = {gws[n]['throughput'] / gws[1]['throughput']:.2f} "
              f"(ideal {n:.0f}.00 on {os.cpu_count()} cores shared with the load generator and the sandbox)")
    for w, r in gws.items():
        print(f"ratio gateway x{w} / direct SDK throughput: {r['throughput'] / direct['throughput']:.2f} "
              "(goal >= 0.7 at saturation with N workers)")
        print(f"overhead p99 x{w}: {r['ovh_p99']:.1f} ms (goal < 10 ms)")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200, help="concurrent simulated calls (default 200)")
    ap.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    ap.add_argument(
        "--think-ms",
        default="0,1000",
        help="comma-separated pacing runs: mean pause between a call's actions (0 = back to back, which measures "
        "capacity; ~1000 ms is a brisk phone conversation)",
    )
    ap.add_argument("--workers", default="1,2",
                    help="comma-separated worker counts (`voicepay serve --workers N`; >1 on PostgreSQL only)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration; the medians are printed")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    worker_counts = sorted({int(w) for w in args.workers.split(",")})
    checked = False
    for store in (s.strip() for s in args.stores.split(",")):
        counts = worker_counts if store == "postgres" else [1]
        for think in (float(t) for t in args.think_ms.split(",")):
            gws: dict[int, list[dict[str, Any]]] = {w: [] for w in counts}
            directs: list[dict[str, Any]] = []
            bares: list[dict[str, Any]] = []
            for _ in range(args.repeat):
                for w in counts:
                    res = await run_gateway(store, args.calls + WARMUP, think, w, with_direct=(w == counts[0]))
                    gws[w].append(res["gw"])
                    if "direct" in res:
                        directs.append(res["direct"])
                        bares.append(res["bare"])
                    if "requests" in res and not checked:
                        via, direct = res["requests"]
                        print(f"Stripe requests per conversation: gateway {len(via)}, direct SDK {len(direct)}"
                              + ("" if via == direct else f" (differ: {via} vs {direct})"))
                        checked = True
            report(store, args.calls + WARMUP, think, {w: median_of(r) for w, r in gws.items()},
                   median_of(directs), median_of(bares), args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
