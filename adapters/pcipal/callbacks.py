"""PCI Pal result callbacks: parsing into a typed :class:`CaptureResult` and verifying the sender.

PCI Pal publishes no callback schema and no signature scheme (see the reference notes): the fields are
whatever the customer's *flow* maps into the callback, sent form-encoded (HMCTS) or as JSON (HMRC), and the
endpoint is protected by mTLS, a static header and/or an IP allowlist agreed per customer. So both halves are
configurable:

* :func:`parse_callback` accepts either encoding and any key casing (``transactionResult``,
  ``TransactionResult``, ``transaction_result`` are the same field) and takes an optional per-tenant
  :class:`FieldMapping` naming which incoming field means what.
* :class:`CallbackVerifier` combines any of ``hmac`` (our own ``X-PCIPal-Signature: t=..,v1=..`` scheme, the
  Stripe construction), ``bearer`` (a static token) and ``ip_allowlist``. Every configured mode must pass.

Card data: a callback should carry at most last4 / brand / expiry. :func:`contains_card_data` lets the
caller refuse anything with a full PAN or a CVV, and :func:`parse_callback` refuses such a body itself, so a
:class:`CaptureResult` can never hold one. No error message here includes a field *value* or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal, cast, get_args
from urllib.parse import parse_qsl

from adapters.secret import SupportsReveal, reveal
from redaction import contains_card_number, redact_json

__all__ = [
    "DEFAULT_SIGNATURE_HEADER",
    "CallbackCardDataError",
    "CallbackParseError",
    "CallbackVerificationError",
    "CallbackVerifier",
    "CaptureResult",
    "CaptureStatus",
    "FieldMapping",
    "body_contains_card_data",
    "card_data_fields",
    "contains_card_data",
    "decode_callback_fields",
    "normalize_key",
    "parse_callback",
    "sign_callback",
]

CaptureStatus = Literal[
    "success",
    "declined",
    "error",
    "cancelled",
    "hangup",
    "timeout",
    "too_many_attempts",
    "authentication_required",
    # A result word neither the built-in vocabulary nor the tenant's mapping knows (``sent``...): never taken
    # as success or failure; the gateway records it and hands it to a human.
    "unknown",
]
CAPTURE_STATUSES: frozenset[str] = frozenset(get_args(CaptureStatus))

DEFAULT_SIGNATURE_HEADER = "X-PCIPal-Signature"

_REDACTED = "[redacted]"


class CallbackParseError(ValueError):
    """The callback body cannot be understood. The message names fields, never their values."""


class CallbackCardDataError(CallbackParseError):
    """The callback carries a full card number or a CVV; it must be refused, not stored, not logged."""

    def __init__(self, fields: Sequence[str]) -> None:
        # Field *names* help ops find the misconfigured flow; values are never included.
        super().__init__(f"callback carries card data in field(s): {', '.join(sorted(fields))}")
        self.fields = tuple(fields)


class CallbackVerificationError(Exception):
    """A callback failed authentication. ``reason`` is a stable machine string; no body, no secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"pcipal callback verification failed: {reason}")
        self.reason = reason


# --------------------------------------------------------------------------------------------------------
# Keys and vocabulary


def normalize_key(key: str) -> str:
    """``transactionResult`` / ``TransactionResult`` / ``transaction_result`` -> one key.

    PCI Pal flows are built by hand per customer and the server side is .NET (case-insensitive binding), so we
    compare names ignoring case and separators.
    """
    return re.sub(r"[\s_\-.]", "", key).lower()


