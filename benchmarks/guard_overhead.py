"""CPU cost per request of the card-data guards at the sinks (the response guard, the store guard), next to
what the request already pays to serialise its response once.

For each typical answer: ``guard_body`` (detect in the body; redact only on a hit, which clean answers never
pay) and ``guard_args`` over the statements' text parameters a write request binds (idempotency claim, audit
row, stored response). Baseline: one ``json.dumps`` of the same body. Medians of interleaved rounds, CPU time.

Usage: ``.venv/bin/python -m benchmarks.guard_overhead [--rounds 7] [--n 2000]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]

from gateway.dispatch import guard_body
from gateway.store.guard import guard_args
from redaction import contains_card_number, redact_json


def _payment(n: int) -> dict[str, Any]:
    return {
        "id": f"pi_5CiXpkWSI5L9RRF1isuJjW{n:02d}", "amount": 1299 + n, "currency": "gbp", "amount_text": "£12.99",
        "status": "succeeded", "status_words": "went through", "date": "2026-11-25", "date_words": "25 November",
        "description": "Monthly box", "card_brand": "visa", "card_last4": "4242", "amount_refunded": 0,
        "refundable": True, "failure_reason": None,
    }


BODIES: dict[str, dict[str, Any]] = {
    "gateway.ping": {"ok": True, "action": "gateway.ping",
                     "result": {"tenant": "sandbox", "time": "2026-11-29T04:00:00Z"},
                     "say": "The payment system is online."},
    "payments.lookup (1)": {"ok": True, "action": "payments.lookup",
                            "result": {"customer_id": "cus_tfPhySEgYdhXmp", "payments": [_payment(0)]},
                            "say": "Your payment of £12.99 on 25 November to Sandbox Ltd went through."},
    "payments.lookup (5)": {"ok": True, "action": "payments.lookup",
                            "result": {"customer_id": "cus_tfPhySEgYdhXmp",
                                       "payments": [_payment(i) for i in range(5)]},
                            "say": "Your payment of £12.99 on 25 November to Sandbox Ltd went through."},
    "refunds.create": {"ok": True, "action": "refunds.create",
                       "result": {"refund_id": "re_YCBPDigJt8hKOHg4l6zpMKg3", "status": "succeeded", "amount": 1299,
                                  "currency": "gbp", "amount_text": "£12.99",
                                  "payment_id": "pi_5CiXpkWSI5L9RRF1isuJjWdC", "arrives_words": "5 to 10 days"},
                       "say": "I've refunded £12.99 to your Visa ending 4242."},
}


def _statements(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The text-bearing parameters of the statements a write request binds."""
    now = time.time()
    return [
        ("sandbox", "refunds.create", "call_" + "ab12" * 12, "f" * 64, now + 30, "req_8f3a2c", now, now + 86400),
        ("sandbox", 17, "e" * 64, "d" * 64, "key_1", "refunds.create",
         json.dumps({"payment_id": "pi_5CiXpkWSI5L9RRF1isuJjWdC", "amount": 1299}), "OK", None,
         json.dumps({"refund": "re_YCBPDigJt8hKOHg4l6zpMKg3"}), "req_8f3a2c", "call-42", now),
        (200, json.dumps(body, separators=(",", ":")), "sandbox", "refunds.create", "call_" + "ab12" * 12),
    ]


def _cpu_us(fn: Callable[[], object], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def _fns(body: dict[str, Any], stmts: list[tuple[Any, ...]]) -> dict[str, Callable[[], object]]:
    return {
        "dumps": lambda: json.dumps(body),
        "guard": lambda: guard_body(body),
        "store": lambda: [guard_args(a) for a in stmts],
        "ccn": lambda: contains_card_number(json.dumps(body)),
        "rj": lambda: redact_json(body),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args(argv)
    print(f"CPU microseconds per request, median of {args.rounds} interleaved rounds x {args.n}")
    print(f"{'response':22} {'dumps':>7} {'guard_body':>11} {'store args':>11} {'old: ccn(text)':>15} "
          f"{'old: redact_json':>17}")
    for name, body in BODIES.items():
        stmts = _statements(body)
        fns = _fns(body, stmts)
        results: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(args.rounds):
            for k, fn in fns.items():
                results[k].append(_cpu_us(fn, args.n))
        med = {k: statistics.median(v) for k, v in results.items()}
        print(f"{name:22} {med['dumps']:7.1f} {med['guard']:11.1f} {med['store']:11.1f} {med['ccn']:15.1f} "
              f"{med['rj']:17.1f}")
    print("guard_body includes its own json.dumps (the one the reply is sent with); 'old' columns are the")
    print("alternatives: the gate's check on the serialised text, and redact_json run on every body.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
