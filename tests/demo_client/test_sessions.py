"""Browser sessions (sessions.py): server-issued ids only, a new id after every grant, tokens
sealed at rest, rows only when there is something to keep, expired rows purged."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine

from services.demo_client.db import SCHEMA
from services.demo_client.main import create_app
from services.demo_client.sessions import COOKIE
from services.demo_client.settings import Settings
from tests.demo_client.conftest import PUBLIC_URL
from tests.demo_client.fakes import FakeServers
from tests.demo_client.test_code_flow import connect, csrf
from tests.demo_client.test_other_flows import start_implicit
from tests.harness.browser import Browser
from tests.harness.servers import InProcessApp

DOMAIN = "testserver.local"  # where httpx keeps cookies of http://testserver


def engine_of(app: FastAPI) -> Engine:
    engine: Engine = app.state.context.engine
    return engine


def session_id(browser: Browser) -> str | None:
    return browser.cookies.get(COOKIE, domain=DOMAIN)


def plant(browser: Browser, value: str) -> None:
    browser.cookies.set(COOKIE, value, domain=DOMAIN)


def stored_text(app: FastAPI) -> str:
    """Every row of every table of Dropletbook's database, as text."""
    engine = engine_of(app)
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in inspect(engine).get_table_names()
            for row in connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
        )


def count_sessions(app: FastAPI) -> int:
    """Rows in Dropletbook's tables (its one table holds sessions; not the version table)."""
    engine = engine_of(app)
    with engine.connect() as connection:
        return sum(
            connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()  # noqa: S608
            for table in SCHEMA.tables
        )


def expire_sessions(app: FastAPI) -> None:
    engine = engine_of(app)
    with engine.begin() as connection:
        for table in SCHEMA.tables:
            connection.execute(text(f'UPDATE "{table}" SET expires_at = 0'))  # noqa: S608


def sees_the_victims_account(attacker: Browser) -> bool:
    return attacker.get("/dashboard").status_code == 200


def test_a_planted_cookie_value_is_never_adopted(browser: Browser, attacker: Browser) -> None:
    planted = "attacker-chosen-session-id-0123456789"
    plant(browser, planted)
    plant(attacker, planted)
    connect(browser)
    assert session_id(browser) != planted
    assert sees_the_victims_account(browser)
    assert not sees_the_victims_account(attacker)
    assert "Nothing recorded yet" in attacker.get("/inspector").text


def test_a_planted_server_issued_id_is_worthless_once_the_victim_connects(
    browser: Browser, attacker: Browser
) -> None:
    attacker.get("/connect")  # the attacker gets a real id, then plants it in the victim's browser
    planted = session_id(attacker)
    assert planted
    plant(browser, planted)
    connect(browser)
    assert session_id(browser) != planted
    assert sees_the_victims_account(browser)
    assert not sees_the_victims_account(attacker)
    assert "Exchange the code for tokens" not in attacker.get("/inspector").text


def _code(browser: Browser) -> None:
    connect(browser)


def _implicit(browser: Browser) -> None:
    params = start_implicit(browser)
    form = {
        "csrf_token": csrf(browser, "/implicit/callback"),
        "access_token": "access-implicit",
        "token_type": "bearer",
        "state": params["state"],
        "iss": "https://as.example",
    }
    assert browser.post("/implicit/token", data=form).status_code == 303


def _password(browser: Browser) -> None:
    form = {
        "csrf_token": csrf(browser, "/password"),
        "username": "demo@example.com",
        "password": "demo-password",
    }
    assert browser.post("/password", data=form).status_code == 303


def _client_credentials(browser: Browser) -> None:
    token = csrf(browser, "/client-credentials")
    assert browser.post("/client-credentials/token", data={"csrf_token": token}).status_code == 303


@pytest.mark.parametrize(
    "grant",
    [
        pytest.param(_code, id="code"),
        pytest.param(_implicit, id="implicit"),
        pytest.param(_password, id="password"),
        pytest.param(_client_credentials, id="client_credentials"),
    ],
)
def test_the_session_id_changes_after_every_grant(
    browser: Browser, attacker: Browser, grant: Callable[[Browser], None]
) -> None:
    browser.get("/connect")  # a session exists before the grant
    before = session_id(browser)
    assert before
    grant(browser)
    after = session_id(browser)
    assert after and after != before
    plant(attacker, before)
    inspector = attacker.get("/inspector").text
    assert "Nothing recorded yet" in inspector  # the old id names nothing any more
    assert session_id(attacker) == before  # and is not re-issued


