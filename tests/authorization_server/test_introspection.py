"""Token introspection over HTTP (in-process), RFC 7662: authenticated confidential callers only,
each told about its own tokens; the allow-listed resource servers about every token."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from shared.jwt import generate_private_pem, load_signing_key, sign_jwt
from tests.authorization_server.tokens_over_http import authorization_code_tokens, refresh
from tests.databases import TestDatabases
from tests.factories import make_client, make_user, test_settings
from tests.harness.authorization_server import (
    AuthorizationServer,
    prepared_database,
    serve_in_process,
)

BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'


@dataclass
class World:
    server: AuthorizationServer
    context: ServerContext
    user: User
    app: Client
    secret: str
    other: Client
    other_secret: str
    public: Client
    resource_server: Client
    resource_server_secret: str

    def tokens(self, scope: str = "read write") -> dict[str, Any]:
        return authorization_code_tokens(
            self.server,
            self.context,
            client=self.app,
            secret=self.secret,
            user=self.user,
            scope=scope,
        )

    def introspect(self, token: str, *, auth: Any = None, **data: str) -> httpx.Response:
        return self.server.post(
            "/v1/oauth/introspect",
            data={"token": token, **data},
            auth=auth or (self.app.client_id, self.secret),
        )


@pytest.fixture(scope="module")
def as_server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    """A server whose `AS_INTROSPECTION_CLIENTS` lists a resource server seeded beforehand."""
    url = databases.new_url("as")
    with prepared_database(test_settings(url)) as seed:
        resource_server, secret = make_client(
            seed, name="Droplet Cloud API", grant_types=("client_credentials",), redirect_uris=()
        )
    assert secret is not None
    settings = test_settings(url, introspection_clients=[resource_server.client_id])
    with serve_in_process(settings) as server:
        server.resource_server = (resource_server, secret)  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="module")
def world(as_server: AuthorizationServer, as_context: ServerContext) -> World:
    user = make_user(as_context)
    app, secret = make_client(as_context)
    other, other_secret = make_client(
        as_context, name="Another app", grant_types=("client_credentials",), redirect_uris=()
    )
    public, _ = make_client(as_context, name="Public", client_type="public")
    resource_server, resource_server_secret = as_server.resource_server  # type: ignore[attr-defined]
    assert secret and other_secret
    as_context.keys.reload()
    return World(
        as_server,
        as_context,
        user,
        app,
        secret,
        other,
        other_secret,
        public,
        resource_server,
        resource_server_secret,
    )


def _active(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body: dict[str, Any] = response.json()
    return body


def test_active_access_token(world: World) -> None:
    tokens = world.tokens(scope="read")
    resource_server = (world.resource_server.client_id, world.resource_server_secret)
    for auth in (None, resource_server):  # its own client, and an allow-listed resource server
        body = _active(world.introspect(tokens["access_token"], auth=auth))
        assert body["active"] is True
        # Spelled as in the token response (DESIGN: "bearer"; RFC 6749 §7.1 ignores case).
        assert body["token_type"] == tokens["token_type"] == "bearer"
        assert body["scope"] == "read"
        assert body["client_id"] == world.app.client_id
        assert body["sub"] == world.user.id
        assert body["iss"] == world.context.settings.issuer
        assert body["aud"] == world.context.settings.resource_audience
        assert body["exp"] - body["iat"] == world.context.settings.access_token_ttl
        assert body["jti"]


def test_active_refresh_token_is_described_only_to_its_client(world: World) -> None:
    tokens = world.tokens()
    body = _active(world.introspect(tokens["refresh_token"], token_type_hint="refresh_token"))
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert (body["client_id"], body["sub"], body["scope"]) == (
        world.app.client_id,
        world.user.id,
        "read write",
    )
    assert body["exp"] > time.time()
    other = world.introspect(
        tokens["refresh_token"], auth=(world.other.client_id, world.other_secret)
    )
    assert _active(other) == {"active": False}


def test_other_clients_tokens_are_inactive_to_a_client(world: World) -> None:
    """RFC 7662 §4: a client that is not an allow-listed resource server learns nothing
    about another client's tokens, not even that they are active."""
    tokens = world.tokens()
    other = (world.other.client_id, world.other_secret)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert _active(world.introspect(token, auth=other)) == {"active": False}
    own = world.server.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=other
    )
    assert own.status_code == 200, own.text
    body = _active(world.introspect(own.json()["access_token"], auth=other))
    assert body["active"] is True
    assert body["client_id"] == world.other.client_id


