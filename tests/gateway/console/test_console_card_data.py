"""No card data on any console page, after a scripted call that tried to put card numbers everywhere.

The call runs against sandbox mode (the Stripe sandbox, the PCI Pal emulator, the real gateway app, on
127.0.0.1): card numbers in action params (summary, email, card_last4, a param key), in the X-Call-Id and
Idempotency-Key headers; then an operator logs in, adds a note with a card number in it, claims and
resolves the case, and every console page is fetched and scanned for more than the last four digits.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import aiohttp

from gateway.console.auth import create_operator
from gateway.demo import DemoStack
from tests.gateway.console.helpers import PASSWORD, TEST_N
from tests.security.cards import PUBLIC_TEST_PANS, find_leaks, luhn_check_digit, spellings

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_CASE = re.compile(r'href="(/console/cases/sandbox/ESC-[^"]+)"')


def _synthetic_pan() -> str:
    body = "4" + "".join(str(uuid.uuid4().int % 10 ** 14).zfill(14))
    return body + luhn_check_digit(body)


async def test_console_pages_hold_no_card_data(tmp_path: Path) -> None:
    pans = [PUBLIC_TEST_PANS[0], PUBLIC_TEST_PANS[4], _synthetic_pan()]
    visa, amex, synthetic = pans
    call_id = "call-" + uuid.uuid4().hex[:12]
    async with DemoStack(tmp_path / "var") as stack:
        status, body = await stack.action(
            "escalations.create",
            {"reason": "other", "summary": f"Caller read out {spellings(visa)['spaced']} and {amex}, wants a person."},
            call_id=call_id,
        )
        refused_or_redacted = status
        # Whatever the gate decided, a clean case exists for the same call.
        status, body = await stack.action(
            "escalations.create", {"reason": "other", "summary": "The caller asked for a person."}, call_id=call_id
        )
        assert status == 200, body
        await stack.action("payments.lookup", {"email": f"{synthetic}@example.com"}, call_id=call_id)
        await stack.action("customers.verify", {"email": "ada@example.com", "postal_code": "SW1A 1AA",
                                                "card_last4": spellings(synthetic)["dashed"]}, call_id=call_id)
        await stack.action("payments.lookup", {visa: "x", "email": "ada@example.com"}, call_id=call_id)
        await stack.action("gateway.ping", {}, call_id=f"call-{visa}")
        await stack.action("gateway.ping", {}, call_id=call_id, idempotency_key=f"idem-{amex}")

        await create_operator(stack.services.store, "casey", PASSWORD, {"sandbox": "admin"}, n=TEST_N)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(stack.base_url, cookie_jar=jar,
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.get("/console/login") as r:
                token = _CSRF.findall(await r.text())[0]
            async with http.post("/console/login", data={"csrf": token, "username": "casey",
                                                         "password": PASSWORD}) as r:
                assert r.status == 200 and str(r.url).endswith("/console/cases")
                cases_html = await r.text()
                csrf = _CSRF.findall(cases_html)[0]
            case_paths = sorted(set(_CASE.findall(cases_html)))
            assert case_paths, "the scripted call's case is listed"
            for path in case_paths:
                for what, extra in (("note", {"body": f"Caller repeated {spellings(visa)['dotted']} to me"}),
                                    ("claim", {}), ("note", {"body": f"card {synthetic} exp 12/30 cvv 123"}),
                                    ("resolve", {})):
                    async with http.post(f"{path}/{what}", data={"csrf": csrf, **extra}) as r:
                        assert r.status == 200, (path, what, r.status)
            pages = ["/console/cases?state=open", "/console/cases?state=claimed", "/console/cases?state=resolved",
                     "/console/audit", "/console/events", *case_paths]
            async with http.post("/console/audit/sandbox/verify", data={"csrf": csrf}) as r:
                pages_seen = {str(r.url.path_qs): await r.text()}
            for path in pages:
                async with http.get(path) as r:
                    assert r.status == 200, path
                    pages_seen[path] = await r.text() + "\n" + repr(dict(r.headers))
        case_html = pages_seen[case_paths[0]]
        # The scan is meaningful: the pages show the call's timeline and the notes (redacted).
        assert "escalations.create" in case_html and "console.case.claim" in case_html
        assert "Caller repeated [card visa ••4242] to me" in case_html and "console.case.note" in case_html
        assert "Chain sandbox verified:" in next(iter(pages_seen.values()))
        for path, html in pages_seen.items():
            assert not find_leaks(html, pans), (path, find_leaks(html, pans))
        assert refused_or_redacted in (200, 400, 422)
