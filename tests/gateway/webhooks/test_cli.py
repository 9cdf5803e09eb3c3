"""``voicepay webhooks list|show|replay`` and ``voicepay notifications list|replay``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gateway import cli
from gateway.notifications import emit_notification
from gateway.store import open_store
from gateway.webhooks import store_event
from tests.gateway.webhooks.conftest import make_event


@pytest.fixture
def config(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    path = tmp_path / "voicepay.toml"
    path.write_text(
        f'sandbox = true\nvar_dir = "{tmp_path}/var"\n[store]\nurl = "{url}"\n'
        '[[tenants]]\nid = "acme"\nname = "Acme"\nstripe_secret_key = "sk_test_x"\n'
        'stripe_webhook_secrets = ["whsec_acme"]\n'
    )
    return str(path), url


def _seed(url: str) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        store = await open_store(url)
        try:
            await store.migrate()
            await store.execute("INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 0)")
            ev = make_event("refund.created", {"id": "re_1", "status": "succeeded"})
            async with store.transaction() as tx:
                await store_event(tx, "acme", ev, handled=True)
            await store.execute("UPDATE webhook_events SET status = 'dead'")
            await store.execute("UPDATE jobs SET state = 'dead'")
            nid = await emit_notification(store, "acme", "refund.succeeded", {"refund": "re_1"}, "Done.")
            await store.execute("UPDATE notifications SET state = 'failed'")
            await store.execute("DELETE FROM jobs WHERE kind = 'notification'")
            return str(ev["id"]), nid
        finally:
            await store.close()

    return asyncio.run(run())


def _jobs(url: str) -> list[dict[str, object]]:
    async def run() -> list[dict[str, object]]:
        store = await open_store(url)
        try:
            return await store.fetchall("SELECT kind, state FROM jobs ORDER BY id")
        finally:
            await store.close()

    return asyncio.run(run())


def test_webhooks_list_show_replay(config: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, url = config
    event_id, _ = _seed(url)
    assert cli.main(["webhooks", "list", "--config", path, "--status", "dead"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["event_id"] == event_id
    assert cli.main(["webhooks", "show", event_id, "--config", path]) == 0
    assert json.loads(capsys.readouterr().out)["payload"]["data"]["object"]["id"] == "re_1"
    assert cli.main(["webhooks", "replay", event_id, "--config", path]) == 0
    assert capsys.readouterr().out.strip() == f"queued {event_id}"
    assert _jobs(url) == [{"kind": "stripe_event", "state": "queued"}]
    assert cli.main(["webhooks", "replay", "--since", "1h", "--config", path]) == 0
    assert _jobs(url) == [{"kind": "stripe_event", "state": "queued"}]  # still one job per event
    assert cli.main(["webhooks", "replay", "--config", path]) == 2
    assert cli.main(["webhooks", "show", "evt_nope", "--config", path]) == 1


def test_notifications_list_replay(config: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    path, url = config
    _, nid = _seed(url)
    assert cli.main(["notifications", "list", "--config", path, "--state", "failed", "--attempts"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["id"] == nid
    assert cli.main(["notifications", "replay", nid, "--config", path]) == 0
    assert capsys.readouterr().out.strip() == f"queued {nid}"
    assert {"kind": "notification", "state": "queued"} in _jobs(url)


def test_parse_since() -> None:
    assert cli.parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    assert cli.parse_since("1700000000") == 1_700_000_000.0
    assert cli.parse_since("2023-11-14T22:13:20") == 1_700_000_000.0
    assert cli.parse_since("2023-11-14T23:13:20+01:00") == 1_700_000_000.0
