"""Sign-up input is checked in linear time, length first (issue 8, item 1: ReDoS), and so is
every other pattern applied to request input."""

import threading
import time

import httpx
import pytest

from services.authorization_server import users
from services.authorization_server.pkce import check_challenge
from services.authorization_server.users import UserInputError
from services.demo_client import api
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
def test_hostile_emails_never_reach_the_syntax_check(
    monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    """Length first: no hostile input is handed to a pattern, so none can make it slow
    (checked without a clock, which a busy machine would make lie)."""
    checked: list[str] = []
    monkeypatch.setattr(users, "validate_email", lambda value, **_: checked.append(value))
    with pytest.raises(UserInputError, match=r"^Enter a valid email address\.$"):
        users.checked_account(email, PASSWORD, "x")
    assert checked == []


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_hostile_emails_get_an_error_page(live_as: AuthorizationServer, email: str) -> None:
    with httpx.Client(base_url=live_as.url, timeout=30) as http:  # a hang guard, not a budget
        response = _signup(http, email)
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text


def test_healthz_keeps_answering_while_hostile_signups_arrive(live_as: AuthorizationServer) -> None:
    done = threading.Event()
    statuses: list[int] = []

    def attack() -> None:
        with httpx.Client(base_url=live_as.url, timeout=60) as http:
            for _ in range(4):
                statuses.append(_signup(http, "a@" + "." * 16_000 + "@").status_code)
        done.set()

    probes = 0
    # Each probe must answer, within the client's generous timeout (a hang guard: a pattern
    # that blocked the event loop would stall it); how fast is for bench/, not for a test.
    with httpx.Client(base_url=live_as.url, timeout=30) as http:
        attacker = threading.Thread(target=attack)
        attacker.start()
        while not done.is_set() or probes == 0:
            assert http.get("/healthz").status_code == 200
            probes += 1
            time.sleep(0.01)
        attacker.join()
    assert statuses == [400] * 4


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


def test_bearer_challenge_parsing_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A header over the cap never reaches the pattern, so the work per header is bounded
    (checked without a clock); a long run of name characters under it finds nothing."""
    header = 'Bearer realm="api", error="invalid_token", error_description="a \\"b\\""'
    assert parse_bearer_challenge(header)["error"] == "invalid_token"
    assert parse_bearer_challenge("Bearer " + "a" * 4000) == {}
    scanned: list[str] = []

    class Recording:
        def findall(self, text: str) -> list[tuple[str, str]]:
            scanned.append(text)
            return []

    monkeypatch.setattr(api, "_CHALLENGE_PARAM", Recording())
    assert parse_bearer_challenge("Bearer " + "a" * 100_000) == {}
    assert parse_bearer_challenge("Bearer " + 'a="' * 40_000) == {}
    assert scanned == []
    assert parse_bearer_challenge(header) == {}  # the pattern is the one consulted
    assert scanned == [header]
