"""`docker compose up --build` for real: the image the Dockerfile builds, every service
healthy, the tutorial's walk in Chromium, a sign-up confirmed through the mail catcher, and
the data kept across `compose restart` and `down`/`up`.

Run by `make test-compose` (part of `make test`), which finds a container engine
(tests/compose/engine.sh): the machine's Docker, or the private engine of docker-local.sh.
Without one the tests are reported as skipped with the reason; where the engine was set up
for them (`DROPLETBOOK_REQUIRE_COMPOSE=1`) a missing engine fails them instead. The stack uses
compose.yaml's published ports (8000, 8001, 8080, 8025 on 127.0.0.1): nothing else may hold them.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from services.launcher.supervision import port_in_use
from tests.e2e.walk import SCREENSHOTS, TIMEOUT_MS, Stack, chromium, walk_tutorial
from tests.harness.servers import ROOT

pytestmark = pytest.mark.e2e

PROJECT = "dropletbook-smoke"  # not the user's `dropletbook` project and volumes
STACK = Stack(
    client="http://127.0.0.1:8080", auth="http://127.0.0.1:8000", api="http://127.0.0.1:8001"
)
MAILPIT = "http://127.0.0.1:8025"
SERVICES = (
    "postgres",
    "redis",
    "mailpit",
    "authorization-server",
    "resource-server",
    "demo-client",
)
PORTS = (8000, 8001, 8080, 8025)
TRUSTED = ("dropletbook-trusted", "dropletbook-trusted-demo-secret")  # compose's demo default
DROPLET = {"name": "kept-1", "region": "ams3", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}
ARTIFACTS = ROOT / "artifacts" / "compose"
UP_TIMEOUT = 900  # seconds for a first build and start on a small, busy machine


def compose_command() -> list[str]:
    """The configured `docker compose`, the machine's own, or a skip that says why."""
    configured = os.environ.get("DROPLETBOOK_COMPOSE")
    if configured:
        return shlex.split(configured)
    docker = shutil.which("docker")
    if docker and all(
        subprocess.run([docker, *args], capture_output=True, check=False).returncode == 0
        for args in (["info"], ["compose", "version"])
    ):
        return [docker, "compose"]
    reason = os.environ.get("DROPLETBOOK_COMPOSE_MISSING") or (
        "no container engine: 'docker info' failed (make test-compose uses docker-local.sh)"
    )
    if os.environ.get("DROPLETBOOK_REQUIRE_COMPOSE"):
        pytest.fail(reason)
    pytest.skip(f"docker compose could not run: {reason}")


