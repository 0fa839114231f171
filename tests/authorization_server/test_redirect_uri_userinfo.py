"""URLs with userinfo (`https://dropletbook.example@evil.example/cb` goes to evil.example).

Registration refuses them in one place for RFC 7591, the developer portal and
`/v1/apps/self`; the consent page shows only hosts, so a row stored before this rule
(or a website) can never pose as another site.
"""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from services.authorization_server.pkce import s256_challenge
from services.authorization_server.registration import RegistrationError, update_client
from tests.databases import TestDatabases
from tests.factories import VERIFIER, make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)
from tests.harness.browser import Browser

INITIAL_TOKEN = "initial-access-token-for-userinfo-tests"
LOOKALIKE = "https://dropletbook.example@evil.example/cb"
USERINFO_URIS = [
    pytest.param(LOOKALIKE, id="user"),
    pytest.param("https://dropletbook.example:pw@evil.example/cb", id="user-password"),
    pytest.param("https://@evil.example/cb", id="empty-user"),
    pytest.param("http://me@127.0.0.1:8080/cb", id="loopback"),
]


@pytest.fixture(scope="module")
def server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    with in_process_authorization_server(
        databases, registration_access_token=SecretStr(INITIAL_TOKEN)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def context(server: AuthorizationServer) -> ServerContext:
    return server.context


@pytest.fixture
def user(context: ServerContext) -> User:
    return make_user(context, email=f"ui-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browser(server: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = server.browser()
    browser.sign_in(user.email)
    yield browser
    browser.close()


def _client_count(context: ServerContext) -> int:
    with Session(context.engine) as session:
        return len(session.exec(select(Client)).all())


def _register(server: AuthorizationServer, metadata: dict[str, Any]) -> httpx.Response:
    return server.post(
        "/v1/oauth/register",
        json={"client_name": "Lookalike", **metadata},
        headers={"Authorization": f"Bearer {INITIAL_TOKEN}"},
    )


@pytest.mark.parametrize("uri", USERINFO_URIS)
def test_rfc7591_refuses_redirect_uri_with_userinfo(
    server: AuthorizationServer, context: ServerContext, uri: str
) -> None:
    before = _client_count(context)
    response = _register(server, {"redirect_uris": ["https://dropletbook.example/cb", uri]})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_redirect_uri"
    assert "user" in response.json()["error_description"]
    assert _client_count(context) == before


def test_rfc7591_refuses_client_uri_with_userinfo(server: AuthorizationServer) -> None:
    response = _register(
        server,
        {"redirect_uris": ["https://dropletbook.example/cb"], "client_uri": LOOKALIKE},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("field", ["redirect_uris", "website"])
def test_portal_refuses_urls_with_userinfo(
    context: ServerContext, browser: Browser, field: str
) -> None:
    before = _client_count(context)
    form = {
        "name": "Lookalike",
        "website": "https://dropletbook.example",
        "redirect_uris": "https://dropletbook.example/cb",
        "client_type": "confidential",
        "grant_types": ["authorization_code"],
        field: LOOKALIKE,
    }
    response = browser.submit("/developer/apps/new", "/developer/apps/new", form)
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert "user name or password" in response.text
    assert _client_count(context) == before


def test_portal_edit_refuses_redirect_uri_with_userinfo(
    context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(context, name="Mine", owner=user)
    form = {
        "name": "Mine",
        "website": "",
        "redirect_uris": LOOKALIKE,
        "grant_types": ["authorization_code"],
    }
    path = f"/developer/apps/{client.client_id}/edit"
    response = browser.submit(path, path, form)
    assert response.status_code == 400
    assert "user name or password" in response.text
    with Session(context.engine) as session:
        stored = session.get(Client, client.client_id)
        assert stored is not None and stored.redirect_uris == list(client.redirect_uris)


def test_update_client_refuses_userinfo(context: ServerContext) -> None:
    """The rule `/v1/apps/self` applies (it calls `update_client`)."""
    client, _ = make_client(context)
    session = Session(context.engine, expire_on_commit=False)
    with session, pytest.raises(RegistrationError) as refused:
        update_client(session, client, redirect_uris=[LOOKALIKE])
    assert refused.value.field == "redirect_uris"


def test_consent_page_shows_only_hosts(context: ServerContext, browser: Browser) -> None:
    """A client stored before the rule: the page names evil.example, never the lookalike."""
    client = Client(
        client_id=f"legacy-{uuid.uuid4().hex[:8]}",
        name="Legacy",
        website="https://dropletbook.example@evil.example/about",
        redirect_uris=[LOOKALIKE],
        grant_types=["authorization_code"],
        client_type="public",
    )
    with Session(context.engine, expire_on_commit=False) as session:
        session.add(client)
        session.commit()
    page = browser.get(
        "/v1/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": LOOKALIKE,
            "scope": "read",
            "code_challenge": s256_challenge(VERIFIER),
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 200, page.text
    assert "You will be sent back to evil.example." in page.text
    assert 'href="https://evil.example/about"' in page.text
    assert ">evil.example</a>" in page.text
    shown = re.sub(r'<input type="hidden"[^>]*>', "", page.text)  # the form echoes the request
    assert "dropletbook.example" not in shown


def test_consent_page_shows_host_and_port(context: ServerContext, browser: Browser) -> None:
    client, _ = make_client(
        context, redirect_uris=("http://127.0.0.1:8080/callback",), client_type="public"
    )
    page = browser.get(
        "/v1/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": "http://127.0.0.1:8080/callback",
            "scope": "read",
            "code_challenge": s256_challenge(VERIFIER),
            "code_challenge_method": "S256",
        },
    )
    assert "You will be sent back to 127.0.0.1:8080." in page.text
    assert '<a href="https://dropletbook.example" ' in page.text
    assert ">dropletbook.example</a>" in page.text
