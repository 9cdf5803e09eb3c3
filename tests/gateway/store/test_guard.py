"""The store's card-data guard, on both backends: every text bound into a statement is redacted on its way in."""

from __future__ import annotations

import json
import time

from gateway import audit
from gateway.store import open_store
from gateway.store.guard import WITHHELD, guard_args, guard_text, needs_guard, redact_value, value_has_card

PAN = "4242424242424242"
MC = "5555555555554444"


async def _store(url: str):  # type: ignore[no-untyped-def]
    store = await open_store(url)
    await store.migrate()
    return store


async def test_every_text_column_is_guarded_on_insert_and_update(store_url: str) -> None:
    store = await _store(store_url)
    try:
        await store.execute(
            "INSERT INTO escalations (tenant_id, reference, source_key, call_id, customer_id, payment_ids, reason, "
            "summary, delivery_state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "acme", "ESC-1", "k1", f"call-{PAN}", None, json.dumps(["pi_1", "5555 5555 5555 4444"]), "other",
            f"The caller read out {PAN[:4]} {PAN[4:8]} {PAN[8:12]} {PAN[12:]} exp 12/29", "pending", time.time(),
        )
        async with store.transaction() as tx:
            await tx.execute("UPDATE escalations SET last_error = ? WHERE reference = ?", f"echo {MC}", "ESC-1")
        row = await store.fetchone("SELECT * FROM escalations WHERE reference = ?", "ESC-1")
        assert row is not None
        text = json.dumps(row)
        assert PAN not in text and PAN[:4] + " " + PAN[4:8] not in text and "5555" not in text.replace("••4444", "")
        assert "[card visa ••4242]" in row["summary"] and "[expiry]" in row["summary"]
        assert json.loads(row["payment_ids"]) == ["pi_1", "[card mastercard ••4444]"]  # still valid JSON
        assert row["call_id"] == "call-[card visa ••4242]"
        assert row["last_error"] == "echo [card mastercard ••4444]"
    finally:
        await store.close()


async def test_a_lookup_by_a_redacted_value_still_finds_its_row(store_url: str) -> None:
    # An idempotency key holding a card number is stored redacted; a retry with the same key must still meet it.
    store = await _store(store_url)
    try:
        key = f"order-{PAN}"
        await store.execute(
            "INSERT INTO idempotency (tenant_id, action, idem_key, fingerprint, state, lease_until, request_id, "
            "created_at, expires_at) VALUES (?, ?, ?, ?, 'in_flight', 0, 'r', 0, 0)",
            "acme", "refunds.create", key, "f" * 64,
        )
        row = await store.fetchone("SELECT idem_key FROM idempotency WHERE idem_key = ?", key)
        assert row is not None and PAN not in row["idem_key"]
    finally:
        await store.close()


async def test_json_documents_are_redacted_as_json_including_numbers_split_over_fields(store_url: str) -> None:
    store = await _store(store_url)
    try:
        payload = {
            "id": "evt_1",
            "created": 1764400000,
            "data": {"description": "card 4242 4242", "id": "pi_x12", "metadata": {"note": "4242 4242"}},
            "digits": [4242, 4242, 4242, 4242],
            "escaped": PAN,  # sent as JSON \\u escapes below
        }
        raw = json.dumps(payload, ensure_ascii=True).replace(PAN, "".join(f"\\u{ord(c):04x}" for c in PAN))
        await store.execute(
            "INSERT INTO webhook_events (tenant_id, event_id, type, created, payload, received_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            "acme", "evt_1", "payment_intent.succeeded", 0.0, raw, 0.0, "queued",
        )
        row = await store.fetchone("SELECT payload FROM webhook_events WHERE event_id = ?", "evt_1")
        assert row is not None
        stored = json.loads(row["payload"])
        assert stored["created"] == 1764400000 and stored["id"] == "evt_1"
        assert stored["data"]["description"] == "card [card]" and stored["data"]["metadata"]["note"] == "[card]"
        assert stored["digits"] == ["[card]"] * 4
        assert stored["escaped"] == "[card visa ••4242]"
        assert not value_has_card(stored)
    finally:
        await store.close()


async def test_audit_rows_are_hashed_as_stored_so_the_chain_verifies(store_url: str) -> None:
    store = await _store(store_url)
    try:
        entry = audit.AuditEntry(
            tenant_id="acme", action="escalations.create", params={"summary": f"card {PAN}"}, outcome="OK",
            request_id="req_1", call_id=f"call-{PAN}",
        )
        await audit.record(store, entry)
        row = await store.fetchone("SELECT params, call_id FROM audit_log WHERE tenant_id = ?", "acme")
        assert row is not None and PAN not in json.dumps(row)
        checked, problems = await audit.verify(store, "acme")
        assert checked == 1 and problems == []
    finally:
        await store.close()


def test_clean_arguments_are_passed_through_untouched() -> None:
    args = ("acme", 12, None, 1.5, "pi_3MtwBwLkdIwHu7ix28a3tqPa", json.dumps({"amount": 1299, "created": 1764400000}))
    assert guard_args(args) is args
    text = "The caller wants a refund for order 12345."
    assert guard_text(text) is text
    assert not needs_guard("4242")  # shorter than any card number


def test_a_value_the_redactor_cannot_clean_is_withheld_whole() -> None:
    assert guard_text(f"x {PAN}") == "x [card visa ••4242]"
    # Not JSON (a broken document): text redaction, never a half-cleaned document.
    assert PAN not in guard_text('{"a": "' + PAN)
    assert WITHHELD == "[card data removed]"


def test_redact_value_masks_only_the_slices_of_a_split_number() -> None:
    value = {"summary": "caller said: 4242 4242", "ids": ["4242 4242", "pi_1"], "date": "2026-11-25"}
    assert value_has_card(value)
    clean = redact_value(value)
    assert clean == {"summary": "caller said: [card]", "ids": ["[card]", "pi_1"], "date": "2026-11-25"}
