"""What both benchmarks share: running wrk, reading its figures, the server's CPU time.

wrk's Lua `done()` hook (`DONE_HOOK`, appended to each request script) prints one
machine-readable line; no per-response hook is used, as it would steal CPU from the server.
"""

import base64
import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def run_wrk(
    wrk: str,
    base_url: str,
    endpoint: str,
    *,
    pid: int,
    script: Path,
    threads: int,
    connections: int,
    seconds: int,
    verbose: bool = False,
) -> Run:
    """One fixed-time wrk run against `endpoint`, with the server's CPU time measured around it."""
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=5s",
        "--latency",
        f"--script={script}",
        base_url + endpoint,
    ]
    cpu_before = cpu_seconds(pid)
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    cpu_after = cpu_seconds(pid)
    if verbose:
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
