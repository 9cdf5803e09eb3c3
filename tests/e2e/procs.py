"""A small harness for crash and fault tests with real processes on 127.0.0.1.

It starts the Stripe sandbox (``python -m adapters.stripe.sandbox``), the PCI Pal emulator
(``python -m adapters.pcipal.emulator``) and N ``voicepay serve`` processes from one generated config file
(production mode: secrets encrypted under a generated ``VOICEPAY_MASTER_KEYS``), and, for the database-restart
test, a private PostgreSQL cluster (initdb in a temporary directory, its own port and socket directory, run as
the ``postgres`` OS user) so the shared server on 5432 is never touched.

Every wait is bounded (:func:`wait_until`), every process writes its output to a log file (no pipes to fill),
and :class:`Stack` kills whatever is still running when the test ends, pass or fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any

import aiohttp

from gateway.secrets import MasterKeyRing, generate_master_key

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
STRIPE_KEY = "sk_test_procs_voicepay"
WEBHOOK_SECRET = "whsec_procs_" + "0" * 16
NOTIFY_SECRET = "ntf_secret_procs"
TENANT = "acme"
SCOPES = (
    "payments:read",
    "refunds:write",
    "coupons:write",
    "subscriptions:read",
    "customers:verify",
    "escalations:write",
    "capture:write",
)
#: Per-request timeout of the harness's own HTTP client: a hung gateway fails the test instead of hanging it.
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until(
    check: Callable[[], Awaitable[Any]], *, within: float = 20.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll ``check`` until it returns something truthy; fail the test after ``within`` seconds.

    A cap on how long a broken build can hang, never a performance threshold."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within}s waiting for {what}")
        await asyncio.sleep(interval)


# --- processes -----------------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash, an OOM kill, a pulled plug)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 10)

    async def terminate(self, within: float = 15.0, sig: int = signal.SIGTERM) -> int | None:
        """Ask politely (SIGTERM by default); SIGKILL after ``within`` seconds. Returns the exit code."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                await self.kill()
        return self.process.returncode


async def spawn(
    name: str, args: Sequence[str], *, log_dir: Path, env: Mapping[str, str], stdout_path: Path | None = None
) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    err = os.open(log_path, flags, 0o600)
    out = os.open(stdout_path, flags, 0o600) if stdout_path is not None else err
    try:
        process = await asyncio.create_subprocess_exec(
            *args, cwd=str(ROOT), env=dict(env), stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,  # its own process group: signals aimed at it reach its children too
        )
    finally:
        os.close(err)
        if out != err:
            os.close(out)
    return Proc(name, process, log_path)


