"""Resource indicators over HTTP (in-process), RFC 8707: a token names the one API it is for.

The cloud API (the default audience) takes every kind of token; this server's own
app-management API takes only client-credentials tokens that asked for it by `resource`.
"""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from services.authorization_server.pkce import s256_challenge
from tests.authorization_server.state import snapshot
from tests.factories import PASSWORD, VERIFIER, make_auth_code, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import redirect_params, redirect_target

CALLBACK = "http://127.0.0.1:8080/callback"


@dataclass
class World:
    server: AuthorizationServer
    context: ServerContext
    cloud_api: str
    apps_api: str
    app: Client  # client credentials, authorization code, refresh tokens
    secret: str
    trusted: Client  # password grant
    trusted_secret: str
    user: User

    def token(self, form: dict[str, str], client: Client | None = None) -> httpx.Response:
        client = client or self.app
        secret = self.secret if client is self.app else self.trusted_secret
        return self.server.post("/v1/oauth/token", data=form, auth=(client.client_id, secret))

    def audience(self, response: httpx.Response) -> Any:
        """The `aud` of the response's access token (its signature is tested elsewhere)."""
        assert response.status_code == 200, response.text
        payload = response.json()["access_token"].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]


@pytest.fixture(scope="module")
def world(as_server: AuthorizationServer, as_context: ServerContext) -> World:
    settings = as_context.settings
    app, secret = make_client(
        as_context,
        grant_types=("authorization_code", "refresh_token", "client_credentials"),
        redirect_uris=(CALLBACK,),
    )
    trusted, trusted_secret = make_client(
        as_context, name="First party", grant_types=("password",), trusted=True
    )
    assert secret and trusted_secret
    user = make_user(as_context, email="resource-user@example.com")
    as_context.keys.reload()
    return World(
        as_server,
        as_context,
        settings.resource_audience,
        settings.apps_api_resource,
        app,
        secret,
        trusted,
        trusted_secret,
        user,
    )


def _refused(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_target"
    description: str = body["error_description"]
    return description


def test_apps_api_is_derived_from_the_issuer(world: World) -> None:
    assert world.apps_api == f"{world.context.settings.issuer}/v1/apps"
    assert world.apps_api != world.cloud_api


def test_client_credentials_token_for_each_known_resource(world: World) -> None:
    form = {"grant_type": "client_credentials"}
    assert world.audience(world.token(form)) == world.cloud_api  # today's default
    assert world.audience(world.token(form | {"resource": world.cloud_api})) == world.cloud_api
    assert world.audience(world.token(form | {"resource": world.apps_api})) == world.apps_api
    # `http://host` and `http://host/` are one URI (RFC 3986 §6.2.3).
    bare = world.token(form | {"resource": world.cloud_api + "/"})
    assert world.audience(bare) == world.cloud_api


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        pytest.param("https://evil.example/api", "unknown", id="unknown"),
        pytest.param("/v1/apps", "absolute URI", id="relative"),
        pytest.param("v1/apps", "absolute URI", id="no-scheme"),
        pytest.param("{apps}#frag", "fragment", id="fragment"),
        pytest.param("{apps}#", "fragment", id="empty-fragment"),
        pytest.param("{apps}/self", "unknown", id="below-the-api"),
        pytest.param("{apps}?x=1", "unknown", id="query"),
        pytest.param("urn:example:api", "absolute URI", id="urn"),
        pytest.param("http://[::1", "absolute URI", id="broken-ipv6"),
    ],
)
def test_client_credentials_unknown_or_malformed_resource(
    world: World, resource: str, reason: str
) -> None:
    form = {"grant_type": "client_credentials", "resource": resource.format(apps=world.apps_api)}
    assert reason in _refused(world.token(form))


def test_user_grants_may_not_name_the_apps_api(world: World) -> None:
    """A user's token is for the cloud API only; the password grant shows it first."""
    form = {"grant_type": "password", "username": world.user.email, "password": PASSWORD}
    refused = world.token(form | {"resource": world.apps_api}, world.trusted)
    assert "client-credentials" in _refused(refused)
    assert "unknown" in _refused(
        world.token(form | {"resource": "https://x.example"}, world.trusted)
    )
    named = world.token(form | {"resource": world.cloud_api}, world.trusted)
    assert world.audience(named) == world.cloud_api


def test_code_exchange_with_a_refused_resource_consumes_nothing(world: World) -> None:
    """RFC 8707 §2.2: checked before the code is used; the code still works afterwards."""
    code = make_auth_code(world.context, client=world.app, user=world.user, scope="read")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
    }
    before = snapshot(world.context.engine)
    _refused(world.token(form | {"resource": world.apps_api}))
    assert snapshot(world.context.engine) == before
    exchanged = world.token(form | {"resource": world.cloud_api})
    assert world.audience(exchanged) == world.cloud_api

    refresh = {"grant_type": "refresh_token", "refresh_token": exchanged.json()["refresh_token"]}
    before = snapshot(world.context.engine)
    _refused(world.token(refresh | {"resource": world.apps_api}))
    assert snapshot(world.context.engine) == before
    assert world.audience(world.token(refresh)) == world.cloud_api


@pytest.fixture
def signed_in(world: World) -> Iterator[Browser]:
    browser = world.server.browser()
    assert browser.login(world.user.email, PASSWORD).status_code == 303
    yield browser
    browser.close()


def _authorize_params(world: World, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": world.app.client_id,
        "redirect_uri": CALLBACK,
        "scope": "read",
        "state": "xyz",
        "code_challenge": s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


@pytest.mark.parametrize("resource", ["{apps}", "https://evil.example/api", "not a uri"], ids=str)
def test_authorization_request_refuses_other_resources(
    world: World, signed_in: Browser, resource: str
) -> None:
    """RFC 8707 §2: `invalid_target`, redirected to the client like other late errors."""
    params = _authorize_params(world, resource=resource.format(apps=world.apps_api))
    response = signed_in.authorize(params)
    assert response.status_code == 303, response.text
    assert redirect_target(response) == CALLBACK
    answer = redirect_params(response)
    assert (answer["error"], answer["state"]) == ("invalid_target", "xyz")


def test_authorization_request_may_name_the_cloud_api(world: World, signed_in: Browser) -> None:
    response = signed_in.authorize(_authorize_params(world, resource=world.cloud_api))
    assert response.status_code == 200, response.text  # the consent screen
    assert "would like permission" in response.text


def test_metadata_advertises_the_resources(world: World) -> None:
    metadata = world.server.get("/.well-known/oauth-authorization-server").json()
    assert metadata["resources_supported"] == [world.cloud_api, world.apps_api]


def test_protected_resource_metadata_of_the_apps_api(world: World) -> None:
    """RFC 9728 §3: at the well-known URI derived from the resource identifier."""
    response = world.server.get("/.well-known/oauth-protected-resource/v1/apps")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["resource"] == world.apps_api
    assert document["authorization_servers"] == [world.context.settings.issuer]
    assert document["bearer_methods_supported"] == ["header"]
    missing = world.server.get("/.well-known/oauth-protected-resource/v2/other")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
