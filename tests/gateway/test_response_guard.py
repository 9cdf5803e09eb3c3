"""The action pipeline's card-data boundaries: the cross-field gate, the response guard (before the reply and
before the idempotency table), and validation errors that never echo a key or a value."""

from __future__ import annotations

import json
from typing import Any

from gateway.actions.base import Action, ActionContext, ActionOutput, ActionRegistry, Params, Result
from gateway.actions.ping import Ping
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import Echo, auth

PAN = "4000056655665556"


class LeakParams(Params):
    order: str


class LeakResult(Result):
    description: str
    notes: list[str]


class Leak(Action):
    """Stands for an action that passes provider text on (a description a merchant typed a card into)."""

    name = "test.leak"
    description = "Returns provider text (test only)."
    scopes = frozenset({"refunds:write"})
    writes = True
    Params = LeakParams
    Result = LeakResult

    async def run(self, ctx: ActionContext, params: LeakParams) -> ActionOutput:
        return ActionOutput(
            result=LeakResult(description=f"Phone order {PAN}", notes=["card 4000 0566", "5566 5556"]),
            say=f"Your order {params.order} for card {PAN[:4]} {PAN[4:8]} {PAN[8:12]} {PAN[12:]}.",
        )


def _registry() -> ActionRegistry:
    reg = ActionRegistry()
    for cls in (Ping, Echo, Leak):
        reg.register(cls)
    return reg


async def test_a_response_holding_card_data_is_redacted_before_reply_and_storage(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, registry=_registry())
    key = await new_key(client)
    headers = auth(key, **{"Idempotency-Key": "leak-1"})
    first = await client.post("/v1/actions/test.leak", json={"order": "A-17"}, headers=headers)
    assert first.status == 200
    text = await first.text()
    assert PAN not in text and "0566" not in text and "5566" not in text
    body = json.loads(text)
    assert body["result"]["description"] == "Phone order [card visa ••5556]"
    assert body["result"]["notes"] == ["card [card]", "[card]"]  # the number split over two list items
    assert "A-17" in body["say"] and "[card visa ••5556]" in body["say"]
    row = await services(client).store.fetchone("SELECT response FROM idempotency WHERE idem_key = ?", "leak-1")
    assert row is not None and json.loads(row["response"]) == body
    replay = await client.post("/v1/actions/test.leak", json={"order": "A-17"}, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true" and await replay.json() == body


async def test_a_number_split_over_two_fields_is_refused(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url)
    key = await new_key(client)
    resp = await client.post(
        "/v1/actions/test.echo",
        json={"text": "my card is 4000 0566", "note": "5566 5556"},
        headers=auth(key, **{"Idempotency-Key": "split-1"}),
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["error"]["code"] == "card_data_not_accepted"
    assert "0566" not in json.dumps(body) and "5566" not in json.dumps(body)
    # Digits that do not make a card number together are not refused.
    ok = await client.post(
        "/v1/actions/test.echo",
        json={"text": "order 4000 0566", "amount": 5566},
        headers=auth(key, **{"Idempotency-Key": "split-2"}),
    )
    assert ok.status == 200


async def test_validation_errors_never_echo_an_unknown_key(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url)
    key = await new_key(client)
    resp = await client.post(
        "/v1/actions/test.echo",
        json={"text": "hi", "card_4000_0566": 1},
        headers=auth(key, **{"Idempotency-Key": "v-1"}),
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["error"]["code"] == "validation_failed"
    assert "0566" not in json.dumps(body)
    assert [e["field"] for e in body["error"]["details"]["errors"]] == ["(unknown field)"]
