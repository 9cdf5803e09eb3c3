"""Events rendered in another Stripe API version: the documented rule (adapters/stripe/versions.py)."""

from __future__ import annotations

import json
from typing import Any

from adapters.stripe.versions import PINNED_API_VERSION, event_version_decision, release_of
from gateway.webhooks import replay_events
from tests.gateway.webhooks.conftest import (
    FAST_WEBHOOKS,
    event_row,
    make_event,
    post_event,
    processed,
    services_of,
    wait_for,
)

PINNED_RELEASE = release_of(PINNED_API_VERSION)
SAME_RELEASE_OTHER_MONTH = f"2099-01-01.{PINNED_RELEASE}"
OLD_RELEASE = "2025-02-24.acacia"


def _failed_invoice(**fields: Any) -> dict[str, Any]:
    return {"id": "in_v1", "object": "invoice", "amount_due": 1200, "currency": "gbp", "customer": "cus_v",
            "attempt_count": 1, **fields}


def _mismatch(client: Any, decision: str) -> float:
    value = services_of(client).metrics.registry.get_sample_value(
        "voicepay_webhook_api_version_mismatch_total", {"tenant": "acme", "decision": decision}
    )
    return value or 0.0


async def _note_data(client: Any, kind: str) -> list[dict[str, Any]]:
    rows = await services_of(client).store.fetchall("SELECT body FROM notifications WHERE kind = ?", kind)
    return [json.loads(r["body"])["data"] for r in rows]


def test_decision_rule() -> None:
    assert event_version_decision(PINNED_API_VERSION, PINNED_API_VERSION) == "same"
    assert event_version_decision(SAME_RELEASE_OTHER_MONTH, PINNED_API_VERSION) == "same_release"
    assert event_version_decision(OLD_RELEASE, PINNED_API_VERSION) == "other_release"
    assert event_version_decision("2024-06-20", PINNED_API_VERSION) == "other_release"  # before release names
    assert event_version_decision(None, PINNED_API_VERSION) == "other_release"


async def test_when_invoice_payment_failed_in_pinned_shape_then_subscription_id_reaches_the_bot(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    inv = _failed_invoice(parent={"type": "subscription_details",
                                  "subscription_details": {"subscription": "sub_new", "metadata": {}}})
    ev = make_event("invoice.payment_failed", inv)
    assert (await post_event(client, ev)).status == 200
    await wait_for(lambda: processed(client, ev["id"]), what="invoice event processed")
    [data] = await _note_data(client, "invoice.payment_failed")
    assert data["subscription"] == "sub_new"
    assert data["invoice"] == "in_v1"
    assert _mismatch(client, "handled") == 0


async def test_when_event_of_same_release_then_handled_and_counted(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    ev = make_event("invoice.payment_failed", _failed_invoice(
        parent={"type": "subscription_details", "subscription_details": {"subscription": "sub_m"}}))
    ev["api_version"] = SAME_RELEASE_OTHER_MONTH
    assert (await post_event(client, ev)).status == 200
    await wait_for(lambda: processed(client, ev["id"]), what="processed")
    row = await event_row(client, ev["id"])
    assert row is not None and row["status"] == "processed"
    assert [d["subscription"] for d in await _note_data(client, "invoice.payment_failed")] == ["sub_m"]
    assert _mismatch(client, "handled") == 1


async def test_when_event_of_another_release_then_stored_dead_and_not_processed_until_replayed(
    make_client: Any, sqlite_url: str, caplog: Any
) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    # The old shape: invoice.subscription at the top level (before 2025-03-31.basil).
    ev = make_event("invoice.payment_failed", _failed_invoice(subscription="sub_old"))
    ev["api_version"] = OLD_RELEASE
    resp = await post_event(client, ev)
    assert resp.status == 200  # stored and acknowledged: Stripe must not retry it for days
    row = await event_row(client, ev["id"])
    assert row is not None
    assert row["status"] == "dead"
    assert OLD_RELEASE in row["last_error"] and PINNED_API_VERSION in row["last_error"]
    assert await services_of(client).store.fetchall("SELECT id FROM jobs") == []
    assert await _note_data(client, "invoice.payment_failed") == []
    assert _mismatch(client, "refused") == 1
    assert any("another release" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    # The operator's way out: replay processes it (the handler also reads the old shape).
    assert await replay_events(services_of(client).store, event_id=ev["id"]) == [ev["id"]]
    await wait_for(lambda: _is(client, ev["id"], "processed"), what="processed after replay")
    assert [d["subscription"] for d in await _note_data(client, "invoice.payment_failed")] == ["sub_old"]


async def _is(client: Any, event_id: str, status: str) -> bool:
    row = await event_row(client, event_id)
    return row is not None and row["status"] == status


async def test_when_api_version_setting_changed_then_adapter_and_rule_follow_it(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS, stripe={"api_version": OLD_RELEASE})
    services = services_of(client)
    tenant = services.settings.tenant("acme")
    assert tenant is not None
    assert services.providers.stripe(tenant).api_version == OLD_RELEASE
    ev = make_event("invoice.payment_failed", _failed_invoice(subscription="sub_acacia"))
    ev["api_version"] = OLD_RELEASE
    assert (await post_event(client, ev)).status == 200
    await wait_for(lambda: _is(client, ev["id"], "processed"), what="processed")
    assert [d["subscription"] for d in await _note_data(client, "invoice.payment_failed")] == ["sub_acacia"]


async def test_when_event_without_handler_is_of_another_release_then_ignored_as_before(
    make_client: Any, sqlite_url: str
) -> None:
    client = await make_client(sqlite_url, webhooks=FAST_WEBHOOKS)
    ev = make_event("customer.created", {"id": "cus_x", "object": "customer"})
    ev["api_version"] = OLD_RELEASE
    assert (await post_event(client, ev)).status == 200
    row = await event_row(client, ev["id"])
    assert row is not None and row["status"] == "ignored"
    assert _mismatch(client, "refused") == 0
