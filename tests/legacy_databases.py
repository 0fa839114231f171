"""Databases as release a846f3e left them: its `create_all` schema, no version table, data.

The schema is the DDL that release's models compiled to (`tests/shared/a846f3e/*.sql`,
written from `git show a846f3e:services/<name>/models.py`); rows are written through a
reflection of it, so nothing here depends on today's models.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from services.authorization_server.passwords import PasswordHasher
from shared.crypto import hash_token
from shared.jwt import generate_private_pem

SCHEMAS = Path(__file__).parent / "shared" / "a846f3e"
SERVICES = ("authorization_server", "resource_server", "demo_client")


def create_schema(engine: Engine, service: str) -> None:
    """The tables of a846f3e's `create_all` for `service` (a package name)."""
    dialect = "sqlite" if engine.dialect.name == "sqlite" else "postgresql"
    script = (SCHEMAS / f"a846f3e_{service}.{dialect}.sql").read_text()
    with engine.begin() as connection:
        for statement in script.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)


def insert(engine: Engine, table: str, *rows: dict[str, Any]) -> None:
    metadata = MetaData()
    metadata.reflect(engine, only=[table])
    with engine.begin() as connection:
        connection.execute(metadata.tables[table].insert(), list(rows))


@dataclass(frozen=True)
class LegacyAuthorizationServer:
    """What `seed_authorization_server` wrote: enough to use every row afterwards."""

    kid: str = "legacy-key"
    user_id: str = "legacy-user"
    email: str = "legacy@example.com"
    password: str = "legacy password 1"
    client_id: str = "legacy-app"
    client_secret: str = "legacy-app-secret"
    refresh_token: str = "legacy-refresh-token"
    session_token: str = "legacy-session-token"


def seed_authorization_server(engine: Engine) -> LegacyAuthorizationServer:
    """A user with a login session, a trusted confidential client the user consented to,
    a refresh token of theirs, and the signing key (in clear, as a846f3e kept it)."""
    legacy = LegacyAuthorizationServer()
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    passwords = PasswordHasher(time_cost=1, memory_kib=64)
    insert(
        engine,
        "user",
        {
            "id": legacy.user_id,
            "email": legacy.email,
            "name": "Legacy",
            "password_hash": passwords.hash(legacy.password),
            "created_at": now,
        },
    )
    insert(
        engine,
        "client",
        {
            "client_id": legacy.client_id,
            "client_secret_hash": hash_token(legacy.client_secret),
            "name": "Legacy app",
            "website": "https://legacy.example",
            "description": "",
            "redirect_uris": ["https://legacy.example/callback"],
            "grant_types": ["authorization_code", "refresh_token", "password"],
            "scope": "read write",
            "client_type": "confidential",
            "trusted": True,
            "owner_id": legacy.user_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    insert(
        engine,
        "consent",
        {
            "user_id": legacy.user_id,
            "client_id": legacy.client_id,
            "scope": "read",
            "created_at": now,
            "updated_at": now,
        },
    )
    insert(
        engine,
        "usersession",
        {
            "token_hash": hash_token(legacy.session_token),
            "user_id": legacy.user_id,
            "created_at": now,
            "expires_at": later,
        },
    )
    insert(
        engine,
        "tokenfamily",
        {
            "id": "legacy-family",
            "client_id": legacy.client_id,
            "user_id": legacy.user_id,
            "scope": "read",
            "origin": "authorization_code",
            "created_at": now,
            "revoked_at": None,
        },
    )
    insert(
        engine,
        "refreshtoken",
        {
            "token_hash": hash_token(legacy.refresh_token),
            "family_id": "legacy-family",
            "client_id": legacy.client_id,
            "scope": "read",
            "created_at": now,
            "expires_at": later,
            "rotated_at": None,
        },
    )
    insert(
        engine,
        "signingkeyrecord",
        {
            "kid": legacy.kid,
            "algorithm": "ES256",
            "private_pem": generate_private_pem("ES256"),
            "created_at": now - timedelta(days=1),
            "active_from": now - timedelta(days=1),
        },
    )
    return legacy


LEGACY_SUB = "legacy-user"


def seed_resource_server(engine: Engine) -> None:
    """The legacy user's account with three droplets (ids 1, 2 and 3 from the database)."""
    now = datetime.now(UTC)
    insert(
        engine,
        "account",
        {
            "sub": LEGACY_SUB,
            "uuid": "00000000-0000-4000-8000-000000000000",
            "kind": "user",
            "client_id": None,
            "email": "legacy@example.com",
            "droplet_limit": 25,
            "status": "active",
            "created_at": now,
        },
    )
    insert(
        engine,
        "droplet",
        *(
            {
                "owner_sub": LEGACY_SUB,
                "name": f"legacy-{n}",
                "region": "nyc3",
                "size": "s-1vcpu-1gb",
                "image": "ubuntu-24-04-x64",
                "status": "active",
                "created_at": now,
            }
            for n in (1, 2, 3)
        ),
    )


def seed_demo_client(engine: Engine) -> None:
    """A browser session with a token in clear, as a846f3e kept it."""
    insert(
        engine,
        "browser_session",
        {
            "id_hash": hash_token("legacy-browser"),
            "csrf_token": "csrf",
            "created_at": 0.0,
            "expires_at": 4e9,
            "pending": {},
            "grants": {"code": {"access_token": "clear-token"}},
            "flows": {},
            "notice": "",
        },
    )
