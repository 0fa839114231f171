"""OpenID Connect code flow on the server in-process: discovery, the ID token, UserInfo."""

import base64
import hashlib
import time
from typing import Any

import jwt
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.tokens import AccessTokenIssuer
from tests.authorization_server.oidc_flow import (
    NewRelyingParty,
    oidc_user,
    published_key,
    verify_id_token,
)
from tests.harness.authorization_server import AuthorizationServer

USERINFO = "/v1/oauth/userinfo"


def test_discovery_is_the_rfc_8414_document_with_the_oidc_members(
    as_server: AuthorizationServer,
) -> None:
    oidc = as_server.get("/.well-known/openid-configuration")
    oauth = as_server.get("/.well-known/oauth-authorization-server")
    assert oidc.status_code == 200
    assert oidc.json() == oauth.json()
    document = oidc.json()
    assert document["issuer"] == as_server.url
    assert document["userinfo_endpoint"] == f"{as_server.url}{USERINFO}"
    assert document["end_session_endpoint"] == f"{as_server.url}/v1/oauth/logout"
    assert document["subject_types_supported"] == ["public"]
    assert {"RS256", "ES256"} <= set(document["id_token_signing_alg_values_supported"])
    assert {"openid", "profile", "email", "read", "write"} <= set(document["scopes_supported"])
    assert {"sub", "name", "email", "email_verified", "auth_time"} <= set(
        document["claims_supported"]
    )
    assert document["prompt_values_supported"] == ["none", "login", "consent"]
    assert document["claims_parameter_supported"] is False
    assert not {"id_token", "code id_token"} & set(document["response_types_supported"])


def test_jwks_holds_keys_of_both_algorithms(as_server: AuthorizationServer) -> None:
    keys = as_server.get("/.well-known/jwks.json").json()["keys"]
    assert {key["alg"] for key in keys} == {"ES256", "RS256"}


def _at_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_id_token_of_the_code_flow(
    relying_party: NewRelyingParty, as_server: AuthorizationServer, algorithm: str
) -> None:
    rp = relying_party(id_token_signed_response_alg=algorithm)
    user = rp.user
    before = int(time.time())
    body = rp.tokens(scope="openid profile email read", nonce="n-0S6_WzA2Mj")
    claims = verify_id_token(as_server, body["id_token"], client=rp.client, algorithm=algorithm)
    assert claims["sub"] == user.id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["at_hash"] == _at_hash(body["access_token"])
    assert before - 2 <= claims["auth_time"] <= claims["iat"] <= int(time.time())
    assert claims["sid"]
    assert (claims["name"], claims["email"], claims["email_verified"]) == (
        user.name,
        user.email,
        True,
    )
    assert "azp" not in claims  # one audience, the client
    # The access token stays what it was: ES256, for the cloud API.
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "ES256"


def test_claims_are_released_only_as_consented(
    relying_party: NewRelyingParty, as_server: AuthorizationServer
) -> None:
    rp = relying_party()
    body = rp.tokens(scope="openid")
    claims = verify_id_token(as_server, body["id_token"], client=rp.client, algorithm="RS256")
    assert not {"name", "email", "email_verified", "updated_at", "nonce"} & set(claims)
    info = as_server.get(USERINFO, headers=_bearer(body["access_token"]))
    assert info.json() == {"sub": claims["sub"]}


def test_oauth_only_requests_get_no_id_token(relying_party: NewRelyingParty) -> None:
    assert "id_token" not in relying_party().tokens(scope="read", nonce="ignored")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tokens(
    relying_party: NewRelyingParty, as_context: ServerContext, **metadata: Any
) -> dict[str, Any]:
    rp = relying_party(user=oidc_user(as_context, name="Una Info"), **metadata)
    return rp.tokens(scope="openid profile email read")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_answers_json(
    relying_party: NewRelyingParty,
    as_server: AuthorizationServer,
    as_context: ServerContext,
    method: str,
) -> None:
    body = _tokens(relying_party, as_context)
    response = as_server.request(method, USERINFO, headers=_bearer(body["access_token"]))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    info = response.json()
    assert info["name"] == "Una Info"
    assert info["email_verified"] is True
    assert isinstance(info["updated_at"], int)
    assert info["sub"] == jwt.decode(body["id_token"], options={"verify_signature": False})["sub"]


def test_userinfo_signed_when_registered(
    relying_party: NewRelyingParty, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    body = _tokens(relying_party, as_context, userinfo_signed_response_alg="ES256")
    response = as_server.get(USERINFO, headers=_bearer(body["access_token"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwt"
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    key = published_key(as_server, response.text)
    claims = jwt.decode(
        response.text,
        key.key,
        algorithms=["ES256"],
        audience=id_claims["aud"],
        issuer=as_server.url,
    )
    assert claims["sub"] == id_claims["sub"] and claims["name"] == "Una Info"


def test_userinfo_refuses_a_token_without_openid(
    relying_party: NewRelyingParty, as_server: AuthorizationServer
) -> None:
    body = relying_party().tokens(scope="read")
    response = as_server.get(USERINFO, headers=_bearer(body["access_token"]))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="openid"' in challenge


def test_userinfo_refuses_a_revoked_token(
    relying_party: NewRelyingParty, as_server: AuthorizationServer
) -> None:
    rp = relying_party()
    body = rp.tokens(scope="openid read")
    revoked = as_server.post(
        "/v1/oauth/revoke",
        data={"token": body["access_token"]},
        auth=(rp.client.client_id, rp.secret),
    )
    assert revoked.status_code == 200
    response = as_server.get(USERINFO, headers=_bearer(body["access_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_userinfo_refuses_an_expired_token(
    as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    user = oidc_user(as_context)
    as_context.keys.reload()
    issuer = AccessTokenIssuer(
        as_context.keys, issuer=as_server.url, audience="http://127.0.0.1:8001", ttl=-5
    )
    expired = issuer.issue_for_user(user=user, client_id="any", scope="openid").value
    response = as_server.get(USERINFO, headers=_bearer(expired))
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "access token invalid or expired",
    }


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        pytest.param({}, 'Bearer realm="dropletbook"', id="no-token"),
        pytest.param({"Authorization": "Bearer not.a.jwt"}, 'error="invalid_token"', id="forged"),
    ],
)
def test_userinfo_without_a_valid_token(
    as_server: AuthorizationServer, headers: dict[str, str], challenge: str
) -> None:
    response = as_server.get(USERINFO, headers=headers)
    assert response.status_code == 401
    assert challenge in response.headers["www-authenticate"]
