"""PKCE, RFC 7636: S256 only, the verifier format, and constant-time checks."""

import base64
import hashlib

import pytest

from services.authorization_server import pkce
from shared.errors import InvalidGrantError, InvalidRequestError

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce.s256_challenge(VERIFIER) == CHALLENGE


def test_challenge_accepted() -> None:
    pkce.check_challenge(CHALLENGE, "S256")
    pkce.check_challenge(None, None)  # no PKCE: the endpoint decides if that is allowed


@pytest.mark.parametrize(
    ("challenge", "method", "description"),
    [
        pytest.param(CHALLENGE, None, "code_challenge_method must be S256", id="method-missing"),
        pytest.param(CHALLENGE, "plain", "code_challenge_method must be S256", id="plain"),
        pytest.param(CHALLENGE, "s256", "code_challenge_method must be S256", id="lowercase"),
        pytest.param(
            None, "S256", "code_challenge_method without code_challenge", id="method-alone"
        ),
        pytest.param(
            CHALLENGE[:42], "S256", "code_challenge is not a valid S256 challenge", id="short"
        ),
        pytest.param(
            CHALLENGE + "A", "S256", "code_challenge is not a valid S256 challenge", id="long"
        ),
        pytest.param(
            CHALLENGE[:42] + "=",
            "S256",
            "code_challenge is not a valid S256 challenge",
            id="padding",
        ),
        pytest.param(
            CHALLENGE[:42] + "+",
            "S256",
            "code_challenge is not a valid S256 challenge",
            id="not-base64url",
        ),
    ],
)
def test_challenge_refused(challenge: str | None, method: str | None, description: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        pkce.check_challenge(challenge, method)
    assert caught.value.description == description


@pytest.mark.parametrize("length", [43, 128])
def test_verifier_length_bounds_accepted(length: int) -> None:
    verifier = ("abc-._~" * 20)[:length]
    pkce.verify(challenge=pkce.s256_challenge(verifier), verifier=verifier)


def test_no_challenge_no_verifier() -> None:
    pkce.verify(challenge=None, verifier=None)


@pytest.mark.parametrize(
    ("challenge", "verifier", "description"),
    [
        pytest.param(CHALLENGE, None, "code_verifier required", id="missing"),
        pytest.param(
            CHALLENGE,
            VERIFIER[:-1] + "l",
            "code_verifier does not match code_challenge",
            id="mismatch",
        ),
        pytest.param(CHALLENGE, VERIFIER[:42], "code_verifier malformed", id="too-short"),
        pytest.param(CHALLENGE, "a" * 129, "code_verifier malformed", id="too-long"),
        pytest.param(CHALLENGE, "a" * 42 + "/", "code_verifier malformed", id="reserved-char"),
        pytest.param(CHALLENGE, "\u00e9" * 43, "code_verifier malformed", id="non-ascii"),
        pytest.param(
            None,
            VERIFIER,
            "code_verifier sent but no code_challenge was used",
            id="downgrade",
        ),
        pytest.param(
            base64.urlsafe_b64encode(VERIFIER.encode()).decode()[:43],
            VERIFIER,
            "code_verifier does not match code_challenge",
            id="plain-style-challenge",
        ),
    ],
)
def test_verifier_refused(challenge: str | None, verifier: str | None, description: str) -> None:
    with pytest.raises(InvalidGrantError) as caught:
        pkce.verify(challenge=challenge, verifier=verifier)
    assert caught.value.description == description


def test_verifier_equal_to_challenge_is_refused() -> None:
    """The `plain` method is not supported: sending the challenge as verifier fails."""
    digest = hashlib.sha256(b"x").digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    with pytest.raises(InvalidGrantError):
        pkce.verify(challenge=challenge, verifier=challenge)
