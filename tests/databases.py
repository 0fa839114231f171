"""Fresh, isolated databases for tests: a SQLite file, or a PostgreSQL schema per use."""

import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg


class TestDatabases:
    __test__ = False  # not a test class

    def __init__(self, target: str, tmp_dir: Path) -> None:
        self.target = target
        self._tmp_dir = tmp_dir
        self._schemas: list[str] = []

    @property
    def is_postgres(self) -> bool:
        return self.target.startswith("postgres")

    def new_url(self, name: str = "db") -> str:
        if not self.is_postgres:
            return f"sqlite:///{self._tmp_dir / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.target, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        self._schemas.append(schema)
        separator = "&" if "?" in self.target else "?"
        return f"{self.target}{separator}options={quote(f'-csearch_path={schema}')}"

    def drop_all(self) -> None:
        if not self._schemas:
            return
        with psycopg.connect(self.target, autocommit=True) as connection:
            for schema in self._schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._schemas.clear()
