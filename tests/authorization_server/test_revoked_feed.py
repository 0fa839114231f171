"""The revoked-token feed: revoked, unexpired access-token ids, for listed resource servers."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, RevokedAccessToken
from services.authorization_server.registration import delete_client
from shared.db import utcnow
from tests import factories
from tests.authorization_server.tokens_over_http import (
    access_token_jti,
    authorization_code_tokens,
    concurrent_refreshes,
    refresh,
)
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    prepared_database,
    serve_in_process,
)

FEED = "/v1/oauth/revoked-tokens"


@dataclass
class World:
    server: AuthorizationServer
    context: ServerContext
    reader: tuple[str, str]  # listed in AS_REVOCATION_FEED_CLIENTS and AS_INTROSPECTION_CLIENTS
    outsider: tuple[str, str]  # a confidential client that is not listed

    def feed(self, auth: tuple[str, str] | None = None, **kwargs: object) -> httpx.Response:
        return self.server.get(f"{FEED}", auth=auth or self.reader, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(databases: TestDatabases, logs_dir: Path) -> Iterator[World]:
    """Clients are registered first, so the server can start with the feed reader listed."""
    url = databases.new_url("feed")
    with prepared_database(factories.test_settings(url)) as seed:
        reader, reader_secret = make_client(
            seed, name="Resource server", grant_types=("client_credentials",), redirect_uris=()
        )
        outsider, outsider_secret = make_client(seed, name="App")
    assert reader_secret and outsider_secret
    settings = factories.test_settings(
        url,
        revocation_feed_clients=[reader.client_id],
        introspection_clients=[reader.client_id],
        refresh_token_reuse_grace=1,
    )
    with serve_in_process(settings) as server:
        yield World(
            server,
            server.context,
            (reader.client_id, reader_secret),
            (outsider.client_id, outsider_secret),
        )


def _jtis(response: httpx.Response) -> dict[str, int]:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"revoked", "revoked_clients", "generated_at"}
    assert abs(body["generated_at"] - time.time()) < 60
    return {entry["jti"]: entry["exp"] for entry in body["revoked"]}


def test_feed_lists_revoked_unexpired_access_tokens(world: World) -> None:
    with Session(world.context.engine) as session:
        app = session.get(Client, world.outsider[0])
    assert app is not None
    user = make_user(world.context)
    tokens = authorization_code_tokens(
        world.server, world.context, client=app, secret=world.outsider[1], user=user
    )
    introspected = world.server.post(
        "/v1/oauth/introspect",
        data={"token": tokens["access_token"]},
        auth=world.reader,
    ).json()
    assert introspected["jti"] not in _jtis(world.feed())
    revoked = world.server.post(
        "/v1/oauth/revoke", data={"token": tokens["refresh_token"]}, auth=world.outsider
    )
    assert revoked.status_code == 200
    assert _jtis(world.feed())[introspected["jti"]] == introspected["exp"]


def test_feed_lists_a_family_revoked_by_reuse_after_a_concurrent_refresh(world: World) -> None:
    """Concurrent refreshes in the grace window revoke nothing; reuse after it revokes every
    access token of the family, the grace-path ones included."""
    with Session(world.context.engine) as session:
        app = session.get(Client, world.outsider[0])
    assert app is not None
    user = make_user(world.context, email="racer@example.com")
    tokens = authorization_code_tokens(
        world.server, world.context, client=app, secret=world.outsider[1], user=user
    )
    responses = concurrent_refreshes(world.server, [(world.outsider, tokens["refresh_token"])] * 4)
    assert [r.status_code for r in responses] == [200] * 4
    issued = {access_token_jti(t) for t in [tokens, *(r.json() for r in responses)]}
    assert not issued & set(_jtis(world.feed()))
    time.sleep(1.2)  # past the grace window (AS_REFRESH_TOKEN_REUSE_GRACE=1)
    reuse = refresh(
        world.server, client=app, secret=world.outsider[1], refresh_token=tokens["refresh_token"]
    )
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    assert issued <= set(_jtis(world.feed()))
    successor = refresh(
        world.server,
        client=app,
        secret=world.outsider[1],
        refresh_token=responses[0].json()["refresh_token"],
    )
    assert (successor.status_code, successor.json()["error"]) == (400, "invalid_grant")


def test_expired_revocations_are_left_out(world: World) -> None:
    with Session(world.context.engine) as session:
        session.add(RevokedAccessToken(jti="long-gone", expires_at=utcnow() - timedelta(seconds=1)))
        session.add(RevokedAccessToken(jti="still-live", expires_at=utcnow() + timedelta(hours=1)))
        session.commit()
    jtis = _jtis(world.feed())
    assert "long-gone" not in jtis
    assert "still-live" in jtis


def _clients(response: httpx.Response) -> dict[str, dict[str, int]]:
    _jtis(response)
    entries = response.json()["revoked_clients"]
    fields = {"client_id", "revoked_at", "exp", "client_credentials_revoked_at"}
    assert all(set(entry) == fields for entry in entries)
    return {entry["client_id"]: entry for entry in entries}


def test_feed_lists_deleted_clients_and_their_tokens_turn_inactive(world: World) -> None:
    app, secret = make_client(
        world.context, name="Ops app", grant_types=("client_credentials",), redirect_uris=()
    )
    assert secret is not None
    token = world.server.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(app.client_id, secret),
    ).json()["access_token"]

    def introspect() -> dict[str, object]:
        response = world.server.post(
            "/v1/oauth/introspect", data={"token": token}, auth=world.reader
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    claims = introspect()
    assert claims["active"] is True
    assert app.client_id not in _clients(world.feed())
    with Session(world.context.engine, expire_on_commit=False) as session:
        settings = world.context.settings
        delete_client(
            session,
            app,
            access_token_ttl=settings.access_token_ttl,
            client_cache_ttl=settings.client_cache_ttl,
        )
    entry = _clients(world.feed())[app.client_id]
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert claims["iat"] <= entry["revoked_at"] <= time.time() + settings.client_cache_ttl
    assert entry["exp"] >= claims["exp"]
    assert introspect() == {"active": False}


def test_expired_deleted_clients_are_left_out(world: World) -> None:
    now = utcnow()
    with Session(world.context.engine) as session:
        for client_id, expires_at in (
            ("long-deleted", now - timedelta(seconds=1)),
            ("just-deleted", now + timedelta(hours=1)),
        ):
            repository.revoke_client(
                session=session,
                client_id=client_id,
                revoked_at=now - timedelta(minutes=5),
                expires_at=expires_at,
            )
        session.commit()
    clients = _clients(world.feed())
    assert "long-deleted" not in clients
    assert clients["just-deleted"]["revoked_at"] == int((now - timedelta(minutes=5)).timestamp())


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param("outsider", id="client-not-listed"),
        pytest.param("wrong-secret", id="wrong-secret"),
        pytest.param("unknown", id="unknown-client"),
    ],
)
def test_only_listed_clients_may_read(world: World, credentials: str) -> None:
    auth = {
        "outsider": world.outsider,
        "wrong-secret": (world.reader[0], world.outsider[1]),
        "unknown": ("nobody", "x"),
    }[credentials]
    response = world.feed(auth)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "revoked" not in response.json()


def test_anonymous_request_is_refused(world: World) -> None:
    response = world.server.get(f"{FEED}")
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_credentials_in_the_query_are_not_accepted(world: World) -> None:
    response = world.server.get(
        f"{FEED}",
        params={"client_id": world.reader[0], "client_secret": world.reader[1]},
    )
    assert response.status_code == 401
