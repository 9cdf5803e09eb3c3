"""Secrets: a type that never prints, and authenticated encryption of secret values at rest.

A secret value in the config file is written ``enc:v1:<key id>:<base64url(nonce || ciphertext+tag)>``,
encrypted with AES-256-GCM from ``cryptography`` under a *master key*. Master keys come from the environment
variable ``VOICEPAY_MASTER_KEYS`` (``id:base64key,id:base64key``, newest first) or from a key file with one
``id:base64key`` per line, newest first. The key id in each value says which master key opened it, so keys can
be rotated: add a new key in front, run ``voicepay secrets rotate config.toml``, then retire the old key.

The associated data binds the ciphertext to the format version and key id, so a value cannot be replayed under
another key id.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets as _stdlib_secrets
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.secret import Secret as Secret  # re-exported: the one secret type

ENC_PREFIX = "enc:v1:"
_ENC_RE = re.compile(r"enc:v1:([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_=-]+)")
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NONCE_BYTES = 12


class SecretError(Exception):
    """A secret could not be decrypted or a key is unusable. Messages never contain secret values."""


@dataclass(frozen=True, slots=True)
class MasterKey:
    key_id: str
    key: bytes

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r}, key=***)"


class MasterKeyRing:
    """Master keys, newest first. The newest encrypts; any of them decrypts a value naming its id."""

    def __init__(self, keys: Iterable[MasterKey]) -> None:
        self._keys = list(keys)
        ids = [k.key_id for k in self._keys]
        if len(set(ids)) != len(ids):
            raise SecretError("duplicate master key id")
        self._by_id = {k.key_id: k for k in self._keys}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __repr__(self) -> str:
        return f"MasterKeyRing(ids={[k.key_id for k in self._keys]!r})"

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id for k in self._keys]

    @property
    def newest(self) -> MasterKey:
        if not self._keys:
            raise SecretError("no master key configured (set VOICEPAY_MASTER_KEYS or a master key file)")
        return self._keys[0]

    @classmethod
    def parse(cls, text: str) -> MasterKeyRing:
        """Parse ``id:base64key`` entries separated by commas or newlines (``#`` starts a comment)."""
        keys: list[MasterKey] = []
        for raw in re.split(r"[,\n]", text):
            entry = raw.split("#", 1)[0].strip()
            if not entry:
                continue
            key_id, sep, b64 = entry.partition(":")
            if not sep or not _KEY_ID_RE.match(key_id):
                raise SecretError("malformed master key entry (expected id:base64key)")
            try:
                key = base64.urlsafe_b64decode(_pad(b64.strip()))
            except (binascii.Error, ValueError):
                raise SecretError(f"master key {key_id!r} is not valid base64") from None
            if len(key) != 32:
                raise SecretError(f"master key {key_id!r} must be 32 bytes (AES-256)")
            keys.append(MasterKey(key_id, key))
        return cls(keys)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, key_file: str | Path | None = None
    ) -> MasterKeyRing:
        env = os.environ if environ is None else environ
        if env.get("VOICEPAY_MASTER_KEYS"):
            return cls.parse(env["VOICEPAY_MASTER_KEYS"])
        path = key_file or env.get("VOICEPAY_MASTER_KEY_FILE")
        if path:
            try:
                return cls.parse(Path(path).read_text(encoding="utf-8"))
            except OSError as exc:
                raise SecretError(f"cannot read master key file: {exc.strerror}") from None
        return cls([])

    def encrypt(self, plaintext: str) -> str:
        key = self.newest
        nonce = os.urandom(_NONCE_BYTES)
        ct = AESGCM(key.key).encrypt(nonce, plaintext.encode("utf-8"), _aad(key.key_id))
        return f"{ENC_PREFIX}{key.key_id}:{base64.urlsafe_b64encode(nonce + ct).decode().rstrip('=')}"

    def decrypt(self, value: str) -> str:
        m = _ENC_RE.fullmatch(value.strip())
        if not m:
            raise SecretError("not an enc:v1 value")
        key_id, b64 = m.group(1), m.group(2)
        key = self._by_id.get(key_id)
        if key is None:
            raise SecretError(f"encrypted with master key {key_id!r}, which is not configured")
        try:
            blob = base64.urlsafe_b64decode(_pad(b64))
        except (binascii.Error, ValueError):
            raise SecretError("ciphertext is not valid base64") from None
        if len(blob) < _NONCE_BYTES + 16:
            raise SecretError("ciphertext is truncated")
        try:
            plain = AESGCM(key.key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad(key_id))
        except InvalidTag:
            raise SecretError(f"cannot decrypt with master key {key_id!r} (wrong key or tampered)") from None
        return plain.decode("utf-8")


def _aad(key_id: str) -> bytes:
    return f"voicepay-secret:v1:{key_id}".encode()


def _pad(b64: str) -> str:
    return b64 + "=" * (-len(b64) % 4)


def is_encrypted(value: str) -> bool:
    return value.strip().startswith(ENC_PREFIX)


def generate_master_key(key_id: str | None = None) -> str:
    """A new ``id:base64key`` entry (256 random bits from the OS)."""
    kid = key_id or f"k{datetime.now(UTC):%Y%m%d}{_stdlib_secrets.token_hex(3)}"
    if not _KEY_ID_RE.match(kid):
        raise SecretError("key id may use letters, digits, '-' and '_' only")
    return f"{kid}:{base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def rotate_text(text: str, ring: MasterKeyRing) -> tuple[str, int]:
    """Re-encrypt every ``enc:v1`` value in ``text`` under the newest key. Returns (new text, count)."""
    count = 0

    def _sub(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return ring.encrypt(ring.decrypt(m.group(0)))

    return _ENC_RE.sub(_sub, text), count


def rotate_file(path: str | Path, ring: MasterKeyRing) -> int:
    """Rotate a config file in place, atomically: a crash leaves either the old or the new file."""
    p = Path(path)
    new_text, count = rotate_text(p.read_text(encoding="utf-8"), ring)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, p.stat().st_mode & 0o777)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
