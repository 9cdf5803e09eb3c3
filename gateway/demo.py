"""``voicepay demo``: a scripted phone call against sandbox mode, offline.

It starts the Stripe sandbox, the PCI Pal emulator and the gateway in this process, on 127.0.0.1 ports, with a
temporary var directory; then plays a caller and a bot through the three core conversations (did my payment
go through, a refund, a promised discount) and a secure card payment through PCI Pal. Each bot turn and each
action with its result is printed. At the end the log file and the database file are scanned for card
numbers, to show that nothing the caller keyed (or said) stayed anywhere.

:class:`DemoStack` is the same in-process stack the end-to-end tests use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import socket
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import web

from adapters.pcipal.emulator import FlowConfig, PciPalEmulator
from adapters.stripe.sandbox import StripeSandbox
from gateway.auth import SCOPES
from gateway.sandbox import PCIPAL_FLOW_ID, SANDBOX_STRIPE_KEY, SANDBOX_TENANT, SandboxSenders, sandbox_settings
from redaction import contains_card_number, scan

#: Stripe's public test card number: the demo has the "caller" read it aloud to show it is refused.
TEST_PAN_SPOKEN = "4242 4242 4242 4242"
ACTION_TIMEOUT = aiohttp.ClientTimeout(total=30)


class DemoStack:
    """Stripe sandbox + PCI Pal emulator + the gateway, in-process, on 127.0.0.1.

    ``flow`` overrides the PCI Pal flow (its callback auth must match ``callback_auth``); by default an HMAC
    flow with a fresh secret, as in ``voicepay serve --sandbox``.
    """

    def __init__(
        self,
        var_dir: Path,
        *,
        flow: FlowConfig | None = None,
        callback_auth: dict[str, Any] | None = None,
        webhooks: bool = True,
        pcipal_settings: dict[str, Any] | None = None,
        environ: dict[str, str] | None = None,
        client_headers: dict[str, str] | None = None,
        link_senders: bool = True,
    ) -> None:
        self.var_dir = var_dir
        self.callback_secret = secrets.token_hex(16)
        self.flow = flow or FlowConfig(
            callback_auth="hmac", callback_secret=self.callback_secret, retries=2, retry_backoff=0.05
        )
        self.callback_auth = callback_auth or {"hmac_secrets": [self.callback_secret]}
        self.webhooks = webhooks
        #: Extra ``tenants.pcipal`` settings (capture_mode, flow and transfer templates...).
        self.pcipal_settings = dict(pcipal_settings or {})
        #: ``VOICEPAY_*`` overrides for the gateway's settings (e.g. server.trusted_proxies); none by default.
        self.environ = dict(environ or {})
        #: Headers on every request the stack's own client sends (e.g. X-Forwarded-For behind a trusted proxy).
        self.client_headers = dict(client_headers or {})
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        self.stripe = StripeSandbox(api_key=SANDBOX_STRIPE_KEY, seed=True, webhook_retry_delays=(0.05, 0.2))
        self.pcipal: PciPalEmulator | None = None
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self.agent_key = ""
        self.tenant = SANDBOX_TENANT
        self.app: web.Application | None = None
        self._http: aiohttp.ClientSession | None = None
        #: The Twilio emulator and SMTP sink the tenant's pay-by-link senders use (None: no senders).
        self.senders: SandboxSenders | None = SandboxSenders() if link_senders else None

    @property
    def db_path(self) -> Path:
        return self.var_dir / "voicepay-sandbox.sqlite3"

    async def start(self) -> DemoStack:
        from gateway.app import create_app
        from gateway.routes import SERVICES

        self.var_dir.mkdir(parents=True, exist_ok=True)
        stripe_url = await self.stripe.start("127.0.0.1", 0)
        client_secret = secrets.token_hex(16)
        self.pcipal = PciPalEmulator(
            flows={PCIPAL_FLOW_ID: self.flow},
            stripe_base_url=stripe_url,
            stripe_api_key=SANDBOX_STRIPE_KEY,
            client_secret=client_secret,
        )
        pcipal_url = await self.pcipal.start("127.0.0.1", 0)
        if self.senders is not None:
            await self.senders.start()
        # Bind first so the public URL (the callback URL handed to PCI Pal) is known before the app exists.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = sandbox_settings(
            var_dir=str(self.var_dir),
            stripe_base_url=stripe_url,
            webhook_secret=self.webhook_secret,
            public_base_url=self.base_url,
            pcipal={
                "base_url": pcipal_url,
                "tenant_name": self.pcipal.tenant_name,
                "tenant_number": self.pcipal.tenant_number,
                "username": self.pcipal.username,
                "client_id": self.pcipal.client_id,
                "client_secret": client_secret,
                "flow_id": PCIPAL_FLOW_ID,
                "callback_auth": self.callback_auth,
                **self.pcipal_settings,
            },
            environ=self.environ,  # the demo is self-contained: no VOICEPAY_* from the shell
            senders=self.senders.settings(timeout_seconds=5.0) if self.senders is not None else None,
        )
        self.app = create_app(settings)
        self.runner = web.AppRunner(self.app, access_log=logging.getLogger("aiohttp.access"), shutdown_timeout=1.0)
        await self.runner.setup()
        await web.SockSite(self.runner, sock).start()
        services = self.app[SERVICES]
        _, self.agent_key = await services.keys.create(SANDBOX_TENANT, SCOPES.keys(), label="demo")
        if self.webhooks:
            self.stripe.add_webhook_endpoint(f"{self.base_url}/v1/webhooks/stripe/{SANDBOX_TENANT}",
                                             self.webhook_secret)
        self._http = aiohttp.ClientSession(timeout=ACTION_TIMEOUT, headers=self.client_headers)
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.pcipal is not None:
            await self.pcipal.stop()
        if self.senders is not None:
            await self.senders.stop()
        await self.stripe.stop()

    async def __aenter__(self) -> DemoStack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def services(self) -> Any:
        from gateway.routes import SERVICES

        assert self.app is not None
        return self.app[SERVICES]

    async def action(
        self, name: str, params: dict[str, Any], *, call_id: str | None = None, idempotency_key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Call an action as the bot does; returns (HTTP status, JSON body)."""
        assert self._http is not None
        headers = {"Authorization": f"Bearer {self.agent_key}"}
        if call_id is not None:
            headers["X-Call-Id"] = call_id
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        async with self._http.post(f"{self.base_url}/v1/actions/{name}", json=params, headers=headers) as resp:
            return resp.status, await resp.json()

    async def post_callback(
        self, body: bytes, headers: dict[str, str], tenant: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        assert self._http is not None
        url = f"{self.base_url}/v1/callbacks/pcipal/{tenant or self.tenant}"
        async with self._http.post(url, data=body, headers=headers) as resp:
            return resp.status, await resp.json()


# ----------------------------------------------------------------------------------------------- scanning


def scan_text_for_card_data(text: str) -> int:
    """Number of card-data findings (PAN, CVV, expiry next to a PAN) plus whole-text PAN hits."""
    return len([f for f in scan(text) if f.kind == "pan"]) + (1 if contains_card_number(text) else 0)


def scan_database(path: Path) -> tuple[int, int]:
    """(values scanned, values holding a card number) over every text value of every table."""
    scanned = found = 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 (names from sqlite_master)
                for value in row:
                    if isinstance(value, str):
                        scanned += 1
                        found += 1 if contains_card_number(value) else 0
    finally:
        conn.close()
    return scanned, found


def scan_files(paths: list[Path]) -> tuple[int, int]:
    """(bytes scanned, card numbers found) over the raw bytes of files (database pages, WAL, logs)."""
    total = found = 0
    for p in paths:
        if p.exists():
            data = p.read_bytes()
            total += len(data)
            # Text a store writes lies in runs of printable bytes; control bytes (page headers, record headers,
            # binary integers) end a run. Scanning the runs apart keeps binary noise from being read as the
            # separators of a card number. UTF-8 continuation bytes (0x80-0xBF, e.g. full-width digits) stay in.
            for run in _BINARY.split(data.decode("latin-1")):
                if len(run) >= 12:
                    found += len([f for f in scan(run) if f.kind == "pan"])
    return total, found


_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f]+")


