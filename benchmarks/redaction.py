"""Redaction benchmark: this package vs Presidio's CreditCardRecognizer (pattern only) vs regex + Luhn.

    .venv/bin/python benchmarks/redaction.py [--size-mb 10] [--seed 7] [--repeat 3] [--per-cell 20]

Quality, on two corpora kept apart: the DEVELOPMENT corpus (``benchmarks/redaction_corpus.py``, the one the
detector is tuned on) and the EVALUATION corpus (``benchmarks/redaction_eval_corpus.py``, written separately
and never tuned on; "evaluation corpus missing" until it exists). For each corpus and engine: recall per
format and per brand, overall recall, span precision and decoy false positives, and the ratios between
engines.

Speed:
two generated corpora of ``--size-mb`` each, processed record by record (one call per log line / transcript
snippet, as the gateway's logging filter does):

* card-dense: every corpus format x brand (digits, separators, URL-encoding, JSON, spoken, split turns, with
  CVV/expiry) mixed with decoys (timestamps, UUIDs, IMEIs, phones, IBANs, tracking numbers, masked cards);
* ordinary log text: generated service log lines with no card number.

Timing: process CPU time, ``--repeat`` rounds; in each round every engine runs over each corpus in turn (interleaved, so load
from other processes on a shared machine hits all engines alike); the median round is reported. Plus the
card-data gate: ``contains_card_number`` on typical small JSON action bodies, microseconds per call (median).

For each engine: MB/s, recall (every letter/digit of a card covered by a finding) and span precision
(characters of PAN findings that lie inside true card spans). Presidio needs the ``bench`` extra
(presidio-analyzer); without it the other two still run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

# Run as a script, sys.path[0] is benchmarks/, where this file would shadow the ``redaction`` package.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(_ROOT))

import redaction
from benchmarks.redaction_corpus import (
    BRAND_SPECS,
    DECOYS,
    FORMATS,
    Sample,
    card_sample,
    corpus,
    covered,
    decoy_sample,
    span_chars,
    synth_pan,
)

Span = tuple[int, int]
Engine = Callable[[str], list[Span]]


def card_dense(rng: random.Random, size: int) -> list[Sample]:
    out: list[Sample] = []
    total = 0
    labels = list(BRAND_SPECS)
    decoys = list(DECOYS)
    while total < size:
        if rng.random() < 0.8:
            label = rng.choice(labels)
            s = card_sample(rng, synth_pan(rng, label), rng.choice(FORMATS), label)
        else:
            s = decoy_sample(rng, rng.choice(decoys))
        out.append(s)
        total += len(s.text) + 1
    return out


def log_lines(rng: random.Random, size: int) -> list[str]:
    levels = ["INFO", "INFO", "INFO", "DEBUG", "WARNING", "ERROR"]
    paths = ["/v1/actions/refund.create", "/v1/actions/payment.status", "/v1/webhooks/stripe/acme", "/healthz"]
    out: list[str] = []
    total = 0
    while total < size:
        ts = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        kind = rng.randrange(5)
        if kind == 0:
            line = (
                f"{ts}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z {rng.choice(levels)} aiohttp.access "
                f'10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)} "POST {rng.choice(paths)} HTTP/1.1" '
                f"{rng.choice([200, 201, 400, 409, 502])} {rng.randint(40, 4000)} {rng.random():.4f}s"
            )
        elif kind == 1:
            line = (
                f"{ts}Z {rng.choice(levels)} gateway.actions tenant=acme action=refund.create "
                f"request_id={uuid.UUID(int=rng.getrandbits(128), version=4)} amount={rng.randint(100, 99999)} "
                f"currency=usd outcome=SUCCEEDED duration_ms={rng.randint(1, 900)}"
            )
        elif kind == 2:
            line = (
                f"{ts}Z INFO adapters.stripe retrieved pi_{rng.getrandbits(64):x} status=succeeded "
                f"attempt={rng.randint(1, 3)} idempotency_key=idem_{rng.getrandbits(80):x}"
            )
        elif kind == 3:
            line = (
                f"{ts}Z DEBUG gateway.webhooks event evt_{rng.getrandbits(72):x} type=charge.refunded "
                f"created={rng.randint(1_700_000_000, 1_800_000_000)} queued job={rng.randint(1, 10**6)}"
            )
        else:
            line = (
                f"{ts}Z WARNING gateway.notify delivery to https://bot.example.com/hooks failed: timeout after "
                f"{rng.randint(1, 30)}s, retry {rng.randint(1, 8)} of 8 scheduled in {rng.randint(1, 600)}s"
            )
        out.append(line)
        total += len(line) + 1
    return out


# --- engines ------------------------------------------------------------------------------------------------


def ours(text: str) -> list[Span]:
    found = redaction.scan(text)
    return [(f.start, f.end) for f in found if f.kind == "pan"] if found else []


def ours_all(text: str) -> list[Span]:
    return [(f.start, f.end) for f in redaction.scan(text)]


_BASELINE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){11,18}(?![0-9])")


def baseline(text: str) -> list[Span]:
    out = []
    for m in _BASELINE.finditer(text):
        digits = re.sub(r"[^0-9]", "", m.group())
        if redaction.luhn_ok(digits):
            out.append((m.start(), m.end()))
    return out


def presidio_engine() -> tuple[Engine | None, str]:
    try:
        from presidio_analyzer.predefined_recognizers import CreditCardRecognizer
    except Exception as exc:
        return None, f"presidio-analyzer not available ({type(exc).__name__}: {exc}); pip install '.[bench]'"
    import importlib.metadata

    recognizer = CreditCardRecognizer()

    def run(text: str) -> list[Span]:
        return [(r.start, r.end) for r in recognizer.analyze(text, entities=["CREDIT_CARD"], nlp_artifacts=None)]

    return run, f"presidio-analyzer {importlib.metadata.version('presidio-analyzer')}"


# --- measuring ----------------------------------------------------------------------------------------------


def timed(engine: Callable[[str], object], texts: list[str]) -> float:
    """CPU seconds of this process (all engines are single-threaded): time spent descheduled while other
    processes use the shared cores is not counted, so ratios stay stable on a busy machine."""
    start = time.process_time()
    for t in texts:
        engine(t)
    return time.process_time() - start


def action_bodies(rng: random.Random, n: int) -> list[str]:
    """Typical small JSON action bodies, as the gateway's card-data gate sees them on every request."""
    reasons = ["requested_by_customer", "duplicate", "fraudulent", "order_change", "damaged_item"]
    out: list[str] = []
    for _ in range(n):
        kind = rng.randrange(4)
        user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 10)))
        if kind == 0:
            body: dict[str, object] = {
                "email": f"{user}@example.com",
                "amount": rng.randint(100, 99999),
                "reason": rng.choice(reasons),
            }
        elif kind == 1:
            body = {
                "payment_id": f"pi_{rng.getrandbits(96):024x}",
                "amount": rng.randint(100, 99999),
                "currency": "usd",
            }
        elif kind == 2:
            body = {
                "customer": {"email": f"{user}@example.com", "phone_last4": f"{rng.randint(0, 9999):04d}"},
                "order_id": f"ord_{rng.randint(10**5, 10**7)}",
                "call_sid": f"CA{rng.getrandbits(128):032x}",
            }
        else:
            body = {"coupon": {"percent_off": rng.randint(5, 50), "duration": "once"}, "note": "caller asked twice"}
        out.append(json.dumps(body))
    return out


