"""``voicepay operators create``: password from stdin, roles per tenant, a usable login."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.console.auth import verify_password


def test_operators_create_reads_password_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VOICEPAY_VAR_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    rc = main(["operators", "create", "--sandbox", "--username", "alice", "--grant", "sandbox:agent"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    op_id = out.out.strip()
    assert op_id.startswith("op_") and "passphrase" not in out.out + out.err
    conn = sqlite3.connect(tmp_path / "voicepay-sandbox.sqlite3")
    (stored,) = conn.execute("SELECT password_hash FROM operators WHERE id = ?", (op_id,)).fetchone()
    roles = conn.execute("SELECT tenant_id, role FROM operator_roles WHERE operator_id = ?", (op_id,)).fetchall()
    conn.close()
    assert stored.startswith("scrypt$32768$8$1$")
    assert asyncio.run(asyncio.to_thread(verify_password, "a long enough passphrase", stored))
    assert roles == [("sandbox", "agent")]


@pytest.mark.parametrize(
    ("grant", "password", "message"),
    [
        ("sandbox:owner", "a long enough passphrase", "role must be one of"),
        ("elsewhere:viewer", "a long enough passphrase", "no tenant 'elsewhere'"),
        ("sandbox:viewer", "short", "password: 12 to"),
        ("sandbox", "a long enough passphrase", "TENANT:ROLE"),
    ],
)
def test_operators_create_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   grant: str, password: str, message: str) -> None:
    monkeypatch.setenv("VOICEPAY_VAR_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    rc = main(["operators", "create", "--sandbox", "--username", "bob", "--grant", grant])
    err = capsys.readouterr().err
    assert rc == 2 and message in err
    assert "passphrase" not in err  # the password is never echoed
