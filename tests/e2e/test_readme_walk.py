"""The README's curl walk ("Walk the tutorial with curl") runs as written, so it cannot rot.

The one-command demo (`dropletbook-demo`, registration open as the README says) runs on free
ports with a temporary data folder. The walk's fenced `sh` blocks are taken from README.md and
run with bash one after the other, as a reader pastes them into one terminal: the variables and
functions each block sets are kept for the next. The only change is the ports (the README's
8000 and 8001 become the live ones). The browser steps (log in, authorize, read the code or
the token from the address bar) are done in Chromium, and the answer typed at the block's
prompt.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Response, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.walk import TIMEOUT_MS, chromium
from tests.harness.servers import ROOT, free_port

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
SECTION = "### Walk the tutorial with curl"
README_AS, README_RS = "http://127.0.0.1:8000", "http://127.0.0.1:8001"
CALLBACK = "http://127.0.0.1:9999/callback"
EMAIL, PASSWORD = "demo@example.com", "demo-password"
READY = "Dropletbook demo is running"


def walk_blocks() -> dict[int, str]:
    """The section's `sh` blocks by step number (`# N.` on their first line; 0: the setup)."""
    text = README.read_text()
    start = text.index(SECTION) + len(SECTION)
    end = re.compile(r"^#{2,3} ", re.MULTILINE).search(text, start)
    section = text[start : end.start() if end else len(text)]
    blocks: dict[int, str] = {}
    for block in re.findall(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL):
        number = re.match(r"# (\d+)\. ", block)
        blocks[int(number[1]) if number else 0] = block
    return blocks


@dataclass
class Ran:
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, object]]:
        """Each line's JSON answer (after a prompt the reader answered, if any)."""
        lines = self.stdout.splitlines()
        return [json.loads(line[line.index("{") :]) for line in lines if "{" in line]


