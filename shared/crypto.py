"""Random tokens, their digests and constant-time comparison."""

import base64
import hashlib
import hmac
import secrets


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random string with `nbytes` bytes (256 bits by default) of entropy."""
    return secrets.token_urlsafe(nbytes)


def hash_token(value: str) -> str:
    """SHA-256 hex digest: how codes, refresh tokens and client secrets are stored.

    A fast hash is right here: these values are machine-generated with 256 bits of
    entropy, so there is nothing for a slow hash to protect against.
    """
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(value: str, digest: str) -> bool:
    """Constant-time check that `value` hashes to `digest`."""
    return hmac.compare_digest(hash_token(value), digest)


def derive_key(secret: bytes, label: str) -> bytes:
    """A 256-bit key for one purpose (`label`), derived from a server secret with HMAC-SHA256,
    so that keys for different purposes never coincide."""
    return hmac.new(secret, label.encode("utf-8"), hashlib.sha256).digest()


def sign_value(secret: bytes, value: str) -> str:
    """HMAC-SHA256 of `value`, URL-safe without padding (43 characters, like `new_token()`):
    for cookies, CSRF tokens and tokens derived from other tokens."""
    mac = hmac.new(secret, value.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def signature_matches(secret: bytes, value: str, signature: str) -> bool:
    return hmac.compare_digest(sign_value(secret, value), signature)
