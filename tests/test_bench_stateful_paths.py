"""bench/stateful_paths.py runs end to end in its tiny mode and reports every figure."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.databases import TestDatabases

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "stateful_paths.py"

pytestmark = pytest.mark.e2e


def test_stateful_paths_benchmark_runs_and_reports(databases: TestDatabases) -> None:
    if not databases.is_postgres:
        pytest.skip("the benchmark runs on PostgreSQL (--db postgresql://...)")
    if shutil.which("wrk") is None or shutil.which("pgbench") is None:
        pytest.fail("wrk and pgbench are needed: apt-get install -y wrk postgresql-client")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--database", databases.target],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    for path in ("client-credentials", "refresh@1", "refresh@16", "code exchange@16", "pgbench"):
        row = rf"^{re.escape(path)}.*?\s\d+\s+[\d.]+\s+[\d.]+\s+0\b"  # req/s p50 p99 errors
        assert re.search(row, result.stdout, re.M), result.stdout
    assert re.search(r"^refresh@16 / pgbench\s+[\d.]+\s+goal >= 0.25", result.stdout, re.M)
    assert re.search(r"^errors \(all runs\)\s+0\s+goal 0: met", result.stdout, re.M)
