"""The token paths' storage, on the event loop (`shared.db.make_async_engine`).

Few round trips, and every claim one conditional statement, so that of concurrent requests
exactly one wins and the others wait on its row lock rather than on the application.
On PostgreSQL a claim (rotate a refresh token, hold the live one, consume a code) is one
`UPDATE … RETURNING` in a CTE joined to the family and the user, and a family with its
tokens is one insert statement (CTEs). A refresh is a single statement: the rotation and
the inserts of the successor and the access-token record, as CTEs. SQLite has no
data-modifying CTEs, so there each is a few statements in the same transaction, on a local
file without network round trips.

The statements are built once, with named parameters (`p_…`, apart from column names, which
an UPDATE would take as values to set): building one and its cache key costs more CPU than
running it.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, Select, Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.authorization_server.direct_connection import DirectConnection
from services.authorization_server.models import (
    AuthorizationCode,
    IssuedAccessToken,
    RefreshToken,
    TokenFamily,
    User,
)
from shared.db import UTCDateTime

Connection = AsyncConnection | DirectConnection
"""The claims and inserts run on either; PostgreSQL's hot paths skip SQLAlchemy's
execution layer (`direct_connection.hot_connection`)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """The user a token acts for: what the access token, the response and an ID token name."""

    id: str
    email: str
    name: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed refresh token's (or code's) grant: its family and user."""

    family_id: str
    scope: str
    user: Identity
    extra: tuple[Any, ...] = ()
    """The claimed row's own returned columns (a code's redirect URI, challenge, scope, and
    the OpenID Connect login: nonce, auth_time, sid)."""


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


def _p(name: str, type_: Any = None) -> Any:
    return bindparam(f"p_{name}", type_=type_)


USER_COLUMNS = (col(User.id), col(User.email), col(User.name), col(User.updated_at))
"""An `Identity`'s columns."""


def _family_and_user(family_id: ColumnElement[str]) -> Select[str, str, str, str, str, datetime]:
    return (
        select(col(TokenFamily.id), col(TokenFamily.scope), *USER_COLUMNS)
        .join(User, col(User.id) == col(TokenFamily.user_id))
        .where(col(TokenFamily.id) == family_id, col(TokenFamily.revoked_at).is_(None))
    )


def _live_refresh_token() -> Update:
    return (
        update(RefreshToken)
        .where(col(RefreshToken.token_hash) == _p("hash"))
        .where(col(RefreshToken.rotated_at).is_(None))
        .where(col(RefreshToken.expires_at) > _p("now", UTCDateTime()))
    )


_ROTATE = (
    _live_refresh_token()
    .where(col(RefreshToken.client_id) == _p("client"))
    .values(rotated_at=_p("now", UTCDateTime()))
    .returning(col(RefreshToken.family_id))
)
_HOLD = (
    _live_refresh_token()
    .where(col(RefreshToken.family_id) == _p("family"))
    .values(rotated_at=None)
    .returning(col(RefreshToken.family_id))
)
_FAMILY_AND_USER = _family_and_user(_p("family"))
_HOLD_RETURNING_GRANT = _family_and_user(_HOLD.cte("claimed").c.family_id)


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


def _rotate_and_replace() -> Select[str, str, str, str, str, datetime]:
    """PostgreSQL: rotate the token (only if its family is unrevoked and its user exists),
    insert its successor and the access-token record into its family, return its grant."""
    claimed = (
        _live_refresh_token()
        .where(
            col(RefreshToken.client_id) == _p("client"),
            col(TokenFamily.id) == col(RefreshToken.family_id),
            col(TokenFamily.revoked_at).is_(None),
            col(User.id) == col(TokenFamily.user_id),
        )
        .values(rotated_at=_p("now", UTCDateTime()))
        .returning(col(RefreshToken.family_id), col(TokenFamily.scope), *USER_COLUMNS)
        .cte("claimed")
    )

    def insert_into_claimed(model: Any, prefix: str, names: tuple[str, ...]) -> Any:
        table = model.__table__
        values: dict[str, ColumnElement[Any]] = {
            name: bindparam(f"{prefix}_{name}", type_=table.c[name].type) for name in names
        }
        values |= {name: claimed.c[name] for name in ("family_id", "scope") if name in table.c}
        rows = select(*values.values()).select_from(claimed)
        return insert(model).from_select(list(values), rows).cte(f"insert_{prefix}")

    successor = insert_into_claimed(RefreshToken, "refresh", _SUCCESSOR_COLUMNS)
    access = insert_into_claimed(IssuedAccessToken, "access", ("jti", "expires_at"))
    return select(*claimed.c).add_cte(successor).add_cte(access)


_SUCCESSOR_COLUMNS = ("token_hash", "client_id", "created_at", "expires_at")
_ROTATE_AND_REPLACE = _rotate_and_replace()


