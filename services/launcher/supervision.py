"""The demo's processes: started in order once each is healthy, their output streamed one
prefixed line at a time, and all stopped together (SIGTERM, then SIGKILL after a grace
period; on Linux also when the launcher itself is killed)."""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx

from services.launcher.configuration import Service
from shared.forwarded import uvicorn_arguments

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 10.0
# Polled every few seconds (health checks, the resource server's revocation feed): their
# request lines would bury everything a learner wants to see.
QUIET_PATHS = ("GET /healthz", "/v1/oauth/revoked-tokens")


class Printer:
    """Lines from several threads, one whole line at a time."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()

    def stream(self, prefix: str, source: IO[bytes]) -> None:
        for raw in iter(source.readline, b""):
            text = raw.decode(errors="replace").rstrip()
            if not any(path in text for path in QUIET_PATHS):
                self.line(f"{prefix} | {text}")
        source.close()


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: a child gets SIGTERM if the launcher dies without cleaning up (kill -9).

    `prctl` is looked up here, in the parent, so the child runs no import or loader code
    between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def set_parent_death_signal() -> None:
        prctl(pr_set_pdeathsig, sigterm)

    return set_parent_death_signal


class Launcher:
    def __init__(self, services: list[Service], *, host: str, printer: Printer) -> None:
        self.services = services
        self.host = host
        self.printer = printer
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        self._in_child = _parent_death_signal()

    def _spawn(
        self, prefix: str, command: list[str], env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module names)
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops them in order
            preexec_fn=self._in_child,
        )
        assert process.stdout is not None
        thread = threading.Thread(
            target=self.printer.stream, args=(prefix, process.stdout), daemon=True
        )
        thread.start()
        self._threads.append(thread)
        return process

    def seed(self) -> None:
        """`dropletbook-as demo --seed-only` with the authorization server's environment."""
        auth = self.services[0]
        command = [sys.executable, "-m", "services.authorization_server.cli", "demo", "--seed-only"]
        process = self._spawn("seed  ", command, auth.env)
        if process.wait() != 0:
            raise RuntimeError("seeding the demo data failed (see the lines above)")

    def start(self, timeout: float) -> None:
        """In order, each once the previous one is healthy: the API discovers the server."""
        deadline = time.monotonic() + timeout
        for service in self.services:
            command = [
                sys.executable, "-m", "uvicorn", service.app,
                "--host", self.host, "--port", str(service.port),
                *uvicorn_arguments(),
            ]  # fmt: skip
            if not service.access_log:
                command.append("--no-access-log")
            process = self._spawn(service.prefix, command, service.env)
            self.processes[service.name] = process
            self.printer.line(
                f"launcher | started {service.name} (pid {process.pid}) on {service.url(self.host)}"
            )
            self._wait_healthy(service, deadline)

    def _wait_healthy(self, service: Service, deadline: float) -> None:
        while True:
            if self.stopping.is_set():
                raise KeyboardInterrupt
            self.check_alive()
            try:
                response = httpx.get(f"{service.url(self.host)}/healthz", timeout=1)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service.name} did not become healthy in time")
            time.sleep(0.2)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with status {process.returncode}")

    def stop(self) -> None:
        """SIGTERM to each (uvicorn shuts down gracefully), SIGKILL after a grace period."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.printer.line(f"launcher | {name} did not stop in time: killing it")
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=2)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0
