"""Pay-by-link senders: only a masked destination is ever logged."""

from __future__ import annotations

import pytest

from gateway.senders import LogLinkSender, mask_email, mask_phone


def test_masks() -> None:
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_phone("+447700900123") == "+44*******123"
    assert mask_phone("12") == "***"


async def test_log_sender_logs_only_the_masked_destination(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    await LogLinkSender().send(tenant_id="acme", channel="email", destination="jane.doe@example.com",
                               url="https://checkout.stripe.com/c/pay/cs_test_secretish")
    assert "payment link sent to j***@example.com" in caplog.text
    assert "jane.doe" not in caplog.text
    assert "cs_test_secretish" not in caplog.text
