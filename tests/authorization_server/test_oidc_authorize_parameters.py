"""OpenID Connect parameters of the authorization request, on the server in-process: `nonce`,
`prompt`, `max_age`, `login_hint`, `id_token_hint`, `ui_locales`."""

import time
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlmodel import Session, select

from services.authorization_server.context import ServerContext
from services.authorization_server.models import User, UserSession
from services.authorization_server.oidc.id_token import IdTokenIssuer
from shared.jwt import generate_private_pem, load_signing_key, sign_jwt
from tests.authorization_server.oidc_flow import CALLBACK, NewRelyingParty, RelyingParty
from tests.factories import PASSWORD
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.forms import redirect_params, redirect_target


def _error(rp: RelyingParty, response: httpx.Response) -> str:
    """The error of a refusal redirected to the client, with `state` and `iss`."""
    assert response.status_code == 303, response.text
    assert redirect_target(response) == CALLBACK
    values = redirect_params(response)
    assert values["state"] == "st" and values["iss"] == rp.server.url
    return values["error"]


def test_nonce_is_echoed_and_optional_in_the_code_flow(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    first = rp.id_token(nonce="same-nonce")
    # The nonce binds an ID token to the client's session: echoed as sent, every time; a
    # replayed ID token is the client's to detect (its stored nonce is used once).
    second = rp.id_token(nonce="same-nonce")
    assert first["nonce"] == second["nonce"] == "same-nonce"
    assert "nonce" not in rp.id_token()


def test_an_overlong_nonce_is_refused(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    assert _error(rp, rp.authorize(nonce="n" * 513)) == "invalid_request"


def test_prompt_none_without_a_session_is_login_required(relying_party: NewRelyingParty) -> None:
    rp = relying_party(signed_in=False)
    assert _error(rp, rp.authorize(prompt="none")) == "login_required"


def test_prompt_none_without_consent_is_consent_required(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    assert _error(rp, rp.authorize(prompt="none")) == "consent_required"
    rp.code()  # consented now
    assert "code" in redirect_params(rp.authorize(prompt="none"))


def test_prompt_consent_shows_the_screen_again_in_words(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    rp.code(scope="openid profile email")
    page = rp.authorize(scope="openid profile email", prompt="consent")
    assert page.status_code == 200
    assert "Your name" in page.text and "Your email address" in page.text
    assert "code" in redirect_params(rp.browser.decide(page, "approve"))


def _login_page_url(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/login?"), location
    return location


def _relogin(rp: RelyingParty, response: httpx.Response) -> httpx.Response:
    """Follow the redirect to the login page, which shows its form despite the session."""
    page = rp.browser.http.get(_login_page_url(response))
    assert page.status_code == 200, page.headers.get("location")
    assert rp.browser.login_on(page, rp.user.email, PASSWORD).status_code == 303
    return page


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"prompt": "login"}, id="prompt=login"),
        pytest.param({"max_age": "0"}, id="max_age=0"),
    ],
)
def test_a_fresh_login_is_required_despite_the_session(
    relying_party: NewRelyingParty, params: dict[str, str]
) -> None:
    rp = relying_party()
    rp.code()  # consented
    time.sleep(1.1)  # auth_time has a one-second resolution
    before = int(time.time())
    _relogin(rp, rp.authorize(**params))
    assert rp.id_token()["auth_time"] >= before


def test_the_fresh_login_ends_the_previous_session(
    relying_party: NewRelyingParty, as_server: AuthorizationServer
) -> None:
    rp = relying_party()
    old_cookies = dict(rp.browser.http.cookies)
    _relogin(rp, rp.authorize(prompt="login"))
    assert dict(rp.browser.http.cookies) != old_cookies
    with as_server.client(cookies=old_cookies) as stale:
        assert stale.get("/login").status_code == 200  # not logged in any more
    assert rp.browser.http.get("/login").status_code == 303


def test_max_age_reauthenticates_only_an_older_session(
    relying_party: NewRelyingParty, as_context: ServerContext
) -> None:
    rp = relying_party()
    rp.code()
    assert "code" in redirect_params(rp.authorize(max_age="3600"))
    _age_sessions(as_context, rp.user, seconds=120)
    _login_page_url(rp.authorize(max_age="60"))
    assert _error(rp, rp.authorize(max_age="60", prompt="none")) == "login_required"


def test_default_max_age_of_the_client_applies(
    relying_party: NewRelyingParty, as_context: ServerContext
) -> None:
    rp = relying_party(default_max_age=60)
    rp.code()
    _age_sessions(as_context, rp.user, seconds=120)
    _login_page_url(rp.authorize())


def _age_sessions(context: ServerContext, user: User, *, seconds: int) -> None:
    """Move the user's logins `seconds` into the past."""
    with Session(context.engine) as session:
        for record in session.exec(select(UserSession).where(UserSession.user_id == user.id)):
            record.created_at -= timedelta(seconds=seconds)
            session.add(record)
        session.commit()


@pytest.mark.parametrize("value", ["-1", "soon", "1e3", "99999999999"])
def test_a_malformed_max_age_is_refused(relying_party: NewRelyingParty, value: str) -> None:
    rp = relying_party()
    assert _error(rp, rp.authorize(max_age=value)) == "invalid_request"


@pytest.mark.parametrize("prompt", ["none login", "select_account", "bogus"])
def test_unsupported_or_contradictory_prompt_is_refused(
    relying_party: NewRelyingParty, prompt: str
) -> None:
    rp = relying_party()
    assert _error(rp, rp.authorize(prompt=prompt)) == "invalid_request"


def test_login_hint_prefills_the_email(relying_party: NewRelyingParty) -> None:
    rp = relying_party(signed_in=False)
    response = rp.authorize(login_hint="hinted@example.com", ui_locales="fr-CA en")
    login = rp.browser.get(_login_page_url(response))
    assert login.status_code == 200
    assert 'value="hinted@example.com"' in login.text


def test_ui_locales_is_accepted_and_ignored(relying_party: NewRelyingParty) -> None:
    page = relying_party().authorize(ui_locales="de")
    assert page.status_code == 200 and "Authorize Application" in page.text


# --- id_token_hint --------------------------------------------------------------------------


def test_prompt_none_with_the_hint_of_the_logged_in_user(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    hint = rp.tokens()["id_token"]
    assert "code" in redirect_params(rp.authorize(prompt="none", id_token_hint=hint))


def test_prompt_none_with_the_hint_of_another_user(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    hint = rp.tokens()["id_token"]
    other = relying_party(client=(rp.client, rp.secret))  # another user, consenting
    other.code()
    response = other.authorize(prompt="none", id_token_hint=hint)
    assert _error(other, response) == "interaction_required"


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
    relying_party: NewRelyingParty, as_context: ServerContext, kind: str
) -> None:
    rp = relying_party()
    audience = rp.client.client_id
    hints = {
        "other-issuer-key": lambda: _foreign_hint("https://other.example", audience),
        "other-issuer-claim": lambda: _our_key_other_issuer(as_context, audience),
        "garbage": lambda: "not-a-jwt",
        "other-client": lambda: relying_party(user=rp.user).tokens()["id_token"],
    }
    response = rp.authorize(prompt="none", id_token_hint=hints[kind]())
    assert _error(rp, response) == "invalid_request"
    assert "id_token_hint" in redirect_params(response)["error_description"]


def test_an_access_token_is_no_id_token_hint(relying_party: NewRelyingParty) -> None:
    rp = relying_party()
    access_token = rp.tokens()["access_token"]
    assert jwt.get_unverified_header(access_token)["typ"] == "at+jwt"
    response = rp.authorize(prompt="none", id_token_hint=access_token)
    assert _error(rp, response) == "invalid_request"


def test_oauth_only_requests_ignore_the_oidc_parameters(relying_party: NewRelyingParty) -> None:
    page = relying_party().authorize(scope="read", prompt="none", max_age="x")
    assert page.status_code == 200 and "Authorize Application" in page.text
