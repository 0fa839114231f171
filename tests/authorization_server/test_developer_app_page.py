"""The developer portal's page of one app (live server): it describes the app it shows, and a
public client's page never talks about a client secret it does not have."""

import uuid
from collections.abc import Iterator

import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import User
from tests.authorization_server.portal_browser import Browser
from tests.factories import make_client, make_user
from tests.live_server import LiveServer


@pytest.fixture
def user(live_context: ServerContext) -> User:
    return make_user(live_context, email=f"dev-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browser(live_as: LiveServer, user: User) -> Iterator[Browser]:
    browser = Browser(live_as.url)
    browser.login(user.email)
    yield browser
    browser.close()


def _main(browser: Browser, client_id: str) -> str:
    page = browser.get(f"/developer/apps/{client_id}")
    assert page.status_code == 200, page.text
    return page.text.split("<main", 1)[1].split("</main>", 1)[0]


def test_implicit_only_app_page_says_nothing_of_secrets_or_pkce(
    live_context: ServerContext, browser: Browser, user: User
) -> None:
    client, secret = make_client(
        live_context,
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
    live_context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(
        live_context, client_type="public", grant_types=("authorization_code",), owner=user
    )
    main = _main(browser, client.client_id)
    assert "secret" not in main.lower()
    assert "proves each code exchange with PKCE" in main


def test_confidential_app_page_shows_its_secret_row_and_rotation(
    live_context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(live_context, owner=user)
    main = _main(browser, client.client_id)
    assert "<th>Client Secret</th>" in main
    assert "hidden; rotate it to get a new one" in main
    assert "Rotate client secret" in main
    assert "Rotating the secret stops the old one at once." in main
