"""Refunds from the console: the bot's refunds.create pipeline (policy, idempotency, audit) for an operator with
role agent or admin; a double submit makes one refund at the Stripe sandbox; a viewer cannot refund."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from gateway.console.auth import create_operator
from gateway.demo import DemoStack
from tests.gateway.console.helpers import PASSWORD, TEST_N, Client, add_case, add_operator, csrf_from, login

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_OP_KEY = re.compile(r'name="op_key" value="([^"]+)"')


async def _login(http: aiohttp.ClientSession, username: str) -> str:
    async with http.get("/console/login") as r:
        token = _CSRF.findall(await r.text())[0]
    async with http.post("/console/login", data={"csrf": token, "username": username, "password": PASSWORD}) as r:
        assert r.status == 200
        return _CSRF.findall(await r.text())[0]


def _session(stack: DemoStack) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(stack.base_url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 timeout=aiohttp.ClientTimeout(total=60))


async def _confirm(http: aiohttp.ClientSession, csrf: str, tenant: str, pi: str) -> tuple[int, str]:
    async with http.post("/console/refunds/confirm", data={"csrf": csrf, "tenant": tenant, "payment_id": pi}) as r:
        return r.status, await r.text()


async def _refund(http: aiohttp.ClientSession, form: dict[str, str]) -> tuple[int, str]:
    async with http.post("/console/refunds", data=form) as r:
        return r.status, await r.text()


async def _refund_posts(stack: DemoStack) -> list[Any]:
    return [r for r in stack.stripe.request_log if r.method == "POST" and r.path == "/v1/refunds"]


def _refunds_for(stack: DemoStack, pi: str) -> list[dict[str, Any]]:
    return [r for r in stack.stripe.state.store.get("refund", {}).values() if r.get("payment_intent") == pi]


async def test_agent_refunds_once_on_double_submit(tmp_path: Path) -> None:
    async with DemoStack(tmp_path / "var") as stack:
        seed = stack.stripe.seed_data or {}
        pi = seed["payments"]["ada_latest"]["payment_intent"]
        store = stack.services.store
        op_id = await create_operator(store, "alex", PASSWORD, {"sandbox": "agent"}, n=TEST_N)
        before = len(await _refund_posts(stack))
        async with _session(stack) as http:
            csrf = await _login(http, "alex")
            # The payment search offers the refund to an agent.
            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "sandbox", "field": "payment_id",
                                                             "value": pi}) as r:
                assert r.status == 200 and "/console/refunds/confirm" in await r.text()
            status, page = await _confirm(http, csrf, "sandbox", pi)
            assert status == 200 and 'id="refund-confirm"' in page and pi in page
            op_key = _OP_KEY.findall(page)[0]
            form = {"csrf": csrf, "tenant": "sandbox", "payment_id": pi, "op_key": op_key, "amount": "",
                    "reason": "requested_by_customer", "confirm": "yes"}
            # Not ticked: nothing happens.
            status, page = await _refund(http, {k: v for k, v in form.items() if k != "confirm"})
            assert status == 400
            # No CSRF token: refused.
            status, _ = await _refund(http, {k: v for k, v in form.items() if k != "csrf"})
            assert status == 403
            assert len(await _refund_posts(stack)) == before

            # A double submit of one confirmation form, at once and then again: one refund.
            (s1, p1), (s2, p2) = await asyncio.gather(_refund(http, form), _refund(http, form))
            s3, p3 = await _refund(http, form)
            # The second of two simultaneous submits either waits for the first's answer or is told it is in
            # flight (the pipeline's request_in_progress); never a second refund.
            assert sorted([s1, s2]) in ([200, 200], [200, 409]) and s3 == 200, (p1, p2, p3)
            assert all('id="refund-pending"' in p for s, p in ((s1, p1), (s2, p2)) if s == 409)
            done = re.compile(r'id="refund-done">Refund (re_[A-Za-z0-9]+)')
            ids = {m for p in (p1, p2, p3) for m in done.findall(p)}
            assert len(ids) == 1
            assert "already sent" in p3
        refunds = _refunds_for(stack, pi)
        assert [r["id"] for r in refunds] == list(ids)
        assert refunds[0]["amount"] == seed["payments"]["ada_latest"]["amount"]

        # The pipeline's own audit row names the operator's identity; the console's names the operator.
        made = await store.fetchall("SELECT agent_key_id, outcome FROM audit_log WHERE action = 'refunds.create'")
        assert [(r["agent_key_id"], r["outcome"]) for r in made] in (
            [(f"operator:{op_id}", "SUCCEEDED")], [(f"operator:{op_id}", "PENDING")])
        console = await store.fetchall("SELECT params, outcome FROM audit_log WHERE action = 'console.refund'")
        assert len(console) == 3 and {r["outcome"] for r in console} <= {"SUCCEEDED", "PENDING"}
        params = [json.loads(r["params"]) for r in console]
        assert all(p["operator"] == "alex" and p["payment_id"] == pi for p in params)
        assert all(p["refund_id"] in ids for p, r in zip(params, console, strict=True) if r["outcome"] == "SUCCEEDED")
        assert [p["replayed"] for p in params].count(False) == 1 + [r["outcome"] for r in console].count("PENDING")


async def test_viewer_cannot_refund_and_other_tenant_sees_nothing(tmp_path: Path) -> None:
    async with DemoStack(tmp_path / "var") as stack:
        seed = stack.stripe.seed_data or {}
        pi = seed["payments"]["ada_latest"]["payment_intent"]
        store = stack.services.store
        await create_operator(store, "vera", PASSWORD, {"sandbox": "viewer"}, n=TEST_N)
        # An operator of another tenant (known to the store only: it has no Stripe account here).
        await store.execute("INSERT INTO tenants (id, name, created_at) VALUES ('globex', 'Globex', 0)")
        await create_operator(store, "otto", PASSWORD, {"globex": "admin"}, n=TEST_N)
        before = len(await _refund_posts(stack))
        form = {"tenant": "sandbox", "payment_id": pi, "op_key": "k" * 32, "reason": "requested_by_customer",
                "confirm": "yes"}
        async with _session(stack) as http:
            csrf = await _login(http, "vera")
            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "sandbox", "field": "payment_id",
                                                             "value": pi}) as r:
                html = await r.text()
                assert r.status == 200 and pi in html and "/console/refunds/confirm" not in html
            status, _ = await _confirm(http, csrf, "sandbox", pi)
            assert status == 403
            status, _ = await _refund(http, {"csrf": csrf, **form})
            assert status == 403
        async with _session(stack) as http:
            csrf = await _login(http, "otto")
            status, page = await _confirm(http, csrf, "sandbox", pi)
            assert status == 404 and pi not in page
            status, _ = await _refund(http, {"csrf": csrf, **form})
            assert status == 404
        assert _refunds_for(stack, pi) == []
        assert len(await _refund_posts(stack)) == before
        assert await store.fetchone("SELECT id FROM gateway_refunds") is None
        assert await store.fetchone("SELECT seq FROM audit_log WHERE action IN ('refunds.create', 'console.refund')") \
            is None


async def test_policy_refusals_are_shown(tmp_path: Path) -> None:
    async with DemoStack(tmp_path / "var") as stack:
        seed = stack.stripe.seed_data or {}
        latest = seed["payments"]["ada_latest"]
        declined = seed["payments"]["ada_declined"]["payment_intent"]
        disputed = seed["payments"]["grace_disputed"]["payment_intent"]
        partly = seed["payments"]["ada_partially_refunded"]["payment_intent"]
        oldest = seed["payments"]["ada_succeeded"]["payment_intent"]
        store = stack.services.store
        await create_operator(store, "adam", PASSWORD, {"sandbox": "admin"}, n=TEST_N)
        before = len(await _refund_posts(stack))
        async with _session(stack) as http:
            csrf = await _login(http, "adam")
            base = {"csrf": csrf, "tenant": "sandbox", "reason": "requested_by_customer", "confirm": "yes"}
            # More than is refundable.
            status, page = await _refund(http, {**base, "payment_id": latest["payment_intent"], "op_key": "a" * 32,
                                                 "amount": str(latest["amount"] + 1)})
            assert status == 422 or status == 409 or status == 400, status
            assert 'id="refund-refused"' in page and "at most" in page
            # A payment that did not go through.
            status, page = await _refund(http, {**base, "payment_id": declined, "op_key": "b" * 32})
            assert status >= 400 and 'id="refund-refused"' in page and "didn&#39;t go through" in page
            # A bad amount never reaches the pipeline.
            status, _ = await _refund(http, {**base, "payment_id": declined, "op_key": "c" * 32, "amount": "-5"})
            assert status == 400
            assert len(await _refund_posts(stack)) == before
            # A disputed payment is handed to a human, as for the bot.
            status, page = await _refund(http, {**base, "payment_id": disputed, "op_key": "d" * 32})
            assert status >= 400 and 'id="refund-refused"' in page and "ESC-" in page
            # The per-customer limit (2 in the period) holds for operators too: two refunds, the third refused.
            for key, pi in (("e", latest["payment_intent"]), ("f", partly)):
                status, page = await _refund(http, {**base, "payment_id": pi, "op_key": key * 32, "amount": "100"})
                assert status == 200 and 'id="refund-done"' in page, page
            status, page = await _refund(http, {**base, "payment_id": oldest, "op_key": "g" * 32, "amount": "100"})
            assert status >= 400 and "already had 2 refunds" in page
        assert len(await _refund_posts(stack)) == before + 2
        outcomes = await store.fetchall(
            "SELECT outcome FROM audit_log WHERE action = 'refunds.create' ORDER BY seq")
        assert [r["outcome"] for r in outcomes][:3] == ["REFUSED", "REFUSED", "REFUSED"]
        assert [r["outcome"] for r in outcomes][-1] == "REFUSED" and len(outcomes) == 6
        shown = await store.fetchall("SELECT outcome, params FROM audit_log WHERE action = 'console.refund'")
        assert [r["outcome"] for r in shown][:3] == ["REFUSED", "REFUSED", "REFUSED"]
        assert all('"operator":"adam"' in r["params"] for r in shown)


async def test_case_page_offers_refund_of_its_payments_to_agents_only(console: Client) -> None:
    await add_case(console, "acme", "ESC-RFND", "call-rfnd")
    await add_operator(console, "agnes", {"acme": "agent"})
    await add_operator(console, "viv", {"acme": "viewer"})
    assert (await login(console, "agnes")).status == 303
    html = await (await console.get("/console/cases/acme/ESC-RFND")).text()
    assert 'action="/console/refunds/confirm"' in html and 'name="payment_id" value="pi_test1"' in html
    await console.post("/console/logout", data={"csrf": csrf_from(html)})
    assert (await login(console, "viv")).status == 303
    html = await (await console.get("/console/cases/acme/ESC-RFND")).text()
    assert "pi_test1" in html and "/console/refunds/confirm" not in html
