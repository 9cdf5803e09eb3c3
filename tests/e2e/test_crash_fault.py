"""Crashes and faults with real processes on 127.0.0.1 (harness: ``tests/e2e/procs.py``).

* SIGKILL a ``voicepay serve`` mid-refund, mid-webhook and mid-capture, restart it, retry: exactly one refund,
  every event processed once and no notification lost, the capture in the right state with one PaymentIntent.
* PostgreSQL (a private cluster, never the shared server) restarted under load: requests fail cleanly (503,
  JSON, a ``say``), nothing hangs, and the same gateway process recovers by itself.
* The Stripe sandbox answering 500s, 429s and dropping connections: the breaker opens, the bot gets fast
  speakable failures without Stripe being called, and the service recovers after the reset timeout.

Waits are bounded polls (``wait_until``); no assertion is about how long something took.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.stripe.signing import sign_header
from gateway.store import Store, open_store
from tests.e2e.procs import (
    NOTIFY_SECRET,
    TENANT,
    WEBHOOK_SECRET,
    GatewayProc,
    PgCluster,
    Stack,
    free_port,
    pg_stack,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[Store]:
    store = await open_store(stack.store_url, command_timeout=10)
    try:
        yield store
    finally:
        await store.close()


async def finished_at_sandbox(stack: Stack, method: str, path: str) -> bool:
    """Has the sandbox finished (answered or dropped) every ``method path`` request it received?"""
    assert stack.stripe is not None
    reqs = [r for r in await stack.stripe.requests(path) if r["method"] == method and r["path"] == path]
    return bool(reqs) and all(r["status"] is not None or "drop_after_commit" in r["faults"] for r in reqs)


async def arrived_at_sandbox(stack: Stack, method: str, path: str) -> bool:
    assert stack.stripe is not None
    return any(r["method"] == method and r["path"] == path for r in await stack.stripe.requests(path))


async def lost(task: asyncio.Task[Any]) -> None:
    """The request whose gateway was killed: the client sees the connection drop, never an answer."""
    with pytest.raises(aiohttp.ClientError):
        await task


# ------------------------------------------------------------------------------------------- mid-refund


async def test_gateway_killed_while_its_refund_is_at_stripe_then_restarted_and_retried_makes_one_refund(
    stack: Stack,
) -> None:
    assert stack.stripe is not None
    stack.write_config(idempotency={"lease_seconds": 1.0})
    await stack.create_key()
    gw = await stack.start_gateway("gw")
    call = "call-" + uuid.uuid4().hex[:10]
    ada = stack.stripe.seed["customers"]["ada"]
    status, body = await gw.call("customers.verify", {"email": ada["email"], "postal_code": "SW1A 1AA",
                                                      "card_last4": "4242"}, call_id=call)
    assert status == 200, body
    pi = stack.stripe.seed["payments"]["ada_latest"]["payment_intent"]
    # Stripe is slow: the refund is inside the sandbox (its idempotency key claimed) when the gateway dies.
    await stack.stripe.add_fault("latency", "/v1/refunds", method="POST", count=1, latency_ms=1500)
    first = asyncio.create_task(gw.call("refunds.create", {"payment_id": pi}, call_id=call,
                                        idempotency_key="k-crash"))
    await wait_until(lambda: arrived_at_sandbox(stack, "POST", "/v1/refunds"), what="the refund at the sandbox")
    await gw.proc.kill()
    await lost(first)

    restarted = await stack.start_gateway("gw", port=gw.port)
    await wait_until(lambda: finished_at_sandbox(stack, "POST", "/v1/refunds"), what="the sandbox to finish")
    # The bot retries with the same key; the record left in flight by the dead process is taken over once its
    # lease (1 s here) has passed; until then the retry is told to wait (409, retryable).
    async def retried() -> tuple[int, dict[str, Any]] | None:
        status, body = await restarted.call("refunds.create", {"payment_id": pi}, call_id=call,
                                            idempotency_key="k-crash")
        if status == 409 and body["error"]["code"] == "request_in_progress":
            return None
        return status, body

    status, body = await wait_until(retried, within=20, interval=0.3, what="the retry to be served")
    assert status == 200, body
    refunds = await stack.stripe.refunds_for(pi)
    assert [r["id"] for r in refunds] == [body["result"]["refund_id"]]
    assert body["result"]["amount"] == 1299
    posts = [r for r in await stack.stripe.requests("/v1/refunds") if r["method"] == "POST"]
    # The retry reached Stripe with the same provider idempotency key and was replayed, not executed again.
    assert len({p["idempotency_key"] for p in posts}) == 1
    assert [p["replayed"] for p in posts] == [False, True]
    # And again: the answer is now stored, the same refund comes back without calling Stripe.
    status, again = await restarted.call("refunds.create", {"payment_id": pi}, call_id=call,
                                         idempotency_key="k-crash")
    assert (status, again["result"]) == (200, body["result"])
    assert len([r for r in await stack.stripe.requests("/v1/refunds") if r["method"] == "POST"]) == 2


# ------------------------------------------------------------------------------------------ mid-webhook


def refund_event(n: int, status: str = "succeeded") -> dict[str, Any]:
    return {
        "id": f"evt_crash_{n:03d}_{uuid.uuid4().hex[:6]}",
        "object": "event",
        "api_version": stripe.api_version,
        "type": "refund.updated",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": f"re_crash_{n:03d}", "object": "refund", "status": status, "amount": 500 + n,
                            "currency": "gbp", "charge": f"ch_crash_{n}", "payment_intent": f"pi_crash_{n}"}},
    }


async def post_event(gw: GatewayProc, event: dict[str, Any]) -> int:
    raw = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign_header(raw, [WEBHOOK_SECRET], int(time.time())),
               "Content-Type": "application/json"}
    async with gw.http.post(f"{gw.url}/v1/webhooks/stripe/{TENANT}", data=raw, headers=headers) as resp:
        return resp.status


class Receiver:
    """The bot platform's notification endpoint. While ``hold`` is set it receives but does not answer."""

    def __init__(self) -> None:
        self.got: list[str] = []
        self.hold = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.got.append(request.headers["Voicepay-Notification-Id"])
        if self.hold.is_set():
            await self.release.wait()
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, Receiver]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/notify", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/notify")), rec
    finally:
        rec.release.set()
        await server.close()


