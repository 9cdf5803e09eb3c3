"""Timing-safe comparisons, checked by reading the code and by counting comparisons (never by timing).

1. No ``==`` / ``!=`` anywhere in ``gateway/``, ``adapters/`` or ``redaction/`` between two non-constant
   values when either side names a secret, signature, token, hash, digest, MAC, key or verification answer
   (identifiers, attributes and string subscripts are all looked at). The one reviewed exception is listed in
   ``REVIEWED`` with its reason.
2. The places SECURITY.md names do call ``hmac.compare_digest`` / ``secrets.compare_digest``: agent-key
   authentication, ``Secret.__eq__``, Stripe webhook signatures, PCI Pal callback HMACs and bearer tokens,
   caller verification answers (and the emulators' credential checks).
3. No early exit: with several secrets and several signatures (rotation), every pair is compared, and an unknown
   agent-key id still costs one comparison. Counted by wrapping ``compare_digest``, not timed.
"""

from __future__ import annotations

import ast
import hmac
import re
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "adapters", "redaction")

SECRET_NAME = re.compile(
    r"sig|signature|secret|token|hash|digest|mac$|^mac|hmac|password|passcode|api_?key|key_hash|answer|bearer|"
    r"credential|postal|last4|email_on_file",
    re.IGNORECASE,
)

#: (file, source of the comparison) -> why it is not a secret comparison.
REVIEWED = {
    ("gateway/audit.py", "_row_hash(str(row['prev_hash']), seq, row) != row['hash']"):
        "the audit chain's hashes are integrity values stored in the clear next to the rows, not secrets",
    ("gateway/audit.py", "row['prev_hash'] != prev"):
        "the audit chain's hashes are integrity values stored in the clear next to the rows, not secrets",
    ("gateway/audit.py", "str(head['hash']) != prev"):
        "the audit chain's hashes are integrity values stored in the clear next to the rows, not secrets",
    ("redaction/_engine.py", "a.last4 != b.last4"):
        "two findings of the detector in one text, whose last four digits the redaction markers print anyway; "
        "not a caller's answer to a verification question",
}


def _mentions(node: ast.AST) -> list[str]:
    out: list[str] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Attribute):
            out.append(n.attr)
        elif isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str):
            out.append(n.slice.value)
    return [m for m in out if SECRET_NAME.search(m)]


def _sources() -> list[tuple[str, ast.Module]]:
    return [
        (str(p.relative_to(ROOT)), ast.parse(p.read_text(), filename=str(p)))
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
    ]


def test_no_equality_comparison_of_secrets() -> None:
    found: list[str] = []
    seen_reviewed: set[tuple[str, str]] = set()
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) for o in operands):
                continue  # against a literal: a scheme name, an empty string, None
            if not any(_mentions(o) for o in operands):
                continue
            source = ast.unparse(node)
            if (path, source) in REVIEWED:
                seen_reviewed.add((path, source))
                continue
            found.append(f"{path}:{node.lineno}: {source}")
    assert not found, "compare secrets with hmac.compare_digest:\n" + "\n".join(found)
    assert seen_reviewed == set(REVIEWED), "a reviewed exception no longer exists: update REVIEWED"