def base_env() -> dict[str, str]:
    """The parent's environment without any VOICEPAY_* (the generated config is the whole configuration)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- TOML ----------------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        raise ValueError("TOML has no null: leave the key out")
    # JSON scalars (strings with \" \\ \n \uXXXX escapes, true/false, numbers) are valid TOML scalars.
    return json.dumps(value)


def to_toml(data: Mapping[str, Any]) -> str:
    """Top-level scalars, then one ``[section]`` per table; lists of tables as inline tables."""
    lines: list[str] = []
    for k, v in data.items():
        if not isinstance(v, dict) and v is not None:
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines.extend(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items() if vv is not None)
    return "\n".join(lines) + "\n"


# --- Stripe sandbox and PCI Pal emulator ------------------------------------------------------------------


@dataclass
class StripeSandboxProc:
    proc: Proc
    base_url: str
    api_key: str
    seed: dict[str, Any]
    http: aiohttp.ClientSession

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, self.base_url + path, json=body) as resp:
            assert resp.status < 400, f"sandbox control {method} {path}: {resp.status} {await resp.text()}"
            return await resp.json()

    async def add_fault(self, kind: str, path_prefix: str = "/v1/", **options: Any) -> dict[str, Any]:
        return dict(await self.control("POST", "/_sandbox/faults", {"kind": kind, "path_prefix": path_prefix,
                                                                    **options}))

    async def clear_faults(self) -> None:
        await self.control("DELETE", "/_sandbox/faults")

    async def requests(self, prefix: str = "/v1/") -> list[dict[str, Any]]:
        return list(await self.control("GET", f"/_sandbox/requests?prefix={prefix}"))

    async def api(self, method: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The Stripe API itself (reads, for assertions)."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        async with self.http.request(method, self.base_url + path, params=params, headers=headers) as resp:
            assert resp.status == 200, f"sandbox {method} {path}: {resp.status} {await resp.text()}"
            return await resp.json()

    async def refunds_for(self, payment_intent: str) -> list[dict[str, Any]]:
        page = await self.api("GET", "/v1/refunds", {"payment_intent": payment_intent, "limit": "100"})
        return list(page["data"])

    async def add_webhook_endpoint(self, url: str, secret: str) -> None:
        await self.control("POST", "/_sandbox/webhook_endpoints", {"url": url, "secret": secret})


@dataclass
class PciPalProc:
    proc: Proc
    base_url: str
    client_id: str
    client_secret: str
    callback_secret: str
    http: aiohttp.ClientSession

    async def simulate(self, session_id: str, scenario: str = "success", *, wait: bool = False,
                       **options: Any) -> Any:
        url = f"{self.base_url}/_emulator/sessions/{session_id}/simulate"
        async with self.http.post(url, json={"scenario": scenario, "wait": wait, **options}) as resp:
            assert resp.status in (200, 202), f"simulate: {resp.status} {await resp.text()}"
            return await resp.json()

    async def session(self, session_id: str) -> dict[str, Any]:
        async with self.http.get(f"{self.base_url}/_emulator/sessions/{session_id}") as resp:
            assert resp.status == 200
            return dict(await resp.json())


# --- the gateway ---------------------------------------------------------------------------------------


@dataclass
class GatewayProc:
    proc: Proc
    port: int
    key: str
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def call(
        self,
        action: str,
        body: dict[str, Any] | None = None,
        *,
        call_id: str | None = None,
        idempotency_key: str | None = None,
        within: float | None = None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.key}"}
        if call_id is not None:
            headers["X-Call-Id"] = call_id
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        kw: dict[str, Any] = {}
        if within is not None:
            kw["timeout"] = aiohttp.ClientTimeout(total=within)
        async with self.http.post(f"{self.url}/v1/actions/{action}", json=body or {}, headers=headers,
                                  **kw) as resp:
            return resp.status, dict(await resp.json())

    async def get(self, path: str) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.url + path) as resp:
            return resp.status, dict(await resp.json())

    async def ready(self) -> bool:
        try:
            status, _ = await self.get("/readyz")
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False
        return status == 200


@dataclass
class Stack:
    """Everything one test runs, and the cleanup: :meth:`close` stops every process it started."""

    tmp: Path
    store_url: str
    http: aiohttp.ClientSession
    ring: MasterKeyRing
    master_keys: str
    procs: list[Proc] = field(default_factory=list)
    stripe: StripeSandboxProc | None = None
    pcipal: PciPalProc | None = None
    key: str = ""
    config_path: Path | None = None

    @classmethod
    async def open(cls, tmp: Path, store_url: str) -> Stack:
        keys = generate_master_key("e2e1")
        http = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return cls(tmp=tmp, store_url=store_url, http=http, ring=MasterKeyRing.parse(keys), master_keys=keys)

    @property
    def log_dir(self) -> Path:
        return self.tmp / "logs"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = base_env()
        env["VOICEPAY_MASTER_KEYS"] = self.master_keys
        env.update(extra or {})
        return env

    async def close(self) -> None:
        for p in reversed(self.procs):
            if p.alive:
                await p.kill()
        await self.http.close()

    def logs(self) -> str:
        """Every process's log, for a failing test's report."""
        return "\n".join(f"===== {p.name} (pid {p.pid}, rc {p.process.returncode})\n{p.log()[-6000:]}"
                         for p in self.procs)

    async def start_stripe(self, *, webhooks: Sequence[tuple[str, str]] = ()) -> StripeSandboxProc:
        out = self.log_dir / "stripe.stdout"
        args = [PY, "-m", "adapters.stripe.sandbox", "--host", "127.0.0.1", "--port", "0", "--seed",
                "--api-key", STRIPE_KEY]
        for url, secret in webhooks:
            args += ["--webhook", f"{url}={secret}"]
        proc = await spawn("stripe", args, log_dir=self.log_dir, env=base_env(), stdout_path=out)
        self.procs.append(proc)

        async def line() -> dict[str, Any] | None:
            assert proc.alive, f"the Stripe sandbox exited:\n{proc.log()}"
            text = out.read_text() if out.exists() else ""
            return json.loads(text.splitlines()[0]) if text.endswith("\n") else None

        info = await wait_until(line, within=20, what="the Stripe sandbox's JSON line")
        self.stripe = StripeSandboxProc(proc, info["base_url"], info["api_key"], info["seed"], self.http)
        return self.stripe

    async def start_pcipal(self) -> PciPalProc:
        assert self.stripe is not None
        out = self.log_dir / "pcipal.stdout"
        client_id, client_secret, callback_secret = "e2e-client", "e2e-client-secret", "e2e-callback-secret"
        args = [PY, "-m", "adapters.pcipal.emulator", "--host", "127.0.0.1", "--port", "0",
                "--client-id", client_id, "--client-secret", client_secret,
                "--callback-auth", "hmac", "--callback-secret", callback_secret,
                "--stripe-base-url", self.stripe.base_url, "--stripe-api-key", self.stripe.api_key]
        proc = await spawn("pcipal", args, log_dir=self.log_dir, env=base_env(), stdout_path=out)
        self.procs.append(proc)
        prefix = "PCI Pal emulator listening on "

        async def url() -> str | None:
            assert proc.alive, f"the PCI Pal emulator exited:\n{proc.log()}"
            text = out.read_text() if out.exists() else ""
            found = [ln[len(prefix):].strip() for ln in text.splitlines() if ln.startswith(prefix)]
            return found[0] if found else None

        base = await wait_until(url, within=20, what="the PCI Pal emulator to listen")
        self.pcipal = PciPalProc(proc, base, client_id, client_secret, callback_secret, self.http)
        return self.pcipal

    def write_config(self, **sections: Any) -> Path:
        """The gateway config: one tenant (``acme``) on the sandbox, secrets encrypted; ``sections`` (and a
        ``tenant`` dict) override the defaults, one level deep."""
        assert self.stripe is not None
        enc = self.ring.encrypt
        tenant: dict[str, Any] = {
            "id": TENANT,
            "name": "Acme Ltd",
            "stripe_secret_key": enc(self.stripe.api_key),
            "stripe_api_base": self.stripe.base_url,
            "stripe_webhook_secrets": [enc(WEBHOOK_SECRET)],
            "currency": "gbp",
            "phone_default_region": "GB",
        }
        if self.pcipal is not None:
            tenant["pcipal"] = {
                "base_url": self.pcipal.base_url,
                "tenant_name": "sandbox",
                "tenant_number": "1000",
                "client_id": self.pcipal.client_id,
                "client_secret": enc(self.pcipal.client_secret),
                "flow_id": "1055",
                "callback_auth": {"hmac_secrets": [enc(self.pcipal.callback_secret)]},
            }
        tenant.update(sections.pop("tenant", {}))
        if tenant.get("notification_secret"):
            tenant["notification_secret"] = enc(tenant["notification_secret"])
        data: dict[str, Any] = {
            "var_dir": str(self.tmp / "var"),
            "server": {"host": "127.0.0.1", "shutdown_timeout": 2.0, "request_timeout": 20.0},
            "store": {"url": self.store_url, "pool_min_size": 1, "pool_max_size": 5, "command_timeout": 5.0},
            "rate_limit": {"per_key_rate": 1000.0, "burst": 1000, "per_tenant_rate": 1000.0,
                           "per_tenant_burst": 1000},
            "logging": {"level": "INFO", "access_log": True},
            "webhooks": {"poll_interval_seconds": 0.2, "retry_base_seconds": 0.2, "retry_max_seconds": 2.0,
                         "job_lease_seconds": 4.0, "stop_timeout_seconds": 2.0},
            "notifications": {"retry_schedule_seconds": [0.3, 0.6, 1.0], "timeout_seconds": 2.0},
        }
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        data["tenants"] = [tenant]
        path = self.tmp / "voicepay.toml"
        path.write_text(to_toml(data))
        self.config_path = path
        return path

    async def cli(self, *args: str, within: float = 60.0) -> tuple[int, str, str]:
        """``voicepay <args> --config <the config>`` as a process; (exit code, stdout, stderr)."""
        assert self.config_path is not None
        process = await asyncio.create_subprocess_exec(
            PY, "-m", "gateway.cli", *args, "--config", str(self.config_path), cwd=str(ROOT), env=self.env(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), within)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"voicepay {' '.join(args)} did not finish within {within}s") from None
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def create_key(self) -> str:
        rc, out, err = await self.cli("keys", "create", "--tenant", TENANT, "--scopes", ",".join(SCOPES))
        assert rc == 0, err
        self.key = out.strip().splitlines()[-1]
        return self.key

    async def start_gateway(
        self, name: str = "gw", *, port: int | None = None, env: Mapping[str, str] | None = None,
        wait_ready: bool = True,
    ) -> GatewayProc:
        assert self.config_path is not None and self.key
        port = port or free_port()
        extra = {"VOICEPAY_SERVER__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", **(env or {})}
        args = [PY, "-m", "gateway.cli", "serve", "--config", str(self.config_path),
                "--host", "127.0.0.1", "--port", str(port)]
        n = sum(1 for p in self.procs if p.name.startswith(name))
        proc = await spawn(f"{name}{n or ''}", args, log_dir=self.log_dir, env=self.env(extra))
        self.procs.append(proc)
        gw = GatewayProc(proc, port, self.key, self.http)
        if wait_ready:
            async def ready() -> bool:
                assert proc.alive, f"{proc.name} exited with {proc.process.returncode}:\n{proc.log()[-4000:]}"
                return await gw.ready()

            await wait_until(ready, within=30, interval=0.1, what=f"{proc.name} /readyz")
        return gw


# --- a private PostgreSQL cluster ------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise AssertionError(f"PostgreSQL's {name} is required for this test (looked in /usr/lib/postgresql)")
    return found[-1]


def _as_postgres(args: Sequence[str]) -> list[str]:
    """Run as the ``postgres`` OS user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return list(args)
    runuser = shutil.which("runuser")
    if runuser is None:
        raise AssertionError("running as root without runuser: cannot start a private PostgreSQL cluster")
    return [runuser, "-u", "postgres", "--", *args]


