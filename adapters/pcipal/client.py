"""PCI Pal cloud API client: OAuth-style token (cached, refreshed) and session launch.

The API shape is what UK government services that publish their code use (HMCTS ``ccpay-payment-app``, HMRC
``tps-payments-backend``): ``POST /api/v1/token`` (form, ``client_credentials`` with ``tenantname`` and
``username``) and ``POST /api/v1/session/{tenantNumber}/launch`` (``{FlowId, InitialValues}`` ->
``{Id, LinkId}``).

Retry decision for launch (see :func:`should_retry`): a launch is **not idempotent** at PCI Pal: there is no
idempotency key, each POST creates a session. So only failures that are known not to have created one are
retried: a connection that never opened, a connect timeout, ``429`` and ``503`` (the server refused before
doing any work). A read timeout, a dropped connection after sending, ``500``, ``502`` and ``504`` may each
have created a session: they raise with outcome ``UNKNOWN`` and are not retried here. An orphaned session
costs nothing (no money moves until a caller keys a card into *that* session, and it expires), so the
gateway may launch again after an UNKNOWN, as long as it transfers the caller to one session only; that choice
belongs to the gateway, not to this client. Token requests create nothing, so they are retried on any
transient failure.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from adapters.outcomes import (
    CallObserver,
    Outcome,
    ProviderAuthError,
    ProviderError,
    ProviderInvalidRequest,
    ProviderNotFound,
    ProviderTimeout,
    ProviderUnavailable,
)
from adapters.resilience import CircuitBreaker, RetryPolicy, build_async_retrying
from adapters.secret import Secret, SupportsReveal

__all__ = ["LaunchResult", "PciPalClient", "Secret", "SupportsReveal", "retry_after", "should_retry"]

PROVIDER: Final = "pcipal"

# Refresh this long before the reported expiry: PCI Pal tokens live ~299 s, so 30 s covers clock skew between
# us and PCI Pal plus a slow launch, without refreshing more than about once every 4.5 minutes.
TOKEN_REFRESH_MARGIN: Final = 30.0

# Status codes that mean "the server refused before acting": safe to send the launch again.
_REFUSED_BEFORE_ACTING: Final = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class LaunchResult:
    """``session_id`` is PCI Pal's ``Id`` (a GUID); ``link_id`` its short numeric ``LinkId``."""

    session_id: str
    link_id: str


@dataclass(slots=True)
class _Token:
    access_token: str
    refresh_token: str | None
    expires_at: float

    def __repr__(self) -> str:
        return f"_Token(expires_at={self.expires_at})"


def should_retry(exc: BaseException) -> bool:
    """The one retry decision for PCI Pal calls (tenacity calls it).

    * Only :class:`ProviderError` subclasses are considered: the client maps every aiohttp failure first, so
      the decision sees what we *know*, not a transport detail.
    * Retry only when the error is retryable **and** its outcome is ``NOT_ATTEMPTED``: the request is known
      not to have had an effect (connection refused, connect timeout, 429, 503; or any transient failure of
      the side-effect-free token request).
    * Never retry ``UNKNOWN`` (a launch that may have created a session), declines, invalid requests or auth
      errors (a second try gives the same answer; a 401 on launch is handled apart: re-authenticate once).
    * Never retry while the circuit breaker is open.
    """
    if not isinstance(exc, ProviderError):
        return False
    if exc.code == "pcipal_circuit_open":
        return False  # the breaker said "stop calling": waiting a backoff inside this call won't change that
    return exc.retryable and exc.outcome is Outcome.NOT_ATTEMPTED


def retry_after(exc: BaseException) -> float | None:
    """PCI Pal's ``Retry-After`` hint (seconds) carried on the error, if any."""
    return exc.retry_after if isinstance(exc, ProviderError) else None


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: ignore it, our own backoff applies


def _get_ci(data: Mapping[str, Any], name: str) -> Any:
    # PCI Pal is .NET: reply keys may come back ``Id`` or ``id``.
    lowered = name.lower()
    for key, value in data.items():
        if key.lower() == lowered:
            return value
    return None


