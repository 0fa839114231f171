"""The authorization code's storage for the exchange (RFC 6749 §4.1.3), on the event loop.

The exchange reads the code with its user (`find_code`), checks it, then consumes it and
stores the grant it makes in one conditional statement (`consume_code`, see `token_store`):
of concurrent exchanges of one code exactly one consumes it.
"""

import functools
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlmodel import col

from services.authorization_server.models import AuthorizationCode, User
from services.authorization_server.token_store import (
    USER_COLUMNS,
    Connection,
    Identity,
    Row,
    add_tokens,
    claim_then_insert,
    param,
    row_params,
)
from shared.db import UTCDateTime


@dataclass(frozen=True, slots=True)
class StoredCode:
    """An authorization code as stored, with its user."""

    client_id: str
    redirect_uri: str
    code_challenge: str | None
    scope: str
    expires_at: datetime
    consumed_at: datetime | None
    token_family_id: str | None
    nonce: str | None
    auth_time: datetime | None
    sid: str | None
    user: Identity


_CODE_FIELDS = tuple(field.name for field in fields(StoredCode) if field.name != "user")
_CODE_COLUMNS = tuple(col(getattr(AuthorizationCode, name)) for name in _CODE_FIELDS)
_FIND_CODE = (
    select(*_CODE_COLUMNS, *USER_COLUMNS)
    .join(User, col(User.id) == col(AuthorizationCode.user_id))
    .where(col(AuthorizationCode.code_hash) == param("hash"))
)
_CONSUME_CODE = (
    update(AuthorizationCode)
    .where(col(AuthorizationCode.code_hash) == param("hash"))
    .where(col(AuthorizationCode.client_id) == param("client"))
    .where(col(AuthorizationCode.consumed_at).is_(None))
    .where(col(AuthorizationCode.expires_at) > param("now", UTCDateTime()))
    .values(consumed_at=param("now", UTCDateTime()), token_family_id=param("family"))
    .returning(col(AuthorizationCode.code_hash))
)


@functools.cache
def _consume_code_statement(kinds: tuple[str, ...]) -> Select[Any]:
    return claim_then_insert(_CONSUME_CODE, tuple((kind, ()) for kind in kinds))


async def find_code(conn: Connection, *, code_hash: str) -> StoredCode | None:
    """The code and its user; None if unknown (a deleted user's codes go with it)."""
    row = (await conn.execute(_FIND_CODE, {"p_hash": code_hash})).first()
    if row is None:
        return None
    split = len(_CODE_FIELDS)
    code = dict(zip(_CODE_FIELDS, row[:split], strict=True))
    return StoredCode(**code, user=Identity(*row[split:]))


async def consume_code(
    conn: Connection,
    *,
    code_hash: str,
    client_id: str,
    now: datetime,
    family: Row,
    refresh: Row | None,
    access: Row,
) -> bool:
    """Mark the client's code consumed by `family`, and insert the family with its tokens,
    if the code is still unused and unexpired; False if it is not (used concurrently since
    it was read). One statement on PostgreSQL."""
    params = {"p_hash": code_hash, "p_client": client_id, "p_now": now, "p_family": family["id"]}
    rows = {"family": family, "refresh": refresh, "access": access}
    given = {kind: row for kind, row in rows.items() if row is not None}
    if conn.dialect.name == "postgresql":
        statement = _consume_code_statement(tuple(given))
        return (await conn.execute(statement, params | row_params(given))).first() is not None
    if (await conn.execute(_CONSUME_CODE, params)).first() is None:
        return False
    await add_tokens(conn, **given)
    return True
