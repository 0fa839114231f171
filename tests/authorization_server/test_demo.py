"""The demo data (demo.py): idempotent seeding of the demo user and the five clients."""

import pytest
from pydantic import SecretStr
from sqlmodel import Session, func, select

from services.authorization_server import repository
from services.authorization_server.cli import main
from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.demo import DemoRefusedError, DemoSettings, seed_demo
from services.authorization_server.models import Client, User
from services.authorization_server.settings import Settings
from shared.crypto import digest_matches
from tests.factories import STRONG_KEK, STRONG_SECRET, test_settings
from tests.harness.authorization_server import start_in_process

CLIENT_IDS = [
    "dropletbook",
    "dropletbook-implicit",
    "dropletbook-trusted",
    "dropletbook-service",
    "droplet-cloud-api",
]


def load(context: ServerContext, client_id: str) -> Client:
    with Session(context.engine) as session:
        client = repository.get_client(session=session, client_id=client_id)
        assert client is not None
        return client


def test_seed_creates_the_user_and_one_client_per_flow(context: ServerContext) -> None:
    seed_demo(context, DemoSettings(client_url="http://127.0.0.1:9080/"))
    code = load(context, "dropletbook")
    assert code.grant_types == ["authorization_code", "refresh_token"]
    assert code.redirect_uris == [
        "http://127.0.0.1:9080/callback",
        "http://127.0.0.1:9080/signin/callback",
    ]
    assert code.post_logout_redirect_uris == ["http://127.0.0.1:9080/signout/done"]
    assert code.client_type == "confidential"
    assert code.client_secret_hash is not None
    assert digest_matches("dropletbook-demo-secret", code.client_secret_hash)
    implicit = load(context, "dropletbook-implicit")
    assert implicit.grant_types == ["implicit"]
    assert implicit.client_type == "public"
    assert implicit.client_secret_hash is None
    assert implicit.redirect_uris == ["http://127.0.0.1:9080/implicit/callback"]
    trusted = load(context, "dropletbook-trusted")
    assert trusted.trusted
    assert "password" in trusted.grant_types
    assert not code.trusted
    assert load(context, "dropletbook-service").grant_types == ["client_credentials"]
    assert load(context, "droplet-cloud-api").grant_types == ["client_credentials"]
    with Session(context.engine) as session:
        user = repository.get_user_by_email(session=session, email="demo@example.com")
        assert user is not None
        assert context.passwords.verify("demo-password", user.password_hash)


def test_seeding_twice_adds_nothing_and_keeps_what_apps_changed(context: ServerContext) -> None:
    seed_demo(context, DemoSettings())
    with Session(context.engine) as session:
        service = repository.get_client(session=session, client_id="dropletbook-service")
        assert service is not None
        service.description = "changed through /v1/apps/self"
        session.add(service)
        session.commit()
    demo = DemoSettings(
        client_url="http://localhost:8080", client_secret=SecretStr("another-secret")
    )
    seed_demo(context, demo)
    with Session(context.engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 1
        assert session.exec(select(func.count()).select_from(Client)).one() == 5
    assert load(context, "dropletbook-service").description == "changed through /v1/apps/self"
    code = load(context, "dropletbook")
    assert code.redirect_uris == [
        "http://localhost:8080/callback",
        "http://localhost:8080/signin/callback",
    ]
    assert code.post_logout_redirect_uris == ["http://localhost:8080/signout/done"]
    assert code.client_secret_hash is not None
    assert digest_matches("another-secret", code.client_secret_hash)


def test_demo_command_seed_only_twice(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AS_ENVIRONMENT", "development")
    monkeypatch.setenv("AS_DATABASE_URL", database_url)
    monkeypatch.setenv("AS_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("AS_PASSWORD_HASH_MEMORY_KIB", "64")
    main(["demo", "--seed-only"])
    first = capsys.readouterr().out
    main(["demo", "--seed-only"])
    second = capsys.readouterr().out
    assert "added user demo@example.com" in first
    for client_id in CLIENT_IDS:
        assert f"added client {client_id}\n" in first
    assert "nothing to add" not in first
    assert "nothing to add: the demo user and clients already exist" in second
    assert "added" not in second
    for out in (first, second):
        assert "demo data ready: demo@example.com and 5 clients" in out


def _portal_apps(settings: Settings) -> str:
    """The demo user's developer portal list, over HTTP."""
    server = start_in_process(settings)
    try:
        visitor = server.browser()
        assert visitor.login("demo@example.com", "demo-password").status_code == 303
        page = visitor.get("/developer/apps")
        assert page.status_code == 200, page.text
        return page.text
    finally:
        server.close()


def test_the_feed_client_is_a_system_client(context: ServerContext, settings: Settings) -> None:
    """The resource server's feed client has no owner: not one of the demo user's apps."""
    report = seed_demo(context, DemoSettings())
    assert load(context, "droplet-cloud-api").owner_id is None
    assert load(context, "dropletbook-service").owner_id is not None
    assert report.fixed == []
    page = _portal_apps(settings)
    assert "dropletbook-service" in page
    assert "droplet-cloud-api" not in page


def test_seeding_frees_a_feed_client_owned_by_the_demo_user(
    context: ServerContext, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Databases from earlier demos had it owned by the demo user: seeding fixes that, once."""
    seed_demo(context, DemoSettings())
    with Session(context.engine) as session:
        feed = repository.get_client(session=session, client_id="droplet-cloud-api")
        user = repository.get_user_by_email(session=session, email="demo@example.com")
        assert feed is not None and user is not None
        feed.owner_id = user.id
        session.add(feed)
        session.commit()
    assert "droplet-cloud-api" in _portal_apps(settings)
    report = seed_demo(context, DemoSettings())
    assert report.added == []
    assert report.fixed == ["client droplet-cloud-api is now a system client (no owner)"]
    assert seed_demo(context, DemoSettings()).fixed == []
    assert load(context, "droplet-cloud-api").owner_id is None
    assert "droplet-cloud-api" not in _portal_apps(settings)


def test_seeding_is_refused_outside_development(database_url: str) -> None:
    """The demo's user and secrets are public: even a well-configured production refuses."""
    settings = test_settings(
        database_url,
        environment="production",
        issuer="https://as.example",
        resource_audience="https://api.example",
        secret_key=SecretStr(STRONG_SECRET),
        key_encryption_keys={"k1": SecretStr(STRONG_KEK)},
        smtp_host="mail.example",
    )
    context = ServerContext.build(settings, make_engine(database_url))
    create_tables(context.engine)
    try:
        with pytest.raises(DemoRefusedError, match="AS_ENVIRONMENT=development"):
            seed_demo(context, DemoSettings())
        with Session(context.engine) as session:
            assert session.exec(select(func.count()).select_from(User)).one() == 0
            assert session.exec(select(func.count()).select_from(Client)).one() == 0
    finally:
        context.engine.dispose()
