"""The account owner keeps signing in (issue 18, item 3): device cookies (OWASP), identical
wrong passwords counted once, and addresses counted per IPv6 /64 (item 5).

Each test runs on both stores (memory, and the real Redis under a unique key prefix).
"""

import time
from collections.abc import Iterator

import httpx
import pytest

from services.authorization_server.devices import DEVICE_COOKIE
from tests.authorization_server.test_throttle import throttled_settings
from tests.authorization_server.throttle_stores import STORES, assert_retry_after
from tests.factories import PASSWORD, make_user
from tests.harness.authorization_server import AuthorizationServer, start_in_process
from tests.harness.browser import Browser


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, database_url: str) -> Iterator[AuthorizationServer]:
    settings = throttled_settings(database_url, request.param, throttle_device_failures=2)
    server = start_in_process(settings)
    yield server
    server.close()


def _log_in(browser: Browser, email: str, password: str) -> httpx.Response:
    """The login form, also in a browser that is logged in already (`prompt=login`)."""
    return browser.login_on(browser.get("/login", params={"prompt": "login"}), email, password)


def _lock_out_strangers(server: AuthorizationServer, email: str) -> None:
    """Four wrong passwords from four browsers at four addresses: the account is locked for
    every browser it has never signed in from."""
    for n in range(4):
        server.browser(ip=f"203.0.113.{20 + n}").login(email, f"Guess{n}!")
    locked = server.browser(ip="198.51.100.1").login(email, PASSWORD)
    assert locked.status_code == 429, locked.text


def test_the_owner_keeps_signing_in_while_strangers_are_locked_out(
    server: AuthorizationServer,
) -> None:
    user = make_user(server.context)
    owner = server.browser(ip="192.0.2.30").sign_in(user.email)
    assert owner.cookies.get(DEVICE_COOKIE)
    _lock_out_strangers(server, user.email)
    assert _log_in(owner, user.email, PASSWORD).status_code == 303


def test_a_known_browser_has_a_small_budget_of_its_own(server: AuthorizationServer) -> None:
    user = make_user(server.context)
    owner = server.browser(ip="192.0.2.31").sign_in(user.email)
    for n in range(2):
        assert _log_in(owner, user.email, f"typo {n}").status_code == 400
    locking = time.monotonic()
    locked = _log_in(owner, user.email, "typo 2")
    assert locked.status_code == 429
    assert_retry_after(locked.headers["retry-after"], limit=60, since=locking)
    assert _log_in(owner, user.email, PASSWORD).status_code == 429  # locked: not even tried
    # Only that browser: the account itself is not locked for a new one.
    assert server.browser(ip="192.0.2.31").login(user.email, PASSWORD).status_code == 303


def test_a_device_cookie_counts_only_for_its_account_and_only_when_signed(
    server: AuthorizationServer,
) -> None:
    alice = make_user(server.context)
    bob = make_user(server.context, email="bob@example.com", name="Bob")
    browser = server.browser(ip="192.0.2.32").sign_in(alice.email)
    _lock_out_strangers(server, bob.email)
    assert _log_in(browser, bob.email, PASSWORD).status_code == 429  # known to Alice, not Bob
    forged = server.browser(ip="192.0.2.33")
    device, expires, _ = str(browser.cookies.get(DEVICE_COOKIE)).split(".")
    forged.cookies.set(DEVICE_COOKIE, f"{device}.{expires}.{'A' * 43}")
    _lock_out_strangers(server, alice.email)
    assert _log_in(forged, alice.email, PASSWORD).status_code == 429
    assert _log_in(browser, alice.email, PASSWORD).status_code == 303


def test_an_identical_wrong_password_repeated_counts_once(server: AuthorizationServer) -> None:
    """A phone retrying an old password must not lock its owner out (3 failures free here)."""
    user = make_user(server.context)
    for n in range(10):
        stale = server.browser(ip=f"192.0.2.{40 + n}")
        assert stale.login(user.email, "last year's password").status_code == 400
    assert server.browser(ip="192.0.2.60").login(user.email, PASSWORD).status_code == 303


def test_ipv6_addresses_are_counted_per_64(server: AuthorizationServer) -> None:
    """One /64 is one subscriber: spraying from many of its addresses uses one budget (5)."""

    def spray(browser: Browser, n: int) -> httpx.Response:
        return _log_in(browser, f"victim{n}@example.com", "Winter2026!")

    for n in range(5):
        assert spray(server.browser(ip=f"2001:db8:5:6::{n + 1}"), n).status_code == 400
    assert spray(server.browser(ip="2001:db8:5:6:ffff::1"), 9).status_code == 429
    assert spray(server.browser(ip="2001:db8:5:7::1"), 9).status_code == 400  # another /64


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param("d." + "9" * 10_000 + ".sig", id="ten-thousand-digit-expiry"),
        pytest.param("d.-5.sig", id="negative-expiry"),
        pytest.param("x" * 8000, id="oversized"),
        pytest.param("..", id="empty-parts"),
    ],
)
def test_a_hostile_device_cookie_is_a_stranger_never_an_error(
    server: AuthorizationServer, cookie: str
) -> None:
    user = make_user(server.context)
    browser = server.browser(ip="192.0.2.40")
    browser.cookies.set(DEVICE_COOKIE, cookie)
    assert browser.login(user.email, "wrong password").status_code == 400
    assert browser.login(user.email, PASSWORD).status_code == 303
