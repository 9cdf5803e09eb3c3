"""Failures the bot can act on, end to end (issue 12 point 2), with real processes on 127.0.0.1.

Stripe fails (sandbox ``500`` faults) until the tenant's breaker opens; every failure is a 503 with
``Retry-After``. When the faults are cleared, the breaker's half-open probe lets the next calls through within
its probe interval (default settings: first probe after 2 s, doubling per failed probe up to 10 s). The
measured recovery time is printed; the only bound asserted is a generous one (a hung breaker would fail it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.procs import GatewayProc, Stack, pg_stack, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


async def lookup(gw: GatewayProc, email: str) -> tuple[int, dict[str, Any], str | None]:
    headers = {"Authorization": f"Bearer {gw.key}", "X-Call-Id": "call-recovery"}
    async with gw.http.post(f"{gw.url}/v1/actions/payments.lookup", json={"email": email}, headers=headers) as r:
        return r.status, dict(await r.json()), r.headers.get("Retry-After")


async def test_faults_cleared_then_calls_succeed_within_the_probe_interval(stack: Stack) -> None:
    assert stack.stripe is not None
    sandbox = stack.stripe
    stack.write_config(providers={"breaker_failure_threshold": 2})  # probe interval: the defaults
    await stack.create_key()
    gw = await stack.start_gateway("gw")
    email = sandbox.seed["customers"]["ada"]["email"]
    assert (await lookup(gw, email))[0] == 200

    await sandbox.add_fault("500", "/v1/")
    retry_afters = []
    for _ in range(6):  # opens the breaker, then fails fast (and failed probes back it off)
        status, body, retry_after = await lookup(gw, email)
        assert status == 503 and body["error"]["code"] == "provider_unavailable" and body["error"]["say"]
        assert retry_after is not None and int(retry_after) >= 1
        retry_afters.append(int(retry_after))
    # Stay down across at least one probe, so recovery is measured after a failed probe too.
    fast_failing = len(await sandbox.requests())

    async def probe_failed() -> bool:
        status, _body, retry_after = await lookup(gw, email)
        assert status == 503 and retry_after is not None
        return len(await sandbox.requests()) > fast_failing

    await wait_until(probe_failed, within=20, interval=0.2, what="a failed probe")

    await sandbox.clear_faults()
    cleared = time.monotonic()
    attempts = 0

    async def recovered() -> bool:
        nonlocal attempts
        attempts += 1
        status, _body, retry_after = await lookup(gw, email)
        if status != 200:
            assert retry_after is not None  # still a speakable, actionable failure while waiting
        return status == 200

    await wait_until(recovered, within=30, interval=0.1, what="recovery after the faults cleared")
    recovery = time.monotonic() - cleared
    print(f"\nbreaker recovery: first success {recovery:.2f} s after the faults cleared "
          f"({attempts} calls; Retry-After while failing: {retry_afters}; probe interval 2 s doubling to 10 s)")
    assert recovery < 25  # generous: the default cap is 10 s between probes
    for _ in range(3):
        assert (await lookup(gw, email))[0] == 200

