"""The transcript scrubbing service: POST /v1/redact and the /v1/redact/stream WebSocket, over real HTTP."""

from __future__ import annotations

import itertools
import json
import logging
import random
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.gateway.conftest import new_key
from tests.gateway.helpers import auth
from tests.security.conftest import database_files_text, database_text, leaks

STRIPE_VISA = "4242424242424242"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - (9 if d * 2 > 9 else 0)
        total += d
    return body + str((10 - total % 10) % 10)


def spoken(digits: str) -> str:
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return ", ".join(" ".join(WORDS[int(d)] for d in g) for g in groups)


def transcript(pan: str) -> str:
    return (
        "agent: thanks for holding, can I take the long number on the card please? "
        f"caller: yeah it's {spoken(pan)} and the expiry is oh four twenty eight, security code is "
        "one two three. agent: lovely, and the postcode? caller: it's SW1A 2AA, order 55 arrived on the 3rd. "
        + "agent: thank you, one moment while I check that for you. " * 6
    )


def chunkings(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, min(60, len(text) - 1))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def no_digits_beyond_last_four(out: str) -> bool:
    return len(re.findall(r"[0-9]", re.sub(r"SW1A 2AA|order 55|3rd", "", out))) <= 4


async def redact_key(client: Any, scopes: tuple[str, ...] = ("redact:use",)) -> str:
    return await new_key(client, scopes=scopes)


async def stream(client: Any, key: str, chunks: list[str]) -> tuple[str, list[dict[str, Any]]]:
    frames: list[dict[str, Any]] = []
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        for c in chunks:
            await ws.send_json({"text": c})
        await ws.send_json({"flush": True})
        while True:
            frame = await ws.receive_json(timeout=30)
            frames.append(frame)
            if frame.get("flushed"):
                break
    return "".join(f["text"] for f in frames), frames


