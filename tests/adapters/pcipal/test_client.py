"""PciPalClient against the emulator over real sockets, and against aioresponses for transport faults."""

from __future__ import annotations

import asyncio
import re
import socket

import aiohttp
import pytest
from aioresponses import aioresponses

from adapters.outcomes import (
    Outcome,
    ProviderAuthError,
    ProviderError,
    ProviderInvalidRequest,
    ProviderNotFound,
    ProviderTimeout,
    ProviderUnavailable,
)
from adapters.pcipal.client import PciPalClient, Secret, should_retry
from adapters.pcipal.emulator import PciPalEmulator
from adapters.resilience import CircuitBreaker

from .conftest import FAST_RETRY, FakeClock, client_for

VALUES = {"orderId": "ord-1", "amount": "1299", "currencyCode": "GBP", "callbackURL": "http://127.0.0.1:9/cb"}


# ------------------------------------------------------------------------------------------------ token


async def test_when_two_launches_within_token_life_then_one_token_fetch(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock) as client:
        first = await client.launch(initial_values=VALUES)
        clock.advance(200)
        second = await client.launch(initial_values=VALUES)

    assert first.session_id != second.session_id
    assert first.link_id.isdigit()
    assert emulator.token_requests == ["client_credentials"]
    assert emulator.sessions[first.session_id].initial_values == VALUES


async def test_when_token_near_expiry_then_refreshed_with_refresh_grant(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock) as client:
        await client.launch(initial_values=VALUES)
        clock.advance(299 - 30 + 1)  # inside the 30 s refresh margin
        await client.launch(initial_values=VALUES)

    assert emulator.token_requests == ["client_credentials", "refresh_token"]


async def test_when_refresh_token_expired_too_then_full_reauthentication(
    make_emulator: object, clock: FakeClock
) -> None:
    emulator: PciPalEmulator = await make_emulator(refresh_token_ttl=600)  # type: ignore[operator]
    async with client_for(emulator, clock) as client:
        await client.launch(initial_values=VALUES)
        clock.advance(601)
        await client.launch(initial_values=VALUES)

    assert emulator.token_requests == ["client_credentials", "refresh_token", "client_credentials"]


async def test_when_many_concurrent_launches_then_one_token_fetch(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock) as client:
        results = await asyncio.gather(*(client.launch(initial_values=VALUES) for _ in range(10)))

    assert len({r.session_id for r in results}) == 10
    assert emulator.token_requests == ["client_credentials"]
    assert client.token_fetches == 1


async def test_when_token_revoked_then_launch_reauthenticates_once_and_succeeds(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock) as client:
        await client.launch(initial_values=VALUES)
        emulator.revoke_tokens()
        result = await client.launch(initial_values=VALUES)

    assert result.session_id in emulator.sessions
    assert emulator.token_requests == ["client_credentials", "client_credentials"]
    assert emulator.launch_requests == 3  # ok, 401, ok


async def test_when_bad_credentials_then_auth_error_without_secret_in_message(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock, client_secret="wrong-secret-value") as client:
        with pytest.raises(ProviderAuthError) as info:
            await client.launch(initial_values=VALUES)

    assert info.value.code == "pcipal_invalid_credentials"
    assert info.value.outcome is Outcome.NOT_ATTEMPTED
    assert info.value.provider_code == "invalid_client"
    assert "wrong-secret-value" not in str(info.value)
    assert emulator.launch_requests == 0


async def test_when_token_endpoint_503_once_then_retried(emulator: PciPalEmulator, clock: FakeClock) -> None:
    emulator.inject_fault("token", status=503)
    async with client_for(emulator, clock) as client:
        await client.launch(initial_values=VALUES)
    assert emulator.token_requests == ["client_credentials", "client_credentials"]


# ----------------------------------------------------------------------------------------------- launch


async def test_when_flow_unknown_then_flow_not_found(emulator: PciPalEmulator, clock: FakeClock) -> None:
    async with client_for(emulator, clock, flow_id=9999) as client:
        with pytest.raises(ProviderInvalidRequest) as info:
            await client.launch(initial_values=VALUES)
    assert info.value.code == "pcipal_flow_not_found"
    assert info.value.http_status == 400
    assert info.value.outcome is Outcome.NOT_ATTEMPTED


async def test_when_tenant_number_wrong_then_not_found(emulator: PciPalEmulator, clock: FakeClock) -> None:
    async with client_for(emulator, clock, tenant_number="4242") as client:
        with pytest.raises(ProviderNotFound) as info:
            await client.launch(initial_values=VALUES)
    assert info.value.code == "pcipal_tenant_not_found"


