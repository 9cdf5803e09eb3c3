"""Refunds and disputes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import params as P
from ..errors import ValidationError, invalid
from .base import (
    LIST_FIELDS,
    REFUND_REASONS,
    StateBase,
    fmt_money,
    new_id,
)


class RefundsMixin(StateBase):
    # --- refunds -------------------------------------------------------------------------------------

    def refund_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "charge": P.Str(),
                "payment_intent": P.Str(),
                "amount": P.Int(min=1),
                "reason": P.Enum(REFUND_REASONS),
                "metadata": P.Metadata(),
                "instructions_email": P.Str(),
                "refund_application_fee": P.Bool(),
                "reverse_transfer": P.Bool(),
                "origin": P.Enum(("customer_balance",)),
            },
        )
        charge_id, pi_id = p.get("charge"), p.get("payment_intent")
        if not charge_id and not pi_id:
            raise ValidationError(
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        if pi_id:
            pi = self.get("payment_intent", pi_id, "payment_intent", "payment_intent")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                if pi["status"] == "requires_capture":
                    message = (
                        "This PaymentIntent is in requires_capture and can't be refunded. Cancel the "
                        "PaymentIntent instead."
                    )
                else:
                    message = "This PaymentIntent does not have a successful charge to refund."
                raise invalid(message, param="payment_intent", code="charge_not_refundable")
            if charge_id and charge_id != pi["latest_charge"]:
                raise invalid("The charge does not belong to this PaymentIntent.", param="charge")
            charge_id = pi["latest_charge"]
        charge = self.get("charge", charge_id, "charge", "charge")
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(
                f"Charge {charge['id']} has not been captured or has failed and cannot be refunded.",
                param="charge",
                code="charge_not_refundable",
            )
        if charge["disputed"]:
            raise invalid(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                param="charge",
                code="charge_disputed",
            )
        if charge["refunded"] or charge["amount_refunded"] >= charge["amount_captured"]:
            raise invalid(
                f"Charge {charge['id']} has already been refunded.",
                param="charge",
                code="charge_already_refunded",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        amount = p.get("amount", remaining)
        if amount > remaining:
            raise invalid(
                f"Refund amount ({fmt_money(amount, charge['currency'])}) "
                "is greater than unrefunded amount on "
                f"charge ({fmt_money(remaining, charge['currency'])})",
                param="amount",
                code="amount_too_large",
            )
        will_fail = self.pm_behaviour.get(charge["id"]) == "refund_fail"
        refund = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": self.ts(),
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": p.get("metadata", {}),
            "payment_intent": charge["payment_intent"],
            "reason": p.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "pending" if will_fail else "succeeded",
            "transfer_reversal": None,
        }
        if will_fail:
            refund["pending_reason"] = "processing"
        self.put("refund", refund)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge, {"amount_refunded": charge["amount_refunded"] - amount})
        if will_fail:
            # Stripe documents this test card's refunds as failing "some time in the future"; the failure is
            # scheduled (run by the sandbox's settle loop or on demand with settle()).
            self.pending.append((self.now(), lambda: self._fail_refund(refund["id"])))
        return self.render(refund, p.expand)

    def _fail_refund(self, refund_id: str) -> None:
        refund = self.by_id[refund_id]
        if refund["status"] != "pending":
            return
        charge = self.by_id[refund["charge"]]
        refund.update(status="failed", failure_reason="declined", failure_balance_transaction=new_id("txn_"))
        refund.pop("pending_reason", None)
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("refund.updated", refund, {"status": "pending"})
        self.emit("refund.failed", refund, {"status": "pending"})

    def refund_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("refund", a["id"], "refund"), p.expand)

    def refund_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {"metadata": P.Metadata()})
        refund = self.get("refund", a["id"], "refund")
        if "metadata" in p:
            previous = {"metadata": dict(refund["metadata"])}
            meta = {**refund["metadata"], **p.get("metadata")}
            refund["metadata"] = {k: v for k, v in meta.items() if v != ""}
            self.emit("refund.updated", refund, previous)
        return self.render(refund, p.expand)

    def refund_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "charge": P.Str(), "payment_intent": P.Str()})
        ch, pi = p.get("charge"), p.get("payment_intent")
        res = self.page(
            "refund",
            p,
            "/v1/refunds",
            lambda o: (ch is None or o["charge"] == ch) and (pi is None or o["payment_intent"] == pi),
        )
        return self.render(res, p.expand)

    # --- disputes ------------------------------------------------------------------------------------

    def open_dispute(self, charge_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        charge = self.get("charge", charge_id, "charge", "charge")
        if charge["status"] != "succeeded":
            raise invalid("Only a succeeded charge can be disputed.", param="charge")
        if charge["disputed"]:
            raise invalid(f"Charge {charge_id} is already disputed.", param="charge")
        dispute = {
            "id": new_id("dp_"),
            "object": "dispute",
            "amount": charge["amount"] - charge["amount_refunded"],
            "balance_transactions": [],
            "charge": charge_id,
            "created": self.ts(),
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": {
                "customer_email_address": None,
                "customer_name": None,
                "enhanced_evidence": {},
                "uncategorized_text": None,
            },
            "evidence_details": {
                "due_by": self.ts() + 7 * 86400,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
                "submission_method": "not_submitted",
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }
        self.put("dispute", dispute)
        charge["disputed"] = True
        self.emit("charge.dispute.created", dispute)
        return dispute

    def dispute_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("dispute", a["id"], "dispute"), p.expand)

    def dispute_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {**LIST_FIELDS, "charge": P.Str(), "payment_intent": P.Str()})
        ch, pi = p.get("charge"), p.get("payment_intent")
        res = self.page(
            "dispute",
            p,
            "/v1/disputes",
            lambda o: (ch is None or o["charge"] == ch) and (pi is None or o["payment_intent"] == pi),
        )
        return self.render(res, p.expand)
