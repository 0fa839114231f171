"""Each service's migrations (shared/migrations.py, services/*/migrations): they build exactly
the models' schema, upgrade a database of release a846f3e with its data, and start-up
upgrades in development and refuses an old schema in production. On `--db` (SQLite or a
PostgreSQL schema per test)."""

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import jwt
import pytest
from alembic import command
from sqlalchemy import column, inspect, table, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import TableClause
from sqlmodel import Session, SQLModel, select

from services.authorization_server import db as authorization_server_db
from services.authorization_server.main import create_app
from services.authorization_server.models import Consent, SigningKeyRecord, User
from services.demo_client import db as demo_client_db
from services.resource_server import db as resource_server_db
from services.resource_server.models import Droplet
from shared.db import make_engine
from shared.migrations import Schema, SchemaError, differences, prepare
from tests import legacy_databases as legacy
from tests.factories import test_settings
from tests.harness.authorization_server import start_in_process

SCHEMAS = {
    "authorization_server": authorization_server_db.SCHEMA,
    "resource_server": resource_server_db.SCHEMA,
    "demo_client": demo_client_db.SCHEMA,
}
EACH_SERVICE = pytest.mark.parametrize("service", list(SCHEMAS))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def version_table(schema: Schema) -> TableClause:
    return table(schema.version_table, column("version_num"))


def revision(engine: Engine, schema: Schema) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table(schema.version_table):
            return None
        return connection.execute(select(version_table(schema).c.version_num)).scalar()


def assert_models_schema(engine: Engine, schema: Schema) -> None:
    with engine.connect() as connection:
        assert differences(connection, schema) == []
    assert revision(engine, schema) == schema.head


# --- models == migrations ------------------------------------------------------------------


@EACH_SERVICE
def test_migrations_build_exactly_the_models(engine: Engine, service: str) -> None:
    """Autogenerate finds nothing between the models and a database migrated from scratch:
    so `create_all` + stamp (new databases) and the migrations give the same schema."""
    schema = SCHEMAS[service]
    with engine.begin() as connection:
        command.upgrade(schema.config(connection), "head")
    assert_models_schema(engine, schema)


@EACH_SERVICE
def test_a_new_database_is_created_at_the_head(engine: Engine, service: str) -> None:
    schema = SCHEMAS[service]
    prepare(engine, schema, development=False)  # production creates an empty database too
    assert_models_schema(engine, schema)


@EACH_SERVICE
def test_downgrade_to_nothing_and_back(engine: Engine, service: str) -> None:
    schema = SCHEMAS[service]
    with engine.begin() as connection:
        command.upgrade(schema.config(connection), "head")
    with engine.begin() as connection:
        command.downgrade(schema.config(connection), "base")
    with engine.connect() as connection:
        assert not set(inspect(connection).get_table_names()) & set(schema.tables)
    with engine.begin() as connection:
        command.upgrade(schema.config(connection), "head")
    assert_models_schema(engine, schema)


def test_droplet_ids_autoincrement_on_sqlite_after_migrating(engine: Engine) -> None:
    """AUTOINCREMENT is invisible to autogenerate: checked on its own."""
    if engine.dialect.name != "sqlite":
        pytest.skip("checks SQLite's own AUTOINCREMENT in sqlite_master")
    with engine.begin() as connection:
        command.upgrade(resource_server_db.SCHEMA.config(connection), "head")
        sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'droplet'"))
        assert "AUTOINCREMENT" in sql.scalar_one()


# --- a846f3e's databases -------------------------------------------------------------------


@EACH_SERVICE
def test_a846f3e_schema_is_recognised_and_upgraded(engine: Engine, service: str) -> None:
    schema = SCHEMAS[service]
    legacy.create_schema(engine, service)
    prepare(engine, schema, development=True)
    assert_models_schema(engine, schema)


@EACH_SERVICE
def test_a_database_made_since_a846f3e_without_migrations_is_at_the_head(
    engine: Engine, service: str
) -> None:
    """A database of the schema of then (the last revision before migrations existed), with
    no version table: stamped at its baseline, not re-migrated, then upgraded by what came
    later."""
    schema = SCHEMAS[service]
    if service == "authorization_server":  # 0002's schema, as `create_all` made it then
        with engine.begin() as connection:
            command.upgrade(schema.config(connection), "0002")
            connection.execute(text(f"DROP TABLE {schema.version_table}"))
    else:
        SQLModel.metadata.create_all(
            engine, tables=[SQLModel.metadata.tables[t] for t in schema.tables]
        )
    if service == "resource_server":
        legacy.seed_resource_server(engine)
    prepare(engine, schema, development=True)
    assert_models_schema(engine, schema)