async def test_events_acknowledged_by_a_gateway_killed_before_processing_are_processed_once_after_restart(
    stack: Stack, db: Store, receiver: tuple[str, Receiver]
) -> None:
    url, rec = receiver
    stack.write_config(
        tenant={"notification_url": url, "notification_secret": NOTIFY_SECRET},
        webhooks={"job_lease_seconds": 1.0},
        notifications={"timeout_seconds": 0.5},
    )
    await stack.create_key()
    # 1. An instance that only ingests (its workers are off): it persists and acknowledges, then dies.
    ingest = await stack.start_gateway("ingest", env={"VOICEPAY_WEBHOOKS__WORKER_ENABLED": "false"})
    events = [refund_event(n) for n in range(10)]
    assert [await post_event(ingest, ev) for ev in events] == [200] * len(events)
    await ingest.proc.kill()
    rows = await db.fetchall("SELECT status, processed_count FROM webhook_events")
    assert len(rows) == len(events) and {(r["status"], r["processed_count"]) for r in rows} == {("queued", 0)}
    queued = await db.fetchone("SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'")
    assert queued is not None and queued["n"] == len(events)

    # 2. A new instance picks the acknowledged events up; the receiver holds the first notification, and the
    # instance is killed while that delivery is in flight (the job claimed, its lease running).
    rec.hold.set()
    worker = await stack.start_gateway("worker")
    await wait_until(lambda: _true(bool(rec.got)), within=20, what="a notification delivery to start")
    await worker.proc.kill()
    held = set(rec.got)  # every delivery in flight when the worker died (none was answered)
    rec.hold.clear()
    rec.release.set()

    # 3. Restarted: every event processed exactly once, every notification delivered, nothing left queued.
    await stack.start_gateway("worker", port=worker.port)

    async def drained() -> bool:
        jobs_left = await db.fetchone("SELECT COUNT(*) AS n FROM jobs")
        open_events = await db.fetchone("SELECT COUNT(*) AS n FROM webhook_events WHERE status <> 'processed'")
        pending = await db.fetchone("SELECT COUNT(*) AS n FROM notifications WHERE state <> 'delivered'")
        assert jobs_left is not None and open_events is not None and pending is not None
        return jobs_left["n"] == 0 and open_events["n"] == 0 and pending["n"] == 0

    await wait_until(drained, within=30, what="every event processed and every notification delivered")
    rows = await db.fetchall("SELECT processed_count FROM webhook_events")
    assert [r["processed_count"] for r in rows] == [1] * len(events)
    notes = await db.fetchall("SELECT id FROM notifications")
    assert len(notes) == len(events)
    # No notification lost; those in flight when their sender died were sent again with the same id (delivery
    # is at least once, receivers dedupe on the id); every other one arrived exactly once.
    assert sorted(set(rec.got)) == sorted(n["id"] for n in notes)
    assert {n: rec.got.count(n) for n in held} == dict.fromkeys(held, 2)
    assert all(rec.got.count(n["id"]) == 1 for n in notes if n["id"] not in held)


