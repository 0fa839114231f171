"""The one-command demo (`dropletbook-demo`, `make demo`): start, walk, Ctrl-C, start again."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.walk import SCREENSHOTS, Stack, chromium, walk_tutorial
from tests.harness.servers import ROOT, free_port

pytestmark = pytest.mark.e2e

READY = "Dropletbook demo is running"


class Demo:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, marker: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if marker in text:
                return text
            if self.process.poll() is not None:
                raise AssertionError(f"the demo exited early:\n{text[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"no {marker!r} in time:\n{self.text()[-3000:]}")

    def child_pids(self) -> dict[str, int]:
        found = re.findall(r"started ([a-z-]+) \(pid (\d+)\)", self.text())
        return {name: int(pid) for name, pid in found}


@contextmanager
def run_demo(ports: tuple[int, int, int], data_dir: Path, log: Path) -> Iterator[Demo]:
    command = [
        sys.executable, "-m", "services.launcher",
        "--ports", ",".join(map(str, ports)), "--data-dir", str(data_dir),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    demo = Demo(process, log)
    try:
        yield demo
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(demo: Demo, sig: signal.Signals) -> None:
    """Like Ctrl-C (SIGINT) or `kill` (SIGTERM): every service stops, the launcher exits 0."""
    pids = demo.child_pids()
    assert set(pids) == {"authorization-server", "resource-server", "demo-client"}
    assert all(alive(pid) for pid in pids.values())
    demo.process.send_signal(sig)
    assert demo.process.wait(timeout=30) == 0, demo.text()[-3000:]
    assert "all services stopped" in demo.text()
    assert not [name for name, pid in pids.items() if alive(pid)], "orphan processes"


def test_demo_command_walk_stop_and_restart(tmp_path: Path) -> None:
    ports = (free_port(), free_port(), free_port())
    stack = Stack(*(f"http://127.0.0.1:{port}" for port in (ports[2], ports[0], ports[1])))
    data_dir = tmp_path / "data"

    with run_demo(ports, data_dir, tmp_path / "first.log") as demo:
        text = demo.wait_for(READY)
        assert stack.client in text
        assert "demo@example.com" in text
        assert "demo-password" in text
        for prefix in ("seed   | ", "auth   | ", "api    | ", "client | "):
            assert prefix in text
        assert "seed   | added user demo@example.com" in text
        assert "seed   | added client droplet-cloud-api" in text
        with chromium() as browser:
            walk_tutorial(browser, stack, SCREENSHOTS / "demo-command")
        stop(demo, signal.SIGINT)
        logs = demo.text()
        assert "code flow: state checked, code exchanged" in logs
        for secret_marker in ("?code=", "&code=", "access_token=", "refresh_token=", "eyJ"):
            assert secret_marker not in logs, f"{secret_marker!r} written to the logs"
    assert {p.name for p in data_dir.iterdir()} >= {
        "authorization_server.db",
        "resource_server.db",
        "demo_client.db",
    }

    with run_demo(ports, data_dir, tmp_path / "second.log") as demo:
        text = demo.wait_for(READY)
        assert "seed   | nothing to add: the demo user and clients already exist" in text
        assert "seed   | added" not in text
        # The data is kept: the droplet created in the first run is still there.
        token = httpx.post(
            f"{stack.auth}/v1/oauth/token",
            data={
                "grant_type": "password",
                "username": stack.email,
                "password": stack.password,
                "scope": "read",
            },
            auth=("dropletbook-trusted", "dropletbook-trusted-demo-secret"),
        ).json()["access_token"]
        droplets = httpx.get(
            f"{stack.api}/v2/droplets", headers={"Authorization": f"Bearer {token}"}
        ).json()["droplets"]
        assert [d["name"] for d in droplets] == ["web-1"]
        stop(demo, signal.SIGTERM)

    # Seeding twice added nothing.
    with sqlite3.connect(data_dir / "authorization_server.db") as db:
        assert db.execute("SELECT count(*) FROM user").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM client").fetchone() == (5,)


def test_demo_command_refuses_busy_ports(tmp_path: Path) -> None:
    with socket_listening() as port:
        ports = (port, free_port(), free_port())
        with run_demo(ports, tmp_path / "data", tmp_path / "busy.log") as demo:
            assert demo.process.wait(timeout=60) == 1
            assert "already in use" in demo.text()
            assert demo.child_pids() == {}


@contextmanager
def socket_listening() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]