def test_authorization_server_data_survives_and_the_old_key_signs(engine: Engine) -> None:
    legacy.create_schema(engine, "authorization_server")
    old = legacy.seed_authorization_server(engine)
    settings = test_settings(engine.url.render_as_string(hide_password=False))

    server = start_in_process(settings)  # start-up upgrades (development)
    try:
        client = server.browser()
        jwks = client.get("/.well-known/jwks.json").json()
        # The old key still signs access tokens; start-up adds the RS256 key of ID tokens.
        assert (jwks["keys"][0]["kid"], jwks["keys"][0]["alg"]) == (old.kid, "ES256")
        assert [key["alg"] for key in jwks["keys"]] == ["ES256", "RS256"]
        refreshed = client.post(
            "/v1/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": old.refresh_token},
            auth=(old.client_id, old.client_secret),
        )
        assert refreshed.status_code == 200, refreshed.text
        password = client.post(
            "/v1/oauth/token",
            data={"grant_type": "password", "username": old.email, "password": old.password},
            auth=(old.client_id, old.client_secret),
        )
        assert password.status_code == 200, password.text
    finally:
        server.close()

    for answer in (refreshed, password):
        token = answer.json()["access_token"]
        assert jwt.get_unverified_header(token)["kid"] == old.kid
        key = jwt.PyJWK(jwks["keys"][0]).key
        claims = jwt.decode(token, key, algorithms=["ES256"], options={"verify_aud": False})
        assert claims["sub"] == old.user_id
    assert_models_schema(engine, authorization_server_db.SCHEMA)
    with Session(engine) as session:
        (consent,) = session.exec(select(Consent)).all()
        assert (consent.user_id, consent.response_type, consent.scope) == (
            old.user_id,
            "code",
            "read",
        )
        assert consent.redirect_uris == []  # which URI its user saw is unknown: asked again
        (record,) = session.exec(
            select(SigningKeyRecord).where(SigningKeyRecord.algorithm == "ES256")
        ).all()
        assert record.kek_id is None and record.private_key.startswith("-----BEGIN")
        assert session.get(User, old.user_id) is not None


def test_resource_server_droplets_survive_and_ids_are_not_reused(engine: Engine) -> None:
    legacy.create_schema(engine, "resource_server")
    legacy.seed_resource_server(engine)
    prepare(engine, resource_server_db.SCHEMA, development=True)
    assert_models_schema(engine, resource_server_db.SCHEMA)
    with Session(engine) as session:
        droplets = session.exec(select(Droplet).order_by(Droplet.id)).all()  # type: ignore[arg-type]
        assert [(d.id, d.name, d.owner_sub) for d in droplets] == [
            (n, f"legacy-{n}", legacy.LEGACY_SUB) for n in (1, 2, 3)
        ]
        session.delete(droplets[-1])
        session.commit()
        new = Droplet(
            owner_sub=legacy.LEGACY_SUB,
            name="after",
            region="nyc3",
            size="s-1vcpu-1gb",
            image="ubuntu-24-04-x64",
            created_at=datetime.now(UTC),
        )
        session.add(new)
        session.commit()
        assert new.id == 4  # not 3: a deleted droplet's id is never handed out again


def test_demo_client_clear_sessions_are_dropped(engine: Engine) -> None:
    legacy.create_schema(engine, "demo_client")
    legacy.seed_demo_client(engine)
    prepare(engine, demo_client_db.SCHEMA, development=True)
    assert_models_schema(engine, demo_client_db.SCHEMA)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert "browser_session" not in tables
        assert connection.execute(text("SELECT count(*) FROM client_session")).scalar() == 0


# --- production refuses, development upgrades -------------------------------------------


@EACH_SERVICE
def test_production_refuses_an_old_schema_and_names_the_command(
    engine: Engine, service: str
) -> None:
    schema = SCHEMAS[service]
    legacy.create_schema(engine, service)
    if service == "resource_server" and engine.dialect.name != "sqlite":
        prepare(engine, schema, development=False)  # the same schema there: nothing to refuse
        assert_models_schema(engine, schema)
        return
    with pytest.raises(SchemaError) as refused:
        prepare(engine, schema, development=False)
    message = str(refused.value)
    assert f"schema revision 0001, this version needs {schema.head}" in message
    assert f"dropletbook-migrate {schema.service}" in message
    assert revision(engine, schema) is None  # nothing written, not even a stamp


def test_production_start_up_refuses_an_old_schema(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    legacy.create_schema(engine, "authorization_server")
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(test_settings(url).model_copy(update={"environment": "production"}))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    try:
        with pytest.raises(SchemaError, match="dropletbook-migrate authorization-server"):
            asyncio.run(start())
    finally:
        app.state.context.engine.dispose()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line.endswith("then run `dropletbook-migrate authorization-server`")


@EACH_SERVICE
def test_an_unknown_revision_is_refused_even_in_development(engine: Engine, service: str) -> None:
    schema = SCHEMAS[service]
    prepare(engine, schema, development=True)
    with engine.begin() as connection:
        connection.execute(update(version_table(schema)).values(version_num="9999"))
    for development in (True, False):
        with pytest.raises(SchemaError, match="revision 9999, unknown to this version"):
            prepare(engine, schema, development=development)
