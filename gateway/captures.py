"""Secure card capture: the state machine, its store queries, confirmation with Stripe and the expiry sweep.

States::

    created ──> awaiting_caller ──> processing ──> succeeded
       │              │                 │    └──> failed / canceled / expired ──> late_succeeded
       └──────────────┴─────────────────┴──> failed / canceled / expired ──> late_succeeded

``created``: the row exists (and maybe the PaymentIntent) but no PCI Pal session yet. ``awaiting_caller``: the
session is launched; the caller is being transferred or is keying digits. ``processing``: PCI Pal reported a
result and we are confirming it with Stripe. The four final states never move: every transition is one
conditional ``UPDATE ... WHERE state IN (<allowed predecessors>)``, so two racing writers (a callback and the
Stripe webhook, a callback and the expiry sweep) cannot both move a capture, and neither can move it back.

**Never "paid" without Stripe.** A PCI Pal callback saying SUCCESS only moves a capture to ``processing``;
``succeeded`` is written only when Stripe itself says the PaymentIntent succeeded (a retrieve, or the verified
``payment_intent.succeeded`` webhook through :func:`on_payment_intent_event`), for the capture's own
PaymentIntent, amount and currency. The callback's own ``paymentIntentId`` is never trusted for this.

**Never "not charged" while Stripe can still charge.** A failure (declined, hung up, timed out, expired) is
made final only after every PaymentIntent of the capture is cancelled at Stripe or retrieved as canceled
(:func:`ensure_not_chargeable`); a cancel refused because the intent already succeeded turns the failure into a
success. If Stripe shows a charge for a capture that did end "not charged" anyway (PCI Pal's own intent found
later, a capture closed by an earlier version), the one transition out of a final state, ``late_succeeded``,
corrects the record, notifies the bot and opens a case (:func:`record_late_success`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from adapters.outcomes import ProviderError
from gateway import speech
from gateway.notifications import emit_notification
from gateway.store import Executor, Store, StoreError

if TYPE_CHECKING:
    from adapters.pcipal.callbacks import CaptureResult
    from adapters.stripe.models import PaymentIntentInfo
    from gateway.services import Services
    from gateway.settings import TenantSettings

log = logging.getLogger("voicepay.captures")

CaptureState = Literal[
    "created", "awaiting_caller", "processing", "succeeded", "failed", "canceled", "expired", "late_succeeded"
]
FINAL_STATES: Final = frozenset({"succeeded", "failed", "canceled", "expired", "late_succeeded"})
OPEN_STATES: Final = frozenset({"created", "awaiting_caller", "processing"})
#: Final states in which the caller was told "you have not been charged".
NOT_CHARGED_STATES: Final = frozenset({"failed", "canceled", "expired"})

#: target state -> states it may be entered from. Final states appear on no right-hand side.
ALLOWED_FROM: Final[Mapping[str, frozenset[str]]] = {
    "created": frozenset(),
    "awaiting_caller": frozenset({"created"}),
    "processing": frozenset({"created", "awaiting_caller", "processing"}),
    "succeeded": frozenset(OPEN_STATES),
    "failed": frozenset(OPEN_STATES),
    "canceled": frozenset(OPEN_STATES),
    "expired": frozenset(OPEN_STATES),
    # The one way out of a final state: Stripe shows a charge for a capture that ended "not charged" (a
    # PaymentIntent nobody could cancel in time, or PCI Pal's own intent found later). The record is
    # corrected, never silently rewritten to "succeeded": the bot was told otherwise and must correct itself.
    "late_succeeded": frozenset(NOT_CHARGED_STATES),
}

#: How long one Stripe confirmation may hold a callback response. PCI Pal waits a few seconds per attempt
#: (the emulator 5 s); if Stripe is slower the capture stays ``processing`` and status/sweep/webhook settle it.
CONFIRM_TIMEOUT: Final = 4.0
#: How often the background sweep looks for sessions past their TTL. A caller who never keys the card is
#: told "expired" by capture.status at once (it checks the TTL itself); the sweep only tidies up the rest
#: (cancels their PaymentIntents so a late PCI Pal confirmation cannot charge an abandoned order).
SWEEP_INTERVAL: Final = 30.0

#: PCI Pal result -> (state, failure code) when it is not a success. Hang-up and caller cancel are both
#: "the caller stopped": nothing was charged, so ``canceled`` rather than ``failed``.
_RESULT_STATE: Final[Mapping[str, tuple[CaptureState, str]]] = {
    "declined": ("failed", "card_declined"),
    "error": ("failed", "processing_error"),
    "cancelled": ("canceled", "caller_cancelled"),
    "hangup": ("canceled", "caller_hung_up"),
    "timeout": ("expired", "session_timed_out"),
    "too_many_attempts": ("failed", "too_many_attempts"),
    "authentication_required": ("failed", "authentication_required"),
}

#: Failure codes in plain words for the bot (and the caller). Unknown codes fall back to "declined".
REASONS: Final[Mapping[str, str]] = {
    "insufficient_funds": "the card has insufficient funds",
    "card_declined": "the card was declined by the bank",
    "generic_decline": "the card was declined by the bank",
    "do_not_honor": "the card was declined by the bank",
    "expired_card": "the card has expired",
    "incorrect_cvc": "the security code was not correct",
    "incorrect_number": "the card number was not correct",
    "lost_card": "the card was declined by the bank",
    "stolen_card": "the card was declined by the bank",
    "processing_error": "the payment system had a technical problem",
    "authentication_required": "the bank needs the cardholder to confirm this payment online",
    "too_many_attempts": "the card details were entered incorrectly too many times",
    "caller_hung_up": "the call ended before the card details were entered",
    "caller_cancelled": "the payment was cancelled on the secure line",
    "session_timed_out": "the secure payment session timed out",
    "canceled_by_agent": "the payment was cancelled",
    "amount_mismatch": "the amount charged did not match the order",
}


def reason_for(code: str | None) -> str | None:
    if code is None:
        return None
    return REASONS.get(code, "the card was declined by the bank")


def capture_id_for(provider_key: str) -> str:
    """The capture id, derived from the request's provider idempotency key: a retry finds the same capture."""
    return "cap_" + hashlib.sha256(("capture\x1f" + provider_key).encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Capture:
    id: str
    tenant_id: str
    state: CaptureState
    amount: int
    currency: str
    description: str
    customer_id: str | None
    payment_intent_id: str | None
    pcipal_session_id: str | None
    pcipal_link_id: str | None
    card_brand: str | None
    card_last4: str | None
    callback_result: str | None
    failure_code: str | None
    created_at: float
    updated_at: float
    expires_at: float
    #: The PaymentIntent the gateway created (``payment_intent_id`` becomes PCI Pal's own when adopted).
    own_payment_intent_id: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def failure_reason(self) -> str | None:
        return reason_for(self.failure_code) if self.state in NOT_CHARGED_STATES else None

    @property
    def intent_ids(self) -> tuple[str, ...]:
        """Every PaymentIntent this capture has (its own and, in adopt_theirs, PCI Pal's), without repeats."""
        ids = [i for i in (self.payment_intent_id, self.own_payment_intent_id) if i]
        return tuple(dict.fromkeys(ids))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Capture:
        return cls(
            id=str(row["id"]),
            tenant_id=str(row["tenant_id"]),
            state=row["state"],
            amount=int(row["amount"]),
            currency=str(row["currency"]),
            description=str(row["description"]),
            customer_id=row["customer_id"],
            payment_intent_id=row["payment_intent_id"],
            pcipal_session_id=row["pcipal_session_id"],
            pcipal_link_id=row["pcipal_link_id"],
            card_brand=row["card_brand"],
            card_last4=row["card_last4"],
            callback_result=row["callback_result"],
            failure_code=row["failure_code"],
            created_at=float(row["created_at"]),
            updated_at=float(row["updated_at"]),
            expires_at=float(row["expires_at"]),
            own_payment_intent_id=row.get("own_payment_intent_id"),
        )


# ------------------------------------------------------------------------------------------------ queries


async def create(
    db: Executor | Store,
    *,
    capture_id: str,
    tenant_id: str,
    amount: int,
    currency: str,
    description: str,
    customer_id: str | None,
    ttl_seconds: float,
    now: float | None = None,
    call_id: str | None = None,
) -> Capture:
    """Insert the capture in ``created`` unless it exists (a retry); return the stored row either way."""
    ts = time.time() if now is None else now
    await db.execute(
        "INSERT INTO capture_sessions (id, tenant_id, state, amount, currency, description, customer_id, "
        "created_at, updated_at, expires_at, call_id) VALUES (?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        capture_id, tenant_id, amount, currency, description, customer_id, ts, ts, ts + ttl_seconds, call_id,
    )
    found = await get(db, tenant_id, capture_id)
    assert found is not None
    return found


async def get(db: Executor | Store, tenant_id: str, capture_id: str) -> Capture | None:
    row = await db.fetchone(
        "SELECT * FROM capture_sessions WHERE tenant_id = ? AND id = ?", tenant_id, capture_id
    )
    return Capture.from_row(row) if row else None


async def find_by_payment_intent(db: Executor | Store, tenant_id: str, pi_id: str) -> Capture | None:
    row = await db.fetchone(
        "SELECT * FROM capture_sessions WHERE tenant_id = ? AND payment_intent_id = ?", tenant_id, pi_id
    )
    if row is None:
        row = await db.fetchone(
            "SELECT * FROM capture_sessions WHERE tenant_id = ? AND own_payment_intent_id = ?", tenant_id, pi_id
        )
    return Capture.from_row(row) if row else None


async def find_for_callback(db: Executor | Store, tenant_id: str, result: CaptureResult) -> Capture | None:
    """Correlate a callback: our order reference (the capture id) first, then PCI Pal's session id."""
    if result.order_reference:
        found = await get(db, tenant_id, result.order_reference)
        if found is not None:
            return found
    if result.session_id:
        row = await db.fetchone(
            "SELECT * FROM capture_sessions WHERE tenant_id = ? AND pcipal_session_id = ?",
            tenant_id, result.session_id,
        )
        if row:
            return Capture.from_row(row)
    return None


async def set_payment_intent(db: Executor | Store, tenant_id: str, capture_id: str, pi_id: str) -> None:
    await db.execute(
        "UPDATE capture_sessions SET payment_intent_id = ?, own_payment_intent_id = ?, updated_at = ? "
        "WHERE tenant_id = ? AND id = ? AND payment_intent_id IS NULL",
        pi_id, pi_id, time.time(), tenant_id, capture_id,
    )


async def adopt_payment_intent(db: Executor | Store, tenant_id: str, capture_id: str, pi_id: str) -> bool:
    """Make PCI Pal's PaymentIntent the capture's payment of record (adopt_theirs); the gateway's own stays
    in ``own_payment_intent_id``. Only an open capture adopts, and only once."""
    moved = await db.execute(
        "UPDATE capture_sessions SET payment_intent_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ? "
        "AND state IN ('created', 'awaiting_caller', 'processing') "
        "AND (payment_intent_id = own_payment_intent_id OR payment_intent_id IS NULL OR payment_intent_id = ?)",
        pi_id, time.time(), tenant_id, capture_id, pi_id,
    )
    return moved == 1


async def transition(
    db: Executor | Store,
    tenant_id: str,
    capture_id: str,
    to: CaptureState,
    **fields: str | None,
) -> bool:
    """Move a capture to ``to`` if its current state allows it (compare-and-set); returns whether it moved.

    ``fields`` may set ``pcipal_session_id``, ``pcipal_link_id``, ``card_brand``, ``card_last4``,
    ``callback_result``, ``failure_code``; a ``None`` value keeps what is stored.
    """
    allowed = sorted(ALLOWED_FROM[to])
    if not allowed:
        return False
    columns = {"pcipal_session_id", "pcipal_link_id", "card_brand", "card_last4", "callback_result",
               "failure_code"}
    unknown = set(fields) - columns
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} in a transition")
    sets = ["state = ?", "updated_at = ?"]
    args: list[Any] = [to, time.time()]
    for name, value in sorted(fields.items()):
        if value is not None:
            sets.append(f"{name} = ?")
            args.append(value)
    placeholders = ", ".join("?" for _ in allowed)
    sql = (
        f"UPDATE capture_sessions SET {', '.join(sets)} "  # noqa: S608 (column names are from the fixed set)
        f"WHERE tenant_id = ? AND id = ? AND state IN ({placeholders})"
    )
    moved = await db.execute(sql, *args, tenant_id, capture_id, *allowed)
    if moved:
        log.info("capture state changed", extra={"capture_id": capture_id, "state": to})
    return moved == 1


