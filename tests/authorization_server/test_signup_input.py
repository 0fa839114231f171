"""Sign-up input is checked in linear time, length first (issue 8, item 1: ReDoS), and so is
every other pattern applied to request input."""

import threading
import time

import httpx
import pytest

from services.authorization_server.pkce import check_challenge
from services.demo_client.api import parse_bearer_challenge
from shared.errors import InvalidRequestError
from shared.scopes import ScopeSyntaxError, parse_scope
from tests.factories import PASSWORD
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.forms import hidden_fields

HOSTILE_EMAILS = [
    pytest.param("a@" + "." * 16_000 + "@", id="dots-then-at"),
    pytest.param("a@" + "a." * 8_000 + "@", id="labels-then-at"),
    pytest.param("a@" + "." * 16_000 + " x", id="dots-then-space"),
    pytest.param("a" * 64 + "@" + "-." * 8_000, id="long-domain"),
]


def _signup(http: httpx.Client, email: str) -> httpx.Response:
    page = http.get("/signup")
    form = hidden_fields(page.text) | {"email": email, "password": PASSWORD, "name": "x"}
    return http.post("/signup", data=form)


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_hostile_emails_get_a_quick_error_page(live_as: AuthorizationServer, email: str) -> None:
    with httpx.Client(base_url=live_as.url, timeout=30) as http:
        started = time.monotonic()
        response = _signup(http, email)
        elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    assert elapsed < 0.5, f"sign-up took {elapsed:.2f}s"


def test_healthz_keeps_answering_while_hostile_signups_arrive(live_as: AuthorizationServer) -> None:
    done = threading.Event()
    statuses: list[int] = []

    def attack() -> None:
        with httpx.Client(base_url=live_as.url, timeout=60) as http:
            for _ in range(4):
                statuses.append(_signup(http, "a@" + "." * 16_000 + "@").status_code)
        done.set()

    worst = 0.0
    with httpx.Client(base_url=live_as.url, timeout=30) as http:
        attacker = threading.Thread(target=attack)
        attacker.start()
        while not done.is_set():
            started = time.monotonic()
            assert http.get("/healthz").status_code == 200
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.01)
        attacker.join()
    assert statuses == [400] * 4
    assert worst < 0.3, f"/healthz stalled for {worst:.2f}s"


def test_valid_emails_are_still_accepted(live_as: AuthorizationServer) -> None:
    with httpx.Client(base_url=live_as.url, timeout=30) as http:
        response = _signup(http, "  New.Person+tag@Example.COM ")
    assert (response.status_code, response.headers["location"]) == (303, "/signup/sent")


# --- the other patterns applied to input -------------------------------------------------


def test_scope_tokens_are_matched_whole() -> None:
    with pytest.raises(ScopeSyntaxError):
        parse_scope("read\n")  # `$` used to accept a trailing newline
    assert parse_scope("read write") == {"read", "write"}


def test_pkce_challenge_is_matched_whole() -> None:
    with pytest.raises(InvalidRequestError):
        check_challenge("a" * 43 + "\n", "S256")
    check_challenge("a" * 43, "S256")


def test_bearer_challenge_parsing_is_linear() -> None:
    header = 'Bearer realm="api", error="invalid_token", error_description="a \\"b\\""'
    assert parse_bearer_challenge(header)["error"] == "invalid_token"
    started = time.monotonic()
    parse_bearer_challenge("Bearer " + "a" * 4000)
    parse_bearer_challenge("Bearer " + "a" * 100_000)
    assert time.monotonic() - started < 0.1
