"""The token paths' storage, on the event loop (`shared.db.make_async_engine`).

Few round trips, and every claim one conditional statement, so that of concurrent requests
exactly one wins and the others wait on its row lock rather than on the application.
On PostgreSQL a claim (rotate a refresh token, hold the live one, consume a code) is one
`UPDATE … RETURNING` in a CTE joined to the family and the user, and a family with its
tokens is one insert statement (CTEs). SQLite has no data-modifying CTEs, so there each
is a few statements in the same transaction, on a local file without network round trips.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, Select, Update, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.authorization_server.models import (
    AuthorizationCode,
    IssuedAccessToken,
    RefreshToken,
    TokenFamily,
    User,
)


@dataclass(frozen=True, slots=True)
class Identity:
    """The user a token acts for: what the access token and the response name."""

    id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed refresh token's (or code's) grant: its family and user."""

    family_id: str
    scope: str
    user: Identity
    extra: tuple[Any, ...] = ()
    """The claimed row's own returned columns (a code's redirect URI, challenge, scope)."""


@dataclass(frozen=True, slots=True)
class RefreshTokenState:
    """A stored refresh token and its family's state."""

    client_id: str
    family_id: str
    scope: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    user_id: str | None
    family_revoked_at: datetime | None

    @property
    def usable(self) -> bool:
        return self.user_id is not None and self.family_revoked_at is None


def _family_and_user(family_id: ColumnElement[str]) -> Select[str, str, str, str, str]:
    return (
        select(
            col(TokenFamily.id),
            col(TokenFamily.scope),
            col(User.id),
            col(User.email),
            col(User.name),
        )
        .join(User, col(User.id) == col(TokenFamily.user_id))
        .where(col(TokenFamily.id) == family_id, col(TokenFamily.revoked_at).is_(None))
    )


async def _claim_refresh_token(conn: AsyncConnection, claim: Update) -> Claimed | None:
    """Run `claim` (an UPDATE of one refresh token), and return its unrevoked family and
    user; None when it matched nothing. One statement on PostgreSQL."""
    claim = claim.returning(col(RefreshToken.family_id))
    if conn.dialect.name == "postgresql":
        claimed = claim.cte("claimed")
        row = (await conn.execute(_family_and_user(claimed.c.family_id))).first()
    else:
        family_id = (await conn.execute(claim)).scalar_one_or_none()
        if family_id is None:
            return None
        row = (await conn.execute(_family_and_user(family_id))).first()  # type: ignore[arg-type]
    if row is None:
        return None
    return Claimed(row[0], row[1], Identity(row[2], row[3], row[4]))


def _live(token_hash: str, now: datetime) -> Update:
    return (
        update(RefreshToken)
        .where(col(RefreshToken.token_hash) == token_hash)
        .where(col(RefreshToken.rotated_at).is_(None))
        .where(col(RefreshToken.expires_at) > now)
    )


async def rotate_refresh_token(
    conn: AsyncConnection, *, token_hash: str, client_id: str, now: datetime
) -> Claimed | None:
    """Mark the client's live refresh token rotated, and return its grant; None when it is
    unknown, another client's, expired, or rotated already (possibly concurrently: the
    losers wait for the winner's row lock, then match nothing)."""
    claim = _live(token_hash, now).where(col(RefreshToken.client_id) == client_id)
    return await _claim_refresh_token(conn, claim.values(rotated_at=now))


async def hold_live_refresh_token(
    conn: AsyncConnection, *, token_hash: str, family_id: str, now: datetime
) -> Claimed | None:
    """The grant, if `token_hash` is its family's live refresh token, held until the
    transaction ends: a no-op update takes the row lock (PostgreSQL) or the write lock
    (SQLite), so the token cannot be rotated or revoked before this transaction's access
    token is recorded against its family."""
    claim = _live(token_hash, now).where(col(RefreshToken.family_id) == family_id)
    return await _claim_refresh_token(conn, claim.values(rotated_at=None))


