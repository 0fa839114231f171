"""Refresh token grant, RFC 6749 §6: rotation, reuse detection, scope narrowing."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, RefreshToken, User
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError, OAuthError
from tests.authorization_server.state import revoked_jtis, snapshot
from tests.factories import VERIFIER, make_auth_code, make_client, make_user


@pytest.fixture
def user(context: ServerContext) -> User:
    return make_user(context)


@pytest.fixture
def client(context: ServerContext) -> Client:
    return make_client(context)[0]


def _authorize(context: ServerContext, client: Client, user: User, scope: str) -> dict[str, Any]:
    code = make_auth_code(context, client=client, user=user, scope=scope)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8080/callback",
        "code_verifier": VERIFIER,
    }
    return context.grants["authorization_code"].exchange(form, client)


@pytest.fixture
def tokens(context: ServerContext, client: Client, user: User) -> dict[str, Any]:
    return _authorize(context, client, user, "read write")


def _refresh(
    context: ServerContext, client: Client, refresh_token: str, **form: str
) -> dict[str, Any]:
    return context.grants["refresh_token"].exchange(
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **form}, client
    )


def _claims(context: ServerContext, token: str) -> dict[str, Any]:
    claims = read_access_token(token, keys=context.keys, issuer=context.settings.issuer)
    assert claims is not None
    return claims


def test_refresh_rotates_the_token(
    context: ServerContext, client: Client, user: User, tokens: dict[str, Any]
) -> None:
    body = _refresh(context, client, tokens["refresh_token"])
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "info",
    }
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["scope"] == "read write"
    assert body["info"]["uuid"] == user.id
    claims = _claims(context, body["access_token"])
    assert (claims["sub"], claims["client_id"]) == (user.id, client.client_id)
    assert claims["jti"] != _claims(context, tokens["access_token"])["jti"]
    assert _refresh(context, client, body["refresh_token"])["access_token"]


def test_reuse_of_a_rotated_token_revokes_the_whole_grant(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    second = _refresh(context, client, tokens["refresh_token"])
    third = _refresh(context, client, second["refresh_token"])
    with pytest.raises(InvalidGrantError) as caught:
        _refresh(context, client, tokens["refresh_token"])
    assert caught.value.description == "refresh token already used; the grant is revoked"
    with pytest.raises(InvalidGrantError):
        _refresh(context, client, third["refresh_token"])
    issued = {_claims(context, t["access_token"])["jti"] for t in (tokens, second, third)}
    assert issued <= revoked_jtis(context.engine)


def test_reuse_leaves_other_grants_alone(
    context: ServerContext, client: Client, user: User, tokens: dict[str, Any]
) -> None:
    other = _authorize(context, client, user, "read")
    _refresh(context, client, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError):
        _refresh(context, client, tokens["refresh_token"])
    assert _claims(context, other["access_token"])["jti"] not in revoked_jtis(context.engine)
    assert _refresh(context, client, other["refresh_token"])["scope"] == "read"


def test_narrowing_scope_is_allowed_and_keeps_the_grant(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    narrow = _refresh(context, client, tokens["refresh_token"], scope="read")
    assert narrow["scope"] == "read"
    assert _claims(context, narrow["access_token"])["scope"] == "read"
    # RFC 6749 §6: the new refresh token carries the original grant, not the narrowed one.
    again = _refresh(context, client, narrow["refresh_token"], scope="read write")
    assert again["scope"] == "read write"


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        pytest.param(
            {"scope": "read write admin"},
            InvalidScopeError,
            "requested scope exceeds the scope originally granted",
            id="widen",
        ),
        pytest.param(
            {"scope": "delete"},
            InvalidScopeError,
            "requested scope exceeds the scope originally granted",
            id="unknown-scope",
        ),
        pytest.param(
            {"refresh_token": "not-a-token"},
            InvalidGrantError,
            "refresh token invalid",
            id="unknown-token",
        ),
    ],
)
def test_refused_refresh_changes_nothing(
    context: ServerContext,
    client: Client,
    tokens: dict[str, Any],
    form: dict[str, str],
    error: type[OAuthError],
    description: str,
) -> None:
    before = snapshot(context.engine)
    with pytest.raises(error) as caught:
        _refresh(context, client, **{"refresh_token": tokens["refresh_token"], **form})
    assert caught.value.description == description
    assert snapshot(context.engine) == before
    assert _refresh(context, client, tokens["refresh_token"])["access_token"]


def test_widening_beyond_a_narrow_grant_is_refused(
    context: ServerContext, client: Client, user: User
) -> None:
    read_only = _authorize(context, client, user, "read")
    with pytest.raises(InvalidScopeError):
        _refresh(context, client, read_only["refresh_token"], scope="read write")


def test_missing_refresh_token(context: ServerContext, client: Client) -> None:
    with pytest.raises(InvalidRequestError, match="missing parameter: refresh_token"):
        context.grants["refresh_token"].exchange({"grant_type": "refresh_token"}, client)


def test_refresh_token_of_another_client_is_refused(
    context: ServerContext, tokens: dict[str, Any]
) -> None:
    other, _ = make_client(context, name="Other")
    before = snapshot(context.engine)
    with pytest.raises(InvalidGrantError) as caught:
        _refresh(context, other, tokens["refresh_token"])
    assert caught.value.description == "refresh token invalid"
    assert snapshot(context.engine) == before


def test_expired_refresh_token_is_refused(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    with Session(context.engine) as session:
        session.exec(
            update(RefreshToken)
            .where(col(RefreshToken.token_hash) == hash_token(tokens["refresh_token"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    with pytest.raises(InvalidGrantError, match="expired"):
        _refresh(context, client, tokens["refresh_token"])


def test_refresh_token_lifetime(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    with Session(context.engine) as session:
        stored = session.get(RefreshToken, hash_token(tokens["refresh_token"]))
        assert stored is not None
        lifetime = stored.expires_at - stored.created_at
    assert lifetime == timedelta(seconds=context.settings.refresh_token_ttl)
