"""Keys derived from `CLIENT_SESSION_ENCRYPTION_KEY`: AES-GCM for what a session holds at rest
(tokens, the PKCE verifier, `state`), and an HMAC key that binds CSRF tokens to the session id.
"""

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.crypto import sign_value

NONCE_BYTES = 12  # the AES-GCM standard nonce (NIST SP 800-38D)


def _derive(secret: str, purpose: bytes) -> bytes:
    """A 256-bit key for one purpose, so the cipher and the CSRF MAC never share a key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dropletbook " + purpose)
    return hkdf.derive(secret.encode("utf-8"))


class SessionKeys:
    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(_derive(secret, b"session sealing"))
        self._csrf_key = _derive(secret, b"csrf")

    def seal(self, data: dict[str, Any], *, row_id: str) -> str:
        """Encrypt `data`; the row id is authenticated too, so a sealed value cannot be moved
        to another row."""
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(data, separators=(",", ":")).encode("utf-8")
        sealed = nonce + self._aead.encrypt(nonce, plain, row_id.encode("ascii"))
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def unseal(self, value: str, *, row_id: str) -> dict[str, Any] | None:
        """The data, or None if it was sealed with another key or for another row."""
        try:
            raw = base64.urlsafe_b64decode(value.encode("ascii"))
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], row_id.encode("ascii"))
        except (InvalidTag, ValueError):
            return None
        data = json.loads(plain)
        return data if isinstance(data, dict) else None

    def csrf_token(self, session_id: str) -> str:
        """Bound to the session id: a new id (after a grant) means a new token."""
        return sign_value(self._csrf_key, session_id)
