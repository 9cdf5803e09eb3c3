"""Flow templates render the configured InitialValues; transfer templates the configured target and say."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import captures, errors
from gateway.actions.capture import initial_values, render_transfer
from gateway.sandbox import sandbox_settings
from gateway.settings import SettingsError

CAPTURE = captures.Capture(
    id="cap_0123456789abcdef01234567", tenant_id="sandbox", state="awaiting_caller", amount=48850,
    currency="gbp", description="Order", customer_id=None, payment_intent_id="pi_ours", pcipal_session_id="sess-1",
    pcipal_link_id="7391", card_brand=None, card_last4=None, callback_result=None, failure_code=None,
    created_at=0, updated_at=0, expires_at=900, own_payment_intent_id="pi_ours",
)
CALLBACK = "https://gw.example/v1/callbacks/pcipal/sandbox"


def tenant(**pcipal: Any) -> Any:
    settings = sandbox_settings(var_dir="/tmp/unused", stripe_base_url="http://127.0.0.1:9", webhook_secret="whsec_x",
                                public_base_url="http://127.0.0.1:9", environ={}, pcipal={
                                    "base_url": "http://127.0.0.1:9", "tenant_name": "t", "tenant_number": "1",
                                    "client_id": "c", "client_secret": "s", "flow_id": "1",
                                    "callback_auth": {"ip_allowlist": ["203.0.113.0/24"]}, **pcipal})
    return settings.tenant("sandbox")


def test_default_template_is_the_documented_shape() -> None:
    assert initial_values(tenant(), CAPTURE, CALLBACK) == {
        "amount": "48850", "currency": "GBP", "orderReference": CAPTURE.id, "callbackURL": CALLBACK,
        "paymentIntentId": "pi_ours",
    }


def test_hmcts_and_hmrc_style_templates_render_their_keys_units_and_fixed_values() -> None:
    hmcts = tenant(initial_values={"orderId": "{capture_id}", "amount": "{amount_minor}",
                                   "currencyCode": "{currency_upper}", "callbackURL": "{callback_url}",
                                   "returnURL": "https://merchant.example/done"})
    assert initial_values(hmcts, CAPTURE, CALLBACK) == {
        "orderId": CAPTURE.id, "amount": "48850", "currencyCode": "GBP", "callbackURL": CALLBACK,
        "returnURL": "https://merchant.example/done"}
    hmrc = tenant(capture_mode="adopt_theirs", initial_values={
        "Amount_1": "{amount_major}", "ChargeReference_1": "{capture_id}", "currency": "{currency_lower}",
        "callbackUrl": "{callback_url}", "finishURL": "https://merchant.example/finish", "LanguageFlag": "E",
        "paymentIntentId": "{payment_intent_id}"})
    rendered = initial_values(hmrc, CAPTURE, CALLBACK)
    assert rendered == {"Amount_1": "488.50", "ChargeReference_1": CAPTURE.id, "currency": "gbp",
                        "callbackUrl": CALLBACK, "finishURL": "https://merchant.example/finish", "LanguageFlag": "E"}
    assert "paymentIntentId" not in rendered  # PCI Pal's flow makes its own intent in adopt_theirs


@pytest.mark.parametrize(("values", "problem"), [
    ({"amount": "{amount_minor}"}, "{capture_id}"),
    ({"ref": "{capture_id}", "note": "{description}"}, "unknown placeholder"),
    ({"ref": "{capture_id"}, "template"),
])
def test_a_bad_flow_template_is_a_configuration_error(values: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as exc:
        tenant(initial_values=values)
    assert problem in str(exc.value)


def test_default_transfer_is_the_bare_link_id() -> None:
    transfer, say = render_transfer(tenant(), CAPTURE)
    assert (transfer.target, transfer.target_type, transfer.carry) == ("7391", "link_id", "none")
    assert "secure payment line" in say


def test_ddi_with_dtmf_after_answer() -> None:
    transfer, _ = render_transfer(tenant(transfer={"target": "+441632960123", "carry": "dtmf",
                                                   "dtmf": "ww{link_id}#"}), CAPTURE)
    assert (transfer.target, transfer.target_type, transfer.dtmf) == ("+441632960123", "ddi", "ww7391#")


def test_sip_uri_with_a_header() -> None:
    transfer, _ = render_transfer(tenant(transfer={"target": "sip:secure-{link_id}@pcipal.example",
                                                   "carry": "sip_header", "sip_header": "X-PCIPal-Session",
                                                   "sip_header_value": "{session_id}"}), CAPTURE)
    assert transfer.target == "sip:secure-7391@pcipal.example"
    assert transfer.target_type == "sip_uri"
    assert transfer.sip_headers == {"X-PCIPal-Session": "sess-1"}


def test_caller_pin_is_said_digit_by_digit() -> None:
    transfer, say = render_transfer(tenant(transfer={"target": "+441632960123", "carry": "caller_pin",
                                                     "say": "Transferring you now; key in {pin} when asked."}),
                                    CAPTURE)
    assert transfer.pin == "7391"
    assert say == "Transferring you now; key in 7 3 9 1 when asked."


def test_dtmf_template_that_is_not_dialable_is_refused() -> None:
    with pytest.raises(errors.GatewayError):
        render_transfer(tenant(transfer={"target": "+441632960123", "carry": "dtmf", "dtmf": "{capture_id}"}),
                        CAPTURE)


def test_unknown_transfer_placeholder_is_a_configuration_error() -> None:
    with pytest.raises(SettingsError):
        tenant(transfer={"target": "sip:{amount}@x"})
