"""The token paths' storage, on the event loop (`shared.db.make_async_engine`).

Few round trips, and every claim one conditional statement, so that of concurrent requests
exactly one wins and the others wait on its row lock rather than on the application.
On PostgreSQL a claim and the rows it creates are one statement: an `UPDATE … RETURNING`
in a CTE, and the inserts `SELECT … FROM` it, so they happen only if the claim matched. A
refresh rotates its token and inserts the successor and the access-token record; a code
exchange (`code_store`) consumes its code and inserts the new family with its tokens. Both
run without BEGIN and COMMIT (`hot_connection(autocommit=True)`): one round trip. SQLite has no
data-modifying CTEs, so there each is a few statements in one transaction, on a local file
without network round trips.

The statements are built once, with named parameters (`p_…` for the claims, `{kind}_{column}`
for the rows): building one and its cache key costs more CPU than running it.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Select,
    Update,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.authorization_server.direct_connection import DirectConnection
from services.authorization_server.models import (
    IssuedAccessToken,
    RefreshToken,
    TokenFamily,
    User,
)
from shared.db import UTCDateTime

Connection = AsyncConnection | DirectConnection
"""The claims and inserts run on either; PostgreSQL's hot paths skip SQLAlchemy's
execution layer (`direct_connection.hot_connection`)."""

Row = dict[str, Any]
"""A new row, by column name: a family, a refresh token or an access-token record."""


@dataclass(frozen=True, slots=True)
class Identity:
    """The user a token acts for: what the access token, the response and an ID token name."""

    id: str
    email: str
    name: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed refresh token's grant: its family and user."""

    family_id: str
    scope: str
    user: Identity


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


def param(name: str, type_: Any = None) -> Any:
    return bindparam(f"p_{name}", type_=type_)


USER_COLUMNS = (col(User.id), col(User.email), col(User.name), col(User.updated_at))
"""An `Identity`'s columns."""
_MODELS: dict[str, Any] = {
    "family": TokenFamily,
    "refresh": RefreshToken,
    "access": IssuedAccessToken,
}
"""The rows a grant creates, in insert order (the family is the others' foreign key)."""


def _insert(kind: str, claimed: CTE | None = None, taken: tuple[str, ...] = ()) -> Insert:
    """An INSERT of one `kind` row from its parameters; with `claimed`, one row per row of
    that CTE (none if the claim matched nothing), the columns `taken` from it."""
    model = _MODELS[kind]
    values: dict[str, ColumnElement[Any]] = {
        c.name: claimed.c[c.name]
        if claimed is not None and c.name in taken
        else bindparam(f"{kind}_{c.name}", type_=c.type)
        for c in model.__table__.columns
    }
    if claimed is None:
        return insert(model).values(values)
    rows = select(*values.values()).select_from(claimed)
    return insert(model).from_select(list(values), rows)


def claim_then_insert(
    claim: Update, inserts: tuple[tuple[str, tuple[str, ...]], ...]
) -> Select[Any]:
    """PostgreSQL: `claim` as a CTE, the rows (`kind`, columns taken from the claim) inserted
    only if it matched, and the claim's returned row as the result."""
    claimed = claim.cte("claimed")
    statement = select(*claimed.c)
    for kind, taken in inserts:
        statement = statement.add_cte(_insert(kind, claimed, taken).cte(f"insert_{kind}"))
    return statement


_PARAM_NAMES = {
    kind: tuple((f"{kind}_{c.name}", c.name) for c in model.__table__.columns)
    for kind, model in _MODELS.items()
}


def row_params(rows: dict[str, Row]) -> dict[str, Any]:
    """The statements' parameters for `rows` (by kind): `{kind}_{column}`."""
    return {
        param: row.get(column) for kind, row in rows.items() for param, column in _PARAM_NAMES[kind]
    }


# Refresh tokens


def _live_refresh_token() -> Update:
    return (
        update(RefreshToken)
        .where(col(RefreshToken.token_hash) == param("hash"))
        .where(col(RefreshToken.rotated_at).is_(None))
        .where(col(RefreshToken.expires_at) > param("now", UTCDateTime()))
    )


def _family_and_user(family_id: ColumnElement[str]) -> Select[str, str, str, str, str, datetime]:
    return (
        select(col(TokenFamily.id), col(TokenFamily.scope), *USER_COLUMNS)
        .join(User, col(User.id) == col(TokenFamily.user_id))
        .where(col(TokenFamily.id) == family_id, col(TokenFamily.revoked_at).is_(None))
    )


