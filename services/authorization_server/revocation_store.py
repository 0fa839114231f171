"""Ending grants, as statements: the sync repository (portal, account page, CLI) and the
async request paths (token endpoint, RFC 7009 revocation) run the same ones."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Executable, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from services.authorization_server.models import (
    AuthorizationCode,
    Consent,
    IssuedAccessToken,
    RefreshToken,
    RevokedAccessToken,
    TokenFamily,
)


def revoke_family_statements(family_id: str, now: datetime, dialect: str) -> Sequence[Executable]:
    """Revoke a family: its refresh tokens die and its unexpired JWTs join the revoked set.

    The family's row is updated first, so concurrent revocations of one family queue on
    its row lock (PostgreSQL). A JWT already revoked, or being revoked alone at the same
    moment (RFC 7009), is skipped, not a conflict that would fail the whole revocation.
    """
    issued = select(IssuedAccessToken.jti, IssuedAccessToken.expires_at, _now(now)).where(
        col(IssuedAccessToken.family_id) == family_id,
        col(IssuedAccessToken.expires_at) > now,
    )
    columns = ["jti", "expires_at", "revoked_at"]
    return (
        update(TokenFamily)
        .where(col(TokenFamily.id) == family_id, col(TokenFamily.revoked_at).is_(None))
        .values(revoked_at=now),
        delete(RefreshToken).where(col(RefreshToken.family_id) == family_id),
        _insert_revoked(dialect).from_select(columns, issued).on_conflict_do_nothing(),
    )


def _insert_revoked(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into the revoked set that can skip what is there already (ON CONFLICT)."""
    if dialect == "postgresql":
        return postgresql.insert(RevokedAccessToken)
    return sqlite.insert(RevokedAccessToken)


def _now(now: datetime) -> ColumnElement[datetime]:
    return literal(now, RevokedAccessToken.__table__.c.revoked_at.type)  # type: ignore[attr-defined]


def live_family(now: datetime) -> ColumnElement[bool]:
    """A family (grant) still in use: unrevoked, holding a live refresh token or an
    unexpired, unrevoked access token."""
    live_refresh = select(RefreshToken.family_id).where(
        col(RefreshToken.rotated_at).is_(None), col(RefreshToken.expires_at) > now
    )
    live_access = select(IssuedAccessToken.family_id).where(
        col(IssuedAccessToken.expires_at) > now,
        col(IssuedAccessToken.jti).not_in(select(RevokedAccessToken.jti)),
    )
    return col(TokenFamily.revoked_at).is_(None) & (
        col(TokenFamily.id).in_(live_refresh) | col(TokenFamily.id).in_(live_access)
    )


def live_grant_query(user_id: str, client_id: str, now: datetime) -> SelectOfScalar[str]:
    """One of the user's live families with the client, if any."""
    return (
        select(TokenFamily.id)
        .where(
            col(TokenFamily.user_id) == user_id,
            col(TokenFamily.client_id) == client_id,
            live_family(now),
        )
        .limit(1)
    )


def withdraw_consent_statements(user_id: str, client_id: str) -> Sequence[Executable]:
    """Forget every approval the user gave the client, and the codes not yet exchanged under
    them (a code must not outlive the consent it was issued on)."""
    return (
        delete(Consent).where(col(Consent.user_id) == user_id, col(Consent.client_id) == client_id),
        delete(AuthorizationCode).where(
            col(AuthorizationCode.user_id) == user_id,
            col(AuthorizationCode.client_id) == client_id,
            col(AuthorizationCode.consumed_at).is_(None),
        ),
    )


async def revoke_access_token(
    conn: AsyncConnection, *, jti: str, expires_at: datetime, now: datetime
) -> None:
    """Add a JWT to the revoked set (already there: nothing changes)."""
    row = {"jti": jti, "expires_at": expires_at, "revoked_at": now}
    await conn.execute(_insert_revoked(conn.dialect.name).values(**row).on_conflict_do_nothing())


async def revoke_family(conn: AsyncConnection, *, family_id: str, now: datetime) -> None:
    for statement in revoke_family_statements(family_id, now, conn.dialect.name):
        await conn.execute(statement)


async def end_grant(conn: AsyncConnection, *, family_id: str, now: datetime) -> None:
    """Revoke the family; when it was the user's last live grant to the client, withdraw
    the consent too, so the app leaves the user's authorized apps and a new authorization
    request shows the consent screen again."""
    family = (
        await conn.execute(
            select(TokenFamily.user_id, TokenFamily.client_id).where(
                col(TokenFamily.id) == family_id
            )
        )
    ).first()
    await revoke_family(conn, family_id=family_id, now=now)
    if family is None or family.user_id is None:
        return
    user_id, client_id = family.user_id, family.client_id
    if (await conn.execute(live_grant_query(user_id, client_id, now))).first() is None:
        for statement in withdraw_consent_statements(user_id, client_id):
            await conn.execute(statement)
