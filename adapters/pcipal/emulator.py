"""A PCI Pal emulator for tests, local development and ``voicepay demo`` (sandbox mode).

It serves the parts of PCI Pal's cloud API the gateway uses (token, session launch, a stub agent page) and a
**test-control API** that plays the caller on the phone. On a card scenario it does what PCI Pal's Stripe
"Payment" logic item does: it confirms a MOTO PaymentIntent in Stripe (the Stripe sandbox, or any
Stripe-shaped API at ``stripe_base_url``) with a Stripe *test* PaymentMethod (``pm_card_visa``...), then
posts the result to the session's ``callbackURL`` in the flow's format, with the flow's authentication,
retries and duplicates, and "emails" the result when every attempt fails (as PCI Pal does, per HMCTS's
notes).

Per flow (:class:`FlowConfig`) it does what the merchant's PCI Pal flow would: the Stripe step ("payment":
confirm the intent named in InitialValues or create and confirm its own MOTO intent with the order reference in
its metadata; "tokenisation": return a Stripe Token only), the InitialValues keys and amount unit it reads (a
launch missing a required value is refused), its result words, and its callback authentication (static
bearer or header key, a bearer from the merchant's token endpoint, HMAC; through the merchant's TLS proxy with
``X-Forwarded-For`` and a client certificate fingerprint).

Card data: the emulator never receives, generates or sends a card number. The caller's "card" is a brand name
that selects a Stripe test PaymentMethod id; callbacks carry last4 and expiry only, like real PCI Pal. Launch
and control requests carrying anything that looks like a PAN or CVV are refused.

Test-control API (JSON, no auth: bind it to 127.0.0.1)::

    POST /_emulator/sessions/{Id}/simulate   {"scenario": ..., "card": "visa", "delivery": {...},
                                              "wait": true}
    GET  /_emulator/sessions/{Id}            session state, result fields and delivery attempts
    GET  /_emulator/emails                   the "email" fallback records
    GET  /_emulator/deliveries               every callback delivery attempt
    POST /_emulator/tokens/revoke            invalidate every access token (exercises re-auth on 401)
    POST /_emulator/faults                   {"endpoint": "token"|"launch", "status": 503, "times": 1}
                                             or {"endpoint": ..., "hang": true, "times": 1}
    POST /_emulator/expire                   expire sessions past their TTL (timeout scenario)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from adapters.pcipal.callbacks import (
    DEFAULT_SIGNATURE_HEADER,
    contains_card_data,
    normalize_key,
    sign_callback,
)

__all__ = [
    "CARDS",
    "SCENARIOS",
    "CallbackAttempt",
    "DeliveryOptions",
    "EmailFallback",
    "EmulatedSession",
    "EmulatorCard",
    "FlowConfig",
    "PciPalEmulator",
    "SimulationResult",
    "main",
]

log = logging.getLogger(__name__)

Scenario = Literal[
    "success",
    "decline",
    "error",
    "cancel",
    "hangup",
    "timeout",
    "too_many_attempts",
    "authentication_required",
]
SCENARIOS: frozenset[str] = frozenset(get_args(Scenario))
Profile = Literal["hmcts_form", "hmrc_json", "stripe_rich"]
#: ``bearer``: a static ``Authorization: Bearer``; ``header_key``: a static key in ``bearer_header``;
#: ``token``: a bearer first obtained from the merchant's ``token_url`` (client credentials); ``hmac``.
CallbackAuth = Literal["none", "bearer", "header_key", "token", "hmac"]
#: PCI Pal's two documented Stripe logic items: "Payment" creates (or, given an intent id in InitialValues,
#: confirms) a MOTO PaymentIntent; "Tokenisation" only returns a token for the merchant to charge.
StripeStep = Literal["payment", "tokenisation"]

# Emulator-only sandbox credentials: they unlock nothing but this emulator.
DEFAULT_CLIENT_ID = "voicepay-sandbox"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105


@dataclass(frozen=True, slots=True)
class EmulatorCard:
    """A Stripe public test PaymentMethod and what PCI Pal would report of it (never a number)."""

    payment_method: str
    brand: str
    last4: str


# Stripe's documented test PaymentMethods (docs.stripe.com/testing). The last4 values are those Stripe
# reports for these ids; no card number is stored anywhere here.
CARDS: dict[str, EmulatorCard] = {
    "visa": EmulatorCard("pm_card_visa", "visa", "4242"),
    "visa_debit": EmulatorCard("pm_card_visa_debit", "visa", "5556"),
    "mastercard": EmulatorCard("pm_card_mastercard", "mastercard", "4444"),
    "amex": EmulatorCard("pm_card_amex", "amex", "8431"),
    "discover": EmulatorCard("pm_card_discover", "discover", "1117"),
}
_DECLINE_CARD = EmulatorCard("pm_card_chargeDeclinedInsufficientFunds", "visa", "9995")
_AUTH_REQUIRED_CARD = EmulatorCard("pm_card_authenticationRequired", "visa", "3184")


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """How one PCI Pal flow behaves: callback format and auth, delivery policy, session lifetime.

    ``callback_secret`` is the HMAC key (``hmac``) or the static token (``bearer``). ``retries`` counts the
    attempts after the first; ``retry_backoff`` is the first wait, doubled each time (real PCI Pal waits
    minutes; tests use milliseconds). ``session_ttl``: an unused session expires after it.
    ``timeout_sends_callback``: whether an expired session reports ``timeout`` to the callback URL or
    simply goes silent (both happen in the field, so the gateway must expire captures on its own too).
    """

    profile: Profile = "stripe_rich"
    stripe_step: StripeStep = "payment"
    callback_auth: CallbackAuth = "none"
    callback_secret: str | None = None
    bearer_header: str = "Authorization"
    signature_header: str = DEFAULT_SIGNATURE_HEADER
    callback_url: str | None = None
    #: ``token`` auth: the merchant's token endpoint and client id (``callback_secret`` is the client secret).
    token_url: str | None = None
    token_client_id: str | None = None
    #: Calls go through the merchant's TLS-terminating proxy: it adds ``X-Forwarded-For: source_ip`` and, when
    #: PCI Pal presents a client certificate (``client_cert_fingerprint``), its fingerprint in ``mtls_header``.
    via_proxy: bool = False
    source_ip: str = "203.0.113.10"
    client_cert_fingerprint: str | None = None
    mtls_header: str = "X-Client-Cert-Sha256"
    #: The flow's InitialValues (what it was built to read): the keys, the amount's unit, and keys a launch
    #: must carry (the emulator refuses a launch without them, so a wrong template fails loudly).
    amount_key: str = "amount"
    amount_unit: Literal["minor", "major"] = "minor"
    currency_key: str = "currency"
    reference_key: str = "orderReference"
    callback_key: str = "callbackURL"
    required_values: tuple[str, ...] = ()
    #: The words this flow writes for each result (ours -> theirs), e.g. {"success": "AUTHORISED"}.
    result_words: Mapping[str, str] = field(default_factory=dict)
    retries: int = 3
    retry_backoff: float = 0.05
    request_timeout: float = 5.0
    session_ttl: float = 900.0
    timeout_sends_callback: bool = True
    fallback_email: str = "payments-ops@example.invalid"

    def __post_init__(self) -> None:
        if self.callback_auth != "none" and not self.callback_secret:
            raise ValueError("callback_auth needs callback_secret")
        if self.callback_auth == "token" and not (self.token_url and self.token_client_id):
            raise ValueError("token callback_auth needs token_url and token_client_id")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")

    def __repr__(self) -> str:
        return f"FlowConfig(profile={self.profile!r}, callback_auth={self.callback_auth!r})"


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """Per-simulation delivery knobs. ``fail_first``: the first N attempts are dropped before sending (as if
    the connection failed); ``duplicates``: extra identical deliveries after the first success;
    ``retries`` overrides the flow's; ``delay_ms`` waits before the first attempt."""

    retries: int | None = None
    duplicates: int = 0
    delay_ms: int = 0
    fail_first: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DeliveryOptions:
        data = data or {}
        retries = data.get("retries")
        return cls(
            retries=None if retries is None else int(retries),
            duplicates=int(data.get("duplicates", 0)),
            delay_ms=int(data.get("delay_ms", 0)),
            fail_first=int(data.get("fail_first", 0)),
        )


