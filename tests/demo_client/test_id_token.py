"""ID Token validation (OpenID Connect Core §3.1.3.7) as ordered named checks, called
directly: what each check refuses, and that nothing is trusted before the signature."""

import base64
import json
import time
from typing import Any

import pytest

from services.demo_client.id_token import (
    Expected,
    IdTokenError,
    left_half_hash,
    validate_id_token,
)
from shared.jwt import SigningKey, public_jwk, sign_jwt
from tests.demo_client.oidc_fakes import signing_key

ISSUER = "https://as.example"
NOW = 1_800_000_000.0


def make_token(key: SigningKey, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "u-1",
        "aud": "dropletbook",
        "exp": int(NOW) + 300,
        "iat": int(NOW),
        "nonce": "n-1",
        "at_hash": left_half_hash("access-1", key.algorithm),
    }
    claims.update(changes)
    return sign_jwt({k: v for k, v in claims.items() if v is not None}, key=key, typ="JWT")


def expected(**changes: Any) -> Expected:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": "dropletbook",
        "nonce": "n-1",
        "access_token": "access-1",
        "now": lambda: NOW,
    }
    return Expected(**(values | changes))


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [public_jwk(key) for key in keys]}


def failed_check(token: str, keys: dict[str, Any], want: Expected | None = None) -> str:
    with pytest.raises(IdTokenError) as caught:
        validate_id_token(token, jwks=keys, expected=want or expected())
    assert all(check.passed for check in caught.value.checks[:-1])
    assert not caught.value.failed.passed
    return caught.value.failed.name


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_valid_token_passes_every_check_in_order(algorithm: str) -> None:
    key = signing_key(algorithm)
    valid = validate_id_token(make_token(key), jwks=jwks(key), expected=expected())
    assert [c.name for c in valid.checks] == [
        "format", "alg", "signature", "iss", "aud", "exp", "iat, sub", "nonce", "at_hash",
    ]  # fmt: skip
    assert all(c.passed for c in valid.checks)
    assert valid.claims["sub"] == "u-1" and valid.header["alg"] == algorithm


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join(
        (part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature))
    )


@pytest.mark.parametrize(
    ("header", "check"),
    [
        pytest.param({"alg": "none", "kid": "provider-key"}, "alg", id="alg-none"),
        pytest.param({"alg": "HS256", "kid": "provider-key"}, "alg", id="alg-hs256"),
        pytest.param({"alg": "RS256", "kid": "provider-key"}, "signature", id="empty-signature"),
        pytest.param({"alg": "RS256"}, "signature", id="no-kid"),
    ],
)
def test_unsigned_or_symmetric_tokens_never_pass(header: dict[str, Any], check: str) -> None:
    claims = {"iss": ISSUER, "sub": "u-1", "aud": "dropletbook", "exp": NOW + 60, "iat": NOW}
    token = _unsigned(header, claims | {"nonce": "n-1"})
    assert failed_check(token, jwks(signing_key())) == check


def test_signature_is_checked_before_any_claim() -> None:
    """A forged token with every claim wrong fails at the signature, not later."""
    key, impostor = signing_key(), signing_key(kid="provider-key-2")
    forged = make_token(impostor, iss="https://evil.example", nonce="x")
    forged = forged.replace(forged.split(".")[0], make_token(key).split(".")[0], 1)
    assert failed_check(forged, jwks(key)) == "signature"


def test_key_of_another_algorithm_under_the_kid_is_refused() -> None:
    rsa, ec = signing_key("RS256"), signing_key("ES256", kid="provider-key")
    assert failed_check(make_token(rsa), jwks(ec)) == "signature"


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        pytest.param({"azp": "someone-else"}, "aud", id="wrong-azp"),
        pytest.param({"aud": ["dropletbook", "other"], "azp": "other"}, "aud", id="azp-other"),
        pytest.param({"iat": int(NOW) + 3600}, "iat, sub", id="iat-future"),
        pytest.param({"sub": None}, "iat, sub", id="no-sub"),
        pytest.param({"exp": None}, "exp", id="no-exp"),
        pytest.param({"exp": int(NOW) - 31}, "exp", id="expired-beyond-leeway"),
        pytest.param({"at_hash": left_half_hash("access-2", "RS256")}, "at_hash", id="at-hash"),
    ],
)
def test_claim_checks(changes: dict[str, Any], check: str) -> None:
    key = signing_key()
    assert failed_check(make_token(key, **changes), jwks(key)) == check


def test_several_audiences_with_azp_naming_us_pass() -> None:
    key = signing_key()
    token = make_token(key, aud=["dropletbook", "other"], azp="dropletbook")
    assert validate_id_token(token, jwks=jwks(key), expected=expected()).claims["azp"]


def test_leeway_tolerates_small_clock_skew() -> None:
    key = signing_key()
    token = make_token(key, exp=int(NOW) - 10, iat=int(NOW) + 10)
    validate_id_token(token, jwks=jwks(key), expected=expected())


def test_at_hash_claim_is_optional_in_the_code_flow() -> None:
    key = signing_key()
    checks = validate_id_token(
        make_token(key, at_hash=None), jwks=jwks(key), expected=expected()
    ).checks
    assert "optional" in checks[-1].detail


def test_not_a_jwt() -> None:
    assert failed_check("not-a-jwt", jwks(signing_key())) == "format"
    assert failed_check("a.b.c", jwks(signing_key())) == "format"


def test_real_clock_by_default() -> None:
    key = signing_key()
    token = make_token(key, exp=int(time.time()) + 60, iat=int(time.time()))
    want = Expected(issuer=ISSUER, client_id="dropletbook", nonce="n-1", access_token="access-1")
    validate_id_token(token, jwks=jwks(key), expected=want)
