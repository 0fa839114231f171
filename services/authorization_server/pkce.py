"""Proof Key for Code Exchange, RFC 7636: S256 only (RFC 9700 §2.1.1)."""

import base64
import hashlib
import hmac
import re

from shared.errors import InvalidGrantError, InvalidRequestError

# RFC 7636 §4.1 and §4.2: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# An S256 challenge is base64url(SHA-256) without padding: exactly 43 characters.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None) -> None:
    """Validate the authorization request's challenge (RFC 7636 §4.3)."""
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method without code_challenge")
        return
    if method != "S256":
        raise InvalidRequestError("code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError("code_challenge is not a valid S256 challenge")


def verify(*, challenge: str | None, verifier: str | None) -> None:
    """Check the token request's verifier against the stored challenge (RFC 7636 §4.6).

    A verifier sent for a code issued without a challenge is refused too: that is the
    PKCE downgrade attack of RFC 9700 §4.8.
    """
    if challenge is None:
        if verifier is not None:
            raise InvalidGrantError("code_verifier sent but no code_challenge was used")
        return
    if verifier is None:
        raise InvalidGrantError("code_verifier required")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrantError("code_verifier malformed")
    if not hmac.compare_digest(s256_challenge(verifier), challenge):
        raise InvalidGrantError("code_verifier does not match code_challenge")
