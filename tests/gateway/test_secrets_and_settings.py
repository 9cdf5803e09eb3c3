from __future__ import annotations

import io
import os
import sys

import pytest

from gateway.secrets import MasterKeyRing, Secret, SecretError, generate_master_key, rotate_file
from gateway.settings import SettingsError, build_settings, load_settings


def _tenant(key: str) -> dict[str, object]:
    return {"id": "acme", "name": "Acme", "stripe_secret_key": key}


def test_secret_never_prints_its_value():
    s = Secret("sk_live_abc")
    assert str(s) == "***" and "sk_live_abc" not in repr(s) and f"{s}" == "***"
    assert s.reveal() == "sk_live_abc"


def test_encrypt_decrypt_round_trip_and_tamper_detection():
    ring = MasterKeyRing.parse(generate_master_key("k1"))
    enc = ring.encrypt("sk_test_123")
    assert enc.startswith("enc:v1:k1:") and "sk_test_123" not in enc
    assert ring.decrypt(enc) == "sk_test_123"
    assert ring.encrypt("sk_test_123") != enc  # fresh nonce each time
    tampered = enc[:-2] + ("AA" if not enc.endswith("AA") else "BB")
    with pytest.raises(SecretError):
        ring.decrypt(tampered)


def test_wrong_or_missing_key_is_a_clear_startup_error_naming_the_setting():
    good = MasterKeyRing.parse(generate_master_key("k1"))
    wrong = MasterKeyRing.parse(generate_master_key("k1"))
    enc = good.encrypt("sk_live_topsecret")
    with pytest.raises(SettingsError) as e1:
        build_settings({"tenants": [_tenant(enc)]}, environ={}, ring=wrong)
    assert "tenants.0.stripe_secret_key" in str(e1.value) and "wrong key" in str(e1.value)
    with pytest.raises(SettingsError) as e2:
        build_settings({"tenants": [_tenant(enc)]}, environ={}, ring=MasterKeyRing([]))
    assert "tenants.0.stripe_secret_key" in str(e2.value) and "no master key" in str(e2.value)
    other_id = MasterKeyRing.parse(generate_master_key("k9"))
    with pytest.raises(SettingsError) as e3:
        build_settings({"tenants": [_tenant(enc)]}, environ={}, ring=other_id)
    assert "'k1'" in str(e3.value)
    for e in (e1, e2, e3):
        assert "topsecret" not in str(e.value) and enc not in str(e.value)


def test_plaintext_secret_is_refused_outside_sandbox_without_printing_it():
    with pytest.raises(SettingsError) as exc:
        build_settings({"tenants": [_tenant("sk_live_plaintext_value")]}, environ={}, ring=MasterKeyRing([]))
    assert "plaintext" in str(exc.value) and "sk_live_plaintext_value" not in str(exc.value)
    ok = build_settings({"sandbox": True, "tenants": [_tenant("sk_test_x")]}, environ={}, ring=MasterKeyRing([]))
    assert ok.tenants[0].stripe_secret_key.reveal() == "sk_test_x"


def test_rotation_reencrypts_every_value_under_the_newest_key(tmp_path):
    old = generate_master_key("old")
    ring_old = MasterKeyRing.parse(old)
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "# comment kept\n[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n"
        f"stripe_secret_key = \"{ring_old.encrypt('sk_live_a')}\"\n"
        f"stripe_webhook_secrets = [\"{ring_old.encrypt('whsec_1')}\", \"{ring_old.encrypt('whsec_2')}\"]\n"
    )
    new = generate_master_key("new")
    both = MasterKeyRing.parse(new + "," + old)
    assert rotate_file(cfg, both) == 3
    text = cfg.read_text()
    assert "# comment kept" in text and "enc:v1:old:" not in text and text.count("enc:v1:new:") == 3
    only_new = MasterKeyRing.parse(new)
    s = load_settings(cfg, environ={}, ring=only_new)
    assert s.tenants[0].stripe_secret_key.reveal() == "sk_live_a"
    assert [w.reveal() for w in s.tenants[0].stripe_webhook_secrets] == ["whsec_1", "whsec_2"]


def test_env_overrides_nested_and_per_tenant(tmp_path):
    ring = MasterKeyRing.parse(generate_master_key("k"))
    env = {
        "VOICEPAY_SERVER__PORT": "9001",
        "VOICEPAY_STORE__URL": "postgresql://db/x",
        "VOICEPAY_TENANTS__ACME__POLICY__MAX_REFUND_AMOUNT": "1234",
        "VOICEPAY_TENANTS__ACME__STRIPE_SECRET_KEY": ring.encrypt("sk_from_env"),
    }
    s = build_settings({"tenants": [{"id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("x")}]}, environ=env, ring=ring)
    assert s.server.port == 9001 and s.store.url == "postgresql://db/x"
    assert s.tenants[0].policy.max_refund_amount == 1234
    assert s.tenants[0].stripe_secret_key.reveal() == "sk_from_env"


def test_unknown_setting_is_an_error():
    with pytest.raises(SettingsError) as exc:
        build_settings({"server": {"prot": 1}}, environ={}, ring=MasterKeyRing([]))
    assert "server.prot" in str(exc.value)


def test_example_config_parses_and_documents_every_option():
    from pathlib import Path

    from gateway.settings import Settings

    path = Path(__file__).parents[2] / "deploy" / "config.example.toml"
    text = path.read_text()
    s = load_settings(path, environ={}, ring=MasterKeyRing([]), sandbox=True)
    assert s.tenants
    # Every field of every settings section is mentioned (commented) in the example.
    def fields(model: type) -> set[str]:
        out = set()
        for name, f in model.model_fields.items():
            out.add(name)
            ann = f.annotation
            for sub in getattr(ann, "__args__", ()) or (ann,):
                if isinstance(sub, type) and hasattr(sub, "model_fields"):
                    out |= fields(sub)
        return out

    missing = sorted(n for n in fields(Settings) if n not in text)
    assert missing == []


def test_cli_encrypt_reads_stdin_and_genkey_makes_usable_keys(monkeypatch, capsys):
    from gateway import cli

    assert cli.main(["secrets", "genkey", "--id", "cli1"]) == 0
    key = capsys.readouterr().out.strip()
    monkeypatch.setenv("VOICEPAY_MASTER_KEYS", key)
    monkeypatch.setattr(sys, "stdin", io.StringIO("sk_live_from_stdin\n"))
    assert cli.main(["secrets", "encrypt"]) == 0
    out = capsys.readouterr()
    assert "sk_live_from_stdin" not in out.out + out.err
    assert MasterKeyRing.parse(key).decrypt(out.out.strip()) == "sk_live_from_stdin"
    # The value is never accepted from argv.
    with pytest.raises(SystemExit):
        cli.main(["secrets", "encrypt", "sk_live_argv"])
    assert os.environ["VOICEPAY_MASTER_KEYS"] == key
