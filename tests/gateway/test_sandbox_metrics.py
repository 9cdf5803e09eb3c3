"""Sandbox mode tells scripts where and how to scrape the metrics (``var/sandbox.json``: ``metrics_url``,
``metrics_token``), and the token it writes is the one the running gateway asks for."""

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


async def test_sandbox_json_names_a_working_metrics_url_and_token(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--sandbox", "--port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    state_file = tmp_path / "var" / "sandbox.json"
    try:
        for _ in range(600):
            if proc.returncode is not None:
                raise AssertionError(f"sandbox exited early with {proc.returncode}")
            if state_file.exists():
                break
            await asyncio.sleep(0.1)
        state = json.loads(state_file.read_text())
        assert state["metrics_url"] == f"http://127.0.0.1:{port}/metrics"
        assert isinstance(state["metrics_token"], str) and len(state["metrics_token"]) >= 24
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.get(state["metrics_url"]) as resp:
                assert resp.status == 401
            async with session.get(state["metrics_url"],
                                   headers={"Authorization": f"Bearer {state['metrics_token']}"}) as resp:
                assert resp.status == 200
                text = await resp.text()
                assert "voicepay_http_responses_total" in text
                assert resp.headers["Server"] == "voicepay-gateway"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            raise
    assert proc.returncode == 0
