"""Captures page: each capture with its state history (creation, PCI Pal callbacks, audit entries naming it,
the notification of its final state), scoped to the operator's tenants."""

from __future__ import annotations

import json
import time

from gateway import captures
from gateway.audit import AuditEntry, record
from tests.gateway.console.helpers import Client, add_operator, login, store_of


async def _capture(client: Client, tenant: str, capture_id: str) -> None:
    store = store_of(client)
    await captures.create(store, capture_id=capture_id, tenant_id=tenant, amount=2500, currency="gbp",
                          description="Account balance", customer_id=None, ttl_seconds=600)
    await record(store, AuditEntry(tenant_id=tenant, action="capture.start", params={"amount": 2500},
                                   outcome="SUCCEEDED", request_id="req_cap", call_id="call-cap",
                                   provider_ids={"capture_id": capture_id}))
    assert await captures.move(store, tenant, capture_id, "awaiting_caller", pcipal_session_id="sess_abc123")
    await store.execute(
        "INSERT INTO capture_callbacks (tenant_id, dedupe_key, capture_id, result, fields_redacted, received_at) "
        "VALUES (?, ?, ?, 'success', ?, ?)",
        tenant, f"k-{capture_id}", capture_id, json.dumps({"Result": "success", "MaskedPan": "[REDACTED]"}),
        time.time(),
    )
    assert await captures.move(store, tenant, capture_id, "processing", callback_result="success")
    assert await captures.move(store, tenant, capture_id, "succeeded", card_brand="visa", card_last4="4242")


async def test_capture_history_and_tenant_scope(console: Client) -> None:
    await add_operator(console, "carol", {"acme": "viewer"})
    await _capture(console, "acme", "cap_acme0001")
    await _capture(console, "globex", "cap_globex01")
    assert (await login(console, "carol")).status == 303

    listing = await console.get("/console/captures")
    html = await listing.text()
    assert listing.status == 200 and "cap_acme0001" in html and "cap_globex01" not in html

    page = await console.get("/console/captures/acme/cap_acme0001")
    html = await page.text()
    assert page.status == 200
    assert '<dd id="capture-state">succeeded</dd>' in html
    history = html[html.index('id="capture-history"'):]
    # Creation, the start in the audit chain, PCI Pal's callback, the final notification: in that order.
    steps = ["created", "capture.start: SUCCEEDED", "PCI Pal callback", "capture.succeeded", "now succeeded"]
    positions = [history.index(s) for s in steps]
    assert positions == sorted(positions)

    # Another tenant's capture does not exist for carol.
    other = await console.get("/console/captures/globex/cap_globex01")
    assert other.status == 404 and "cap_globex01" not in await other.text()
    missing = await console.get("/console/captures/acme/cap_nothere")
    assert missing.status == 404
