"""The capture state machine on both store backends, and the pure decision 'what does Stripe + PCI Pal mean'."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from adapters.stripe.models import PaymentIntentInfo
from gateway import captures
from gateway.store import Store, open_store


@pytest.fixture
async def store(store_url: str) -> Any:
    s = await open_store(store_url)
    await s.migrate()
    await s.execute("INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 0)")
    yield s
    await s.close()


async def new_capture(store: Store, cid: str = "cap_000000000000000000000001") -> captures.Capture:
    return await captures.create(store, capture_id=cid, tenant_id="acme", amount=1200, currency="gbp",
                                 description="Order", customer_id=None, ttl_seconds=900)


async def test_create_is_idempotent(store: Store) -> None:
    first = await new_capture(store)
    again = await new_capture(store)
    assert first == again
    assert first.state == "created"


async def test_happy_path_transitions(store: Store) -> None:
    c = await new_capture(store)
    assert await captures.transition(store, "acme", c.id, "awaiting_caller", pcipal_session_id="s1",
                                     pcipal_link_id="1234")
    assert await captures.transition(store, "acme", c.id, "processing", callback_result="success")
    assert await captures.transition(store, "acme", c.id, "succeeded", card_brand="visa", card_last4="4242")
    got = await captures.get(store, "acme", c.id)
    assert got is not None
    assert (got.state, got.pcipal_link_id, got.card_last4) == ("succeeded", "1234", "4242")


@pytest.mark.parametrize("final", ["succeeded", "failed", "canceled", "expired"])
async def test_when_final_then_no_transition_moves_it(store: Store, final: str) -> None:
    c = await new_capture(store)
    assert await captures.transition(store, "acme", c.id, final)  # type: ignore[arg-type]
    for to in ("created", "awaiting_caller", "processing", "succeeded", "failed", "canceled", "expired"):
        assert not await captures.transition(store, "acme", c.id, to)
    got = await captures.get(store, "acme", c.id)
    assert got is not None
    assert got.state == final


async def test_transition_is_scoped_to_the_tenant(store: Store) -> None:
    c = await new_capture(store)
    assert not await captures.transition(store, "globex", c.id, "canceled")
    assert await captures.get(store, "globex", c.id) is None


async def test_payment_intent_event_settles_and_is_idempotent(store: Store) -> None:
    c = await new_capture(store)
    await captures.set_payment_intent(store, "acme", c.id, "pi_1")
    await captures.transition(store, "acme", c.id, "awaiting_caller")
    assert await captures.on_payment_intent_event(store, "acme", "pi_1", "succeeded", amount=1200,
                                                  currency="gbp") == "succeeded"
    assert await captures.on_payment_intent_event(store, "acme", "pi_1", "canceled") == "succeeded"
    assert await captures.on_payment_intent_event(store, "acme", "pi_unknown", "succeeded") is None
    rows = await store.fetchall("SELECT kind FROM notifications WHERE tenant_id = 'acme'")
    assert [r["kind"] for r in rows] == ["capture.succeeded"]


async def test_payment_intent_event_with_another_amount_does_not_mark_paid(store: Store) -> None:
    c = await new_capture(store)
    await captures.set_payment_intent(store, "acme", c.id, "pi_2")
    assert await captures.on_payment_intent_event(store, "acme", "pi_2", "succeeded", amount=1,
                                                  currency="gbp") == "created"


async def test_failed_attempt_while_caller_on_the_line_does_not_fail_the_capture(store: Store) -> None:
    c = await new_capture(store)
    await captures.set_payment_intent(store, "acme", c.id, "pi_3")
    await captures.transition(store, "acme", c.id, "awaiting_caller")
    state = await captures.on_payment_intent_event(store, "acme", "pi_3", "requires_payment_method",
                                                   failure_code="insufficient_funds")
    assert state == "awaiting_caller"


# --- decide: pure -------------------------------------------------------------------------------------

BASE = captures.Capture(
    id="cap_x", tenant_id="acme", state="processing", amount=1200, currency="gbp", description="",
    customer_id=None, payment_intent_id="pi_x", pcipal_session_id="s", pcipal_link_id="1", card_brand=None,
    card_last4=None, callback_result="success", failure_code=None, created_at=0, updated_at=0, expires_at=900,
)


def pi(status: str, *, amount: int = 1200, error: str | None = None) -> PaymentIntentInfo:
    return PaymentIntentInfo(id="pi_x", status=status, amount=amount, currency="gbp", customer_id=None,
                             description=None, latest_charge_id=None, charge_status=None, card_brand="visa",
                             card_last4="4242", last_payment_error_code=error, created=0)


@pytest.mark.parametrize(
    ("callback", "stripe", "expected"),
    [
        ("success", None, ("processing", None)),  # Stripe unreachable: never "paid"
        ("success", pi("requires_payment_method"), ("processing", None)),
        ("success", pi("processing"), ("processing", None)),
        ("success", pi("succeeded"), ("succeeded", None)),
        ("success", pi("succeeded", amount=1), ("processing", "amount_mismatch")),
        ("success", pi("requires_payment_method", error="card_declined"), ("failed", "card_declined")),
        ("success", pi("canceled"), ("canceled", "canceled_by_agent")),
        ("declined", pi("requires_payment_method", error="insufficient_funds"), ("failed", "insufficient_funds")),
        ("declined", None, ("failed", "card_declined")),
        ("hangup", None, ("canceled", "caller_hung_up")),
        ("cancelled", None, ("canceled", "caller_cancelled")),
        ("timeout", None, ("expired", "session_timed_out")),
        ("too_many_attempts", None, ("failed", "too_many_attempts")),
        ("error", None, ("failed", "processing_error")),
        ("authentication_required", None, ("failed", "authentication_required")),
        ("hangup", pi("succeeded"), ("succeeded", None)),  # the money moved: Stripe wins
    ],
)
def test_decide(callback: str, stripe: PaymentIntentInfo | None, expected: tuple[str, str | None]) -> None:
    assert captures.decide(replace(BASE, callback_result=callback), callback, stripe) == expected


def test_say_never_claims_payment_unless_succeeded() -> None:
    for state in ("created", "awaiting_caller", "processing", "failed", "canceled", "expired"):
        say = captures.say_for(replace(BASE, state=state, failure_code="card_declined"))
        assert "went through" not in say
    auth = captures.say_for(replace(BASE, state="failed", failure_code="authentication_required"), link_offer=True)
    assert "payment link" in auth
    # Without a sender for the tenant, no link is promised.
    no_sender = captures.say_for(replace(BASE, state="failed", failure_code="authentication_required"))
    assert "link" not in no_sender and "not been charged" in no_sender


@pytest.mark.parametrize("ended", ["failed", "canceled", "expired"])
async def test_a_capture_that_ended_unpaid_moves_to_late_succeeded_once_on_a_success_event(
    store: Store, ended: str
) -> None:
    c = await new_capture(store)
    await captures.set_payment_intent(store, "acme", c.id, "pi_late")
    assert await captures.move(store, "acme", c.id, ended)  # type: ignore[arg-type]
    state = await captures.on_payment_intent_event(store, "acme", "pi_late", "succeeded", amount=1200,
                                                   currency="gbp", card_brand="visa", card_last4="4242")
    assert state == "late_succeeded"
    assert await captures.on_payment_intent_event(store, "acme", "pi_late", "succeeded") == "late_succeeded"
    got = await captures.get(store, "acme", c.id)
    assert got is not None
    assert got.final and got.failure_reason is None
    assert "did go through" in captures.say_for(got)
    rows = await store.fetchall("SELECT kind FROM notifications WHERE tenant_id = 'acme' ORDER BY created_at")
    assert [r["kind"] for r in rows] == [f"capture.{ended}", "capture.late_succeeded"]
    for to in ("succeeded", "failed", "canceled", "expired", "processing"):
        assert not await captures.transition(store, "acme", c.id, to)  # type: ignore[arg-type]


async def test_a_succeeded_capture_never_becomes_late_succeeded(store: Store) -> None:
    c = await new_capture(store)
    await captures.transition(store, "acme", c.id, "succeeded")
    assert not await captures.transition(store, "acme", c.id, "late_succeeded")


async def test_an_intent_matched_by_its_metadata_finds_the_capture(store: Store) -> None:
    c = await new_capture(store)
    await captures.set_payment_intent(store, "acme", c.id, "pi_ours")
    await captures.move(store, "acme", c.id, "failed", failure_code="card_declined")
    state = await captures.on_payment_intent_event(store, "acme", "pi_pcipal", "succeeded", amount=1200,
                                                   currency="gbp", capture_id=c.id)
    assert state == "late_succeeded"
    got = await captures.get(store, "acme", c.id)
    assert got is not None
    assert got.payment_intent_id == "pi_pcipal"
    assert got.own_payment_intent_id == "pi_ours"
    assert await captures.find_by_payment_intent(store, "acme", "pi_ours") == got


# --- adopt_theirs: what makes PCI Pal's intent this capture's payment ------------------------------------

THEIRS = PaymentIntentInfo(
    id="pi_theirs", status="succeeded", amount=1200, currency="GBP", customer_id=None, description=None,
    latest_charge_id="ch_1", charge_status="succeeded", card_brand="visa", card_last4="4242",
    last_payment_error_code=None, created=0, metadata={"voicepay_capture_id": "cap_x"}, moto=True,
)


@pytest.mark.parametrize(("change", "problem"), [
    ({}, None),
    ({"amount": 1100}, "amount differs"),
    ({"currency": "eur"}, "currency differs"),
    ({"moto": False}, "not a MOTO payment"),
    ({"moto": None, "metadata": {}}, None),
    ({"metadata": {"voicepay_capture_id": "cap_other"}}, "it belongs to another order"),
])
def test_adoption_problem(change: dict[str, Any], problem: str | None) -> None:
    assert captures.adoption_problem(BASE, replace(THEIRS, **change)) == problem


def test_adoption_checks_the_customer_when_the_capture_has_one() -> None:
    mine = replace(BASE, customer_id="cus_1")
    assert captures.adoption_problem(mine, replace(THEIRS, customer_id="cus_2")) == "customer differs"
    assert captures.adoption_problem(mine, replace(THEIRS, customer_id="cus_1")) is None
