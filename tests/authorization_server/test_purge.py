"""Expiring rows are purged: by `repository.purge_expired`, and on a schedule by the server.

Rows past their expiry (codes a day past it), and token families (grants) with no token
left, disappear; live rows stay.
"""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, SQLModel

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.db import make_engine
from services.authorization_server.models import (
    AuthorizationCode,
    IssuedAccessToken,
    PendingSignup,
    RefreshToken,
    RevokedAccessToken,
    TokenFamily,
    UserSession,
)
from services.authorization_server.registration import delete_client
from shared.db import utcnow
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import AuthorizationServer, in_process_authorization_server

HOUR = timedelta(hours=1)


@dataclass
class Rows:
    gone: list[tuple[type[SQLModel], str]]
    kept: list[tuple[type[SQLModel], str]]


def _family(
    session: Session,
    *,
    client_id: str,
    user_id: str,
    access_expires: datetime | None,
    refresh_expires: datetime | None = None,
    revoked_at: datetime | None = None,
    rotated: bool = False,
) -> str:
    family = TokenFamily(
        client_id=client_id, user_id=user_id, scope="read", origin="test", revoked_at=revoked_at
    )
    session.add(family)
    session.flush()
    if access_expires is not None:
        session.add(
            IssuedAccessToken(jti=uuid.uuid4().hex, family_id=family.id, expires_at=access_expires)
        )
    if refresh_expires is not None:
        session.add(
            RefreshToken(
                token_hash=uuid.uuid4().hex,
                family_id=family.id,
                client_id=client_id,
                scope="read",
                expires_at=refresh_expires,
                rotated_at=utcnow() if rotated else None,
            )
        )
    return family.id


def _seed(context: ServerContext, now: datetime) -> Rows:
    """One row of each expiring kind on either side of its expiry."""
    user = make_user(context, email=f"purge-{uuid.uuid4().hex[:8]}@example.com")
    client, _ = make_client(context)
    ids = {"client_id": client.client_id, "user_id": user.id}
    gone: list[tuple[type[SQLModel], str]] = []
    kept: list[tuple[type[SQLModel], str]] = []
    with Session(context.engine) as session:
        # Families: over when no refresh token and no access-token record is left.
        gone.append((TokenFamily, _family(session, **ids, access_expires=now - HOUR)))
        gone.append(
            (
                TokenFamily,
                _family(
                    session,
                    **ids,
                    access_expires=now - HOUR,
                    refresh_expires=now - timedelta(seconds=1),
                    revoked_at=now - 2 * HOUR,
                ),
            )
        )
        kept.append((TokenFamily, _family(session, **ids, access_expires=now + HOUR)))
        kept.append(
            (
                TokenFamily,
                _family(session, **ids, access_expires=now - HOUR, refresh_expires=now + HOUR),
            )
        )
        kept.append(  # a rotated refresh token is kept until expiry: replay detection
            (
                TokenFamily,
                _family(
                    session,
                    **ids,
                    access_expires=now - HOUR,
                    refresh_expires=now + HOUR,
                    rotated=True,
                ),
            )
        )
        kept.append(  # revoked, but its access token is still on the revoked list
            (
                TokenFamily,
                _family(session, **ids, access_expires=now + HOUR, revoked_at=now - HOUR),
            )
        )
        for expires_at, bucket in ((now - 25 * HOUR, gone), (now - HOUR, kept)):
            code = AuthorizationCode(
                code_hash=uuid.uuid4().hex,
                redirect_uri="",
                scope="read",
                expires_at=expires_at,
                **ids,
            )
            session.add(code)
            bucket.append((AuthorizationCode, code.code_hash))
        for expires_at, bucket in ((now - timedelta(seconds=1), gone), (now + HOUR, kept)):
            login = UserSession(token_hash=uuid.uuid4().hex, user_id=user.id, expires_at=expires_at)
            revoked = RevokedAccessToken(jti=uuid.uuid4().hex, expires_at=expires_at)
            signup = PendingSignup(
                token_hash=uuid.uuid4().hex,
                email="pending@example.com",
                password_hash="-",
                expires_at=expires_at,
            )
            session.add_all([login, revoked, signup])
            bucket += [
                (UserSession, login.token_hash),
                (RevokedAccessToken, revoked.jti),
                (PendingSignup, signup.token_hash),
            ]
        session.commit()
    return Rows(gone, kept)


def _present(context: ServerContext, rows: list[tuple[type[SQLModel], str]]) -> list[bool]:
    with Session(context.engine) as session:
        return [session.get(table, key) is not None for table, key in rows]


def test_purge_drops_expired_rows_and_spent_families(context: ServerContext) -> None:
    now = utcnow()
    rows = _seed(context, now)
    with Session(context.engine) as session:
        repository.purge_expired(session=session, now=now)
    assert _present(context, rows.gone) == [False] * len(rows.gone)
    assert _present(context, rows.kept) == [True] * len(rows.kept)


def test_families_of_a_deleted_client_go_once_their_tokens_expire(
    context: ServerContext,
) -> None:
    """Deleting a client cascades its families; their revoked JWTs expire on their own."""
    client, _ = make_client(context)
    user = make_user(context)
    now = utcnow()
    with Session(context.engine, expire_on_commit=False) as session:
        family = _family(
            session, client_id=client.client_id, user_id=user.id, access_expires=now + HOUR
        )
        session.commit()
        delete_client(session, client, access_token_ttl=3600, client_cache_ttl=0)
        assert session.get(TokenFamily, family) is None
        assert len(repository.list_revoked_access_tokens(session=session, now=now)) == 1
        repository.purge_expired(session=session, now=now + 2 * HOUR)
        assert repository.list_revoked_access_tokens(session=session, now=now) == []


@pytest.fixture(scope="module")
def maintained(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    """A server (in-process, lifespan running) whose maintenance loop runs every half second."""
    with in_process_authorization_server(databases, key_cache_ttl=0.5) as server:
        yield server


def test_the_server_purges_on_a_schedule(maintained: AuthorizationServer) -> None:
    settings = maintained.settings
    context = ServerContext.build(settings, make_engine(settings.database_url))
    try:
        rows = _seed(context, utcnow())
        deadline = time.monotonic() + 60  # a generous bound on the wait, not a budget
        while any(_present(context, rows.gone)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _present(context, rows.gone) == [False] * len(rows.gone)
        assert _present(context, rows.kept) == [True] * len(rows.kept)
    finally:
        context.engine.dispose()
