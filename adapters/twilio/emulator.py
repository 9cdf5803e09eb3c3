"""A local stand-in for Twilio's Messaging API, at least as strict as Twilio on what the gateway sends.

Serves ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` and, to read what was sent, ``GET`` of the
same list and ``GET .../Messages/{Sid}.json``. It checks, like Twilio: HTTP Basic auth with the account SID
and auth token (401, code 20003), the account in the path being the authenticated one, a form-encoded body,
``To`` present (21604) and E.164 (21211), a sender (``From``, 21603, one of the account's numbers, 21606; or
a known ``MessagingServiceSid``, 21704 wording aside), ``Body`` present (21602) and at most 1600 characters
(21617). Errors use Twilio's JSON shape ``{"code", "message", "more_info", "status"}``.

:meth:`TwilioEmulator.fail_next` makes the next requests answer 5xx (error 20500), to test retries.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import time
from email.utils import formatdate
from typing import Any

from aiohttp import web

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
         "status": status},
        status=status,
    )


class TwilioEmulator:
    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_numbers: tuple[str, ...] = ("+15005550006",),
        messaging_service_sids: tuple[str, ...] = (),
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.from_numbers = set(from_numbers)
        self.messaging_service_sids = set(messaging_service_sids)
        self.messages: list[dict[str, Any]] = []
        #: Every POST attempt, accepted or not: (HTTP status, error code or None).
        self.attempts: list[tuple[int, int | None]] = []
        self._fail: list[int] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next ``count`` POSTs with ``status`` (a Twilio outage) before accepting again."""
        self._fail.extend([status] * count)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        base = f"/{API_VERSION}/Accounts/{{account}}/Messages"
        app.router.add_post(base + ".json", self._create)
        app.router.add_get(base + ".json", self._list)
        app.router.add_get(base + "/{sid}.json", self._fetch)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------------------------------ requests

    def _authenticated(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        ok_user = hmac.compare_digest(user.encode(), self.account_sid.encode())
        ok_password = hmac.compare_digest(password.encode(), self.auth_token.encode())
        return bool(sep) and ok_user and ok_password

    def _check_account(self, request: web.Request) -> web.Response | None:
        if not self._authenticated(request):
            return _error(401, 20003, "Authenticate")
        if request.match_info["account"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._check_account(request)
        if refused is not None:
            self.attempts.append((refused.status, None))
            return refused
        if self._fail:
            status = self._fail.pop(0)
            self.attempts.append((status, 20500))
            return _error(status, 20500, "An internal server error has occurred")
        response = await self._validate_and_store(request)
        self.attempts.append((response.status, None if response.status == 201 else -1))
        return response

    async def _validate_and_store(self, request: web.Request) -> web.Response:
        # Twilio reads only form parameters: a JSON body carries no To and is refused as such.
        form: dict[str, str] = {}
        if request.content_type == "application/x-www-form-urlencoded":
            posted = await request.post()
            form = {k: v for k, v in posted.items() if isinstance(v, str)}
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        if service and service not in self.messaging_service_sids:
            return _error(400, 21705, "The Messaging Service Sid is invalid.")
        if sender and not service:
            if not E164.match(sender):
                return _error(400, 21212, f"The 'From' number {sender} is not a valid phone number, shortcode, "
                                          "or alphanumeric sender ID.")
            if sender not in self.from_numbers:
                return _error(400, 21606, f"The From phone number {sender} is not a valid, SMS-capable inbound "
                                          "phone number or short code for your account.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(time.time(), usegmt=True)
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "to": to,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "body": body,
            "status": "accepted" if service else "queued",
            "direction": "outbound-api",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "num_media": "0",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
        }
        self.messages.append(message)
        return web.json_response(message, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        refused = self._check_account(request)
        if refused is not None:
            return refused
        newest_first = list(reversed(self.messages))
        return web.json_response({"messages": newest_first, "page": 0, "page_size": len(newest_first),
                                  "uri": request.path, "next_page_uri": None, "previous_page_uri": None})

    async def _fetch(self, request: web.Request) -> web.Response:
        refused = self._check_account(request)
        if refused is not None:
            return refused
        for m in self.messages:
            if m["sid"] == request.match_info["sid"]:
                return web.json_response(m)
        return _error(404, 20404, "The requested resource was not found")
