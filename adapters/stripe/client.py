"""The Stripe adapter: one ``StripeAdapter`` per tenant, on the official SDK's async client.

Layers, outside in, for every public method (``_call``):

1. the tenant's circuit breaker: when open, fail fast with ``ProviderUnavailable`` (NOT_ATTEMPTED);
2. tenacity with the one Stripe retry decision (``adapters.stripe.retry.should_retry``), capped attempts and
   an overall deadline (``RetryPolicy``); each attempt also runs under what is left of that deadline, so a
   hung connection cannot outlast it;
3. the SDK call, with ``max_network_retries=0`` (one retry layer, ours) and, for writes, the caller's
   idempotency key in ``options`` on every attempt;
4. the SDK's exception mapped onto ``adapters.outcomes`` (see ``_map_error``), with a message that never
   holds Stripe's free text (it can echo our input), card data or the API key; Stripe's request id is kept.

Idempotency keys are required arguments of every write: the gateway derives them once per logical operation
(from its own idempotency record), so a retry here, a retry by the bot, or a retry after a crash all send the
same key and Stripe performs the operation at most once.

Round trips per method are listed in each docstring; ``stats`` counts the HTTP attempts actually sent.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import aiohttp
import stripe
from stripe.params import (
    ChargeListParams,
    ChargeRetrieveParams,
    CouponCreateParams,
    CustomerListParams,
    CustomerRetrieveParams,
    CustomerSearchParams,
    DisputeListParams,
    PaymentIntentCancelParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    ProductListParams,
    PromotionCodeCreateParams,
    PromotionCodeListParams,
    RefundCreateParams,
    SubscriptionListParams,
)
from stripe.params.checkout import SessionCreateParams
from tenacity import RetryCallState

from adapters.outcomes import (
    CallObserver,
    Outcome,
    ProviderAuthError,
    ProviderDeclined,
    ProviderError,
    ProviderIdempotencyError,
    ProviderInvalidRequest,
    ProviderNotFound,
    ProviderTimeout,
    ProviderUnavailable,
)
from adapters.resilience import CircuitBreaker, RetryPolicy, build_async_retrying
from adapters.stripe.models import (
    AdapterStats,
    CheckoutSessionInfo,
    Coupon,
    Customer,
    Dispute,
    Payment,
    PaymentIntentInfo,
    PaymentStatus,
    PromotionCode,
    Refund,
    RefundReason,
    Subscription,
    SubscriptionLine,
)
from adapters.stripe.retry import retry_after, should_retry
from adapters.stripe.versions import PINNED_API_VERSION, is_valid_version

__all__ = ["PROVIDER", "StripeAdapter"]

PROVIDER = "stripe"
_log = logging.getLogger("adapters.stripe")
_T = TypeVar("_T")

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
# An object id in a path: "cus_Nf0...", "pi_3Nx...". Collapsed in the per-endpoint counters so they stay few.
_ID_SEGMENT = re.compile(r"^[a-z]{2,5}_[A-Za-z0-9]{6,}$")


class _DeadlineExceeded(Exception):
    """The call's overall deadline passed while an attempt was in flight (it may have reached Stripe)."""


