"""The MCP face end to end: the `mcp` SDK's own client over Streamable HTTP against the real gateway app at
/mcp, with the Stripe sandbox behind it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.e2e.conftest import Gateway, new_call_id
from tests.e2e.test_sandbox_mode import _free_port, _wait_for

MakeGateway = Callable[..., Awaitable[Gateway]]
STRIPE_VISA = "4242424242424242"


@contextlib.asynccontextmanager
async def mcp_session(gw: Gateway, key: str | None = None) -> AsyncIterator[ClientSession]:
    url = str(gw.client.make_url("/mcp"))
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key or gw.key}"})
    async with http, streamable_http_client(url, http_client=http) as (read, write), ClientSession(
        read, write
    ) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, name: str, args: dict[str, Any]) -> types.CallToolResult:
    result = await session.call_tool(name, args)
    assert isinstance(result, types.CallToolResult)
    return result


def refunds_on(gw: Gateway, payment_intent: str) -> list[dict[str, Any]]:
    return [r for r in gw.sandbox.state.store.get("refund", {}).values() if r["payment_intent"] == payment_intent]


async def test_tools_are_the_actions_the_key_may_call(gw: Gateway) -> None:
    async with mcp_session(gw) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    http = await gw.client.get("/v1/actions", headers={"Authorization": f"Bearer {gw.key}"})
    catalogue = {a["name"]: a for a in (await http.json())["actions"]}
    assert set(tools) == set(catalogue)
    lookup = tools["payments.lookup"]
    assert lookup.description == catalogue["payments.lookup"]["description"]
    assert set(catalogue["payments.lookup"]["params"]["properties"]) <= set(lookup.input_schema["properties"])
    assert "call_id" in lookup.input_schema["properties"]

    _, reader = await gw.services.keys.create("acme", ["payments:read"])
    async with mcp_session(gw, reader) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        assert "payments.lookup" in names and "refunds.create" not in names
        refused = await call(session, "refunds.create", {"email": "ada@example.com"})
        assert refused.is_error and refused.structured_content is not None
        assert refused.structured_content["error"]["code"] == "forbidden"


async def test_bad_or_missing_key_is_refused_before_the_sdk(gw: Gateway) -> None:
    url = str(gw.client.make_url("/mcp"))
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}}
    async with httpx2.AsyncClient() as http:
        for headers in ({}, {"Authorization": "Bearer vpk_000000000000_" + "a" * 43}):
            resp = await http.post(url, json=init, headers={**headers, "Accept": "application/json, text/event-stream"})
            assert resp.status_code == 401
            assert resp.json()["error"]["code"] == "unauthorized"


async def test_lookup_answers_as_the_http_api(gw: Gateway) -> None:
    status, http_body = await gw.call("payments.lookup", {"email": "ada@example.com"})
    assert status == 200
    async with mcp_session(gw) as session:
        result = await call(session, "payments.lookup", {"email": "ada@example.com"})
    assert not result.is_error
    assert result.structured_content == http_body["result"]
    assert [c.text for c in result.content if isinstance(c, types.TextContent)] == [http_body["say"]]


async def test_refund_in_one_session_replays_and_refunds_once(gw: Gateway) -> None:
    ada = gw.seed["customers"]["ada"]
    pi = gw.seed["payments"]["ada_latest"]["payment_intent"]
    async with mcp_session(gw) as session:
        # The session is the call: verification and refund share its call id.
        verified = await call(session, "customers.verify",
                              {"email": ada["email"], "postal_code": "sw1a 1aa", "card_last4": "4242"})
        assert not verified.is_error and verified.structured_content["verified"] is True  # type: ignore[index]
        first = await call(session, "refunds.create", {"email": "ada@example.com"})
        assert not first.is_error, first
        before = len(gw.sandbox.request_log)
        again = await call(session, "refunds.create", {"email": "ada@example.com"})
        assert again.structured_content == first.structured_content
        assert again.meta == {"voicepay/replayed": True}
        assert gw.stripe_requests(before) == []  # a replay: no provider call at all
    assert first.structured_content is not None and first.structured_content["payment_id"] == pi
    assert [c.text for c in first.content if isinstance(c, types.TextContent)] == [
        "I've refunded 12.99 British pounds to your Visa ending 4 2 4 2. The money should be back within 5 to 10 "
        "business days."
    ]
    assert len(refunds_on(gw, pi)) == 1
    audit = await gw.services.store.fetchall(
        "SELECT action, call_id, outcome FROM audit_log WHERE action = ? ORDER BY id", "refunds.create"
    )
    assert len({row["call_id"] for row in audit}) == 1 and audit[0]["call_id"].startswith("mcp:")


async def test_refund_with_a_call_id_argument_matches_http_and_is_one_refund(gw: Gateway) -> None:
    """The HTTP API and MCP with the same call id: the MCP call replays the HTTP one."""
    ada = gw.seed["customers"]["ada"]
    pi = gw.seed["payments"]["ada_latest"]["payment_intent"]
    call_id = new_call_id()
    status, _ = await gw.call("customers.verify", {"email": ada["email"], "postal_code": "sw1a 1aa",
                                                   "card_last4": "4242"}, call_id=call_id)
    assert status == 200
    status, http_body = await gw.call("refunds.create", {"email": "ada@example.com"}, call_id=call_id)
    assert status == 200
    async with mcp_session(gw) as session:
        result = await call(session, "refunds.create", {"email": "ada@example.com", "call_id": call_id})
    assert result.structured_content == http_body["result"]
    assert [c.text for c in result.content if isinstance(c, types.TextContent)] == [http_body["say"]]
    assert len(refunds_on(gw, pi)) == 1


async def test_card_data_in_arguments_is_refused_before_any_provider_call(gw: Gateway) -> None:
    before = len(gw.sandbox.request_log)
    async with mcp_session(gw) as session:
        for args in ({"email": f"{STRIPE_VISA}@example.com"},
                     {"email": "ada@example.com", "call_id": "4242-4242-4242-4242"},
                     {"email": "ada@example.com", "note": "card four two four two four two four two four two "
                      "four two four two four two"}):
            result = await call(session, "payments.lookup", args)
            assert result.is_error and result.structured_content is not None
            assert result.structured_content["error"]["code"] == "card_data_not_accepted", args
            assert STRIPE_VISA not in json.dumps(result.model_dump(mode="json"))
    assert gw.stripe_requests(before) == []


async def test_invalid_params_and_unknown_tool_are_tool_errors(gw: Gateway) -> None:
    async with mcp_session(gw) as session:
        bad = await call(session, "payments.lookup", {"email": "ada@example.com", "phone": 5, "extra": 1})
        assert bad.is_error and bad.structured_content["error"]["code"] == "validation_failed"  # type: ignore[index]
        unknown = await call(session, "payments.nothing", {})
        assert unknown.is_error and unknown.structured_content["error"]["code"] == "unknown_action"  # type: ignore[index]


async def test_audit_has_every_mcp_call(gw: Gateway) -> None:
    async with mcp_session(gw) as session:
        await call(session, "payments.lookup", {"email": "ada@example.com"})
    rows = await gw.services.store.fetchall("SELECT action, outcome, agent_key_id FROM audit_log")
    assert [r["action"] for r in rows] == ["payments.lookup"]


async def test_sandbox_mode_serves_mcp_at_the_url_in_sandbox_json(tmp_path: Path) -> None:
    """`voicepay serve --sandbox`: mcp_url in var/sandbox.json, the dev key lists and calls tools over it, it
    may use the scrubbing service, and the process still stops cleanly (exit 0) on SIGTERM."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPAY_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--sandbox", "--port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        state = await _wait_for(tmp_path / "var" / "sandbox.json", proc)
        assert state["mcp_url"] == f"http://127.0.0.1:{port}/mcp"
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {state['agent_key']}"})
        async with http, streamable_http_client(state["mcp_url"], http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"gateway.ping", "payments.lookup", "refunds.create"} <= names
            ping = await session.call_tool("gateway.ping", {})
            assert isinstance(ping, types.CallToolResult) and not ping.is_error
            assert ping.structured_content is not None and ping.structured_content["tenant"] == "sandbox"
        async with httpx2.AsyncClient() as client:
            resp = await client.post(state["redact_url"], json={"text": "card 4242 4242 4242 4242"},
                                     headers={"Authorization": f"Bearer {state['agent_key']}"})
            assert resp.status_code == 200 and "4242 4242" not in resp.json()["text"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.communicate(), 20)
        except TimeoutError:
            proc.kill()
            raise
    assert proc.returncode == 0


async def test_a_session_belongs_to_the_key_that_opened_it(gw: Gateway) -> None:
    _, other = await gw.services.keys.create("acme", ["payments:read"])
    url = str(gw.client.make_url("/mcp"))
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    async with httpx2.AsyncClient() as http:
        opened = await http.post(url, json=init, headers={**headers, "Authorization": f"Bearer {gw.key}"})
        assert opened.status_code == 200
        sid = opened.headers["mcp-session-id"]
        session = {**headers, "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18"}
        await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                        headers={**session, "Authorization": f"Bearer {gw.key}"})
        mine = await http.post(url, json=listing, headers={**session, "Authorization": f"Bearer {gw.key}"})
        assert mine.status_code == 200 and "payments.lookup" in mine.text
        theirs = await http.post(url, json=listing, headers={**session, "Authorization": f"Bearer {other}"})
        assert theirs.status_code == 404
