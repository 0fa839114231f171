"""Authorization endpoint over HTTP (in-process), RFC 6749 §4.1 and §4.2: login, consent, redirect.

Errors before the client and redirect URI are verified are shown, never redirected; later
ones go back to the client with `error`, `state` and `iss` (RFC 9207).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from services.authorization_server.pkce import s256_challenge
from services.authorization_server.tokens import read_access_token
from tests.authorization_server.state import row_count, snapshot
from tests.factories import PASSWORD, VERIFIER, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import csrf_token, hidden_fields, redirect_params, redirect_target

CALLBACK = "http://127.0.0.1:8080/callback"
OTHER_CALLBACK = "http://127.0.0.1:8080/other"
QUERY_CALLBACK = "https://dropletbook.example/cb?app=1"
STATE = "st4te with spaces & symbols=/?"


@dataclass
class World:
    server: AuthorizationServer
    context: ServerContext
    issuer: str
    app: Client  # confidential, one redirect URI
    secret: str
    multi: Client  # two redirect URIs
    public: Client
    implicit: Client


@pytest.fixture(scope="module")
def world(as_server: AuthorizationServer, as_context: ServerContext) -> World:
    ctx = as_context
    app, secret = make_client(ctx)
    multi, _ = make_client(
        ctx, name="Multi", redirect_uris=(CALLBACK, OTHER_CALLBACK, QUERY_CALLBACK)
    )
    public, _ = make_client(ctx, name="Public App", client_type="public")
    implicit, _ = make_client(
        ctx, name="Implicit App", client_type="public", grant_types=("implicit",)
    )
    assert secret
    return World(as_server, ctx, as_context.settings.issuer, app, secret, multi, public, implicit)


_users = iter(range(1_000_000))


@pytest.fixture
def user(world: World) -> User:
    """A fresh user per test, so remembered consent never leaks between tests."""
    return make_user(world.context, email=f"user{next(_users)}@example.com", name="Some One")


@pytest.fixture
def browser(world: World) -> Iterator[Browser]:
    browser = world.server.browser()
    yield browser
    browser.close()


@pytest.fixture
def signed_in(browser: Browser, user: User) -> Browser:
    response = browser.login(user.email, PASSWORD)
    assert response.status_code == 303, response.text
    return browser


def _params(client: Client, **overrides: str | None) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "scope": "read",
        "state": STATE,
        "code_challenge": s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def _assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-type"].startswith("text/html")


def _assert_no_cors(response: httpx.Response) -> None:
    assert not any(name.startswith("access-control-") for name in response.headers)


# --- errors shown to the user, never redirected -------------------------------------------

SHOWN = [
    pytest.param(lambda w: _params(w.app, client_id="no-such-client"), id="unknown-client_id"),
    pytest.param(lambda w: _params(w.app, client_id=None), id="missing-client_id"),
    pytest.param(lambda w: _params(w.app, client_id="a\x00b"), id="nul-in-client_id"),
    pytest.param(lambda w: _params(w.app, client_id="x" * 5000), id="huge-client_id"),
    pytest.param(
        lambda w: _params(w.app, redirect_uri="https://evil.example/callback"),
        id="unregistered-redirect_uri",
    ),
    pytest.param(
        lambda w: _params(w.app, redirect_uri=CALLBACK + "/"), id="redirect_uri-not-exact"
    ),
    pytest.param(lambda w: _params(w.app, redirect_uri=CALLBACK.upper()), id="redirect_uri-case"),
    pytest.param(
        lambda w: _params(w.app, redirect_uri=CALLBACK + "?x=1"), id="redirect_uri-extra-query"
    ),
    pytest.param(
        lambda w: _params(w.multi, redirect_uri=None), id="redirect_uri-omitted-with-several"
    ),
    pytest.param(
        lambda w: [*_params(w.app).items(), ("client_id", w.app.client_id)],
        id="repeated-client_id",
    ),
    pytest.param(
        lambda w: [*_params(w.app).items(), ("redirect_uri", CALLBACK)],
        id="repeated-redirect_uri",
    ),
]


@pytest.mark.parametrize("build", SHOWN)
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_errors_before_the_redirect_uri_is_trusted_are_shown(
    world: World, browser: Browser, user: User, build, logged_in: bool
) -> None:
    if logged_in:
        browser.login(user.email, PASSWORD)
    codes = row_count(world.context.engine, "authorizationcode")
    response = browser.authorize(build(world))
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert "This request cannot be completed" in response.text
    assert "invalid_request" in response.text
    _assert_page_headers(response)
    _assert_no_cors(response)
    assert row_count(world.context.engine, "authorizationcode") == codes


# --- errors redirected to the client ------------------------------------------------------

REDIRECTED = [
    pytest.param(
        lambda w: _params(w.app, response_type=None),
        "invalid_request",
        False,
        id="missing-response_type",
    ),
    pytest.param(
        lambda w: _params(w.app, response_type="code id_token"),
        "unsupported_response_type",
        False,
        id="unsupported-response_type",
    ),
    pytest.param(
        lambda w: _params(w.app, response_type="device"),
        "unsupported_response_type",
        False,
        id="unknown-response_type",
    ),
    pytest.param(
        lambda w: _params(w.app, scope="admin"), "invalid_scope", False, id="unknown-scope"
    ),
    pytest.param(
        lambda w: _params(w.app, scope="read  write"), "invalid_scope", False, id="malformed-scope"
    ),
    pytest.param(
        lambda w: _params(w.app, code_challenge_method="plain", code_challenge=VERIFIER),
        "invalid_request",
        False,
        id="plain-pkce",
    ),
    pytest.param(
        lambda w: _params(w.app, code_challenge_method=None),
        "invalid_request",
        False,
        id="pkce-without-method",
    ),
    pytest.param(
        lambda w: _params(w.app, code_challenge="short"),
        "invalid_request",
        False,
        id="bad-challenge",
    ),
    pytest.param(
        lambda w: _params(w.public, code_challenge=None, code_challenge_method=None),
        "invalid_request",
        False,
        id="public-client-without-pkce",
    ),
    pytest.param(
        lambda w: [*_params(w.app).items(), ("scope", "write")],
        "invalid_request",
        False,
        id="repeated-scope",
    ),
    pytest.param(
        lambda w: [*_params(w.app).items(), ("response_type", "code")],
        "invalid_request",
        False,
        id="repeated-response_type",
    ),
    pytest.param(
        lambda w: _params(w.app, state="x" * 2001), "invalid_request", False, id="huge-state"
    ),
    pytest.param(
        lambda w: _params(w.app, response_type="token"),
        "unauthorized_client",
        True,
        id="implicit-not-allowed",
    ),
    pytest.param(
        lambda w: _params(w.implicit, response_type="code"),
        "unauthorized_client",
        False,
        id="code-not-allowed",
    ),
]


@pytest.mark.parametrize(("build", "error", "fragment"), REDIRECTED)
def test_later_errors_are_redirected_with_state_and_iss(
    world: World, signed_in: Browser, build, error: str, fragment: bool
) -> None:
    params = build(world)
    codes = row_count(world.context.engine, "authorizationcode")
    response = signed_in.authorize(params)
    assert response.status_code == 303, response.text
    assert redirect_target(response) == CALLBACK
    answer = redirect_params(response, fragment=fragment)
    assert answer["error"] == error
    assert answer["error_description"]
    assert answer["iss"] == world.issuer
    assert answer["state"] == dict(params)["state"]
    assert "code" not in answer
    assert row_count(world.context.engine, "authorizationcode") == codes


def test_error_redirect_without_state_has_no_state(world: World, browser: Browser) -> None:
    response = browser.authorize(_params(world.app, scope="admin", state=None))
    assert response.status_code == 303
    answer = redirect_params(response)
    assert set(answer) == {"error", "error_description", "iss"}


# --- login -------------------------------------------------------------------------------


def test_anonymous_user_is_sent_to_login_and_back(
    world: World, browser: Browser, user: User
) -> None:
    params = _params(world.app)
    response = browser.authorize(params)
    assert response.status_code == 303
    assert redirect_target(response) == "/login"
    next_url = redirect_params(response)["next"]
    assert next_url.startswith("/v1/oauth/authorize?")
    login_page = browser.http.get(response.headers["location"])
    assert login_page.status_code == 200
    _assert_page_headers(login_page)
    assert hidden_fields(login_page.text)["next"] == next_url
    logged_in = browser.http.post(
        "/login", data=hidden_fields(login_page.text) | {"email": user.email, "password": PASSWORD}
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == next_url
    consent = browser.http.get(next_url)
    assert consent.status_code == 200
    assert (
        f"would like permission to access your account: <strong>{user.email}</strong>"
        in consent.text
    )
    sent = hidden_fields(consent.text)
    for name in ("client_id", "redirect_uri", "scope", "state", "code_challenge", "response_type"):
        assert sent[name] == params[name]


def test_wrong_password_shows_the_form_again(world: World, browser: Browser, user: User) -> None:
    response = browser.login(user.email, "not the password")
    assert response.status_code == 400
    assert "Wrong email or password." in response.text
    assert "as_session" not in response.cookies
    _assert_page_headers(response)


@pytest.mark.parametrize("csrf", [None, "forged"], ids=["missing", "wrong"])
def test_login_needs_the_csrf_token(browser: Browser, user: User, csrf: str | None) -> None:
    browser.http.get("/login")
    form = {"email": user.email, "password": PASSWORD}
    if csrf:
        form["csrf_token"] = csrf
    response = browser.http.post("/login", data=form)
    assert response.status_code == 403
    assert "as_session" not in response.cookies


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "//evil.example/path",
        "https://evil.example",
        "http://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "///evil.example",
    ],
)
def test_login_next_never_leaves_the_site(browser: Browser, user: User, next_url: str) -> None:
    response = browser.login(user.email, PASSWORD, next_url=next_url)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location
    again = browser.http.get("/login", params={"next": next_url})  # already logged in
    assert again.status_code == 303
    assert "evil" not in again.headers["location"]
    assert not again.headers["location"].startswith(("//", "/\\"))


def test_login_next_keeps_local_paths(browser: Browser, user: User) -> None:
    response = browser.login(user.email, PASSWORD, next_url="/v1/oauth/authorize?a=1&b=2")
    assert response.headers["location"] == "/v1/oauth/authorize?a=1&b=2"


# --- consent -----------------------------------------------------------------------------


def test_consent_page(world: World, signed_in: Browser, user: User) -> None:
    page = signed_in.authorize(_params(world.app, scope="read write"))
    assert page.status_code == 200
    _assert_page_headers(page)
    _assert_no_cors(page)
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert (
        "<strong>Dropletbook</strong> would like permission to access your account: "
        f"<strong>{user.email}</strong>" in text
    )
    assert "<li>Read</li>" in text and "<li>Write</li>" in text
    assert 'href="https://dropletbook.example"' in text
    assert "Visit application website" in text
    assert ">Authorize Application</button>" in text
    assert ">Deny</button>" in text
    assert csrf_token(text)


def test_consent_lists_only_requested_permissions(world: World, signed_in: Browser) -> None:
    page = signed_in.authorize(_params(world.app, scope="read"))
    assert "<li>Read</li>" in page.text
    assert "<li>Write</li>" not in page.text


@pytest.mark.parametrize("csrf", [None, "forged", ""], ids=["missing", "wrong", "empty"])
def test_consent_post_needs_the_csrf_token(
    world: World, signed_in: Browser, csrf: str | None
) -> None:
    page = signed_in.authorize(_params(world.app))
    form = hidden_fields(page.text) | {"decision": "approve"}
    if csrf is None:
        del form["csrf_token"]
    else:
        form["csrf_token"] = csrf
    codes = row_count(world.context.engine, "authorizationcode")
    consents = row_count(world.context.engine, "consent")
    response = signed_in.http.post("/v1/oauth/authorize/decision", data=form)
    assert response.status_code == 403
    assert "location" not in response.headers
    _assert_page_headers(response)
    assert row_count(world.context.engine, "authorizationcode") == codes
    assert row_count(world.context.engine, "consent") == consents


def test_csrf_token_of_another_browser_is_refused(
    world: World, signed_in: Browser, user: User
) -> None:
    other = world.server.browser()
    try:
        foreign = csrf_token(other.http.get("/login").text)
    finally:
        other.close()
    page = signed_in.authorize(_params(world.app))
    form = hidden_fields(page.text) | {"decision": "approve", "csrf_token": foreign}
    assert signed_in.http.post("/v1/oauth/authorize/decision", data=form).status_code == 403


def test_deny(world: World, signed_in: Browser) -> None:
    codes = row_count(world.context.engine, "authorizationcode")
    response = signed_in.decide(signed_in.authorize(_params(world.app)), "deny")
    assert response.status_code == 303
    assert redirect_target(response) == CALLBACK
    answer = redirect_params(response)
    assert answer["error"] == "access_denied"
    assert (answer["state"], answer["iss"]) == (STATE, world.issuer)
    assert row_count(world.context.engine, "authorizationcode") == codes
    # nothing remembered: the next request asks again
    assert signed_in.authorize(_params(world.app)).status_code == 200


def test_approve_issues_a_code_the_client_can_exchange(
    world: World, signed_in: Browser, user: User
) -> None:
    response = signed_in.decide(
        signed_in.authorize(_params(world.app, scope="read write")), "approve"
    )
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    assert redirect_target(response) == CALLBACK
    answer = redirect_params(response)
    assert set(answer) == {"code", "state", "iss"}
    assert (answer["state"], answer["iss"]) == (STATE, world.issuer)
    token = world.server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
        auth=(world.app.client_id, world.secret),
    )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "read write"
    assert token.json()["info"]["email"] == user.email


def test_approve_for_a_public_client(world: World, signed_in: Browser) -> None:
    response = signed_in.decide(signed_in.authorize(_params(world.public)), "approve")
    code = redirect_params(response)["code"]
    token = world.server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
            "client_id": world.public.client_id,
        },
    )
    assert token.status_code == 200, token.text


def test_redirect_uri_keeps_its_own_query(world: World, signed_in: Browser) -> None:
    page = signed_in.authorize(_params(world.multi, redirect_uri=QUERY_CALLBACK))
    response = signed_in.decide(page, "approve")
    assert redirect_target(response) == "https://dropletbook.example/cb"
    answer = redirect_params(response)
    assert answer["app"] == "1"
    assert answer["code"]


def test_omitted_redirect_uri_uses_the_only_registered_one(
    world: World, signed_in: Browser
) -> None:
    page = signed_in.authorize(_params(world.app, redirect_uri=None))
    response = signed_in.decide(page, "approve")
    assert redirect_target(response) == CALLBACK
    token = world.server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": redirect_params(response)["code"],
            "code_verifier": VERIFIER,
        },
        auth=(world.app.client_id, world.secret),
    )
    assert token.status_code == 200, token.text


def test_tampered_consent_form_is_checked_again(world: World, signed_in: Browser) -> None:
    page = signed_in.authorize(_params(world.app))
    form = hidden_fields(page.text) | {
        "decision": "approve",
        "redirect_uri": "https://evil.example/",
    }
    response = signed_in.http.post("/v1/oauth/authorize/decision", data=form)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_consent_post_after_logout_goes_to_login(world: World, signed_in: Browser) -> None:
    page = signed_in.authorize(_params(world.app))
    signed_in.http.cookies.delete("as_session")
    codes = row_count(world.context.engine, "authorizationcode")
    response = signed_in.decide(page, "approve")
    assert response.status_code == 303
    assert redirect_target(response) == "/login"
    assert row_count(world.context.engine, "authorizationcode") == codes


def test_remembered_consent(world: World, signed_in: Browser) -> None:
    first = signed_in.decide(signed_in.authorize(_params(world.app, scope="read")), "approve")
    assert "code" in redirect_params(first)
    for scope in ("read", None):  # same scope, and the default scope (read)
        again = signed_in.authorize(_params(world.app, scope=scope))
        assert again.status_code == 303, again.text
        assert set(redirect_params(again)) == {"code", "state", "iss"}
    wider = signed_in.authorize(_params(world.app, scope="read write"))
    assert wider.status_code == 200
    assert "<li>Write</li>" in wider.text
    signed_in.decide(wider, "approve")
    narrower = signed_in.authorize(_params(world.app, scope="write"))
    assert narrower.status_code == 303
    assert "code" in redirect_params(narrower)


def test_consent_is_per_user(world: World, signed_in: Browser) -> None:
    signed_in.decide(signed_in.authorize(_params(world.app)), "approve")
    other_user = make_user(world.context, email=f"user{next(_users)}@example.com")
    other = world.server.browser()
    try:
        other.login(other_user.email, PASSWORD)
        assert other.authorize(_params(world.app)).status_code == 200
    finally:
        other.close()


# --- implicit ----------------------------------------------------------------------------


def test_implicit_puts_the_token_in_the_fragment(world: World, signed_in: Browser) -> None:
    params = _params(
        world.implicit, response_type="token", code_challenge=None, code_challenge_method=None
    )
    before = snapshot(world.context.engine)
    response = signed_in.decide(signed_in.authorize(params), "approve")
    assert response.status_code == 303
    assert "?" not in response.headers["location"]
    after = snapshot(world.context.engine)
    assert after["authorizationcode"] == before["authorizationcode"]
    assert after["refreshtoken"] == before["refreshtoken"]
    answer = redirect_params(response, fragment=True)
    assert set(answer) == {"access_token", "token_type", "expires_in", "scope", "state", "iss"}
    assert answer["token_type"] == "bearer"
    assert int(answer["expires_in"]) == world.context.settings.access_token_ttl
    assert (answer["scope"], answer["state"], answer["iss"]) == ("read", STATE, world.issuer)
    world.context.keys.reload()
    claims = read_access_token(answer["access_token"], keys=world.context.keys, issuer=world.issuer)
    assert claims is not None
    assert (claims["client_id"], claims["scope"]) == (world.implicit.client_id, "read")


def test_implicit_deny_goes_in_the_fragment(world: World, signed_in: Browser) -> None:
    params = _params(
        world.implicit, response_type="token", code_challenge=None, code_challenge_method=None
    )
    response = signed_in.decide(signed_in.authorize(params), "deny")
    answer = redirect_params(response, fragment=True)
    assert answer["error"] == "access_denied"
    assert (answer["state"], answer["iss"]) == (STATE, world.issuer)


# --- every credential POST answers 303 ----------------------------------------------------


def test_signup_and_logout_answer_303(world: World, browser: Browser, user: User) -> None:
    page = browser.http.get("/signup")
    assert page.status_code == 200
    _assert_page_headers(page)
    email = f"user{next(_users)}@example.com"
    form = hidden_fields(page.text) | {"email": email, "password": PASSWORD, "name": "New"}
    signed_up = browser.http.post("/signup", data=form)
    assert signed_up.status_code == 303
    assert signed_up.headers["location"] == "/signup/sent"  # the account waits for its email
    assert browser.login(user.email, PASSWORD).status_code == 303
    logout_page = browser.http.get("/logout")
    assert logout_page.status_code == 200
    logged_out = browser.http.post("/logout", data=hidden_fields(logout_page.text))
    assert logged_out.status_code == 303
    assert browser.authorize(_params(world.app)).status_code == 303  # back to login
    assert redirect_target(browser.authorize(_params(world.app))) == "/login"


def test_login_page_headers(browser: Browser) -> None:
    page = browser.http.get("/login")
    _assert_page_headers(page)
    _assert_no_cors(page)
    response = browser.http.get("/login", headers={"origin": "https://evil.example"})
    _assert_no_cors(response)


def test_authorize_sends_no_cors_headers(world: World, signed_in: Browser) -> None:
    response = signed_in.http.get(
        "/v1/oauth/authorize?" + urlencode(_params(world.app)),
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 200
    _assert_no_cors(response)
    preflight = signed_in.http.options(
        "/v1/oauth/authorize",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    _assert_no_cors(preflight)


def test_session_csrf_and_device_cookies_are_httponly_and_lax(browser: Browser, user: User) -> None:
    page = browser.http.get("/login")
    response = browser.http.post(
        "/login", data=hidden_fields(page.text) | {"email": user.email, "password": PASSWORD}
    )
    cookies = page.headers.get_list("set-cookie") + response.headers.get_list("set-cookie")
    by_name = {cookie.split("=", 1)[0]: cookie.lower() for cookie in cookies}
    assert set(by_name) == {"as_csrf", "as_session", "as_device"}
    for cookie in by_name.values():
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/" in cookie


def test_consent_page_escapes_client_data(world: World, signed_in: Browser) -> None:
    client, _ = make_client(world.context, name='<script>alert("x")</script>')
    page = signed_in.authorize(_params(client, state='"><script>alert(1)</script>'))
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert hidden_fields(page.text)["state"] == '"><script>alert(1)</script>'


@pytest.mark.parametrize(
    ("redirect_uris", "message"),
    [
        pytest.param((), "the client has no redirect URI registered", id="none-registered"),
        pytest.param(
            (CALLBACK, OTHER_CALLBACK),
            "redirect_uri required: the client registered several",
            id="several-registered",
        ),
    ],
)
def test_omitted_redirect_uri_explains_why_it_is_needed(
    world: World, browser: Browser, redirect_uris: tuple[str, ...], message: str
) -> None:
    grant_types = ("authorization_code",) if redirect_uris else ("client_credentials",)
    client, _ = make_client(world.context, grant_types=grant_types, redirect_uris=redirect_uris)
    response = browser.authorize(_params(client, redirect_uri=None))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text