async def test_text_is_redacted_with_findings_that_hold_no_digits(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await redact_key(client)
    text = f"card {STRIPE_VISA[:4]} {STRIPE_VISA[4:8]} {STRIPE_VISA[8:12]} {STRIPE_VISA[12:]} exp 04/28 cvv 123 ok"
    resp = await client.post("/v1/redact", json={"text": text}, headers=auth(key))
    assert resp.status == 200
    body = await resp.json()
    assert "4242 4242" not in body["text"] and body["text"].endswith(" ok")
    assert "[card visa" in body["text"]
    kinds = [f["kind"] for f in body["findings"]]
    assert "pan" in kinds
    pan = next(f for f in body["findings"] if f["kind"] == "pan")
    assert text[pan["start"] : pan["end"]].replace(" ", "") == STRIPE_VISA
    assert pan["brand"] == "visa"
    assert not re.search(r"[0-9]", json.dumps([{k: v for k, v in f.items() if k not in ("start", "end")}
                                               for f in body["findings"]]))


async def test_json_is_redacted_with_paths(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await redact_key(client)
    value = {"turns": [{"text": f"it's {STRIPE_VISA}"}, {"text": "hello"}], "card": {"cvc": "123"}, "n": 5}
    resp = await client.post("/v1/redact", json={"json": value}, headers=auth(key))
    assert resp.status == 200
    body = await resp.json()
    assert STRIPE_VISA not in json.dumps(body)
    assert body["json"]["turns"][1] == {"text": "hello"} and body["json"]["n"] == 5
    paths = {(f["path"], f["kind"]) for f in body["findings"]}
    assert ("turns[0].text", "pan") in paths and ("card.cvc", "cvv") in paths


async def test_scope_auth_body_limit_and_shape(make_client, sqlite_url):
    client = await make_client(sqlite_url, redact={"max_body_bytes": 2048})
    assert (await client.post("/v1/redact", json={"text": "x"})).status == 401
    other = await redact_key(client, scopes=("payments:read",))
    resp = await client.post("/v1/redact", json={"text": "x"}, headers=auth(other))
    assert resp.status == 403 and (await resp.json())["error"]["details"]["required_scopes"] == ["redact:use"]
    key = await redact_key(client)
    big = await client.post("/v1/redact", json={"text": "x" * 5000}, headers=auth(key))
    assert big.status == 413
    for bad in ({"text": 1}, {"text": "a", "json": 1}, {"other": 1}, [1]):
        r = await client.post("/v1/redact", json=bad, headers=auth(key))
        assert r.status == 400, bad


async def test_ws_upgrade_without_scope_is_refused(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    other = await redact_key(client, scopes=("payments:read",))
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await client.ws_connect("/v1/redact/stream", headers=auth(other))
    assert exc.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await client.ws_connect("/v1/redact/stream")
    assert exc.value.status == 401


async def test_stream_of_spoken_card_in_random_chunkings_matches_post(make_client, sqlite_url):
    """e2e acceptance: no digit beyond the last four, and the same text as POST /v1/redact."""
    client = await make_client(sqlite_url, redact={"frames_per_second": 10_000, "frames_burst": 10_000})
    key = await redact_key(client)
    rng = random.Random(1405)
    for pan in (STRIPE_VISA, luhn_complete("51", 16, rng), luhn_complete("37", 15, rng)):
        text = transcript(pan)
        whole = await (await client.post("/v1/redact", json={"text": text}, headers=auth(key))).json()
        assert no_digits_beyond_last_four(whole["text"]) and not leaks(whole["text"], [pan])
        assert f"••{pan[-4:]}" in whole["text"] and "[cvv]" in whole["text"] and "[expiry]" in whole["text"]
        for _ in range(8):
            out, frames = await stream(client, key, chunkings(text, rng))
            assert out == whole["text"]
            for f in frames:
                assert not leaks(f["text"], [pan])
            assert no_digits_beyond_last_four(out)


async def test_stream_releases_quiet_text_before_flush(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await redact_key(client)
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        await ws.send_json({"text": "hello there, how can I help you today? "})
        first = await ws.receive_json(timeout=30)
        assert first["text"].startswith("hello there") and "flushed" not in first
        # A number in progress is held back until it is complete.
        await ws.send_json({"text": "my card is four two four two "})
        await ws.send_json({"flush": True})
        frames = []
        while not frames or not frames[-1].get("flushed"):
            frames.append(await ws.receive_json(timeout=30))
        assert all("four" not in f["text"] for f in frames[:-1])
        assert "four two four two" in frames[-1]["text"]  # four digits are no card: released at the flush


async def until_close(ws: Any) -> tuple[list[str], int]:
    """Error codes of the error frames, then the close code (text frames skipped)."""
    codes: list[str] = []
    while True:
        msg = await ws.receive(timeout=30)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return codes, msg.data
        frame = json.loads(msg.data)
        if "error" in frame:
            codes.append(frame["error"]["code"])


async def test_stream_limits_close_the_connection(make_client, sqlite_url):
    client = await make_client(
        sqlite_url, redact={"max_frame_bytes": 512, "max_stream_bytes": 1024, "frames_per_second": 0.01,
                            "frames_burst": 6}
    )
    key = await redact_key(client)
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        await ws.send_str(json.dumps({"text": "x" * 2000}))
        assert await until_close(ws) == ([], 1009)  # a frame over max_frame_bytes
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        for _ in range(3):
            await ws.send_json({"text": "y " * 200})
        assert await until_close(ws) == (["payload_too_large"], 4413)  # the stream over max_stream_bytes
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        await ws.send_str("not json")
        assert await until_close(ws) == (["invalid_json"], 4400)
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        # 4 of the burst of 6 frames are spent by now (the oversized frame never reached the limiter): the
        # third flush here is one too many.
        for _ in range(3):
            await ws.send_json({"flush": True})
        assert await until_close(ws) == (["rate_limited"], 4429)


async def test_nothing_of_the_input_is_stored_or_logged(make_client, tmp_path: Path, caplog):
    db = tmp_path / "voicepay.sqlite3"
    client = await make_client(f"sqlite:///{db}", redact={"frames_per_second": 10_000, "frames_burst": 10_000})
    key = await redact_key(client)
    rng = random.Random(7)
    pan = luhn_complete("4", 16, rng)
    marker_word = "zebracrossing" + str(rng.randint(10**5, 10**6))  # a unique non-card token of the input
    text = f"{marker_word} card {pan} then {spoken(pan)} " + "ok " * 100
    caplog.set_level(logging.DEBUG)
    assert (await client.post("/v1/redact", json={"text": text}, headers=auth(key))).status == 200
    assert (await client.post("/v1/redact", json={"json": {"t": text}}, headers=auth(key))).status == 200
    assert (await client.post("/v1/redact", data=b"{" + text.encode(), headers=auth(key))).status == 400
    out, _ = await stream(client, key, chunkings(text, rng))
    assert marker_word in out and not leaks(out, [pan])
    logged = "\n".join(
        f"{r.getMessage()} {json.dumps(r.__dict__, default=str)}" for r in caplog.records
    )
    assert marker_word not in logged and not leaks(logged, [pan])
    await client.close()  # the audit writer and store commit and close: the files are complete
    stored = database_text(db) + database_files_text(db)
    assert marker_word not in stored and not leaks(stored, [pan])


async def test_idle_stream_is_closed_and_held_back_text_is_never_released(make_client, sqlite_url):
    client = await make_client(sqlite_url, redact={"idle_timeout_seconds": 0.3})
    key = await redact_key(client)
    async with client.ws_connect("/v1/redact/stream", headers=auth(key)) as ws:
        await ws.send_json({"text": "the number is four two four two four two four two four two four two"})
        frames: list[str] = []
        while True:
            msg = await ws.receive(timeout=30)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            frames.append(msg.data)
        assert msg.data == 4408
        assert all("four" not in f for f in frames)  # the unfinished number went nowhere
        assert any("request_timeout" in f for f in frames)