async def fill_card(
    db: Executor | Store, tenant_id: str, capture_id: str, brand: str | None, last4: str | None
) -> None:
    """Fill in brand/last4 where still unknown (a capture settled by the webhook before PCI Pal's callback).

    Not a state change: only empty columns are written, so a final capture's facts are never rewritten."""
    if brand is None and last4 is None:
        return
    await db.execute(
        "UPDATE capture_sessions SET card_brand = COALESCE(card_brand, ?), card_last4 = COALESCE(card_last4, ?) "
        "WHERE tenant_id = ? AND id = ?",
        brand, last4, tenant_id, capture_id,
    )


async def record_callback(
    tx: Executor, tenant_id: str, capture_id: str, result: CaptureResult
) -> bool:
    """Persist a callback once; False if this session already reported this result (a duplicate)."""
    session = result.session_id or result.order_reference or capture_id
    word = f"{result.result}:{result.raw_result}" if result.result == "unknown" else result.result
    key = hashlib.sha256(f"{session}\x1f{word}".encode()).hexdigest()
    inserted = await tx.execute(
        "INSERT INTO capture_callbacks (tenant_id, dedupe_key, capture_id, result, fields_redacted, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING",
        tenant_id, key, capture_id, result.result,
        json.dumps(dict(result.raw_fields_redacted), sort_keys=True), time.time(),
    )
    return inserted == 1


