"""Services under test: in-process (fast, the default) or as real uvicorn processes.

`InProcessApp(app)` runs an ASGI app with its lifespan on an event loop in a helper thread
(an anyio blocking portal); `transport()` gives a synchronous httpx transport into it, so
the same `Browser` and `httpx.Client` code works against it and against a `LiveServer`.
Use a `LiveServer` only where a real process is the point: sockets, start-up, replicas.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from anyio.from_thread import start_blocking_portal
from starlette.types import ASGIApp

from tests.harness.browser import Browser

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IP = "127.0.0.1"
T = TypeVar("T")


class _StreamedBody(httpx.AsyncByteStream):
    """A synchronous request body handed to the app chunk by chunk, as a socket would."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport into an app running in a blocking portal.

    Unexpected exceptions come back as the app's 500 answer, as from a real server.
    """

    def __init__(self, app: ASGIApp, call: Callable[..., Any], client_ip: str) -> None:
        self._asgi = httpx.ASGITransport(
            app=app, client=(client_ip, 40000), raise_app_exceptions=False
        )
        self._call = call

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):  # a streamed body
            request.stream = _StreamedBody(request.stream)
        response: httpx.Response = self._call(self._send, request)
        return response

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )


class InProcessApp:
    """An ASGI app with its lifespan (start-up, background tasks) running in a portal thread."""

    def __init__(self, app: ASGIApp, *, lifespan: bool = True) -> None:
        self.app = app
        self._stack = ExitStack()
        self.portal = self._stack.enter_context(start_blocking_portal())
        try:
            if lifespan:
                context = app.router.lifespan_context(app)  # type: ignore[attr-defined]
                self._stack.enter_context(self.portal.wrap_async_context_manager(context))
        except BaseException:
            self._stack.close()
            raise

    def __enter__(self) -> "InProcessApp":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a coroutine function on the app's event loop and wait for it."""
        return self.portal.call(function, *args)

    def transport(self, client_ip: str = DEFAULT_IP) -> InProcessTransport:
        """Requests into the app as if from `client_ip` (who is asking matters to throttles)."""
        return InProcessTransport(self.app, self.portal.call, client_ip)

    def browser(self, base_url: str, *, ip: str = DEFAULT_IP) -> Browser:
        browser = Browser(base_url, transport=self.transport(ip))
        self._stack.callback(browser.close)
        return browser


@contextmanager
def browse_in_process(app: ASGIApp, base_url: str, *, lifespan: bool = True) -> Iterator[Browser]:
    """A browser on `app` running in-process, for the length of the `with` block."""
    with InProcessApp(app, lifespan=lifespan) as running:
        yield running.browser(base_url)


# Ports for the servers the tests start: below Linux's ephemeral range (32768 and up), so
# no outgoing connection takes one between `free_port()` and the server's bind, and a block
# of its own for each pytest-xdist worker, so that two workers never pick the same one.
# Within it, each process starts at its own place (two test runs at once stay apart too).
_PORTS = range(20000, 32000)
_next_port = os.getpid() * 97


def free_port() -> int:
    """A loopback port no one listens on, from this worker's block (used round-robin)."""
    global _next_port
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    size = len(_PORTS) // workers
    first = _PORTS.start + worker * size
    for _ in range(size):
        port = first + _next_port % size
        _next_port += 1
        with socket.socket() as sock:
            try:
                sock.bind((DEFAULT_IP, port))
            except OSError:
                continue  # in use (or in TIME_WAIT): the next one
            return port
    raise RuntimeError(f"no free port in {first}-{first + size - 1}")


class LiveServer:
    """A service started as `uvicorn <app>` with the given environment; stopped on close."""

    def __init__(
        self,
        app: str,
        env: dict[str, str],
        *,
        port: int | None = None,
        log: Path,
        access_log: bool = False,
    ) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log
        self.access_log = access_log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> "LiveServer":
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if not self.access_log:
            command.append("--no-access-log")
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self._process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.app} exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.app} did not become healthy:\n{self.log_path.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def browser(self) -> Browser:
        """A browser on this server; close it (or use it in a `with` block)."""
        return Browser(self.url)
