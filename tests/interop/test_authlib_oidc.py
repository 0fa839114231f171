"""Authlib's OpenID Connect relying party against a live server, the user played by a real
Chromium: discovery, registration (RFC 7591, `scope` with `openid profile email`), code +
PKCE + nonce, the ID token validated by Authlib (signature from
the JWKS, `iss`, `aud`, `exp`, `nonce`, `at_hash`), UserInfo, and RP-initiated logout.

`RelyingParty` is Authlib's framework-neutral client, composed exactly as its Flask app is
(`FlaskOAuth2App` minus Flask): every protocol step is Authlib's own code.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import InvalidClaimError
from playwright.sync_api import BrowserContext, Page, Route, expect

from services.authorization_server.settings import Settings
from tests.e2e.walk import TIMEOUT_MS, chromium
from tests.interop.conftest import REDIRECT_URI, Register
from tests.interop.helpers import TestUser

pytestmark = pytest.mark.e2e
SIGNED_OUT = "https://rp.example/signed-out"


class _NoFramework:
    """Where a web framework would keep refreshed tokens: this test refreshes none."""

    def update_token(self, token: dict[str, Any], **_: Any) -> None:
        raise AssertionError("no refresh expected")


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    client_cls = OAuth2Session


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    """Chromium; the client's callback and post-logout pages are answered by the test,
    which records the URLs the server sent the browser to."""
    with chromium() as chrome:
        context = chrome.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        context.visited = []  # type: ignore[attr-defined]

        def answer(route: Route) -> None:
            context.visited.append(route.request.url)  # type: ignore[attr-defined]
            route.fulfill(status=200, content_type="text/html", body="<h1>client page</h1>")

        context.route(f"{REDIRECT_URI}**", answer)
        context.route(f"{SIGNED_OUT}**", answer)
        yield context
        context.close()


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _log_in_and_consent(page: Page, url: str, user: TestUser) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Authorize application")
    permissions = page.locator("ul.permissions")
    expect(permissions).to_contain_text("Your name")
    expect(permissions).to_contain_text("Your email address")
    page.get_by_role("button", name="Authorize Application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("client page")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_sign_in_userinfo_and_logout(
    browser: BrowserContext,
    register: Register,
    as_settings: Settings,
    user: TestUser,
    algorithm: str,
) -> None:
    client = register(
        client_name="Authlib relying party",
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[SIGNED_OUT],
        id_token_signed_response_alg=algorithm,
    )
    rp = RelyingParty(
        _NoFramework(),
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        server_metadata_url=f"{as_settings.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )
    request = rp.create_authorization_url(redirect_uri=REDIRECT_URI)
    assert {"code_challenge", "nonce"} <= set(_query(request["url"]))

    page = browser.new_page()
    _log_in_and_consent(page, request["url"], user)
    callback = _query(browser.visited[-1])  # type: ignore[attr-defined]
    assert callback["state"] == request["state"]
    assert callback["iss"] == as_settings.issuer

    token = rp.fetch_access_token(
        redirect_uri=REDIRECT_URI, code=callback["code"], code_verifier=request["code_verifier"]
    )
    claims = rp.parse_id_token(token, nonce=request["nonce"])
    assert (claims["sub"], claims["name"], claims["email"]) == (user.id, user.name, user.email)
    assert claims["aud"] == client["client_id"] and claims["iss"] == as_settings.issuer
    # Authlib checks what it is given: another nonce, another access token are refused.
    with pytest.raises(InvalidClaimError, match="nonce"):
        rp.parse_id_token(token, nonce="another-nonce")
    with pytest.raises(InvalidClaimError, match="at_hash"):
        rp.parse_id_token(
            {**token, "access_token": "x" + token["access_token"]}, nonce=request["nonce"]
        )

    info = rp.userinfo(token=token)
    assert (info["sub"], info["name"], info["email_verified"]) == (user.id, user.name, True)

    logout = rp.create_logout_url(
        post_logout_redirect_uri=SIGNED_OUT, id_token_hint=token["id_token"]
    )
    page.goto(logout["url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out of Droplet Cloud?")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("client page")
    assert _query(browser.visited[-1])["state"] == logout["state"]  # type: ignore[attr-defined]
    page.goto(f"{as_settings.issuer}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Droplet Cloud")
