"""Database tables of the resource server. Tables never leave through a route."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, utcnow


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Account(SQLModel, table=True):
    """The account behind a token `sub`: a user, or a client acting for itself."""

    sub: str = Field(primary_key=True, max_length=255)
    uuid: str = Field(default_factory=lambda: str(uuid.uuid4()), max_length=64)
    kind: str = Field(max_length=16)  # "user" or "service"
    client_id: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    droplet_limit: int
    status: str = Field(default="active", max_length=16)
    created_at: datetime = _created()


class Droplet(SQLModel, table=True):
    # Ids are never reused after a delete: SQLite's AUTOINCREMENT, a sequence (BIGSERIAL) on
    # PostgreSQL. A reused id would let a stale link or client cache reach a new droplet.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    owner_sub: str = Field(foreign_key="account.sub", index=True, ondelete="CASCADE")
    name: str = Field(max_length=63)
    region: str = Field(max_length=32)
    size: str = Field(max_length=32)
    image: str = Field(max_length=64)
    status: str = Field(default="active", max_length=16)
    created_at: datetime = _created()


TABLE_NAMES = ("account", "droplet")
