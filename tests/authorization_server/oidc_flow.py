"""An OpenID Connect code flow against the server under test (`tests/harness`), played by
its `Browser`, and an independent ID token check with PyJWT and the published JWKS.

The fixture `relying_party` builds the requests: a new client (OpenID Connect metadata by
keyword) and a new user signed in (`signed_in=False`: no session), then

    rp = relying_party(default_max_age=60)
    rp.authorize(prompt="none")  # the authorization request; its answer, not followed
    rp.code()                    # the same, with the consent screen approved if shown
    rp.tokens(nonce="n")         # the code exchanged: the token response
    rp.id_token(nonce="n")       # its ID token, verified: the claims

Every request starts from `authorize_params`' defaults, overridden by keyword.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from services.authorization_server.pkce import s256_challenge
from tests.authorization_server.tokens_over_http import exchange_code
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


@dataclass(frozen=True)
class RelyingParty:
    """A client of the server under test and its user's browser, sending OIDC requests."""

    server: AuthorizationServer
    client: Client
    secret: str
    user: User
    browser: Browser

    def authorize(self, **params: str) -> httpx.Response:
        return self.browser.authorize(authorize_params(self.client, **params))

    def code(self, **params: str) -> str:
        """Authorize (approving the consent screen if shown) and return the code."""
        response = self.authorize(**params)
        if response.status_code == 200:
            response = self.browser.decide(response, "approve")
        assert response.status_code == 303, response.text
        values = redirect_params(response)
        assert "code" in values, values
        return values["code"]

    def tokens(self, **params: str) -> dict[str, Any]:
        """A code exchanged at the token endpoint (with the `authorize_params` verifier)."""
        return exchange_code(
            self.server,
            client_id=self.client.client_id,
            secret=self.secret,
            code=self.code(**params),
            verifier=VERIFIER,
            redirect_uri=CALLBACK,
        )

    def id_token(self, *, algorithm: str = "RS256", **params: str) -> dict[str, Any]:
        """The claims of the ID token of `tokens(**params)`, verified."""
        token = self.tokens(**params)["id_token"]
        return verify_id_token(self.server, token, client=self.client, algorithm=algorithm)


NewRelyingParty = Callable[..., RelyingParty]


def new_relying_party(
    server: AuthorizationServer,
    context: ServerContext,
    log_in: LogIn,
    *,
    client: tuple[Client, str] | None = None,
    user: User | None = None,
    signed_in: bool = True,
    **metadata: Any,
) -> RelyingParty:
    """`client` (by default a new `oidc_client` with `metadata`) and `user` (by default a new
    one) in a browser of their own, signed in unless `signed_in` is false."""
    assert client is None or not metadata, "metadata is for a new client"
    client = client or oidc_client(context, **metadata)
    user = user or oidc_user(context)
    browser = log_in(user) if signed_in else server.browser()
    return RelyingParty(server, *client, user, browser)


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
