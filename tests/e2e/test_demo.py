"""``voicepay demo`` runs to completion offline and finds no card data in its logs or database."""

from __future__ import annotations

import io
from pathlib import Path

from gateway.demo import run_demo


async def test_demo_runs_the_scripted_call_and_finds_no_card_data(tmp_path: Path) -> None:
    out = io.StringIO()
    code = await run_demo(out, var_dir=tmp_path / "demo")
    text = out.getvalue()
    assert code == 0, text
    for section in ("1. Payment confirmation", "2. Refund request", "3. Promised discount",
                    "4. Secure card payment", "5. Where did the card data go?"):
        assert section in text
    # The spoken card number is refused by the card-data gate, and the keyed card is reported as last4 only.
    assert "card_data_not_accepted" in text
    assert "I've refunded" in text
    assert '"state": "succeeded"' in text
    assert "your Visa ending 4 2 4 2 went through" in text
    assert "RESULT: no card data in logs or database" in text
    assert (tmp_path / "demo" / "gateway.log").stat().st_size > 0
