"""Destructive buttons in a real browser (Chromium, no scripts needed): each leads to a
confirmation page, Cancel changes nothing, and the confirmed action says what it did."""

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.e2e.walk import TIMEOUT_MS, chromium
from tests.factories import make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser

pytestmark = pytest.mark.e2e


@pytest.fixture
def user(live_context: ServerContext) -> User:
    return make_user(live_context, email=f"dev-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def http(live_as: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = Browser(live_as.url)
    browser.sign_in(user.email)
    yield browser
    browser.close()


@pytest.fixture
def context(live_as: AuthorizationServer, http: Browser) -> Iterator[BrowserContext]:
    """Chromium, logged in as `user` (the session cookie of the HTTP browser's login)."""
    cookies = [
        {"name": cookie.name, "value": cookie.value or "", "url": live_as.url}
        for cookie in http.http.cookies.jar
    ]
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies(cookies)  # type: ignore[arg-type]
        yield context
        context.close()


def test_rotate_then_delete_an_app(
    live_as: AuthorizationServer, live_context: ServerContext, context: BrowserContext, user: User
) -> None:
    client, _ = make_client(live_context, name="Dropletbook", owner=user)
    page = context.new_page()
    app_page = f"{live_as.url}/developer/apps/{client.client_id}"
    page.goto(app_page)

    page.get_by_role("link", name="Rotate client secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rotate the secret of Dropletbook?")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(app_page)
    expect(page.locator("#client-secret")).to_have_count(0)  # nothing happened

    page.get_by_role("link", name="Rotate client secret").click()
    page.get_by_role("button", name="Rotate secret").click()
    expect(page).to_have_url(app_page)
    expect(page.locator("#notice")).to_have_text(
        "A new secret was issued: copy it now. The old one no longer works."
    )
    expect(page.locator("#client-secret")).to_have_count(1)
    page.reload()
    expect(page.locator("#notice")).to_have_count(0)  # once

    page.get_by_role("link", name="Delete application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete Dropletbook?")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(f"{live_as.url}/developer/apps")
    expect(page.locator("#notice")).to_have_text(
        "Dropletbook was deleted; its tokens no longer work."
    )
    expect(page.get_by_role("link", name="Dropletbook")).to_have_count(0)


def test_revoke_access(
    live_as: AuthorizationServer,
    live_context: ServerContext,
    context: BrowserContext,
    http: Browser,
) -> None:
    client: Client = make_client(live_context, name="Dropletbook")[0]
    http.approve_code(client.client_id, "http://127.0.0.1:8080/callback", "read")  # consent
    page = context.new_page()
    listing = f"{live_as.url}/account/applications"
    page.goto(listing)

    page.get_by_role("link", name="Revoke access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke Dropletbook's access?")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(listing)
    expect(page.locator("tr.application strong")).to_have_text(["Dropletbook"])

    page.get_by_role("link", name="Revoke access").click()
    page.get_by_role("button", name="Revoke access").click()
    expect(page).to_have_url(listing)
    expect(page.locator("#notice")).to_have_text("Dropletbook's access was revoked.")
    expect(page.locator("tr.application")).to_have_count(0)