async def find_refresh_token(conn: AsyncConnection, *, token_hash: str) -> RefreshTokenState | None:
    """A refresh token with its family's state, for the paths off the fast one."""
    row = (
        await conn.execute(
            select(
                col(RefreshToken.client_id),
                col(RefreshToken.family_id),
                col(RefreshToken.scope),
                col(RefreshToken.created_at),
                col(RefreshToken.expires_at),
                col(RefreshToken.rotated_at),
                col(TokenFamily.user_id),
                col(TokenFamily.revoked_at),
            )
            .outerjoin(TokenFamily, col(TokenFamily.id) == col(RefreshToken.family_id))
            .where(col(RefreshToken.token_hash) == token_hash)
        )
    ).first()
    return None if row is None else RefreshTokenState(*row)


async def consume_code(
    conn: AsyncConnection, *, code_hash: str, client_id: str, now: datetime, family_id: str
) -> Claimed | None:
    """Mark the client's unexpired, unused code consumed by the family `family_id` (to be
    inserted in this transaction; a replay revokes it), and return the code's redirect URI,
    challenge and scope (`extra`) with its user. None: unknown, another client's, expired or
    used (possibly concurrently). One statement on PostgreSQL."""
    claim = (
        update(AuthorizationCode)
        .where(col(AuthorizationCode.code_hash) == code_hash)
        .where(col(AuthorizationCode.client_id) == client_id)
        .where(col(AuthorizationCode.consumed_at).is_(None))
        .where(col(AuthorizationCode.expires_at) > now)
        .values(consumed_at=now, token_family_id=family_id)
        .returning(
            col(AuthorizationCode.user_id),
            col(AuthorizationCode.redirect_uri),
            col(AuthorizationCode.code_challenge),
            col(AuthorizationCode.scope),
        )
    )
    user_columns = (col(User.id), col(User.email), col(User.name))
    if conn.dialect.name == "postgresql":
        claimed = claim.cte("claimed")
        statement = select(
            *user_columns, claimed.c.redirect_uri, claimed.c.code_challenge, claimed.c.scope
        ).join_from(claimed, User, col(User.id) == claimed.c.user_id)
        row = (await conn.execute(statement)).first()
        if row is None:
            return None
        user, extra = row[:3], tuple(row[3:])
    else:
        code = (await conn.execute(claim)).first()
        if code is None:
            return None
        of_user = select(*user_columns).where(col(User.id) == code[0])
        user_row = (await conn.execute(of_user)).first()
        if user_row is None:
            return None
        user, extra = tuple(user_row), tuple(code[1:])
    return Claimed(family_id, str(extra[2]), Identity(*user), extra)


async def find_code(conn: AsyncConnection, *, code_hash: str) -> AuthorizationCode | None:
    row = (
        await conn.execute(
            select(AuthorizationCode.__table__).where(  # type: ignore[attr-defined]
                col(AuthorizationCode.code_hash) == code_hash
            )
        )
    ).first()
    return None if row is None else AuthorizationCode.model_construct(**row._mapping)


async def add_tokens(
    conn: AsyncConnection,
    *,
    family: dict[str, Any] | None = None,
    refresh: dict[str, Any] | None = None,
    access: dict[str, Any],
) -> None:
    """Insert a new family (if given), a refresh token (if given) and an access-token record:
    one statement on PostgreSQL, the family first (the others' foreign key)."""
    inserts: list[Insert] = []
    if family is not None:
        inserts.append(insert(TokenFamily).values(**family))
    if refresh is not None:
        inserts.append(insert(RefreshToken).values(**refresh))
    inserts.append(insert(IssuedAccessToken).values(**access))
    if conn.dialect.name == "postgresql":
        *before, last = inserts
        statement = last
        for number, earlier in enumerate(before):
            statement = statement.add_cte(earlier.cte(f"insert_{number}"))
        await conn.execute(statement)
        return
    for statement in inserts:
        await conn.execute(statement)
