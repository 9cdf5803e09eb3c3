"""The sandbox's HTTP side: routing, auth, idempotency, faults, webhook delivery and the control API.

A ``/v1`` request goes through, in order: request log -> auth (401) -> body decoding and the raw-card
gate (400, nothing kept) -> pre-execution faults (500 / 429 / timeout) -> idempotency (replay, 400 on
different params, 409 while the first is in flight) -> latency fault -> the endpoint (synchronous, see
state.py) -> the result stored under the idempotency key -> ``drop_after_commit`` fault -> response.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from adapters.stripe.signing import sign_header

from . import seed as seed_mod
from . import versions
from .errors import StripeError, ValidationError
from .faults import FaultInjector
from .params import decode_form
from .sdk_params import check_params
from .state import API_VERSION, SandboxState, new_id

log = logging.getLogger("adapters.stripe.sandbox")

#: Stripe documents that idempotency keys "can be removed ... after they're at least 24 hours old".
IDEMPOTENCY_TTL = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255

# Raw card data (PAN / CVC) under the parameter names Stripe accepts it on: refused before anything is kept.
_RAW_CARD = re.compile(r"(^|\[)(card|source)\]?\[(number|cvc)\]")

Handler = Callable[[Mapping[str, Any], Mapping[str, str]], dict[str, Any]]


@dataclass
class RequestRecord:
    """One ``/v1`` request as the sandbox saw it (for counting round trips). Never holds params."""

    method: str
    path: str
    time: float
    request_id: str = ""
    status: int | None = None
    idempotency_key: str | None = None
    replayed: bool = False
    faults: list[str] = field(default_factory=list)
    #: The Stripe-Version the request was answered in (the pinned one when the header is absent).
    api_version: str = API_VERSION
    #: Set when the parameters did not fit the installed SDK's types: ``"<param>: <message>"``.
    sdk_violation: str | None = None


@dataclass
class WebhookEndpoint:
    url: str
    secrets: list[str]
    enabled_events: list[str] | None = None  # None or ["*"]: everything
    #: The version the endpoint was "created with": its events are rendered and stamped in it.
    api_version: str = API_VERSION

    def wants(self, event_type: str) -> bool:
        return not self.enabled_events or "*" in self.enabled_events or event_type in self.enabled_events


@dataclass
class DeliveryRecord:
    event_id: str
    event_type: str
    url: str
    attempt: int
    time: float
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _IdemRecord:
    method: str
    path: str
    fingerprint: tuple[tuple[str, str], ...]
    created: float
    in_flight: bool = True
    status: int = 0
    body: bytes = b""
    request_id: str = ""


class StripeSandbox:
    """A stateful emulator of the Stripe API subset the gateway uses. See the package docstring."""

    def __init__(
        self,
        *,
        api_key: str = "sk_test_sandbox",
        clock: Callable[[], float] = time.time,
        seed: bool = False,
        webhook_retry_delays: Sequence[float] = (0.5, 2.0, 8.0),
        webhook_timeout: float = 5.0,
        settle_delay: float = 1.0,
    ) -> None:
        self.api_key = api_key
        self._clock = clock
        self.clock_offset = 0.0
        self.faults = FaultInjector()
        self.request_log: list[RequestRecord] = []
        self.webhook_endpoints: list[WebhookEndpoint] = []
        self.webhook_deliveries: list[DeliveryRecord] = []
        #: Delays between webhook delivery attempts (bounded: len + 1 attempts in all). Stripe waits hours in
        #: test mode; the default here keeps a local run's retries visible within seconds.
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_timeout = webhook_timeout
        #: How long an asynchronous transition (a refund of pm_card_refundFail failing) waits before it runs
        #: by itself; settle() runs them all at once.
        self.settle_delay = settle_delay
        self.state = SandboxState(self.now, self._on_event)
        self._idem: dict[str, _IdemRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._settler: asyncio.Task[None] | None = None
        self._routes = self._build_routes()
        self.seed_data: dict[str, Any] | None = None
        if seed:
            self.seed_demo_data()

    # --- public API ------------------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self.clock_offset

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/v1/{tail:.*}", self._handle_v1)
        self._add_control_routes(app)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.state.base_url = f"http://{host}:{bound[1]}"
        return self.state.base_url

    @property
    def base_url(self) -> str:
        return self.state.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        else:
            await self._on_cleanup(None)

    def seed_demo_data(self) -> dict[str, Any]:
        self.seed_data = seed_mod.seed(self.state)
        return self.seed_data

    def add_webhook_endpoint(
        self,
        url: str,
        secret: str | Sequence[str],
        enabled_events: Sequence[str] | None = None,
        api_version: str = API_VERSION,
    ) -> WebhookEndpoint:
        """Deliver future events to ``url``, signed with ``secret`` (several secrets: one v1 each, as during
        a rotation), rendered in ``api_version`` (one of ``versions.SUPPORTED_VERSIONS``)."""
        versions.check_version(api_version)
        secrets = [secret] if isinstance(secret, str) else list(secret)
        endpoint = WebhookEndpoint(url, secrets, list(enabled_events) if enabled_events else None, api_version)
        self.webhook_endpoints.append(endpoint)
        return endpoint

    def reset(self, *, seed: bool = False) -> dict[str, Any] | None:
        """Forget every object, key, log and fault (webhook endpoints too)."""
        for task in list(self._tasks):
            task.cancel()
        self.state.reset()
        self._idem.clear()
        self.request_log.clear()
        self.faults.clear()
        self.webhook_endpoints.clear()
        self.webhook_deliveries.clear()
        self.seed_data = None
        return self.seed_demo_data() if seed else None

    def settle(self) -> int:
        """Run every pending asynchronous transition now; returns how many ran."""
        return self._run_pending(force=True)

    async def flush_webhooks(self, wait: float = 30.0) -> None:
        """Wait until every delivery task in progress (with its retries) has finished."""
        async with asyncio.timeout(wait):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Events oldest first (a test convenience; the API lists newest first)."""
        evs = sorted(self.state.store.get("event", {}).values(), key=lambda e: self.state.seq[e["id"]])
        return [e for e in evs if type_ is None or e["type"] == type_]

    def sdk_violations(self) -> list[RequestRecord]:
        """Requests refused because their parameters did not fit the installed SDK's types."""
        return [r for r in self.request_log if r.sdk_violation is not None]

    def count(self, kind: str) -> int:
        """How many objects of a kind exist (``refund``, ``charge``, ...)."""
        return len(self.state.store.get(kind, {}))

    # --- lifecycle -------------------------------------------------------------------------------------

    async def _on_startup(self, _app: web.Application) -> None:
        self._stopping = asyncio.Event()
        self._settler = asyncio.create_task(self._settle_loop())

    async def _on_cleanup(self, _app: web.Application | None) -> None:
        self._stopping.set()
        tasks = [t for t in (self._settler, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._settler = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _settle_loop(self) -> None:
        while True:
            await asyncio.sleep(min(0.1, self.settle_delay) or 0.1)
            self._run_pending(force=False)

    def _run_pending(self, *, force: bool) -> int:
        now = self.now()
        due = [item for item in self.state.pending if force or item[0] + self.settle_delay <= now]
        self.state.pending = [item for item in self.state.pending if item not in due]
        for _when, fn in due:
            self.state.current_request = {"id": None, "idempotency_key": None}
            fn()
        return len(due)

    async def _sleep_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # --- /v1 pipeline --------------------------------------------------------------------------------

    def _json(self, status: int, body: Any, headers: Mapping[str, str]) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, indent=2).encode(),
            content_type="application/json",
            headers=dict(headers),
        )

    def _error(
        self, err: StripeError, request_id: str, extra_headers: Mapping[str, str] | None = None
    ) -> web.Response:
        headers = {"Request-Id": request_id, **err.headers, **(extra_headers or {})}
        return self._json(err.status, err.body(request_id), headers)

    def _auth_error(self, request: web.Request) -> StripeError | None:
        auth = request.headers.get("Authorization", "")
        key: str | None = None
        if auth.startswith("Bearer "):
            key = auth[7:].strip()
        elif auth.startswith("Basic "):
            with contextlib.suppress(ValueError):
                key = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        if not key:
            return StripeError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your "
                "API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "*" * len(key)
            return StripeError(401, "invalid_request_error", f"Invalid API Key provided: {masked}")
        return None

    async def _handle_v1(self, request: web.Request) -> web.StreamResponse:
        self.state.base_url = f"{request.scheme}://{request.host}"
        method, path = request.method.upper(), request.path
        request_id = new_id("req_", 14)
        record = RequestRecord(method, path, self.now(), request_id)
        if method == "POST":
            record.idempotency_key = request.headers.get("Idempotency-Key")
        self.request_log.append(record)
        response = await self._pipeline(request, record)
        record.status = response.status if response is not None else None
        if response is None:
            return await self._drop(request)
        return response

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without an HTTP answer (the client sees a disconnect)."""
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    async def _pipeline(self, request: web.Request, record: RequestRecord) -> web.Response | None:
        method, path, request_id = record.method, record.path, record.request_id
        auth_error = self._auth_error(request)
        if auth_error is not None:
            return self._error(auth_error, request_id)
        record.api_version = request.headers.get("Stripe-Version", "").strip() or API_VERSION
        try:
            versions.check_version(record.api_version)
        except StripeError as err:
            return self._error(err, request_id)

        if method in ("POST",):
            body = await request.read()
            try:
                pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                return self._error(ValidationError("Invalid request body: not UTF-8 form data"), request_id)
            del body
        else:
            pairs = list(request.query.items())
        if any(_RAW_CARD.search(k) for k, _v in pairs):
            pairs = []  # dropped at once: never parsed, stored, echoed or logged
            return self._error(
                StripeError(
                    400,
                    "invalid_request_error",
                    "Sending credit card numbers directly to the Stripe API "
                    "is generally unsafe. We suggest you use "
                    "test tokens that map to the test card you are using, "
                    "see https://stripe.com/docs/testing. To "
                    "enable raw card data APIs in test mode, see "
                    "https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.",
                ),
                request_id,
            )

        faults = self.faults.take(method, path)
        record.faults = [f.kind for f in faults]
        kinds = {f.kind: f for f in faults}
        if "timeout" in kinds:
            await self._sleep_or_stop((kinds["timeout"].latency_ms or 30_000) / 1000)
            return None
        if "500" in kinds:
            return self._error(
                StripeError(500, "api_error", "An unknown error occurred (sandbox fault)."),
                request_id,
                {"Stripe-Should-Retry": "true"},
            )
        if "429" in kinds:
            f429 = kinds["429"]
            headers = {"Retry-After": str(f429.retry_after)} if f429.retry_after is not None else {}
            return self._error(
                StripeError(
                    429,
                    "invalid_request_error",
                    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                    code="rate_limit",
                ),
                request_id,
                headers,
            )

        key = record.idempotency_key
        idem: _IdemRecord | None = None
        if key is not None:
            early = self._claim_key(key, method, path, pairs, request_id, record)
            if isinstance(early, web.Response):
                return early
            idem = early

        try:
            if "latency" in kinds:
                await self._sleep_or_stop((kinds["latency"].latency_ms or 0) / 1000)
            if "500_stored" in kinds:
                status, payload, headers = self._stored_500(request_id)
            else:
                status, payload, headers, saved = self._execute(method, path, pairs, request_id, key, record)
                if not saved and idem is not None:
                    self._idem.pop(key or "", None)
                    idem = None
        except BaseException:
            if idem is not None:
                self._idem.pop(key or "", None)
            raise
        if idem is not None:
            idem.in_flight = False
            idem.status, idem.body, idem.request_id = status, payload, request_id
        if "drop_after_commit" in kinds:
            return None
        return web.Response(status=status, body=payload, content_type="application/json", headers=headers)

    def _stored_500(self, request_id: str) -> tuple[int, bytes, dict[str, str]]:
        err = StripeError(500, "api_error", "An unknown error occurred (sandbox fault, stored).")
        return 500, json.dumps(err.body(request_id), indent=2).encode(), {"Request-Id": request_id}

    def _claim_key(
        self,
        key: str,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        request_id: str,
        record: RequestRecord,
    ) -> web.Response | _IdemRecord:
        if len(key) > MAX_IDEMPOTENCY_KEY:
            return self._error(
                ValidationError(
                    f"Invalid idempotency key: must be at most {MAX_IDEMPOTENCY_KEY} characters long.",
                    param="Idempotency-Key",
                ),
                request_id,
            )
        now = self.now()
        existing = self._idem.get(key)
        if existing is not None and existing.created + IDEMPOTENCY_TTL <= now:
            del self._idem[key]
            existing = None
        fingerprint = tuple(sorted(pairs))
        if existing is None:
            claimed = _IdemRecord(method, path, fingerprint, now)
            self._idem[key] = claimed
            return claimed
        if existing.in_flight:
            # Stripe: a concurrent request with the same key gets a 409 which is safe to retry.
            return self._error(
                StripeError(
                    409,
                    "idempotency_error",
                    "There is currently another in-progress request using "
                    "this Idempotent Key (that probably means "
                    "you submitted twice, and the other request is still going through): "
                    + key[:40]
                    + ". Please "
                    "try again later.",
                    code="idempotency_key_in_use",
                ),
                request_id,
            )
        if (existing.method, existing.path) != (method, path):
            return self._error(
                StripeError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used for the "
                    "same endpoint they were first used for "
                    f"('{existing.path}' vs '{path}'). Try using a key other "
                    f"than '{key[:40]}' if you meant to execute "
                    "a different request.",
                ),
                request_id,
            )
        if existing.fingerprint != fingerprint:
            return self._error(
                StripeError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the "
                    "same parameters they were first used "
                    f"with. Try using a key other than '{key[:40]}' if you "
                    "meant to execute a different request.",
                ),
                request_id,
            )
        record.replayed = True
        return web.Response(
            status=existing.status,
            body=existing.body,
            content_type="application/json",
            headers={
                "Request-Id": request_id,
                "Original-Request": existing.request_id,
                "Idempotent-Replayed": "true",
                "Idempotency-Key": key,
            },
        )

    def _route(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        for m, pattern, handler in self._routes:
            if m != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                return handler, match.groupdict()
        return None

    def _execute(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        request_id: str,
        key: str | None,
        record: RequestRecord,
    ) -> tuple[int, bytes, dict[str, str], bool]:
        """Run the endpoint; returns (status, body, headers, stored-under-idempotency-key?)."""
        headers = {"Request-Id": request_id, "Stripe-Version": record.api_version}
        if key is not None:
            headers["Idempotency-Key"] = key
        found = self._route(method, path)
        if found is None:
            err = StripeError(
                404,
                "invalid_request_error",
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help "
                "at https://support.stripe.com/.",
            )
            return 404, json.dumps(err.body(request_id), indent=2).encode(), headers, False
        handler, args = found
        self.state.current_request = {"id": request_id, "idempotency_key": key}
        try:
            raw = versions.request_to_pinned(handler.__name__, decode_form(pairs), record.api_version)
            try:
                check_params(handler.__name__, raw, self.now())
            except ValidationError as err:
                record.sdk_violation = f"{err.param}: {err.message}"
                raise
            body = versions.render(handler(raw, args), record.api_version)
            status, saved = 200, True
        except StripeError as err:
            body, status, saved = err.body(request_id), err.status, err.saved
            headers.update(err.headers)
        except Exception:
            log.exception("sandbox endpoint %s %s failed", method, path)
            crash = StripeError(500, "api_error", "An unknown error occurred.")
            body, status, saved = crash.body(request_id), 500, True
        finally:
            self.state.current_request = {"id": None, "idempotency_key": None}
        return status, json.dumps(body, indent=2).encode(), headers, saved

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        s = self.state
        ident = r"(?P<id>[A-Za-z0-9_\-]+)"
        table: list[tuple[str, str, Handler]] = [
            ("POST", "/v1/customers", s.customer_create),
            ("GET", "/v1/customers", s.customer_list),
            ("GET", "/v1/customers/search", s.customer_search),
            ("GET", f"/v1/customers/{ident}", s.customer_retrieve),
            ("POST", f"/v1/customers/{ident}", s.customer_update),
            ("DELETE", f"/v1/customers/{ident}", s.customer_delete),
            ("POST", "/v1/payment_methods", s.pm_create),
            ("GET", f"/v1/payment_methods/{ident}", s.pm_retrieve),
            ("POST", "/v1/payment_intents", s.pi_create),
            ("GET", "/v1/payment_intents", s.pi_list),
            ("GET", "/v1/payment_intents/search", s.pi_search),
            ("GET", f"/v1/payment_intents/{ident}", s.pi_retrieve),
            ("POST", f"/v1/payment_intents/{ident}", s.pi_update),
            ("POST", f"/v1/payment_intents/{ident}/confirm", s.pi_confirm),
            ("POST", f"/v1/payment_intents/{ident}/cancel", s.pi_cancel),
            ("POST", f"/v1/payment_intents/{ident}/capture", s.pi_capture),
            ("GET", "/v1/charges", s.charge_list),
            ("GET", "/v1/charges/search", s.charge_search),
            ("GET", f"/v1/charges/{ident}", s.charge_retrieve),
            ("POST", "/v1/refunds", s.refund_create),
            ("GET", "/v1/refunds", s.refund_list),
            ("GET", f"/v1/refunds/{ident}", s.refund_retrieve),
            ("POST", f"/v1/refunds/{ident}", s.refund_update),
            ("GET", "/v1/disputes", s.dispute_list),
            ("GET", f"/v1/disputes/{ident}", s.dispute_retrieve),
            ("POST", "/v1/coupons", s.coupon_create),
            ("GET", "/v1/coupons", s.coupon_list),
            ("GET", f"/v1/coupons/{ident}", s.coupon_retrieve),
            ("DELETE", f"/v1/coupons/{ident}", s.coupon_delete),
            ("POST", "/v1/promotion_codes", s.promo_create),
            ("GET", "/v1/promotion_codes", s.promo_list),
            ("GET", f"/v1/promotion_codes/{ident}", s.promo_retrieve),
            ("POST", f"/v1/promotion_codes/{ident}", s.promo_update),
            ("POST", "/v1/products", s.product_create),
            ("GET", "/v1/products", s.product_list),
            ("GET", f"/v1/products/{ident}", s.product_retrieve),
            ("POST", "/v1/prices", s.price_create),
            ("GET", "/v1/prices", s.price_list),
            ("GET", f"/v1/prices/{ident}", s.price_retrieve),
            ("POST", "/v1/subscriptions", s.sub_create),
            ("GET", "/v1/subscriptions", s.sub_list),
            ("GET", "/v1/subscriptions/search", s.sub_search),
            ("GET", f"/v1/subscriptions/{ident}", s.sub_retrieve),
            ("POST", f"/v1/subscriptions/{ident}", s.sub_update),
            ("DELETE", f"/v1/subscriptions/{ident}", s.sub_cancel),
            ("GET", "/v1/invoices", s.invoice_list),
            ("GET", f"/v1/invoices/{ident}", s.invoice_retrieve),
            ("POST", "/v1/checkout/sessions", s.checkout_create),
            ("GET", "/v1/checkout/sessions", s.checkout_list),
            ("GET", f"/v1/checkout/sessions/{ident}", s.checkout_retrieve),
            ("POST", f"/v1/checkout/sessions/{ident}/expire", s.checkout_expire),
            ("GET", "/v1/events", s.event_list),
            ("GET", f"/v1/events/{ident}", s.event_retrieve),
        ]
        return [(m, re.compile(p), h) for m, p, h in table]

    # --- events and webhook delivery -----------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        targets = [ep for ep in self.webhook_endpoints if ep.wants(event["type"])]
        if not targets:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("event %s not delivered: no running event loop", event["id"])
            return
        for endpoint in targets:
            event["pending_webhooks"] += 1
            task = loop.create_task(self._deliver(event, endpoint))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: dict[str, Any], endpoint: WebhookEndpoint) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        payload = json.dumps(versions.render_event(event, endpoint.api_version), indent=2).encode()
        attempts = 1 + len(self.webhook_retry_delays)
        for attempt in range(1, attempts + 1):
            # Each attempt is signed afresh with the current time, as Stripe re-signs its retries.
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign_header(payload, endpoint.secrets, int(self.now())),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) voicepay-sandbox",
            }
            rec = DeliveryRecord(event["id"], event["type"], endpoint.url, attempt, self.now())
            try:
                async with self._session.post(
                    endpoint.url,
                    data=payload,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as resp:
                    rec.status = resp.status
                    await resp.read()
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                rec.error = type(exc).__name__
            self.webhook_deliveries.append(rec)
            if rec.ok:
                event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)
                return
            if attempt < attempts:
                await self._sleep_or_stop(self.webhook_retry_delays[attempt - 1])
                if self._stopping.is_set():
                    return
        log.warning("event %s: delivery to %s gave up after %d attempts", event["id"], endpoint.url, attempts)

    # --- control API -----------------------------------------------------------------------------------

    def _add_control_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/_sandbox/health", self._c_health)
        r.add_get("/_sandbox/requests", self._c_requests)
        r.add_delete("/_sandbox/requests", self._c_requests_clear)
        r.add_get("/_sandbox/faults", self._c_faults)
        r.add_post("/_sandbox/faults", self._c_faults_add)
        r.add_delete("/_sandbox/faults", self._c_faults_clear)
        r.add_delete("/_sandbox/faults/{id}", self._c_fault_remove)
        r.add_get("/_sandbox/webhook_endpoints", self._c_endpoints)
        r.add_post("/_sandbox/webhook_endpoints", self._c_endpoints_add)
        r.add_delete("/_sandbox/webhook_endpoints", self._c_endpoints_clear)
        r.add_get("/_sandbox/webhook_deliveries", self._c_deliveries)
        r.add_post("/_sandbox/reset", self._c_reset)
        r.add_post("/_sandbox/seed", self._c_seed)
        r.add_get("/_sandbox/seed", self._c_seed_get)
        r.add_post("/_sandbox/settle", self._c_settle)
        r.add_get("/_sandbox/clock", self._c_clock)
        r.add_post("/_sandbox/clock", self._c_clock_advance)
        r.add_get("/_sandbox/counts", self._c_counts)
        r.add_post("/_sandbox/subscriptions/{id}/past_due", self._c_past_due)
        r.add_post("/_sandbox/subscriptions/{id}/cancel", self._c_sub_cancel)
        r.add_post("/_sandbox/charges/{id}/dispute", self._c_dispute)
        r.add_get("/_sandbox/checkout/{id}", self._c_checkout_page)
        r.add_post("/_sandbox/checkout/{id}/complete", self._c_checkout_complete)
        r.add_post("/_sandbox/events/{id}/resend", self._c_resend)

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "body must be JSON"}), content_type="application/json"
            ) from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "body must be a JSON object"}), content_type="application/json"
            )
        return data

    def _control(self, fn: Callable[[], Any]) -> web.Response:
        """Run a state-changing control action; Stripe-shaped errors become a JSON 4xx."""
        self.state.current_request = {"id": None, "idempotency_key": None}
        try:
            return web.json_response(fn())
        except StripeError as err:
            return web.json_response({"error": err.message}, status=err.status)
        except (ValueError, TypeError, KeyError) as err:
            return web.json_response({"error": str(err)}, status=400)

    async def _c_health(self, _r: web.Request) -> web.Response:
        return web.json_response(
            {"ok": True, "api_version": API_VERSION, "supported_api_versions": list(versions.SUPPORTED_VERSIONS)}
        )

    async def _c_requests(self, request: web.Request) -> web.Response:
        prefix = request.query.get("path_prefix", "")
        return web.json_response([asdict(r) for r in self.request_log if r.path.startswith(prefix)])

    async def _c_requests_clear(self, _r: web.Request) -> web.Response:
        self.request_log.clear()
        return web.json_response({"ok": True})

    async def _c_faults(self, _r: web.Request) -> web.Response:
        return web.json_response([f.to_dict() for f in self.faults.all()])

    async def _c_faults_add(self, request: web.Request) -> web.Response:
        data = await self._json_body(request)
        allowed = {"kind", "path_prefix", "method", "count", "latency_ms", "retry_after"}
        unknown = set(data) - allowed
        if unknown:
            return web.json_response({"error": f"unknown fields: {sorted(unknown)}"}, status=400)
        return self._control(lambda: self.faults.add(**data).to_dict())

    async def _c_faults_clear(self, _r: web.Request) -> web.Response:
        self.faults.clear()
        return web.json_response({"ok": True})

    async def _c_fault_remove(self, request: web.Request) -> web.Response:
        try:
            removed = self.faults.remove(int(request.match_info["id"]))
        except ValueError:
            removed = False
        return web.json_response({"removed": removed}, status=200 if removed else 404)

    async def _c_endpoints(self, _r: web.Request) -> web.Response:
        return web.json_response(
            [
                {"url": e.url, "enabled_events": e.enabled_events, "secrets": len(e.secrets),
                 "api_version": e.api_version}
                for e in self.webhook_endpoints
            ]
        )

    async def _c_endpoints_add(self, request: web.Request) -> web.Response:
        data = await self._json_body(request)
        secret = data.get("secrets") or data.get("secret")
        if not isinstance(data.get("url"), str) or not secret:
            return web.json_response({"error": "url and secret (or secrets) are required"}, status=400)
        version = data.get("api_version") or API_VERSION
        if not isinstance(version, str) or version not in versions.SUPPORTED_VERSIONS:
            return web.json_response({"error": f"api_version must be one of {list(versions.SUPPORTED_VERSIONS)}"},
                                     status=400)
        ep = self.add_webhook_endpoint(data["url"], secret, data.get("enabled_events"), version)
        return web.json_response({"url": ep.url, "enabled_events": ep.enabled_events, "api_version": version})

    async def _c_endpoints_clear(self, _r: web.Request) -> web.Response:
        self.webhook_endpoints.clear()
        return web.json_response({"ok": True})

    async def _c_deliveries(self, _r: web.Request) -> web.Response:
        return web.json_response([{**asdict(d), "ok": d.ok} for d in self.webhook_deliveries])

    async def _c_reset(self, request: web.Request) -> web.Response:
        data = await self._json_body(request)
        return web.json_response({"seed": self.reset(seed=bool(data.get("seed")))})

    async def _c_seed(self, _r: web.Request) -> web.Response:
        return web.json_response(self.seed_demo_data())

    async def _c_seed_get(self, _r: web.Request) -> web.Response:
        return web.json_response(self.seed_data)

    async def _c_settle(self, _r: web.Request) -> web.Response:
        return web.json_response({"ran": self.settle()})

    async def _c_clock(self, _r: web.Request) -> web.Response:
        return web.json_response({"now": self.now(), "offset": self.clock_offset})

    async def _c_clock_advance(self, request: web.Request) -> web.Response:
        data = await self._json_body(request)
        try:
            self.clock_offset += float(data.get("advance", 0))
        except (TypeError, ValueError):
            return web.json_response({"error": "advance must be a number of seconds"}, status=400)
        return web.json_response({"now": self.now(), "offset": self.clock_offset})

    async def _c_counts(self, _r: web.Request) -> web.Response:
        return web.json_response({k: len(v) for k, v in self.state.store.items()})

    async def _c_past_due(self, request: web.Request) -> web.Response:
        return self._control(lambda: self.state.mark_past_due(request.match_info["id"]))

    async def _c_sub_cancel(self, request: web.Request) -> web.Response:
        def go() -> dict[str, Any]:
            sub = self.state.get("subscription", request.match_info["id"], "subscription")
            self.state.cancel_subscription(sub)
            return sub

        return self._control(go)

    async def _c_dispute(self, request: web.Request) -> web.Response:
        data = await self._json_body(request)
        return self._control(
            lambda: self.state.open_dispute(request.match_info["id"], str(data.get("reason", "fraudulent")))
        )

    async def _c_checkout_page(self, request: web.Request) -> web.Response:
        session = self.state.store.get("checkout_session", {}).get(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound(text="No such checkout session")
        return web.Response(
            text=(
                f"<html><body><h1>Sandbox checkout</h1><p>{session['amount_total']} {session['currency']}"
                f" - {session['status']}</p><p>POST /_sandbox/checkout/{session['id']}/complete to pay.</p>"
                "</body></html>"
            ),
            content_type="text/html",
        )

    async def _c_checkout_complete(self, request: web.Request) -> web.Response:
        data = await self._json_body(request)
        return self._control(
            lambda: self.state.complete_checkout(
                request.match_info["id"], str(data.get("payment_method", "pm_card_visa"))
            )
        )

    async def _c_resend(self, request: web.Request) -> web.Response:
        def go() -> dict[str, Any]:
            event = self.state.get("event", request.match_info["id"], "event")
            self._on_event(event)
            return {"id": event["id"], "pending_webhooks": event["pending_webhooks"]}

        return self._control(go)