class Terminal:
    """bash running block after block, keeping the variables and functions of the previous
    ones (in a state file) as one interactive shell would."""

    def __init__(self, state: Path, ports: dict[str, str]) -> None:
        self.state = state
        self.ports = ports

    def run(self, block: str, answer: Callable[[str], str] | None = None) -> Ran:
        """Run `block`; `answer(stdout so far)` gives the line to type at its prompt."""
        for readme_url, live_url in self.ports.items():
            block = block.replace(readme_url, live_url)
        state = shlex.quote(str(self.state))
        script = (
            f"set -a\n[ -f {state} ] && . {state}\nset -eo pipefail\n{block}\n"
            f"{{ declare -f; export -p; }} > {state}\n"
        )
        process = subprocess.Popen(
            ["bash", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.state.parent,
        )
        assert process.stdin is not None and process.stdout is not None
        seen = ""
        if answer is not None:
            while "/v1/oauth/authorize?" not in seen:  # the link to open, then the prompt
                line = process.stdout.readline()
                assert line, f"the block ended before printing its link: {seen}"
                seen += line
            process.stdin.write(answer(seen) + "\n")
            process.stdin.flush()
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, (block, seen + stdout, stderr)
        return Ran(seen + stdout, stderr)

    def variable(self, name: str) -> str:
        done = subprocess.run(
            ["bash", "-c", f'. {shlex.quote(str(self.state))}; printf %s "${name}"'],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout


@contextmanager
def demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`dropletbook-demo` as the README starts it (`AS_OPEN_REGISTRATION=true make demo`)."""
    ports = (free_port(), free_port(), free_port())
    command = [
        sys.executable, "-m", "services.launcher",
        "--ports", ",".join(map(str, ports)), "--data-dir", str(tmp_path / "data"),
    ]  # fmt: skip
    log = tmp_path / "demo.log"
    env = {**_clean_environment(), "AS_OPEN_REGISTRATION": "true"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while READY not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        process.terminate()  # the launcher stops its three services
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _clean_environment() -> dict[str, str]:
    prefixes = ("AS_", "RS_", "CLIENT_", "DROPLETBOOK_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


class Browsing:
    """One Chromium context; where the server sent the browser back to (the address bar)."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.landed: list[str] = []
        self.page.on("response", self._redirect)

    def _redirect(self, response: Response) -> None:
        location = response.headers.get("location", "")
        if location.startswith(CALLBACK):
            self.landed.append(location)

    def authorize(self, link: str, *, app: str, consent: bool) -> str:
        """Open the printed link, log in if asked, authorize if asked: the callback address.
        Nothing listens there (as in the README): Chromium shows its error page."""
        page = self.page
        self.landed.clear()
        try:
            page.goto(link)
        except PlaywrightError:  # sent straight on to the callback
            assert not consent, "no consent screen"
        if "/login" in page.url:
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in", exact=True).click()
        if consent:
            main = page.locator("main")
            expect(main).to_contain_text(f"{app} would like permission to access your account")
            expect(page.locator("ul.permissions li")).to_have_text(["Read"])
            page.get_by_role("button", name="Authorize Application", exact=True).click()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not self.landed:
            assert time.monotonic() < deadline, f"never sent back; at {page.url}"
            page.wait_for_timeout(100)  # lets Playwright deliver the events
        (landed,) = self.landed
        return landed


def printed_link(stdout: str, as_url: str) -> str:
    (link,) = [line for line in stdout.splitlines() if line.startswith(f"{as_url}/v1/oauth/")]
    return link


def test_the_readme_walk_runs_as_written(tmp_path: Path) -> None:
    blocks = walk_blocks()
    assert sorted(blocks) == list(range(10)), "steps added or removed: update this test"
    for block in blocks.values():  # the ports are the only thing the test changes
        assert "127.0.0.1:800" not in block.replace(README_AS, "").replace(README_RS, "")

    with demo(tmp_path) as (as_url, rs_url), chromium() as browser:
        shell = Terminal(tmp_path / "shell-state.sh", {README_AS: as_url, README_RS: rs_url})
        _walk(shell, blocks, browser, as_url)


def _walk(shell: Terminal, blocks: dict[int, str], browser: Browser, as_url: str) -> None:
    browsing = Browsing(browser)

    shell.run(blocks[0])

    (app,) = shell.run(blocks[1]).json_lines()
    assert app["token_endpoint_auth_method"] == "client_secret_basic"
    assert app["client_secret"]
    assert shell.variable("CLIENT_ID") == app["client_id"]
    assert shell.variable("CLIENT_SECRET") == app["client_secret"]

    def code(stdout: str, *, consent: bool) -> str:
        link = printed_link(stdout, as_url)
        landed = browsing.authorize(link, app="My Dropletbook", consent=consent)
        assert "state=xyz" in landed
        found = re.search(r"[?&]code=([^&]+)", landed)
        assert found, landed
        return found[1]

    shell.run(blocks[2], lambda out: code(out, consent=True))
    # A second run: already authorized, so no consent screen, a new code.
    first = shell.variable("CODE")
    shell.run(blocks[2], lambda out: code(out, consent=False))
    assert shell.variable("CODE") != first

    (tokens,) = shell.run(blocks[3]).json_lines()
    assert tokens["scope"] == "read"
    assert shell.variable("ACCESS_TOKEN") == tokens["access_token"]
    assert shell.variable("REFRESH_TOKEN") == tokens["refresh_token"]

    (account,) = shell.run(blocks[4]).json_lines()
    assert EMAIL in json.dumps(account)

    (refreshed,) = shell.run(blocks[5]).json_lines()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert shell.variable("REFRESH_TOKEN") == refreshed["refresh_token"]

    app_tokens, own, patched = shell.run(blocks[6]).json_lines()
    assert app_tokens["scope"] == "read write"
    assert shell.variable("APP_TOKEN") == app_tokens["access_token"]
    assert own["client_id"] == app["client_id"]
    assert patched["description"] == "Reads my droplets"
    assert patched["redirect_uris"] == [CALLBACK]

    (password,) = shell.run(blocks[7]).json_lines()
    assert password["scope"] == "read"
    assert password["access_token"]

    def implicit_token(stdout: str) -> str:
        link = printed_link(stdout, as_url)
        landed = browsing.authorize(link, app="My Dropletbook (browser only)", consent=True)
        found = re.search(r"#(?:.*&)?access_token=([^&]+)", landed)
        assert found, landed
        return found[1]

    implicit_app, implicit_account = shell.run(blocks[8], implicit_token).json_lines()
    assert implicit_app["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in implicit_app
    assert EMAIL in json.dumps(implicit_account)

    revoked = shell.run(blocks[9])
    assert revoked.stdout.splitlines()[0] == "200"
    assert revoked.json_lines() == [{"active": False}]
    browsing.context.close()
