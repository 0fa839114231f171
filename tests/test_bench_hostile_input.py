"""bench/hostile_input.py: the review's stall figures stay within budget at real processes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "hostile_input.py"

pytestmark = pytest.mark.e2e


def test_hostile_input_stays_within_budget() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert re.search(r"hostile sign-ups: 4\d\d, .* worst /healthz meanwhile", result.stdout)
    assert re.search(r"400 MiB body without a token: 401 after", result.stdout)
