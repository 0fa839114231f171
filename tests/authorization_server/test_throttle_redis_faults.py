"""Redis trouble never hangs a request (issue 18, item 6): short timeouts, a circuit breaker,
503 + `Retry-After` where a counter is required, and a process that stops on one SIGTERM.

Two faults: a Redis that accepts connections and never answers (a local listener), and a
refused port. The client timeouts are generous: they only turn a hang into a failure.
"""

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from limits import parse

from services.authorization_server.throttle_store import (
    Backoff,
    RedisStore,
    Slot,
    ThrottleUnavailableError,
)
from tests.authorization_server.test_throttle import LIMITS
from tests.databases import TestDatabases
from tests.factories import PASSWORD, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer, live_authorization_server
from tests.harness.forms import hidden_fields
from tests.harness.servers import free_port

PATIENCE = 60.0  # seconds: far above any answer we expect, far below "hangs"


class SilentListener:
    """A TCP server that accepts every connection and never sends a byte: a stalled Redis."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self._socket.getsockname()[1]}/0"
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._connections.append(connection)

    @property
    def accepted(self) -> int:
        return len(self._connections)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + PATIENCE
        while self.accepted < count:
            assert time.monotonic() < deadline, "the server never connected"
            time.sleep(0.01)

    def close(self) -> None:
        self._socket.close()
        for connection in self._connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentListener]:
    listener = SilentListener()
    yield listener
    listener.close()


def test_the_breaker_fails_fast_after_a_timeout(silent: SilentListener) -> None:
    slot = Slot("fail:a", "lock:a", Backoff(free=3, window=60, base=60, cap=600))

    async def scenario() -> list[ThrottleUnavailableError]:
        store = RedisStore(silent.url, timeout=0.2, retry_after=30)
        errors = []
        try:
            for step in (
                lambda: store.reserve([slot], None),
                lambda: store.locked_for(["lock:a"]),
                lambda: store.hit(parse("5/minute"), "ns", "k"),
                lambda: store.settle([slot], [], None),
            ):
                with pytest.raises(ThrottleUnavailableError) as caught:
                    await step()
                errors.append(caught.value)
        finally:
            await store.aclose()
        return errors

    errors = asyncio.run(scenario())
    assert [error.headers() for error in errors] == [{"Retry-After": "30"}] * 4
    assert silent.accepted == 1  # one timeout; then no call waits on Redis until 30 s pass


def _redis_url(fault: str, silent: SilentListener) -> str:
    return silent.url if fault == "never answers" else f"redis://127.0.0.1:{free_port()}/0"


def _server(
    databases: TestDatabases, logs_dir: Path, redis_url: str
) -> contextlib.AbstractContextManager[AuthorizationServer]:
    return live_authorization_server(
        databases, logs_dir, "redis-fault", **LIMITS, redis_url=redis_url, redis_retry_after=7
    )


def _login(url: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=PATIENCE) as http:
        fields = hidden_fields(http.get("/login"))
        form = {**fields, "email": "alice@example.com", "password": PASSWORD}
        return http.post("/login", data=form)


FAULTS = ["never answers", "refuses"]


@pytest.mark.parametrize("fault", FAULTS)
def test_without_its_redis_credential_checks_answer_503_and_client_tokens_keep_coming(
    databases: TestDatabases, logs_dir: Path, silent: SilentListener, fault: str
) -> None:
    with _server(databases, logs_dir, _redis_url(fault, silent)) as server:
        make_user(server.context)
        client, secret = make_client(
            server.context, grant_types=("client_credentials", "password"), trusted=True
        )
        assert secret
        page = _login(server.url)
        assert (page.status_code, page.headers["retry-after"]) == (503, "7")
        with httpx.Client(base_url=server.url, timeout=PATIENCE) as http:
            form = {"grant_type": "password", "username": "alice@example.com"}
            auth = (client.client_id, secret)
            refused = http.post("/v1/oauth/token", data={**form, "password": PASSWORD}, auth=auth)
            assert refused.status_code == 503
            assert refused.json()["error"] == "temporarily_unavailable"
            assert refused.headers["retry-after"] == "7"
            # A correct client secret needs no counter: tokens keep being issued.
            tokens = http.post(
                "/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
            )
            assert tokens.status_code == 200
        if fault == "never answers":
            assert silent.accepted == 1  # the breaker: later checks did not wait on Redis


@pytest.mark.parametrize("fault", FAULTS)
def test_one_sigterm_stops_a_server_whose_redis_fails(
    databases: TestDatabases, logs_dir: Path, silent: SilentListener, fault: str
) -> None:
    with _server(databases, logs_dir, _redis_url(fault, silent)) as server:
        process = server.process
        assert process is not None
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(_login, server.url)
            if fault == "never answers":
                silent.wait_for(1)  # the login is waiting on Redis now
            os.kill(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + PATIENCE
            while process.running:
                assert time.monotonic() < deadline, "one SIGTERM did not stop the server"
                time.sleep(0.05)
            with contextlib.suppress(httpx.TransportError):  # refused: it may come too late
                assert in_flight.result(timeout=PATIENCE).status_code == 503
