"""Transcript scrubbing service benchmark: the gateway's /v1/redact and /v1/redact/stream over HTTP on
127.0.0.1 vs Presidio's CreditCardRecognizer called in-process.

    .venv/bin/python benchmarks/redact_service.py [--size-mb 1] [--chunk-chars 48] [--seed 7]

A generated corpus of call transcripts (agent/caller turns, each with one card number: half read out as
words, half as digit groups, synthetic Luhn-valid numbers), cut into ``--chunk-chars`` pieces as a speech
recogniser's interim results would be. For each engine: throughput (MB/s of input, wall clock) and latency per
chunk (p50 / p95, milliseconds), and recall (transcripts whose card number was found).

* service POST per chunk: one ``POST /v1/redact`` per chunk (what a client without the stream would do; a
  chunk alone cannot reveal a number split over chunks, so its recall is not the point, its latency is);
* service POST per transcript: one request per whole transcript;
* service stream: one WebSocket per transcript, every chunk sent as a frame, then a flush; throughput is
  wall time from the first frame to the flush answer; latency per chunk is the server-side cost of a frame
  (``StreamRedactor.feed``, measured in-process on the same chunks: the network part is the POST figure's);
* Presidio ``CreditCardRecognizer`` in-process, per chunk and per transcript (pattern recogniser only: the
  full ``AnalyzerEngine`` needs a spaCy model, and its other recognisers do not look for cards).

Presidio needs the ``bench`` extra (presidio-analyzer); without it the service figures still print.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path, and benchmarks/redaction.py would shadow the
# redaction package: resolve imports from the repository root instead.
sys.path[:] = [str(Path(__file__).resolve().parents[1])] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import aiohttp
from aiohttp import web

from benchmarks.redaction_corpus import spoken_digits, synth_pan
from gateway.app import create_app
from gateway.routes import SERVICES
from gateway.sandbox import SANDBOX_TENANT, sandbox_settings
from redaction import StreamRedactor, scan

FILLER = [
    "agent: thanks for calling, how can I help you today?",
    "caller: I'd like to pay the balance on my account please.",
    "agent: of course, can I take the name on the account?",
    "caller: it's Jordan Smith, the order was placed last Tuesday.",
    "agent: lovely, and the first line of the address?",
    "caller: twelve Acacia Avenue.",
    "agent: thank you, one moment while I bring that up.",
]


def transcript(rng: random.Random) -> tuple[str, str]:
    pan = synth_pan(rng, rng.choice(["visa16", "mastercard", "amex", "discover"]))
    if rng.random() < 0.5:
        card = " ".join(spoken_digits(rng, pan, fancy=True))
    else:
        card = " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))
    turns = [*rng.sample(FILLER, 4), f"caller: sure, the card number is {card}, expiry oh four twenty nine."]
    turns += rng.sample(FILLER, 3)
    return " ".join(turns) + " ", pan


def chunk(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def report(name: str, nbytes: int, seconds: float, lat: list[float], found: int | None, total: int) -> None:
    rec = f"{found}/{total}" if found is not None else "-"
    print(
        f"{name:<36} {nbytes / seconds / 1e6:8.2f} MB/s   p50 {pct(lat, 0.5):7.3f} ms   p95 {pct(lat, 0.95):7.3f} ms"
        f"   recall {rec}"
    )


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--chunk-chars", type=int, default=48)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    corpus: list[tuple[str, str]] = []
    size = 0
    while size < args.size_mb * 1e6:
        t = transcript(rng)
        corpus.append(t)
        size += len(t[0].encode())
    chunks = [chunk(t, args.chunk_chars) for t, _ in corpus]
    n_chunks = sum(map(len, chunks))
    print(f"corpus: {len(corpus)} transcripts, {size / 1e6:.2f} MB, {n_chunks} chunks of {args.chunk_chars} chars")

    with tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(
            var_dir=tmp, stripe_base_url="http://127.0.0.1:9", webhook_secret="whsec_bench", pcipal=None,
            public_base_url="http://127.0.0.1",
            environ={
                "VOICEPAY_RATE_LIMIT__PER_KEY_RATE": "1000000", "VOICEPAY_RATE_LIMIT__BURST": "1000000",
                "VOICEPAY_RATE_LIMIT__PER_TENANT_RATE": "1000000", "VOICEPAY_RATE_LIMIT__PER_TENANT_BURST": "1000000",
                "VOICEPAY_REDACT__FRAMES_PER_SECOND": "1000000", "VOICEPAY_REDACT__FRAMES_BURST": "1000000",
                "VOICEPAY_REDACT__MAX_STREAM_BYTES": "1048576",
            },
        )
        app = create_app(settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        _, key = await app[SERVICES].keys.create(SANDBOX_TENANT, ["redact:use"])
        headers = {"Authorization": f"Bearer {key}"}
        try:
            async with aiohttp.ClientSession(base, headers=headers) as http:
                await run_service(http, corpus, chunks, size)
        finally:
            await runner.cleanup()
    run_inprocess(corpus, chunks, size)
    return 0


async def run_service(http: aiohttp.ClientSession, corpus: list[tuple[str, str]], chunks: list[list[str]],
                      size: int) -> None:
    lat: list[float] = []
    start = time.perf_counter()
    for cs in chunks:
        for c in cs:
            t0 = time.perf_counter()
            async with http.post("/v1/redact", json={"text": c}) as r:
                assert r.status == 200, r.status
                await r.read()
            lat.append(time.perf_counter() - t0)
    report("service POST per chunk", size, time.perf_counter() - start, lat, None, len(corpus))

    lat, found = [], 0
    start = time.perf_counter()
    for text, pan in corpus:
        t0 = time.perf_counter()
        async with http.post("/v1/redact", json={"text": text}) as r:
            body = await r.json()
        lat.append(time.perf_counter() - t0)
        found += any(f["kind"] == "pan" for f in body["findings"]) and pan not in body["text"]
    report("service POST per transcript", size, time.perf_counter() - start, lat, found, len(corpus))

    found = 0
    per_stream: list[float] = []
    start = time.perf_counter()
    for (_, pan), cs in zip(corpus, chunks, strict=True):
        t0 = time.perf_counter()
        out: list[str] = []
        async with http.ws_connect("/v1/redact/stream") as ws:
            for c in cs:
                await ws.send_json({"text": c})
            await ws.send_json({"flush": True})
            while True:
                frame: dict[str, Any] = await ws.receive_json(timeout=60)
                out.append(frame["text"])
                if frame.get("flushed"):
                    break
        per_stream.append(time.perf_counter() - t0)
        text = "".join(out)
        found += f"••{pan[-4:]}" in text
    elapsed = time.perf_counter() - start
    feed_lat: list[float] = []
    for cs in chunks:
        r = StreamRedactor()
        for c in cs:
            t0 = time.perf_counter()
            r.feed(c)
            feed_lat.append(time.perf_counter() - t0)
        r.flush()
    report("service stream (WebSocket)", size, elapsed, feed_lat, found, len(corpus))
    print(f"{'':<36} per transcript (connect, frames, flush): p50 {pct(per_stream, 0.5):.2f} ms, "
          f"p95 {pct(per_stream, 0.95):.2f} ms")


def run_inprocess(corpus: list[tuple[str, str]], chunks: list[list[str]], size: int) -> None:
    lat: list[float] = []
    found = 0
    start = time.perf_counter()
    for text, _ in corpus:
        t0 = time.perf_counter()
        found += any(f.kind == "pan" for f in scan(text))
        lat.append(time.perf_counter() - t0)
    report("voicepay scan in-process (whole)", size, time.perf_counter() - start, lat, found, len(corpus))
    try:
        from presidio_analyzer.predefined_recognizers import CreditCardRecognizer
    except Exception as exc:
        print(f"Presidio: not available ({type(exc).__name__}); pip install '.[bench]'")
        return
    import importlib.metadata

    recognizer = CreditCardRecognizer()
    lat = []
    start = time.perf_counter()
    for cs in chunks:
        for c in cs:
            t0 = time.perf_counter()
            recognizer.analyze(c, entities=["CREDIT_CARD"], nlp_artifacts=None)
            lat.append(time.perf_counter() - t0)
    report("Presidio in-process per chunk", size, time.perf_counter() - start, lat, None, len(corpus))
    lat, found = [], 0
    start = time.perf_counter()
    for text, _ in corpus:
        t0 = time.perf_counter()
        found += bool(recognizer.analyze(text, entities=["CREDIT_CARD"], nlp_artifacts=None))
        lat.append(time.perf_counter() - t0)
    report("Presidio in-process per transcript", size, time.perf_counter() - start, lat, found, len(corpus))
    print(f"presidio-analyzer {importlib.metadata.version('presidio-analyzer')} (CreditCardRecognizer, "
          "pattern only); latency = per chunk except 'per transcript' rows; recall = transcripts whose card "
          "was found")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
