"""JwksCache: discovery, key parsing, refetch on an unknown kid and its rate limit."""

import asyncio

import httpx
import pytest

from shared.jwks import JwksCache, JwksFetchError
from shared.jwt import SigningKey, public_jwk
from tests.resource_server.conftest import ISSUER, FakeAuthorizationServer, new_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(
    fake: FakeAuthorizationServer, *, clock: Clock | None = None, **kwargs: object
) -> JwksCache:
    http = httpx.AsyncClient(transport=fake.transport)
    return JwksCache(http, issuer=ISSUER, clock=clock or Clock(), **kwargs)  # type: ignore[arg-type]


def test_refresh_discovers_jwks_uri_and_parses_keys(
    fake_as: FakeAuthorizationServer, signing_key: SigningKey, rsa_key: SigningKey
) -> None:
    cache = _cache(fake_as)
    asyncio.run(cache.refresh())
    assert cache.kids == {signing_key.kid, rsa_key.kid}
    assert fake_as.hits["/.well-known/oauth-authorization-server"] == 1
    assert fake_as.hits["/.well-known/jwks.json"] == 1
    key = cache.get(signing_key.kid)
    assert key is not None and key.algorithm == "ES256"


def test_internal_url_is_used_for_fetching() -> None:
    fake = FakeAuthorizationServer([new_key()])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return fake.handle(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    cache = JwksCache(http, issuer=ISSUER, internal_url="http://authorization-server:8000")
    asyncio.run(cache.refresh())
    assert seen == [
        "http://authorization-server:8000/.well-known/oauth-authorization-server",
        "http://authorization-server:8000/.well-known/jwks.json",
    ]
    feed = cache.endpoint("revoked_tokens_endpoint", "/unused")
    assert feed == "http://authorization-server:8000/v1/oauth/revoked-tokens"


def test_metadata_with_another_issuer_is_refused() -> None:
    fake = FakeAuthorizationServer([new_key()], issuer="http://evil.test")
    http = httpx.AsyncClient(transport=fake.transport)
    cache = JwksCache(http, issuer=ISSUER)
    with pytest.raises(JwksFetchError, match="issuer"):
        asyncio.run(cache.refresh())
    assert cache.kids == frozenset()


@pytest.mark.parametrize(
    "bad_key",
    [
        pytest.param({"kty": "oct", "k": "c2VjcmV0", "kid": "sym", "alg": "HS256"}, id="symmetric"),
        pytest.param({"kty": "EC", "crv": "P-256", "kid": "noalg"}, id="no-alg"),
        pytest.param({"kty": "RSA", "kid": "enc", "alg": "RS256", "use": "enc"}, id="enc-key"),
        pytest.param({"alg": "ES256", "kty": "EC"}, id="no-kid"),
        pytest.param("not-an-object", id="not-object"),
    ],
)
def test_unusable_keys_are_skipped(
    fake_as: FakeAuthorizationServer, signing_key: SigningKey, bad_key: object
) -> None:
    fake_as.jwks = {"keys": [bad_key, public_jwk(signing_key)]}
    cache = _cache(fake_as)
    asyncio.run(cache.refresh())
    assert cache.kids == {signing_key.kid}


def test_private_key_material_is_refused(signing_key: SigningKey) -> None:
    private = {**signing_key.key.to_dict(), "kid": "leaked", "alg": "ES256"}
    assert "d" in private
    fake = FakeAuthorizationServer([])
    fake.jwks = {"keys": [private]}
    cache = _cache(fake)
    asyncio.run(cache.refresh())
    assert cache.kids == frozenset()


def test_unchanged_keys_keep_their_parsed_object(
    fake_as: FakeAuthorizationServer, signing_key: SigningKey
) -> None:
    cache = _cache(fake_as)
    asyncio.run(cache.refresh())
    first = cache.get(signing_key.kid)
    asyncio.run(cache.refresh())
    assert cache.get(signing_key.kid) is first


def test_unknown_kid_refetches_once_then_rate_limits(signing_key: SigningKey) -> None:
    fake = FakeAuthorizationServer([signing_key])
    clock = Clock()
    cache = _cache(fake, clock=clock, refetch_min_interval=10.0)
    asyncio.run(cache.refresh())
    rotated = new_key()
    fake.publish(signing_key, rotated)

    async def burst() -> list[object]:
        forged = [cache.key_for(f"forged-{n}") for n in range(50)]
        return await asyncio.gather(cache.key_for(rotated.kid), *forged)

    clock.now += 10.0
    found, *others = asyncio.run(burst())
    assert found is not None and found.kid == rotated.kid  # one refetch found the new key
    assert others == [None] * 50
    assert fake.hits["/.well-known/jwks.json"] == 2  # the start, and one refetch for 51 tokens

    clock.now += 9.0  # still inside the interval: no new fetch
    assert asyncio.run(cache.key_for("forged-again")) is None
    assert fake.hits["/.well-known/jwks.json"] == 2
    clock.now += 1.0
    assert asyncio.run(cache.key_for("forged-again")) is None
    assert fake.hits["/.well-known/jwks.json"] == 3


def test_cached_keys_survive_an_unreachable_server(
    fake_as: FakeAuthorizationServer, signing_key: SigningKey
) -> None:
    clock = Clock()
    cache = _cache(fake_as, clock=clock, refetch_min_interval=0)
    asyncio.run(cache.refresh())
    fake_as.down = True
    with pytest.raises(JwksFetchError):
        asyncio.run(cache.refresh())
    assert cache.get(signing_key.kid) is not None
    assert asyncio.run(cache.key_for(signing_key.kid)) is not None
    assert asyncio.run(cache.key_for("never-seen")) is None  # refused, not an exception


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(500, text="oops"), id="http-500"),
        pytest.param(httpx.Response(200, text="<html>"), id="not-json"),
        pytest.param(httpx.Response(200, json=["keys"]), id="not-object"),
        pytest.param(httpx.Response(200, json={"keys": "x"}), id="keys-not-list"),
    ],
)
def test_bad_jwks_documents_keep_the_cached_keys(
    fake_as: FakeAuthorizationServer, signing_key: SigningKey, response: httpx.Response
) -> None:
    cache = _cache(fake_as)
    asyncio.run(cache.refresh())

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("jwks.json"):
            return response
        return fake_as.handle(request)

    cache._http = httpx.AsyncClient(transport=httpx.MockTransport(broken))
    with pytest.raises(JwksFetchError):
        asyncio.run(cache.refresh())
    assert signing_key.kid in cache.kids
