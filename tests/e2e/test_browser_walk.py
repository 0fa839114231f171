"""The tutorial's walk in a real browser against the three live services."""

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from services.demo_client.db import make_engine
from services.demo_client.sealing import SessionKeys
from services.demo_client.sessions import COOKIE, SessionStore
from services.demo_client.settings import Settings
from tests.e2e.conftest import ACCESS_TOKEN_TTL
from tests.e2e.walk import SCREENSHOTS, TIMEOUT_MS, Stack, chromium, walk_tutorial

pytestmark = pytest.mark.e2e


def test_tutorial_walk_in_a_real_browser(stack: Stack) -> None:
    with chromium() as browser:
        saved = walk_tutorial(browser, stack, SCREENSHOTS / "walk")
    assert len(saved) == 16
    assert all(path.stat().st_size > 10_000 for path in saved)


def connect(page: Page, stack: Stack) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(stack.client)
    page.get_by_role("link", name="Connect with Droplet Cloud").click()
    if "/login" in page.url:
        page.get_by_label("Email").fill(stack.email)
        page.get_by_label("Password").fill(stack.password)
        page.get_by_role("button", name="Log in").click()
    if "/v1/oauth/authorize" in page.url:  # consent unless given in an earlier test
        page.get_by_role("button", name="Authorize Application").click()
    expect(page).to_have_url(stack.client + "/dashboard")
    expect(page.locator(".account-email")).to_have_text(stack.email)


def held_tokens(page: Page, stack: Stack) -> dict[str, str]:
    """The tokens Dropletbook keeps for this browser, read from its database (sealed there
    with the development key the stack runs with)."""
    (cookie,) = [c["value"] for c in page.context.cookies() if c["name"] == COOKIE]
    settings = Settings(environment="development")
    keys = SessionKeys(settings.session_encryption_key.get_secret_value())
    engine = make_engine(stack.client_database)
    try:
        browser = SessionStore(engine, ttl=settings.session_ttl, keys=keys).load(cookie)
        assert browser.stored
        grant: dict[str, str] = browser.grants["code"]
        return grant
    finally:
        engine.dispose()


def test_disconnect_revokes_the_tokens_everywhere(stack: Stack) -> None:
    """RFC 7009 revocation at the server; the API refuses the access token within seconds."""
    with chromium() as browser:
        page = browser.new_page()
        connect(page, stack)
        tokens = held_tokens(page, stack)
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.get(f"{stack.api}/v2/account", headers=bearer).status_code == 200
        page.get_by_role("button", name="Disconnect").click()
        expect(page.locator("main")).to_contain_text("Disconnected")
    deadline = time.monotonic() + 15
    while httpx.get(f"{stack.api}/v2/account", headers=bearer).status_code == 200:
        assert time.monotonic() < deadline, "the API still accepts the revoked token"
        time.sleep(0.5)
    response = httpx.get(f"{stack.api}/v2/account", headers=bearer)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    refresh = httpx.post(
        f"{stack.auth}/v1/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("dropletbook", "dropletbook-demo-secret"),
    )
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"


def authorized_apps(page: Page, stack: Stack) -> list[str]:
    """The names on the user's "Authorized applications" page at Droplet Cloud."""
    page.goto(f"{stack.auth}/account/applications")
    expect(page.get_by_role("heading", level=1)).to_have_text("Authorized applications")
    return page.locator("tr.application strong").all_inner_texts()


def test_connect_keeps_write_and_disconnect_withdraws_the_consent(stack: Stack) -> None:
    """Connect while holding read write asks for the union (and keeps it); Disconnect ends the
    grant and the consent: the app leaves Authorized apps, and Connect asks again. Runs before
    the expiry test, which leaves a live grant of the demo user behind."""
    with chromium() as browser:
        page = browser.new_page()
        connect(page, stack)
        page.goto(f"{stack.client}/connect?access=write")
        if "/v1/oauth/authorize" in page.url:
            expect(page.locator("ul.permissions li")).to_have_text(["Read", "Write"])
            page.get_by_role("button", name="Authorize Application").click()
        expect(page.locator(".granted-scope")).to_have_text("read write")
        page.goto(f"{stack.client}/connect")  # access=read, while holding read write
        expect(page).to_have_url(stack.client + "/dashboard")  # no consent screen
        expect(page.locator(".granted-scope")).to_have_text("read write")
        assert "Dropletbook" in authorized_apps(page, stack)

        page.goto(f"{stack.client}/dashboard")
        page.get_by_role("button", name="Disconnect").click()
        expect(page.locator("main")).to_contain_text("Disconnected")
        assert "Dropletbook" not in authorized_apps(page, stack)
        page.goto(stack.client)
        page.get_by_role("link", name="Connect with Droplet Cloud").click()
        expect(page).to_have_url(re.compile(re.escape(stack.auth) + "/v1/oauth/authorize"))
        expect(page.get_by_role("button", name="Authorize Application")).to_be_visible()


def test_expired_access_token_is_refreshed_and_the_call_retried(stack: Stack) -> None:
    """Step 7: the API answers invalid_token once the token expires; Dropletbook refreshes."""
    with chromium() as browser:
        page = browser.new_page()
        connect(page, stack)
        time.sleep(ACCESS_TOKEN_TTL + 1.5)
        page.reload()
        expect(page.locator(".account-email")).to_have_text(stack.email)
        flow = page.locator("#inspector-code")
        expect(flow).to_contain_text("The access token was refused")
        expect(flow).to_contain_text("Refresh the access token (rotation)")
        expect(flow).to_contain_text("Retried once with the new access token.")
        expect(flow.locator("li").last).to_contain_text(re.compile(r"→ 200"))
        page.screenshot(path=SCREENSHOTS / "walk" / "99-refreshed.png", full_page=True)
