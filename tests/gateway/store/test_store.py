from __future__ import annotations

import asyncio

import pytest

from gateway.store import StoreConflict, StoreError, open_store
from gateway.store.base import load_migrations


async def test_migrations_apply_once_and_report_current(store_url):
    store = await open_store(store_url)
    try:
        assert await store.schema_version() == 0
        applied = await store.migrate()
        assert applied == [m.version for m in load_migrations()]
        assert await store.migrate() == []
        assert await store.is_current()
    finally:
        await store.close()


async def test_concurrent_migrations_from_several_instances_do_not_collide(store_url):
    stores = [await open_store(store_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(s.migrate() for s in stores))
        assert sorted(len(r) for r in results)[-1] == len(load_migrations())
        assert sum(len(r) for r in results) == len(load_migrations())
    finally:
        for s in stores:
            await s.close()


async def test_transaction_rolls_back_on_error_and_leaves_nothing_half_written(store_url):
    store = await open_store(store_url)
    try:
        await store.migrate()
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)", "t1", "T", 1.0)
                raise RuntimeError("boom")
        assert await store.fetchall("SELECT id FROM tenants") == []
    finally:
        await store.close()


async def test_unique_violation_is_a_store_conflict_and_values_are_not_in_the_message(store_url):
    store = await open_store(store_url)
    try:
        await store.migrate()
        await store.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)", "dup", "x", 1.0)
        with pytest.raises(StoreConflict) as exc:
            await store.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)", "dup", "secret-ish", 1.0)
        assert "secret-ish" not in str(exc.value)
    finally:
        await store.close()


async def test_rows_come_back_as_dicts_with_typed_values(store_url):
    store = await open_store(store_url)
    try:
        await store.migrate()
        await store.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)", "a", "Ä ñame", 1.5)
        row = await store.fetchone("SELECT id, name, created_at FROM tenants WHERE id = ?", "a")
        assert row == {"id": "a", "name": "Ä ñame", "created_at": 1.5}
        assert await store.fetchone("SELECT id FROM tenants WHERE id = ?", "zzz") is None
    finally:
        await store.close()


async def test_bad_url_is_a_clear_error():
    with pytest.raises(StoreError):
        await open_store("mysql://nope")


async def test_sqlite_checkpoints_the_wal_off_the_loop_and_stops_cleanly(tmp_path, monkeypatch):
    import threading

    from gateway.store import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "CHECKPOINT_INTERVAL", 0.05)
    threads: list[str] = []
    original = sqlite_store.SqliteStore._checkpoint

    def spy(self):
        threads.append(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(sqlite_store.SqliteStore, "_checkpoint", spy)
    store = await open_store(f"sqlite:///{tmp_path}/c.sqlite3")
    await store.migrate()
    auto = await store.fetchone("PRAGMA wal_autocheckpoint")
    assert auto is not None and next(iter(auto.values())) == 0  # the loop's connection never checkpoints
    for _ in range(100):
        if len(threads) >= 2:
            break
        await asyncio.sleep(0.05)
    await store.close()
    assert len(threads) >= 2 and threading.main_thread().name not in threads
