"""Refresh token grant, RFC 6749 §6: rotation, reuse detection, scope narrowing."""

import asyncio
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import update
from sqlmodel import Session, col, select

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, RefreshToken, User
from services.authorization_server.settings import Settings
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError, OAuthError
from tests.authorization_server.state import revoked_jtis, snapshot
from tests.factories import VERIFIER, make_auth_code, make_client, make_user, test_settings


@pytest.fixture
def grace() -> int:
    """AS_REFRESH_TOKEN_REUSE_GRACE for the test; `parametrize("grace", ...)` changes it."""
    return 10


@pytest.fixture
def settings(database_url: str, grace: int) -> Settings:
    return test_settings(database_url, refresh_token_reuse_grace=grace)


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
    return asyncio.run(context.grants["authorization_code"].exchange(form, client))


@pytest.fixture
def tokens(context: ServerContext, client: Client, user: User) -> dict[str, Any]:
    return _authorize(context, client, user, "read write")


def _refresh(
    context: ServerContext, client: Client, refresh_token: str, **form: str
) -> dict[str, Any]:
    return asyncio.run(
        context.grants["refresh_token"].exchange(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, **form}, client
        )
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


@pytest.mark.parametrize("grace", [0])
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
        asyncio.run(
            context.grants["refresh_token"].exchange({"grant_type": "refresh_token"}, client)
        )


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


def _live_refresh_tokens(context: ServerContext, refresh_token: str) -> list[RefreshToken]:
    """The unrotated refresh tokens of the family `refresh_token` belongs to."""
    with Session(context.engine) as session:
        token = session.get(RefreshToken, hash_token(refresh_token))
        assert token is not None
        rows = session.exec(
            select(RefreshToken).where(
                RefreshToken.family_id == token.family_id, col(RefreshToken.rotated_at).is_(None)
            )
        )
        return list(rows)


def test_replay_within_the_grace_window_returns_the_same_successor(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    first = _refresh(context, client, tokens["refresh_token"])
    again = _refresh(context, client, tokens["refresh_token"])
    assert again["refresh_token"] == first["refresh_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", again["refresh_token"])  # shaped like new_token()
    assert (
        _claims(context, again["access_token"])["jti"]
        != _claims(context, first["access_token"])["jti"]
    )
    assert revoked_jtis(context.engine) == set()
    live = _live_refresh_tokens(context, tokens["refresh_token"])
    assert [row.token_hash for row in live] == [hash_token(first["refresh_token"])]
    after = _refresh(context, client, first["refresh_token"])
    assert after["refresh_token"] not in (first["refresh_token"], tokens["refresh_token"])


def test_the_replayed_access_token_is_revoked_with_its_grant(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    first = _refresh(context, client, tokens["refresh_token"])
    again = _refresh(context, client, tokens["refresh_token"], scope="read")
    assert again["scope"] == "read"
    with Session(context.engine) as session:
        stored = repository.get_refresh_token(
            session=session, token_hash=hash_token(first["refresh_token"])
        )
        assert stored is not None
        repository.revoke_family(session=session, family_id=stored.family_id)
        session.commit()
    issued = {_claims(context, t["access_token"])["jti"] for t in (tokens, first, again)}
    assert issued <= revoked_jtis(context.engine)


@pytest.mark.parametrize("grace", [1])
def test_reuse_after_the_grace_window_revokes_the_grant(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    first = _refresh(context, client, tokens["refresh_token"])
    time.sleep(1.2)
    with pytest.raises(InvalidGrantError) as caught:
        _refresh(context, client, tokens["refresh_token"])
    assert caught.value.description == "refresh token already used; the grant is revoked"
    with pytest.raises(InvalidGrantError, match="refresh token invalid"):
        _refresh(context, client, first["refresh_token"])
    issued = {_claims(context, t["access_token"])["jti"] for t in (tokens, first)}
    assert issued <= revoked_jtis(context.engine)


@pytest.mark.parametrize("grace", [0])
def test_without_a_grace_window_any_reuse_revokes_the_grant(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    first = _refresh(context, client, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError, match="already used"):
        _refresh(context, client, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError):
        _refresh(context, client, first["refresh_token"])
    assert _claims(context, first["access_token"])["jti"] in revoked_jtis(context.engine)


def test_replay_after_the_successor_was_rotated_is_reuse(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    first = _refresh(context, client, tokens["refresh_token"])
    second = _refresh(context, client, first["refresh_token"])
    with pytest.raises(InvalidGrantError, match="already used"):
        _refresh(context, client, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError):
        _refresh(context, client, second["refresh_token"])


def test_another_client_never_gets_the_grace_path(
    context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    first = _refresh(context, client, tokens["refresh_token"])
    other, _ = make_client(context, name="Other")
    before = snapshot(context.engine)
    with pytest.raises(InvalidGrantError) as caught:
        _refresh(context, other, tokens["refresh_token"])
    assert caught.value.description == "refresh token invalid"
    assert snapshot(context.engine) == before
    assert _refresh(context, client, first["refresh_token"])["access_token"]


def test_successors_depend_on_the_server_secret(
    database_url: str, client: Client, user: User, context: ServerContext
) -> None:
    tokens = _authorize(context, client, user, "read")
    first = _refresh(context, client, tokens["refresh_token"])
    other = ServerContext.build(
        test_settings(database_url, secret_key=SecretStr("another-secret-key"), db_pool_size=0),
        context.engine,
    )
    # With another secret the derived successor is not the family's live token: reuse.
    with pytest.raises(InvalidGrantError, match="already used"):
        _refresh(other, client, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError):
        _refresh(context, client, first["refresh_token"])


def _public_tokens(context: ServerContext, user: User) -> tuple[Client, dict[str, Any]]:
    public, secret = make_client(context, name="Dropletbook Mobile", client_type="public")
    assert secret is None
    return public, _authorize(context, public, user, "read")


def test_a_public_clients_replay_gets_no_grace_and_revokes_the_grant(
    context: ServerContext, user: User
) -> None:
    """Within the confidential clients' window a public client's replay is reuse: without
    a secret, "the same client" is whoever holds the token."""
    public, tokens = _public_tokens(context, user)
    first = _refresh(context, public, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError, match="already used"):
        _refresh(context, public, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError):
        _refresh(context, public, first["refresh_token"])
    issued = {_claims(context, t["access_token"])["jti"] for t in (tokens, first)}
    assert issued <= revoked_jtis(context.engine)


def test_the_operator_may_give_public_clients_a_window(
    database_url: str, context: ServerContext, user: User
) -> None:
    public, tokens = _public_tokens(context, user)
    lenient = ServerContext.build(
        test_settings(database_url, public_client_refresh_reuse_grace=10, db_pool_size=0),
        context.engine,
    )
    lenient.keys.reload()
    first = _refresh(lenient, public, tokens["refresh_token"])
    again = _refresh(lenient, public, tokens["refresh_token"])
    assert again["refresh_token"] == first["refresh_token"]
    assert revoked_jtis(context.engine) == set()


@pytest.mark.parametrize("grace", [0])
def test_the_public_window_does_not_open_the_confidential_one(
    database_url: str, context: ServerContext, client: Client, tokens: dict[str, Any]
) -> None:
    lenient = ServerContext.build(
        test_settings(
            database_url,
            refresh_token_reuse_grace=0,
            public_client_refresh_reuse_grace=10,
            db_pool_size=0,
        ),
        context.engine,
    )
    lenient.keys.reload()
    _refresh(lenient, client, tokens["refresh_token"])
    with pytest.raises(InvalidGrantError, match="already used"):
        _refresh(lenient, client, tokens["refresh_token"])
