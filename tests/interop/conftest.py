"""Fixtures for the interop tests: a live server, discovery, the token verifier, users."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from authlib.oauth2.rfc8414 import get_well_known_url

from services.authorization_server.context import ServerContext
from services.authorization_server.settings import Settings
from tests.authorization_server.conftest import live_context  # noqa: F401
from tests.databases import TestDatabases
from tests.factories import PASSWORD, make_user
from tests.harness.authorization_server import AuthorizationServer, live_authorization_server
from tests.interop.helpers import TestUser, TokenVerifier

REDIRECT_URI = "http://127.0.0.1:8080/callback"
INITIAL_ACCESS_TOKEN = "interop-initial-access-token-" + "x" * 32
"""Relying parties register themselves (RFC 7591) with this, as an integrator's CI would."""
REGISTERED_SCOPE = "openid profile email read write"
"""What openid-client and Authlib users register: every scope the discovery document lists."""


@pytest.fixture(scope="module", autouse=True)
def plain_http_allowed() -> Iterator[None]:
    """The libraries refuse http:// endpoints unless told this is a local test setup."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        patch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        yield


@pytest.fixture(scope="module")
def live_as(
    databases: TestDatabases, logs_dir: Path, request: pytest.FixtureRequest
) -> Iterator[AuthorizationServer]:
    """One authorization server process per test module, registration behind a token."""
    with live_authorization_server(
        databases,
        logs_dir,
        request.module.__name__,
        registration_access_token=INITIAL_ACCESS_TOKEN,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def as_settings(live_as: AuthorizationServer) -> Settings:
    settings: Settings = live_as.settings
    return settings


@pytest.fixture(scope="module")
def metadata(as_settings: Settings) -> dict[str, Any]:
    """RFC 8414 discovery from the issuer identifier alone; every endpoint comes from here."""
    url = get_well_known_url(as_settings.issuer, external=True)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    assert document["issuer"] == as_settings.issuer  # RFC 8414 §3.3
    return document


@pytest.fixture(scope="module")
def verifier(metadata: dict[str, Any], as_settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        jwks=jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True),
        issuer=as_settings.issuer,
        audience=as_settings.resource_audience,
    )


@pytest.fixture
def user(live_context: ServerContext) -> TestUser:  # noqa: F811
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    created = make_user(live_context, email=email, name="Alice Interop")
    return TestUser(id=created.id, email=email, name=created.name, password=PASSWORD)


Register = Callable[..., dict[str, Any]]


@pytest.fixture
def register(metadata: dict[str, Any]) -> Register:
    """RFC 7591 registration at the discovered endpoint, as an integrator's script does it:
    JSON metadata, the initial access token, `scope` with the OpenID Connect scopes."""

    def register_client(**client_metadata: Any) -> dict[str, Any]:
        body = {"scope": REGISTERED_SCOPE, **client_metadata}
        response = requests.post(
            metadata["registration_endpoint"],
            json=body,
            headers={"Authorization": f"Bearer {INITIAL_ACCESS_TOKEN}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        registered: dict[str, Any] = response.json()
        assert set(registered["scope"].split()) == set(body["scope"].split())
        return registered

    return register_client