# ----------------------------------------------------------------------------------- deciding with Stripe


def decide(
    capture: Capture, callback_result: str | None, pi: PaymentIntentInfo | None
) -> tuple[CaptureState, str | None]:
    """The state a capture should be in, from what PCI Pal said and what Stripe says (``pi``, may be None).

    * Stripe says succeeded for this capture's amount and currency -> ``succeeded``, whatever the callback said
      (the money moved; telling the bot "failed" would invite a second charge).
    * A callback claiming success is believed only by Stripe: until then ``processing``; Stripe's own failure
      (a declined confirmation, a canceled intent) settles it as failed / canceled.
    * A callback reporting a failure maps to failed / canceled / expired with a plain-words code.
    """
    if pi is not None and pi.status == "succeeded":
        if pi.amount != capture.amount or pi.currency.lower() != capture.currency.lower():
            # Never report "paid" for a different amount than the caller agreed to; ops must look at it.
            log.error("payment intent amount does not match its capture",
                      extra={"capture_id": capture.id, "payment_intent": pi.id})
            return "processing", "amount_mismatch"
        return "succeeded", None
    if callback_result is None:
        if pi is not None and pi.status == "canceled":
            return "canceled", "canceled_by_agent"
        return capture.state, capture.failure_code
    if callback_result == "success":
        if pi is None:
            return "processing", None
        if pi.status == "canceled":
            return "canceled", "canceled_by_agent"
        if pi.status == "requires_payment_method" and pi.last_payment_error_code:
            return "failed", pi.last_payment_error_code
        if pi.status == "requires_action":
            return "failed", "authentication_required"
        return "processing", None
    state, code = _RESULT_STATE.get(callback_result, ("failed", "card_declined"))
    if callback_result == "declined":
        # Stripe's decline code first (it is the bank's answer), then what PCI Pal relayed.
        code = (pi.last_payment_error_code if pi is not None else None) or capture.failure_code or code
    return state, code