@dataclass(slots=True)
class CallbackAttempt:
    session_id: str
    attempt: int
    url: str
    status: int | None
    error: str | None
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(slots=True)
class EmailFallback:
    session_id: str
    to: str
    fields: dict[str, str]
    reason: str


@dataclass(slots=True)
class EmulatedSession:
    id: str
    link_id: str
    tenant_number: str
    flow_id: str
    initial_values: dict[str, str]
    created_at: float
    status: Literal["awaiting_caller", "completed", "expired"] = "awaiting_caller"
    result: str | None = None
    callback_fields: dict[str, str] | None = None
    payment_intent_id: str | None = None

    def value(self, *names: str) -> str | None:
        """An InitialValues entry by any casing (PCI Pal binds names case-insensitively)."""
        by_norm = {normalize_key(k): v for k, v in self.initial_values.items()}
        for name in names:
            v = by_norm.get(normalize_key(name))
            if v:
                return v
        return None


@dataclass(slots=True)
class SimulationResult:
    session_id: str
    result: str
    fields: dict[str, str]
    delivered: bool
    attempts: int
    payment_intent_id: str | None
    emailed: bool


@dataclass(slots=True)
class _Fault:
    endpoint: str
    status: int | None
    hang: bool
    times: int


@dataclass(slots=True)
class _Outcome:
    """What the caller and Stripe produced; turned into a profile's fields afterwards."""

    result: str  # our vocabulary (CaptureStatus)
    card: EmulatorCard | None = None
    payment_intent_id: str | None = None
    payment_intent_status: str | None = None
    message: str | None = None
    decline_code: str | None = None
    auth_code: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    token: str | None = None  # the Tokenisation step's Stripe Token id


