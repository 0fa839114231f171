"""OpenID Connect client metadata in RFC 7591 registration (Dynamic Client Registration
1.0 §2, RP-Initiated Logout 1.0 §3.1), on the server in-process."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from services.authorization_server.models import Client
from tests.databases import TestDatabases
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)

CALLBACK = "https://rp.example/callback"
TOO_MANY = [f"https://rp.example/{n}" for n in range(11)]


@pytest.fixture(scope="module")
def registry(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    with in_process_authorization_server(databases, open_registration=True) as server:
        yield server


def _register(server: AuthorizationServer, **metadata: Any) -> httpx.Response:
    body = {"redirect_uris": [CALLBACK], "client_name": "RP", **metadata}
    return server.post("/v1/oauth/register", json=body)


def _stored(server: AuthorizationServer, client_id: str) -> Client:
    with Session(server.context.engine) as session:
        client = session.get(Client, client_id)
        assert client is not None
        return client


def test_defaults_are_returned(registry: AuthorizationServer) -> None:
    response = _register(registry)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id_token_signed_response_alg"] == "RS256"
    assert body["subject_type"] == "public"
    assert body["post_logout_redirect_uris"] == []
    assert body["require_auth_time"] is False
    assert "userinfo_signed_response_alg" not in body and "default_max_age" not in body


def test_every_oidc_value_is_stored_and_returned(registry: AuthorizationServer) -> None:
    metadata = {
        "id_token_signed_response_alg": "ES256",
        "userinfo_signed_response_alg": "RS256",
        "post_logout_redirect_uris": ["https://rp.example/bye", "http://127.0.0.1:9/bye"],
        "subject_type": "public",
        "default_max_age": 600,
        "require_auth_time": True,
    }
    response = _register(registry, **metadata)
    assert response.status_code == 201, response.text
    body = response.json()
    assert {name: body[name] for name in metadata} == metadata
    client = _stored(registry, body["client_id"])
    assert {name: getattr(client, name) for name in metadata} == metadata


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param({"id_token_signed_response_alg": "HS256"}, id="symmetric-id-token-alg"),
        pytest.param({"id_token_signed_response_alg": "none"}, id="unsigned-id-token"),
        pytest.param({"userinfo_signed_response_alg": "PS256"}, id="unknown-userinfo-alg"),
        pytest.param({"subject_type": "pairwise"}, id="pairwise"),
        pytest.param({"default_max_age": 0}, id="max-age-zero"),
        pytest.param({"default_max_age": -5}, id="max-age-negative"),
        pytest.param({"default_max_age": "soon"}, id="max-age-text"),
        pytest.param({"require_auth_time": "maybe"}, id="auth-time-not-bool"),
        pytest.param({"post_logout_redirect_uris": ["http://rp.example/bye"]}, id="logout-http"),
        pytest.param({"post_logout_redirect_uris": ["https://rp.example/#x"]}, id="logout-frag"),
        pytest.param({"post_logout_redirect_uris": "https://rp.example/"}, id="logout-not-list"),
        pytest.param({"post_logout_redirect_uris": TOO_MANY}, id="logout-too-many"),
    ],
)
def test_unsupported_values_are_invalid_client_metadata(
    registry: AuthorizationServer, metadata: dict[str, Any]
) -> None:
    response = _register(registry, **metadata)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client_metadata"
    (name,) = metadata
    assert name in response.json()["error_description"]


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("openid profile email read write", id="every-scope-in-discovery"),
        pytest.param("openid profile email", id="identity-only"),
        pytest.param("openid read", id="openid-and-read"),
    ],
)
def test_relying_parties_register_the_openid_connect_scopes(
    registry: AuthorizationServer, scope: str
) -> None:
    """What openid-client and Authlib users send: any scope the discovery document lists."""
    listed = registry.get("/.well-known/openid-configuration").json()["scopes_supported"]
    assert set(scope.split()) <= set(listed)
    response = _register(registry, scope=scope)
    assert response.status_code == 201, response.text
    assert set(response.json()["scope"].split()) == set(scope.split())
    assert set(_stored(registry, response.json()["client_id"]).scope.split()) == set(scope.split())


def test_an_unknown_scope_is_still_refused(registry: AuthorizationServer) -> None:
    response = _register(registry, scope="openid admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert "openid" in response.json()["error_description"]  # the supported list names it


def test_client_credentials_default_scope_leaves_out_the_identity_scopes(
    registry: AuthorizationServer,
) -> None:
    """A client registered with `openid ... read write` asking for no scope gets the API
    scopes it registered: `openid` means nothing at the token endpoint."""
    registered = _register(
        registry, scope="openid profile email read write", grant_types=["client_credentials"]
    ).json()
    auth = (registered["client_id"], registered["client_secret"])
    response = registry.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read write"
    asked = registry.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials", "scope": "openid"}, auth=auth
    )
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
