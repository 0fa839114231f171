"""Resource owner password credentials grant, RFC 6749 §4.3: trusted clients only."""

import asyncio
from typing import Any

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from services.authorization_server.tokens import read_access_token
from shared.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    UnauthorizedClientError,
)
from tests.authorization_server.state import snapshot
from tests.factories import PASSWORD, make_client, make_user


@pytest.fixture
def user(context: ServerContext) -> User:
    return make_user(context)


@pytest.fixture
def client(context: ServerContext) -> Client:
    return make_client(context, grant_types=("password", "refresh_token"), trusted=True)[0]


def _exchange(context: ServerContext, client: Client, **form: str) -> dict[str, Any]:
    return asyncio.run(
        context.grants["password"].exchange({"grant_type": "password", **form}, client)
    )


def test_trusted_client_gets_tokens(context: ServerContext, client: Client, user: User) -> None:
    body = _exchange(context, client, username="alice@example.com", password=PASSWORD)
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "info",
    }
    assert body["scope"] == context.settings.default_scope
    assert body["info"] == {"name": "Alice", "email": "alice@example.com", "uuid": user.id}
    claims = read_access_token(
        body["access_token"], keys=context.keys, issuer=context.settings.issuer
    )
    assert claims is not None
    assert (claims["sub"], claims["client_id"]) == (user.id, client.client_id)
    assert claims["email"] == "alice@example.com"
    refreshed = asyncio.run(
        context.grants["refresh_token"].exchange(
            {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, client
        )
    )
    assert refreshed["info"]["uuid"] == user.id


def test_username_is_the_email_in_any_case(
    context: ServerContext, client: Client, user: User
) -> None:
    body = _exchange(
        context, client, username=" Alice@Example.com ", password=PASSWORD, scope="read write"
    )
    assert body["scope"] == "read write"


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        pytest.param(
            {"username": "alice@example.com", "password": "wrong password"},
            InvalidGrantError,
            "invalid username or password",
            id="wrong-password",
        ),
        pytest.param(
            {"username": "bob@example.com", "password": PASSWORD},
            InvalidGrantError,
            "invalid username or password",
            id="unknown-user",
        ),
        pytest.param(
            {"username": "alice@example.com", "password": "x" * 5000},
            InvalidGrantError,
            "invalid username or password",
            id="huge-password",
        ),
        pytest.param(
            {"password": PASSWORD},
            InvalidRequestError,
            "missing parameter: username",
            id="no-username",
        ),
        pytest.param(
            {"username": "alice@example.com"},
            InvalidRequestError,
            "missing parameter: password",
            id="no-password",
        ),
        pytest.param(
            {"username": "alice@example.com", "password": PASSWORD, "scope": "admin"},
            InvalidScopeError,
            "unknown scope: admin",
            id="unknown-scope",
        ),
    ],
)
def test_refused_and_nothing_stored(
    context: ServerContext,
    client: Client,
    user: User,
    form: dict[str, str],
    error: type[OAuthError],
    description: str,
) -> None:
    before = snapshot(context.engine)
    with pytest.raises(error) as caught:
        _exchange(context, client, **form)
    assert caught.value.description == description
    assert snapshot(context.engine) == before


def test_untrusted_client_is_refused(context: ServerContext, client: Client, user: User) -> None:
    client.trusted = False
    with pytest.raises(UnauthorizedClientError) as caught:
        _exchange(context, client, username="alice@example.com", password=PASSWORD)
    assert caught.value.description == "the password grant is only for trusted clients"


def test_client_without_the_grant_is_refused(context: ServerContext, user: User) -> None:
    client, _ = make_client(context, trusted=True)
    with pytest.raises(UnauthorizedClientError):
        _exchange(context, client, username="alice@example.com", password=PASSWORD)
