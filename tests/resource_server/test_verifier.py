"""TokenVerifier: every check of RFC 9068 §4, and the verified-token cache."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from services.resource_server.errors import RevocationListStaleError
from services.resource_server.revocation import RevokedTokens
from services.resource_server.verifier import AccessTokenClaims, TokenVerifier
from shared.errors import InvalidTokenError
from shared.jwks import JwksCache
from shared.jwt import SigningKey, sign_jwt
from tests.resource_server.conftest import (
    AUDIENCE,
    ISSUER,
    FakeAuthorizationServer,
    claims_for,
    make_token,
    new_key,
    public_pem,
    unsigned_token,
)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self, fake: FakeAuthorizationServer, *, cache_size: int = 100) -> None:
        self.fake = fake
        self.clock = Clock()
        self.keys = JwksCache(
            httpx.AsyncClient(transport=fake.transport),
            issuer=ISSUER,
            refetch_min_interval=0,
        )
        self.revoked = RevokedTokens()
        self.verifier = TokenVerifier(
            keys=self.keys,
            revoked=self.revoked,
            issuer=ISSUER,
            audience=AUDIENCE,
            algorithms=("ES256", "RS256"),
            leeway=5,
            cache_size=cache_size,
            clock=self.clock,
        )

    def verify(self, token: str) -> AccessTokenClaims:
        return asyncio.run(self.verifier.verify(token))

    def refuse(self, token: str) -> str:
        with pytest.raises(InvalidTokenError) as caught:
            self.verify(token)
        assert caught.value.status_code == 401
        return caught.value.description or ""


@pytest.fixture
def harness(fake_as: FakeAuthorizationServer) -> Harness:
    return Harness(fake_as)


def test_valid_es256_token(harness: Harness, signing_key: SigningKey) -> None:
    token = make_token(signing_key, sub="user-1", scope="read", email="a@example.com")
    claims = harness.verify(token)
    assert claims.sub == "user-1"
    assert claims.scope == {"read"}
    assert claims.email == "a@example.com"
    assert not claims.is_client_token


def test_valid_rs256_token_and_client_token(harness: Harness, rsa_key: SigningKey) -> None:
    claims = harness.verify(make_token(rsa_key, sub="app-1", client_id="app-1"))
    assert claims.is_client_token


def test_typ_with_media_type_prefix_is_accepted(harness: Harness, signing_key: SigningKey) -> None:
    assert harness.verify(make_token(signing_key, typ="application/at+jwt")).jti


def _tampered(key: SigningKey) -> str:
    header, payload, signature = make_token(key, scope="read").split(".")
    forged = sign_jwt(claims_for(scope="read write"), key=key).split(".")[1]
    assert forged != payload
    return f"{header}.{forged}.{signature}"


def _hs256_with_public_key(key: SigningKey) -> str:
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    return unsigned_token(header, claims_for(), secret=public_pem(key))


def _alg_none(key: SigningKey) -> str:
    return unsigned_token({"alg": "none", "typ": "at+jwt", "kid": key.kid}, claims_for())


def _es256_header_on_rsa_key(key: SigningKey, rsa: SigningKey) -> str:
    """A token signed by the ES256 key but naming the RSA key's kid."""
    other = replace(key, kid=rsa.kid)
    return sign_jwt(claims_for(), key=other)


def _signed_by_unpublished_key(_: SigningKey) -> str:
    return make_token(new_key(kid="es-key-1"))  # same kid as the real key, other key


def _now() -> int:
    """Read when a token is built: the suite can run for longer than these offsets."""
    return int(time.time())