async def fetch_pi(services: Services, tenant: TenantSettings, pi_id: str | None) -> PaymentIntentInfo | None:
    """Stripe's view of the PaymentIntent, or None if Stripe cannot tell us within CONFIRM_TIMEOUT."""
    if pi_id is None:
        return None
    try:
        async with asyncio.timeout(CONFIRM_TIMEOUT):
            return await services.providers.stripe(tenant).get_payment_intent(pi_id)
    except (ProviderError, TimeoutError) as exc:
        log.warning("could not confirm a capture with Stripe; it stays open",
                    extra={"payment_intent": pi_id, "error": type(exc).__name__})
        return None


async def ensure_not_chargeable(
    services: Services,
    tenant: TenantSettings,
    capture: Capture,
    known: PaymentIntentInfo | None = None,
    *,
    reason: Literal["abandoned", "requested_by_customer"] = "abandoned",
) -> tuple[bool, PaymentIntentInfo | None]:
    """Make sure no PaymentIntent of ``capture`` can still be charged, before it is told "not charged".

    Returns ``(True, None)`` when every intent is canceled at Stripe (by us now, or already), ``(True, pi)``
    when Stripe shows one of them ``succeeded`` (the caller *was* charged: a success path, not a failure), and
    ``(False, None)`` when Stripe could not tell us (unreachable, or an intent still ``processing``): the
    capture must then stay open, and the sweep asks again. A cancel Stripe refuses is answered by a retrieve,
    because Stripe refuses exactly when the intent already succeeded (or is mid-flight).
    """
    stripe = services.providers.stripe(tenant)
    for pi_id in capture.intent_ids:
        seen = known if known is not None and known.id == pi_id else None
        if seen is not None and seen.status == "succeeded":
            return True, seen
        if seen is not None and seen.status == "canceled":
            continue
        after: PaymentIntentInfo | None
        try:
            async with asyncio.timeout(CONFIRM_TIMEOUT):
                after = await stripe.cancel_payment_intent(
                    pi_id, reason=reason, idempotency_key=f"vp_stop_{capture.id}_{pi_id}"
                )
        except (ProviderError, TimeoutError) as exc:
            log.info("PaymentIntent not cancelled; asking Stripe where it stands",
                     extra={"capture_id": capture.id, "payment_intent": pi_id, "error": type(exc).__name__})
            after = await fetch_pi(services, tenant, pi_id)
        if after is None:
            return False, None
        if after.status == "succeeded":
            return True, after
        if after.status != "canceled":
            return False, None
    return True, None


async def settle(
    services: Services, tenant: TenantSettings, capture: Capture, *, pi: PaymentIntentInfo | None = None,
    fetch: bool = True,
) -> Capture:
    """Re-check an open capture against Stripe (and its callback result) and move it if the answer changed.

    A failure (declined, hung up, timed out...) becomes final only once :func:`ensure_not_chargeable` has
    made every PaymentIntent of the capture uncharged at Stripe; if Stripe then shows it paid, the capture
    succeeds instead, and if Stripe cannot say, it stays ``processing``.
    """
    if capture.final:
        return capture
    if pi is None and fetch:
        pi = await fetch_pi(services, tenant, capture.payment_intent_id)
    target, code = decide(capture, capture.callback_result, pi)
    if target in NOT_CHARGED_STATES:
        stopped, charged = await ensure_not_chargeable(services, tenant, capture, pi)
        if charged is not None:
            pi = charged
            target, code = decide(capture, capture.callback_result, charged)
        elif not stopped:
            log.warning("capture failure not final yet: its PaymentIntent could not be cancelled",
                        extra={"capture_id": capture.id})
            target = "processing" if capture.callback_result is not None else capture.state
    if target != capture.state or code != capture.failure_code:
        brand = pi.card_brand if pi is not None and pi.card_brand else None
        last4 = pi.card_last4 if pi is not None and pi.card_last4 else None
        if target in FINAL_STATES or target == "processing":
            await move(services.store, tenant.id, capture.id, target,
                       failure_code=code, card_brand=brand, card_last4=last4)
    fresh = await get(services.store, tenant.id, capture.id)
    assert fresh is not None
    if target == "processing" and code == "amount_mismatch":
        await open_case(services, tenant, fresh, "unmatched",
                        f"Capture {fresh.id}: Stripe shows a payment whose amount or currency does not match "
                        f"the order ({spoken_amount(fresh.amount, fresh.currency)}); it was not reported as paid.")
    return fresh


