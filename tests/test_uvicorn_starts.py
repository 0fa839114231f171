"""Every way a service is started, as a real process: forwarded headers are believed only
from the proxies the operator names, request heads are bounded, and the data folder is
the owner's alone.

Who is asking shows in the authorization server's per-address budget of open RFC 7591
registrations: two an hour here, so the third from one address gets 429. A local peer that
writes a new `X-Forwarded-For` each time must still be counted as itself.
"""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import as_environment, test_settings
from tests.harness.servers import ROOT, LiveServer, free_port

REGISTRATIONS = {"AS_OPEN_REGISTRATION": "true", "AS_THROTTLE_REGISTRATION_IP_RATE": "2/hour"}
ONE_MIB = 1024 * 1024


def register_from(url: str, forwarded_for: str) -> int:
    metadata = {"client_name": "Bot", "redirect_uris": ["https://bot.example/cb"]}
    headers = {"x-forwarded-for": forwarded_for}
    return httpx.post(f"{url}/v1/oauth/register", json=metadata, headers=headers).status_code


def statuses_with_new_addresses(url: str) -> list[int]:
    """Three registrations, each claiming another address."""
    return [register_from(url, f"198.51.100.{n}") for n in (1, 2, 3)]


def refusal_of(port: int, head: bytes) -> bytes:
    """What the server answers a request with this head: its first bytes, or b"" when it
    closed the connection before reading it all (a refusal as well)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + head + b"\r\n")
            return sock.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return b""


HEADS = [
    pytest.param(b"X-Big: " + b"a" * ONE_MIB + b"\r\n", id="one-1-MiB-header"),
    pytest.param(b"".join(b"X-%d: v\r\n" % n for n in range(100_000)), id="100000-headers"),
]


def assert_refused(port: int, head: bytes) -> None:
    answer = refusal_of(port, head)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer
    # and the server keeps serving
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AS_", "RS_", "CLIENT_"))}
    env.pop("FORWARDED_ALLOW_IPS", None)
    return {**env, **extra}


# --- the launcher (`make demo`) ---------------------------------------------------------


class Launcher:
    def __init__(self, tmp_path: Path) -> None:
        self.ports = (free_port(), free_port(), free_port())
        self.data_dir = tmp_path / "data"
        self.log = tmp_path / "launcher.log"
        command = [
            sys.executable, "-m", "services.launcher",
            "--ports", ",".join(map(str, self.ports)), "--data-dir", str(self.data_dir),
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=clean_environment(**REGISTRATIONS),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 180
        while "Dropletbook demo is running" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    tmp_path = tmp_path_factory.mktemp("launcher")
    (tmp_path / "data").mkdir(mode=0o755)  # a folder an older version left open
    (tmp_path / "data").chmod(0o755)
    running = Launcher(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_launcher_counts_the_real_peer(launcher: Launcher) -> None:
    url = f"http://127.0.0.1:{launcher.ports[0]}"
    assert statuses_with_new_addresses(url) == [201, 201, 429]


@pytest.mark.parametrize("service", [0, 1, 2], ids=["as", "rs", "client"])
@pytest.mark.parametrize("head", HEADS)
def test_launcher_bounds_request_heads(launcher: Launcher, service: int, head: bytes) -> None:
    assert_refused(launcher.ports[service], head)


def test_launcher_data_folder_is_the_owners_alone(launcher: Launcher) -> None:
    assert stat.S_IMODE(launcher.data_dir.stat().st_mode) == 0o700


def test_launcher_names_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    """A service that cannot start says why in one line, and the launcher stops."""
    ports = ",".join(str(free_port()) for _ in range(3))
    done = subprocess.run(
        [sys.executable, "-m", "services.launcher", "--ports", ports,
         "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=clean_environment(RS_LEEWAY="soon"),
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 1
    refusals = [line for line in done.stdout.splitlines() if "refusing to start" in line]
    assert len(refusals) == 1, done.stdout
    assert refusals[0].startswith(
        "api    | services.resource_server.main: refusing to start: invalid settings: RS_LEEWAY"
    )
    assert "resource-server exited with status 2" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


# --- `dropletbook-as demo` ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`dropletbook-as demo` told that loopback is its reverse proxy."""
    tmp_path = tmp_path_factory.mktemp("cli-demo")
    port = free_port()
    env = clean_environment(
        AS_ENVIRONMENT="development",
        AS_FORWARDED_ALLOW_IPS="127.0.0.1",
        AS_PASSWORD_HASH_TIME_COST="1",
        AS_PASSWORD_HASH_MEMORY_KIB="64",
        **REGISTRATIONS,
    )
    command = [
        sys.executable, "-m", "services.authorization_server.cli", "demo",
        "--data-dir", str(tmp_path), "--port", str(port),
    ]  # fmt: skip
    with (tmp_path / "demo.log").open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "dropletbook-as demo did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_demo_command_believes_the_proxy_it_is_told(demo_behind_proxy: int) -> None:
    url = f"http://127.0.0.1:{demo_behind_proxy}"
    assert statuses_with_new_addresses(url) == [201, 201, 201]
    # each address has its own budget: the first one's third registration is refused
    assert [register_from(url, "198.51.100.1") for _ in range(2)] == [201, 429]


@pytest.mark.parametrize("head", HEADS)
def test_demo_command_bounds_request_heads(demo_behind_proxy: int, head: bytes) -> None:
    assert_refused(demo_behind_proxy, head)


# --- `uvicorn services.authorization_server.main:app`, uvicorn's own defaults -----------


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [
        pytest.param("", [201, 201, 429], id="no-proxy-named"),
        pytest.param("10.0.0.5", [201, 201, 429], id="another-proxy-named"),
        pytest.param("127.0.0.1", [201, 201, 201], id="loopback-named"),
    ],
)
def test_plain_uvicorn_believes_only_named_proxies(
    database_url: str, logs_dir: Path, proxies: str, expected: list[int]
) -> None:
    """uvicorn with its defaults trusts `X-Forwarded-For` from loopback; the service does
    not, unless `AS_FORWARDED_ALLOW_IPS` names it."""
    port = free_port()
    settings = test_settings(
        database_url,
        issuer=f"http://127.0.0.1:{port}",
        open_registration=True,
        throttle_registration_ip_rate="2/hour",
        forwarded_allow_ips=proxies,
    )
    env = {**as_environment(settings), "FORWARDED_ALLOW_IPS": "127.0.0.1,::1"}  # its default
    server = LiveServer(
        "services.authorization_server.main:app", env, port=port, log=logs_dir / "plain.log"
    )
    server.start()
    try:
        assert statuses_with_new_addresses(server.url) == expected
    finally:
        server.stop()