async def _true(value: bool) -> bool:
    return value


# ------------------------------------------------------------------------------------------ mid-capture


async def test_capture_survives_a_kill_during_start_and_a_kill_after_the_callback_was_stored(
    stack: Stack, db: Store
) -> None:
    assert stack.stripe is not None
    pcipal = await stack.start_pcipal()
    stack.write_config(idempotency={"lease_seconds": 1.0})
    await stack.create_key()
    port = free_port()  # one public address: PCI Pal calls back whichever process is listening there now
    gw = await stack.start_gateway("gw", port=port)

    # 1. Killed while creating the PaymentIntent at Stripe.
    await stack.stripe.add_fault("latency", "/v1/payment_intents", method="POST", count=1, latency_ms=1500)
    params = {"amount": 2500, "description": "Order 1042"}
    first = asyncio.create_task(gw.call("capture.start", params, idempotency_key="cap-crash"))
    await wait_until(lambda: arrived_at_sandbox(stack, "POST", "/v1/payment_intents"), what="the PI create")
    await gw.proc.kill()
    await lost(first)
    gw = await stack.start_gateway("gw", port=port)
    await wait_until(lambda: finished_at_sandbox(stack, "POST", "/v1/payment_intents"), what="the PI create")

    async def started() -> tuple[int, dict[str, Any]] | None:
        status, body = await gw.call("capture.start", params, idempotency_key="cap-crash")
        return None if status == 409 else (status, body)

    status, body = await wait_until(started, within=20, interval=0.3, what="capture.start retried")
    assert status == 200, body
    cap = body["result"]
    assert cap["state"] == "awaiting_caller"
    pis = await stack.stripe.api("GET", "/v1/payment_intents", {"limit": "100"})
    mine = [p for p in pis["data"] if p["metadata"].get("voicepay_capture_id") == cap["capture_id"]]
    assert len(mine) == 1  # the retry replayed the first create at Stripe (same provider key)

    # 2. The caller keys the card; PCI Pal charges and calls back; the gateway stores the callback and is
    # killed while confirming with Stripe (which is slow), before it answers PCI Pal.
    await stack.stripe.add_fault("latency", f"/v1/payment_intents/{mine[0]['id']}", method="GET", count=1,
                                 latency_ms=3000)
    await pcipal.simulate(cap["pcipal_session_id"], "success", card="mastercard", wait=False)

    async def callback_stored() -> bool:
        row = await db.fetchone("SELECT COUNT(*) AS n FROM capture_callbacks WHERE capture_id = ?",
                                cap["capture_id"])
        return row is not None and row["n"] == 1

    await wait_until(callback_stored, within=20, what="the PCI Pal callback to be stored")
    await gw.proc.kill()
    row = await db.fetchone("SELECT state FROM capture_sessions WHERE id = ?", cap["capture_id"])
    assert row == {"state": "processing"}  # PCI Pal said success; nobody has heard Stripe confirm it yet

    gw = await stack.start_gateway("gw", port=port)

    async def settled() -> dict[str, Any] | None:
        status, body = await gw.call("capture.status", {"capture_id": cap["capture_id"]})
        assert status == 200, body
        return body if body["result"]["state"] != "processing" else None

    body = await wait_until(settled, within=20, interval=0.3, what="the capture to settle")
    assert body["result"]["state"] == "succeeded"
    assert (body["result"]["card_brand"], body["result"]["card_last4"]) == ("mastercard", "4444")
    assert "25.00 British pounds" in body["say"]
    pi = await stack.stripe.api("GET", f"/v1/payment_intents/{mine[0]['id']}")
    assert (pi["status"], pi["amount"]) == ("succeeded", 2500)
    pis = await stack.stripe.api("GET", "/v1/payment_intents", {"limit": "100"})
    assert [p["id"] for p in pis["data"] if p["metadata"].get("voicepay_capture_id") == cap["capture_id"]] == [
        pi["id"]
    ]
    # PCI Pal's retry of the lost callback is acknowledged as a duplicate, and the bot is told once.
    async def redelivered() -> bool:
        session = await pcipal.session(cap["pcipal_session_id"])
        return any(a["status"] == 200 for a in session["deliveries"])

    await wait_until(redelivered, within=20, what="PCI Pal's retried callback to be acknowledged")
    kinds = await db.fetchall("SELECT kind FROM notifications WHERE dedupe_key LIKE ?",
                              f"capture:{cap['capture_id']}:%")
    assert [k["kind"] for k in kinds] == ["capture.succeeded"]


