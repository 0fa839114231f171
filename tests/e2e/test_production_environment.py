"""The production dependency set (what the image holds) runs the project: every module
imports from it and every command starts, outside the source tree. The three services run
from it in test_compose.py, with compose's commands and environment."""

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

_IMPORT_EVERY_MODULE = """
import importlib, importlib.util, json, pkgutil, sys
import services, shared
failed, count = [], 0
for package in (shared, services):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        # __main__ runs a command; a migrations env module runs only inside Alembic
        if module.name.endswith((".__main__", ".migrations.env")):
            continue
        count += 1
        try:
            importlib.import_module(module.name)
        except Exception as exc:
            failed.append(f"{module.name}: {exc!r}")
print(json.dumps({
    "count": count,
    "failed": failed,
    "services": services.__file__,
    "development_only": [
        name for name in ("pytest", "playwright", "authlib", "mypy")
        if importlib.util.find_spec(name) is not None
    ],
}))
"""


def test_every_module_imports_from_the_production_set(production_bin: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(production_bin / "python"), "-c", _IMPORT_EVERY_MODULE],
        cwd=tmp_path,  # not the source tree: the installed wheel is what is imported
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == [], "\n".join(report["failed"])
    assert report["count"] > 100
    assert Path(report["services"]).is_relative_to(production_bin.parent)
    assert report["development_only"] == []  # really the production set


@pytest.mark.parametrize("command", ["dropletbook-as", "dropletbook-demo", "dropletbook-migrate"])
def test_every_command_starts_from_the_production_set(
    production_bin: Path, tmp_path: Path, command: str
) -> None:
    result = subprocess.run(
        [str(production_bin / command), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
