"""Accounts created on first use, including two first requests racing each other."""

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from services.resource_server import accounts, repository
from services.resource_server.db import create_tables, make_engine
from services.resource_server.models import Account
from services.resource_server.verifier import AccessTokenClaims


def _claims(sub: str, client_id: str = "app", email: str | None = None) -> AccessTokenClaims:
    return AccessTokenClaims(
        sub=sub, client_id=client_id, scope=frozenset({"read"}), jti="j", exp=2, iat=1, email=email
    )


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    create_tables(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def test_user_account_takes_the_users_uuid_and_email(session: Session) -> None:
    account = accounts.get_or_create_account(
        session=session, claims=_claims("user-1", email="a@example.com"), droplet_limit=3
    )
    assert (account.uuid, account.kind, account.email, account.droplet_limit) == (
        "user-1",
        "user",
        "a@example.com",
        3,
    )
    changed = accounts.get_or_create_account(
        session=session, claims=_claims("user-1", email="b@example.com"), droplet_limit=9
    )
    assert changed.email == "b@example.com"
    assert changed.droplet_limit == 3  # the stored limit, not the default


def test_service_account(session: Session) -> None:
    account = accounts.get_or_create_account(
        session=session, claims=_claims("app-1", client_id="app-1"), droplet_limit=5
    )
    assert account.kind == "service" and account.client_id == "app-1"
    assert account.uuid != "app-1"


def test_concurrent_first_use_reads_the_winners_row(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as other:  # the request that got there first
        other.add(Account(sub="racer", uuid="racer", kind="user", droplet_limit=7))
        other.commit()
    engine.dispose()
    real = repository.get_account
    calls: list[str] = []

    def stale_then_real(*, session: Session, sub: str) -> Account | None:
        calls.append(sub)
        if len(calls) == 1:
            return None  # our request looked before the other one committed
        return real(session=session, sub=sub)

    monkeypatch.setattr(repository, "get_account", stale_then_real)
    account = accounts.get_or_create_account(
        session=session, claims=_claims("racer"), droplet_limit=25
    )
    assert account.droplet_limit == 7
    assert calls == ["racer", "racer"]  # the insert failed and the row was read again
