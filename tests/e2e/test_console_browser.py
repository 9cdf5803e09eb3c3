"""The operator console in a real headless Chromium (Debian's ``chromium``, driven by Playwright's Python
package; ``.ci/run`` installs the browser; Playwright's own browser download is never used).

A scripted call in sandbox mode (verify the caller, refund, hand the call to a human) opens a case and
makes Stripe send a webhook. An operator logs in, finds the case, claims and resolves it, replays the
webhook, refunds part of another payment (confirmation page, then the bot's pipeline), verifies the audit
chain and logs out; a viewer then finds the same payments with no refund offered. ``UPDATE_CONSOLE_SCREENSHOTS=1`` also writes the
screenshots of the main pages to docs/console/ (the README shows them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from gateway.console.auth import create_operator
from gateway.demo import DemoStack
from tests.gateway.console.helpers import PASSWORD, TEST_N

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


async def _scripted_call(stack: DemoStack, call_id: str) -> str:
    seed = stack.stripe.seed_data or {}
    ada = seed.get("customers", {}).get("ada", {})
    email = str(ada.get("email", "ada@example.com"))
    status, body = await stack.action(
        "customers.verify",
        {"email": email, "postal_code": str(ada.get("postal_code", "SW1A 1AA")), "card_last4": "4242"},
        call_id=call_id,
    )
    assert status == 200 and body["ok"], body
    latest = seed["payments"]["ada_latest"]["payment_intent"]
    status, body = await stack.action("refunds.create", {"payment_id": latest}, call_id=call_id,
                                      idempotency_key=uuid.uuid4().hex)
    assert status == 200, body
    status, body = await stack.action(
        "escalations.create",
        {"reason": "other", "summary": "Caller wants to talk about the refund with a person."},
        call_id=call_id,
        idempotency_key=uuid.uuid4().hex,
    )
    assert status == 200, body
    return str(body["result"]["reference"])


async def test_console_in_headless_chromium(tmp_path: Path) -> None:
    if shutil.which("chromium") is None or not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required (apt-get install -y chromium; .ci/run does it)")
    shots = DOCS if os.environ.get("UPDATE_CONSOLE_SCREENSHOTS") == "1" else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    call_id = "call-" + uuid.uuid4().hex[:12]
    async with DemoStack(tmp_path / "var") as stack:
        reference = await _scripted_call(stack, call_id)
        store = stack.services.store
        event_id = None
        for _ in range(100):  # bounded wait for Stripe's webhook about the refund
            row = await store.fetchone("SELECT event_id FROM webhook_events WHERE tenant_id = 'sandbox' LIMIT 1")
            if row is not None:
                event_id = str(row["event_id"])
                break
            await asyncio.sleep(0.1)
        assert event_id is not None, "the refund produced no webhook event"
        for _ in range(100):  # and for the notification the refund's webhook produces
            if await store.fetchone("SELECT id FROM notifications WHERE kind LIKE 'refund.%'") is not None:
                break
            await asyncio.sleep(0.1)
        await create_operator(store, "casey", PASSWORD, {"sandbox": "admin"}, n=TEST_N)
        await create_operator(store, "vera", PASSWORD, {"sandbox": "viewer"}, n=TEST_N)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1100, "height": 720})
                console_errors: list[str] = []
                page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
                await page.goto(f"{stack.base_url}/console/cases")
                assert page.url.endswith("/console/login")
                await page.fill("#username", "casey")
                await page.fill("#password", "wrong password, twice over")
                await page.click("#login")
                assert "Wrong username or password" in await page.inner_text("#login-error")
                await page.screenshot(path=str(shots / "login.png"))
                await page.fill("#username", "casey")
                await page.fill("#password", PASSWORD)
                await page.click("#login")
                assert page.url.endswith("/console/cases")
                cookies = await page.context.cookies()
                session = next(c for c in cookies if c["name"] == "voicepay_console")
                assert session["httpOnly"] and session["sameSite"] == "Strict"
                assert reference in await page.inner_text("main")
                await page.screenshot(path=str(shots / "cases.png"))

                await page.click(f"text={reference}")
                assert await page.inner_text("#case-state") == "open"
                timeline = await page.inner_text("table.timeline")
                assert "customers.verify" in timeline and "refunds.create" in timeline
                assert "I've passed this to one of my colleagues" in timeline  # the say the caller heard
                assert "refund.succeeded" in await page.inner_text("table.notifications")
                await page.click("#claim")
                assert await page.inner_text("#case-state") == "claimed"
                await page.fill("#note-body", "Called the customer back; refund explained.")
                await page.click("#add-note")
                await page.click("#resolve")
                assert await page.inner_text("#case-state") == "resolved"
                await page.screenshot(path=str(shots / "case.png"))

                partly = (stack.stripe.seed_data or {})["payments"]["ada_partially_refunded"]["payment_intent"]
                await page.click("nav >> text=Payments")
                await page.select_option("#search-field", "email")
                await page.fill("#search-value", str((stack.stripe.seed_data or {})["customers"]["ada"]["email"]))
                await page.click("#search")
                latest = (stack.stripe.seed_data or {})["payments"]["ada_latest"]["payment_intent"]
                assert latest in await page.inner_text("table.payments")
                await page.screenshot(path=str(shots / "payments.png"))

                # A refund from the console: the confirmation page, then the bot's refunds.create pipeline.
                await page.click(f"form:has(input[name='payment_id'][value='{partly}']) button.refund-start")
                assert await page.inner_text("#refund-payment") == partly
                await page.fill("#refund-amount", "500")
                await page.check("#refund-confirm")
                await page.screenshot(path=str(shots / "refund.png"))
                await page.click("#refund-submit")
                done = await page.inner_text("#refund-done")
                assert "re_" in done and "£5" in done, done

                await page.click("nav >> text=Events")
                await page.click(f"form[action*='/webhook/{event_id}/replay'] button")
                assert event_id in await page.inner_text("#replay-result")
                await page.screenshot(path=str(shots / "events.png"))

                await page.click("nav >> text=Audit")
                await page.click("button.verify")
                assert "Chain sandbox verified:" in await page.inner_text("#verify-result")
                await page.screenshot(path=str(shots / "audit.png"))

                await page.click("#logout")
                assert page.url.endswith("/console/login")
                await page.goto(f"{stack.base_url}/console/cases")
                assert page.url.endswith("/console/login")  # the session is gone server-side
                # Nothing the CSP had to block (other console errors are the 401 of the wrong password and
                # the browser's own /favicon.ico request).
                assert [e for e in console_errors if "Content Security Policy" in e] == []

                # A viewer finds the same payments but is offered no refund.
                await page.fill("#username", "vera")
                await page.fill("#password", PASSWORD)
                await page.click("#login")
                await page.click("nav >> text=Payments")
                await page.fill("#search-value", str((stack.stripe.seed_data or {})["customers"]["ada"]["email"]))
                await page.click("#search")
                assert partly in await page.inner_text("table.payments")
                assert await page.locator("button.refund-start").count() == 0
            finally:
                await browser.close()
        actions = [r["action"] for r in await store.fetchall(
            "SELECT action FROM audit_log WHERE tenant_id = 'sandbox' AND action LIKE 'console.%' ORDER BY seq")]
        assert actions == ["console.login", "console.case.claim", "console.case.note", "console.case.resolve",
                           "console.payments.search", "console.refund", "console.webhook.replay",
                           "console.audit.verify", "console.logout", "console.login", "console.payments.search"]
        made = await store.fetchall("SELECT agent_key_id, outcome FROM audit_log WHERE action = 'refunds.create' "
                                    "AND agent_key_id LIKE 'operator:%'")
        assert [r["outcome"] for r in made] in (["SUCCEEDED"], ["PENDING"])
        assert len([r for r in stack.stripe.state.store.get("refund", {}).values()
                    if r.get("payment_intent") == partly]) == 2  # the seed's and the operator's
        state = await store.fetchone("SELECT state FROM console_cases WHERE reference = ?", reference)
        assert state is not None and state["state"] == "resolved"
    for name in ("login", "cases", "case", "payments", "refund", "events", "audit"):
        assert (shots / f"{name}.png").stat().st_size > 1000