async def expire_if_due(
    services: Services, tenant: TenantSettings, capture: Capture, *, now: float | None = None
) -> Capture:
    """Past its TTL an open capture expires, but only after its PaymentIntent is canceled (or found paid).

    Cancel first, then mark: if Stripe refuses the cancel because the intent already succeeded, the caller
    did pay at the last second and the capture becomes ``succeeded`` instead; it never goes expired -> paid.
    """
    ts = time.time() if now is None else now
    if capture.final or ts < capture.expires_at:
        return capture
    if capture.callback_result == "success" and capture_mode(tenant) != "confirm_ours":
        # PCI Pal said paid; in these modes an intent we cannot see may hold the money.
        settled = await settle(services, tenant, capture)
        if settled.final:
            return settled
        return await unmatched_success(services, tenant, settled, "no paid PaymentIntent was found in time")
    stopped, charged = await ensure_not_chargeable(services, tenant, capture)
    if charged is not None or not stopped:
        return await settle(services, tenant, capture, pi=charged, fetch=charged is None)
    await move(services.store, tenant.id, capture.id, "expired", failure_code="session_timed_out")
    fresh = await get(services.store, tenant.id, capture.id)
    assert fresh is not None
    return fresh


#: A processing capture (PCI Pal has answered) that Stripe has not settled this long after is re-checked by
#: the sweep: a lost webhook or a cancel that failed must not leave it open until its TTL.
PROCESSING_RECHECK_SECONDS: Final = 20.0
PROCESSING_RECHECK_WINDOW: Final = 3600.0


async def sweep_expired(services: Services, *, now: float | None = None, limit: int = 100) -> int:
    """Expire every open capture past its TTL (all tenants) and re-check stale ``processing`` ones against
    Stripe; returns how many were looked at."""
    ts = time.time() if now is None else now
    rows = await services.store.fetchall(
        "SELECT * FROM capture_sessions WHERE state IN ('created', 'awaiting_caller', 'processing') "
        "AND expires_at <= ? ORDER BY expires_at LIMIT ?",
        ts, limit,
    )
    # Newest first, and only for an hour: a capture Stripe keeps undecided (an unmatched success, waiting on a
    # human) must not take every turn from the fresh ones; its expiry still brings it back.
    stale = await services.store.fetchall(
        "SELECT * FROM capture_sessions WHERE state = 'processing' AND expires_at > ? AND updated_at <= ? "
        "AND updated_at > ? ORDER BY updated_at DESC LIMIT ?",
        ts, ts - PROCESSING_RECHECK_SECONDS, ts - PROCESSING_RECHECK_WINDOW, limit,
    )
    for row in rows:
        capture = Capture.from_row(row)
        tenant = services.settings.tenant(capture.tenant_id)
        if tenant is None:
            continue
        await expire_if_due(services, tenant, capture, now=ts)
    for row in stale:
        capture = Capture.from_row(row)
        tenant = services.settings.tenant(capture.tenant_id)
        if tenant is not None:
            await settle(services, tenant, capture)
    return len(rows) + len(stale)


async def sweep_loop(services: Services) -> None:
    while True:
        await asyncio.sleep(SWEEP_INTERVAL)
        try:
            await sweep_expired(services)
        except StoreError:
            log.warning("capture expiry sweep failed; will retry", exc_info=True)


# ------------------------------------------------------------------------------------------ late success


async def open_case(services: Services, tenant: TenantSettings, capture: Capture, kind: str, summary: str) -> str:
    """A case for the ops desk about this capture, once per (capture, kind); returns its reference."""
    from gateway.actions.base import ActionContext
    from gateway.actions.escalations import create_escalation
    from gateway.auth import AgentIdentity

    ctx = ActionContext(
        services=services,
        tenant=tenant,
        identity=AgentIdentity(key_id="captures", tenant_id=tenant.id, scopes=frozenset()),
        action="captures.reconcile",
        request_id=f"capture:{capture.id}",
        call_id=None,
        idempotency_key=None,
    )
    case = await create_escalation(
        ctx, reason="other", summary=summary, customer_id=capture.customer_id,
        payment_ids=list(capture.intent_ids), source_key=f"capture-{kind}:{capture.id}",
    )
    log.warning("capture escalated", extra={"capture_id": capture.id, "case": case.reference, "kind": kind})
    return case.reference


async def _late_success_tx(tx: Executor, tenant_id: str, capture: Capture, pi: PaymentIntentInfo) -> bool:
    if pi.id not in capture.intent_ids:
        # PCI Pal's own intent, found only now (matched by the capture id in its metadata).
        await tx.execute(
            "UPDATE capture_sessions SET payment_intent_id = ? WHERE tenant_id = ? AND id = ? AND state IN "
            "('failed', 'canceled', 'expired')",
            pi.id, tenant_id, capture.id,
        )
    return await move(tx, tenant_id, capture.id, "late_succeeded",
                      card_brand=pi.card_brand or None, card_last4=pi.card_last4 or None)


async def record_late_success(
    services: Services, tenant: TenantSettings, capture: Capture, pi: PaymentIntentInfo
) -> Capture:
    """Correct a capture that ended "not charged" when Stripe shows ``pi`` succeeded: ``late_succeeded``,
    the bot notified (the notification says so, in words it can speak), and a case for a human."""
    if capture.state in NOT_CHARGED_STATES:
        async with services.store.transaction() as tx:
            await _late_success_tx(tx, tenant.id, capture, pi)
    fresh = await get(services.store, tenant.id, capture.id)
    assert fresh is not None
    if fresh.state == "late_succeeded":
        await open_late_success_case(services, tenant, fresh)
    return fresh