_ROTATE_ANY = (
    _live_refresh_token()
    .where(col(RefreshToken.client_id) == param("client"))
    .values(rotated_at=param("now", UTCDateTime()))
)
_ROTATE = _ROTATE_ANY.returning(col(RefreshToken.family_id))
_HOLD = (
    _live_refresh_token()
    .where(col(RefreshToken.family_id) == param("family"))
    .values(rotated_at=None)
    .returning(col(RefreshToken.family_id))
)
_FAMILY_AND_USER = _family_and_user(param("family"))
_HOLD_RETURNING_GRANT = _family_and_user(_HOLD.cte("claimed").c.family_id)
# PostgreSQL: the rotation only if the family is unrevoked and its user exists, returning
# the grant; the successor takes the family and scope of the token it replaces.
_ROTATE_AND_REPLACE = claim_then_insert(
    _ROTATE_ANY.where(
        col(TokenFamily.id) == col(RefreshToken.family_id),
        col(TokenFamily.revoked_at).is_(None),
        col(User.id) == col(TokenFamily.user_id),
    ).returning(col(RefreshToken.family_id), col(TokenFamily.scope), *USER_COLUMNS),
    (("refresh", ("family_id", "scope")), ("access", ("family_id",))),
)


def _grant(row: Any) -> Claimed | None:
    return None if row is None else Claimed(row[0], row[1], Identity(*row[2:]))


async def _claim_then_load_grant(
    conn: Connection, claim: Update, params: dict[str, Any]
) -> Claimed | None:
    """SQLite: run `claim` (an UPDATE of one refresh token), then load its unrevoked family
    and user; None when either matched nothing (the caller then commits nothing)."""
    claimed = (await conn.execute(claim, params)).first()
    if claimed is None:
        return None
    return _grant((await conn.execute(_FAMILY_AND_USER, {"p_family": claimed[0]})).first())


async def rotate_refresh_token(
    conn: Connection, *, token_hash: str, client_id: str, now: datetime, successor: Row, access: Row
) -> Claimed | None:
    """Rotate the client's live refresh token: mark it rotated, insert `successor` (a
    `Grant.refresh_row`) and `access` (the access token's jti and expiry) into its family,
    and return its grant. None when it is unknown, another client's, expired, rotated
    already (possibly concurrently: the losers wait for the winner's row lock, then match
    nothing) or its grant is revoked. One statement on PostgreSQL."""
    params = {"p_hash": token_hash, "p_client": client_id, "p_now": now}
    if conn.dialect.name == "postgresql":
        params |= row_params({"refresh": successor, "access": access})
        return _grant((await conn.execute(_ROTATE_AND_REPLACE, params)).first())
    claimed = await _claim_then_load_grant(conn, _ROTATE, params)
    if claimed is not None:
        family = {"family_id": claimed.family_id}
        refresh = {**successor, **family, "scope": claimed.scope}
        await add_tokens(conn, refresh=refresh, access={**access, **family})
    return claimed


async def hold_live_refresh_token(
    conn: Connection, *, token_hash: str, family_id: str, now: datetime
) -> Claimed | None:
    """The grant, if `token_hash` is its family's live refresh token, held until the
    transaction ends: a no-op update takes the row lock (PostgreSQL) or the write lock
    (SQLite), so the token cannot be rotated or revoked before this transaction's access
    token is recorded against its family."""
    params = {"p_hash": token_hash, "p_family": family_id, "p_now": now}
    if conn.dialect.name == "postgresql":
        return _grant((await conn.execute(_HOLD_RETURNING_GRANT, params)).first())
    return await _claim_then_load_grant(conn, _HOLD, params)


_FIND_REFRESH_TOKEN = (
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
    .where(col(RefreshToken.token_hash) == param("hash"))
)


async def find_refresh_token(conn: AsyncConnection, *, token_hash: str) -> RefreshTokenState | None:
    """A refresh token with its family's state, for the paths off the fast one."""
    row = (await conn.execute(_FIND_REFRESH_TOKEN, {"p_hash": token_hash})).first()
    return None if row is None else RefreshTokenState(*row)


# New rows


@functools.cache
def _add_tokens_statement(kinds: tuple[str, ...]) -> Insert:
    """One INSERT of the access-token record, the others (`kinds`) as CTEs before it."""
    *before, last = kinds
    statement = _insert(last)
    for kind in before:
        statement = statement.add_cte(_insert(kind).cte(f"insert_{kind}"))
    return statement


async def add_tokens(
    conn: Connection, *, family: Row | None = None, refresh: Row | None = None, access: Row
) -> None:
    """Insert a new family (if given), a refresh token (if given) and an access-token record:
    one statement on PostgreSQL, the family first (the others' foreign key)."""
    rows = {"family": family, "refresh": refresh, "access": access}
    given = {kind: row for kind, row in rows.items() if row is not None}
    if conn.dialect.name == "postgresql":
        await conn.execute(_add_tokens_statement(tuple(given)), row_params(given))
        return
    for kind, row in given.items():
        await conn.execute(insert(_MODELS[kind]), row)
