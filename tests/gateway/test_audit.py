from __future__ import annotations

import asyncio

from gateway import audit
from gateway.audit import AuditEntry
from gateway.store import open_store
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import auth


def _entry(i: int, tenant: str = "acme") -> AuditEntry:
    return AuditEntry(tenant_id=tenant, action="test.echo", params={"i": i}, outcome="SUCCEEDED", request_id=f"r{i}")


async def _store(url):
    store = await open_store(url)
    await store.migrate()
    await store.execute("INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'A', 0), ('globex', 'G', 0)")
    return store


async def test_every_action_call_appends_a_verifiable_row(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    await client.post("/v1/actions/gateway.ping", json={}, headers=auth(key))
    await client.post("/v1/actions/test.echo", json={"text": "x"}, headers=auth(key, **{"X-Call-Id": "c1"}))
    await client.post("/v1/actions/test.echo", json={"text": 5}, headers=auth(key, **{"X-Call-Id": "c1"}))
    rows = await services(client).store.fetchall("SELECT * FROM audit_log ORDER BY seq")
    assert [r["action"] for r in rows] == ["gateway.ping", "test.echo"]  # invalid params never reach run
    assert rows[1]["call_id"] == "c1" and rows[1]["agent_key_id"] == key.split("_")[1]
    checked, problems = await audit.verify(services(client).store)
    assert checked == 2 and problems == []


async def test_edited_row_is_detected(store_url):
    store = await _store(store_url)
    try:
        for i in range(3):
            await audit.record(store, _entry(i))
        await store.execute("UPDATE audit_log SET outcome = 'DECLINED' WHERE seq = 2")
        _, problems = await audit.verify(store)
        assert [(p.seq, "edited" in p.problem) for p in problems] == [(2, True)]
    finally:
        await store.close()


async def test_deleted_row_in_the_middle_is_detected(store_url):
    store = await _store(store_url)
    try:
        for i in range(4):
            await audit.record(store, _entry(i))
        await store.execute("DELETE FROM audit_log WHERE seq = 2")
        _, problems = await audit.verify(store)
        assert any("missing" in p.problem for p in problems)
        assert any(p.seq == 3 and "link" in p.problem for p in problems)
    finally:
        await store.close()


async def test_deleted_newest_row_is_detected_by_the_head(store_url):
    store = await _store(store_url)
    try:
        for i in range(3):
            await audit.record(store, _entry(i))
        await store.execute("DELETE FROM audit_log WHERE seq = 3")
        _, problems = await audit.verify(store)
        assert len(problems) == 1 and "newest rows are missing" in problems[0].problem
    finally:
        await store.close()


async def test_chains_are_per_tenant_and_concurrent_writers_never_fork_them(store_url):
    store = await _store(store_url)
    try:
        await asyncio.gather(*(audit.record(store, _entry(i, "acme" if i % 2 else "globex")) for i in range(30)))
        checked, problems = await audit.verify(store)
        assert checked == 30 and problems == []
        assert len(await store.fetchall("SELECT seq FROM audit_log WHERE tenant_id = 'acme'")) == 15
        _, only_acme = await audit.verify(store, "acme")
        assert only_acme == []
    finally:
        await store.close()


async def test_audit_cli_verify_reports_tampering(store_url, settings_factory, tmp_path, capsys, monkeypatch):
    from gateway import cli

    store = await _store(store_url)
    try:
        for i in range(2):
            await audit.record(store, _entry(i))
        await store.execute("UPDATE audit_log SET params = '{}' WHERE seq = 1")
    finally:
        await store.close()
    settings = settings_factory(store_url)
    monkeypatch.setattr(cli, "_settings", lambda args: settings)
    rc = await asyncio.to_thread(cli.main, ["audit", "verify"])
    out = capsys.readouterr().out
    assert rc == 1 and "BROKEN tenant=acme seq=1" in out
