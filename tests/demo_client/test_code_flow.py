"""Connect with Droplet Cloud, end to end inside Dropletbook with a faked back channel."""

import re
from urllib.parse import parse_qs, urlsplit

from services.demo_client.oauth import s256_challenge
from services.demo_client.settings import Settings
from tests.demo_client.conftest import ISSUER
from tests.demo_client.fakes import AS_INTERNAL, FakeServers, basic_credentials
from tests.harness.browser import Browser


def start(browser: Browser, access: str = "read") -> dict[str, str]:
    """Click Connect; return the authorization request's parameters."""
    response = browser.get("/connect", params={"access": access})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{ISSUER}/v1/oauth/authorize?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(browser: Browser, code: str = "read-code") -> dict[str, str]:
    params = start(browser)
    response = browser.get(
        "/callback", params={"code": code, "state": params["state"], "iss": ISSUER}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"
    return params


def csrf(browser: Browser, page: str = "/") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(page).text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_connect_sends_state_and_s256_challenge(
    browser: Browser, client_settings: Settings
) -> None:
    params = start(browser)
    assert params["response_type"] == "code"
    assert params["client_id"] == "dropletbook"
    assert params["redirect_uri"] == "http://testserver/callback"
    assert params["scope"] == "read"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 32
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", params["code_challenge"])
    assert start(browser)["state"] != params["state"]


def test_session_cookie_is_http_only_and_holds_no_token(
    browser: Browser, fake: FakeServers
) -> None:
    response = browser.get("/connect")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("dropletbook_session=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    connect(browser)
    assert all("access-" not in c and "refresh-" not in c for c in browser.cookies.values())


def test_callback_exchanges_the_code_with_verifier_and_client_secret(
    browser: Browser, fake: FakeServers
) -> None:
    params = connect(browser)
    (exchange,) = [r for r in fake.requests if r.url.path == "/v1/oauth/token"]
    assert basic_credentials(exchange) == ("dropletbook", "dropletbook-demo-secret")
    form = fake.token_requests()[0]
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "read-code"
    assert form["redirect_uri"] == "http://testserver/callback"
    assert s256_challenge(form["code_verifier"]) == params["code_challenge"]
    assert "client_secret" not in form


def test_dashboard_shows_account_and_droplets_never_the_token(
    browser: Browser, fake: FakeServers
) -> None:
    fake.droplets.append(
        {"id": 7, "name": "web-7", "region": "ams3", "size": "s-1vcpu-1gb",
         "image": "debian-12-x64", "status": "active"}
    )  # fmt: skip
    connect(browser)
    page = browser.get("/dashboard")
    assert page.status_code == 200
    assert "demo@example.com" in page.text
    assert "web-7" in page.text
    assert "access-1" not in page.text  # tokens and codes are masked in the inspector
    assert "refresh-1" not in page.text
    assert "read-code" not in page.text
    assert "dropletbook-demo-secret" not in page.text
    assert "Exchange the code for tokens" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'none'" in page.headers["content-security-policy"]


def test_state_mismatch_is_refused_as_csrf(browser: Browser, fake: FakeServers) -> None:
    start(browser)
    response = browser.get("/callback", params={"code": "read-code", "state": "forged"})
    assert response.status_code == 400
    assert "cross-site request forgery" in response.text
    assert fake.token_requests() == []
    assert browser.get("/dashboard").headers["location"] == "/"


def test_callback_without_a_pending_request_is_refused(browser: Browser, fake: FakeServers) -> None:
    response = browser.get("/callback", params={"code": "read-code", "state": "anything"})
    assert response.status_code == 400
    assert "state did not match" in response.text
    assert fake.token_requests() == []


def test_state_is_single_use(browser: Browser, fake: FakeServers) -> None:
    params = start(browser)
    query = {"code": "read-code", "state": params["state"], "iss": ISSUER}
    assert browser.get("/callback", params=query).status_code == 303
    assert browser.get("/callback", params=query).status_code == 400
    assert len(fake.token_requests()) == 1


def test_deny_is_shown_plainly(browser: Browser, fake: FakeServers) -> None:
    params = start(browser)
    query = {"error": "access_denied", "state": params["state"], "iss": ISSUER}
    response = browser.get("/callback", params=query)
    assert response.status_code == 403
    assert "You chose Deny" in response.text
    assert fake.token_requests() == []


def test_other_authorization_errors_are_explained(browser: Browser) -> None:
    params = start(browser)
    query = {
        "error": "invalid_scope",
        "error_description": "scope not allowed",
        "state": params["state"],
        "iss": ISSUER,
    }
    response = browser.get("/callback", params=query)
    assert response.status_code == 400
    assert "invalid_scope: scope not allowed" in response.text


def test_response_from_another_issuer_is_refused(browser: Browser, fake: FakeServers) -> None:
    params = start(browser)
    query = {"code": "read-code", "state": params["state"], "iss": "https://evil.example"}
    response = browser.get("/callback", params=query)
    assert response.status_code == 400
    assert "mix-up" in response.text
    assert fake.token_requests() == []


def test_refused_code_exchange_is_shown(browser: Browser, fake: FakeServers) -> None:
    params = start(browser)
    fake.token_error = {"error": "invalid_grant", "error_description": "code already used"}
    query = {"code": "read-code", "state": params["state"], "iss": ISSUER}
    response = browser.get("/callback", params=query)
    assert response.status_code == 400
    assert "invalid_grant (code already used)" in response.text


def test_unreachable_authorization_server_is_shown_plainly(
    browser: Browser, fake: FakeServers
) -> None:
    fake.unreachable = True
    response = browser.get("/connect")
    assert response.status_code == 502
    assert "Droplet Cloud is unreachable" in response.text
    # The page names the URL that failed: the back-channel one, not the public issuer.
    assert f"{AS_INTERNAL}/.well-known/oauth-authorization-server failed" in response.text
    assert "CLIENT_AS_INTERNAL_URL" in response.text


def test_unreachable_token_endpoint_is_named(browser: Browser, fake: FakeServers) -> None:
    params = start(browser)
    fake.unreachable = True
    query = {"code": "read-code", "state": params["state"], "iss": ISSUER}
    response = browser.get("/callback", params=query)
    assert response.status_code == 502
    assert f"{AS_INTERNAL}/v1/oauth/token failed (ConnectError)" in response.text


def test_expired_token_is_refreshed_with_rotation_and_the_call_retried_once(
    browser: Browser, fake: FakeServers
) -> None:
    connect(browser)
    fake.expired.add("access-1")
    page = browser.get("/dashboard")
    assert page.status_code == 200
    assert "demo@example.com" in page.text
    assert "Refresh the access token (rotation)" in page.text
    assert [f["refresh_token"] for f in fake.token_requests()[1:]] == ["refresh-1"]
    fake.expired.add("access-2")
    assert browser.get("/dashboard").status_code == 200
    # The rotated refresh token is the one used next.
    assert [f["refresh_token"] for f in fake.token_requests()[1:]] == ["refresh-1", "refresh-2"]


def test_refused_refresh_asks_to_connect_again(browser: Browser, fake: FakeServers) -> None:
    connect(browser)
    fake.expired.add("access-1")
    fake.refresh.clear()  # e.g. the user revoked the app at Droplet Cloud
    page = browser.get("/dashboard")
    assert page.status_code == 401
    assert "Your authorization has ended" in page.text
    assert browser.get("/dashboard").headers["location"] == "/"


def test_read_only_app_asks_again_for_write_and_says_why(
    browser: Browser, fake: FakeServers
) -> None:
    connect(browser)
    page = browser.get("/dashboard")
    assert "Ask for write access" in page.text
    token = csrf(browser, "/dashboard")
    droplet = {"name": "web-1", "region": "ams3", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
    response = browser.post("/droplets", data={"csrf_token": token, **droplet})
    assert response.headers["location"] == "/write-access"
    assert "needs the write scope" in browser.get("/write-access").text
    assert fake.droplets == []
    params = start(browser, access="write")
    assert params["scope"] == "read write"
    query = {"code": "write-code", "state": params["state"], "iss": ISSUER}
    assert browser.get("/callback", params=query).status_code == 303
    assert "read and write access" in browser.get("/dashboard").text
    token = csrf(browser, "/dashboard")  # the grant gave the session a new id and CSRF token
    response = browser.post("/droplets", data={"csrf_token": token, **droplet})
    assert response.headers["location"] == "/dashboard"
    assert fake.droplets[0]["name"] == "web-1"
    assert "Droplet web-1 created." in browser.get("/dashboard").text
    response = browser.post("/droplets/1/delete", data={"csrf_token": token})
    assert response.headers["location"] == "/dashboard"
    assert fake.droplets == []


def test_insufficient_scope_from_the_api_leads_to_the_write_page(
    browser: Browser, fake: FakeServers
) -> None:
    params = start(browser, access="write")
    browser.get("/callback", params={"code": "write-code", "state": params["state"], "iss": ISSUER})
    fake.access["access-1"] = "read"  # the API sees less than the token response said
    token = csrf(browser, "/dashboard")
    droplet = {"name": "web-1", "region": "ams3", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
    response = browser.post("/droplets", data={"csrf_token": token, **droplet})
    assert response.headers["location"] == "/write-access"


def test_forms_without_the_session_csrf_token_are_refused(
    browser: Browser, fake: FakeServers
) -> None:
    connect(browser)
    response = browser.post("/disconnect", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert fake.revoked == []


def test_disconnect_revokes_refresh_and_access_tokens(browser: Browser, fake: FakeServers) -> None:
    connect(browser)
    response = browser.post("/disconnect", data={"csrf_token": csrf(browser, "/dashboard")})
    assert response.headers["location"] == "/"
    assert fake.revoked == [("refresh-1", "refresh_token"), ("access-1", "access_token")]
    revoke = next(r for r in fake.requests if r.url.path == "/v1/oauth/revoke")
    assert basic_credentials(revoke) == ("dropletbook", "dropletbook-demo-secret")
    assert "Disconnected" in browser.get("/").text
    assert browser.get("/dashboard").headers["location"] == "/"


def test_droplets_are_shown_a_page_at_a_time(browser: Browser, fake: FakeServers) -> None:
    for number in range(1, 13):
        fake.droplets.append(
            {"id": number, "name": f"web-{number}", "region": "ams3", "size": "s-1vcpu-1gb",
             "image": "debian-12-x64", "status": "active"}
        )  # fmt: skip
    connect(browser)
    first = browser.get("/dashboard").text
    assert "web-10<" in first
    assert "web-11<" not in first
    assert "Next page" in first
    assert "Previous page" not in first
    second = browser.get("/dashboard", params={"page": 2}).text
    assert "web-11<" in second
    assert "web-10<" not in second
    assert "Previous page" in second
    assert "12 droplet(s) in all." in second
    listing = [r for r in fake.requests if r.url.path == "/v2/droplets"][-1]
    assert listing.url.params["per_page"] == "10"
    assert browser.get("/dashboard", params={"page": 0}).status_code == 422


def test_response_without_iss_is_refused_when_the_server_always_sends_it(
    browser: Browser, fake: FakeServers
) -> None:
    """RFC 9207 §2.4: the metadata says `authorization_response_iss_parameter_supported`."""
    params = start(browser)
    response = browser.get("/callback", params={"code": "read-code", "state": params["state"]})
    assert response.status_code == 400
    assert "no iss parameter" in response.text
    assert "mix-up" in response.text
    assert fake.token_requests() == []
    assert browser.get("/dashboard").headers["location"] == "/"


def test_response_without_iss_is_accepted_from_a_server_that_never_sends_it(
    browser: Browser, fake: FakeServers
) -> None:
    fake.metadata = {}
    params = start(browser)
    response = browser.get("/callback", params={"code": "read-code", "state": params["state"]})
    assert response.status_code == 303
    assert len(fake.token_requests()) == 1


def _callback(browser: Browser, params: dict[str, str], code: str) -> None:
    query = {"code": code, "state": params["state"], "iss": ISSUER}
    response = browser.get("/callback", params=query)
    assert response.status_code == 303, response.text


def test_connect_while_holding_write_asks_for_the_union_and_keeps_it(
    browser: Browser, fake: FakeServers
) -> None:
    """The server has no include_granted_scopes: asking for read alone would get a read-only
    grant in place of the read write one."""
    _callback(browser, start(browser, access="write"), "write-code")
    params = start(browser, access="read")
    assert params["scope"] == "read write"
    _callback(browser, params, "write-code")
    page = browser.get("/dashboard").text
    assert '<code class="granted-scope">read write</code>' in page
    assert "Dropletbook keeps what you granted" in page
    assert "Why Dropletbook asks again" not in page  # it holds write: nothing to ask again


def test_a_new_grant_revokes_the_one_it_replaces(browser: Browser, fake: FakeServers) -> None:
    """So that Disconnect, which revokes the grant Dropletbook holds, leaves none behind."""
    connect(browser)
    _callback(browser, start(browser, access="write"), "write-code")
    assert fake.revoked == [("refresh-1", "refresh_token")]
    assert "Revoke the grant this one replaces" in browser.get("/dashboard").text
    response = browser.post("/disconnect", data={"csrf_token": csrf(browser, "/dashboard")})
    assert response.headers["location"] == "/"
    assert fake.revoked[1:] == [("refresh-2", "refresh_token"), ("access-2", "access_token")]


def test_an_unreachable_server_does_not_undo_the_new_grant(
    browser: Browser, fake: FakeServers
) -> None:
    connect(browser)
    params = start(browser, access="write")
    fake.unreachable_paths.add("/v1/oauth/revoke")
    _callback(browser, params, "write-code")
    page = browser.get("/dashboard").text
    assert '<code class="granted-scope">read write</code>' in page
    assert f"POST {AS_INTERNAL}/v1/oauth/revoke failed (ConnectError)" in page


def test_no_backticks_in_what_the_inspector_says(browser: Browser, fake: FakeServers) -> None:
    connect(browser)
    _callback(browser, start(browser, access="write"), "write-code")
    fake.expired.add("access-2")  # a refresh too
    browser.get("/dashboard")
    browser.post("/disconnect", data={"csrf_token": csrf(browser, "/dashboard")})
    page = browser.get("/inspector")
    for step in ("Authorization request", "Refresh the access token", "Disconnect: revoke"):
        assert step in page.text
    assert "`" not in page.text


def test_refresh_now_rotates_the_refresh_token_and_shows_it(
    browser: Browser, fake: FakeServers
) -> None:
    connect(browser)
    response = browser.post("/refresh", data={"csrf_token": csrf(browser, "/dashboard")})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert [f["refresh_token"] for f in fake.token_requests()[1:]] == ["refresh-1"]
    assert "the refresh token rotated" in browser.get("/dashboard").text
    inspector = browser.get("/inspector").text
    assert "Refresh now (you asked)" in inspector
    assert "The refresh token rotated" in inspector
    assert "refresh-1" not in inspector and "refresh-2" not in inspector  # masked
    # The rotated token is the one the next refresh sends.
    browser.post("/refresh", data={"csrf_token": csrf(browser, "/dashboard")})
    assert [f["refresh_token"] for f in fake.token_requests()[1:]] == ["refresh-1", "refresh-2"]


def test_refresh_now_needs_a_connection_and_the_csrf_token(
    browser: Browser, fake: FakeServers
) -> None:
    token = csrf(browser, "/password")  # a page with a form before any connection
    assert browser.post("/refresh", data={"csrf_token": token}).status_code == 401
    connect(browser)
    assert browser.post("/refresh", data={"csrf_token": "forged"}).status_code == 403
    assert fake.token_requests()[1:] == []


def test_refused_refresh_now_ends_the_grant(browser: Browser, fake: FakeServers) -> None:
    connect(browser)
    fake.refresh.clear()  # e.g. the user revoked the app at Droplet Cloud
    response = browser.post("/refresh", data={"csrf_token": csrf(browser, "/dashboard")})
    assert response.status_code == 401
    assert "Your authorization has ended" in response.text
    assert browser.get("/dashboard").headers["location"] == "/"
