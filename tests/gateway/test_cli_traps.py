"""Operator commands that cannot mislead (issue 13): one way to find the configuration, named on the first
line; read-only commands never create a database; the port from PORT / VOICEPAY_SERVER__PORT; a taken port is
one line, not a traceback; --sandbox and every argument documented in --help. Each runs the real ``voicepay``
as a process in an empty directory."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway import cli

ROOT = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    out["PYTHONPATH"] = str(ROOT)
    out.update(extra)
    return out


def voicepay(cwd: Path, *args: str, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env=env(**extra),
                          capture_output=True, text=True, timeout=timeout, check=False)


def files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "tail"], ["webhooks", "list"],
                                     ["webhooks", "show", "evt_1"], ["notifications", "list"], ["keys", "list"]])
def test_without_any_configuration_a_command_says_so_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    r = voicepay(tmp_path, *command)
    assert r.returncode == 2
    assert "no configuration" in r.stderr and "--config" in r.stderr and "VOICEPAY_CONFIG" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    assert files(tmp_path) == []


def write_config(path: Path, db: Path) -> Path:
    path.write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    return path


@pytest.mark.parametrize("command", [["audit", "verify"], ["webhooks", "list"], ["notifications", "list"],
                                     ["keys", "revoke", "key_x"], ["webhooks", "replay", "evt_1"]])
def test_read_only_commands_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    write_config(tmp_path / "voicepay.toml", tmp_path / "data" / "gw.sqlite3")
    (tmp_path / "data").mkdir()
    r = voicepay(tmp_path, *command)
    assert r.returncode == 2, r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith("voicepay: config voicepay.toml (from ./voicepay.toml)")
    assert "no database at" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "data" / "gw.sqlite3").exists()


def test_the_config_is_found_in_order_and_named_on_the_first_line(tmp_path: Path) -> None:
    db = tmp_path / "real.sqlite3"
    explicit = write_config(tmp_path / "explicit.toml", db)
    assert voicepay(tmp_path, "migrate", "--config", str(explicit)).returncode == 0
    from_env = write_config(tmp_path / "env.toml", db)
    write_config(tmp_path / "voicepay.toml", tmp_path / "other.sqlite3")

    r = voicepay(tmp_path, "audit", "verify", "--config", str(explicit), VOICEPAY_CONFIG=str(from_env))
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[0] == f"voicepay: config {explicit} (from --config); database sqlite {db}"
    assert "checked 0 row(s): OK" in r.stdout

    r = voicepay(tmp_path, "audit", "verify", VOICEPAY_CONFIG=str(from_env))
    assert r.returncode == 0 and r.stderr.splitlines()[0].startswith(f"voicepay: config {from_env} (from $VOICEPAY_CONFIG)")

    r = voicepay(tmp_path, "audit", "verify")  # ./voicepay.toml, whose database does not exist
    assert r.returncode == 2 and r.stderr.splitlines()[0].startswith("voicepay: config voicepay.toml (from ./")
    assert not (tmp_path / "other.sqlite3").exists()


def test_the_sandbox_var_dir_is_used_when_it_exists(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    # What `make run` leaves behind: the state file and the sandbox's database.
    (var / "sandbox.json").write_text("{}")
    sandbox_db = var / "voicepay-sandbox.sqlite3"
    write_config(tmp_path / "mig.toml", sandbox_db)
    assert voicepay(tmp_path, "migrate", "--config", str(tmp_path / "mig.toml")).returncode == 0
    (tmp_path / "mig.toml").unlink()
    r = voicepay(tmp_path, "webhooks", "list")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[0] == ("voicepay: config sandbox (from the sandbox in var/); "
                                        "database sqlite var/voicepay-sandbox.sqlite3")
    assert files(var) == ["sandbox.json", "voicepay-sandbox.sqlite3"]


def _walk(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.Action]]:
    out: list[tuple[str, argparse.Action]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"command `{path} {name}` has no help text"
                out.extend(_walk(sub, f"{path} {name}"))
        elif not isinstance(action, argparse._HelpAction):
            out.append((path, action))
    return out


def test_every_command_and_argument_has_help_text_and_sandbox_is_visible() -> None:
    parser = cli.build_parser()
    actions = _walk(parser, "voicepay")
    assert len(actions) > 40
    for path, action in actions:
        assert action.help and action.help != argparse.SUPPRESS, f"{path} {action.option_strings or action.dest}"
    serve = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["serve"]
    text = serve.format_help()
    assert "--sandbox" in text and "--workers" in text


def test_make_run_honours_port_and_voicepay_server_port() -> None:
    def dry(**extra: str) -> str:
        # Run as a top-level make even under `make test` (whose MAKELEVEL/MAKEFLAGS would add "Entering/Leaving
        # directory" lines around the output).
        clean = {k: v for k, v in env(**extra).items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
        r = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=ROOT, env=clean, capture_output=True,
                           text=True, check=True, timeout=30)
        return r.stdout.strip().splitlines()[-1]

    assert dry().endswith("voicepay serve --sandbox")
    assert dry(PORT="8090").endswith("voicepay serve --sandbox --port 8090")
    assert dry(VOICEPAY_SERVER__PORT="8091").endswith("voicepay serve --sandbox --port 8091")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sandbox_listens_on_voicepay_server_port(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--sandbox"], cwd=tmp_path,
                            env=env(VOICEPAY_SERVER__PORT=str(port)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        state = tmp_path / "var" / "sandbox.json"
        deadline = time.monotonic() + 60  # a cap on a broken build, not a performance threshold
        while not state.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.1)
        assert json.loads(state.read_text())["base_url"] == f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@pytest.mark.parametrize("mode", ["sandbox", "config"])
def test_a_taken_port_is_one_line_not_a_traceback(tmp_path: Path, mode: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        if mode == "sandbox":
            r = voicepay(tmp_path, "serve", "--sandbox", "--port", port)
        else:
            cfg = write_config(tmp_path / "voicepay.toml", tmp_path / "gw.sqlite3")
            r = voicepay(tmp_path, "serve", "--config", str(cfg), "--port", port)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("voicepay serve:")]
    assert errors == [f"voicepay serve: cannot listen on 127.0.0.1:{port}: the address is already in use "
                      "(another process listens there; pick another --port)"]


def test_several_workers_are_refused_with_sqlite_and_in_sandbox_mode(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "voicepay.toml", tmp_path / "gw.sqlite3")
    r = voicepay(tmp_path, "serve", "--config", str(cfg), "--workers", "2")
    assert r.returncode == 2 and "--workers > 1 needs PostgreSQL" in r.stderr
    r = voicepay(tmp_path, "serve", "--sandbox", "--workers", "2")
    assert r.returncode == 2 and "--sandbox runs one process" in r.stderr
    assert not (tmp_path / "gw.sqlite3").exists()


def test_serve_without_a_config_file_does_not_serve_the_sandbox_database_by_surprise(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "sandbox.json").write_text("{}")
    r = voicepay(tmp_path, "serve")
    assert r.returncode == 2 and "use --sandbox for sandbox mode" in r.stderr
    r = voicepay(tmp_path / "var", "serve")
    assert r.returncode == 2 and "no configuration" in r.stderr


@pytest.mark.postgres
async def test_read_only_commands_on_postgresql_refuse_a_missing_or_empty_database(tmp_path: Path) -> None:
    from tests.conftest import create_pg_database, drop_pg_database

    url = await create_pg_database()  # exists, but no voicepay schema
    try:
        (tmp_path / "voicepay.toml").write_text(f'[store]\nurl = "{url}"\n')
        r = voicepay(tmp_path, "audit", "verify")
        assert r.returncode == 2 and "has no voicepay schema" in r.stderr and "Traceback" not in r.stderr
        from gateway.store import open_store

        store = await open_store(url)
        try:
            assert await store.schema_version() == 0  # the read created nothing
        finally:
            await store.close()
        missing = url.rsplit("/", 1)[0] + "/voicepay_no_such_database"
        (tmp_path / "voicepay.toml").write_text(f'[store]\nurl = "{missing}"\n')
        r = voicepay(tmp_path, "webhooks", "list")
        assert r.returncode == 2 and "cannot open postgresql" in r.stderr and "Traceback" not in r.stderr
    finally:
        await drop_pg_database(url)
