"""Console login, sessions, CSRF, roles and tenant isolation (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.audit import verify
from gateway.console.auth import hash_password, verify_password
from gateway.settings import build_settings
from tests.gateway.console.helpers import (
    PASSWORD,
    Client,
    add_case,
    add_operator,
    login,
    page_csrf,
    store_of,
)


async def _case_state(client: Client, tenant: str, ref: str) -> str | None:
    row = await store_of(client).fetchone(
        "SELECT state FROM console_cases WHERE tenant_id = ? AND reference = ?", tenant, ref
    )
    return None if row is None else str(row["state"])


def test_password_hash_is_scrypt_salted_and_verifies() -> None:
    a, b = hash_password("s3cret-passphrase", n=2**10), hash_password("s3cret-passphrase", n=2**10)
    assert a.startswith("scrypt$1024$8$1$") and a != b  # per-user salt
    assert verify_password("s3cret-passphrase", a)
    assert not verify_password("s3cret-passphrasE", a)
    assert not verify_password("s3cret-passphrase", "garbage")


def test_console_is_off_by_default_and_on_in_sandbox() -> None:
    from gateway.sandbox import sandbox_settings

    assert build_settings({}, environ={}).console.enabled is False
    sb = sandbox_settings(var_dir="/tmp/x", stripe_base_url="http://127.0.0.1:9", webhook_secret="whsec_x",
                          pcipal=None, public_base_url="http://127.0.0.1:1")
    assert sb.console.enabled is True


async def test_console_absent_when_disabled(sqlite_url: str, make_client: Any) -> None:
    client = await make_client(sqlite_url)
    resp = await client.get("/console/login")
    assert resp.status == 404


async def test_login_session_cookie_headers_and_logout(console: Client) -> None:
    await add_operator(console, "alice", {"acme": "agent"})
    resp = await console.get("/console/cases", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login"

    resp = await login(console, "alice")
    assert resp.status == 303 and resp.headers["Location"] == "/console/cases"
    cookie = resp.headers.getall("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("voicepay_console="))
    assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie and "Max-Age=" in session_cookie

    page = await console.get("/console/cases")
    assert page.status == 200
    html = await page.text()
    assert "alice" in html and "<script" not in html.lower()
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"

    token = await page_csrf(console, "/console/cases")
    out = await console.post("/console/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 303
    again = await console.get("/console/cases", allow_redirects=False)
    assert again.status == 303  # the server-side session is gone, not just the cookie
    assert await store_of(console).fetchone("SELECT * FROM console_sessions") is None


async def test_wrong_password_and_attempt_limit(console: Client) -> None:
    await add_operator(console, "bob", {"acme": "viewer"})
    for _ in range(5):
        resp = await login(console, "bob", "wrong password!!")
        assert resp.status == 401
        assert "Wrong username or password" in await resp.text()
    # Over the limit even the right password is refused, without being checked.
    resp = await login(console, "bob", PASSWORD)
    assert resp.status == 429
    assert await store_of(console).fetchone("SELECT * FROM console_sessions") is None


async def test_attempt_limit_per_client_address(sqlite_url: str, make_client: Any) -> None:
    client = await make_client(sqlite_url, console={"enabled": True, "secure_cookie": False,
                                                    "login_attempts_per_address": 3})
    await add_operator(client, "carol", {"acme": "viewer"})
    for name in ("mallory1", "mallory2", "mallory3"):
        assert (await login(client, name)).status == 401
    # A fourth username from the same address: refused before any password is checked.
    assert (await login(client, "carol")).status == 429


async def test_unknown_user_is_refused_like_a_wrong_password(console: Client) -> None:
    resp = await login(console, "nobody")
    assert resp.status == 401
    assert "Wrong username or password" in await resp.text()


async def test_posts_without_csrf_are_refused(console: Client) -> None:
    await add_operator(console, "alice", {"acme": "agent"})
    await add_case(console, "acme", "ESC-AAAA", "call-1")
    # The login form itself: no token (or a token without its cookie) is refused.
    resp = await console.post("/console/login", data={"username": "alice", "password": PASSWORD},
                              allow_redirects=False)
    assert resp.status == 403
    assert (await login(console, "alice")).status == 303
    for data in ({}, {"csrf": "forged"}):
        resp = await console.post("/console/cases/acme/ESC-AAAA/claim", data=data, allow_redirects=False)
        assert resp.status == 403
    assert await _case_state(console, "acme", "ESC-AAAA") is None
    # A cross-site origin is refused even with a valid token.
    token = await page_csrf(console, "/console/cases/acme/ESC-AAAA")
    resp = await console.post("/console/cases/acme/ESC-AAAA/claim", data={"csrf": token},
                              headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert resp.status == 403
    assert await _case_state(console, "acme", "ESC-AAAA") is None
    # The console's own origin (either scheme: a TLS proxy may sit in front) is accepted.
    own = f"https://{console.server.host}:{console.server.port}"
    resp = await console.post("/console/cases/acme/ESC-AAAA/claim", data={"csrf": token},
                              headers={"Origin": own}, allow_redirects=False)
    assert resp.status == 303
    assert await _case_state(console, "acme", "ESC-AAAA") == "claimed"


async def test_expired_session_is_refused(console: Client) -> None:
    await add_operator(console, "alice", {"acme": "agent"})
    await add_case(console, "acme", "ESC-BBBB", "call-2")
    assert (await login(console, "alice")).status == 303
    token = await page_csrf(console, "/console/cases/acme/ESC-BBBB")
    await store_of(console).execute("UPDATE console_sessions SET expires_at = ?", time.time() - 1)
    resp = await console.get("/console/cases", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login"
    resp = await console.post("/console/cases/acme/ESC-BBBB/claim", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 401
    assert await _case_state(console, "acme", "ESC-BBBB") is None


async def test_claim_note_resolve_are_audited_in_the_chain(console: Client) -> None:
    await add_operator(console, "alice", {"acme": "agent"})
    await add_case(console, "acme", "ESC-CCCC", "call-3")
    assert (await login(console, "alice")).status == 303
    path = "/console/cases/acme/ESC-CCCC"
    token = await page_csrf(console, path)
    assert (await console.post(f"{path}/claim", data={"csrf": token}, allow_redirects=False)).status == 303
    assert await _case_state(console, "acme", "ESC-CCCC") == "claimed"
    # A second claim is a conflict, not a silent overwrite.
    assert (await console.post(f"{path}/claim", data={"csrf": token}, allow_redirects=False)).status == 409
    resp = await console.post(f"{path}/note", data={"csrf": token, "body": "Called back <b>ok</b>"},
                              allow_redirects=False)
    assert resp.status == 303
    assert (await console.post(f"{path}/resolve", data={"csrf": token}, allow_redirects=False)).status == 303
    assert await _case_state(console, "acme", "ESC-CCCC") == "resolved"

    html = await (await console.get(path)).text()
    assert "Called back &lt;b&gt;ok&lt;/b&gt;" in html  # autoescaped
    for action in ("escalations.create", "console.case.claim", "console.case.note", "console.case.resolve"):
        assert action in html  # the call's timeline, operator actions included

    store = store_of(console)
    rows = await store.fetchall("SELECT action, params FROM audit_log WHERE tenant_id = 'acme' ORDER BY seq")
    actions = [r["action"] for r in rows]
    assert actions == ["escalations.create", "console.login", "console.case.claim", "console.case.note",
                       "console.case.resolve"]
    assert all('"operator":"alice"' in r["params"] for r in rows[1:])
    checked, problems = await verify(store, "acme")
    assert checked == 5 and problems == []


@pytest.mark.parametrize("what", ["claim", "note", "resolve"])
async def test_viewer_cannot_act(console: Client, what: str) -> None:
    await add_operator(console, "vera", {"acme": "viewer"})
    await add_case(console, "acme", "ESC-DDDD", "call-4")
    assert (await login(console, "vera")).status == 303
    path = "/console/cases/acme/ESC-DDDD"
    page = await console.get(path)
    html = await page.text()
    assert page.status == 200 and 'id="claim"' not in html  # no buttons for a viewer
    token = await page_csrf(console, "/console/cases")
    resp = await console.post(f"{path}/{what}", data={"csrf": token, "body": "x"}, allow_redirects=False)
    assert resp.status == 403
    assert await _case_state(console, "acme", "ESC-DDDD") is None
    assert await store_of(console).fetchone("SELECT * FROM console_case_notes") is None


async def test_only_admin_verifies_the_chain(console: Client) -> None:
    await add_operator(console, "alice", {"acme": "agent"})
    await add_operator(console, "root", {"acme": "admin"})
    await add_case(console, "acme", "ESC-EEEE", "call-5")
    assert (await login(console, "alice")).status == 303
    token = await page_csrf(console, "/console/audit")
    assert (await console.post("/console/audit/acme/verify", data={"csrf": token},
                               allow_redirects=False)).status == 403
    console.session.cookie_jar.clear()
    assert (await login(console, "root")).status == 303
    token = await page_csrf(console, "/console/audit")
    resp = await console.post("/console/audit/acme/verify", data={"csrf": token})
    assert resp.status == 200
    html = await resp.text()
    assert "Chain acme verified: 3 entries checked, intact." in html
    # Tampering shows on the page, and the verify itself is audited with its result.
    await store_of(console).execute("UPDATE audit_log SET outcome = 'EDITED' WHERE tenant_id = 'acme' AND seq = 1")
    resp = await console.post("/console/audit/acme/verify", data={"csrf": token})
    assert "Chain acme is BROKEN: 1 problem(s) in 4 entries" in await resp.text()
    rows = await store_of(console).fetchall(
        "SELECT outcome FROM audit_log WHERE tenant_id = 'acme' AND action = 'console.audit.verify' ORDER BY seq")
    assert [r["outcome"] for r in rows] == ["SUCCEEDED", "FAILED"]


async def test_tenant_isolation(console: Client) -> None:
    await add_operator(console, "alice", {"acme": "admin"})
    await add_case(console, "acme", "ESC-ACME", "call-a", summary="acme's case")
    await add_case(console, "globex", "ESC-GLBX", "call-g", summary="globex's secret case")
    assert (await login(console, "alice")).status == 303
    for path in ("/console/cases", "/console/cases?state=open", "/console/audit", "/console/events",
                 "/console/audit?verified=globex:ok:1:0"):  # a crafted link shows nothing about another tenant
        html = await (await console.get(path)).text()
        assert "ESC-GLBX" not in html and "globex" not in html.lower(), path
    assert "ESC-ACME" in await (await console.get("/console/cases")).text()
    assert (await console.get("/console/cases/globex/ESC-GLBX")).status == 404
    token = await page_csrf(console, "/console/cases")
    for what in ("claim", "resolve", "note"):
        resp = await console.post(f"/console/cases/globex/ESC-GLBX/{what}", data={"csrf": token, "body": "x"},
                                  allow_redirects=False)
        assert resp.status == 404
    assert (await console.post("/console/audit/globex/verify", data={"csrf": token},
                               allow_redirects=False)).status == 404
    assert await _case_state(console, "globex", "ESC-GLBX") is None
    rows = await store_of(console).fetchall("SELECT action FROM audit_log WHERE tenant_id = 'globex'")
    assert [r["action"] for r in rows] == ["escalations.create"]


async def test_attempt_counter_is_atomic_and_windowed(console: Client) -> None:
    import asyncio

    from gateway.console.auth import count_attempt

    store = store_of(console)
    counts = await asyncio.gather(*(count_attempt(store, "user:eve", 60, now=1000.0) for _ in range(10)))
    assert sorted(counts) == list(range(1, 11))  # no two concurrent attempts saw the same count
    assert await count_attempt(store, "user:eve", 60, now=1061.0) == 1  # a new window starts over
    await count_attempt(store, "user:old", 60, now=1000.0)
    await count_attempt(store, "user:eve", 60, now=1200.0)
    assert await store.fetchone("SELECT * FROM console_login_attempts WHERE attempt_key = 'user:old'") is None
