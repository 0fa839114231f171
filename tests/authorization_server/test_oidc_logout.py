"""RP-Initiated Logout 1.0 on the server in-process: the request's checks, the confirmation page
(CSRF-protected), the end of the session and the redirect back with `state`."""

import time

import httpx
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from services.authorization_server.oidc.id_token import IdTokenIssuer
from tests.authorization_server.oidc_flow import NewRelyingParty, RelyingParty, oidc_client
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.forms import hidden_fields, redirect_params

LOGOUT = "/v1/oauth/logout"
BYE = "https://rp.example/signed-out"


def _signed_in_with_hint(relying_party: NewRelyingParty) -> tuple[RelyingParty, str]:
    """A client that may redirect to `BYE`, and its user signed in, with an ID token."""
    rp = relying_party(post_logout_redirect_uris=[BYE])
    return rp, rp.tokens()["id_token"]


def _logged_in(rp: RelyingParty) -> bool:
    return rp.browser.get("/login").status_code == 303  # the page sends a session on


def _confirm(rp: RelyingParty, page: httpx.Response) -> httpx.Response:
    assert page.status_code == 200, page.text
    assert "Sign out of Droplet Cloud?" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    return rp.browser.post(f"{LOGOUT}/confirm", data=hidden_fields(page.text))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_with_hint_confirms_ends_the_session_and_redirects_with_state(
    relying_party: NewRelyingParty, method: str
) -> None:
    rp, hint = _signed_in_with_hint(relying_party)
    params = {"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "bye-1"}
    if method == "GET":
        page = rp.browser.get(LOGOUT, params=params)
    else:
        page = rp.browser.post(LOGOUT, data=params)
    assert _logged_in(rp)  # the page alone changes nothing
    assert rp.client.name in page.text
    done = _confirm(rp, page)
    assert done.status_code == 303
    assert done.headers["location"] == f"{BYE}?state=bye-1"
    assert not _logged_in(rp)
    # prompt=none now finds no session.
    again = rp.authorize(prompt="none")
    assert redirect_params(again)["error"] == "login_required"


def test_logout_with_client_id_only_shows_the_signed_out_page(
    relying_party: NewRelyingParty,
) -> None:
    rp, _ = _signed_in_with_hint(relying_party)
    page = rp.browser.get(LOGOUT, params={"client_id": rp.client.client_id})
    done = _confirm(rp, page)
    assert done.status_code == 200
    assert "You are signed out" in done.text
    assert not _logged_in(rp)


def test_the_confirmation_needs_its_csrf_token(relying_party: NewRelyingParty) -> None:
    rp, hint = _signed_in_with_hint(relying_party)
    page = rp.browser.get(LOGOUT, params={"id_token_hint": hint, "post_logout_redirect_uri": BYE})
    fields = hidden_fields(page.text)
    forged = rp.browser.post(f"{LOGOUT}/confirm", data={**fields, "csrf_token": "forged"})
    assert forged.status_code == 403
    missing = rp.browser.post(
        f"{LOGOUT}/confirm", data={k: v for k, v in fields.items() if k != "csrf_token"}
    )
    assert missing.status_code == 403
    assert _logged_in(rp)


def test_without_a_session_there_is_nothing_to_confirm(
    relying_party: NewRelyingParty, as_server: AuthorizationServer
) -> None:
    _, hint = _signed_in_with_hint(relying_party)
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
    relying_party: NewRelyingParty, as_context: ServerContext, case: str
) -> None:
    rp, hint = _signed_in_with_hint(relying_party)
    other, _ = oidc_client(as_context, post_logout_redirect_uris=[BYE])
    params = {
        "unregistered-redirect": {
            "id_token_hint": hint,
            "post_logout_redirect_uri": "https://evil.example/",
        },
        "redirect-without-client": {"post_logout_redirect_uri": BYE},
        "hint-of-another-issuer": {
            "id_token_hint": _other_issuer_hint(as_context, rp.client),
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
    response = rp.browser.get(LOGOUT, params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_request" in response.text
    assert _logged_in(rp)


def test_a_redirect_uri_that_is_only_a_login_redirect_is_refused(
    relying_party: NewRelyingParty,
) -> None:
    rp, hint = _signed_in_with_hint(relying_party)
    login_redirect = rp.client.redirect_uris[0]
    response = rp.browser.get(
        LOGOUT, params={"id_token_hint": hint, "post_logout_redirect_uri": login_redirect}
    )
    assert response.status_code == 400