async def test_when_launch_hangs_past_timeout_then_unknown_outcome_and_not_resent(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    emulator.inject_fault("launch", hang=True)
    async with client_for(emulator, clock, timeout=0.2) as client:
        with pytest.raises(ProviderTimeout) as info:
            await client.launch(initial_values=VALUES)

    assert info.value.outcome is Outcome.UNKNOWN
    assert info.value.code == "pcipal_timeout"
    assert emulator.launch_requests == 1  # a launch that may have created a session is never re-sent


async def test_when_launch_503_once_then_retried_and_succeeds(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    emulator.inject_fault("launch", status=503)
    async with client_for(emulator, clock) as client:
        result = await client.launch(initial_values=VALUES)
    assert result.session_id in emulator.sessions
    assert emulator.launch_requests == 2


async def test_when_launch_429_persists_then_unavailable_after_budget(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    emulator.inject_fault("launch", status=429, times=10)
    async with client_for(emulator, clock) as client:
        with pytest.raises(ProviderUnavailable) as info:
            await client.launch(initial_values=VALUES)
    assert info.value.code == "pcipal_rate_limited"
    assert info.value.outcome is Outcome.NOT_ATTEMPTED
    assert emulator.launch_requests == FAST_RETRY.max_attempts


async def test_when_launch_500_then_unknown_and_not_retried(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    emulator.inject_fault("launch", status=500, times=5)
    async with client_for(emulator, clock) as client:
        with pytest.raises(ProviderUnavailable) as info:
            await client.launch(initial_values=VALUES)
    assert info.value.outcome is Outcome.UNKNOWN
    assert emulator.launch_requests == 1


async def test_when_initial_values_carry_card_number_then_emulator_refuses(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock) as client:
        with pytest.raises(ProviderInvalidRequest) as info:
            await client.launch(initial_values={**VALUES, "note": "4242424242424242"})
    assert info.value.code == "pcipal_invalid_request"
    assert "4242424242424242" not in str(info.value)
    assert emulator.sessions == {}


async def test_when_nothing_listens_then_unavailable_not_attempted(clock: FakeClock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = PciPalClient(
        f"http://127.0.0.1:{port}", "sandbox", "1000", "APIUser", "id", "secret",
        flow_id=1, clock=clock, retry=FAST_RETRY,
    )
    async with client:
        with pytest.raises(ProviderUnavailable) as info:
            await client.launch(initial_values=VALUES)
    assert info.value.outcome is Outcome.NOT_ATTEMPTED
    assert client.token_fetches == FAST_RETRY.max_attempts


async def test_when_breaker_open_then_fails_fast(emulator: PciPalEmulator, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=60, clock=clock)
    breaker.record_failure()
    async with client_for(emulator, clock, breaker=breaker) as client:
        with pytest.raises(ProviderUnavailable) as info:
            await client.launch(initial_values=VALUES)
    assert info.value.code == "pcipal_circuit_open"
    assert emulator.token_requests == []


# ----------------------------------------------------------------------------------- transport (mocked)

BASE = "https://pcipal.test"
TOKEN_URL = f"{BASE}/api/v1/token"
LAUNCH_URL = re.compile(rf"^{re.escape(BASE)}/api/v1/session/1000/launch$")
TOKEN_BODY = {"access_token": "at", "token_type": "bearer", "expires_in": 299, "refresh_token": "rt"}


def mocked_client(clock: FakeClock) -> PciPalClient:
    return PciPalClient(BASE, "sandbox", "1000", "APIUser", "cid", "csecret", flow_id=7, clock=clock,
                        retry=FAST_RETRY)


async def test_when_launch_read_times_out_then_timeout_unknown(clock: FakeClock) -> None:
    with aioresponses() as mocked:
        mocked.post(TOKEN_URL, payload=TOKEN_BODY)
        mocked.post(LAUNCH_URL, exception=TimeoutError())
        mocked.post(LAUNCH_URL, payload={"Id": "should-not-be-used", "LinkId": "1"})
        async with mocked_client(clock) as client:
            with pytest.raises(ProviderTimeout) as info:
                await client.launch(initial_values=VALUES)
    assert info.value.outcome is Outcome.UNKNOWN


async def test_when_connection_dropped_after_sending_then_unknown(clock: FakeClock) -> None:
    with aioresponses() as mocked:
        mocked.post(TOKEN_URL, payload=TOKEN_BODY)
        mocked.post(LAUNCH_URL, exception=aiohttp.ServerDisconnectedError())
        async with mocked_client(clock) as client:
            with pytest.raises(ProviderUnavailable) as info:
                await client.launch(initial_values=VALUES)
    assert info.value.outcome is Outcome.UNKNOWN
    assert info.value.code == "pcipal_connection_lost"


async def test_when_connect_times_out_then_retried(clock: FakeClock) -> None:
    with aioresponses() as mocked:
        mocked.post(TOKEN_URL, payload=TOKEN_BODY)
        mocked.post(LAUNCH_URL, exception=aiohttp.ConnectionTimeoutError())
        mocked.post(LAUNCH_URL, payload={"id": "s-1", "linkId": 4321})
        async with mocked_client(clock) as client:
            result = await client.launch(initial_values=VALUES)
    assert (result.session_id, result.link_id) == ("s-1", "4321")


async def test_when_launch_answers_200_without_id_then_unknown(clock: FakeClock) -> None:
    with aioresponses() as mocked:
        mocked.post(TOKEN_URL, payload=TOKEN_BODY)
        mocked.post(LAUNCH_URL, payload={"unexpected": True})
        async with mocked_client(clock) as client:
            with pytest.raises(ProviderError) as info:
                await client.launch(initial_values=VALUES)
    assert info.value.outcome is Outcome.UNKNOWN
    assert info.value.code == "pcipal_bad_response"


async def test_when_flow_not_found_in_plain_text_then_flow_not_found(clock: FakeClock) -> None:
    with aioresponses() as mocked:
        mocked.post(TOKEN_URL, payload=TOKEN_BODY)
        mocked.post(LAUNCH_URL, status=400, body="flow identifier not found")
        async with mocked_client(clock) as client:
            with pytest.raises(ProviderInvalidRequest) as info:
                await client.launch(initial_values=VALUES)
    assert info.value.code == "pcipal_flow_not_found"


async def test_when_token_rejected_even_fresh_then_auth_error(clock: FakeClock) -> None:
    with aioresponses() as mocked:
        mocked.post(TOKEN_URL, payload=TOKEN_BODY, repeat=True)
        mocked.post(LAUNCH_URL, status=401, repeat=True)
        async with mocked_client(clock) as client:
            with pytest.raises(ProviderAuthError) as info:
                await client.launch(initial_values=VALUES)
    assert info.value.code == "pcipal_unauthorized"


# --------------------------------------------------------------------------------------- small pieces


def test_repr_never_shows_the_client_secret() -> None:
    client = PciPalClient(BASE, "t", "1", "u", "cid", "s3cr3t-value", flow_id=1)
    assert "s3cr3t-value" not in repr(client)
    assert "s3cr3t-value" not in str(client)
    assert "s3cr3t-value" not in repr(Secret("s3cr3t-value"))
    assert Secret("s3cr3t-value").reveal() == "s3cr3t-value"


async def test_client_accepts_a_secret_wrapper(emulator: PciPalEmulator, clock: FakeClock) -> None:
    async with client_for(emulator, clock, client_secret=Secret("sandbox-client-secret")) as client:
        result = await client.launch(initial_values=VALUES)
    assert result.session_id in emulator.sessions


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ProviderUnavailable("x", provider="pcipal", outcome=Outcome.NOT_ATTEMPTED), True),
        (ProviderUnavailable("x", provider="pcipal", outcome=Outcome.UNKNOWN), False),
        (ProviderTimeout("x", provider="pcipal"), False),
        (ProviderInvalidRequest("x", provider="pcipal"), False),
        (ProviderAuthError("x", provider="pcipal"), False),
        (ProviderUnavailable("x", provider="pcipal", code="pcipal_circuit_open"), False),
        (ValueError("not a provider error"), False),
    ],
)
def test_should_retry(exc: BaseException, expected: bool) -> None:
    assert should_retry(exc) is expected


def test_view_url() -> None:
    client = PciPalClient(BASE, "t", "1000", "u", "cid", "s", flow_id=1)
    assert client.view_url("abc") == f"{BASE}/session/1000/view/abc/framed"


# --------------------------------------------------------------------------------- flow template: URLs


async def test_separate_token_launch_and_view_urls_are_used(emulator: PciPalEmulator, clock: FakeClock) -> None:
    assert emulator.base_url is not None
    # The base URL points nowhere: only the explicit URLs can work.
    async with client_for(
        emulator, clock, base_url="http://127.0.0.1:9",
        token_url=f"{emulator.base_url}/api/v1/token",
        launch_url=emulator.base_url + "/api/v1/session/{tenant_number}/launch",
        view_url="https://agent.example/session/{tenant_number}/view/{session_id}/framed",
    ) as client:
        launched = await client.launch(initial_values=VALUES)
        assert client.view_url(launched.session_id) == (
            f"https://agent.example/session/{emulator.tenant_number}/view/{launched.session_id}/framed")
    assert launched.session_id in emulator.sessions


async def test_with_the_refresh_grant_off_a_near_expiry_token_is_replaced_by_a_new_login(
    emulator: PciPalEmulator, clock: FakeClock
) -> None:
    async with client_for(emulator, clock, refresh_grant=False) as client:
        await client.launch(initial_values=VALUES)
        clock.advance(299 - 30 + 1)
        await client.launch(initial_values=VALUES)
    assert emulator.token_requests == ["client_credentials", "client_credentials"]
