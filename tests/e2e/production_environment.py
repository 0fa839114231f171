"""The production dependency set, as the Dockerfile installs it: `uv sync --frozen --no-dev
--no-editable` from `uv.lock`, into a virtual environment of its own.

Tests that start the services from it run them outside the source tree, as the image does,
so that a module imported only through a development dependency (greenlet came in only with
Playwright once) or a file missing from the wheel fails here, not in a user's `docker compose up`.
"""

import os
import shutil
import subprocess
from pathlib import Path

from tests.harness.servers import ROOT

PROJECT = "dropletbook-oauth"
_SYNC = ("sync", "--frozen", "--no-dev", "--no-editable", "--compile-bytecode", "--quiet")


def uv() -> str:
    """The uv that `make` installs (`.tools/bin/uv`), else one on PATH."""
    pinned = ROOT / ".tools" / "bin" / "uv"
    found = str(pinned) if pinned.is_file() else shutil.which("uv")
    assert found, "uv is needed to build the production environment (make test installs it)"
    return found


def build_production_environment(target: Path) -> Path:
    """The environment at `target`; returns its `bin/` folder."""
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(target)}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        # uv caches a built wheel of the project by pyproject.toml alone: rebuild it
        [uv(), *_SYNC, "--reinstall-package", PROJECT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return target / "bin"
