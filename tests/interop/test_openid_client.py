"""panva's openid-client (npm, run with Node) as the relying party against a live server:
discovery, dynamic registration (RFC 7591) with `openid profile email read write`,
code + PKCE + nonce, ID Token validation, UserInfo and the end-session URL. The
user's part (login, consent, logout confirmation) is played in a real Chromium.

The Node side is tests/interop/node/relying_party.mjs; its dependencies are pinned by
package-lock.json and installed with `npm ci` on first use.
"""

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from services.authorization_server.settings import Settings
from tests.e2e.walk import TIMEOUT_MS, chromium
from tests.harness.forms import query_of
from tests.interop.conftest import INITIAL_ACCESS_TOKEN, REDIRECT_URI, REGISTERED_SCOPE
from tests.interop.helpers import TestUser

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).parent / "node"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:8080/signed-out"
NODE_TIMEOUT = 60


@pytest.fixture(scope="session")
def node_relying_party() -> Path:
    """The Node project with its locked dependencies installed (`npm ci`, once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node 20+ and npm are needed for this test (apt-get install nodejs npm)"
    installed = NODE_DIR / "node_modules" / "openid-client" / "package.json"
    with (NODE_DIR / "node_modules.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once install it once
        if not installed.is_file():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
            )
    return NODE_DIR / "relying_party.mjs"


@pytest.fixture
def browser_context() -> Iterator[BrowserContext]:
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


def capture_redirect(page: Page, target: str) -> list[str]:
    """Answer requests to `target` in the browser itself (nothing listens there) and keep
    their URLs: the client's redirect URI, with the provider's response."""
    seen: list[str] = []

    def answer(route: Route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="back at the client")

    page.route(f"{target}**", answer)
    return seen


def log_in_and_consent(page: Page, url: str, user: TestUser) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    consent = page.locator("main")
    expect(consent).to_contain_text("would like permission to access your account")
    expect(consent).to_contain_text("Your name")
    expect(consent).to_contain_text("Your email address")
    page.get_by_role("button", name="Authorize Application").click()


def run_relying_party(
    script: Path, env: dict[str, str], page: Page, user: TestUser
) -> dict[str, Any]:
    """Node prints the authorization URL; the browser logs in and consents; Node gets the
    callback URL and prints what the library made of the response."""
    process = subprocess.Popen(
        ["node", script.name],
        cwd=script.parent,
        env={"PATH": os.environ["PATH"], **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        first = json.loads(process.stdout.readline() or '{"step": "no output"}')
        if first["step"] != "authorize":
            _, stderr = process.communicate(timeout=NODE_TIMEOUT)
            pytest.fail(f"openid-client did not start: {first} {stderr}")
        callbacks = capture_redirect(page, env["RP_REDIRECT_URI"])
        log_in_and_consent(page, first["url"], user)
        expect(page.locator("body")).to_have_text("back at the client")
        stdout, stderr = process.communicate(callbacks[-1] + "\n", timeout=NODE_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    assert result["step"] == "done", (result, stderr)
    return {"authorize": first, **result}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_openid_client_registers_signs_in_reads_userinfo_and_signs_out(
    algorithm: str,
    node_relying_party: Path,
    browser_context: BrowserContext,
    as_settings: Settings,
    user: TestUser,
) -> None:
    env = {
        "RP_ISSUER": as_settings.issuer,
        "RP_INITIAL_ACCESS_TOKEN": INITIAL_ACCESS_TOKEN,
        "RP_REGISTER_SCOPE": REGISTERED_SCOPE,
        "RP_REDIRECT_URI": REDIRECT_URI,
        "RP_POST_LOGOUT_REDIRECT_URI": POST_LOGOUT_REDIRECT_URI,
        "RP_ID_TOKEN_ALG": algorithm,
    }
    page = browser_context.new_page()
    result = run_relying_party(node_relying_party, env, page, user)

    registered = result["authorize"]["registered"]
    assert set(registered["scope"].split()) == set(REGISTERED_SCOPE.split())
    client_id = registered["client_id"]
    authorize = query_of(result["authorize"]["url"])
    assert authorize["response_type"] == "code" and authorize["code_challenge_method"] == "S256"
    assert authorize["nonce"] == result["nonce"]
    assert result["authorize"]["server"]["issuer"] == as_settings.issuer
    assert result["id_token_header"]["alg"] == algorithm
    claims = result["claims"]
    assert claims["iss"] == as_settings.issuer
    assert claims["aud"] in (client_id, [client_id])
    assert claims["sub"] == user.id
    assert claims["nonce"] == result["nonce"]
    assert isinstance(claims["at_hash"], str) and isinstance(claims["auth_time"], int)
    assert claims["exp"] > claims["iat"]
    assert result["userinfo"]["sub"] == user.id
    assert result["userinfo"]["name"] == user.name
    assert result["userinfo"]["email"] == user.email
    assert result["token_type"].lower() == "bearer"
    assert set(result["scope"].split()) == {"openid", "profile", "email"}

    end_session = result["end_session_url"]
    endpoint = result["authorize"]["server"]["end_session_endpoint"]
    assert end_session.startswith(endpoint + "?")
    params = query_of(end_session)
    assert params["post_logout_redirect_uri"] == POST_LOGOUT_REDIRECT_URI
    assert params["id_token_hint"] and params["client_id"] == client_id

    # The URL the library built works: confirm, and the provider sends the browser back.
    back = capture_redirect(page, POST_LOGOUT_REDIRECT_URI)
    page.goto(end_session)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("body")).to_have_text("back at the client")
    assert urlsplit(back[-1]).path == urlsplit(POST_LOGOUT_REDIRECT_URI).path
    assert query_of(back[-1])["state"] == result["logout_state"]
