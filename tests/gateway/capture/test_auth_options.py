"""Callback authentication helpers: the mTLS fingerprint header is believed only from a trusted proxy."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request

from adapters.pcipal.callbacks import CallbackVerificationError, CallbackVerifier
from gateway.callbacks import client_cert_fingerprint
from gateway.sandbox import sandbox_settings

FP = "ab" * 32


def _settings(trusted: list[str]) -> Any:
    env = {"VOICEPAY_SERVER__TRUSTED_PROXIES": str(trusted).replace("'", '"')} if trusted else {}
    return sandbox_settings(var_dir="/tmp/unused", stripe_base_url="http://127.0.0.1:9", webhook_secret="whsec_x",
                            public_base_url="http://127.0.0.1:9", environ=env, pcipal={
                                "base_url": "http://127.0.0.1:9", "tenant_name": "t", "tenant_number": "1",
                                "client_id": "c", "client_secret": "s", "flow_id": "1",
                                "callback_auth": {"mtls_fingerprints": [FP]}})


def _request(peer: str) -> Any:
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 40000)
    return make_mocked_request("POST", "/v1/callbacks/pcipal/sandbox",
                               headers={"X-Client-Cert-Sha256": FP}, transport=transport)


@pytest.mark.parametrize(("peer", "trusted", "expected"), [
    ("10.0.0.5", ["10.0.0.0/24"], FP),
    ("::ffff:10.0.0.5", ["10.0.0.0/24"], FP),
    ("192.0.2.1", ["10.0.0.0/24"], None),
    ("10.0.0.5", [], None),
])
def test_fingerprint_header_only_from_a_trusted_proxy(peer: str, trusted: list[str], expected: str | None) -> None:
    settings = _settings(trusted)
    tenant = settings.tenant("sandbox")
    assert client_cert_fingerprint(_request(peer), tenant, settings) == expected


@pytest.mark.parametrize(("presented", "reason"), [
    (None, "missing_client_certificate"),
    ("cd" * 32, "client_certificate_not_allowed"),
])
def test_verifier_mtls_refusals(presented: str | None, reason: str) -> None:
    verifier = CallbackVerifier(mtls_fingerprints=[FP])
    with pytest.raises(CallbackVerificationError) as exc:
        verifier.verify(b"{}", {}, "127.0.0.1", client_cert_fingerprint=presented)
    assert exc.value.reason == reason
    verifier.verify(b"{}", {}, "127.0.0.1", client_cert_fingerprint=FP.upper())


def test_header_key_is_compared_in_the_configured_header_only() -> None:
    verifier = CallbackVerifier(header_name="X-Sub-Key", header_keys=["k1", "k2"])
    verifier.verify(b"", {"x-sub-key": "k2"}, None)
    for headers, reason in (({}, "missing_header_key"), ({"X-Sub-Key": "k3"}, "bad_header_key"),
                            ({"Authorization": "Bearer k1"}, "missing_header_key")):
        with pytest.raises(CallbackVerificationError) as exc:
            verifier.verify(b"", headers, None)
        assert exc.value.reason == reason


def test_serve_refuses_a_tenant_without_callback_auth_with_a_clear_message(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway import cli

    for name in [n for n in __import__("os").environ if n.startswith("VOICEPAY_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "config.toml"
    config.write_text(
        '[[tenants]]\nid = "acme"\nname = "Acme"\nstripe_secret_key = ""\n'
        '[tenants.pcipal]\nbase_url = "https://pcipal.invalid"\ntenant_name = "acme"\ntenant_number = "1"\n'
        'client_id = "c"\nclient_secret = ""\nflow_id = "1"\n'
    )
    assert cli.main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "pcipal" in x)
    assert "tenants.0.pcipal" in line
    assert "no callback authentication configured" in line
    assert "only sandbox mode may run without" in line
