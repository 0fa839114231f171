"""The implicit, password and client credentials pages, with a faked back channel."""

import re
from urllib.parse import parse_qs, urlsplit

from tests.demo_client.conftest import ISSUER
from tests.demo_client.fakes import FakeServers, basic_credentials
from tests.demo_client.test_code_flow import csrf
from tests.harness.browser import Browser


def start_implicit(browser: Browser) -> dict[str, str]:
    response = browser.get("/implicit/start")
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


def test_implicit_request_uses_the_public_client_without_pkce(browser: Browser) -> None:
    params = start_implicit(browser)
    assert params["response_type"] == "token"
    assert params["client_id"] == "dropletbook-implicit"
    assert params["redirect_uri"] == "http://testserver/implicit/callback"
    assert "code_challenge" not in params


def test_implicit_page_explains_the_deprecation(browser: Browser) -> None:
    page = browser.get("/implicit")
    assert "Deprecated" in page.text
    assert "RFC 9700" in page.text


def test_implicit_callback_page_runs_only_our_script(browser: Browser) -> None:
    page = browser.get("/implicit/callback")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert '<script src="/static/implicit.js"></script>' in page.text
    assert 'id="fragment-form"' in page.text
    script = browser.get("/static/implicit.js")
    assert "location.hash" in script.text
    assert "history.replaceState" in script.text


def test_token_from_the_fragment_is_checked_and_used(browser: Browser, fake: FakeServers) -> None:
    params = start_implicit(browser)
    token = fake.issue("read", refresh=False)["access_token"]
    form = {
        "csrf_token": csrf(browser, "/implicit/callback"),
        "access_token": token,
        "token_type": "bearer",
        "expires_in": "3600",
        "scope": "read",
        "state": params["state"],
        "iss": ISSUER,
    }
    response = browser.post("/implicit/token", data=form)
    assert response.status_code == 303, response.text
    page = browser.get("/implicit")
    assert "u-1" in page.text
    assert "Token in the URL fragment" in page.text
    assert token not in page.text


def test_fragment_with_a_foreign_state_is_refused(browser: Browser) -> None:
    start_implicit(browser)
    form = {
        "csrf_token": csrf(browser, "/implicit/callback"),
        "access_token": "stolen",
        "token_type": "bearer",
        "state": "forged",
    }
    response = browser.post("/implicit/token", data=form)
    assert response.status_code == 400
    assert "cross-site request forgery" in response.text


def test_password_grant_uses_the_trusted_client(browser: Browser, fake: FakeServers) -> None:
    form = {
        "csrf_token": csrf(browser, "/password"),
        "username": "demo@example.com",
        "password": "demo-password",
    }
    assert browser.post("/password", data=form).headers["location"] == "/password"
    request = next(r for r in fake.requests if r.url.path == "/v1/oauth/token")
    assert basic_credentials(request) == ("dropletbook-trusted", "dropletbook-trusted-demo-secret")
    assert fake.token_requests()[0]["grant_type"] == "password"
    page = browser.get("/password")
    assert "demo@example.com" in page.text
    assert "demo-password" not in page.text


def test_wrong_password_is_shown_plainly(browser: Browser) -> None:
    form = {
        "csrf_token": csrf(browser, "/password"),
        "username": "demo@example.com",
        "password": "wrong",
    }
    response = browser.post("/password", data=form)
    assert response.status_code == 400
    assert "Wrong email or password." in response.text


def test_a_refused_refresh_on_the_password_page_ends_the_grant(
    browser: Browser, fake: FakeServers
) -> None:
    """The page saves what the failed step changed, as every page does: the dead refresh token
    is forgotten (not sent again on the next visit) and the inspector shows the refusal."""
    form = {
        "csrf_token": csrf(browser, "/password"),
        "username": "demo@example.com",
        "password": "demo-password",
    }
    assert browser.post("/password", data=form).status_code == 303
    fake.expired.add("access-1")
    fake.refresh.clear()  # e.g. the user revoked the app at Droplet Cloud
    page = browser.get("/password")
    assert page.status_code == 401
    assert "Your authorization has ended" in page.text
    page = browser.get("/password")
    assert page.status_code == 200
    assert "Scope <code>" not in page.text  # no token any more: connect again
    assert [f["grant_type"] for f in fake.token_requests()] == ["password", "refresh_token"]
    assert "Refresh refused" in browser.get("/inspector").text


def test_client_credentials_read_and_update_own_registration(
    browser: Browser, fake: FakeServers
) -> None:
    token = csrf(browser, "/client-credentials")
    response = browser.post("/client-credentials/token", data={"csrf_token": token})
    assert response.headers["location"] == "/client-credentials"
    request = next(r for r in fake.requests if r.url.path == "/v1/oauth/token")
    assert basic_credentials(request) == ("dropletbook-service", "dropletbook-service-demo-secret")
    assert fake.token_requests()[0] == {
        "grant_type": "client_credentials",
        "scope": "read write",
        "resource": f"{ISSUER}/v1/apps",  # RFC 8707: a token for the server's own API
    }
    page = browser.get("/client-credentials")
    assert re.search(r'class="registration-description">before<', page.text)
    token = csrf(browser, "/client-credentials")  # the grant gave the session a new id
    form = {
        "csrf_token": token,
        "description": "after",
        "redirect_uris": "https://app.example/cb\n\n",
    }
    response = browser.post("/client-credentials/registration", data=form)
    assert response.headers["location"] == "/client-credentials"
    assert fake.registration["description"] == "after"
    assert fake.registration["redirect_uris"] == ["https://app.example/cb"]
    assert "Registration updated" in browser.get("/client-credentials").text


def test_inspector_lists_every_recorded_flow(browser: Browser, fake: FakeServers) -> None:
    assert "Nothing recorded yet" in browser.get("/inspector").text
    start_implicit(browser)
    token = csrf(browser, "/client-credentials")
    browser.post("/client-credentials/token", data={"csrf_token": token})
    page = browser.get("/inspector").text
    assert "Implicit grant (deprecated)" in page
    assert "Client credentials" in page
    assert "dropletbook-service-demo-secret" not in page


def test_healthz(browser: Browser) -> None:
    response = browser.get("/healthz")
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers


def test_fragment_without_iss_is_refused(browser: Browser, fake: FakeServers) -> None:
    """RFC 9207 §2.4 for the implicit grant too."""
    params = start_implicit(browser)
    token = fake.issue("read", refresh=False)["access_token"]
    form = {
        "csrf_token": csrf(browser, "/implicit/callback"),
        "access_token": token,
        "token_type": "bearer",
        "state": params["state"],
    }
    response = browser.post("/implicit/token", data=form)
    assert response.status_code == 400
    assert "no iss parameter" in response.text
    assert "implicit-account-id" not in browser.get("/implicit").text
    assert not any(r.url.path == "/v2/account" for r in fake.requests)