def quality(engine: Engine, samples: list[Sample]) -> tuple[float, float, int]:
    cards = [s for s in samples if s.pans]
    hit = inside = total = 0
    fp_decoys = 0
    for s in samples:
        spans = engine(s.text)
        if not s.pans:
            fp_decoys += bool(spans)
            continue
        hit += covered(s, spans)
        a, b = span_chars(s, spans)
        inside += a
        total += b
    return hit / len(cards), (inside / total if total else 0.0), fp_decoys


class _Sampleish(Protocol):
    text: str
    fmt: str
    brand: str
    pans: list[tuple[int, int]]


def eval_corpus(seed: int, per_cell: int) -> tuple[list[Any] | None, str]:
    """The evaluation corpus if its module exists (same ``corpus(seed, per_cell)`` interface), else a note."""
    try:
        module = importlib.import_module("benchmarks.redaction_eval_corpus")
    except ModuleNotFoundError as exc:
        if exc.name in ("benchmarks.redaction_eval_corpus", "benchmarks"):
            return None, "evaluation corpus missing (benchmarks/redaction_eval_corpus.py)"
        raise
    return list(module.corpus(seed, per_cell)), "benchmarks/redaction_eval_corpus.py"


def _brand_bucket(label: str) -> str:
    return label.removeprefix("stripe_")


