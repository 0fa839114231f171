"""An OpenID Connect code flow against the server under test (`tests/harness`), played by
its `Browser`, and an independent ID token check with PyJWT and the published JWKS."""

import uuid
from collections.abc import Callable
from typing import Any

import jwt
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from services.authorization_server.pkce import s256_challenge
from tests.authorization_server.tokens_over_http import Server
from tests.factories import VERIFIER, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import redirect_params

CALLBACK = "http://127.0.0.1:8080/callback"


def oidc_client(context: ServerContext, **metadata: Any) -> tuple[Client, str]:
    """A confidential code-flow client; `metadata` sets its OpenID Connect columns."""
    client, secret = make_client(context, name=f"RP {uuid.uuid4().hex[:6]}")
    assert secret is not None
    if metadata:
        with Session(context.engine, expire_on_commit=False) as session:
            row = session.get(Client, client.client_id)
            assert row is not None
            for name, value in metadata.items():
                setattr(row, name, value)
            session.add(row)
            session.commit()
            session.refresh(row)
            client = row
    return client, secret


def oidc_user(context: ServerContext, name: str = "Olivia Idp") -> User:
    return make_user(context, email=f"oidc-{uuid.uuid4().hex[:8]}@example.com", name=name)


def authorize_params(client: Client, scope: str = "openid", **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "st",
        "code_challenge": s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


LogIn = Callable[[User], Browser]


def code_of(browser: Browser, params: dict[str, str]) -> str:
    """Authorize (approving the consent screen if shown) and return the code."""
    response = browser.authorize(params)
    if response.status_code == 200:
        response = browser.decide(response, "approve")
    assert response.status_code == 303, response.text
    values = redirect_params(response)
    assert "code" in values, values
    return values["code"]


def exchange(server: Server, client: Client, secret: str, code: str) -> dict[str, Any]:
    response = server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def openid_tokens(
    server: Server, browser: Browser, client: Client, secret: str, **params: str
) -> dict[str, Any]:
    return exchange(server, client, secret, code_of(browser, authorize_params(client, **params)))


def verify_id_token(
    server: AuthorizationServer, token: str, *, client: Client, algorithm: str
) -> dict[str, Any]:
    """PyJWT with the key the JWKS publishes: signature, `iss`, `aud`, `exp`, `iat`."""
    assert jwt.get_unverified_header(token)["typ"] == "JWT"
    key = published_key(server, token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=[algorithm],
        audience=client.client_id,
        issuer=server.url,
        options={"require": ["iss", "sub", "aud", "exp", "iat"]},
    )
    return claims


def published_key(server: AuthorizationServer, token: str) -> jwt.PyJWK:
    """The key of the token's `kid` in the JWKS the discovery document points to."""
    metadata = server.get("/.well-known/openid-configuration").json()
    assert metadata["jwks_uri"] == f"{server.url}/.well-known/jwks.json"
    jwks = jwt.PyJWKSet.from_dict(server.get(metadata["jwks_uri"]).json())
    return jwks[jwt.get_unverified_header(token)["kid"]]