# Default aliases, already normalized, most specific first. HMCTS and HMRC names come from their public code;
# the rest cover our ``stripe_rich`` profile and Twilio-style names flows are often modelled on.
_DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "result": ("transactionresult", "result", "status", "paymentresult", "outcome"),
    "session_id": ("pcipalsessionid", "sessionid", "pcipalsession"),
    "order_reference": (
        "orderreference", "orderid", "orderref", "reference", "chargereference", "referencenumber",
    ),
    "payment_intent_id": ("stripepaymentintent", "stripepaymentintentid", "paymentintentid", "paymentintent"),
    "payment_method_id": ("stripepaymentmethod", "stripepaymentmethodid", "paymentmethodid", "paymenttoken",
                          "stripetoken", "token", "tokenid"),
    "transaction_id": ("transactionid", "paymentconfirmationcode", "transactionreference"),
    "card_brand": ("cardtype", "cardbrand", "brand", "paymentcardtype"),
    "card_last4": ("cardlast4", "last4", "cardlastfour", "lastfour", "paymentcardnumber"),
    "card_expiry": ("cardexpiry", "expirationdate", "expiry", "expirydate"),
    "card_exp_month": ("cardexpmonth", "expmonth"),
    "card_exp_year": ("cardexpyear", "expyear"),
    "amount": ("orderamount", "amount", "chargeamount", "amountminor"),
    "currency": ("ordercurrency", "currency", "currencycode"),
    "auth_code": ("transactionauthcode", "authcode", "authorisationcode", "authorizationcode"),
    "message": (
        "transactionresponsemsg",
        "failuremessage",
        "message",
        "errormessage",
        "pcipalerrormessage",
        "paymenterror",
        "declinemessage",
    ),
    "decline_code": ("declinecode", "errorcode", "payerrorcode"),
}

# Incoming result vocabulary (normalized: lower case, separators removed) -> our status. HMCTS sends
# SUCCESS/DECLINE/ERROR/CANCELLED, HMRC validated/failed, Twilio-modelled flows success/caller-hung-up/...
_RESULT_VOCABULARY: dict[str, CaptureStatus] = {
    **{v: "success" for v in ("success", "succeeded", "successful", "validated", "approved", "authorised",
                              "authorized", "paid", "ok", "complete", "completed")},
    # HMRC's "failed" is the only non-success word it has; a failed payment is most often a refused card.
    **{v: "declined" for v in ("decline", "declined", "failed", "failure", "refused", "carddeclined")},
    **{v: "error" for v in ("error", "paymentconnectorerror", "internalerror", "validationerror",
                            "gatewayerror")},
    **{v: "cancelled" for v in ("cancelled", "canceled", "cancel", "callerinterruptedwithstar", "abandoned")},
    **{v: "hangup" for v in ("hangup", "hungup", "callerhungup", "disconnected")},
    **{v: "timeout" for v in ("timeout", "timedout", "expired", "inputtimeout")},
    **{v: "too_many_attempts" for v in ("toomanyattempts", "toomanyfailedattempts", "maxattempts",
                                        "maxattemptsexceeded")},
    **{v: "authentication_required" for v in ("authenticationrequired", "3dsrequired", "requiresaction",
                                              "3dsecurerequired")},
}