async def open_late_success_case(services: Services, tenant: TenantSettings, capture: Capture) -> str:
    return await open_case(
        services, tenant, capture, "late-success",
        f"Capture {capture.id}: the caller was told the card payment of "
        f"{spoken_amount(capture.amount, capture.currency)} did not go through ({capture.failure_code or 'failed'}),"
        f" but Stripe shows PaymentIntent {capture.payment_intent_id} succeeded afterwards. Check for a second "
        "payment by the caller and refund one if so.",
    )


async def reconcile_ended(services: Services, tenant: TenantSettings, capture: Capture) -> Capture:
    """For a capture that ended "not charged": ask Stripe whether any of its intents succeeded after all."""
    if capture.state not in NOT_CHARGED_STATES:
        return capture
    for pi_id in capture.intent_ids:
        pi = await fetch_pi(services, tenant, pi_id)
        if pi is not None and pi.status == "succeeded":
            return await record_late_success(services, tenant, capture, pi)
    return capture


async def find_for_event(
    db: Executor | Store, tenant_id: str, pi_id: str, capture_id: str | None
) -> Capture | None:
    """The capture a Stripe PaymentIntent belongs to: by intent id, else by the capture id the gateway (and
    PCI Pal's flow, from InitialValues) put in the intent's metadata."""
    found = await find_by_payment_intent(db, tenant_id, pi_id)
    if found is None and capture_id:
        found = await get(db, tenant_id, capture_id)
    return found


async def on_payment_intent_event(
    store: Store | Executor,
    tenant_id: str,
    pi_id: str,
    status: str,
    *,
    amount: int | None = None,
    currency: str | None = None,
    card_brand: str | None = None,
    card_last4: str | None = None,
    failure_code: str | None = None,
    capture_id: str | None = None,
) -> CaptureState | None:
    """Apply a verified Stripe PaymentIntent event to its capture (the webhook worker calls this).

    ``status`` is the PaymentIntent's status (``succeeded``, ``canceled``, ``requires_payment_method``...).
    ``store`` may be the store (a transaction is opened) or the caller's own transaction, so the capture's
    move and its notification commit together with the webhook's processing.
    Returns the capture's state afterwards, or None if the PaymentIntent belongs to no capture. A verified
    webhook is Stripe's own word, so ``succeeded`` settles the capture without another retrieve, and on a
    capture that had ended "not charged" it is a late success. A failed attempt is only recorded here: the
    capture fails once its intent is cancelled at Stripe (:func:`after_payment_intent_event`), and while the
    caller is still on the secure line PCI Pal's flow may let them try another card. An intent matched only
    by its metadata (PCI Pal's own, in adopt_theirs) is adopted outside this transaction.
    """
    if isinstance(store, Store):
        async with store.transaction() as tx:
            return await on_payment_intent_event(
                tx, tenant_id, pi_id, status, amount=amount, currency=currency, card_brand=card_brand,
                card_last4=card_last4, failure_code=failure_code, capture_id=capture_id,
            )
    capture = await find_for_event(store, tenant_id, pi_id, capture_id)
    if capture is None:
        return None
    linked = pi_id in capture.intent_ids
    matches = not (
        (amount is not None and amount != capture.amount)
        or (currency is not None and currency.lower() != capture.currency.lower())
    )
    if status == "succeeded":
        if not matches:
            log.error("payment intent amount does not match its capture",
                      extra={"capture_id": capture.id, "payment_intent": pi_id})
        elif capture.state in NOT_CHARGED_STATES:
            from adapters.stripe.models import PaymentIntentInfo as _PI

            await _late_success_tx(store, tenant_id, capture, _PI(
                id=pi_id, status="succeeded", amount=capture.amount, currency=capture.currency,
                customer_id=None, description=None, latest_charge_id=None, charge_status=None,
                card_brand=card_brand, card_last4=card_last4, last_payment_error_code=None, created=0,
            ))
        elif linked:
            await move(store, tenant_id, capture.id, "succeeded", card_brand=card_brand, card_last4=card_last4)
    elif status == "canceled" and linked and pi_id == capture.payment_intent_id:
        await move(store, tenant_id, capture.id, "canceled", failure_code="canceled_by_agent")
    elif status == "requires_payment_method" and failure_code and capture.state == "processing" and linked:
        await transition(store, tenant_id, capture.id, "processing", failure_code=failure_code)
    fresh = await get(store, tenant_id, capture.id)
    return fresh.state if fresh is not None else None


async def after_payment_intent_event(
    services: Services, tenant: TenantSettings, pi_id: str, capture_id: str | None
) -> None:
    """What a PaymentIntent webhook needs beyond the store: a late success's case, PCI Pal's own intent
    adopted (adopt_theirs), a reported failure made final once the intent is cancelled at Stripe."""
    capture = await find_for_event(services.store, tenant.id, pi_id, capture_id)
    if capture is None:
        return
    if capture.state == "late_succeeded":
        await open_late_success_case(services, tenant, capture)
    elif not capture.final and pi_id not in capture.intent_ids:
        pi = await fetch_pi(services, tenant, pi_id)
        if pi is not None and pi.status == "succeeded":
            await adopt(services, tenant, capture, pi)
    elif capture.state == "processing":
        await settle(services, tenant, capture)


