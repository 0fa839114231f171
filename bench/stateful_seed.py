"""What bench/stateful_paths.py measures against: a fresh PostgreSQL database, a seeded
client and user, refresh-token chains and authorization codes, and pgbench's transaction of
the same shape as a refresh on its own tables. bench/token_endpoint.py seeds with `seed` too."""

import contextlib
import re
import secrets
import statistics
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlmodel import Session
from wrk_driver import BenchError, Credentials

from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.models import AuthorizationCode, User
from services.authorization_server.registration import register_client
from services.authorization_server.settings import Settings
from shared.crypto import hash_token
from shared.db import utcnow

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new database beside `admin_url`'s, dropped afterwards; yields its URL."""
    name = f"dropletbook_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(admin_url)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(
    database_url: str, issuer: str, *, grant_types: Iterable[str] = GRANT_TYPES
) -> tuple[Credentials, str]:
    """The schema, a signing key, one confidential client of `grant_types` (by default every
    grant here), one user; returns the client's credentials and the user's id."""
    settings = Settings(environment="development", database_url=database_url, issuer=issuer)
    context = ServerContext.build(settings, make_engine(database_url))
    try:
        create_tables(context.engine)
        context.keys.ensure_key()
        with Session(context.engine, expire_on_commit=False) as session:
            client, secret = register_client(
                session,
                name="Bench client",
                grant_types=grant_types,
                redirect_uris=("http://127.0.0.1:9/callback",),
                scope="read write",
                supported_scopes=settings.scopes,
            )
            # No password: the benchmark's tokens come from codes, never from a login.
            user = User(email="bench@example.com", name="Bench", password_hash="-")  # noqa: S106
            session.add(user)
            session.commit()
    finally:
        context.engine.dispose()
    assert secret is not None
    return Credentials(client.client_id, secret), user.id


def mint_codes(database_url: str, *, client_id: str, user_id: str, count: int) -> list[str]:
    """`count` unexchanged authorization codes (no PKCE, no redirect URI bound), as the
    consent screen would have issued them, inserted in one go."""
    engine = make_engine(database_url)
    codes = [secrets.token_urlsafe(32) for _ in range(count)]
    expires_at = utcnow() + timedelta(minutes=10)
    rows = [
        {
            "code_hash": hash_token(code),
            "client_id": client_id,
            "user_id": user_id,
            "redirect_uri": "",
            "scope": "read write",
            "code_challenge": None,
            "expires_at": expires_at,
        }
        for code in codes
    ]
    try:
        with engine.begin() as connection:
            connection.execute(AuthorizationCode.__table__.insert(), rows)  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    return codes


PGBENCH_SETUP = """
CREATE TABLE bench_family (id text PRIMARY KEY, scope text NOT NULL, user_id text NOT NULL);
CREATE TABLE bench_token (hash text PRIMARY KEY, family_id text NOT NULL
  REFERENCES bench_family (id), expires_at timestamptz NOT NULL, rotated_at timestamptz);
CREATE TABLE bench_access (jti text PRIMARY KEY, family_id text NOT NULL
  REFERENCES bench_family (id), expires_at timestamptz NOT NULL);
INSERT INTO bench_family SELECT 'f' || n, 'read write', 'u' FROM generate_series(1, 10000) n;
INSERT INTO bench_token SELECT 'h' || n, 'f' || n, now() + interval '30 days', NULL
  FROM generate_series(1, 10000) n;
"""
# A refresh's shape: read the token with its family, rotate it conditionally, insert the
# successor and the access-token record, commit.
PGBENCH_SCRIPT = """\\set n random(1, 10000)
BEGIN;
SELECT f.scope, f.user_id FROM bench_token t JOIN bench_family f ON f.id = t.family_id
  WHERE t.hash = 'h' || :n;
UPDATE bench_token SET rotated_at = now() WHERE hash = 'h' || :n AND expires_at > now();
INSERT INTO bench_token VALUES (md5(random()::text || clock_timestamp()), 'f' || :n,
  now() + interval '30 days', NULL);
INSERT INTO bench_access VALUES (md5(random()::text || clock_timestamp()), 'f' || :n,
  now() + interval '1 hour');
COMMIT;
"""


def pgbench(database_url: str, workdir: Path, *, clients: int, seconds: int) -> dict[str, float]:
    """pgbench's rate and latency percentiles for the refresh-shaped transaction."""
    url = make_url(database_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(PGBENCH_SETUP)
    script = workdir / "refresh_shape.sql"
    script.write_text(PGBENCH_SCRIPT)
    command = [
        "pgbench",
        "--no-vacuum",
        f"--client={clients}",
        f"--jobs={min(clients, 2)}",
        f"--time={seconds}",
        f"--file={script}",
        "--log",
        f"--log-prefix={workdir / 'pgbench'}",
        conninfo,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=workdir)  # noqa: S603
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if result.returncode != 0 or match is None:
        raise BenchError(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    latencies = sorted(
        int(line.split()[2]) / 1000
        for log in workdir.glob("pgbench.*")
        for line in log.read_text().splitlines()
    )
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "per_second": float(match.group(1)),
        "p50_ms": quantiles[49],
        "p99_ms": quantiles[98],
        "errors": float(failed.group(1)) if failed else 0.0,
    }