def test_allow_listed_resource_server_sees_every_token(world: World) -> None:
    tokens = world.tokens()
    resource_server = (world.resource_server.client_id, world.resource_server_secret)
    access = _active(world.introspect(tokens["access_token"], auth=resource_server))
    assert (access["active"], access["sub"]) == (True, world.user.id)
    refresh_body = _active(world.introspect(tokens["refresh_token"], auth=resource_server))
    assert (refresh_body["active"], refresh_body["client_id"]) == (True, world.app.client_id)


def test_rotated_refresh_token_is_inactive(world: World) -> None:
    tokens = world.tokens()
    rotated = refresh(
        world.server, client=world.app, secret=world.secret, refresh_token=tokens["refresh_token"]
    )
    assert rotated.status_code == 200
    assert _active(world.introspect(tokens["refresh_token"])) == {"active": False}
    assert _active(world.introspect(rotated.json()["refresh_token"]))["active"] is True


def test_revoked_access_token_is_inactive(world: World) -> None:
    tokens = world.tokens()
    revoked = world.server.post(
        "/v1/oauth/revoke",
        data={"token": tokens["access_token"]},
        auth=(world.app.client_id, world.secret),
    )
    assert revoked.status_code == 200
    assert _active(world.introspect(tokens["access_token"])) == {"active": False}


def _signed(world: World, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": world.context.settings.issuer,
        "sub": world.user.id,
        "aud": world.context.settings.resource_audience,
        "client_id": world.app.client_id,
        "scope": "read",
        "iat": now - 7200,
        "exp": now - 3600,
        "jti": "expired-token",
        **claims,
    }
    return sign_jwt(payload, key=world.context.keys.signing_key())


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda w: _signed(w), id="expired"),
        pytest.param(lambda w: _signed(w, exp=int(time.time()) - 1), id="just-expired"),
        pytest.param(
            lambda w: _signed(w, exp=int(time.time()) + 600, iss="https://other.example"),
            id="other-issuer",
        ),
        pytest.param(
            lambda w: sign_jwt(
                {"sub": "x", "exp": int(time.time()) + 600},
                key=load_signing_key(
                    kid=w.context.keys.signing_key().kid,
                    algorithm="ES256",
                    private_pem=generate_private_pem("ES256"),
                ),
            ),
            id="forged-with-known-kid",
        ),
        pytest.param(lambda w: "not-a-token", id="garbage"),
        pytest.param(lambda w: "a.b.c", id="three-dots"),
    ],
)
def test_inactive_tokens(world: World, token: Any) -> None:
    assert _active(world.introspect(token(world))) == {"active": False}


def test_valid_self_signed_token_is_active(world: World) -> None:
    """The control for the cases above: the same construction, unexpired, is active."""
    token = _signed(world, exp=int(time.time()) + 600, iat=int(time.time()), jti="fresh")
    assert _active(world.introspect(token))["active"] is True


@pytest.mark.parametrize(
    ("auth", "data", "status", "error", "challenge"),
    [
        pytest.param("none", {}, 401, "invalid_client", True, id="no-client-authentication"),
        pytest.param("public", {}, 401, "invalid_client", True, id="public-client"),
        pytest.param("wrong", {}, 401, "invalid_client", True, id="wrong-secret-basic"),
        pytest.param(
            "none",
            {"client_id": "app", "client_secret": "wrong"},
            401,
            "invalid_client",
            False,
            id="wrong-secret-post",
        ),
        pytest.param("app", {"token": ""}, 400, "invalid_request", False, id="missing-token"),
    ],
)
def test_introspection_requires_an_authenticated_confidential_client(
    world: World, auth: str, data: dict[str, str], status: int, error: str, challenge: bool
) -> None:
    token = world.tokens()["access_token"]
    form = {"token": token, **data}
    if form.get("client_id") == "app":
        form["client_id"] = world.app.client_id
    credentials = {
        "none": None,
        "app": (world.app.client_id, world.secret),
        "wrong": (world.app.client_id, world.other_secret),
    }
    if auth == "public":
        form["client_id"] = world.public.client_id
    response = world.server.post(
        "/v1/oauth/introspect",
        data=form,
        auth=credentials.get(auth),
    )
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert ("www-authenticate" in response.headers) is challenge
    assert response.headers["cache-control"] == "no-store"