# -------------------------------------------------------------------------------------------------- script


class _Printer:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def __call__(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def caller(self, text: str) -> None:
        self(f"  Caller: {text}")

    def bot(self, text: str) -> None:
        self(f"  Bot:    {text}")

    def action(self, name: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> None:
        self(f"    -> {name} {json.dumps(params)}")
        if body.get("ok"):
            self(f"    <- {status} {json.dumps(body.get('result'), default=str)}")
        else:
            err = body.get("error") or {}
            self(f"    <- {status} error {err.get('code')}: {err.get('message')}")


async def _call(stack: DemoStack, p: _Printer, name: str, params: dict[str, Any], call_id: str) -> dict[str, Any]:
    status, body = await stack.action(name, params, call_id=call_id)
    p.action(name, params, status, body)
    say = body.get("say") or (body.get("error") or {}).get("say")
    if say:
        p.bot(str(say))
    return body


def _have(stack: DemoStack, *names: str) -> list[str]:
    return [n for n in names if stack.services.registry.get(n) is None]


async def run_demo(out: IO[str] | None = None, var_dir: Path | None = None) -> int:
    """Run the scripted call. Returns 0 when it completed and no card data was found anywhere."""
    from gateway.logs import configure_logging

    stream = out or sys.stdout
    p = _Printer(stream)
    with tempfile.TemporaryDirectory(prefix="voicepay-demo-") as tmp:
        vdir = var_dir or Path(tmp)
        log_path = vdir / "gateway.log"
        vdir.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("w", encoding="utf-8")  # closed in finally, after the stack stops
        handler = configure_logging("INFO", stream=log_file)
        try:
            async with DemoStack(vdir) as stack:
                p("voicepay demo: Stripe sandbox, PCI Pal emulator and the gateway on 127.0.0.1 (offline)")
                p(f"  gateway {stack.base_url}   var dir {vdir}")
                await _script(stack, p)
            await asyncio.sleep(0)
        finally:
            logging.getLogger().removeHandler(handler)
            log_file.close()
        return _report(p, vdir, log_path)


async def _script(stack: DemoStack, p: _Printer) -> None:
    seed = stack.stripe.seed_data or {}
    ada = seed.get("customers", {}).get("ada", {})
    email = str(ada.get("email", "ada@example.com"))
    postcode = str(ada.get("postal_code", "SW1A 1AA"))

    p()
    p("1. Payment confirmation")
    p.caller("Hi, I paid for my monthly box yesterday. Did it go through? My email is " + email + ".")
    if missing := _have(stack, "payments.lookup"):
        p(f"  (skipped: action {', '.join(missing)} is not available in this build)")
    else:
        await _call(stack, p, "payments.lookup", {"email": email, "limit": 1}, "demo-call-1")

    p()
    p("2. Refund request")
    p.caller("I'd like a refund for that monthly box, please.")
    if missing := _have(stack, "customers.verify", "refunds.create"):
        p(f"  (skipped: action {', '.join(missing)} is not available in this build)")
    else:
        p.bot("Of course. To verify it's you, what's the postcode on the account?")
        p.caller(f"It's {postcode}. And the card I paid with ends in 4242.")
        verify = {"email": email, "postal_code": postcode, "card_last4": "4242"}
        body = await _call(stack, p, "customers.verify", verify, "demo-call-2")
        if body.get("ok"):
            latest = seed.get("payments", {}).get("ada_latest", {}).get("payment_intent")
            params: dict[str, Any] = {"payment_id": latest} if latest else {"email": email}
            await _call(stack, p, "refunds.create", params, "demo-call-2")

    p()
    p("3. Promised discount")
    p.caller("Last time I called I was promised 10% off my next order.")
    if missing := _have(stack, "coupons.create"):
        p(f"  (skipped: action {', '.join(missing)} is not available in this build)")
    else:
        await _call(stack, p, "coupons.create", {"email": email, "percent_off": 10}, "demo-call-3")

    p()
    p("4. Secure card payment (PCI Pal)")
    p.caller(f"I'd like to pay the £25 balance now. My card number is {TEST_PAN_SPOKEN}.")
    p("  (the bot, wrongly, passes what it heard to an action: the gateway refuses it and keeps nothing of it)")
    await _call(stack, p, "payments.lookup" if not _have(stack, "payments.lookup") else "gateway.ping",
                {"email": email, "note": f"card {TEST_PAN_SPOKEN}"}, "demo-call-4")
    start = await _call(stack, p, "capture.start", {"amount": 2500, "description": "Account balance"}, "demo-call-4")
    if not start.get("ok"):
        p("  (secure capture could not start; see the log)")
        return
    result = start["result"]
    p(f"  [call transferred to PCI Pal, link id {result['link_id']}; the caller keys a Visa test card on the keypad]")
    assert stack.pcipal is not None
    sim = await stack.pcipal.simulate(result["pcipal_session_id"], "success", card="visa")
    p(f"  [PCI Pal confirmed the PaymentIntent with Stripe and called the gateway back: result {sim.result}, "
      f"delivered {sim.delivered}]")
    p.caller("Done, I've entered it.")
    for _ in range(20):  # bounded: the callback normally settles it before simulate() returns
        status = await _call(stack, p, "capture.status", {"capture_id": result["capture_id"]}, "demo-call-4")
        if (status.get("result") or {}).get("state") in ("succeeded", "failed", "canceled", "expired"):
            break
        await asyncio.sleep(0.1)


def _report(p: _Printer, vdir: Path, log_path: Path) -> int:
    p()
    p("5. Where did the card data go?")
    log_text = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    log_lines = log_text.count("\n")
    log_hits = scan_text_for_card_data(log_text)
    p(f"  log file      {log_path.name}: {log_lines} lines scanned, {log_hits} card numbers found")
    db = vdir / "voicepay-sandbox.sqlite3"
    values, db_hits = scan_database(db) if db.exists() else (0, 0)
    p(f"  database      {db.name}: {values} stored text values scanned, {db_hits} card numbers found")
    raw_bytes, raw_hits = scan_files([db, db.with_name(db.name + "-wal")])
    p(f"  database file (raw bytes incl. WAL): {raw_bytes} bytes scanned, {raw_hits} card numbers found")
    clean = log_hits == 0 and db_hits == 0 and raw_hits == 0
    p("  RESULT: no card data in logs or database" if clean else "  RESULT: CARD DATA FOUND (see above)")
    return 0 if clean else 1