def test_the_session_id_changes_at_disconnect(browser: Browser, attacker: Browser) -> None:
    connect(browser)
    before = session_id(browser)
    response = browser.post("/disconnect", data={"csrf_token": csrf(browser, "/dashboard")})
    assert response.headers["location"] == "/"
    assert session_id(browser) not in (None, before)
    assert "Disconnected" in browser.get("/").text
    assert before
    plant(attacker, before)
    assert "Nothing recorded yet" in attacker.get("/inspector").text


def test_csrf_tokens_are_bound_to_the_session_id(browser: Browser, attacker: Browser) -> None:
    attacker.get("/password")
    stolen = csrf(attacker, "/password")
    form = {"csrf_token": stolen, "username": "mallory@example.com", "password": "demo-password"}
    browser.get("/password")
    assert browser.post("/password", data=form).status_code == 403


def test_the_database_holds_no_token_verifier_or_state_in_clear(
    app: FastAPI, browser: Browser, fake: FakeServers
) -> None:
    params = connect(browser)
    _password(browser)
    _client_credentials(browser)
    pending = browser.get("/connect", params={"access": "write"}).headers["location"]
    assert pending.startswith("https://as.example/")
    assert fake.counter == 3
    stored = stored_text(app)
    for number in range(1, fake.counter + 1):
        assert f"access-{number}" not in stored
        assert f"refresh-{number}" not in stored
    assert params["state"] not in stored
    assert str(session_id(browser)) not in stored
    verifier = fake.token_requests()[0]["code_verifier"]
    assert verifier not in stored
    assert sees_the_victims_account(browser)  # and yet Dropletbook still has them


def test_cookieless_visits_store_nothing(app: FastAPI, browser: Browser) -> None:
    for _ in range(30):
        browser.cookies.clear()
        for page in ("/", "/inspector", "/implicit", "/dashboard", "/write-access"):
            response = browser.get(page)
            assert response.status_code in (200, 303)
            assert "set-cookie" not in response.headers
    assert count_sessions(app) == 0
    browser.get("/connect")  # a flow started: now there is something to keep
    assert count_sessions(app) == 1


def test_a_cookie_the_server_does_not_hold_stores_nothing(app: FastAPI, browser: Browser) -> None:
    plant(browser, "x" * 43)
    assert browser.get("/").status_code == 200
    assert count_sessions(app) == 0


def test_expired_sessions_are_purged_while_the_app_runs(
    client_settings: Settings, fake: FakeServers
) -> None:
    settings = client_settings.model_copy(update={"session_purge_interval": 0.05})
    app = create_app(settings, http=httpx.Client(transport=fake.transport()))
    with InProcessApp(app) as running:
        browser = running.browser(PUBLIC_URL)
        try:
            connect(browser)
            browser.get("/connect")
            assert count_sessions(app) == 1
            expire_sessions(app)
            deadline = time.monotonic() + 60  # a generous bound, not a budget
            while count_sessions(app):
                assert time.monotonic() < deadline, "the expired session was never purged"
                time.sleep(0.05)
            assert not sees_the_victims_account(browser)
        finally:
            browser.close()


@contextmanager
def writes(app: FastAPI) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements Dropletbook sends while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            sent.append(statement)

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_request_writes_its_session_once_and_only_if_it_changed(
    app: FastAPI, browser: Browser, fake: FakeServers
) -> None:
    connect(browser, code="write-code")
    browser.get("/dashboard")
    token = csrf(browser, "/dashboard")
    droplet = {"name": "web-1", "region": "ams3", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
    with writes(app) as sent:  # the API call's steps and the notice: one write
        browser.post("/droplets", data={"csrf_token": token, **droplet})
    assert len(sent) == 1
    assert fake.droplets
    browser.get("/")  # shows (and clears) the notice
    with writes(app) as sent:
        for page in ("/", "/inspector", "/write-access"):
            assert browser.get(page).status_code == 200
    assert sent == []