class Compose:
    def __init__(self, command: list[str]) -> None:
        self.command = [*command, "-p", PROJECT]

    def run(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [*self.command, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"compose {' '.join(args)}:\n{result.stderr[-4000:]}"
        return result.stdout

    def up(self, *args: str) -> float:
        """`up -d --wait` (healthy, or it fails); returns the seconds it took."""
        started = time.monotonic()
        try:
            self.run("up", "-d", "--wait", "--wait-timeout", str(UP_TIMEOUT), *args,
                     timeout=UP_TIMEOUT + 300)  # fmt: skip
        except AssertionError:
            print(self.run("logs", "--no-color", "--tail", "80"))
            raise
        return time.monotonic() - started

    def records(self, *args: str) -> list[dict[str, Any]]:
        """`SUBCOMMAND --format json`: one array, or one object per line (by version)."""
        out = self.run(*args, "--format", "json").strip()
        if not out or out == "null":
            return []
        if out.startswith("["):
            loaded: list[dict[str, Any]] = json.loads(out)
            return loaded
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def health(self) -> dict[str, str]:
        return {row["Service"]: row.get("Health") or row["State"] for row in self.records("ps")}


@pytest.fixture(scope="module")
def compose() -> Iterator[Compose]:
    command = compose_command()
    taken = [port for port in PORTS if port_in_use("127.0.0.1", port)]
    assert not taken, f"ports {taken} are taken on 127.0.0.1: stop `make demo` or compose first"
    stack = Compose(command)
    stack.run("down", "-v", "--remove-orphans")  # what an aborted run left
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seconds = stack.up("--build")
    images = list({image.get("ID"): image for image in stack.records("images")}.values())
    report = {"up_build_seconds": round(seconds, 1), "images": images}
    (ARTIFACTS / "report.json").write_text(json.dumps(report, indent=2))
    print(f"compose up --build: healthy in {seconds:.0f} s")
    for image in images:
        print(f"image {image.get('Repository')}:{image.get('Tag')}: {image.get('Size')} bytes")
    try:
        yield stack
    finally:
        (ARTIFACTS / "logs.txt").write_text(stack.run("logs", "--no-color", "--timestamps"))
        stack.run("down", "-v", "--remove-orphans")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as chrome:
        yield chrome


def _signed_up_user(browser: Browser) -> tuple[str, str]:
    """Sign up in the browser; confirm with the link that arrived at the mail catcher."""
    email, password = f"newcomer-{uuid.uuid4().hex[:8]}@example.com", "a-long-password-1"
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{STACK.auth}/signup")
    page.get_by_label("Name").fill("New Comer")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check your email")
    link = _confirmation_link(email)
    assert link.startswith(f"{STACK.auth}/signup/verify?token=")
    page.goto(link)
    page.get_by_role("button", name="Confirm my account").click()
    expect(page.locator("main")).to_contain_text(f"Your account {email} is ready")
    page.screenshot(path=SCREENSHOTS / "compose" / "signup-confirmed.png")
    page.close()
    return email, password


def _confirmation_link(email: str) -> str:
    """The link in the newest message to `email`, read through Mailpit's API."""
    for _ in range(300):  # the mail is sent after the answer, in a worker thread
        listed = httpx.get(f"{MAILPIT}/api/v1/messages", timeout=10).json()["messages"]
        for message in listed:
            recipients = json.dumps(message.get("To"))
            if email in recipients:
                text = message.get("Text")
                if text is None:  # the real Mailpit lists summaries only
                    text = httpx.get(f"{MAILPIT}/api/v1/message/{message['ID']}").json()["Text"]
                found = re.search(r"http://\S+/signup/verify\?token=[\w-]+", text)
                assert found, text
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no confirmation mail to {email} at {MAILPIT}")


def _token(email: str, password: str) -> str:
    response = httpx.post(
        f"{STACK.auth}/v1/oauth/token",
        auth=TRUSTED,
        data={"grant_type": "password", "username": email, "password": password,
              "scope": "read write"},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _droplets(token: str) -> list[str]:
    response = httpx.get(
        f"{STACK.api}/v2/droplets", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return [droplet["name"] for droplet in response.json()["droplets"]]


def test_compose_up_walk_sign_up_restart_and_down_up(compose: Compose, browser: Browser) -> None:
    assert compose.health() == dict.fromkeys(SERVICES, "healthy")

    # The URL compose ps shows and the README names is the one that works; localhost leads there.
    page = browser.new_page()
    page.goto("http://localhost:8080/")
    expect(page).to_have_url(f"{STACK.client}/")
    page.close()
    walk_tutorial(browser, STACK, SCREENSHOTS / "compose")

    email, password = _signed_up_user(browser)
    token = _token(email, password)
    created = httpx.post(
        f"{STACK.api}/v2/droplets", json=DROPLET, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text

    compose.run("restart", timeout=600)
    compose.up()  # returns once every service is healthy again
    assert _droplets(_token(email, password)) == ["kept-1"]

    compose.run("down", timeout=600)  # the volume stays
    compose.up()
    assert compose.health() == dict.fromkeys(SERVICES, "healthy")
    assert _droplets(_token(email, password)) == ["kept-1"]

    # Health checks every 5 s leave no trace in the services' access logs.
    logs = compose.run("logs", "--no-color", "authorization-server", "resource-server")
    assert "/healthz" not in logs
