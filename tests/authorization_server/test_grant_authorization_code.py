"""Authorization code grant, RFC 6749 §4.1.3 with PKCE: single use, bound, short-lived."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.models import AuthorizationCode, Client, User
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import (
    InvalidGrantError,
    InvalidRequestError,
    OAuthError,
    UnauthorizedClientError,
)
from tests.authorization_server.state import revoked_jtis, snapshot
from tests.factories import VERIFIER, make_auth_code, make_client, make_user

REDIRECT_URI = "http://127.0.0.1:8080/callback"


@pytest.fixture
def user(context: ServerContext) -> User:
    return make_user(context)


@pytest.fixture
def client(context: ServerContext) -> Client:
    return make_client(context)[0]


def _exchange(context: ServerContext, client: Client, **form: str) -> dict[str, Any]:
    return asyncio.run(
        context.grants["authorization_code"].exchange(
            {"grant_type": "authorization_code", **form}, client
        )
    )


def _form(code_value: str, **overrides: str | None) -> dict[str, str]:
    form = {
        "code": code_value,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": VERIFIER,
        **overrides,
    }
    return {name: value for name, value in form.items() if value is not None}


def test_code_is_exchanged_for_tokens(context: ServerContext, client: Client, user: User) -> None:
    code = make_auth_code(context, client=client, user=user, scope="read write")
    body = _exchange(context, client, **_form(code))
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "info",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == context.settings.access_token_ttl
    assert body["scope"] == "read write"
    assert body["info"] == {"name": "Alice", "email": "alice@example.com", "uuid": user.id}
    claims = read_access_token(
        body["access_token"], keys=context.keys, issuer=context.settings.issuer
    )
    assert claims is not None
    assert claims["sub"] == user.id
    assert claims["client_id"] == client.client_id
    assert claims["aud"] == context.settings.resource_audience
    assert claims["scope"] == "read write"
    assert claims["exp"] - claims["iat"] == context.settings.access_token_ttl


def test_no_refresh_token_unless_the_client_may_refresh(context: ServerContext, user: User) -> None:
    client, _ = make_client(context, grant_types=("authorization_code",))
    body = _exchange(context, client, **_form(make_auth_code(context, client=client, user=user)))
    assert "refresh_token" not in body


def test_code_lives_at_most_ten_minutes(context: ServerContext, client: Client, user: User) -> None:
    before = utcnow()
    code = make_auth_code(context, client=client, user=user)
    with Session(context.engine) as session:
        stored = session.get(AuthorizationCode, hash_token(code))
        assert stored is not None
        assert stored.expires_at <= before + timedelta(minutes=10, seconds=1)
        assert stored.consumed_at is None
        assert stored.client_id == client.client_id
        assert stored.redirect_uri == REDIRECT_URI
    assert context.settings.authorization_code_ttl <= 600
    with pytest.raises(ValueError):
        type(context.settings)(authorization_code_ttl=601)


def test_expired_code_is_refused(context: ServerContext, client: Client, user: User) -> None:
    code = make_auth_code(context, client=client, user=user, ttl=-1)
    before = snapshot(context.engine)
    with pytest.raises(InvalidGrantError, match="expired"):
        _exchange(context, client, **_form(code))
    assert snapshot(context.engine) == before


def test_code_is_single_use_and_replay_revokes_what_it_issued(
    context: ServerContext, client: Client, user: User
) -> None:
    code = make_auth_code(context, client=client, user=user)
    first = _exchange(context, client, **_form(code))
    with pytest.raises(InvalidGrantError) as caught:
        _exchange(context, client, **_form(code))
    # The client learns the code is invalid; that someone used it is for the log (detail).
    assert caught.value.description == "authorization code invalid"
    assert caught.value.detail is not None and "already used" in caught.value.detail
    jti = read_access_token(
        first["access_token"], keys=context.keys, issuer=context.settings.issuer
    )
    assert jti is not None
    assert jti["jti"] in revoked_jtis(context.engine)
    with pytest.raises(InvalidGrantError):
        asyncio.run(
            context.grants["refresh_token"].exchange(
                {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, client
            )
        )


def test_replay_does_not_touch_other_grants(
    context: ServerContext, client: Client, user: User
) -> None:
    other = _exchange(context, client, **_form(make_auth_code(context, client=client, user=user)))
    code = make_auth_code(context, client=client, user=user)
    _exchange(context, client, **_form(code))
    with pytest.raises(InvalidGrantError):
        _exchange(context, client, **_form(code))
    refreshed = asyncio.run(
        context.grants["refresh_token"].exchange(
            {"grant_type": "refresh_token", "refresh_token": other["refresh_token"]}, client
        )
    )
    assert refreshed["access_token"]


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        pytest.param(
            {"code_verifier": VERIFIER[:-1] + "x"},
            InvalidGrantError,
            "code_verifier does not match code_challenge",
            id="verifier-mismatch",
        ),
        pytest.param(
            {"code_verifier": None}, InvalidGrantError, "code_verifier required", id="no-verifier"
        ),
        pytest.param(
            {"code_verifier": "short"},
            InvalidGrantError,
            "code_verifier malformed",
            id="bad-verifier",
        ),
        pytest.param(
            {"redirect_uri": "http://127.0.0.1:8080/other"},
            InvalidGrantError,
            "redirect_uri does not match the authorization request",
            id="other-redirect-uri",
        ),
        pytest.param(
            {"redirect_uri": None},
            InvalidGrantError,
            "redirect_uri does not match the authorization request",
            id="no-redirect-uri",
        ),
        pytest.param(
            {"code": "not-a-code"}, InvalidGrantError, "authorization code invalid", id="unknown"
        ),
        pytest.param({"code": None}, InvalidRequestError, "missing parameter: code", id="no-code"),
    ],
)
def test_bad_exchange_is_refused_and_changes_nothing(
    context: ServerContext,
    client: Client,
    user: User,
    overrides: dict[str, str | None],
    error: type[OAuthError],
    description: str,
) -> None:
    code = make_auth_code(context, client=client, user=user)
    before = snapshot(context.engine)
    with pytest.raises(error) as caught:
        _exchange(context, client, **_form(code, **overrides))
    assert caught.value.description == description
    assert snapshot(context.engine) == before
    assert _exchange(context, client, **_form(code))["access_token"]  # still usable


def test_code_is_bound_to_its_client(context: ServerContext, client: Client, user: User) -> None:
    other, _ = make_client(context, name="Other")
    code = make_auth_code(context, client=client, user=user)
    before = snapshot(context.engine)
    with pytest.raises(InvalidGrantError):
        _exchange(context, other, **_form(code))
    assert snapshot(context.engine) == before
    assert _exchange(context, client, **_form(code))["access_token"]


def test_code_used_by_another_client_after_use_does_not_revoke(
    context: ServerContext, client: Client, user: User
) -> None:
    """Only the code's own client can trigger replay revocation."""
    other, _ = make_client(context, name="Other")
    code = make_auth_code(context, client=client, user=user)
    body = _exchange(context, client, **_form(code))
    with pytest.raises(InvalidGrantError):
        _exchange(context, other, **_form(code))
    assert revoked_jtis(context.engine) == set()
    assert asyncio.run(
        context.grants["refresh_token"].exchange(
            {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, client
        )
    )


def test_pkce_downgrade_is_refused(context: ServerContext, client: Client, user: User) -> None:
    """A verifier for a code issued without a challenge: RFC 9700 §4.8."""
    code = make_auth_code(context, client=client, user=user, code_verifier=None)
    with pytest.raises(InvalidGrantError, match="no code_challenge"):
        _exchange(context, client, **_form(code))
    assert _exchange(context, client, **_form(code, code_verifier=None))["access_token"]


def test_redirect_uri_optional_when_the_request_omitted_it(
    context: ServerContext, client: Client, user: User
) -> None:
    code = make_auth_code(context, client=client, user=user, redirect_uri=None)
    assert _exchange(context, client, **_form(code, redirect_uri=None))["access_token"]


def test_client_without_the_grant_is_refused(context: ServerContext, user: User) -> None:
    client, _ = make_client(context, grant_types=("authorization_code",))
    code = make_auth_code(context, client=client, user=user)
    client.grant_types = ["refresh_token"]
    with pytest.raises(UnauthorizedClientError):
        _exchange(context, client, **_form(code))


def test_public_client_exchanges_with_pkce(context: ServerContext, user: User) -> None:
    client, secret = make_client(context, client_type="public")
    assert secret is None
    code = make_auth_code(context, client=client, user=user)
    assert _exchange(context, client, **_form(code))["refresh_token"]


def test_replay_also_revokes_tokens_refreshed_since(
    context: ServerContext, client: Client, user: User
) -> None:
    code = make_auth_code(context, client=client, user=user)
    first = _exchange(context, client, **_form(code))
    refreshed = asyncio.run(
        context.grants["refresh_token"].exchange(
            {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, client
        )
    )
    with pytest.raises(InvalidGrantError):
        _exchange(context, client, **_form(code))
    claims = read_access_token(
        refreshed["access_token"], keys=context.keys, issuer=context.settings.issuer
    )
    assert claims is not None
    assert claims["jti"] in revoked_jtis(context.engine)
    with pytest.raises(InvalidGrantError):
        asyncio.run(
            context.grants["refresh_token"].exchange(
                {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]}, client
            )
        )