def _from_stripe(pm: object, entered: EmulatorCard, outcome: _Outcome) -> _Outcome:
    """Report the card as Stripe saw it (real PaymentMethod id, brand, last4, expiry) when Stripe says.

    PCI Pal reports what the caller keyed in; Stripe's test PaymentMethods stand for those digits, so their
    details are what a faithful callback carries. Falls back to the catalogue entry.
    """
    if isinstance(pm, dict) and isinstance(pm.get("card"), dict):
        card = pm["card"]
        outcome.card = EmulatorCard(
            str(pm.get("id") or entered.payment_method),
            str(card.get("brand") or entered.brand),
            str(card.get("last4") or entered.last4),
        )
        if isinstance(card.get("exp_month"), int) and isinstance(card.get("exp_year"), int):
            outcome.exp_month, outcome.exp_year = card["exp_month"], card["exp_year"]
    return outcome


@dataclass(slots=True)
class _IssuedToken:
    client_id: str
    expires_at: float


class PciPalEmulator:
    """The emulator. Use :meth:`make_app` inside an aiohttp test server, or :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        *,
        tenant_name: str = "sandbox",
        tenant_number: str = "1000",
        username: str = "APIUser",
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        flows: dict[str, FlowConfig] | None = None,
        stripe_base_url: str | None = None,
        stripe_api_key: str | None = None,
        clock: Callable[[], float] = time.time,
        token_ttl: int = 299,
        refresh_token_ttl: int = 3600,
    ) -> None:
        self.tenant_name = tenant_name
        self.tenant_number = str(tenant_number)
        self.username = username
        self.client_id = client_id
        self._client_secret = client_secret
        self.flows: dict[str, FlowConfig] = (
            {str(k): v for k, v in flows.items()} if flows else {"1055": FlowConfig()}
        )
        self.stripe_base_url = stripe_base_url.rstrip("/") if stripe_base_url else None
        self._stripe_api_key = stripe_api_key
        self._clock = clock
        self.token_ttl = token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.sessions: dict[str, EmulatedSession] = {}
        self.deliveries: list[CallbackAttempt] = []
        self.emails: list[EmailFallback] = []
        self.token_requests: list[str] = []  # grant types, in order: lets tests count token fetches
        self.launch_requests = 0
        self.merchant_token_requests = 0
        self._merchant_tokens: dict[str, tuple[str, float]] = {}
        self._access_tokens: dict[str, _IssuedToken] = {}
        self._refresh_tokens: dict[str, _IssuedToken] = {}
        self._faults: list[_Fault] = []
        self._hang = asyncio.Event()  # never set: a hung request waits until the emulator stops
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    def __repr__(self) -> str:
        return f"PciPalEmulator(tenant_number={self.tenant_number!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------------------------ lifecycle

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v1/token", self._token)
        app.router.add_post("/api/v1/session/{tenant}/launch", self._launch)
        app.router.add_route("*", "/session/{tenant}/view/{id}/framed", self._view)
        app.router.add_post("/_emulator/sessions/{id}/simulate", self._ctl_simulate)
        app.router.add_get("/_emulator/sessions/{id}", self._ctl_session)
        app.router.add_get("/_emulator/emails", self._ctl_emails)
        app.router.add_get("/_emulator/deliveries", self._ctl_deliveries)
        app.router.add_post("/_emulator/tokens/revoke", self._ctl_revoke)
        app.router.add_post("/_emulator/faults", self._ctl_faults)
        app.router.add_post("/_emulator/expire", self._ctl_expire)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 = any free port) and return the base URL."""
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        # Release hung requests first: the runner waits for in-flight handlers before cleanup signals run.
        self._hang.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        else:
            await self._on_cleanup(None)

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._hang.set()

    async def _on_cleanup(self, _app: web.Application | None) -> None:
        self._hang.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    # ------------------------------------------------------------------------------ fault injection

    def inject_fault(
        self, endpoint: Literal["token", "launch"], *, status: int | None = None, hang: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` answer ``status`` or hang until stop()."""
        if status is None and not hang:
            raise ValueError("a fault needs a status or hang=True")
        self._faults.append(_Fault(endpoint, status, hang, times))

    async def _apply_fault(self, endpoint: str) -> web.Response | None:
        for fault in self._faults:
            if fault.endpoint == endpoint and fault.times > 0:
                fault.times -= 1
                if fault.hang:
                    await self._hang.wait()
                    raise web.HTTPServiceUnavailable()
                return web.json_response({"error": "injected fault"}, status=fault.status or 503)
        return None

    async def wait_idle(self) -> None:
        """Wait for background simulations (``"wait": false``) to finish delivering."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def revoke_tokens(self) -> None:
        self._access_tokens.clear()

    # ------------------------------------------------------------------------------- PCI Pal API

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = str(form.get("grant_type", ""))
        self.token_requests.append(grant)
        fault = await self._apply_fault("token")
        if fault is not None:
            return fault
        client_id = str(form.get("client_id", ""))
        secret = str(form.get("client_secret", ""))
        # OAuth (RFC 6749 5.2) answers bad client credentials with 400 invalid_client.
        client_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode()) & hmac.compare_digest(
            secret.encode(), self._client_secret.encode()
        )
        if grant == "client_credentials":
            tenant_ok = str(form.get("tenantname", "")) == self.tenant_name
            user_ok = str(form.get("username", "")) == self.username
            if not (client_ok and tenant_ok and user_ok):
                return web.json_response({"error": "invalid_client"}, status=400)
        elif grant == "refresh_token":
            if not client_ok:
                return web.json_response({"error": "invalid_client"}, status=400)
            presented = str(form.get("refresh_token", ""))
            issued = self._refresh_tokens.pop(presented, None)  # single use: rotated on every refresh
            if issued is None or issued.expires_at <= self._clock():
                return web.json_response({"error": "invalid_grant"}, status=400)
        else:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        now = self._clock()
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        self._access_tokens[access] = _IssuedToken(client_id, now + self.token_ttl)
        self._refresh_tokens[refresh] = _IssuedToken(client_id, now + self.refresh_token_ttl)
        return web.json_response(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": self.token_ttl,
                "refresh_token": refresh,
                "client_id": client_id,
                "tenantName": self.tenant_name,
                ".issued": _http_date(now),
                ".expires": _http_date(now + self.token_ttl),
            }
        )

    def _authorised(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        issued = self._access_tokens.get(token.strip())
        return issued is not None and issued.expires_at > self._clock()

    async def _launch(self, request: web.Request) -> web.Response:
        self.launch_requests += 1
        fault = await self._apply_fault("launch")
        if fault is not None:
            return fault
        if not self._authorised(request):
            return web.json_response({"Message": "Authorization has been denied for this request."},
                                     status=401)
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_number:
            return web.json_response({"Message": "tenant not found"}, status=404)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"Message": "invalid JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"Message": "invalid request"}, status=400)
        by_norm = {normalize_key(str(k)): v for k, v in body.items()}
        flow_id = by_norm.get("flowid")
        initial = by_norm.get("initialvalues") or {}
        if not isinstance(initial, dict):
            return web.json_response({"Message": "InitialValues must be an object"}, status=400)
        if flow_id is None or str(flow_id) not in self.flows:
            return web.json_response({"Message": "flow identifier not found"}, status=400)
        values = {str(k): "" if v is None else str(v) for k, v in initial.items()}
        present = {normalize_key(k) for k, v in values.items() if v}
        missing = [k for k in self.flows[str(flow_id)].required_values if normalize_key(k) not in present]
        if missing:
            # The flow cannot run without the values it was built to read.
            return web.json_response({"Message": "InitialValues missing: " + ", ".join(missing)}, status=400)
        if contains_card_data(values):
            # PCI Pal's whole point: card data is keyed by the caller, never passed in by the merchant.
            return web.json_response({"Message": "card data not accepted"}, status=400)
        session = EmulatedSession(
            id=str(uuid.uuid4()),
            link_id=str(secrets.randbelow(9000) + 1000),
            tenant_number=tenant,
            flow_id=str(flow_id),
            initial_values=values,
            created_at=self._clock(),
        )
        self.sessions[session.id] = session
        return web.json_response({"Id": session.id, "LinkId": session.link_id})

    async def _view(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None or request.match_info["tenant"] != self.tenant_number:
            raise web.HTTPNotFound()
        html = (
            "<!doctype html><title>PCI Pal Agent Assist (emulator)</title>"
            f"<h1>Secure capture session {session.link_id}</h1>"
            f"<p>Status: {session.status}. The caller keys card details on the phone pad.</p>"
        )
        return web.Response(text=html, content_type="text/html")

    # -------------------------------------------------------------------------- test-control API

    async def _ctl_simulate(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or contains_card_data(body):
            # Even the test harness cannot hand the emulator a card number: a "card" is a brand name.
            return web.json_response({"error": "card data not accepted; pass a card brand"}, status=400)
        scenario = str(body.get("scenario", "success"))
        card = str(body.get("card", "visa"))
        try:
            delivery = DeliveryOptions.from_json(body.get("delivery"))
        except (TypeError, ValueError, AttributeError):
            return web.json_response({"error": "invalid delivery options"}, status=400)
        session_id = request.match_info["id"]
        try:
            self._check_simulation(session_id, scenario, card)
        except LookupError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=409 if "session" in str(exc) else 400)
        if body.get("wait", True):
            result = await self.simulate(session_id, scenario, card=card, delivery=delivery)
            return web.json_response(asdict(result))
        task = asyncio.create_task(self.simulate(session_id, scenario, card=card, delivery=delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"session_id": session_id, "accepted": True}, status=202)

    async def _ctl_session(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound()
        attempts = [asdict(a) for a in self.deliveries if a.session_id == session.id]
        return web.json_response(
            {
                "id": session.id,
                "link_id": session.link_id,
                "flow_id": session.flow_id,
                "status": session.status,
                "result": session.result,
                "initial_values": session.initial_values,
                "callback_fields": session.callback_fields,
                "payment_intent_id": session.payment_intent_id,
                "deliveries": attempts,
            }
        )

    async def _ctl_emails(self, _request: web.Request) -> web.Response:
        return web.json_response([asdict(e) for e in self.emails])

    async def _ctl_deliveries(self, _request: web.Request) -> web.Response:
        return web.json_response([asdict(d) for d in self.deliveries])

    async def _ctl_revoke(self, _request: web.Request) -> web.Response:
        self.revoke_tokens()
        return web.json_response({"revoked": True})

    async def _ctl_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            endpoint = body["endpoint"]
            if endpoint not in ("token", "launch"):
                raise ValueError(endpoint)
            status = body.get("status")
            self.inject_fault(
                endpoint, status=None if status is None else int(status), hang=bool(body.get("hang")),
                times=int(body.get("times", 1)),
            )
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "invalid fault"}, status=400)
        return web.json_response({"ok": True})

    async def _ctl_expire(self, _request: web.Request) -> web.Response:
        expired = await self.expire_due_sessions()
        return web.json_response({"expired": expired})

    # ------------------------------------------------------------------------------ the "caller"

    def _check_simulation(self, session_id: str, scenario: str, card: str) -> EmulatedSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise LookupError("session not found")
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario; expected one of {sorted(SCENARIOS)}")
        if card not in CARDS:
            raise ValueError(f"unknown card; expected one of {sorted(CARDS)}")
        if session.status != "awaiting_caller":
            raise ValueError(f"session is {session.status}")
        if self._clock() - session.created_at > self.flows[session.flow_id].session_ttl:
            raise ValueError("session expired")
        return session

    async def simulate(
        self,
        session_id: str,
        scenario: Scenario | str,
        *,
        card: str = "visa",
        delivery: DeliveryOptions | None = None,
    ) -> SimulationResult:
        """Play the caller through ``scenario`` on a session, charge via Stripe if a card is entered, and
        deliver the callback (awaiting every retry). Raises ``LookupError`` / ``ValueError`` for an unknown
        session, scenario or card, or a session no longer awaiting a caller."""
        session = self._check_simulation(session_id, str(scenario), card)
        session.status = "completed"  # claimed now so a concurrent simulate cannot charge twice
        flow = self.flows[session.flow_id]
        outcome = await self._play(session, str(scenario), CARDS[card])
        if scenario == "timeout":
            session.status = "expired"
        return await self._finish(session, flow, outcome, delivery or DeliveryOptions())

    async def expire_due_sessions(self) -> list[str]:
        """Expire sessions nobody used within their flow's TTL, reporting ``timeout`` where configured."""
        now = self._clock()
        due = [
            s for s in self.sessions.values()
            if s.status == "awaiting_caller" and now - s.created_at > self.flows[s.flow_id].session_ttl
        ]
        for session in due:
            session.status = "expired"
            await self._finish(session, self.flows[session.flow_id], _Outcome("timeout",
                               message="Session timed out"), DeliveryOptions())
        return [s.id for s in due]

    async def _finish(
        self, session: EmulatedSession, flow: FlowConfig, outcome: _Outcome, delivery: DeliveryOptions
    ) -> SimulationResult:
        session.result = outcome.result
        session.payment_intent_id = outcome.payment_intent_id
        fields = self._callback_fields(session, flow, outcome)
        session.callback_fields = fields
        delivered, attempts, emailed = False, 0, False
        if outcome.result != "timeout" or flow.timeout_sends_callback:
            delivered, attempts = await self._deliver(session, flow, fields, delivery)
            if not delivered:
                emailed = True
                self.emails.append(
                    EmailFallback(session.id, flow.fallback_email, fields,
                                  "no callback URL" if attempts == 0 else "callback delivery failed")
                )
        return SimulationResult(session.id, outcome.result, fields, delivered, attempts,
                                outcome.payment_intent_id, emailed)

    async def _play(self, session: EmulatedSession, scenario: str, card: EmulatorCard) -> _Outcome:
        if scenario == "cancel":
            return _Outcome("cancelled", message="Cancelled by caller")
        if scenario == "hangup":
            return _Outcome("hangup", message="Caller hung up during card entry")
        if scenario == "timeout":
            return _Outcome("timeout", message="Session timed out")
        if scenario == "too_many_attempts":
            return _Outcome("too_many_attempts", message="Too many invalid card entries")
        if scenario == "error":
            return _Outcome("error", message="Payment gateway error")
        special = {"decline": _DECLINE_CARD, "authentication_required": _AUTH_REQUIRED_CARD}
        chosen = special.get(scenario, card)
        if flow_step(self, session) == "tokenisation":
            # Tokenising succeeds whatever the bank will say: the decline comes when the merchant charges.
            # Stripe's test tokens mirror its test PaymentMethods (tok_visa <-> pm_card_visa).
            return _Outcome("success", card=chosen, auth_code=None,
                            token="tok_" + chosen.payment_method.removeprefix("pm_card_"))
        if self.stripe_base_url is None:
            # No Stripe configured: report what PCI Pal would, with no gateway ids.
            return {
                "success": _Outcome("success", card=chosen, auth_code=_auth_code()),
                "decline": _Outcome("declined", card=chosen, message="Insufficient Funds",
                                    decline_code="insufficient_funds"),
                "authentication_required": _Outcome("authentication_required", card=chosen,
                                                    message="authentication_required",
                                                    decline_code="authentication_required"),
            }[scenario]
        return await self._charge(session, chosen)

    async def _charge(self, session: EmulatedSession, card: EmulatorCard) -> _Outcome:
        """PCI Pal's Stripe "Payment" logic item: confirm a MOTO PaymentIntent with the entered card."""
        assert self.stripe_base_url is not None
        pi_id = session.value("paymentIntentId", "stripePaymentIntent", "payment_intent")
        form: dict[str, str] = {
            "payment_method": card.payment_method,
            "payment_method_options[card][moto]": "true",
            # The callback reports the card as Stripe recorded it (see _from_stripe).
            "expand[]": "payment_method",
        }
        if pi_id is not None:
            url = f"{self.stripe_base_url}/v1/payment_intents/{pi_id}/confirm"
        else:
            url = f"{self.stripe_base_url}/v1/payment_intents"
            flow = self.flows[session.flow_id]
            amount = _flow_amount_minor(flow, session)
            if amount is None:
                return _Outcome("error", card=card, message="Invalid amount")
            reference = _flow_reference(flow, session)
            form.update(
                {
                    "amount": amount,
                    "currency": _flow_currency(flow, session).lower(),
                    "allowed_payment_method_types[]": "card",
                    "confirm": "true",
                    "capture_method": "automatic",
                    "metadata[pcipal_session_id]": session.id,
                    "metadata[order_reference]": reference,
                    # The flow maps the merchant's order reference (the capture id) into the intent, so the
                    # merchant's Stripe webhooks can match it even when a callback is lost.
                    "metadata[voicepay_capture_id]": reference,
                    "description": f"PCI Pal {reference or session.id}",
                }
            )
        headers = {
            "Authorization": f"Bearer {self._stripe_api_key or ''}",
            # One key per session: a retried POST after a lost reply cannot charge twice.
            "Idempotency-Key": f"pcipal-emulator-{session.id}",
        }
        try:
            async with self._client().post(
                url, data=form, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as resp:
                status = resp.status
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("emulator: Stripe call failed: %s", type(exc).__name__)
            return _Outcome("error", card=card, payment_intent_id=pi_id, message="Payment gateway error")
        if not isinstance(data, dict):
            data = {}
        if status == 200:
            pi_id = str(data.get("id") or pi_id or "")
            pi_status = str(data.get("status", ""))
            pm = data.get("payment_method")
            if pi_status in ("succeeded", "requires_capture", "processing"):
                return _from_stripe(pm, card, _Outcome(
                    "success", card=card, payment_intent_id=pi_id, payment_intent_status=pi_status,
                    auth_code=_auth_code()))
            if pi_status == "requires_action":
                return _from_stripe(pm, card, _Outcome(
                    "authentication_required", card=card, payment_intent_id=pi_id,
                    payment_intent_status=pi_status, message="authentication_required",
                    decline_code="authentication_required"))
            return _from_stripe(pm, card, _Outcome(
                "declined", card=card, payment_intent_id=pi_id, payment_intent_status=pi_status,
                message="Payment not completed"))
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        assert isinstance(error, dict)
        err_pi = error.get("payment_intent")
        if isinstance(err_pi, dict) and err_pi.get("id"):
            pi_id = str(err_pi["id"])
        code = str(error.get("code") or "")
        decline_code = str(error.get("decline_code") or code or "")
        err_pm = error.get("payment_method")
        if status == 402 and "authentication_required" in (code, decline_code):
            return _from_stripe(err_pm, card, _Outcome(
                "authentication_required", card=card, payment_intent_id=pi_id,
                message="authentication_required", decline_code="authentication_required"))
        if status == 402:
            return _from_stripe(err_pm, card, _Outcome(
                "declined", card=card, payment_intent_id=pi_id, message=_decline_message(decline_code),
                decline_code=decline_code or None))
        return _Outcome("error", card=card, payment_intent_id=pi_id, message="Payment gateway error")

    # -------------------------------------------------------------------------- callback shaping

    def _callback_fields(self, session: EmulatedSession, flow: FlowConfig, o: _Outcome) -> dict[str, str]:
        # Without Stripe's word on the expiry, a plausible future one (Stripe's test cards take any).
        exp_month = o.exp_month or 12
        exp_year = o.exp_year or time.gmtime(self._clock()).tm_year + 3
        card = o.card if o.result in ("success", "declined", "authentication_required") else None
        amount = _flow_amount_minor(flow, session) or ""
        currency = _flow_currency(flow, session).upper()
        reference = _flow_reference(flow, session)
        if flow.profile == "hmcts_form":
            # HMCTS's flow only knows four results; the detail goes to transactionResponseMsg and customData2.
            hmcts = {"success": "SUCCESS", "declined": "DECLINE", "authentication_required": "DECLINE",
                     "cancelled": "CANCELLED", "hangup": "CANCELLED"}.get(o.result, "ERROR")
            return {
                "orderCurrency": currency,
                "orderAmount": amount,
                "orderReference": reference,
                "ppAccountID": self.tenant_number,
                "transactionResult": flow.result_words.get(o.result, hmcts),
                "transactionAuthCode": o.auth_code or "",
                "transactionID": o.payment_intent_id or "",
                "transactionResponseMsg": o.message or "",
                "cardExpiry": f"{exp_month:02d}{exp_year % 100:02d}" if card else "",
                "cardLast4": card.last4 if card else "",
                "cardType": card.brand.upper() if card else "",
                "ppCallID": session.link_id,
                "customData1": session.id,
                "customData2": o.result,
                "customData3": "CreditCard" if card else "",
                "customData4": "",
            }
        if flow.profile == "hmrc_json":
            return {
                "HoD": "A",
                "TaxReference": reference,
                "Amount": _major(amount),
                "Commission": "0.00",
                "CardType": card.brand.upper() if card else "",
                "Status": "validated" if o.result == "success" else "failed",
                "PCIPalSessionId": session.id,
                "TransactionReference": o.payment_intent_id or "",
                "paymentItemId": session.value("paymentItemId") or "",
                "ChargeReference": session.value("ChargeReference", "chargeReference") or reference,
                "ReferenceNumber": reference,
                "CardLast4": card.last4 if card else "",
            }
        return {
            "transactionResult": flow.result_words.get(o.result, o.result),
            "PCIPalSessionId": session.id,
            "linkId": session.link_id,
            "orderReference": reference,
            "orderAmount": amount,
            "orderCurrency": currency.lower(),
            "transactionID": o.payment_intent_id or "",
            "transactionAuthCode": o.auth_code or "",
            "transactionResponseMsg": o.message or "",
            "declineCode": o.decline_code or "",
            "stripePaymentIntent": o.payment_intent_id or "",
            "stripePaymentIntentStatus": o.payment_intent_status or "",
            # The Tokenisation step outputs a Token (``id``, object=token), not a PaymentMethod.
            "stripePaymentMethod": card.payment_method if card and o.token is None else "",
            "stripeToken": o.token or "",
            "cardType": card.brand if card else "",
            "cardLast4": card.last4 if card else "",
            "cardExpMonth": str(exp_month) if card else "",
            "cardExpYear": str(exp_year) if card else "",
        }

    def _encode(self, flow: FlowConfig, fields: Mapping[str, str]) -> tuple[bytes, str]:
        if flow.profile == "hmcts_form":
            return urlencode(fields).encode(), "application/x-www-form-urlencoded"
        if flow.profile == "hmrc_json":
            # HMRC's model types Amount/Commission as numbers.
            data: dict[str, Any] = dict(fields)
            for key in ("Amount", "Commission"):
                with contextlib.suppress(ValueError):
                    data[key] = float(fields[key])
            return json.dumps(data).encode(), "application/json"
        return json.dumps(dict(fields)).encode(), "application/json"

    async def _auth_headers(self, flow: FlowConfig, body: bytes, *, fresh_token: bool = False) -> dict[str, str]:
        headers: dict[str, str] = {}
        if flow.via_proxy:
            headers["X-Forwarded-For"] = flow.source_ip
            if flow.client_cert_fingerprint:
                headers[flow.mtls_header] = flow.client_cert_fingerprint
        if flow.callback_auth == "bearer":
            assert flow.callback_secret is not None
            if flow.bearer_header.lower() == "authorization":
                headers["Authorization"] = f"Bearer {flow.callback_secret}"
            else:
                headers[flow.bearer_header] = flow.callback_secret
        elif flow.callback_auth == "header_key":
            assert flow.callback_secret is not None
            headers[flow.bearer_header] = flow.callback_secret
        elif flow.callback_auth == "token":
            token = await self._callback_token(flow, fresh=fresh_token)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
        elif flow.callback_auth == "hmac":
            assert flow.callback_secret is not None
            headers[flow.signature_header] = sign_callback(body, flow.callback_secret, int(self._clock()))
        return headers

    async def _callback_token(self, flow: FlowConfig, *, fresh: bool) -> str | None:
        """A bearer from the merchant's token endpoint, reused until shortly before it expires."""
        assert flow.token_url is not None
        assert flow.token_client_id is not None
        assert flow.callback_secret
        cached = self._merchant_tokens.get(flow.token_url)
        if cached is not None and not fresh and cached[1] - 10 > self._clock():
            return cached[0]
        headers = {"X-Forwarded-For": flow.source_ip} if flow.via_proxy else {}
        if flow.via_proxy and flow.client_cert_fingerprint:
            headers[flow.mtls_header] = flow.client_cert_fingerprint
        form = {"grant_type": "client_credentials", "client_id": flow.token_client_id,
                "client_secret": flow.callback_secret}
        self.merchant_token_requests += 1
        try:
            async with self._client().post(flow.token_url, data=form, headers=headers,
                                           timeout=aiohttp.ClientTimeout(total=flow.request_timeout)) as resp:
                data = await resp.json(content_type=None) if resp.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            return None
        expires_in = data.get("expires_in")
        ttl = float(expires_in) if isinstance(expires_in, int) else 60.0
        self._merchant_tokens[flow.token_url] = (data["access_token"], self._clock() + ttl)
        return str(data["access_token"])

    async def _deliver(
        self, session: EmulatedSession, flow: FlowConfig, fields: Mapping[str, str],
        options: DeliveryOptions,
    ) -> tuple[bool, int]:
        url = session.value(flow.callback_key, "callbackURL", "callbackUrl") or flow.callback_url
        if not url:
            return False, 0
        if options.delay_ms:
            await asyncio.sleep(options.delay_ms / 1000)
        body, content_type = self._encode(flow, fields)
        retries = flow.retries if options.retries is None else options.retries
        attempts = 0
        for attempt in range(1, retries + 2):
            attempts = attempt
            if attempt > 1:
                await asyncio.sleep(flow.retry_backoff * (2 ** (attempt - 2)))
            if attempt <= options.fail_first:
                self.deliveries.append(
                    CallbackAttempt(session.id, attempt, url, None, "simulated connection failure")
                )
                continue
            record = await self._post(session.id, attempt, url, flow, body, content_type)
            if record.ok:
                for _ in range(options.duplicates):
                    dup = await self._post(session.id, attempt, url, flow, body, content_type)
                    dup.duplicate = True
                return True, attempts
        return False, attempts

    async def _post(
        self, session_id: str, attempt: int, url: str, flow: FlowConfig, body: bytes, content_type: str
    ) -> CallbackAttempt:
        # Re-signed per attempt, as a real signer would: the timestamp must stay within tolerance.
        record = CallbackAttempt(session_id, attempt, url, None, None)
        for refresh in (False, True):
            headers = {"Content-Type": content_type, **await self._auth_headers(flow, body, fresh_token=refresh)}
            record = await self._post_once(record, url, flow, body, headers)
            # A 401 with a merchant-issued token: it may have expired early; fetch a new one once.
            if record.status != 401 or flow.callback_auth != "token":
                break
        self.deliveries.append(record)
        return record

    async def _post_once(
        self, record: CallbackAttempt, url: str, flow: FlowConfig, body: bytes, headers: dict[str, str]
    ) -> CallbackAttempt:
        record = CallbackAttempt(record.session_id, record.attempt, url, None, None)
        try:
            async with self._client().post(
                url, data=body, headers=headers,
                timeout=aiohttp.ClientTimeout(total=flow.request_timeout),
            ) as resp:
                record.status = resp.status
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            record.error = type(exc).__name__
        return record


def _flow_amount_minor(flow: FlowConfig, session: EmulatedSession) -> str | None:
    """The amount in minor units as the flow reads it (Stripe's Payment step takes minor units, <= 8 digits)."""
    raw = session.value(flow.amount_key, "amount")
    if raw is None:
        return None
    if flow.amount_unit == "major":
        whole, _, frac = raw.partition(".")
        if not whole.isdigit() or not (frac.isdigit() or frac == "") or len(frac) > 2:
            return None
        raw = str(int(whole) * 100 + int((frac or "0").ljust(2, "0")))
    return raw if raw.isdigit() and len(raw) <= 8 else None


def _flow_reference(flow: FlowConfig, session: EmulatedSession) -> str:
    return session.value(flow.reference_key, "orderId", "orderReference", "reference") or ""


def _flow_currency(flow: FlowConfig, session: EmulatedSession) -> str:
    return session.value(flow.currency_key, "currencyCode", "currency") or "GBP"


def flow_step(emulator: PciPalEmulator, session: EmulatedSession) -> StripeStep:
    return emulator.flows[session.flow_id].stripe_step


def _auth_code() -> str:
    return f"{secrets.randbelow(900000) + 100000}"


def _major(minor: str) -> str:
    try:
        value = int(minor)
    except ValueError:
        return "0.00"
    return f"{value // 100}.{value % 100:02d}"


def _decline_message(code: str) -> str:
    return {
        "insufficient_funds": "Insufficient Funds",
        "card_declined": "Card declined",
        "generic_decline": "Card declined",
        "expired_card": "Card expired",
        "lost_card": "Card declined",
        "stolen_card": "Card declined",
    }.get(code, "Card declined")


def _http_date(ts: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ts))


# ---------------------------------------------------------------------------------------------------- CLI


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m adapters.pcipal.emulator", description=__doc__.split("\n")[0]
                                if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tenant-name", default="sandbox")
    p.add_argument("--tenant-number", default="1000")
    p.add_argument("--username", default="APIUser")
    p.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    p.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    p.add_argument("--flow-id", action="append", default=None, help="flow id (repeatable); default 1055")
    p.add_argument("--profile", choices=list(get_args(Profile)), default="stripe_rich")
    p.add_argument("--callback-auth", choices=list(get_args(CallbackAuth)), default="none")
    p.add_argument("--callback-secret", default=None,
                   help="HMAC secret, static bearer/header key, or the merchant token endpoint's client secret")
    p.add_argument("--key-header", default="Authorization", help="header for --callback-auth header_key/bearer")
    p.add_argument("--token-url", default=None, help="merchant token endpoint (--callback-auth token)")
    p.add_argument("--token-client-id", default=None)
    p.add_argument("--stripe-step", choices=list(get_args(StripeStep)), default="payment")
    p.add_argument("--stripe-base-url", default=None)
    p.add_argument("--stripe-api-key", default=None)
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    flow = FlowConfig(profile=args.profile, callback_auth=args.callback_auth,
                      callback_secret=args.callback_secret, retry_backoff=1.0, bearer_header=args.key_header,
                      token_url=args.token_url, token_client_id=args.token_client_id, stripe_step=args.stripe_step)
    emulator = PciPalEmulator(
        tenant_name=args.tenant_name,
        tenant_number=args.tenant_number,
        username=args.username,
        client_id=args.client_id,
        client_secret=args.client_secret,
        flows={fid: flow for fid in (args.flow_id or ["1055"])},
        stripe_base_url=args.stripe_base_url,
        stripe_api_key=args.stripe_api_key,
    )
    url = await emulator.start(args.host, args.port)
    print(f"PCI Pal emulator listening on {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