BAD_TOKENS: list[Any] = [
    pytest.param(lambda k, r: "not-a-jwt", "malformed token", id="malformed"),
    pytest.param(lambda k, r: _alg_none(k), "token algorithm not accepted", id="alg-none"),
    pytest.param(
        lambda k, r: _hs256_with_public_key(k),
        "token algorithm not accepted",
        id="hs256-public-key-as-secret",
    ),
    pytest.param(lambda k, r: _tampered(k), "token signature or format invalid", id="tampered"),
    pytest.param(
        lambda k, r: _signed_by_unpublished_key(k),
        "token signature or format invalid",
        id="forged-signature-same-kid",
    ),
    pytest.param(
        lambda k, r: _es256_header_on_rsa_key(k, r),
        "token algorithm not accepted",
        id="alg-does-not-match-key",
    ),
    pytest.param(
        lambda k, r: make_token(new_key(kid="unknown-kid")),
        "token signed with an unknown key",
        id="unknown-kid",
    ),
    pytest.param(
        lambda k, r: sign_jwt(claims_for(), key=replace(k, kid="")),
        "token has no key id",
        id="no-kid",
    ),
    pytest.param(
        lambda k, r: make_token(k, iss="http://evil.test"), "token issuer invalid", id="wrong-iss"
    ),
    pytest.param(
        lambda k, r: make_token(k, aud="http://other-api.test"),
        "token audience invalid",
        id="wrong-aud",
    ),
    pytest.param(
        lambda k, r: make_token(k, iat=_now() - 600, exp=_now() - 60), "token expired", id="expired"
    ),
    pytest.param(
        lambda k, r: make_token(k, nbf=_now() + 600), "token not yet valid", id="not-yet-valid"
    ),
    pytest.param(
        lambda k, r: make_token(k, iat=_now() + 600, exp=_now() + 900),
        "token issued in the future",
        id="iat-in-future",
    ),
    pytest.param(lambda k, r: make_token(k, typ="JWT"), "token type is not at+jwt", id="typ-jwt"),
    pytest.param(
        lambda k, r: make_token(k, typ="id_token+jwt"), "token type is not at+jwt", id="typ-other"
    ),
    pytest.param(lambda k, r: make_token(k, jti=None), "token lacks required claims", id="no-jti"),
    pytest.param(
        lambda k, r: make_token(k, client_id=None), "token lacks required claims", id="no-client"
    ),
    pytest.param(lambda k, r: make_token(k, sub=42), "token claims invalid", id="sub-not-string"),
    pytest.param(lambda k, r: make_token(k, scope=7), "token scope invalid", id="scope-not-str"),
    pytest.param(
        lambda k, r: make_token(k, scope='read "x"'), "token scope invalid", id="scope-syntax"
    ),
]


@pytest.mark.parametrize(("build", "description"), BAD_TOKENS)
def test_bad_tokens_are_refused(
    harness: Harness,
    signing_key: SigningKey,
    rsa_key: SigningKey,
    build: Callable[[SigningKey, SigningKey], str],
    description: str,
) -> None:
    assert harness.refuse(build(signing_key, rsa_key)) == description


def test_leeway_tolerates_small_clock_skew(harness: Harness, signing_key: SigningKey) -> None:
    now = int(time.time())
    assert harness.verify(make_token(signing_key, iat=now + 3, nbf=now + 3)).jti


def test_repeat_request_is_served_from_the_cache(harness: Harness, signing_key: SigningKey) -> None:
    token = make_token(signing_key)
    first = harness.verify(token)
    harness.fake.down = True  # not even the keys are needed again
    assert harness.verify(token) is first
    assert harness.verifier.cached == 1


def test_cache_hit_rechecks_expiry(harness: Harness, signing_key: SigningKey) -> None:
    token = make_token(signing_key, exp=int(time.time()) + 30)
    harness.verify(token)
    harness.clock.now += 36  # past exp + leeway (5 s)
    assert harness.refuse(token) == "token expired"
    assert harness.verifier.cached == 0


def test_cache_hit_rechecks_revocation(harness: Harness, signing_key: SigningKey) -> None:
    token = make_token(signing_key, jti="jti-to-revoke")
    harness.verify(token)
    harness.revoked.replace([("jti-to-revoke", int(time.time()) + 300)])
    assert harness.refuse(token) == "token revoked"


def test_revoked_token_is_refused_on_first_sight(harness: Harness, signing_key: SigningKey) -> None:
    harness.revoked.replace([("revoked-jti", int(time.time()) + 300)])
    assert harness.refuse(make_token(signing_key, jti="revoked-jti")) == "token revoked"
    assert harness.verifier.cached == 0