def quality_report(name: str, samples: Sequence[_Sampleish], engines: list[tuple[str, Engine]]) -> None:
    """Recall per format and per brand, span precision and decoy FPs for every engine, and the ratios."""
    cards = [s for s in samples if s.pans]
    decoys = [s for s in samples if not s.pans]
    print(f"\n== quality on the {name} corpus: {len(cards)} cards, {len(decoys)} decoys ==")
    per: dict[str, dict[str, list[int]]] = {}  # engine -> key -> [hit, total]
    overall: dict[str, tuple[float, float, int]] = {}
    fp_classes: dict[str, dict[str, int]] = {}
    for ename, engine in engines:
        table: dict[str, list[int]] = {}
        hit = inside = total = fps = 0
        classes: dict[str, int] = {}
        for s in samples:
            spans = engine(s.text)
            if not s.pans:
                if spans:
                    fps += 1
                    classes[s.brand] = classes.get(s.brand, 0) + 1
                continue
            ok = covered(s, spans)  # type: ignore[arg-type]
            hit += ok
            a, b = span_chars(s, spans)  # type: ignore[arg-type]
            inside += a
            total += b
            for key in (f"format {s.fmt}", f"brand {_brand_bucket(s.brand)}"):
                cell = table.setdefault(key, [0, 0])
                cell[0] += ok
                cell[1] += 1
            prec = table.setdefault(f"precision {s.fmt}", [0, 0])
            prec[0] += a
            prec[1] += b
        per[ename] = table
        overall[ename] = (hit / max(1, len(cards)), inside / total if total else 0.0, fps)
        fp_classes[ename] = classes
    names = [e for e, _ in engines]
    header = f"{'recall':28}" + "".join(f"{n[:24]:>26}" for n in names)
    print(header)
    print("-" * len(header))
    keys = sorted(
        {k for t in per.values() for k in t if not k.startswith("precision")},
        key=lambda k: (not k.startswith("format"), k),
    )
    for key in keys:
        row = f"{key:28}"
        for n in names:
            h, t = per[n].get(key, [0, 0])
            row += f"{(h / t if t else 0):>19.2%} ({t:4d})"
        print(row)
    print("-" * len(header))
    print(f"{'overall recall':28}" + "".join(f"{overall[n][0]:>26.2%}" for n in names))
    print(f"{'span precision':28}" + "".join(f"{overall[n][1]:>26.4f}" for n in names))
    print(f"{'decoys flagged (of ' + str(len(decoys)) + ')':28}" + "".join(f"{overall[n][2]:>26d}" for n in names))
    # where span precision is lost: formats under 0.95, ours (characters found inside / all characters found)
    low = sorted(
        (k.removeprefix("precision "), v[0] / v[1])
        for k, v in per[names[0]].items()
        if k.startswith("precision ") and v[1] and v[0] / v[1] < 0.95
    )
    if low:
        print(f"  {names[0]} span precision under 0.95 by format: " + ", ".join(f"{k} {v:.3f}" for k, v in low))
    for n in names:
        if fp_classes[n]:
            worst = sorted(fp_classes[n].items(), key=lambda kv: -kv[1])[:6]
            print(f"  {n} decoy FPs by class: " + ", ".join(f"{k} {v}" for k, v in worst))
    ours_name = names[0]
    for other in names[1:]:
        o, p = overall[ours_name], overall[other]
        print(
            f"ratios {ours_name} / {other} ({name}): recall {o[0]:.2%} vs {p[0]:.2%} "
            f"(missed {1 - o[0]:.2%} vs {1 - p[0]:.2%}), span precision {o[1]:.4f} vs {p[1]:.4f}, "
            f"decoy FPs {o[2]} vs {p[2]}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size-mb", type=float, default=10.0, help="size of each generated corpus (default 10)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="timing rounds (engines interleaved); the median is kept")
    ap.add_argument("--per-cell", type=int, default=20, help="samples per format x brand cell of the quality corpora")
    ap.add_argument("--quality-only", action="store_true", help="skip the timing section")
    args = ap.parse_args(argv)
    size = int(args.size_mb * 1_000_000)
    rng = random.Random(args.seed)
    dense = card_dense(rng, size)
    logs = log_lines(rng, size)
    bodies = action_bodies(rng, 20_000)
    dense_texts = [s.text for s in dense]
    n_cards = sum(1 for s in dense if s.pans)
    dense_size = sum(len(t.encode()) + 1 for t in dense_texts)
    log_size = sum(len(t.encode()) + 1 for t in logs)

    presidio, presidio_note = presidio_engine()
    engines: list[tuple[str, Engine]] = [("voicepay redaction", ours), ("regex + Luhn baseline", baseline)]
    if presidio is not None:
        engines.insert(1, ("Presidio CreditCardRecognizer", presidio))
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {presidio_note}")
    quality_report("development", corpus(args.seed, args.per_cell), engines)
    evaluation, eval_note = eval_corpus(args.seed, args.per_cell)
    if evaluation is None:
        print(f"\n== quality on the evaluation corpus: {eval_note} ==")
    else:
        quality_report(f"evaluation ({eval_note})", evaluation, engines)
    if args.quality_only:
        return 0
    print("\n== speed ==")
    print(
        f"corpora: card-dense {len(dense)} records ({n_cards} cards, {len(dense) - n_cards} decoys), "
        f"log text {len(logs)} lines; {args.size_mb:g} MB each; one call per record; "
        f"median of {args.repeat} interleaved rounds"
    )
    dense_times: dict[str, list[float]] = {name: [] for name, _ in engines}
    log_times: dict[str, list[float]] = {name: [] for name, _ in engines}
    gate_times: list[float] = []
    for _ in range(max(1, args.repeat)):
        for name, engine in engines:
            dense_times[name].append(timed(engine, dense_texts))
            log_times[name].append(timed(engine, logs))
        gate_times.append(timed(redaction.contains_card_number, bodies))
    header = f"{'engine':32} {'dense MB/s':>10} {'logs MB/s':>10} {'recall':>8} {'span prec':>9} {'decoy FP':>9}"
    print(header)
    print("-" * len(header))
    results: dict[str, tuple[float, float, float, float]] = {}
    for name, engine in engines:
        dense_speed = dense_size / statistics.median(dense_times[name]) / 1e6
        log_speed = log_size / statistics.median(log_times[name]) / 1e6
        recall, precision, fp = quality(engine, dense)
        results[name] = (dense_speed, log_speed, recall, precision)
        print(f"{name:32} {dense_speed:10.2f} {log_speed:10.2f} {recall:8.2%} {precision:9.4f} {fp:9d}")
    gate_hits = sum(redaction.contains_card_number(b) for b in bodies)
    print(
        f"contains_card_number on {len(bodies)} small JSON action bodies (avg {sum(map(len, bodies)) / len(bodies):.0f} "
        f"chars): {statistics.median(gate_times) / len(bodies) * 1e6:.2f} us/call (median), {gate_hits} flagged"
    )
    strict = quality(ours, dense)[0]
    any_kind = quality(ours_all, dense)[0]
    print(
        f"voicepay recall counting PAN findings only: {strict:.2%}; counting any finding (PAN/CVV/expiry): {any_kind:.2%}"
    )
    if presidio is not None:
        o, p = results["voicepay redaction"], results["Presidio CreditCardRecognizer"]
        print(
            f"ratios ours/Presidio: card-dense throughput {o[0] / p[0]:.2f}x, log-text throughput "
            f"{o[1] / p[1]:.2f}x, recall {o[2]:.2%} vs {p[2]:.2%}"
        )
    else:
        print(f"ratios ours/Presidio: not computed ({presidio_note})")
    b = results["regex + Luhn baseline"]
    o = results["voicepay redaction"]
    print(f"ratios ours/baseline: card-dense {o[0] / b[0]:.2f}x, log text {o[1] / b[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
