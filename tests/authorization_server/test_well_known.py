"""Discovery (RFC 8414), the JWKS (RFC 7517), and CORS on the endpoints browsers call."""

from typing import Any

import pytest

from services.authorization_server.context import ServerContext
from tests.harness.authorization_server import AuthorizationServer

METADATA = "/.well-known/oauth-authorization-server"
JWKS = "/.well-known/jwks.json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
ORIGIN = "https://spa.example"


@pytest.fixture(scope="module")
def metadata(as_server: AuthorizationServer) -> dict[str, Any]:
    response = as_server.get(METADATA)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_metadata_lists_every_endpoint(
    as_server: AuthorizationServer, metadata: dict[str, Any]
) -> None:
    base = as_server.url
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
def test_every_advertised_endpoint_exists(
    as_server: AuthorizationServer, metadata: dict[str, Any], name: str, method: str
) -> None:
    response = as_server.request(method, metadata[name])
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
    as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    response = as_server.get(JWKS)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    as_context.keys.reload()
    assert keys[0]["kid"] == as_context.keys.signing_key().kid
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
def test_cors_on_endpoints_browsers_call(
    as_server: AuthorizationServer, method: str, path: str
) -> None:
    response = as_server.request(
        method,
        f"{path}",
        headers={"origin": ORIGIN},
        data={"grant_type": "client_credentials"} if method == "POST" else None,
    )
    assert response.status_code < 500
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(("method", "path"), CORS_ENDPOINTS)
def test_cors_preflight(as_server: AuthorizationServer, method: str, path: str) -> None:
    response = as_server.options(
        path,
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
def test_no_cors_on_pages_and_the_feed(as_server: AuthorizationServer, path: str) -> None:
    response = as_server.get(path, headers={"origin": ORIGIN})
    assert not any(name.startswith("access-control-") for name in response.headers)
    preflight = as_server.options(
        path,
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
    )
    assert not any(name.startswith("access-control-") for name in preflight.headers)


def test_healthz(as_server: AuthorizationServer) -> None:
    response = as_server.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