async def adopt(services: Services, tenant: TenantSettings, capture: Capture, pi: PaymentIntentInfo) -> Capture:
    """Make a PaymentIntent someone else created (PCI Pal's Stripe "Payment" step) this capture's payment.

    Checked against the order first (amount, currency, MOTO, customer, and that it names this capture or is
    the one PCI Pal's callback named); then the gateway's own unused intent is cancelled; only then is the
    capture ``succeeded``. An intent that fails a check is never reported as paid: a case is opened and the
    capture stays ``processing`` (never "not charged": money may have moved).
    """
    problem = adoption_problem(capture, pi)
    if problem is not None:
        log.error("PCI Pal's PaymentIntent does not match its capture",
                  extra={"capture_id": capture.id, "payment_intent": pi.id, "problem": problem})
        await transition(services.store, tenant.id, capture.id, "processing", failure_code="amount_mismatch")
        fresh = await get(services.store, tenant.id, capture.id)
        assert fresh is not None
        await open_case(services, tenant, fresh, "unmatched",
                        f"Capture {capture.id}: PCI Pal reported payment {pi.id}, which does not match the order "
                        f"({problem}); it was not reported as paid. Check it at Stripe.")
        return fresh
    if pi.status != "succeeded":
        return capture
    own = capture.own_payment_intent_id
    if own is not None and own != pi.id:
        own_capture = replace(capture, payment_intent_id=own, own_payment_intent_id=own)
        stopped, charged = await ensure_not_chargeable(services, tenant, own_capture)
        if charged is not None:
            # Both intents were charged: the caller paid twice. Report paid (true) and let a human refund one.
            await open_case(services, tenant, capture, "double-charge",
                            f"Capture {capture.id}: both the gateway's PaymentIntent {own} and PCI Pal's {pi.id} "
                            "succeeded. Refund one of them.")
        elif not stopped:
            log.warning("own PaymentIntent not cancelled yet; adoption waits", extra={"capture_id": capture.id})
            return capture
    await adopt_payment_intent(services.store, tenant.id, capture.id, pi.id)
    fresh = await get(services.store, tenant.id, capture.id)
    assert fresh is not None
    if fresh.payment_intent_id != pi.id:
        return fresh
    return await settle(services, tenant, fresh, pi=pi, fetch=False)


def adoption_problem(capture: Capture, pi: PaymentIntentInfo) -> str | None:
    """Why ``pi`` cannot be this capture's payment, in words for a log and a case (no card data)."""
    if pi.amount != capture.amount:
        return "amount differs"
    if pi.currency.lower() != capture.currency.lower():
        return "currency differs"
    if capture.customer_id is not None and pi.customer_id not in (None, capture.customer_id):
        return "customer differs"
    if pi.moto is False:
        return "not a MOTO payment"
    owner = pi.metadata.get("voicepay_capture_id") or pi.metadata.get("order_reference")
    if owner is not None and owner != capture.id:
        return "it belongs to another order"
    return None


# ------------------------------------------------------------------------------------- capture modes

#: After a success nobody could match to a paid intent, the sweep looks at the capture again this much later
#: (a case is open; a human decides). It is never expired into "not charged".
UNMATCHED_RECHECK_SECONDS: Final = 24 * 3600.0


def capture_mode(tenant: TenantSettings) -> str:
    return tenant.pcipal.capture_mode if tenant.pcipal is not None else "confirm_ours"


async def _named_intent(
    services: Services, tenant: TenantSettings, result: CaptureResult
) -> PaymentIntentInfo | None:
    """The PaymentIntent a callback names (``pi_`` directly, or the intent of a ``ch_`` charge)."""
    pi_id = result.payment_intent_id
    charge = result.transaction_id if result.transaction_id and result.transaction_id.startswith("ch_") else None
    stripe = services.providers.stripe(tenant)
    if pi_id is None and charge is not None:
        try:
            async with asyncio.timeout(CONFIRM_TIMEOUT):
                pi_id = (await stripe.get_payment(charge)).payment_intent_id
        except (ProviderError, TimeoutError):
            return None
    return await fetch_pi(services, tenant, pi_id) if pi_id else None


async def unmatched_success(services: Services, tenant: TenantSettings, capture: Capture, why: str) -> Capture:
    """PCI Pal says paid and Stripe shows no matching paid intent: a case for a human, the capture left
    ``processing`` (never "not charged", never a second payment offer), looked at again a day later."""
    await services.store.execute(
        "UPDATE capture_sessions SET expires_at = ? WHERE tenant_id = ? AND id = ? AND state = 'processing' "
        "AND expires_at < ?",
        time.time() + UNMATCHED_RECHECK_SECONDS, tenant.id, capture.id, time.time() + UNMATCHED_RECHECK_SECONDS,
    )
    fresh = await get(services.store, tenant.id, capture.id)
    assert fresh is not None
    await open_case(services, tenant, fresh, "unmatched",
                    f"Capture {capture.id}: PCI Pal reported the card payment of "
                    f"{spoken_amount(capture.amount, capture.currency)} as successful, but {why}. It was not "
                    "reported to the caller as paid or as failed. Check Stripe and PCI Pal.")
    return fresh


