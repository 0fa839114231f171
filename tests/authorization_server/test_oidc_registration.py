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
