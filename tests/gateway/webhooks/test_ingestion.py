"""POST /v1/webhooks/stripe/{tenant}: verification, persistence before 2xx, duplicates, limits."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from tests.gateway.webhooks.conftest import (
    FAST_WEBHOOKS,
    body_of,
    event_row,
    make_event,
    post_event,
    processed,
    services_of,
    stripe_header,
    tenant_with,
    wait_for,
)

REFUND = {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 1200, "currency": "gbp",
          "charge": "ch_1", "payment_intent": "pi_1"}


def _error(resp_json: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resp_json.items() if k != "request_id"}


async def test_when_signed_as_stripe_documents_then_stored_before_200(make_client: Any, store_url: str) -> None:
    client = await make_client(store_url, webhooks={**FAST_WEBHOOKS, "worker_enabled": False})
    event = make_event("refund.created", REFUND)
    resp = await post_event(client, event)
    assert resp.status == 200
    assert (await resp.json())["duplicate"] is False
    row = await event_row(client, event["id"])
    assert row is not None
    assert row["tenant_id"] == "acme"
    assert row["type"] == "refund.created"
    assert row["status"] == "queued"
    assert json.loads(row["payload"])["data"]["object"]["id"] == "re_1"
    jobs = await services_of(client).store.fetchall("SELECT kind, ref, state FROM jobs")
    assert jobs == [{"kind": "stripe_event", "ref": str(row["id"]), "state": "queued"}]


@pytest.mark.parametrize(
    "case",
    ["forged", "wrong_secret", "stale", "future", "missing", "malformed", "v0_only", "body_changed"],
)
async def test_when_signature_is_bad_then_400_and_nothing_stored(
    make_client: Any, sqlite_url: str, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client(sqlite_url, webhooks={"worker_enabled": False})
    event = make_event("refund.created", {**REFUND, "description": "SECRET-BODY-MARKER"})
    body = body_of(event)
    now = int(time.time())
    header = {
        "forged": f"t={now},v1={'0' * 64}",
        "wrong_secret": stripe_header(body, ["whsec_other"]),
        "stale": stripe_header(body, ["whsec_acme"], now - 301),
        "future": stripe_header(body, ["whsec_acme"], now + 301),
        "missing": "",
        "malformed": "this is not a signature header",
        "v0_only": stripe_header(body, ["whsec_acme"]).replace("v1=", "v0="),
        "body_changed": stripe_header(body + b" ", ["whsec_acme"]),
    }[case]
    caplog.set_level(logging.INFO)
    resp = await post_event(client, event, header=header)
    assert resp.status == 400
    data = await resp.json()
    assert data["error"]["code"] == "invalid_signature"
    assert await event_row(client, event["id"]) is None
    assert "SECRET-BODY-MARKER" not in caplog.text
    assert any(r.getMessage() == "stripe webhook rejected" for r in caplog.records)


async def test_when_within_tolerance_either_side_then_accepted(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks={"worker_enabled": False})
    now = int(time.time())
    for skew in (-250, 250):
        resp = await post_event(client, make_event("refund.created", REFUND), t=now + skew)
        assert resp.status == 200


async def test_when_secret_rotates_then_old_and_new_both_accepted(
    make_client: Any, sqlite_url: str, settings_factory: Any
) -> None:
    tenants = tenant_with(settings_factory, stripe_webhook_secrets=["whsec_old", "whsec_new"])
    client = await make_client(sqlite_url, tenants=tenants, webhooks={"worker_enabled": False})
    for secrets_ in (["whsec_old"], ["whsec_new"], ["whsec_new", "whsec_old"], ["whsec_gone", "whsec_new"]):
        resp = await post_event(client, make_event("refund.created", REFUND), secrets_=secrets_)
        assert resp.status == 200, secrets_
    resp = await post_event(client, make_event("refund.created", REFUND), secrets_=["whsec_gone"])
    assert resp.status == 400


async def test_when_tenant_unknown_then_same_answer_as_bad_signature(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks={"worker_enabled": False})
    event = make_event("refund.created", REFUND)
    unknown = await post_event(client, event, tenant="nosuchtenant")
    no_secret = await post_event(client, event, tenant="globex")  # exists, has no webhook secret
    forged = await post_event(client, event, secrets_=["whsec_wrong"])
    assert unknown.status == no_secret.status == forged.status == 400
    assert _error(await unknown.json()) == _error(await no_secret.json()) == _error(await forged.json())
    assert set(unknown.headers) == set(forged.headers)


async def test_when_delivered_twice_then_200_and_processed_once(make_client: Any, store_url: str) -> None:
    client = await make_client(store_url, webhooks=FAST_WEBHOOKS)
    event = make_event("refund.created", REFUND)
    first = await post_event(client, event)
    second = await post_event(client, event)  # Stripe re-signs retries with a fresh timestamp
    assert first.status == second.status == 200
    assert (await second.json())["duplicate"] is True
    await wait_for(lambda: processed(client, event["id"]), what="event processed")
    third = await post_event(client, event)
    assert third.status == 200
    row = await event_row(client, event["id"])
    assert row is not None
    assert row["deliveries"] == 3
    assert row["processed_count"] == 1
    notes = await services_of(client).store.fetchall("SELECT kind FROM notifications")
    assert notes == [{"kind": "refund.succeeded"}]


async def test_when_type_unknown_then_stored_ignored_and_acknowledged(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    event = make_event("balance.available", {"object": "balance"})
    resp = await post_event(client, event)
    assert resp.status == 200
    row = await event_row(client, event["id"])
    assert row is not None
    assert row["status"] == "ignored"
    assert await services_of(client).store.fetchall("SELECT id FROM jobs") == []


async def test_when_body_too_large_then_413(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks={"worker_enabled": False, "max_body_bytes": 2048})
    event = make_event("refund.created", {**REFUND, "metadata": {"pad": "x" * 4000}})
    resp = await post_event(client, event)
    assert resp.status == 413
    assert await event_row(client, event["id"]) is None


async def test_when_body_bigger_than_action_limit_but_within_webhook_limit_then_accepted(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, server={"max_body_bytes": 1024}, webhooks={"worker_enabled": False})
    event = make_event("refund.created", {**REFUND, "metadata": {"pad": "x" * 4000}})
    assert (await post_event(client, event)).status == 200


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "evt_1"}', b'{"id": 5, "type": "x", "created": 1}'])
async def test_when_signed_body_is_not_an_event_then_400(make_client: Any, sqlite_url: str, body: bytes) -> None:
    client = await make_client(sqlite_url, webhooks={"worker_enabled": False})
    resp = await client.post(
        "/v1/webhooks/stripe/acme", data=body, headers={"Stripe-Signature": stripe_header(body, ["whsec_acme"])}
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_event"


async def test_when_payload_holds_card_data_then_stored_redacted(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks={"worker_enabled": False})
    event = make_event("refund.created", {**REFUND, "description": "card 4242 4242 4242 4242 cvv 123"})
    assert (await post_event(client, event)).status == 200
    row = await event_row(client, event["id"])
    assert row is not None
    assert "4242 4242 4242 4242" not in row["payload"]
    assert "4242424242424242" not in row["payload"]
