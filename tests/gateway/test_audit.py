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


async def test_group_commit_appends_concurrent_entries_in_few_transactions_and_keeps_the_chain(store_url):
    from gateway.audit import AuditWriter

    store = await _store(store_url)
    writer = AuditWriter(store)
    transactions = 0
    original = store.transaction

    def counting():
        nonlocal transactions
        transactions += 1
        return original()

    store.transaction = counting  # type: ignore[method-assign]
    writer.start()
    try:
        await asyncio.gather(*(writer.append(_entry(i, "acme" if i % 3 else "globex")) for i in range(60)))
    finally:
        await writer.close()
        store.transaction = original  # type: ignore[method-assign]
    try:
        checked, problems = await audit.verify(store)
        assert checked == 60 and problems == []
        if store.dialect == "postgresql":
            assert transactions < 60  # entries waiting together were committed together
        else:
            assert transactions == 60  # SQLite appends directly: its transactions never yield
    finally:
        await store.close()


async def test_group_commit_isolates_a_failing_entry_and_close_drains_the_queue(store_url):
    from gateway.audit import AuditWriter

    store = await _store(store_url)
    writer = AuditWriter(store)
    writer.start()

    async def broken(tx):
        await tx.execute("INSERT INTO no_such_table VALUES (1)")

    try:
        results = await asyncio.gather(
            writer.append(_entry(1)), writer.append(_entry(2), broken), writer.append(_entry(3)),
            return_exceptions=True,
        )
        assert results[0] is None and results[2] is None and isinstance(results[1], Exception)
        pending = asyncio.gather(*(writer.append(_entry(10 + i)) for i in range(5)))
        await asyncio.sleep(0)
        await writer.close()
        await pending
        checked, problems = await audit.verify(store)
        assert checked == 7 and problems == []  # the broken entry rolled back alone
    finally:
        await store.close()
