"""`make run` is `voicepay serve --sandbox`: start it as a real process and use it as the README says."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_for(path: Path, proc: asyncio.subprocess.Process, seconds: float = 30.0) -> dict[str, str]:
    for _ in range(int(seconds * 10)):
        if proc.returncode is not None:
            raise AssertionError(f"sandbox exited early with {proc.returncode}")
        if path.exists():
            return dict(json.loads(path.read_text()))
        await asyncio.sleep(0.1)
    raise AssertionError("sandbox did not write var/sandbox.json in time")


async def test_sandbox_process_prints_a_key_writes_sandbox_json_and_answers_ping(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--sandbox", "--port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        state = await _wait_for(tmp_path / "var" / "sandbox.json", proc)
        assert state["base_url"] == f"http://127.0.0.1:{port}" and state["tenant"] == "sandbox"
        for key in ("agent_key", "stripe_base_url", "stripe_api_key", "stripe_webhook_url",
                    "stripe_webhook_secret", "pcipal_base_url"):
            assert state[key], key
        assert (tmp_path / "var" / "sandbox.json").stat().st_mode & 0o077 == 0  # holds a key: owner only
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            resp = await session.post(
                f"{state['base_url']}/v1/actions/gateway.ping",
                json={},
                headers={"Authorization": f"Bearer {state['agent_key']}"},
            )
            body = await resp.json()
            assert resp.status == 200 and body["ok"] is True and body["result"]["tenant"] == "sandbox"
            ready = await session.get(f"{state['base_url']}/readyz")
            assert ready.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        except TimeoutError:
            proc.kill()
            raise
    assert proc.returncode == 0
    text = err.decode()
    assert state["agent_key"] in text and "curl" in text  # the dev key and an example are printed
    assert (tmp_path / "var" / "voicepay-sandbox.sqlite3").exists()