@dataclass
class PgCluster:
    """A throwaway PostgreSQL cluster in ``dir`` on its own port: restart it without disturbing anyone."""

    dir: Path
    port: int
    log_dir: Path
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    async def create(cls) -> PgCluster:
        # Not under pytest's tmp_path: pytest resets its base directory to 0700 (root only) whenever any pytest
        # process starts, which would lock the postgres user out of its own data directory mid-test.
        base = Path(tempfile.mkdtemp(prefix="voicepay-pg-"))
        data = base / "pgdata"
        sock = base / "pgsock"
        sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(base, "postgres", "postgres")
            shutil.chown(sock, "postgres", "postgres")
        process = await asyncio.create_subprocess_exec(
            *_as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                           "--no-sync", "--no-instructions"]),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=base_env(),
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 0, f"initdb failed:\n{out.decode(errors='replace')}"
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            shutil.rmtree(base, ignore_errors=True)
            raise
        return cls(dir=base, port=free_port(), log_dir=base / "logs")

    async def start(self) -> None:
        args = _as_postgres([
            _pg_bin("postgres"), "-D", str(self.dir / "pgdata"), "-p", str(self.port), "-k", str(self.dir / "pgsock"),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=50", "-c", "shared_buffers=16MB",
        ])
        self.proc = await spawn("postgres", args, log_dir=self.log_dir, env=base_env())

        async def accepting() -> bool:
            assert self.proc is not None and self.proc.alive, f"postgres exited:\n{self.proc and self.proc.log()}"
            try:
                import asyncpg

                conn = await asyncpg.connect(self.url, timeout=2)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                return False
            await conn.close()
            return True

        await wait_until(accepting, within=30, interval=0.1, what="the private PostgreSQL to accept connections")

    async def stop(self, *, mode: str = "fast") -> None:
        """``fast`` (SIGINT: disconnect clients, shut down cleanly) or ``immediate`` (SIGQUIT: a crash)."""
        if self.proc is None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        # Signal the postmaster itself (its pid is the first line of postmaster.pid; runuser is its parent).
        try:
            postmaster = int((self.dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            postmaster = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(postmaster, sig)
        try:
            await asyncio.wait_for(self.proc.process.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            await asyncio.wait_for(self.proc.process.wait(), 10)
        self.proc = None

    async def destroy(self) -> None:
        with contextlib.suppress(Exception):
            await self.stop(mode="immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def pg_stack(tmp: Path) -> Any:
    """A :class:`Stack` on a fresh PostgreSQL database (dropped afterwards); every process is stopped at the
    end and their logs printed (pytest shows them only for a failing test)."""
    from tests.conftest import create_pg_database, drop_pg_database

    url = await create_pg_database()
    stack = await Stack.open(tmp, url)
    try:
        yield stack
    finally:
        try:
            await stack.close()
        finally:
            print(stack.logs())
            await drop_pg_database(url)
