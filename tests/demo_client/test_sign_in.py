"""Sign in with Droplet Cloud (OpenID Connect) inside Dropletbook, the provider faked: the
request, the ID Token checks as the user meets them (a clear refusal page), UserInfo, and
sign-out through the end-session endpoint."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.demo_client.sessions import COOKIE
from tests.demo_client.conftest import ISSUER, Browser
from tests.demo_client.fakes import AS_INTERNAL
from tests.demo_client.oidc_fakes import (
    END_SESSION_ENDPOINT,
    USERINFO_PATH,
    FakeProvider,
    signing_key,
)
from tests.demo_client.test_code_flow import csrf


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start(browser: Browser) -> dict[str, str]:
    response = browser.get("/signin/start")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{ISSUER}/v1/oauth/authorize?")
    return query(location)


def come_back(browser: Browser, fake: FakeProvider, **claims: Any) -> httpx.Response:
    """Start, let the provider echo the nonce (with `claims` changed), and come back."""
    params = start(browser)
    fake.nonce = params["nonce"]
    fake.claims.update(claims)
    return browser.get(
        "/signin/callback", params={"code": "c-1", "state": params["state"], "iss": ISSUER}
    )


def sign_in(browser: Browser, fake: FakeProvider) -> None:
    response = come_back(browser, fake)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/signin"


def test_sign_in_asks_for_openid_with_nonce_pkce_and_state(browser: Browser) -> None:
    params = start(browser)
    assert params["response_type"] == "code"
    assert params["client_id"] == "dropletbook"
    assert params["redirect_uri"] == "http://testserver/signin/callback"
    assert params["scope"] == "openid profile email"
    assert params["code_challenge_method"] == "S256"
    assert len(params["nonce"]) >= 32 and len(params["state"]) >= 32
    again = start(browser)
    assert again["nonce"] != params["nonce"] and again["state"] != params["state"]


def test_signed_in_user_is_named_from_userinfo(browser: Browser, fake: FakeProvider) -> None:
    sign_in(browser, fake)
    page = browser.get("/signin")
    assert page.status_code == 200
    assert "Signed in with Droplet Cloud as Demo User." in page.text  # the notice
    assert '<strong class="signed-in-name">Demo User</strong>' in page.text
    assert '<span class="signed-in-email">demo@example.com</span>' in page.text
    (userinfo,) = [r for r in fake.requests if r.url.path == USERINFO_PATH]
    assert str(userinfo.url) == f"{AS_INTERNAL}{USERINFO_PATH}"
    assert userinfo.headers["authorization"] == "Bearer access-1"
    (exchange,) = fake.token_requests()
    assert exchange["redirect_uri"] == "http://testserver/signin/callback"
    assert exchange["code_verifier"]
    home = browser.get("/")
    assert '<strong class="signed-in-name">Demo User</strong>' in home.text
    cookie = browser.cookies[COOKIE]
    assert fake.id_tokens[0] not in cookie and "access-1" not in cookie


def test_inspector_shows_the_decoded_id_token_and_every_check(
    browser: Browser, fake: FakeProvider
) -> None:
    sign_in(browser, fake)
    page = browser.get("/inspector").text
    flow = page[page.index('id="inspector-signin"') :]
    assert "Decoded ID Token (JWT)" in flow
    assert "<td>nonce</td><td><code>" + fake.nonce in flow
    assert "The ID Token passed every check" in flow
    for check in (
        "format",
        "alg",
        "signature",
        "iss",
        "aud",
        "exp",
        "iat, sub",
        "nonce",
        "at_hash",
    ):
        assert f"<td>{check}</td><td><code>passed</code></td>" in flow, check
    assert "FAILED" not in flow
    assert "API call: GET /v1/oauth/userinfo" in flow
    assert fake.id_tokens[0] not in page  # shown masked, never whole


OTHER_KEY = signing_key("RS256", kid="provider-key-impostor")


@pytest.mark.parametrize(
    ("claims", "signer", "check"),
    [
        pytest.param({"nonce": "another-sign-in"}, None, "nonce", id="wrong-nonce"),
        pytest.param({"nonce": None}, None, "nonce", id="no-nonce"),
        pytest.param({"aud": "someone-else"}, None, "aud", id="wrong-aud"),
        pytest.param({"aud": ["dropletbook", "x"]}, None, "aud", id="several-aud-no-azp"),
        pytest.param({"iss": "https://evil.example"}, None, "iss", id="wrong-iss"),
        pytest.param({"exp": 1_000_000}, None, "exp", id="expired"),
        pytest.param({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, None, "at_hash", id="bad-at-hash"),
        pytest.param({}, OTHER_KEY, "signature", id="unknown-kid"),
    ],
)
def test_bad_id_token_is_refused_with_a_clear_page(
    browser: Browser, fake: FakeProvider, claims: dict[str, Any], signer: Any, check: str
) -> None:
    if signer is not None:
        fake.signer = signer
    response = come_back(browser, fake, **claims)
    assert response.status_code == 400
    assert "<h1>Refused: the ID Token is not valid</h1>" in response.text
    assert f"failed the {check} check" in response.text
    assert "Nobody was signed in" in response.text
    page = browser.get("/signin").text
    assert "signed-in-name" not in page and 'href="/signin/start"' in page
    assert f"<td>{check}</td><td><code>FAILED</code></td>" in page
    assert not [r for r in fake.requests if r.url.path == USERINFO_PATH]


def test_forged_signature_is_refused(browser: Browser, fake: FakeProvider) -> None:
    """Signed by another key that claims the published key's kid."""
    fake.signer = signing_key("RS256", kid="impostor-with-stolen-kid")
    fake.signer = type(fake.signer)(kid="provider-key", algorithm="RS256", key=fake.signer.key)
    response = come_back(browser, fake)
    assert response.status_code == 400
    assert "failed the signature check" in response.text
    assert "does not verify with key provider-key" in response.text


