"""shared.jwt: RFC 9068 access tokens signed and verified per RFC 8725."""

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import InvalidTokenError
from shared.jwt import (
    SigningKey,
    generate_private_pem,
    load_signing_key,
    public_jwk,
    sign_jwt,
    verification_key,
    verify_jwt,
)

ISSUER = "https://as.example"
AUDIENCE = "https://rs.example"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _key(algorithm: str = "ES256", kid: str = "k1") -> SigningKey:
    return load_signing_key(
        kid=kid, algorithm=algorithm, private_pem=generate_private_pem(algorithm)
    )


@pytest.fixture(scope="module")
def es256() -> SigningKey:
    return _key("ES256")


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": AUDIENCE,
        "client_id": "client-1",
        "scope": "read",
        "iat": now,
        "exp": now + 300,
        "jti": "jti-1",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _verify(token: str, key: SigningKey, **kwargs: Any) -> dict[str, Any]:
    verifier = verification_key(public_jwk(key), algorithms=("ES256", "RS256"))
    options: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE, **kwargs}
    return verify_jwt(token, key=verifier, **options)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_sign_and_verify_round_trip(algorithm: str) -> None:
    key = _key(algorithm)
    claims = _claims()
    assert _verify(sign_jwt(claims, key=key), key) == claims


def test_header_carries_kid_and_at_jwt_type(es256: SigningKey) -> None:
    header = json.loads(
        base64.urlsafe_b64decode(sign_jwt(_claims(), key=es256).split(".")[0] + "==")
    )
    assert header == {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}


def test_public_jwk_has_no_private_members() -> None:
    for algorithm in ("ES256", "RS256"):
        document = public_jwk(_key(algorithm, kid="pub"))
        assert not PRIVATE_MEMBERS & set(document)
        assert document["kid"] == "pub"
        assert document["alg"] == algorithm
        assert document["use"] == "sig"


# Overrides as functions of "now", so that the tokens are built when the test runs.
@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        pytest.param(
            lambda now: {"iss": "https://evil.example"}, "token issuer invalid", id="issuer"
        ),
        pytest.param(
            lambda now: {"aud": "https://other.example"}, "token audience invalid", id="audience"
        ),
        pytest.param(lambda now: {"exp": now - 120}, "token expired", id="expired"),
        pytest.param(lambda now: {"nbf": now + 600}, "token not yet valid", id="not-before-future"),
        pytest.param(lambda now: {"jti": None}, "token lacks required claims", id="no-jti"),
        pytest.param(
            lambda now: {"client_id": None}, "token lacks required claims", id="no-client-id"
        ),
        pytest.param(lambda now: {"sub": None}, "token lacks required claims", id="no-sub"),
        pytest.param(lambda now: {"exp": None}, "token signature or format invalid", id="no-exp"),
    ],
)
def test_claims_are_checked(
    es256: SigningKey, overrides: Callable[[int], dict[str, Any]], description: str
) -> None:
    token = sign_jwt(_claims(**overrides(int(time.time()))), key=es256)
    with pytest.raises(InvalidTokenError) as caught:
        _verify(token, es256)
    assert caught.value.description == description


def test_expiry_leeway_applies(es256: SigningKey) -> None:
    token = sign_jwt(_claims(exp=int(time.time()) - 10), key=es256)
    assert _verify(token, es256, leeway=30)["sub"] == "user-1"
    with pytest.raises(InvalidTokenError, match="expired"):
        _verify(token, es256, leeway=0)


def test_wrong_typ_is_refused(es256: SigningKey) -> None:
    token = sign_jwt(_claims(), key=es256, typ="JWT")
    with pytest.raises(InvalidTokenError) as caught:
        _verify(token, es256)
    assert caught.value.description == "token type is not at+jwt"


def test_signature_from_another_key_is_refused(es256: SigningKey) -> None:
    token = sign_jwt(_claims(), key=_key("ES256", kid="k1"))
    with pytest.raises(InvalidTokenError) as caught:
        _verify(token, es256)
    assert caught.value.description == "token signature or format invalid"


def test_tampered_payload_is_refused(es256: SigningKey) -> None:
    header, _, signature = sign_jwt(_claims(), key=es256).split(".")
    forged = f"{header}.{_b64(_claims(sub='admin'))}.{signature}"
    with pytest.raises(InvalidTokenError):
        _verify(forged, es256)


def test_algorithm_comes_from_the_key_not_the_token(es256: SigningKey) -> None:
    rsa_token = sign_jwt(_claims(), key=_key("RS256", kid="k1"))
    with pytest.raises(InvalidTokenError) as caught:
        _verify(rsa_token, es256)
    assert caught.value.description == "token algorithm not accepted"


def test_alg_none_is_refused(es256: SigningKey) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': 'k1'})}.{_b64(_claims())}."
    with pytest.raises(InvalidTokenError):
        _verify(unsigned, es256)


def test_token_for_another_kid_is_refused(es256: SigningKey) -> None:
    """`kid` is required, and only the key it names verifies the token."""
    other_kid = load_signing_key(kid="k2", algorithm="ES256", private_pem=_pem(es256))
    token = sign_jwt(_claims(), key=other_kid)
    with pytest.raises(InvalidTokenError) as caught:
        _verify(token, es256)
    assert caught.value.description == "token kid invalid"


def test_token_without_kid_is_refused(es256: SigningKey) -> None:
    signing_input = f"{_b64({'alg': 'ES256', 'typ': 'at+jwt'})}.{_b64(_claims())}"
    signature = base64.urlsafe_b64encode(es256.key.sign(signing_input.encode()))
    token = f"{signing_input}.{signature.rstrip(b'=').decode()}"
    with pytest.raises(InvalidTokenError) as caught:
        _verify(token, es256)
    assert caught.value.description == "token kid invalid"


def _pem(key: SigningKey) -> str:
    pem: bytes = key.key.to_pem()
    return pem.decode()


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "ey.ey.ey"])
def test_malformed_tokens_are_refused(es256: SigningKey, garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        _verify(garbage, es256)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"kid": None}, id="no-kid"),
        pytest.param({"alg": "HS256"}, id="alg-not-allowed"),
        pytest.param({"kty": "oct", "k": "c2VjcmV0"}, id="symmetric"),
        pytest.param({"d": "c2VjcmV0"}, id="private-member"),
        pytest.param({"use": "enc"}, id="encryption-key"),
    ],
)
def test_verification_key_refuses_unsafe_jwks(es256: SigningKey, change: dict[str, Any]) -> None:
    document: dict[str, Any] = {**public_jwk(es256), **change}
    document = {name: value for name, value in document.items() if value is not None}
    with pytest.raises(ValueError):
        verification_key(document, algorithms=("ES256",))


def test_unsupported_signing_algorithm() -> None:
    with pytest.raises(ValueError):
        generate_private_pem("HS256")
