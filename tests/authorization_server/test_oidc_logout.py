"""RP-Initiated Logout 1.0 on the server in-process: the request's checks, the confirmation page
(CSRF-protected), the end of the session and the redirect back with `state`."""

import time

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from services.authorization_server.oidc.id_token import IdTokenIssuer
from tests.authorization_server.oidc_flow import (
    LogIn,
    authorize_params,
    code_of,
    exchange,
    oidc_client,
    oidc_user,
)
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import hidden_fields, redirect_params

LOGOUT = "/v1/oauth/logout"
BYE = "https://rp.example/signed-out"


def _signed_in_with_hint(
    log_in: LogIn, as_server: AuthorizationServer, context: ServerContext
) -> tuple[Browser, Client, str]:
    client, secret = oidc_client(context, post_logout_redirect_uris=[BYE])
    browser = log_in(oidc_user(context))
    body = exchange(as_server, client, secret, code_of(browser, authorize_params(client)))
    return browser, client, body["id_token"]


def _logged_in(browser: Browser) -> bool:
    return browser.http.get("/login").status_code == 303  # the page sends a session on


def _confirm(browser: Browser, page: httpx.Response) -> httpx.Response:
    assert page.status_code == 200, page.text
    assert "Sign out of Droplet Cloud?" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    return browser.http.post(f"{LOGOUT}/confirm", data=hidden_fields(page.text))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_with_hint_confirms_ends_the_session_and_redirects_with_state(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext, method: str
) -> None:
    browser, client, hint = _signed_in_with_hint(log_in, as_server, as_context)
    params = {"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "bye-1"}
    if method == "GET":
        page = browser.http.get(LOGOUT, params=params)
    else:
        page = browser.http.post(LOGOUT, data=params)
    assert _logged_in(browser)  # the page alone changes nothing
    assert client.name in page.text
    done = _confirm(browser, page)
    assert done.status_code == 303
    assert done.headers["location"] == f"{BYE}?state=bye-1"
    assert not _logged_in(browser)
    # prompt=none now finds no session.
    again = browser.authorize(authorize_params(client, prompt="none"))
    assert redirect_params(again)["error"] == "login_required"


def test_logout_with_client_id_only_shows_the_signed_out_page(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    browser, client, _ = _signed_in_with_hint(log_in, as_server, as_context)
    page = browser.http.get(LOGOUT, params={"client_id": client.client_id})
    done = _confirm(browser, page)
    assert done.status_code == 200
    assert "You are signed out" in done.text
    assert not _logged_in(browser)


def test_the_confirmation_needs_its_csrf_token(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    browser, _client, hint = _signed_in_with_hint(log_in, as_server, as_context)
    page = browser.http.get(LOGOUT, params={"id_token_hint": hint, "post_logout_redirect_uri": BYE})
    fields = hidden_fields(page.text)
    forged = browser.http.post(f"{LOGOUT}/confirm", data={**fields, "csrf_token": "forged"})
    assert forged.status_code == 403
    missing = browser.http.post(
        f"{LOGOUT}/confirm", data={k: v for k, v in fields.items() if k != "csrf_token"}
    )
    assert missing.status_code == 403
    assert _logged_in(browser)


def test_without_a_session_there_is_nothing_to_confirm(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    _, _client, hint = _signed_in_with_hint(log_in, as_server, as_context)
    with as_server.client() as http:
        params = {"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "s"}
        response = http.get(LOGOUT, params=params)
    assert response.status_code == 303
    assert response.headers["location"] == f"{BYE}?state=s"


def _other_issuer_hint(context: ServerContext, client: Client) -> str:
    context.keys.reload()
    signer = IdTokenIssuer(context.keys, issuer="https://other.example", ttl=60)
    now = int(time.time())
    claims = {"iss": "https://other.example", "sub": "x", "aud": client.client_id}
    return signer.sign({**claims, "iat": now, "exp": now + 60}, algorithm="RS256")


@pytest.mark.parametrize(
    "case",
    [
        "unregistered-redirect",
        "redirect-without-client",
        "hint-of-another-issuer",
        "garbage-hint",
        "client-not-the-hint-audience",
        "unknown-client",
    ],
)
def test_bad_logout_requests_are_shown_never_redirected(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext, case: str
) -> None:
    browser, client, hint = _signed_in_with_hint(log_in, as_server, as_context)
    other, _ = oidc_client(as_context, post_logout_redirect_uris=[BYE])
    params = {
        "unregistered-redirect": {
            "id_token_hint": hint,
            "post_logout_redirect_uri": "https://evil.example/",
        },
        "redirect-without-client": {"post_logout_redirect_uri": BYE},
        "hint-of-another-issuer": {
            "id_token_hint": _other_issuer_hint(as_context, client),
            "post_logout_redirect_uri": BYE,
        },
        "garbage-hint": {"id_token_hint": "e30.e30.x", "post_logout_redirect_uri": BYE},
        "client-not-the-hint-audience": {
            "id_token_hint": hint,
            "client_id": other.client_id,
            "post_logout_redirect_uri": BYE,
        },
        "unknown-client": {"client_id": "nobody", "post_logout_redirect_uri": BYE},
    }[case]
    response = browser.http.get(LOGOUT, params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_request" in response.text
    assert _logged_in(browser)


def test_a_redirect_uri_that_is_only_a_login_redirect_is_refused(
    log_in: LogIn, as_server: AuthorizationServer, as_context: ServerContext
) -> None:
    browser, client, hint = _signed_in_with_hint(log_in, as_server, as_context)
    response = browser.http.get(
        LOGOUT, params={"id_token_hint": hint, "post_logout_redirect_uri": client.redirect_uris[0]}
    )
    assert response.status_code == 400
