"""The developer portal's page of one app (in-process): it describes the app it shows, and a
public client's page never talks about a client secret it does not have."""

import uuid
from collections.abc import Iterator

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import User
from tests.factories import make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser


@pytest.fixture
def user(as_context: ServerContext) -> User:
    return make_user(as_context, email=f"dev-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browser(as_server: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = as_server.browser()
    browser.sign_in(user.email)
    yield browser
    browser.close()


def _main(browser: Browser, client_id: str) -> str:
    page = browser.get(f"/developer/apps/{client_id}")
    assert page.status_code == 200, page.text
    return page.text.split("<main", 1)[1].split("</main>", 1)[0]


def test_implicit_only_app_page_says_nothing_of_secrets_or_pkce(
    as_context: ServerContext, browser: Browser, user: User
) -> None:
    client, secret = make_client(
        as_context,
        name="Dropletbook (browser-only)",
        client_type="public",
        grant_types=("implicit",),
        redirect_uris=("http://127.0.0.1:8080/implicit/callback",),
        owner=user,
    )
    assert secret is None
    main = _main(browser, client.client_id)
    assert "secret" not in main.lower()
    assert "PKCE" not in main
    assert "browser-only app" in main
    assert "Delete application" in main


def test_public_code_app_page_names_pkce_not_a_secret(
    as_context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(
        as_context, client_type="public", grant_types=("authorization_code",), owner=user
    )
    main = _main(browser, client.client_id)
    assert "secret" not in main.lower()
    assert "proves each code exchange with PKCE" in main


def test_confidential_app_page_shows_its_secret_row_and_rotation(
    as_context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(as_context, owner=user)
    main = _main(browser, client.client_id)
    assert "<th>Client Secret</th>" in main
    assert "hidden; rotate it to get a new one" in main
    assert "Rotate client secret" in main
    assert "Rotating the secret stops the old one at once." in main
