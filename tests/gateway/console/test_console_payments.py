"""Payment search from the console: the bot's payments.lookup through the same adapter, read-only, for every
role, scoped to the operator's tenants, audited, and never echoing what was typed."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from gateway.console.auth import create_operator
from gateway.demo import DemoStack
from tests.gateway.console.helpers import PASSWORD, TEST_N
from tests.security.cards import PUBLIC_TEST_PANS, find_leaks

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def test_viewer_searches_payments_read_only(tmp_path: Path) -> None:
    async with DemoStack(tmp_path / "var") as stack:
        seed = stack.stripe.seed_data or {}
        ada = seed["customers"]["ada"]
        latest = seed["payments"]["ada_latest"]["payment_intent"]
        store = stack.services.store
        await create_operator(store, "vera", PASSWORD, {"sandbox": "viewer"}, n=TEST_N)
        async with aiohttp.ClientSession(stack.base_url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.get("/console/login") as r:
                token = _CSRF.findall(await r.text())[0]
            async with http.post("/console/login", data={"csrf": token, "username": "vera", "password": PASSWORD}) as r:
                assert r.status == 200
                csrf = _CSRF.findall(await r.text())[0]

            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "sandbox", "field": "email",
                                                             "value": ada["email"]}) as r:
                assert r.status == 200
                html = await r.text()
            assert latest in html and 'id="search-say"' in html

            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "sandbox",
                                                             "field": "payment_id", "value": latest}) as r:
                assert r.status == 200 and latest in await r.text()

            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "sandbox", "field": "email",
                                                             "value": "nobody-here@example.com"}) as r:
                assert r.status == 404 and 'id="search-error"' in await r.text()

            pan = PUBLIC_TEST_PANS[0]
            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "sandbox", "field": "email",
                                                             "value": pan}) as r:
                html = await r.text()
                assert r.status == 400 and not find_leaks(html, [pan])

            async with http.post("/console/payments", data={"csrf": csrf, "tenant": "globex", "field": "email",
                                                             "value": ada["email"]}) as r:
                assert r.status == 404  # not one of the operator's tenants

            async with http.post("/console/payments", data={"tenant": "sandbox", "field": "email",
                                                             "value": ada["email"]}) as r:
                assert r.status == 403  # no CSRF token

        rows = await store.fetchall(
            "SELECT action, outcome, params FROM audit_log WHERE action = 'console.payments.search' ORDER BY seq")
        assert [r["outcome"] for r in rows] == ["SUCCEEDED", "SUCCEEDED", "REFUSED"]
        assert all('"operator":"vera"' in r["params"] for r in rows)
        # The viewer's searches changed nothing at Stripe: no refund was made.
        assert await store.fetchone("SELECT id FROM gateway_refunds") is None
