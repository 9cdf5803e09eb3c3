"""Coupons and promotion codes."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from .. import params as P
from ..errors import ValidationError, invalid
from .base import (
    _CODE_CHARSET,
    CURRENCY,
    LIST_FIELDS,
    StateBase,
    new_id,
)


class CouponsMixin(StateBase):
    # --- coupons and promotion codes -----------------------------------------------------------------

    def coupon_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw,
            {
                "id": P.Str(max_len=200),
                "percent_off": P.Float(),
                "amount_off": P.Int(min=1),
                "currency": CURRENCY,
                "duration": P.Enum(("once", "repeating", "forever")),
                "duration_in_months": P.Int(min=1),
                "max_redemptions": P.Int(min=1),
                "redeem_by": P.Int(),
                "name": P.Str(max_len=40),
                "metadata": P.Metadata(),
                "applies_to": P.Obj({"products": P.StrList()}),
            },
        )
        has_pct, has_amt = "percent_off" in p, "amount_off" in p
        if has_pct == has_amt:
            raise ValidationError(
                "You must pass exactly one of percent_off or amount_off.",
                param="percent_off" if not has_pct else "amount_off",
            )
        if has_pct and not 0 < p.get("percent_off") <= 100:
            raise ValidationError(
                "Invalid percent_off: must be greater than 0 and at most 100.", param="percent_off"
            )
        if has_amt and not p.get("currency"):
            raise ValidationError(
                "You must pass currency when passing amount_off.", param="currency", code="parameter_missing"
            )
        duration = p.get("duration", "once")
        if duration == "repeating" and "duration_in_months" not in p:
            raise ValidationError(
                "You must pass duration_in_months when duration is repeating.",
                param="duration_in_months",
                code="parameter_missing",
            )
        if duration != "repeating" and "duration_in_months" in p:
            raise ValidationError(
                "duration_in_months can only be set when duration is repeating.", param="duration_in_months"
            )
        if "redeem_by" in p and p.get("redeem_by") <= self.ts():
            raise ValidationError("Invalid redeem_by: must be in the future.", param="redeem_by")
        ident = p.get("id") or new_id("", 8)
        if ident in self.store.get("coupon", {}):
            raise invalid("Coupon already exists.", param="id", code="resource_already_exists")
        coupon = {
            "id": ident,
            "object": "coupon",
            "amount_off": p.get("amount_off"),
            "created": self.ts(),
            "currency": (p.get("currency") or "").lower() or None,
            "duration": duration,
            "duration_in_months": p.get("duration_in_months"),
            "livemode": False,
            "max_redemptions": p.get("max_redemptions"),
            "metadata": p.get("metadata", {}),
            "name": p.get("name"),
            "percent_off": p.get("percent_off"),
            "redeem_by": p.get("redeem_by"),
            "times_redeemed": 0,
            "valid": True,
        }
        self.put("coupon", coupon)
        self.emit("coupon.created", coupon)
        return self.render(coupon, p.expand)

    def coupon_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        coupon = self.get("coupon", a["id"], "coupon")
        self._refresh_coupon(coupon)
        return self.render(coupon, p.expand)

    def _refresh_coupon(self, coupon: dict[str, Any]) -> None:
        expired = coupon["redeem_by"] is not None and coupon["redeem_by"] <= self.ts()
        exhausted = (
            coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]
        )
        coupon["valid"] = not (expired or exhausted)

    def coupon_delete(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        P.validate(raw, {})
        coupon = self.get("coupon", a["id"], "coupon")
        del self.store["coupon"][coupon["id"]]
        self.emit("coupon.deleted", coupon)
        return {"id": coupon["id"], "object": "coupon", "deleted": True}

    def coupon_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, LIST_FIELDS)
        return self.render(self.page("coupon", p, "/v1/coupons"), p.expand)

    PROMO_RESTRICTIONS = P.Obj(
        {
            "first_time_transaction": P.Bool(),
            "minimum_amount": P.Int(min=1),
            "minimum_amount_currency": CURRENCY,
        }
    )

    def promo_create(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        # Since API version 2025-09-30 the coupon sits under promotion[coupon] with promotion[type]=coupon;
        # the old top-level ``coupon`` parameter is unknown and refused as such.
        p = P.validate(
            raw,
            {
                "promotion": P.Obj(
                    {"type": P.Enum(("coupon",)), "coupon": P.Str()}, required=("type", "coupon")
                ),
                "code": P.Str(max_len=500),
                "active": P.Bool(),
                "customer": P.Str(),
                "expires_at": P.Int(),
                "max_redemptions": P.Int(min=1),
                "metadata": P.Metadata(),
                "restrictions": self.PROMO_RESTRICTIONS,
            },
            required=("promotion",),
        )
        coupon = self.get("coupon", p.get("promotion")["coupon"], "coupon", "promotion[coupon]")
        self._refresh_coupon(coupon)
        if not coupon["valid"]:
            raise invalid(f"Coupon {coupon['id']} is no longer valid.", param="promotion[coupon]")
        code = p.get("code") or "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
        )
        if not _CODE_CHARSET.match(code):
            raise ValidationError(
                "Invalid code: only letters, digits and dashes (-) are allowed.", param="code"
            )
        active = p.get("active", True)
        if active and any(
            o["active"] and o["code"].lower() == code.lower()
            for o in self.store.get("promotion_code", {}).values()
        ):
            raise invalid(
                f"An active promotion code with `code: {code}` already exists.",
                param="code",
                code="resource_already_exists",
            )
        if p.get("customer"):
            self.get("customer", p.get("customer"), "customer", "customer")
        expires_at = p.get("expires_at")
        if expires_at is not None:
            if expires_at <= self.ts():
                raise ValidationError("Invalid expires_at: must be in the future.", param="expires_at")
            if coupon["redeem_by"] is not None and expires_at > coupon["redeem_by"]:
                raise invalid(
                    "The promotion code's expires_at cannot be later than its coupon's redeem_by.",
                    param="expires_at",
                )
        max_r = p.get("max_redemptions")
        if max_r is not None and coupon["max_redemptions"] is not None and max_r > coupon["max_redemptions"]:
            raise invalid(
                "The promotion code's max_redemptions cannot exceed its coupon's max_redemptions.",
                param="max_redemptions",
            )
        restr = p.get("restrictions") or {}
        promo = {
            "id": new_id("promo_"),
            "object": "promotion_code",
            "active": active,
            "code": code,
            "created": self.ts(),
            "customer": p.get("customer"),
            "expires_at": expires_at,
            "livemode": False,
            "max_redemptions": max_r,
            "metadata": p.get("metadata", {}),
            "promotion": {"coupon": coupon["id"], "type": "coupon"},
            "restrictions": {
                "currency_options": {},
                "first_time_transaction": restr.get("first_time_transaction", False),
                "minimum_amount": restr.get("minimum_amount"),
                "minimum_amount_currency": restr.get("minimum_amount_currency"),
            },
            "times_redeemed": 0,
        }
        self.put("promotion_code", promo)
        self.emit("promotion_code.created", promo)
        return self.render(promo, p.expand)

    def _refresh_promo(self, promo: dict[str, Any]) -> None:
        if promo["expires_at"] is not None and promo["expires_at"] <= self.ts():
            promo["active"] = False

    def promo_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        promo = self.get("promotion_code", a["id"], "promotion code")
        self._refresh_promo(promo)
        return self.render(promo, p.expand)

    def promo_update(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {"active": P.Bool(), "metadata": P.Metadata(), "restrictions": self.PROMO_RESTRICTIONS}
        )
        promo = self.get("promotion_code", a["id"], "promotion code")
        previous: dict[str, Any] = {}
        if "active" in p and p.get("active") != promo["active"]:
            if p.get("active") and any(
                o["active"] and o["code"].lower() == promo["code"].lower()
                for o in self.store["promotion_code"].values()
            ):
                raise invalid(
                    f"An active promotion code with `code: {promo['code']}` already exists.",
                    param="active",
                    code="resource_already_exists",
                )
            previous["active"] = promo["active"]
            promo["active"] = p.get("active")
        if "metadata" in p:
            previous["metadata"] = dict(promo["metadata"])
            meta = {**promo["metadata"], **p.get("metadata")}
            promo["metadata"] = {k: v for k, v in meta.items() if v != ""}
        if previous:
            self.emit("promotion_code.updated", promo, previous)
        return self.render(promo, p.expand)

    def promo_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {**LIST_FIELDS, "code": P.Str(), "coupon": P.Str(), "customer": P.Str(), "active": P.Bool()}
        )
        for promo in self.store.get("promotion_code", {}).values():
            self._refresh_promo(promo)
        code, coupon, cus, active = p.get("code"), p.get("coupon"), p.get("customer"), p.get("active")

        def pred(o: dict[str, Any]) -> bool:
            # Stripe: "Only return promotion codes that have this case-insensitive code."
            return (
                (code is None or o["code"].lower() == code.lower())
                and (coupon is None or o["promotion"]["coupon"] == coupon)
                and (cus is None or o["customer"] == cus)
                and (active is None or o["active"] == active)
            )

        return self.render(self.page("promotion_code", p, "/v1/promotion_codes", pred), p.expand)
