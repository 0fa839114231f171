"""OpenID Connect parameters of the authorization request, on the server in-process: `nonce`,
`prompt`, `max_age`, `login_hint`, `id_token_hint`, `ui_locales`."""

import time
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlmodel import Session, select

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User, UserSession
from services.authorization_server.oidc.id_token import IdTokenIssuer
from shared.jwt import generate_private_pem, load_signing_key, sign_jwt
from tests.authorization_server.oidc_flow import (
    CALLBACK,
    LogIn,
    authorize_params,
    code_of,
    exchange,
    oidc_client,
    oidc_user,
    verify_id_token,
)
from tests.factories import PASSWORD
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import redirect_params, redirect_target


def _id_token(
    server: AuthorizationServer, client: Client, secret: str, browser: Browser, **params: str
) -> Any:
    body = exchange(server, client, secret, code_of(browser, authorize_params(client, **params)))
    return verify_id_token(server, body["id_token"], client=client, algorithm="RS256")


def _error(response: httpx.Response, as_server: AuthorizationServer) -> dict[str, str]:
    """An error redirected to the client, with `state` and `iss`."""
    assert response.status_code == 303, response.text
    assert redirect_target(response) == CALLBACK
    values = redirect_params(response)
    assert values["state"] == "st" and values["iss"] == as_server.url
    return values


