"""A private redis-server for one test, on a free port, started and stopped by the test itself: stopping Redis
mid-run must never touch the machine's shared Redis (127.0.0.1:6379, used by others)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisProc:
    port: int
    dir: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is required for this test (apt-get install redis-server)")
        self.process = await asyncio.create_subprocess_exec(
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.dir), "--daemonize", "no", "--logfile", str(self.dir / "redis.log"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            assert self.process.returncode is None, (self.dir / "redis.log").read_text(errors="replace")
            await asyncio.sleep(0.05)
        raise AssertionError(f"redis-server did not listen on {self.port}")

    async def stop(self) -> None:
        """SIGKILL (an outage, not a clean shutdown), and wait for it to be gone."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), 10)


@contextlib.asynccontextmanager
async def private_redis() -> AsyncIterator[RedisProc]:
    proc = RedisProc(_free_port(), Path(tempfile.mkdtemp(prefix="voicepay-redis-")))
    await proc.start()
    try:
        yield proc
    finally:
        await proc.stop()
        shutil.rmtree(proc.dir, ignore_errors=True)