# -------------------------------------------------------------------------- PostgreSQL restarted under load


@pytest.fixture
async def pg_cluster() -> AsyncIterator[PgCluster]:
    cluster = await PgCluster.create()
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.destroy()


async def test_postgres_restart_under_load_fails_cleanly_with_503_and_the_same_process_recovers(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    stack = await Stack.open(tmp_path / "stack", pg_cluster.url)
    try:
        await stack.start_stripe()
        assert stack.stripe is not None
        stack.write_config(store={"command_timeout": 2.0})
        await stack.create_key()
        gw = await stack.start_gateway("gw")
        ada = stack.stripe.seed["customers"]["ada"]
        answers: list[tuple[str, int, dict[str, Any]]] = []
        phase = ["before"]
        stop = asyncio.Event()

        async def load(n: int) -> None:
            i = 0
            while not stop.is_set():
                i += 1
                key = None
                if n == 0:  # a write: it must claim its idempotency key in the database first
                    action, body, key = "coupons.create", {"email": ada["email"], "percent_off": 5}, f"c-{i}"
                elif n % 2:
                    action, body = "payments.lookup", {"email": ada["email"]}
                else:
                    action, body = "gateway.ping", {}
                sent_in = phase[0]  # what the database was doing when the request was sent
                try:
                    # A hang would end here, after 15 s, as a failed test (never as a slow pass).
                    status, payload = await gw.call(action, body, call_id=f"call-load-{n}", idempotency_key=key,
                                                    within=15)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, payload = -1, {"exception": type(exc).__name__}
                answers.append((sent_in, status, {**payload, "_action": action, "_done_in": phase[0]}))
                await asyncio.sleep(0.02)

        def sent_in(name: str) -> list[tuple[str, int, dict[str, Any]]]:
            return [a for a in answers if a[0] == name]

        workers = [asyncio.create_task(load(n)) for n in range(4)]
        try:
            await wait_until(lambda: _true(len(answers) >= 8), what="some load before the restart")
            phase[0] = "stopping"
            await pg_cluster.stop(mode="fast")
            phase[0] = "down"
            # Reads may still be served for a moment (agent keys are cached briefly; an audit row that cannot be
            # written does not withhold an answer already obtained), so wait for the outage to be felt.
            await wait_until(lambda: _true(len(sent_in("down")) >= 8 and any(a[1] == 503 for a in sent_in("down"))),
                             within=30, what="answers while the database is down")
            status, ready = await gw.get("/readyz")
            assert (status, ready["store"]) == (503, "unreachable")
            phase[0] = "starting"
            await pg_cluster.start()
            phase[0] = "after"

            async def recovered() -> bool:
                recent = sent_in("after")[-6:]
                return len(recent) == 6 and all(a[1] == 200 for a in recent)

            await wait_until(recovered, within=30, interval=0.1, what="requests to succeed again")
        finally:
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)

        assert gw.proc.alive  # the same process: nobody restarted it
        assert await gw.ready()
        bad = [a for a in answers if a[1] not in (200, 503)]
        assert bad == [], bad[:5]  # never a 500, never a dropped connection or a hang
        # With the database up the whole time (sent and answered before the stop began), everything succeeded.
        assert [a for a in sent_in("before") if a[2]["_done_in"] == "before" and a[1] != 200] == []
        # Every write sent while the database was down failed cleanly (nothing can be promised without it), and
        # every failure is a 503 in words the bot can speak.
        writes_down = [a for a in sent_in("down") if a[2]["_action"] == "coupons.create"]
        assert writes_down and {a[1] for a in writes_down} == {503}
        for _, status, payload in answers:
            if status == 503:
                assert payload["ok"] is False
                assert payload["error"]["code"] == "service_unavailable"
                assert payload["error"]["retryable"] is True
                assert payload["error"]["say"]
        # The audit chain written across the outage is intact.
        rc, out, err = await stack.cli("audit", "verify")
        assert rc == 0, out + err
    finally:
        await stack.close()
        print(stack.logs())


