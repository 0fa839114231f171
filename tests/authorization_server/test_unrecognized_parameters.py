"""RFC 6749 §3.1 at the back-channel endpoints: unrecognized parameters MUST be ignored.

A repeated or empty-named parameter the endpoint does not know is no error; a repeated
known one still is.
"""

from dataclasses import dataclass

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from tests.factories import make_client
from tests.harness.authorization_server import AuthorizationServer

FORM = {"content-type": "application/x-www-form-urlencoded"}
UNRECOGNIZED = [
    pytest.param("&extra=1&extra=2", id="repeated-unknown"),
    pytest.param("&=1&=2", id="repeated-empty-name"),
    pytest.param("&=1", id="empty-name"),
    pytest.param("&extra=%00", id="unknown-with-nul"),
]


@dataclass
class World:
    server: AuthorizationServer
    service: Client
    secret: str

    def post(self, path: str, content: str) -> httpx.Response:
        auth = (self.service.client_id, self.secret)
        return self.server.post(path, content=content, headers=FORM, auth=auth)

    def access_token(self) -> str:
        response = self.post("/v1/oauth/token", "grant_type=client_credentials")
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def world(as_server: AuthorizationServer, as_context: ServerContext) -> World:
    service, secret = make_client(
        as_context,
        name="Service",
        grant_types=("client_credentials",),
        redirect_uris=(),
        scope="read",
    )
    assert secret
    return World(as_server, service, secret)


@pytest.mark.parametrize("extra", UNRECOGNIZED)
def test_token_endpoint_ignores_unrecognized_parameters(world: World, extra: str) -> None:
    response = world.post("/v1/oauth/token", "grant_type=client_credentials" + extra)
    assert response.status_code == 200, response.text
    assert "access_token" in response.json()


@pytest.mark.parametrize("extra", UNRECOGNIZED)
def test_introspection_ignores_unrecognized_parameters(world: World, extra: str) -> None:
    response = world.post("/v1/oauth/introspect", f"token={world.access_token()}{extra}")
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True


@pytest.mark.parametrize("extra", UNRECOGNIZED)
def test_revocation_ignores_unrecognized_parameters(world: World, extra: str) -> None:
    token = world.access_token()
    response = world.post("/v1/oauth/revoke", f"token={token}{extra}")
    assert response.status_code == 200, response.text
    status = world.post("/v1/oauth/introspect", f"token={token}")
    assert status.json() == {"active": False}


@pytest.mark.parametrize(
    ("path", "content", "name"),
    [
        pytest.param(
            "/v1/oauth/token",
            "grant_type=client_credentials&scope=read&scope=read",
            "scope",
            id="token-scope",
        ),
        pytest.param("/v1/oauth/revoke", "token=a&token=b", "token", id="revoke-token"),
        pytest.param(
            "/v1/oauth/introspect",
            "token=a&token_type_hint=x&token_type_hint=y",
            "token_type_hint",
            id="introspect-token_type_hint",
        ),
    ],
)
def test_a_repeated_known_parameter_is_refused(
    world: World, path: str, content: str, name: str
) -> None:
    response = world.post(path, content)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"parameter {name!r} repeated",
    }
