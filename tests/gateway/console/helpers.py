"""Console test helpers: operators with a cheap scrypt cost, cases, and a logged-in client."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.audit import AuditEntry, record
from gateway.console.auth import Role, create_operator
from gateway.store import Store

Client = TestClient[Any, Any]
PASSWORD = "correct horse battery staple"
#: scrypt at 2**10 keeps the tests quick; production hashes use SCRYPT_N (the cost is stored per hash).
TEST_N = 2**10

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def store_of(client: Client) -> Store:
    from gateway.services import SERVICES

    return client.server.app[SERVICES].store


async def add_operator(client: Client, username: str, grants: dict[str, Role]) -> str:
    return await create_operator(store_of(client), username, PASSWORD, grants, n=TEST_N)


async def add_case(client: Client, tenant: str, reference: str, call_id: str, summary: str = "Caller disputes a charge") -> None:
    store = store_of(client)
    await store.execute(
        "INSERT INTO escalations (tenant_id, reference, source_key, call_id, customer_id, payment_ids, reason, "
        "summary, delivery_state, delivery_attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'none', 0, ?)",
        tenant, reference, f"src-{reference}", call_id, "cus_test1", json.dumps(["pi_test1"]), "dispute",
        summary, time.time(),
    )
    await record(store, AuditEntry(tenant_id=tenant, action="escalations.create", params={"reason": "dispute"},
                                   outcome="ok", request_id="req_test", call_id=call_id,
                                   provider_ids={"escalation": reference}))


def csrf_from(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no CSRF field in the page"
    return m.group(1)


async def login(client: Client, username: str, password: str = PASSWORD) -> Any:
    page = await client.get("/console/login")
    assert page.status == 200
    token = csrf_from(await page.text())
    return await client.post("/console/login", data={"csrf": token, "username": username, "password": password},
                             allow_redirects=False)


async def page_csrf(client: Client, path: str) -> str:
    resp = await client.get(path)
    assert resp.status == 200, (path, resp.status)
    return csrf_from(await resp.text())
