"""What both benchmarks share: their options, uvicorn servers, running wrk, reading its
figures, the server's CPU time.

wrk's Lua `done()` hook (`DONE_HOOK`, appended to each request script) prints one
machine-readable line; no per-response hook is used, as it would steal CPU from the server.
"""

import argparse
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
HEALTHZ_PATH = "/healthz"

DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


class BenchError(Exception):
    """A server, a check or wrk did not behave; the figures would mean nothing."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str

    @property
    def authorization(self) -> str:
        """`client_secret_basic` per RFC 6749 §2.3.1: form-urlencode, then base64."""
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()


@dataclass(frozen=True)
class Run:
    endpoint: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int
    server_cpu_us: float | None
    """Server process CPU time (user + system) per request; None without /proc."""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return self.status_errors + self.socket_errors


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def run_wrk(
    wrk: str,
    server: Server,
    endpoint: str,
    script: Path,
    args: argparse.Namespace,
    *,
    seconds: int | None = None,
) -> Run:
    """One fixed-time wrk run against `endpoint`, with the server's CPU time measured around it."""
    command = [
        wrk,
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds or args.duration}s",
        "--timeout=5s",
        "--latency",
        f"--script={script}",
        server.url + endpoint,
    ]
    cpu_before = cpu_seconds(server.pid)
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    cpu_after = cpu_seconds(server.pid)
    if args.verbose:
        print(result.stdout, flush=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed or printed no figures:\n{result.stdout}\n{result.stderr}")
    figures = json.loads(line.removeprefix("BENCH "))
    cpu_us = None
    if cpu_before is not None and cpu_after is not None:
        cpu_us = (cpu_after - cpu_before) / max(figures["requests"], 1) * 1e6
    return Run(
        endpoint=endpoint,
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        status_errors=figures["status_errors"],
        socket_errors=figures["socket_errors"],
        server_cpu_us=cpu_us,
    )


def measure_rounds(
    args: argparse.Namespace,
    wrk: str,
    server: Server,
    scripts: dict[str, Path],
    endpoint: str,
    label: str,
) -> list[tuple[Run, Run]]:
    """Warm both endpoints up, then `args.rounds` rounds of healthz followed by `endpoint`
    (alternating, so a slow spell of the machine hits both); prints each round's ratio."""
    print(
        f"wrk: {args.threads} thread(s), {args.connections} connections, "
        f"{args.duration}s per run, {args.rounds} round(s); server: 1 uvicorn worker",
        flush=True,
    )
    for path in (HEALTHZ_PATH, endpoint):  # JIT-free Python still warms caches and pools
        run_wrk(wrk, server, path, scripts[path], args, seconds=args.warmup)
    runs: list[tuple[Run, Run]] = []
    for number in range(1, args.rounds + 1):
        health = run_wrk(wrk, server, HEALTHZ_PATH, scripts[HEALTHZ_PATH], args)
        measured = run_wrk(wrk, server, endpoint, scripts[endpoint], args)
        runs.append((health, measured))
        print(
            f"  round {number}: healthz {health.per_second:8.0f}/s, "
            f"{label} {measured.per_second:8.0f}/s, "
            f"ratio {measured.per_second / health.per_second:.3f}",
            flush=True,
        )
    return runs


def exit_status(runs: list[tuple[Run, Run]]) -> int:
    """1 if any request failed (a status of 400 or more, or a socket error), else 0."""
    failed = sum(health.failed + measured.failed for health, measured in runs)
    if failed:
        print(f"FAILED: {failed} request(s) got a non-2xx status or a socket error")
        return 1
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def parse_args(description: str, *, endpoint: str, rounds: int) -> argparse.Namespace:
    """The options of both benchmarks; `endpoint` names the one measured against healthz."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="open connections (16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--rounds", type=int, default=rounds, help=f"healthz+{endpoint} rounds ({rounds})"
    )
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--verbose", action="store_true", help="show wrk's own output")
    args = parser.parse_args()
    if min(args.duration, args.connections, args.threads, args.rounds) < 1:
        parser.error("--duration, --connections, --threads and --rounds must be positive")
    if args.connections < args.threads:
        parser.error("wrk needs at least one connection per thread")
    return args


@contextlib.contextmanager
def uvicorn_server(app: str, port: int, env: dict[str, str], log: Path) -> Iterator[Server]:
    """`uvicorn <app>`, one worker; stopped (TERM, then KILL) however the block exits.

    No access log: it would add the same cost to both endpoints and flatter the ratio.
    `--loop=uvloop --http=httptools` are what uvicorn's `auto` picks with
    `uvicorn[standard]`; named, a missing extra fails loudly instead of quietly measuring
    the slower pure-Python stack.
    """
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
        "--loop=uvloop",
        "--http=httptools",
        "--no-access-log",
        "--log-level=warning",
    ]
    with log.open("ab") as output:
        # Own session: Ctrl-C reaches this script only, which then stops the server itself.
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = Server(f"http://127.0.0.1:{port}", process.pid)
        _wait_healthy(process, server.url, app)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: "subprocess.Popen[bytes]", base_url: str, app: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{app} exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base_url + HEALTHZ_PATH, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"{app} did not become healthy within 30 s")


def reporting_failures(work: Callable[[], int], log: Path) -> int:
    """`work()`'s exit status; Ctrl-C gives 130, a `BenchError` 1 with the server log's tail."""
    try:
        return work()
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        if log.exists():
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 1


def interrupt_on_signals() -> None:
    """Ctrl-C and TERM both raise KeyboardInterrupt, so `finally` blocks stop the servers.

    SIGINT is set explicitly: a shell starts background jobs with it ignored.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