async def rotate_refresh_token(
    conn: Connection,
    *,
    token_hash: str,
    client_id: str,
    now: datetime,
    successor: dict[str, Any],
    access: dict[str, Any],
) -> Claimed | None:
    """Rotate the client's live refresh token: mark it rotated, insert `successor` (a
    `Grant.refresh_row`) and `access` (the access token's jti and expiry) into its family,
    and return its grant. None when it is unknown, another client's, expired, rotated
    already (possibly concurrently: the losers wait for the winner's row lock, then match
    nothing) or its grant is revoked. One statement on PostgreSQL."""
    params = {"p_hash": token_hash, "p_client": client_id, "p_now": now}
    if conn.dialect.name == "postgresql":
        params |= {f"refresh_{name}": successor[name] for name in _SUCCESSOR_COLUMNS}
        params |= {"access_jti": access["jti"], "access_expires_at": access["expires_at"]}
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
    .where(col(RefreshToken.token_hash) == _p("hash"))
)


async def find_refresh_token(conn: AsyncConnection, *, token_hash: str) -> RefreshTokenState | None:
    """A refresh token with its family's state, for the paths off the fast one."""
    row = (await conn.execute(_FIND_REFRESH_TOKEN, {"p_hash": token_hash})).first()
    return None if row is None else RefreshTokenState(*row)


_CONSUME_CODE = (
    update(AuthorizationCode)
    .where(col(AuthorizationCode.code_hash) == _p("hash"))
    .where(col(AuthorizationCode.client_id) == _p("client"))
    .where(col(AuthorizationCode.consumed_at).is_(None))
    .where(col(AuthorizationCode.expires_at) > _p("now", UTCDateTime()))
    .values(consumed_at=_p("now", UTCDateTime()), token_family_id=_p("family"))
    .returning(
        col(AuthorizationCode.user_id),
        col(AuthorizationCode.redirect_uri),
        col(AuthorizationCode.code_challenge),
        col(AuthorizationCode.scope),
        col(AuthorizationCode.nonce),
        col(AuthorizationCode.auth_time),
        col(AuthorizationCode.sid),
    )
)
_USER = select(*USER_COLUMNS).where(col(User.id) == _p("user"))
_CONSUMED = _CONSUME_CODE.cte("claimed")
_CONSUME_CODE_RETURNING_USER = select(
    *USER_COLUMNS,
    *(_CONSUMED.c[name] for name in ("redirect_uri", "code_challenge", "scope")),
    *(_CONSUMED.c[name] for name in ("nonce", "auth_time", "sid")),
).join_from(_CONSUMED, User, col(User.id) == _CONSUMED.c.user_id)


async def consume_code(
    conn: Connection, *, code_hash: str, client_id: str, now: datetime, family_id: str
) -> Claimed | None:
    """Mark the client's unexpired, unused code consumed by the family `family_id` (to be
    inserted in this transaction; a replay revokes it), and return the code's redirect URI,
    challenge, scope, nonce, auth time and session id (`extra`) with its user. None:
    unknown, another client's, expired or used (possibly concurrently). One statement on
    PostgreSQL."""
    params = {"p_hash": code_hash, "p_client": client_id, "p_now": now, "p_family": family_id}
    if conn.dialect.name == "postgresql":
        row = (await conn.execute(_CONSUME_CODE_RETURNING_USER, params)).first()
        if row is None:
            return None
        user, extra = tuple(row[:4]), tuple(row[4:])
    else:
        code = (await conn.execute(_CONSUME_CODE, params)).first()
        if code is None:
            return None
        user_row = (await conn.execute(_USER, {"p_user": code[0]})).first()
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


_ROWS: tuple[tuple[str, Any], ...] = (
    ("family", TokenFamily),
    ("refresh", RefreshToken),
    ("access", IssuedAccessToken),
)


def _insert(prefix: str, model: Any) -> Insert:
    columns = model.__table__.columns
    values = {c.name: bindparam(f"{prefix}_{c.name}", type_=c.type) for c in columns}
    return insert(model).values(values)


@functools.cache
def _add_tokens_statement(kinds: tuple[str, ...]) -> Insert:
    """One INSERT of the access-token record, the others (`kinds`) as CTEs before it."""
    models = dict(_ROWS)
    *before, last = kinds
    statement = _insert(last, models[last])
    for kind in before:
        statement = statement.add_cte(_insert(kind, models[kind]).cte(f"insert_{kind}"))
    return statement


async def add_tokens(
    conn: Connection,
    *,
    family: dict[str, Any] | None = None,
    refresh: dict[str, Any] | None = None,
    access: dict[str, Any],
) -> None:
    """Insert a new family (if given), a refresh token (if given) and an access-token record:
    one statement on PostgreSQL, the family first (the others' foreign key)."""
    given = {"family": family, "refresh": refresh, "access": access}
    rows = [(kind, model, row) for kind, model in _ROWS if (row := given[kind]) is not None]
    if conn.dialect.name == "postgresql":
        params = {
            f"{kind}_{column.name}": row.get(column.name)
            for kind, model, row in rows
            for column in model.__table__.columns
        }
        await conn.execute(_add_tokens_statement(tuple(kind for kind, _, _ in rows)), params)
        return
    for _, model, row in rows:
        await conn.execute(insert(model), row)
