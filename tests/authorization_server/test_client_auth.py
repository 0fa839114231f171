"""Client authentication, RFC 6749 §2.3: secret_basic, secret_post and none."""

import asyncio
import base64
from collections.abc import Awaitable, Callable

import pytest

from services.authorization_server.client_auth import (
    ClientCache,
    ClientCredentials,
    RegisteredClient,
    authenticate,
    read_credentials,
)
from services.authorization_server.models import Client
from shared.crypto import hash_token
from shared.errors import InvalidClientError, InvalidRequestError, OAuthError

SECRET = "s3cret-value"
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="oauth", charset="UTF-8"'}


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _confidential_record() -> Client:
    return Client(client_id="conf", name="C", client_secret_hash=hash_token(SECRET))


def _confidential() -> RegisteredClient:
    return RegisteredClient.of(_confidential_record())


def _public() -> RegisteredClient:
    return RegisteredClient.of(Client(client_id="pub", name="P", client_type="public"))


@pytest.mark.parametrize(
    ("form", "authorization", "expected"),
    [
        pytest.param(
            {},
            _basic("conf", SECRET),
            ClientCredentials("conf", SECRET, "client_secret_basic"),
            id="basic",
        ),
        pytest.param(
            {"client_id": "conf"},
            _basic("conf", SECRET),
            ClientCredentials("conf", SECRET, "client_secret_basic"),
            id="basic-with-matching-client_id",
        ),
        pytest.param(
            {"client_id": "conf", "client_secret": SECRET},
            None,
            ClientCredentials("conf", SECRET, "client_secret_post"),
            id="post",
        ),
        pytest.param({"client_id": "pub"}, None, ClientCredentials("pub", None, "none"), id="none"),
    ],
)
def test_read_credentials(
    form: dict[str, str], authorization: str | None, expected: ClientCredentials
) -> None:
    assert read_credentials(form, authorization) == expected


@pytest.mark.parametrize(
    ("form", "authorization", "error", "headers"),
    [
        pytest.param({}, None, InvalidClientError, BASIC_CHALLENGE, id="no-credentials"),
        pytest.param(
            {"client_secret": SECRET}, None, InvalidClientError, BASIC_CHALLENGE, id="secret-alone"
        ),
        pytest.param(
            {"client_secret": SECRET},
            _basic("conf", SECRET),
            InvalidRequestError,
            {},
            id="two-methods",
        ),
        pytest.param(
            {"client_id": "other"},
            _basic("conf", SECRET),
            InvalidClientError,
            BASIC_CHALLENGE,
            id="client_id-mismatch",
        ),
        pytest.param({}, "Bearer abc", InvalidClientError, BASIC_CHALLENGE, id="bearer-scheme"),
    ],
)
def test_read_credentials_refuses(
    form: dict[str, str],
    authorization: str | None,
    error: type[OAuthError],
    headers: dict[str, str],
) -> None:
    with pytest.raises(error) as caught:
        read_credentials(form, authorization)
    assert caught.value.headers() == headers


def test_authenticate_confidential_client() -> None:
    client = _confidential()
    for method in ("client_secret_basic", "client_secret_post"):
        assert authenticate(ClientCredentials("conf", SECRET, method), client) is client


def test_authenticate_public_client() -> None:
    client = _public()
    assert authenticate(ClientCredentials("pub", None, "none"), client) is client


@pytest.mark.parametrize(
    ("credentials", "client", "challenge"),
    [
        pytest.param(
            ClientCredentials("conf", "wrong", "client_secret_basic"),
            _confidential(),
            True,
            id="wrong-secret-basic",
        ),
        pytest.param(
            ClientCredentials("conf", "wrong", "client_secret_post"),
            _confidential(),
            False,
            id="wrong-secret-post",
        ),
        pytest.param(
            ClientCredentials("conf", SECRET[:-1], "client_secret_post"),
            _confidential(),
            False,
            id="secret-prefix",
        ),
        pytest.param(
            ClientCredentials("nobody", SECRET, "client_secret_basic"),
            None,
            True,
            id="unknown-client-basic",
        ),
        pytest.param(
            ClientCredentials("nobody", SECRET, "client_secret_post"),
            None,
            False,
            id="unknown-client-post",
        ),
        pytest.param(
            ClientCredentials("conf", None, "none"),
            _confidential(),
            True,
            id="confidential-without-secret",
        ),
        pytest.param(
            ClientCredentials("pub", "anything", "client_secret_post"),
            _public(),
            False,
            id="public-with-secret",
        ),
        pytest.param(
            ClientCredentials("conf", SECRET, "client_secret_post"),
            RegisteredClient.of(Client(client_id="conf", name="C", client_secret_hash=None)),
            False,
            id="confidential-without-stored-secret",
        ),
    ],
)
def test_authenticate_refuses(
    credentials: ClientCredentials, client: RegisteredClient | None, challenge: bool
) -> None:
    with pytest.raises(InvalidClientError) as caught:
        authenticate(credentials, client)
    assert caught.value.status_code == 401
    assert caught.value.headers() == (BASIC_CHALLENGE if challenge else {})


def test_stored_digest_is_not_a_secret() -> None:
    """Presenting the stored digest itself must not authenticate."""
    client = _confidential()
    assert client.client_secret_hash is not None
    with pytest.raises(InvalidClientError):
        authenticate(
            ClientCredentials("conf", client.client_secret_hash, "client_secret_post"), client
        )


def _returning(record: Client) -> Callable[[str], Awaitable[Client | None]]:
    async def load(_: str) -> Client | None:
        return record

    return load


def test_client_cache_keeps_hits_for_ttl_and_forgets_on_invalidate() -> None:
    loads: list[str] = []

    async def load(client_id: str) -> Client | None:
        loads.append(client_id)
        return _confidential_record() if client_id == "conf" else None

    cache = ClientCache(load, ttl=60)
    assert cache.cached("conf") is None
    loaded = asyncio.run(cache.load("conf"))
    assert cache.cached("conf") is loaded
    assert asyncio.run(cache.load("nobody")) is None
    assert cache.cached("nobody") is None  # misses are never cached
    cache.invalidate("conf")
    assert cache.cached("conf") is None
    assert loads == ["conf", "nobody"]


def test_client_cache_holds_an_immutable_copy_of_the_registration() -> None:
    """Later edits of the database row never leak into a cached entry: only `invalidate`
    (which every edit in this process calls) or the TTL brings them in."""
    record = Client(
        client_id="conf",
        name="C",
        client_secret_hash=hash_token(SECRET),
        grant_types=["client_credentials"],
        scope="read",
        trusted=True,
    )
    cache = ClientCache(_returning(record), ttl=60)
    loaded = asyncio.run(cache.load("conf"))
    assert loaded == RegisteredClient(
        client_id="conf",
        client_secret_hash=hash_token(SECRET),
        client_type="confidential",
        grant_types=frozenset({"client_credentials"}),
        scope="read",
        trusted=True,
    )
    record.grant_types.append("password")
    record.scope = "read write"
    assert cache.cached("conf") == loaded
    assert loaded is not None and loaded.grant_types == {"client_credentials"}
    with pytest.raises(AttributeError):
        loaded.scope = "write"  # type: ignore[misc]


def test_client_cache_disabled_with_zero_ttl() -> None:
    cache = ClientCache(_returning(_confidential_record()), ttl=0)
    asyncio.run(cache.load("conf"))
    assert cache.cached("conf") is None