async def after_callback(
    services: Services, tenant: TenantSettings, capture: Capture, result: CaptureResult
) -> Capture:
    """Act on a recorded PCI Pal callback according to the tenant's capture mode, then settle with Stripe."""
    mode = capture_mode(tenant)
    if capture.final:
        if capture.state in NOT_CHARGED_STATES and result.succeeded:
            # A late "paid": believe Stripe only.
            named = await _named_intent(services, tenant, result) if mode == "adopt_theirs" else None
            if named is not None and named.status == "succeeded" and adoption_problem(capture, named) is None:
                return await record_late_success(services, tenant, capture, named)
            return await reconcile_ended(services, tenant, capture)
        return capture
    if mode == "adopt_theirs":
        named = await _named_intent(services, tenant, result)
        if named is not None and named.id not in capture.intent_ids:
            if named.status == "succeeded":
                return await adopt(services, tenant, capture, named)
            if adoption_problem(capture, named) is None:
                # A failed attempt of PCI Pal's own intent: linked, so it is cancelled with ours.
                await adopt_payment_intent(services.store, tenant.id, capture.id, named.id)
                fresh = await get(services.store, tenant.id, capture.id)
                assert fresh is not None
                return await settle(services, tenant, fresh, pi=named, fetch=False)
        if result.succeeded and named is None:
            settled = await settle(services, tenant, capture)
            if settled.state == "processing":
                return await unmatched_success(
                    services, tenant, settled, "the callback names no PaymentIntent Stripe knows")
            return settled
    if mode == "token" and result.succeeded:
        token = result.payment_method_id
        own = capture.own_payment_intent_id or capture.payment_intent_id
        if token is None or own is None:
            return await unmatched_success(services, tenant, capture, "the callback carries no card token")
        try:
            async with asyncio.timeout(CONFIRM_TIMEOUT):
                await services.providers.stripe(tenant).confirm_payment_intent(
                    own, payment_method=token, idempotency_key=f"vp_token_{capture.id}")
        except (ProviderError, TimeoutError) as exc:
            # A decline shows on the intent (settle reads it); an unknown outcome leaves it processing.
            log.info("confirming with PCI Pal's token did not succeed",
                     extra={"capture_id": capture.id, "error": type(exc).__name__})
    return await settle(services, tenant, capture)


# ---------------------------------------------------------------------------------------- notifications


async def move(
    db: Executor | Store, tenant_id: str, capture_id: str, to: CaptureState, **fields: str | None
) -> bool:
    """:func:`transition`, plus the bot's notification when the capture becomes final, in one transaction:
    the notification exists if and only if the state change committed (and is deduped per capture+state)."""
    if isinstance(db, Store):
        async with db.transaction() as tx:
            return await move(tx, tenant_id, capture_id, to, **fields)
    moved = await transition(db, tenant_id, capture_id, to, **fields)
    if moved and to in FINAL_STATES:
        capture = await get(db, tenant_id, capture_id)
        assert capture is not None
        await emit_notification(
            db,
            tenant_id,
            f"capture.{capture.state}",
            {
                "capture_id": capture.id,
                "payment_intent": capture.payment_intent_id,
                "amount": capture.amount,
                "currency": capture.currency,
                "card_brand": capture.card_brand,
                "card_last4": capture.card_last4,
                "failure_reason": capture.failure_reason,
            },
            say_for(capture),
            status=capture.state,
            dedupe_key=f"capture:{capture.id}:{capture.state}",
        )
    return moved


# ------------------------------------------------------------------------------------------- speech


_SYMBOLS: Final = {"gbp": "£", "usd": "$", "eur": "€", "aud": "A$", "cad": "C$"}
# Stripe's zero-decimal currencies we are likely to see; amounts are already whole units there.
_ZERO_DECIMAL: Final = frozenset({"jpy", "krw", "vnd", "clp", "isk", "ugx", "xaf", "xof"})


def major_units(amount: int, currency: str) -> str:
    """``2500 gbp`` -> ``25.00``; zero-decimal currencies stay whole."""
    if currency.lower() in _ZERO_DECIMAL:
        return str(amount)
    return f"{amount // 100}.{amount % 100:02d}"


def spoken_amount(amount: int, currency: str) -> str:
    cur = currency.lower()
    text = f"{amount:,}" if cur in _ZERO_DECIMAL else f"{amount // 100:,}.{amount % 100:02d}"
    symbol = _SYMBOLS.get(cur)
    return f"{symbol}{text}" if symbol else f"{text} {cur.upper()}"


def say_for(capture: Capture, *, link_offer: bool = False) -> str:
    amount = speech.money(capture.amount, capture.currency)
    if capture.state == "succeeded":
        if capture.card_brand and capture.card_last4:
            card = speech.card(capture.card_brand, capture.card_last4)
            return speech.say("capture.succeeded_card", amount=amount, card=card)
        return speech.say("capture.succeeded", amount=amount)
    if capture.state == "late_succeeded":
        return speech.say("capture.late_succeeded", amount=amount)
    if capture.state == "processing":
        return speech.say("capture.processing")
    if capture.state in ("created", "awaiting_caller"):
        return speech.say("capture.waiting")
    if capture.state == "failed":
        if capture.failure_code == "authentication_required":
            if not link_offer:  # no sender for this tenant: never promise a link
                return speech.say("capture.failed_auth_no_link")
            return speech.say("capture.failed_auth", amount=amount)
        return speech.say("capture.failed", because=speech.decline(capture.failure_code))
    if capture.state == "canceled":
        return speech.say("capture.canceled")
    return speech.say("capture.expired")
