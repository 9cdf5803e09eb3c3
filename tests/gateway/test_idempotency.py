from __future__ import annotations

import asyncio
import time

from gateway.idempotency import IdempotencyStore
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import Echo, auth


async def _echo(client, key, text="hi", **headers):
    return await client.post("/v1/actions/test.echo", json={"text": text}, headers=auth(key, **headers))


async def test_same_key_same_params_replays_the_stored_response(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    first = await _echo(client, key, **{"Idempotency-Key": "refund-1"})
    second = await _echo(client, key, **{"Idempotency-Key": "refund-1"})
    assert first.status == second.status == 200
    assert await first.json() == await second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Echo.runs == 1


async def test_same_key_other_params_is_refused(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    assert (await _echo(client, key, "a", **{"Idempotency-Key": "k"})).status == 200
    resp = await _echo(client, key, "b", **{"Idempotency-Key": "k"})
    assert resp.status == 422
    assert (await resp.json())["error"]["code"] == "idempotency_key_reused"
    assert Echo.runs == 1


async def test_concurrent_duplicate_gets_409_request_in_progress(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    Echo.delay = 0.5
    first = asyncio.create_task(_echo(client, key, **{"Idempotency-Key": "slow"}))
    await asyncio.sleep(0.15)
    dup = await _echo(client, key, **{"Idempotency-Key": "slow"})
    assert dup.status == 409
    body = await dup.json()
    assert body["error"]["code"] == "request_in_progress" and body["error"]["retryable"] is True
    assert (await first).status == 200
    assert Echo.runs == 1


async def test_replay_survives_a_restart(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    first = await (await _echo(client, key, **{"Idempotency-Key": "persist"})).json()
    await client.close()
    client2 = await make_client(store_url)
    resp = await _echo(client2, key, **{"Idempotency-Key": "persist"})
    assert resp.headers.get("Idempotent-Replayed") == "true"
    assert await resp.json() == first
    assert Echo.runs == 0  # the new app's registry reset the counter; nothing ran again


async def test_write_without_key_or_call_id_is_refused(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    resp = await _echo(client, key)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "idempotency_key_required"
    assert Echo.runs == 0


async def test_call_id_derives_a_key_so_a_repeated_tool_call_is_a_replay(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    a = await _echo(client, key, "refund me", **{"X-Call-Id": "CA123"})
    b = await _echo(client, key, "refund me", **{"X-Call-Id": "CA123"})
    c = await _echo(client, key, "refund me", **{"X-Call-Id": "CA999"})
    assert b.headers.get("Idempotent-Replayed") == "true"
    assert (await a.json()) == (await b.json())
    assert "Idempotent-Replayed" not in c.headers
    assert Echo.runs == 2


async def test_provider_key_is_stable_across_retries_and_distinct_per_request(make_client, sqlite_url):
    from gateway.errors import ProviderOutcomeUnknown

    client = await make_client(sqlite_url)
    key = await new_key(client)
    Echo.fail_with = ProviderOutcomeUnknown()
    failed = await _echo(client, key, **{"Idempotency-Key": "retry-me"})
    assert failed.status == 503 and (await failed.json())["error"]["retryable"] is True
    Echo.fail_with = None
    ok = await (await _echo(client, key, **{"Idempotency-Key": "retry-me"})).json()
    other = await (await _echo(client, key, **{"Idempotency-Key": "another"})).json()
    assert Echo.runs == 3  # a retryable failure is not stored: the retry runs again...
    assert ok["result"]["provider_key"] != other["result"]["provider_key"]
    Echo.fail_with = None
    # ...and derives the same provider key as the failed attempt did.
    from gateway.actions.base import ActionContext

    ctx = ActionContext(services(client), services(client).settings.tenants[0], None, "test.echo", "r", None, "retry-me")  # type: ignore[arg-type]
    assert ok["result"]["provider_key"] == ctx.provider_key("op")


async def test_non_retryable_failure_is_stored_and_replayed(make_client, sqlite_url):
    from gateway.errors import PolicyRefused

    client = await make_client(sqlite_url)
    key = await new_key(client)
    Echo.fail_with = PolicyRefused("too much", say="That's more than I can refund.")
    a = await _echo(client, key, **{"Idempotency-Key": "no"})
    Echo.fail_with = None
    b = await _echo(client, key, **{"Idempotency-Key": "no"})
    assert a.status == b.status == 422
    assert b.headers.get("Idempotent-Replayed") == "true"
    assert Echo.runs == 1


async def test_in_flight_record_of_a_crashed_process_is_taken_over_after_its_lease(store_url):
    from gateway.store import open_store

    store = await open_store(store_url)
    try:
        await store.migrate()
        idem = IdempotencyStore(store, ttl_seconds=3600, lease_seconds=0.2)
        assert await idem.begin("acme", "refunds.create", "k", "fp", "req1") is None
        # (the process dies here, leaving the record in flight)
        from gateway.errors import RequestInProgress

        try:
            await idem.begin("acme", "refunds.create", "k", "fp", "req2")
            raise AssertionError("expected request_in_progress inside the lease")
        except RequestInProgress:
            pass
        await asyncio.sleep(0.3)
        assert await idem.begin("acme", "refunds.create", "k", "fp", "req3") is None
    finally:
        await store.close()


async def test_pruning_removes_expired_records_only(store_url):
    from gateway.store import open_store

    store = await open_store(store_url)
    try:
        await store.migrate()
        idem = IdempotencyStore(store, ttl_seconds=60, lease_seconds=5)
        await idem.begin("acme", "a", "old", "fp", "r")
        await idem.complete("acme", "a", "old", 200, {"ok": True})
        await idem.begin("acme", "a", "new", "fp", "r")
        await store.execute("UPDATE idempotency SET expires_at = ? WHERE idem_key = 'old'", time.time() - 1)
        assert await idem.prune() == 1
        keys = [r["idem_key"] for r in await store.fetchall("SELECT idem_key FROM idempotency")]
        assert keys == ["new"]
        # An expired key is fresh again: same key, different params is allowed after expiry.
        assert await idem.begin("acme", "a", "old", "other-fp", "r") is None
    finally:
        await store.close()


async def test_a_crash_inside_an_action_is_audited_and_the_key_can_be_retried_at_once(make_client, store_url):
    client = await make_client(store_url)
    key = await new_key(client)
    Echo.fail_with = RuntimeError("bug")
    first = await _echo(client, key, **{"Idempotency-Key": "bug-1"})
    assert first.status == 500 and (await first.json())["error"]["retryable"] is True
    Echo.fail_with = None
    retry = await _echo(client, key, **{"Idempotency-Key": "bug-1"})
    assert retry.status == 200 and "Idempotent-Replayed" not in retry.headers  # not stuck behind a lease
    rows = await services(client).store.fetchall("SELECT outcome, error_code FROM audit_log ORDER BY seq")
    assert [(r["outcome"], r["error_code"]) for r in rows] == [("UNKNOWN", "internal_error"), ("SUCCEEDED", None)]