def test_tokens_of_a_deleted_client_are_refused_on_first_sight_and_on_cache_hits(
    harness: Harness, signing_key: SigningKey
) -> None:
    now = int(time.time())
    cached = make_token(signing_key, client_id="deleted-app", sub="deleted-app", iat=now - 60)
    harness.verify(cached)
    harness.revoked.replace([], [("deleted-app", now, now + 3600, 0)])
    assert harness.refuse(cached) == "token revoked"  # cache hit
    unseen = make_token(signing_key, client_id="deleted-app", sub="deleted-app", iat=now)
    assert harness.refuse(unseen) == "token revoked"  # iat == revoked_at: issued before it
    assert harness.verifier.cached == 1
    other = make_token(signing_key, client_id="other-app", sub="other-app", iat=now - 60)
    assert harness.verify(other).client_id == "other-app"


def test_a_client_id_registered_again_keeps_its_new_tokens(
    harness: Harness, signing_key: SigningKey
) -> None:
    now = int(time.time())
    harness.revoked.replace([], [("seeded-app", now - 10, now + 3600, 0)])
    assert harness.refuse(make_token(signing_key, client_id="seeded-app", iat=now - 10)) == (
        "token revoked"
    )
    newer = make_token(signing_key, client_id="seeded-app", iat=now - 9)
    assert harness.verify(newer).client_id == "seeded-app"
    assert harness.verify(newer).client_id == "seeded-app"  # and on the cache hit


def test_cache_hit_rechecks_that_the_key_is_still_published(
    harness: Harness, signing_key: SigningKey, rsa_key: SigningKey
) -> None:
    token = make_token(signing_key)
    harness.verify(token)
    harness.fake.publish(rsa_key)  # the ES256 key is withdrawn
    asyncio.run(harness.keys.refresh())
    assert harness.refuse(token) == "token signed with an unknown key"


def test_tampered_copy_of_a_cached_token_misses_the_cache(
    harness: Harness, signing_key: SigningKey
) -> None:
    token = make_token(signing_key)
    harness.verify(token)
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert harness.refuse(f"{header}.{payload}.{flipped}") == "token signature or format invalid"


def test_cache_is_bounded(fake_as: FakeAuthorizationServer, signing_key: SigningKey) -> None:
    harness = Harness(fake_as, cache_size=3)
    tokens = [make_token(signing_key) for _ in range(5)]
    for token in tokens:
        harness.verify(token)
    assert harness.verifier.cached == 3
    assert all(harness.verify(token).jti for token in tokens)  # evicted ones verify again


def test_rotated_key_is_found_by_one_refetch(harness: Harness, signing_key: SigningKey) -> None:
    asyncio.run(harness.keys.refresh())
    rotated = new_key(kid="es-key-2")
    harness.fake.publish(signing_key, rotated)
    before = harness.fake.hits["/.well-known/jwks.json"]
    assert harness.verify(make_token(rotated)).jti
    assert harness.fake.hits["/.well-known/jwks.json"] == before + 1


def _stale_harness(fake: FakeAuthorizationServer, max_age: float) -> Harness:
    harness = Harness(fake)
    harness.revoked = RevokedTokens(clock=harness.clock)
    harness.verifier = TokenVerifier(
        keys=harness.keys,
        revoked=harness.revoked,
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=("ES256",),
        leeway=5,
        cache_size=100,
        max_revocation_age=max_age,
        clock=harness.clock,
    )
    return harness


def test_a_valid_token_is_refused_while_the_revocation_list_is_too_old(
    fake_as: FakeAuthorizationServer, signing_key: SigningKey
) -> None:
    harness = _stale_harness(fake_as, max_age=30)
    harness.revoked.replace([])
    token = make_token(signing_key)
    harness.verify(token)
    harness.clock.now += 31
    with pytest.raises(RevocationListStaleError) as refused:  # on a cache hit
        harness.verify(token)
    assert refused.value.status_code == 503
    assert refused.value.headers() == {"Retry-After": "30"}
    with pytest.raises(RevocationListStaleError):  # and on a full verification
        harness.verify(make_token(signing_key))
    with pytest.raises(InvalidTokenError):  # a bad token is still a bad token
        harness.verify(make_token(new_key(kid="es-key-1")))
    harness.revoked.replace([])  # a successful poll
    assert harness.verify(token).jti


def test_without_the_limit_a_stale_list_refuses_nothing(
    harness: Harness, signing_key: SigningKey
) -> None:
    harness.revoked.updated_at = time.time() - 3600
    assert harness.verify(make_token(signing_key)).jti