_CVV_NAMES = frozenset(
    {"cvv", "cvc", "cv2", "cvv2", "cvc2", "cid", "csc", "securitycode", "cardsecuritycode", "cardcvv",
     "cardcvc", "cardverificationvalue", "cardverificationcode"}
)
_CVV_VALUE = re.compile(r"^\s*[0-9]{3,4}\s*$")
# Expiry is cardholder data next to a PAN; keep it out of the redacted raw copy that may reach logs.
_EXPIRY_NAMES = frozenset(_DEFAULT_ALIASES["card_expiry"] + _DEFAULT_ALIASES["card_exp_month"]
                          + _DEFAULT_ALIASES["card_exp_year"])


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """Per-tenant mapping: which incoming field carries each value.

    A name given here is the *only* field consulted for that value (compared with :func:`normalize_key`), so a
    flow that puts the payment intent id in ``customData1`` cannot be confused by a stray ``transactionID``.
    Unset values fall back to the default aliases. ``result_values`` extends the result vocabulary (incoming
    value -> status). ``amount_unit``: ``"minor"`` (pence), ``"major"`` (pounds, ``488.50``) or ``"auto"``
    (a decimal point means major units): the reference shows HMCTS documenting pence while its example
    shows ``488.50``, so we don't guess silently when a tenant tells us.
    """

    result: str | None = None
    session_id: str | None = None
    order_reference: str | None = None
    payment_intent_id: str | None = None
    payment_method_id: str | None = None
    transaction_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    card_expiry: str | None = None
    card_exp_month: str | None = None
    card_exp_year: str | None = None
    amount: str | None = None
    currency: str | None = None
    auth_code: str | None = None
    message: str | None = None
    decline_code: str | None = None
    result_values: Mapping[str, CaptureStatus] = field(default_factory=dict)
    amount_unit: Literal["auto", "minor", "major"] = "auto"

    def names_for(self, what: str) -> tuple[str, ...]:
        override = cast("str | None", getattr(self, what))
        if override is not None:
            return (normalize_key(override),)
        return _DEFAULT_ALIASES[what]


