"""Secrets never reach a log line, an error, a response or a ``repr``.

The gateway runs with known secret values (two Stripe keys, a webhook secret, PCI Pal client secret, callback
HMAC secret and bearer token, a notification secret, the master key) and every path is exercised, including the
failing ones: bad configuration (plaintext secret outside sandbox, wrong master key, tampered ciphertext,
malformed master key), Stripe refusing the key (401 from the sandbox), a good key, webhooks with good and bad
signatures and an unknown tenant, PCI Pal callbacks with bad signatures and tokens, PCI Pal unreachable, an
agent notification signed and delivered to a receiver that fails. The log output of every logger (the
production JSON handler at DEBUG), every response body and header, every configuration error message and
traceback, and ``repr``/``str``/``model_dump_json`` of the settings objects are searched for each secret.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.pcipal.callbacks import sign_callback
from adapters.stripe.sandbox import StripeSandbox
from adapters.stripe.signing import sign_header
from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.routes import SERVICES
from gateway.secrets import MasterKeyRing, Secret, generate_master_key
from gateway.settings import Settings, SettingsError, build_settings
from redaction.logging import RedactingFilter


def _core() -> str:
    return secrets.token_hex(12)


STRIPE_KEY = "sk_test_" + _core()
STRIPE_KEY_REFUSED = "sk_test_" + _core()
WEBHOOK_SECRET = "whsec_" + _core()
PCIPAL_CLIENT_SECRET = "pcs_" + _core()
CALLBACK_SECRET = "cbs_" + _core()
CALLBACK_BEARER = "cbt_" + _core()
NOTIFICATION_SECRET = "nts_" + _core()
MASTER = generate_master_key("sec1")
MASTER_KEY_MATERIAL = MASTER.split(":", 1)[1]

SECRETS = {
    "stripe key": STRIPE_KEY,
    "refused stripe key": STRIPE_KEY_REFUSED,
    "webhook secret": WEBHOOK_SECRET,
    "pcipal client secret": PCIPAL_CLIENT_SECRET,
    "callback secret": CALLBACK_SECRET,
    "callback bearer": CALLBACK_BEARER,
    "notification secret": NOTIFICATION_SECRET,
    "master key": MASTER_KEY_MATERIAL,
}


def assert_no_secret(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        # The full value, and its random part alone (a masked "sk_test_****abcd" keeps neither).
        core = value.split("_", 2)[-1] if "_" in value else value
        assert value not in text, f"{name} in {where}"
        assert core[:16] not in text, f"{name} (its random part) in {where}"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for f in list(root.filters):
            if isinstance(f, RedactingFilter):
                root.removeFilter(f)
        root.setLevel(level)


def _tenants(ring: MasterKeyRing, stripe_url: str, notify_url: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "good",
            "name": "Good",
            "stripe_secret_key": ring.encrypt(STRIPE_KEY),
            "stripe_api_base": stripe_url,
            "stripe_webhook_secrets": [ring.encrypt(WEBHOOK_SECRET)],
            "currency": "gbp",
            "notification_url": notify_url,
            "notification_secret": ring.encrypt(NOTIFICATION_SECRET),
            "pcipal": {
                "base_url": "http://127.0.0.1:9",  # nothing listens: the token request fails
                "tenant_name": "t",
                "tenant_number": "1",
                "client_id": "client",
                "client_secret": ring.encrypt(PCIPAL_CLIENT_SECRET),
                "flow_id": "1055",
                "callback_auth": {
                    "hmac_secrets": [ring.encrypt(CALLBACK_SECRET)],
                    "bearer_token": ring.encrypt(CALLBACK_BEARER),
                },
            },
        },
        {
            "id": "refused",
            "name": "Refused",
            "stripe_secret_key": ring.encrypt(STRIPE_KEY_REFUSED),  # the sandbox only knows STRIPE_KEY
            "stripe_api_base": stripe_url,
            "currency": "gbp",
        },
    ]


def _build(tenants: list[dict[str, Any]], ring: MasterKeyRing | None, tmp: str, **extra: Any) -> Settings:
    data: dict[str, Any] = {
        "var_dir": tmp,
        "store": {"url": f"sqlite:///{tmp}/voicepay.sqlite3"},
        "tenants": tenants,
        "notifications": {"retry_schedule_seconds": [0.05]},
        "webhooks": {"poll_interval_seconds": 0.05},
        **extra,
    }
    return build_settings(data, environ={}, ring=ring)


def test_configuration_errors_never_show_a_secret(tmp_path: Any, log_stream: io.StringIO) -> None:
    ring = MasterKeyRing.parse(MASTER)
    other = MasterKeyRing.parse(generate_master_key("sec1"))  # same id, different key: decryption fails
    tenants = _tenants(ring, "http://127.0.0.1:9", "http://127.0.0.1:9/n")
    plaintext = [{**tenants[1], "stripe_secret_key": STRIPE_KEY_REFUSED}]
    tampered = dict(tenants[1])
    enc = str(tenants[1]["stripe_secret_key"])
    tampered["stripe_secret_key"] = enc[:-6] + ("AAAAAA" if not enc.endswith("AAAAAA") else "BBBBBB")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("plaintext secret outside sandbox", lambda: _build(plaintext, ring, str(tmp_path))),
        ("wrong master key", lambda: _build(tenants, other, str(tmp_path))),
        ("no master key", lambda: _build(tenants, MasterKeyRing([]), str(tmp_path))),
        ("tampered ciphertext", lambda: _build([tampered], ring, str(tmp_path))),
        ("malformed master key", lambda: build_settings(
            {"tenants": tenants}, environ={"VOICEPAY_MASTER_KEYS": "sec1:" + MASTER_KEY_MATERIAL[:-3]})),
        ("master key in the wrong variable", lambda: build_settings(
            {"tenants": [{**tenants[1], "stripe_secret_key": MASTER_KEY_MATERIAL}]}, environ={}, ring=ring)),
    ]
    for name, make in cases:
        with pytest.raises(SettingsError) as info:
            make()
        text = str(info.value) + "".join(traceback.format_exception(info.value))
        assert_no_secret(text, f"error: {name}")
        assert "stripe_secret_key" in text or "master" in text, (name, text)
        logging.getLogger("voicepay.cli").error("config failed: %s", info.value, exc_info=info.value)
    assert_no_secret(log_stream.getvalue(), "log of configuration errors")


def test_repr_of_settings_never_shows_a_secret(tmp_path: Any) -> None:
    ring = MasterKeyRing.parse(MASTER)
    settings = _build(_tenants(ring, "http://127.0.0.1:9", "http://127.0.0.1:9/n"), ring, str(tmp_path))
    tenant = settings.tenant("good")
    assert tenant is not None and tenant.pcipal is not None
    assert tenant.stripe_secret_key.reveal() == STRIPE_KEY  # the secrets are really in there
    objects: list[object] = [settings, tenant, tenant.pcipal, tenant.pcipal.callback_auth,
                             tenant.stripe_secret_key, tenant.stripe_webhook_secrets, ring, Secret(STRIPE_KEY)]
    for obj in objects:
        assert_no_secret(repr(obj), f"repr({type(obj).__name__})")
        assert_no_secret(str(obj), f"str({type(obj).__name__})")
        assert_no_secret(f"{obj!r} {obj} {obj:}", f"format({type(obj).__name__})")
    assert_no_secret(settings.model_dump_json(), "settings.model_dump_json()")
    assert_no_secret(json.dumps(settings.model_dump(mode="json")), "settings.model_dump(mode='json')")


async def test_every_path_logs_and_answers_without_secrets(
    tmp_path: Any,
    log_stream: io.StringIO,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def failing_receiver(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=500, text="receiver down")

    receiver_app = web.Application()
    receiver_app.router.add_post("/notify", failing_receiver)
    receiver = TestServer(receiver_app, host="127.0.0.1")
    await receiver.start_server()
    sandbox = StripeSandbox(api_key=STRIPE_KEY, seed=True)
    stripe_url = await sandbox.start("127.0.0.1", 0)
    try:
        ring = MasterKeyRing.parse(MASTER)
        settings = _build(_tenants(ring, stripe_url, str(receiver.make_url("/notify"))), ring, str(tmp_path))
        client = await aiohttp_client(create_app(settings))
        keys = client.server.app[SERVICES].keys
        all_scopes = ("payments:read", "refunds:write", "capture:write", "subscriptions:read")
        _, good_key = await keys.create("good", all_scopes)
        _, refused_key = await keys.create("refused", all_scopes)
        bodies: list[str] = []

        async def call(key: str, action: str, params: dict[str, Any]) -> int:
            resp = await client.post(f"/v1/actions/{action}", json=params, headers={
                "Authorization": f"Bearer {key}", "Idempotency-Key": secrets.token_hex(8)})
            bodies.append(await resp.text() + json.dumps(dict(resp.headers)))
            return resp.status

        # Stripe accepts the key; Stripe refuses the key (401 from the sandbox, which names a masked key).
        assert await call(good_key, "payments.lookup", {"email": "ada@example.com"}) == 200
        assert await call(refused_key, "payments.lookup", {"email": "ada@example.com"}) == 503
        assert await call(refused_key, "refunds.create", {"email": "ada@example.com", "amount": 100}) == 503
        # PCI Pal unreachable: the token request (which carries the client secret) fails.
        assert await call(good_key, "capture.start", {"amount": 1500, "description": "Order 9"}) >= 400
        # A wrong agent key, and an agent key that is a secret's lookalike.
        assert await call("vpk_000000000000_" + "A" * 43, "gateway.ping", {}) == 401

        async def post(path: str, body: bytes, headers: dict[str, str]) -> int:
            resp = await client.post(path, data=body, headers=headers)
            bodies.append(await resp.text() + json.dumps(dict(resp.headers)))
            return resp.status

        # Webhooks: good signature (stored, processed, notification delivered to a failing receiver), a bad
        # one, a secret that is right for another tenant, an unknown tenant.
        pi = {"id": "pi_sec_1", "object": "payment_intent", "amount": 1000, "currency": "gbp",
              "status": "succeeded"}
        event = json.dumps({"id": "evt_sec_1", "object": "event", "type": "payment_intent.succeeded",
                            "api_version": stripe.api_version, "created": int(time.time()), "data": {"object": pi}}).encode()
        now = int(time.time())
        assert await post("/v1/webhooks/stripe/good", event, {"Stripe-Signature": sign_header(
            event, [WEBHOOK_SECRET], now)}) == 200
        assert await post("/v1/webhooks/stripe/good", event, {"Stripe-Signature": sign_header(
            event, ["whsec_wrong"], now)}) == 400
        assert await post("/v1/webhooks/stripe/refused", event, {"Stripe-Signature": sign_header(
            event, [WEBHOOK_SECRET], now)}) == 400
        assert await post("/v1/webhooks/stripe/nobody", event, {"Stripe-Signature": sign_header(
            event, [WEBHOOK_SECRET], now)}) == 400
        # PCI Pal callbacks: right token + wrong HMAC, wrong token + right HMAC, no tenant config.
        cb = json.dumps({"OrderReference": "cap_" + "0" * 24, "Result": "success"}).encode()
        assert await post("/v1/callbacks/pcipal/good", cb, {
            "Content-Type": "application/json", "Authorization": f"Bearer {CALLBACK_BEARER}",
            "X-PCIPal-Signature": sign_callback(cb, "wrong", now)}) == 401
        assert await post("/v1/callbacks/pcipal/good", cb, {
            "Content-Type": "application/json", "Authorization": "Bearer wrong",
            "X-PCIPal-Signature": sign_callback(cb, CALLBACK_SECRET, now)}) == 401
        assert await post("/v1/callbacks/pcipal/refused", cb, {
            "Content-Type": "application/json", "Authorization": f"Bearer {CALLBACK_BEARER}",
            "X-PCIPal-Signature": sign_callback(cb, CALLBACK_SECRET, now)}) == 401
        assert await post("/v1/callbacks/pcipal/good", cb, {
            "Content-Type": "application/json", "Authorization": f"Bearer {CALLBACK_BEARER}",
            "X-PCIPal-Signature": sign_callback(cb, CALLBACK_SECRET, now)}) == 404  # verified; no such capture

        # The notification worker signs with the notification secret and meets a failing receiver (bounded).
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.025)
        assert received, "the notification was never attempted"
        headers, body = received[0]
        assert "v1=" in headers.get("Voicepay-Signature", ""), headers
        assert_no_secret(json.dumps(headers) + body.decode(), "notification request")
        await asyncio.sleep(0.2)  # let the failure be logged

        for i, text in enumerate(bodies):
            assert_no_secret(text, f"response {i}")
        log_text = log_stream.getvalue()
        assert "provider" in log_text  # the failures were logged, just not the secrets
        assert_no_secret(log_text, "log")
    finally:
        await sandbox.stop()
        await receiver.close()