def test_nonce_is_echoed_and_optional_in_the_code_flow(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, secret = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    first = _id_token(as_server, client, secret, browser, nonce="same-nonce")
    # The nonce binds an ID token to the client's session: echoed as sent, every time; a
    # replayed ID token is the client's to detect (its stored nonce is used once).
    second = _id_token(as_server, client, secret, browser, nonce="same-nonce")
    assert first["nonce"] == second["nonce"] == "same-nonce"
    assert "nonce" not in _id_token(as_server, client, secret, browser)


def test_an_overlong_nonce_is_refused(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    response = browser.authorize(authorize_params(client, nonce="n" * 513))
    assert _error(response, as_server)["error"] == "invalid_request"


def test_prompt_none_without_a_session_is_login_required(
    as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context)
    with as_server.client() as http:
        response = http.get("/v1/oauth/authorize", params=authorize_params(client, prompt="none"))
    assert _error(response, as_server)["error"] == "login_required"


def test_prompt_none_without_consent_is_consent_required(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _secret = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    response = browser.authorize(authorize_params(client, prompt="none"))
    assert _error(response, as_server)["error"] == "consent_required"
    code_of(browser, authorize_params(client))  # consented now
    again = browser.authorize(authorize_params(client, prompt="none"))
    assert "code" in redirect_params(again)


def test_prompt_consent_shows_the_screen_again_in_words(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    code_of(browser, authorize_params(client, scope="openid profile email"))
    page = browser.authorize(
        authorize_params(client, scope="openid profile email", prompt="consent")
    )
    assert page.status_code == 200
    assert "Your name" in page.text and "Your email address" in page.text
    assert "code" in redirect_params(browser.decide(page, "approve"))


def _login_page_url(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/login?"), location
    return location


def _relogin(browser: Browser, response: httpx.Response, user: User) -> httpx.Response:
    """Follow the redirect to the login page, which shows its form despite the session."""
    page = browser.http.get(_login_page_url(response))
    assert page.status_code == 200, page.headers.get("location")
    assert browser.login_on(page, user.email, PASSWORD).status_code == 303
    return page


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"prompt": "login"}, id="prompt=login"),
        pytest.param({"max_age": "0"}, id="max_age=0"),
    ],
)
def test_a_fresh_login_is_required_despite_the_session(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext, params: dict[str, str]
) -> None:
    client, secret = oidc_client(as_context)
    user = oidc_user(as_context)
    browser = log_in(user)
    code_of(browser, authorize_params(client))  # consented
    time.sleep(1.1)  # auth_time has a one-second resolution
    before = int(time.time())
    response = browser.authorize(authorize_params(client, **params))
    _relogin(browser, response, user)
    claims = _id_token(as_server, client, secret, browser)
    assert claims["auth_time"] >= before


def test_the_fresh_login_ends_the_previous_session(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _secret = oidc_client(as_context)
    user = oidc_user(as_context)
    browser = log_in(user)
    old_cookies = dict(browser.http.cookies)
    _relogin(browser, browser.authorize(authorize_params(client, prompt="login")), user)
    assert dict(browser.http.cookies) != old_cookies
    with as_server.client(cookies=old_cookies) as stale:
        assert stale.get("/login").status_code == 200  # not logged in any more
    assert browser.http.get("/login").status_code == 303


def test_max_age_reauthenticates_only_an_older_session(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _secret = oidc_client(as_context)
    user = oidc_user(as_context)
    browser = log_in(user)
    code_of(browser, authorize_params(client))
    young = browser.authorize(authorize_params(client, max_age="3600"))
    assert "code" in redirect_params(young)
    _age_sessions(as_context, user, seconds=120)
    old = browser.authorize(authorize_params(client, max_age="60"))
    _login_page_url(old)
    none = browser.authorize(authorize_params(client, max_age="60", prompt="none"))
    assert _error(none, as_server)["error"] == "login_required"


def test_default_max_age_of_the_client_applies(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context, default_max_age=60)
    user = oidc_user(as_context)
    browser = log_in(user)
    code_of(browser, authorize_params(client))
    _age_sessions(as_context, user, seconds=120)
    _login_page_url(browser.authorize(authorize_params(client)))


def _age_sessions(context: ServerContext, user: User, *, seconds: int) -> None:
    """Move the user's logins `seconds` into the past."""
    with Session(context.engine) as session:
        for record in session.exec(select(UserSession).where(UserSession.user_id == user.id)):
            record.created_at -= timedelta(seconds=seconds)
            session.add(record)
        session.commit()


@pytest.mark.parametrize("value", ["-1", "soon", "1e3", "99999999999"])
def test_a_malformed_max_age_is_refused(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext, value: str
) -> None:
    client, _ = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    response = browser.authorize(authorize_params(client, max_age=value))
    assert _error(response, as_server)["error"] == "invalid_request"


@pytest.mark.parametrize("prompt", ["none login", "select_account", "bogus"])
def test_unsupported_or_contradictory_prompt_is_refused(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext, prompt: str
) -> None:
    client, _ = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    response = browser.authorize(authorize_params(client, prompt=prompt))
    assert _error(response, as_server)["error"] == "invalid_request"


def test_login_hint_prefills_the_email(
    as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context)
    with as_server.client() as http:
        params = authorize_params(client, login_hint="hinted@example.com", ui_locales="fr-CA en")
        login = http.get(_login_page_url(http.get("/v1/oauth/authorize", params=params)))
    assert login.status_code == 200
    assert 'value="hinted@example.com"' in login.text


def test_ui_locales_is_accepted_and_ignored(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    page = browser.authorize(authorize_params(client, ui_locales="de"))
    assert page.status_code == 200 and "Authorize Application" in page.text


# --- id_token_hint --------------------------------------------------------------------------


def _hint_for(
    as_server: AuthorizationServer, log_in: LogIn, client: Client, secret: str, user: User
) -> str:
    browser = log_in(user)
    body = exchange(as_server, client, secret, code_of(browser, authorize_params(client)))
    token: str = body["id_token"]
    return token


def test_prompt_none_with_the_hint_of_the_logged_in_user(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, secret = oidc_client(as_context)
    user = oidc_user(as_context)
    hint = _hint_for(as_server, log_in, client, secret, user)
    browser = log_in(user)
    response = browser.authorize(authorize_params(client, prompt="none", id_token_hint=hint))
    assert "code" in redirect_params(response)


def test_prompt_none_with_the_hint_of_another_user(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, secret = oidc_client(as_context)
    hint = _hint_for(as_server, log_in, client, secret, oidc_user(as_context))
    other = log_in(oidc_user(as_context, name="Other"))
    code_of(other, authorize_params(client))
    response = other.authorize(authorize_params(client, prompt="none", id_token_hint=hint))
    assert _error(response, as_server)["error"] == "interaction_required"


def _foreign_hint(issuer: str, audience: str, algorithm: str = "RS256") -> str:
    key = load_signing_key(
        kid="foreign", algorithm=algorithm, private_pem=generate_private_pem(algorithm)
    )
    now = int(time.time())
    claims = {"iss": issuer, "sub": "x", "aud": audience, "iat": now, "exp": now + 60}
    return sign_jwt(claims, key=key, typ="JWT")


def _our_key_other_issuer(context: ServerContext, audience: str) -> str:
    context.keys.reload()
    issuer = IdTokenIssuer(context.keys, issuer="https://other.example", ttl=60)
    now = int(time.time())
    claims = {
        "iss": "https://other.example",
        "sub": "x",
        "aud": audience,
        "iat": now,
        "exp": now + 60,
    }
    return issuer.sign(claims, algorithm="RS256")


@pytest.mark.parametrize(
    "kind", ["other-issuer-key", "other-issuer-claim", "garbage", "other-client"]
)
def test_an_unverifiable_hint_is_refused(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext, kind: str
) -> None:
    client, _secret = oidc_client(as_context)
    user = oidc_user(as_context)
    hints = {
        "other-issuer-key": lambda: _foreign_hint("https://other.example", client.client_id),
        "other-issuer-claim": lambda: _our_key_other_issuer(as_context, client.client_id),
        "garbage": lambda: "not-a-jwt",
        "other-client": lambda: _hint_for(as_server, log_in, *oidc_client(as_context), user),
    }
    hint = hints[kind]()
    browser = log_in(user)
    response = browser.authorize(authorize_params(client, prompt="none", id_token_hint=hint))
    values = _error(response, as_server)
    assert values["error"] == "invalid_request"
    assert "id_token_hint" in values["error_description"]


def test_an_access_token_is_no_id_token_hint(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, secret = oidc_client(as_context)
    user = oidc_user(as_context)
    browser = log_in(user)
    body = exchange(as_server, client, secret, code_of(browser, authorize_params(client)))
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    response = browser.authorize(
        authorize_params(client, prompt="none", id_token_hint=body["access_token"])
    )
    assert _error(response, as_server)["error"] == "invalid_request"


def test_oauth_only_requests_ignore_the_oidc_parameters(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    client, _ = oidc_client(as_context)
    browser = log_in(oidc_user(as_context))
    page = browser.authorize(authorize_params(client, scope="read", prompt="none", max_age="x"))
    assert page.status_code == 200 and "Authorize Application" in page.text
