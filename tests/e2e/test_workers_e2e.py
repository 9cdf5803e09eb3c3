"""``voicepay serve --workers 2`` on PostgreSQL with real processes: two worker processes behind one port
under a pre-fork parent; a worker killed is replaced and the port keeps answering; SIGTERM stops them all.
Waits are bounded polls; nothing is timed."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.procs import PY, GatewayProc, Stack, free_port, pg_stack, spawn, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with pg_stack(tmp_path) as s:
        await s.start_stripe()
        yield s


def children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(x) for x in text.split()}


async def test_two_workers_share_the_port_and_a_dead_worker_is_replaced(stack: Stack) -> None:
    stack.write_config()
    await stack.create_key()
    port = free_port()
    assert stack.config_path is not None
    proc = await spawn("workers", [PY, "-m", "gateway.cli", "serve", "--config", str(stack.config_path),
                                   "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                       log_dir=stack.log_dir, env=stack.env())
    stack.procs.append(proc)
    gw = GatewayProc(proc, port, stack.key, stack.http)

    async def two_ready() -> set[int] | None:
        assert proc.alive, proc.log()[-3000:]
        kids = children(proc.pid)
        return kids if len(kids) == 2 and await gw.ready() else None

    first = await wait_until(two_ready, within=60, interval=0.2, what="two workers ready")
    statuses = await asyncio.gather(*(gw.call("gateway.ping", {}) for _ in range(40)))
    assert {s for s, _ in statuses} == {200}
    assert proc.log().count('"msg": "listening"') == 2  # each worker listens on the same port

    victim = min(first)
    os.kill(victim, signal.SIGKILL)

    async def replaced() -> set[int] | None:
        kids = children(proc.pid)
        return kids if len(kids) == 2 and victim not in kids and await gw.ready() else None

    after = await wait_until(replaced, within=60, interval=0.2, what="the dead worker replaced")
    assert len(after & first) == 1
    status, body = await gw.call("gateway.ping", {})
    assert status == 200, body

    assert await proc.terminate(within=30) == 0
    assert all(not Path(f"/proc/{pid}").exists() for pid in after)
