"""Provider text is redacted when a result model is built: the typed boundary between Stripe and the gateway."""

from __future__ import annotations

import dataclasses
import inspect

from adapters.stripe import models
from adapters.stripe.models import Payment, ProviderText, Subscription, SubscriptionLine

PAN = "5555555555554444"


def test_every_result_model_derives_from_the_redacting_base() -> None:
    # A new model that forgot the base would carry provider text to the bot unread.
    found = [
        cls
        for _, cls in inspect.getmembers(models, inspect.isclass)
        if dataclasses.is_dataclass(cls) and cls.__module__ == models.__name__ and cls is not models.AdapterStats
    ]
    assert len(found) >= 10
    assert [c.__name__ for c in found if not issubclass(c, ProviderText)] == []


def _payment(**kw: object) -> Payment:
    base: dict[str, object] = dict(
        payment_intent_id="pi_1", charge_id="ch_1", amount=1299, currency="gbp", status="failed", created=0,
        description=None, card_brand="visa", card_last4="4242", amount_refunded=0, refunded=False, disputed=False,
        failure_code="card_declined", failure_message=None, customer_id="cus_1",
    )
    base.update(kw)
    return Payment(**base)  # type: ignore[arg-type]


def test_description_failure_message_and_metadata_are_redacted_at_construction() -> None:
    p = _payment(
        description="Phone order, card 5555 5555 5555 4444 exp 12/29",
        failure_message=f"declined for {PAN}",
        metadata={"note": PAN, PAN: "key", "order": "A-17"},
    )
    assert p.description == "Phone order, card [card mastercard ••4444] exp [expiry]"
    assert p.failure_message == "declined for [card mastercard ••4444]"
    assert PAN not in repr(p.metadata) and p.metadata["order"] == "A-17"
    # Everything else as given (same objects: nothing to clean costs nothing).
    clean = _payment(description="Monthly box", metadata={"order": "A-17"})
    assert clean.description == "Monthly box" and clean.metadata == {"order": "A-17"}
    assert clean.card_last4 == "4242" and clean.amount == 1299


def test_product_names_of_subscriptions_and_their_lines() -> None:
    line = SubscriptionLine(
        price_id="price_1", price_nickname=f"Plan {PAN}", product_id="prod_1", product_name=f"Box {PAN}",
        unit_amount=999, currency="gbp", interval="month", interval_count=1, quantity=1, current_period_end=None,
    )
    sub = Subscription(
        id="sub_1", status="active", customer_id="cus_1", product_name=f"Box {PAN}", price_nickname=None,
        unit_amount=999, currency="gbp", interval="month", interval_count=1, current_period_end=None,
        cancel_at_period_end=False, cancel_at=None, canceled_at=None, trial_end=None, amount_past_due=0,
        latest_invoice_status="paid", created=0, lines=(line,),
    )
    assert PAN not in repr(sub) and "[card mastercard ••4444]" in str(sub.product_name)
