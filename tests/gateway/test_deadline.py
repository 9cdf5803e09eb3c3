"""Deadline mode (issue 12 point 1): an action not finished within the caller's turn answers `pending` and
finishes in the background under the same idempotency record; the bot gets the final answer by replaying the
call with its key, by `operations.get`, and as an `operation.completed` notification.

The slow action here blocks on an event the test sets, so "not finished by the deadline" is a fact, not a race.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gateway.actions.base import Action, ActionContext, ActionOutput, ActionRegistry, Params, Result
from gateway.actions.operations import OperationsGet
from gateway.errors import ProviderOutcomeUnknown
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import auth, make_registry


class GateParams(Params):
    text: str


class GateResult(Result):
    text: str
    runs: int


class Gated(Action):
    """A write that runs until the test opens its gate; counts its real executions."""

    name = "test.gated"
    description = "Wait for the gate (test only)."
    scopes = frozenset({"refunds:write"})
    writes = True
    Params = GateParams
    Result = GateResult
    runs = 0
    gate: asyncio.Event
    fail_with: BaseException | None = None

    async def run(self, ctx: ActionContext, params: GateParams) -> ActionOutput:
        type(self).runs += 1
        await type(self).gate.wait()
        if type(self).fail_with is not None:
            raise type(self).fail_with
        return ActionOutput(result=GateResult(text=params.text, runs=type(self).runs), say=f"Done: {params.text}.")


class GatedRead(Gated):
    name = "test.gated_read"
    scopes = frozenset({"payments:read"})
    writes = False


def registry() -> ActionRegistry:
    reg = make_registry()
    Gated.runs = 0
    Gated.gate = asyncio.Event()
    Gated.fail_with = None
    reg.register(Gated)
    reg.register(GatedRead)
    reg.register(OperationsGet)
    return reg


async def call(client: Any, key: str, action: str, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
    resp = await client.post(f"/v1/actions/{action}", json=body, headers=auth(key, **headers))
    return resp.status, await resp.json()


async def settle(client: Any, op_id: str) -> None:
    """Wait for the background operation to finish (no time bound asserted: it only needs its gate)."""
    op = services(client).operations.running(op_id)
    if op is not None and op.task is not None:
        await asyncio.wait({op.task}, timeout=30)


async def test_slow_refund_answers_pending_then_replay_get_and_notification_give_the_answer(make_client, store_url):
    client = await make_client(store_url, registry=registry())
    key = await new_key(client, scopes=("refunds:write", "payments:read"))
    headers = {"Idempotency-Key": "refund-77", "X-Deadline-Ms": "50", "X-Call-Id": "CA-deadline-1"}

    status, body = await call(client, key, "test.gated", {"text": "twenty pounds"}, **headers)
    assert status == 202, body
    assert body["ok"] is True and body["pending"] is True
    assert body["say"] == "One moment while I check that."
    op_id = body["operation_id"]
    assert op_id.startswith("op_")
    assert not Gated.gate.is_set()  # answered while the work was still running

    # The bot repeats the call within its next turn: still pending, same operation, nothing started twice.
    status, again = await call(client, key, "test.gated", {"text": "twenty pounds"}, **headers)
    assert status == 202 and again["operation_id"] == op_id
    status, got = await call(client, key, "operations.get", {"operation_id": op_id})
    assert status == 200 and got["result"]["status"] == "pending" and got["result"]["response"] is None
    assert Gated.runs == 1

    Gated.gate.set()
    await settle(client, op_id)

    resp = await client.post("/v1/actions/test.gated", json={"text": "twenty pounds"}, headers=auth(key, **headers))
    final = await resp.json()
    assert resp.status == 200 and resp.headers["Idempotent-Replayed"] == "true"
    assert final["ok"] is True and final["say"] == "Done: twenty pounds." and final["result"]["runs"] == 1
    status, got = await call(client, key, "operations.get", {"operation_id": op_id})
    assert status == 200
    assert got["result"]["status"] == "done" and got["result"]["response"] == final
    assert got["say"] == "Done: twenty pounds."
    assert Gated.runs == 1

    rows = await services(client).store.fetchall(
        "SELECT body FROM notifications WHERE tenant_id = 'acme' AND kind = 'operation.completed'"
    )
    assert len(rows) == 1
    note = json.loads(rows[0]["body"])
    assert note["status"] == "succeeded" and note["say"] == "Done: twenty pounds."
    assert note["data"]["operation_id"] == op_id and note["data"]["call_id"] == "CA-deadline-1"
    assert note["data"]["response"] == final


async def test_answer_within_the_deadline_is_the_answer_itself(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=registry())
    key = await new_key(client)
    Gated.gate.set()
    status, body = await call(client, key, "test.gated", {"text": "quick"},
                              **{"Idempotency-Key": "k-fast", "X-Deadline-Ms": "20000"})
    assert status == 200 and body["say"] == "Done: quick." and "pending" not in body
    rows = await services(client).store.fetchall("SELECT id FROM notifications WHERE kind = 'operation.completed'")
    assert rows == []


async def test_tenant_default_deadline_applies_without_the_header(make_client, sqlite_url, settings_factory):
    ring = settings_factory.ring
    tenants = [{"id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("sk_test_x"),
                "stripe_api_base": "http://127.0.0.1:9", "default_deadline_ms": 30}]
    client = await make_client(sqlite_url, registry=registry(), tenants=tenants)
    key = await new_key(client)
    status, body = await call(client, key, "test.gated", {"text": "x"}, **{"Idempotency-Key": "k-default"})
    assert status == 202 and body["pending"] is True
    Gated.gate.set()
    await settle(client, body["operation_id"])


async def test_keyless_read_that_goes_pending_can_be_fetched_by_operation_id(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=registry())
    key = await new_key(client, scopes=("payments:read",))
    status, body = await call(client, key, "test.gated_read", {"text": "lookup"}, **{"X-Deadline-Ms": "30"})
    assert status == 202 and body["pending"] is True
    op_id = body["operation_id"]
    Gated.gate.set()
    await settle(client, op_id)
    status, got = await call(client, key, "operations.get", {"operation_id": op_id})
    assert status == 200 and got["result"]["status"] == "done"
    assert got["result"]["action"] == "test.gated_read" and got["say"] == "Done: lookup."


async def test_pending_write_that_ends_retryable_is_told_and_the_retry_runs_again(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=registry())
    key = await new_key(client)
    headers = {"Idempotency-Key": "k-unknown", "X-Deadline-Ms": "30"}
    Gated.fail_with = ProviderOutcomeUnknown()
    status, body = await call(client, key, "test.gated", {"text": "x"}, **headers)
    assert status == 202
    op_id = body["operation_id"]
    Gated.gate.set()
    await settle(client, op_id)
    status, got = await call(client, key, "operations.get", {"operation_id": op_id})
    assert got["result"]["status"] == "failed"
    assert got["result"]["response"]["error"]["code"] == "provider_outcome_unknown"
    # The retry with the same key runs again (with the same provider keys), now successfully.
    Gated.fail_with = None
    status, final = await call(client, key, "test.gated", {"text": "x"}, **headers)
    assert status == 200 and final["say"] == "Done: x." and Gated.runs == 2


async def test_operation_of_another_tenant_or_scope_is_not_found(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=registry())
    writer = await new_key(client)
    status, body = await call(client, writer, "test.gated", {"text": "x"},
                              **{"Idempotency-Key": "k-scope", "X-Deadline-Ms": "30"})
    assert status == 202
    reader = await new_key(client, scopes=("payments:read",))
    other = await new_key(client, tenant="globex", scopes=("refunds:write",))
    for k in (reader, other):
        status, got = await call(client, k, "operations.get", {"operation_id": body["operation_id"]})
        assert status == 404 and got["error"]["code"] == "operation_not_found"
    Gated.gate.set()
    await settle(client, body["operation_id"])


async def test_bad_deadline_header_is_refused(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=registry())
    key = await new_key(client)
    for bad in ("0", "-5", "1.5", "soon", "9999999"):
        status, body = await call(client, key, "test.gated", {"text": "x"},
                                  **{"Idempotency-Key": "k-bad", "X-Deadline-Ms": bad})
        assert status == 400 and body["error"]["code"] == "bad_request", bad
    assert Gated.runs == 0


async def test_shutdown_waits_for_pending_work_and_keeps_its_answer(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=registry())
    key = await new_key(client)
    headers = {"Idempotency-Key": "k-shutdown", "X-Deadline-Ms": "30"}
    status, body = await call(client, key, "test.gated", {"text": "x"}, **headers)
    assert status == 202 and body["pending"] is True
    asyncio.get_running_loop().call_later(0.2, Gated.gate.set)
    await client.close()  # drains the operation: its answer is stored, not lost
    client2 = await make_client(sqlite_url, registry=registry())
    status, final = await call(client2, key, "test.gated", {"text": "x"}, **headers)
    assert status == 200 and final["say"] == "Done: x."
    assert Gated.runs == 0  # the new registry reset the counter: the answer is a replay, nothing re-ran