_DEFAULT_MAPPING = FieldMapping()


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """What a capture callback says, typed. Holds at most last4 / brand / expiry, never a PAN or CVV.

    ``amount`` is in minor units. ``raw_fields_redacted`` is every incoming field with card numbers, CVV-like
    and expiry fields masked: safe to store in an audit row or log.
    """

    result: CaptureStatus
    session_id: str | None = None
    order_reference: str | None = None
    payment_intent_id: str | None = None
    payment_method_id: str | None = None
    transaction_id: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    #: The result word as the flow sent it (at most 64 characters), for a case when it is ``unknown``.
    raw_result: str | None = None
    card_exp_month: int | None = None
    card_exp_year: int | None = None
    amount: int | None = None
    currency: str | None = None
    auth_code: str | None = None
    message: str | None = None
    decline_code: str | None = None
    raw_fields_redacted: Mapping[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """The callback *claims* success; the gateway still confirms with Stripe before saying "paid"."""
        return self.result == "success"


# --------------------------------------------------------------------------------------------------------
# Decoding and card-data checks


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return str(value)
    # Nested objects are not part of any known flow; keep them as JSON text so card checks still see them.
    return json.dumps(value, sort_keys=True)


def decode_callback_fields(body: bytes, content_type: str) -> dict[str, str]:
    """Decode a form or JSON body into a flat ``{original key: string value}`` dict.

    A key repeated with different values (``transactionResult`` and ``TransactionResult`` disagreeing) is
    refused: which one PCI Pal "meant" is a guess, and a guess about a payment result is not acceptable.
    """
    media = _media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackParseError("callback body is not UTF-8") from None
    pairs: list[tuple[str, str]]
    if media == "application/json" or media.endswith("+json") or (
        media not in ("application/x-www-form-urlencoded",) and text.lstrip().startswith("{")
    ):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise CallbackParseError("callback body is not valid JSON") from None
        if not isinstance(data, dict):
            raise CallbackParseError("callback JSON body is not an object")
        pairs = [(str(k), _scalar(v)) for k, v in data.items()]
    else:
        # Form-encoded is PCI Pal's HMCTS shape and the usual default for an unlabelled body.
        pairs = parse_qsl(text, keep_blank_values=True)
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in pairs:
        norm = normalize_key(key)
        if norm in seen and seen[norm] != value:
            raise CallbackParseError(f"conflicting values for field {_safe_name(key)}")
        seen[norm] = value
        out[key] = value
    return out


def _safe_name(name: str) -> str:
    # A field *name* could itself be a card number in a hostile body; never echo one.
    return "[card-number-like name]" if contains_card_number(name) else name[:64]


def _walk(value: object, name: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v, name)
    else:
        yield name, _scalar(value)


def card_data_fields(fields: Mapping[str, object]) -> list[str]:
    """Names (made safe) of the fields holding a full card number or a CVV; empty if clean.

    A card number is whatever :func:`redaction.contains_card_number` says (Luhn-valid digit runs, spaced or
    dashed). A CVV is a 3-4 digit value under a CVV-like name; PCI Pal masks it as ``***`` when a flow
    echoes it, so digits there mean the flow leaks it.
    """
    bad: list[str] = []
    for key, value in fields.items():
        for name, text in _walk(value, str(key)):
            is_pan = contains_card_number(name) or contains_card_number(text)
            is_cvv = normalize_key(name) in _CVV_NAMES and _CVV_VALUE.match(text) is not None
            if is_pan or is_cvv:
                bad.append(_safe_name(name))
    return bad


def contains_card_data(fields: Mapping[str, object]) -> bool:
    """True when any field (name or value, nested or not) carries a full PAN or a CVV."""
    return bool(card_data_fields(fields))


def body_contains_card_data(body: bytes, content_type: str) -> bool:
    """The raw-body gate: checks the undecoded text *and* the decoded fields.

    Both, because form encoding can split a PAN (``4242+4242...``) or percent-encode it, and a body we cannot
    decode must still not be stored if its bytes look like a card number.
    """
    text = body.decode("utf-8", errors="replace")
    if contains_card_number(text):
        return True
    try:
        return contains_card_data(decode_callback_fields(body, content_type))
    except CallbackParseError:
        return False


def redact_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """A copy safe for logs and audit rows: PANs masked, CVV-like and expiry values removed."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        norm = normalize_key(key)
        safe_key = _safe_name(key)
        if norm in _CVV_NAMES or norm in _EXPIRY_NAMES:
            out[safe_key] = _REDACTED if value else ""
        else:
            out[safe_key] = cast(str, redact_json(value))
    return out


# --------------------------------------------------------------------------------------------------------
# Parsing


def _pick(fields: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    by_norm = {normalize_key(k): v for k, v in fields.items()}
    for name in names:
        value = by_norm.get(name)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def _status(raw: str, mapping: FieldMapping) -> CaptureStatus:
    for value, status in mapping.result_values.items():
        if normalize_key(value) == normalize_key(raw):
            return status
    return _RESULT_VOCABULARY.get(normalize_key(raw), "unknown")


def _amount(raw: str | None, unit: Literal["auto", "minor", "major"]) -> int | None:
    if raw is None:
        return None
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise CallbackParseError("amount is not a number") from None
    if not value.is_finite() or value < 0:
        raise CallbackParseError("amount is not a non-negative number")
    major = unit == "major" or (unit == "auto" and "." in raw)
    minor = value * 100 if major else value
    if minor != minor.to_integral_value():
        raise CallbackParseError("amount has fractions of a minor unit")
    return int(minor)


def _last4(raw: str | None) -> str | None:
    # Twilio-style masks (``xxxx-xxxxxx-x4001``) carry exactly four digits; anything longer is not a last4.
    if raw is None:
        return None
    digits = re.sub(r"[^0-9]", "", raw)
    return digits if len(digits) == 4 else None


def _expiry(
    combined: str | None, month: str | None, year: str | None
) -> tuple[int | None, int | None]:
    if month is not None and year is not None:
        m, y = month.strip(), year.strip()
    elif combined is not None:
        digits = re.sub(r"[^0-9]", "", combined)
        # MMYY (PCI Pal's cardExpiry, Twilio's ExpirationDate) or MMYYYY.
        if len(digits) in (4, 6):
            m, y = digits[:2], digits[2:]
        else:
            return None, None
    else:
        return None, None
    if not (m.isdigit() and y.isdigit()):
        return None, None
    mi, yi = int(m), int(y)
    if yi < 100:
        yi += 2000
    if not 1 <= mi <= 12:
        return None, None
    return mi, yi


def _prefixed(value: str | None, prefix: str) -> str | None:
    return value if value is not None and value.startswith(prefix) else None


def parse_callback(
    body: bytes, content_type: str, mapping: FieldMapping | None = None
) -> CaptureResult:
    """Parse a PCI Pal result callback (form or JSON, any key casing) into a :class:`CaptureResult`.

    Raises :class:`CallbackCardDataError` if the body carries a full PAN or a CVV (refuse it, store nothing)
    and :class:`CallbackParseError` when there is no recognisable result. Verify the sender *before* calling
    this.
    """
    mapping = mapping or _DEFAULT_MAPPING
    fields = decode_callback_fields(body, content_type)
    bad = card_data_fields(fields)
    if bad or contains_card_number(body.decode("utf-8", errors="replace")):
        raise CallbackCardDataError(bad or ["(raw body)"])

    def get(what: str) -> str | None:
        return _pick(fields, mapping.names_for(what))

    raw_result = get("result")
    if raw_result is None:
        raise CallbackParseError("callback has no result field")
    status = _status(raw_result, mapping)
    decline_code = get("decline_code")
    message = get("message")
    # Flows limited to SUCCESS/DECLINE/ERROR/CANCELLED report Stripe's 3-D Secure refusal as a decline whose
    # code or message is ``authentication_required``; the bot must offer a pay-by-link then, not "try again".
    if status == "declined" and any(
        v is not None and normalize_key(v) == "authenticationrequired" for v in (decline_code, message)
    ):
        status = "authentication_required"

    transaction_id = get("transaction_id")
    payment_intent_id = get("payment_intent_id") or _prefixed(transaction_id, "pi_")
    payment_method_id = get("payment_method_id")
    if mapping.payment_method_id is None:
        # A PaymentMethod (``pm_``, Twilio's payment-method token type) or a single-use card Token (``tok_``,
        # PCI Pal's Stripe "Tokenisation" output): Stripe confirms an intent with either; nothing else is one.
        payment_method_id = payment_method_id if payment_method_id is not None and payment_method_id.startswith(
            ("pm_", "tok_")) else None
    exp_month, exp_year = _expiry(get("card_expiry"), get("card_exp_month"), get("card_exp_year"))
    currency = get("currency")
    brand = get("card_brand")
    return CaptureResult(
        result=status,
        raw_result=cast(str, redact_json(raw_result[:64])),
        session_id=get("session_id"),
        order_reference=get("order_reference"),
        payment_intent_id=payment_intent_id,
        payment_method_id=payment_method_id,
        transaction_id=transaction_id,
        card_brand=brand.lower() if brand else None,
        card_last4=_last4(get("card_last4")),
        card_exp_month=exp_month,
        card_exp_year=exp_year,
        amount=_amount(get("amount"), mapping.amount_unit),
        currency=currency.lower() if currency else None,
        auth_code=get("auth_code"),
        message=message,
        decline_code=decline_code,
        raw_fields_redacted=redact_fields(fields),
    )


# --------------------------------------------------------------------------------------------------------
# Verification


def sign_callback(body: bytes, secret: str, timestamp: int) -> str:
    """The ``X-PCIPal-Signature`` value: ``t={timestamp},v1={hex HMAC-SHA256(secret, "{t}.{body}")}``.

    Same construction as Stripe's webhook signature so one audited implementation pattern covers both; the
    timestamp is signed so a captured callback cannot be replayed outside the tolerance window.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _fingerprint(value: str) -> str:
    # Proxies write fingerprints as hex with or without colons, in either case.
    return value.replace(":", "").strip().lower()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class CallbackVerifier:
    """Authenticates a PCI Pal callback. Every configured mode must pass.

    * ``hmac_secrets``: accepted shared secrets, several during a rotation (the sender signs with the new one
      once both ends know it; the old one is removed later). ``tolerance_seconds`` bounds replay of a captured
      request; 300 s like Stripe, wide enough for PCI Pal's retry backoff and clock skew.
    * ``bearer_tokens``: static tokens; in ``Authorization: Bearer <t>`` by default, or the raw value of
      ``bearer_header`` (e.g. an APIM ``Ocp-Apim-Subscription-Key`` as HMCTS uses).
    * ``ip_allowlist``: CIDRs; ``remote_ip`` passed to :meth:`verify` must be the real peer (the socket peer,
      or the address a *trusted* proxy reports), never a client-supplied header.

    With no mode configured construction fails unless ``allow_unauthenticated=True`` (HMRC-style protection at
    the network layer only), so "forgot to configure" cannot silently mean "accept anything".
    """

    def __init__(
        self,
        *,
        hmac_secrets: Sequence[str | SupportsReveal] = (),
        signature_header: str = DEFAULT_SIGNATURE_HEADER,
        tolerance_seconds: float = 300.0,
        bearer_tokens: Sequence[str | SupportsReveal] = (),
        bearer_header: str = "Authorization",
        ip_allowlist: Sequence[str] = (),
        header_name: str | None = None,
        header_keys: Sequence[str | SupportsReveal] = (),
        mtls_fingerprints: Sequence[str] = (),
        token_validator: Callable[[str], bool] | None = None,
        allow_unauthenticated: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        plain_secrets = [reveal(s) for s in hmac_secrets]
        plain_tokens = [reveal(t) for t in bearer_tokens]
        plain_keys = [reveal(k) for k in header_keys]
        if any(not s for s in plain_secrets) or any(not t for t in plain_tokens) or any(not k for k in plain_keys):
            raise ValueError("empty secrets or tokens are not allowed")
        if plain_keys and not header_name:
            raise ValueError("header_keys need a header_name")
        self._hmac_secrets = tuple(s.encode() for s in plain_secrets)
        self._signature_header = signature_header
        self._tolerance = tolerance_seconds
        self._bearer_tokens = tuple(t.encode() for t in plain_tokens)
        self._bearer_header = bearer_header
        self._header_name = header_name or ""
        self._header_keys = tuple(k.encode() for k in plain_keys)
        self._fingerprints = tuple(_fingerprint(f).encode() for f in mtls_fingerprints)
        if any(len(f) != 64 for f in self._fingerprints):
            raise ValueError("mTLS fingerprints must be SHA-256 (64 hex digits)")
        self._token_validator = token_validator
        self._networks = tuple(ipaddress.ip_network(c, strict=False) for c in ip_allowlist)
        self._clock = clock
        if not self.modes and not allow_unauthenticated:
            raise ValueError(
                "CallbackVerifier needs at least one mode (ip_allowlist, mtls, header_key, bearer, token, hmac)"
            )

    @property
    def modes(self) -> tuple[str, ...]:
        modes: list[str] = []
        if self._networks:
            modes.append("ip_allowlist")
        if self._fingerprints:
            modes.append("mtls")
        if self._header_keys:
            modes.append("header_key")
        if self._bearer_tokens:
            modes.append("bearer")
        if self._token_validator is not None:
            modes.append("token")
        if self._hmac_secrets:
            modes.append("hmac")
        return tuple(modes)

    def __repr__(self) -> str:
        return f"CallbackVerifier(modes={self.modes!r})"

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        remote_ip: str | None,
        *,
        client_cert_fingerprint: str | None = None,
    ) -> None:
        """Return if authentic, else raise :class:`CallbackVerificationError` with a stable ``reason``.

        ``client_cert_fingerprint`` is the SHA-256 of the TLS client certificate as the caller established it
        (its own TLS, or a header set by a *trusted* proxy); never a value the client could have chosen.
        """
        # Cheapest, least secret-dependent check first.
        if self._networks:
            self._check_ip(remote_ip)
        if self._fingerprints:
            self._check_fingerprint(client_cert_fingerprint)
        if self._header_keys:
            self._check_header_key(headers)
        if self._bearer_tokens:
            self._check_bearer(headers)
        if self._token_validator is not None:
            self._check_issued_token(headers)
        if self._hmac_secrets:
            self._check_hmac(body, headers)

    def _check_fingerprint(self, presented: str | None) -> None:
        if not presented:
            raise CallbackVerificationError("missing_client_certificate")
        value = _fingerprint(presented).encode()
        ok = False
        for fp in self._fingerprints:
            ok |= hmac.compare_digest(value, fp)
        if not ok:
            raise CallbackVerificationError("client_certificate_not_allowed")

    def _check_header_key(self, headers: Mapping[str, str]) -> None:
        value = _header(headers, self._header_name)
        if value is None or not value.strip():
            raise CallbackVerificationError("missing_header_key")
        presented = value.strip().encode()
        ok = False
        for key in self._header_keys:
            ok |= hmac.compare_digest(presented, key)
        if not ok:
            raise CallbackVerificationError("bad_header_key")

    def _check_issued_token(self, headers: Mapping[str, str]) -> None:
        value = _header(headers, "Authorization") or ""
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise CallbackVerificationError("missing_token")
        assert self._token_validator is not None
        if not self._token_validator(token.strip()):
            raise CallbackVerificationError("bad_token")

    def _check_ip(self, remote_ip: str | None) -> None:
        if not remote_ip:
            raise CallbackVerificationError("missing_remote_ip")
        try:
            addr = ipaddress.ip_address(remote_ip.split("%", 1)[0])
        except ValueError:
            raise CallbackVerificationError("malformed_remote_ip") from None
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
        if not any(addr.version == net.version and addr in net for net in self._networks):
            raise CallbackVerificationError("ip_not_allowed")

    def _check_bearer(self, headers: Mapping[str, str]) -> None:
        value = _header(headers, self._bearer_header)
        if value is None or not value.strip():
            raise CallbackVerificationError("missing_token")
        value = value.strip()
        if self._bearer_header.lower() == "authorization":
            scheme, _, token = value.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise CallbackVerificationError("missing_token")
            value = token.strip()
        # Header values arrive as str with undecodable bytes kept as surrogates; a strict encode would raise.
        presented = value.encode("utf-8", "surrogateescape")
        # Compare with every token, no early exit, so timing doesn't reveal which one nearly matched.
        ok = False
        for token_bytes in self._bearer_tokens:
            ok |= hmac.compare_digest(presented, token_bytes)
        if not ok:
            raise CallbackVerificationError("bad_token")

    def _check_hmac(self, body: bytes, headers: Mapping[str, str]) -> None:
        value = _header(headers, self._signature_header)
        if value is None or not value.strip():
            raise CallbackVerificationError("missing_signature")
        timestamp: str | None = None
        signatures: list[str] = []
        for part in value.split(","):
            key, sep, val = part.strip().partition("=")
            if not sep:
                continue
            if key == "t":
                timestamp = val
            elif key == "v1":
                signatures.append(val)
        # ASCII digits only and a sane length: ``str.isdigit`` accepts ``²`` and other scripts' digits, which
        # ``int`` refuses or reads differently, and a header far longer than a signature is not one.
        if (
            timestamp is None
            or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12)
            or not signatures
            or len(value) > 4096
        ):
            raise CallbackVerificationError("malformed_signature")
        signed = timestamp.encode() + b"." + body
        ok = False
        for secret in self._hmac_secrets:
            expected = hmac.new(secret, signed, hashlib.sha256).hexdigest().encode()
            for sig in signatures:
                ok |= hmac.compare_digest(expected, sig.encode("utf-8", "surrogateescape"))
        if not ok:
            raise CallbackVerificationError("bad_signature")
        # After the signature, as for Stripe's: a forger learns nothing about the clock window.
        if abs(self._clock() - int(timestamp)) > self._tolerance:
            raise CallbackVerificationError("timestamp_out_of_tolerance")
