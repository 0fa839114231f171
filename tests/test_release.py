"""What a team adopting the project checks first: the licence, the version, the changelog."""

import tomllib
from importlib.metadata import metadata
from pathlib import Path

import pytest

from services.authorization_server.main import create_app as create_authorization_server
from services.demo_client.main import create_app as create_demo_client
from services.resource_server.main import create_app as create_resource_server
from shared.version import VERSION
from tests.harness.servers import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_apache_2_licence_in_the_tree_and_the_package_metadata() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert PYPROJECT["license"] == "Apache-2.0"
    assert metadata("dropletbook-oauth")["License-Expression"] == "Apache-2.0"


def test_one_version_everywhere() -> None:
    assert PYPROJECT["version"] == VERSION
    major, minor, patch = (int(part) for part in VERSION.split("."))
    assert (major, minor, patch) >= (0, 7, 0)


@pytest.mark.parametrize(
    "create_app",
    [create_authorization_server, create_resource_server, create_demo_client],
    ids=["authorization-server", "resource-server", "demo-client"],
)
def test_every_service_reports_the_version_in_its_openapi(
    create_app: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for prefix in ("AS", "RS", "CLIENT"):
        monkeypatch.setenv(f"{prefix}_ENVIRONMENT", "development")
        monkeypatch.setenv(f"{prefix}_DATABASE_URL", f"sqlite:///{tmp_path}/{prefix}.db")
    assert callable(create_app)
    assert create_app().openapi()["info"]["version"] == VERSION


def test_the_changelog_describes_this_version_first() -> None:
    headings = [
        line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## [")
    ]
    assert headings[0].startswith(f"## [{VERSION}] - ")
    versions = [heading.split("]")[0].removeprefix("## [") for heading in headings]
    as_tuples = [tuple(int(part) for part in version.split(".")) for version in versions]
    assert as_tuples == sorted(as_tuples, reverse=True)
