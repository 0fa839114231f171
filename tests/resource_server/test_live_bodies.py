"""Request bodies at a real resource server process: the token is checked before the body is
read, and bodies are capped (413) from Content-Length and while streaming, in little memory.

The requests are written on a raw socket, so a body can be streamed (chunked) from one
thread while the answer is read in another, as an attacker's client would.
"""

import itertools
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.factories import make_client
from tests.resource_server.live import Stack

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
STREAMED = 256 * MIB  # what the client tries to send
MEMORY_BUDGET = 48 * MIB  # what the server may grow by meanwhile (VmHWM, the peak RSS)
FLOWING = 1 * MIB  # sent before the answer is awaited
LIMIT = 16 * 1024  # RS_MAX_BODY_BYTES, its default


@dataclass
class Answer:
    status: int
    body: bytes
    sent: int  # body bytes the client managed to send


def _peak_rss(pid: int) -> int:
    """VmHWM of /proc/<pid>/status: the process's peak resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _post(
    url: str, headers: dict[str, str], chunks: Iterator[bytes], *, chunked: bool = True
) -> Answer:
    """POST /v2/droplets, streaming `chunks` from a thread until the server has answered."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=20)
    head = ["POST /v2/droplets HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    answered, flowing = threading.Event(), threading.Event()

    def pump() -> None:
        nonlocal sent
        try:
            for chunk in chunks:
                if answered.is_set():
                    return
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                sent += len(chunk)
                if sent >= FLOWING:
                    flowing.set()
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection, or stopped reading
            pass
        finally:
            flowing.set()

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    flowing.wait(timeout=10)  # the body is on its way before the answer is awaited
    try:
        response = b""
        while b"\r\n\r\n" not in response:
            data = sock.recv(65536)
            assert data, f"connection closed without an answer: {response!r}"
            response += data
        head_bytes, _, body = response.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(fields.get("content-length", "0"))
        while len(body) < length:
            data = sock.recv(65536)
            assert data, "connection closed mid-answer"
            body += data
    finally:
        answered.set()
        sock.close()  # also ends a send blocked on the full socket buffer
        sender.join(timeout=30)
    return Answer(int(lines[0].split()[1]), body, sent)


def _zeros(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    return itertools.repeat(b"0" * size, total // size)


@pytest.fixture(scope="module")
def token(stack: Stack) -> str:
    app = make_client(
        stack.context, name="Ops app", grant_types=("client_credentials",), redirect_uris=()
    )
    assert app[1] is not None
    body = stack.token({"grant_type": "client_credentials", "scope": "read write"}, *app)
    access: str = body["access_token"]
    return access


def _check_memory(stack: Stack, before: int) -> None:
    grown = _peak_rss(stack.resource.pid) - before
    assert grown < MEMORY_BUDGET, f"peak RSS grew by {grown / MIB:.0f} MiB"


def test_streamed_body_without_a_token_is_refused_unread(stack: Stack) -> None:
    """401 at once: the server never reads the body (it reads it all, and says 400, if the
    route parses the body before checking the token)."""
    before = _peak_rss(stack.resource.pid)
    headers = {"Content-Type": "application/json"}
    answer = _post(stack.resource.url, headers, _zeros(STREAMED))
    assert answer.status == 401, answer.body
    assert answer.body.endswith(b"{}")  # the bare answer to a request without a token
    assert answer.sent < STREAMED // 4  # flow control or the close stopped the client early
    _check_memory(stack, before)


def test_streamed_oversize_body_with_a_token_is_cut_at_the_limit(stack: Stack, token: str) -> None:
    before = _peak_rss(stack.resource.pid)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    answer = _post(stack.resource.url, headers, _zeros(STREAMED))
    assert answer.status == 413, answer.body
    assert b'"invalid_request"' in answer.body
    # Cut at the limit: the server may answer (and close) before FLOWING went out.
    assert LIMIT < answer.sent < STREAMED // 4
    _check_memory(stack, before)


def test_declared_oversize_body_is_refused_before_it_is_sent(stack: Stack, token: str) -> None:
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "Content-Length": str(400 * MIB),
    }
    answer = _post(stack.resource.url, headers, iter(()), chunked=False)
    assert answer.status == 413, answer.body  # answered with none of the 400 MiB sent


def test_the_server_keeps_serving(stack: Stack, token: str) -> None:
    response = stack.api("GET", "/v2/droplets", token)
    assert response.status_code == 200, response.text
