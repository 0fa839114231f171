"""CSRF tokens of the pages in-process: bound to the session, rotated at login and logout.

A token is good only for the session (or, before login, the pre-login seed) it was made
for: a seed cookie planted by an attacker, a token from another browser, or one from
before the login or logout, is refused with 403 and changes nothing.
"""

import uuid
from collections.abc import Iterator

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import User
from tests.factories import PASSWORD, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import csrf_token


@pytest.fixture
def user(as_context: ServerContext) -> User:
    return make_user(as_context, email=f"csrf-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browsers(as_server: AuthorizationServer) -> Iterator[tuple[Browser, Browser]]:
    first, second = as_server.browser(), as_server.browser()
    yield first, second
    first.close()
    second.close()


def _logged_in(browser: Browser) -> bool:
    return browser.get("/account/applications").status_code == 200


def test_token_from_before_login_is_refused_after_login(
    browsers: tuple[Browser, Browser], user: User
) -> None:
    browser, _ = browsers
    before = csrf_token(browser.get("/login"))
    login = browser.post(
        "/login", {"email": user.email, "password": PASSWORD, "csrf_token": before}
    )
    assert login.status_code == 303
    assert browser.post("/logout", {"csrf_token": before}).status_code == 403
    assert _logged_in(browser)
    # A token from a page of the new session works.
    assert browser.submit("/logout", "/logout").status_code == 303
    assert not _logged_in(browser)


def test_token_from_before_logout_is_refused_after_logout(
    browsers: tuple[Browser, Browser], user: User
) -> None:
    browser, _ = browsers
    browser.sign_in(user.email)
    during = csrf_token(browser.get("/logout"))
    assert browser.post("/logout", {"csrf_token": during}).status_code == 303
    again = browser.post(
        "/login", {"email": user.email, "password": PASSWORD, "csrf_token": during}
    )
    assert again.status_code == 403
    assert not _logged_in(browser)


def test_planted_seed_cookie_yields_no_token_for_the_victims_session(
    as_server: AuthorizationServer, browsers: tuple[Browser, Browser], user: User
) -> None:
    """Cookie tossing: the attacker's own seed and token, planted in a logged-in browser."""
    attacker, victim = browsers
    token = csrf_token(attacker.get("/login"))
    seed = attacker.http.cookies["as_csrf"]
    victim.sign_in(user.email)
    victim.http.cookies.set("as_csrf", seed, domain="127.0.0.1", path="/")
    response = victim.post("/logout", {"csrf_token": token})
    assert response.status_code == 403
    assert _logged_in(victim)


def test_token_of_another_session_of_the_same_user_is_refused(
    browsers: tuple[Browser, Browser], user: User
) -> None:
    first, second = browsers
    first.sign_in(user.email)
    second.sign_in(user.email)
    foreign = csrf_token(first.get("/logout"))
    assert second.post("/logout", {"csrf_token": foreign}).status_code == 403
    assert _logged_in(second)
    assert first.post("/logout", {"csrf_token": foreign}).status_code == 303


def test_token_stays_valid_within_the_session(
    browsers: tuple[Browser, Browser], user: User
) -> None:
    """Several tabs: a token from any page of the session works for every form of it."""
    browser, _ = browsers
    browser.sign_in(user.email)
    token = csrf_token(browser.get("/account/applications"))
    assert csrf_token(browser.get("/developer/apps/new")) == token
    assert browser.post("/logout", {"csrf_token": token}).status_code == 303