def test_missing_id_token_is_refused(browser: Browser, fake: FakeProvider) -> None:
    fake.issue_id_token = False
    response = come_back(browser, fake)
    assert response.status_code == 502
    assert "Refused: no ID Token" in response.text
    assert "signed-in-name" not in browser.get("/signin").text


def test_algorithm_the_provider_does_not_advertise_is_refused(
    browser: Browser, fake: FakeProvider
) -> None:
    fake.discovery["id_token_signing_alg_values_supported"] = ["ES256"]  # and we sign RS256
    response = come_back(browser, fake)
    assert response.status_code == 400
    assert "failed the alg check" in response.text


def test_userinfo_about_another_user_is_refused(browser: Browser, fake: FakeProvider) -> None:
    fake.userinfo["sub"] = "u-2"
    response = come_back(browser, fake)
    assert response.status_code == 502
    assert "UserInfo is about someone else" in response.text
    assert "signed-in-name" not in browser.get("/signin").text


def test_provider_with_another_issuer_is_refused(browser: Browser, fake: FakeProvider) -> None:
    fake.discovery["issuer"] = "https://evil.example"
    response = come_back(browser, fake)
    assert response.status_code == 502
    assert "Droplet Cloud cannot sign you in" in response.text
    assert "openid-configuration" in response.text


def test_sign_out_goes_through_the_end_session_endpoint(
    browser: Browser, fake: FakeProvider
) -> None:
    sign_in(browser, fake)
    response = browser.post("/signout", data={"csrf_token": csrf(browser, "/signin")})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(END_SESSION_ENDPOINT + "?")
    params = query(location)
    assert params["id_token_hint"] == fake.id_tokens[0]
    assert params["post_logout_redirect_uri"] == "http://testserver/signout/done"
    assert params["client_id"] == "dropletbook"
    assert ("refresh-1", "refresh_token") in fake.revoked
    assert "signed-in-name" not in browser.get("/signin").text  # forgotten already
    inspector = browser.get("/inspector").text
    assert "Sign out at Droplet Cloud" in inspector and fake.id_tokens[0] not in inspector

    back = browser.get("/signout/done", params={"state": params["state"]})
    assert back.status_code == 303 and back.headers["location"] == "/signin"
    assert "Signed out of Dropletbook and Droplet Cloud." in browser.get("/signin").text
    replay = browser.get("/signout/done", params={"state": params["state"]})
    assert replay.status_code == 400
    assert "this sign-out was not started here" in replay.text


def test_sign_out_needs_the_pages_csrf_token(browser: Browser, fake: FakeProvider) -> None:
    sign_in(browser, fake)
    response = browser.post("/signout", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "signed-in-name" in browser.get("/signin").text


def test_deny_at_sign_in_is_shown_plainly(browser: Browser, fake: FakeProvider) -> None:
    params = start(browser)
    response = browser.get(
        "/signin/callback",
        params={"error": "access_denied", "state": params["state"], "iss": ISSUER},
    )
    assert response.status_code == 403
    assert "<h1>You chose Deny</h1>" in response.text
    assert 'href="/signin"' in response.text  # back to the sign-in page
    assert fake.token_requests() == []


def test_replayed_callback_is_refused_and_exchanges_nothing(
    browser: Browser, fake: FakeProvider
) -> None:
    """The state (and with it the nonce) is good for one response only."""
    params = start(browser)
    fake.nonce = params["nonce"]
    callback = {"code": "c-1", "state": params["state"], "iss": ISSUER}
    assert browser.get("/signin/callback", params=callback).status_code == 303
    replay = browser.get("/signin/callback", params=callback)
    assert replay.status_code == 400
    assert "state did not match" in replay.text
    assert len(fake.token_requests()) == 1


def test_provider_down_at_the_callback_is_a_plain_502(browser: Browser, fake: FakeProvider) -> None:
    params = start(browser)
    fake.unreachable_paths = {"/.well-known/openid-configuration"}
    response = browser.get(
        "/signin/callback", params={"code": "c-1", "state": params["state"], "iss": ISSUER}
    )
    assert response.status_code == 502
    assert "Droplet Cloud cannot sign you in" in response.text
    assert "ConnectError" in response.text
    assert fake.token_requests() == []