class PciPalClient:
    """Talks to one PCI Pal tenant. Safe to share between concurrent tasks of one event loop.

    ``clock`` (seconds since the epoch) is injectable so tests can move time past a token's expiry.
    ``retry`` bounds each logical call (see :mod:`adapters.resilience`); ``breaker`` is optional and, when
    given, fails fast while PCI Pal is known to be down.
    """

    def __init__(
        self,
        base_url: str,
        tenant_name: str,
        tenant_number: str,
        username: str,
        client_id: str,
        client_secret: str | SupportsReveal,
        *,
        flow_id: str | int,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        observer: CallObserver | None = None,
        refresh_margin: float = TOKEN_REFRESH_MARGIN,
        token_url: str | None = None,
        launch_url: str | None = None,
        view_url: str | None = None,
        refresh_grant: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Token and launch hosts can differ (HMCTS configures one token URL and per-tenant launch/view URLs);
        # ``{tenant_number}`` / ``{session_id}`` in the templates are filled in.
        self.token_url = token_url or f"{self.base_url}/api/v1/token"
        self._launch_url = launch_url or f"{self.base_url}/api/v1/session/{{tenant_number}}/launch"
        self._view_url = view_url or f"{self.base_url}/session/{{tenant_number}}/view/{{session_id}}/framed"
        #: Whether to use the refresh_token grant before re-authenticating (a flow's API user may not allow it).
        self.refresh_grant = refresh_grant
        self.tenant_name = tenant_name
        self.tenant_number = str(tenant_number)
        self.username = username
        self.client_id = client_id
        self._client_secret = Secret(
            client_secret if isinstance(client_secret, str) else client_secret.reveal()
        )
        self.flow_id = flow_id
        self._session = session
        self._owns_session = session is None
        # total bounds the whole exchange; sock_connect lets us tell "never connected" (safe to retry) apart
        # from "sent and waited" (UNKNOWN for a launch).
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0))
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._breaker = breaker
        self._observer = observer
        self._refresh_margin = refresh_margin
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0  # number of token requests made; observable for operators and tests

    def __repr__(self) -> str:
        return (
            f"PciPalClient(base_url={self.base_url!r}, tenant_name={self.tenant_name!r}, "
            f"tenant_number={self.tenant_number!r}, username={self.username!r}, "
            f"client_id={self.client_id!r}, "
            f"client_secret=***, flow_id={self.flow_id!r})"
        )

    async def __aenter__(self) -> PciPalClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it (a session passed in belongs to the caller)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None if self._owns_session else self._session

    def view_url(self, session_id: str) -> str:
        """The agent-side page for a session (``/session/{tenantNumber}/view/{Id}/framed``)."""
        return self._view_url.format(tenant_number=self.tenant_number, session_id=session_id)

    @property
    def launch_url(self) -> str:
        return self._launch_url.format(tenant_number=self.tenant_number)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the aiohttp session passed to PciPalClient is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    # ---------------------------------------------------------------------------------------------- token

    async def access_token(self) -> str:
        """A valid access token, fetched at most once for any number of concurrent callers."""
        token = self._token
        if token is not None and self._clock() < token.expires_at - self._refresh_margin:
            return token.access_token
        async with self._token_lock:
            # Another caller may have refreshed while we waited for the lock.
            token = self._token
            if token is not None and self._clock() < token.expires_at - self._refresh_margin:
                return token.access_token
            self._token = await self._fetch_token(token)
            return self._token.access_token

    @property
    def breaker_open(self) -> bool:
        """True while the circuit breaker fails calls fast (open or half-open)."""
        return self._breaker is not None and self._breaker.state != "closed"

    def invalidate_token(self, access_token: str | None = None) -> None:
        """Forget the cached token (only if it still is ``access_token`` when given: a newer one survives)."""
        if self._token is not None and (
            access_token is None or hmac.compare_digest(self._token.access_token.encode(), access_token.encode())
        ):
            self._token = None

    async def _fetch_token(self, previous: _Token | None) -> _Token:
        if previous is not None and previous.refresh_token and self.refresh_grant:
            try:
                return await self._token_call(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": previous.refresh_token,
                        "client_id": self.client_id,
                        "client_secret": self._client_secret.reveal(),
                    }
                )
            except (ProviderAuthError, ProviderInvalidRequest):
                pass  # refresh token expired or refresh unsupported: authenticate from scratch
        return await self._token_call(
            {
                "grant_type": "client_credentials",
                "tenantname": self.tenant_name,
                "username": self.username,
                "client_id": self.client_id,
                "client_secret": self._client_secret.reveal(),
            }
        )

    async def _token_call(self, form: dict[str, str]) -> _Token:
        async for attempt in build_async_retrying(self._retry, should_retry, retry_after):
            with attempt:
                return await self._token_once(form)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _token_once(self, form: dict[str, str]) -> _Token:
        self._check_breaker()
        self.token_fetches += 1
        url = self.token_url
        try:
            async with self._http().post(url, data=form, timeout=self._timeout) as resp:
                status = resp.status
                body = await self._json(resp)
                hint = _parse_retry_after(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._record(False)
            # Asking for a token changes nothing at PCI Pal, so any transport failure is safe to retry.
            raise ProviderUnavailable(
                f"PCI Pal token request failed: {type(exc).__name__}",
                provider=PROVIDER,
                code="pcipal_unavailable",
                outcome=Outcome.NOT_ATTEMPTED,
            ) from None
        if status >= 500 or status == 429:
            self._record(False)
            raise ProviderUnavailable(
                f"PCI Pal token endpoint answered {status}",
                provider=PROVIDER,
                code="pcipal_unavailable",
                http_status=status,
                outcome=Outcome.NOT_ATTEMPTED,
                retry_after=hint,
            )
        self._record(True)
        error = _get_ci(body, "error") if isinstance(body, Mapping) else None
        if status in (400, 401, 403):
            # OAuth servers answer bad client credentials with 400 invalid_client (RFC 6749 5.2).
            if status in (401, 403) or error in ("invalid_client", "invalid_grant", "unauthorized_client"):
                raise ProviderAuthError(
                    "PCI Pal rejected the credentials",
                    provider=PROVIDER,
                    code="pcipal_invalid_credentials",
                    http_status=status,
                    provider_code=str(error) if error else None,
                )
            raise ProviderInvalidRequest(
                "PCI Pal rejected the token request",
                provider=PROVIDER,
                code="pcipal_token_request_invalid",
                http_status=status,
                provider_code=str(error) if error else None,
            )
        if status != 200 or not isinstance(body, Mapping):
            raise ProviderUnavailable(
                f"PCI Pal token endpoint answered {status}",
                provider=PROVIDER,
                code="pcipal_bad_response",
                http_status=status,
                outcome=Outcome.NOT_ATTEMPTED,
            )
        access = _get_ci(body, "access_token")
        expires_in = _get_ci(body, "expires_in")
        if not isinstance(access, str) or not access:
            raise ProviderUnavailable(
                "PCI Pal token response has no access_token",
                provider=PROVIDER,
                code="pcipal_bad_response",
                http_status=status,
                outcome=Outcome.NOT_ATTEMPTED,
            )
        try:
            ttl = float(expires_in) if expires_in is not None else 299.0
        except (TypeError, ValueError):
            ttl = 299.0  # the documented lifetime; a refresh margin still applies
        refresh = _get_ci(body, "refresh_token")
        return _Token(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_at=self._clock() + ttl,
        )

    # --------------------------------------------------------------------------------------------- launch

    async def launch(self, *, initial_values: Mapping[str, str]) -> LaunchResult:
        """Launch a capture session for the configured flow.

        ``initial_values`` is the flat string map the flow reads (amount in minor units, currency, order
        reference, ``callbackURL``...). Raises :class:`ProviderInvalidRequest` (``pcipal_flow_not_found``,
        ``pcipal_invalid_request``), :class:`ProviderAuthError`, :class:`ProviderNotFound`
        (``pcipal_tenant_not_found``), :class:`ProviderUnavailable` (NOT_ATTEMPTED after the retry budget) or
        :class:`ProviderTimeout` / :class:`ProviderUnavailable` with outcome UNKNOWN (a session may exist).
        """
        values = {str(k): str(v) for k, v in initial_values.items()}
        payload = {"FlowId": self.flow_id, "InitialValues": values}
        started = time.monotonic()
        outcome = "CANCELLED"
        try:
            async for attempt in build_async_retrying(self._retry, should_retry, retry_after):
                with attempt:
                    result = await self._launch_with_reauth(payload)
                    outcome = Outcome.SUCCEEDED.value
                    return result
        except _TokenFailed as exc:
            outcome = exc.error.outcome.value
            raise exc.error from None
        except ProviderError as exc:
            outcome = exc.outcome.value
            raise
        finally:
            if self._observer is not None:
                self._observer(PROVIDER, "session.launch", outcome, time.monotonic() - started)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _token_for_launch(self) -> str:
        # The token request has its own retry budget; retrying it again from the launch loop would
        # multiply attempts (3 x 3), so its failure leaves the launch loop unretried.
        try:
            return await self.access_token()
        except ProviderError as exc:
            raise _TokenFailed(exc) from None

    async def _launch_with_reauth(self, payload: Mapping[str, Any]) -> LaunchResult:
        token = await self._token_for_launch()
        try:
            return await self._launch_once(payload, token)
        except _Unauthorized:
            # The token was revoked or PCI Pal's clock runs ahead of ours: a 401 means no session was
            # created, so authenticate from scratch and try exactly once more.
            self.invalidate_token(token)
            token = await self._token_for_launch()
            try:
                return await self._launch_once(payload, token)
            except _Unauthorized as exc:
                raise ProviderAuthError(
                    "PCI Pal rejected a fresh access token",
                    provider=PROVIDER,
                    code="pcipal_unauthorized",
                    http_status=exc.status,
                ) from None

    async def _launch_once(self, payload: Mapping[str, Any], token: str) -> LaunchResult:
        self._check_breaker()
        url = self.launch_url
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self._http().post(url, json=payload, headers=headers, timeout=self._timeout) as resp:
                status = resp.status
                body = await self._json(resp)
                hint = _parse_retry_after(resp.headers.get("Retry-After"))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The TCP/TLS connection never opened: nothing reached PCI Pal.
            self._record(False)
            raise ProviderUnavailable(
                f"could not connect to PCI Pal: {type(exc).__name__}",
                provider=PROVIDER,
                code="pcipal_unavailable",
                outcome=Outcome.NOT_ATTEMPTED,
            ) from None
        except (aiohttp.ServerTimeoutError, TimeoutError):
            self._record(False)
            raise ProviderTimeout(
                "PCI Pal did not answer the launch in time; a session may have been created",
                provider=PROVIDER,
                code="pcipal_timeout",
            ) from None
        except aiohttp.ClientError as exc:
            self._record(False)
            raise ProviderUnavailable(
                f"connection to PCI Pal failed during the launch: {type(exc).__name__}",
                provider=PROVIDER,
                code="pcipal_connection_lost",
                outcome=Outcome.UNKNOWN,
            ) from None
        return self._launch_result(status, body, hint)

    def _launch_result(self, status: int, body: Any, hint: float | None) -> LaunchResult:
        if status in _REFUSED_BEFORE_ACTING:
            self._record(False)
            raise ProviderUnavailable(
                f"PCI Pal refused the launch ({status})",
                provider=PROVIDER,
                code="pcipal_rate_limited" if status == 429 else "pcipal_unavailable",
                http_status=status,
                outcome=Outcome.NOT_ATTEMPTED,
                retry_after=hint,
            )
        if status >= 500:
            self._record(False)
            raise ProviderUnavailable(
                f"PCI Pal failed the launch ({status}); a session may have been created",
                provider=PROVIDER,
                code="pcipal_server_error",
                http_status=status,
                outcome=Outcome.UNKNOWN,
            )
        self._record(True)
        if status == 401:
            raise _Unauthorized(status)
        if status == 403:
            raise ProviderAuthError(
                "PCI Pal refused the launch for this user", provider=PROVIDER, code="pcipal_forbidden",
                http_status=status,
            )
        message = _error_text(body)
        if status == 404:
            raise ProviderNotFound(
                "PCI Pal does not know this tenant number", provider=PROVIDER, code="pcipal_tenant_not_found",
                http_status=status,
            )
        if status == 400 and "flow" in message.lower() and "not found" in message.lower():
            raise ProviderInvalidRequest(
                "PCI Pal does not know the configured flow id",
                provider=PROVIDER,
                code="pcipal_flow_not_found",
                http_status=status,
            )
        if 400 <= status < 500:
            raise ProviderInvalidRequest(
                f"PCI Pal rejected the launch ({status})", provider=PROVIDER, code="pcipal_invalid_request",
                http_status=status,
            )
        session_id = _get_ci(body, "Id") if isinstance(body, Mapping) else None
        link_id = _get_ci(body, "LinkId") if isinstance(body, Mapping) else None
        if status != 200 or session_id in (None, "") or link_id in (None, ""):
            # PCI Pal said "OK" but we can't read which session: it may well exist.
            raise ProviderUnavailable(
                f"PCI Pal answered the launch with an unreadable reply ({status})",
                provider=PROVIDER,
                code="pcipal_bad_response",
                http_status=status,
                outcome=Outcome.UNKNOWN,
            )
        return LaunchResult(session_id=str(session_id), link_id=str(link_id))

    # -------------------------------------------------------------------------------------------- helpers

    @staticmethod
    async def _json(resp: aiohttp.ClientResponse) -> Any:
        text = await resp.text()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text  # PCI Pal sometimes answers errors in plain text ("flow identifier not found")

    def _check_breaker(self) -> None:
        if self._breaker is not None and not self._breaker.allow():
            raise ProviderUnavailable(
                "PCI Pal is failing; not calling it for a while",
                provider=PROVIDER,
                code="pcipal_circuit_open",
                outcome=Outcome.NOT_ATTEMPTED,
                retry_after=self._breaker.retry_in(),
            )

    def _record(self, healthy: bool) -> None:
        if self._breaker is None:
            return
        if healthy:
            self._breaker.record_success()
        else:
            self._breaker.record_failure()


class _TokenFailed(Exception):
    """Carries a token error through the launch retry loop without being retried there."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


class _Unauthorized(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"PCI Pal answered {status}")
        self.status = status


def _error_text(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, Mapping):
        parts = [str(v) for v in body.values() if isinstance(v, str)]
        return " ".join(parts)
    return ""
