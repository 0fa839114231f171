"""The tutorial's walk in a real browser (Playwright driving Debian's Chromium).

Shared by the test against three live servers and the test of the one-command demo. Each step
saves a screenshot under `artifacts/screenshots/<run>/`, which CI keeps as artifacts.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; never a downloaded browser build
TIMEOUT_MS = 20_000  # generous: CI machines are small and busy
expect.set_options(timeout=TIMEOUT_MS)  # Playwright's only switch for `expect` (default 5 s)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Stack:
    """Public URLs of the three services, and the demo user."""

    client: str
    auth: str
    api: str
    email: str = "demo@example.com"
    password: str = "demo-password"
    client_database: str = ""
    """Dropletbook's database, where tests may look at the tokens it holds."""


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Walk:
    def __init__(self, page: Page, stack: Stack, shots: Path) -> None:
        self.page = page
        self.stack = stack
        self.shots = shots
        self.count = 0
        self.account_id = ""
        self.saved: list[Path] = []
        shots.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        self.saved.append(path)

    def button(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def link(self, name: str) -> None:
        self.page.get_by_role("link", name=name, exact=True).click()


def walk_tutorial(browser: Browser, stack: Stack, shots: Path) -> list[Path]:
    """Connect, consent to Read, the dashboard; Deny; the write upgrade and a droplet; a
    forged callback; the implicit page; the password and client credentials pages; Disconnect.
    Returns the screenshots it saved."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    walk = Walk(page, stack, shots)
    try:
        _connect(walk)
        _deny_then_write(walk)
        _forged_callback(walk)
        _inspector(walk)
        _implicit(walk)
        _password_and_client_credentials(walk)
        _disconnect(walk)
    except Exception:
        walk.shot("failure")
        raise
    finally:
        context.close()
    return walk.saved


def _connect(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    page.goto(stack.client)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dropletbook")
    walk.shot("dropletbook-home")
    walk.link("Connect with Droplet Cloud")
    expect(page).to_have_url(re.compile(re.escape(stack.auth) + "/login"))
    expect(page.get_by_role("heading", name="Log in to Droplet Cloud")).to_be_visible()
    page.get_by_label("Email").fill(stack.email)
    page.get_by_label("Password").fill(stack.password)
    walk.shot("droplet-cloud-login")
    walk.button("Log in")
    expect(page).to_have_url(re.compile(re.escape(stack.auth) + "/v1/oauth/authorize"))
    consent = page.locator("main")
    expect(consent).to_contain_text("Dropletbook would like permission to access your account")
    expect(consent).to_contain_text(stack.email)
    expect(page.locator("ul.permissions li")).to_have_text(["Read"])
    walk.shot("consent-read")
    walk.button("Authorize Application")
    expect(page).to_have_url(stack.client + "/dashboard")
    expect(page.locator(".account-email")).to_have_text(stack.email)
    expect(page.locator(".granted-scope")).to_have_text("read")
    expect(page.locator("main")).to_contain_text("Connected")
    walk.account_id = page.locator(".account-id").inner_text()
    assert walk.account_id
    walk.shot("dashboard-read")


def _deny_then_write(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    walk.link("Ask for write access")
    expect(page.locator("main")).to_contain_text("needs the write scope")
    walk.shot("write-access-why")
    walk.link("Ask Droplet Cloud for read and write")
    expect(page.locator("ul.permissions li")).to_have_text(["Read", "Write"])
    walk.shot("consent-read-write")
    walk.button("Deny")
    expect(page.get_by_role("heading", level=1)).to_have_text("You chose Deny")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was shared")
    walk.shot("denied")
    walk.link("Back to Dropletbook")
    expect(page.locator(".granted-scope")).to_have_text("read")  # read access still works
    walk.link("Ask for write access")
    walk.link("Ask Droplet Cloud for read and write")
    walk.button("Authorize Application")
    expect(page).to_have_url(stack.client + "/dashboard")
    expect(page.locator(".granted-scope")).to_have_text("read write")
    page.get_by_label("Name").fill("web-1")
    page.get_by_label("Region").select_option("ams3")
    page.get_by_label("Image").select_option("debian-12-x64")
    walk.button("Create droplet")
    expect(page.locator("main")).to_contain_text("Droplet web-1 created.")
    expect(page.locator(".droplet-name")).to_contain_text(["web-1"])
    walk.shot("droplet-created")


def _forged_callback(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    page.goto(f"{stack.client}/callback?code=forged-code&state=forged-state")
    expect(page.get_by_role("heading", level=1)).to_contain_text("state did not match")
    expect(page.get_by_role("alert")).to_contain_text("cross-site request forgery")
    walk.shot("state-mismatch")


def _inspector(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    page.goto(f"{stack.client}/dashboard")
    walk.button("Refresh now")  # Step 7 on request: the refresh grant, rotation shown
    expect(page.locator("main")).to_contain_text("the refresh token rotated")
    expect(page.locator(".granted-scope")).to_have_text("read write")
    walk.shot("refreshed")
    page.goto(f"{stack.client}/inspector")
    flow = page.locator("#inspector-code")
    for text in (
        "Refresh now (you asked)",
        "The refresh token rotated",
        "The app is registered",
        "Authorization request",
        "Redirect back to Dropletbook",
        "Exchange the code for tokens",
        "Decoded access token (JWT)",
        "API call: POST /v2/droplets",
        "code_challenge",
    ):
        expect(flow).to_contain_text(text)
    expect(flow.locator(".status.ok").first).to_be_visible()
    walk.shot("inspector")


def _implicit(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    page.goto(f"{stack.client}/implicit")
    expect(page.locator("main")).to_contain_text("Deprecated")
    walk.shot("implicit-explained")
    walk.link("Try the implicit flow")
    expect(page.locator("main")).to_contain_text("Dropletbook (browser-only) would like permission")
    walk.button("Authorize Application")
    expect(page).to_have_url(stack.client + "/implicit")
    expect(page.locator(".implicit-account-id")).to_have_text(walk.account_id)
    expect(page.locator("#inspector-implicit")).to_contain_text("Token in the URL fragment")
    walk.shot("implicit-token")


def _password_and_client_credentials(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    page.goto(f"{stack.client}/password")
    page.get_by_label("Password", exact=True).fill(stack.password)
    walk.button("Get a token with the password")
    expect(page.locator(".password-email")).to_have_text(stack.email)
    expect(page.locator(".password-account-id")).to_have_text(walk.account_id)
    walk.shot("password-grant")
    page.goto(f"{stack.client}/client-credentials")
    walk.button("Get a token for Dropletbook itself")
    expect(page.locator("main")).to_contain_text("dropletbook-service")
    page.get_by_label("Description").fill("Updated by the browser walk")
    walk.button("Update the registration")
    expect(page.locator(".registration-description")).to_have_text("Updated by the browser walk")
    walk.shot("client-credentials")


def _disconnect(walk: Walk) -> None:
    page, stack = walk.page, walk.stack
    page.goto(f"{stack.client}/dashboard")
    walk.button("Disconnect")
    expect(page).to_have_url(stack.client + "/")
    expect(page.locator("main")).to_contain_text("Disconnected")
    expect(page.get_by_role("link", name="Connect with Droplet Cloud")).to_be_visible()
    walk.shot("disconnected")
    page.goto(f"{stack.client}/inspector")
    expect(page.locator("#inspector-code")).to_contain_text("Disconnect: revoke the refresh token")
