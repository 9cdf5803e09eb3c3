"""The sandbox checks every request against the installed SDK's parameter types and Stripe's documented
ranges, and honours ``Stripe-Version`` for the fields that differ between the versions it supports.

Requests are sent as raw form posts (not through the SDK) so the exact parameter names and the
``Stripe-Version`` header are what the test says.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import stripe
from aiohttp import web

from adapters.stripe.sandbox import StripeSandbox
from adapters.stripe.sandbox.errors import StripeError, ValidationError
from adapters.stripe.sandbox.sdk_params import ENDPOINT_PARAMS, check_params, params_type
from adapters.stripe.sandbox.versions import OLD_VERSION
from tests.adapters.stripe_sandbox.conftest import API_KEY

PINNED = stripe.api_version


async def call(
    sandbox: StripeSandbox, method: str, path: str, form: dict[str, str] | None = None, version: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if version is not None:
        headers["Stripe-Version"] = version
    async with aiohttp.ClientSession() as http:
        if method == "GET":
            req = http.get(sandbox.base_url + path, params=form or {}, headers=headers)
        else:
            req = http.post(sandbox.base_url + path, data=form or {}, headers=headers)
        async with req as resp:
            return resp.status, json.loads(await resp.read())


def refused(status: int, body: dict[str, Any], param: str, fragment: str) -> None:
    assert status == 400, body
    err = body["error"]
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param
    assert fragment in err["message"]


def test_every_routed_endpoint_has_an_sdk_params_type(sandbox: StripeSandbox) -> None:
    routed = {handler.__name__ for _m, _p, handler in sandbox._routes}
    assert routed == set(ENDPOINT_PARAMS)
    for name in routed:
        td = params_type(name)
        assert td is not None and td.__module__.startswith("stripe.params"), name


# --- the out-of-range requests of issue 13 ----------------------------------------------------------------


async def test_payment_method_types_on_payment_intents_is_refused_in_the_pinned_version(
    sandbox: StripeSandbox,
) -> None:
    status, body = await call(sandbox, "POST", "/v1/payment_intents",
                              {"amount": "1000", "currency": "gbp", "payment_method_types[0]": "card"})
    refused(status, body, "payment_method_types", "Received unknown parameter: payment_method_types")
    assert body["error"]["code"] == "parameter_unknown"
    status, body = await call(sandbox, "POST", "/v1/payment_intents",
                              {"amount": "1000", "currency": "gbp", "allowed_payment_method_types[0]": "card"})
    assert status == 200, body
    assert body["payment_method_types"] == ["card"]


async def test_expansion_deeper_than_four_levels_is_refused(sandbox: StripeSandbox) -> None:
    _s, pi = await call(sandbox, "POST", "/v1/payment_intents",
                        {"amount": "1000", "currency": "gbp", "payment_method": "pm_card_visa", "confirm": "true"})
    deep = "latest_charge.payment_intent.latest_charge.payment_intent.latest_charge"
    status, body = await call(sandbox, "GET", f"/v1/payment_intents/{pi['id']}", {"expand[0]": deep})
    refused(status, body, "expand", "You cannot expand more than 4 levels of a property")
    four = "latest_charge.payment_intent.latest_charge.payment_intent"
    status, body = await call(sandbox, "GET", f"/v1/payment_intents/{pi['id']}", {"expand[0]": four})
    assert status == 200, body
    assert body["latest_charge"]["payment_intent"]["latest_charge"]["payment_intent"]["id"] == pi["id"]


@pytest.mark.parametrize(
    ("offset", "fragment"),
    [
        (24 * 3600 + 60, "must be less than 24 hours"),
        (29 * 60, "must be at least 30 minutes"),
        (-60, "must be at least 30 minutes"),
    ],
)
async def test_checkout_expires_at_outside_30_minutes_to_24_hours_is_refused(
    sandbox: StripeSandbox, offset: int, fragment: str
) -> None:
    form = {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "gbp",
        "line_items[0][price_data][unit_amount]": "1500",
        "line_items[0][price_data][product_data][name]": "Order",
        "expires_at": str(int(sandbox.now()) + offset),
    }
    status, body = await call(sandbox, "POST", "/v1/checkout/sessions", form)
    refused(status, body, "expires_at", fragment)
    form["expires_at"] = str(int(sandbox.now()) + 23 * 3600 + 30 * 60)
    status, body = await call(sandbox, "POST", "/v1/checkout/sessions", form)
    assert status == 200, body


async def test_amounts_must_be_positive(sandbox: StripeSandbox) -> None:
    status, body = await call(sandbox, "POST", "/v1/payment_intents", {"amount": "0", "currency": "gbp"})
    refused(status, body, "amount", "greater than or equal to 1")
    status, body = await call(sandbox, "POST", "/v1/refunds", {"payment_intent": "pi_x", "amount": "-5"})
    refused(status, body, "amount", "greater than or equal to 1")


async def test_enum_values_outside_the_sdk_literal_are_refused(sandbox: StripeSandbox) -> None:
    # The SDK types the field ``Literal[...] | str``; the Literal is the API's enum.
    status, body = await call(sandbox, "POST", "/v1/payment_intents",
                              {"amount": "1000", "currency": "gbp", "capture_method": "later"})
    refused(status, body, "capture_method", "Invalid capture_method: must be one of automatic")
    status, body = await call(sandbox, "POST", "/v1/refunds", {"payment_intent": "pi_x", "reason": "changed_mind"})
    refused(status, body, "reason", "must be one of duplicate, fraudulent, or requested_by_customer")


async def test_wrong_nesting_unknown_nested_names_and_missing_required_keys_are_refused(
    sandbox: StripeSandbox,
) -> None:
    status, body = await call(sandbox, "POST", "/v1/payment_intents",
                              {"amount": "1000", "currency": "gbp", "payment_method_options": "card"})
    refused(status, body, "payment_method_options", "must be a hash")
    status, body = await call(sandbox, "POST", "/v1/payment_intents",
                              {"amount": "1000", "currency": "gbp", "payment_method_options[card][mooto]": "true"})
    refused(status, body, "payment_method_options[card][mooto]", "Received unknown parameter")
    status, body = await call(sandbox, "POST", "/v1/payment_intents", {"amount": "1000", "currency[x]": "gbp"})
    refused(status, body, "currency", "must be a string")
    status, body = await call(sandbox, "POST", "/v1/checkout/sessions", {
        "mode": "payment", "line_items[0][quantity]": "1",
        "line_items[0][price_data][unit_amount]": "1500",
        "line_items[0][price_data][product_data][name]": "Order",
    })
    refused(status, body, "line_items[0][price_data][currency]", "Missing required param")
    assert body["error"]["code"] == "parameter_missing"


async def test_refused_requests_are_recorded_as_sdk_violations(sandbox: StripeSandbox) -> None:
    await call(sandbox, "POST", "/v1/customers", {"email": "a@example.com"})
    await call(sandbox, "POST", "/v1/customers", {"shoe_size": "9"})
    [bad] = sandbox.sdk_violations()
    assert (bad.method, bad.path, bad.status) == ("POST", "/v1/customers", 400)
    assert bad.sdk_violation == "shoe_size: Received unknown parameter: shoe_size"


def test_check_params_direct() -> None:
    now = time.time()
    check_params("refund_create", {"payment_intent": "pi_1", "metadata": {"k": "v"}, "expand": ["charge"]}, now)
    with pytest.raises(ValidationError) as info:
        check_params("refund_create", {"payment_intent": "pi_1", "metadata": "v"}, now)
    assert info.value.param == "metadata"


# --- Stripe-Version ---------------------------------------------------------------------------------------


async def test_unsupported_version_is_refused_and_the_answer_names_its_version(sandbox: StripeSandbox) -> None:
    status, body = await call(sandbox, "GET", "/v1/customers", version="2099-01-01.zinnia")
    assert status == 400
    assert "Invalid Stripe API version" in body["error"]["message"]
    status, _ = await call(sandbox, "GET", "/v1/customers", version=OLD_VERSION)
    assert status == 200
    assert [r.api_version for r in sandbox.request_log] == ["2099-01-01.zinnia", OLD_VERSION]


async def test_old_version_takes_payment_method_types_and_refuses_the_new_name(sandbox: StripeSandbox) -> None:
    form = {"amount": "1000", "currency": "gbp", "payment_method_types[0]": "card"}
    status, body = await call(sandbox, "POST", "/v1/payment_intents", form, version=OLD_VERSION)
    assert status == 200, body
    assert body["payment_method_types"] == ["card"]
    assert "allowed_payment_method_types" not in body
    form = {"amount": "1000", "currency": "gbp", "allowed_payment_method_types[0]": "card"}
    status, body = await call(sandbox, "POST", "/v1/payment_intents", form, version=OLD_VERSION)
    refused(status, body, "allowed_payment_method_types", "Received unknown parameter")


async def test_invoice_subscription_field_follows_the_request_version(
    sandbox: StripeSandbox, seeded: dict[str, Any]
) -> None:
    sub_id = seeded["subscriptions"]["alan_past_due"]["id"]
    inv_id = sandbox.state.by_id[sub_id]["latest_invoice"]
    status, new = await call(sandbox, "GET", f"/v1/invoices/{inv_id}")
    assert status == 200
    assert "subscription" not in new
    assert new["parent"]["subscription_details"]["subscription"] == sub_id
    status, old = await call(sandbox, "GET", f"/v1/invoices/{inv_id}", version=OLD_VERSION)
    assert status == 200
    assert old["subscription"] == sub_id
    assert "parent" not in old
    # Expanded and listed invoices too; the stored object keeps the pinned shape.
    status, sub = await call(sandbox, "GET", f"/v1/subscriptions/{sub_id}", {"expand[0]": "latest_invoice"},
                             version=OLD_VERSION)
    assert sub["latest_invoice"]["subscription"] == sub_id
    assert "parent" in sandbox.state.by_id[inv_id]


@pytest.fixture
async def hooks() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        got.append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", got
    await runner.cleanup()


async def test_events_are_rendered_and_stamped_in_each_endpoints_version(
    sandbox: StripeSandbox, seeded: dict[str, Any], hooks: tuple[str, list[dict[str, Any]]]
) -> None:
    url, got = hooks
    sandbox.add_webhook_endpoint(url + "?v=new", "whsec_a", ["invoice.payment_failed"])
    sandbox.add_webhook_endpoint(url + "?v=old", "whsec_b", ["invoice.payment_failed"], api_version=OLD_VERSION)
    sub_id = seeded["subscriptions"]["ada_active"]["id"] if "ada_active" in seeded["subscriptions"] else next(
        s["id"] for s in seeded["subscriptions"].values() if s["status"] == "active")
    sandbox.state.mark_past_due(sub_id)
    await sandbox.flush_webhooks()
    by_version = {e["api_version"]: e for e in got}
    assert set(by_version) == {PINNED, OLD_VERSION}
    new_inv = by_version[PINNED]["data"]["object"]
    old_inv = by_version[OLD_VERSION]["data"]["object"]
    assert new_inv["parent"]["subscription_details"]["subscription"] == sub_id
    assert "subscription" not in new_inv
    assert old_inv["subscription"] == sub_id
    assert "parent" not in old_inv
    assert by_version[PINNED]["id"] == by_version[OLD_VERSION]["id"]


def test_unsupported_endpoint_version_is_refused(sandbox: StripeSandbox) -> None:
    with pytest.raises(StripeError, match="Invalid Stripe API version"):
        sandbox.add_webhook_endpoint("http://127.0.0.1:9/x", "whsec_x", api_version="2024-06-20")


async def test_on_lists_the_leading_data_does_not_count_as_a_level(sandbox: StripeSandbox) -> None:
    ok = "data.line_items.data.price.product"  # Stripe's documented deepest expansion for this list
    status, body = await call(sandbox, "GET", "/v1/checkout/sessions", {"expand[0]": ok})
    assert status == 200, body
    status, body = await call(sandbox, "GET", "/v1/checkout/sessions", {"expand[0]": ok + ".x"})
    refused(status, body, "expand", "You cannot expand more than 4 levels")


async def test_events_listed_in_the_old_version_are_rendered_and_stamped_in_it(
    sandbox: StripeSandbox, seeded: dict[str, Any]
) -> None:
    sub_id = next(s["id"] for s in seeded["subscriptions"].values() if s["status"] == "active")
    sandbox.state.mark_past_due(sub_id)
    status, body = await call(sandbox, "GET", "/v1/events", {"type": "invoice.payment_failed"}, version=OLD_VERSION)
    assert status == 200
    [event] = body["data"]
    assert event["api_version"] == OLD_VERSION
    assert event["data"]["object"]["subscription"] == sub_id
    status, body = await call(sandbox, "GET", "/v1/events", {"type": "invoice.payment_failed"})
    assert body["data"][0]["api_version"] == PINNED
    assert "subscription" not in body["data"][0]["data"]["object"]
