"""Every 503 and 429 tells the bot when to try again (issue 12 point 2)."""

from __future__ import annotations

from adapters.outcomes import ProviderUnavailable as AdapterUnavailable
from gateway import errors
from gateway.actions.base import Action, ActionContext, ActionOutput, ActionRegistry, Params, Result
from gateway.services import Providers
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import Echo, auth, make_registry


def _all_errors() -> list[type[errors.GatewayError]]:
    seen: list[type[errors.GatewayError]] = []
    todo: list[type[errors.GatewayError]] = [errors.GatewayError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_503_and_429_error_carries_retry_after() -> None:
    busy = [cls for cls in _all_errors() if cls.status in (429, 503)]
    assert {c.code for c in busy} >= {"rate_limited", "provider_unavailable", "provider_outcome_unknown",
                                      "service_unavailable"}
    for cls in busy:
        assert cls().headers["Retry-After"] == "1", cls.code
        assert cls(headers={"Retry-After": "7"}).headers["Retry-After"] == "7", cls.code


class LookupParams(Params):
    pass


class LookupResult(Result):
    customer: str


class StripeLookup(Action):
    """A read that really goes through the tenant's Stripe adapter (and so its breaker)."""

    name = "test.stripe_lookup"
    description = "Look a customer up at Stripe (test only)."
    Params = LookupParams
    Result = LookupResult

    async def run(self, ctx: ActionContext, params: LookupParams) -> ActionOutput:
        customer = await ctx.services.providers.stripe(ctx.tenant).get_customer("cus_test")
        return ActionOutput(result=LookupResult(customer=customer.id), say="Found it.")


async def test_action_failing_with_a_provider_outage_answers_503_with_retry_after(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    Echo.fail_with = AdapterUnavailable("down", provider="stripe")
    resp = await client.post("/v1/actions/test.echo", json={"text": "x"},
                             headers=auth(key, **{"Idempotency-Key": "k1"}))
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "1"
    assert (await resp.json())["error"]["retryable"] is True


async def test_open_breaker_answers_503_with_the_time_to_its_next_probe(make_client, sqlite_url):
    reg: ActionRegistry = make_registry()
    reg.register(StripeLookup)
    # Stripe at 127.0.0.1:9 refuses connections: provider-side failures that open the breaker.
    client = await make_client(
        sqlite_url, registry=reg,
        providers={"breaker_failure_threshold": 1, "breaker_reset_seconds": 60, "breaker_max_reset_seconds": 60},
    )
    key = await new_key(client, scopes=("payments:read",))
    first = await client.post("/v1/actions/test.stripe_lookup", json={}, headers=auth(key))
    assert first.status == 503 and "Retry-After" in first.headers
    providers: Providers = services(client).providers
    assert providers.breaker_states() == [("acme", "stripe", True)]
    resp = await client.post("/v1/actions/test.stripe_lookup", json={}, headers=auth(key))
    body = await resp.json()
    assert resp.status == 503 and body["error"]["code"] == "provider_unavailable"
    # Just under a minute to the probe: the bot is told so, in whole seconds.
    assert 55 <= int(resp.headers["Retry-After"]) <= 60