# --------------------------------------------------------------------------------- Stripe faults, breaker


async def test_stripe_500s_429s_and_drops_open_the_breaker_then_it_recovers(stack: Stack) -> None:
    assert stack.stripe is not None
    sandbox = stack.stripe
    stack.write_config(providers={"breaker_failure_threshold": 2, "breaker_reset_seconds": 1.0})
    await stack.create_key()
    gw = await stack.start_gateway("gw")
    email = sandbox.seed["customers"]["ada"]["email"]

    async def lookup() -> tuple[int, dict[str, Any]]:
        return await gw.call("payments.lookup", {"email": email}, call_id="call-breaker")

    status, _ = await lookup()
    assert status == 200

    for kind, options in (("500", {}), ("429", {}), ("timeout", {"latency_ms": 300})):
        await sandbox.add_fault(kind, "/v1/", **options)
        # Up to the threshold: each lookup reaches Stripe (with its retries) and fails in words.
        for _ in range(2):
            before = len(await sandbox.requests())
            status, body = await lookup()
            assert (status, body["error"]["code"], body["error"]["retryable"]) == (503, "provider_unavailable",
                                                                                   True), (kind, body)
            assert body["error"]["say"]
            assert len(await sandbox.requests()) > before  # Stripe was called
        # Open: the bot hears the same speakable failure at once, and Stripe is not called at all.
        before = len(await sandbox.requests())
        for _ in range(3):
            status, body = await lookup()
            assert (status, body["error"]["code"]) == (503, "provider_unavailable"), (kind, body)
            assert body["error"]["say"]
        assert len(await sandbox.requests()) == before, kind

        # Stripe is healthy again: after the reset timeout one probe goes through and closes the breaker.
        await sandbox.clear_faults()

        async def recovered() -> bool:
            status, _ = await lookup()
            return status == 200

        await wait_until(recovered, within=20, interval=0.2, what=f"recovery after {kind}")
        before = len(await sandbox.requests())
        assert (await lookup())[0] == 200
        assert len(await sandbox.requests()) > before  # closed: calls flow to Stripe again


