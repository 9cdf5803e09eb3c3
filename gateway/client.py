"""A Python client for bot code: ``POST /v1/actions/{name}`` with the gateway's retry and idempotency rules.

::

    async with VoicepayClient("http://127.0.0.1:8080", agent_key) as vp:
        call = vp.for_call("call-8c1f")                 # every request carries X-Call-Id
        found = await call.payments_lookup(phone="07700 900123")
        print(found.say)

What it does for you:

* **Idempotency.** A write needs an ``Idempotency-Key`` or an ``X-Call-Id``. With a call id the gateway derives
  the key from (tenant, call, action, params), so an LLM repeating a tool call in the same call is a replay.
  Without either, the client makes one random key per logical operation (per :meth:`VoicepayClient.call`) and
  reuses it on every retry of that operation; pass ``idempotency_key=`` to choose it yourself (e.g. to retry
  across a restart of the bot).
* **Retries with the same key.** ``429`` and ``503`` with ``Retry-After`` (rate limited, provider unavailable,
  request in progress) and connection failures are retried, at most ``max_retries`` times, each wait capped at
  ``max_retry_after`` seconds. Never a retry with a new key: that could pay or refund twice.
* **Pending operations.** A gateway answering ``{"ok": true, "pending": true, "operation_id": ...}`` (deadline
  mode) is followed by replaying the same call with the same key until the answer is final, for at most
  ``max_pending_seconds``; then :class:`PendingTimeout` carries the operation id.
* **Notifications.** :func:`verify_notification` checks ``Voicepay-Signature`` (HMAC-SHA256 of
  ``"{t}.{body}"``, constant-time comparison, timestamp tolerance) before parsing the body.

Typed wrappers exist for every built-in action (``payments.lookup`` -> :meth:`payments_lookup`); anything else
goes through :meth:`call`. :meth:`openai_tools` and :meth:`call_tool` connect an OpenAI-style tool loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp

from adapters.stripe.signing import SignatureError, verify_header

__all__ = [
    "ActionResult",
    "NotificationSignatureError",
    "PendingTimeout",
    "VoicepayClient",
    "VoicepayError",
    "verify_notification",
]

SIGNATURE_HEADER = "Voicepay-Signature"
#: Largest response body read (the gateway's answers are small).
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class VoicepayError(Exception):
    """The gateway's ``{"ok": false, "error": {...}}``, or a transport failure (``code`` ``transport_error``)."""

    def __init__(self, code: str, message: str, *, say: str = "", retryable: bool = False, status: int = 0,
                 request_id: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.say = say
        self.retryable = retryable
        self.status = status
        self.request_id = request_id
        self.details = dict(details or {})


class PendingTimeout(VoicepayError):
    """The operation is still pending after ``max_pending_seconds``; ask again later with the same key."""

    def __init__(self, operation_id: str | None, idempotency_key: str | None, say: str) -> None:
        super().__init__("pending_timeout", "the operation is still pending", say=say, retryable=True)
        self.operation_id = operation_id
        self.idempotency_key = idempotency_key


class NotificationSignatureError(Exception):
    """A notification whose signature does not verify: drop it (``reason`` says why, never the secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ActionResult:
    action: str
    result: dict[str, Any]
    say: str
    request_id: str | None = None
    #: The key the call went out with (``None`` when the gateway derived it from the call id).
    idempotency_key: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def _drop_none(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class VoicepayClient:
    def __init__(
        self,
        base_url: str,
        agent_key: str,
        *,
        call_id: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout_seconds: float = 30.0,
        max_retries: int = 3,
        max_retry_after: float = 30.0,
        max_pending_seconds: float = 60.0,
        pending_poll_seconds: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.call_id = call_id
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.max_pending_seconds = max_pending_seconds
        self.pending_poll_seconds = pending_poll_seconds
        self._agent_key = agent_key
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session = session
        self._owns_session = session is None

    # ------------------------------------------------------------------------------------------ lifecycle

    def for_call(self, call_id: str) -> VoicepayClient:
        """The same client (sharing its connection pool) with every request tagged with ``call_id``."""
        clone = VoicepayClient.__new__(VoicepayClient)
        clone.__dict__.update(self.__dict__)
        clone.call_id = call_id
        clone._session = self._http()  # shared: the parent owns and closes it
        clone._owns_session = False
        return clone

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------ transport

    async def _send(self, method: str, path: str, *, json_body: Any = None,
                    headers: Mapping[str, str] | None = None) -> tuple[int, Mapping[str, str], dict[str, Any]]:
        all_headers = {"Authorization": f"Bearer {self._agent_key}", "Accept": "application/json",
                       **(headers or {})}
        async with self._http().request(method, f"{self.base_url}{path}", json=json_body, headers=all_headers,
                                        timeout=self._timeout, allow_redirects=False) as resp:
            raw = await resp.content.read(MAX_RESPONSE_BYTES + 1)
            if len(raw) > MAX_RESPONSE_BYTES:
                raise VoicepayError("response_too_large", "the gateway's answer was too large", status=resp.status)
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            return resp.status, resp.headers, body if isinstance(body, dict) else {"value": body}

    def _retry_after(self, headers: Mapping[str, str], attempt: int) -> float:
        value = headers.get("Retry-After")
        try:
            delay = float(value) if value is not None else 0.0
        except ValueError:
            delay = 0.0
        if delay <= 0:
            delay = min(8.0, 0.25 * (2**attempt)) * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)
        return min(delay, self.max_retry_after)

    async def call(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        call_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Run one action; raises :class:`VoicepayError` for ``ok: false``. Retries (same key) and follows
        pending operations as described in the module docstring."""
        call_id = call_id or self.call_id
        key = idempotency_key
        if key is None and call_id is None:
            key = f"vpc-{uuid.uuid4().hex}"  # one logical operation: reused by every retry below
        headers: dict[str, str] = {}
        if call_id is not None:
            headers["X-Call-Id"] = call_id
        if key is not None:
            headers["Idempotency-Key"] = key
        body = dict(params or {})
        loop = asyncio.get_running_loop()
        pending_until = loop.time() + self.max_pending_seconds
        attempt = 0
        while True:
            try:
                status, resp_headers, data = await self._send("POST", f"/v1/actions/{action}", json_body=body,
                                                              headers=headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt >= self.max_retries:
                    raise VoicepayError("transport_error", type(exc).__name__, retryable=True) from None
                await asyncio.sleep(self._retry_after({}, attempt))
                attempt += 1
                continue
            request_id = resp_headers.get("X-Request-Id")
            if data.get("ok") is True:
                if data.get("pending"):
                    if loop.time() >= pending_until:
                        raise PendingTimeout(data.get("operation_id"), key, str(data.get("say") or ""))
                    delay = self._retry_after(resp_headers, 0) if "Retry-After" in resp_headers else (
                        self.pending_poll_seconds)
                    await asyncio.sleep(min(delay, max(0.0, pending_until - loop.time())))
                    continue  # the same call and key: the gateway answers from the operation
                return ActionResult(
                    action=str(data.get("action") or action),
                    result=dict(data.get("result") or {}),
                    say=str(data.get("say") or ""),
                    request_id=request_id,
                    idempotency_key=key,
                    raw=data,
                )
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            assert isinstance(error, dict)
            err = VoicepayError(
                str(error.get("code") or f"http_{status}"),
                str(error.get("message") or "request failed"),
                say=str(error.get("say") or ""),
                retryable=bool(error.get("retryable")),
                status=status,
                request_id=request_id or data.get("request_id"),
                details=error.get("details") if isinstance(error.get("details"), dict) else None,
            )
            if status in (429, 503, 409) and err.retryable and attempt < self.max_retries:
                await asyncio.sleep(self._retry_after(resp_headers, attempt))
                attempt += 1
                continue
            raise err

    # ------------------------------------------------------------------------------------------ discovery

    async def list_actions(self) -> list[dict[str, Any]]:
        status, _, data = await self._send("GET", "/v1/actions")
        if status != 200:
            raise VoicepayError(str((data.get("error") or {}).get("code") or f"http_{status}"), "listing failed",
                                status=status)
        actions = data.get("actions", data.get("result", []))
        return [dict(a) for a in actions] if isinstance(actions, list) else []

    async def openai_tools(self) -> list[dict[str, Any]]:
        """The actions this key may call, as OpenAI-style tool definitions (names use ``_``)."""
        status, _, data = await self._send("GET", "/v1/actions?format=openai")
        if status != 200:
            raise VoicepayError(f"http_{status}", "listing failed", status=status)
        tools = data.get("tools", data.get("result", []))
        return [dict(t) for t in tools] if isinstance(tools, list) else []

    async def call_tool(self, name: str, arguments: str | Mapping[str, Any], *,
                        call_id: str | None = None) -> ActionResult:
        """Run a tool call as a model produced it (``payments_lookup`` and a JSON string of arguments)."""
        params = json.loads(arguments) if isinstance(arguments, str) else dict(arguments)
        if not isinstance(params, dict):
            raise VoicepayError("validation_failed", "tool arguments must be a JSON object")
        return await self.call(name, params, call_id=call_id)

    # ------------------------------------------------------------------------------------------ actions

    async def ping(self) -> ActionResult:
        return await self.call("gateway.ping", {})

    async def payments_lookup(self, *, email: str | None = None, phone: str | None = None,
                              customer_id: str | None = None, payment_id: str | None = None,
                              limit: int | None = None, **extra: Any) -> ActionResult:
        return await self.call("payments.lookup", _drop_none({"email": email, "phone": phone,
                                                              "customer_id": customer_id,
                                                              "payment_id": payment_id, "limit": limit, **extra}))

    async def refunds_create(self, *, reason: str | None = None, email: str | None = None, phone: str | None = None,
                             customer_id: str | None = None, payment_id: str | None = None,
                             amount: int | None = None, idempotency_key: str | None = None,
                             **extra: Any) -> ActionResult:
        return await self.call("refunds.create", _drop_none({"reason": reason, "email": email, "phone": phone,
                                                             "customer_id": customer_id, "payment_id": payment_id,
                                                             "amount": amount, **extra}),
                               idempotency_key=idempotency_key)

    async def coupons_create(self, *, email: str | None = None, phone: str | None = None,
                             customer_id: str | None = None, percent_off: float | None = None,
                             amount_off: int | None = None, expires_in_days: int | None = None,
                             idempotency_key: str | None = None, **extra: Any) -> ActionResult:
        return await self.call("coupons.create", _drop_none({
            "email": email, "phone": phone, "customer_id": customer_id, "percent_off": percent_off,
            "amount_off": amount_off, "expires_in_days": expires_in_days, **extra}), idempotency_key=idempotency_key)

    async def subscriptions_lookup(self, *, email: str | None = None, phone: str | None = None,
                                   customer_id: str | None = None, **extra: Any) -> ActionResult:
        return await self.call("subscriptions.lookup", _drop_none({"email": email, "phone": phone,
                                                                   "customer_id": customer_id, **extra}))

    async def customers_verify(self, *, email: str | None = None, phone: str | None = None,
                               customer_id: str | None = None, postal_code: str | None = None,
                               card_last4: str | None = None, email_on_file: str | None = None,
                               **extra: Any) -> ActionResult:
        return await self.call("customers.verify", _drop_none({
            "email": email, "phone": phone, "customer_id": customer_id, "postal_code": postal_code,
            "card_last4": card_last4, "email_on_file": email_on_file, **extra}))

    async def escalations_create(self, *, reason: str, summary: str, customer_id: str | None = None,
                                 payment_ids: Sequence[str] | None = None, idempotency_key: str | None = None,
                                 **extra: Any) -> ActionResult:
        return await self.call("escalations.create", _drop_none({
            "reason": reason, "summary": summary, "customer_id": customer_id,
            "payment_ids": list(payment_ids) if payment_ids is not None else None, **extra}),
            idempotency_key=idempotency_key)

    async def capture_start(self, *, amount: int, description: str, currency: str | None = None,
                            customer_id: str | None = None, idempotency_key: str | None = None,
                            **extra: Any) -> ActionResult:
        return await self.call("capture.start", _drop_none({
            "amount": amount, "description": description, "currency": currency, "customer_id": customer_id,
            **extra}), idempotency_key=idempotency_key)

    async def capture_status(self, capture_id: str) -> ActionResult:
        return await self.call("capture.status", {"capture_id": capture_id})

    async def capture_cancel(self, capture_id: str, *, idempotency_key: str | None = None) -> ActionResult:
        return await self.call("capture.cancel", {"capture_id": capture_id}, idempotency_key=idempotency_key)

    async def payments_send_link(self, *, capture_id: str | None = None, amount: int | None = None,
                                 currency: str | None = None, description: str | None = None,
                                 email: str | None = None, phone: str | None = None,
                                 idempotency_key: str | None = None, **extra: Any) -> ActionResult:
        return await self.call("payments.send_link", _drop_none({
            "capture_id": capture_id, "amount": amount, "currency": currency, "description": description,
            "email": email, "phone": phone, **extra}), idempotency_key=idempotency_key)

    async def operations_get(self, operation_id: str) -> ActionResult:
        """Where the gateway has deadline mode: the state of a ``pending`` operation."""
        return await self.call("operations.get", {"operation_id": operation_id})


def verify_notification(
    body: bytes,
    signature_header: str | None,
    secrets: str | Sequence[str],
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a notification's ``Voicepay-Signature`` against the tenant's ``notification_secret`` (several during
    a rotation) and return the parsed body. Pass the raw body bytes exactly as received. Raises
    :class:`NotificationSignatureError` (``reason``: ``missing_header``, ``no_match``,
    ``timestamp_out_of_tolerance``...)."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    try:
        verify_header(body, signature_header, keys, tolerance=tolerance_seconds, now=now)
    except SignatureError as exc:
        raise NotificationSignatureError(exc.reason) from None
    data = json.loads(body)
    if not isinstance(data, dict):
        raise NotificationSignatureError("not_an_object")
    return data

