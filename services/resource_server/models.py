"""Database tables of the resource server. Tables never leave through a route."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the zone on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


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
