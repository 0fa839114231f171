"""Token revocation over HTTP (in-process), RFC 7009."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.authorization_server.state import revoked_jtis, snapshot
from tests.authorization_server.tokens_over_http import authorization_code_tokens, refresh
from tests.factories import make_client, make_user
from tests.harness.authorization_server import AuthorizationServer

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

    def tokens(self, client: Client | None = None) -> dict[str, Any]:
        client = client or self.app
        secret = {self.app.client_id: self.secret, self.other.client_id: self.other_secret}
        return authorization_code_tokens(
            self.server,
            self.context,
            client=client,
            secret=secret.get(client.client_id),
            user=self.user,
        )

    def revoke(self, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("auth", (self.app.client_id, self.secret))
        return self.server.post("/v1/oauth/revoke", data=data, **kwargs)

    def introspect(self, token: str, auth: tuple[str, str] | None = None) -> dict[str, Any]:
        response = self.server.post(
            "/v1/oauth/introspect",
            data={"token": token},
            auth=auth or (self.app.client_id, self.secret),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def jti(self, access_token: str) -> str:
        return str(self.introspect(access_token)["jti"])


@pytest.fixture(scope="module")
def world(as_server: AuthorizationServer, as_context: ServerContext) -> World:
    user = make_user(as_context)
    app, secret = make_client(as_context)
    other, other_secret = make_client(as_context, name="Other")
    public, _ = make_client(as_context, name="Public", client_type="public")
    assert secret and other_secret
    return World(as_server, as_context, user, app, secret, other, other_secret, public)


def _assert_revoked(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token", "something_else"])
def test_revoking_a_refresh_token_ends_its_whole_grant(world: World, hint: str | None) -> None:
    first = world.tokens()
    second = refresh(
        world.server, client=world.app, secret=world.secret, refresh_token=first["refresh_token"]
    ).json()
    jtis = {world.jti(first["access_token"]), world.jti(second["access_token"])}
    data = {"token": second["refresh_token"]}
    if hint:
        data["token_type_hint"] = hint
    _assert_revoked(world.revoke(data))
    assert jtis <= revoked_jtis(world.context.engine)
    for token in (first["access_token"], second["access_token"], second["refresh_token"]):
        assert world.introspect(token) == {"active": False}
    again = refresh(
        world.server, client=world.app, secret=world.secret, refresh_token=second["refresh_token"]
    )
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_revoking_an_access_token(world: World) -> None:
    tokens = world.tokens()
    jti = world.jti(tokens["access_token"])
    _assert_revoked(
        world.revoke({"token": tokens["access_token"], "token_type_hint": "access_token"})
    )
    assert jti in revoked_jtis(world.context.engine)
    assert world.introspect(tokens["access_token"]) == {"active": False}
    # Revoking twice is fine too.
    _assert_revoked(world.revoke({"token": tokens["access_token"]}))


def test_public_client_revokes_its_own_token(world: World) -> None:
    tokens = world.tokens(world.public)
    response = world.revoke(
        {"token": tokens["refresh_token"], "client_id": world.public.client_id}, auth=None
    )
    _assert_revoked(response)
    assert world.introspect(tokens["access_token"]) == {"active": False}


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "x" * 2000])
def test_unknown_tokens_are_not_an_error(world: World, token: str) -> None:
    before = snapshot(world.context.engine)
    _assert_revoked(world.revoke({"token": token}))
    assert snapshot(world.context.engine) == before


@pytest.mark.parametrize("kind", ["refresh_token", "access_token"])
def test_another_clients_token_is_refused(world: World, kind: str) -> None:
    tokens = world.tokens(world.other)
    before = snapshot(world.context.engine)
    response = world.revoke({"token": tokens[kind]})
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")
    assert response.headers["cache-control"] == "no-store"
    assert snapshot(world.context.engine) == before
    owner = (world.other.client_id, world.other_secret)  # the only client told about it
    assert world.introspect(tokens["access_token"], auth=owner)["active"] is True


@pytest.mark.parametrize(
    ("kwargs", "status", "error", "challenge"),
    [
        pytest.param({"auth": None}, 401, "invalid_client", True, id="no-client-authentication"),
        pytest.param({"auth": ("nobody", "x")}, 401, "invalid_client", True, id="unknown-client"),
        pytest.param({"auth": "wrong-secret"}, 401, "invalid_client", True, id="wrong-secret"),
        pytest.param({"params": {"token": "x"}}, 400, "invalid_request", False, id="query-string"),
        pytest.param({"data": {}}, 400, "invalid_request", False, id="missing-token"),
        pytest.param(
            {"json": {"token": "x"}, "data": None}, 400, "invalid_request", False, id="json-body"
        ),
    ],
)
def test_bad_revocation_requests(
    world: World, kwargs: dict[str, Any], status: int, error: str, challenge: bool
) -> None:
    tokens = world.tokens()
    if kwargs.get("auth") == "wrong-secret":
        kwargs = {**kwargs, "auth": (world.app.client_id, world.other_secret)}
    data = kwargs.pop("data", {"token": tokens["refresh_token"]})
    before = snapshot(world.context.engine)
    response = world.revoke(data, **kwargs)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert ("www-authenticate" in response.headers) is challenge
    assert snapshot(world.context.engine) == before
