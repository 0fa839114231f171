"""Sign in with Droplet Cloud (OpenID Connect) in a real browser against the three live
services: sign in, the name shown, UserInfo, the ID Token checks in the inspector, and sign
out through Droplet Cloud's end-session endpoint, which ends the session there too."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.walk import SCREENSHOTS, TIMEOUT_MS, Stack, chromium

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "sign-in"


def sign_in(page: Page, stack: Stack) -> None:
    """Log in at Droplet Cloud and, unless given before, consent to the identity scopes."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{stack.client}/signin")
    page.get_by_role("link", name="Sign in with Droplet Cloud").click()
    expect(page).to_have_url(re.compile(re.escape(stack.auth) + "/login"))
    page.get_by_label("Email").fill(stack.email)
    page.get_by_label("Password").fill(stack.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(re.escape(stack.auth) + "/login"))
    if page.url.startswith(stack.auth):
        consent = page.locator("main")
        expect(consent).to_contain_text("Dropletbook would like permission to access your account")
        expect(consent).to_contain_text("Your name")
        expect(consent).to_contain_text("Your email address")
        page.screenshot(path=SHOTS / "01-consent.png", full_page=True)
        page.get_by_role("button", name="Authorize Application").click()
    expect(page).to_have_url(stack.client + "/signin")


def test_sign_in_shows_the_name_userinfo_and_each_id_token_check(stack: Stack) -> None:
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, stack)
        expect(page.get_by_role("status")).to_have_text(
            "Signed in with Droplet Cloud as Demo User."
        )
        expect(page.locator(".signed-in-name")).to_have_text("Demo User")
        expect(page.locator(".signed-in-email")).to_have_text(stack.email)  # from UserInfo
        expect(page.locator(".userinfo")).to_contain_text('"email_verified"')
        flow = page.locator("#inspector-signin")
        expect(flow).to_contain_text("Decoded ID Token (JWT)")
        checks = flow.locator("li", has_text="The ID Token passed every check")
        for check in ("signature", "iss", "aud", "exp", "nonce", "at_hash"):
            row = checks.locator("tr", has=page.locator(f"td:text-is('{check}')"))
            expect(row.locator("code")).to_have_text("passed")
        expect(flow).to_contain_text("API call: GET /v1/oauth/userinfo")
        page.screenshot(path=SHOTS / "02-signed-in.png", full_page=True)
        page.goto(stack.client)
        expect(page.locator(".signed-in-name")).to_have_text("Demo User")


def test_sign_out_ends_the_session_at_droplet_cloud_too(stack: Stack) -> None:
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, stack)
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(re.escape(stack.auth) + "/v1/oauth/logout"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign out of Droplet Cloud?")
        expect(page.locator("main")).to_contain_text("Dropletbook asks to sign you out")
        page.screenshot(path=SHOTS / "03-confirm-sign-out.png", full_page=True)
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(stack.client + "/signin")
        expect(page.get_by_role("status")).to_have_text(
            "Signed out of Dropletbook and Droplet Cloud."
        )
        expect(page.locator(".signed-in-name")).to_have_count(0)
        flow = page.locator("#inspector-signin")
        expect(flow).to_contain_text("Sign out: revoke the refresh token")
        expect(flow).to_contain_text("Sign out at Droplet Cloud")
        expect(flow).to_contain_text("Back from Droplet Cloud")
        page.screenshot(path=SHOTS / "04-signed-out.png", full_page=True)

        # The session at Droplet Cloud ended too: signing in asks for the password again.
        page.get_by_role("link", name="Sign in with Droplet Cloud").click()
        expect(page).to_have_url(re.compile(re.escape(stack.auth) + "/login"))
