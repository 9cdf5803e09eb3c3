"""customers.verify and refunds.create through the real app against the in-process Stripe sandbox.

Written as the conversations that hit the traps of issue 12 ("a genuine caller can fail verification") and
issue 11 (limits): which factors count, what the caller hears when one more is needed, failed attempts that
stop counting after the window, and what happens to a refund slot when Stripe's answer is "no", "not sent"
or lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.outcomes import Outcome, ProviderInvalidRequest, ProviderUnavailable
from adapters.stripe.client import StripeAdapter
from adapters.stripe.sandbox import StripeSandbox
from gateway.actions.customers import CustomersVerify, VerifyParams
from gateway.app import create_app
from gateway.routes import SERVICES
from gateway.services import Services

SANDBOX_KEY = "sk_test_limits_voicepay"
SCOPES = ("payments:read", "refunds:write", "customers:verify")
ADA = "ada@example.com"
ADA_POSTCODE = "SW1A 1AA"


class Bot:
    def __init__(self, client: TestClient[Any, Any], key: str, sandbox: StripeSandbox) -> None:
        self.client, self.key, self.sandbox = client, key, sandbox

    @property
    def services(self) -> Services:
        server = self.client.server
        assert isinstance(server, TestServer)
        return server.app[SERVICES]

    async def call(self, action: str, body: dict[str, Any], *, call_id: str,
                   idempotency_key: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.key}", "X-Call-Id": call_id}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        resp = await self.client.post(f"/v1/actions/{action}", json=body, headers=headers)
        return resp.status, await resp.json()

    async def count(self, sql: str, *args: Any) -> int:
        row = await self.services.store.fetchone(sql, *args)
        assert row is not None
        return int(row["n"])

    def refunds_on(self, payment_intent: str) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.state.store.get("refund", {}).values()
                if r["payment_intent"] == payment_intent]


MakeBot = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def sandbox() -> AsyncIterator[StripeSandbox]:
    sb = StripeSandbox(api_key=SANDBOX_KEY, seed=True)
    await sb.start("127.0.0.1", 0)
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
def make_bot(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    settings_factory: Callable[..., Any],
    sandbox: StripeSandbox,
    sqlite_url: str,
) -> MakeBot:
    async def make(**policy: Any) -> Bot:
        ring = settings_factory.ring  # type: ignore[attr-defined]
        tenant = {
            "id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt(SANDBOX_KEY),
            "stripe_api_base": sandbox.base_url, "currency": "gbp", "phone_default_region": "GB", "policy": policy,
        }
        client = await aiohttp_client(create_app(settings_factory(sqlite_url, tenants=[tenant])))
        bot = Bot(client, "", sandbox)
        _, bot.key = await bot.services.keys.create("acme", SCOPES)
        return bot

    return make


# ------------------------------------------------------------------------------------------ verification


async def test_found_by_email_then_postcode_and_email_on_file_verifies_when_the_tenant_counts_the_identifier(
    make_bot: MakeBot,
) -> None:
    """The conversation that hit the trap: the caller gives their email, their postcode and (asked for the
    email on file) the same email. Everything is right; the caller is verified and the refund goes ahead."""
    bot = await make_bot(verification_identifier_counts=True)
    call = "call-trap-1"
    status, body = await bot.call(
        "customers.verify", {"email": ADA, "postal_code": ADA_POSTCODE, "email_on_file": ADA}, call_id=call
    )
    assert status == 200, body
    assert body["result"]["verified"] is True and body["say"] == "Thank you, you're verified."
    row = await bot.services.store.fetchone("SELECT factors FROM caller_verifications WHERE call_id = ?", call)
    assert row is not None and row["factors"] == '["email", "postal_code"]'
    # Even without repeating it: the email they were found by and the postcode are two factors.
    status, body = await bot.call("customers.verify", {"email": ADA, "postal_code": "sw1a1aa"}, call_id="call-trap-2")
    assert status == 200, body
    status, body = await bot.call("refunds.create", {"email": ADA, "amount": 100}, call_id=call)
    assert status == 200, body


async def test_found_by_phone_the_phone_counts_when_allowed_and_a_wrong_postcode_still_fails(
    make_bot: MakeBot, sandbox: StripeSandbox
) -> None:
    bot = await make_bot(verification_identifier_counts=True)
    status, body = await bot.call("customers.verify", {"phone": "07700 900123", "postal_code": ADA_POSTCODE},
                                  call_id="call-phone-1")
    assert status == 200, body
    assert body["result"]["customer_id"] == sandbox.seed_data["customers"]["ada"]["id"]  # type: ignore[index]
    status, body = await bot.call("customers.verify", {"phone": "07700 900123", "postal_code": "ZZ1 1ZZ"},
                                  call_id="call-phone-2")
    assert (status, body["error"]["code"], body["error"]["details"]) == (422, "verification_failed",
                                                                         {"attempts_left": 2})
    # A different email said as "on file" is compared, not waved through because the lookup email matched.
    status, body = await bot.call(
        "customers.verify", {"email": ADA, "email_on_file": "someone@example.com", "postal_code": ADA_POSTCODE},
        call_id="call-phone-3",
    )
    assert (status, body["error"]["code"]) == (422, "verification_failed")


async def test_when_the_identifier_does_not_count_the_caller_is_asked_for_a_factor_and_nothing_is_counted(
    make_bot: MakeBot, sandbox: StripeSandbox
) -> None:
    bot = await make_bot()  # the default: verification_identifier_counts = false
    call = "call-fair-1"
    before = len(sandbox.request_log)
    for _ in range(5):  # however often the bot tries it, the caller is never locked out for it
        status, body = await bot.call(
            "customers.verify", {"email": ADA, "postal_code": ADA_POSTCODE, "email_on_file": ADA}, call_id=call
        )
        assert (status, body["error"]["code"]) == (422, "validation_failed")
        assert body["error"]["say"] == "To check it's you, I also need the last 4 digits of a card you've paid with."
        assert body["error"]["details"]["factors_counted"] == ["postal_code"]
        assert "match" not in body["error"]["say"]
    assert len(sandbox.request_log) == before  # nothing was looked up, so nothing was checked
    assert await bot.count("SELECT COUNT(*) AS n FROM verification_attempts WHERE call_id = ?", call) == 0
    status, body = await bot.call(
        "customers.verify", {"email": ADA, "postal_code": ADA_POSTCODE, "card_last4": "4242"}, call_id=call
    )
    assert status == 200, body
    # Found by phone, one factor: asked for one of the two that would count.
    status, body = await bot.call("customers.verify", {"phone": "07700 900123", "postal_code": ADA_POSTCODE},
                                  call_id="call-fair-2")
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    assert body["error"]["say"] == (
        "To check it's you, I also need the last 4 digits of a card you've paid with or the email address on "
        "your account."
    )


async def test_failed_attempts_stop_counting_after_the_window(make_bot: MakeBot) -> None:
    bot = await make_bot(verification_attempt_window_seconds=600)
    call = "call-window"
    wrong = {"email": ADA, "postal_code": "ZZ1 1ZZ", "card_last4": "1111"}
    right = {"email": ADA, "postal_code": ADA_POSTCODE, "card_last4": "4242"}
    for _ in range(3):
        status, _ = await bot.call("customers.verify", wrong, call_id=call)
        assert status == 422
    status, body = await bot.call("customers.verify", right, call_id=call)
    assert (status, body["error"]["code"]) == (422, "verification_failed") and "colleagues" in body["error"]["say"]
    # Eleven minutes later (the window is ten), the same caller on the same call gets through.
    await bot.services.store.execute("UPDATE verification_attempts SET created_at = created_at - 660")
    status, body = await bot.call("customers.verify", right, call_id=call)
    assert status == 200, body


async def test_per_call_and_per_customer_limits_are_separate_policies(make_bot: MakeBot) -> None:
    bot = await make_bot(verification_max_attempts=2, verification_max_attempts_per_customer=3)
    wrong = {"email": ADA, "postal_code": "ZZ1 1ZZ", "card_last4": "1111"}
    answers = [await bot.call("customers.verify", wrong, call_id="call-a") for _ in range(3)]
    assert [b["error"].get("details") for _, b in answers] == [{"attempts_left": 1}, {"attempts_left": 0}, None]
    # A new call: the per-call budget is fresh, the customer's has one failure left (3 - 2).
    status, body = await bot.call("customers.verify", wrong, call_id="call-b")
    assert (status, body["error"]["details"]) == (422, {"attempts_left": 0})
    status, body = await bot.call("customers.verify", wrong, call_id="call-c")
    assert status == 422 and "details" not in body["error"]


def test_the_tool_text_names_exactly_the_factors_that_count() -> None:
    text = CustomersVerify.description
    factors = ("postal_code", "card_last4", "email_on_file")
    assert all(f in text for f in factors)
    assert all(f in VerifyParams.model_fields for f in factors)
    assert "identified them by also counts as one factor" in text and "If the merchant allows it" in text
    assert "at least two factors" in text


# ------------------------------------------------------------------------------------------------ refunds


async def verify(bot: Bot, call: str) -> None:
    status, body = await bot.call(
        "customers.verify", {"email": ADA, "postal_code": ADA_POSTCODE, "card_last4": "4242"}, call_id=call
    )
    assert status == 200, body


async def test_a_refund_that_never_reached_stripe_releases_its_slot(
    make_bot: MakeBot, sandbox: StripeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_bot(max_refunds_per_customer=1)
    call = "call-released"
    await verify(bot, call)
    pi = sandbox.seed_data["payments"]["ada_succeeded"]["payment_intent"]  # type: ignore[index]
    real = StripeAdapter.create_refund

    async def unreachable(self: StripeAdapter, **kw: Any) -> Any:
        raise ProviderUnavailable("Stripe refunds.create: cannot reach Stripe", provider="stripe",
                                  outcome=Outcome.NOT_ATTEMPTED)

    monkeypatch.setattr(StripeAdapter, "create_refund", unreachable)
    status, body = await bot.call("refunds.create", {"payment_id": pi, "amount": 100}, call_id=call,
                                  idempotency_key="k-1")
    assert (status, body["error"]["code"]) == (503, "provider_unavailable")
    row = await bot.services.store.fetchone("SELECT state FROM gateway_refunds WHERE call_id = ?", call)
    assert row is not None and row["state"] == "released"
    monkeypatch.setattr(StripeAdapter, "create_refund", real)
    # The slot is free: another refund (its own key) goes through, and then the limit of 1 holds.
    status, body = await bot.call("refunds.create", {"payment_id": pi, "amount": 100}, call_id=call,
                                  idempotency_key="k-2")
    assert status == 200, body
    status, body = await bot.call("refunds.create", {"payment_id": pi, "amount": 100}, call_id=call,
                                  idempotency_key="k-3")
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    assert len(bot.refunds_on(pi)) == 1


async def test_a_refund_whose_answer_was_lost_keeps_its_slot_and_its_retry_makes_one_refund(
    make_bot: MakeBot, sandbox: StripeSandbox
) -> None:
    bot = await make_bot(max_refunds_per_customer=1)
    call = "call-unknown"
    await verify(bot, call)
    pi = sandbox.seed_data["payments"]["ada_latest"]["payment_intent"]  # type: ignore[index]
    # Every attempt of the adapter's retry budget gets a 500: the refund's outcome is UNKNOWN.
    sandbox.faults.add(kind="500", path_prefix="/v1/refunds", method="POST", count=3)
    status, body = await bot.call("refunds.create", {"payment_id": pi, "amount": 100}, call_id=call,
                                  idempotency_key="k-lost")
    assert status == 503 and body["error"]["retryable"] is True, body
    row = await bot.services.store.fetchone("SELECT state FROM gateway_refunds WHERE call_id = ?", call)
    assert row is not None and row["state"] == "sending"
    # Money may have moved: the slot stays taken, so a second refund is refused...
    status, body = await bot.call("refunds.create", {"payment_id": pi, "amount": 200}, call_id=call,
                                  idempotency_key="k-other")
    assert (status, body["error"]["code"]) == (422, "policy_refused")
    # ...and the retry of the first, with its key, sends the same request once more: one refund.
    status, body = await bot.call("refunds.create", {"payment_id": pi, "amount": 100}, call_id=call,
                                  idempotency_key="k-lost")
    assert status == 200, body
    assert [r["amount"] for r in bot.refunds_on(pi)] == [100]
    assert await bot.count("SELECT COUNT(*) AS n FROM gateway_refunds WHERE call_id = ?", call) == 1


async def test_a_refund_stripe_refused_holds_no_slot(
    make_bot: MakeBot, sandbox: StripeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await make_bot(max_refunds_per_customer=1)
    call = "call-refused"
    await verify(bot, call)
    seed = sandbox.seed_data["payments"]  # type: ignore[index]
    real = StripeAdapter.create_refund

    async def refused(self: StripeAdapter, **kw: Any) -> Any:
        # Refunded meanwhile, behind the gateway's back, between its look at the charge and the refund.
        raise ProviderInvalidRequest("Stripe refunds.create: request refused (charge_already_refunded)",
                                     provider="stripe", provider_code="charge_already_refunded")

    monkeypatch.setattr(StripeAdapter, "create_refund", refused)
    status, body = await bot.call("refunds.create", {"payment_id": seed["ada_latest"]["payment_intent"],
                                                     "amount": 200}, call_id=call, idempotency_key="k-no")
    assert (status, body["error"]["code"]) == (422, "policy_refused"), body
    assert body["error"]["details"]["provider_code"] == "charge_already_refunded"
    monkeypatch.setattr(StripeAdapter, "create_refund", real)
    status, body = await bot.call("refunds.create", {"payment_id": seed["ada_succeeded"]["payment_intent"],
                                                     "amount": 100}, call_id=call, idempotency_key="k-yes")
    assert status == 200, body
    rows = await bot.services.store.fetchall("SELECT state FROM gateway_refunds WHERE call_id = ? ORDER BY id", call)
    assert [r["state"] for r in rows] == ["refused", "created"]
