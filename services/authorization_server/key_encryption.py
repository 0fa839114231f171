"""Signing keys at rest: AES-256-GCM under a key encryption key (KEK) from the settings.

Each ciphertext is stored with the id of the KEK that sealed it, so KEKs rotate
(`dropletbook-as rotate-kek`) while older ones still decrypt. The additional authenticated
data binds a ciphertext to its signing key's `kid`: copied onto another row, it fails.
Without a KEK (development only) keys are stored in clear, as are rows written before one
was configured; both stay readable.
"""

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

KEK_BYTES = 32  # AES-256
_NONCE_BYTES = 12  # 96-bit random nonces (NIST SP 800-38D §8.2.2)


class KeyEncryptionError(Exception):
    """A signing key cannot be sealed or opened; the message says which and why."""


def decode_kek(value: str) -> bytes:
    """A KEK as configured: standard base64 of 32 random bytes (`openssl rand -base64 32`)."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != KEK_BYTES:
        raise ValueError(f"must be base64 of {KEK_BYTES} random bytes (openssl rand -base64 32)")
    return key


@dataclass(frozen=True, slots=True)
class SealedKey:
    """What a signing-key row stores: clear PEM when `kek_id` is None, else the ciphertext."""

    kek_id: str | None
    private_key: str


def _aad(kid: str) -> bytes:
    return f"dropletbook signing key {kid}".encode()


class KeyEncryption:
    """Seals new keys under the current KEK; opens keys sealed under any configured KEK."""

    def __init__(self, keys: Mapping[str, bytes], current_id: str | None) -> None:
        if current_id is not None and current_id not in keys:
            raise ValueError(f"unknown current key encryption key {current_id!r}")
        self._keys = {kek_id: AESGCM(key) for kek_id, key in keys.items()}
        self.current_id = current_id

    @classmethod
    def from_settings(
        cls, keys: Mapping[str, SecretStr], current_id: str | None
    ) -> "KeyEncryption":
        """From `AS_KEY_ENCRYPTION_KEYS` and `AS_KEY_ENCRYPTION_KEY_ID` (validated there)."""
        decoded = {kek_id: decode_kek(key.get_secret_value()) for kek_id, key in keys.items()}
        return cls(decoded, current_id)

    @classmethod
    def disabled(cls) -> "KeyEncryption":
        """Development without a KEK: keys are stored and read in clear."""
        return cls({}, None)

    def seal(self, *, kid: str, private_pem: str) -> SealedKey:
        if self.current_id is None:
            return SealedKey(None, private_pem)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = self._keys[self.current_id].encrypt(nonce, private_pem.encode(), _aad(kid))
        return SealedKey(self.current_id, base64.b64encode(nonce + ciphertext).decode("ascii"))

    def open(self, *, kid: str, sealed: SealedKey) -> str:
        if sealed.kek_id is None:
            return sealed.private_key
        aead = self._keys.get(sealed.kek_id)
        if aead is None:
            raise KeyEncryptionError(
                f"signing key {kid} is encrypted under key encryption key {sealed.kek_id!r}, "
                "which AS_KEY_ENCRYPTION_KEYS does not hold"
            )
        try:
            blob = base64.b64decode(sealed.private_key, validate=True)
            clear = aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad(kid))
        except (binascii.Error, InvalidTag, ValueError):
            raise KeyEncryptionError(
                f"signing key {kid} does not decrypt under key encryption key "
                f"{sealed.kek_id!r} (wrong key, or the row was altered)"
            ) from None
        return clear.decode("ascii")
