"""The security review's two stall figures, measured against real processes (issue 8).

1. ReDoS at sign-up: while sign-ups with `a@` + 16,000 dots + `@` is posted (the review
   saw it hold the interpreter for ~2.5 s), `/healthz` of the same process is polled; the
   script prints how long the sign-up took and the worst `/healthz` answer meanwhile.
2. Unbounded bodies: a 400 MiB body is streamed (chunked) to `POST /v2/droplets` without a
   token (the review saw it read in full, 1.3 GB peak, before the 401); the script prints
   the status, the time to the answer, how much of the body went out, and how much the
   resource server's peak RSS (VmHWM) grew.

    .venv/bin/python bench/hostile_input.py

Both servers run in development on temporary SQLite files, one uvicorn worker each. Exit
status 0 when both stay within the budgets below, 1 otherwise.
"""

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from wrk_driver import BenchError, free_port, interrupt_on_signals, uvicorn_server

HOSTILE_EMAIL = "a@" + "." * 16_000 + "@"
SIGNUPS = 5
BODY_BYTES = 400 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
HEALTHZ_BUDGET_S = 0.3  # worst /healthz answer while the hostile sign-up is handled
MEMORY_BUDGET = 48 * 1024 * 1024  # peak RSS growth of the resource server


def _signup_stall(base_url: str) -> tuple[float, int, float]:
    """The slowest of SIGNUPS hostile sign-ups and its status, and the worst /healthz
    answer while they were handled (polled from another thread every 10 ms)."""
    worst, polled = 0.0, threading.Event()
    done = threading.Event()

    def poll() -> None:
        nonlocal worst
        with httpx.Client(base_url=base_url, timeout=30) as http:
            while not done.is_set():
                started = time.perf_counter()
                http.get("/healthz")
                worst = max(worst, time.perf_counter() - started)
                polled.set()
                time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    slowest, status = 0.0, 0
    try:
        polled.wait(10)
        with httpx.Client(base_url=base_url, timeout=60) as http:
            for _ in range(SIGNUPS):
                page = http.get("/signup")
                token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                form = {"csrf_token": token, "email": HOSTILE_EMAIL, "password": "x" * 12}
                started = time.perf_counter()
                status = http.post("/signup", data=form).status_code
                slowest = max(slowest, time.perf_counter() - started)
    finally:
        done.set()
        poller.join()
    return slowest, status, worst


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise BenchError("no VmHWM in /proc")


def _stream_without_token(base_url: str) -> tuple[int, float, int]:
    """Stream BODY_BYTES chunked without a token: (status, seconds to answer, bytes sent)."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    head = (
        f"POST /v2/droplets HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    started = time.perf_counter()
    sock.sendall(head.encode())
    sent = 0
    answered = threading.Event()

    def pump() -> None:
        nonlocal sent
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        try:
            while sent < BODY_BYTES and not answered.is_set():
                sock.sendall(frame)
                sent += len(CHUNK)
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered and closed: what a good server does
            pass

    pumper = threading.Thread(target=pump)
    pumper.start()
    status_line = sock.makefile("rb").readline()
    took = time.perf_counter() - started
    answered.set()
    sock.close()
    pumper.join()
    return int(status_line.split()[1]), took, sent


def main() -> int:
    interrupt_on_signals()
    with tempfile.TemporaryDirectory(prefix="dropletbook-hostile-") as tmp:
        workdir = Path(tmp)
        as_port, rs_port = free_port(), free_port()
        issuer, audience = f"http://127.0.0.1:{as_port}", f"http://127.0.0.1:{rs_port}"
        as_env = {
            "AS_ENVIRONMENT": "development",
            "AS_DATABASE_URL": f"sqlite:///{workdir / 'as.db'}",
            "AS_ISSUER": issuer,
            "AS_RESOURCE_AUDIENCE": audience,
            "AS_LOG_LEVEL": "WARNING",
        }
        rs_env = {
            "RS_ENVIRONMENT": "development",
            "RS_DATABASE_URL": f"sqlite:///{workdir / 'rs.db'}",
            "RS_ISSUER": issuer,
            "RS_AUDIENCE": audience,
            "RS_LOG_LEVEL": "WARNING",
        }
        logs = workdir / "servers.log"
        try:
            with (
                uvicorn_server("services.authorization_server.main:app", as_port, as_env, logs),
                uvicorn_server("services.resource_server.main:app", rs_port, rs_env, logs) as rs,
            ):
                took, status, worst = _signup_stall(issuer)
                print(
                    f"{SIGNUPS} hostile sign-ups: {status}, the slowest in {took * 1000:.1f} ms;"
                    f" worst /healthz meanwhile {worst * 1000:.1f} ms"
                    f" (budget {HEALTHZ_BUDGET_S * 1000:.0f} ms)"
                )
                before = _peak_rss(rs.pid)
                status_rs, seconds, sent = _stream_without_token(rs.url)
                growth = _peak_rss(rs.pid) - before
                print(
                    f"400 MiB body without a token: {status_rs} after {seconds * 1000:.1f} ms, "
                    f"{sent / 2**20:.0f} MiB sent, peak RSS grew {growth / 2**20:.1f} MiB"
                )
        except BenchError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    ok = worst <= HEALTHZ_BUDGET_S and status_rs == 401 and growth <= MEMORY_BUDGET
    return 0 if ok and 400 <= status < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