def _function(path: str, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    tree = ast.parse((ROOT / path).read_text())
    parts = qualname.split(".")
    scope: list[ast.stmt] = tree.body
    for i, part in enumerate(parts):
        for node in scope:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.name == part:
                if i == len(parts) - 1:
                    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    return node
                scope = node.body
                break
        else:
            raise AssertionError(f"{path}: {qualname} not found")
    raise AssertionError(f"{path}: {qualname} not found")


def _calls(fn: ast.AST) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                out.add(f"{f.value.id}.{f.attr}")
            elif isinstance(f, ast.Attribute):
                out.add(f.attr)
            elif isinstance(f, ast.Name):
                out.add(f.id)
    return out


CONSTANT_TIME = {"hmac.compare_digest", "secrets.compare_digest", "_stdlib_secrets.compare_digest"}


@pytest.mark.parametrize(
    ("path", "qualname", "uses"),
    [
        ("gateway/auth.py", "AgentKeys.authenticate", CONSTANT_TIME),
        ("adapters/secret.py", "Secret.__eq__", CONSTANT_TIME),  # re-exported by gateway/secrets.py
        ("adapters/stripe/signing.py", "verify_header", CONSTANT_TIME),
        ("adapters/pcipal/callbacks.py", "CallbackVerifier._check_bearer", CONSTANT_TIME),
        ("adapters/pcipal/callbacks.py", "CallbackVerifier._check_hmac", CONSTANT_TIME),
        ("gateway/actions/customers.py", "_same", CONSTANT_TIME),
        ("gateway/actions/customers.py", "matched_factors", {"_same"}),  # called by CustomersVerify.run
        ("adapters/pcipal/emulator.py", "PciPalEmulator._token", CONSTANT_TIME),
        ("adapters/stripe/sandbox/core.py", "StripeSandbox._auth_error", CONSTANT_TIME),
    ],
)
def test_known_places_compare_in_constant_time(path: str, qualname: str, uses: set[str]) -> None:
    calls = _calls(_function(path, qualname))
    assert calls & uses, f"{path}: {qualname} must compare with one of {sorted(uses)}; calls {sorted(calls)}"


# --- no early exit (counted, not timed) ------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.calls = 0
        self._real = hmac.compare_digest

    def __call__(self, a: Any, b: Any) -> bool:
        self.calls += 1
        return self._real(a, b)


def test_stripe_signature_compares_every_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.stripe import signing

    counter = _Counter()
    monkeypatch.setattr(signing.hmac, "compare_digest", counter)
    body, now = b'{"id":"evt_1"}', int(time.time())
    # The header carries two v1 signatures (Stripe during a rotation); we hold two secrets; the first matches.
    header = signing.sign_header(body, ["whsec_new", "whsec_other"], now)
    signing.verify_header(body, header, ["whsec_new", "whsec_old"], now=now)
    assert counter.calls == 4


def test_callback_verifier_compares_every_token_and_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.pcipal import callbacks

    counter = _Counter()
    monkeypatch.setattr(callbacks.hmac, "compare_digest", counter)
    now = int(time.time())
    verifier = callbacks.CallbackVerifier(hmac_secrets=["s-new", "s-old"], bearer_tokens=["t-new", "t-old"])
    body = b'{"Result":"success"}'
    headers = {"Authorization": "Bearer t-new", "X-PCIPal-Signature": callbacks.sign_callback(body, "s-new", now)}
    verifier.verify(body, headers, "127.0.0.1")
    assert counter.calls == 2 + 2  # both tokens, both secrets, though the first of each matched


async def test_unknown_agent_key_id_still_compares(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    from gateway import auth
    from gateway.store import open_store

    counter = _Counter()
    monkeypatch.setattr(auth.hmac, "compare_digest", counter)
    store = await open_store(sqlite_url)
    try:
        await store.migrate()
        await store.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)", "acme", "Acme", 0.0)
        keys = auth.AgentKeys(store)
        _, key = await keys.create("acme", ["payments:read"])
        assert await keys.authenticate(key) is not None
        assert counter.calls == 1
        unknown = "vpk_" + "0" * 12 + key[len("vpk_") + 12 :]
        assert await keys.authenticate(unknown) is None
        assert counter.calls == 2  # the unknown id cost a comparison too
        wrong_secret = key[:-1] + ("A" if key[-1] != "A" else "B")
        assert await keys.authenticate(wrong_secret) is None
        assert counter.calls == 3
    finally:
        await store.close()


def test_signature_is_checked_before_the_clock() -> None:
    """A forged signature is refused as forged whatever its timestamp: the refusal says nothing about the
    clock window (Stripe webhooks and PCI Pal callbacks alike)."""
    from adapters.pcipal import callbacks
    from adapters.stripe import signing

    body, stale = b"{}", int(time.time()) - 10_000
    verifier = callbacks.CallbackVerifier(hmac_secrets=["s-real"])
    with pytest.raises(callbacks.CallbackVerificationError) as cb:
        verifier.verify(body, {"X-PCIPal-Signature": callbacks.sign_callback(body, "s-forged", stale)}, None)
    assert cb.value.reason == "bad_signature"
    with pytest.raises(signing.SignatureError) as wh:
        signing.verify_header(body, signing.sign_header(body, ["whsec_forged"], stale), ["whsec_real"])
    assert wh.value.reason == "no_match"
