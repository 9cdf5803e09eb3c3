"""Send one text message through Twilio's Messaging API (REST over aiohttp).

``POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic auth (account SID, auth
token) and form fields ``To``, ``Body`` and ``From`` or ``MessagingServiceSid``. Twilio answers 201 with the
Message resource, or an error JSON ``{"code", "message", "more_info", "status"}``.

Errors are split by whether a later retry can help: 5xx, 429, timeouts and connection failures are
:attr:`TwilioError.retryable`; other 4xx (bad number, bad credentials) are not. Neither the destination nor
the body (it holds the payment link) ever appears in an exception message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp

#: Twilio's error bodies are small; a larger one is not read in full.
MAX_RESPONSE_BYTES = 64 * 1024


class TwilioError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class TwilioMessage:
    sid: str
    status: str


class TwilioClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        account_sid: str,
        auth_token: str,
        api_base: str = "https://api.twilio.com",
        timeout_seconds: float = 10.0,
    ) -> None:
        self._http = http
        self._account_sid = account_sid
        self._authorization = aiohttp.encode_basic_auth(account_sid, auth_token)
        self._base = api_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    @property
    def messages_url(self) -> str:
        return f"{self._base}/2010-04-01/Accounts/{self._account_sid}/Messages.json"

    async def send_sms(
        self, *, to: str, body: str, from_number: str | None = None, messaging_service_sid: str | None = None
    ) -> TwilioMessage:
        form = {"To": to, "Body": body}
        if messaging_service_sid is not None:
            form["MessagingServiceSid"] = messaging_service_sid
        elif from_number is not None:
            form["From"] = from_number
        else:
            raise ValueError("give from_number or messaging_service_sid")
        try:
            async with self._http.post(
                self.messages_url, data=form, timeout=self._timeout, allow_redirects=False,
                headers={"Authorization": self._authorization, "Accept": "application/json",
                         "User-Agent": "voicepay-gateway"},
            ) as resp:
                raw = await resp.content.read(MAX_RESPONSE_BYTES)
                status = resp.status
        except TimeoutError:
            raise TwilioError("Twilio did not answer in time", retryable=True) from None
        except aiohttp.ClientError as exc:
            raise TwilioError(f"Twilio unreachable ({type(exc).__name__})", retryable=True) from None
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if status in (200, 201):
            sid = data.get("sid")
            if not isinstance(sid, str) or not sid.startswith(("SM", "MM")):
                raise TwilioError("Twilio answered without a message sid", status=status, retryable=True)
            return TwilioMessage(sid=sid, status=str(data.get("status") or "queued"))
        code = data.get("code") if isinstance(data.get("code"), int) else None
        retryable = status >= 500 or status == 429
        # Twilio's own message may quote the To number: only the status and code are kept.
        raise TwilioError(f"Twilio refused the message (HTTP {status}, code {code})", status=status, code=code,
                          retryable=retryable)
