"""Client credentials grant, RFC 6749 §4.4: confidential clients acting for themselves."""

import asyncio
from typing import Any

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from services.authorization_server.tokens import read_access_token
from shared.errors import InvalidScopeError, OAuthError, UnauthorizedClientError
from tests.authorization_server.state import snapshot
from tests.factories import make_client


@pytest.fixture
def client(context: ServerContext) -> Client:
    return make_client(context, grant_types=("client_credentials",), redirect_uris=())[0]


def _exchange(context: ServerContext, client: Client, **form: str) -> dict[str, Any]:
    return asyncio.run(
        context.grants["client_credentials"].exchange(
            {"grant_type": "client_credentials", **form}, client
        )
    )


def test_token_is_for_the_client_itself(context: ServerContext, client: Client) -> None:
    before = snapshot(context.engine)
    body = _exchange(context, client, scope="read")
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["scope"]) == ("bearer", "read")
    claims = read_access_token(
        body["access_token"], keys=context.keys, issuer=context.settings.issuer
    )
    assert claims is not None
    assert claims["sub"] == claims["client_id"] == client.client_id
    assert claims["scope"] == "read"
    assert "email" not in claims  # no user behind a client-credentials token
    assert snapshot(context.engine) == before  # no refresh token, nothing stored


def test_default_scope_is_the_registered_scope(context: ServerContext, client: Client) -> None:
    assert _exchange(context, client)["scope"] == "read write"


@pytest.mark.parametrize(
    ("client_changes", "form", "error", "description"),
    [
        pytest.param(
            {"client_type": "public", "client_secret_hash": None},
            {},
            UnauthorizedClientError,
            "public clients may not use client_credentials",
            id="public-client",
        ),
        pytest.param(
            {"grant_types": ["authorization_code"]},
            {},
            UnauthorizedClientError,
            "client may not use the client_credentials grant",
            id="grant-not-registered",
        ),
        pytest.param(
            {}, {"scope": "admin"}, InvalidScopeError, "unknown scope: admin", id="unknown"
        ),
        pytest.param(
            {"scope": "read"},
            {"scope": "read write"},
            InvalidScopeError,
            "scope not allowed for this client: write",
            id="wider-than-registered",
        ),
    ],
)
def test_refused(
    context: ServerContext,
    client: Client,
    client_changes: dict[str, Any],
    form: dict[str, str],
    error: type[OAuthError],
    description: str,
) -> None:
    for name, value in client_changes.items():
        setattr(client, name, value)
    with pytest.raises(error) as caught:
        _exchange(context, client, **form)
    assert caught.value.description == description
