"""Discovery (RFC 8414), the JWKS (RFC 7517), and CORS on the endpoints browsers call."""

from typing import Any

import httpx
import pytest

from services.authorization_server.context import ServerContext
from tests.live_server import LiveServer

METADATA = "/.well-known/oauth-authorization-server"
JWKS = "/.well-known/jwks.json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
ORIGIN = "https://spa.example"


@pytest.fixture(scope="module")
def metadata(live_as: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{live_as.url}{METADATA}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_metadata_lists_every_endpoint(live_as: LiveServer, metadata: dict[str, Any]) -> None:
    base = live_as.url
    assert metadata["issuer"] == base
    assert {
        "authorization_endpoint": f"{base}/v1/oauth/authorize",
        "token_endpoint": f"{base}/v1/oauth/token",
        "jwks_uri": f"{base}{JWKS}",
        "registration_endpoint": f"{base}/v1/oauth/register",
        "revocation_endpoint": f"{base}/v1/oauth/revoke",
        "introspection_endpoint": f"{base}/v1/oauth/introspect",
        "revoked_tokens_endpoint": f"{base}/v1/oauth/revoked-tokens",
        "app_self_endpoint": f"{base}/v1/apps/self",
        "service_documentation": f"{base}/docs",
    }.items() <= metadata.items()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("authorization_endpoint", "GET"),
        ("token_endpoint", "POST"),
        ("jwks_uri", "GET"),
        ("registration_endpoint", "POST"),
        ("revocation_endpoint", "POST"),
        ("introspection_endpoint", "POST"),
        ("revoked_tokens_endpoint", "GET"),
        ("app_self_endpoint", "GET"),
        ("service_documentation", "GET"),
        ("userinfo_endpoint", "GET"),
        ("end_session_endpoint", "GET"),
    ],
)
def test_every_advertised_endpoint_exists(metadata: dict[str, Any], name: str, method: str) -> None:
    response = httpx.request(method, metadata[name])
    assert response.status_code not in (404, 405, 500), (name, response.status_code)


def test_metadata_lists_every_capability(metadata: dict[str, Any]) -> None:
    assert sorted(metadata["grant_types_supported"]) == [
        "authorization_code",
        "client_credentials",
        "implicit",
        "password",
        "refresh_token",
    ]
    assert sorted(metadata["response_types_supported"]) == ["code", "token"]
    assert sorted(metadata["response_modes_supported"]) == ["fragment", "query"]
    # The OpenID Connect identity scopes first, then the settings' (AS_SCOPES).
    assert metadata["scopes_supported"] == ["openid", "profile", "email", "read", "write"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert sorted(metadata["token_endpoint_auth_methods_supported"]) == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert sorted(metadata["revocation_endpoint_auth_methods_supported"]) == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert sorted(metadata["introspection_endpoint_auth_methods_supported"]) == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_jwks_is_public_and_names_every_key(
    live_as: LiveServer, live_context: ServerContext
) -> None:
    response = httpx.get(f"{live_as.url}{JWKS}")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    live_context.keys.reload()
    assert keys[0]["kid"] == live_context.keys.signing_key().kid
    # Access tokens' ES256 keys, then the RS256 keys ID tokens may be signed with.
    assert [key["alg"] for key in keys] == ["ES256", "RS256"]
    for key in keys:
        assert not PRIVATE_MEMBERS & set(key)
        assert key["kid"] and key["use"] == "sig"
        assert (key["kty"], key.get("crv")) in (("EC", "P-256"), ("RSA", None))


CORS_ENDPOINTS = [
    pytest.param("GET", METADATA, id="metadata"),
    pytest.param("GET", JWKS, id="jwks"),
    pytest.param("POST", "/v1/oauth/token", id="token"),
    pytest.param("POST", "/v1/oauth/revoke", id="revoke"),
    pytest.param("POST", "/v1/oauth/introspect", id="introspect"),
    pytest.param("GET", "/.well-known/openid-configuration", id="openid-configuration"),
    pytest.param("GET", "/v1/oauth/userinfo", id="userinfo"),
]


@pytest.mark.parametrize(("method", "path"), CORS_ENDPOINTS)
def test_cors_on_endpoints_browsers_call(live_as: LiveServer, method: str, path: str) -> None:
    response = httpx.request(
        method,
        f"{live_as.url}{path}",
        headers={"origin": ORIGIN},
        data={"grant_type": "client_credentials"} if method == "POST" else None,
    )
    assert response.status_code < 500
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(("method", "path"), CORS_ENDPOINTS)
def test_cors_preflight(live_as: LiveServer, method: str, path: str) -> None:
    response = httpx.options(
        f"{live_as.url}{path}",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": method,
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


@pytest.mark.parametrize(
    "path",
    [
        "/v1/oauth/authorize",
        "/login",
        "/signup",
        "/logout",
        "/v1/oauth/revoked-tokens",
        "/v1/oauth/logout",
    ],
)
def test_no_cors_on_pages_and_the_feed(live_as: LiveServer, path: str) -> None:
    response = httpx.get(f"{live_as.url}{path}", headers={"origin": ORIGIN})
    assert not any(name.startswith("access-control-") for name in response.headers)
    preflight = httpx.options(
        f"{live_as.url}{path}",
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
    )
    assert not any(name.startswith("access-control-") for name in preflight.headers)


def test_healthz(live_as: LiveServer) -> None:
    response = httpx.get(f"{live_as.url}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
