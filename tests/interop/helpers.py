"""What the interop tests share: the user's walk through the pages (with the harness's
`Browser`), an independent token check, and the checks and registrations both libraries'
tests make.

Nothing here speaks OAuth for the client: the libraries under test build the requests and
parse the responses. The browser only plays the user (login and consent pages), and the
verifier uses PyJWT alone, so a token the server signed wrongly cannot pass by accident.
"""

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import jwt

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from tests.factories import make_client
from tests.harness.browser import Browser
from tests.harness.forms import find_form

# RFC 9068 §2.2: claims every JWT access token carries.
REQUIRED_CLAIMS = ("iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti")


@dataclass(frozen=True)
class TestUser:
    __test__ = False

    id: str
    email: str
    name: str
    password: str


def _location(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return urljoin(str(response.url), response.headers["location"])


def authorize_in_browser(
    authorization_url: str,
    *,
    email: str,
    password: str,
    redirect_uri: str,
    decision: str = "approve",
) -> str:
    """Play the user: log in, answer the consent screen, and return the URL the browser is
    sent back to (the client's redirect URI with the response), without following it."""
    parts = urlsplit(authorization_url)
    with Browser(f"{parts.scheme}://{parts.netloc}") as browser:
        response = browser.get(authorization_url)
        login_url = _location(response)
        assert urlsplit(login_url).path == "/login"

        page = browser.get(login_url)
        assert page.status_code == 200, page.text[:500]
        login = find_form(page.text, "/login")
        assert login.fields.get("csrf_token"), "login form has no CSRF token"
        assert login.fields.get("next"), "login form lost the authorization request"
        response = browser.post(
            urljoin(login_url, login.action),
            data={**login.fields, "email": email, "password": password},
        )
        consent_url = _location(response)
        assert urlsplit(consent_url).path == urlsplit(authorization_url).path

        page = browser.get(consent_url)
        assert page.status_code == 200, page.text[:500]
        assert email in page.text, "the consent screen should name the account"
        assert page.headers.get("x-frame-options") == "DENY"
        consent = find_form(page.text, urlsplit(authorization_url).path + "/decision")
        assert decision in consent.buttons.get("decision", []), consent.buttons
        response = browser.post(
            urljoin(consent_url, consent.action), data={**consent.fields, "decision": decision}
        )
        callback = _location(response)
    assert callback.split("#")[0].split("?")[0] == redirect_uri, callback
    return callback


@dataclass(frozen=True)
class TokenVerifier:
    """RFC 9068 checks with PyJWT and the server's published JWKS only."""

    jwks: jwt.PyJWKClient
    issuer: str
    audience: str

    def verify(self, token: str, *, subject: str, client_id: str, scope: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        assert header["typ"] == "at+jwt", header
        assert header["alg"] == "ES256", header
        assert isinstance(header.get("kid"), str) and header["kid"], header
        signing_key = self.jwks.get_signing_key_from_jwt(token)
        assert signing_key.key_id == header["kid"]
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=["ES256"],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": list(REQUIRED_CLAIMS)},
        )
        assert claims["iss"] == self.issuer
        assert claims["aud"] in (self.audience, [self.audience])
        assert claims["sub"] == subject
        assert claims["client_id"] == client_id
        assert sorted(claims["scope"].split(" ")) == sorted(scope.split(" "))
        assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
        assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
        assert claims["iat"] < claims["exp"]
        assert abs(claims["iat"] - time.time()) < 120, "iat is not the time of issue"
        return claims


def assert_user_info(token: dict[str, Any], *, user_id: str, email: str, name: str) -> None:
    """The tutorial's `info` member of user-flow token responses."""
    assert token["info"] == {"name": name, "email": email, "uuid": user_id}


def assert_user_tokens(
    token: dict[str, Any], *, user: TestUser, client_id: str, verifier: TokenVerifier
) -> None:
    """A user flow's token response for scope `read write`: a bearer token that verifies,
    a refresh token, and the `info` member naming `user`."""
    assert token["token_type"].lower() == "bearer"
    assert token["refresh_token"]
    assert_user_info(token, user_id=user.id, email=user.email, name=user.name)
    verifier.verify(token["access_token"], subject=user.id, client_id=client_id, scope="read write")


def trusted_client(context: ServerContext) -> tuple[Client, str]:
    """A trusted (first-party) client allowed the password grant, and its secret."""
    client, secret = make_client(
        context,
        name="Dropletbook Mobile",
        grant_types=("password", "refresh_token"),
        redirect_uris=(),
        trusted=True,
    )
    assert secret is not None
    return client, secret


def keep_token_responses(client: Any) -> list[Any]:
    """Every raw token endpoint response the library's `client` receives (both Authlib and
    requests-oauthlib offer these compliance hooks), so tests can check headers too."""
    responses: list[Any] = []

    def keep(response: Any) -> Any:
        responses.append(response)
        return response

    client.register_compliance_hook("access_token_response", keep)
    client.register_compliance_hook("refresh_token_response", keep)
    return responses


def apps_api_resource(metadata: dict[str, Any]) -> str:
    """The RFC 8707 identifier of the server's own API, found by discovery: the advertised
    resource that `app_self_endpoint` lives under."""
    endpoint = metadata["app_self_endpoint"]
    [resource] = [r for r in metadata["resources_supported"] if endpoint.startswith(r + "/")]
    assert isinstance(resource, str)
    return resource
