"""Apps per user are capped (`AS_MAX_APPS_PER_USER`): the portal says so on the form page."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.client_metadata import metadata_error
from services.authorization_server.context import ServerContext
from services.authorization_server.models import User
from services.authorization_server.registration import RegistrationError, register_client
from services.authorization_server.settings import Settings
from shared.errors import InvalidClientMetadataError
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)
from tests.harness.browser import Browser

CAP = 2


@pytest.fixture(scope="module")
def server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    with in_process_authorization_server(databases, max_apps_per_user=CAP) as server:
        yield server


@pytest.fixture(scope="module")
def server_context(server: AuthorizationServer) -> ServerContext:
    return server.context


@pytest.fixture
def user(server_context: ServerContext) -> User:
    return make_user(server_context, email=f"quota-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browser(server: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = server.browser()
    browser.sign_in(user.email)
    yield browser
    browser.close()


def _form(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "redirect_uris": "https://dropletbook.example/cb",
        "client_type": "confidential",
        "grant_types": ["authorization_code"],
    }


def _create(browser: Browser, name: str) -> Any:
    return browser.submit("/developer/apps/new", "/developer/apps/new", _form(name))


def _count(context: ServerContext, user: User) -> int:
    with Session(context.engine) as session:
        return len(repository.list_clients(session=session, owner_id=user.id))


def test_portal_refuses_apps_over_the_cap(
    server_context: ServerContext, browser: Browser, user: User
) -> None:
    created = [_create(browser, f"App {n}") for n in range(CAP)]
    assert [response.status_code for response in created] == [303] * CAP

    over = _create(browser, "One too many")
    assert over.status_code == 400
    assert f"limit of {CAP} applications" in over.text
    assert 'class="error"' in over.text and "One too many" in over.text  # the form is kept
    assert _count(server_context, user) == CAP
    assert f"{CAP} of at most {CAP} applications" in browser.get("/developer/apps").text

    # Deleting one makes room again.
    first = created[0].headers["location"]
    assert browser.submit(f"{first}/delete", f"{first}/delete").status_code == 303
    assert _create(browser, "Replacement").status_code == 303
    assert _count(server_context, user) == CAP


def test_the_cap_is_per_user(server_context: ServerContext, browser: Browser) -> None:
    other = make_user(server_context, email=f"other-{uuid.uuid4().hex[:8]}@example.com")
    for n in range(CAP):
        make_client(server_context, name=f"Theirs {n}", owner=other)
    assert _create(browser, "Mine").status_code == 303


def test_register_client_refuses_over_the_cap(context: ServerContext) -> None:
    owner = make_user(context)
    make_client(context, owner=owner)
    with Session(context.engine) as session, pytest.raises(RegistrationError) as refused:
        register_client(
            session,
            name="Second",
            redirect_uris=["https://dropletbook.example/cb"],
            owner_id=owner.id,
            max_apps=1,
        )
    # Where the JSON registration knows an owner, this is its RFC 7591 error.
    assert isinstance(metadata_error(refused.value), InvalidClientMetadataError)


def test_default_cap() -> None:
    assert Settings(environment="development").max_apps_per_user == 25
