"""`dropletbook-demo` (`make demo`): the whole demo with one command.

Seeds the demo data (idempotently), starts the authorization server, the resource server and
Dropletbook as three uvicorn processes on 127.0.0.1 with SQLite under `./data`, waits until
each is healthy, prints what to open, streams their logs with a prefix each, and stops all
three on Ctrl-C or SIGTERM. Running it again keeps the data. Other `AS_*`, `RS_*` and
`CLIENT_*` variables are passed on (e.g. `AS_OPEN_REGISTRATION=true make demo`); the URLs,
databases and demo secrets are the launcher's.
"""

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from services.authorization_server.demo import (
    FEED_CLIENT_ID,
    IMPLICIT_CLIENT_ID,
    SERVICE_CLIENT_ID,
    TRUSTED_CLIENT_ID,
    DemoSettings,
)
from shared.settings import DEVELOPMENT

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORTS = "8000,8001,8080"
STOP_TIMEOUT = 10.0
# Polled every few seconds (health checks, the resource server's revocation feed): their
# request lines would bury everything a learner wants to see.
QUIET_PATHS = ("GET /healthz", "/v1/oauth/revoked-tokens")


@dataclass(frozen=True)
class Service:
    name: str
    prefix: str
    app: str
    port: int
    env: dict[str, str]
    access_log: bool = True

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}"


def parse_ports(value: str) -> tuple[int, int, int]:
    try:
        ports = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("ports must be three numbers: AS,RS,CLIENT") from None
    if len(ports) != 3 or len(set(ports)) != 3 or not all(0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError("ports must be three different numbers: AS,RS,CLIENT")
    return ports[0], ports[1], ports[2]


def build_services(host: str, ports: tuple[int, int, int], data_dir: Path) -> list[Service]:
    """Each service's environment: public URLs on `host`, SQLite files in `data_dir`."""
    as_url, rs_url, client_url = (f"http://{host}:{port}" for port in ports)
    demo = DemoSettings()  # AS_DEMO_* from the environment, else the documented defaults
    data = data_dir.resolve()
    auth_env = {
        "AS_ENVIRONMENT": DEVELOPMENT,
        "AS_ISSUER": as_url,
        "AS_RESOURCE_AUDIENCE": rs_url,
        "AS_DATABASE_URL": f"sqlite:///{data / 'authorization_server.db'}",
        "AS_REVOCATION_FEED_CLIENTS": f'["{FEED_CLIENT_ID}"]',
        "AS_DEMO_CLIENT_URL": client_url,
    }
    api_env = {
        "RS_ENVIRONMENT": DEVELOPMENT,
        "RS_ISSUER": as_url,
        "RS_AUDIENCE": rs_url,
        "RS_DATABASE_URL": f"sqlite:///{data / 'resource_server.db'}",
        "RS_FEED_CLIENT_ID": FEED_CLIENT_ID,
        "RS_FEED_CLIENT_SECRET": demo.feed_client_secret.get_secret_value(),
    }
    client_env = {
        "CLIENT_ENVIRONMENT": DEVELOPMENT,
        "CLIENT_PUBLIC_URL": client_url,
        "CLIENT_ISSUER": as_url,
        "CLIENT_RS_URL": rs_url,
        "CLIENT_DATABASE_URL": f"sqlite:///{data / 'demo_client.db'}",
        "CLIENT_CLIENT_SECRET": demo.client_secret.get_secret_value(),
        "CLIENT_IMPLICIT_CLIENT_ID": IMPLICIT_CLIENT_ID,
        "CLIENT_TRUSTED_CLIENT_ID": TRUSTED_CLIENT_ID,
        "CLIENT_TRUSTED_CLIENT_SECRET": demo.trusted_client_secret.get_secret_value(),
        "CLIENT_SERVICE_CLIENT_ID": SERVICE_CLIENT_ID,
        "CLIENT_SERVICE_CLIENT_SECRET": demo.service_client_secret.get_secret_value(),
    }
    if "AS_DEMO_USER_EMAIL" in os.environ:
        client_env["CLIENT_DEMO_USER_EMAIL"] = os.environ["AS_DEMO_USER_EMAIL"]
    return [
        Service("authorization-server", "auth  ", "services.authorization_server.main:app",
                ports[0], auth_env),
        Service("resource-server", "api   ", "services.resource_server.main:app",
                ports[1], api_env),
        # Off for the client: its callback URL carries the authorization code.
        Service("demo-client", "client", "services.demo_client.main:app",
                ports[2], client_env, access_log=False),
    ]  # fmt: skip


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
        self, name: str, prefix: str, command: list[str], env: dict[str, str]
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
        process = self._spawn(auth.name, "seed  ", command, auth.env)
        if process.wait() != 0:
            raise RuntimeError("seeding the demo data failed (see the lines above)")

    def start(self, timeout: float) -> None:
        """In order, each once the previous one is healthy: the API discovers the server."""
        deadline = time.monotonic() + timeout
        for service in self.services:
            command = [
                sys.executable, "-m", "uvicorn", service.app,
                "--host", self.host, "--port", str(service.port),
            ]  # fmt: skip
            if not service.access_log:
                command.append("--no-access-log")
            process = self._spawn(service.name, service.prefix, command, service.env)
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


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def banner(services: list[Service], host: str) -> str:
    auth, api, client = (service.url(host) for service in services)
    email = os.environ.get("AS_DEMO_USER_EMAIL", "demo@example.com")
    password = os.environ.get("AS_DEMO_USER_PASSWORD", "demo-password")
    return f"""
================================================================================
 Dropletbook demo is running. Open Dropletbook in your browser:

     {client}

 and log in at Droplet Cloud as   {email}   /   {password}

   authorization server   {auth}   (developer portal: {auth}/developer/apps)
   resource server (API)  {api}   (API docs: {api}/docs)
   flow inspector         {client}/inspector

 Press Ctrl-C to stop all three services.
================================================================================
"""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dropletbook-demo", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the three services listen on and their URLs use (default 127.0.0.1)",
    )
    parser.add_argument(
        "--ports",
        type=parse_ports,
        default=parse_ports(os.environ.get("DROPLETBOOK_PORTS", DEFAULT_PORTS)),
        help=f"AS,RS,CLIENT ports (default {DEFAULT_PORTS}, or DROPLETBOOK_PORTS)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("DROPLETBOOK_DATA_DIR", ROOT / "data")),
        help="where the SQLite files live (default ./data, or DROPLETBOOK_DATA_DIR)",
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the three services to be healthy (default 60)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    printer = Printer(sys.stdout)
    busy = [port for port in args.ports if _port_in_use(args.host, port)]
    if busy:
        printer.line(f"launcher | port(s) {busy} already in use: is the demo running already?")
        return 1
    args.data_dir.mkdir(parents=True, exist_ok=True)
    services = build_services(args.host, args.ports, args.data_dir)
    launcher = Launcher(services, host=args.host, printer=printer)

    def request_stop(signum: int, _: object) -> None:
        launcher.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    status = 0
    try:
        launcher.seed()
        launcher.start(args.startup_timeout)
        printer.line(banner(services, args.host))
        while not launcher.stopping.wait(0.5):
            launcher.check_alive()
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        printer.line(f"launcher | {exc}")
        status = 1
    finally:
        printer.line("launcher | stopping the services…")
        launcher.stop()
        printer.line("launcher | all services stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
