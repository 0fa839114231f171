"""Test configuration: `--db sqlite` (default) or `--db postgresql://...` runs every test there."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import TestDatabases


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default="sqlite",
        help="'sqlite' or a PostgreSQL URL; each test gets its own schema there",
    )


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabases]:
    dbs = TestDatabases(request.config.getoption("--db"), tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture
def database_url(databases: TestDatabases) -> str:
    return databases.new_url()


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")
