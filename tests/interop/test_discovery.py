"""Discovery (RFC 8414, RFC 9207) and the JWKS (RFC 7517), read by the libraries."""

from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from authlib.oauth2 import rfc8414, rfc9207
from joserfc.jwk import KeySet

from services.authorization_server.settings import Settings

ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
)


def test_metadata_passes_authlib_validation(metadata: dict[str, Any]) -> None:
    document = rfc8414.AuthorizationServerMetadata(metadata)
    document.validate(metadata_classes=[rfc9207.AuthorizationServerMetadata])
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_metadata_advertises_what_the_server_does(
    metadata: dict[str, Any], as_settings: Settings
) -> None:
    issuer = urlsplit(as_settings.issuer)
    for name in ENDPOINTS:
        url = urlsplit(metadata[name])
        assert (url.scheme, url.netloc) == (issuer.scheme, issuer.netloc), name
    assert set(metadata["grant_types_supported"]) >= {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
    }
    assert "code" in metadata["response_types_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) >= {
        "client_secret_basic",
        "client_secret_post",
    }
    assert set(metadata["scopes_supported"]) == {*as_settings.scopes, "openid", "profile", "email"}
    assert metadata["resources_supported"] == [  # RFC 8707 resources, the default first
        as_settings.resource_audience,
        as_settings.apps_api_resource,
    ]


def test_jwks_has_public_keys_with_kid(metadata: dict[str, Any]) -> None:
    response = requests.get(metadata["jwks_uri"], timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert document["keys"], "the JWKS has no key"
    for key in document["keys"]:
        assert key.get("kid"), key
        assert "d" not in key, "a private key member is published"
        assert (key["kty"], key.get("crv")) in (("EC", "P-256"), ("RSA", None)), key
    # Both libraries can load every key.
    key_set = KeySet.import_key_set(document)
    assert {key.kid for key in key_set.keys} == {key["kid"] for key in document["keys"]}
    assert {key.key_id for key in jwt.PyJWKSet.from_dict(document).keys} == {
        key["kid"] for key in document["keys"]
    }


def test_every_advertised_endpoint_answers(metadata: dict[str, Any]) -> None:
    """An advertised endpoint exists: unauthenticated calls get an OAuth error, not a 404."""
    calls = {
        "token_endpoint": ("POST", {"grant_type": "client_credentials"}),
        "revocation_endpoint": ("POST", {"token": "x"}),
        "introspection_endpoint": ("POST", {"token": "x"}),
        "registration_endpoint": ("POST", None),
        "revoked_tokens_endpoint": ("GET", None),
    }
    for name, (method, form) in calls.items():
        response = requests.request(method, metadata[name], data=form, json=None, timeout=10)
        assert response.status_code in (400, 401, 403), (name, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json"), name
        assert response.json()["error"] in (
            "invalid_client",
            "invalid_request",
            "invalid_token",
            "access_denied",  # registration without an initial access token, when closed
        ), (name, response.text)
    assert requests.get(metadata["service_documentation"], timeout=10).status_code == 200
    authorize = requests.get(metadata["authorization_endpoint"], timeout=10)
    assert authorize.status_code == 400  # no client_id: an error page, not a redirect