class _CountingAIOHTTPClient(stripe.AIOHTTPClient):
    """The SDK's aiohttp client, counting each HTTP attempt it sends (the benchmark's round trips)."""

    def __init__(self, stats: AdapterStats, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stats = stats

    async def request_async(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        post_data: Any = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        self._stats.requests += 1
        path = urllib.parse.urlsplit(url).path
        path = "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))
        self._stats.by_endpoint[f"{method.upper()} {path}"] += 1
        return await super().request_async(method, url, headers, post_data)


#: Seconds a product's name is reused without asking Stripe again (see ``list_subscriptions``).
PRODUCT_NAME_TTL = 600.0

#: Stripe accepts a Checkout Session ``expires_at`` from 30 minutes to 24 hours after creation, measured on
#: *its* clock. Asking for exactly 24 h is refused as soon as our clock runs a second ahead of Stripe's (or
#: the request spends a second in flight), so the adapter keeps a margin at both ends.
CHECKOUT_MIN_EXPIRY = 30 * 60
CHECKOUT_MAX_EXPIRY = 24 * 3600
CHECKOUT_EXPIRY_MARGIN = 30 * 60


def checkout_expires_at(requested: int, now: float) -> int:
    """``requested`` clamped into Stripe's window with the margin: [now + 35 min, now + 23 h 30 min]."""
    low = int(now) + CHECKOUT_MIN_EXPIRY + 5 * 60
    high = int(now) + CHECKOUT_MAX_EXPIRY - CHECKOUT_EXPIRY_MARGIN
    return max(low, min(int(requested), high))


class StripeAdapter:
    """Stripe for one tenant. Create once per tenant (it owns a breaker and an HTTP session); close() it.

    ``base_url`` points the SDK at another API host (the sandbox emulator, a test server); None: real Stripe.
    ``timeout`` bounds one HTTP attempt; ``retry.deadline`` bounds the whole call, whichever ends first wins.
    ``session``: reuse the app's ``aiohttp.ClientSession`` (the adapter then leaves it open on ``close()``).
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        session: aiohttp.ClientSession | None = None,
        observer: CallObserver | None = None,
        api_version: str = PINNED_API_VERSION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("a Stripe API key is required")
        if not is_valid_version(api_version):
            raise ValueError("a Stripe API version looks like 2026-10-28.endive")
        self._api_version = api_version
        self._clock = clock
        self.stats = AdapterStats()
        self.retry_policy = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self.base_url = base_url
        self._observer = observer
        self._product_names: dict[str, tuple[float, str]] = {}
        self._http_client = _CountingAIOHTTPClient(
            self.stats, timeout=aiohttp.ClientTimeout(total=timeout), session=session
        )
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": base_url} if base_url else {},
            http_client=self._http_client,
            # Off: tenacity is the one retry layer (two nested layers would multiply attempts past the
            # deadline).
            max_network_retries=0,
            # Sent as Stripe-Version on every request. It must be the version the tenant's webhook endpoint
            # was created with (see versions.py); the default is the one the SDK's types describe.
            stripe_version=api_version,
        )

    @property
    def api_version(self) -> str:
        """The API version every request is pinned to (``[stripe] api_version``; default the SDK's)."""
        return self._api_version

    async def close(self) -> None:
        await self._http_client.close_async()  # type: ignore[no-untyped-call]  # SDK method lacks hints

    # --------------------------------------------------------------------------------------------- customers

    async def list_customers_by_email(self, email: str, *, limit: int = 10) -> list[Customer]:
        """Customers whose email is exactly ``email``, newest first.

        Uses the list filter, which is strongly consistent (search lags writes by up to a minute: a customer
        created during the call would be missed). The list filter is case-sensitive while people are not, so
        if nothing matches and ``email`` has upper case, it retries with the lower-cased address (as most
        systems, Stripe Checkout included, store it). Round trips: 1, or 2 in that fallback case.
        """
        email = email.strip()
        found = await self._list_customers(email, limit)
        lowered = email.lower()
        if not found and lowered != email:
            found = await self._list_customers(lowered, limit)
        return found

    async def _list_customers(self, email: str, limit: int) -> list[Customer]:
        params: CustomerListParams = {"email": email, "limit": limit}
        page = await self._call(
            "customers.list", lambda: self._client.v1.customers.list_async(params=params), write=False
        )
        return [_customer(c) for c in page.data]

    async def search_customers_by_phone(self, e164: str, *, limit: int = 10) -> list[Customer]:
        """Customers whose phone is exactly ``e164`` (e.g. ``+447700900123``). Round trips: 1.

        Search matches the stored string, so the gateway normalises to E.164 first; anything else is refused
        here with ``ValueError`` (which also keeps quotes out of the search query). Search is eventually
        consistent (under a minute normally) and limited to 20 requests/s per account.
        """
        if not _E164.match(e164):
            raise ValueError("phone must be in E.164 form, e.g. +447700900123")
        params: CustomerSearchParams = {"query": f"phone:'{e164}'", "limit": limit}
        page = await self._call(
            "customers.search", lambda: self._client.v1.customers.search_async(params=params), write=False
        )
        return [_customer(c) for c in page.data]

    async def get_customer(self, customer_id: str) -> Customer:
        """Round trips: 1. A deleted customer is reported as not found."""
        params: CustomerRetrieveParams = {}
        obj = await self._call(
            "customers.retrieve",
            lambda: self._client.v1.customers.retrieve_async(customer_id, params=params),
            write=False,
        )
        if _get(obj, "deleted") is True:
            raise ProviderNotFound(
                "Stripe customer was deleted", provider=PROVIDER, http_status=404, provider_code="deleted"
            )
        return _customer(obj)

    # ---------------------------------------------------------------------------------------------- payments

    async def list_payments(self, customer_id: str, *, limit: int = 10) -> list[Payment]:
        """The customer's most recent payments (charges), newest first. Round trips: 1.

        One ``charges.list(customer=)`` call gives everything the voice actions say: amount, status, card
        and last 4, refunded amount, dispute flag and failure code; the charge carries its PaymentIntent id.
        PaymentIntents that never produced a charge (abandoned before a card was given) are not listed.
        """
        params: ChargeListParams = {"customer": customer_id, "limit": limit}
        page = await self._call(
            "charges.list", lambda: self._client.v1.charges.list_async(params=params), write=False
        )
        return [_payment_from_charge(c) for c in page.data]

    async def get_payment(self, payment_id: str) -> Payment:
        """A payment by PaymentIntent id (``pi_``) or charge id (``ch_``/``py_``). Round trips: 1.

        For a PaymentIntent its latest charge is expanded in the same call.
        """
        if payment_id.startswith("pi_"):
            pi_params: PaymentIntentRetrieveParams = {"expand": ["latest_charge"]}
            pi = await self._call(
                "payment_intents.retrieve",
                lambda: self._client.v1.payment_intents.retrieve_async(payment_id, params=pi_params),
                write=False,
            )
            return _payment_from_intent(pi)
        if payment_id.startswith(("ch_", "py_")):
            ch_params: ChargeRetrieveParams = {}
            ch = await self._call(
                "charges.retrieve",
                lambda: self._client.v1.charges.retrieve_async(payment_id, params=ch_params),
                write=False,
            )
            return _payment_from_charge(ch)
        raise ValueError("payment id must start with pi_, ch_ or py_")

    async def list_disputes(self, charge_id: str, *, limit: int = 10) -> list[Dispute]:
        """Disputes on one charge. Round trips: 1. (``Payment.disputed`` already says if there is one.)"""
        params: DisputeListParams = {"charge": charge_id, "limit": limit}
        page = await self._call(
            "disputes.list", lambda: self._client.v1.disputes.list_async(params=params), write=False
        )
        return [_dispute(d) for d in page.data]

    # ----------------------------------------------------------------------------------------------- refunds

    async def create_refund(
        self,
        *,
        payment_intent: str | None = None,
        charge: str | None = None,
        amount: int | None = None,
        reason: RefundReason | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str,
    ) -> Refund:
        """Refund a payment, fully (``amount=None``) or partly. Exactly one of ``payment_intent``/``charge``.

        Round trips: 1 (more only on retries, all with ``idempotency_key``). Stripe refuses, as
        ``ProviderInvalidRequest`` with ``provider_code``: ``charge_already_refunded``, ``amount_too_large``
        (more than the refundable remainder), ``charge_disputed``.
        """
        if (payment_intent is None) == (charge is None):
            raise ValueError("give exactly one of payment_intent or charge")
        if amount is not None and amount <= 0:
            raise ValueError("amount must be a positive integer in minor units")
        _require_key(idempotency_key)
        params: RefundCreateParams = {}
        if payment_intent is not None:
            params["payment_intent"] = payment_intent
        if charge is not None:
            params["charge"] = charge
        if amount is not None:
            params["amount"] = amount
        if reason is not None:
            params["reason"] = reason
        if metadata:
            params["metadata"] = dict(metadata)
        obj = await self._call(
            "refunds.create",
            lambda: self._client.v1.refunds.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return _refund(obj)

    # ---------------------------------------------------------------------------------- coupons / promo codes

    async def create_coupon(
        self,
        *,
        percent_off: float | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
        duration: Literal["once", "repeating", "forever"] = "once",
        duration_in_months: int | None = None,
        max_redemptions: int | None = None,
        redeem_by: int | None = None,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str,
    ) -> Coupon:
        """Create a coupon: ``percent_off``, or ``amount_off`` with ``currency``. Round trips: 1."""
        if (percent_off is None) == (amount_off is None):
            raise ValueError("give exactly one of percent_off or amount_off")
        if amount_off is not None and not currency:
            raise ValueError("amount_off needs a currency")
        _require_key(idempotency_key)
        params: CouponCreateParams = {"duration": duration}
        if percent_off is not None:
            params["percent_off"] = percent_off
        if amount_off is not None and currency:
            params["amount_off"] = amount_off
            params["currency"] = currency.lower()
        if duration_in_months is not None:
            params["duration_in_months"] = duration_in_months
        if max_redemptions is not None:
            params["max_redemptions"] = max_redemptions
        if redeem_by is not None:
            params["redeem_by"] = redeem_by
        if name is not None:
            params["name"] = name
        if metadata:
            params["metadata"] = dict(metadata)
        obj = await self._call(
            "coupons.create",
            lambda: self._client.v1.coupons.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return _coupon(obj)

    async def create_promotion_code(
        self,
        coupon_id: str,
        code: str | None,
        *,
        customer: str | None = None,
        max_redemptions: int | None = None,
        expires_at: int | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str,
    ) -> PromotionCode:
        """A customer-facing code for a coupon (``code=None``: Stripe generates one). Round trips: 1.

        Uses the request shape of API versions >= 2025-09-30 (``promotion={"type": "coupon", ...}``) that the
        pinned version requires. A code already active elsewhere is ``ProviderInvalidRequest``.
        """
        _require_key(idempotency_key)
        params: PromotionCodeCreateParams = {"promotion": {"type": "coupon", "coupon": coupon_id}}
        if code is not None:
            params["code"] = code
        if customer is not None:
            params["customer"] = customer
        if max_redemptions is not None:
            params["max_redemptions"] = max_redemptions
        if expires_at is not None:
            params["expires_at"] = expires_at
        if metadata:
            params["metadata"] = dict(metadata)
        obj = await self._call(
            "promotion_codes.create",
            lambda: self._client.v1.promotion_codes.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return _promotion_code(obj)

    async def find_promotion_code(self, code: str) -> PromotionCode | None:
        """The promotion code with this code (Stripe matches it case-insensitively), with its coupon expanded
        so the discount is known in the same call; an active one is preferred. Round trips: 1."""
        params: PromotionCodeListParams = {"code": code, "limit": 10, "expand": ["data.promotion.coupon"]}
        page = await self._call(
            "promotion_codes.list",
            lambda: self._client.v1.promotion_codes.list_async(params=params),
            write=False,
        )
        codes = [_promotion_code(p) for p in page.data]
        if not codes:
            return None
        return next((c for c in codes if c.active), codes[0])

    # ----------------------------------------------------------------------------------------- subscriptions

    async def list_subscriptions(
        self, customer_id: str, *, limit: int = 10, product_names: bool = True
    ) -> list[Subscription]:
        """All the customer's subscriptions (canceled ones included), newest first.

        Round trips: 1, plus 1 when ``product_names`` and any product is not in the name cache (best effort: if
        that call fails, product names are None and the subscriptions are still returned). Product names are
        cached per adapter for ``PRODUCT_NAME_TTL`` seconds: a merchant's catalogue changes rarely, and the
        cache keeps a warm "is my subscription active?" at 2 round trips including the customer lookup.
        The latest invoice is expanded (for the amount past due). The product's name cannot come in the same
        call: Stripe caps expansion at 4 levels and ``data.items.data.price.product`` is 5, so the names come
        from one ``products.list(ids=[...])`` for all subscriptions together. Pass ``product_names=False`` to
        skip it (the price nickname is still there).
        """
        params: SubscriptionListParams = {
            "customer": customer_id,
            "status": "all",  # without it Stripe leaves canceled subscriptions out
            "limit": limit,
            "expand": ["data.latest_invoice"],
        }
        page = await self._call(
            "subscriptions.list", lambda: self._client.v1.subscriptions.list_async(params=params), write=False
        )
        subs = list(page.data)
        names: dict[str, str] = {}
        if product_names:
            wanted: list[str] = []
            for sub in subs:
                for item in _list_data(_get(sub, "items")):
                    product = _get(_get(item, "price"), "product")
                    if isinstance(product, str) and product not in wanted:
                        wanted.append(product)
                    elif isinstance(product, Mapping) and isinstance(product.get("name"), str):
                        names[str(product.get("id"))] = str(product.get("name"))
            now = time.monotonic()
            for p in wanted:
                cached = self._product_names.get(p)
                if cached is not None and cached[0] > now:
                    names[p] = cached[1]
            wanted = [p for p in wanted if p not in names]
            if wanted:
                prod_params: ProductListParams = {"ids": wanted[:100], "limit": 100}
                try:
                    products = await self._call(
                        "products.list",
                        lambda: self._client.v1.products.list_async(params=prod_params),
                        write=False,
                    )
                except ProviderError as exc:
                    # Names are cosmetic (the price nickname is still there): a caller asking "is my
                    # subscription active?" should not hear "system error" because of them.
                    _log.warning("stripe products.list failed (%s); no product names", exc.code)
                else:
                    for prod in products.data:
                        name = _str(prod, "name")
                        if name is not None:
                            names[prod.id] = name
                            self._product_names[prod.id] = (now + PRODUCT_NAME_TTL, name)
        return [_subscription(s, names) for s in subs]

    # --------------------------------------------------------------------------------------- payment intents

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        moto: bool = True,
        idempotency_key: str,
    ) -> PaymentIntentInfo:
        """An unconfirmed card PaymentIntent for secure capture; PCI Pal confirms it. Round trips: 1.

        ``moto``: the payment is taken over the phone (Mail Order / Telephone Order, out of scope for SCA).
        Stripe accepts ``payment_method_options.card.moto`` only *at confirmation* (SDK docs), so it is not
        sent here: the PI is restricted to cards and marked ``metadata["moto"] = "true"``, and the confirming
        party (PCI Pal) sets the MOTO flag when it confirms.
        """
        if amount <= 0:
            raise ValueError("amount must be a positive integer in minor units")
        _require_key(idempotency_key)
        meta = dict(metadata or {})
        if moto:
            meta["moto"] = "true"
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency.lower(),
            # ``payment_method_types`` is called ``allowed_payment_method_types`` in the pinned API version
            # (the SDK's typed params caught the old name).
            "allowed_payment_method_types": ["card"],
        }
        if customer is not None:
            params["customer"] = customer
        if description is not None:
            params["description"] = description
        if meta:
            params["metadata"] = meta
        obj = await self._call(
            "payment_intents.create",
            lambda: self._client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return _payment_intent(obj)

    async def get_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Status, amount, card brand/last 4 and last decline code; latest charge expanded. Round trips: 1."""
        params: PaymentIntentRetrieveParams = {"expand": ["latest_charge"]}
        obj = await self._call(
            "payment_intents.retrieve",
            lambda: self._client.v1.payment_intents.retrieve_async(payment_intent_id, params=params),
            write=False,
        )
        return _payment_intent(obj)

    async def cancel_payment_intent(
        self,
        payment_intent_id: str,
        *,
        reason: Literal["abandoned", "duplicate", "fraudulent", "requested_by_customer"] | None = None,
        idempotency_key: str,
    ) -> PaymentIntentInfo:
        """Cancel an unconfirmed/uncaptured PaymentIntent (e.g. the caller hung up). Round trips: 1."""
        _require_key(idempotency_key)
        params: PaymentIntentCancelParams = {}
        if reason is not None:
            params["cancellation_reason"] = reason
        obj = await self._call(
            "payment_intents.cancel",
            lambda: self._client.v1.payment_intents.cancel_async(
                payment_intent_id, params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return _payment_intent(obj)

    async def confirm_payment_intent(
        self,
        payment_intent_id: str,
        *,
        payment_method: str,
        moto: bool = True,
        idempotency_key: str,
    ) -> PaymentIntentInfo:
        """Confirm a PaymentIntent with a card PCI Pal tokenised (secure capture, ``token`` mode). Round trips: 1
        for a PaymentMethod id (``pm_``), 2 for a single-use card Token (``tok_``, what PCI Pal's Stripe
        "Tokenisation" step returns).

        A Token first becomes a PaymentMethod (``POST /v1/payment_methods`` with ``card[token]``, the typed,
        documented path; the SDK's types have no ``card`` under a PaymentIntent's ``payment_method_data``), under
        a key derived from the confirm's own, so a retry replays both steps. A declined card raises
        :class:`ProviderDeclined`; the intent then shows the decline.
        """
        _require_key(idempotency_key)
        if payment_method.startswith("tok_"):
            token = payment_method
            pm = await self._call(
                "payment_methods.create",
                lambda: self._client.v1.payment_methods.create_async(
                    params={"type": "card", "card": {"token": token}},
                    options={"idempotency_key": f"{idempotency_key}:pm"},
                ),
                write=True,
            )
            payment_method = pm.id
        params: PaymentIntentConfirmParams = {"expand": ["latest_charge"], "payment_method": payment_method}
        if moto:
            params["payment_method_options"] = {"card": {"moto": True}}
        obj = await self._call(
            "payment_intents.confirm",
            lambda: self._client.v1.payment_intents.confirm_async(
                payment_intent_id, params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return _payment_intent(obj)

    # ---------------------------------------------------------------------------------------------- checkout

    async def create_checkout_session(
        self,
        *,
        amount: int,
        currency: str,
        description: str,
        customer: str | None = None,
        customer_email: str | None = None,
        metadata: Mapping[str, str] | None = None,
        success_url: str | None = None,
        expires_at: int | None = None,
        idempotency_key: str,
    ) -> CheckoutSessionInfo:
        """A hosted payment page for the pay-by-link fallback (sent by SMS or email). Round trips: 1.

        One line item built inline from ``amount`` and ``description``; at most one of
        ``customer`` / ``customer_email``. Without ``success_url`` Stripe shows its own confirmation page.
        """
        if amount <= 0:
            raise ValueError("amount must be a positive integer in minor units")
        if customer is not None and customer_email is not None:
            raise ValueError("give customer or customer_email, not both")
        _require_key(idempotency_key)
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount,
                        "product_data": {"name": description},
                    },
                }
            ],
        }
        if customer is not None:
            params["customer"] = customer
        if customer_email is not None:
            params["customer_email"] = customer_email
        if metadata:
            params["metadata"] = dict(metadata)
            params["payment_intent_data"] = {"metadata": dict(metadata)}
        if success_url is not None:
            params["success_url"] = success_url
        if expires_at is not None:
            params["expires_at"] = checkout_expires_at(expires_at, self._clock())
        obj = await self._call(
            "checkout.sessions.create",
            lambda: self._client.v1.checkout.sessions.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            ),
            write=True,
        )
        return CheckoutSessionInfo(
            id=obj.id,
            url=_str(obj, "url"),
            status=_str(obj, "status"),
            payment_intent_id=_id(_get(obj, "payment_intent")),
            expires_at=_int_or_none(obj, "expires_at"),
        )

    # --------------------------------------------------------------------------------------------- machinery

    async def _call(self, op: str, fn: Callable[[], Awaitable[_T]], *, write: bool) -> _T:
        """Run one logical Stripe call through the breaker, tenacity and the deadline; map its failure.

        ``write`` (a POST) decides what a lost answer means: a write that may have reached Stripe has an
        UNKNOWN outcome (retry with the same key, or reconcile), a read never changes anything.
        """
        if self._observer is None:
            return await self._call_inner(op, fn, write=write)
        started = time.monotonic()
        outcome = "CANCELLED"
        try:
            result = await self._call_inner(op, fn, write=write)
            outcome = Outcome.SUCCEEDED.value
            return result
        except ProviderError as err:
            outcome = err.outcome.value
            raise
        finally:
            self._observer(PROVIDER, op, outcome, time.monotonic() - started)

    async def _call_inner(self, op: str, fn: Callable[[], Awaitable[_T]], *, write: bool) -> _T:
        if not self.breaker.allow():
            raise ProviderUnavailable(
                f"Stripe {op} not attempted: circuit breaker open",
                provider=PROVIDER,
                outcome=Outcome.NOT_ATTEMPTED,
                retry_after=self.breaker.retry_in() or None,
            )
        policy = self.retry_policy
        started = time.monotonic()
        # Did any attempt of this write possibly reach Stripe without a definite answer?
        maybe_reached = False
        try:
            retrying = build_async_retrying(
                policy, should_retry, retry_after, before_sleep=self._before_sleep(op)
            )
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        self.stats.retries += 1
                    remaining = policy.deadline - (time.monotonic() - started)
                    if remaining <= 0:
                        raise _DeadlineExceeded
                    try:
                        async with asyncio.timeout(remaining):
                            result = await fn()
                    except TimeoutError:
                        # The SDK turns its own timeouts into APIConnectionError, so a bare TimeoutError here
                        # is our deadline cancelling the attempt: it may well have reached Stripe.
                        maybe_reached = True
                        raise _DeadlineExceeded from None
                    except stripe.StripeError as exc:
                        maybe_reached = maybe_reached or _may_have_reached(exc)
                        raise
                    self.breaker.record_success()
                    return result
            raise AssertionError("unreachable: tenacity either returns, or re-raises the last error")
        except (stripe.StripeError, _DeadlineExceeded) as exc:
            err = _map_error(exc, op, write=write, maybe_reached=maybe_reached)
            if isinstance(err, ProviderUnavailable):
                self.breaker.record_failure()
            else:
                # Stripe answered (a decline, a 4xx): the provider is healthy.
                self.breaker.record_success()
            # ``from None``: the SDK exception's text can echo our parameters; its useful parts (status, code,
            # request id) are on ``err``.
            raise err from None
        except BaseException:
            # Cancelled (the caller hung up) or a bug: says nothing about Stripe's health.
            self.breaker.release()
            raise

    def _before_sleep(self, op: str) -> Callable[[RetryCallState], None]:
        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            _log.warning(
                "stripe %s attempt %d failed (%s, status=%s, request_id=%s); retrying in %.3fs",
                op,
                state.attempt_number,
                type(exc).__name__,
                getattr(exc, "http_status", None),
                getattr(exc, "request_id", None),
                state.upcoming_sleep,
            )

        return log_retry


# --------------------------------------------------------------------------------------------- error mapping


def _may_have_reached(exc: stripe.StripeError) -> bool:
    """Could this failed attempt of a write have been (or still be) processed by Stripe?"""
    if isinstance(exc, stripe.APIConnectionError):
        cause = exc.__cause__
        # Connecting failed (refused, DNS, TLS handshake, connect timeout): nothing was sent.
        return not isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    if isinstance(exc, stripe.RateLimitError):
        return False  # rejected before processing
    status = exc.http_status
    # 409: another request with our key is running; 5xx: Stripe docs say treat the result as indeterminate.
    return status is None or status == 409 or status >= 500


def _map_error(
    exc: stripe.StripeError | _DeadlineExceeded, op: str, *, write: bool, maybe_reached: bool
) -> ProviderError:
    """The adapters.outcomes error for a Stripe failure (after retries). Messages are ours, never Stripe's."""
    if isinstance(exc, _DeadlineExceeded):
        if write:
            return ProviderTimeout(
                f"Stripe {op}: no answer within the deadline; the request may have been processed",
                provider=PROVIDER,
            )
        return ProviderUnavailable(f"Stripe {op}: no answer within the deadline", provider=PROVIDER)

    common: dict[str, Any] = {
        "provider": PROVIDER,
        "http_status": exc.http_status,
        "provider_request_id": exc.request_id,
    }
    code = exc.code if isinstance(exc.code, str) else None
    unknown = write and maybe_reached

    if isinstance(exc, stripe.CardError):
        decline = _str(exc.error, "decline_code") if exc.error is not None else None
        provider_code = decline or code or "card_declined"
        return ProviderDeclined(
            f"Stripe {op}: card declined ({provider_code})", provider_code=provider_code, **common
        )
    if isinstance(exc, stripe.IdempotencyError):
        return ProviderIdempotencyError(
            f"Stripe {op}: idempotency key reused with different parameters", provider_code=code, **common
        )
    if isinstance(exc, stripe.InvalidRequestError):
        if exc.http_status == 404 or code == "resource_missing":
            return ProviderNotFound(f"Stripe {op}: no such object", provider_code=code, **common)
        return ProviderInvalidRequest(
            f"Stripe {op}: request refused ({code or 'invalid_request'})", provider_code=code, **common
        )
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        what = "API key rejected" if isinstance(exc, stripe.AuthenticationError) else "key lacks a permission"
        return ProviderAuthError(f"Stripe {op}: {what}", provider_code=code, **common)
    if isinstance(exc, stripe.APIConnectionError):
        if unknown:
            return ProviderTimeout(
                f"Stripe {op}: connection lost or timed out; the request may have been processed", **common
            )
        return ProviderUnavailable(
            f"Stripe {op}: cannot reach Stripe", outcome=Outcome.NOT_ATTEMPTED, **common
        )
    if isinstance(exc, stripe.RateLimitError):
        return ProviderUnavailable(
            f"Stripe {op}: rate limited",
            provider_code=code or "rate_limit",
            outcome=Outcome.UNKNOWN if unknown else Outcome.NOT_ATTEMPTED,
            retry_after=retry_after(exc),
            **common,
        )
    status = exc.http_status
    if status is not None and 400 <= status < 500 and status != 409:
        # An unexpected 4xx the SDK has no class for (405, 413, ...): Stripe refused what we sent.
        return ProviderInvalidRequest(
            f"Stripe {op}: request refused (HTTP {status})", provider_code=code, **common
        )
    # 5xx, 409 (in flight), an unparsable answer: Stripe is not answering usefully.
    return ProviderUnavailable(
        f"Stripe {op}: Stripe error (HTTP {status})",
        provider_code=code,
        outcome=Outcome.UNKNOWN if unknown else Outcome.NOT_ATTEMPTED,
        retry_after=retry_after(exc),
        **common,
    )


def _require_key(key: str) -> None:
    # Stripe accepts up to 255 characters. An empty key would make the SDK invent a random one per call, which
    # silently defeats "same key on every retry, and after a restart".
    if not key or len(key) > 255:
        raise ValueError("idempotency_key is required (1..255 characters)")


# ---------------------------------------------------------------------------------- SDK objects -> our models
# SDK 16 objects are not mappings; each mapper first turns its object into plain dicts (``_plain``). The
# readers below then tolerate absent fields (an emulator or an older account API version may omit some)
# instead of raising AttributeError mid-call.


def _plain(obj: Any) -> Any:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return obj


def _get(obj: Any, key: str) -> Any:
    obj = _plain(obj)
    if isinstance(obj, Mapping):
        return obj.get(key)
    return None


def _str(obj: Any, key: str) -> str | None:
    value = _get(obj, key)
    return value if isinstance(value, str) else None


def _int(obj: Any, key: str, default: int = 0) -> int:
    value = _get(obj, key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _int_or_none(obj: Any, key: str) -> int | None:
    value = _get(obj, key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(obj: Any, key: str) -> bool:
    return _get(obj, key) is True


def _id(value: Any) -> str | None:
    """The id of an expandable field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, str):
        return value
    return _str(value, "id")


def _expanded(value: Any) -> Mapping[str, Any] | None:
    value = _plain(value)
    return value if isinstance(value, Mapping) else None


def _meta(obj: Any) -> dict[str, str]:
    value = _get(obj, "metadata")
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _list_data(value: Any) -> Sequence[Any]:
    data = _get(value, "data")
    return data if isinstance(data, list) else []


def _customer(obj: Any) -> Customer:
    obj = _plain(obj)
    return Customer(
        id=str(_get(obj, "id")),
        email=_str(obj, "email"),
        name=_str(obj, "name"),
        phone=_str(obj, "phone"),
        postal_code=_str(_get(obj, "address"), "postal_code"),
        created=_int(obj, "created"),
        metadata=_meta(obj),
    )


def _card(charge: Any) -> tuple[str | None, str | None]:
    card = _get(_get(charge, "payment_method_details"), "card")
    return _str(card, "brand"), _str(card, "last4")


def _charge_status(charge: Any) -> PaymentStatus:
    status = _str(charge, "status")
    if status == "succeeded":
        return "succeeded"
    if status == "failed":
        return "failed"
    return "pending"


def _payment_from_charge(charge: Any, intent: Any = None) -> Payment:
    charge, intent = _plain(charge), _plain(intent)
    brand, last4 = _card(charge)
    return Payment(
        payment_intent_id=_id(_get(charge, "payment_intent")) or _str(intent, "id"),
        charge_id=_str(charge, "id"),
        amount=_int(charge, "amount"),
        currency=_str(charge, "currency") or "",
        status=_charge_status(charge),
        created=_int(charge, "created"),
        description=_str(charge, "description") or _str(intent, "description"),
        card_brand=brand,
        card_last4=last4,
        amount_refunded=_int(charge, "amount_refunded"),
        refunded=_bool(charge, "refunded"),
        disputed=_bool(charge, "disputed"),
        # A declined charge's own failure_code is usually just "card_declined"; the issuer's reason
        # ("insufficient_funds", ...) is the outcome's reason, as PaymentIntents give it in decline_code.
        failure_code=(
            (_str(_get(charge, "outcome"), "reason") if _str(charge, "status") == "failed" else None)
            or _str(charge, "failure_code")
        ),
        failure_message=_str(charge, "failure_message"),
        customer_id=_id(_get(charge, "customer")) or _id(_get(intent, "customer")),
        payment_intent_status=_str(intent, "status"),
        metadata=_meta(intent) | _meta(charge) if intent is not None else _meta(charge),
    )


def _payment_from_intent(intent: Any) -> Payment:
    intent = _plain(intent)
    charge = _expanded(_get(intent, "latest_charge"))
    if charge is not None:
        return _payment_from_charge(charge, intent)
    pi_status = _str(intent, "status")
    status: PaymentStatus
    if pi_status == "succeeded":
        status = "succeeded"
    elif pi_status == "canceled":
        status = "canceled"
    elif pi_status == "processing":
        status = "pending"
    else:
        status = "incomplete"
    error = _get(intent, "last_payment_error")
    return Payment(
        payment_intent_id=_str(intent, "id"),
        charge_id=_id(_get(intent, "latest_charge")),
        amount=_int(intent, "amount"),
        currency=_str(intent, "currency") or "",
        status=status,
        created=_int(intent, "created"),
        description=_str(intent, "description"),
        card_brand=None,
        card_last4=None,
        amount_refunded=0,
        refunded=False,
        disputed=False,
        failure_code=_str(error, "decline_code") or _str(error, "code"),
        failure_message=None,
        customer_id=_id(_get(intent, "customer")),
        payment_intent_status=pi_status,
        metadata=_meta(intent),
    )


def _payment_intent(intent: Any) -> PaymentIntentInfo:
    intent = _plain(intent)
    charge = _expanded(_get(intent, "latest_charge"))
    brand, last4 = _card(charge)
    error = _get(intent, "last_payment_error")
    return PaymentIntentInfo(
        id=str(_get(intent, "id")),
        status=_str(intent, "status") or "",
        amount=_int(intent, "amount"),
        currency=_str(intent, "currency") or "",
        customer_id=_id(_get(intent, "customer")),
        description=_str(intent, "description"),
        latest_charge_id=_id(_get(intent, "latest_charge")),
        charge_status=_str(charge, "status"),
        card_brand=brand,
        card_last4=last4,
        last_payment_error_code=_str(error, "decline_code") or _str(error, "code"),
        created=_int(intent, "created"),
        canceled_at=_int_or_none(intent, "canceled_at"),
        cancellation_reason=_str(intent, "cancellation_reason"),
        metadata=_meta(intent),
        moto=_moto(intent, charge),
    )


def _moto(intent: Any, charge: Any) -> bool | None:
    options = _get(_get(intent, "payment_method_options"), "card")
    card_details = _get(_get(charge, "payment_method_details"), "card")
    if _get(options, "moto") is True or _get(card_details, "moto") is True:
        return True
    return False if card_details is not None else None


def _refund(obj: Any) -> Refund:
    obj = _plain(obj)
    dest = _get(obj, "destination_details")
    dest_type = _str(_get(dest, "card"), "type") or _str(dest, "type")
    return Refund(
        id=str(_get(obj, "id")),
        amount=_int(obj, "amount"),
        currency=_str(obj, "currency") or "",
        status=_str(obj, "status") or "pending",
        reason=_str(obj, "reason"),
        charge_id=_id(_get(obj, "charge")),
        payment_intent_id=_id(_get(obj, "payment_intent")),
        created=_int(obj, "created"),
        failure_reason=_str(obj, "failure_reason"),
        pending_reason=_str(obj, "pending_reason"),
        destination_type=dest_type,
        metadata=_meta(obj),
    )


def _coupon(obj: Any) -> Coupon:
    obj = _plain(obj)
    percent = _get(obj, "percent_off")
    return Coupon(
        id=str(_get(obj, "id")),
        name=_str(obj, "name"),
        percent_off=float(percent) if isinstance(percent, int | float) and percent is not True else None,
        amount_off=_int_or_none(obj, "amount_off"),
        currency=_str(obj, "currency"),
        duration=_str(obj, "duration") or "once",
        duration_in_months=_int_or_none(obj, "duration_in_months"),
        max_redemptions=_int_or_none(obj, "max_redemptions"),
        redeem_by=_int_or_none(obj, "redeem_by"),
        times_redeemed=_int(obj, "times_redeemed"),
        valid=_bool(obj, "valid"),
        created=_int(obj, "created"),
        metadata=_meta(obj),
    )


def _promotion_code(obj: Any) -> PromotionCode:
    obj = _plain(obj)
    promotion = _get(obj, "promotion")
    coupon_field = _get(promotion, "coupon")
    # Older API versions had a top-level ``coupon``; accept it so an emulator on the old shape still reads.
    if coupon_field is None:
        coupon_field = _get(obj, "coupon")
    coupon = _expanded(coupon_field)
    return PromotionCode(
        id=str(_get(obj, "id")),
        code=_str(obj, "code") or "",
        coupon_id=_id(coupon_field),
        active=_bool(obj, "active"),
        customer_id=_id(_get(obj, "customer")),
        max_redemptions=_int_or_none(obj, "max_redemptions"),
        times_redeemed=_int(obj, "times_redeemed"),
        expires_at=_int_or_none(obj, "expires_at"),
        created=_int(obj, "created"),
        coupon=_coupon(coupon) if coupon is not None else None,
        metadata=_meta(obj),
    )


def _subscription_line(item: Any, names: Mapping[str, str]) -> SubscriptionLine:
    price = _get(item, "price")
    recurring = _get(price, "recurring")
    product_field = _get(price, "product")
    product_id = _id(product_field)
    product_name = _str(product_field, "name") or (names.get(product_id) if product_id else None)
    return SubscriptionLine(
        price_id=_str(price, "id"),
        price_nickname=_str(price, "nickname"),
        product_id=product_id,
        product_name=product_name,
        unit_amount=_int_or_none(price, "unit_amount"),
        currency=_str(price, "currency"),
        interval=_str(recurring, "interval"),
        interval_count=_int_or_none(recurring, "interval_count"),
        quantity=_int_or_none(item, "quantity"),
        current_period_end=_int_or_none(item, "current_period_end"),
    )


def _subscription(obj: Any, names: Mapping[str, str]) -> Subscription:
    obj = _plain(obj)
    lines = tuple(_subscription_line(i, names) for i in _list_data(_get(obj, "items")))
    first = lines[0] if lines else None
    status = _str(obj, "status") or ""
    invoice = _expanded(_get(obj, "latest_invoice"))
    amount_past_due: int | None
    if invoice is None:
        amount_past_due = 0 if _get(obj, "latest_invoice") is None else None
    elif _str(invoice, "status") == "open" and status in ("past_due", "unpaid", "incomplete"):
        amount_past_due = _int(invoice, "amount_remaining")
    else:
        amount_past_due = 0
    return Subscription(
        id=str(_get(obj, "id")),
        status=status,
        customer_id=_id(_get(obj, "customer")),
        product_name=first.product_name if first else None,
        price_nickname=first.price_nickname if first else None,
        unit_amount=first.unit_amount if first else None,
        currency=_str(obj, "currency") or (first.currency if first and first.currency else ""),
        interval=first.interval if first else None,
        interval_count=first.interval_count if first else None,
        # Since API 2025-03-31 the period lives on items; older shapes had it on the subscription.
        current_period_end=(first.current_period_end if first else None)
        or _int_or_none(obj, "current_period_end"),
        cancel_at_period_end=_bool(obj, "cancel_at_period_end"),
        cancel_at=_int_or_none(obj, "cancel_at"),
        canceled_at=_int_or_none(obj, "canceled_at"),
        trial_end=_int_or_none(obj, "trial_end"),
        amount_past_due=amount_past_due,
        latest_invoice_status=_str(invoice, "status"),
        created=_int(obj, "created"),
        lines=lines,
        metadata=_meta(obj),
    )


def _dispute(obj: Any) -> Dispute:
    obj = _plain(obj)
    return Dispute(
        id=str(_get(obj, "id")),
        amount=_int(obj, "amount"),
        currency=_str(obj, "currency") or "",
        status=_str(obj, "status") or "",
        reason=_str(obj, "reason") or "",
        charge_id=_id(_get(obj, "charge")),
        payment_intent_id=_id(_get(obj, "payment_intent")),
        created=_int(obj, "created"),
        evidence_due_by=_int_or_none(_get(obj, "evidence_details"), "due_by"),
    )
