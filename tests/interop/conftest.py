"""Fixtures for the interop tests: a live server, discovery, the token verifier, users."""

import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from authlib.oauth2.rfc8414 import get_well_known_url

from services.authorization_server.context import ServerContext
from services.authorization_server.settings import Settings
from tests.authorization_server.conftest import live_as, live_context  # noqa: F401
from tests.factories import PASSWORD, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.interop.helpers import TestUser, TokenVerifier

REDIRECT_URI = "http://127.0.0.1:8080/callback"


@pytest.fixture(scope="module", autouse=True)
def plain_http_allowed() -> Iterator[None]:
    """The libraries refuse http:// endpoints unless told this is a local test setup."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        patch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        yield


@pytest.fixture(scope="module")
def as_settings(live_as: AuthorizationServer) -> Settings:  # noqa: F811
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
