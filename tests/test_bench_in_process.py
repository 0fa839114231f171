"""bench/in_process.py runs against the real applications and reports every endpoint."""

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "in_process.py"


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_in_process_timing_reports_the_four_endpoints() -> None:
    output = _run("--requests", "20", "--batches", "2")
    rows = dict(re.findall(r"^((?:AS|RS) \S+ \S+)\s+([\d.]+)\s+[\d.]+$", output, re.MULTILINE))
    assert set(rows) == {
        "AS GET /healthz",
        "AS POST /v1/oauth/token",
        "RS GET /healthz",
        "RS GET /v2/account",
    }
    assert all(float(best) > 0 for best in rows.values())


def test_in_process_profile_shows_the_signature() -> None:
    output = _run("--profile", "--requests", "20")
    assert "== AS POST /v1/oauth/token" in output and "== RS GET /v2/account" in output
    assert "sign" in output


def test_in_process_layers_go_from_the_app_down_to_the_token_handler() -> None:
    output = _run("--layers", "--requests", "20", "--batches", "2")
    rows = re.findall(r"^(\S.*?)\s+([\d.]+)\s+[\d.]+$", output, re.MULTILINE)
    names = [name.strip() for name, _ in rows]
    assert names[0] == "FastAPI.__call__"
    assert names[-2:] == ["TokenFastPath", "TokenEndpoint (the handler)"]
    assert "EndpointCORSMiddleware" in names and "BodyLimitMiddleware" in names
