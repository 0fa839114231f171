"""Test configuration: `--db sqlite` (default) or `--db postgresql://...` runs every test there.

`--db-tests-only` keeps just the tests that reach the database chosen by `--db` (they use
the `databases` fixture, directly or through another fixture): the others behave the same
on any `--db`, so a second pass on PostgreSQL need not repeat them (`make test` does this).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import TestDatabases

_DATABASE_FREE = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default="sqlite",
        help="'sqlite' or a PostgreSQL URL; each test gets its own schema there",
    )
    parser.addoption(
        "--db-tests-only",
        action="store_true",
        help="deselect the tests that do not use the --db database (for a second pass)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the slow files start first
        items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
    if not config.getoption("--db-tests-only"):
        return
    kept, database_free = [], []
    for item in items:
        uses_db = "databases" in getattr(item, "fixturenames", ())
        (kept if uses_db else database_free).append(item)
    if database_free:
        config.hook.pytest_deselected(items=database_free)
        items[:] = kept
    config.stash[_DATABASE_FREE] = len(database_free)
    if hasattr(config, "workeroutput"):  # an xdist worker: its controller prints the summary
        config.workeroutput["database_free"] = len(database_free)


class _XdistController:
    """Under `pytest -n N` the workers collect: each tells its count when it finishes."""

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        count = getattr(node, "workeroutput", {}).get("database_free")
        if count is not None:
            node.config.stash[_DATABASE_FREE] = count


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistController())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _DATABASE_FREE in config.stash:
        terminalreporter.write_line(
            f"--db-tests-only: {config.stash[_DATABASE_FREE]} tests that use no database "
            "were deselected (they run the same on any --db)"
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
