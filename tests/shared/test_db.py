"""SQLite files (shared/db.py): the database, its -wal and -shm are readable by their owner only."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from services.authorization_server.main import create_app
from shared.db import make_engine
from tests.factories import test_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The worst case: a process whose umask would leave new files world-writable."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def write_something(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS t (a INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as connection:  # the WAL and its index exist while connected
            assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() >= 1
            files = {p.name: mode(p) for p in url_path(url).parent.iterdir()}
            assert {"app.db", "app.db-wal", "app.db-shm"} <= set(files)
            assert files == dict.fromkeys(files, 0o600), files
    finally:
        engine.dispose()


def url_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@pytest.mark.usefixtures("permissive_umask")
def test_new_database_files_are_owner_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'app.db'}"
    write_something(url)
    assert mode(tmp_path / "data") == 0o700  # the directory we create, too
    assert mode(tmp_path / "data" / "app.db") == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_existing_world_readable_files_are_tightened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    write_something(url)
    for name in ("app.db", "app.db-wal", "app.db-shm"):
        if (tmp_path / name).exists():
            (tmp_path / name).chmod(0o644)
    write_something(url)
    assert mode(tmp_path / "app.db") == 0o600


def test_in_memory_databases_still_work() -> None:
    engine = make_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_the_authorization_server_keeps_one_pool(database_url: str) -> None:
    """Its requests run on the async engine's pool; the sync engine (start-up, maintenance)
    keeps no connection between uses."""
    app = create_app(test_settings(database_url))
    context = app.state.context
    assert isinstance(context.engine.pool, NullPool)
    assert not isinstance(context.db.sync_engine.pool, NullPool)
    context.engine.dispose()
